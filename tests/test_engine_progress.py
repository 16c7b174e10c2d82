"""The live ballot count through the engine (in process, on SQLite).

A ballot's "who voted" event goes to staff and the voter only; the hall and the public get the count from
`vote_round_progress` / `poll_progress`, which the engine's clock (`system:progress`) asks for at most once per
250 ms window per round. Checked here on what the engine hands to the fan-out: the hall receives far fewer
announcements than ballots, no two windows closer than 250 ms, and once the ballots stop the last announced
number is the number of ballots cast; a second worker announcing the same number gets the stored answer; a
round closed inside a window is not announced after its close.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import msgspec
import pytest
import sqlalchemy as sa

from meeting import agenda, polls, votes
from meeting import session as sess
from meeting.actors import Actor, Audience, Role
from meeting.messages import Command, Event
from meeting.protocol import EventMessage
from meeting.rules import BallotMode
from server import db
from server.database import Database
from server.engine import PROGRESS, PROGRESS_SECONDS, Engine, FanoutHeader, Reply
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, delegate, did, prepare

N = 30
E = TypeVar("E", bound=Event)
COMMITTEE = [did(i) for i in range(24, 31)]  # 7, the province minimum; nobody on the ballot


@dataclass(frozen=True)
class Principal:
    account_id: str
    actor: Actor


@dataclass(frozen=True)
class Sent:
    at: float  # time.monotonic() when the engine handed it to the fan-out
    seq: int
    audience: Audience
    event: Event


class Hall:
    """One worker's engine on a fresh database, with every event it publishes kept in order."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self.sent: list[Sent] = []
        self.engine = Engine(database, publish=self._publish)
        self.n = 0

    def _publish(self, channel: str, data: bytes) -> None:
        header_bytes, wire = data.split(b"\n", 1)
        h = msgspec.json.decode(header_bytes, type=FanoutHeader)
        audience = Audience(
            roles=frozenset(Role(r) for r in h.roles), delegate_id=h.delegate_id, members=frozenset(h.members)
        )
        msg = msgspec.json.decode(wire, type=EventMessage)
        self.sent.append(Sent(time.monotonic(), h.seq, audience, msg.event))

    async def run(self, actor: Actor, cmd: Command, cid: str | None = None) -> Reply:
        self.n += 1
        who = Principal(f"acc-{actor.person_id or next(iter(actor.roles))}", actor)
        reply = await self.engine.execute("session", "s1", who, cid or f"c{self.n}", cmd)
        assert reply.ok, (cmd, reply.error)
        return reply

    def seen_by(self, actor: Actor, kind: type[Event]) -> list[Sent]:
        return [s for s in self.sent if isinstance(s.event, kind) and s.audience.admits(actor)]

    def got(self, actor: Actor, kind: type[E]) -> list[E]:
        """The events of this type that reach `actor`'s sockets, in order."""
        return [s.event for s in self.sent if isinstance(s.event, kind) and s.audience.admits(actor)]

    async def until(self, cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def hall(tmp_path: Path) -> AsyncIterator[Hall]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'kyhop.db'}")
    await database.migrate()
    h = Hall(database)
    await h.run(SECRETARY, prepare(N))
    await h.run(SECRETARY, agenda.AddItem(item_id="item-1", title="Dự thảo Nghị quyết số 1"))
    await h.run(SECRETARY, sess.OpenCheckIn())
    await asyncio.gather(*(h.run(delegate(i), sess.CheckIn(delegate_id=did(i))) for i in range(1, N + 1)))
    await h.run(CHAIR, sess.OpenSession())
    await h.run(CHAIR, agenda.MoveToItem(item_id="item-1"))
    try:
        yield h
    finally:
        await database.dispose()


def ballot(i: int, rid: str = "r1") -> votes.CastBallot:
    return votes.CastBallot(round_id=rid, delegate_id=did(i), option=("yes", "no", "abstain")[i % 3])


