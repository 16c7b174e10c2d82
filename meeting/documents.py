"""Session documents (tài liệu kỳ họp): publication, versions, access levels and delivery to tablets.

The secretariat publishes a document on an agenda item — a submission (tờ trình), a review report (báo cáo thẩm
tra), a draft resolution (dự thảo nghị quyết) or another paper — with one of four access levels:

- public (công khai): every screen, the public included, is told; anyone may download it;
- delegates (đại biểu): the hall is told (delegates, chair, secretariat, respondents, committee); seated delegates
  and staff may download it;
- restricted (hạn chế): like delegates, but each delegate downloads their own copy stamped with their name, the
  council and the time (documents/stamp.py);
- secret (mật): the hall is told that it exists, its title and where to read it; the file is never stored by the
  server, never sent to a tablet and never signed into a URL (Law 29/2018/QH14 on the Protection of State Secrets,
  art. 5 forbids keeping state-secret content on networked devices). A secret document therefore carries no size
  and no hash: only a declared page count and a note (the reading room).

Replacing a document adds a version; earlier versions stay on record (with their hashes and delivery receipts).
Withdrawing it keeps everything on record and stops its distribution.

Delivery, per seated delegate and document version: not sent → sent (the server handed the delegate's tablet a
signed link to its copy: `CopiesSent`, recorded by the server with the hash of that copy, which for a restricted
document is the delegate's own stamped copy) → received (the tablet acknowledged with the SHA-256 it computed, and
it matches) or failed (it did not match, or the tablet reported a failure). Delivery events are seen by staff and
by the delegate concerned only. The secretariat's matrix (`delivery_matrix`) is derived from the state.

Like the other sub-machines: `decide` checks and returns routed events, `apply` changes the state and cannot fail.
"""

from __future__ import annotations

import re
from enum import StrEnum

import msgspec

from meeting.actors import DELEGATES, EVERYONE, Actor, Audience, Context, Role, staff_and
from meeting.agenda import Agenda
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall, SessionStatus
from meeting.messages import Command, Event, Routed

# Document ids become part of storage keys: lower-case ASCII letters, digits and . _ - only.
ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
MAX_TITLE = 500
MAX_NOTE = 500
MAX_REASON = 500
# A provincial session carries up to a few hundred documents; 2000 and 100 versions each bound the state.
MAX_DOCUMENTS = 2000
MAX_VERSIONS = 100
# The server refuses uploads above its own limit (200 MB by default); the domain only bounds absurd values.
MAX_SIZE = 1 << 40
MAX_PAGES = 100_000
MAX_COPIES = 2 * MAX_DOCUMENTS  # one manifest's worth of copies in one CopiesSent
ACTIVE_CONTENT = frozenset(
    {
        "javascript",
        "open_action_javascript",
        "launch_action",
        "embedded_file",
        "xfa_form",
        "unsafe_link",
        "form_submission",
        "rich_media",
    }
)

READING_ROOM_VI = "Tài liệu mật: không gửi đến máy tính bảng; đề nghị đại biểu đọc tại phòng đọc tài liệu mật."
READING_ROOM_EN = "State secret: never sent to tablets; please read it in the reading room."


class DocumentKind(StrEnum):
    SUBMISSION = "submission"  # tờ trình
    REVIEW_REPORT = "review_report"  # báo cáo thẩm tra
    DRAFT_RESOLUTION = "draft_resolution"  # dự thảo nghị quyết
    OTHER = "other"  # báo cáo, danh sách, tài liệu khác

    @property
    def label_vi(self) -> str:
        return _KIND_VI[self]


_KIND_VI = {
    DocumentKind.SUBMISSION: "tờ trình",
    DocumentKind.REVIEW_REPORT: "báo cáo thẩm tra",
    DocumentKind.DRAFT_RESOLUTION: "dự thảo nghị quyết",
    DocumentKind.OTHER: "tài liệu khác",
}


class Access(StrEnum):
    PUBLIC = "public"  # công khai
    DELEGATES = "delegates"  # chỉ đại biểu
    RESTRICTED = "restricted"  # hạn chế: bản cấp riêng, đóng dấu tên từng đại biểu
    SECRET = "secret"  # mật: chỉ đọc tại phòng đọc

    @property
    def label_vi(self) -> str:
        return _ACCESS_VI[self]


