"""The command pipeline: decide in the domain, commit to the database, then acknowledge and fan out.

Each stream (a council or a session) has a runtime in every worker that touches it: the current state, the
newest sequence number, a cache of encoded events for resume, and a queue of pending commands. Commands are
taken in batches ("group commit"): one transaction per batch locks the stream row, catches up with anything
another worker wrote, decides every command against the state in order, writes events, ballots, tallies,
audit rows and replies, and commits. Only then are the commands acknowledged and the events published. A
batch that fails to commit acknowledges nothing; the runtime reloads from the database and the clients retry.

Why batches: one PostgreSQL commit costs ~1–2 ms here, so one transaction per ballot caps a session near
1000 ballots/s; a batch of up to 256 commands shares one commit. Why a lock on the stream row: it makes the
database, not a worker's memory, the arbiter between workers — sequence numbers are taken under the lock, and
the `voters` primary key refuses a second ballot even if a worker's state were stale.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol, Union

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from meeting import council, petitions, petitions_messages, polls, secrecy, session, verifiable, verifiable_polls, votes
from meeting.actors import Actor, Audience, Context, Role
from meeting.errors import Code, DomainError, Refusal
from meeting.messages import Command, Event, Routed
from meeting.petitions_model import AWAITING, RUNNING, PetitionsState, overdue_unreported, reminders_unsent
from meeting.protocol import EventMessage, Snapshot
from meeting.resolutions import COUNCIL_TZ
from meeting.rules import BallotMode
from meeting.views import View, viewer_key
from server import db, petitions_index
from server.audit import GENESIS, ORPHANS, ORPHANS_LOCK, chain_hash
from server.database import Database
from server.sealing import Sealer
from server.verifier import ServerCrypto

log = logging.getLogger("kyhop.engine")
_shuffle = secrets.SystemRandom().shuffle

MAX_BATCH = 256
# Events kept in memory per stream for resume without a database read: a 125-delegate session with 40 votes
# writes ~15 000 events; 20 000 keeps a whole session (~6 MB at ~300 B each).
CACHE_EVENTS = 20_000


class Aggregate(Protocol):
    def decide(self, state: Any, cmd: Command, ctx: Context) -> list[Routed]: ...
    def apply(self, state: Any, event: Event) -> Any: ...


@dataclass(frozen=True)
class Kind:
    name: str
    decide: Callable[[Any, Command, Context], list[Routed]]
    apply: Callable[[Any, Event], Any]
    creates: tuple[type[Command], ...]  # the commands that may start a new stream
    event_decoder: msgspec.json.Decoder[Any]
    council_of: Callable[[Any], str]
    title_of: Callable[[Any], str]


SESSION = Kind(
    name="session",
    decide=session.decide,
    apply=session.apply,
    creates=(session.PrepareSession,),
    event_decoder=msgspec.json.Decoder(Union[session.ALL_EVENTS]),  # noqa: UP007
    council_of=lambda s: s.hall.council_id,
    title_of=lambda s: s.title,
)
COUNCIL = Kind(
    name="council",
    decide=council.decide,
    apply=council.apply,
    creates=(council.CreateCouncil,),
    event_decoder=msgspec.json.Decoder(Union[council.EVENTS]),  # noqa: UP007
    council_of=lambda s: s.id,
    title_of=lambda s: s.name,
)
PETITIONS = Kind(  # one stream per council and term: petitions:<council_id>:<term_id> (meeting/petitions.py)
    name="petitions",
    decide=petitions.decide,
    apply=petitions.apply,
    creates=(petitions_messages.OpenPetitions,),
    event_decoder=msgspec.json.Decoder(Union[petitions_messages.EVENTS]),  # noqa: UP007
    council_of=lambda s: s.council_id,
    title_of=lambda s: f"Kiến nghị cử tri, nhiệm kỳ {s.term_id}",
)
KINDS = {"session": SESSION, "council": COUNCIL, "petitions": PETITIONS}


class _Timer:
    """The clock closing a round whose time is up, with the chair's authority (rules: "chair closes, or a
    timer does")."""

    account_id = "system:timer"
    actor = Actor(roles=frozenset({Role.CHAIR}))


TIMER = _Timer()


class _Progress:
    """The clock announcing how many ballots a round or poll has so far, with the chair's authority. Its own
    account, so the audit log tells a count announcement from a round closed by its timer."""

    account_id = "system:progress"
    actor = Actor(roles=frozenset({Role.CHAIR}))


PROGRESS = _Progress()
# While ballots arrive, a round's count is announced to every screen at most once per 250 ms: ≤ 4 messages a
# second per round to each tablet instead of one per ballot (125 tablets at 1000 ballots/s: ≤ 500 sends/s instead
# of 125 000), and the count on the wall is never more than a quarter of a second old.
PROGRESS_SECONDS = 0.25
# A petitions register's clock sleeps until the next deadline passes, but wakes at least hourly to look again:
# a monotonic timer armed weeks ahead drifts from the wall clock the deadlines are written in. While items it
# reported are still being committed it looks again after a minute, not in a loop.
OVERDUE_RECHECK_SECONDS = 3600.0
OVERDUE_RETRY_SECONDS = 60.0
# command_results.client_id is 100 characters; a round id may be 100 on its own.
MAX_CLIENT_ID = 100


def system_client_id(kind: str, ident: str, *more: str) -> str:
    """The command id of a command the server sends itself (timers, counts): the same on every worker, so the
    first one commits it and the others get its stored reply; hashed when an id would not fit the column."""
    cid = ":".join((kind, ident, *more))
    if len(cid) <= MAX_CLIENT_ID:
        return cid
    return ":".join((kind, hashlib.sha256(ident.encode()).hexdigest()[:48], *more))


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    seqs: list[int] = []
    error: Refusal | None = None
    replayed: bool = False


