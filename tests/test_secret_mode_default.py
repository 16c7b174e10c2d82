"""Verifiable is the default secret mode (issue 13 §2): a council created without rules counts its secret votes
and confidence polls verifiably, so a secret round or poll opened without a completed key ceremony is refused
(`unknown_ceremony`) and changes nothing; a council that chose "sealed" opens them sealed, and paper secret rounds
are what they were. The secretariat chooses with `change_rules`; a session takes the rules it was prepared with.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec
import pytest

from meeting import council, polls, script, votes
from meeting.actors import Actor, Context, Role
from meeting.errors import Code
from meeting.rules import BallotMode, Level, Rules, rules_for
from tests.factory import CHAIR, SECRETARY, did, running
from tests.test_outcomes import ADMIN, Council
from tests.test_polls import OFFICIALS


def committee() -> list[str]:
    return [did(i) for i in range(44, 51)]  # 7: the province minimum


def secret_open(**kw: object) -> votes.OpenVote:
    return votes.OpenVote(
        round_id="k", item_id="item-1", motion="Bỏ phiếu kín", secret=True, committee=committee(), **kw
    )  # type: ignore[arg-type]


def test_a_council_created_without_rules_is_verifiable() -> None:
    for level in Level:
        assert rules_for(level).secret_mode is BallotMode.VERIFIABLE
        ctx = Context(actor=ADMIN, now=datetime(2026, 12, 9, 1, 0, tzinfo=UTC))
        c, _ = council.execute(None, council.CreateCouncil(council_id="c", name="HĐND", level=level), ctx)
        assert c.rules.secret_mode is BallotMode.VERIFIABLE


def test_under_the_default_a_secret_round_without_a_ceremony_is_refused_and_changes_nothing() -> None:
    h = running(50)
    assert h.s.hall.rules.secret_mode is BallotMode.VERIFIABLE
    e = h.refuse(secret_open(), CHAIR, Code.UNKNOWN_CEREMONY)
    assert "phiên tạo khóa" in e.refusal.message_vi
    h.refuse(secret_open(ceremony_id="bkp-1"), CHAIR, Code.UNKNOWN_CEREMONY)  # named, but never held
    assert h.s.votes.rounds == {}
    # Saying "sealed" for this one round is still the chair's choice.
    h.accept(secret_open(mode=BallotMode.SEALED), CHAIR)
    assert h.s.votes.rounds["k"].mode is BallotMode.SEALED


def test_under_the_default_a_poll_without_a_ceremony_is_refused_and_changes_nothing() -> None:
    h = running(50)
    h.accept(
        polls.CreatePoll(poll_id="p1", item_id="item-1", kind=polls.PollKind.RATING, officials=OFFICIALS), SECRETARY
    )
    h.accept(polls.AppointCommittee(poll_id="p1", members=committee()), CHAIR)
    h.refuse(polls.OpenPoll(poll_id="p1"), CHAIR, Code.UNKNOWN_CEREMONY)
    assert h.s.polls.polls["p1"].status is polls.PollStatus.DRAFT


def test_a_council_that_chose_sealed_opens_sealed_rounds_and_polls() -> None:
    h = running(50, rules=Rules(secret_mode=BallotMode.SEALED))
    ev = h.accept(secret_open(), CHAIR)[0].event
    assert isinstance(ev, votes.RoundOpened) and ev.mode is BallotMode.SEALED and ev.ceremony_id is None
    h.accept(votes.CastBallot(round_id="k", delegate_id=did(2), option="yes"), _delegate(2))
    assert h.s.votes.rounds["k"].voted == {did(2)}
    h.accept(
        polls.CreatePoll(poll_id="p1", item_id="item-1", kind=polls.PollKind.RATING, officials=OFFICIALS), SECRETARY
    )
    h.accept(polls.AppointCommittee(poll_id="p1", members=committee()), CHAIR)
    h.accept(polls.OpenPoll(poll_id="p1"), CHAIR)
    assert h.s.polls.polls["p1"].mode is BallotMode.SEALED


def test_paper_secret_rounds_are_unaffected_by_the_default() -> None:
    h = running(50)
    ev = h.accept(secret_open(paper=True), CHAIR)[0].event
    assert isinstance(ev, votes.RoundOpened) and ev.paper and ev.mode is BallotMode.SEALED
    # A paper round cannot be made verifiable: the committee counts the paper.
    h2 = running(50)
    h2.refuse(secret_open(paper=True, mode=BallotMode.VERIFIABLE), CHAIR, Code.INVALID)


def test_the_secretariat_chooses_the_mode_and_the_next_session_takes_it() -> None:
    c = Council(5)
    assert c.s.rules.secret_mode is BallotMode.VERIFIABLE
    sealed = msgspec.structs.replace(c.s.rules, secret_mode=BallotMode.SEALED)
    c.refuse(CHAIR, council.ChangeRules(rules=sealed), Code.FORBIDDEN)
    c.refuse(
        Actor(roles=frozenset({Role.COMMITTEE, Role.DELEGATE}), person_id=did(2)),
        council.ChangeRules(rules=sealed),
        Code.FORBIDDEN,
    )
    c.run(SECRETARY, council.ChangeRules(rules=sealed))
    assert c.s.rules.secret_mode is BallotMode.SEALED
    prepare = council.prepare_session(c.s, session_id="s2", title="Kỳ họp thứ Năm", opens_on=date(2026, 12, 20))
    assert prepare.rules.secret_mode is BallotMode.SEALED
    # A mode that does not exist does not decode: the wire refuses it before the domain sees it.
    raw = msgspec.json.encode({"type": "change_rules", "rules": {"secret_mode": "open"}})
    try:
        msgspec.json.decode(raw, type=council.ChangeRules)
    except msgspec.ValidationError as e:
        assert "secret_mode" in str(e)
    else:
        raise AssertionError("an unknown secret mode decoded")


def _delegate(i: int) -> Actor:
    return Actor(roles=frozenset({Role.DELEGATE}), person_id=did(i))


def test_the_demo_council_is_verifiable_unless_seeded_sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.demo import demo_rules

    monkeypatch.delenv("KYHOP_DEMO_SECRET_MODE", raising=False)
    assert demo_rules() is None  # the province's defaults: verifiable
    create = script.council_setup(3, demo_rules())[0][1]
    assert isinstance(create, council.CreateCouncil) and create.rules is None
    monkeypatch.setenv("KYHOP_DEMO_SECRET_MODE", "sealed")
    sealed = demo_rules()
    assert sealed is not None and sealed.secret_mode is BallotMode.SEALED and sealed.committee_min == 7
    monkeypatch.setenv("KYHOP_DEMO_SECRET_MODE", "open")
    with pytest.raises(ValueError, match="open"):
        demo_rules()
