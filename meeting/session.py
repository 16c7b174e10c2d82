"""A session (kỳ họp): its lifecycle and attendance, and the one entry point for every session command.

`decide(state, command, ctx)` returns the events a command produces (or raises `DomainError`); it never
changes `state`. `apply(state, event)` gives the next state. `handle` wraps both into an `Accepted` or a
`Refusal`. The sub-machines (agenda, speakers, questioning, votes, polls) follow the same shape and are
dispatched to by command and event type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum
from typing import Any

import msgspec

from meeting import agenda, aggregate, documents, polls, questioning, speakers, verifiable, verifiable_polls, votes
from meeting.actors import EVERYONE, Context, Role
from meeting.errors import Code, DomainError, Refusal, invalid
from meeting.hall import Delegate, Hall, Respondent, SessionStatus, VacancyGrounds
from meeting.ids import check_id
from meeting.messages import Command, Event, Routed
from meeting.rules import Level, Rules


class SessionKind(StrEnum):
    REGULAR = "regular"  # kỳ họp thường lệ
    THEMED = "themed"  # kỳ họp chuyên đề
    EXTRAORDINARY = "extraordinary"  # kỳ họp bất thường


class SessionState(msgspec.Struct, kw_only=True):
    hall: Hall
    title: str
    kind: SessionKind
    place: str
    opens_on: date
    term_id: str
    agenda: agenda.Agenda = msgspec.field(default_factory=agenda.Agenda)
    speakers: speakers.Speakers = msgspec.field(default_factory=speakers.Speakers)
    questioning: questioning.Questioning = msgspec.field(default_factory=questioning.Questioning)
    votes: votes.Votes = msgspec.field(default_factory=votes.Votes)
    polls: polls.Polls = msgspec.field(default_factory=polls.Polls)
    ceremonies: verifiable.Ceremonies = msgspec.field(default_factory=verifiable.Ceremonies)
    documents: documents.Documents = msgspec.field(default_factory=documents.Documents)


# --- commands
class PrepareSession(Command, frozen=True, kw_only=True, tag="prepare_session"):
    """Usually built by `council.prepare_session` from the council's roster and rules."""

    session_id: str
    council_id: str
    council_name: str
    level: Level
    term_id: str
    title: str
    kind: SessionKind = SessionKind.REGULAR
    place: str = ""
    opens_on: date
    rules: Rules
    delegates: list[Delegate]
    respondents: list[Respondent] = []


class OpenCheckIn(Command, frozen=True, kw_only=True, tag="open_check_in"):
    pass


class CheckIn(Command, frozen=True, kw_only=True, tag="check_in"):
    delegate_id: str


class CheckOut(Command, frozen=True, kw_only=True, tag="check_out"):
    delegate_id: str


class OpenSession(Command, frozen=True, kw_only=True, tag="open_session"):
    pass


class SuspendSession(Command, frozen=True, kw_only=True, tag="suspend_session"):
    reason: str = ""


class ResumeSession(Command, frozen=True, kw_only=True, tag="resume_session"):
    pass


class CloseSession(Command, frozen=True, kw_only=True, tag="close_session"):
    pass


class RecordVacancy(Command, frozen=True, kw_only=True, tag="record_vacancy"):
    """The council vacated a seat (`vacate_seat`): the session learns it — the server sends this to every session
    of the council not yet closed, with the council's grounds; the secretariat may send it too. A removal names
    the session and round that decided it: when that is this session, the round must be a passed removal of this
    delegate here (checked like the council's command); a round of another session was checked by the council."""

    delegate_id: str
    reason: str
    grounds: VacancyGrounds
    decision: str = ""
    session_id: str | None = None
    round_id: str | None = None


# --- events
class SessionPrepared(Event, frozen=True, kw_only=True, tag="session_prepared"):
    session_id: str
    council_id: str
    council_name: str
    level: Level
    term_id: str
    title: str
    kind: SessionKind
    place: str
    opens_on: date
    rules: Rules
    delegates: list[Delegate]
    respondents: list[Respondent]


class CheckInOpened(Event, frozen=True, kw_only=True, tag="check_in_opened"):
    total: int
    quorum_needed: int


class Attendance(Event, frozen=True, kw_only=True, tag="attendance"):
    """A delegate checked in (present=True) or out; carries the live quorum for every screen."""

    delegate_id: str
    present: bool
    present_count: int
    total: int
    quorum_needed: int
    quorum_met: bool
    at: str  # ISO time, for the attendance record


