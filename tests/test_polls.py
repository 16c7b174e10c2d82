"""Confidence polls (lấy phiếu / bỏ phiếu tín nhiệm, NQ 96/2023/QH15): thresholds, refusals, secrecy, publication."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any, Union

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting import agenda, views
from meeting import polls as p
from meeting import session as sess
from meeting.actors import EVERYONE, Actor, Context, Role
from meeting.errors import Code, DomainError
from meeting.messages import Routed
from meeting.rules import BallotMode, Base, Level, Rules, rules_for
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Clock, Hall, delegate, did, running

# --- builders


class ReceiptClock(Clock):
    """Receipt-like nonces, distinct from the factory's."""

    def ctx(self, actor: Actor) -> Context:
        self.n += 1
        return Context(actor=actor, now=self.now, nonce=f"receipt-{self.n:012d}")


OFFICIALS = [
    p.Official(id="ct-hdnd", name="Đại biểu số 2", position="Chủ tịch HĐND tỉnh", delegate_id=did(2)),
    p.Official(id="pct-hdnd", name="Đại biểu số 3", position="Phó Chủ tịch HĐND tỉnh", delegate_id=did(3)),
    p.Official(id="ct-ubnd", name="Nguyễn Văn An", position="Chủ tịch UBND tỉnh"),
    p.Official(id="gd-syt", name="Trần Thị Bình", position="Giám đốc Sở Y tế"),
]
OIDS = [o.id for o in OFFICIALS]


def committee(h: Hall, size: int | None = None) -> list[str]:
    """The last `size` delegates (default: the council's minimum) — never on the ballot."""
    n = h.s.hall.total
    k = h.s.hall.rules.committee_min if size is None else size
    return [did(i) for i in range(n - k + 1, n + 1)]


def member(delegate_id: str) -> Actor:
    return Actor(roles=frozenset({Role.DELEGATE, Role.COMMITTEE}), person_id=delegate_id)


def poll_hall(
    n: int = 50,
    present: int | None = None,
    *,
    kind: p.PollKind = p.PollKind.RATING,
    rules: Rules | None = None,
    level: Level = Level.PROVINCE,
    officials: list[p.Official] | None = None,
    stage: str = "open",
    duration: int | None = None,
) -> Hall:
    """A running session with poll "p1" created, then (per `stage`) its committee appointed and opened."""
    h = running(n, present, rules=rules or with_rules(committee_min=rules_for(level).committee_min), level=level)
    h.clock = ReceiptClock(h.clock.now)
    h.accept(p.CreatePoll(poll_id="p1", item_id="item-1", kind=kind, officials=officials or OFFICIALS), SECRETARY)
    if stage in ("committee", "open"):
        h.accept(p.AppointCommittee(poll_id="p1", members=committee(h)), CHAIR)
    if stage == "open":
        h.accept(p.OpenPoll(poll_id="p1", duration_seconds=duration), CHAIR)
    return h


def poll(h: Hall, poll_id: str = "p1") -> p.Poll:
    return h.s.polls.polls[poll_id]


def cast(h: Hall, i: int, marks: dict[str, list[str]]) -> list[Routed]:
    return h.accept(p.CastPollBallot(poll_id="p1", delegate_id=did(i), marks=marks), delegate(i))


def rating_ballots(h: Hall, ballots: int, low: int, target: str = "ct-ubnd") -> None:
    """`ballots` delegates vote; `low` of them rate `target` low, the rest "tín nhiệm"; others all "cao"."""
    for i in range(1, ballots + 1):
        marks = {o: ["high"] for o in OIDS}
        marks[target] = ["low"] if i <= low else ["trust"]
        cast(h, i, marks)


def confidence_ballots(h: Hall, ballots: int, against: int, target: str = "ct-ubnd") -> None:
    for i in range(1, ballots + 1):
        marks = {o: ["trust"] for o in OIDS}
        marks[target] = ["no_trust"] if i <= against else ["trust"]
        cast(h, i, marks)


def close(h: Hall) -> p.PollResult:
    h.accept(p.ClosePoll(poll_id="p1"), CHAIR)
    result = poll(h).result
    assert result is not None
    return result


def of(result: p.PollResult, official_id: str = "ct-ubnd") -> p.OfficialResult:
    return next(r for r in result.officials if r.official_id == official_id)


def with_rules(**changes: Any) -> Rules:
    """A province's rules with sealed polls: these tests are about the counting of the sealed mode (the server
    counts the marks); verifiable polls, the default (issue 13 §2), are tests/test_verifiable_polls.py."""
    changes.setdefault("secret_mode", BallotMode.SEALED)
    return msgspec.structs.replace(rules_for(Level.PROVINCE), **changes)


def assert_replay(h: Hall) -> None:
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)


def fields(event: object) -> dict[str, Any]:
    out = msgspec.to_builtins(event)
    assert isinstance(out, dict)
    return out


RESULT_EVENTS = (p.PollCounted, p.PollPublished)


# --- consequences at their boundaries (NQ 96/2023/QH15)


@pytest.mark.parametrize(
    ("low", "expected"),
    [
        (25, p.Consequence.NONE),  # exactly half is not "quá nửa"
        (26, p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE),
        (33, p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE),  # 33/50 < 2/3 (33.33)
        (34, p.Consequence.DISMISSAL_PROPOSED),  # the first count at or above 2/3 of 50
    ],
)
def test_rating_boundaries_with_50_ballots(low: int, expected: p.Consequence) -> None:
    h = poll_hall(50)
    rating_ballots(h, 50, low)
    result = close(h)
    r = of(result)
    assert r.consequence is expected
    assert r.consequence_vi == expected.label_vi
    assert r.counts == {"high": 0, "trust": 50 - low, "low": low}
    assert r.invalid == 0
    assert r.percentages["low"] == round(low * 2, 2)
    assert of(result, "gd-syt").consequence is p.Consequence.NONE
    assert_replay(h)


