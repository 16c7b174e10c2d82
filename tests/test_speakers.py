"""The speakers' list: requests, the chair's order, timed speeches, and every refusal at its boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meeting import agenda, speakers
from meeting import session as sess
from meeting.actors import DELEGATES, EVERYONE
from meeting.errors import Code
from meeting.rules import Rules
from meeting.speakers import (
    EndSpeech,
    OrderSpeakers,
    RequestStatus,
    RequestToSpeak,
    SpeakersOrdered,
    SpeakingRequested,
    SpeakingRequestWithdrawn,
    SpeechEnded,
    SpeechStarted,
    StartSpeech,
    WithdrawRequest,
)
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Hall, delegate, did, running


def ask(h: Hall, i: int, rid: str, *, item_id: str | None = None, topic: str = "") -> None:
    h.accept(RequestToSpeak(request_id=rid, delegate_id=did(i), item_id=item_id, topic=topic), delegate(i))


def sp(h: Hall) -> speakers.Speakers:
    return h.s.speakers


def test_request_joins_the_current_items_queue_seen_by_the_hall() -> None:
    h = running(10)
    routed = h.accept(RequestToSpeak(request_id="a", delegate_id=did(3), topic="  Về giá đất  "), delegate(3))
    [r] = routed
    assert r.audience == DELEGATES
    assert not r.audience.admits(PUBLIC)
    assert r.event == SpeakingRequested(
        request_id="a", delegate_id=did(3), item_id="item-1", topic="Về giá đất", at=h.clock.now
    )
    ask(h, 4, "b", item_id="item-1")
    assert sp(h).order == {"item-1": ["a", "b"]}
    assert sp(h).requests["b"].status is RequestStatus.PENDING
    assert not speakers.busy(sp(h))


def test_request_refusals() -> None:
    h = running(10, present=9)  # d010 is not checked in
    ask(h, 2, "a")
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(3)), delegate(2), Code.NOT_YOURSELF)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(3)), PUBLIC, Code.NOT_A_DELEGATE)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(3)), SECRETARY, Code.NOT_A_DELEGATE)
    h.refuse(RequestToSpeak(request_id="x", delegate_id="r01"), RESPONDENT, Code.NOT_A_DELEGATE)
    h.refuse(RequestToSpeak(request_id="a", delegate_id=did(3)), delegate(3), Code.DUPLICATE_ID)
    h.refuse(RequestToSpeak(request_id="", delegate_id=did(3)), delegate(3), Code.INVALID)
    h.refuse(RequestToSpeak(request_id=" x", delegate_id=did(3)), delegate(3), Code.INVALID)
    h.refuse(RequestToSpeak(request_id="x" * 65, delegate_id=did(3)), delegate(3), Code.INVALID)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(3), item_id="item-2"), delegate(3), Code.ITEM_NOT_CURRENT)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(3), topic="t" * 501), delegate(3), Code.INVALID)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(10)), delegate(10), Code.NOT_CHECKED_IN)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(2)), delegate(2), Code.ALREADY_REQUESTED)
    # The boundaries themselves are accepted.
    ask(h, 3, "x" * 64, topic="t" * 500)


def test_request_needs_a_running_session_and_a_current_item() -> None:
    h = running(10, items=0)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(2)), delegate(2), Code.NO_CURRENT_ITEM)
    h = running(10)
    h.accept(sess.SuspendSession(reason="nghỉ giải lao"), CHAIR)
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(2)), delegate(2), Code.WRONG_SESSION_STATE)
    h = Hall(10).open_check_in().check_in(*range(1, 11))
    h.refuse(RequestToSpeak(request_id="x", delegate_id=did(2)), delegate(2), Code.WRONG_SESSION_STATE)


def test_one_pending_request_per_delegate_per_item() -> None:
    h = running(10)
    ask(h, 2, "a")
    h.refuse(RequestToSpeak(request_id="b", delegate_id=did(2)), delegate(2), Code.ALREADY_REQUESTED)
    # Another item is another queue.
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    ask(h, 2, "b")
    assert sp(h).order == {"item-1": ["a"], "item-2": ["b"]}
    # Once withdrawn, or once spoken, the delegate may ask again.
    h.accept(WithdrawRequest(request_id="b"), delegate(2))
    ask(h, 2, "c")
    h.accept(StartSpeech(request_id="c"), CHAIR)
    h.accept(EndSpeech(), CHAIR)
    ask(h, 2, "d")
    assert sp(h).order == {"item-1": ["a"], "item-2": ["d"]}


def test_withdraw_by_the_delegate_or_the_chair() -> None:
    h = running(10)
    ask(h, 2, "a")
    ask(h, 3, "b")
    ask(h, 4, "c")
    [r] = h.accept(WithdrawRequest(request_id="b"), delegate(3))
    assert r.audience == DELEGATES
    assert r.event == SpeakingRequestWithdrawn(request_id="b", delegate_id=did(3), item_id="item-1", by=did(3))
    h.accept(WithdrawRequest(request_id="c"), CHAIR)
    assert sp(h).order == {"item-1": ["a"]}
    assert sp(h).requests["c"].status is RequestStatus.WITHDRAWN
    h.accept(WithdrawRequest(request_id="a"), delegate(2))
    assert sp(h).order == {}


def test_withdraw_refusals() -> None:
    h = running(10)
    ask(h, 2, "a")
    ask(h, 3, "b")
    h.accept(WithdrawRequest(request_id="b"), delegate(3))
    h.refuse(WithdrawRequest(request_id="a"), delegate(3), Code.NOT_YOURSELF)
    h.refuse(WithdrawRequest(request_id="a"), PUBLIC, Code.FORBIDDEN)
    h.refuse(WithdrawRequest(request_id="a"), SECRETARY, Code.FORBIDDEN)
    h.refuse(WithdrawRequest(request_id="zz"), delegate(2), Code.UNKNOWN_REQUEST)
    h.refuse(WithdrawRequest(request_id="b"), delegate(3), Code.INVALID)
    h.accept(StartSpeech(request_id="a"), CHAIR)
    h.refuse(WithdrawRequest(request_id="a"), delegate(2), Code.INVALID)


def test_withdraw_during_a_break() -> None:
    h = running(10)
    ask(h, 2, "a")
    h.accept(sess.SuspendSession(), CHAIR)
    h.accept(WithdrawRequest(request_id="a"), delegate(2))
    assert sp(h).order == {}


def test_chair_orders_the_pending_requests_of_an_item() -> None:
    h = running(10)
    for i, rid in ((2, "a"), (3, "b"), (4, "c")):
        ask(h, i, rid)
    [r] = h.accept(OrderSpeakers(item_id="item-1", order=["c", "a", "b"]), CHAIR)
    assert r.audience == DELEGATES
    assert r.event == SpeakersOrdered(item_id="item-1", order=["c", "a", "b"])
    ask(h, 5, "d")  # a later request joins the end of the chair's order
    assert sp(h).order["item-1"] == ["c", "a", "b", "d"]
    h.accept(StartSpeech(request_id="a"), CHAIR)
    assert sp(h).order["item-1"] == ["c", "b", "d"]


def test_order_refusals() -> None:
    h = running(10)
    ask(h, 2, "a")
    ask(h, 3, "b")
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    ask(h, 4, "c")
    ask(h, 5, "w")
    h.accept(WithdrawRequest(request_id="w"), delegate(5))
    h.refuse(OrderSpeakers(item_id="item-1", order=["b", "a"]), delegate(2), Code.FORBIDDEN)
    h.refuse(OrderSpeakers(item_id="item-1", order=["b", "a"]), SECRETARY, Code.FORBIDDEN)
    h.refuse(OrderSpeakers(item_id="item-1", order=["b"]), CHAIR, Code.INVALID)
    h.refuse(OrderSpeakers(item_id="item-1", order=["b", "a", "a"]), CHAIR, Code.INVALID)
    h.refuse(OrderSpeakers(item_id="item-1", order=["b", "a", "c"]), CHAIR, Code.INVALID)
    h.refuse(OrderSpeakers(item_id="item-2", order=["c", "w"]), CHAIR, Code.INVALID)
    h.refuse(OrderSpeakers(item_id="item-1", order=["b", "zz"]), CHAIR, Code.UNKNOWN_REQUEST)
    h.refuse(OrderSpeakers(item_id="item-9", order=[]), CHAIR, Code.INVALID)
    # An item's queue may be ordered while another item is current (e.g. during a break).
    h.accept(sess.SuspendSession(), CHAIR)
    h.accept(OrderSpeakers(item_id="item-1", order=["b", "a"]), CHAIR)
    assert sp(h).order == {"item-1": ["b", "a"], "item-2": ["c"]}


def test_speech_from_a_request_runs_the_rules_countdown_on_every_screen() -> None:
    h = running(10, rules=Rules(speech_seconds=420))
    ask(h, 2, "a", topic="Về ngân sách")
    [r] = h.accept(StartSpeech(request_id="a"), CHAIR)
    t = h.clock.now
    assert r.audience == EVERYONE
    assert r.audience.admits(PUBLIC)
    assert r.event == SpeechStarted(
        delegate_id=did(2),
        name="Đại biểu số 2",
        item_id="item-1",
        request_id="a",
        seconds=420,
        started_at=t,
        ends_at=t + timedelta(seconds=420),
    )
    assert speakers.busy(sp(h))
    assert sp(h).requests["a"].status is RequestStatus.SPEAKING
    assert sp(h).order == {}


@pytest.mark.parametrize(("seconds", "ok"), [(0, False), (-60, False), (1, True), (3600, True), (3601, False)])
def test_speech_time_override_is_bounded(seconds: int, ok: bool) -> None:
    h = running(10)
    ask(h, 2, "a")
    cmd = StartSpeech(request_id="a", seconds=seconds)
    if not ok:
        h.refuse(cmd, CHAIR, Code.INVALID)
        return
    [r] = h.accept(cmd, CHAIR)
    assert isinstance(r.event, SpeechStarted)
    assert r.event.ends_at - r.event.started_at == timedelta(seconds=seconds)


def test_default_speech_time_comes_from_the_rules() -> None:
    h = running(10)
    [r] = h.accept(StartSpeech(delegate_id=did(5)), CHAIR)
    assert isinstance(r.event, SpeechStarted)
    assert r.event.seconds == 300


def test_chair_gives_the_floor_directly() -> None:
    h = running(10)
    ask(h, 2, "a")
    ask(h, 3, "b")
    # d003 had asked: calling them directly uses their request, so they leave the queue.
    [r] = h.accept(StartSpeech(delegate_id=did(3)), CHAIR)
    assert isinstance(r.event, SpeechStarted)
    assert r.event.request_id == "b"
    assert sp(h).order == {"item-1": ["a"]}
    h.accept(EndSpeech(), CHAIR)
    assert sp(h).requests["b"].status is RequestStatus.DONE
    # d004 had not asked: no request is involved.
    [r] = h.accept(StartSpeech(delegate_id=did(4)), CHAIR)
    assert isinstance(r.event, SpeechStarted)
    assert r.event.request_id is None
    assert sp(h).order == {"item-1": ["a"]}


def test_a_speech_before_any_item_belongs_to_no_item() -> None:
    h = running(10, items=0)
    [r] = h.accept(StartSpeech(delegate_id=did(1)), CHAIR)
    assert isinstance(r.event, SpeechStarted)
    assert r.event.item_id is None
    h.accept(EndSpeech(), CHAIR)
    assert sp(h).speeches[0].item_id is None


def test_start_speech_refusals() -> None:
    h = running(10, present=9)
    ask(h, 2, "a")
    ask(h, 3, "b")
    h.accept(WithdrawRequest(request_id="b"), delegate(3))
    h.refuse(StartSpeech(request_id="a"), delegate(2), Code.FORBIDDEN)
    h.refuse(StartSpeech(request_id="a"), SECRETARY, Code.FORBIDDEN)
    h.refuse(StartSpeech(), CHAIR, Code.INVALID)
    h.refuse(StartSpeech(request_id="a", delegate_id=did(2)), CHAIR, Code.INVALID)
    h.refuse(StartSpeech(request_id="zz"), CHAIR, Code.UNKNOWN_REQUEST)
    h.refuse(StartSpeech(request_id="b"), CHAIR, Code.INVALID)
    h.refuse(StartSpeech(delegate_id="d999"), CHAIR, Code.UNKNOWN_DELEGATE)
    h.refuse(StartSpeech(delegate_id=""), CHAIR, Code.UNKNOWN_DELEGATE)
    h.refuse(StartSpeech(delegate_id=did(10)), CHAIR, Code.NOT_CHECKED_IN)
    # A request left on an earlier item is not called on the current one.
    h.accept(agenda.MoveToItem(item_id="item-2"), CHAIR)
    h.refuse(StartSpeech(request_id="a"), CHAIR, Code.ITEM_NOT_CURRENT)
    h.accept(StartSpeech(delegate_id=did(4)), CHAIR)
    h.refuse(StartSpeech(delegate_id=did(5)), CHAIR, Code.SPEECH_IN_PROGRESS)
    h.accept(sess.SuspendSession(), CHAIR)
    h.refuse(StartSpeech(delegate_id=did(5)), CHAIR, Code.WRONG_SESSION_STATE)


def test_a_request_whose_delegate_left_cannot_be_called() -> None:
    h = running(10)
    ask(h, 2, "a")
    h.accept(sess.CheckOut(delegate_id=did(2)), delegate(2))
    h.refuse(StartSpeech(request_id="a"), CHAIR, Code.NOT_CHECKED_IN)


def test_end_speech_records_the_overrun() -> None:
    h = running(10)
    ask(h, 2, "a")
    h.accept(StartSpeech(request_id="a"), CHAIR)
    started = h.clock.now
    h.clock.tick(304)  # accept ticks one more second: ended 305 s after the start of a 300 s speech
    [r] = h.accept(EndSpeech(), delegate(2))
    assert r.audience == EVERYONE
    assert r.event == SpeechEnded(
        delegate_id=did(2),
        item_id="item-1",
        request_id="a",
        ended_at=started + timedelta(seconds=305),
        overrun_seconds=5,
    )
    assert not speakers.busy(sp(h))
    [done] = sp(h).speeches
    assert done.overrun_seconds == 5
    assert done.ended_at == started + timedelta(seconds=305)
    assert sp(h).requests["a"].status is RequestStatus.DONE


def test_ending_within_time_is_no_overrun() -> None:
    h = running(10)
    h.accept(StartSpeech(delegate_id=did(2)), CHAIR)
    h.clock.tick(298)  # ends at exactly 300 s
    [r] = h.accept(EndSpeech(), CHAIR)
    assert isinstance(r.event, SpeechEnded)
    assert r.event.overrun_seconds == 0


def test_end_speech_refusals() -> None:
    h = running(10)
    h.refuse(EndSpeech(), CHAIR, Code.NO_SPEECH)
    h.accept(StartSpeech(delegate_id=did(2)), CHAIR)
    h.refuse(EndSpeech(), delegate(3), Code.NOT_YOURSELF)
    h.refuse(EndSpeech(), PUBLIC, Code.FORBIDDEN)
    h.refuse(EndSpeech(), SECRETARY, Code.FORBIDDEN)
    h.refuse(EndSpeech(), RESPONDENT, Code.FORBIDDEN)


def test_a_speech_running_into_a_break_can_be_ended_and_blocks_closing() -> None:
    h = running(10)
    h.accept(StartSpeech(delegate_id=did(2)), CHAIR)
    h.accept(sess.SuspendSession(reason="mất điện"), CHAIR)
    h.refuse(sess.CloseSession(), CHAIR, Code.INVALID)
    h.accept(EndSpeech(), CHAIR)
    h.accept(sess.CloseSession(), CHAIR)
    h.refuse(EndSpeech(), CHAIR, Code.WRONG_SESSION_STATE)


def test_replay_gives_the_live_state() -> None:
    h = running(10)
    ask(h, 2, "a")
    ask(h, 3, "b")
    ask(h, 4, "c")
    h.accept(OrderSpeakers(item_id="item-1", order=["c", "b", "a"]), CHAIR)
    h.accept(WithdrawRequest(request_id="b"), CHAIR)
    h.accept(StartSpeech(request_id="c", seconds=120), CHAIR)
    h.clock.tick(200)
    h.accept(EndSpeech(), CHAIR)
    h.accept(StartSpeech(delegate_id=did(6)), CHAIR)
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)
    assert h.replayed().speakers == sp(h)


def test_commands_and_events_are_registered_with_unique_tags() -> None:
    for t in (*speakers.COMMANDS, *speakers.EVENTS):
        assert t in sess.ALL_COMMANDS or t in sess.ALL_EVENTS
    tags = [t.__struct_config__.tag for t in (*sess.ALL_COMMANDS, *sess.ALL_EVENTS)]
    mine = {t.__struct_config__.tag for t in (*speakers.COMMANDS, *speakers.EVENTS)}
    for tag in mine:
        assert isinstance(tag, str)
        assert tags.count(tag) == 1, tag