class SessionOpened(Event, frozen=True, kw_only=True, tag="session_opened"):
    present_count: int
    total: int
    at: str


class SessionSuspended(Event, frozen=True, kw_only=True, tag="session_suspended"):
    reason: str
    at: str


class SessionResumed(Event, frozen=True, kw_only=True, tag="session_resumed"):
    present_count: int
    total: int
    at: str


class SessionClosed(Event, frozen=True, kw_only=True, tag="session_closed"):
    at: str


class VacancyRecorded(Event, frozen=True, kw_only=True, tag="vacancy_recorded"):
    """A seat is vacant from now on: the delegate no longer counts in "all delegates", the quorum or any later
    round, and may not vote or act as a delegate. Rounds already closed keep their results; a round still open
    keeps the base it opened with."""

    delegate_id: str
    reason: str
    grounds: VacancyGrounds
    decision: str
    session_id: str | None
    round_id: str | None
    present_count: int
    total: int
    quorum_needed: int
    quorum_met: bool
    at: str


COMMANDS: tuple[type[Command], ...] = (
    PrepareSession,
    OpenCheckIn,
    CheckIn,
    CheckOut,
    OpenSession,
    SuspendSession,
    ResumeSession,
    CloseSession,
    RecordVacancy,
)
EVENTS: tuple[type[Event], ...] = (
    SessionPrepared,
    CheckInOpened,
    Attendance,
    SessionOpened,
    SessionSuspended,
    SessionResumed,
    SessionClosed,
    VacancyRecorded,
)

MAX_TEXT = 500
# Commune councils seat 15-30 delegates, Hà Nội and HCMC 125 (Law 72/2025/QH15 art. 30); 1000 leaves room
# for any council while bounding what one command may carry.
MAX_DELEGATES = 1000


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    events: list[Routed]


# --- the sub-machines, dispatched by type
_Decider = Callable[[SessionState, Command, Context], list[Routed]]
_Applier = Callable[[SessionState, Event], None]

_DECIDERS: dict[type[Command], _Decider] = {}
_APPLIERS: dict[type[Event], _Applier] = {}


def _register(
    commands: Iterable[type[Command]],
    events: Iterable[type[Event]],
    decide_fn: _Decider,
    apply_fn: _Applier,
) -> None:
    for c in commands:
        assert c not in _DECIDERS, c
        _DECIDERS[c] = decide_fn
    for e in events:
        assert e not in _APPLIERS, e
        _APPLIERS[e] = apply_fn


def _item_uses(s: SessionState) -> agenda.InUse:
    """What refers to an agenda item elsewhere in the session (a removed item must leave nothing dangling)."""

    def uses(item_id: str) -> tuple[str, str] | None:
        if any(d.item_id == item_id for d in s.documents.documents.values()):
            return ("tài liệu (kể cả đã thu hồi)", "documents (withdrawn ones included)")
        if any(p.item_id == item_id for p in s.polls.polls.values()):
            return ("phiếu tín nhiệm", "a confidence poll")
        if any(r.item_id == item_id for r in s.votes.rounds.values()):
            return ("lượt biểu quyết", "vote rounds")
        if s.speakers.order.get(item_id) or s.agenda.items[item_id].status is not agenda.ItemStatus.PENDING:
            return ("phần thảo luận đã diễn ra", "a debate on record")
        return None

    return uses


