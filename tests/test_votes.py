"""Voting (biểu quyết): thresholds at their boundaries, every refusal, attendance records, secrecy, replay."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from meeting import agenda, views, votes
from meeting import session as sess
from meeting.actors import EVERYONE, Actor, Context, Role
from meeting.errors import MESSAGES, Code, DomainError
from meeting.hall import Delegate
from meeting.messages import Routed
from meeting.rules import BallotMode, BallotOption, Level, PassRule, Rules, VoteKind, rules_for
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Clock, Hall, delegate, did, running


class _Clock(Clock):
    """The factory's nonces have 12 characters, fewer than a secret ballot receipt needs (MIN_RECEIPT)."""

    nonce: str | None = None  # set to hand out one fixed nonce (a broken caller)

    def ctx(self, actor: Actor) -> Context:
        self.n += 1
        nonce = self.nonce if self.nonce is not None else f"receipt-{self.n:014d}"
        return Context(actor=actor, now=self.now, nonce=nonce)


def hall(n: int = 50, present: int | None = None, **kw: Any) -> Hall:
    h = running(n, present, **kw)
    clock = _Clock(h.clock.now)
    clock.n = h.clock.n
    h.clock = clock
    return h


def committee(h: Hall) -> list[str]:
    """The last `committee_min` delegates: the counting committee of a secret round (the rules' minimum)."""
    n, m = len(h.s.hall.delegates), h.s.hall.rules.committee_min
    return [did(i) for i in range(n - m + 1, n + 1)]


def member(person: str) -> Actor:
    return Actor(roles=frozenset({Role.DELEGATE, Role.COMMITTEE}), person_id=person)


def certify(h: Hall, rid: str = "r1") -> Routed:
    """More than half of the round's committee certifies; the last certification announces the result."""
    r = h.s.votes.rounds[rid]
    routed: list[Routed] = []
    for m in r.committee[: len(r.committee) // 2 + 1]:
        routed = h.accept(votes.CertifyRound(round_id=rid), member(m))
    assert isinstance(routed[-1].event, votes.RoundClosed)
    return routed[-1]


def open_round(h: Hall, rid: str = "r1", **kw: Any) -> votes.RoundOpened:
    if kw.get("secret") and h.s.hall.rules.secret_certification:
        kw.setdefault("committee", committee(h))
    if kw.get("secret"):
        # The server-side count of the sealed mode is what these tests check; the verifiable mode (the default,
        # issue 13 §2) is tests/test_verifiable_rounds.py.
        kw.setdefault("mode", BallotMode.SEALED)
    kw.setdefault("item_id", h.s.hall.current_item)
    kw.setdefault("motion", "Biểu quyết thông qua toàn văn dự thảo Nghị quyết")
    routed = h.accept(votes.OpenVote(round_id=rid, **kw), CHAIR)
    ev = routed[0].event
    assert isinstance(ev, votes.RoundOpened)
    return ev


def cast(h: Hall, i: int, option: str = "yes", rid: str = "r1") -> list[Routed]:
    return h.accept(votes.CastBallot(round_id=rid, delegate_id=did(i), option=option), delegate(i))


def ballot(i: int, option: str = "yes", rid: str = "r1") -> votes.CastBallot:
    return votes.CastBallot(round_id=rid, delegate_id=did(i), option=option)


def vote(h: Hall, rid: str = "r1", /, **by_option: Iterable[int]) -> None:
    for option, numbers in by_option.items():
        for i in numbers:
            cast(h, i, option, rid)


def close(h: Hall, rid: str = "r1") -> votes.VoteResult:
    ev = h.accept(votes.CloseRound(round_id=rid), CHAIR)[0].event
    if isinstance(ev, votes.RoundBallotsClosed):
        ev = certify(h, rid).event
    assert isinstance(ev, votes.RoundClosed)
    return ev.result


def counts(result: votes.VoteResult) -> dict[str, int]:
    return {o.key: o.count for o in result.options}


def assert_replays(h: Hall) -> None:
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)


# --- thresholds at their boundaries (Law 77/2015/QH13 art. 91(3); council sizes Law 72/2025/QH15 art. 30)
@pytest.mark.parametrize(
    ("n", "level", "rule", "needed"),
    [
        (50, Level.PROVINCE, PassRule.MAJORITY_OF_ALL, 26),
        (50, Level.PROVINCE, PassRule.TWO_THIRDS_OF_ALL, 34),
        (85, Level.PROVINCE, PassRule.MAJORITY_OF_ALL, 43),
        (85, Level.PROVINCE, PassRule.TWO_THIRDS_OF_ALL, 57),
        (125, Level.PROVINCE, PassRule.MAJORITY_OF_ALL, 63),
        (125, Level.PROVINCE, PassRule.TWO_THIRDS_OF_ALL, 84),
        (15, Level.COMMUNE, PassRule.MAJORITY_OF_ALL, 8),
        (15, Level.COMMUNE, PassRule.TWO_THIRDS_OF_ALL, 10),
    ],
)
def test_pass_boundary(n: int, level: Level, rule: PassRule, needed: int) -> None:
    h = hall(n, level=level)
    open_round(h, "short", pass_rule=rule)
    vote(h, "short", yes=range(1, needed), no=range(needed, n + 1))
    short = close(h, "short")
    assert (short.needed, short.passed, counts(short)["yes"]) == (needed, False, needed - 1)
    assert short.ballots_collected == n and short.total_delegates == n

    open_round(h, "enough", pass_rule=rule)
    vote(h, "enough", yes=range(1, needed + 1), abstain=range(needed + 1, n + 1))
    enough = close(h, "enough")
    assert (enough.needed, enough.passed, counts(enough)["yes"]) == (needed, True, needed)
    assert_replays(h)


