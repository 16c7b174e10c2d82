"""A delegate's personal notes and highlights, kept on the server as ciphertext only.

The tablet (clients/web/js/notes.js) keeps a document's notes in IndexedDB and, when the delegate has chosen a
notes passphrase, also here: it derives an AES-GCM key from the passphrase (PBKDF2-SHA-256, the salt and the
iteration count stored here so that a second device derives the same key), encrypts the document's notes as one
JSON blob and sends the nonce and the ciphertext. The server never sees the passphrase, the key or a note's text;
it cannot decrypt what it stores and nor can an operator reading the database (docs/SECURITY.md, "Personal notes").

Owner-only by construction: no route names an account — every read and write is the caller's own (account id from
the token). A secretariat or chair account without the delegate or respondent role has no notes (403). Every
write is appended to the audit chain `notes:<account id>` with the blob's size and SHA-256, never its content.

Two devices: each PUT names the revision it replaces; a stale one is refused 409 `notes_conflict` with the current
revision, and the tablet then fetches, merges (notes have ids and times) and sends again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncConnection

from meeting import session as sess
from meeting.actors import Role
from meeting.errors import Code, DomainError
from server import db
from server.audit import GENESIS, chain_hash
from server.auth import Principal, provide_principal, require_council, require_roles
from server.errors import ApiError, from_refusal, protocol_error
from server.openapi import BEARER, errors
from server.routes_accounts import BODY_ERROR_HANDLERS
from server.services import Services

# One document's notes as one blob: 256 KiB of base64 is 192 KiB of ciphertext, ~1 500 notes of 100 words each
# (a note is ~120 bytes of JSON around its text). The request body allows that plus the JSON around it.
MAX_CIPHERTEXT = 256 * 1024
MAX_BODY = MAX_CIPHERTEXT + 4 * 1024
# Blobs per account: a term of ~20 sessions × ~50 documents is 1 000; twice that before refusing.
MAX_BLOBS = 2000
# PBKDF2 iterations the server accepts for the passphrase key: OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is
# 600 000; the tablet uses exactly that. The ceiling keeps a key record from making other devices spin for minutes.
MIN_ITERATIONS = 600_000
MAX_ITERATIONS = 10_000_000

B64 = r"^[A-Za-z0-9+/]*={0,2}$"
Iv = Annotated[str, msgspec.Meta(min_length=16, max_length=16, pattern=B64, description="base64 of 12 bytes")]
Salt = Annotated[str, msgspec.Meta(min_length=24, max_length=24, pattern=B64, description="base64 of 16 bytes")]
Check = Annotated[str, msgspec.Meta(min_length=8, max_length=200, pattern=B64)]


class NotesKey(msgspec.Struct, frozen=True, kw_only=True):
    """What a device needs to derive the delegate's notes key from the passphrase, and to know it typed it right:
    `check` is the AES-GCM encryption of the text "kyhop-notes-v1" under the key (nonce `check_iv`)."""

    salt: Salt
    iterations: Annotated[int, msgspec.Meta(ge=MIN_ITERATIONS, le=MAX_ITERATIONS)]
    check_iv: Iv
    check: Check


class NotesKeyOut(msgspec.Struct, frozen=True, kw_only=True):
    key: NotesKey | None  # None: no passphrase chosen yet (the first device creates the record)


class NotesKeyIn(NotesKey, frozen=True, kw_only=True):
    # True: a new passphrase (the old one forgotten) — every blob under the old key is deleted with it.
    replace: bool = False


class NoteBlobIn(msgspec.Struct, frozen=True, kw_only=True):
    iv: Iv
    ciphertext: Annotated[str, msgspec.Meta(min_length=24, pattern=B64)]
    # The revision this write replaces (0: there is none yet); a stale one is refused 409 `notes_conflict`.
    revision: Annotated[int, msgspec.Meta(ge=0)]


class NoteBlob(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    revision: int
    iv: str
    ciphertext: str
    updated_at: str


class NoteMeta(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    revision: int
    size: int
    updated_at: str


def _err(status: int, code: str, vi: str, en: str, detail: str | None = None) -> ApiError:
    return ApiError(status, code, vi, en, detail)


def conflict(revision: int) -> ApiError:
    return _err(
        409,
        "notes_conflict",
        "Ghi chú đã được lưu từ thiết bị khác; tải lại rồi lưu lần nữa.",
        "The notes were saved from another device; fetch them and save again.",
        detail=str(revision),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _b64_bytes(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise _err(422, "notes_invalid", f"{what} không phải base64 hợp lệ.", f"{what} is not valid base64.") from e


def _owner(principal: Principal) -> str:
    """Notes belong to delegates and respondents; the secretariat and the chair's desk have none (403)."""
    require_roles(principal, Role.DELEGATE, Role.RESPONDENT)
    return principal.account_id