_ACCESS_VI = {
    Access.PUBLIC: "công khai",
    Access.DELEGATES: "chỉ đại biểu",
    Access.RESTRICTED: "hạn chế (bản cấp riêng)",
    Access.SECRET: "mật",
}


class DeliveryStatus(StrEnum):
    NOT_SENT = "not_sent"  # chưa gửi
    SENT = "sent"  # đã gửi liên kết
    RECEIVED = "received"  # máy tính bảng đã nhận, mã băm khớp
    FAILED = "failed"  # lỗi: mã băm không khớp hoặc máy báo lỗi


class Delivery(msgspec.Struct, kw_only=True):
    status: DeliveryStatus
    sha256: str  # the copy this delegate was sent (their stamped copy for a restricted document)
    at: str
    reason: str = ""


class Version(msgspec.Struct, kw_only=True):
    version: int
    size: int  # of the copy tablets receive
    sha256: str  # of the copy tablets receive (their receipts are checked against it)
    # The upload as received, when the server repaired it or removed active content before serving it ("": the
    # copy tablets receive is the upload byte for byte).
    original_size: int = 0
    original_sha256: str = ""
    pages: int
    pdf_title: str
    active_content: list[str]
    published_at: str
    deliveries: dict[str, Delivery] = msgspec.field(default_factory=dict)  # by delegate id


class Document(msgspec.Struct, kw_only=True):
    id: str
    item_id: str | None
    kind: DocumentKind
    title: str
    access: Access
    note: str
    versions: list[Version]
    withdrawn: bool = False
    withdrawn_at: str | None = None
    withdraw_reason: str = ""

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def version(self, n: int) -> Version | None:
        return self.versions[n - 1] if 1 <= n <= len(self.versions) else None


class Documents(msgspec.Struct, kw_only=True):
    documents: dict[str, Document] = msgspec.field(default_factory=dict)
    order: list[str] = msgspec.field(default_factory=list)


