"""The council (Hội đồng nhân dân): its rules, terms, delegates, respondents and resolution numbering.

A council outlives its sessions: the roster and the resolution sequences belong here, and a session is
prepared from a copy of the roster taken when it is prepared (`prepare_session`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import msgspec

from meeting import aggregate
from meeting.actors import EVERYONE, STAFF, Context, Role
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Delegate, Respondent, VacancyGrounds
from meeting.ids import check_id
from meeting.messages import Command, Event, Routed
from meeting.resolutions import Resolution, adoption_date, format_number, sequence_key
from meeting.rules import Level, Rules, VoteKind, rules_for
from meeting.session import PrepareSession, SessionKind
from meeting.votes import VoteResult, check_vacancy

MAX_NAME = 200
# Hà Nội and HCMC seat 125 delegates (Law 72/2025/QH15 art. 30); 1000 bounds a roster with room to spare.
MAX_DELEGATES = 1000
# A seat label ("Dãy B - ghế 12" at most); 20 characters fit every plan we have seen and the seat map's tile.
MAX_SEAT = 20


class Term(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str  # "Khóa XI, nhiệm kỳ 2026–2031"
    starts_on: date


class CouncilState(msgspec.Struct, kw_only=True):
    id: str
    name: str
    level: Level
    rules: Rules
    terms: dict[str, Term] = msgspec.field(default_factory=dict)
    current_term: str | None = None
    delegates: dict[str, Delegate] = msgspec.field(default_factory=dict)
    respondents: dict[str, Respondent] = msgspec.field(default_factory=dict)
    # Last number used per sequence ("normative/2026", "ordinary/2026" or ".../term:<id>").
    counters: dict[str, int] = msgspec.field(default_factory=dict)
    resolutions: dict[str, Resolution] = msgspec.field(default_factory=dict)  # by number
    numbered_rounds: dict[str, str] = msgspec.field(default_factory=dict)  # round id -> number

    @property
    def seated(self) -> list[Delegate]:
        return [d for d in self.delegates.values() if d.seated]


# --- commands
class CreateCouncil(Command, frozen=True, kw_only=True, tag="create_council"):
    council_id: str
    name: str
    level: Level
    rules: Rules | None = None  # None: the defaults for the level


class ChangeRules(Command, frozen=True, kw_only=True, tag="change_rules"):
    rules: Rules


class OpenTerm(Command, frozen=True, kw_only=True, tag="open_term"):
    term_id: str
    name: str
    starts_on: date


class SeatDelegate(Command, frozen=True, kw_only=True, tag="seat_delegate"):
    delegate_id: str
    name: str
    seat: str | None = None  # the seat in the hall's seating plan, if the council sets one (e.g. "B-12")


class VacateSeat(Command, frozen=True, kw_only=True, tag="vacate_seat"):
    """A delegate stops holding a seat. Removal rests on a passed removal round (`session_id`, `round_id`: the
    server fills `result` from the round the session recorded); resignation and death on a `decision` reference."""

    delegate_id: str
    reason: str
    grounds: VacancyGrounds
    decision: str = ""
    session_id: str | None = None
    round_id: str | None = None
    result: VoteResult | None = None


class AddRespondent(Command, frozen=True, kw_only=True, tag="add_respondent"):
    respondent_id: str
    name: str
    position: str


class RemoveRespondent(Command, frozen=True, kw_only=True, tag="remove_respondent"):
    respondent_id: str


class NumberResolution(Command, frozen=True, kw_only=True, tag="number_resolution"):
    """Give a passed motion the next number of the council's sequence. Its date and year are those of the day
    the round closed on the council's calendar (`result.closed_at`, UTC+7), never a date the client sends."""

    session_id: str
    title: str
    result: VoteResult


# --- events
class CouncilCreated(Event, frozen=True, kw_only=True, tag="council_created"):
    council_id: str
    name: str
    level: Level
    rules: Rules


class RulesChanged(Event, frozen=True, kw_only=True, tag="rules_changed"):
    rules: Rules


class TermOpened(Event, frozen=True, kw_only=True, tag="term_opened"):
    term: Term


