"""Session documents, the service behind the routes: receiving an upload as it streams, checking and storing it,
publishing it through the engine, the tablet manifest with signed links, per-delegate stamped copies, receipts, the
delivery matrix and search. The HTTP routes are in server/routes_documents.py; the domain rules in
meeting/documents.py; storage in documents/store.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import tempfile
import urllib.parse
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
import msgspec
from anyio.lowlevel import RunVar
from litestar import Request

from documents import pdf as pdfcheck
from documents import search as textsearch
from documents.stamp import stamp_pdf
from documents.store import LocalStore, ObjectNotFound, ObjectStore, StoreUnavailable
from meeting import documents as docs
from meeting import session as sess
from meeting.actors import Actor, Context, Role
from meeting.errors import Code, DomainError
from server.auth import Principal, require_council
from server.engine import Principalish, Reply, Unavailable
from server.errors import ApiError, from_refusal, protocol_error
from server.inbound import ID_FORBIDDEN, TEXT_FORBIDDEN
from server.services import Services

log = logging.getLogger("kyhop.documents")

LINK_TTL = timedelta(minutes=15)  # a tablet starts its download within minutes of asking for the manifest
# A link is signed once and handed to every tablet that asks within LINK_REUSE, so 1000 tablets fetching the
# manifest at once cost one signature per document instead of 1000 (measured: signing S3 links was 26 % of the
# server's time in bench T5). A reused link still has at least 14 of its 15 minutes; the manifest says when
# each link expires. Stamped copies have a key per recipient, so a link is never shared between delegates.
LINK_REUSE = timedelta(minutes=1)
_LINKS_MAX = 10_000
FORM_SLACK = 64 * 1024  # form fields and multipart framing on top of the file itself
MAX_FIELD = 4096
MAX_FIELDS = 20
ID_FIELDS = frozenset({"document_id", "item_id", "id"})  # ids: no control character at all (server/inbound.py)
STAMP_THREADS = 2  # stamping is CPU-bound pure Python: one per core of the reference machine
CHECK_THREADS = 2
TEXT_CACHE_CHARS = 64_000_000  # search text kept in memory per worker (~64-250 MB)
SEARCH_LIMIT = 50

_STAMP_LIMIT: RunVar[anyio.CapacityLimiter] = RunVar("kyhop_stamp_limiter")
_CHECK_LIMIT: RunVar[anyio.CapacityLimiter] = RunVar("kyhop_check_limiter")


def _limiter(var: RunVar[anyio.CapacityLimiter], n: int) -> anyio.CapacityLimiter:
    try:
        return var.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(n)
        var.set(limiter)
        return limiter


# --- errors --------------------------------------------------------------------------------------------------------
_ERRORS: dict[str, tuple[int, str, str]] = {
    "not_multipart": (
        415,
        "Cần gửi biểu mẫu multipart/form-data (các trường rồi đến tệp).",
        "Send multipart/form-data (the fields, then the file).",
    ),
    "form_order": (
        400,
        "Các trường thông tin phải được gửi trước tệp (trường file phải đứng cuối).",
        "The form fields must come before the file (the file part must be last).",
    ),
    "bad_form": (400, "Biểu mẫu tải lên không hợp lệ: {detail}.", "The upload form is not valid: {detail}."),
    "file_missing": (422, "Thiếu tệp PDF (trường file).", "The PDF file is missing (the `file` part)."),
    "file_too_large": (
        413,
        "Tệp vượt quá giới hạn {mb} MB; không có gì được lưu.",
        "The file exceeds the {mb} MB limit; nothing was stored.",
    ),
    "secret_file_refused": (
        422,
        "Không được tải tệp tài liệu mật lên hệ thống kết nối mạng (Luật Bảo vệ bí mật nhà nước số 29/2018/QH14, "
        "Điều 5): chỉ đăng ký tên tài liệu và nơi đọc, không kèm tệp.",
        "A state-secret file must never be uploaded to a networked system (Law 29/2018/QH14, art. 5): register its "
        "title and reading room only, without the file.",
    ),
    "link_invalid": (
        403,
        "Liên kết tải tài liệu không hợp lệ hoặc đã hết hạn; vui lòng lấy lại danh mục tài liệu.",
        "The download link is not valid or has expired; fetch the document manifest again.",
    ),
    "storage_unavailable": (
        503,
        "Kho lưu trữ tài liệu tạm thời không truy cập được; chưa có gì được phát hành, vui lòng thử lại.",
        "Document storage is unavailable right now; nothing was published, please retry.",
    ),
    "id_reused": (
        409,
        "Mã lệnh {id} đã được dùng cho một tệp khác.",
        "The command id {id} was already used for another file.",
    ),
    "bad_query": (422, "Câu tìm kiếm trống hoặc quá dài.", "The search query is empty or too long."),
}


def api_error(code: str, **params: Any) -> ApiError:
    status, vi, en = _ERRORS[code]
    return ApiError(status, code, vi.format(**params), en.format(**params))


def _refused(e: pdfcheck.PdfRefused) -> ApiError:
    return ApiError(422, e.code, e.message_vi, e.message_en)


# --- wire shapes ---------------------------------------------------------------------------------------------------
class UploadOut(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    version: int
    access: docs.Access
    size: int  # of the copy tablets receive
    sha256: str  # of the copy tablets receive
    original_size: int = 0  # of the upload, when tablets receive a repaired or neutralised copy (else 0)
    original_sha256: str = ""  # of the upload, when it differs from the copy tablets receive (else "")
    pages: int
    pdf_title: str
    text_chars: int
    warnings: list[pdfcheck.Finding]
    seqs: list[int]
    replayed: bool = False


class ManifestEntry(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    item_id: str | None
    kind: docs.DocumentKind
    title: str
    access: docs.Access
    version: int
    versions: int  # versions on record
    pages: int
    size: int | None  # of the caller's copy; None when no copy is given
    sha256: str | None  # of the caller's copy: the tablet checks its download against it
    url: str | None  # short-lived; None for secret, withdrawn, or not allowed to this caller
    expires_at: str | None
    stamped: bool  # the copy is stamped with the caller's name (restricted)
    withdrawn: bool
    note: str
    note_vi: str  # why there is no URL, when there is none
    note_en: str
    active_content: list[str]
    delivery: docs.DeliveryStatus | None  # the caller's own delivery status (delegates)


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    seq: int
    generated_at: str
    documents: list[ManifestEntry]


class ReceiptIn(msgspec.Struct, frozen=True, kw_only=True):
    sha256: Annotated[str, msgspec.Meta(max_length=128)]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class FailureIn(msgspec.Struct, frozen=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(max_length=docs.MAX_REASON)] = ""
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class ReceiptOut(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    version: int
    status: docs.DeliveryStatus
    seqs: list[int]


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    version: int
    title: str
    access: docs.Access
    item_id: str | None
    title_match: bool
    hits: list[textsearch.Hit]


class SearchOut(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    ignore_diacritics: bool
    results: list[SearchResult]


class _Desk:
    """The server recording the copies it handed out, with the secretariat's authority."""

    account_id = "system:documents"
    actor = Actor(roles=frozenset({Role.SECRETARY}))