_register(
    agenda.COMMANDS,
    agenda.EVENTS,
    lambda s, c, x: agenda.decide(s.hall, s.agenda, c, x, _item_uses(s)),
    lambda s, e: agenda.apply(s.hall, s.agenda, e),
)
_register(
    speakers.COMMANDS,
    speakers.EVENTS,
    lambda s, c, x: speakers.decide(s.hall, s.speakers, c, x),
    lambda s, e: speakers.apply(s.speakers, e),
)
_register(
    questioning.COMMANDS,
    questioning.EVENTS,
    lambda s, c, x: questioning.decide(s.hall, s.questioning, c, x),
    lambda s, e: questioning.apply(s.questioning, e),
)
_register(
    votes.COMMANDS,
    votes.EVENTS,
    lambda s, c, x: votes.decide(s.hall, s.votes, c, x, s.ceremonies.keys()),
    lambda s, e: votes.apply(s.votes, e),
)
_register(
    verifiable.COMMANDS,
    verifiable.EVENTS,
    lambda s, c, x: verifiable.decide(s.hall, s.votes, s.ceremonies, c, x),
    lambda s, e: verifiable.apply(s.votes, s.ceremonies, e),
)
_register(
    polls.COMMANDS,
    polls.EVENTS,
    lambda s, c, x: polls.decide(s.hall, s.polls, c, x, s.ceremonies.keys()),
    lambda s, e: polls.apply(s.polls, e),
)
_register(
    verifiable_polls.COMMANDS,
    verifiable_polls.EVENTS,
    lambda s, c, x: verifiable_polls.decide(s.hall, s.polls, s.ceremonies, c, x),
    lambda s, e: verifiable_polls.apply(s.polls, e),
)
_register(
    documents.COMMANDS,
    documents.EVENTS,
    lambda s, c, x: documents.decide(s.hall, s.agenda, s.documents, c, x),
    lambda s, e: documents.apply(s.documents, e),
)

ALL_COMMANDS: tuple[type[Command], ...] = (*COMMANDS, *_DECIDERS.keys())
ALL_EVENTS: tuple[type[Event], ...] = (*EVENTS, *_APPLIERS.keys())


def _iso(ctx: Context) -> str:
    return ctx.now.isoformat()


def _decide_prepare(cmd: PrepareSession, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.SECRETARY)
    check_id(cmd.session_id, "mã kỳ họp", "the session id")
    ids = [d.id for d in cmd.delegates]
    if len(set(ids)) != len(ids):
        raise invalid("danh sách đại biểu có mã trùng", "the roster repeats a delegate id")
    rids = [r.id for r in cmd.respondents]
    if len(set(rids)) != len(rids):
        raise invalid("danh sách người trả lời chất vấn có mã trùng", "the respondents repeat an id")
    if not any(d.seated for d in cmd.delegates) or len(ids) > MAX_DELEGATES:
        raise invalid("danh sách đại biểu trống hoặc quá lớn", "the roster is empty or too large")
    if not cmd.title.strip() or len(cmd.title) > MAX_TEXT:
        raise invalid("tên kỳ họp trống hoặc quá dài", "the session title is empty or too long")
    ev = SessionPrepared(
        session_id=cmd.session_id,
        council_id=cmd.council_id,
        council_name=cmd.council_name,
        level=cmd.level,
        term_id=cmd.term_id,
        title=cmd.title.strip(),
        kind=cmd.kind,
        place=cmd.place,
        opens_on=cmd.opens_on,
        rules=cmd.rules,
        delegates=list(cmd.delegates),
        respondents=list(cmd.respondents),
    )
    return [Routed(event=ev, audience=EVERYONE)]


def _attendance(hall: Hall, delegate_id: str, present: bool, ctx: Context) -> Attendance:
    after = set(hall.present_seated())
    if present:
        after.add(delegate_id)
    else:
        after.discard(delegate_id)
    total = hall.total
    return Attendance(
        delegate_id=delegate_id,
        present=present,
        present_count=len(after),
        total=total,
        quorum_needed=hall.quorum_needed(),
        quorum_met=hall.rules.quorum.met(len(after), total),
        at=_iso(ctx),
    )


def _attending_delegate(hall: Hall, delegate_id: str, ctx: Context) -> None:
    """A delegate checks themself in on their tablet; the secretariat may record it for them."""
    if ctx.actor.has(Role.SECRETARY, Role.ADMIN):
        hall.require_delegate(delegate_id)
    else:
        hall.acting_delegate(ctx, delegate_id)