class DelegateSeated(Event, frozen=True, kw_only=True, tag="delegate_seated"):
    delegate_id: str
    name: str
    seat: str | None = None


class SeatVacated(Event, frozen=True, kw_only=True, tag="seat_vacated"):
    delegate_id: str
    reason: str
    grounds: VacancyGrounds | None = None  # None only in logs written before grounds were recorded
    decision: str = ""
    session_id: str | None = None
    round_id: str | None = None


class RespondentAdded(Event, frozen=True, kw_only=True, tag="respondent_added"):
    respondent: Respondent


class RespondentRemoved(Event, frozen=True, kw_only=True, tag="respondent_removed"):
    respondent_id: str


class ResolutionAdopted(Event, frozen=True, kw_only=True, tag="resolution_adopted"):
    resolution: Resolution


COMMANDS: tuple[type[Command], ...] = (
    CreateCouncil,
    ChangeRules,
    OpenTerm,
    SeatDelegate,
    VacateSeat,
    AddRespondent,
    RemoveRespondent,
    NumberResolution,
)
EVENTS: tuple[type[Event], ...] = (
    CouncilCreated,
    RulesChanged,
    TermOpened,
    DelegateSeated,
    SeatVacated,
    RespondentAdded,
    RespondentRemoved,
    ResolutionAdopted,
)


def _seat(state: CouncilState, seat: str | None) -> str | None:
    """A seat label of the seating plan: short, and held by one seated delegate at a time."""
    if seat is None:
        return None
    label = seat.strip()
    if not label or len(label) > MAX_SEAT:
        raise invalid(f"số ghế trống hoặc dài quá {MAX_SEAT} ký tự", f"the seat is empty or longer than {MAX_SEAT}")
    holder = next((d.id for d in state.delegates.values() if d.seated and d.seat == label), None)
    if holder is not None:
        raise invalid(f"ghế {label} đã xếp cho đại biểu {holder}", f"seat {label} is already given to {holder}")
    return label


def _name(value: str, what_vi: str, what_en: str) -> str:
    v = value.strip()
    if not v or len(v) > MAX_NAME:
        raise invalid(f"{what_vi} trống hoặc quá dài", f"{what_en} is empty or too long")
    return v


def _check_rules(rules: Rules) -> None:
    for t in (rules.quorum,):
        if t.num <= 0 or t.den <= 0 or t.num > t.den:
            raise invalid("tỷ lệ không hợp lệ", "the fraction is out of range")
    timers = (rules.speech_seconds, rules.question_seconds, rules.answer_seconds, rules.rebuttal_seconds)
    if any(s <= 0 or s > 3600 for s in timers):
        raise invalid("thời gian phải từ 1 giây đến 60 phút", "timers must be 1 s to 60 min")
    keys = [o.key for o in rules.options]
    if len(keys) < 2 or len(set(keys)) != len(keys) or any(not o.label.strip() for o in rules.options):
        raise invalid("phiếu cần ít nhất 2 phương án khác nhau", "a ballot needs at least 2 distinct options")
    # At most the largest roster (MAX_DELEGATES): a larger minimum would make every secret vote impossible.
    if not 1 <= rules.committee_min <= MAX_DELEGATES:
        raise invalid(
            f"Ban kiểm phiếu cần từ 1 đến {MAX_DELEGATES} thành viên",
            f"the committee minimum must be 1 to {MAX_DELEGATES} members",
        )
    if rules.default_pass_rule not in VoteKind.RESOLUTION.allowed_rules:
        raise invalid(
            "quy tắc mặc định phải là quy tắc luật cho phép thông qua nghị quyết (trên tổng số đại biểu)",
            "the default pass rule must be one the law allows for a resolution (over all delegates)",
        )
    if not 0 <= rules.secret_min_ballots <= 1000:
        raise invalid("số phiếu tối thiểu phải từ 0 đến 1000", "the minimum number of ballots must be 0 to 1000")