@pytest.mark.parametrize(
    ("low", "expected"),
    [
        (15, p.Consequence.NONE),
        (16, p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE),
        (19, p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE),
        (20, p.Consequence.DISMISSAL_PROPOSED),  # 2/3 of 30 is exactly 20: "từ 2/3 trở lên"
    ],
)
def test_rating_boundaries_where_two_thirds_is_exact(low: int, expected: p.Consequence) -> None:
    h = poll_hall(50)
    rating_ballots(h, 30, low)  # 30 of 50 delegates hand in a ballot: the base is 30
    result = close(h)
    assert (result.base, result.base_size, result.ballots_collected) == (Base.BALLOTS_COLLECTED, 30, 30)
    assert of(result).consequence is expected


@pytest.mark.parametrize(
    ("low", "over_ballots", "over_all"),
    [
        (16, p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE, p.Consequence.NONE),
        (20, p.Consequence.DISMISSAL_PROPOSED, p.Consequence.NONE),
        (26, p.Consequence.DISMISSAL_PROPOSED, p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE),
    ],
)
def test_the_base_changes_the_consequence(low: int, over_ballots: p.Consequence, over_all: p.Consequence) -> None:
    """NQ 96/2023 counts over ballots collected; the older NQ 85/2014 over all delegates: same marks, other result."""
    now = poll_hall(50)
    rating_ballots(now, 30, low)
    new = close(now)
    old_rules = poll_hall(50, rules=with_rules(poll_base=Base.ALL_DELEGATES))
    rating_ballots(old_rules, 30, low)
    old = close(old_rules)
    assert of(new).counts == of(old).counts
    assert (new.base_size, old.base_size) == (30, 50)
    assert of(new).consequence is over_ballots
    assert of(old).consequence is over_all
    assert of(new).percentages["low"] == _pct(low, 30)
    assert of(old).percentages["low"] == _pct(low, 50)


def _pct(count: int, base: int) -> float:
    """Reference rounding, half up, through exact fractions."""
    q = Fraction(count * 100, base)
    return float(int(q * 100 + Fraction(1, 2))) / 100


@pytest.mark.parametrize(("against", "expected"), [(25, p.Consequence.NONE), (26, p.Consequence.DISMISSAL_PROPOSED)])
def test_confidence_vote_boundary(against: int, expected: p.Consequence) -> None:
    h = poll_hall(50, kind=p.PollKind.CONFIDENCE_VOTE)
    confidence_ballots(h, 50, against)
    result = close(h)
    assert (result.base, result.base_size) == (Base.ALL_DELEGATES, 50)
    assert of(result).counts == {"trust": 50 - against, "no_trust": against}
    assert of(result).consequence is expected


def test_confidence_vote_counts_over_all_delegates_not_ballots() -> None:
    """21 "không tín nhiệm" of 40 ballots is more than half the ballots but not of the 50 delegates."""
    h = poll_hall(50, kind=p.PollKind.CONFIDENCE_VOTE)
    confidence_ballots(h, 40, 21)
    assert of(close(h)).consequence is p.Consequence.NONE
    h = poll_hall(50, kind=p.PollKind.CONFIDENCE_VOTE, rules=with_rules(confidence_vote_base=Base.BALLOTS_COLLECTED))
    confidence_ballots(h, 40, 21)
    assert of(close(h)).consequence is p.Consequence.DISMISSAL_PROPOSED


def test_present_base_counts_those_present_at_open() -> None:
    h = poll_hall(50, present=40, rules=with_rules(poll_base=Base.PRESENT))
    rating_ballots(h, 30, 27)  # 27/40 = 67.5 % >= 2/3
    result = close(h)
    assert result.base_size == 40
    assert of(result).consequence is p.Consequence.DISMISSAL_PROPOSED


@settings(max_examples=60)
@given(
    kind=st.sampled_from(p.PollKind),
    base_size=st.integers(min_value=0, max_value=200),
    data=st.data(),
)
def test_consequence_matches_exact_fractions(kind: p.PollKind, base_size: int, data: st.DataObject) -> None:
    adverse = data.draw(st.integers(min_value=0, max_value=base_size))
    share = Fraction(adverse, base_size) if base_size else Fraction(0)
    got = p.consequence(kind, adverse, base_size, Base.BALLOTS_COLLECTED)
    if kind is p.PollKind.RATING:
        if base_size and share >= Fraction(2, 3):
            assert got is p.Consequence.DISMISSAL_PROPOSED
        elif base_size and share > Fraction(1, 2):
            assert got is p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE
        else:
            assert got is p.Consequence.NONE
    else:
        expected = p.Consequence.DISMISSAL_PROPOSED if base_size and share > Fraction(1, 2) else p.Consequence.NONE
        assert got is expected


@settings(max_examples=60)
@given(base=st.integers(min_value=1, max_value=1000), data=st.data())
def test_percentages_round_half_up_to_two_decimals(base: int, data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=0, max_value=base))
    assert p._percent(count, base) == _pct(count, base)


def test_percentages_of_thirds_and_empty_base() -> None:
    assert (p._percent(1, 3), p._percent(2, 3), p._percent(26, 50)) == (33.33, 66.67, 52.0)
    assert p._percent(0, 0) == 0.0


# --- ballots: invalid marks, eligibility, secrecy


