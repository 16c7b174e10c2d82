"""Views: each actor's state is the session replayed from the events their audience admits.

Run over a whole scripted session (50 delegates, named and secret votes, questioning, a certified poll), for
every kind of viewer: replay must work from the visible events alone, a snapshot at any point plus the later
visible events must equal the final view, and the views must hide what the rules hide.
"""

from __future__ import annotations

import msgspec
import pytest

from meeting import script, views
from meeting.actors import Actor, Role
from meeting.messages import Routed
from meeting.rules import BallotMode
from server.simulate import MemoryRunner, simulate


@pytest.fixture(scope="module")
def run() -> MemoryRunner:
    return simulate(50, 46, out=lambda _: None)


def _events(log: list[Routed]) -> list[tuple[int, object, object]]:
    return [(i + 1, r.audience, r.event) for i, r in enumerate(log) if not r.audience.sealed]


VIEWERS = {
    "public": Actor(roles=frozenset({Role.PUBLIC})),
    "delegate": script.delegate_actor(9),
    "chair": script.CHAIR,
    "secretary": script.SECRETARY,
    "respondent": Actor(roles=frozenset({Role.RESPONDENT}), person_id="so-y-te"),
    "committee": Actor(roles=frozenset({Role.DELEGATE, Role.COMMITTEE}), person_id=script.delegate_id(30)),
}


@pytest.mark.parametrize("who", sorted(VIEWERS))
def test_snapshot_plus_later_events_equals_fresh_snapshot(run: MemoryRunner, who: str) -> None:
    actor = VIEWERS[who]
    events = _events(run.log)
    final = views.View(actor)
    final.advance(events)  # type: ignore[arg-type]
    for k in (1, 37, 120, 260, 400, len(events) - 3):
        v = views.View(actor)
        v.advance(events[:k])  # type: ignore[arg-type]
        snap = msgspec.json.encode(v.snapshot())
        # A client restores the snapshot, then applies what it is sent afterwards.
        restored = views.View(actor)
        restored.advance(events[:k])  # type: ignore[arg-type]
        assert msgspec.json.encode(restored.snapshot()) == snap
        restored.advance(events[k:])  # type: ignore[arg-type]
        assert restored.snapshot() == final.snapshot()


def test_public_never_sees_ballots_or_receipts(run: MemoryRunner) -> None:
    state = views.visible_state(_events(run.log), VIEWERS["public"])  # type: ignore[arg-type]
    assert state is not None
    for rnd in state.votes.rounds.values():
        assert rnd.choices == {}
        assert rnd.receipts == set()
        assert rnd.result is not None  # results are public after close
    assert all(p.receipts == set() for p in state.polls.polls.values())


def test_delegate_sees_only_own_receipts_and_choice(run: MemoryRunner) -> None:
    me = script.delegate_id(9)
    state = views.visible_state(_events(run.log), VIEWERS["delegate"])  # type: ignore[arg-type]
    assert state is not None
    named = state.votes.rounds["bq-1"]
    assert set(named.choices) == {me}
    for rnd in state.votes.rounds.values():
        assert len(rnd.receipts) == 1
    full = run.session
    assert full is not None
    assert len(full.votes.rounds["bq-1"].receipts) == 46


def test_open_secret_round_shows_no_count_to_anyone() -> None:
    m = MemoryRunner(20, out=lambda _: None)
    import asyncio

    from meeting import agenda, votes
    from meeting import session as sess

    async def go() -> None:
        await m.session_cmd(script.SECRETARY, agenda.AddItem(item_id="a", title="Dự thảo"))
        await m.session_cmd(script.SECRETARY, sess.OpenCheckIn())
        for i in range(1, 21):
            await m.session_cmd(script.delegate_actor(i), sess.CheckIn(delegate_id=script.delegate_id(i)))
        await m.session_cmd(script.CHAIR, sess.OpenSession())
        await m.session_cmd(script.CHAIR, agenda.MoveToItem(item_id="a"))
        await m.session_cmd(
            script.CHAIR,
            votes.OpenVote(
                round_id="k",
                item_id="a",
                motion="Kín",
                secret=True,
                committee=[script.delegate_id(i) for i in range(11, 18)],
                mode=BallotMode.SEALED,  # the sealed tally stays hidden; a verifiable round has no tally at all
            ),
        )
        for i in range(1, 11):
            await m.session_cmd(
                script.delegate_actor(i),
                votes.CastBallot(round_id="k", delegate_id=script.delegate_id(i), option="yes"),
            )

    asyncio.run(go())
    for who, actor in VIEWERS.items():
        state = views.visible_state(_events(m.log), actor)  # type: ignore[arg-type]
        assert state is not None
        rnd = state.votes.rounds["k"]
        assert sum(rnd.tally.values()) == 0, who
        # Everyone, the public included, sees how many voted (the announced count); only staff see who.
        assert rnd.ballots_reported == 10, who
        if who in ("chair", "secretary"):
            assert len(rnd.voted) == 10, who
        elif who == "delegate":
            assert rnd.voted == {script.delegate_id(9)}  # delegate 9 voted: their own "you have voted"
        else:
            assert rnd.voted == set(), who


@pytest.mark.parametrize("who", sorted(VIEWERS))
def test_who_voted_reaches_staff_and_the_voter_only(run: MemoryRunner, who: str) -> None:
    actor = VIEWERS[who]
    state = views.visible_state(_events(run.log), actor)  # type: ignore[arg-type]
    assert state is not None and run.session is not None
    staff = who in ("chair", "secretary")
    mine = {actor.person_id} if actor.person_id is not None else set()
    for rid, rnd in state.votes.rounds.items():
        full = run.session.votes.rounds[rid]
        assert rnd.voted == (full.voted if staff else full.voted & mine), (who, rid)
        assert rnd.ballots_reported == full.ballots_reported == len(full.voted) == 46
    for pid, poll in state.polls.polls.items():
        full_poll = run.session.polls.polls[pid]
        assert poll.voted == (full_poll.voted if staff else full_poll.voted & mine), (who, pid)
        assert poll.ballots_reported == len(full_poll.voted) == 46