class SentCopy(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    version: int
    sha256: str


# --- commands
class PublishDocument(Command, frozen=True, kw_only=True, tag="publish_document"):
    document_id: str
    item_id: str | None = None  # None: a paper for the whole session (the programme, a general report)
    kind: DocumentKind
    title: str
    access: Access
    version: int = 1
    size: int = 0
    sha256: str = ""
    original_size: int = 0
    original_sha256: str = ""
    pages: int = 0
    pdf_title: str = ""
    active_content: list[str] = []
    note: str = ""


class ReplaceDocument(Command, frozen=True, kw_only=True, tag="replace_document"):
    document_id: str
    version: int  # the new version's number: the current one plus one
    size: int = 0
    sha256: str = ""
    original_size: int = 0
    original_sha256: str = ""
    pages: int = 0
    title: str | None = None  # None keeps the title
    pdf_title: str = ""
    active_content: list[str] = []
    note: str | None = None  # None keeps the note


class WithdrawDocument(Command, frozen=True, kw_only=True, tag="withdraw_document"):
    document_id: str
    reason: str = ""


class RecordCopiesSent(Command, frozen=True, kw_only=True, tag="record_copies_sent"):
    """Recorded by the server when it hands a delegate's tablet signed links (the secretariat's authority)."""

    delegate_id: str
    copies: list[SentCopy]


class AcknowledgeDelivery(Command, frozen=True, kw_only=True, tag="acknowledge_delivery"):
    """The delegate's tablet downloaded its copy and computed its SHA-256."""

    document_id: str
    version: int
    delegate_id: str
    sha256: str


class ReportDeliveryFailure(Command, frozen=True, kw_only=True, tag="report_delivery_failure"):
    document_id: str
    version: int
    delegate_id: str
    reason: str = ""


# --- events
class DocumentPublished(Event, frozen=True, kw_only=True, tag="document_published"):
    document_id: str
    item_id: str | None
    kind: DocumentKind
    title: str
    access: Access
    note: str
    version: int
    size: int
    sha256: str
    original_size: int = 0
    original_sha256: str = ""
    pages: int
    pdf_title: str
    active_content: list[str]
    at: str


class DocumentReplaced(Event, frozen=True, kw_only=True, tag="document_replaced"):
    """A new version; tablets holding an older one fetch their manifest again."""

    document_id: str
    version: int
    previous_version: int
    title: str
    note: str
    size: int
    sha256: str
    original_size: int = 0
    original_sha256: str = ""
    pages: int
    pdf_title: str
    active_content: list[str]
    at: str


class DocumentWithdrawn(Event, frozen=True, kw_only=True, tag="document_withdrawn"):
    document_id: str
    reason: str
    at: str


class CopiesSent(Event, frozen=True, kw_only=True, tag="copies_sent"):
    delegate_id: str
    copies: list[SentCopy]
    at: str


class DeliveryReceived(Event, frozen=True, kw_only=True, tag="delivery_received"):
    delegate_id: str
    document_id: str
    version: int
    at: str


class DeliveryFailed(Event, frozen=True, kw_only=True, tag="delivery_failed"):
    delegate_id: str
    document_id: str
    version: int
    reason: str  # "sha256_mismatch" or the tablet's own words
    at: str


COMMANDS: tuple[type[Command], ...] = (
    PublishDocument,
    ReplaceDocument,
    WithdrawDocument,
    RecordCopiesSent,
    AcknowledgeDelivery,
    ReportDeliveryFailure,
)
EVENTS: tuple[type[Event], ...] = (
    DocumentPublished,
    DocumentReplaced,
    DocumentWithdrawn,
    CopiesSent,
    DeliveryReceived,
    DeliveryFailed,
)

_OPEN = (
    SessionStatus.PREPARED,
    SessionStatus.CHECKIN_OPEN,
    SessionStatus.IN_PROGRESS,
    SessionStatus.SUSPENDED,
)
SHA256_MISMATCH = "sha256_mismatch"


def audience_of(access: Access) -> Audience:
    """Who is told about a document: everyone for a public one, the hall for the others (a secret document's
    listing included: its existence and title are not secret, its content is)."""
    return EVERYONE if access is Access.PUBLIC else DELEGATES


def may_download(hall: Hall, doc: Document, actor: Actor) -> bool:
    """Whether `actor` may be given a copy of `doc` (a secret document: never, whoever asks)."""
    if doc.access is Access.SECRET or doc.withdrawn:
        return False
    if doc.access is Access.PUBLIC:
        return True
    if actor.has(Role.ADMIN, Role.SECRETARY, Role.CHAIR):
        return True
    return Role.DELEGATE in actor.roles and actor.person_id is not None and hall.seated(actor.person_id)


def require_document(docs: Documents, document_id: str) -> Document:
    doc = docs.documents.get(document_id)
    if doc is None:
        raise DomainError(Code.UNKNOWN_DOCUMENT, id=document_id)
    return doc


def require_version(doc: Document, version: int) -> Version:
    v = doc.version(version)
    if v is None:
        raise DomainError(Code.UNKNOWN_DOCUMENT_VERSION, id=doc.id, version=version)
    return v


def _check_text(title: str | None, note: str | None) -> None:
    if title is not None and (not title.strip() or len(title) > MAX_TITLE):
        raise invalid("tên tài liệu trống hoặc quá dài", "the document title is empty or too long")
    if note is not None and len(note) > MAX_NOTE:
        raise invalid("ghi chú quá dài", "the note is too long")


def _check_file(access: Access, size: int, sha256: str, pages: int, pdf_title: str, active: list[str]) -> None:
    """A secret document has no file here; every other document describes the file the server checked."""
    if len(pdf_title) > MAX_TITLE:
        raise invalid("tiêu đề trong tệp PDF quá dài", "the PDF's own title is too long")
    if not set(active) <= ACTIVE_CONTENT or len(active) != len(set(active)):
        raise invalid("danh sách nội dung chủ động không hợp lệ", "the active-content list is not valid")
    if not 0 <= pages <= MAX_PAGES:
        raise invalid("số trang không hợp lệ", "the page count is not valid")
    if access is Access.SECRET:
        if size != 0 or sha256 or active or pdf_title:
            raise invalid(
                "tài liệu mật không được lưu tệp trên hệ thống (Luật Bảo vệ bí mật nhà nước, Điều 5)",
                "a secret document's file is never stored by the system (Law 29/2018/QH14, art. 5)",
            )
        return
    if not 0 < size <= MAX_SIZE or not SHA256_RE.fullmatch(sha256) or pages < 1:
        raise invalid(
            "thiếu kích thước, mã băm SHA-256 hoặc số trang của tệp",
            "the file's size, SHA-256 or page count is missing or not valid",
        )


def _check_original(access: Access, sha256: str, size: int, original_sha256: str) -> None:
    """The upload's own size and hash, given only when the copy tablets receive differs from it."""
    if not original_sha256 and not size:
        return
    if access is Access.SECRET or not 0 < size <= MAX_SIZE or not SHA256_RE.fullmatch(original_sha256):
        raise invalid(
            "kích thước hoặc mã băm của tệp gốc không hợp lệ", "the original file's size or SHA-256 is not valid"
        )
    if original_sha256 == sha256:
        raise invalid(
            "tệp gốc trùng bản gửi máy tính bảng: không ghi mã băm gốc",
            "the original is the served copy: leave its hash out",
        )


def _delegate_copy(
    hall: Hall, docs: Documents, cmd: AcknowledgeDelivery | ReportDeliveryFailure, ctx: Context
) -> tuple[Document, Version]:
    hall.acting_delegate(ctx, cmd.delegate_id)
    doc = require_document(docs, cmd.document_id)
    if doc.access is Access.SECRET:
        raise DomainError(Code.SECRET_DOCUMENT, id=doc.id)
    if doc.withdrawn:
        raise DomainError(Code.DOCUMENT_WITHDRAWN, id=doc.id)
    return doc, require_version(doc, cmd.version)


def decide(hall: Hall, agenda: Agenda, docs: Documents, cmd: Command, ctx: Context) -> list[Routed]:
    at = ctx.now.isoformat()
    match cmd:
        case PublishDocument():
            ctx.actor.require(Role.SECRETARY)
            hall.require_status(*_OPEN)
            if not ID_RE.fullmatch(cmd.document_id):
                raise invalid(
                    "mã tài liệu chỉ gồm chữ thường không dấu, số và . _ - (tối đa 100 ký tự)",
                    "a document id is lower-case ASCII letters, digits and . _ - (at most 100 characters)",
                )
            if cmd.document_id in docs.documents:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.document_id)
            if len(docs.documents) >= MAX_DOCUMENTS:
                raise invalid("kỳ họp đã có quá nhiều tài liệu", "the session has too many documents")
            if cmd.item_id is not None and cmd.item_id not in agenda.items:
                raise DomainError(Code.UNKNOWN_ITEM, id=cmd.item_id)
            if cmd.version != 1:
                raise DomainError(Code.WRONG_DOCUMENT_VERSION, id=cmd.document_id, expected=1)
            _check_text(cmd.title, cmd.note)
            _check_file(cmd.access, cmd.size, cmd.sha256, cmd.pages, cmd.pdf_title, cmd.active_content)
            _check_original(cmd.access, cmd.sha256, cmd.original_size, cmd.original_sha256)
            ev: Event = DocumentPublished(
                document_id=cmd.document_id,
                item_id=cmd.item_id,
                kind=cmd.kind,
                title=cmd.title.strip(),
                access=cmd.access,
                note=cmd.note.strip(),
                version=1,
                size=cmd.size,
                sha256=cmd.sha256,
                original_size=cmd.original_size,
                original_sha256=cmd.original_sha256,
                pages=cmd.pages,
                pdf_title=cmd.pdf_title,
                active_content=sorted(cmd.active_content),
                at=at,
            )
            return [Routed(event=ev, audience=audience_of(cmd.access))]
        case ReplaceDocument():
            ctx.actor.require(Role.SECRETARY)
            hall.require_status(*_OPEN)
            doc = require_document(docs, cmd.document_id)
            if doc.withdrawn:
                raise DomainError(Code.DOCUMENT_WITHDRAWN, id=doc.id)
            expected = doc.current.version + 1
            if cmd.version != expected:
                raise DomainError(Code.WRONG_DOCUMENT_VERSION, id=doc.id, expected=expected)
            if len(doc.versions) >= MAX_VERSIONS:
                raise invalid("tài liệu đã có quá nhiều phiên bản", "the document has too many versions")
            _check_text(cmd.title, cmd.note)
            _check_file(doc.access, cmd.size, cmd.sha256, cmd.pages, cmd.pdf_title, cmd.active_content)
            _check_original(doc.access, cmd.sha256, cmd.original_size, cmd.original_sha256)
            ev = DocumentReplaced(
                document_id=doc.id,
                version=expected,
                previous_version=doc.current.version,
                title=cmd.title.strip() if cmd.title is not None else doc.title,
                note=cmd.note.strip() if cmd.note is not None else doc.note,
                size=cmd.size,
                sha256=cmd.sha256,
                original_size=cmd.original_size,
                original_sha256=cmd.original_sha256,
                pages=cmd.pages,
                pdf_title=cmd.pdf_title,
                active_content=sorted(cmd.active_content),
                at=at,
            )
            return [Routed(event=ev, audience=audience_of(doc.access))]
        case WithdrawDocument():
            ctx.actor.require(Role.SECRETARY)
            hall.require_status(*_OPEN)
            doc = require_document(docs, cmd.document_id)
            if doc.withdrawn:
                raise DomainError(Code.DOCUMENT_WITHDRAWN, id=doc.id)
            if len(cmd.reason) > MAX_REASON:
                raise invalid("lý do quá dài", "the reason is too long")
            ev = DocumentWithdrawn(document_id=doc.id, reason=cmd.reason.strip(), at=at)
            return [Routed(event=ev, audience=audience_of(doc.access))]
        case RecordCopiesSent():
            ctx.actor.require(Role.SECRETARY)
            hall.require_delegate(cmd.delegate_id)
            if len(cmd.copies) > MAX_COPIES:
                raise invalid("quá nhiều bản trong một lần gửi", "too many copies in one record")
            fresh: list[SentCopy] = []
            for c in cmd.copies:
                doc = require_document(docs, c.document_id)
                if doc.access is Access.SECRET:
                    raise DomainError(Code.SECRET_DOCUMENT, id=doc.id)
                if doc.withdrawn:
                    raise DomainError(Code.DOCUMENT_WITHDRAWN, id=doc.id)
                v = require_version(doc, c.version)
                if not SHA256_RE.fullmatch(c.sha256):
                    raise invalid("mã băm SHA-256 không hợp lệ", "the SHA-256 is not valid")
                if doc.access is not Access.RESTRICTED and c.sha256 != v.sha256:
                    raise invalid("mã băm không khớp với tài liệu", "the SHA-256 does not match the document")
                before = v.deliveries.get(cmd.delegate_id)
                # A copy already on its way or received stays as it is: the first record of a restricted copy
                # fixes its hash (two workers racing to stamp it keep the first).
                if before is not None and before.status is not DeliveryStatus.FAILED:
                    continue
                if any(f.document_id == c.document_id and f.version == c.version for f in fresh):
                    continue
                fresh.append(c)
            if not fresh:
                return []
            ev = CopiesSent(delegate_id=cmd.delegate_id, copies=fresh, at=at)
            return [Routed(event=ev, audience=staff_and(cmd.delegate_id))]
        case AcknowledgeDelivery():
            doc, v = _delegate_copy(hall, docs, cmd, ctx)
            me = cmd.delegate_id
            before = v.deliveries.get(me)
            if before is None and doc.access is Access.RESTRICTED:
                # Without a record of the stamped copy there is nothing to check the hash against.
                raise DomainError(Code.DOCUMENT_NOT_SENT, id=doc.id, version=v.version)
            want = before.sha256 if before is not None else v.sha256
            if cmd.sha256.lower() == want:
                if before is not None and before.status is DeliveryStatus.RECEIVED:
                    return []  # acknowledged again (a reinstalled tablet): nothing new
                ev = DeliveryReceived(delegate_id=me, document_id=doc.id, version=v.version, at=at)
            else:
                ev = DeliveryFailed(
                    delegate_id=me, document_id=doc.id, version=v.version, reason=SHA256_MISMATCH, at=at
                )
            return [Routed(event=ev, audience=staff_and(me))]
        case ReportDeliveryFailure():
            doc, v = _delegate_copy(hall, docs, cmd, ctx)
            if len(cmd.reason) > MAX_REASON:
                raise invalid("lý do quá dài", "the reason is too long")
            ev = DeliveryFailed(
                delegate_id=cmd.delegate_id,
                document_id=doc.id,
                version=v.version,
                reason=cmd.reason.strip() or "reported",
                at=at,
            )
            return [Routed(event=ev, audience=staff_and(cmd.delegate_id))]
    raise AssertionError(f"not a document command: {cmd!r}")