def test_invalid_marks_count_for_that_official_only() -> None:
    h = poll_hall(50)
    cast(h, 1, {"ct-hdnd": [], "pct-hdnd": ["high", "low"], "ct-ubnd": ["low"]})  # gd-syt left blank
    cast(h, 2, {"ct-hdnd": ["trust"], "pct-hdnd": ["trust"], "ct-ubnd": ["trust"], "gd-syt": ["high"]})
    assert poll(h).counts["pct-hdnd"] == {"high": 0, "trust": 1, "low": 0, "invalid": 1}
    result = close(h)
    assert result.ballots_collected == 2
    assert (of(result, "ct-hdnd").invalid, of(result, "ct-hdnd").counts["trust"]) == (1, 1)
    assert (of(result, "pct-hdnd").invalid, of(result, "pct-hdnd").counts) == (1, {"high": 0, "trust": 1, "low": 0})
    assert (of(result, "ct-ubnd").invalid, of(result, "ct-ubnd").counts) == (0, {"high": 0, "trust": 1, "low": 1})
    assert (of(result, "gd-syt").invalid, of(result, "gd-syt").counts["high"]) == (1, 1)
    assert of(result, "gd-syt").invalid_percentage == 50.0
    for r in result.officials:
        assert sum(r.counts.values()) + r.invalid == result.ballots_collected


def test_a_ballot_routes_three_unlinked_events() -> None:
    h = poll_hall(50)
    routed = cast(h, 7, {"ct-hdnd": ["low"], "pct-hdnd": ["trust", "high"], "ct-ubnd": ["high"]})
    assert [type(r.event) for r in routed] == [p.PollDelegateVoted, p.SealedPollBallot, p.PollReceipt]
    voted, sealed, receipt = routed

    assert voted.event == p.PollDelegateVoted(poll_id="p1", delegate_id=did(7), ballots_collected=1)
    # Who voted: staff and the voter, not the hall (the hall gets the count from PollProgress).
    assert voted.audience.admits(CHAIR) and voted.audience.admits(SECRETARY) and voted.audience.admits(delegate(7))
    assert not voted.audience.admits(delegate(9)) and not voted.audience.admits(member(did(50)))
    assert not voted.audience.admits(PUBLIC)

    assert sealed.audience.sealed
    # Only the poll and the marks, canonical: every official, in ballot order, one outcome each.
    assert fields(sealed.event) == {
        "type": "sealed_poll_ballot",
        "poll_id": "p1",
        "marks": {"ct-hdnd": "low", "pct-hdnd": "invalid", "ct-ubnd": "high", "gd-syt": "invalid"},
    }
    assert list(fields(sealed.event)["marks"]) == OIDS
    assert isinstance(receipt.event, p.PollReceipt)
    assert receipt.event.delegate_id == did(7) and len(receipt.event.receipt) >= p.MIN_RECEIPT
    blob = msgspec.json.encode(sealed.event).decode()
    assert did(7) not in blob and receipt.event.receipt not in blob

    assert receipt.audience.admits(delegate(7))
    for other in (CHAIR, SECRETARY, PUBLIC, RESPONDENT, delegate(8), member(did(50))):
        assert not receipt.audience.admits(other)
    assert_replay(h)


def test_the_order_of_ticks_cannot_fingerprint_a_ballot() -> None:
    h = poll_hall(50)
    a = cast(h, 1, {"gd-syt": ["trust"], "ct-hdnd": ["low", "high"]})[1].event
    b = cast(h, 2, {"ct-hdnd": ["high", "low"], "gd-syt": ["trust"]})[1].event
    assert msgspec.json.encode(a) == msgspec.json.encode(b)


def test_no_result_reaches_anyone_before_close_and_the_public_before_certification() -> None:
    h = poll_hall(50)
    rating_ballots(h, 40, 30)
    h.accept(p.ClosePoll(poll_id="p1"), CHAIR)
    counted = [r for r in h.log if isinstance(r.event, p.PollCounted)]
    assert len(counted) == 1
    audience = counted[0].audience
    assert audience.admits(member(did(50))) and audience.admits(CHAIR) and audience.admits(SECRETARY)
    assert not audience.admits(PUBLIC) and not audience.admits(delegate(9)) and not audience.admits(RESPONDENT)
    for r in h.log:
        if r.audience.sealed:
            continue
        if not isinstance(r.event, p.PollCounted):
            assert not {"result", "counts", "marks"} & set(fields(r.event)), r.event
        if r.audience.admits(PUBLIC):
            assert "ballots_collected" not in fields(r.event), r.event
    assert not any(isinstance(r.event, p.PollPublished) for r in h.log)


def test_publication_after_a_majority_of_the_committee_certifies() -> None:
    h = poll_hall(50)
    receipts = []
    for i in range(1, 31):
        routed = cast(h, i, {o: ["trust"] for o in OIDS})
        event = routed[2].event
        assert isinstance(event, p.PollReceipt)
        receipts.append(event.receipt)
    close(h)
    members = committee(h)
    assert len(members) == 7  # province: more than half is 4
    for m in members[:3]:
        routed = h.accept(p.CertifyPoll(poll_id="p1"), member(m))
        assert [type(r.event) for r in routed] == [p.PollCertifiedBy]
        assert not routed[0].audience.admits(PUBLIC)
        assert poll(h).status is p.PollStatus.COUNTED
    assert not any(r.audience.admits(PUBLIC) and isinstance(r.event, RESULT_EVENTS) for r in h.log)

    routed = h.accept(p.CertifyPoll(poll_id="p1"), member(members[3]))
    assert [type(r.event) for r in routed] == [p.PollCertifiedBy, p.PollPublished]
    published = routed[1]
    assert isinstance(published.event, p.PollPublished)
    assert published.audience.admits(PUBLIC)
    assert published.event.result == poll(h).result
    assert published.event.receipts == sorted(receipts)
    assert published.event.certified_by == members[:4]
    assert poll(h).status is p.PollStatus.CERTIFIED

    # The others still sign the minutes; the result is not published twice.
    routed = h.accept(p.CertifyPoll(poll_id="p1"), member(members[4]))
    assert [type(r.event) for r in routed] == [p.PollCertifiedBy]
    assert_replay(h)