def test_abstentions_and_absences_count_against_under_the_default_rule() -> None:
    h = hall(50, present=40)
    open_round(h)
    # 25 of the 40 present is a clear majority of the room, but not more than half of all 50 delegates.
    vote(h, yes=range(1, 26), abstain=range(26, 41))
    r = close(h)
    assert r.pass_rule is PassRule.MAJORITY_OF_ALL
    assert (r.needed, r.passed, r.ballots_collected) == (26, False, 40)
    assert counts(r) == {"yes": 25, "no": 0, "abstain": 15}


def test_majority_of_ballots_uses_ballots_collected() -> None:
    h = hall(50, present=40)
    procedural = VoteKind.PROCEDURAL  # never a resolution: art. 91(3) counts all delegates
    open_round(h, "a", pass_rule=PassRule.MAJORITY_OF_BALLOTS, kind=procedural)
    vote(h, "a", yes=range(1, 21), no=range(21, 41))
    a = close(h, "a")
    assert (a.needed, a.passed) == (21, False)  # 20 of 40 is half, not more than half
    open_round(h, "b", pass_rule=PassRule.MAJORITY_OF_BALLOTS, kind=procedural)
    vote(h, "b", yes=range(1, 22), no=range(22, 31))  # 21 of 30 ballots; 10 present did not vote
    b = close(h, "b")
    assert (b.needed, b.passed, b.ballots_collected) == (16, True, 30)


def test_no_ballots_never_passes() -> None:
    h = hall(15, level=Level.COMMUNE)
    open_round(h, pass_rule=PassRule.MAJORITY_OF_BALLOTS, kind=VoteKind.PROCEDURAL)
    r = close(h)
    assert (r.ballots_collected, r.needed, r.passed, r.voted) == (0, 1, False, [])


def test_share_of_all_is_over_all_delegates_and_rounded() -> None:
    h = hall(15, level=Level.COMMUNE)
    open_round(h)
    vote(h, yes=range(1, 9), no=range(9, 11))  # 5 did not vote
    r = close(h)
    shares = {o.key: o.share_of_all for o in r.options}
    assert shares == {"yes": 53.33, "no": 13.33, "abstain": 0.0}
    assert [o.label for o in r.options] == ["Tán thành", "Không tán thành", "Không biểu quyết"]
    assert r.passed  # 8 of 15


def test_rules_give_the_default_options_and_pass_rule() -> None:
    options = (BallotOption(key="for", label="Đồng ý"), BallotOption(key="against", label="Không đồng ý"))
    rules = Rules(default_pass_rule=PassRule.TWO_THIRDS_OF_ALL, options=options)
    h = hall(15, rules=rules)
    ev = open_round(h)
    assert ev.pass_rule is PassRule.TWO_THIRDS_OF_ALL
    assert [o.key for o in ev.options] == ["for", "against"]
    h.refuse(ballot(2, "yes"), delegate(2), Code.UNKNOWN_OPTION)
    vote(h, **{"for": range(1, 10)})
    assert not close(h).passed  # 9 of 15 is less than two thirds (10)


def test_custom_options_first_one_passes() -> None:
    h = hall(15, level=Level.COMMUNE)
    opts = [BallotOption(key="a", label="  Phương án A "), BallotOption(key="b", label="Phương án B")]
    ev = open_round(h, options=opts)
    assert ev.options[0].label == "Phương án A"
    vote(h, a=range(1, 9), b=range(9, 16))
    assert close(h).passed


