"""The server side of the record: the secretariat's inputs (stored and audited), what a closed session's record
is made from (read from the database), and the built documents (cached per state of the session).

Why a table and not commands through the engine. The inputs are editorial text — "Căn cứ" lines, recipients, the
articles of a draft resolution (up to 200 articles of 20 000 characters) — not decisions of the meeting: they are
finalised after the vote and after the session closes, when the session's log accepts nothing ("nothing changes
a closed session"); as events they would be replayed into every tablet's state and fanned out to every screen.
So they live in `record_inputs` (migration 0002) and every edit appends, in the same transaction, a row to the
audit chain `record:<stream>` — the same hash chain as the engine's (server/audit.py), checked by `kyhop audit
verify`, carried whole in the archive, where `kyhop archive verify` checks the inputs against their last edits.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from meeting import council as cn
from meeting import session as sess
from meeting.actors import Audience
from meeting.errors import Code, DomainError
from meeting.hall import SessionStatus
from record.archive import Bundle, Sources
from record.inputs import CouncilSettings, DraftText, SessionSettings, StoredInputs
from record.signing import PdfSigner
from server import db
from server.audit import GENESIS, chain_hash
from server.config import Settings
from server.engine import SESSION, Principalish
from server.errors import ApiError, from_refusal
from server.services import Services

# Built records kept per worker: a session's whole record is ~0.3–3 MB (the demo's archive 0.25 MB); eight sessions
# cover the secretariat's and the public's downloads after a day of sessions without holding many megabytes.
MAX_BUNDLES = 8
_audience = msgspec.json.Decoder(Audience)


def session_open(session_id: str) -> ApiError:
    return ApiError(
        409,
        "session_open",
        f"Kỳ họp {session_id} chưa bế mạc: hồ sơ kỳ họp chỉ lập sau khi bế mạc.",
        f"Session {session_id} has not closed: its record is made after it closes.",
    )


def unknown_resolution(session_id: str, ref: str) -> ApiError:
    return ApiError(
        404,
        "unknown_resolution",
        f"Kỳ họp {session_id} không có nghị quyết số {ref}.",
        f"Session {session_id} has no resolution {ref}.",
    )


def load_signer(settings: Settings) -> PdfSigner | None:
    """The chair's signing key when configured (both KYHOP_SIGNING_KEY and KYHOP_SIGNING_CERT), else None."""
    if settings.signing_key is None or settings.signing_cert is None:
        return None
    return PdfSigner.load(
        settings.signing_key, settings.signing_cert, settings.signing_chain, settings.signing_passphrase
    )


