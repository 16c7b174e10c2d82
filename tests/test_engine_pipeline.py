"""The engine's database paths: single-flight refresh, and the batch writes of the group commit.

`Runtime.refresh` is single-flight: N callers at once cost at most two reads, yet a caller never gets a state older
than the database at the time of its call — also when the read already in flight started before another worker's
commit. The batch writes (`Database.insert_rows`: COPY on PostgreSQL) and the stored-reply lookup
(`Database.select_by_keys`) keep the pipeline's promises: exact counts, retries answered from the first reply,
a duplicate `voters` row refused as an IntegrityError (the engine's "reload and decide again"), an intact audit chain.
Both backends, real databases: SQLite in a temporary file, PostgreSQL from tests/services.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from meeting import agenda, votes
from meeting import session as sess
from meeting.messages import Command
from meeting.rules import BallotMode
from server import db
from server.audit import verify
from server.database import Database
from server.engine import Engine, Reply
from tests.factory import CHAIR, SECRETARY, Who, delegate, did, prepare
from tests.services import PostgresServer

pytestmark = pytest.mark.asyncio

N = 30  # delegates: enough for batches of many commands, small enough to set up in well under a second
SID = "s1"  # tests.factory.prepare's session id
STREAM = f"session:{SID}"


SECRETARIAT = Who("acc-vp01", SECRETARY)
CHAIRPERSON = Who("acc-d001", CHAIR)


def member(i: int) -> Who:
    return CHAIRPERSON if i == 1 else Who(f"acc-{did(i)}", delegate(i))


async def ok(engine: Engine, who: Who, client_id: str, cmd: Command) -> Reply:
    reply = await engine.execute("session", SID, who, client_id, cmd)
    assert reply.ok, (client_id, reply.error)
    return reply


async def running_session(engine: Engine, n: int = N) -> None:
    """A session with every delegate checked in, opened, on item 1."""
    await ok(engine, SECRETARIAT, "prepare", prepare(n))
    await ok(engine, SECRETARIAT, "item", agenda.AddItem(item_id="item-1", title="Dự thảo Nghị quyết số 1"))
    await ok(engine, SECRETARIAT, "checkin", sess.OpenCheckIn())
    await asyncio.gather(*(ok(engine, member(i), "in", sess.CheckIn(delegate_id=did(i))) for i in range(1, n + 1)))
    await ok(engine, CHAIRPERSON, "open", sess.OpenSession())
    await ok(engine, CHAIRPERSON, "move", agenda.MoveToItem(item_id="item-1"))


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"engine_{uuid.uuid4().hex[:12]}")


@asynccontextmanager
async def database(url: str) -> AsyncIterator[Database]:
    d = Database(url)
    try:
        await d.migrate()
        yield d
    finally:
        await d.dispose()


@contextmanager
def statements(d: Database) -> Iterator[list[str]]:
    """Every SQL statement `d` sends while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(d.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(d.engine.sync_engine, "before_cursor_execute", count)


def reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


# --- single-flight refresh ------------------------------------------------------------------------------------
async def test_concurrent_refreshes_cost_at_most_two_reads(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine)
        rt = engine.runtime("session", SID)
        with statements(d) as seen:
            await asyncio.gather(*(rt.refresh() for _ in range(200)))
        # The first caller reads; the other 199 arrived while it ran, so one more read, started after all of them
        # arrived, serves them all. Before single-flight: 200 reads.
        assert 1 <= len(reads(seen)) <= 2, seen

        with statements(d) as seen:  # a reconnect storm: a hello (`existing`) and a backlog refresh per tablet
            found = await asyncio.gather(*(engine.existing("session", SID) for _ in range(200)))
            await asyncio.gather(*(rt.refresh() for _ in range(200)))
        assert all(f is rt for f in found)
        assert 2 <= len(reads(seen)) <= 4, seen  # each burst: at most 2, and the second one must read again


async def test_existing_keeps_nothing_for_unknown_ids(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, n=3)
        with statements(d) as seen:
            found = await asyncio.gather(*(engine.existing("session", "no-such-session") for _ in range(50)))
        assert found == [None] * 50
        assert "session:no-such-session" not in engine.runtimes
        assert len(reads(seen)) <= 2 * 4  # ≤ 2 loads, each ≤ 4 statements (log, tallies, audit head)
        assert await engine.existing("session", SID) is not None


async def test_refresh_after_own_commit_still_reads_what_another_worker_wrote(pg_url: str) -> None:
    """A's own commit left A current as of that commit; B writes after it; A's next refresh must see B's write."""
    async with database(pg_url) as da, database(pg_url) as dbb:
        a, b = Engine(da), Engine(dbb)
        await running_session(a, n=3)
        await b.existing("session", SID)
        await ok(a, SECRETARIAT, "item-2", agenda.AddItem(item_id="item-2", title="Dự thảo 2"))  # A commits
        reply = await ok(b, SECRETARIAT, "item-3", agenda.AddItem(item_id="item-3", title="Dự thảo 3"))  # then B
        rt = a.runtime("session", SID)
        await rt.refresh()
        assert rt.seq == reply.seqs[-1]
        assert "item-3" in rt.state.agenda.items


class _StallingEngine:
    """An AsyncEngine whose reads through `connect()` stop after their first statement until released."""

    def __init__(self, real: AsyncEngine) -> None:
        self.real = real
        self.stall = False
        self.stalled = asyncio.Event()  # a read has run its statement and is waiting
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Any]:
        async with self.real.connect() as conn:
            yield _StallingConnection(conn, self) if self.stall else conn