class Principalish(Protocol):
    """What the engine needs to know about a caller (server.auth.Principal fits)."""

    @property
    def account_id(self) -> str: ...
    @property
    def actor(self) -> Actor: ...


@dataclass
class Pending:
    principal: Principalish
    client_id: str
    command: Command
    future: asyncio.Future[Reply]


class Cached(msgspec.Struct, frozen=True):
    seq: int
    audience: Audience
    event: Event
    wire: bytes  # the encoded EventMessage, sent as is to every socket that may see it
    text: str  # the same, decoded once: WebSocket text frames take str, and 1000 sockets share this one


class Unavailable(Exception):
    """The batch could not be committed (database down, conflict after retry). Nothing was acknowledged."""


class ValueRefused(Exception):
    """The database refused a value the batch tried to write: the same commands would fail again, and waiting
    does not help. Nothing of the batch was written."""


# SQLSTATE classes of errors caused by a value rather than by the database's condition: 22 data exception
# (22021: U+0000 in text, 22001: too long for the column), 54 program limit exceeded (a key too large to index).
_VALUE_SQLSTATES = ("22", "54")


def refused_value(e: BaseException) -> bool:
    """Whether a database error was caused by a value written, not by the database being away or busy."""
    cur: BaseException | None = e
    for _ in range(4):  # SQLAlchemy's error → the driver's (adapted) error → asyncpg's own
        if cur is None:
            return False
        state = getattr(cur, "sqlstate", None)
        if isinstance(state, str) and state[:2] in _VALUE_SQLSTATES:
            return True
        # The DBAPI's DataError, or a value the driver could not encode before sending it (asyncpg's client-side
        # DataError and UnicodeEncodeError are both ValueErrors).
        if isinstance(cur, (sa.exc.DataError, ValueError)):
            return True
        orig = getattr(cur, "orig", None)
        cur = orig if isinstance(orig, BaseException) else cur.__cause__
    return False


REFUSED_BY_DATABASE = Refusal(
    code=Code.INVALID,
    message_vi="Dữ liệu không hợp lệ: cơ sở dữ liệu không nhận một giá trị trong lệnh này; lệnh không được thực hiện.",
    message_en="Invalid input: the database does not accept a value in this command; it was not carried out.",
)
REFUSED_OUTCOME = f"refused {Code.INVALID.value} (database)"
# Culprits remembered per stream (their retries are answered from memory): a client retrying a refused command
# gets the same answer; past this many, the oldest is forgotten and would cost one more split if retried.
MAX_REFUSED_VALUES = 1000


_audience_encoder = msgspec.json.Encoder()
_audience_decoder = msgspec.json.Decoder(Audience)
_reply_decoder = msgspec.json.Decoder(Reply)


class FanoutHeader(msgspec.Struct, frozen=True, array_like=True):
    seq: int
    roles: list[str]
    delegate_id: str | None
    members: list[str] = []


def channel_of(stream_id: str) -> str:
    return f"kyhop:{stream_id}"


def encode_fanout(c: Cached) -> bytes:
    a = c.audience
    header = msgspec.json.encode(FanoutHeader(c.seq, sorted(a.roles), a.delegate_id, sorted(a.members)))
    return header + b"\n" + c.wire


def _redact(cmd: Command) -> dict[str, Any]:
    """The command as the audit log keeps it: never a ballot's content (secret rounds must not be linkable
    through the audit log; for named rounds the choice is already in the event log)."""
    d: dict[str, Any] = msgspec.to_builtins(cmd)
    for k in secrecy.CHOICE_FIELDS:
        if k in d:
            d[k] = "<redacted>"
    return d