# --- what the result records
def test_result_records_eligibility_and_attendance_at_open_and_close() -> None:
    h = hall(50, present=40)
    opened = open_round(h, duration_seconds=120, normative=True)
    assert opened.eligible == [did(i) for i in range(1, 51)]
    assert opened.present == [did(i) for i in range(1, 41)]
    assert opened.closes_at == opened.opened_at + timedelta(seconds=120)
    vote(h, yes=range(1, 11))
    h.accept(sess.CheckOut(delegate_id=did(10)), delegate(10))  # voted, then left the hall
    h.accept(sess.CheckIn(delegate_id=did(45)), delegate(45))  # arrived mid-vote: may vote
    cast(h, 45, "no")
    h.accept(sess.CheckOut(delegate_id=did(20)), delegate(20))  # left without voting
    r = close(h)
    assert r.eligible_at_open == [did(i) for i in range(1, 51)]
    assert r.present_at_open == [did(i) for i in range(1, 41)]
    assert r.present_at_close == sorted({did(i) for i in range(1, 41)} - {did(10), did(20)} | {did(45)})
    assert r.voted == sorted([did(i) for i in range(1, 11)] + [did(45)])
    assert r.ballots_collected == 11 and counts(r) == {"yes": 10, "no": 1, "abstain": 0}
    assert (r.opened_at, r.normative, r.secret, r.paper) == (opened.opened_at, True, False, False)
    assert r.closed_at == h.clock.now
    assert r.motion == "Biểu quyết thông qua toàn văn dự thảo Nghị quyết" and r.item_id == "item-1"
    assert_replays(h)


def test_named_round_keeps_each_choice_on_record_and_counts_live() -> None:
    h = hall(20)
    open_round(h)
    routed = cast(h, 3, "no")
    kinds = [type(r.event) for r in routed]
    assert kinds == [votes.BallotCast, votes.DelegateVoted, votes.BallotReceipt]
    named, voted, receipt = (r for r in routed)
    assert isinstance(named.event, votes.BallotCast) and named.event.ballots_cast == 1
    assert named.audience.admits(CHAIR) and named.audience.admits(SECRETARY) and named.audience.admits(delegate(3))
    assert not named.audience.admits(delegate(4)) and not named.audience.admits(PUBLIC)
    # "Who voted" goes to staff and the voter only; the hall gets the coalesced count (RoundProgress).
    assert voted.audience.admits(CHAIR) and voted.audience.admits(SECRETARY) and voted.audience.admits(delegate(3))
    assert not voted.audience.admits(delegate(4)) and not voted.audience.admits(PUBLIC)
    assert receipt.audience.admits(delegate(3)) and not receipt.audience.admits(CHAIR)
    ev = cast(h, 4)[0].event
    assert isinstance(ev, votes.BallotCast) and ev.ballots_cast == 2
    rnd = h.s.votes.rounds["r1"]
    assert rnd.choices == {did(3): "no", did(4): "yes"}
    assert rnd.tally == {"yes": 1, "no": 1, "abstain": 0}
    closed = h.accept(votes.CloseRound(round_id="r1"), CHAIR)[0]
    assert closed.audience.admits(PUBLIC)


def test_busy_while_a_round_is_open_and_session_cannot_close() -> None:
    h = hall(15)
    assert not votes.busy(h.s.votes)
    open_round(h)
    assert votes.busy(h.s.votes)
    h.refuse(sess.CloseSession(), CHAIR, Code.INVALID)
    close(h)
    assert not votes.busy(h.s.votes)
    h.accept(sess.CloseSession(), CHAIR)


# --- refusals
def test_second_ballot_is_refused_even_for_another_option() -> None:
    h = hall(20)
    open_round(h)
    cast(h, 2, "abstain")
    h.refuse(ballot(2, "abstain"), delegate(2), Code.ALREADY_VOTED)
    h.refuse(ballot(2, "yes"), delegate(2), Code.ALREADY_VOTED)
    # Having voted and left, coming back does not give a second ballot either.
    h.accept(sess.CheckOut(delegate_id=did(2)), delegate(2))
    h.refuse(ballot(2, "yes"), delegate(2), Code.ALREADY_VOTED)
    assert counts(close(h))["abstain"] == 1


def test_ballot_after_close_and_after_cancel() -> None:
    h = hall(20)
    open_round(h, "a")
    cast(h, 2, rid="a")
    close(h, "a")
    h.refuse(ballot(3, rid="a"), delegate(3), Code.ROUND_NOT_OPEN)
    h.refuse(votes.CloseRound(round_id="a"), CHAIR, Code.ROUND_NOT_OPEN)
    h.refuse(votes.CancelRound(round_id="a", reason="nhầm"), CHAIR, Code.ROUND_NOT_OPEN)

    open_round(h, "b")
    cast(h, 2, rid="b")
    cancelled = h.accept(votes.CancelRound(round_id="b", reason="  Biểu quyết nhầm nội dung "), CHAIR)[0].event
    assert isinstance(cancelled, votes.RoundCancelled) and cancelled.reason == "Biểu quyết nhầm nội dung"
    rnd = h.s.votes.rounds["b"]
    assert rnd.status is votes.RoundStatus.CANCELLED and rnd.result is None
    assert rnd.tally == {"yes": 0, "no": 0, "abstain": 0} and rnd.choices == {}
    h.refuse(ballot(3, rid="b"), delegate(3), Code.ROUND_NOT_OPEN)
    h.refuse(votes.CloseRound(round_id="b"), CHAIR, Code.ROUND_NOT_OPEN)
    h.refuse(votes.CancelRound(round_id="b", reason="lại"), CHAIR, Code.ROUND_NOT_OPEN)
    assert_replays(h)