async def stored_progress_ids(database: Database) -> list[str]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(db.command_results.c.client_id).where(db.command_results.c.account_id == PROGRESS.account_id)
        )
        out = [r[0] for r in rows]
        await conn.rollback()
        return out


@pytest.mark.parametrize("secret", [False, True])
async def test_the_hall_gets_a_coalesced_count_that_ends_at_the_ballots_cast(hall: Hall, secret: bool) -> None:
    h = hall
    committee = [did(i) for i in range(N - 6, N + 1)] if secret else []  # a secret round's counting committee
    await h.run(
        CHAIR,
        votes.OpenVote(
            round_id="r1",
            item_id="item-1",
            motion="Thông qua",
            secret=secret,
            committee=committee,
            mode=BallotMode.SEALED if secret else None,  # plain ballots: the count is what is measured
        ),
    )
    opened = len(h.sent)
    start = time.monotonic()
    # 30 ballots over ~1.5 s: in bursts of three at once, a burst every 150 ms.
    for k in range(0, N, 3):
        await asyncio.gather(*(h.run(delegate(i), ballot(i)) for i in range(k + 1, k + 4)))
        await asyncio.sleep(0.15)
    await h.until(
        lambda: [e.ballots_cast for e in h.got(PUBLIC, votes.RoundProgress)][-1:] == [N],
        "the announced count to reach the ballots cast",
    )
    # The quiet period: nothing more is announced once the number is right.
    await asyncio.sleep(3 * PROGRESS_SECONDS)
    announced = h.seen_by(PUBLIC, votes.RoundProgress)
    counts = [e.ballots_cast for e in h.got(PUBLIC, votes.RoundProgress)]
    assert counts[-1] == N and counts == sorted(set(counts)), counts
    # Coalesced: far fewer announcements than ballots, and never two windows inside 250 ms.
    assert 2 <= len(announced) <= N // 2, counts
    assert len(announced) <= (announced[-1].at - start) / PROGRESS_SECONDS + 1, counts

    # Every tablet sees every announcement; a delegate sees their own "you have voted" and nobody else's.
    tablet = delegate(7)
    assert h.seen_by(tablet, votes.RoundProgress) == announced == h.seen_by(RESPONDENT, votes.RoundProgress)
    assert [e.delegate_id for e in h.got(tablet, votes.DelegateVoted)] == [did(7)]
    assert h.seen_by(PUBLIC, votes.DelegateVoted) == [] == h.seen_by(RESPONDENT, votes.DelegateVoted)
    # The public's live events in the round are the numbers alone.
    live = [s.event for s in h.sent[opened:] if s.audience.admits(PUBLIC)]
    assert {type(e) for e in live} == {votes.RoundProgress}
    # The chair's console still counts every ballot as it comes.
    assert [e.ballots_cast for e in h.got(CHAIR, votes.DelegateVoted)] == list(range(1, N + 1))

    rt = h.engine.runtimes["session:s1"]
    assert rt.state.votes.rounds["r1"].ballots_reported == N
    # Announced by the engine's own clock account, under ids that name the count.
    ids = await stored_progress_ids(h.db)
    assert ids and all(i.startswith("progress:vote:r1:") for i in ids), ids

    # A second worker on the same database announcing a number already announced gets the stored answer (and
    # with a new id, the refusal): nothing is written twice.
    other = Engine(h.db, sealer=h.engine.sealer)  # the same server secret, as every worker has
    last_seq = rt.seq
    again = await other.execute("session", "s1", PROGRESS, ids[-1], votes.ReportProgress(round_id="r1"))
    assert again.replayed
    fresh = await other.execute(
        "session", "s1", PROGRESS, f"progress:vote:r1:{N}-b", votes.ReportProgress(round_id="r1")
    )
    assert not fresh.ok and fresh.error is not None and fresh.error.code.value == "progress_unchanged"
    await rt.refresh()
    assert rt.seq == last_seq

    closed = await h.run(CHAIR, votes.CloseRound(round_id="r1"))
    for m in committee[:4]:  # a secret count is announced once more than half of its committee certified
        await h.run(Actor(roles=frozenset({Role.DELEGATE}), person_id=m), votes.CertifyRound(round_id="r1"))
    result = rt.state.votes.rounds["r1"].result
    assert result is not None and result.ballots_collected == N and closed.seqs


