"""Session lifecycle, attendance, quorum and the agenda."""

from __future__ import annotations

import pytest

from meeting import agenda
from meeting import session as sess
from meeting.actors import EVERYONE, Actor, Role
from meeting.errors import Code
from meeting.hall import Delegate, SessionStatus
from meeting.rules import Level, Rules, Threshold
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Hall, delegate, did, prepare, running


@pytest.mark.parametrize(
    ("n", "level", "needed"),
    [(50, Level.PROVINCE, 34), (85, Level.PROVINCE, 57), (125, Level.PROVINCE, 84), (15, Level.COMMUNE, 10)],
)
def test_quorum_boundary(n: int, level: Level, needed: int) -> None:
    h = Hall(n, level=level).open_check_in()
    h.check_in(*range(1, needed))  # one short
    assert h.s.hall.quorum_needed() == needed
    assert not h.s.hall.quorum_met()
    e = h.refuse(sess.OpenSession(), CHAIR, Code.NO_QUORUM)
    assert f"{needed - 1}/{n}" in e.refusal.message_vi
    routed = h.accept(sess.CheckIn(delegate_id=did(needed)), delegate(needed))
    att = routed[0].event
    assert isinstance(att, sess.Attendance)
    assert (att.present_count, att.total, att.quorum_needed, att.quorum_met) == (needed, n, needed, True)
    h.accept(sess.OpenSession(), CHAIR)
    assert h.s.hall.status is SessionStatus.IN_PROGRESS


def test_quorum_is_configurable() -> None:
    rules = Rules(quorum=Threshold(num=1, den=2, strict=True))
    h = Hall(50, rules=rules).open_check_in().check_in(*range(1, 26))
    h.refuse(sess.OpenSession(), CHAIR, Code.NO_QUORUM)
    h.check_in(26)
    h.accept(sess.OpenSession(), CHAIR)


def test_vacated_seats_do_not_count_towards_the_total() -> None:
    cmd = prepare(50)
    roster = [Delegate(id=d.id, name=d.name, seated=i >= 5) for i, d in enumerate(cmd.delegates)]
    h = Hall(50)
    h.state, h.log = None, []
    h.accept(sess.PrepareSession(**{**_fields(cmd), "delegates": roster}), SECRETARY)
    assert h.s.hall.total == 45
    assert h.s.hall.quorum_needed() == 30
    h.open_check_in()
    h.refuse(sess.CheckIn(delegate_id=did(1)), delegate(1), Code.SEAT_VACANT)


def _fields(cmd: sess.PrepareSession) -> dict[str, object]:
    return {f: getattr(cmd, f) for f in cmd.__struct_fields__}


def test_lifecycle_and_out_of_turn_commands() -> None:
    h = Hall(20)
    h.refuse(sess.CheckIn(delegate_id=did(2)), delegate(2), Code.WRONG_SESSION_STATE)
    h.refuse(sess.OpenSession(), CHAIR, Code.WRONG_SESSION_STATE)
    h.refuse(sess.PrepareSession(**_fields(prepare(20))), SECRETARY, Code.SESSION_EXISTS)
    h.refuse(sess.OpenCheckIn(), delegate(2), Code.FORBIDDEN)
    h.open_check_in()
    h.refuse(sess.OpenCheckIn(), SECRETARY, Code.WRONG_SESSION_STATE)
    h.check_in(*range(1, 21))
    h.refuse(sess.OpenSession(), SECRETARY, Code.FORBIDDEN)
    h.refuse(sess.OpenSession(), delegate(2), Code.FORBIDDEN)
    h.accept(sess.OpenSession(), CHAIR)
    h.refuse(sess.OpenSession(), CHAIR, Code.WRONG_SESSION_STATE)
    h.refuse(sess.ResumeSession(), CHAIR, Code.WRONG_SESSION_STATE)
    h.accept(sess.SuspendSession(reason="Nghỉ giải lao"), CHAIR)
    assert h.s.hall.status is SessionStatus.SUSPENDED
    # Quorum is checked again on resuming: 7 leave, 13 of 20 is below 14.
    for i in range(14, 21):
        h.accept(sess.CheckOut(delegate_id=did(i)), delegate(i))
    h.refuse(sess.ResumeSession(), CHAIR, Code.NO_QUORUM)
    h.check_in(20)
    h.accept(sess.ResumeSession(), CHAIR)
    h.accept(sess.CloseSession(), CHAIR)
    assert h.s.hall.status is SessionStatus.CLOSED
    # Nothing changes a closed session.
    h.refuse(sess.CheckIn(delegate_id=did(14)), delegate(14), Code.WRONG_SESSION_STATE)
    h.refuse(agenda.AddItem(item_id="x", title="Muộn"), SECRETARY, Code.WRONG_SESSION_STATE)
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)