@pytest.mark.parametrize("actor", [SECRETARY, PUBLIC, RESPONDENT])
def test_ballot_from_a_non_delegate(actor: Actor) -> None:
    h = hall(20)
    open_round(h)
    h.refuse(ballot(2), actor, Code.NOT_A_DELEGATE)


def test_ballot_as_another_delegate() -> None:
    h = hall(20)
    open_round(h)
    h.refuse(ballot(3), delegate(2), Code.NOT_YOURSELF)
    h.refuse(ballot(3), CHAIR, Code.NOT_YOURSELF)  # the chair votes only as d001


def test_ballot_from_a_vacated_seat_and_from_someone_seated_after_the_round_opened() -> None:
    h = hall(20)
    open_round(h)
    ctx = h.clock.ctx(delegate(5))
    seats = dict(h.s.hall.delegates)
    seats[did(5)] = Delegate(id=did(5), name="Đại biểu số 5", seated=False)
    vacated = msgspec.structs.replace(h.s.hall, delegates=seats)
    with pytest.raises(DomainError) as e:
        votes.decide(vacated, h.s.votes, ballot(5), ctx)
    assert e.value.code is Code.SEAT_VACANT
    # Eligibility is fixed when the round opens: a seat filled later does not vote in it.
    seats = {**h.s.hall.delegates, did(99): Delegate(id=did(99), name="Đại biểu mới")}
    joined = msgspec.structs.replace(h.s.hall, delegates=seats, present={*h.s.hall.present, did(99)})
    with pytest.raises(DomainError) as e:
        votes.decide(joined, h.s.votes, ballot(99), h.clock.ctx(delegate(99)))
    assert e.value.code is Code.NOT_ELIGIBLE


def test_absent_delegate_cannot_vote_until_checked_in() -> None:
    h = hall(50, present=40)
    open_round(h)
    h.refuse(ballot(45), delegate(45), Code.ABSENT)
    h.accept(sess.CheckIn(delegate_id=did(45)), delegate(45))
    cast(h, 45)
    h.accept(sess.CheckOut(delegate_id=did(3)), delegate(3))
    h.refuse(ballot(3), delegate(3), Code.ABSENT)


def test_absent_delegate_may_vote_when_presence_is_not_required() -> None:
    h = hall(50, present=40, rules=Rules(presence_required=False))
    open_round(h)
    cast(h, 45)
    assert close(h).voted == [did(45)]


def test_unknown_option_and_unknown_round() -> None:
    h = hall(20)
    open_round(h)
    h.refuse(ballot(2, "Yes"), delegate(2), Code.UNKNOWN_OPTION)
    h.refuse(ballot(2, ""), delegate(2), Code.UNKNOWN_OPTION)
    h.refuse(ballot(2, rid="r2"), delegate(2), Code.UNKNOWN_ROUND)
    h.refuse(votes.CloseRound(round_id="r2"), CHAIR, Code.UNKNOWN_ROUND)
    h.refuse(votes.CancelRound(round_id="r2", reason="x"), CHAIR, Code.UNKNOWN_ROUND)
    h.refuse(votes.EnterPaperResult(round_id="r2", counts={}, ballots_collected=0), SECRETARY, Code.UNKNOWN_ROUND)


def test_one_open_round_per_item() -> None:
    h = hall(20)
    open_round(h, "a")
    h.refuse(votes.OpenVote(round_id="b", item_id="item-1", motion="Lần hai"), CHAIR, Code.ROUND_OPEN_ON_ITEM)
    # Another item may have its own round while the first is still open.
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    open_round(h, "b")
    assert {r.item_id for r in h.s.votes.rounds.values()} == {"item-1", "item-2"}
    h.refuse(votes.OpenVote(round_id="c", item_id="item-1", motion="Lần hai"), CHAIR, Code.ROUND_OPEN_ON_ITEM)
    close(h, "a")
    close(h, "b")
    # Once closed, the same item can be voted on again (e.g. an amendment, then the whole text).
    open_round(h, "c")


@pytest.mark.parametrize("actor", [delegate(2), SECRETARY, PUBLIC, RESPONDENT])
def test_only_the_chair_opens_closes_and_cancels(actor: Actor) -> None:
    h = hall(20)
    h.refuse(votes.OpenVote(round_id="r1", item_id="item-1", motion="Biểu quyết"), actor, Code.FORBIDDEN)
    open_round(h)
    h.refuse(votes.CloseRound(round_id="r1"), actor, Code.FORBIDDEN)
    h.refuse(votes.CancelRound(round_id="r1", reason="Lý do"), actor, Code.FORBIDDEN)