@dataclass
class Runtime:
    engine: Engine
    stream_id: str
    kind: Kind
    state: Any = None
    seq: int = 0
    loaded: bool = False
    cache: list[Cached] = field(default_factory=list)
    audit_n: int = 0
    audit_hash: str = GENESIS
    pending: list[Pending] = field(default_factory=list)
    flusher: asyncio.Task[None] | None = None
    prechecks: set[asyncio.Task[None]] = field(default_factory=set)  # encrypted ballots being checked (`submit`)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Reads of the database that make memory current, numbered as they start (under `lock`): refreshes and
    # commits. `fresh_read` is the newest that completed (see `refresh`).
    reads_started: int = 0
    fresh_read: int = 0
    views: dict[Any, View] = field(default_factory=dict)
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    # (account id, command id) → the answer to a command the database refused for one of its values (`_settle`).
    refused_values: dict[tuple[str, str], Reply] = field(default_factory=dict)
    backfill: asyncio.Task[None] | None = None  # a petitions register's search rows being rewritten (`_backfill`)

    # --- reading -------------------------------------------------------------------------------------------
    async def _load(self, conn: AsyncConnection) -> None:
        """Rebuild from the database: the ordered log, then the sealed tallies of rounds still open."""
        self.state, self.seq, self.cache = None, 0, []
        rows = await conn.execute(
            sa.select(db.events.c.seq, db.events.c.audience, db.events.c.payload)
            .where(db.events.c.stream_id == self.stream_id)
            .order_by(db.events.c.seq)
        )
        for seq, aud, payload in rows:
            self._apply_stored(seq, aud, payload)
        await self._load_sealed(conn)
        head = (
            await conn.execute(
                sa.select(db.audit.c.n, db.audit.c.hash)
                .where(db.audit.c.chain == self.stream_id)
                .order_by(db.audit.c.n.desc())
                .limit(1)
            )
        ).first()
        self.audit_n, self.audit_hash = (head[0], head[1]) if head else (0, GENESIS)
        self.loaded = True
        self._arm_timers()
        self._arm_unreported()
        if isinstance(self.state, PetitionsState) and self.backfill is None:
            indexed = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(db.petition_items)
                    .where(db.petition_items.c.stream_id == self.stream_id)
                )
            ).scalar()
            if indexed != len(self.state.items):
                # Items recorded before migration 0004 (or rows lost): rewrite them all, as a writer would.
                self.backfill = asyncio.get_running_loop().create_task(self._backfill())

    async def _backfill(self) -> None:
        """Rewrite every search row of this register from the log, under the stream's row lock like a commit, so
        no batch of another worker interleaves; 50 000 items (the register's limit) is one insert of ~10 MB."""
        try:
            async with self.lock, self.engine.db.tx() as conn:
                last = (
                    await conn.execute(
                        sa.select(db.streams.c.last_seq).where(db.streams.c.id == self.stream_id).with_for_update()
                    )
                ).scalar()
                if last is not None and last != self.seq:
                    await self._catch_up(conn, int(last))
                state = self.state
                assert isinstance(state, PetitionsState)
                await conn.execute(db.petition_items.delete().where(db.petition_items.c.stream_id == self.stream_id))
                if state.items:
                    rows = [petitions_index.row(self.stream_id, i) for i in state.items.values()]
                    await conn.execute(db.petition_items.insert(), rows)
            log.info("petitions search rows of %s rewritten: %d items", self.stream_id, len(state.items))
        except Exception:  # the register works without them (lists are short); the next load tries again
            log.exception("rewriting the petitions search rows of %s failed", self.stream_id)
            self.backfill = None

    def _apply_stored(self, seq: int, aud: str, payload: str) -> None:
        event = self.kind.event_decoder.decode(payload)
        self.state = self.kind.apply(self.state, event)
        self.seq = seq
        self._remember(seq, _audience_decoder.decode(aud), event)

    def _remember(self, seq: int, audience: Audience, event: Event) -> Cached:
        wire = msgspec.json.encode(EventMessage(seq=seq, event=event))
        c = Cached(seq, audience, event, wire, wire.decode())
        self.cache.append(c)
        if len(self.cache) > CACHE_EVENTS:
            del self.cache[: len(self.cache) - CACHE_EVENTS]
        return c

    async def _load_sealed(self, conn: AsyncConnection) -> None:
        if self.kind is not SESSION or self.state is None:
            return
        rows = await conn.execute(
            sa.select(db.tallies.c.round_id, db.tallies.c.sealed).where(db.tallies.c.stream_id == self.stream_id)
        )
        counts = {rk: self.engine.sealer.open(self.stream_id, rk, sealed) for rk, sealed in rows}
        secrecy.reset_sealed(self.state)
        for round_key, by_key in counts.items():
            for ev in secrecy.sealed_from_counts(round_key, by_key):
                self.state = self.kind.apply(self.state, ev)

    async def _catch_up(self, conn: AsyncConnection, last_seq: int) -> None:
        """Another worker wrote events after ours: apply them, then re-read the sealed tallies."""
        rows = await conn.execute(
            sa.select(db.events.c.seq, db.events.c.audience, db.events.c.payload)
            .where(db.events.c.stream_id == self.stream_id, db.events.c.seq > self.seq)
            .order_by(db.events.c.seq)
        )
        for seq, aud, payload in rows:
            if seq != self.seq + 1:
                raise Unavailable(f"gap in {self.stream_id}: {self.seq} then {seq}")
            self._apply_stored(seq, aud, payload)
        # More than `last_seq` is fine: outside a commit (a refresh) the two reads are separate statements, and
        # another worker may commit in between (seen with the public feed's stream on a second worker).
        if self.seq < last_seq:
            raise Unavailable(f"{self.stream_id}: expected {last_seq}, read up to {self.seq}")
        await self._load_sealed(conn)
        head = (
            await conn.execute(
                sa.select(db.audit.c.n, db.audit.c.hash)
                .where(db.audit.c.chain == self.stream_id)
                .order_by(db.audit.c.n.desc())
                .limit(1)
            )
        ).first()
        if head:
            self.audit_n, self.audit_hash = head[0], head[1]
        self._arm_timers()  # a round another worker opened with a duration: this worker may have to close it
        self._arm_unreported()  # ballots another worker took: it may have died before announcing them

    async def refresh(self) -> None:
        """Make the in-memory state current with the database (before a snapshot or a resume): on return, memory
        holds at least every event committed — by any worker — before this call.

        Single-flight. A reconnect storm calls this twice per tablet (hello, then backlog): 1000 tablets made
        2000 serialised `SELECT last_seq` round trips (T6: slowest resync 3.6 s). Instead, each database read
        that makes memory current gets a number when it starts (under `lock`, so reads never overlap), and a
        caller is satisfied by any read that *started after the caller arrived*: that read's statement saw every
        commit that preceded the call, which is all the caller may ask for. A read already running when the
        caller arrives may have missed such a commit, so it does not count; the caller waits for the next one.
        `lock` is FIFO: all the callers that arrive while one read runs share the one read after it, so N
        concurrent callers cost at most 2 queries. A commit of this worker counts as such a read: it re-reads
        `last_seq` under the row lock and catches up before it writes, so after it memory equals the database
        (the row lock keeps every other writer out until it committed). Only reads count, never "nothing was
        committed here since": other workers write to the same stream, and only the database knows."""
        arrived = self.reads_started
        async with self.lock:
            if self.loaded and self.fresh_read > arrived:
                return  # a read that started after this call completed meanwhile
            self.reads_started += 1
            read = self.reads_started
            async with self.engine.db.engine.connect() as conn:
                if not self.loaded:
                    await self._load(conn)
                else:
                    last = (
                        await conn.execute(sa.select(db.streams.c.last_seq).where(db.streams.c.id == self.stream_id))
                    ).scalar()
                    if last is not None and last > self.seq:
                        await self._catch_up(conn, last)
                await conn.rollback()
            self.fresh_read = read

    async def _current_view(self, actor: Actor) -> View:
        await self.refresh()
        key = viewer_key(actor)
        v = self.views.get(key)
        if v is None:
            v = self.views[key] = View(actor)
        if v.seq < self.seq:
            cached = self.events_after(v.seq)
            if cached is None:
                v = self.views[key] = View(actor)
                v.advance(await self._read_all())
            else:
                v.advance((c.seq, c.audience, c.event) for c in cached)
        return v

    async def view_for(self, actor: Actor) -> tuple[dict[str, Any], int]:
        """What `actor` may see, as of the newest event: kept per kind of viewer and advanced incrementally."""
        v = await self._current_view(actor)
        return v.snapshot(), v.seq

    async def view_state(self, actor: Actor) -> tuple[Any, int]:
        """What `actor` may see as the domain's own state (the shared per-viewer copy: read it, never change it)."""
        v = await self._current_view(actor)
        return v.state, v.seq

    async def snapshot_wire(self, actor: Actor) -> tuple[bytes, int]:
        """The encoded `snapshot` message for `actor`, encoded once per kind of viewer and sequence number: a
        reconnect storm of 1000 public screens costs one encoding, not 1000."""
        v = await self._current_view(actor)
        if v.wire is None or v.wire[1] != v.seq:
            v.wire = (msgspec.json.encode(Snapshot(seq=v.seq, state=v.snapshot())), v.seq)
        return v.wire

    async def _read_all(self) -> list[tuple[int, Audience, Event]]:
        async with self.engine.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(db.events.c.seq, db.events.c.audience, db.events.c.payload)
                .where(db.events.c.stream_id == self.stream_id, db.events.c.seq <= self.seq)
                .order_by(db.events.c.seq)
            )
            out = [(s, _audience_decoder.decode(a), self.kind.event_decoder.decode(p)) for s, a, p in rows]
            await conn.rollback()
            return out

    def events_after(self, after: int) -> list[Cached] | None:
        """Cached events with seq > after, or None when the cache no longer reaches back that far."""
        if after >= self.seq:
            return []
        if not self.cache or self.cache[0].seq > after + 1:
            return None
        start = after + 1 - self.cache[0].seq
        return self.cache[start:]

    # --- writing -------------------------------------------------------------------------------------------
    def submit(self, principal: Principalish, client_id: str, command: Command) -> asyncio.Future[Reply]:
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        pending = Pending(principal, client_id, command, fut)
        rnd = self._round_to_precheck(command)
        if rnd is None:
            self._enqueue(pending)
        else:
            task = asyncio.create_task(self._precheck(pending, rnd))
            self.prechecks.add(task)
            task.add_done_callback(self.prechecks.discard)
        return fut

    def _enqueue(self, pending: Pending) -> None:
        self.pending.append(pending)
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self._flush())

    def _round_to_precheck(self, command: Command) -> verifiable.RoundCrypto | None:
        """The round an encrypted ballot is for, when its proofs can be checked before the batch: ~1.5 ms of
        CPU per ballot (docs/PERFORMANCE.md), 0.4 s for a batch of 256 if done in `_commit`, which holds the
        stream's row lock and the event loop meanwhile."""
        state = self.state
        if not isinstance(state, session.SessionState):
            return None
        if isinstance(command, verifiable.CastEncryptedBallot):
            r = state.votes.rounds.get(command.round_id)
            if r is None or r.mode is not BallotMode.VERIFIABLE or r.status is not votes.RoundStatus.OPEN:
                return None
            return verifiable.round_crypto(state.hall, r)
        if isinstance(command, verifiable_polls.CastEncryptedPollBallot):  # ~19 ms for 10 officials
            poll = state.polls.polls.get(command.poll_id)
            if poll is None or poll.mode is not BallotMode.VERIFIABLE or poll.status is not polls.PollStatus.OPEN:
                return None
            return verifiable_polls.poll_crypto(state.hall, poll)
        return None

    async def _precheck(self, pending: Pending, rnd: verifiable.RoundCrypto) -> None:
        """Check the ballot's proofs in a worker thread (libsodium releases the GIL), then queue it. The check
        only warms `ServerCrypto`'s cache of verified ballots: the domain decides as before — the same ballot is
        then found verified, a bad one is checked again and refused in order, audited like any refusal."""
        command = pending.command
        assert isinstance(command, verifiable.CastEncryptedBallot | verifiable_polls.CastEncryptedPollBallot)
        try:
            await asyncio.to_thread(self.engine.crypto.precheck_ballot, rnd, command.ballot)
        finally:
            self._enqueue(pending)

    async def _flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            await self._settle(batch)

    async def _settle(self, batch: list[Pending]) -> None:
        """Commit `batch` and answer each of its commands.

        A batch the database refuses because of a value in one command (PostgreSQL refuses U+0000 in text, a
        value too long for its column) is split in halves, each committed or split again, until the culprit is
        alone: the others commit and are acknowledged, the culprit is refused `invalid` and that answer is kept,
        so its retries are answered without reaching the database again. One culprit among 256 costs
        2 × log2(256) + 1 = 17 transactions instead of one; the normal path is unchanged (one per batch)."""
        known = self.refused_values
        if known:
            kept = []
            for p in batch:
                reply = known.get((p.principal.account_id, p.client_id))
                if reply is None:
                    kept.append(p)
                elif not p.future.done():
                    p.future.set_result(msgspec.structs.replace(reply, replayed=True))
            batch = kept
            if not batch:
                return
        published: list[Cached] = []
        culprit: ValueRefused | None = None
        async with self.lock:
            try:
                replies, published = await self._commit_with_retry(batch)
            except ValueRefused as e:
                replies, culprit = [], e
            except Exception as e:
                if isinstance(e, Unavailable):
                    log.warning("batch on %s not committed: %s", self.stream_id, e)
                else:
                    log.exception("batch on %s failed", self.stream_id)
                self.loaded = False  # memory may be ahead of the database: reload on next use
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(Unavailable(type(e).__name__))
                return
        if culprit is not None:
            if len(batch) > 1:
                half = len(batch) // 2
                await self._settle(batch[:half])
                await self._settle(batch[half:])
                return
            p = batch[0]
            log.warning("command %r on %s refused by the database: %s", p.client_id, self.stream_id, culprit)
            reply = Reply(ok=False, error=REFUSED_BY_DATABASE)
            if len(known) >= MAX_REFUSED_VALUES:
                del known[next(iter(known))]
            known[(p.principal.account_id, p.client_id)] = reply
            if not p.future.done():
                p.future.set_result(reply)
            await self._audit_refused_value(p)
            return
        for c in published:
            self.engine.publish(self.stream_id, c)
        for p, r in zip(batch, replies, strict=True):
            if not p.future.done():
                p.future.set_result(r)

    async def _commit_with_retry(self, batch: list[Pending]) -> tuple[list[Reply], list[Cached]]:
        # An integrity error means another worker got there first (a stream created twice, a ballot recorded
        # by another worker): reload and decide again once; the second pass sees the winner and refuses.
        for attempt in (1, 2):
            try:
                return await self._commit(batch)
            except IntegrityError as e:
                self.loaded = False
                if attempt == 2:
                    raise Unavailable("conflict") from e
            except (OperationalError, DBAPIError, OSError) as e:
                self.loaded = False
                if isinstance(e, DBAPIError) and not e.connection_invalidated and refused_value(e):
                    raise ValueRefused(str(e.orig)) from e
                raise Unavailable(type(e).__name__) from e
        raise AssertionError("unreachable")

    async def _commit(self, batch: list[Pending]) -> tuple[list[Reply], list[Cached]]:
        eng = self.engine
        self.reads_started += 1  # this commit reads the stream under its row lock: it counts for `refresh`
        read = self.reads_started
        async with eng.db.tx() as conn:
            if not self.loaded:
                await self._load(conn)
            last = (
                await conn.execute(
                    sa.select(db.streams.c.last_seq).where(db.streams.c.id == self.stream_id).with_for_update()
                )
            ).scalar()
            exists = last is not None
            if last is not None and last != self.seq:
                await self._catch_up(conn, int(last))

            # Replies already given to these (account, client id) pairs: a retry gets the first answer.
            keys = {(p.principal.account_id, p.client_id) for p in batch}
            stored: dict[tuple[str, str], Reply] = {}
            results = db.command_results.c
            for account_id, client_id, reply in await conn.execute(
                eng.db.select_by_keys(
                    (results.account_id, results.client_id), keys, (results.reply,), results.stream_id == self.stream_id
                )
            ):
                if (account_id, client_id) in keys:
                    stored[(account_id, client_id)] = _reply_decoder.decode(reply)

            state, seq = self.state, self.seq
            audit_n, audit_hash = self.audit_n, self.audit_hash
            replies: list[Reply] = []
            new_events: list[tuple[int, Routed]] = []
            event_rows: list[dict[str, Any]] = []
            voter_rows: list[dict[str, Any]] = []
            result_rows: list[dict[str, Any]] = []
            audit_rows: list[dict[str, Any]] = []
            opened: set[str] = set()
            increments: dict[str, dict[str, int]] = {}
            closed: set[str] = set()
            creating = False

            for p in batch:
                key = (p.principal.account_id, p.client_id)
                if key in stored:
                    replies.append(msgspec.structs.replace(stored[key], replayed=True))
                    continue
                now = datetime.now(UTC)
                ctx = Context(actor=p.principal.actor, now=now, nonce=secrets.token_urlsafe(18), crypto=eng.crypto)
                try:
                    if state is None and not (exists or creating) and not isinstance(p.command, self.kind.creates):
                        routed = self.kind.decide(None, p.command, ctx)  # the domain refuses: unknown stream
                    else:
                        routed = self.kind.decide(state, p.command, ctx)
                except DomainError as e:
                    reply = Reply(ok=False, error=e.refusal)
                    outcome = f"refused {e.code.value}"
                else:
                    if state is None:
                        creating = True
                    seqs: list[int] = []
                    for r in routed:
                        state = self.kind.apply(state, r.event)
                        if r.audience.sealed:
                            inc = secrecy.increments(r.event)
                            if inc is None:
                                raise AssertionError(f"sealed event without counters: {type(r.event).__name__}")
                            round_key, ks = inc
                            bucket = increments.setdefault(round_key, {})
                            for k in ks:
                                bucket[k] = bucket.get(k, 0) + 1
                            continue
                        seq += 1
                        seqs.append(seq)
                        new_events.append((seq, r))
                        event_rows.append(
                            {
                                "stream_id": self.stream_id,
                                "seq": seq,
                                "type": r.event.__struct_config__.tag,
                                "audience": _audience_encoder.encode(r.audience).decode(),
                                "payload": msgspec.json.encode(r.event).decode(),
                            }
                        )
                        marker = secrecy.ballot_marker(r.event)
                        if marker is not None:
                            voter_rows.append(
                                {"stream_id": self.stream_id, "round_id": marker[0], "delegate_id": marker[1]}
                            )
                        op = secrecy.counters_opened(r.event)
                        if op is not None:
                            opened.add(op)
                        cl = secrecy.counters_closed(r.event)
                        if cl is not None:
                            closed.add(cl)
                    reply = Reply(ok=True, seqs=seqs)
                    outcome = f"accepted {seqs[0]}..{seqs[-1]}" if seqs else "accepted"
                replies.append(reply)
                stored[key] = reply
                result_rows.append(
                    {
                        "account_id": key[0],
                        "client_id": key[1],
                        "stream_id": self.stream_id,
                        "reply": msgspec.json.encode(reply).decode(),
                    }
                )
                audit_n += 1
                row = self._audit_row(audit_n, audit_hash, p, now, outcome)
                audit_hash = row["hash"]
                audit_rows.append(row)

            if creating and state is not None:
                await conn.execute(
                    db.streams.insert().values(
                        id=self.stream_id,
                        kind=self.kind.name,
                        council_id=self.kind.council_of(state),
                        title=self.kind.title_of(state)[:500],
                        last_seq=seq,
                    )
                )
            elif seq != self.seq:
                await conn.execute(db.streams.update().where(db.streams.c.id == self.stream_id).values(last_seq=seq))
            await eng.db.insert_rows(conn, db.events, event_rows)
            if self.kind is PETITIONS and new_events:  # the search projection, in the events' transaction
                await petitions_index.write(
                    conn, self.stream_id, state, petitions_index.touched(r.event for _, r in new_events)
                )
            # In a random order: on PostgreSQL a batch's rows would otherwise sit in the heap in voting order.
            _shuffle(voter_rows)
            await eng.db.insert_rows(conn, db.voters, voter_rows)
            sealer = self.engine.sealer
            if opened:
                await conn.execute(
                    db.tallies.insert(),
                    [
                        {
                            "stream_id": self.stream_id,
                            "round_id": rk,
                            "sealed": sealer.seal(self.stream_id, rk, secrecy.current_counts(state, rk)),
                        }
                        for rk in opened
                    ],
                )
            for round_key in increments:
                if round_key in closed:
                    continue
                # One sealed row per round, re-sealed with a fresh nonce: its versions say nothing about which
                # option this transaction's ballots chose (see server/sealing.py).
                counts = secrecy.current_counts(state, round_key)
                await conn.execute(
                    db.tallies.update()
                    .where(db.tallies.c.stream_id == self.stream_id, db.tallies.c.round_id == round_key)
                    .values(sealed=sealer.seal(self.stream_id, round_key, counts))
                )
            for round_key in closed:
                await conn.execute(
                    db.tallies.delete().where(
                        db.tallies.c.stream_id == self.stream_id, db.tallies.c.round_id == round_key
                    )
                )
            await eng.db.insert_rows(conn, db.command_results, result_rows)
            orphans = not exists and not creating
            if orphans and audit_rows:
                audit_rows = await self._on_orphan_chain(conn, audit_rows)
            await eng.db.insert_rows(conn, db.audit, audit_rows)
        if opened or increments or closed:  # committed a sealed tally: keep no older version of it
            await eng.db.forget_sealed_versions(round_closed=bool(closed))
        # Committed: only now does memory move forward.
        self.state, self.seq = state, seq
        if not orphans:
            self.audit_n, self.audit_hash = audit_n, audit_hash
        self.fresh_read = read
        published = [self._remember(s, r.audience, r.event) for s, r in new_events]
        if self.engine.on_commit is not None and new_events:
            try:
                self.engine.on_commit(self.stream_id, state, [r.event for _, r in new_events])
            except Exception:  # a notification must never undo or delay what is committed
                log.exception("on_commit hook failed for %s", self.stream_id)
        self._arm_timers()
        self._schedule_progress(published)
        return replies, published

    def _audit_row(self, n: int, prev: str, p: Pending, now: datetime, outcome: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "chain": self.stream_id,
            "n": n,
            "at": now.isoformat(),
            "actor": f"{p.principal.account_id} {','.join(sorted(p.principal.actor.roles))}",
            "command": p.command.__struct_config__.tag or type(p.command).__name__,
            "detail": msgspec.json.encode(_redact(p.command)).decode(),
            "outcome": outcome,
            "prev_hash": prev,
        }
        row["hash"] = chain_hash(prev, row)
        return row

    async def _audit_refused_value(self, p: Pending) -> None:
        """Record a command the database refused (`_settle`) in the audit log, as its own transaction: the row
        holds only what the database takes (the command in escaped JSON, our own account and tag), not the
        command's reply, whose key may be the very value refused. Best effort: the refusal stands either way."""
        eng = self.engine
        async with self.lock:
            try:
                async with eng.db.tx() as conn:
                    if not self.loaded:
                        await self._load(conn)
                    last = (
                        await conn.execute(
                            sa.select(db.streams.c.last_seq).where(db.streams.c.id == self.stream_id).with_for_update()
                        )
                    ).scalar()
                    if last is not None and last != self.seq:
                        await self._catch_up(conn, int(last))
                    row = self._audit_row(self.audit_n + 1, self.audit_hash, p, datetime.now(UTC), REFUSED_OUTCOME)
                    rows = [row] if last is not None else await self._on_orphan_chain(conn, [row])
                    await eng.db.insert_rows(conn, db.audit, rows)
                if last is not None:
                    self.audit_n, self.audit_hash = row["n"], row["hash"]
            except Exception as e:  # the database is away: the server's log has the refusal
                self.loaded = False
                log.warning("refusal of %r on %s not audited: %s", p.client_id, self.stream_id, e)

    async def _on_orphan_chain(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The audit rows of commands refused for a stream that does not exist, moved to the one chain of such
        refusals (audit.ORPHANS), each naming the stream it asked for. A chain per invented id would let anyone
        with a token start chains at will (one fuzz run made 144 chains of 1-2 rows); on one chain the record is
        the same and `kyhop audit verify` checks it like any other. Every worker and stream appends to it, so
        the append is serialised: by SQLite's one writer, on PostgreSQL by a transaction-scoped advisory lock."""
        if not self.engine.db.is_sqlite:
            await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ORPHANS_LOCK)))
        head = (
            await conn.execute(
                sa.select(db.audit.c.n, db.audit.c.hash)
                .where(db.audit.c.chain == ORPHANS)
                .order_by(db.audit.c.n.desc())
                .limit(1)
            )
        ).first()
        n, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        stream = msgspec.json.encode(self.stream_id).decode()
        out = []
        for row in rows:
            n += 1
            moved = {**row, "chain": ORPHANS, "n": n, "prev_hash": prev}
            moved["detail"] = f'{{"stream_id":{stream},"command":{row["detail"]}}}'
            prev = moved["hash"] = chain_hash(prev, moved)
            out.append(moved)
        return out

    # --- timers ----------------------------------------------------------------------------------------------
    def _arm_timers(self) -> None:
        """Close rounds and polls whose time is up. Every worker that holds the session arms the same timer;
        the command id is the same everywhere ("timer:vote:<id>"), so the first close wins and the others get
        the stored answer instead of closing twice."""
        if self.kind is PETITIONS and isinstance(self.state, PetitionsState):
            self._arm_overdue(self.state)
            return
        if self.kind is not SESSION or self.state is None:
            return
        due: list[tuple[str, datetime, Command]] = [
            (f"vote:{r.id}", r.closes_at, votes.CloseRound(round_id=r.id))
            for r in self.state.votes.rounds.values()
            if r.status is votes.RoundStatus.OPEN and r.closes_at is not None
        ]
        due += [
            (f"poll:{p.id}", p.closes_at, polls.ClosePoll(poll_id=p.id))
            for p in self.state.polls.polls.values()
            if p.status is polls.PollStatus.OPEN and p.closes_at is not None
        ]
        loop = asyncio.get_running_loop()
        for key, at, cmd in due:
            if key in self.timers:
                continue
            delay = max(0.0, (at - datetime.now(UTC)).total_seconds())
            self.timers[key] = loop.call_later(delay, self._fire, key, cmd)

    def _fire(self, key: str, cmd: Command) -> None:
        self.timers.pop(key, None)
        kind, _, ident = key.partition(":")
        fut = self.submit(TIMER, system_client_id(f"timer:{kind}", ident), cmd)
        # The result is in the log either way (closed, or refused because the chair closed it first).
        fut.add_done_callback(lambda f: f.exception())

    def _arm_overdue(self, state: PetitionsState) -> None:
        """One timer per register, at the moment the next deadline passes: 00:00 in Vietnam on the day after
        it (meeting/petitions_model.py `is_overdue`). Then `_fire_overdue` submits `mark_overdue` for each item
        late and not yet reported, under a command id made of the item and its deadline, so every worker holding
        the register submits the same command and the first commits it."""
        now = datetime.now(UTC)
        if overdue_unreported(state, now) or reminders_unsent(state, now):
            delay = 0.0
        else:
            upcoming = [
                datetime.combine(i.due + timedelta(days=1), time(), COUNCIL_TZ)
                for i in state.items.values()
                if i.due is not None and i.status in RUNNING and i.overdue_noted != i.due
            ]
            # And the start of each reminder's first day (petitions_model.reminder_due), when the council has them.
            upcoming += [
                datetime.combine(i.due - timedelta(days=state.rules.remind_days), time(), COUNCIL_TZ)
                for i in state.items.values()
                if state.rules.remind_days > 0
                and i.due is not None
                and i.status in AWAITING
                and i.reminded_for != i.due
            ]
            # Only moments still ahead: a reminder's first day already past (its deadline passed unreminded) or a
            # deadline passed that `is_overdue` does not count would otherwise arm a 0 s timer again and again — a
            # busy loop that took a whole core (seen with the demo year).
            upcoming = [t for t in upcoming if t > now]
            if not upcoming:
                return
            delay = min((min(upcoming) - now).total_seconds(), OVERDUE_RECHECK_SECONDS)
        loop = asyncio.get_running_loop()
        armed = self.timers.get("overdue")
        if armed is not None:
            # uvloop's call_later(0, …) gives a plain Handle, without when(): it runs at once, nothing is sooner.
            when = getattr(armed, "when", None)
            if when is None or when() <= loop.time() + delay:
                return
            armed.cancel()
        self.timers["overdue"] = loop.call_later(delay, self._fire_overdue)

    def _fire_overdue(self) -> None:
        self.timers.pop("overdue", None)
        state = self.state
        if not isinstance(state, PetitionsState):
            return
        now = datetime.now(UTC)
        late = overdue_unreported(state, now)
        for item_id in late:
            due = state.items[item_id].due
            cid = system_client_id("timer:overdue", item_id, str(due))
            fut = self.submit(TIMER, cid, petitions_messages.MarkOverdue(item_id=item_id))
            fut.add_done_callback(lambda f: f.exception())  # recorded or refused, it is in the log
        remind = reminders_unsent(state, now)
        for item_id in remind:  # one command id per item and deadline: every worker's clock, one reminder
            cid = system_client_id("timer:remind", item_id, str(state.items[item_id].due))
            fut = self.submit(TIMER, cid, petitions_messages.RemindItem(item_id=item_id))
            fut.add_done_callback(lambda f: f.exception())
        if late or remind:
            self.timers["overdue"] = asyncio.get_running_loop().call_later(OVERDUE_RETRY_SECONDS, self._fire_overdue)
        else:
            self._arm_overdue(state)

    # --- the live ballot count ---------------------------------------------------------------------------------
    def _schedule_progress(self, published: list[Cached]) -> None:
        """After a commit: every round or poll that just took ballots gets its count announced at the end of the
        current 250 ms window (PROGRESS_SECONDS). Ballots committed while an announcement is due ride on it, so
        the hall gets one `vote_round_progress` per window, not one message per ballot. A round that closed
        drops its announcement: the result carries the final numbers."""
        if self.kind is not SESSION:
            return
        for c in published:
            match c.event:
                case votes.DelegateVoted():
                    self._arm_progress(f"progress:vote:{c.event.round_id}")
                case polls.PollDelegateVoted():
                    self._arm_progress(f"progress:poll:{c.event.poll_id}")
                case votes.RoundClosed() | votes.RoundCancelled():
                    self._drop_progress(f"progress:vote:{c.event.round_id}")
                case polls.PollClosed() | polls.PollCancelled():
                    self._drop_progress(f"progress:poll:{c.event.poll_id}")

    def _arm_unreported(self) -> None:
        """After memory was rebuilt or caught up (`_load`, `_catch_up`): every open round or poll whose ballots
        outnumber its last announced count gets an announcement in the next window. Without this, ballots whose
        window had not ended when their worker died were announced only at the close: killed within 250 ms of
        6 acknowledged ballots, the restarted server still showed the public 0 four seconds later. The same
        holds for a worker that learns another worker's ballots only by catching up with the log. Several
        workers may arm it at once; the command id names the count (`_report_progress`), so one announcement
        of a number commits and the others get its stored answer. Not after this worker's own commits
        (`_schedule_progress` covers those): a refused announcement would otherwise re-arm itself every window."""
        if self.kind is not SESSION or self.state is None:
            return
        for r in self.state.votes.rounds.values():
            if r.status is votes.RoundStatus.OPEN and len(r.voted) != r.ballots_reported:
                self._arm_progress(f"progress:vote:{r.id}")
        for p in self.state.polls.polls.values():
            if p.status is polls.PollStatus.OPEN and len(p.voted) != p.ballots_reported:
                self._arm_progress(f"progress:poll:{p.id}")

    def _arm_progress(self, key: str) -> None:
        if key not in self.timers:
            self.timers[key] = asyncio.get_running_loop().call_later(PROGRESS_SECONDS, self._report_progress, key)

    def _drop_progress(self, key: str) -> None:
        handle = self.timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def _report_progress(self, key: str) -> None:
        self.timers.pop(key, None)
        if self.state is None:
            return
        _, kind, ident = key.split(":", 2)
        cmd: Command
        if kind == "vote":
            r = self.state.votes.rounds.get(ident)
            if r is None or r.status is not votes.RoundStatus.OPEN:
                return
            count, reported = len(r.voted), r.ballots_reported
            cmd = votes.ReportProgress(round_id=ident)
        else:
            p = self.state.polls.polls.get(ident)
            if p is None or p.status is not polls.PollStatus.OPEN:
                return
            count, reported = len(p.voted), p.ballots_reported
            cmd = polls.ReportPollProgress(poll_id=ident)
        if count == reported:
            return  # announced already (by another worker, seen when this one caught up): nothing to write
        # The same id on every worker that knows this count, so two workers announcing the same number write it
        # once (command_results); a worker whose count is behind is refused `progress_unchanged`, which is fine.
        client_id = system_client_id(f"progress:{kind}", ident, str(count))
        fut = self.submit(PROGRESS, client_id, cmd)

        def done(f: asyncio.Future[Reply]) -> None:
            # Not committed (database unavailable): try again in the next window, or the hall keeps an old count
            # until the round closes. Refusals are answers, not failures.
            if f.exception() is not None:
                self._arm_progress(key)

        fut.add_done_callback(done)


