"""Questioning (chất vấn và trả lời chất vấn): questions, the chair's groups and order, timed turns, rebuttal
(tranh luận), and the answers and commitments (lời hứa, cam kết) the council follows up.

A question goes REGISTERED → CALLED (the questioner speaks) → ANSWERING (the respondent speaks) → ANSWERED
(the secretariat has recorded the answer); after a rebuttal the chair may call a further answer, which takes
it back to ANSWERING. Only one turn (question, answer or rebuttal) holds the floor at a time, and its start
and end times travel in the event so every screen runs the same countdown.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import msgspec

from meeting import ids
from meeting.actors import DELEGATES, EVERYONE, Context, Role
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall, SessionStatus
from meeting.messages import Command, Event, Routed
from meeting.speakers import check_id, overrun

MAX_TOPIC = 500
MAX_TEXT = 2000  # a question is read aloud in about a minute (rules.question_seconds); 2000 chars is ample
MAX_SUMMARY = 5000  # the secretariat's summary of a three-minute answer and any further answers
MAX_NOTE = 2000
MAX_ATTACHMENTS = 20  # document ids attached to one question

# Delegates send their questions in ahead of the questioning sitting (MISSION flow 6), so registering,
# withdrawing and grouping start at check-in, before the session is opened.
_REGISTERING = (SessionStatus.CHECKIN_OPEN, SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)
# A running turn may be ended, and answers recorded, during a break.
_LIVE = (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)


class QuestionStatus(StrEnum):
    REGISTERED = "registered"
    CALLED = "called"
    ANSWERING = "answering"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    QuestionStatus.REGISTERED: "đã đăng ký",
    QuestionStatus.CALLED: "đang chất vấn",
    QuestionStatus.ANSWERING: "đang trả lời",
    QuestionStatus.ANSWERED: "đã trả lời",
    QuestionStatus.WITHDRAWN: "đã rút",
}

# A further answer may follow a rebuttal, and rebuttal is on what has been (or is being) answered.
_ANSWERED_OR_ANSWERING = (QuestionStatus.ANSWERING, QuestionStatus.ANSWERED)


class TurnKind(StrEnum):
    QUESTION = "question"  # đại biểu chất vấn
    ANSWER = "answer"  # người bị chất vấn trả lời
    REBUTTAL = "rebuttal"  # tranh luận


class CommitmentStatus(StrEnum):
    PENDING = "pending"  # đang thực hiện
    FULFILLED = "fulfilled"  # đã thực hiện
    OVERDUE = "overdue"  # quá hạn
    WITHDRAWN = "withdrawn"  # không còn theo dõi


class Commitment(msgspec.Struct, kw_only=True):
    text: str
    due: date | None
    status: CommitmentStatus
    note: str
    updated_at: datetime


class Question(msgspec.Struct, kw_only=True):
    id: str
    delegate_id: str
    respondent_id: str
    topic: str
    text: str
    attachments: list[str]
    registered_at: datetime
    # The voters' petition, commitment or supervision conclusion the question was raised from (issue 14):
    # "petitions:<council>:<term>#<item>", as GET .../petitions/{term}/topics gives it; the record prints it.
    link: str | None = None
    status: QuestionStatus = QuestionStatus.REGISTERED
    group: str | None = None  # the chair's topic group
    answer: str | None = None  # the recorded summary
    commitment: Commitment | None = None
    rebuttal_queue: list[str] = msgspec.field(default_factory=list)  # delegate ids, questioner first
    rebutted: list[str] = msgspec.field(default_factory=list)  # delegates who have had their rebuttal turn


class Turn(msgspec.Struct, kw_only=True):
    kind: TurnKind
    question_id: str
    speaker_id: str  # a delegate id (question, rebuttal) or a respondent id (answer)
    seconds: int
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None = None
    overrun_seconds: int = 0


class Questioning(msgspec.Struct, kw_only=True):
    questions: dict[str, Question] = msgspec.field(default_factory=dict)
    order: list[str] = msgspec.field(default_factory=list)  # REGISTERED question ids in calling order
    floor: Turn | None = None
    turns: list[Turn] = msgspec.field(default_factory=list)  # finished turns, in order, for the minutes


class QuestionGroup(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    question_ids: list[str]


# --- commands
class RegisterQuestion(Command, frozen=True, kw_only=True, tag="register_question"):
    question_id: str
    delegate_id: str
    respondent_id: str
    topic: str
    text: str
    attachments: list[str] = []  # document ids
    link: str | None = None  # a petitions topic ("petitions:<council>:<term>#<item>"), see `Question.link`


class WithdrawQuestion(Command, frozen=True, kw_only=True, tag="withdraw_question"):
    question_id: str


class GroupQuestions(Command, frozen=True, kw_only=True, tag="group_questions"):
    groups: list[QuestionGroup]


class CallQuestion(Command, frozen=True, kw_only=True, tag="call_question"):
    question_id: str


class CallAnswer(Command, frozen=True, kw_only=True, tag="call_answer"):
    question_id: str


class RequestRebuttal(Command, frozen=True, kw_only=True, tag="request_rebuttal"):
    question_id: str
    delegate_id: str


class CallRebuttal(Command, frozen=True, kw_only=True, tag="call_rebuttal"):
    question_id: str
    delegate_id: str


class EndTurn(Command, frozen=True, kw_only=True, tag="end_question_turn"):
    pass


class RecordAnswer(Command, frozen=True, kw_only=True, tag="record_answer"):
    """Record (or, after a further answer, re-record) the answer. A new commitment replaces the earlier one;
    none keeps it (a commitment is dropped by marking it WITHDRAWN, which leaves it on record)."""

    question_id: str
    summary: str
    commitment: str | None = None
    due: date | None = None


class UpdateCommitment(Command, frozen=True, kw_only=True, tag="update_commitment"):
    question_id: str
    status: CommitmentStatus
    note: str = ""


# --- events
class QuestionRegistered(Event, frozen=True, kw_only=True, tag="question_registered"):
    question_id: str
    delegate_id: str
    respondent_id: str
    topic: str
    text: str
    attachments: list[str]
    at: datetime
    link: str | None = None


class QuestionWithdrawn(Event, frozen=True, kw_only=True, tag="question_withdrawn"):
    question_id: str
    delegate_id: str


class QuestionsGrouped(Event, frozen=True, kw_only=True, tag="questions_grouped"):
    groups: list[QuestionGroup]
    order: list[str]  # the resulting calling order of every registered question


class QuestionCalled(Event, frozen=True, kw_only=True, tag="question_called"):
    question_id: str
    delegate_id: str
    respondent_id: str
    topic: str
    seconds: int
    started_at: datetime
    ends_at: datetime


class AnswerCalled(Event, frozen=True, kw_only=True, tag="answer_called"):
    question_id: str
    respondent_id: str
    seconds: int
    started_at: datetime
    ends_at: datetime


class RebuttalRequested(Event, frozen=True, kw_only=True, tag="rebuttal_requested"):
    question_id: str
    delegate_id: str
    queue: list[str]  # the question's rebuttal queue after this request


class RebuttalCalled(Event, frozen=True, kw_only=True, tag="rebuttal_called"):
    question_id: str
    delegate_id: str
    seconds: int
    started_at: datetime
    ends_at: datetime


class TurnEnded(Event, frozen=True, kw_only=True, tag="question_turn_ended"):
    question_id: str
    kind: TurnKind
    speaker_id: str
    ended_at: datetime
    overrun_seconds: int


class AnswerRecorded(Event, frozen=True, kw_only=True, tag="answer_recorded"):
    question_id: str
    summary: str
    commitment: str | None
    due: date | None
    recorded_by: str
    at: datetime


class CommitmentUpdated(Event, frozen=True, kw_only=True, tag="commitment_updated"):
    question_id: str
    status: CommitmentStatus
    note: str
    at: datetime


COMMANDS: tuple[type[Command], ...] = (
    RegisterQuestion,
    WithdrawQuestion,
    GroupQuestions,
    CallQuestion,
    CallAnswer,
    RequestRebuttal,
    CallRebuttal,
    EndTurn,
    RecordAnswer,
    UpdateCommitment,
)
EVENTS: tuple[type[Event], ...] = (
    QuestionRegistered,
    QuestionWithdrawn,
    QuestionsGrouped,
    QuestionCalled,
    AnswerCalled,
    RebuttalRequested,
    RebuttalCalled,
    TurnEnded,
    AnswerRecorded,
    CommitmentUpdated,
)


def busy(state: Questioning) -> bool:
    return state.floor is not None


def _require_question(state: Questioning, question_id: str) -> Question:
    q = state.questions.get(question_id)
    if q is None:
        raise DomainError(Code.UNKNOWN_QUESTION, id=question_id)
    return q


def _require_status(q: Question, *allowed: QuestionStatus) -> None:
    if q.status not in allowed:
        raise DomainError(Code.WRONG_QUESTION_STATE, id=q.id, state_vi=q.status.label_vi, state_en=q.status.value)


def _require_floor_free(state: Questioning) -> None:
    if state.floor is not None:
        raise DomainError(Code.SPEECH_IN_PROGRESS)


def _text(value: str, limit: int, what_vi: str, what_en: str) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise invalid(f"{what_vi} trống hoặc quá dài", f"the {what_en} is empty or too long")
    return value


def _calling_order(state: Questioning, listed: list[str]) -> list[str]:
    chosen = set(listed)
    return [*listed, *(qid for qid in state.order if qid not in chosen)]


def _rebuttal_queue(q: Question, delegate_id: str) -> list[str]:
    # The questioner debates first (MISSION flow 6), however late they ask; others in order of request.
    if delegate_id == q.delegate_id:
        return [delegate_id, *q.rebuttal_queue]
    return [*q.rebuttal_queue, delegate_id]


def _petitions_link(hall: Hall, link: str | None) -> str | None:
    """A link to an item of this council's petitions register: "petitions:<council>:<term>#<item>" with ids."""
    if link is None:
        return None
    parts = link.removeprefix("petitions:").split(":", 1)
    term_item = parts[1].split("#", 1) if len(parts) == 2 else []
    if not link.startswith("petitions:") or len(term_item) != 2 or parts[0] != hall.council_id:
        raise invalid(
            "liên kết kiến nghị phải có dạng petitions:<hội đồng>:<nhiệm kỳ>#<mục> của Hội đồng này",
            "the petition link must be petitions:<council>:<term>#<item> of this council",
        )
    ids.check_id(term_item[0], "mã nhiệm kỳ", "the term id")
    ids.check_id(term_item[1], "mã mục theo dõi", "the tracked item id")
    return link