@pytest.mark.parametrize(
    "change",
    [
        {"round_id": ""},
        {"round_id": "r" * (votes.MAX_ID + 1)},
        {"motion": "   "},
        {"motion": "x" * (votes.MAX_TEXT + 1)},
        {"item_id": "item-2"},  # not the current item
        {"item_id": "no-such-item"},
        {"options": [BallotOption(key="yes", label="Tán thành")]},
        {"options": [BallotOption(key="a", label="A"), BallotOption(key="a", label="B")]},
        {"options": [BallotOption(key="a", label="A"), BallotOption(key="", label="B")]},
        {"options": [BallotOption(key="a", label="A"), BallotOption(key=" b", label="B")]},
        {"options": [BallotOption(key="a", label="A"), BallotOption(key="b", label="  ")]},
        {"options": [BallotOption(key="a", label="A"), BallotOption(key="b" * 41, label="B")]},
        {"options": [BallotOption(key="a", label="A"), BallotOption(key="b", label="B" * 201)]},
        {"options": [BallotOption(key=f"k{i}", label=f"L{i}") for i in range(votes.MAX_OPTIONS + 1)]},
        {"duration_seconds": 0},
        {"duration_seconds": -60},
        {"duration_seconds": votes.MAX_DURATION_SECONDS + 1},
    ],
)
def test_open_refuses_bad_input(change: dict[str, Any]) -> None:
    h = hall(15)
    fields: dict[str, Any] = {"round_id": "r1", "item_id": "item-1", "motion": "Biểu quyết"} | change
    h.refuse(votes.OpenVote(**fields), CHAIR, Code.INVALID)


def test_open_limits_are_inclusive() -> None:
    h = hall(15)
    many = [BallotOption(key=f"k{i}", label=f"L{i}") for i in range(votes.MAX_OPTIONS)]
    open_round(h, "r" * votes.MAX_ID, motion="x" * votes.MAX_TEXT, options=many, duration_seconds=1)
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    open_round(h, "r2", duration_seconds=votes.MAX_DURATION_SECONDS)


def test_open_refuses_duplicate_id_missing_item_and_wrong_session_state() -> None:
    h = hall(15)
    open_round(h)
    close(h)
    h.refuse(votes.OpenVote(round_id="r1", item_id="item-1", motion="Lại"), CHAIR, Code.DUPLICATE_ID)
    h.accept(sess.SuspendSession(reason="Giải lao"), CHAIR)
    h.refuse(votes.OpenVote(round_id="r2", item_id="item-1", motion="Lại"), CHAIR, Code.WRONG_SESSION_STATE)
    h2 = hall(15, items=0)
    h2.refuse(votes.OpenVote(round_id="r1", item_id="item-1", motion="Lại"), CHAIR, Code.NO_CURRENT_ITEM)


def test_suspension_stops_ballots_but_the_chair_may_still_close_or_cancel() -> None:
    h = hall(15)
    open_round(h, "a")
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    open_round(h, "b")
    cast(h, 2, rid="a")
    h.accept(sess.SuspendSession(reason="Mất điện"), CHAIR)
    h.refuse(ballot(3, rid="a"), delegate(3), Code.WRONG_SESSION_STATE)
    assert close(h, "a").voted == [did(2)]
    h.accept(votes.CancelRound(round_id="b", reason="Mất điện"), CHAIR)
    h.accept(sess.CloseSession(), CHAIR)
    h.refuse(votes.CloseRound(round_id="a"), CHAIR, Code.WRONG_SESSION_STATE)


def test_cancel_needs_a_reason() -> None:
    h = hall(15)
    open_round(h)
    h.refuse(votes.CancelRound(round_id="r1", reason="  "), CHAIR, Code.INVALID)
    h.refuse(votes.CancelRound(round_id="r1", reason="x" * (votes.MAX_TEXT + 1)), CHAIR, Code.INVALID)
    h.accept(votes.CancelRound(round_id="r1", reason="x" * votes.MAX_TEXT), CHAIR)


def test_deadline_closes_the_ballot_box_before_the_timer_fires() -> None:
    h = hall(15)
    opened = open_round(h, duration_seconds=60)
    h.clock.now = opened.opened_at + timedelta(seconds=58)
    cast(h, 2)  # accept ticks one second: cast at 59 s
    h.refuse(ballot(3), delegate(3), Code.ROUND_NOT_OPEN)  # at 60 s
    r = close(h)  # the server's timer closes with a chair actor
    assert r.voted == [did(2)]


