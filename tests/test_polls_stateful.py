"""Random confidence polls against an independent model of the count.

Two polls run side by side (a rating poll and a confidence vote) in a 20-seat province council. Random
delegates cast ballots with valid, blank, doubly-ticked and malformed marks, check in and out; the chair
closes; committee members certify. Every command the model expects to be refused goes through `refuse`,
which also checks the state did not change.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from meeting import polls as p
from meeting import session as sess
from meeting.actors import EVERYONE, staff_and
from meeting.errors import Code
from meeting.messages import Routed
from meeting.rules import BallotMode, Rules
from tests.factory import CHAIR, PUBLIC, delegate, did, running
from tests.test_polls import OFFICIALS, OIDS, ReceiptClock, member

N = 20
PRESENT_AT_START = 16
MEMBERS = [did(i) for i in range(14, 21)]  # 7: the province minimum
KINDS = {"rating": p.PollKind.RATING, "vote": p.PollKind.CONFIDENCE_VOTE}

# One official's part of a ballot: left out, blank, one box, two boxes, or something malformed.
tick = st.one_of(
    st.just(None),
    st.just([]),
    st.sampled_from(["high", "trust", "low", "no_trust"]).map(lambda m: [m]),
    st.lists(st.sampled_from(["high", "trust", "low", "no_trust"]), min_size=2, max_size=2, unique=True),
    st.just(["low", "low"]),
    st.just(["bogus"]),
)


class PollMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        # Sealed polls: the model counts marks as the server does; verifiable polls are test_verifiable_polls.py.
        self.h = running(N, PRESENT_AT_START, rules=Rules(secret_mode=BallotMode.SEALED))
        self.h.clock = ReceiptClock(self.h.clock.now)
        for pid, kind in KINDS.items():
            self.h.accept(p.CreatePoll(poll_id=pid, item_id="item-1", kind=kind, officials=OFFICIALS), CHAIR)
            self.h.accept(p.AppointCommittee(poll_id=pid, members=MEMBERS), CHAIR)
            self.h.accept(p.OpenPoll(poll_id=pid), CHAIR)
        # The model: who voted, and the count per official as this test reads the ballot rules.
        self.voted: dict[str, set[str]] = {pid: set() for pid in KINDS}
        self.counts: dict[str, dict[str, Counter[str]]] = {pid: {o: Counter() for o in OIDS} for pid in KINDS}
        self.certified: dict[str, list[str]] = {pid: [] for pid in KINDS}
        self.frozen: dict[str, Any] = {}

    # --- rules
    @rule(
        pid=st.sampled_from(sorted(KINDS)),
        i=st.integers(min_value=1, max_value=N + 1),
        ticks=st.lists(tick, min_size=len(OIDS), max_size=len(OIDS)),
        stranger=st.booleans(),
    )
    def cast(self, pid: str, i: int, ticks: list[list[str] | None], stranger: bool) -> None:
        marks = {o: t for o, t in zip(OIDS, ticks, strict=True) if t is not None}
        if stranger:
            marks["stranger"] = ["trust"]
        cmd = p.CastPollBallot(poll_id=pid, delegate_id=did(i), marks=marks)
        levels = {m.value for m in KINDS[pid].levels}
        h, d = self.h, did(i)
        if h.s.polls.polls[pid].status is not p.PollStatus.OPEN:
            h.refuse(cmd, delegate(i), Code.POLL_NOT_OPEN)
        elif i > N:
            h.refuse(cmd, delegate(i), Code.NOT_A_DELEGATE)
        elif d not in h.s.hall.present:
            h.refuse(cmd, delegate(i), Code.ABSENT)
        elif d in self.voted[pid]:
            h.refuse(cmd, delegate(i), Code.ALREADY_VOTED)
        elif stranger:
            h.refuse(cmd, delegate(i), Code.UNKNOWN_OFFICIAL)
        elif any(len(set(t)) != len(t) or not set(t) <= levels for t in marks.values()):
            h.refuse(cmd, delegate(i), Code.INVALID)
        else:
            routed = h.accept(cmd, delegate(i))
            self.check_ballot_routing(routed, d)
            self.voted[pid].add(d)
            for o in OIDS:
                t = marks.get(o, [])
                self.counts[pid][o][t[0] if len(t) == 1 else "invalid"] += 1

    @rule(i=st.integers(min_value=2, max_value=N))
    def attendance(self, i: int) -> None:
        d = did(i)
        if d in self.h.s.hall.present:
            self.h.accept(sess.CheckOut(delegate_id=d), delegate(i))
        else:
            self.h.accept(sess.CheckIn(delegate_id=d), delegate(i))

    @rule(pid=st.sampled_from(sorted(KINDS)))
    def close(self, pid: str) -> None:
        cmd = p.ClosePoll(poll_id=pid)
        if self.h.s.polls.polls[pid].status is p.PollStatus.OPEN:
            self.h.accept(cmd, CHAIR)
            self.frozen[pid] = self.counted(pid)
        else:
            self.h.refuse(cmd, CHAIR, Code.POLL_NOT_OPEN)

    @rule(pid=st.sampled_from(sorted(KINDS)))
    def report_progress(self, pid: str) -> None:
        """The server's clock announcing the count: only a new number of an open poll is written."""
        cmd = p.ReportPollProgress(poll_id=pid)
        poll = self.h.s.polls.polls[pid]
        if poll.status is not p.PollStatus.OPEN:
            self.h.refuse(cmd, CHAIR, Code.POLL_NOT_OPEN)
        elif poll.ballots_reported == len(self.voted[pid]):
            self.h.refuse(cmd, CHAIR, Code.PROGRESS_UNCHANGED)
        else:
            routed = self.h.accept(cmd, CHAIR)
            assert [r.event for r in routed] == [p.PollProgress(poll_id=pid, ballots_collected=len(self.voted[pid]))]
            assert routed[0].audience == EVERYONE

    @rule(pid=st.sampled_from(sorted(KINDS)), i=st.integers(min_value=10, max_value=N))
    def certify(self, pid: str, i: int) -> None:
        d = did(i)
        cmd = p.CertifyPoll(poll_id=pid)
        status = self.h.s.polls.polls[pid].status
        if d not in MEMBERS:
            self.h.refuse(cmd, member(d), Code.NOT_ON_COMMITTEE)
        elif status is p.PollStatus.OPEN:
            self.h.refuse(cmd, member(d), Code.WRONG_POLL_STATE)
        elif d in self.certified[pid]:
            self.h.refuse(cmd, member(d), Code.ALREADY_CERTIFIED)
        else:
            routed = self.h.accept(cmd, member(d))
            self.certified[pid].append(d)
            published = [r for r in routed if isinstance(r.event, p.PollPublished)]
            assert len(published) == (1 if len(self.certified[pid]) == 4 else 0)
            for r in published:
                assert isinstance(r.event, p.PollPublished)
                assert r.audience.admits(PUBLIC)
                assert len(r.event.receipts) == len(self.voted[pid]) == r.event.result.ballots_collected
                assert r.event.receipts == sorted(r.event.receipts)

    # --- checks
    def counted(self, pid: str) -> Any:
        poll = self.h.s.polls.polls[pid]
        return msgspec.to_builtins((poll.counts, poll.result, poll.ballots_collected, poll.voted), order="sorted")

    def check_ballot_routing(self, routed: list[Routed], d: str) -> None:
        voted, sealed, receipt = routed
        assert isinstance(voted.event, p.PollDelegateVoted) and voted.audience == staff_and(d)
        assert isinstance(sealed.event, p.SealedPollBallot) and sealed.audience.sealed
        assert isinstance(receipt.event, p.PollReceipt) and receipt.audience.delegate_id == d
        assert not receipt.audience.roles

    @invariant()
    def status_follows_certification(self) -> None:
        for pid in KINDS:
            poll = self.h.s.polls.polls[pid]
            assert poll.certified_by == self.certified[pid]
            assert (poll.status is p.PollStatus.CERTIFIED) == (len(self.certified[pid]) >= 4)
            busy = (p.PollStatus.OPEN, p.PollStatus.COUNTED)
            assert p.busy(self.h.s.polls) == any(q.status in busy for q in self.h.s.polls.polls.values())

    @invariant()
    def nobody_counted_twice(self) -> None:
        for pid in KINDS:
            poll = self.h.s.polls.polls[pid]
            assert poll.voted == self.voted[pid]
            assert poll.ballots_collected == len(poll.voted) == len(poll.receipts)
            said = [
                r.event.delegate_id
                for r in self.h.log
                if isinstance(r.event, p.PollDelegateVoted) and r.event.poll_id == pid
            ]
            assert len(said) == len(set(said)) == len(poll.voted)

    @invariant()
    def every_official_adds_up_and_matches_the_model(self) -> None:
        for pid, kind in KINDS.items():
            poll = self.h.s.polls.polls[pid]
            for o in OIDS:
                per = poll.counts[o]
                assert set(per) == {*(m.value for m in kind.levels), "invalid"}
                assert sum(per.values()) == poll.ballots_collected
                assert {k: v for k, v in per.items() if v} == dict(+self.counts[pid][o])
            if poll.result is not None:
                for r in poll.result.officials:
                    assert sum(r.counts.values()) + r.invalid == poll.result.ballots_collected

    @invariant()
    def the_announced_count_is_a_count_that_was(self) -> None:
        for pid in KINDS:
            poll = self.h.s.polls.polls[pid]
            assert 0 <= poll.ballots_reported <= len(poll.voted)

    @invariant()
    def counted_polls_never_change(self) -> None:
        for pid, snapshot in self.frozen.items():
            assert self.counted(pid) == snapshot

    @invariant()
    def replay_reproduces_state(self) -> None:
        assert sess.snapshot(self.h.replayed()) == sess.snapshot(self.h.s)

    @invariant()
    def no_event_links_a_delegate_to_marks(self) -> None:
        for r in self.h.log:
            f = msgspec.to_builtins(r.event)
            if "marks" in f:
                assert set(f) == {"type", "poll_id", "marks"} and r.audience.sealed
            if "delegate_id" in f or "receipt" in f:
                assert not {"marks", "counts", "result"} & set(f)

    @invariant()
    def the_public_sees_no_result_before_certification(self) -> None:
        for r in self.h.log:
            if isinstance(r.event, p.PollCounted):
                assert not r.audience.admits(PUBLIC) and not r.audience.admits(delegate(2))
            if r.audience.admits(PUBLIC) and isinstance(r.event, p.PollPublished):
                assert r.event.poll_id in {pid for pid in KINDS if len(self.certified[pid]) >= 4}


TestPolls = PollMachine.TestCase
TestPolls.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