DESK = _Desk()


# --- storage keys --------------------------------------------------------------------------------------------------
def _prefix(session_id: str, document_id: str, version: int, sha256: str) -> str:
    return f"sessions/{urllib.parse.quote(session_id, safe='')}/documents/{document_id}/v{version}-{sha256[:16]}"


def file_key(session_id: str, document_id: str, version: int, sha256: str) -> str:
    """The copy tablets receive (and stamped copies are made from): `sha256` is its own hash."""
    return _prefix(session_id, document_id, version, sha256) + ".pdf"


def original_key(session_id: str, document_id: str, version: int, sha256: str, original_sha256: str) -> str:
    """The upload byte for byte, kept for the record when the copy tablets receive was repaired or neutralised;
    never linked to a tablet. It sits under the served copy's prefix, beside the stamped copies."""
    return _prefix(session_id, document_id, version, sha256) + f"/original-{original_sha256[:16]}.pdf"


def text_key(session_id: str, document_id: str, version: int, sha256: str) -> str:
    return _prefix(session_id, document_id, version, sha256) + ".text.json"


def copy_key(session_id: str, doc_id: str, version: int, sha256: str, recipient: str, copy_sha: str) -> str:
    return _prefix(session_id, doc_id, version, sha256) + f"/copies/{recipient}-{copy_sha[:16]}.pdf"


def pointer_key(session_id: str, doc_id: str, version: int, sha256: str, recipient: str) -> str:
    return _prefix(session_id, doc_id, version, sha256) + f"/copies/{recipient}.json"


def _recipient(text: str) -> str:
    return urllib.parse.quote(text, safe="")[:120]