# --- paper ballots
def test_paper_round_result_is_entered_by_the_secretariat() -> None:
    h = hall(50, present=45)
    open_round(h, paper=True, secret=True)
    h.refuse(ballot(2), delegate(2), Code.ROUND_IS_PAPER)
    h.refuse(votes.CloseRound(round_id="r1"), CHAIR, Code.ROUND_IS_PAPER)
    entry = votes.EnterPaperResult(round_id="r1", counts={"yes": 26, "no": 10, "abstain": 8}, ballots_collected=44)
    h.refuse(entry, CHAIR, Code.FORBIDDEN)
    h.refuse(entry, delegate(2), Code.FORBIDDEN)
    h.accept(sess.SuspendSession(reason="Kiểm phiếu"), CHAIR)  # counting happens during a break
    counted = h.accept(entry, SECRETARY)
    assert [type(x.event) for x in counted] == [votes.RoundBallotsClosed, votes.RoundCounted]
    assert votes.busy(h.s.votes)  # the secret count awaits the committee
    ev = certify(h).event
    assert isinstance(ev, votes.RoundClosed) and ev.receipts == []
    r = ev.result
    assert (r.paper, r.secret, r.ballots_collected, r.needed, r.passed, r.voted) == (True, True, 44, 26, True, [])
    assert counts(r) == {"yes": 26, "no": 10, "abstain": 8}
    assert r.present_at_open == r.present_at_close == [did(i) for i in range(1, 46)]
    h.refuse(entry, SECRETARY, Code.ROUND_NOT_OPEN)
    assert not votes.busy(h.s.votes)
    assert_replays(h)


@pytest.mark.parametrize(
    ("paper_counts", "collected"),
    [
        ({"yes": 26, "no": 10, "abstain": 8}, 45),  # sum 44 != 45
        ({"yes": 26, "no": 10, "abstain": 8}, 43),
        ({"yes": 26, "no": 18}, 44),  # a key missing
        ({"yes": 26, "no": 10, "abstain": 8, "void": 0}, 44),  # a key too many
        ({"yes": 26, "no": 10, "Abstain": 8}, 44),  # a wrong key
        ({"yes": 30, "no": -2, "abstain": 16}, 44),  # negative count
        ({"yes": 0, "no": 0, "abstain": 0}, -1),
        ({"yes": 40, "no": 10, "abstain": 1}, 51),  # more ballots than the 50 delegates
    ],
)
def test_paper_result_refuses_bad_counts(paper_counts: dict[str, int], collected: int) -> None:
    h = hall(50)
    open_round(h, paper=True)
    cmd = votes.EnterPaperResult(round_id="r1", counts=paper_counts, ballots_collected=collected)
    h.refuse(cmd, SECRETARY, Code.COUNTS_INVALID)


def test_paper_result_at_the_limits() -> None:
    h = hall(50)
    open_round(h, "a", paper=True)
    full = votes.EnterPaperResult(round_id="a", counts={"yes": 25, "no": 25, "abstain": 0}, ballots_collected=50)
    ev = h.accept(full, SECRETARY)[0].event
    assert isinstance(ev, votes.RoundClosed) and not ev.result.passed  # 25 of 50 is not more than half
    open_round(h, "b", paper=True, pass_rule=PassRule.MAJORITY_OF_BALLOTS, kind=VoteKind.PROCEDURAL)
    empty = votes.EnterPaperResult(round_id="b", counts={"yes": 0, "no": 0, "abstain": 0}, ballots_collected=0)
    ev = h.accept(empty, SECRETARY)[0].event
    assert isinstance(ev, votes.RoundClosed) and (ev.result.needed, ev.result.passed) == (1, False)


def test_paper_result_on_an_electronic_round() -> None:
    h = hall(15)
    open_round(h)
    cmd = votes.EnterPaperResult(round_id="r1", counts={"yes": 8, "no": 0, "abstain": 0}, ballots_collected=8)
    h.refuse(cmd, SECRETARY, Code.ROUND_NOT_PAPER)


# --- secret rounds
def _mentions_delegate(ev: msgspec.Struct) -> bool:
    return "delegate_id" in ev.__struct_fields__ or "voted" in ev.__struct_fields__


def _mentions_option(ev: msgspec.Struct) -> bool:
    return "option" in ev.__struct_fields__


def test_secret_round_never_pairs_a_delegate_with_a_choice() -> None:
    h = hall(20)
    open_round(h, secret=True)
    start = len(h.log)
    given: dict[str, str] = {}
    for i, option in zip(range(1, 16), ["yes", "no", "abstain"] * 5, strict=True):
        routed = cast(h, i, option)
        assert [type(r.event) for r in routed] == [votes.DelegateVoted, votes.SecretBallot, votes.BallotReceipt]
        receipt = routed[2]
        assert isinstance(receipt.event, votes.BallotReceipt)
        assert receipt.audience.admits(delegate(i))
        assert not any(receipt.audience.admits(a) for a in (SECRETARY, PUBLIC, RESPONDENT, delegate(i + 1)))
        given[did(i)] = receipt.event.receipt
    assert not h.s.votes.rounds["r1"].choices
    live = h.log[start:]
    counting = h.accept(votes.CloseRound(round_id="r1"), CHAIR)
    closed = certify(h)
    for r in [*live, *counting, closed]:
        assert not (_mentions_delegate(r.event) and _mentions_option(r.event)), r.event
        if r.audience.sealed:
            assert set(r.event.__struct_fields__) == {"round_id", "option"}
    # Nothing the public may see before the close carries an option at all.
    assert not any(
        _mentions_option(r.event) or "tally" in r.event.__struct_fields__ for r in live if r.audience.admits(PUBLIC)
    )
    assert {type(r.event) for r in live if r.audience.sealed} == {votes.SecretBallot}
    assert isinstance(closed.event, votes.RoundClosed) and closed.audience.admits(PUBLIC)
    assert closed.event.receipts == sorted(given.values())
    assert len(set(given.values())) == 15
    result = closed.event.result
    assert counts(result) == {"yes": 5, "no": 5, "abstain": 5}
    assert result.voted == sorted(given) and result.secret
    assert_replays(h)