def decide(state: CouncilState | None, cmd: Command, ctx: Context) -> list[Routed]:
    if state is None:
        if not isinstance(cmd, CreateCouncil):
            raise DomainError(Code.UNKNOWN_COUNCIL, id="?")
        ctx.actor.require(Role.ADMIN)
        check_id(cmd.council_id, "mã Hội đồng", "the council id")
        rules = cmd.rules or rules_for(cmd.level)
        _check_rules(rules)
        ev: Event = CouncilCreated(
            council_id=cmd.council_id,
            name=_name(cmd.name, "tên Hội đồng", "the council name"),
            level=cmd.level,
            rules=rules,
        )
        return [Routed(event=ev, audience=EVERYONE)]
    match cmd:
        case CreateCouncil():
            raise DomainError(Code.COUNCIL_EXISTS)
        case ChangeRules():
            ctx.actor.require(Role.SECRETARY)
            _check_rules(cmd.rules)
            return [Routed(event=RulesChanged(rules=cmd.rules), audience=STAFF)]
        case OpenTerm():
            ctx.actor.require(Role.SECRETARY)
            check_id(cmd.term_id, "mã nhiệm kỳ", "the term id")
            if cmd.term_id in state.terms:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.term_id)
            term = Term(id=cmd.term_id, name=_name(cmd.name, "tên nhiệm kỳ", "the term name"), starts_on=cmd.starts_on)
            return [Routed(event=TermOpened(term=term), audience=EVERYONE)]
        case SeatDelegate():
            ctx.actor.require(Role.SECRETARY)
            check_id(cmd.delegate_id, "mã đại biểu", "the delegate id")
            if cmd.delegate_id in state.delegates:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.delegate_id)
            if len(state.delegates) >= MAX_DELEGATES:
                raise invalid("danh sách đại biểu đã đầy", "the roster is full")
            seat = _seat(state, cmd.seat)
            ev = DelegateSeated(delegate_id=cmd.delegate_id, name=_name(cmd.name, "họ tên", "the name"), seat=seat)
            return [Routed(event=ev, audience=STAFF)]
        case VacateSeat():
            ctx.actor.require(Role.SECRETARY)
            d = state.delegates.get(cmd.delegate_id)
            if d is None:
                raise DomainError(Code.UNKNOWN_DELEGATE, id=cmd.delegate_id)
            if not d.seated:
                raise DomainError(Code.SEAT_VACANT, id=cmd.delegate_id)
            reason = _name(cmd.reason, "lý do", "the reason")
            decision = check_vacancy(cmd.delegate_id, cmd.grounds, cmd.decision, cmd.result)
            if cmd.result is not None and cmd.round_id is not None and cmd.result.round_id != cmd.round_id:
                raise DomainError(Code.UNKNOWN_ROUND, id=cmd.round_id)
            ev = SeatVacated(
                delegate_id=cmd.delegate_id,
                reason=reason,
                grounds=cmd.grounds,
                decision=decision,
                session_id=cmd.session_id if cmd.result is not None else None,
                round_id=cmd.result.round_id if cmd.result is not None else None,
            )
            return [Routed(event=ev, audience=STAFF)]
        case AddRespondent():
            ctx.actor.require(Role.SECRETARY)
            check_id(cmd.respondent_id, "mã người trả lời chất vấn", "the respondent id")
            if cmd.respondent_id in state.respondents:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.respondent_id)
            r = Respondent(
                id=cmd.respondent_id,
                name=_name(cmd.name, "họ tên", "the name"),
                position=_name(cmd.position, "chức vụ", "the position"),
            )
            return [Routed(event=RespondentAdded(respondent=r), audience=STAFF)]
        case RemoveRespondent():
            ctx.actor.require(Role.SECRETARY)
            if cmd.respondent_id not in state.respondents:
                raise DomainError(Code.UNKNOWN_RESPONDENT, id=cmd.respondent_id)
            return [Routed(event=RespondentRemoved(respondent_id=cmd.respondent_id), audience=STAFF)]
        case NumberResolution():
            return [Routed(event=_number(state, cmd, ctx), audience=EVERYONE)]
    raise AssertionError(f"not a council command: {cmd!r}")