def _vacancy(state: SessionState, cmd: RecordVacancy, ctx: Context) -> VacancyRecorded:
    ctx.actor.require(Role.SECRETARY)
    hall = state.hall
    hall.require_delegate(cmd.delegate_id)
    reason = cmd.reason.strip()
    if not reason or len(reason) > MAX_TEXT:
        raise invalid("lý do trống hoặc quá dài", "the reason is empty or too long")
    if cmd.grounds is not VacancyGrounds.REMOVAL:
        if cmd.session_id is not None or cmd.round_id is not None:
            raise invalid("chỉ bãi nhiệm mới dựa trên một lượt biểu quyết", "only a removal rests on a vote round")
        decision = votes.check_vacancy(cmd.delegate_id, cmd.grounds, cmd.decision, None)
    elif not cmd.session_id or not cmd.round_id:
        raise DomainError(
            Code.VACANCY_UNFOUNDED,
            id=cmd.delegate_id,
            reason_vi="bãi nhiệm phải nêu kỳ họp và lượt biểu quyết đã quyết định",
            reason_en="a removal must name the session and round that decided it",
        )
    elif cmd.session_id == hall.session_id:
        mine = state.votes.rounds.get(cmd.round_id)
        result = mine.result if mine is not None else None
        decision = votes.check_vacancy(cmd.delegate_id, cmd.grounds, cmd.decision, result)
    else:
        # Decided in another session: the council checked that session's recorded result (`vacate_seat`).
        decision = cmd.decision.strip()
        if len(decision) > MAX_TEXT:
            raise invalid("căn cứ quá dài", "the decision reference is too long")
    present = len(hall.present_seated() - {cmd.delegate_id})
    total = hall.total - 1
    return VacancyRecorded(
        delegate_id=cmd.delegate_id,
        reason=reason,
        grounds=cmd.grounds,
        decision=decision,
        session_id=cmd.session_id,
        round_id=cmd.round_id,
        present_count=present,
        total=total,
        quorum_needed=hall.rules.quorum.minimum(total),
        quorum_met=hall.rules.quorum.met(present, total),
        at=_iso(ctx),
    )


def _busy(state: SessionState) -> bool:
    return (
        votes.busy(state.votes)
        or polls.busy(state.polls)
        or speakers.busy(state.speakers)
        or questioning.busy(state.questioning)
    )


# One voice on the floor: a speech and a questioning turn never run at once. Each machine guards its own floor;
# the session guards across them.
_TAKES_FLOOR_SPEAKERS = (speakers.StartSpeech,)
_TAKES_FLOOR_QUESTIONING = (questioning.CallQuestion, questioning.CallAnswer, questioning.CallRebuttal)


def _check_floor(state: SessionState, cmd: Command) -> None:
    if (isinstance(cmd, _TAKES_FLOOR_SPEAKERS) and questioning.busy(state.questioning)) or (
        isinstance(cmd, _TAKES_FLOOR_QUESTIONING) and speakers.busy(state.speakers)
    ):
        raise DomainError(Code.SPEECH_IN_PROGRESS)


def _decide_session(state: SessionState, cmd: Command, ctx: Context) -> list[Routed]:
    hall = state.hall
    running = (SessionStatus.CHECKIN_OPEN, SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)
    match cmd:
        case PrepareSession():
            raise DomainError(Code.SESSION_EXISTS)
        case OpenCheckIn():
            ctx.actor.require(Role.SECRETARY, Role.CHAIR)
            hall.require_status(SessionStatus.PREPARED)
            ev: Event = CheckInOpened(total=hall.total, quorum_needed=hall.quorum_needed())
            return [Routed(event=ev, audience=EVERYONE)]
        case CheckIn():
            hall.require_status(*running)
            _attending_delegate(hall, cmd.delegate_id, ctx)
            if cmd.delegate_id in hall.present:
                raise DomainError(Code.ALREADY_CHECKED_IN, id=cmd.delegate_id)
            return [Routed(event=_attendance(hall, cmd.delegate_id, True, ctx), audience=EVERYONE)]
        case CheckOut():
            hall.require_status(*running)
            _attending_delegate(hall, cmd.delegate_id, ctx)
            if cmd.delegate_id not in hall.present:
                raise DomainError(Code.NOT_CHECKED_IN, id=cmd.delegate_id)
            return [Routed(event=_attendance(hall, cmd.delegate_id, False, ctx), audience=EVERYONE)]
        case OpenSession() | ResumeSession():
            ctx.actor.require(Role.CHAIR)
            want = SessionStatus.CHECKIN_OPEN if isinstance(cmd, OpenSession) else SessionStatus.SUSPENDED
            hall.require_status(want)
            present = len(hall.present_seated())
            if not hall.quorum_met():
                raise DomainError(Code.NO_QUORUM, present=present, total=hall.total, needed=hall.quorum_needed())
            if isinstance(cmd, OpenSession):
                ev = SessionOpened(present_count=present, total=hall.total, at=_iso(ctx))
            else:
                ev = SessionResumed(present_count=present, total=hall.total, at=_iso(ctx))
            return [Routed(event=ev, audience=EVERYONE)]
        case SuspendSession():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            if len(cmd.reason) > MAX_TEXT:
                raise invalid("lý do quá dài", "the reason is too long")
            return [Routed(event=SessionSuspended(reason=cmd.reason, at=_iso(ctx)), audience=EVERYONE)]
        case CloseSession():
            ctx.actor.require(Role.CHAIR)
            hall.require_status(SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)
            if _busy(state):
                raise invalid(
                    "còn lượt biểu quyết, cuộc lấy phiếu hoặc phát biểu chưa kết thúc",
                    "a vote, poll or speech is still open",
                )
            return [Routed(event=SessionClosed(at=_iso(ctx)), audience=EVERYONE)]
        case RecordVacancy():
            return [Routed(event=_vacancy(state, cmd, ctx), audience=EVERYONE)]
    raise AssertionError(f"not a session command: {cmd!r}")