def test_secret_round_state_rebuilds_without_the_sealed_ballots_once_closed() -> None:
    h = hall(20)
    open_round(h, "a", secret=True)
    vote(h, "a", yes=range(1, 12), no=range(12, 15))
    ordered = [r.event for r in h.log if not r.audience.sealed]
    # While open, the running tally needs the sealed ballots...
    assert sess.replay(ordered).votes.rounds["a"].tally != h.s.votes.rounds["a"].tally
    close(h, "a")
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    open_round(h, "b", secret=True)
    vote(h, "b", no=range(1, 4))
    h.accept(votes.CancelRound(round_id="b", reason="Sự cố thiết bị"), CHAIR)
    # ...once closed or cancelled, the ordered log alone gives the same state.
    ordered = [r.event for r in h.log if not r.audience.sealed]
    assert sess.snapshot(sess.replay(ordered)) == sess.snapshot(h.s)


def test_secret_ballot_needs_an_unguessable_receipt() -> None:
    h = hall(20)
    open_round(h, "s", secret=True)
    assert isinstance(h.clock, _Clock)
    for nonce in ["", "x" * (votes.MIN_RECEIPT - 1), "x" * (votes.MAX_RECEIPT + 1)]:
        h.clock.nonce = nonce
        h.refuse(ballot(2, rid="s"), delegate(2), Code.INVALID)
    h.clock.nonce = "x" * votes.MIN_RECEIPT
    cast(h, 2, rid="s")
    h.refuse(ballot(3, rid="s"), delegate(3), Code.INVALID)  # the same receipt twice
    # A named round needs a receipt too, but a short one will do: the ballot is on the record anyway.
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    h.clock.nonce = None
    open_round(h, "n")
    h.clock.nonce = ""
    h.refuse(ballot(2, rid="n"), delegate(2), Code.INVALID)
    h.clock.nonce = "short"
    cast(h, 2, rid="n")
    assert close(h, "n").voted == [did(2)]


# --- the live count: who voted goes to staff and the voter, the number to everyone
def progress(h: Hall, rid: str = "r1", actor: Actor = CHAIR) -> votes.RoundProgress:
    routed = h.accept(votes.ReportProgress(round_id=rid), actor)
    assert len(routed) == 1
    ev = routed[0].event
    assert isinstance(ev, votes.RoundProgress) and routed[0].audience == EVERYONE
    return ev


def test_progress_announces_the_number_of_ballots_to_everyone() -> None:
    h = hall(20)
    open_round(h)
    vote(h, yes=[2, 3, 4], no=[5, 6])
    ev = progress(h)
    assert ev == votes.RoundProgress(round_id="r1", ballots_cast=5)
    assert set(ev.__struct_fields__) == {"round_id", "ballots_cast"}  # a number: never who, never what
    assert h.s.votes.rounds["r1"].ballots_reported == 5
    # The same number again would be a message to every screen saying nothing new: refused, nothing written.
    e = h.refuse(votes.ReportProgress(round_id="r1"), CHAIR, Code.PROGRESS_UNCHANGED)
    assert "r1" in e.refusal.message_vi and "5" in e.refusal.message_vi and "5" in e.refusal.message_en
    cast(h, 7)
    assert progress(h).ballots_cast == 6
    # The server's clock is a chair without a seat (server/engine.py PROGRESS): it may announce too.
    cast(h, 8)
    assert progress(h, actor=Actor(roles=frozenset({Role.CHAIR}))).ballots_cast == 7
    result = close(h)
    assert result.ballots_collected == 7 and h.s.votes.rounds["r1"].ballots_reported == 7
    assert_replays(h)