class Engine:
    def __init__(
        self,
        database: Database,
        publish: Callable[[str, bytes], None] | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.db = database
        self._publish = publish
        # Without a sealer from the server's secret (tests of other parts), a random key: sealed counts of open
        # rounds would not survive a restart, which such uses never need.
        self.sealer = sealer or Sealer(os.urandom(32))
        # Checks encrypted ballots, ceremony messages and partial decryptions for the domain (server/verifier.py).
        self.crypto = ServerCrypto()
        self.runtimes: dict[str, Runtime] = {}
        self.listeners: dict[str, set[Callable[[Cached], None]]] = {}
        # Called on the worker that committed a batch, after the commit, with the stream, its state and the
        # batch's events (server/notify.py mails agencies their assignments from it). Never fatal.
        self.on_commit: Callable[[str, Any, list[Event]], None] | None = None

    def runtime(self, kind: str, ident: str) -> Runtime:
        stream_id = f"{kind}:{ident}"
        rt = self.runtimes.get(stream_id)
        if rt is None:
            rt = self.runtimes[stream_id] = Runtime(self, stream_id, KINDS[kind])
        return rt

    async def existing(self, kind: str, ident: str) -> Runtime | None:
        """The runtime of a stream that exists, else None — and nothing is kept for an id that does not exist,
        so requests for random ids cannot grow the worker's memory."""
        rt = self.runtime(kind, ident)
        await rt.refresh()
        if rt.state is None:
            if not rt.pending and (rt.flusher is None or rt.flusher.done()):
                self.runtimes.pop(rt.stream_id, None)
            return None
        return rt

    async def execute(self, kind: str, ident: str, principal: Principalish, client_id: str, command: Command) -> Reply:
        return await self.runtime(kind, ident).submit(principal, client_id, command)

    async def state(self, kind: str, ident: str) -> tuple[Any, int]:
        rt = await self.existing(kind, ident)
        return (None, 0) if rt is None else (rt.state, rt.seq)

    def publish(self, stream_id: str, c: Cached) -> None:
        """Hand a committed event to the fan-out. A failure here must not touch acknowledgements: the event is
        in the database, and every socket fills a missing sequence number from there."""
        if self._publish is None:
            return
        try:
            self._publish(channel_of(stream_id), encode_fanout(c))
        except RuntimeError as e:  # the channels plugin is not started yet (start-up seeding): nobody listens
            log.debug("not published %s#%d: %s", stream_id, c.seq, e)
        except Exception as e:  # never fatal: every socket refills missing sequence numbers from the log
            log.warning("could not publish %s#%d: %s", stream_id, c.seq, e)

    async def last_seqs(self, stream_ids: list[str]) -> dict[str, int]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(db.streams.c.id, db.streams.c.last_seq).where(db.streams.c.id.in_(stream_ids))
            )
            out = {r[0]: int(r[1]) for r in rows}
            await conn.rollback()
            return out

    async def streams_of(self, council_id: str, kind: str) -> list[tuple[str, str]]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(db.streams.c.id, db.streams.c.title)
                .where(db.streams.c.council_id == council_id, db.streams.c.kind == kind)
                .order_by(db.streams.c.id)
            )
            return [(r[0].split(":", 1)[1], r[1]) for r in rows]