def _number(state: CouncilState, cmd: NumberResolution, ctx: Context) -> ResolutionAdopted:
    ctx.actor.require(Role.SECRETARY, Role.CHAIR)
    result = cmd.result
    # Law 77/2015/QH13 art. 91(3): only a round of a resolution kind, passed by a rule the law allows for that
    # kind (over all delegates), is a resolution; checked here too because results recorded before kinds existed
    # decode as resolutions whatever their rule.
    if not result.kind.numbered or result.pass_rule not in result.kind.allowed_rules:
        raise DomainError(Code.NOT_A_RESOLUTION, id=result.round_id)
    if not result.passed:
        raise DomainError(Code.NOT_PASSED, id=result.round_id)
    if result.round_id in state.numbered_rounds:
        raise DomainError(Code.ALREADY_NUMBERED, id=result.round_id)
    if state.current_term is None:
        raise DomainError(Code.NO_OPEN_TERM)
    adopted_on = adoption_date(result.closed_at)
    key = sequence_key(
        normative=result.normative,
        numbering=state.rules.numbering,
        year=adopted_on.year,
        term_id=state.current_term,
    )
    seq = state.counters.get(key, 0) + 1
    number = format_number(seq, result.normative, adopted_on.year, state.rules.issuer_code)
    resolution = Resolution(
        number=number,
        seq=seq,
        sequence=key,
        normative=result.normative,
        title=_name(cmd.title, "trích yếu nghị quyết", "the resolution title"),
        council_id=state.id,
        term_id=state.current_term,
        session_id=cmd.session_id,
        item_id=result.item_id,
        round_id=result.round_id,
        adopted_on=adopted_on,
        result=result,
    )
    return ResolutionAdopted(resolution=resolution)


def apply(state: CouncilState | None, event: Event) -> CouncilState:
    if isinstance(event, CouncilCreated):
        return CouncilState(id=event.council_id, name=event.name, level=event.level, rules=event.rules)
    if state is None:
        raise AssertionError("the first event of a council must be CouncilCreated")
    match event:
        case RulesChanged():
            state.rules = event.rules
        case TermOpened():
            state.terms[event.term.id] = event.term
            state.current_term = event.term.id
        case DelegateSeated():
            state.delegates[event.delegate_id] = Delegate(id=event.delegate_id, name=event.name, seat=event.seat)
        case SeatVacated():
            d = state.delegates[event.delegate_id]
            # The seat is free again: a vacated seat keeps no place in the seating plan.
            state.delegates[event.delegate_id] = Delegate(id=d.id, name=d.name, seated=False)
        case RespondentAdded():
            state.respondents[event.respondent.id] = event.respondent
        case RespondentRemoved():
            del state.respondents[event.respondent_id]
        case ResolutionAdopted():
            r = event.resolution
            state.counters[r.sequence] = r.seq
            state.resolutions[r.number] = r
            state.numbered_rounds[r.round_id] = r.number
        case _:
            raise AssertionError(f"not a council event: {event!r}")
    return state


def execute(state: CouncilState | None, cmd: Command, ctx: Context) -> tuple[CouncilState, list[Routed]]:
    return aggregate.execute(decide, apply, state, cmd, ctx)


def replay(events: Iterable[Event]) -> CouncilState:
    return aggregate.replay(apply, events)


def prepare_session(
    council: CouncilState,
    *,
    session_id: str,
    title: str,
    opens_on: date,
    kind: SessionKind = SessionKind.REGULAR,
    place: str = "",
) -> PrepareSession:
    """The command that prepares a session with a copy of today's roster, respondents and rules."""
    if council.current_term is None:
        raise DomainError(Code.NO_OPEN_TERM)
    return PrepareSession(
        session_id=session_id,
        council_id=council.id,
        council_name=council.name,
        level=council.level,
        term_id=council.current_term,
        title=title,
        kind=kind,
        place=place,
        opens_on=opens_on,
        rules=council.rules,
        delegates=list(council.delegates.values()),
        respondents=list(council.respondents.values()),
    )