def _lock_key(chain: str) -> int:
    """A PostgreSQL advisory lock key per audit chain (63 bits of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(chain.encode()).digest()[:8], "big") >> 1


def _dt(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class RecordService:
    def __init__(self, services: Services, signer: PdfSigner | None = None) -> None:
        self.services = services
        self.signer = signer
        self._bundles: OrderedDict[tuple[Any, ...], Bundle] = OrderedDict()
        self._lock = asyncio.Lock()

    # --- reading the streams ----------------------------------------------------------------------------------
    async def session(self, session_id: str) -> tuple[sess.SessionState, int]:
        state, seq = await self.services.engine.state("session", session_id)
        if state is None:
            raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id).refusal)
        assert isinstance(state, sess.SessionState)
        return state, seq

    async def council(self, council_id: str) -> tuple[cn.CouncilState, int]:
        state, seq = await self.services.engine.state("council", council_id)
        if state is None:
            raise from_refusal(DomainError(Code.UNKNOWN_COUNCIL, id=council_id).refusal)
        assert isinstance(state, cn.CouncilState)
        return state, seq

    # --- the secretariat's inputs -------------------------------------------------------------------------------
    async def stored(self, council_id: str, session_id: str) -> StoredInputs:
        t = db.record_inputs.c
        async with self.services.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.stream_id, t.key, t.body).where(
                        t.stream_id.in_([f"council:{council_id}", f"session:{session_id}"])
                    )
                )
            ).all()
            await conn.rollback()
        council: CouncilSettings | None = None
        session = SessionSettings()
        drafts: dict[str, DraftText] = {}
        for stream_id, key, body in rows:
            if stream_id.startswith("council:"):
                council = msgspec.json.decode(body, type=CouncilSettings)
            elif key == "settings":
                session = msgspec.json.decode(body, type=SessionSettings)
            else:
                drafts[key.removeprefix("draft:")] = msgspec.json.decode(body, type=DraftText)
        return StoredInputs(council=council, session=session, drafts=dict(sorted(drafts.items())))

    async def put(self, principal: Principalish, stream_id: str, key: str, value: msgspec.Struct, command: str) -> None:
        """Store one input and audit the edit in the same transaction (chain `record:<stream_id>`)."""
        database = self.services.db
        chain = f"record:{stream_id}"
        body = msgspec.json.encode(value).decode()
        a, t = db.audit.c, db.record_inputs.c
        async with database.tx() as conn:
            if not database.is_sqlite:  # SQLite has one writer at a time; PostgreSQL serialises the chain here
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(chain)})
            head = (
                await conn.execute(sa.select(a.n, a.hash).where(a.chain == chain).order_by(a.n.desc()).limit(1))
            ).first()
            n, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
            row: dict[str, Any] = {
                "chain": chain,
                "n": n,
                "at": datetime.now(UTC).isoformat(),
                "actor": f"{principal.account_id} {','.join(sorted(principal.actor.roles))}",
                "command": command,
                "detail": msgspec.json.encode({"key": key, "value": value}).decode(),
                "outcome": "accepted",
                "prev_hash": prev,
            }
            row["hash"] = chain_hash(prev, row)
            await conn.execute(sa.delete(db.record_inputs).where(t.stream_id == stream_id, t.key == key))
            await conn.execute(sa.insert(db.record_inputs).values(stream_id=stream_id, key=key, body=body))
            await conn.execute(sa.insert(db.audit).values(**row))

    async def put_all(self, principal: Principalish, council_id: str, session_id: str, stored: StoredInputs) -> None:
        if stored.council is not None:
            await self.put(principal, f"council:{council_id}", "settings", stored.council, "set_record_settings")
        await self.put(principal, f"session:{session_id}", "settings", stored.session, "set_record_settings")
        for item_id, draft in stored.drafts.items():
            await self.put(principal, f"session:{session_id}", f"draft:{item_id}", draft, "set_draft_resolution")

    # --- the record of a closed session -------------------------------------------------------------------------
    async def bundle(self, session_id: str) -> Bundle:
        """The session's record as of now: 404 unknown session, 409 still open, 422 inputs missing."""
        state, seq = await self.session(session_id)
        if state.hall.status is not SessionStatus.CLOSED:
            raise session_open(session_id)
        council_id = state.hall.council_id
        _, council_seq = await self.council(council_id)
        chains = (f"record:council:{council_id}", f"record:session:{session_id}")
        async with self.services.db.engine.connect() as conn:
            heads = (
                await conn.execute(
                    sa.select(db.audit.c.chain, sa.func.max(db.audit.c.n))
                    .where(db.audit.c.chain.in_(chains))
                    .group_by(db.audit.c.chain)
                )
            ).all()
            await conn.rollback()
        # Everything the record depends on: the session's log, the council's (its resolutions), the inputs' edits.
        key = (session_id, seq, council_seq, tuple(sorted((c, int(n)) for c, n in heads)))
        async with self._lock:
            found = self._bundles.get(key)
            if found is not None:
                self._bundles.move_to_end(key)
                return found
            src = await self._sources(state, seq)
            built = await anyio.to_thread.run_sync(lambda: Bundle(src, self.signer))
            self._bundles[key] = built
            while len(self._bundles) > MAX_BUNDLES:
                self._bundles.popitem(last=False)
            return built

    async def part(self, bundle: Bundle, name: str) -> bytes:
        """Typeset in a worker thread: a PDF takes 50–700 ms of CPU, which must not stall the event loop."""
        return await anyio.to_thread.run_sync(bundle.part, name)

    async def archive(self, bundle: Bundle) -> bytes:
        return await anyio.to_thread.run_sync(bundle.archive)

    async def _sources(self, state: sess.SessionState, seq: int) -> Sources:
        session_id, council_id = state.hall.session_id, state.hall.council_id
        council, _ = await self.council(council_id)
        stored = await self.stored(council_id, session_id)
        e = db.events.c
        async with self.services.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(e.seq, e.audience, e.payload)
                .where(e.stream_id == f"session:{session_id}", e.seq <= seq)
                .order_by(e.seq)
            )
            log = [(s, _audience.decode(aud), SESSION.event_decoder.decode(p)) for s, aud, p in rows]
            audit = await self._audit_rows(conn, state, log)
            await conn.rollback()
        stored = _frozen_council(stored, audit, f"record:council:{council_id}")
        return Sources(
            council_id=council_id,
            session_id=session_id,
            log=log,
            resolutions=list(council.resolutions.values()),
            audit=audit,
            documents=_documents(state),
            stored=stored,
        )

    async def _audit_rows(
        self, conn: AsyncConnection, state: sess.SessionState, log: list[tuple[int, Audience, Any]]
    ) -> list[dict[str, Any]]:
        """The chains the archive carries, each from its row 1:
        - `session:<id>` up to its last accepted command (the close): later rows can only be refusals, since a
          closed session accepts nothing, and leaving them out keeps the record the same however often a client
          knocks on a closed session;
        - `council:<id>` up to the later of its last row before the session closed and the last resolution of this
          session numbered after it: the council's history the session's resolutions rest on;
        - `record:council:<id>` up to its last edit before the session closed (or its first edit, when the
          council had none yet): the council's settings (its name, the chair who signs) are frozen at the close,
          so that a later change of chair does not re-sign an old session's resolutions when they are rebuilt;
        - `record:session:<id>`: every edit of the session's inputs so far."""
        session_id, council_id = state.hall.session_id, state.hall.council_id
        closed = next((_dt(ev.at) for _, _, ev in reversed(log) if isinstance(ev, sess.SessionClosed)), None)
        a = db.audit.c
        chains = [f"session:{session_id}", f"council:{council_id}", f"record:council:{council_id}"]
        chains.append(f"record:session:{session_id}")
        result = await conn.execute(sa.select(db.audit).where(a.chain.in_(chains)).order_by(a.chain, a.n))
        by_chain: dict[str, list[dict[str, Any]]] = {c: [] for c in chains}
        for m in result.mappings():
            by_chain[m["chain"]].append(dict(m))
        own = by_chain[chains[0]]
        last = max((i for i, r in enumerate(own) if r["outcome"].startswith("accepted")), default=-1)
        by_chain[chains[0]] = own[: last + 1]
        rows = by_chain[chains[1]]
        end = -1
        for i, r in enumerate(rows):
            if closed is not None and _dt(r["at"]) <= closed:
                end = i
            elif r["command"] == "number_resolution" and r["outcome"].startswith("accepted"):
                detail = msgspec.json.decode(r["detail"])
                if isinstance(detail, dict) and detail.get("session_id") == session_id:
                    end = i
        by_chain[chains[1]] = rows[: end + 1]
        edits = by_chain[chains[2]]
        upto = max((i for i, r in enumerate(edits) if closed is not None and _dt(r["at"]) <= closed), default=0)
        by_chain[chains[2]] = edits[: upto + 1]
        return [r for c in chains for r in by_chain[c]]


