"""Questioning: registration, grouping, timed turns, rebuttal order, answers and commitments, every refusal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from meeting import questioning
from meeting import session as sess
from meeting.actors import DELEGATES, EVERYONE, Actor, Role
from meeting.errors import Code
from meeting.questioning import (
    AnswerCalled,
    AnswerRecorded,
    CallAnswer,
    CallQuestion,
    CallRebuttal,
    CommitmentStatus,
    CommitmentUpdated,
    EndTurn,
    GroupQuestions,
    QuestionCalled,
    QuestionGroup,
    QuestionRegistered,
    QuestionsGrouped,
    QuestionStatus,
    RebuttalCalled,
    RecordAnswer,
    RegisterQuestion,
    RequestRebuttal,
    TurnEnded,
    TurnKind,
    UpdateCommitment,
    WithdrawQuestion,
)
from meeting.rules import Rules
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Hall, delegate, did, running

ADMIN = Actor(roles=frozenset({Role.ADMIN}), person_id="admin")


def ask(h: Hall, i: int, qid: str, respondent: str = "r01", topic: str = "Y tế") -> None:
    cmd = RegisterQuestion(
        question_id=qid, delegate_id=did(i), respondent_id=respondent, topic=topic, text=f"Câu hỏi {qid}?"
    )
    h.accept(cmd, delegate(i))


def q(h: Hall, qid: str) -> questioning.Question:
    return h.s.questioning.questions[qid]


def qs(h: Hall) -> questioning.Questioning:
    return h.s.questioning


def answered(h: Hall, i: int, qid: str) -> None:
    """Question `qid` by delegate i asked and answered (status ANSWERING, floor free)."""
    ask(h, i, qid)
    h.accept(CallQuestion(question_id=qid), CHAIR)
    h.accept(EndTurn(), CHAIR)
    h.accept(CallAnswer(question_id=qid), CHAIR)
    h.accept(EndTurn(), CHAIR)


# --- registering
def test_register_is_seen_by_the_hall_and_the_respondent_not_the_public() -> None:
    h = running(10)
    cmd = RegisterQuestion(
        question_id="q1",
        delegate_id=did(2),
        respondent_id="r02",
        topic="  Y tế cơ sở ",
        text=" Vì sao trạm y tế xã thiếu thuốc? ",
        attachments=["doc-1", "doc-2"],
    )
    [r] = h.accept(cmd, delegate(2))
    assert r.audience == DELEGATES
    assert r.audience.admits(RESPONDENT)
    assert not r.audience.admits(PUBLIC)
    assert r.event == QuestionRegistered(
        question_id="q1",
        delegate_id=did(2),
        respondent_id="r02",
        topic="Y tế cơ sở",
        text="Vì sao trạm y tế xã thiếu thuốc?",
        attachments=["doc-1", "doc-2"],
        at=h.clock.now,
    )
    assert q(h, "q1").status is QuestionStatus.REGISTERED
    assert qs(h).order == ["q1"]
    assert not questioning.busy(qs(h))


def test_register_ahead_of_the_session_and_during_a_break() -> None:
    h = Hall(10)
    h.refuse(
        RegisterQuestion(question_id="q0", delegate_id=did(2), respondent_id="r01", topic="t", text="x"),
        delegate(2),
        Code.WRONG_SESSION_STATE,
    )
    h.open_check_in()
    ask(h, 2, "q1")  # check-in is open, the session is not
    h.check_in(*range(1, 11))
    h.accept(sess.OpenSession(), CHAIR)
    h.accept(sess.SuspendSession(), CHAIR)
    ask(h, 3, "q2")
    assert qs(h).order == ["q1", "q2"]


def test_register_refusals() -> None:
    h = running(10)
    ask(h, 2, "q1")

    def reg(**kw: object) -> RegisterQuestion:
        base: dict[str, object] = {
            "question_id": "qx",
            "delegate_id": did(3),
            "respondent_id": "r01",
            "topic": "Đất đai",
            "text": "Câu hỏi?",
        }
        return RegisterQuestion(**{**base, **kw})  # type: ignore[arg-type]

    h.refuse(reg(), delegate(4), Code.NOT_YOURSELF)
    h.refuse(reg(), RESPONDENT, Code.NOT_A_DELEGATE)
    h.refuse(reg(), SECRETARY, Code.NOT_A_DELEGATE)
    h.refuse(reg(), PUBLIC, Code.NOT_A_DELEGATE)
    h.refuse(reg(question_id="q1"), delegate(3), Code.DUPLICATE_ID)
    h.refuse(reg(question_id=""), delegate(3), Code.INVALID)
    h.refuse(reg(question_id="q" * 65), delegate(3), Code.INVALID)
    h.refuse(reg(respondent_id="r99"), delegate(3), Code.UNKNOWN_RESPONDENT)
    h.refuse(reg(respondent_id=did(2)), delegate(3), Code.UNKNOWN_RESPONDENT)
    h.refuse(reg(topic="   "), delegate(3), Code.INVALID)
    h.refuse(reg(topic="t" * 501), delegate(3), Code.INVALID)
    h.refuse(reg(text=""), delegate(3), Code.INVALID)
    h.refuse(reg(text="x" * 2001), delegate(3), Code.INVALID)
    h.refuse(reg(attachments=[f"doc-{k}" for k in range(21)]), delegate(3), Code.INVALID)
    h.refuse(reg(attachments=["doc-1", "doc-1"]), delegate(3), Code.INVALID)
    h.refuse(reg(attachments=[""]), delegate(3), Code.INVALID)
    h.refuse(reg(attachments=["d" * 65]), delegate(3), Code.INVALID)
    # Every boundary itself is accepted.
    h.accept(
        reg(
            question_id="q" * 64,
            topic="t" * 500,
            text="x" * 2000,
            attachments=[f"doc-{k}" for k in range(20)],
        ),
        delegate(3),
    )


def test_withdraw_by_the_author_while_registered() -> None:
    h = running(10)
    ask(h, 2, "q1")
    ask(h, 3, "q2")
    [r] = h.accept(WithdrawQuestion(question_id="q1"), delegate(2))
    assert r.audience == DELEGATES
    assert q(h, "q1").status is QuestionStatus.WITHDRAWN
    assert qs(h).order == ["q2"]
    h.refuse(WithdrawQuestion(question_id="q1"), delegate(2), Code.WRONG_QUESTION_STATE)
    h.refuse(WithdrawQuestion(question_id="q2"), delegate(2), Code.NOT_YOURSELF)
    h.refuse(WithdrawQuestion(question_id="q2"), CHAIR, Code.NOT_YOURSELF)
    h.refuse(WithdrawQuestion(question_id="q2"), SECRETARY, Code.NOT_A_DELEGATE)
    h.refuse(WithdrawQuestion(question_id="zz"), delegate(2), Code.UNKNOWN_QUESTION)
    h.accept(CallQuestion(question_id="q2"), CHAIR)
    h.refuse(WithdrawQuestion(question_id="q2"), delegate(3), Code.WRONG_QUESTION_STATE)


# --- grouping
def test_grouping_sets_topic_groups_and_the_calling_order() -> None:
    h = running(10)
    for i, qid in enumerate(["a", "b", "c", "d", "e"], start=2):
        ask(h, i, qid)
    groups = [
        QuestionGroup(topic=" Đất đai ", question_ids=["d", "b"]),
        QuestionGroup(topic="Y tế", question_ids=["e"]),
    ]
    [r] = h.accept(GroupQuestions(groups=groups), CHAIR)
    assert r.audience == DELEGATES
    # Listed ones in group order, the unlisted ones after them in their earlier order.
    assert r.event == QuestionsGrouped(
        groups=[
            QuestionGroup(topic="Đất đai", question_ids=["d", "b"]),
            QuestionGroup(topic="Y tế", question_ids=["e"]),
        ],
        order=["d", "b", "e", "a", "c"],
    )
    assert qs(h).order == ["d", "b", "e", "a", "c"]
    assert [q(h, x).group for x in "abcde"] == [None, "Đất đai", None, "Đất đai", "Y tế"]
    # A second grouping keeps earlier group labels of unlisted questions.
    h.accept(GroupQuestions(groups=[QuestionGroup(topic="Khác", question_ids=["c"])]), CHAIR)
    assert qs(h).order == ["c", "d", "b", "e", "a"]
    assert q(h, "d").group == "Đất đai"
    ask(h, 7, "f")  # later questions join the end
    assert qs(h).order[-1] == "f"


def test_grouping_refusals() -> None:
    h = running(10)
    ask(h, 2, "a")
    ask(h, 3, "b")
    ask(h, 4, "c")
    h.accept(WithdrawQuestion(question_id="c"), delegate(4))

    def grp(*ids: str, topic: str = "Chủ đề") -> GroupQuestions:
        return GroupQuestions(groups=[QuestionGroup(topic=topic, question_ids=list(ids))])

    h.refuse(grp("a"), delegate(2), Code.FORBIDDEN)
    h.refuse(grp("a"), SECRETARY, Code.FORBIDDEN)
    h.refuse(GroupQuestions(groups=[]), CHAIR, Code.INVALID)
    h.refuse(grp(), CHAIR, Code.INVALID)
    h.refuse(grp("a", topic=" "), CHAIR, Code.INVALID)
    h.refuse(grp("a", topic="t" * 501), CHAIR, Code.INVALID)
    h.refuse(grp("a", "a"), CHAIR, Code.INVALID)
    h.refuse(
        GroupQuestions(
            groups=[QuestionGroup(topic="x", question_ids=["a"]), QuestionGroup(topic="y", question_ids=["a"])]
        ),
        CHAIR,
        Code.INVALID,
    )
    h.refuse(grp("a", "zz"), CHAIR, Code.UNKNOWN_QUESTION)
    h.refuse(grp("c"), CHAIR, Code.WRONG_QUESTION_STATE)
    h.accept(CallQuestion(question_id="b"), CHAIR)
    h.refuse(grp("a", "b"), CHAIR, Code.WRONG_QUESTION_STATE)


# --- turns
def test_call_question_runs_the_question_timer_for_everyone() -> None:
    h = running(10)
    ask(h, 2, "q1", respondent="r03", topic="Môi trường")
    ask(h, 3, "q2")
    [r] = h.accept(CallQuestion(question_id="q1"), CHAIR)
    t = h.clock.now
    assert r.audience == EVERYONE
    assert r.audience.admits(PUBLIC)
    assert r.event == QuestionCalled(
        question_id="q1",
        delegate_id=did(2),
        respondent_id="r03",
        topic="Môi trường",
        seconds=60,
        started_at=t,
        ends_at=t + timedelta(seconds=60),
    )
    assert q(h, "q1").status is QuestionStatus.CALLED
    assert qs(h).order == ["q2"]
    assert questioning.busy(qs(h))
    floor = qs(h).floor
    assert floor is not None
    assert (floor.kind, floor.speaker_id, floor.ends_at) == (TurnKind.QUESTION, did(2), t + timedelta(seconds=60))


def test_timers_come_from_the_councils_rules() -> None:
    h = running(10, rules=Rules(question_seconds=90, answer_seconds=240, rebuttal_seconds=150))
    ask(h, 2, "q1")
    [r] = h.accept(CallQuestion(question_id="q1"), CHAIR)
    assert isinstance(r.event, QuestionCalled)
    assert r.event.ends_at - r.event.started_at == timedelta(seconds=90)
    h.accept(EndTurn(), CHAIR)
    [r] = h.accept(CallAnswer(question_id="q1"), CHAIR)
    assert isinstance(r.event, AnswerCalled)
    assert (r.event.seconds, r.event.ends_at - r.event.started_at) == (240, timedelta(seconds=240))
    h.accept(EndTurn(), CHAIR)
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(2)), delegate(2))
    [r] = h.accept(CallRebuttal(question_id="q1", delegate_id=did(2)), CHAIR)
    assert isinstance(r.event, RebuttalCalled)
    assert r.event.ends_at - r.event.started_at == timedelta(seconds=150)


def test_default_timers_are_one_and_three_minutes() -> None:
    h = running(10)
    ask(h, 2, "q1")
    [r] = h.accept(CallQuestion(question_id="q1"), CHAIR)
    assert isinstance(r.event, QuestionCalled)
    assert r.event.seconds == 60
    h.accept(EndTurn(), CHAIR)
    [r] = h.accept(CallAnswer(question_id="q1"), CHAIR)
    t = h.clock.now
    assert r.audience == EVERYONE
    assert r.event == AnswerCalled(
        question_id="q1", respondent_id="r01", seconds=180, started_at=t, ends_at=t + timedelta(seconds=180)
    )
    assert q(h, "q1").status is QuestionStatus.ANSWERING
    floor = qs(h).floor
    assert floor is not None
    assert (floor.kind, floor.speaker_id) == (TurnKind.ANSWER, "r01")


def test_call_question_refusals() -> None:
    h = running(10)
    ask(h, 2, "q1")
    ask(h, 3, "q2")
    ask(h, 4, "q3")
    h.accept(WithdrawQuestion(question_id="q3"), delegate(4))
    h.refuse(CallQuestion(question_id="q1"), delegate(2), Code.FORBIDDEN)
    h.refuse(CallQuestion(question_id="q1"), SECRETARY, Code.FORBIDDEN)
    h.refuse(CallQuestion(question_id="zz"), CHAIR, Code.UNKNOWN_QUESTION)
    h.refuse(CallQuestion(question_id="q3"), CHAIR, Code.WRONG_QUESTION_STATE)
    h.accept(CallQuestion(question_id="q1"), CHAIR)
    h.refuse(CallQuestion(question_id="q2"), CHAIR, Code.SPEECH_IN_PROGRESS)
    h.accept(EndTurn(), CHAIR)
    h.refuse(CallQuestion(question_id="q1"), CHAIR, Code.WRONG_QUESTION_STATE)
    h.accept(sess.SuspendSession(), CHAIR)
    h.refuse(CallQuestion(question_id="q2"), CHAIR, Code.WRONG_SESSION_STATE)


def test_call_answer_refusals() -> None:
    h = running(10)
    ask(h, 2, "q1")
    ask(h, 3, "q2")
    h.refuse(CallAnswer(question_id="q1"), CHAIR, Code.WRONG_QUESTION_STATE)  # not asked yet
    h.accept(CallQuestion(question_id="q1"), CHAIR)
    h.refuse(CallAnswer(question_id="q1"), CHAIR, Code.SPEECH_IN_PROGRESS)  # the questioner still speaks
    h.accept(EndTurn(), CHAIR)
    h.refuse(CallAnswer(question_id="q1"), delegate(2), Code.FORBIDDEN)
    h.refuse(CallAnswer(question_id="q1"), RESPONDENT, Code.FORBIDDEN)
    h.refuse(CallAnswer(question_id="zz"), CHAIR, Code.UNKNOWN_QUESTION)
    h.accept(WithdrawQuestion(question_id="q2"), delegate(3))
    h.refuse(CallAnswer(question_id="q2"), CHAIR, Code.WRONG_QUESTION_STATE)
    h.accept(sess.SuspendSession(), CHAIR)
    h.refuse(CallAnswer(question_id="q1"), CHAIR, Code.WRONG_SESSION_STATE)


def test_end_turn_records_the_overrun_and_keeps_the_turn_for_the_minutes() -> None:
    h = running(10)
    ask(h, 2, "q1")
    h.accept(CallQuestion(question_id="q1"), CHAIR)
    started = h.clock.now
    h.clock.tick(69)
    [r] = h.accept(EndTurn(), CHAIR)
    assert r.audience == EVERYONE
    assert r.event == TurnEnded(
        question_id="q1",
        kind=TurnKind.QUESTION,
        speaker_id=did(2),
        ended_at=started + timedelta(seconds=70),
        overrun_seconds=10,
    )
    assert not questioning.busy(qs(h))
    [turn] = qs(h).turns
    assert (turn.kind, turn.overrun_seconds, turn.ended_at) == (
        TurnKind.QUESTION,
        10,
        started + timedelta(seconds=70),
    )
    assert q(h, "q1").status is QuestionStatus.CALLED
    h.accept(CallAnswer(question_id="q1"), CHAIR)
    h.clock.tick(100)
    [r] = h.accept(EndTurn(), CHAIR)
    assert isinstance(r.event, TurnEnded)
    assert (r.event.kind, r.event.speaker_id, r.event.overrun_seconds) == (TurnKind.ANSWER, "r01", 0)


def test_end_turn_refusals_and_ending_during_a_break() -> None:
    h = running(10)
    h.refuse(EndTurn(), CHAIR, Code.NO_SPEECH)
    ask(h, 2, "q1")
    h.accept(CallQuestion(question_id="q1"), CHAIR)
    h.refuse(EndTurn(), delegate(2), Code.FORBIDDEN)
    h.refuse(EndTurn(), SECRETARY, Code.FORBIDDEN)
    h.refuse(EndTurn(), RESPONDENT, Code.FORBIDDEN)
    h.accept(sess.SuspendSession(), CHAIR)
    h.accept(EndTurn(), CHAIR)
    assert not questioning.busy(qs(h))


# --- rebuttal
def test_the_questioner_debates_first_even_when_asking_last() -> None:
    h = running(10)
    answered(h, 2, "q1")
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(5)), delegate(5))
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(4)), delegate(4))
    [r] = h.accept(RequestRebuttal(question_id="q1", delegate_id=did(2)), delegate(2))
    assert r.audience == DELEGATES
    assert q(h, "q1").rebuttal_queue == [did(2), did(5), did(4)]
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(6)), delegate(6))
    assert q(h, "q1").rebuttal_queue == [did(2), did(5), did(4), did(6)]
    [r] = h.accept(CallRebuttal(question_id="q1", delegate_id=did(2)), CHAIR)
    t = h.clock.now
    assert r.audience == EVERYONE
    assert r.event == RebuttalCalled(
        question_id="q1", delegate_id=did(2), seconds=120, started_at=t, ends_at=t + timedelta(seconds=120)
    )
    assert q(h, "q1").rebuttal_queue == [did(5), did(4), did(6)]
    assert q(h, "q1").rebutted == [did(2)]
    floor = qs(h).floor
    assert floor is not None
    assert (floor.kind, floor.speaker_id) == (TurnKind.REBUTTAL, did(2))


def test_the_questioner_goes_to_the_front_of_what_remains() -> None:
    h = running(10)
    answered(h, 2, "q1")
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(5)), delegate(5))
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(4)), delegate(4))
    h.accept(CallRebuttal(question_id="q1", delegate_id=did(5)), CHAIR)
    h.accept(EndTurn(), CHAIR)
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(2)), delegate(2))
    assert q(h, "q1").rebuttal_queue == [did(2), did(4)]


def test_rebuttal_request_refusals() -> None:
    h = running(10)
    ask(h, 2, "q1")
    h.refuse(RequestRebuttal(question_id="q1", delegate_id=did(3)), delegate(3), Code.WRONG_QUESTION_STATE)
    h.accept(CallQuestion(question_id="q1"), CHAIR)
    h.refuse(RequestRebuttal(question_id="q1", delegate_id=did(3)), delegate(3), Code.WRONG_QUESTION_STATE)
    h.accept(EndTurn(), CHAIR)
    h.accept(CallAnswer(question_id="q1"), CHAIR)
    # While the answer is being given, delegates may already ask to debate it.
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(3)), delegate(3))
    h.refuse(RequestRebuttal(question_id="q1", delegate_id=did(3)), delegate(3), Code.ALREADY_REQUESTED)
    h.refuse(RequestRebuttal(question_id="q1", delegate_id=did(4)), delegate(3), Code.NOT_YOURSELF)
    h.refuse(RequestRebuttal(question_id="q1", delegate_id="r01"), RESPONDENT, Code.NOT_A_DELEGATE)
    h.refuse(RequestRebuttal(question_id="zz", delegate_id=did(4)), delegate(4), Code.UNKNOWN_QUESTION)
    h.accept(EndTurn(), CHAIR)
    h.accept(CallRebuttal(question_id="q1", delegate_id=did(3)), CHAIR)
    h.accept(EndTurn(), CHAIR)
    # One request per delegate per question, even after the turn was had.
    h.refuse(RequestRebuttal(question_id="q1", delegate_id=did(3)), delegate(3), Code.ALREADY_REQUESTED)
    h.accept(sess.SuspendSession(), CHAIR)
    h.refuse(RequestRebuttal(question_id="q1", delegate_id=did(4)), delegate(4), Code.WRONG_SESSION_STATE)


def test_call_rebuttal_refusals() -> None:
    h = running(10)
    ask(h, 7, "q0")
    answered(h, 2, "q1")
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(3)), delegate(3))
    h.refuse(CallRebuttal(question_id="q1", delegate_id=did(3)), delegate(2), Code.FORBIDDEN)
    h.refuse(CallRebuttal(question_id="q1", delegate_id=did(3)), SECRETARY, Code.FORBIDDEN)
    h.refuse(CallRebuttal(question_id="zz", delegate_id=did(3)), CHAIR, Code.UNKNOWN_QUESTION)
    h.refuse(CallRebuttal(question_id="q0", delegate_id=did(3)), CHAIR, Code.WRONG_QUESTION_STATE)
    h.refuse(CallRebuttal(question_id="q1", delegate_id="d999"), CHAIR, Code.UNKNOWN_DELEGATE)
    h.refuse(CallRebuttal(question_id="q1", delegate_id=did(4)), CHAIR, Code.UNKNOWN_REQUEST)
    h.accept(CallQuestion(question_id="q0"), CHAIR)
    h.refuse(CallRebuttal(question_id="q1", delegate_id=did(3)), CHAIR, Code.SPEECH_IN_PROGRESS)
    h.accept(EndTurn(), CHAIR)
    h.accept(sess.SuspendSession(), CHAIR)
    h.refuse(CallRebuttal(question_id="q1", delegate_id=did(3)), CHAIR, Code.WRONG_SESSION_STATE)


# --- answers and commitments
def test_record_answer_with_a_commitment_and_a_further_answer_after_rebuttal() -> None:
    h = running(10)
    answered(h, 2, "q1")
    due = date(2027, 6, 30)
    [r] = h.accept(
        RecordAnswer(question_id="q1", summary=" Sẽ bổ sung thuốc ", commitment="Đủ thuốc trước quý II", due=due),
        SECRETARY,
    )
    assert r.audience == DELEGATES
    assert r.event == AnswerRecorded(
        question_id="q1",
        summary="Sẽ bổ sung thuốc",
        commitment="Đủ thuốc trước quý II",
        due=due,
        recorded_by="vp01",
        at=h.clock.now,
    )
    got = q(h, "q1")
    assert got.status is QuestionStatus.ANSWERED
    assert got.answer == "Sẽ bổ sung thuốc"
    assert got.commitment is not None
    assert (got.commitment.text, got.commitment.due, got.commitment.status) == (
        "Đủ thuốc trước quý II",
        due,
        CommitmentStatus.PENDING,
    )
    # Rebuttal, then a further answer: ANSWERED goes back to ANSWERING.
    h.accept(RequestRebuttal(question_id="q1", delegate_id=did(2)), delegate(2))
    h.accept(CallRebuttal(question_id="q1", delegate_id=did(2)), CHAIR)
    h.accept(EndTurn(), CHAIR)
    h.accept(CallAnswer(question_id="q1"), CHAIR)
    assert q(h, "q1").status is QuestionStatus.ANSWERING
    h.accept(EndTurn(), CHAIR)
    # Re-recorded without a commitment: the earlier commitment stands.
    h.accept(RecordAnswer(question_id="q1", summary="Bổ sung: đã giao Sở Y tế"), CHAIR)
    got = q(h, "q1")
    assert got.status is QuestionStatus.ANSWERED
    assert got.answer == "Bổ sung: đã giao Sở Y tế"
    assert got.commitment is not None
    assert got.commitment.text == "Đủ thuốc trước quý II"


def test_record_answer_refusals() -> None:
    h = running(10)
    ask(h, 3, "q0")
    answered(h, 2, "q1")
    ok = RecordAnswer(question_id="q1", summary="Tóm tắt")
    h.refuse(ok, delegate(2), Code.FORBIDDEN)
    h.refuse(ok, RESPONDENT, Code.FORBIDDEN)
    h.refuse(ok, PUBLIC, Code.FORBIDDEN)
    h.refuse(RecordAnswer(question_id="zz", summary="x"), SECRETARY, Code.UNKNOWN_QUESTION)
    h.refuse(RecordAnswer(question_id="q0", summary="x"), SECRETARY, Code.WRONG_QUESTION_STATE)
    h.refuse(RecordAnswer(question_id="q1", summary=" "), SECRETARY, Code.INVALID)
    h.refuse(RecordAnswer(question_id="q1", summary="x" * 5001), SECRETARY, Code.INVALID)
    h.refuse(RecordAnswer(question_id="q1", summary="x", commitment=""), SECRETARY, Code.INVALID)
    h.refuse(RecordAnswer(question_id="q1", summary="x", commitment="c" * 2001), SECRETARY, Code.INVALID)
    today = h.clock.now.date()
    h.refuse(RecordAnswer(question_id="q1", summary="x", due=today), SECRETARY, Code.INVALID)
    h.refuse(
        RecordAnswer(question_id="q1", summary="x", commitment="c", due=today - timedelta(days=1)),
        SECRETARY,
        Code.INVALID,
    )
    # While the respondent is answering again, the record waits for the turn to end.
    h.accept(CallAnswer(question_id="q1"), CHAIR)
    h.refuse(ok, SECRETARY, Code.SPEECH_IN_PROGRESS)
    h.accept(EndTurn(), CHAIR)
    # Boundaries accepted; the admin may do what the secretariat may.
    h.accept(RecordAnswer(question_id="q1", summary="x" * 5000, commitment="c" * 2000, due=today), ADMIN)


def test_record_answer_while_another_question_is_on_the_floor_and_during_a_break() -> None:
    h = running(10)
    answered(h, 2, "q1")
    ask(h, 3, "q2")
    h.accept(CallQuestion(question_id="q2"), CHAIR)
    h.accept(RecordAnswer(question_id="q1", summary="x"), SECRETARY)
    h.accept(EndTurn(), CHAIR)
    h.accept(sess.SuspendSession(), CHAIR)
    h.accept(RecordAnswer(question_id="q1", summary="y"), SECRETARY)
    assert q(h, "q1").answer == "y"


def test_update_commitment_is_for_the_secretariat_until_the_session_closes() -> None:
    h = running(10)
    answered(h, 2, "q1")
    answered(h, 3, "q2")
    h.accept(RecordAnswer(question_id="q1", summary="x", commitment="Làm đường"), SECRETARY)
    h.accept(RecordAnswer(question_id="q2", summary="y"), SECRETARY)
    cmd = UpdateCommitment(question_id="q1", status=CommitmentStatus.FULFILLED, note=" Đã hoàn thành ")
    h.refuse(cmd, CHAIR, Code.FORBIDDEN)
    h.refuse(cmd, delegate(2), Code.FORBIDDEN)
    h.refuse(UpdateCommitment(question_id="zz", status=CommitmentStatus.OVERDUE), SECRETARY, Code.UNKNOWN_QUESTION)
    h.refuse(UpdateCommitment(question_id="q2", status=CommitmentStatus.OVERDUE), SECRETARY, Code.INVALID)
    h.refuse(
        UpdateCommitment(question_id="q1", status=CommitmentStatus.OVERDUE, note="n" * 2001), SECRETARY, Code.INVALID
    )
    [r] = h.accept(cmd, SECRETARY)
    assert r.audience == DELEGATES
    assert r.event == CommitmentUpdated(
        question_id="q1", status=CommitmentStatus.FULFILLED, note="Đã hoàn thành", at=h.clock.now
    )
    c = q(h, "q1").commitment
    assert c is not None
    assert (c.status, c.note, c.updated_at) == (CommitmentStatus.FULFILLED, "Đã hoàn thành", h.clock.now)
    h.accept(sess.CloseSession(), CHAIR)
    h.refuse(UpdateCommitment(question_id="q1", status=CommitmentStatus.WITHDRAWN), SECRETARY, Code.WRONG_SESSION_STATE)


@pytest.mark.parametrize("status", list(CommitmentStatus))
def test_every_commitment_status_can_be_set(status: CommitmentStatus) -> None:
    h = running(10)
    answered(h, 2, "q1")
    h.accept(RecordAnswer(question_id="q1", summary="x", commitment="c"), SECRETARY)
    h.accept(sess.SuspendSession(), CHAIR)
    h.accept(UpdateCommitment(question_id="q1", status=status), ADMIN)
    c = q(h, "q1").commitment
    assert c is not None
    assert c.status is status


def test_full_questioning_sitting_replays_to_the_live_state() -> None:
    h = running(10)
    ask(h, 2, "q1", respondent="r02")
    ask(h, 3, "q2", respondent="r03")
    ask(h, 4, "q3", respondent="r02")
    h.accept(GroupQuestions(groups=[QuestionGroup(topic="Y tế", question_ids=["q3", "q1"])]), CHAIR)
    h.accept(CallQuestion(question_id="q3"), CHAIR)
    h.accept(EndTurn(), CHAIR)
    h.accept(CallAnswer(question_id="q3"), CHAIR)
    h.accept(RequestRebuttal(question_id="q3", delegate_id=did(6)), delegate(6))
    h.clock.tick(200)
    h.accept(EndTurn(), CHAIR)
    h.accept(RequestRebuttal(question_id="q3", delegate_id=did(4)), delegate(4))
    h.accept(CallRebuttal(question_id="q3", delegate_id=did(4)), CHAIR)
    h.accept(EndTurn(), CHAIR)
    h.accept(RecordAnswer(question_id="q3", summary="Trả lời", commitment="Cam kết", due=date(2027, 1, 1)), SECRETARY)
    h.accept(UpdateCommitment(question_id="q3", status=CommitmentStatus.OVERDUE, note="Chưa xong"), SECRETARY)
    h.accept(WithdrawQuestion(question_id="q2"), delegate(3))
    h.accept(CallQuestion(question_id="q1"), CHAIR)
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)
    assert h.replayed().questioning == qs(h)


def test_commands_and_events_are_registered_with_unique_tags() -> None:
    for t in (*questioning.COMMANDS, *questioning.EVENTS):
        assert t in sess.ALL_COMMANDS or t in sess.ALL_EVENTS
    tags = [t.__struct_config__.tag for t in (*sess.ALL_COMMANDS, *sess.ALL_EVENTS)]
    for t in (*questioning.COMMANDS, *questioning.EVENTS):
        assert tags.count(t.__struct_config__.tag) == 1, t


def test_a_question_raised_from_a_petition_keeps_its_link_and_a_bad_link_changes_nothing() -> None:
    """Issue 14: a delegate registers a question from an unresolved petition or commitment of this council's
    register; the link ("petitions:<council>:<term>#<item>") stays on the question for the record."""
    h = running(10)
    council = h.s.hall.council_id
    link = f"petitions:{council}:k2026#kn-0012"
    cmd = RegisterQuestion(
        question_id="q1", delegate_id=did(2), respondent_id="r02", topic="Y tế", text="Vì sao?", link=link
    )
    [r] = h.accept(cmd, delegate(2))
    assert isinstance(r.event, QuestionRegistered) and r.event.link == link
    assert q(h, "q1").link == link
    for bad in (
        "kn-0012",  # not a link
        "petitions:other-council:k2026#kn-0012",  # another council's register
        f"petitions:{council}:k2026",  # no item
        f"petitions:{council}:k2026#",  # empty item
        f"petitions:{council}:k 2026#kn-1",  # not an id
        f"petitions:{council}:k2026#" + "x" * 500,
    ):
        h.refuse(
            RegisterQuestion(question_id="q2", delegate_id=did(3), respondent_id="r02", topic="t", text="x", link=bad),
            delegate(3),
            Code.INVALID,
        )
    assert "q2" not in qs(h).questions
    assert sess_snapshot_roundtrip(h)


def sess_snapshot_roundtrip(h: Hall) -> bool:
    from meeting import session as sess

    return bool(sess.snapshot(h.replayed()) == sess.snapshot(h.s))