async def _document(services: Services, principal: Principal, session_id: str, document_id: str) -> None:
    """404 unless the session exists and has that document; 403 for another council's account."""
    state, _ = await services.engine.state("session", session_id)
    if state is None:
        raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id).refusal)
    assert isinstance(state, sess.SessionState)
    require_council(principal, state.hall.council_id)
    if document_id not in state.documents.documents:
        raise from_refusal(DomainError(Code.UNKNOWN_DOCUMENT, id=document_id).refusal)


def _lock_key(chain: str) -> int:
    return int.from_bytes(hashlib.sha256(chain.encode()).digest()[:8], "big") >> 1


async def _audit(services: Services, conn: AsyncConnection, principal: Principal, command: str, detail: Any) -> None:
    """Append to the account's chain `notes:<account>` in the caller's transaction (server/audit.py)."""
    chain = f"notes:{principal.account_id}"
    if not services.db.is_sqlite:  # SQLite has one writer at a time; PostgreSQL serialises the chain here
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(chain)})
    a = db.audit.c
    head = (await conn.execute(sa.select(a.n, a.hash).where(a.chain == chain).order_by(a.n.desc()).limit(1))).first()
    n, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    row: dict[str, Any] = {
        "chain": chain,
        "n": n,
        "at": _now(),
        "actor": f"{principal.account_id} {','.join(sorted(principal.actor.roles))}",
        "command": command,
        "detail": msgspec.json.encode(detail).decode(),
        "outcome": "accepted",
        "prev_hash": prev,
    }
    row["hash"] = chain_hash(prev, row)
    await conn.execute(sa.insert(db.audit).values(**row))


K, N = db.note_keys.c, db.notes.c


class NotesKeyController(Controller):
    path = "/api/notes/key"
    tags = ["notes"]
    request_max_body_size = 4 * 1024
    exception_handlers = BODY_ERROR_HANDLERS
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @get(
        "/",
        summary="The caller's notes key record (salt, iterations, check blob); `key` is null until one is chosen",
        responses=errors(401, 403, 503),
    )
    async def get_key(self, services: NamedDependency[Services], principal: NamedDependency[Principal]) -> NotesKeyOut:
        owner = _owner(principal)
        async with services.db.engine.connect() as conn:
            body = (await conn.execute(sa.select(K.body).where(K.account_id == owner))).scalar()
        return NotesKeyOut(key=None if body is None else msgspec.json.decode(body, type=NotesKey))

    @put(
        "/",
        summary="Set the caller's notes key record (a new passphrase); `replace` deletes every blob of the old one",
        status_code=200,
        responses=errors(400, 401, 403, 409, 413, 422, 503),
    )
    async def put_key(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], data: JSONBody[NotesKeyIn]
    ) -> NotesKey:
        owner = _owner(principal)
        _b64_bytes(data.salt, "salt")
        _b64_bytes(data.check_iv, "check_iv")
        _b64_bytes(data.check, "check")
        key = NotesKey(salt=data.salt, iterations=data.iterations, check_iv=data.check_iv, check=data.check)
        async with services.db.tx() as conn:
            exists = (await conn.execute(sa.select(K.account_id).where(K.account_id == owner))).first()
            if exists and not data.replace:
                raise _err(
                    409,
                    "notes_key_exists",
                    "Đã có cụm mật khẩu ghi chú; nhập cụm đó, hoặc chọn đặt lại (ghi chú cũ trên máy chủ sẽ bị xóa).",
                    "A notes passphrase exists; enter it, or replace it (the old notes on the server are deleted).",
                )
            dropped = 0
            if exists:
                dropped = (await conn.execute(sa.delete(db.notes).where(N.account_id == owner))).rowcount or 0
                await conn.execute(sa.delete(db.note_keys).where(K.account_id == owner))
            body = msgspec.json.encode(key).decode()
            await conn.execute(sa.insert(db.note_keys).values(account_id=owner, body=body, updated_at=_now()))
            await _audit(
                services, conn, principal, "notes_key_set", {"replace": bool(exists), "dropped_blobs": dropped}
            )
        return key