def test_commune_committee_of_three_publishes_on_the_second_certification() -> None:
    h = poll_hall(20, level=Level.COMMUNE)
    rating_ballots(h, 15, 8)
    close(h)
    a, b, _ = committee(h)
    assert [type(r.event) for r in h.accept(p.CertifyPoll(poll_id="p1"), member(a))] == [p.PollCertifiedBy]
    routed = h.accept(p.CertifyPoll(poll_id="p1"), member(b))
    assert isinstance(routed[-1].event, p.PollPublished)
    assert of(routed[-1].event.result).consequence is p.Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE


def test_committee_membership_is_the_person_not_the_role() -> None:
    """A member certifies whatever roles they hold; the committee role alone is not enough."""
    h = poll_hall(50)
    rating_ballots(h, 30, 0)
    close(h)
    h.accept(p.CertifyPoll(poll_id="p1"), delegate(50))
    h.refuse(p.CertifyPoll(poll_id="p1"), member(did(10)), Code.NOT_ON_COMMITTEE)


def test_open_records_eligible_and_present_and_blocks_closing_the_session() -> None:
    h = poll_hall(50, present=45)
    opened = next(r for r in h.log if isinstance(r.event, p.PollOpened))
    assert isinstance(opened.event, p.PollOpened)
    assert opened.event.eligible == sorted(did(i) for i in range(1, 51))
    assert opened.event.present == sorted(did(i) for i in range(1, 46))
    assert p.busy(h.s.polls)
    h.refuse(sess.CloseSession(), CHAIR, Code.INVALID)
    close(h)
    # Counted but not certified: closing the session now would leave the result unpublishable forever.
    assert p.busy(h.s.polls)
    h.refuse(sess.CloseSession(), CHAIR, Code.INVALID)
    members = poll(h).committee
    for m in members[: len(members) // 2 + 1]:
        h.accept(p.CertifyPoll(poll_id="p1"), member(m))
    assert poll(h).status is p.PollStatus.CERTIFIED
    assert not p.busy(h.s.polls)
    h.accept(sess.CloseSession(), CHAIR)


def test_a_delegate_who_checks_in_while_open_may_vote() -> None:
    h = poll_hall(50, present=45)
    h.refuse(p.CastPollBallot(poll_id="p1", delegate_id=did(46), marks={}), delegate(46), Code.ABSENT)
    h.accept(sess.CheckIn(delegate_id=did(46)), delegate(46))
    cast(h, 46, {})
    assert poll(h).ballots_collected == 1


def test_absence_does_not_matter_when_presence_is_not_required() -> None:
    h = poll_hall(50, present=45, rules=with_rules(presence_required=False))
    cast(h, 50, {"ct-ubnd": ["low"]})
    assert poll(h).counts["ct-ubnd"]["low"] == 1


def test_timer_ends_balloting() -> None:
    h = poll_hall(50, duration=60)
    cast(h, 1, {})
    h.clock.tick(57)  # accept ticked 1 s; the ballot at open + 59 s is still in time
    cast(h, 2, {})
    h.refuse(p.CastPollBallot(poll_id="p1", delegate_id=did(3), marks={}), delegate(3), Code.POLL_NOT_OPEN)
    close(h)


def test_open_duration_bounds() -> None:
    h = poll_hall(50, stage="committee")
    for bad in (0, -1, p.MAX_POLL_SECONDS + 1):
        h.refuse(p.OpenPoll(poll_id="p1", duration_seconds=bad), CHAIR, Code.INVALID)
    h.accept(p.OpenPoll(poll_id="p1", duration_seconds=p.MAX_POLL_SECONDS), CHAIR)
    assert poll(h).closes_at == poll(h).opened_at + timedelta(seconds=p.MAX_POLL_SECONDS)


# --- paper polls


def paper(counts: dict[str, dict[str, int]], ballots: int) -> p.EnterPaperPollResult:
    return p.EnterPaperPollResult(poll_id="p1", ballots_collected=ballots, counts=counts)


def paper_counts(low: int, ballots: int, invalid: int = 0) -> dict[str, dict[str, int]]:
    counts = {o: {"high": ballots} for o in OIDS}
    counts["ct-ubnd"] = {"trust": ballots - low - invalid, "low": low, "invalid": invalid}
    return counts


def test_paper_result_is_counted_then_certified() -> None:
    h = poll_hall(50, stage="committee")
    routed = h.accept(paper(paper_counts(34, 48, invalid=2), 48), SECRETARY)
    assert [type(r.event) for r in routed] == [p.PollClosed, p.PollCounted]
    assert not routed[1].audience.admits(PUBLIC)
    result = poll(h).result
    assert result is not None and result.paper
    assert of(result).counts == {"high": 0, "trust": 12, "low": 34}
    assert of(result).invalid == 2
    assert poll(h).counts["ct-ubnd"] == {"high": 0, "trust": 12, "low": 34, "invalid": 2}
    assert poll(h).counts["gd-syt"] == {"high": 48, "trust": 0, "low": 0, "invalid": 0}
    assert poll(h).ballots_collected == 48
    assert of(result).consequence is p.Consequence.DISMISSAL_PROPOSED
    assert poll(h).status is p.PollStatus.COUNTED
    for m in committee(h)[:4]:
        h.accept(p.CertifyPoll(poll_id="p1"), member(m))
    assert poll(h).status is p.PollStatus.CERTIFIED
    assert_replay(h)


def test_paper_result_after_opening_with_no_electronic_ballot() -> None:
    h = poll_hall(50)
    h.accept(paper(paper_counts(0, 50), 50), SECRETARY)
    assert poll(h).status is p.PollStatus.COUNTED


def test_paper_results_that_do_not_add_up() -> None:
    h = poll_hall(50, stage="committee")
    good = paper_counts(20, 40)
    h.refuse(paper(good, 41), SECRETARY, Code.COUNTS_INVALID)  # ballots say 41, each official adds up to 40
    short = {**good, "ct-ubnd": {"trust": 19, "low": 20}}
    h.refuse(paper(short, 40), SECRETARY, Code.COUNTS_INVALID)
    negative = {**good, "ct-ubnd": {"trust": 41, "low": -1}}
    h.refuse(paper(negative, 40), SECRETARY, Code.COUNTS_INVALID)
    h.refuse(paper(paper_counts(0, 51), 51), SECRETARY, Code.COUNTS_INVALID)  # more ballots than delegates
    h.refuse(paper(paper_counts(0, -1), -1), SECRETARY, Code.COUNTS_INVALID)
    missing = {k: v for k, v in good.items() if k != "gd-syt"}
    h.refuse(paper(missing, 40), SECRETARY, Code.COUNTS_INVALID)
    h.refuse(paper({**good, "stranger": {"high": 40}}, 40), SECRETARY, Code.UNKNOWN_OFFICIAL)
    h.refuse(paper({**good, "gd-syt": {"no_trust": 40}}, 40), SECRETARY, Code.INVALID)
    h.refuse(paper(good, 40), CHAIR, Code.FORBIDDEN)
    h.accept(paper(paper_counts(0, 50), 50), SECRETARY)  # 50 of 50 is the upper bound
    h.refuse(paper(good, 40), SECRETARY, Code.WRONG_POLL_STATE)


def test_paper_result_refused_without_committee_or_after_electronic_ballots() -> None:
    h = poll_hall(50, stage="created")
    h.refuse(paper(paper_counts(0, 40), 40), SECRETARY, Code.COMMITTEE_MISSING)
    h = poll_hall(50)
    cast(h, 1, {})
    h.refuse(paper(paper_counts(0, 40), 40), SECRETARY, Code.INVALID)


# --- refusals


def test_committee_too_small_province_and_commune() -> None:
    h = poll_hall(50, stage="created")
    h.refuse(p.AppointCommittee(poll_id="p1", members=committee(h, 6)), CHAIR, Code.COMMITTEE_TOO_SMALL)
    h.accept(p.AppointCommittee(poll_id="p1", members=committee(h, 7)), CHAIR)
    h = poll_hall(20, level=Level.COMMUNE, stage="created")
    h.refuse(p.AppointCommittee(poll_id="p1", members=committee(h, 2)), CHAIR, Code.COMMITTEE_TOO_SMALL)
    h.accept(p.AppointCommittee(poll_id="p1", members=committee(h, 3)), CHAIR)
    assert poll(h).committee == [did(18), did(19), did(20)]


def test_committee_refusals() -> None:
    h = poll_hall(50, stage="created")
    ok = committee(h)
    h.refuse(p.AppointCommittee(poll_id="p1", members=[did(3), *ok]), CHAIR, Code.COMMITTEE_ON_BALLOT)
    h.refuse(p.AppointCommittee(poll_id="p1", members=[*ok, ok[0]]), CHAIR, Code.INVALID)
    h.refuse(p.AppointCommittee(poll_id="p1", members=[*ok, "d999"]), CHAIR, Code.UNKNOWN_DELEGATE)
    h.refuse(p.AppointCommittee(poll_id="p1", members=ok), SECRETARY, Code.FORBIDDEN)
    h.refuse(p.AppointCommittee(poll_id="p9", members=ok), CHAIR, Code.UNKNOWN_POLL)
    h.refuse(p.AppointCommittee(poll_id="p1", members=[did(i) for i in range(1, 52)]), CHAIR, Code.INVALID)
    h.accept(p.AppointCommittee(poll_id="p1", members=ok), CHAIR)
    h.accept(p.AppointCommittee(poll_id="p1", members=committee(h, 9)), CHAIR)  # the council may re-elect
    h.accept(p.OpenPoll(poll_id="p1"), CHAIR)
    h.refuse(p.AppointCommittee(poll_id="p1", members=ok), CHAIR, Code.WRONG_POLL_STATE)


def test_open_refusals() -> None:
    h = poll_hall(50, stage="created")
    h.refuse(p.OpenPoll(poll_id="p1"), CHAIR, Code.COMMITTEE_MISSING)
    h.accept(p.AppointCommittee(poll_id="p1", members=committee(h)), CHAIR)
    h.refuse(p.OpenPoll(poll_id="p1"), SECRETARY, Code.FORBIDDEN)
    h.refuse(p.OpenPoll(poll_id="nope"), CHAIR, Code.UNKNOWN_POLL)
    h.accept(sess.SuspendSession(reason="Giải lao"), CHAIR)
    h.refuse(p.OpenPoll(poll_id="p1"), CHAIR, Code.WRONG_SESSION_STATE)
    h.accept(sess.ResumeSession(), CHAIR)
    h.accept(p.OpenPoll(poll_id="p1"), CHAIR)
    h.refuse(p.OpenPoll(poll_id="p1"), CHAIR, Code.WRONG_POLL_STATE)


def ballot(i: int, marks: dict[str, list[str]] | None = None) -> p.CastPollBallot:
    return p.CastPollBallot(poll_id="p1", delegate_id=did(i), marks=marks or {})


def test_ballot_refusals() -> None:
    h = poll_hall(50, present=45)
    cast(h, 1, {"ct-ubnd": ["low"]})
    h.refuse(ballot(1, {"ct-ubnd": ["high"]}), delegate(1), Code.ALREADY_VOTED)
    h.refuse(ballot(1), CHAIR, Code.ALREADY_VOTED)  # the chair is delegate d001
    h.refuse(ballot(2), SECRETARY, Code.NOT_A_DELEGATE)
    h.refuse(ballot(2), PUBLIC, Code.NOT_A_DELEGATE)
    h.refuse(ballot(2), RESPONDENT, Code.NOT_A_DELEGATE)
    h.refuse(ballot(2), delegate(3), Code.NOT_YOURSELF)
    h.refuse(ballot(99), delegate(99), Code.NOT_A_DELEGATE)
    h.refuse(ballot(46), delegate(46), Code.ABSENT)
    h.refuse(ballot(2, {"stranger": ["low"]}), delegate(2), Code.UNKNOWN_OFFICIAL)
    h.refuse(ballot(2, {"ct-ubnd": ["very_low"]}), delegate(2), Code.INVALID)
    h.refuse(ballot(2, {"ct-ubnd": ["no_trust"]}), delegate(2), Code.INVALID)  # not a rating level
    h.refuse(ballot(2, {"ct-ubnd": ["invalid"]}), delegate(2), Code.INVALID)  # not a box on the ballot
    h.refuse(ballot(2, {"ct-ubnd": ["low", "low"]}), delegate(2), Code.INVALID)
    h.refuse(ballot(2, {"ct-ubnd": ["low", "trust", "high", "low"]}), delegate(2), Code.INVALID)
    h.refuse(p.CastPollBallot(poll_id="p9", delegate_id=did(2), marks={}), delegate(2), Code.UNKNOWN_POLL)
    h.accept(sess.SuspendSession(reason="Giải lao"), CHAIR)
    h.refuse(ballot(2), delegate(2), Code.WRONG_SESSION_STATE)
    h.accept(sess.ResumeSession(), CHAIR)
    close(h)
    h.refuse(ballot(2), delegate(2), Code.POLL_NOT_OPEN)


def test_confidence_vote_refuses_rating_levels() -> None:
    h = poll_hall(50, kind=p.PollKind.CONFIDENCE_VOTE)
    h.refuse(ballot(2, {"ct-ubnd": ["high"]}), delegate(2), Code.INVALID)
    h.refuse(ballot(2, {"ct-ubnd": ["low"]}), delegate(2), Code.INVALID)
    cast(h, 2, {"ct-ubnd": ["no_trust"]})


def test_ballot_before_open_is_refused() -> None:
    h = poll_hall(50, stage="committee")
    h.refuse(ballot(2), delegate(2), Code.POLL_NOT_OPEN)


def test_ballot_without_a_usable_receipt_token_is_refused() -> None:
    h = poll_hall(50)
    h.clock.tick()
    before = sess.snapshot(h.s)
    for nonce in ("", "short-nonce-15ch"[:15]):
        with pytest.raises(DomainError) as e:
            sess.decide(h.s, ballot(2), Context(actor=delegate(2), now=h.clock.now, nonce=nonce))
        assert e.value.code is Code.INVALID
    assert sess.snapshot(h.s) == before
    assert poll(h).voted == set()


def test_a_repeated_receipt_token_is_refused() -> None:
    h = poll_hall(50)
    cast(h, 1, {})
    given_receipt = next(r.event.receipt for r in h.log if isinstance(r.event, p.PollReceipt))
    h.clock.tick()
    before = sess.snapshot(h.s)
    ctx = Context(actor=delegate(2), now=h.clock.now, nonce=given_receipt)
    with pytest.raises(DomainError) as e:
        sess.decide(h.s, ballot(2), ctx)
    assert e.value.code is Code.INVALID
    assert sess.snapshot(h.s) == before


def test_close_refusals() -> None:
    h = poll_hall(50)
    h.refuse(p.ClosePoll(poll_id="p1"), SECRETARY, Code.FORBIDDEN)
    h.refuse(p.ClosePoll(poll_id="p1"), delegate(5), Code.FORBIDDEN)
    h.refuse(p.ClosePoll(poll_id="p9"), CHAIR, Code.UNKNOWN_POLL)
    close(h)
    h.refuse(p.ClosePoll(poll_id="p1"), CHAIR, Code.POLL_NOT_OPEN)


def test_close_during_a_suspension() -> None:
    h = poll_hall(50)
    h.accept(sess.SuspendSession(reason="Mất điện"), CHAIR)
    assert close(h).ballots_collected == 0


def test_certify_refusals() -> None:
    h = poll_hall(50)
    m = committee(h)[0]
    h.refuse(p.CertifyPoll(poll_id="p1"), member(m), Code.WRONG_POLL_STATE)  # still open
    rating_ballots(h, 30, 0)
    close(h)
    h.refuse(p.CertifyPoll(poll_id="p1"), CHAIR, Code.NOT_ON_COMMITTEE)
    h.refuse(p.CertifyPoll(poll_id="p1"), SECRETARY, Code.NOT_ON_COMMITTEE)
    h.refuse(p.CertifyPoll(poll_id="p1"), PUBLIC, Code.NOT_ON_COMMITTEE)
    h.refuse(p.CertifyPoll(poll_id="p1"), member(did(2)), Code.NOT_ON_COMMITTEE)
    h.refuse(p.CertifyPoll(poll_id="p9"), member(m), Code.UNKNOWN_POLL)
    h.accept(p.CertifyPoll(poll_id="p1"), member(m))
    h.refuse(p.CertifyPoll(poll_id="p1"), member(m), Code.ALREADY_CERTIFIED)


def test_create_refusals() -> None:
    h = poll_hall(50)

    def create(officials: list[p.Official], poll_id: str = "p2", item_id: str = "item-2") -> p.CreatePoll:
        return p.CreatePoll(poll_id=poll_id, item_id=item_id, kind=p.PollKind.RATING, officials=officials)

    one = p.Official(id="x", name="Lê Văn Cường", position="Giám đốc Sở Tài chính")
    h.refuse(create([one], poll_id="p1"), SECRETARY, Code.DUPLICATE_ID)
    h.refuse(create([one], poll_id=""), SECRETARY, Code.INVALID)
    h.refuse(create([one], poll_id="p" * (p.MAX_ID + 1)), SECRETARY, Code.INVALID)
    h.refuse(create([one], item_id=" "), SECRETARY, Code.INVALID)
    h.refuse(create([]), SECRETARY, Code.INVALID)
    many = [msgspec.structs.replace(one, id=f"o{k}") for k in range(p.MAX_OFFICIALS + 1)]
    h.refuse(create(many), SECRETARY, Code.INVALID)
    h.refuse(create([one, one]), SECRETARY, Code.DUPLICATE_ID)
    h.refuse(create([msgspec.structs.replace(one, id="")]), SECRETARY, Code.INVALID)
    h.refuse(create([msgspec.structs.replace(one, name=" ")]), SECRETARY, Code.INVALID)
    h.refuse(create([msgspec.structs.replace(one, position="")]), SECRETARY, Code.INVALID)
    h.refuse(create([msgspec.structs.replace(one, name="A" * (p.MAX_NAME + 1))]), SECRETARY, Code.INVALID)
    h.refuse(create([msgspec.structs.replace(one, delegate_id="d999")]), SECRETARY, Code.UNKNOWN_DELEGATE)
    twice = [
        msgspec.structs.replace(one, id="a", delegate_id=did(4)),
        msgspec.structs.replace(one, id="b", delegate_id=did(4)),
    ]
    h.refuse(create(twice), SECRETARY, Code.DUPLICATE_ID)
    h.refuse(create([one]), delegate(5), Code.FORBIDDEN)
    h.refuse(create([one]), PUBLIC, Code.FORBIDDEN)
    h.accept(create(many[: p.MAX_OFFICIALS]), CHAIR)
    padded = msgspec.structs.replace(one, name="  Lê Văn Cường ")
    h.accept(create([padded], poll_id="p3"), SECRETARY)
    assert poll(h, "p3").officials[0].name == "Lê Văn Cường"


def test_create_before_the_session_opens() -> None:
    h = Hall(50)
    h.accept(p.CreatePoll(poll_id="p1", item_id="item-1", kind=p.PollKind.RATING, officials=OFFICIALS), SECRETARY)
    assert poll(h).status is p.PollStatus.DRAFT
    h.refuse(p.AppointCommittee(poll_id="p1", members=committee(h)), CHAIR, Code.WRONG_SESSION_STATE)


def test_cancel() -> None:
    h = poll_hall(50)
    cast(h, 1, {"ct-ubnd": ["low"]})
    h.refuse(p.CancelPoll(poll_id="p1", reason="Nhầm danh sách"), SECRETARY, Code.FORBIDDEN)
    h.refuse(p.CancelPoll(poll_id="p1", reason="  "), CHAIR, Code.INVALID)
    h.refuse(p.CancelPoll(poll_id="p1", reason="x" * (p.MAX_TEXT + 1)), CHAIR, Code.INVALID)
    h.refuse(p.CancelPoll(poll_id="p9", reason="Nhầm"), CHAIR, Code.UNKNOWN_POLL)
    routed = h.accept(p.CancelPoll(poll_id="p1", reason=" Nhầm danh sách "), CHAIR)
    assert routed[0].audience.admits(PUBLIC)
    assert (poll(h).status, poll(h).cancel_reason) == (p.PollStatus.CANCELLED, "Nhầm danh sách")
    assert not p.busy(h.s.polls)
    h.refuse(ballot(2), delegate(2), Code.POLL_NOT_OPEN)
    h.refuse(p.ClosePoll(poll_id="p1"), CHAIR, Code.POLL_NOT_OPEN)
    h.refuse(p.CancelPoll(poll_id="p1", reason="Lần nữa"), CHAIR, Code.WRONG_POLL_STATE)
    h.refuse(p.OpenPoll(poll_id="p1"), CHAIR, Code.WRONG_POLL_STATE)
    assert_replay(h)


def test_counted_poll_cannot_be_cancelled() -> None:
    h = poll_hall(50)
    close(h)
    h.refuse(p.CancelPoll(poll_id="p1", reason="Muộn"), CHAIR, Code.WRONG_POLL_STATE)


def test_every_refusal_message_is_bilingual() -> None:
    e = DomainError(Code.WRONG_POLL_STATE, id="p1", state_vi="đã hủy", state_en="cancelled")
    assert "đã hủy" in e.refusal.message_vi and "cancelled" in e.refusal.message_en


def test_tags_are_unique_and_wire_round_trip() -> None:
    tags = [t.__struct_config__.tag for t in (*p.COMMANDS, *p.EVENTS)]
    assert len(tags) == len(set(tags))
    assert all(isinstance(t, str) and t == t.lower() for t in tags)
    h = poll_hall(50)
    rating_ballots(h, 30, 20)
    h.accept(p.ReportPollProgress(poll_id="p1"), CHAIR)
    close(h)
    for m in committee(h)[:4]:
        h.accept(p.CertifyPoll(poll_id="p1"), member(m))
    events = [r.event for r in h.log]
    union = Union[(*sess.EVENTS, *agenda.EVENTS, *p.EVENTS)]
    decoded = msgspec.json.decode(msgspec.json.encode(events), type=list[union])
    assert decoded == events
    assert sess.snapshot(sess.replay(decoded)) == sess.snapshot(h.s)


def test_only_this_polls_committee_sees_the_count_before_publication() -> None:
    h = poll_hall(50)
    cast(h, 1, {})
    close(h)
    counted = next(r for r in h.log if isinstance(r.event, p.PollCounted))
    on_committee = member(poll(h).committee[0])
    elsewhere = Actor(roles=frozenset({Role.DELEGATE, Role.COMMITTEE}), person_id=did(20))
    assert did(20) not in poll(h).committee
    assert counted.audience.admits(on_committee)
    assert counted.audience.admits(CHAIR) and counted.audience.admits(SECRETARY)
    assert not counted.audience.admits(elsewhere)  # the committee role alone is not enough
    assert not counted.audience.admits(delegate(20)) and not counted.audience.admits(PUBLIC)


# --- the live count: who voted goes to staff and the voter, the number to everyone
def report(h: Hall, actor: Actor = CHAIR) -> p.PollProgress:
    routed = h.accept(p.ReportPollProgress(poll_id="p1"), actor)
    assert len(routed) == 1 and routed[0].audience == EVERYONE
    ev = routed[0].event
    assert isinstance(ev, p.PollProgress) and set(fields(ev)) == {"type", "poll_id", "ballots_collected"}
    return ev


def test_progress_announces_the_number_of_ballots_to_everyone() -> None:
    h = poll_hall(50)
    h.refuse(p.ReportPollProgress(poll_id="p1"), CHAIR, Code.PROGRESS_UNCHANGED)  # nothing yet
    rating_ballots(h, 12, 3)
    assert report(h).ballots_collected == 12
    assert (poll(h).ballots_reported, poll(h).ballots_collected) == (12, 12)
    e = h.refuse(p.ReportPollProgress(poll_id="p1"), CHAIR, Code.PROGRESS_UNCHANGED)
    assert "12" in e.refusal.message_vi and "12" in e.refusal.message_en
    cast(h, 13, {})
    for actor in (SECRETARY, PUBLIC, RESPONDENT, delegate(9), member(did(50))):
        h.refuse(p.ReportPollProgress(poll_id="p1"), actor, Code.FORBIDDEN)
    h.accept(sess.SuspendSession(reason="Giải lao"), CHAIR)
    assert report(h, Actor(roles=frozenset({Role.CHAIR}))).ballots_collected == 13  # the server's clock
    h.accept(sess.ResumeSession(), CHAIR)
    close(h)
    h.refuse(p.ReportPollProgress(poll_id="p1"), CHAIR, Code.POLL_NOT_OPEN)
    h.refuse(p.ReportPollProgress(poll_id="p2"), CHAIR, Code.UNKNOWN_POLL)
    assert_replay(h)


def test_progress_refused_for_a_draft_or_cancelled_poll() -> None:
    h = poll_hall(50, stage="committee")
    h.refuse(p.ReportPollProgress(poll_id="p1"), CHAIR, Code.POLL_NOT_OPEN)
    h.accept(p.OpenPoll(poll_id="p1"), CHAIR)
    cast(h, 1, {})
    h.accept(p.CancelPoll(poll_id="p1", reason="Hoãn"), CHAIR)
    h.refuse(p.ReportPollProgress(poll_id="p1"), CHAIR, Code.POLL_NOT_OPEN)


def test_views_see_the_announced_count_and_only_their_own_ballot() -> None:
    h = poll_hall(20)
    for i in range(1, 9):
        cast(h, i, {})
        if i % 3 == 0:
            report(h)
    events = [(k + 1, r.audience, r.event) for k, r in enumerate(h.log) if not r.audience.sealed]
    for r in h.log:
        if isinstance(r.event, p.PollDelegateVoted):
            assert [i for i in range(1, 21) if r.audience.admits(delegate(i))] == [int(r.event.delegate_id[1:])]
    # Delegate 8 voted after the last announcement (6): their view knows their own ballot's number.
    for i, collected in ((2, 6), (8, 8)):
        mine = views.visible_state(events, delegate(i))
        assert mine is not None
        assert poll(h).voted >= mine.polls.polls["p1"].voted == {did(i)}
        assert (mine.polls.polls["p1"].ballots_reported, mine.polls.polls["p1"].ballots_collected) == (6, collected)
    public = views.visible_state(events, PUBLIC)
    assert public is not None and public.polls.polls["p1"].voted == set()
    assert (public.polls.polls["p1"].ballots_reported, public.polls.polls["p1"].ballots_collected) == (6, 6)
    chair = views.visible_state(events, CHAIR)
    assert chair is not None and len(chair.polls.polls["p1"].voted) == 8