def _entry(
    doc: docs.Document,
    v: docs.Version,
    *,
    size: int | None = None,
    sha256: str | None = None,
    url: str | None = None,
    expires_at: str | None = None,
    stamped: bool = False,
    note_vi: str = "",
    note_en: str = "",
    delivery: docs.DeliveryStatus | None = None,
) -> ManifestEntry:
    """A manifest line: the document's version as recorded, and what this caller gets of it (by default nothing)."""
    return ManifestEntry(
        document_id=doc.id,
        item_id=doc.item_id,
        kind=doc.kind,
        title=doc.title,
        access=doc.access,
        version=v.version,
        versions=len(doc.versions),
        pages=v.pages,
        size=size,
        sha256=sha256,
        url=url,
        expires_at=expires_at,
        stamped=stamped,
        withdrawn=doc.withdrawn,
        note=doc.note,
        note_vi=note_vi,
        note_en=note_en,
        active_content=list(v.active_content),
        delivery=delivery,
    )


def _missing_entry(doc: docs.Document, v: docs.Version) -> ManifestEntry:
    return _entry(
        doc,
        v,
        note_vi="Tệp tài liệu không có trong kho lưu trữ; Văn phòng cần tải lên lại.",
        note_en="The file is missing from storage; the secretariat must upload it again.",
    )


class _Pointer(msgspec.Struct, frozen=True):
    sha256: str
    size: int


class _Text(msgspec.Struct, frozen=True):
    pages: list[str]


# --- receiving an upload -------------------------------------------------------------------------------------------
class Received(msgspec.Struct, frozen=True, kw_only=True):
    path: Path
    size: int
    sha256: str
    filename: str


