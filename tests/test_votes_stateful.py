"""A random walk through votes in a running session, checking the vote invariants after every step.

Also the outcome rules of issue 10 §1 and issue 9 §4: kinds and their lawful rules, the quorum to open a vote,
certification of secret rounds by their counting committee, the few-ballots confirmation, and seats vacated
while the session runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from meeting import agenda, votes
from meeting import session as sess
from meeting.actors import EVERYONE, Actor, Context, staff_and
from meeting.errors import DomainError
from meeting.hall import SessionStatus, VacancyGrounds
from meeting.messages import Command, Routed
from meeting.rules import BallotMode, PassRule, Rules, VoteKind
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Clock, delegate, did, running

OPTIONS = ["yes", "no", "abstain"]


class VoteMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.rounds: list[str] = []
        self.frozen: dict[str, Any] = {}  # round id -> its state when it closed or was cancelled
        self.received: dict[str, list[str]] = {}  # round id -> receipts handed to delegates

    @initialize(n=st.integers(15, 30), presence=st.booleans(), min_ballots=st.sampled_from([0, 5, 12]))
    def start(self, n: int, presence: bool, min_ballots: int) -> None:
        self.n = n
        # Sealed secret rounds: the model counts plain choices as the server does (verifiable rounds, the default,
        # are tests/test_verifiable_rounds.py).
        rules = Rules(presence_required=presence, secret_min_ballots=min_ballots, secret_mode=BallotMode.SEALED)
        self.h = running(n, rules=rules, items=3)
        self.clock = Clock(self.h.clock.now)

    @property
    def s(self) -> sess.SessionState:
        return self.h.s

    def _try(self, cmd: Command, actor: Actor, nonce: str | None = None) -> list[Routed] | None:
        """Run `cmd`; a refusal must leave the state exactly as it was."""
        self.clock.tick()
        self.clock.n += 1
        ctx = Context(actor=actor, now=self.clock.now, nonce=f"receipt-{self.clock.n:014d}" if nonce is None else nonce)
        before = sess.snapshot(self.s)
        try:
            routed = sess.decide(self.s, cmd, ctx)
        except DomainError:
            assert sess.snapshot(self.s) == before
            return None
        for r in routed:
            sess.apply(self.s, r.event)
        self.h.log.extend(routed)
        for r in routed:
            if isinstance(r.event, votes.BallotReceipt):
                self.received.setdefault(r.event.round_id, []).append(r.event.receipt)
        return routed

    def _next(self) -> datetime:
        """The time the next command will carry (`_try` ticks one second first)."""
        return self.clock.now + timedelta(seconds=1)

    def _stopped(self) -> bool:
        return self.s.hall.status is not SessionStatus.IN_PROGRESS

    def _committee(self) -> list[str]:
        """Seven seated delegates from the end of the roster (the province minimum)."""
        seated = sorted(self.s.hall.seated_ids())
        return seated[-self.s.hall.rules.committee_min :]

    def _freeze(self, rid: str) -> None:
        """A finished round never changes again, but for late committee signatures on its count record."""
        d = msgspec.to_builtins(self.s.votes.rounds[rid], order="deterministic")
        d.pop("certified_by")
        self.frozen[rid] = d

    def _round(self, k: int) -> str:
        """The k-th most recent round: recent rounds are the ones still open."""
        return self.rounds[-1 - k % len(self.rounds)] if self.rounds else "none"

    def _open(self, *, paper: bool, with_ballots: bool = False) -> list[str]:
        return [
            rid
            for rid, r in self.s.votes.rounds.items()
            if r.status is votes.RoundStatus.OPEN and r.paper == paper and (r.voted or not with_ballots)
        ]

    @rule(
        secret=st.booleans(),
        paper=st.sampled_from([False, False, False, True]),
        rule_=st.none() | st.sampled_from(PassRule),
        kind=st.sampled_from([VoteKind.RESOLUTION, VoteKind.RESOLUTION, VoteKind.PROCEDURAL, VoteKind.REMOVAL]),
        subject=st.none() | st.integers(1, 30),
        with_committee=st.sampled_from([True, True, True, False]),
        duration=st.none() | st.integers(5, 60),
    )
    def open_round(
        self,
        secret: bool,
        paper: bool,
        rule_: PassRule | None,
        kind: VoteKind,
        subject: int | None,
        with_committee: bool,
        duration: int | None,
    ) -> None:
        rid = f"r{len(self.rounds) + 1}"
        hall = self.s.hall
        item = hall.current_item
        assert item is not None
        on_item = any(r.item_id == item and r.status is votes.RoundStatus.OPEN for r in self.s.votes.rounds.values())
        subject_id = None if subject is None else did((subject - 1) % self.n + 1)
        committee = [c for c in self._committee() if c != subject_id] if secret and with_committee else []
        cmd = votes.OpenVote(
            round_id=rid,
            item_id=item,
            motion="Biểu quyết thông qua Nghị quyết",
            secret=secret,
            paper=paper,
            pass_rule=rule_,
            duration_seconds=duration,
            kind=kind,
            subject_id=subject_id,
            committee=committee,
        )
        rule_used = rule_ or (PassRule.TWO_THIRDS_OF_ALL if kind is VoteKind.REMOVAL else PassRule.MAJORITY_OF_ALL)
        expected = (
            not on_item
            and not self._stopped()
            and hall.quorum_met()  # the quorum to open a vote (Rules.vote_quorum_required, on by default)
            and rule_used in kind.allowed_rules
            and (subject_id is not None) == (kind is VoteKind.REMOVAL)
            and (subject_id is None or hall.seated(subject_id))
            and (not secret or len(committee) >= hall.rules.committee_min)
        )
        routed = self._try(cmd, CHAIR)
        assert (routed is not None) == expected, (cmd, rule_used)
        if routed is not None:
            self.rounds.append(rid)

    @rule(k=st.integers(1, 3))
    def move(self, k: int) -> None:
        self._try(agenda.MoveToItem(item_id=f"item-{k}"), CHAIR)

    @rule(k=st.integers(0, 3), i=st.integers(1, 30), option=st.sampled_from([*OPTIONS, "bogus"]))
    def cast(self, k: int, i: int, option: str) -> None:
        self._cast(self._round(k), (i - 1) % self.n + 1, option)

    @precondition(lambda self: self._open(paper=False))
    @rule(data=st.data())
    def a_wave_of_ballots(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self._open(paper=False)), label="round")
        who = data.draw(st.lists(st.integers(1, self.n), min_size=1, max_size=self.n), label="delegates")
        for i in who:
            self._cast(rid, i, data.draw(st.sampled_from(["yes", "yes", *OPTIONS]), label="option"))

    def _cast(self, rid: str, i: int, option: str) -> None:
        r = self.s.votes.rounds.get(rid)
        hall = self.s.hall
        expected = (
            hall.status is SessionStatus.IN_PROGRESS
            and r is not None
            and r.status is votes.RoundStatus.OPEN
            and not r.paper
            and (r.closes_at is None or self._next() < r.closes_at)
            and option in OPTIONS
            and hall.seated(did(i))  # a seat vacated while the round runs takes no more ballots
            and did(i) not in r.voted
            and (did(i) in hall.present or not hall.rules.presence_required)
        )
        routed = self._try(votes.CastBallot(round_id=rid, delegate_id=did(i), option=option), delegate(i))
        assert (routed is not None) == expected, (rid, i, option)

    @rule(k=st.integers(0, 3), i=st.integers(1, 30), j=st.integers(1, 30))
    def cast_as_someone_else(self, k: int, i: int, j: int) -> None:
        if (i - j) % self.n == 0:
            return
        cmd = votes.CastBallot(round_id=self._round(k), delegate_id=did((j - 1) % self.n + 1), option="yes")
        assert self._try(cmd, delegate((i - 1) % self.n + 1)) is None

    @rule(k=st.integers(0, 3), actor=st.sampled_from([SECRETARY, PUBLIC, RESPONDENT]))
    def cast_by_non_delegate(self, k: int, actor: Actor) -> None:
        cmd = votes.CastBallot(round_id=self._round(k), delegate_id=did(2), option="yes")
        assert self._try(cmd, actor) is None

    @rule(k=st.integers(0, 3), nonce=st.sampled_from(["", "short-nonce"]))
    def cast_with_a_bad_receipt(self, k: int, nonce: str) -> None:
        rid = self._round(k)
        r = self.s.votes.rounds.get(rid)
        routed = self._try(votes.CastBallot(round_id=rid, delegate_id=did(3), option="no"), delegate(3), nonce)
        if r is not None and (r.secret or not nonce):
            assert routed is None

    @rule(i=st.integers(1, 30))
    def toggle_presence(self, i: int) -> None:
        d = did((i - 1) % self.n + 1)
        cmd: Command = sess.CheckOut(delegate_id=d) if d in self.s.hall.present else sess.CheckIn(delegate_id=d)
        assert (self._try(cmd, SECRETARY) is not None) == self.s.hall.seated(d)

    @rule(i=st.integers(2, 30), grounds=st.sampled_from(VacancyGrounds), decision=st.sampled_from(["", "Số 15"]))
    def vacate(self, i: int, grounds: VacancyGrounds, decision: str) -> None:
        """A seat vacated during the session (resignation or death on record; removal needs a passed round)."""
        d = did((i - 1) % self.n + 1)
        total = self.s.hall.total
        cmd = sess.RecordVacancy(delegate_id=d, reason="Lý do", grounds=grounds, decision=decision)
        expected = self.s.hall.seated(d) and grounds is not VacancyGrounds.REMOVAL and bool(decision) and total > 10
        if total <= 10:
            return  # keep enough seats for the walk to go on
        routed = self._try(cmd, SECRETARY)
        assert (routed is not None) == expected
        if routed is not None:
            assert self.s.hall.total == total - 1 and d not in self.s.hall.present_seated()

    @rule(k=st.integers(0, 3), i=st.integers(1, 30))
    def certify(self, k: int, i: int) -> None:
        rid = self._round(k)
        r = self.s.votes.rounds.get(rid)
        d = did((i - 1) % self.n + 1)
        if r is not None and r.committee and i % 2:
            d = r.committee[i % len(r.committee)]  # mostly members, sometimes anyone
        expected = (
            r is not None
            and r.status in (votes.RoundStatus.COUNTED, votes.RoundStatus.CLOSED)
            and d in r.committee
            and d not in r.certified_by
        )
        was_counted = r is not None and r.status is votes.RoundStatus.COUNTED
        routed = self._try(votes.CertifyRound(round_id=rid), delegate(int(d[1:])))
        assert (routed is not None) == expected
        if routed is not None and was_counted and self.s.votes.rounds[rid].status is votes.RoundStatus.CLOSED:
            self._freeze(rid)

    def _few(self, r: votes.Round, ballots: int, confirm: bool) -> bool:
        """Refused for few ballots: a secret round below the council's minimum, not confirmed."""
        return r.secret and ballots < self.s.hall.rules.secret_min_ballots and not confirm

    @rule(k=st.integers(0, 3), confirm=st.booleans())
    def close(self, k: int, confirm: bool) -> None:
        self.close_or_refuse(self._round(k), confirm)

    def close_or_refuse(self, rid: str, confirm: bool = False) -> None:
        r = self.s.votes.rounds.get(rid)
        expected = (
            r is not None
            and r.status is votes.RoundStatus.OPEN
            and not r.paper
            and self.s.hall.status in (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)
            and not self._few(r, len(r.voted), confirm)
        )
        routed = self._try(votes.CloseRound(round_id=rid, confirm_few_ballots=confirm), CHAIR)
        assert (routed is not None) == expected
        if routed is not None:
            assert r is not None
            if r.committee:
                assert [type(x.event) for x in routed] == [votes.RoundBallotsClosed, votes.RoundCounted]
                assert r.status is votes.RoundStatus.COUNTED and r.result is None
                return
            self._freeze(rid)
            ev = routed[0].event
            assert isinstance(ev, votes.RoundClosed)
            assert sorted(self.received.get(rid, [])) == ev.receipts

    @precondition(lambda self: self._open(paper=False, with_ballots=True))
    @rule(data=st.data())
    def close_a_round_with_ballots(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self._open(paper=False, with_ballots=True)), label="round")
        self.close_or_refuse(rid, confirm=data.draw(st.booleans(), label="confirm"))

    @rule(k=st.integers(0, 3), actor=st.sampled_from([CHAIR, CHAIR, CHAIR, SECRETARY, PUBLIC]))
    def report_progress(self, k: int, actor: Actor) -> None:
        """The server's clock announcing the count: only a new number of an open round is written."""
        rid = self._round(k)
        r = self.s.votes.rounds.get(rid)
        expected = (
            actor is CHAIR
            and self.s.hall.status in (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)
            and r is not None
            and r.status is votes.RoundStatus.OPEN
            and len(r.voted) != r.ballots_reported
        )
        routed = self._try(votes.ReportProgress(round_id=rid), actor)
        assert (routed is not None) == expected
        if routed is not None:
            assert r is not None
            assert [x.event for x in routed] == [votes.RoundProgress(round_id=rid, ballots_cast=len(r.voted))]
            assert r.ballots_reported == len(r.voted)

    @rule(k=st.integers(0, 3), reason=st.sampled_from(["", "Sự cố thiết bị"]))
    def cancel(self, k: int, reason: str) -> None:
        rid = self._round(k)
        r = self.s.votes.rounds.get(rid)
        expected = r is not None and r.status is votes.RoundStatus.OPEN and bool(reason)
        routed = self._try(votes.CancelRound(round_id=rid, reason=reason), CHAIR)
        assert (routed is not None) == expected
        if routed is not None:
            self._freeze(rid)

    @rule(k=st.integers(0, 3), data=st.data())
    def enter_paper(self, k: int, data: st.DataObject) -> None:
        rid = self._round(k)
        r = self.s.votes.rounds.get(rid)
        counts = {o: data.draw(st.integers(-1, 12), label=o) for o in OPTIONS}
        if data.draw(st.booleans(), label="drop a key"):
            counts.pop("abstain")
        collected = sum(counts.values()) + data.draw(st.sampled_from([0, 0, 0, 1, -1]), label="skew")
        confirm = data.draw(st.booleans(), label="confirm")
        cmd = votes.EnterPaperResult(
            round_id=rid, counts=counts, ballots_collected=collected, confirm_few_ballots=confirm
        )
        expected = (
            r is not None
            and r.paper
            and r.status is votes.RoundStatus.OPEN
            and self.s.hall.status in (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)
            and len(counts) == 3
            and min(counts.values()) >= 0
            and collected == sum(counts.values())
            and collected <= r.total_delegates
            and not self._few(r, collected, confirm)
        )
        routed = self._try(cmd, SECRETARY)
        assert (routed is not None) == expected
        if routed is not None and self.s.votes.rounds[rid].status is votes.RoundStatus.CLOSED:
            self._freeze(rid)

    @precondition(lambda self: self.s.hall.status is SessionStatus.IN_PROGRESS)
    @rule(k=st.integers(0, 3), i=st.integers(1, 30))
    def a_break(self, k: int, i: int) -> None:
        """Suspend, try a ballot (refused while suspended) and resume: a short break keeps most steps live."""
        assert self._try(sess.SuspendSession(reason="Giải lao"), CHAIR) is not None
        self._cast(self._round(k), (i - 1) % self.n + 1, "yes")
        self.resume()

    @precondition(lambda self: self.s.hall.status is SessionStatus.SUSPENDED)
    @rule()
    def resume(self) -> None:
        self._try(sess.ResumeSession(), CHAIR)  # refused without a quorum: the invariants still hold

    @precondition(lambda self: self._open(paper=True))
    @rule(data=st.data())
    def count_the_paper_ballots(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self._open(paper=True)), label="round")
        collected = data.draw(st.integers(0, self.s.votes.rounds[rid].total_delegates), label="collected")
        yes = data.draw(st.integers(0, collected), label="yes")
        no = data.draw(st.integers(0, collected - yes), label="no")
        cmd = votes.EnterPaperResult(
            round_id=rid,
            counts={"yes": yes, "no": no, "abstain": collected - yes - no},
            ballots_collected=collected,
            confirm_few_ballots=True,
        )
        assert self._try(cmd, SECRETARY) is not None
        if self.s.votes.rounds[rid].status is votes.RoundStatus.CLOSED:
            self._freeze(rid)

    @rule(seconds=st.integers(1, 20))
    def wait(self, seconds: int) -> None:
        self.clock.tick(seconds)

    # --- invariants
    @invariant()
    def counted_once(self) -> None:
        for rid in self.rounds:
            voted = [
                r.event.delegate_id
                for r in self.h.log
                if isinstance(r.event, votes.DelegateVoted) and r.event.round_id == rid
            ]
            assert len(voted) == len(set(voted))
            rnd = self.s.votes.rounds[rid]
            assert rnd.voted == set(voted) and rnd.voted <= set(rnd.eligible)

    @invariant()
    def counts_add_up(self) -> None:
        for rnd in self.s.votes.rounds.values():
            if rnd.status is votes.RoundStatus.OPEN and not rnd.paper:
                assert sum(rnd.tally.values()) == len(rnd.voted) == len(rnd.receipts)
            if rnd.status is votes.RoundStatus.COUNTED:
                assert rnd.count is not None and rnd.result is None and rnd.committee
                assert sum(o.count for o in rnd.count.options) == rnd.count.ballots_collected
            if rnd.status is votes.RoundStatus.CLOSED:
                res = rnd.result
                assert res is not None
                total = sum(o.count for o in res.options)
                assert total == res.ballots_collected
                if not rnd.paper:
                    assert total == len(res.voted) and res.voted == sorted(rnd.voted)
                assert res.total_delegates == rnd.total_delegates  # the base is fixed when the round opens
                base = {
                    PassRule.MAJORITY_OF_ALL: res.total_delegates,
                    PassRule.TWO_THIRDS_OF_ALL: res.total_delegates,
                    PassRule.MAJORITY_OF_BALLOTS: res.ballots_collected,
                }[res.pass_rule]
                assert res.passed == res.pass_rule.threshold.met(res.options[0].count, base)
                assert res.passed == (res.options[0].count >= res.needed)
            if rnd.status is votes.RoundStatus.CANCELLED:
                assert rnd.result is None and not any(rnd.tally.values())

    @invariant()
    def finished_rounds_never_change(self) -> None:
        for rid, frozen in self.frozen.items():
            now = msgspec.to_builtins(self.s.votes.rounds[rid], order="deterministic")
            now.pop("certified_by")
            assert now == frozen

    @invariant()
    def busy_means_a_round_is_open_or_awaits_its_committee(self) -> None:
        statuses = {r.status for r in self.s.votes.rounds.values()}
        assert votes.busy(self.s.votes) == bool(statuses & {votes.RoundStatus.OPEN, votes.RoundStatus.COUNTED})

    @invariant()
    def rounds_open_lawfully(self) -> None:
        """Every round opened with the quorum present, under a rule the law allows for its kind, on the seated
        delegates of that moment."""
        for r in self.h.log:
            ev = r.event
            if isinstance(ev, votes.RoundOpened):
                assert self.s.hall.rules.quorum.met(len(ev.present), ev.total_delegates)
                assert ev.pass_rule in ev.kind.allowed_rules
                assert len(ev.eligible) == ev.total_delegates
                assert (ev.subject_id is not None) == (ev.kind is VoteKind.REMOVAL)

    @invariant()
    def secret_results_are_announced_certified_and_warned(self) -> None:
        for r in self.h.log:
            ev = r.event
            if not isinstance(ev, votes.RoundClosed):
                continue
            rnd = self.s.votes.rounds[ev.round_id]
            if rnd.committee:
                assert set(ev.certified_by) <= set(rnd.committee)
                assert len(ev.certified_by) == votes.MORE_THAN_HALF.minimum(len(rnd.committee))
            else:
                assert not ev.certified_by and not rnd.secret
            few = rnd.secret and ev.result.ballots_collected < self.s.hall.rules.secret_min_ballots
            assert ev.result.few_ballots_confirmed == few

    @invariant()
    def replay_reproduces_state(self) -> None:
        assert sess.snapshot(self.h.replayed()) == sess.snapshot(self.s)

    @invariant()
    def secret_rounds_stay_secret(self) -> None:
        secret = {rid for rid, r in self.s.votes.rounds.items() if r.secret}
        closed = set()
        for r in self.h.log:
            ev = r.event
            rid = getattr(ev, "round_id", None)
            if isinstance(ev, votes.RoundClosed):
                closed.add(rid)
            if isinstance(ev, votes.RoundCounted):
                assert not r.audience.admits(PUBLIC) and not r.audience.admits(delegate(2))
            if rid not in secret:
                continue
            fields = set(ev.__struct_fields__)
            assert not ({"delegate_id", "voted", "choices"} & fields and "option" in fields), ev
            if r.audience.sealed:
                assert fields == {"round_id", "option"}
            if rid not in closed and r.audience.admits(PUBLIC):
                assert "option" not in fields, ev
        for rid in secret:
            assert not self.s.votes.rounds[rid].choices

    @invariant()
    def the_public_never_sees_a_live_option_count(self) -> None:
        for r in self.h.log:
            if isinstance(r.event, votes.BallotCast | votes.SecretBallot):
                assert not r.audience.admits(PUBLIC)

    @invariant()
    def who_voted_goes_to_staff_and_the_voter_only(self) -> None:
        for r in self.h.log:
            if isinstance(r.event, votes.DelegateVoted):
                assert r.audience == staff_and(r.event.delegate_id)
            elif isinstance(r.event, votes.RoundProgress):
                assert r.audience == EVERYONE and set(r.event.__struct_fields__) == {"round_id", "ballots_cast"}

    @invariant()
    def the_announced_count_is_a_count_that_was(self) -> None:
        for rnd in self.s.votes.rounds.values():
            assert 0 <= rnd.ballots_reported <= len(rnd.voted)


VoteMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestVotes = VoteMachine.TestCase