def test_attendance_refusals() -> None:
    h = Hall(10).open_check_in()
    h.check_in(2)
    h.refuse(sess.CheckIn(delegate_id=did(2)), delegate(2), Code.ALREADY_CHECKED_IN)
    h.refuse(sess.CheckOut(delegate_id=did(3)), delegate(3), Code.NOT_CHECKED_IN)
    h.refuse(sess.CheckIn(delegate_id=did(3)), delegate(4), Code.NOT_YOURSELF)
    h.refuse(sess.CheckIn(delegate_id=did(3)), PUBLIC, Code.NOT_A_DELEGATE)
    h.refuse(sess.CheckIn(delegate_id=did(3)), RESPONDENT, Code.NOT_A_DELEGATE)
    outsider = Actor(roles=frozenset({Role.DELEGATE}), person_id="d999")
    h.refuse(sess.CheckIn(delegate_id="d999"), outsider, Code.NOT_A_DELEGATE)
    h.refuse(sess.CheckIn(delegate_id="d999"), SECRETARY, Code.UNKNOWN_DELEGATE)
    # The secretariat may record attendance for a delegate (e.g. a tablet that failed).
    h.accept(sess.CheckIn(delegate_id=did(3)), SECRETARY)
    assert h.s.hall.present == {did(2), did(3)}


def test_prepare_validation() -> None:
    base = _fields(prepare(5))
    dup = [Delegate(id="a", name="A"), Delegate(id="a", name="B")]
    for bad in ({"delegates": dup}, {"delegates": []}, {"title": " "}, {"title": "x" * 501}):
        with pytest.raises(sess.DomainError) as e:
            sess.decide(None, sess.PrepareSession(**{**base, **bad}), _ctx(SECRETARY))
        assert e.value.code is Code.INVALID
    with pytest.raises(sess.DomainError) as e:
        sess.decide(None, sess.PrepareSession(**base), _ctx(CHAIR))
    assert e.value.code is Code.FORBIDDEN
    with pytest.raises(sess.DomainError) as e:
        sess.decide(None, sess.OpenCheckIn(), _ctx(SECRETARY))
    assert e.value.code is Code.UNKNOWN_SESSION


def _ctx(actor: Actor) -> sess.Context:
    from tests.factory import T0

    return sess.Context(actor=actor, now=T0)


def test_handle_returns_refusal_without_raising() -> None:
    out = sess.handle(None, sess.OpenCheckIn(), _ctx(SECRETARY))
    assert isinstance(out, sess.Refusal)
    assert out.code is Code.UNKNOWN_SESSION
    assert "kỳ họp" in out.message_vi
    ok = sess.handle(None, prepare(5), _ctx(SECRETARY))
    assert isinstance(ok, sess.Accepted)
    assert ok.events[0].audience == EVERYONE


def test_agenda_flow() -> None:
    h = running(20, items=3)
    assert h.s.agenda.order == ["item-1", "item-2", "item-3"]
    assert h.s.agenda.items["item-1"].status is agenda.ItemStatus.CURRENT
    h.accept(agenda.ReorderAgenda(order=["item-3", "item-1", "item-2"]), CHAIR)
    assert h.s.agenda.order == ["item-3", "item-1", "item-2"]
    h.accept(agenda.SetFollowMe(document_id="doc-1", page=12), CHAIR)
    assert h.s.agenda.follow_me == agenda.FollowMe(document_id="doc-1", page=12)
    h.accept(agenda.MoveToItem(item_id="item-3"), CHAIR)
    assert h.s.hall.current_item == "item-3"
    assert h.s.agenda.items["item-1"].status is agenda.ItemStatus.DONE
    assert h.s.agenda.follow_me is None  # a new item starts without a page pointer
    h.accept(agenda.AddItem(item_id="item-4", title="Nghị quyết bổ sung", kind=agenda.ItemKind.OTHER), SECRETARY)
    assert h.s.agenda.order[-1] == "item-4"
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)