def decide(state: SessionState | None, cmd: Command, ctx: Context) -> list[Routed]:
    """The events `cmd` produces from `state`, or `DomainError`. Never changes `state`."""
    if state is None:
        if isinstance(cmd, PrepareSession):
            return _decide_prepare(cmd, ctx)
        raise DomainError(Code.UNKNOWN_SESSION, id="?")
    if state.hall.status is SessionStatus.CLOSED:
        raise DomainError(
            Code.WRONG_SESSION_STATE, state_vi=state.hall.status.label_vi, state_en=state.hall.status.label_en
        )
    sub = _DECIDERS.get(type(cmd))
    if sub is not None:
        routed = sub(state, cmd, ctx)
        _check_floor(state, cmd)  # after the sub-machine, so a wrong role is refused as such first
        return routed
    return _decide_session(state, cmd, ctx)


def _apply_session(state: SessionState, event: Event) -> None:
    hall = state.hall
    match event:
        case CheckInOpened():
            hall.status = SessionStatus.CHECKIN_OPEN
        case Attendance():
            if event.present:
                hall.present.add(event.delegate_id)
            else:
                hall.present.discard(event.delegate_id)
        case SessionOpened() | SessionResumed():
            hall.status = SessionStatus.IN_PROGRESS
            hall.suspension_reason = ""
        case SessionSuspended():
            hall.status = SessionStatus.SUSPENDED
            hall.suspension_reason = event.reason
        case SessionClosed():
            hall.status = SessionStatus.CLOSED
        case VacancyRecorded():
            d = hall.delegates[event.delegate_id]
            hall.delegates[d.id] = Delegate(id=d.id, name=d.name, seated=False)
            hall.present.discard(d.id)
        case _:
            raise AssertionError(f"not a session event: {event!r}")


def apply(state: SessionState | None, event: Event) -> SessionState:
    """The state after `event`. Mutates and returns `state` (a fresh one for `SessionPrepared`)."""
    if isinstance(event, SessionPrepared):
        hall = Hall(
            session_id=event.session_id,
            council_id=event.council_id,
            council_name=event.council_name,
            level=event.level,
            rules=event.rules,
            delegates={d.id: d for d in event.delegates},
            respondents={r.id: r for r in event.respondents},
        )
        return SessionState(
            hall=hall,
            title=event.title,
            kind=event.kind,
            place=event.place,
            opens_on=event.opens_on,
            term_id=event.term_id,
        )
    if state is None:
        raise AssertionError("the first event of a session must be SessionPrepared")
    sub = _APPLIERS.get(type(event))
    if sub is not None:
        sub(state, event)
    else:
        _apply_session(state, event)
    return state


def handle(state: SessionState | None, cmd: Command, ctx: Context) -> Accepted | Refusal:
    """Decide without raising: the transport's entry point."""
    try:
        return Accepted(events=decide(state, cmd, ctx))
    except DomainError as e:
        return e.refusal


def execute(state: SessionState | None, cmd: Command, ctx: Context) -> tuple[SessionState, list[Routed]]:
    """Decide and apply in one step (tests, the demo, a single-process server). Raises `DomainError`."""
    return aggregate.execute(decide, apply, state, cmd, ctx)


def replay(events: Iterable[Event]) -> SessionState:
    return aggregate.replay(apply, events)


def snapshot(state: SessionState) -> Any:
    """A plain, comparable copy of the whole state (for tests and for resume snapshots)."""
    return msgspec.to_builtins(state, order="deterministic")