def decide(hall: Hall, state: Questioning, cmd: Command, ctx: Context) -> list[Routed]:
    match cmd:
        case RegisterQuestion():
            delegate_id = hall.acting_delegate(ctx, cmd.delegate_id)
            hall.require_status(*_REGISTERING)
            check_id(cmd.question_id, "câu hỏi", "question")
            if cmd.question_id in state.questions:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.question_id)
            hall.require_respondent(cmd.respondent_id)
            topic = _text(cmd.topic, MAX_TOPIC, "chủ đề", "topic")
            text = _text(cmd.text, MAX_TEXT, "nội dung câu hỏi", "question text")
            if len(cmd.attachments) > MAX_ATTACHMENTS or len(set(cmd.attachments)) != len(cmd.attachments):
                raise invalid(
                    f"tối đa {MAX_ATTACHMENTS} tài liệu đính kèm, không trùng nhau",
                    f"at most {MAX_ATTACHMENTS} attachments, none twice",
                )
            for doc in cmd.attachments:
                check_id(doc, "tài liệu", "document")
            link = _petitions_link(hall, cmd.link)
            ev: Event = QuestionRegistered(
                question_id=cmd.question_id,
                delegate_id=delegate_id,
                respondent_id=cmd.respondent_id,
                topic=topic,
                text=text,
                attachments=list(cmd.attachments),
                at=ctx.now,
                link=link,
            )
            return [Routed(event=ev, audience=DELEGATES)]
        case WithdrawQuestion():
            if not ctx.actor.has(Role.DELEGATE):
                raise DomainError(Code.NOT_A_DELEGATE)
            hall.require_status(*_REGISTERING)
            q = _require_question(state, cmd.question_id)
            hall.acting_delegate(ctx, q.delegate_id)
            _require_status(q, QuestionStatus.REGISTERED)
            return [Routed(event=QuestionWithdrawn(question_id=q.id, delegate_id=q.delegate_id), audience=DELEGATES)]
        case GroupQuestions():
            ctx.actor.require(Role.CHAIR)
            hall.require_status(*_REGISTERING)
            if not cmd.groups:
                raise invalid("chưa có nhóm câu hỏi nào", "no group given")
            listed: list[str] = []
            for g in cmd.groups:
                _text(g.topic, MAX_TOPIC, "chủ đề nhóm", "group topic")
                if not g.question_ids:
                    raise invalid("nhóm câu hỏi trống", "a group is empty")
                for qid in g.question_ids:
                    _require_status(_require_question(state, qid), QuestionStatus.REGISTERED)
                    if qid in listed:
                        raise invalid("một câu hỏi được xếp hai lần", "a question is listed twice")
                    listed.append(qid)
            groups = [QuestionGroup(topic=g.topic.strip(), question_ids=list(g.question_ids)) for g in cmd.groups]
            ev = QuestionsGrouped(groups=groups, order=_calling_order(state, listed))
            return [Routed(event=ev, audience=DELEGATES)]
        case CallQuestion():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            q = _require_question(state, cmd.question_id)
            _require_floor_free(state)
            _require_status(q, QuestionStatus.REGISTERED)
            seconds = hall.rules.question_seconds
            ev = QuestionCalled(
                question_id=q.id,
                delegate_id=q.delegate_id,
                respondent_id=q.respondent_id,
                topic=q.topic,
                seconds=seconds,
                started_at=ctx.now,
                ends_at=ctx.now + timedelta(seconds=seconds),
            )
            return [Routed(event=ev, audience=EVERYONE)]
        case CallAnswer():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            q = _require_question(state, cmd.question_id)
            _require_floor_free(state)
            _require_status(q, QuestionStatus.CALLED, *_ANSWERED_OR_ANSWERING)
            seconds = hall.rules.answer_seconds
            ev = AnswerCalled(
                question_id=q.id,
                respondent_id=q.respondent_id,
                seconds=seconds,
                started_at=ctx.now,
                ends_at=ctx.now + timedelta(seconds=seconds),
            )
            return [Routed(event=ev, audience=EVERYONE)]
        case RequestRebuttal():
            delegate_id = hall.acting_delegate(ctx, cmd.delegate_id)
            hall.require_running()
            q = _require_question(state, cmd.question_id)
            _require_status(q, *_ANSWERED_OR_ANSWERING)
            if delegate_id in q.rebuttal_queue or delegate_id in q.rebutted:
                raise DomainError(Code.ALREADY_REQUESTED)
            ev = RebuttalRequested(question_id=q.id, delegate_id=delegate_id, queue=_rebuttal_queue(q, delegate_id))
            return [Routed(event=ev, audience=DELEGATES)]
        case CallRebuttal():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            q = _require_question(state, cmd.question_id)
            _require_floor_free(state)
            _require_status(q, *_ANSWERED_OR_ANSWERING)
            hall.require_delegate(cmd.delegate_id)
            if cmd.delegate_id not in q.rebuttal_queue:
                raise DomainError(Code.UNKNOWN_REQUEST, id=cmd.delegate_id)
            seconds = hall.rules.rebuttal_seconds
            ev = RebuttalCalled(
                question_id=q.id,
                delegate_id=cmd.delegate_id,
                seconds=seconds,
                started_at=ctx.now,
                ends_at=ctx.now + timedelta(seconds=seconds),
            )
            return [Routed(event=ev, audience=EVERYONE)]
        case EndTurn():
            ctx.actor.require(Role.CHAIR)
            hall.require_status(*_LIVE)
            turn = state.floor
            if turn is None:
                raise DomainError(Code.NO_SPEECH)
            ev = TurnEnded(
                question_id=turn.question_id,
                kind=turn.kind,
                speaker_id=turn.speaker_id,
                ended_at=ctx.now,
                overrun_seconds=overrun(turn.ends_at, ctx.now),
            )
            return [Routed(event=ev, audience=EVERYONE)]
        case RecordAnswer():
            ctx.actor.require(Role.SECRETARY, Role.CHAIR)
            hall.require_status(*_LIVE)
            q = _require_question(state, cmd.question_id)
            _require_status(q, *_ANSWERED_OR_ANSWERING)
            # The record is written once the respondent (or a debater) has finished on this question.
            if state.floor is not None and state.floor.question_id == q.id:
                raise DomainError(Code.SPEECH_IN_PROGRESS)
            summary = _text(cmd.summary, MAX_SUMMARY, "tóm tắt trả lời", "answer summary")
            commitment = None
            if cmd.commitment is not None:
                commitment = _text(cmd.commitment, MAX_TEXT, "nội dung cam kết", "commitment")
            if cmd.due is not None:
                if commitment is None:
                    raise invalid("hạn thực hiện chỉ đi kèm một cam kết", "a due date needs a commitment")
                if cmd.due < ctx.now.date():
                    raise invalid("hạn thực hiện đã qua", "the due date is in the past")
            ev = AnswerRecorded(
                question_id=q.id,
                summary=summary,
                commitment=commitment,
                due=cmd.due,
                recorded_by=ctx.actor.person_id or "",
                at=ctx.now,
            )
            return [Routed(event=ev, audience=DELEGATES)]
        case UpdateCommitment():
            # Any session status: the dispatcher already refuses every command once the session is closed.
            ctx.actor.require(Role.SECRETARY)
            q = _require_question(state, cmd.question_id)
            if q.commitment is None:
                raise invalid("câu trả lời này không có cam kết", "this answer carries no commitment")
            if len(cmd.note) > MAX_NOTE:
                raise invalid("ghi chú quá dài", "the note is too long")
            ev = CommitmentUpdated(question_id=q.id, status=cmd.status, note=cmd.note.strip(), at=ctx.now)
            return [Routed(event=ev, audience=DELEGATES)]
    raise AssertionError(f"not a questioning command: {cmd!r}")