async def receive_form(
    request: Request[Any, Any, Any],
    *,
    tmp_dir: Path,
    max_file: int,
    secret: bool | None,
) -> tuple[dict[str, str], Received | None]:
    """Read a multipart form from the request stream: the fields into memory (small), the file part into a
    temporary file while hashing and counting it. `secret` is whether the document is secret if known before the
    form (a new version of an existing document); otherwise the `access` field decides."""
    from multipart import MultipartSegment, ParserError, PushMultipartParser  # type: ignore[import-untyped]

    ctype, options = request.content_type
    if ctype != "multipart/form-data" or not options.get("boundary"):
        raise api_error("not_multipart")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_file + FORM_SLACK:
        raise api_error("file_too_large", mb=max_file // (1024 * 1024))
    fields: dict[str, str] = {}
    received: Received | None = None
    tmp_path: Path | None = None
    out: Any = None
    h = hashlib.sha256()
    size = 0
    body_bytes = 0
    try:
        with PushMultipartParser(
            options["boundary"].encode(), max_header_size=4096, max_header_count=8, max_segment_count=MAX_FIELDS + 1
        ) as parser:
            segment: Any = None
            value = bytearray()
            async for chunk in request.stream():
                body_bytes += len(chunk)
                if body_bytes > max_file + FORM_SLACK:
                    raise api_error("file_too_large", mb=max_file // (1024 * 1024))
                if not chunk:
                    continue
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, value = event, bytearray()
                        if segment.filename is not None or segment.name == "file":
                            if received is not None or out is not None:
                                raise api_error("bad_form", detail="more than one file / nhiều hơn một tệp")
                            if secret or (secret is None and fields.get("access") == docs.Access.SECRET):
                                raise api_error("secret_file_refused")
                            if secret is None and "access" not in fields:
                                if not fields:
                                    raise api_error("form_order")
                                raise api_error("bad_form", detail="access is required / thiếu trường access")
                            if segment.filename and TEXT_FORBIDDEN.search(segment.filename):
                                raise api_error("bad_form", detail="control character in the file name / tên tệp")
                            tmp_path = tmp_dir / f"upload-{secrets.token_hex(12)}.part"
                            out = await anyio.to_thread.run_sync(tmp_path.open, "wb")
                    elif event:
                        if out is not None:
                            size += len(event)
                            if size > max_file:
                                raise api_error("file_too_large", mb=max_file // (1024 * 1024))
                            h.update(event)
                            await anyio.to_thread.run_sync(out.write, event)
                        else:
                            value += event
                            if len(value) > MAX_FIELD:
                                raise api_error("bad_form", detail=f"field {segment.name} too long / trường quá dài")
                    else:  # end of a part
                        if out is not None and tmp_path is not None:
                            await anyio.to_thread.run_sync(out.close)
                            out = None
                            received = Received(
                                path=tmp_path, size=size, sha256=h.hexdigest(), filename=segment.filename or ""
                            )
                        elif segment is not None:
                            if received is not None:
                                raise api_error("form_order")
                            name, text = str(segment.name), value.decode("utf-8", errors="strict").strip()
                            # The same rule as every JSON body (server/inbound.py): PostgreSQL refuses U+0000 in
                            # text, and no title or id needs a control character.
                            bad = ID_FORBIDDEN if name in ID_FIELDS else TEXT_FORBIDDEN
                            if bad.search(name) or bad.search(text):
                                raise api_error(
                                    "bad_form", detail=f"control character in {name[:40]!r} / ký tự điều khiển"
                                )
                            fields[name] = text
                        segment = None
    except ApiError:
        await _discard(out, tmp_path)
        raise
    except (ParserError, UnicodeDecodeError, ValueError) as e:
        await _discard(out, tmp_path)
        # Our words, not the parser's (its exception names and texts are internals, and English only).
        detail = (
            "a field is not UTF-8 / một trường không phải UTF-8"
            if isinstance(e, UnicodeDecodeError)
            else "the multipart body is malformed / phần thân multipart sai định dạng"
        )
        raise api_error("bad_form", detail=detail) from e
    except BaseException:
        await _discard(out, tmp_path)
        raise
    return fields, received


async def _discard(out: Any, path: Path | None) -> None:
    if out is not None:
        with contextlib.suppress(Exception):
            await anyio.to_thread.run_sync(out.close)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _field_int(fields: dict[str, str], name: str, default: int) -> int:
    raw = fields.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise api_error("bad_form", detail=f"{name} must be a number / {name} phải là số")
    return int(raw)


def _enum(fields: dict[str, str], name: str, kind: type[Any], default: Any = None) -> Any:
    raw = fields.get(name, "")
    if not raw and default is not None:
        return default
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise api_error("bad_form", detail=f"{name} must be one of / {name} phải là: {allowed}") from None


# --- the service -------------------------------------------------------------------------------------------------
class DocumentService:
    """What the document routes and the demo seeding share: storage, the engine, caches."""

    def __init__(self, services: Services, store: ObjectStore) -> None:
        self.services = services
        self.store = store
        self.tmp_dir = services.settings.data_dir / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        _sweep(self.tmp_dir)
        self._texts: OrderedDict[str, textsearch.TextIndex] = OrderedDict()
        self._text_chars = 0
        self._stamping: dict[str, asyncio.Lock] = {}
        self._copy_sizes: dict[str, int] = {}  # stamped copy key -> size, filled as copies are made or seen
        self._links: dict[tuple[str, str], tuple[str, datetime]] = {}  # (key, filename) -> (url, signed at)

    # --- reading the session
    async def session_state(self, session_id: str) -> sess.SessionState:
        state, _ = await self.services.engine.state("session", session_id)
        if state is None:
            raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id).refusal)
        assert isinstance(state, sess.SessionState)
        return state

    # --- publishing
    async def inspect(self, path: Path, sha256: str) -> pdfcheck.PdfReport:
        try:
            return await anyio.to_thread.run_sync(
                lambda: pdfcheck.inspect(path, sha256=sha256), limiter=_limiter(_CHECK_LIMIT, CHECK_THREADS)
            )
        except pdfcheck.PdfRefused as e:
            raise _refused(e) from e

    async def publish(
        self,
        principal: Principalish,
        session_id: str,
        *,
        fields: dict[str, str],
        file: Received | None,
        replace_id: str | None = None,
    ) -> UploadOut:
        """Check, store and publish (or register a secret document). Raises ApiError; leaves nothing behind."""
        state = await self.session_state(session_id)
        report: pdfcheck.PdfReport | None = None
        if replace_id is not None:
            doc = state.documents.documents.get(replace_id)
            if doc is None:
                raise from_refusal(DomainError(Code.UNKNOWN_DOCUMENT, id=replace_id).refusal)
            access = doc.access
            document_id = replace_id
            version = doc.current.version + 1
        else:
            access = _enum(fields, "access", docs.Access)
            document_id = fields.get("document_id", "")
            version = 1
        if access is docs.Access.SECRET:
            if file is not None:  # receive_form refuses it before writing; this is the second lock on the door
                raise api_error("secret_file_refused")
        elif file is None:
            raise api_error("file_missing")
        else:
            report = await self.inspect(file.path, file.sha256)

        try:
            return await self._publish_checked(
                state, principal, session_id, fields, file, report, replace_id, access, document_id, version
            )
        finally:
            if report is not None and report.rewritten:
                await anyio.to_thread.run_sync(lambda: report.path.unlink(missing_ok=True))

    async def _publish_checked(
        self,
        state: sess.SessionState,
        principal: Principalish,
        session_id: str,
        fields: dict[str, str],
        file: Received | None,
        report: pdfcheck.PdfReport | None,
        replace_id: str | None,
        access: docs.Access,
        document_id: str,
        version: int,
    ) -> UploadOut:
        size = report.size if report else 0
        sha = report.sha256 if report else ""
        # The upload's own size and hash go on record only when tablets receive something else (a repaired or
        # neutralised rewrite); otherwise the one hash is both.
        original_size = report.original_size if report and report.rewritten else 0
        original_sha = report.original_sha256 if report and report.rewritten else ""
        pages = report.pages if report else _field_int(fields, "pages", 0)
        pdf_title = report.title if report else ""
        active = report.active_content if report else []
        cmd: Any
        if replace_id is None:
            cmd = docs.PublishDocument(
                document_id=document_id,
                item_id=fields.get("item_id") or None,
                kind=_enum(fields, "kind", docs.DocumentKind, docs.DocumentKind.OTHER),
                title=fields.get("title", ""),
                access=access,
                size=size,
                sha256=sha,
                original_size=original_size,
                original_sha256=original_sha,
                pages=pages,
                pdf_title=pdf_title,
                active_content=active,
                note=fields.get("note", ""),
            )
        else:
            cmd = docs.ReplaceDocument(
                document_id=document_id,
                version=version,
                size=size,
                sha256=sha,
                original_size=original_size,
                original_sha256=original_sha,
                pages=pages,
                title=fields.get("title") or None,
                pdf_title=pdf_title,
                active_content=active,
                note=fields.get("note"),
            )
        # Decide once against the current state before anything is stored: a refusal costs no storage at all.
        try:
            sess.decide(state, cmd, Context(actor=principal.actor, now=datetime.now(UTC)))
        except DomainError as e:
            raise from_refusal(e.refusal) from e

        client_id = fields.get("id") or f"doc:{document_id}:v{version}:{sha[:16] or 'secret'}"
        if not 0 < len(client_id) <= 100:
            raise api_error("bad_form", detail="id must be 1-100 characters / id dài 1-100 ký tự")
        stored: list[str] = []
        if report is not None and file is not None:
            okey, tkey = (
                file_key(session_id, document_id, version, sha),
                text_key(session_id, document_id, version, sha),
            )
            try:
                await self.store.put(okey, report.path, sha256=sha)
                stored.append(okey)
                if report.rewritten:
                    rkey = original_key(session_id, document_id, version, sha, original_sha)
                    await self.store.put(rkey, file.path, sha256=original_sha)
                    stored.append(rkey)
                await self.store.put(tkey, msgspec.json.encode(_Text(report.text)), content_type="application/json")
                stored.append(tkey)
            except (StoreUnavailable, OSError) as e:
                await self._remove(stored)
                log.warning("storage failed for %s: %s", okey, e)
                raise api_error("storage_unavailable") from e
        try:
            reply: Reply = await self.services.engine.runtime("session", session_id).submit(principal, client_id, cmd)
        except Unavailable as e:
            await self._remove_unless_published(session_id, document_id, version, sha, stored)
            raise protocol_error(503, "unavailable") from e
        if not reply.ok:
            await self._remove_unless_published(session_id, document_id, version, sha, stored)
            assert reply.error is not None
            raise from_refusal(reply.error)
        if reply.replayed:
            after = await self.session_state(session_id)
            d = after.documents.documents.get(document_id)
            v = d.version(version) if d is not None else None
            if v is None or v.sha256 != sha:
                await self._remove_unless_published(session_id, document_id, version, sha, stored)
                raise api_error("id_reused", id=client_id)
        return UploadOut(
            document_id=document_id,
            version=version,
            access=access,
            size=size,
            sha256=sha,
            original_size=original_size,
            original_sha256=original_sha,
            pages=pages,
            pdf_title=pdf_title,
            text_chars=sum(len(t) for t in report.text) if report else 0,
            warnings=report.findings if report else [],
            seqs=reply.seqs,
            replayed=reply.replayed,
        )

    async def _remove(self, keys: list[str]) -> None:
        for k in keys:
            try:
                await self.store.delete(k)
            except Exception:
                log.warning("could not remove %s after a refused upload", k, exc_info=True)

    async def _remove_unless_published(
        self, session_id: str, document_id: str, version: int, sha: str, keys: list[str]
    ) -> None:
        """Remove what this upload stored, unless the same bytes are on record under that version (a concurrent
        identical upload won: its objects are these very keys)."""
        if not keys:
            return
        try:
            state = await self.session_state(session_id)
        except Exception:
            log.warning("cannot tell whether %s v%d is published; keeping its objects", document_id, version)
            return
        d = state.documents.documents.get(document_id)
        v = d.version(version) if d is not None else None
        if v is not None and v.sha256 == sha:
            return
        await self._remove(keys)

    # --- copies and links
    async def _stamped(
        self,
        session_id: str,
        doc: docs.Document,
        v: docs.Version,
        *,
        recipient: str,
        name: str,
        council: str,
        known_sha: str | None,
    ) -> tuple[str, int]:
        """(sha256, size) of the recipient's stamped copy, made once and cached in storage."""
        if known_sha is not None:
            key = copy_key(session_id, doc.id, v.version, v.sha256, recipient, known_sha)
            size = self._copy_sizes.get(key)
            if size is not None:  # copies are immutable (their key carries their hash): no request to storage
                return known_sha, size
            st = await self.store.stat(key)
            if st is not None:
                self._copy_sizes[key] = st.size
                return known_sha, st.size
        pkey = pointer_key(session_id, doc.id, v.version, v.sha256, recipient)
        lock = self._stamping.setdefault(pkey, asyncio.Lock())
        async with lock:
            with contextlib.suppress(ObjectNotFound, msgspec.DecodeError):
                ptr = msgspec.json.decode(await self.store.get(pkey), type=_Pointer)
                made = copy_key(session_id, doc.id, v.version, v.sha256, recipient, ptr.sha256)
                if await self.store.stat(made):
                    self._copy_sizes[made] = ptr.size
                    return ptr.sha256, ptr.size
            src_key = file_key(session_id, doc.id, v.version, v.sha256)
            work = Path(tempfile.mkdtemp(prefix="stamp-", dir=self.tmp_dir))
            try:
                if isinstance(self.store, LocalStore):
                    src = self.store.path_of(src_key)
                    if not await anyio.to_thread.run_sync(src.is_file):
                        raise ObjectNotFound(src_key)
                else:
                    src = work / "original.pdf"
                    await self.store.download(src_key, src)
                dst = work / "copy.pdf"
                now = datetime.now(UTC)
                copy_sha = await anyio.to_thread.run_sync(
                    lambda: stamp_pdf(src, dst, name=name, council=council, at=now),
                    limiter=_limiter(_STAMP_LIMIT, STAMP_THREADS),
                )
                info = await self.store.put(
                    copy_key(session_id, doc.id, v.version, v.sha256, recipient, copy_sha), dst, sha256=copy_sha
                )
                await self.store.put(
                    pkey, msgspec.json.encode(_Pointer(copy_sha, info.size)), content_type="application/json"
                )
                self._copy_sizes[info.key] = info.size
                return copy_sha, info.size
            finally:
                await anyio.to_thread.run_sync(lambda: _rmtree(work))
                self._stamping.pop(pkey, None)

    async def _link(self, key: str, filename: str) -> tuple[str, datetime]:
        """A download link for the object and when it expires."""
        now = datetime.now(UTC)
        hit = self._links.get((key, filename))
        if hit is not None and timedelta(0) <= now - hit[1] < LINK_REUSE:
            return hit[0], hit[1] + LINK_TTL
        url = await self.store.presigned_get(key, expires_in=LINK_TTL, filename=filename)
        if len(self._links) >= _LINKS_MAX:
            self._links.clear()
        self._links[(key, filename)] = (url, now)
        return url, now + LINK_TTL

    async def manifest(self, session_id: str, principal: Principal | None, base_url: str) -> Manifest:
        state, current = await self.services.engine.state("session", session_id)
        if state is None:
            raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id).refusal)
        if principal is not None:
            require_council(principal, state.hall.council_id)
        actor = principal.actor if principal is not None else Actor(roles=frozenset({Role.PUBLIC}))
        hall = state.hall
        delegate_id = (
            actor.person_id
            if Role.DELEGATE in actor.roles and actor.person_id is not None and hall.seated(actor.person_id)
            else None
        )
        now = datetime.now(UTC)
        entries: list[ManifestEntry] = []
        sent: list[docs.SentCopy] = []
        attempts: list[str] = []
        for doc_id in state.documents.order:
            doc = state.documents.documents[doc_id]
            if not docs.audience_of(doc.access).admits(actor):
                continue
            v = doc.current
            own = v.deliveries.get(delegate_id) if delegate_id is not None else None
            url: str | None = None
            expires: str | None = None
            size: int | None = None
            sha: str | None = None
            note_vi = note_en = ""
            stamped = False
            if doc.access is docs.Access.SECRET:
                note_vi, note_en = docs.READING_ROOM_VI, docs.READING_ROOM_EN
            elif doc.withdrawn:
                note_vi, note_en = "Tài liệu đã bị thu hồi; xóa bản đã tải.", "Withdrawn: delete any copy you hold."
            elif not docs.may_download(hall, doc, actor):
                note_vi, note_en = "Tài liệu chỉ dành cho đại biểu.", "For delegates only."
            else:
                filename = f"{doc.id}-v{v.version}.pdf"
                if doc.access is docs.Access.RESTRICTED:
                    if delegate_id is not None:
                        recipient, name = delegate_id, hall.delegates[delegate_id].name
                    else:
                        assert principal is not None  # restricted is never public
                        recipient, name = f"staff-{_recipient(principal.account_id)}", principal.display_name
                    try:
                        sha, size = await self._stamped(
                            session_id,
                            doc,
                            v,
                            recipient=recipient,
                            name=name,
                            council=hall.council_name,
                            known_sha=own.sha256 if own is not None else None,
                        )
                    except ObjectNotFound:
                        log.error("the original of %s v%d is missing from storage", doc.id, v.version)
                        entries.append(_missing_entry(doc, v))
                        continue
                    except StoreUnavailable as e:
                        raise api_error("storage_unavailable") from e
                    key = copy_key(session_id, doc.id, v.version, v.sha256, recipient, sha)
                    stamped = True
                else:
                    sha, size = v.sha256, v.size
                    key = file_key(session_id, doc.id, v.version, v.sha256)
                try:
                    link, until = await self._link(key, filename)
                    url, expires = urllib.parse.urljoin(base_url, link), until.isoformat()
                except StoreUnavailable as e:
                    raise api_error("storage_unavailable") from e
                if delegate_id is not None and (own is None or own.status is docs.DeliveryStatus.FAILED):
                    sent.append(docs.SentCopy(document_id=doc.id, version=v.version, sha256=sha))
                    # The command id must differ when a failed copy is sent again (same copy, new attempt).
                    attempts.append(own.at if own is not None else "")
            entries.append(
                _entry(
                    doc,
                    v,
                    size=size,
                    sha256=sha,
                    url=url,
                    expires_at=expires,
                    stamped=stamped,
                    note_vi=note_vi,
                    note_en=note_en,
                    delivery=(own.status if own else docs.DeliveryStatus.NOT_SENT) if delegate_id else None,
                )
            )
        seq = 0
        if sent and delegate_id is not None:
            seq = await self._record_sent(session_id, delegate_id, sent, attempts)
            state = await self.session_state(session_id)
            entries = [await self._after_record(session_id, state, delegate_id, e) for e in entries]
        return Manifest(session_id=session_id, seq=max(seq, current), generated_at=now.isoformat(), documents=entries)

    async def _after_record(
        self, session_id: str, state: sess.SessionState, delegate_id: str, e: ManifestEntry
    ) -> ManifestEntry:
        """The entry as recorded: the delegate's delivery status, and for a restricted copy the copy on record."""
        doc = state.documents.documents.get(e.document_id)
        v = doc.version(e.version) if doc is not None else None
        rec = v.deliveries.get(delegate_id) if v is not None else None
        if doc is None or v is None or rec is None:
            return e
        if e.stamped and e.sha256 != rec.sha256:
            # Another worker stamped this delegate's copy and recorded it first: that copy is the delegate's copy.
            key = copy_key(session_id, doc.id, v.version, v.sha256, delegate_id, rec.sha256)
            st = await self.store.stat(key)
            url, until = await self._link(key, f"{doc.id}-v{v.version}.pdf")
            return msgspec.structs.replace(
                e,
                sha256=rec.sha256,
                size=st.size if st else e.size,
                url=urllib.parse.urljoin(e.url or "", url),
                expires_at=until.isoformat(),
                delivery=rec.status,
            )
        return msgspec.structs.replace(e, delivery=rec.status)

    async def _record_sent(
        self, session_id: str, delegate_id: str, copies: list[docs.SentCopy], attempts: list[str]
    ) -> int:
        digest = hashlib.sha256(msgspec.json.encode([copies, attempts])).hexdigest()[:32]
        cmd = docs.RecordCopiesSent(delegate_id=delegate_id, copies=copies)
        try:
            reply: Reply = await self.services.engine.runtime("session", session_id).submit(
                DESK, f"sent:{delegate_id}:{digest}"[:100], cmd
            )
        except Unavailable:
            log.warning("could not record copies sent to %s in %s", delegate_id, session_id)
            return 0
        if not reply.ok:
            log.warning("copies sent to %s in %s not recorded: %s", delegate_id, session_id, reply.error)
            return 0
        return max(reply.seqs, default=0)

    # --- search
    async def _text(self, session_id: str, doc: docs.Document, v: docs.Version) -> textsearch.TextIndex | None:
        cached = self._texts.get(v.sha256)
        if cached is not None:
            self._texts.move_to_end(v.sha256)
            return cached
        try:
            raw = await self.store.get(text_key(session_id, doc.id, v.version, v.sha256))
            pages = msgspec.json.decode(raw, type=_Text).pages
        except (ObjectNotFound, msgspec.DecodeError, StoreUnavailable):
            return None
        index = await anyio.to_thread.run_sync(lambda: textsearch.TextIndex(pages))
        self._texts[v.sha256] = index
        self._text_chars += index.size
        while self._text_chars > TEXT_CACHE_CHARS and len(self._texts) > 1:
            _, old = self._texts.popitem(last=False)
            self._text_chars -= old.size
        return index

    async def search(
        self, session_id: str, principal: Principal | None, query: str, ignore: bool | None, limit: int
    ) -> SearchOut:
        query = query.strip()
        if not query or len(query) > textsearch.MAX_QUERY:
            raise api_error("bad_query")
        state = await self.session_state(session_id)
        actor = principal.actor if principal is not None else Actor(roles=frozenset({Role.PUBLIC}))
        if ignore is None:
            ignore = not textsearch.has_diacritics(query)
        results: list[SearchResult] = []
        for doc_id in state.documents.order:
            doc = state.documents.documents[doc_id]
            if not docs.audience_of(doc.access).admits(actor):
                continue
            v = doc.current
            title_match = textsearch.matches(doc.title, query, ignore_diacritics=ignore)
            hits: list[textsearch.Hit] = []
            # Text is searched only where the caller could read the document itself: never for a secret one
            # (there is no text), nor for a delegates-only one searched by someone who may not download it.
            if docs.may_download(state.hall, doc, actor):
                index = await self._text(session_id, doc, v)
                if index is not None:
                    hits = index.search(query, ignore_diacritics=ignore, limit=limit)
            if title_match or hits:
                results.append(
                    SearchResult(
                        document_id=doc.id,
                        version=v.version,
                        title=doc.title,
                        access=doc.access,
                        item_id=doc.item_id,
                        title_match=title_match,
                        hits=hits,
                    )
                )
        return SearchOut(query=query, ignore_diacritics=ignore, results=results[:limit])


