"""The public feed's projection (meeting/public_feed.py), with no server: after every event of a whole scripted
session (50 delegates, named and secret votes, questioning and a certified poll), the feed
built from the public's view holds what the public may see and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from meeting import public_feed, script, views
from meeting import session as sess
from meeting.actors import Actor, Role
from meeting.hall import SessionStatus
from meeting.rules import BallotMode
from meeting.session import SessionState
from meeting.votes import RoundStatus
from server.simulate import MemoryRunner, simulate
from tests.factory import CHAIR, Hall

PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))
NOW = datetime(2026, 12, 9, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def run() -> MemoryRunner:
    return simulate(50, 46, out=lambda _: None)


def _named(state: SessionState) -> dict[str, dict[str, str]]:
    return {rid: dict(r.choices) for rid, r in state.votes.rounds.items() if r.status is RoundStatus.CLOSED}


def test_after_every_event_the_feed_shows_only_what_the_public_may_see(run: MemoryRunner) -> None:
    events = [(i + 1, r.audience, r.event) for i, r in enumerate(run.log) if not r.audience.sealed]
    public, staff = views.View(PUBLIC), views.View(script.SECRETARY)
    seen_open_secret = seen_named_roll = 0
    floor: set[tuple[str, bool]] = set()  # (kind, has a position) of whoever had the floor
    for seq, audience, event in events:
        public.advance([(seq, audience, event)])
        staff.advance([(seq, audience, event)])
        if public.state is None:
            continue
        assert staff.state is not None
        named = _named(staff.state)
        feed = public_feed.project(public.state, seq, NOW, named)
        # The staff's view (ballots, counts awaiting certification, who voted) projects to the very same feed: the
        # projection drops everything the public does not receive.
        assert feed == public_feed.project(staff.state, seq, NOW, named), f"after #{seq} {type(event).__name__}"
        text = msgspec.json.encode(feed).decode()
        assert "tally" not in text and "receipt" not in text
        for v in feed.votes:
            rnd = staff.state.votes.rounds[v.round_id]
            assert rnd.status in (RoundStatus.OPEN, RoundStatus.COUNTED)
            seen_open_secret += v.secret
        for res in feed.results:
            rnd = staff.state.votes.rounds[res.round_id]
            assert rnd.status is RoundStatus.CLOSED and rnd.result is not None
            if res.secret:
                assert res.choices == []
            else:
                assert {c.delegate_id: c.option for c in res.choices} == rnd.choices
                seen_named_roll += bool(res.choices)
        if feed.speaker is not None:
            assert feed.speaker.name and feed.speaker.ends_at > feed.speaker.started_at
            floor.add((feed.speaker.kind, bool(feed.speaker.position)))
        if public.state.hall.status is SessionStatus.CLOSED:
            assert feed.current_item is None and feed.speaker is None
    assert seen_open_secret and seen_named_roll  # the script has both: the checks above ran on them
    # Speeches and questioning turns, a respondent's answer with their office (e.g. "Giám đốc Sở Y tế").
    assert {("speech", False), ("question", False), ("answer", True)} <= floor, floor


def test_a_roll_call_passed_for_a_secret_or_open_round_is_dropped(run: MemoryRunner) -> None:
    """A caller's mistake (choices given for a secret round, or before the close) cannot publish them."""
    events = [(i + 1, r.audience, r.event) for i, r in enumerate(run.log) if not r.audience.sealed]
    state = views.visible_state(events, PUBLIC)
    assert state is not None
    forged = {rid: {script.delegate_id(2): "no"} for rid in state.votes.rounds}
    feed = public_feed.project(state, len(events), NOW, forged)
    secret = [r for r in feed.results if r.secret]
    assert secret and all(r.choices == [] for r in secret)


def test_a_suspension_carries_its_reason_until_the_session_resumes() -> None:
    h = Hall()
    h.open()
    h.accept(sess.SuspendSession(reason="Mất điện hội trường"), CHAIR)
    feed = public_feed.project(h.s, 1, NOW)
    assert feed.status == "suspended" and feed.suspension_reason == "Mất điện hội trường"
    assert feed.status_vi == "tạm dừng"
    assert h.replayed().hall.suspension_reason == "Mất điện hội trường"  # from the event log alone
    h.accept(sess.ResumeSession(), CHAIR)
    feed = public_feed.project(h.s, 2, NOW)
    assert feed.status == "in_progress" and feed.suspension_reason == ""


def test_the_feed_says_which_rounds_are_verifiable(run: MemoryRunner) -> None:
    """`mode` on votes and results, `verifiable_polls` (added, FEED version 1): the public pages link a verifiable
    result to its board and say that the count waits for the committee to decrypt. The scripted session's secret
    vote and poll are verifiable (the default, issue 13 §2); its named vote's mode is never read."""
    events = [(i + 1, r.audience, r.event) for i, r in enumerate(run.log) if not r.audience.sealed]
    state = views.visible_state(events, PUBLIC)
    assert state is not None
    feed = public_feed.project(state, len(events), NOW)
    assert {r.round_id: r.mode for r in feed.results} == {"bq-1": "sealed", "bq-2": "verifiable"}
    poll = next(p for p in state.polls.polls.values() if p.result is not None)
    assert feed.verifiable_polls == [poll.id]
    secret = state.votes.rounds["bq-2"]
    secret.status = RoundStatus.COUNTED  # closed for counting: the committee has not decrypted yet
    feed = public_feed.project(state, len(events), NOW)
    assert [(v.round_id, v.mode, v.status) for v in feed.votes] == [("bq-2", "verifiable", "counted")]
    assert '"mode":"verifiable"' in msgspec.json.encode(feed).decode()
    poll.mode = BallotMode.SEALED  # a council that chose sealed: no board to link
    assert public_feed.project(state, len(events), NOW).verifiable_polls == []