def _frozen_council(stored: StoredInputs, audit: list[dict[str, Any]], chain: str) -> StoredInputs:
    """The council's settings as the last carried edit of its record chain says (see `_audit_rows`): what
    `kyhop archive verify` checks the archive's inputs against."""
    for r in reversed(audit):
        if r["chain"] == chain and r["outcome"] == "accepted":
            detail = msgspec.json.decode(r["detail"])
            if detail.get("key") == "settings":
                return msgspec.structs.replace(stored, council=msgspec.convert(detail["value"], CouncilSettings))
    return stored


def _documents(state: sess.SessionState) -> list[dict[str, Any]]:
    """Every document version with its SHA-256 — hashes, not bytes: the files stay in the object store under keys
    that name their SHA-256 (server/document_service.py), a session's documents run to hundreds of megabytes
    (uploads up to 200 MB each) that a per-worker cache of archives cannot hold, and a restricted document's
    content must not leave the store at all. Anyone holding a copy can check it against these hashes. A state
    secret (mật) has no file in the system, only its title."""
    out = []
    for doc_id in state.documents.order:
        d = state.documents.documents[doc_id]
        out.append(
            {
                "id": d.id,
                "item_id": d.item_id,
                "kind": d.kind.value,
                "title": d.title,
                "access": d.access.value,
                "withdrawn": d.withdrawn,
                "versions": [
                    {
                        "version": v.version,
                        "size": v.size,
                        "sha256": v.sha256,
                        "pages": v.pages,
                        "published_at": v.published_at,
                    }
                    for v in d.versions
                ],
            }
        )
    return out