class _StallingConnection:
    def __init__(self, conn: AsyncConnection, owner: _StallingEngine) -> None:
        self.conn, self.owner = conn, owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await self.conn.execute(*args, **kwargs)
        if self.owner.stall:
            self.owner.stall = False  # only the first read stalls
            self.owner.stalled.set()
            await self.owner.release.wait()
        return result


async def test_a_read_in_flight_before_another_workers_commit_does_not_serve_later_callers(pg_url: str) -> None:
    """Worker B's refresh #1 reads `last_seq` before worker A commits, and is still running when caller #2 arrives
    (after A's commit). Joining #1 would hand #2 a state older than the database at its call: #2 must wait for a
    read that starts after it arrived."""
    async with database(pg_url) as da, database(pg_url) as dbb:
        a, b = Engine(da), Engine(dbb)
        await running_session(a, n=3)
        rt = await b.existing("session", SID)
        assert rt is not None
        stalling = _StallingEngine(dbb.engine)
        dbb.engine = stalling  # type: ignore[assignment]
        stalling.stall = True
        first = asyncio.create_task(rt.refresh())
        await asyncio.wait_for(stalling.stalled.wait(), 10)  # #1 has read last_seq and holds on

        reply = await ok(a, SECRETARIAT, "late", agenda.AddItem(item_id="item-late", title="Bổ sung"))
        second = asyncio.create_task(rt.refresh())  # arrives after A's commit
        for _ in range(5):
            await asyncio.sleep(0)
        assert not second.done()  # waiting behind #1, not finished with #1's stale answer

        stalling.release.set()
        await first
        await second
        assert rt.seq == reply.seqs[-1]
        assert "item-late" in rt.state.agenda.items