def test_progress_refusals() -> None:
    h = hall(20)
    h.refuse(votes.ReportProgress(round_id="r1"), CHAIR, Code.UNKNOWN_ROUND)
    open_round(h)
    h.refuse(votes.ReportProgress(round_id="r1"), CHAIR, Code.PROGRESS_UNCHANGED)  # 0 ballots, 0 announced
    cast(h, 2)
    for actor in (SECRETARY, PUBLIC, RESPONDENT, delegate(2), delegate(3)):
        h.refuse(votes.ReportProgress(round_id="r1"), actor, Code.FORBIDDEN)
    # Ballots cast just before a break are still announced during it.
    h.accept(sess.SuspendSession(reason="Giải lao"), CHAIR)
    assert progress(h).ballots_cast == 1
    h.accept(sess.ResumeSession(), CHAIR)
    cast(h, 3)
    close(h)
    # Closed: the result carries the final number; nothing more is announced.
    h.refuse(votes.ReportProgress(round_id="r1"), CHAIR, Code.ROUND_NOT_OPEN)
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    open_round(h, "c", item_id="item-2")
    cast(h, 2, rid="c")
    h.accept(votes.CancelRound(round_id="c", reason="Nhầm nội dung"), CHAIR)
    h.refuse(votes.ReportProgress(round_id="c"), CHAIR, Code.ROUND_NOT_OPEN)
    open_round(h, "p", item_id="item-2", paper=True)
    h.refuse(votes.ReportProgress(round_id="p"), CHAIR, Code.PROGRESS_UNCHANGED)  # paper: no electronic ballot
    assert_replays(h)


@pytest.mark.parametrize("secret", [False, True])
def test_a_delegate_never_receives_another_delegates_ballot_and_the_public_never_a_delegate(secret: bool) -> None:
    h = hall(20)
    open_round(h, secret=secret)
    start = len(h.log)
    for i in range(1, 13):
        cast(h, i, ("yes", "no", "abstain")[i % 3])
        if i % 4 == 0:
            progress(h)
    live = h.log[start:]
    close(h)
    tablets = [delegate(i) for i in range(1, 21)]  # as delegates (d001 is also the chair, who sees every ballot)
    for r in live:
        if isinstance(r.event, votes.DelegateVoted):
            assert r.audience.admits(CHAIR) and r.audience.admits(SECRETARY)
            assert [a.person_id for a in tablets if r.audience.admits(a)] == [r.event.delegate_id]
            assert not r.audience.admits(PUBLIC) and not r.audience.admits(RESPONDENT)
    # The public's live events are the announced numbers alone: no delegate id, no option, no tally.
    public = [r.event for r in live if r.audience.admits(PUBLIC)]
    assert [type(e) for e in public] == [votes.RoundProgress] * 3
    assert [e.ballots_cast for e in public if isinstance(e, votes.RoundProgress)] == [4, 8, 12]
    # Views: a delegate knows that they voted and the announced number, the chair every voter.
    events = [(k + 1, r.audience, r.event) for k, r in enumerate(h.log) if not r.audience.sealed]
    mine = views.visible_state(events[: start + len(live)], delegate(5))
    assert mine is not None and mine.votes.rounds["r1"].voted == {did(5)}
    assert mine.votes.rounds["r1"].ballots_reported == 12
    stranger = views.visible_state(events[: start + len(live)], PUBLIC)
    assert stranger is not None and stranger.votes.rounds["r1"].voted == set()
    assert stranger.votes.rounds["r1"].ballots_reported == 12
    chair = views.visible_state(events[: start + len(live)], CHAIR)
    assert chair is not None and chair.votes.rounds["r1"].voted == {did(i) for i in range(1, 13)}


# --- the log
def test_events_encode_decode_and_replay() -> None:
    h = hall(15, level=Level.COMMUNE, rules=rules_for(Level.COMMUNE))
    open_round(h, "a", duration_seconds=300)
    vote(h, "a", yes=range(1, 9), no=[9])
    close(h, "a")
    open_round(h, "b", secret=True)
    vote(h, "b", yes=range(1, 5))
    h.accept(votes.CancelRound(round_id="b", reason="Sai danh sách"), CHAIR)
    open_round(h, "c", paper=True)
    h.accept(
        votes.EnterPaperResult(round_id="c", counts={"yes": 9, "no": 1, "abstain": 0}, ballots_collected=10), SECRETARY
    )
    open_round(h, "d")
    vote(h, "d", yes=[1, 2])
    h.accept(votes.ReportProgress(round_id="d"), CHAIR)
    decoder = msgspec.json.Decoder(_event_union())
    for r in h.log:
        if type(r.event) in votes.EVENTS:
            assert decoder.decode(msgspec.json.encode(r.event)) == r.event
    assert_replays(h)


def _event_union() -> Any:
    from typing import Union

    return Union[tuple(votes.EVENTS)]  # noqa: UP007


def test_tags_are_unique_across_the_session() -> None:
    tags = [t.__struct_config__.tag for t in (*sess.ALL_COMMANDS, *sess.ALL_EVENTS)]
    mine = {t.__struct_config__.tag for t in (*votes.COMMANDS, *votes.EVENTS)}
    assert all(tags.count(t) == 1 for t in mine)


def test_new_code_has_messages() -> None:
    vi, en = MESSAGES[Code.ROUND_IS_PAPER]
    assert "phiếu giấy" in vi and "paper" in en
    vi, en = MESSAGES[Code.PROGRESS_UNCHANGED]
    assert "chưa thay đổi" in vi and "{count}" in vi and "nothing changed" in en and "{count}" in en
