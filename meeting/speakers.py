"""The speakers' list (đăng ký phát biểu, thảo luận): requests per agenda item, the chair's order, the speech.

Delegates ask for the floor on the item being discussed; the chair orders the queue and gives the floor, to
a request or directly to a delegate (the chair may call anyone, e.g. an opening speech before any item).
Every screen runs the same countdown because the start and end times travel in the event, never a
"seconds left" that would drift with network delay.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from meeting.actors import DELEGATES, EVERYONE, Context, Role
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall, SessionStatus
from meeting.messages import Command, Event, Routed

# Ids are made by clients (UUIDs are 36 characters); 64 leaves room for prefixed ids and bounds the log.
MAX_ID = 64
MAX_TOPIC = 500
# An hour is longer than any report read from the rostrum yet catches a mistyped override (e.g. 30000).
MAX_SPEECH_SECONDS = 3600

# Ending a speech or managing the queue is still allowed during a break: the chair may suspend the session
# while someone speaks, and the session cannot close until that speech is ended.
_LIVE = (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)


class RequestStatus(StrEnum):
    PENDING = "pending"  # đang chờ
    SPEAKING = "speaking"  # đang phát biểu
    DONE = "done"  # đã phát biểu
    WITHDRAWN = "withdrawn"  # đã rút


class SpeakingRequest(msgspec.Struct, kw_only=True):
    id: str
    delegate_id: str
    item_id: str
    topic: str
    requested_at: datetime
    status: RequestStatus = RequestStatus.PENDING


class Speech(msgspec.Struct, kw_only=True):
    delegate_id: str
    item_id: str | None  # None: a speech before any agenda item (e.g. the opening speech, diễn văn khai mạc)
    request_id: str | None
    seconds: int
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None = None
    overrun_seconds: int = 0


class Speakers(msgspec.Struct, kw_only=True):
    requests: dict[str, SpeakingRequest] = msgspec.field(default_factory=dict)
    # Per item, its pending request ids in the order the chair will call them (no key once none is pending).
    order: dict[str, list[str]] = msgspec.field(default_factory=dict)
    current: Speech | None = None
    speeches: list[Speech] = msgspec.field(default_factory=list)  # finished, in order, for the minutes


# --- commands
class RequestToSpeak(Command, frozen=True, kw_only=True, tag="request_to_speak"):
    request_id: str
    delegate_id: str
    # None means the current item; a tablet may send the item it shows so that a request made just as the
    # chair moves on is refused rather than filed under the wrong item.
    item_id: str | None = None
    topic: str = ""


class WithdrawRequest(Command, frozen=True, kw_only=True, tag="withdraw_speaking_request"):
    request_id: str


class OrderSpeakers(Command, frozen=True, kw_only=True, tag="order_speakers"):
    item_id: str
    order: list[str]


class StartSpeech(Command, frozen=True, kw_only=True, tag="start_speech"):
    """Exactly one of `request_id` (a queued request) or `delegate_id` (the chair calls a delegate directly)."""

    request_id: str | None = None
    delegate_id: str | None = None
    seconds: int | None = None  # None: rules.speech_seconds


class EndSpeech(Command, frozen=True, kw_only=True, tag="end_speech"):
    pass


# --- events
class SpeakingRequested(Event, frozen=True, kw_only=True, tag="speaking_requested"):
    request_id: str
    delegate_id: str
    item_id: str
    topic: str
    at: datetime


class SpeakingRequestWithdrawn(Event, frozen=True, kw_only=True, tag="speaking_request_withdrawn"):
    request_id: str
    delegate_id: str
    item_id: str
    by: str  # the person who withdrew it: the delegate or the chair


class SpeakersOrdered(Event, frozen=True, kw_only=True, tag="speakers_ordered"):
    item_id: str
    order: list[str]


class SpeechStarted(Event, frozen=True, kw_only=True, tag="speech_started"):
    delegate_id: str
    name: str  # for the livestream overlay, which has no roster
    item_id: str | None
    request_id: str | None
    seconds: int
    started_at: datetime
    ends_at: datetime


class SpeechEnded(Event, frozen=True, kw_only=True, tag="speech_ended"):
    delegate_id: str
    item_id: str | None
    request_id: str | None
    ended_at: datetime
    overrun_seconds: int  # how long the speaker went past ends_at; 0 if within time


COMMANDS: tuple[type[Command], ...] = (RequestToSpeak, WithdrawRequest, OrderSpeakers, StartSpeech, EndSpeech)
EVENTS: tuple[type[Event], ...] = (
    SpeakingRequested,
    SpeakingRequestWithdrawn,
    SpeakersOrdered,
    SpeechStarted,
    SpeechEnded,
)


def busy(state: Speakers) -> bool:
    return state.current is not None


def check_id(value: str, what_vi: str, what_en: str) -> None:
    if not value or len(value) > MAX_ID or value != value.strip():
        raise invalid(
            f"mã {what_vi} trống, quá dài hoặc có khoảng trắng ở đầu, cuối",
            f"the {what_en} id is empty, too long or padded with spaces",
        )


def chair_or_self(hall: Hall, ctx: Context, delegate_id: str) -> None:
    """The chair, or the delegate `delegate_id` acting as themself."""
    if ctx.actor.has(Role.CHAIR):
        return
    if not ctx.actor.has(Role.DELEGATE):
        raise DomainError(Code.FORBIDDEN)
    hall.acting_delegate(ctx, delegate_id)


def overrun(ends_at: datetime, ended_at: datetime) -> int:
    return max(0, int((ended_at - ends_at).total_seconds()))


def _require_present(hall: Hall, delegate_id: str) -> None:
    """Only a delegate checked in to the hall asks for or takes the floor; one who left must check in again."""
    if delegate_id not in hall.present:
        raise DomainError(Code.NOT_CHECKED_IN, id=delegate_id)


def _require_request(state: Speakers, request_id: str) -> SpeakingRequest:
    req = state.requests.get(request_id)
    if req is None:
        raise DomainError(Code.UNKNOWN_REQUEST, id=request_id)
    return req


def _require_pending(req: SpeakingRequest) -> None:
    if req.status is not RequestStatus.PENDING:
        raise invalid("đăng ký phát biểu này không còn chờ", "this speaking request is no longer pending")


def _pending_of(state: Speakers, delegate_id: str, item_id: str) -> str | None:
    for rid in state.order.get(item_id, ()):
        if state.requests[rid].delegate_id == delegate_id:
            return rid
    return None


def decide(hall: Hall, state: Speakers, cmd: Command, ctx: Context) -> list[Routed]:
    match cmd:
        case RequestToSpeak():
            delegate_id = hall.acting_delegate(ctx, cmd.delegate_id)
            hall.require_running()
            check_id(cmd.request_id, "đăng ký", "request")
            if cmd.request_id in state.requests:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.request_id)
            if hall.current_item is None:
                raise DomainError(Code.NO_CURRENT_ITEM)
            if cmd.item_id is not None and cmd.item_id != hall.current_item:
                raise DomainError(Code.ITEM_NOT_CURRENT, id=cmd.item_id)
            if len(cmd.topic) > MAX_TOPIC:
                raise invalid("nội dung đăng ký quá dài", "the topic is too long")
            _require_present(hall, delegate_id)
            if _pending_of(state, delegate_id, hall.current_item) is not None:
                raise DomainError(Code.ALREADY_REQUESTED)
            ev: Event = SpeakingRequested(
                request_id=cmd.request_id,
                delegate_id=delegate_id,
                item_id=hall.current_item,
                topic=cmd.topic.strip(),
                at=ctx.now,
            )
            return [Routed(event=ev, audience=DELEGATES)]
        case WithdrawRequest():
            if not ctx.actor.has(Role.CHAIR, Role.DELEGATE):
                raise DomainError(Code.FORBIDDEN)
            hall.require_status(*_LIVE)
            req = _require_request(state, cmd.request_id)
            chair_or_self(hall, ctx, req.delegate_id)
            _require_pending(req)
            ev = SpeakingRequestWithdrawn(
                request_id=req.id, delegate_id=req.delegate_id, item_id=req.item_id, by=ctx.actor.person_id or ""
            )
            return [Routed(event=ev, audience=DELEGATES)]
        case OrderSpeakers():
            ctx.actor.require(Role.CHAIR)
            hall.require_status(*_LIVE)
            for rid in cmd.order:
                _require_request(state, rid)
            pending = state.order.get(cmd.item_id, [])
            if not pending:
                raise invalid("nội dung này không có đăng ký nào đang chờ", "no request is pending on this item")
            if len(set(cmd.order)) != len(cmd.order) or set(cmd.order) != set(pending):
                raise invalid(
                    "thứ tự phải liệt kê đúng mỗi đăng ký đang chờ của nội dung một lần",
                    "the order must list every pending request of the item exactly once",
                )
            return [Routed(event=SpeakersOrdered(item_id=cmd.item_id, order=list(cmd.order)), audience=DELEGATES)]
        case StartSpeech():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            if state.current is not None:
                raise DomainError(Code.SPEECH_IN_PROGRESS)
            if (cmd.request_id is None) == (cmd.delegate_id is None):
                raise invalid(
                    "cần chỉ định đúng một trong hai: đăng ký phát biểu hoặc đại biểu",
                    "give exactly one of a request or a delegate",
                )
            seconds = hall.rules.speech_seconds if cmd.seconds is None else cmd.seconds
            if not 0 < seconds <= MAX_SPEECH_SECONDS:
                raise invalid(
                    f"thời gian phát biểu phải từ 1 đến {MAX_SPEECH_SECONDS} giây",
                    f"the speaking time must be 1 to {MAX_SPEECH_SECONDS} seconds",
                )
            request_id: str | None
            item_id: str | None
            if cmd.request_id is not None:
                req = _require_request(state, cmd.request_id)
                _require_pending(req)
                if req.item_id != hall.current_item:
                    raise DomainError(Code.ITEM_NOT_CURRENT, id=req.item_id)
                delegate_id, request_id, item_id = req.delegate_id, req.id, req.item_id
            else:
                delegate_id, item_id = cmd.delegate_id or "", hall.current_item
                # A delegate called directly who had asked for the floor on this item has now had it.
                request_id = None if item_id is None else _pending_of(state, delegate_id, item_id)
            name = hall.require_delegate(delegate_id).name
            _require_present(hall, delegate_id)
            ev = SpeechStarted(
                delegate_id=delegate_id,
                name=name,
                item_id=item_id,
                request_id=request_id,
                seconds=seconds,
                started_at=ctx.now,
                ends_at=ctx.now + timedelta(seconds=seconds),
            )
            return [Routed(event=ev, audience=EVERYONE)]
        case EndSpeech():
            if not ctx.actor.has(Role.CHAIR, Role.DELEGATE):
                raise DomainError(Code.FORBIDDEN)
            hall.require_status(*_LIVE)
            speech = state.current
            if speech is None:
                raise DomainError(Code.NO_SPEECH)
            chair_or_self(hall, ctx, speech.delegate_id)
            ev = SpeechEnded(
                delegate_id=speech.delegate_id,
                item_id=speech.item_id,
                request_id=speech.request_id,
                ended_at=ctx.now,
                overrun_seconds=overrun(speech.ends_at, ctx.now),
            )
            return [Routed(event=ev, audience=EVERYONE)]
    raise AssertionError(f"not a speakers command: {cmd!r}")


def _unqueue(state: Speakers, item_id: str, request_id: str) -> None:
    queue = state.order.get(item_id, [])
    if request_id in queue:
        queue.remove(request_id)
    if not queue:
        state.order.pop(item_id, None)


def _set_status(state: Speakers, request_id: str | None, status: RequestStatus) -> None:
    req = state.requests.get(request_id) if request_id is not None else None
    if req is not None:
        req.status = status
        if status is not RequestStatus.PENDING:
            _unqueue(state, req.item_id, req.id)


def apply(state: Speakers, event: Event) -> None:
    # A view replays only the events its audience admits (meeting/views.py): the public sees speeches but not
    # the requests behind them, so an event may name a request this state has never seen.
    match event:
        case SpeakingRequested():
            state.requests[event.request_id] = SpeakingRequest(
                id=event.request_id,
                delegate_id=event.delegate_id,
                item_id=event.item_id,
                topic=event.topic,
                requested_at=event.at,
            )
            state.order.setdefault(event.item_id, []).append(event.request_id)
        case SpeakingRequestWithdrawn():
            _set_status(state, event.request_id, RequestStatus.WITHDRAWN)
        case SpeakersOrdered():
            state.order[event.item_id] = list(event.order)
        case SpeechStarted():
            _set_status(state, event.request_id, RequestStatus.SPEAKING)
            state.current = Speech(
                delegate_id=event.delegate_id,
                item_id=event.item_id,
                request_id=event.request_id,
                seconds=event.seconds,
                started_at=event.started_at,
                ends_at=event.ends_at,
            )
        case SpeechEnded():
            _set_status(state, event.request_id, RequestStatus.DONE)
            speech = state.current
            if speech is not None:
                speech.ended_at = event.ended_at
                speech.overrun_seconds = event.overrun_seconds
                state.speeches.append(speech)
            state.current = None
        case _:
            raise AssertionError(f"not a speakers event: {event!r}")