class NotesController(Controller):
    path = "/api/sessions/{session_id:str}/notes"
    tags = ["notes"]
    request_max_body_size = MAX_BODY
    exception_handlers = BODY_ERROR_HANDLERS
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @get(
        "/",
        summary="Which documents of the session the caller keeps notes on (revision, size, time; no content)",
        responses=errors(400, 401, 403, 404, 503),
    )
    async def list_notes(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> list[NoteMeta]:
        owner = _owner(principal)
        state, _ = await services.engine.state("session", session_id)
        if state is None:
            raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id).refusal)
        assert isinstance(state, sess.SessionState)
        require_council(principal, state.hall.council_id)
        q = sa.select(N.document_id, N.revision, sa.func.length(N.ciphertext), N.updated_at).where(
            N.account_id == owner, N.session_id == session_id
        )
        async with services.db.engine.connect() as conn:
            rows = (await conn.execute(q.order_by(N.document_id))).all()
        return [NoteMeta(document_id=r[0], revision=r[1], size=r[2], updated_at=r[3]) for r in rows]

    @get(
        "/{document_id:str}",
        summary="The caller's encrypted notes on one document; 404 when there are none",
        responses=errors(400, 401, 403, 404, 503),
    )
    async def get_notes(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        document_id: FromPath[str],
    ) -> NoteBlob:
        owner = _owner(principal)
        await _document(services, principal, session_id, document_id)
        q = sa.select(N.revision, N.iv, N.ciphertext, N.updated_at).where(
            N.account_id == owner, N.session_id == session_id, N.document_id == document_id
        )
        async with services.db.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        if row is None:
            raise protocol_error(404, "not_found", "no notes on this document")
        return NoteBlob(document_id=document_id, revision=row[0], iv=row[1], ciphertext=row[2], updated_at=row[3])

    @put(
        "/{document_id:str}",
        summary="Store the caller's encrypted notes on one document (replacing `revision`)",
        description="The body is AES-GCM ciphertext made on the tablet; the server cannot read it. 409 "
        "`notes_conflict` (detail: the current revision) when another device saved since; 413 `notes_too_large` "
        f"past {MAX_CIPHERTEXT} characters of base64 or {MAX_BLOBS} documents with notes.",
        status_code=200,
        responses=errors(400, 401, 403, 404, 409, 413, 422, 503),
    )
    async def put_notes(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        document_id: FromPath[str],
        data: JSONBody[NoteBlobIn],
    ) -> NoteBlob:
        owner = _owner(principal)
        if len(data.ciphertext) > MAX_CIPHERTEXT:
            raise _err(
                413,
                "notes_too_large",
                f"Ghi chú của một tài liệu quá lớn (tối đa {MAX_CIPHERTEXT} ký tự đã mã hóa).",
                f"The notes on one document are too large (at most {MAX_CIPHERTEXT} encrypted characters).",
            )
        if len(_b64_bytes(data.iv, "iv")) != 12:
            raise _err(422, "notes_invalid", "iv phải dài 12 byte.", "iv must be 12 bytes.")
        raw = _b64_bytes(data.ciphertext, "ciphertext")
        await _document(services, principal, session_id, document_id)
        where = (N.account_id == owner, N.session_id == session_id, N.document_id == document_id)
        at = _now()
        async with services.db.tx() as conn:
            if not services.db.is_sqlite:  # two devices saving at once: one waits, the other then sees a conflict
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(f"notes:{owner}")})
            current = (await conn.execute(sa.select(N.revision).where(*where))).scalar()
            if (current or 0) != data.revision:
                raise conflict(current or 0)
            if current is None:
                count = (await conn.execute(sa.select(sa.func.count()).where(N.account_id == owner))).scalar() or 0
                if count >= MAX_BLOBS:
                    raise _err(
                        413,
                        "notes_too_large",
                        f"Đã có ghi chú trên {MAX_BLOBS} tài liệu: xóa bớt trước khi thêm.",
                        f"Notes are kept on {MAX_BLOBS} documents already: delete some first.",
                    )
            revision = data.revision + 1
            await conn.execute(sa.delete(db.notes).where(*where))
            await conn.execute(
                sa.insert(db.notes).values(
                    account_id=owner,
                    session_id=session_id,
                    document_id=document_id,
                    revision=revision,
                    iv=data.iv,
                    ciphertext=data.ciphertext,
                    updated_at=at,
                )
            )
            detail = {"session": session_id, "document": document_id, "revision": revision, "size": len(raw)}
            await _audit(services, conn, principal, "notes_put", {**detail, "sha256": hashlib.sha256(raw).hexdigest()})
        return NoteBlob(
            document_id=document_id, revision=revision, iv=data.iv, ciphertext=data.ciphertext, updated_at=at
        )

    @delete(
        "/{document_id:str}",
        summary="Delete the caller's notes on one document (from the server; the tablet keeps its own copy)",
        status_code=204,
        responses=errors(400, 401, 403, 404, 503),
    )
    async def delete_notes(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        document_id: FromPath[str],
    ) -> None:
        owner = _owner(principal)
        await _document(services, principal, session_id, document_id)
        where = (N.account_id == owner, N.session_id == session_id, N.document_id == document_id)
        async with services.db.tx() as conn:
            gone = (await conn.execute(sa.delete(db.notes).where(*where))).rowcount or 0
            if not gone:
                raise protocol_error(404, "not_found", "no notes on this document")
            await _audit(services, conn, principal, "notes_delete", {"session": session_id, "document": document_id})


ROUTES: list[ControllerRouterHandler] = [NotesKeyController, NotesController]