def _sweep(tmp_dir: Path, older_than: float = 24 * 3600) -> None:
    """Remove what uploads and stampings left behind when a worker died mid-way (a day old: another worker sharing
    the directory may be using younger ones)."""
    import shutil
    import time

    cutoff = time.time() - older_than
    for p in tmp_dir.glob("*"):
        with contextlib.suppress(OSError):
            if p.stat().st_mtime >= cutoff or not p.name.startswith(("upload-", "stamp-", "demo-")):
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# --- routes --------------------------------------------------------------------------------------------------------
# --- the demo session's documents ----------------------------------------------------------------------------------
async def seed_demo_documents(services: Services, session_id: str, principal: Principalish) -> int:
    """Generate the demo documents (documents/samples.py), check, store and publish them like any upload.
    Returns how many were published."""
    from documents.samples import demo_documents, render_all
    from documents.store import make_store

    s = services.settings
    store = make_store(
        data_dir=s.data_dir,
        secret=s.secret_key,
        s3_url=s.s3_url,
        s3_access_key=s.s3_access_key,
        s3_secret_key=s.s3_secret_key,
        s3_bucket=s.s3_bucket,
        s3_public_url=s.s3_public_url,
    )
    service = DocumentService(services, store)
    wanted = demo_documents()
    with_files = [d for d in wanted if d.letter is not None]
    pdfs = await anyio.to_thread.run_sync(lambda: render_all([d.letter for d in with_files if d.letter]))
    files = dict(zip((d.document_id for d in with_files), pdfs, strict=True))
    n = 0
    try:
        for d in wanted:
            fields = {
                "document_id": d.document_id,
                "item_id": d.item_id,
                "kind": d.kind,
                "title": d.title,
                "access": d.access,
                "note": d.note,
                "id": f"demo-doc-{d.document_id}",
            }
            received: Received | None = None
            if d.document_id in files:
                data = files[d.document_id]
                path = service.tmp_dir / f"demo-{d.document_id}.pdf"
                await anyio.to_thread.run_sync(path.write_bytes, data)
                received = Received(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), filename="")
            else:
                fields["pages"] = str(d.pages)
            try:
                await service.publish(principal, session_id, fields=fields, file=received)
                n += 1
            finally:
                if received is not None:
                    received.path.unlink(missing_ok=True)
    finally:
        await store.close()
    return n