async def test_a_round_closed_inside_a_window_is_not_announced_after_its_close(hall: Hall) -> None:
    h = hall
    await h.run(CHAIR, votes.OpenVote(round_id="r2", item_id="item-1", motion="Thông qua"))
    await asyncio.gather(*(h.run(delegate(i), ballot(i, "r2")) for i in range(1, 6)))
    closed = await h.run(CHAIR, votes.CloseRound(round_id="r2"))
    rt = h.engine.runtimes["session:s1"]
    assert "progress:vote:r2" not in rt.timers  # dropped with the close: the result carries the numbers
    await asyncio.sleep(3 * PROGRESS_SECONDS)
    late = [s for s in h.sent if isinstance(s.event, votes.RoundProgress) and s.seq > closed.seqs[-1]]
    assert late == []
    assert await stored_progress_ids(h.db) == []


async def test_a_confidence_poll_gets_its_count_the_same_way(hall: Hall) -> None:
    h = hall
    officials = [polls.Official(id="r01", name="Nguyễn Văn An", position="Chủ tịch UBND tỉnh")]
    await h.run(
        SECRETARY, polls.CreatePoll(poll_id="p1", item_id="item-1", kind=polls.PollKind.RATING, officials=officials)
    )
    await h.run(CHAIR, polls.AppointCommittee(poll_id="p1", members=COMMITTEE))
    await h.run(CHAIR, polls.OpenPoll(poll_id="p1", mode=BallotMode.SEALED))  # the server counts: sealed
    for i in range(1, 13):
        await h.run(delegate(i), polls.CastPollBallot(poll_id="p1", delegate_id=did(i), marks={"r01": ["trust"]}))
    await h.until(
        lambda: [e.ballots_collected for e in h.got(PUBLIC, polls.PollProgress)][-1:] == [12],
        "the announced poll count to reach the ballots cast",
    )
    await asyncio.sleep(3 * PROGRESS_SECONDS)
    announced = h.seen_by(delegate(3), polls.PollProgress)
    assert announced == h.seen_by(PUBLIC, polls.PollProgress) and len(announced) < 12
    assert [e.delegate_id for e in h.got(delegate(3), polls.PollDelegateVoted)] == [did(3)]
    assert len(h.seen_by(CHAIR, polls.PollDelegateVoted)) == 12
    assert h.engine.runtimes["session:s1"].state.polls.polls["p1"].ballots_reported == 12


def test_system_command_ids_fit_the_column_and_stay_the_same_on_every_worker() -> None:
    """Timers and counts use ids every worker computes alike; a 100-character round id must not make an id the
    database refuses (command_results.client_id is 100 characters: one overlong id would fail the whole batch)."""
    from server.engine import MAX_CLIENT_ID, system_client_id

    long_a, long_b = "a" * 100, "a" * 99 + "b"
    assert system_client_id("timer:vote", "r1") == "timer:vote:r1"
    assert system_client_id("progress:vote", "r1", "12") == "progress:vote:r1:12"
    for kind in ("timer:vote", "timer:poll", "progress:vote", "progress:poll"):
        a, b = system_client_id(kind, long_a, "125"), system_client_id(kind, long_b, "125")
        assert len(a) <= MAX_CLIENT_ID and len(b) <= MAX_CLIENT_ID
        assert a != b and a == system_client_id(kind, long_a, "125") and a.startswith(kind + ":")