def apply(docs: Documents, event: Event) -> None:
    match event:
        case DocumentPublished():
            docs.documents[event.document_id] = Document(
                id=event.document_id,
                item_id=event.item_id,
                kind=event.kind,
                title=event.title,
                access=event.access,
                note=event.note,
                versions=[
                    Version(
                        version=event.version,
                        size=event.size,
                        sha256=event.sha256,
                        original_size=event.original_size,
                        original_sha256=event.original_sha256,
                        pages=event.pages,
                        pdf_title=event.pdf_title,
                        active_content=list(event.active_content),
                        published_at=event.at,
                    )
                ],
            )
            docs.order.append(event.document_id)
        case DocumentReplaced():
            doc = docs.documents.get(event.document_id)
            if doc is None:
                return
            doc.title = event.title
            doc.note = event.note
            doc.versions.append(
                Version(
                    version=event.version,
                    size=event.size,
                    sha256=event.sha256,
                    original_size=event.original_size,
                    original_sha256=event.original_sha256,
                    pages=event.pages,
                    pdf_title=event.pdf_title,
                    active_content=list(event.active_content),
                    published_at=event.at,
                )
            )
        case DocumentWithdrawn():
            doc = docs.documents.get(event.document_id)
            if doc is not None:
                doc.withdrawn = True
                doc.withdrawn_at = event.at
                doc.withdraw_reason = event.reason
        case CopiesSent():
            for c in event.copies:
                v = _version(docs, c.document_id, c.version)
                if v is not None:
                    v.deliveries[event.delegate_id] = Delivery(status=DeliveryStatus.SENT, sha256=c.sha256, at=event.at)
        case DeliveryReceived() | DeliveryFailed():
            v = _version(docs, event.document_id, event.version)
            if v is None:
                return
            before = v.deliveries.get(event.delegate_id)
            sha = before.sha256 if before is not None else v.sha256
            if isinstance(event, DeliveryReceived):
                v.deliveries[event.delegate_id] = Delivery(status=DeliveryStatus.RECEIVED, sha256=sha, at=event.at)
            else:
                v.deliveries[event.delegate_id] = Delivery(
                    status=DeliveryStatus.FAILED, sha256=sha, at=event.at, reason=event.reason
                )