def test_agenda_refusals() -> None:
    h = running(20, items=2)
    h.refuse(agenda.MoveToItem(item_id="nope"), CHAIR, Code.UNKNOWN_ITEM)
    h.refuse(agenda.MoveToItem(item_id="item-1"), CHAIR, Code.INVALID)
    h.refuse(agenda.MoveToItem(item_id="item-2"), SECRETARY, Code.FORBIDDEN)
    h.refuse(agenda.MoveToItem(item_id="item-2"), delegate(3), Code.FORBIDDEN)
    h.refuse(agenda.ReorderAgenda(order=["item-1"]), CHAIR, Code.INVALID)
    h.refuse(agenda.ReorderAgenda(order=["item-1", "item-1"]), CHAIR, Code.INVALID)
    h.refuse(agenda.ReorderAgenda(order=["item-2", "item-1"]), PUBLIC, Code.FORBIDDEN)
    h.refuse(agenda.AddItem(item_id="item-1", title="Trùng"), SECRETARY, Code.DUPLICATE_ID)
    h.refuse(agenda.AddItem(item_id="item-9", title="   "), SECRETARY, Code.INVALID)
    h.refuse(agenda.AddItem(item_id="item-9", title="x" * 501), SECRETARY, Code.INVALID)
    h.refuse(agenda.AddItem(item_id="item-9", title="Hợp lệ"), CHAIR, Code.FORBIDDEN)
    h.refuse(agenda.SetFollowMe(document_id="doc", page=0), CHAIR, Code.INVALID)
    h.refuse(agenda.ClearFollowMe(), CHAIR, Code.INVALID)


def test_agenda_before_opening_cannot_move() -> None:
    h = Hall(10)
    h.accept(agenda.AddItem(item_id="a", title="Báo cáo"), SECRETARY)
    h.refuse(agenda.MoveToItem(item_id="a"), CHAIR, Code.WRONG_SESSION_STATE)


def test_every_event_round_trips_through_json() -> None:
    import msgspec

    h = running(30, items=2)
    h.accept(sess.SuspendSession(reason="Giải lao 15 phút"), CHAIR)
    union = sess.ALL_EVENTS
    dec = msgspec.json.Decoder(union[0] if len(union) == 1 else _union(union))
    for r in h.log:
        assert dec.decode(msgspec.json.encode(r.event)) == r.event


def _union(types: tuple[type, ...]) -> object:
    from typing import Union

    return Union[types]  # noqa: UP007 - built at run time from the registry


def test_one_voice_on_the_floor_and_no_close_while_busy() -> None:
    from meeting import questioning, speakers

    h = running(20)
    h.accept(
        questioning.RegisterQuestion(
            question_id="q1", delegate_id=did(5), respondent_id="r02", topic="Y tế", text="Thiếu thuốc?"
        ),
        delegate(5),
    )
    h.accept(questioning.CallQuestion(question_id="q1"), CHAIR)
    h.refuse(speakers.StartSpeech(delegate_id=did(6)), CHAIR, Code.SPEECH_IN_PROGRESS)
    h.refuse(speakers.StartSpeech(delegate_id=did(6)), delegate(6), Code.FORBIDDEN)  # the role is checked first
    h.refuse(sess.CloseSession(), CHAIR, Code.INVALID)  # a questioning turn is running
    h.accept(questioning.EndTurn(), CHAIR)
    h.accept(speakers.StartSpeech(delegate_id=did(6)), CHAIR)
    h.refuse(questioning.CallAnswer(question_id="q1"), CHAIR, Code.SPEECH_IN_PROGRESS)
    h.refuse(sess.CloseSession(), CHAIR, Code.INVALID)
    h.accept(speakers.EndSpeech(), CHAIR)
    h.accept(sess.CloseSession(), CHAIR)
