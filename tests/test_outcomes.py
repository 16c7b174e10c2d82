"""Outcomes that must be legally right before they are printed (issue 10 §1; issue 9 §4's few-ballot warning).

Each rule at its boundary: vote kinds and the pass rules the law allows them (Law 77/2015/QH13 art. 91(3)),
removal only from a passed two-thirds round, a vacancy reaching the open session, resolution numbers dated from
the close on the council's calendar (UTC+7), the counting committee certifying secret rounds, the quorum to open
a vote, the few-ballots confirmation, and the exact wording of the confidence-poll consequence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from meeting import council, polls, views, votes
from meeting import session as sess
from meeting.actors import Actor, Context, Role
from meeting.errors import Code, DomainError
from meeting.hall import Delegate, VacancyGrounds
from meeting.messages import Command
from meeting.rules import BallotMode, Level, PassRule, Rules, VoteKind, rules_for
from tests.factory import CHAIR, PUBLIC, SECRETARY, Hall, delegate, did, running

ADMIN = Actor(roles=frozenset({Role.ADMIN}))


def hall(n: int = 50, present: int | None = None, **rules: Any) -> Hall:
    """Sealed secret rounds: these tests are about committees, certification and thresholds, which both modes
    share; the verifiable count (the default, issue 13 §2) is tests/test_verifiable_rounds.py."""
    rules.setdefault("secret_mode", BallotMode.SEALED)
    return running(n, present, rules=msgspec.structs.replace(rules_for(Level.PROVINCE), **rules))


def committee(n: int = 50) -> list[str]:
    return [did(i) for i in range(n - 6, n + 1)]  # 7: the province minimum (Guidance 883/HD-UBTVQH14)


def member(person: str) -> Actor:
    return Actor(roles=frozenset({Role.DELEGATE, Role.COMMITTEE}), person_id=person)


def open_round(h: Hall, rid: str, **kw: Any) -> votes.RoundOpened:
    kw.setdefault("item_id", h.s.hall.current_item)
    kw.setdefault("motion", "Biểu quyết")
    ev = h.accept(votes.OpenVote(round_id=rid, **kw), CHAIR)[0].event
    assert isinstance(ev, votes.RoundOpened)
    return ev


def vote(h: Hall, rid: str, yes: range, no: range = range(0)) -> None:
    for option, who in (("yes", yes), ("no", no)):
        for i in who:
            h.accept(votes.CastBallot(round_id=rid, delegate_id=did(i), option=option), delegate(i))


def close(h: Hall, rid: str, **kw: Any) -> votes.VoteResult:
    routed = h.accept(votes.CloseRound(round_id=rid, **kw), CHAIR)
    ev = routed[-1].event
    if isinstance(ev, votes.RoundCounted):
        r = h.s.votes.rounds[rid]
        for m in r.committee[: len(r.committee) // 2 + 1]:
            routed = h.accept(votes.CertifyRound(round_id=rid), member(m))
        ev = routed[-1].event
    assert isinstance(ev, votes.RoundClosed)
    return ev.result


class Council:
    """A council of `n` delegates with a term, for numbering and roster commands."""

    def __init__(self, n: int = 50, rules: Rules | None = None) -> None:
        self.now = datetime(2026, 12, 9, 1, 0, tzinfo=UTC)
        self.state: council.CouncilState | None = None
        self.run(
            ADMIN, council.CreateCouncil(council_id="c", name="HĐND tỉnh Minh Hòa", level=Level.PROVINCE, rules=rules)
        )
        self.run(SECRETARY, council.OpenTerm(term_id="k", name="Khóa XI", starts_on=date(2026, 3, 15)))
        for i in range(1, n + 1):
            self.run(SECRETARY, council.SeatDelegate(delegate_id=did(i), name=f"Đại biểu {i}"))

    @property
    def s(self) -> council.CouncilState:
        assert self.state is not None
        return self.state

    def run(self, actor: Actor, cmd: Command) -> list[Any]:
        self.now += timedelta(seconds=1)
        self.state, routed = council.execute(self.state, cmd, Context(actor=actor, now=self.now))
        return [r.event for r in routed]

    def refuse(self, actor: Actor, cmd: Command, code: Code) -> DomainError:
        before = msgspec.to_builtins(self.s)
        with pytest.raises(DomainError) as e:
            council.decide(self.state, cmd, Context(actor=actor, now=self.now))
        assert e.value.code == code, (e.value.code, e.value.refusal.message_en)
        assert msgspec.to_builtins(self.s) == before
        return e.value

    def number(self, result: votes.VoteResult) -> council.ResolutionAdopted:
        ev = self.run(SECRETARY, council.NumberResolution(session_id="s1", title="Nghị quyết", result=result))[0]
        assert isinstance(ev, council.ResolutionAdopted)
        return ev


# --- kinds and the rules the law allows them
def test_a_resolution_round_cannot_pass_by_a_majority_of_ballots() -> None:
    # The case: 50 seats, 38 ballots, 25 Tán thành. 25 of 38 is a majority of the ballots, but a council
    # resolution needs more than half of ALL 50 delegates (26).
    h = hall(50)
    e = h.refuse(
        votes.OpenVote(round_id="r", item_id="item-1", motion="M", pass_rule=PassRule.MAJORITY_OF_BALLOTS),
        CHAIR,
        Code.RULE_NOT_ALLOWED,
    )
    assert "91" in e.refusal.message_vi and "majority_of_ballots" in e.refusal.message_en
    # The same count as a procedural vote passes, and is never numbered.
    open_round(h, "thu-tuc", kind=VoteKind.PROCEDURAL, pass_rule=PassRule.MAJORITY_OF_BALLOTS)
    vote(h, "thu-tuc", yes=range(1, 26), no=range(26, 39))
    res = close(h, "thu-tuc")
    assert (res.kind, res.passed, res.needed, res.ballots_collected) == (VoteKind.PROCEDURAL, True, 20, 38)
    c = Council()
    c.refuse(SECRETARY, council.NumberResolution(session_id="s1", title="T", result=res), Code.NOT_A_RESOLUTION)


def test_a_result_recorded_before_kinds_with_a_weak_rule_is_not_numbered() -> None:
    # Logs written before kinds existed decode as resolutions whatever their rule: the council checks the rule too.
    h = hall(50)
    open_round(h, "p", kind=VoteKind.PROCEDURAL, pass_rule=PassRule.MAJORITY_OF_BALLOTS)
    vote(h, "p", yes=range(1, 26), no=range(26, 39))
    legacy = msgspec.structs.replace(close(h, "p"), kind=VoteKind.RESOLUTION)
    Council().refuse(
        SECRETARY, council.NumberResolution(session_id="s1", title="T", result=legacy), Code.NOT_A_RESOLUTION
    )


@pytest.mark.parametrize(
    ("kind", "rule", "allowed"),
    [
        (VoteKind.RESOLUTION, PassRule.MAJORITY_OF_ALL, True),
        (VoteKind.RESOLUTION, PassRule.TWO_THIRDS_OF_ALL, True),
        (VoteKind.RESOLUTION, PassRule.MAJORITY_OF_BALLOTS, False),
        (VoteKind.REMOVAL, PassRule.TWO_THIRDS_OF_ALL, True),
        (VoteKind.REMOVAL, PassRule.MAJORITY_OF_ALL, False),
        (VoteKind.REMOVAL, PassRule.MAJORITY_OF_BALLOTS, False),
        (VoteKind.PROCEDURAL, PassRule.MAJORITY_OF_ALL, True),
        (VoteKind.PROCEDURAL, PassRule.MAJORITY_OF_BALLOTS, True),
    ],
)
def test_each_kind_opens_only_with_a_rule_the_law_allows(kind: VoteKind, rule: PassRule, allowed: bool) -> None:
    h = hall(50)
    subject = did(50) if kind is VoteKind.REMOVAL else None
    cmd = votes.OpenVote(round_id="r", item_id="item-1", motion="M", kind=kind, pass_rule=rule, subject_id=subject)
    if allowed:
        h.accept(cmd, CHAIR)
    else:
        h.refuse(cmd, CHAIR, Code.RULE_NOT_ALLOWED)


def test_removal_defaults_to_two_thirds_names_its_delegate_and_passes_at_34_of_50() -> None:
    h = hall(50)
    h.refuse(votes.OpenVote(round_id="r", item_id="item-1", motion="M", kind=VoteKind.REMOVAL), CHAIR, Code.INVALID)
    h.refuse(
        votes.OpenVote(round_id="r", item_id="item-1", motion="M", subject_id=did(50)), CHAIR, Code.INVALID
    )  # only a removal names a delegate
    h.refuse(
        votes.OpenVote(round_id="r", item_id="item-1", motion="M", kind=VoteKind.REMOVAL, subject_id="d999"),
        CHAIR,
        Code.UNKNOWN_DELEGATE,
    )
    h.refuse(
        votes.OpenVote(
            round_id="r", item_id="item-1", motion="M", kind=VoteKind.PROCEDURAL, normative=True
        ),  # only a resolution is a normative act
        CHAIR,
        Code.INVALID,
    )
    ev = open_round(h, "short", kind=VoteKind.REMOVAL, subject_id=did(50))
    assert ev.pass_rule is PassRule.TWO_THIRDS_OF_ALL and ev.subject_id == did(50)
    vote(h, "short", yes=range(1, 34), no=range(34, 51))
    short = close(h, "short")
    assert (short.needed, short.passed, short.kind, short.subject_id) == (34, False, VoteKind.REMOVAL, did(50))
    open_round(h, "enough", kind=VoteKind.REMOVAL, subject_id=did(50))
    vote(h, "enough", yes=range(1, 35), no=range(35, 51))
    assert close(h, "enough").passed


def test_a_council_cannot_make_a_weak_rule_its_default_for_resolutions() -> None:
    c = Council(3)
    bad = Rules(default_pass_rule=PassRule.MAJORITY_OF_BALLOTS)
    c.refuse(SECRETARY, council.ChangeRules(rules=bad), Code.INVALID)
    c.refuse(SECRETARY, council.ChangeRules(rules=Rules(secret_min_ballots=-1)), Code.INVALID)
    c.run(SECRETARY, council.ChangeRules(rules=Rules(default_pass_rule=PassRule.TWO_THIRDS_OF_ALL)))


# --- removal only from a passed two-thirds round, or a decision on record
def _removal(n_yes: int, subject: int = 50, kind: VoteKind = VoteKind.REMOVAL) -> votes.VoteResult:
    h = hall(50)
    if kind is VoteKind.REMOVAL:
        open_round(h, "bn", kind=kind, subject_id=did(subject))
    else:
        open_round(h, "bn", kind=kind)
    vote(h, "bn", yes=range(1, n_yes + 1), no=range(n_yes + 1, 51))
    return close(h, "bn")


def _vacate(grounds: VacancyGrounds, result: votes.VoteResult | None = None, decision: str = "") -> council.VacateSeat:
    return council.VacateSeat(
        delegate_id=did(50),
        reason="Không còn xứng đáng với sự tín nhiệm của Nhân dân",
        grounds=grounds,
        decision=decision,
        session_id="s1" if result else None,
        round_id=result.round_id if result else None,
        result=result,
    )


def test_a_removal_needs_a_passed_two_thirds_round_about_that_delegate() -> None:
    c = Council()
    for result in (None, _removal(33), _removal(40, subject=49), _removal(40, kind=VoteKind.RESOLUTION)):
        e = c.refuse(SECRETARY, _vacate(VacancyGrounds.REMOVAL, result), Code.VACANCY_UNFOUNDED)
        assert did(50) in e.refusal.message_vi
    ev = c.run(SECRETARY, _vacate(VacancyGrounds.REMOVAL, _removal(34)))[0]
    assert isinstance(ev, council.SeatVacated)
    assert (ev.grounds, ev.round_id, ev.session_id) == (VacancyGrounds.REMOVAL, "bn", "s1")
    assert not c.s.delegates[did(50)].seated
    c.refuse(SECRETARY, _vacate(VacancyGrounds.REMOVAL, _removal(34)), Code.SEAT_VACANT)


@pytest.mark.parametrize("grounds", [VacancyGrounds.RESIGNATION, VacancyGrounds.DEATH])
def test_resignation_and_death_need_the_decision_on_record(grounds: VacancyGrounds) -> None:
    c = Council()
    c.refuse(SECRETARY, _vacate(grounds), Code.VACANCY_UNFOUNDED)
    c.refuse(SECRETARY, _vacate(grounds, decision="   "), Code.VACANCY_UNFOUNDED)
    c.refuse(SECRETARY, _vacate(grounds, _removal(40), decision="Số 15"), Code.INVALID)
    ev = c.run(SECRETARY, _vacate(grounds, decision=" Nghị quyết số 15/NQ-HĐND "))[0]
    assert isinstance(ev, council.SeatVacated) and ev.decision == "Nghị quyết số 15/NQ-HĐND"


# --- a vacancy reaches the open session
def _record(i: int, grounds: VacancyGrounds = VacancyGrounds.DEATH, **kw: Any) -> sess.RecordVacancy:
    kw.setdefault("decision", "Trích lục khai tử số 12/2026")
    return sess.RecordVacancy(delegate_id=did(i), reason="Qua đời", grounds=grounds, **kw)


def test_a_vacancy_reaches_quorum_base_and_eligibility_and_leaves_closed_rounds_alone() -> None:
    h = hall(50)
    open_round(h, "truoc")
    vote(h, "truoc", yes=range(1, 27))
    before = close(h, "truoc")
    h.accept(votes.OpenVote(round_id="dang-mo", item_id="item-1", motion="M"), CHAIR)
    vote(h, "dang-mo", yes=range(48, 50))  # d049 votes before the vacancy; d050 does not
    h.refuse(_record(50), delegate(50), Code.FORBIDDEN)
    h.refuse(_record(50, decision=""), SECRETARY, Code.VACANCY_UNFOUNDED)
    routed = h.accept(_record(50), SECRETARY)
    ev = routed[0].event
    assert isinstance(ev, sess.VacancyRecorded) and routed[0].audience.admits(PUBLIC)
    # 2/3 of 49 is 32.67: 33 needed; 49 present of 49.
    assert (ev.total, ev.quorum_needed, ev.present_count, ev.quorum_met) == (49, 33, 49, True)
    assert h.s.hall.total == 49 and did(50) not in h.s.hall.present_seated()
    # Eligibility: no ballot, no check-in, in the open round or any later one.
    h.refuse(votes.CastBallot(round_id="dang-mo", delegate_id=did(50), option="yes"), delegate(50), Code.SEAT_VACANT)
    h.refuse(sess.CheckOut(delegate_id=did(50)), SECRETARY, Code.SEAT_VACANT)
    h.refuse(_record(50), SECRETARY, Code.SEAT_VACANT)
    # The open round keeps the base it opened with (50: 26 needed); a later round's base is 49 (25 needed).
    assert close(h, "dang-mo").total_delegates == 50
    h.accept(votes.OpenVote(round_id="sau", item_id="item-1", motion="M"), CHAIR)
    vote(h, "sau", yes=range(1, 26))
    after = close(h, "sau")
    assert (after.total_delegates, after.needed, after.passed, len(after.eligible_at_open)) == (49, 25, True, 49)
    # The closed round is as it was.
    assert h.s.votes.rounds["truoc"].result == before and before.total_delegates == 50
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)


def test_a_vacancy_can_take_away_the_quorum_to_vote() -> None:
    h = hall(50, present=34)  # exactly 2/3 of 50
    h.accept(_record(50), SECRETARY)  # an absent seat: 34 of 49 still meets 33
    h.accept(votes.OpenVote(round_id="a", item_id="item-1", motion="M"), CHAIR)
    h.accept(votes.CancelRound(round_id="a", reason="Thử"), CHAIR)
    for i in range(1, 3):
        h.accept(_record(i), SECRETARY)  # two present seats: 32 present of 47, 32 needed
    h.accept(votes.OpenVote(round_id="b", item_id="item-1", motion="M"), CHAIR)
    h.accept(votes.CancelRound(round_id="b", reason="Thử"), CHAIR)
    h.accept(sess.CheckOut(delegate_id=did(3)), SECRETARY)
    e = h.refuse(votes.OpenVote(round_id="c", item_id="item-1", motion="M"), CHAIR, Code.NO_QUORUM_TO_VOTE)
    assert "31/47" in e.refusal.message_vi and "32" in e.refusal.message_en


def test_a_removal_decided_in_this_session_must_be_a_passed_removal_round_here() -> None:
    h = hall(50)
    removal: dict[str, Any] = {"grounds": VacancyGrounds.REMOVAL, "decision": ""}
    h.refuse(_record(50, **removal), SECRETARY, Code.VACANCY_UNFOUNDED)  # no session and round named
    open_round(h, "bn", kind=VoteKind.REMOVAL, subject_id=did(50))
    vote(h, "bn", yes=range(1, 34), no=range(34, 51))
    close(h, "bn")  # 33 of 50: not two thirds
    h.refuse(_record(50, **removal, session_id="s1", round_id="bn"), SECRETARY, Code.VACANCY_UNFOUNDED)
    h.refuse(_record(50, **removal, session_id="s1", round_id="khong-co"), SECRETARY, Code.VACANCY_UNFOUNDED)
    open_round(h, "bn2", kind=VoteKind.REMOVAL, subject_id=did(50))
    vote(h, "bn2", yes=range(1, 35), no=range(35, 51))
    close(h, "bn2")
    h.refuse(_record(49, **removal, session_id="s1", round_id="bn2"), SECRETARY, Code.VACANCY_UNFOUNDED)  # not them
    h.refuse(_record(49, VacancyGrounds.DEATH, session_id="s1", round_id="bn2"), SECRETARY, Code.INVALID)
    ev = h.accept(_record(50, **removal, session_id="s1", round_id="bn2"), SECRETARY)[0].event
    assert isinstance(ev, sess.VacancyRecorded) and (ev.session_id, ev.round_id) == ("s1", "bn2")
    # Decided in another session, which the council checked: recorded with its reference.
    ev = h.accept(_record(49, **removal, session_id="ky-hop-3", round_id="bn-7"), SECRETARY)[0].event
    assert isinstance(ev, sess.VacancyRecorded) and ev.grounds is VacancyGrounds.REMOVAL and h.s.hall.total == 48


def test_a_prepared_session_learns_a_vacancy_and_a_closed_one_does_not() -> None:
    h = Hall(20)
    h.accept(_record(20), SECRETARY)
    h.open_check_in()
    ev = next(r.event for r in h.log if isinstance(r.event, sess.CheckInOpened))
    assert isinstance(ev, sess.CheckInOpened) and ev.total == 19
    h.refuse(sess.CheckIn(delegate_id=did(20)), delegate(20), Code.SEAT_VACANT)
    h.refuse(_record(99), SECRETARY, Code.UNKNOWN_DELEGATE)
    h.check_in(*range(1, 20)).accept(sess.OpenSession(), CHAIR)
    h.accept(sess.CloseSession(), CHAIR)
    h.refuse(_record(19), SECRETARY, Code.WRONG_SESSION_STATE)


# --- resolution numbers from the close, on the council's calendar (UTC+7)
def _closed_at(at: datetime, normative: bool = True) -> votes.VoteResult:
    h = hall(15)
    h.clock.now = at - timedelta(seconds=100)
    open_round(h, "r", normative=normative)
    vote(h, "r", yes=range(1, 16))
    h.clock.now = at - timedelta(seconds=1)  # accept ticks one second
    return close(h, "r")


@pytest.mark.parametrize(
    ("closed_at", "number", "adopted_on"),
    [
        # 23:30 on 31 December in Hà Nội is 16:30 UTC: that year.
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "01/2026/NQ-HĐND", date(2026, 12, 31)),
        (datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC), "01/2026/NQ-HĐND", date(2026, 12, 31)),
        # Midnight local time is 17:00 UTC: the next year, though UTC is still on 31 December.
        (datetime(2026, 12, 31, 17, 0, tzinfo=UTC), "01/2027/NQ-HĐND", date(2027, 1, 1)),
        (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), "01/2027/NQ-HĐND", date(2027, 1, 1)),
    ],
)
def test_the_number_takes_its_year_from_the_close_in_vietnam_time(
    closed_at: datetime, number: str, adopted_on: date
) -> None:
    res = _closed_at(closed_at)
    assert res.closed_at == closed_at
    adopted = Council().number(res).resolution
    assert (adopted.number, adopted.adopted_on) == (number, adopted_on)


def test_no_client_date_reaches_the_number() -> None:
    # The case: a round closed in 2026 was numbered 01/2031/NQ-HĐND from a date the client sent. The
    # command has no date any more; one sent anyway is ignored and the year is the close's.
    cmd = msgspec.json.encode(
        {
            "type": "number_resolution",
            "session_id": "s1",
            "title": "T",
            "adopted_on": "2031-01-01",
            "result": msgspec.to_builtins(_closed_at(datetime(2026, 12, 9, 3, 0, tzinfo=UTC))),
        }
    )
    decoded = msgspec.json.decode(cmd, type=council.NumberResolution)
    assert "adopted_on" not in council.NumberResolution.__struct_fields__
    adopted = Council().number(decoded.result).resolution
    assert (adopted.number, adopted.adopted_on) == ("01/2026/NQ-HĐND", date(2026, 12, 9))


def test_a_naive_close_time_is_utc() -> None:
    res = msgspec.structs.replace(_closed_at(datetime(2026, 6, 1, tzinfo=UTC)), closed_at=datetime(2026, 12, 31, 17, 0))
    assert Council().number(res).resolution.number == "01/2027/NQ-HĐND"


# --- the counting committee certifies every secret round before it is announced
def test_a_secret_round_needs_its_committee() -> None:
    h = hall(50)
    base = {"round_id": "k", "item_id": "item-1", "motion": "M", "secret": True}
    h.refuse(votes.OpenVote(**base), CHAIR, Code.COMMITTEE_MISSING)
    h.refuse(votes.OpenVote(**base, committee=committee()[:6]), CHAIR, Code.COMMITTEE_TOO_SMALL)
    h.refuse(votes.OpenVote(**base, committee=[*committee()[:6], did(44)]), CHAIR, Code.INVALID)  # twice
    h.refuse(votes.OpenVote(**base, committee=[*committee()[:6], "d999"]), CHAIR, Code.UNKNOWN_DELEGATE)
    h.refuse(
        votes.OpenVote(**base, committee=committee(), kind=VoteKind.REMOVAL, subject_id=did(50)),
        CHAIR,
        Code.COMMITTEE_ON_BALLOT,
    )
    h.refuse(
        votes.OpenVote(round_id="n", item_id="item-1", motion="M", committee=committee()), CHAIR, Code.INVALID
    )  # a named round has no committee
    ev = open_round(h, "k", secret=True, committee=committee())
    assert ev.committee == committee()


def test_a_secret_result_is_announced_only_once_more_than_half_of_the_committee_certified() -> None:
    h = hall(50)
    open_round(h, "k", secret=True, committee=committee())
    vote(h, "k", yes=range(1, 31), no=range(31, 41))
    h.refuse(votes.CertifyRound(round_id="k"), member(did(44)), Code.ROUND_NOT_COUNTED)  # still open
    routed = h.accept(votes.CloseRound(round_id="k"), CHAIR)
    done, counted = (r.event for r in routed)
    assert isinstance(done, votes.RoundBallotsClosed) and routed[0].audience.admits(PUBLIC)
    assert isinstance(counted, votes.RoundCounted) and counted.result.passed
    assert routed[1].audience.admits(member(did(44))) and routed[1].audience.admits(CHAIR)
    assert not any(routed[1].audience.admits(a) for a in (PUBLIC, delegate(2), member(did(2))))
    r = h.s.votes.rounds["k"]
    assert (r.status, r.result) == (votes.RoundStatus.COUNTED, None)
    assert votes.busy(h.s.votes)
    h.refuse(sess.CloseSession(), CHAIR, Code.INVALID)  # an uncertified count could never be announced
    h.refuse(votes.CertifyRound(round_id="k"), member(did(2)), Code.NOT_ON_COMMITTEE)
    h.refuse(votes.CertifyRound(round_id="k"), CHAIR, Code.NOT_ON_COMMITTEE)
    for m in committee()[:3]:
        out = h.accept(votes.CertifyRound(round_id="k"), member(m))
        assert [type(x.event) for x in out] == [votes.RoundCertifiedBy]
    h.refuse(votes.CertifyRound(round_id="k"), member(committee()[0]), Code.ALREADY_CERTIFIED)
    # Nobody outside staff and the committee has seen a count yet.
    events = [(k + 1, x.audience, x.event) for k, x in enumerate(h.log) if not x.audience.sealed]
    public = views.visible_state(events, PUBLIC)
    assert public is not None and public.votes.rounds["k"].result is None and public.votes.rounds["k"].count is None
    assert public.votes.rounds["k"].status is votes.RoundStatus.COUNTED
    fourth = h.accept(votes.CertifyRound(round_id="k"), member(committee()[3]))
    closed = fourth[-1].event
    assert isinstance(closed, votes.RoundClosed) and fourth[-1].audience.admits(PUBLIC)
    assert closed.certified_by == committee()[:4] and closed.result == counted.result
    assert len(closed.receipts) == 40
    # A late signature completes the count record; the result is announced once.
    late = h.accept(votes.CertifyRound(round_id="k"), member(committee()[4]))
    assert [type(x.event) for x in late] == [votes.RoundCertifiedBy]
    assert not votes.busy(h.s.votes)
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)
    ordered = [x.event for x in h.log if not x.audience.sealed]
    assert sess.snapshot(sess.replay(ordered)) == sess.snapshot(h.s)  # the count no longer needs sealed ballots


def test_a_paper_secret_round_is_certified_too_and_a_council_may_turn_certification_off() -> None:
    h = hall(50)
    open_round(h, "g", secret=True, paper=True, committee=committee())
    entry = votes.EnterPaperResult(round_id="g", counts={"yes": 30, "no": 10, "abstain": 5}, ballots_collected=45)
    assert [type(x.event) for x in h.accept(entry, SECRETARY)] == [votes.RoundBallotsClosed, votes.RoundCounted]
    off = hall(50, secret_certification=False)
    open_round(off, "k", secret=True)
    vote(off, "k", yes=range(1, 30))
    assert isinstance(off.accept(votes.CloseRound(round_id="k"), CHAIR)[0].event, votes.RoundClosed)


# --- the quorum to open a vote (practice)
def test_a_vote_opens_only_with_the_quorum_present() -> None:
    h = hall(50, present=34)
    open_round(h, "a")  # 34 of 50: exactly 2/3
    h.accept(votes.CancelRound(round_id="a", reason="Thử"), CHAIR)
    h.accept(sess.CheckOut(delegate_id=did(34)), SECRETARY)
    e = h.refuse(votes.OpenVote(round_id="b", item_id="item-1", motion="M"), CHAIR, Code.NO_QUORUM_TO_VOTE)
    assert "33/50" in e.refusal.message_vi and "34" in e.refusal.message_vi
    # The case: the session opened with its quorum, then thinned out to 29 of 50.
    for i in range(29, 34):
        h.accept(sess.CheckOut(delegate_id=did(i)), SECRETARY)
    h.refuse(votes.OpenVote(round_id="b", item_id="item-1", motion="M"), CHAIR, Code.NO_QUORUM_TO_VOTE)


def test_a_council_may_allow_votes_without_the_quorum() -> None:
    h = hall(50, present=34, vote_quorum_required=False)
    for i in range(29, 35):
        h.accept(sess.CheckOut(delegate_id=did(i)), SECRETARY)
    assert open_round(h, "a").present == [did(i) for i in range(1, 29)]


# --- few ballots in a secret round (issue 9 §4)
def test_closing_a_secret_round_on_few_ballots_needs_the_chairs_confirmation() -> None:
    h = hall(50)
    open_round(h, "k", secret=True, committee=committee())
    vote(h, "k", yes=range(1, 4), no=range(4, 5))  # 4 ballots, fewer than 5
    e = h.refuse(votes.CloseRound(round_id="k"), CHAIR, Code.FEW_BALLOTS)
    assert "4" in e.refusal.message_vi and "5" in e.refusal.message_en and "lộ" in e.refusal.message_vi
    res = close(h, "k", confirm_few_ballots=True)
    assert res.few_ballots_confirmed and res.ballots_collected == 4
    # Five ballots need no confirmation, and the record says none was given.
    open_round(h, "k5", secret=True, committee=committee())
    vote(h, "k5", yes=range(1, 6))
    assert not close(h, "k5").few_ballots_confirmed
    # A named round is on the record anyway: no warning.
    open_round(h, "n")
    vote(h, "n", yes=range(1, 2))
    assert not close(h, "n").few_ballots_confirmed


def test_few_paper_ballots_and_the_councils_own_minimum() -> None:
    h = hall(50, secret_min_ballots=10)
    open_round(h, "g", secret=True, paper=True, committee=committee())
    entry = votes.EnterPaperResult(round_id="g", counts={"yes": 9, "no": 0, "abstain": 0}, ballots_collected=9)
    h.refuse(entry, SECRETARY, Code.FEW_BALLOTS)
    h.accept(msgspec.structs.replace(entry, confirm_few_ballots=True), SECRETARY)
    assert h.s.votes.rounds["g"].count is not None and h.s.votes.rounds["g"].count.few_ballots_confirmed
    off = hall(50, secret_min_ballots=0)
    open_round(off, "k", secret=True, committee=committee())
    vote(off, "k", yes=range(1, 2))
    assert not close(off, "k").few_ballots_confirmed


def test_the_rules_defaults() -> None:
    r = Rules()
    assert (r.vote_quorum_required, r.secret_certification, r.secret_min_ballots) == (True, True, 5)
    # Issue 13 §2: secret votes and confidence polls are verifiable unless the council chooses sealed.
    assert r.secret_mode is BallotMode.VERIFIABLE
    assert rules_for(Level.PROVINCE).secret_mode is rules_for(Level.COMMUNE).secret_mode is BallotMode.VERIFIABLE


# --- the confidence-poll consequence says miễn nhiệm, never bãi nhiệm (NQ 96/2023/QH15)
def test_the_dismissal_consequence_is_worded_exactly() -> None:
    assert polls.Consequence.DISMISSAL_PROPOSED.label_vi == "Trình Hội đồng nhân dân miễn nhiệm"
    assert not any("bãi nhiệm" in c.label_vi for c in polls.Consequence)


def test_every_new_code_has_both_messages() -> None:
    new = (
        Code.NO_QUORUM_TO_VOTE,
        Code.RULE_NOT_ALLOWED,
        Code.NOT_A_RESOLUTION,
        Code.FEW_BALLOTS,
        Code.ROUND_NOT_COUNTED,
        Code.VACANCY_UNFOUNDED,
    )
    from meeting.errors import MESSAGES

    for code in new:
        vi, en = MESSAGES[code]
        assert vi and en and vi != en


def test_the_old_roster_shape_still_decodes() -> None:
    # A SeatVacated written before grounds were recorded replays (grounds None).
    old = msgspec.json.encode({"type": "seat_vacated", "delegate_id": "d001", "reason": "Từ chức"})
    ev = msgspec.json.decode(old, type=council.SeatVacated)
    assert ev.grounds is None
    state = council.apply(
        council.CouncilState(
            id="c", name="C", level=Level.PROVINCE, rules=Rules(), delegates={"d001": Delegate(id="d001", name="A")}
        ),
        ev,
    )
    assert not state.delegates["d001"].seated


def test_the_chair_announces_a_closed_result_once_and_everyone_sees_when() -> None:
    """`vote_announce_result` (issue 12 §1): only the chair, only a closed round with a result, only once; the
    announcement reaches everyone (tablets and the public overlay) and survives replay."""
    h = hall(50)
    open_round(h, "a", motion="Thông qua Nghị quyết")
    vote(h, "a", yes=range(1, 31))
    h.refuse(votes.AnnounceResult(round_id="a"), CHAIR, Code.ROUND_NO_RESULT)  # still open
    h.refuse(votes.AnnounceResult(round_id="zz"), CHAIR, Code.UNKNOWN_ROUND)
    close(h, "a")
    h.refuse(votes.AnnounceResult(round_id="a"), delegate(2), Code.FORBIDDEN)
    h.refuse(votes.AnnounceResult(round_id="a"), SECRETARY, Code.FORBIDDEN)
    routed = h.accept(votes.AnnounceResult(round_id="a"), CHAIR)
    ev = routed[0].event
    assert isinstance(ev, votes.RoundResultAnnounced) and routed[0].audience.admits(PUBLIC)
    assert h.s.votes.rounds["a"].announced_at == ev.at
    h.refuse(votes.AnnounceResult(round_id="a"), CHAIR, Code.ALREADY_ANNOUNCED)
    # A secret round counted but not yet certified has no result to announce.
    open_round(h, "k", secret=True, committee=committee())
    vote(h, "k", yes=range(1, 31))
    h.accept(votes.CloseRound(round_id="k"), CHAIR)
    h.refuse(votes.AnnounceResult(round_id="k"), CHAIR, Code.ROUND_NO_RESULT)
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)
