"""One command the database refuses must not fail the others in its group-commit batch (server/engine.py `_settle`).

The decode check (server/inbound.py) keeps U+0000 out of every message; these tests inject a poisoned command at
engine level to prove the engine's own guard: on PostgreSQL, six delegates' ballots submitted in the same instant,
one of them carrying a command id PostgreSQL refuses (a NUL, or one longer than its column), go to the database as
one batch; the honest ones must be acknowledged and counted, the poisoned one refused `invalid` (and its retry
answered the same without touching the database), with gap-free sequence numbers and an intact audit log.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from meeting import votes
from meeting.errors import Code
from server import db
from server.audit import verify
from server.engine import REFUSED_OUTCOME, Engine, Reply
from tests.services import PostgresServer
from tests.test_engine_pipeline import SID, STREAM, database, member, ok, running_session

pytestmark = pytest.mark.asyncio

ROUND = "r1"
SIX = range(2, 8)  # delegates d002..d007


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"isolation_{uuid.uuid4().hex[:12]}")


async def _ballots_with_one_poisoned(engine: Engine, poison: str) -> list[Reply]:
    await running_session(engine, n=8)
    await ok(engine, member(1), "open-r1", votes.OpenVote(round_id=ROUND, item_id="item-1", motion="Thông qua"))
    rt = engine.runtime("session", SID)
    # Submitted in one go: all six wait in `pending` when the flusher task first runs, so they form one batch.
    futures = [
        rt.submit(
            member(i),
            poison if i == 4 else f"ballot-{i}",
            votes.CastBallot(round_id=ROUND, delegate_id=f"d{i:03d}", option="yes"),
        )
        for i in SIX
    ]
    assert len(rt.pending) == 6
    return await asyncio.gather(*futures)


async def _check_outcome(engine: Engine, url: str, replies: list[Reply], poison: str) -> None:
    honest = [r for i, r in zip(SIX, replies, strict=True) if i != 4]
    poisoned = replies[list(SIX).index(4)]
    assert all(r.ok and len(r.seqs) >= 1 for r in honest), honest
    assert not poisoned.ok and poisoned.error is not None and poisoned.error.code is Code.INVALID, poisoned
    assert poisoned.error.message_vi.strip() and poisoned.error.message_en.strip()

    rt = engine.runtime("session", SID)
    assert sorted(rt.state.votes.rounds[ROUND].voted) == ["d002", "d003", "d005", "d006", "d007"]
    # A retry of the poisoned command gets the same answer, from memory.
    again = await rt.submit(member(4), poison, votes.CastBallot(round_id=ROUND, delegate_id="d004", option="yes"))
    assert again.error == poisoned.error and again.replayed

    async with database(url) as d:
        async with d.engine.connect() as conn:
            seqs = list(
                (
                    await conn.execute(
                        sa.select(db.events.c.seq).where(db.events.c.stream_id == STREAM).order_by(db.events.c.seq)
                    )
                ).scalars()
            )
            refused = list(
                (
                    await conn.execute(
                        sa.select(db.audit.c.detail).where(
                            db.audit.c.chain == STREAM, db.audit.c.outcome == REFUSED_OUTCOME
                        )
                    )
                ).scalars()
            )
            voters = set(
                (
                    await conn.execute(sa.select(db.voters.c.delegate_id).where(db.voters.c.stream_id == STREAM))
                ).scalars()
            )
        # Read back by a fresh engine, as another worker or a restart would.
        fresh = Engine(d)
        state, last = await fresh.state("session", SID)
        assert sorted(state.votes.rounds[ROUND].voted) == sorted(voters) == ["d002", "d003", "d005", "d006", "d007"]
    assert seqs == list(range(1, len(seqs) + 1)) and seqs[-1] == last == rt.seq, seqs
    for r in honest:
        assert set(r.seqs) <= set(seqs)
    # The refusal is on the record once (the retry was answered from memory), with the command as it came.
    assert len(refused) == 1 and '"delegate_id":"d004"' in refused[0], refused
    report = await verify(url)
    assert report.ok, report.problems


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param("nul-\x00-id", id="nul"),  # 22021 character_not_in_repertoire, in the stored-reply lookup
        pytest.param("x" * 150, id="too-long"),  # 22001 string_data_right_truncation: command_results is 100 wide
    ],
)
async def test_a_poisoned_ballot_fails_only_itself_on_postgresql(pg_url: str, poison: str) -> None:
    async with database(pg_url) as d:
        engine = Engine(d)
        replies = await _ballots_with_one_poisoned(engine, poison)
        await _check_outcome(engine, pg_url, replies, poison)
        # The runtime keeps working after the split: the next ballot is an ordinary batch.
        await ok(engine, member(8), "ballot-8", votes.CastBallot(round_id=ROUND, delegate_id="d008", option="no"))