# --- the batch writes -----------------------------------------------------------------------------------------
async def test_ballots_retries_and_audit_through_the_batch_writes(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine)
        options = ("yes", "no", "abstain")
        for rid, secret in (("named", False), ("secret", True)):
            committee = [did(i) for i in range(N - 6, N + 1)] if secret else []  # certifies the secret count
            opening = votes.OpenVote(
                round_id=rid,
                item_id="item-1",
                motion="Thông qua",
                secret=secret,
                committee=committee,
                mode=BallotMode.SEALED if secret else None,  # the sealed tally's batch writes are checked below
            )
            await ok(engine, CHAIRPERSON, f"open-{rid}", opening)

            def cast(i: int, client_id: str, rid: str = rid) -> Any:
                cmd = votes.CastBallot(round_id=rid, delegate_id=did(i), option=options[i % 3])
                return engine.execute("session", SID, member(i), client_id, cmd)

            # Every ballot at once (batches of many commands), five of them sent twice with the same id.
            replies = await asyncio.gather(
                *(cast(i, f"ballot-{rid}") for i in range(1, N + 1)), *(cast(i, f"ballot-{rid}") for i in range(1, 6))
            )
            first, again = replies[:N], replies[N:]
            assert all(r.ok for r in first), [r.error for r in first if not r.ok]
            assert all(r.replayed for r in again) and [r.seqs for r in again] == [r.seqs for r in first[:5]]
            # A second ballot under a new id is refused by the domain, not counted.
            second = await cast(7, f"ballot-{rid}-again")
            assert not second.ok and second.error is not None and second.error.code == "already_voted"

            await ok(engine, CHAIRPERSON, f"close-{rid}", votes.CloseRound(round_id=rid))
            for m in committee[:4]:  # more than half of the committee certifies: then the result is announced
                await ok(engine, member(int(m[1:])), f"certify-{rid}", votes.CertifyRound(round_id=rid))
            state, _ = await Engine(d).state("session", SID)  # another worker, from the database alone
            result = state.votes.rounds[rid].result
            assert {o.key: o.count for o in result.options} == {"yes": 10, "no": 10, "abstain": 10}
            assert result.voted == sorted(did(i) for i in range(1, N + 1))

        async with d.engine.connect() as conn:
            voters = (await conn.execute(sa.select(sa.func.count()).select_from(db.voters))).scalar()
        assert voters == 2 * N
        report = await verify(database_url)
        assert report.ok and report.rows > 2 * N, report.problems


async def test_insert_rows_refuses_a_second_voter_row_as_integrity_error(database_url: str) -> None:
    async with database(database_url) as d:
        rows = [{"stream_id": STREAM, "round_id": "vote:r1", "delegate_id": did(i)} for i in range(1, 4)]
        async with d.tx() as conn:
            await conn.execute(sa.select(1))
            await d.insert_rows(conn, db.voters, rows)
        with pytest.raises(sa.exc.IntegrityError):
            async with d.tx() as conn:
                await conn.execute(sa.select(1))
                await d.insert_rows(conn, db.voters, [rows[1]])
        async with d.engine.connect() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(db.voters))).scalar()
        assert count == 3  # the failed transaction left nothing


async def test_select_by_keys_finds_exactly_the_stored_pairs(database_url: str) -> None:
    async with database(database_url) as d:
        stored = [("acc-1", "c-1"), ("acc-1", "c-2"), ("acc-2", "c-1"), ("acc-3", "c-9")]
        async with d.tx() as conn:
            await conn.execute(sa.select(1))
            await d.insert_rows(
                conn,
                db.command_results,
                [{"account_id": a, "stream_id": STREAM, "client_id": c, "reply": f"{a}/{c}"} for a, c in stored]
                + [{"account_id": "acc-1", "stream_id": "session:other", "client_id": "c-1", "reply": "other"}],
            )
        r = db.command_results.c
        wanted = {("acc-1", "c-1"), ("acc-2", "c-2"), ("acc-3", "c-9"), ("acc-4", "c-1")}
        async with d.engine.connect() as conn:
            rows = await conn.execute(
                d.select_by_keys((r.account_id, r.client_id), wanted, (r.reply,), r.stream_id == STREAM)
            )
            found = {(a, c): reply for a, c, reply in rows if (a, c) in wanted}
        assert found == {("acc-1", "c-1"): "acc-1/c-1", ("acc-3", "c-9"): "acc-3/c-9"}