def _version(docs: Documents, document_id: str, version: int) -> Version | None:
    doc = docs.documents.get(document_id)
    return doc.version(version) if doc is not None else None


# --- the secretariat's delivery matrix
class MatrixColumn(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    version: int
    title: str
    access: Access
    current: bool
    not_sent: int
    sent: int
    received: int
    failed: int


class MatrixRow(msgspec.Struct, frozen=True, kw_only=True):
    delegate_id: str
    name: str
    statuses: list[DeliveryStatus]  # one per column
    missing: int  # columns of current versions not received


class DeliveryMatrix(msgspec.Struct, frozen=True, kw_only=True):
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    complete: bool  # every seated delegate has received every current version


def delivery_matrix(hall: Hall, docs: Documents, *, all_versions: bool = False) -> DeliveryMatrix:
    """Seated delegate × version of every distributed document (not secret, not withdrawn): the current version,
    or every version with `all_versions`."""
    versions: list[tuple[Document, Version]] = []
    for doc_id in docs.order:
        doc = docs.documents[doc_id]
        if doc.access is Access.SECRET or doc.withdrawn:
            continue
        for v in doc.versions if all_versions else [doc.current]:
            versions.append((doc, v))
    delegates = sorted((d for d in hall.delegates.values() if d.seated), key=lambda d: d.id)
    rows: list[MatrixRow] = []
    counts = [dict.fromkeys(DeliveryStatus, 0) for _ in versions]
    for d in delegates:
        statuses: list[DeliveryStatus] = []
        missing = 0
        for i, (doc, v) in enumerate(versions):
            got = v.deliveries.get(d.id)
            status = got.status if got is not None else DeliveryStatus.NOT_SENT
            statuses.append(status)
            counts[i][status] += 1
            if v is doc.current and status is not DeliveryStatus.RECEIVED:
                missing += 1
        rows.append(MatrixRow(delegate_id=d.id, name=d.name, statuses=statuses, missing=missing))
    columns = [
        MatrixColumn(
            document_id=doc.id,
            version=v.version,
            title=doc.title,
            access=doc.access,
            current=v is doc.current,
            not_sent=c[DeliveryStatus.NOT_SENT],
            sent=c[DeliveryStatus.SENT],
            received=c[DeliveryStatus.RECEIVED],
            failed=c[DeliveryStatus.FAILED],
        )
        for (doc, v), c in zip(versions, counts, strict=True)
    ]
    return DeliveryMatrix(columns=columns, rows=rows, complete=all(r.missing == 0 for r in rows))