def _set_status(state: Questioning, question_id: str, status: QuestionStatus) -> None:
    q = state.questions.get(question_id)
    if q is not None:
        q.status = status
    if status is not QuestionStatus.REGISTERED and question_id in state.order:
        state.order.remove(question_id)


_Timed = QuestionCalled | AnswerCalled | RebuttalCalled


def _open_turn(state: Questioning, kind: TurnKind, question_id: str, speaker_id: str, ev: _Timed) -> None:
    state.floor = Turn(
        kind=kind,
        question_id=question_id,
        speaker_id=speaker_id,
        seconds=ev.seconds,
        started_at=ev.started_at,
        ends_at=ev.ends_at,
    )


def apply(state: Questioning, event: Event) -> None:
    # A view replays only the events its audience admits (meeting/views.py): the public sees the turns but not
    # the questions behind them, so an event may name a question this state has never seen.
    match event:
        case QuestionRegistered():
            state.questions[event.question_id] = Question(
                id=event.question_id,
                delegate_id=event.delegate_id,
                respondent_id=event.respondent_id,
                topic=event.topic,
                text=event.text,
                attachments=list(event.attachments),
                registered_at=event.at,
                link=event.link,
            )
            state.order.append(event.question_id)
        case QuestionWithdrawn():
            _set_status(state, event.question_id, QuestionStatus.WITHDRAWN)
        case QuestionsGrouped():
            for g in event.groups:
                for qid in g.question_ids:
                    if (q := state.questions.get(qid)) is not None:
                        q.group = g.topic
            state.order = list(event.order)
        case QuestionCalled():
            _set_status(state, event.question_id, QuestionStatus.CALLED)
            _open_turn(state, TurnKind.QUESTION, event.question_id, event.delegate_id, event)
        case AnswerCalled():
            _set_status(state, event.question_id, QuestionStatus.ANSWERING)
            _open_turn(state, TurnKind.ANSWER, event.question_id, event.respondent_id, event)
        case RebuttalRequested():
            if (q := state.questions.get(event.question_id)) is not None:
                q.rebuttal_queue = list(event.queue)
        case RebuttalCalled():
            if (q := state.questions.get(event.question_id)) is not None:
                if event.delegate_id in q.rebuttal_queue:
                    q.rebuttal_queue.remove(event.delegate_id)
                q.rebutted.append(event.delegate_id)
            _open_turn(state, TurnKind.REBUTTAL, event.question_id, event.delegate_id, event)
        case TurnEnded():
            turn = state.floor
            if turn is not None:
                turn.ended_at = event.ended_at
                turn.overrun_seconds = event.overrun_seconds
                state.turns.append(turn)
            state.floor = None
        case AnswerRecorded():
            if (q := state.questions.get(event.question_id)) is not None:
                q.status = QuestionStatus.ANSWERED
                q.answer = event.summary
                if event.commitment is not None:
                    q.commitment = Commitment(
                        text=event.commitment,
                        due=event.due,
                        status=CommitmentStatus.PENDING,
                        note="",
                        updated_at=event.at,
                    )
        case CommitmentUpdated():
            q = state.questions.get(event.question_id)
            if q is not None and q.commitment is not None:
                q.commitment.status = event.status
                q.commitment.note = event.note
                q.commitment.updated_at = event.at
        case _:
            raise AssertionError(f"not a questioning event: {event!r}")
