"""Between sessions: the commands and events of a council's petitions register, decided and applied.

The structs, the lifecycle and the queries are in `meeting/petitions_model.py`; this module is the machine:
`decide(state, command, ctx)` checks who may do what against the register and returns the events (or raises
`DomainError`, changing nothing), `apply(state, event)` folds an event in. One register per council and term is
one engine stream, `petitions:<council_id>:<term_id>` (`stream_ident`).

Who may do what (every check here, none in a route):
- the secretariat opens the register, edits its lists, groups and officials, classifies, merges and assigns;
- a delegate records meetings and petitions for their own delegate group; the Front and the secretariat for any;
- an agency official answers only what is assigned to their agency, and any other item is unknown to them;
- the Standing Committee and the committees (and the secretariat) conclude, reopen, and record supervisions;
- the server's clock (or the office) records that a deadline passed (`MarkOverdue`), like the vote timers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

import msgspec

from meeting import aggregate
from meeting.actors import EVERYONE, Audience, Context, Role
from meeting.errors import Code, DomainError, invalid
from meeting.ids import check_id
from meeting.messages import Command, Event, Routed
from meeting.petitions_messages import (
    AddConclusion,
    AnswerItem,
    AppointOfficial,
    AssignItem,
    Brief,
    CarryItem,
    ChangePetitionRules,
    ClassifyItem,
    ConcludeItem,
    DelegateGroupSet,
    DismissOfficial,
    ItemAnswered,
    ItemAssigned,
    ItemClassified,
    ItemConcluded,
    ItemOverdue,
    ItemReceived,
    ItemReminded,
    ItemReopened,
    MarkOverdue,
    MergePetitions,
    OfficialAppointed,
    OfficialDismissed,
    OpenPetitions,
    PetitionRulesChanged,
    PetitionsMerged,
    PetitionsOpened,
    RecordPetition,
    RecordSupervision,
    RecordVoterMeeting,
    RemindItem,
    ReopenItem,
    SetDelegateGroup,
    SourceAdded,
    SupervisionRecorded,
    TrackCommitment,
    VoterMeetingRecorded,
)
from meeting.petitions_model import (
    DONE,
    OFFICE,
    OUTCOMES,
    Answer,
    CommitmentLink,
    DelegateGroup,
    ItemKind,
    MeetingTiming,
    PetitionRules,
    PetitionsState,
    Source,
    Stamp,
    Status,
    Supervision,
    TrackedItem,
    Transition,
    VoterMeeting,
    council_date,
    default_rules,
    is_overdue,
    may_see,
    reminder_due,
)

_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
MAX_NAME = 200  # names, places, areas, a petitioner's name
MAX_TOPIC = 500
MAX_TEXT = 4000  # a petition as the group summarises it: a few sentences; the longest in seed reports ~600
MAX_ANSWER = 20_000  # an agency's answer: a few pages; the full text is the attached document
MAX_NOTE = 2000
MAX_PEOPLE = 200  # a group's members, delegates present, subjects supervised
MAX_LIST = 500  # fields or agencies on the council's lists
MAX_VOTERS = 100_000
MAX_DAYS = 3650  # a deadline is within ten years of today
MAX_REMIND_DAYS = 90  # the longest deadline of the defaults; a reminder earlier than that says nothing
# A province: ~3 000 petitions a year, ~15 000 over a term; 50 000 leaves room and bounds the fold (~1 s, ~60 MB).
MAX_ITEMS = 50_000
MAX_MEETINGS = 10_000  # hundreds a year, ~2 500 a term
MAX_SOURCES = 1000  # one petition raised again and again across a province
# The engine's stream id is at most 200 characters: "petitions:" + council id + ":" + term id.
MAX_STREAM_IDENT = 200 - len("petitions:")


def stream_ident(council_id: str, term_id: str) -> str:
    return f"{council_id}:{term_id}"


# --- checks
def _text(value: str, limit: int, what_vi: str, what_en: str, *, empty: bool = False) -> str:
    v = value.strip()
    if (not v and not empty) or len(v) > limit:
        raise invalid(f"{what_vi} trống hoặc dài quá {limit} ký tự", f"{what_en} is empty or over {limit} characters")
    return v


def _ids(values: list[str], what_vi: str, what_en: str, *, limit: int = MAX_PEOPLE) -> list[str]:
    if len(values) > limit or len(set(values)) != len(values):
        raise invalid(f"tối đa {limit} {what_vi}, không trùng nhau", f"at most {limit} {what_en}, none twice")
    return [check_id(v, what_vi, what_en) for v in values]


def _check_rules(rules: PetitionRules) -> None:
    for items, what_vi, what_en in ((rules.fields, "lĩnh vực", "fields"), (rules.agencies, "cơ quan", "agencies")):
        if not items or len(items) > MAX_LIST:
            raise invalid(f"danh sách {what_vi} cần 1–{MAX_LIST} mục", f"the list of {what_en} needs 1–{MAX_LIST}")
        _ids([i.id for i in items], what_vi, what_en, limit=MAX_LIST)
        for i in items:
            _text(i.name, MAX_NAME, f"tên {what_vi}", f"a name among the {what_en}")
    for a in rules.agencies:
        # One address, as a mail server takes it: something@host, no spaces or list separators.
        if a.email and (len(a.email) > MAX_NAME or not _EMAIL.fullmatch(a.email)):
            raise invalid(f"địa chỉ thư của cơ quan {a.id} không hợp lệ", f"the e-mail address of {a.id} is invalid")
    for days in (rules.no_resources_days, rules.needs_resources_days, rules.other_days):
        if not 1 <= days <= MAX_DAYS:
            raise invalid(f"thời hạn phải từ 1 đến {MAX_DAYS} ngày", f"a deadline must be 1 to {MAX_DAYS} days")
    if not 0 <= rules.remind_days <= MAX_REMIND_DAYS:
        raise invalid(
            f"số ngày nhắc trước hạn phải từ 0 đến {MAX_REMIND_DAYS}", f"reminder days must be 0 to {MAX_REMIND_DAYS}"
        )


def _stamp(ctx: Context, note: str = "", *, need_note: bool = False) -> Stamp:
    note = _text(note, MAX_NOTE, "lý do", "the reason", empty=not need_note)
    return Stamp(at=ctx.now, by=ctx.actor.person_id, roles=sorted(ctx.actor.roles), note=note)


def _item(state: PetitionsState, item_id: str, ctx: Context, *, scoped: bool = True) -> TrackedItem:
    """The item, if `ctx.actor` may see it: to anyone else it does not exist (no oracle for other agencies)."""
    item = state.items.get(item_id)
    if item is None or (scoped and not may_see(state, item, ctx.actor)):
        raise DomainError(Code.UNKNOWN_TRACKED_ITEM, id=item_id)
    return item


def _require_status(item: TrackedItem, *allowed: Status) -> None:
    if item.status not in allowed:
        raise DomainError(Code.WRONG_ITEM_STATE, id=item.id, state_vi=item.status.label_vi, state_en=item.status.value)


def _new_item_id(state: PetitionsState, item_id: str) -> str:
    check_id(item_id, "mã kiến nghị", "the item id")
    if item_id in state.items:
        raise DomainError(Code.DUPLICATE_ID, id=item_id)
    if len(state.items) >= MAX_ITEMS:
        raise invalid(f"sổ đã có {MAX_ITEMS} mục", f"the register already holds {MAX_ITEMS} items")
    return item_id


def _agency(state: PetitionsState, agency_id: str) -> str:
    if state.rules.agency(agency_id) is None:
        raise DomainError(Code.UNKNOWN_AGENCY, id=agency_id)
    return agency_id


def _due(due: date, ctx: Context) -> date:
    if abs((due - council_date(ctx.now)).days) > MAX_DAYS:
        raise invalid(f"thời hạn phải trong vòng {MAX_DAYS} ngày", f"a deadline must be within {MAX_DAYS} days")
    return due


def _meeting(state: PetitionsState, meeting_id: str) -> VoterMeeting:
    m = state.meetings.get(meeting_id)
    if m is None:
        raise DomainError(Code.UNKNOWN_VOTER_MEETING, id=meeting_id)
    return m


def _require_group_entry(state: PetitionsState, group_id: str, ctx: Context) -> None:
    """The secretariat and the Front enter for any group; a delegate only for their own."""
    actor = ctx.actor
    if actor.has(Role.ADMIN, Role.SECRETARY, Role.FRONT):
        return
    if not actor.has(Role.DELEGATE):
        raise DomainError(Code.FORBIDDEN)
    group = state.groups.get(group_id)
    if group is None or actor.person_id not in group.members:
        raise DomainError(Code.NOT_IN_GROUP, id=actor.person_id or "?", group=group_id)


def _audience(state: PetitionsState, item: TrackedItem, *also_agencies: str | None) -> Audience:
    roles = set(OFFICE)
    if item.kind is not ItemKind.PETITION:
        roles |= {Role.DELEGATE, Role.CHAIR}
    people = state.delegates_of(item) | state.officials_of(item.agency_id)
    for a in also_agencies:
        people |= state.officials_of(a)
    return Audience(roles=frozenset(roles), members=frozenset(people))


def _routed(state: PetitionsState, item: TrackedItem, event: Event, *also: str | None) -> list[Routed]:
    return [Routed(event=event, audience=_audience(state, item, *also))]


_FOLLOWERS = (Role.SECRETARY, Role.STANDING)  # conclude, reopen, supervisions, commitments


# --- decide
def decide(state: PetitionsState | None, cmd: Command, ctx: Context) -> list[Routed]:
    if state is None:
        if not isinstance(cmd, OpenPetitions):
            raise DomainError(Code.UNKNOWN_PETITIONS, id="?")
        ctx.actor.require(Role.SECRETARY)
        check_id(cmd.council_id, "mã Hội đồng", "the council id")
        check_id(cmd.term_id, "mã nhiệm kỳ", "the term id")
        if len(stream_ident(cmd.council_id, cmd.term_id)) > MAX_STREAM_IDENT:
            raise invalid(
                f"mã Hội đồng và mã nhiệm kỳ cộng lại quá {MAX_STREAM_IDENT - 1} ký tự",
                f"the council and term ids together exceed {MAX_STREAM_IDENT - 1} characters",
            )
        rules = cmd.rules or default_rules(cmd.level)
        _check_rules(rules)
        ev: Event = PetitionsOpened(council_id=cmd.council_id, term_id=cmd.term_id, rules=rules)
        return [Routed(event=ev, audience=EVERYONE)]
    match cmd:
        case OpenPetitions():
            raise DomainError(Code.PETITIONS_EXIST)
        case ChangePetitionRules():
            ctx.actor.require(Role.SECRETARY)
            _check_rules(cmd.rules)
            _check_in_use(state, cmd.rules)
            return [Routed(event=PetitionRulesChanged(rules=cmd.rules), audience=EVERYONE)]
        case SetDelegateGroup():
            ctx.actor.require(Role.SECRETARY)
            check_id(cmd.group_id, "mã Tổ đại biểu", "the group id")
            members = _ids(cmd.members, "đại biểu", "members")
            clash = next((m for m in members if m in state.officials), None)
            if clash is not None:
                raise invalid(f"{clash} là cán bộ cơ quan, không thể là đại biểu", f"{clash} is an agency official")
            group = DelegateGroup(
                id=cmd.group_id, name=_text(cmd.name, MAX_NAME, "tên Tổ", "the name"), members=members
            )
            return [Routed(event=DelegateGroupSet(group=group), audience=EVERYONE)]
        case AppointOfficial():
            ctx.actor.require(Role.SECRETARY)
            check_id(cmd.person_id, "mã cán bộ", "the official's id")
            _agency(state, cmd.agency_id)
            # A person id is one person: an official who were also in a group would see that group's petitions.
            if any(cmd.person_id in g.members for g in state.groups.values()):
                raise invalid(f"{cmd.person_id} là thành viên Tổ đại biểu", f"{cmd.person_id} is in a delegate group")
            ev = OfficialAppointed(person_id=cmd.person_id, agency_id=cmd.agency_id)
            return [Routed(event=ev, audience=Audience(roles=OFFICE, members=frozenset({cmd.person_id})))]
        case DismissOfficial():
            ctx.actor.require(Role.SECRETARY)
            if cmd.person_id not in state.officials:
                raise invalid(f"{cmd.person_id[:100]} không phải cán bộ cơ quan", "not an agency official")
            ev = OfficialDismissed(person_id=cmd.person_id)
            return [Routed(event=ev, audience=Audience(roles=OFFICE, members=frozenset({cmd.person_id})))]
        case RecordVoterMeeting():
            return _record_meeting(state, cmd, ctx)
        case RecordPetition():
            _new_item_id(state, cmd.petition_id)
            m = _meeting(state, cmd.meeting_id)
            _require_group_entry(state, m.group_id, ctx)
            source = Source(
                meeting_id=m.id, petitioner=_text(cmd.petitioner, MAX_NAME, "họ tên", "the name", empty=True)
            )
            ev = ItemReceived(
                item_id=cmd.petition_id,
                kind=ItemKind.PETITION,
                text=_text(cmd.text, MAX_TEXT, "nội dung kiến nghị", "the petition"),
                area=_text(cmd.area, MAX_NAME, "địa bàn", "the area", empty=True),
                source=source,
                stamp=_stamp(ctx),
            )
            people = state.meeting_people(m.id)
            return [Routed(event=ev, audience=Audience(roles=OFFICE, members=frozenset(people)))]
        case CarryItem():
            return _carry(state, cmd, ctx)
        case TrackCommitment():
            ctx.actor.require(*_FOLLOWERS)
            link = CommitmentLink(
                session_id=check_id(cmd.session_id, "mã kỳ họp", "the session id"),
                question_id=check_id(cmd.question_id, "mã câu hỏi", "the question id"),
                respondent_id=check_id(cmd.respondent_id, "mã người trả lời", "the respondent id"),
            )
            text = _text(cmd.text, MAX_TEXT, "nội dung cam kết", "the commitment")
            return _created(state, ctx, ItemKind.COMMITMENT, cmd.item_id, text, cmd.agency_id, cmd.due, link=link)
        case RecordSupervision():
            ctx.actor.require(*_FOLLOWERS)
            check_id(cmd.supervision_id, "mã cuộc giám sát", "the supervision id")
            if cmd.supervision_id in state.supervisions:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.supervision_id)
            sup = Supervision(
                id=cmd.supervision_id,
                topic=_text(cmd.topic, MAX_TOPIC, "chủ đề giám sát", "the topic"),
                committee=_text(cmd.committee, MAX_NAME, "cơ quan giám sát", "the committee"),
                subjects=[
                    _text(s, MAX_NAME, "đối tượng giám sát", "a subject") for s in cmd.subjects[: MAX_PEOPLE + 1]
                ],
                concluded_on=cmd.concluded_on,
            )
            if not sup.subjects or len(sup.subjects) > MAX_PEOPLE:
                raise invalid(f"cần 1–{MAX_PEOPLE} đối tượng giám sát", f"1–{MAX_PEOPLE} subjects are needed")
            roles = frozenset(OFFICE | {Role.DELEGATE, Role.CHAIR})
            return [
                Routed(event=SupervisionRecorded(supervision=sup, stamp=_stamp(ctx)), audience=Audience(roles=roles))
            ]
        case AddConclusion():
            ctx.actor.require(*_FOLLOWERS)
            if cmd.supervision_id not in state.supervisions:
                raise DomainError(Code.UNKNOWN_SUPERVISION, id=cmd.supervision_id)
            text = _text(cmd.text, MAX_TEXT, "nội dung kết luận", "the conclusion")
            return _created(
                state, ctx, ItemKind.CONCLUSION, cmd.item_id, text, cmd.agency_id, cmd.due, sup=cmd.supervision_id
            )
        case ClassifyItem():
            ctx.actor.require(Role.SECRETARY)
            item = _item(state, cmd.item_id, ctx)
            _require_status(item, Status.RECEIVED, Status.CLASSIFIED)
            if cmd.field_id not in state.rules.field_ids():
                raise DomainError(Code.UNKNOWN_FIELD, id=cmd.field_id)
            if item.kind is ItemKind.PETITION and cmd.group is None:
                raise invalid(
                    "kiến nghị cần được xếp nhóm: cần hay không cần nguồn lực",
                    "a petition needs its group: needs resources or not",
                )
            ev = ItemClassified(item_id=item.id, field_id=cmd.field_id, group=cmd.group, stamp=_stamp(ctx, cmd.note))
            return _routed(state, item, ev)
        case MergePetitions():
            return _merge(state, cmd, ctx)
        case AssignItem():
            ctx.actor.require(Role.SECRETARY)
            item = _item(state, cmd.item_id, ctx)
            if item.kind is ItemKind.PETITION:
                _require_status(item, Status.CLASSIFIED, Status.ASSIGNED, Status.ANSWERED)
            else:
                _require_status(item, Status.RECEIVED, Status.CLASSIFIED, Status.ASSIGNED, Status.ANSWERED)
            _agency(state, cmd.agency_id)
            moving = item.agency_id is not None and item.agency_id != cmd.agency_id
            stamp = _stamp(ctx, cmd.note, need_note=moving)
            return _routed(state, item, _assigned(state, item, cmd.agency_id, cmd.due, ctx, stamp), cmd.agency_id)
        case AnswerItem():
            ctx.actor.require(Role.AGENCY, Role.SECRETARY)
            item = _item(state, cmd.item_id, ctx)
            _require_status(item, Status.ASSIGNED, Status.ANSWERED, Status.PARTLY_RESOLVED, Status.ROADMAP)
            if item.agency_id is None:  # an assigned item always has one; kept for mypy and for safety
                raise DomainError(
                    Code.WRONG_ITEM_STATE, id=item.id, state_vi=item.status.label_vi, state_en="unassigned"
                )
            doc = None if cmd.document_id is None else check_id(cmd.document_id, "mã tài liệu", "the document id")
            ev = ItemAnswered(
                item_id=item.id,
                agency_id=item.agency_id,
                text=_text(cmd.text, MAX_ANSWER, "nội dung trả lời", "the answer"),
                document_id=doc,
                stamp=_stamp(ctx),
            )
            return _routed(state, item, ev)
        case ConcludeItem():
            ctx.actor.require(*_FOLLOWERS)
            item = _item(state, cmd.item_id, ctx)
            if cmd.outcome not in OUTCOMES:
                raise invalid(
                    "kết quả phải là một trong: " + ", ".join(OUTCOMES), "the outcome must be one of the four"
                )
            _require_status(item, Status.ASSIGNED, Status.ANSWERED, Status.PARTLY_RESOLVED, Status.ROADMAP)
            if cmd.outcome is Status.ROADMAP and cmd.next_due is None:
                raise invalid("kiến nghị đưa vào lộ trình cần thời hạn của lộ trình", "a roadmap needs its date")
            if cmd.outcome in DONE and cmd.next_due is not None:
                raise invalid("kiến nghị đã kết thúc không có thời hạn mới", "a finished item takes no new date")
            next_due = None if cmd.next_due is None else _due(cmd.next_due, ctx)
            stamp = _stamp(ctx, cmd.note, need_note=True)
            return _routed(
                state, item, ItemConcluded(item_id=item.id, outcome=cmd.outcome, next_due=next_due, stamp=stamp)
            )
        case ReopenItem():
            return _reopen(state, cmd, ctx)
        case MarkOverdue():
            ctx.actor.require(Role.SECRETARY, Role.STANDING, Role.CHAIR)  # CHAIR: the server's clock (engine TIMER)
            item = _item(state, cmd.item_id, ctx, scoped=False)  # the clock is nobody: it sees every deadline
            if item.due is None or not is_overdue(item, ctx.now) or item.overdue_noted == item.due:
                raise DomainError(Code.NOT_OVERDUE, id=item.id, due=item.due.isoformat() if item.due else "—")
            return _routed(state, item, ItemOverdue(item_id=item.id, due=item.due, stamp=_stamp(ctx)))
        case RemindItem():
            ctx.actor.require(Role.SECRETARY, Role.STANDING, Role.CHAIR)  # CHAIR: the server's clock (engine TIMER)
            item = _item(state, cmd.item_id, ctx, scoped=False)
            if item.due is None or item.agency_id is None or not reminder_due(item, state.rules, ctx.now):
                raise DomainError(Code.NO_REMINDER_DUE, id=item.id, due=item.due.isoformat() if item.due else "—")
            event = ItemReminded(item_id=item.id, agency_id=item.agency_id, due=item.due, stamp=_stamp(ctx))
            return _routed(state, item, event)
    raise AssertionError(f"not a petitions command: {cmd!r}")


def _check_in_use(state: PetitionsState, rules: PetitionRules) -> None:
    fields, agencies = rules.field_ids(), {a.id for a in rules.agencies}
    for item in state.items.values():
        if item.field_id is not None and item.field_id not in fields:
            raise DomainError(Code.IN_USE, what_vi="Lĩnh vực", what_en="Field", id=item.field_id)
        used = [item.agency_id, *(a.agency_id for a in item.answers)]
        for a in used:
            if a is not None and a not in agencies:
                raise DomainError(Code.IN_USE, what_vi="Cơ quan", what_en="Agency", id=a)
    for a in state.officials.values():
        if a not in agencies:
            raise DomainError(Code.IN_USE, what_vi="Cơ quan", what_en="Agency", id=a)


def _record_meeting(state: PetitionsState, cmd: RecordVoterMeeting, ctx: Context) -> list[Routed]:
    if cmd.group_id not in state.groups:
        raise DomainError(Code.UNKNOWN_DELEGATE_GROUP, id=cmd.group_id)
    _require_group_entry(state, cmd.group_id, ctx)
    check_id(cmd.meeting_id, "mã buổi tiếp xúc", "the meeting id")
    if cmd.meeting_id in state.meetings:
        raise DomainError(Code.DUPLICATE_ID, id=cmd.meeting_id)
    if len(state.meetings) >= MAX_MEETINGS:
        raise invalid(f"sổ đã có {MAX_MEETINGS} buổi tiếp xúc", f"the register already holds {MAX_MEETINGS} meetings")
    if cmd.session_id:
        check_id(cmd.session_id, "mã kỳ họp", "the session id")
    elif cmd.timing is not MeetingTiming.THEMED:
        raise invalid("cần nêu kỳ họp mà buổi tiếp xúc đi trước hoặc sau", "name the session it comes before or after")
    if not 0 <= cmd.voters <= MAX_VOTERS:
        raise invalid(f"số cử tri phải từ 0 đến {MAX_VOTERS}", f"voters must be 0 to {MAX_VOTERS}")
    meeting = VoterMeeting(
        id=cmd.meeting_id,
        group_id=cmd.group_id,
        timing=cmd.timing,
        session_id=cmd.session_id,
        place=_text(cmd.place, MAX_NAME, "địa điểm", "the place"),
        held_on=_due(cmd.held_on, ctx),
        delegates_present=_ids(cmd.delegates_present, "đại biểu", "delegates present"),
        voters=cmd.voters,
        front_organiser=_text(cmd.front_organiser, MAX_NAME, "tổ chức Mặt trận", "the Front's body", empty=True),
    )
    g = state.groups[cmd.group_id]
    people = frozenset({*g.members, *meeting.delegates_present})
    ev = VoterMeetingRecorded(meeting=meeting, stamp=_stamp(ctx))
    return [Routed(event=ev, audience=Audience(roles=OFFICE, members=people))]


def _assigned(
    state: PetitionsState, item: TrackedItem, agency_id: str, due: date | None, ctx: Context, stamp: Stamp
) -> ItemAssigned:
    deadline = (
        _due(due, ctx) if due is not None else council_date(ctx.now) + timedelta(days=state.rules.days_for(item.group))
    )
    brief = Brief(
        kind=item.kind,
        text=item.text,
        area=item.area,
        field_id=item.field_id,
        group=item.group,
        link=item.link,
        supervision_id=item.supervision_id,
    )
    return ItemAssigned(item_id=item.id, agency_id=agency_id, due=deadline, brief=brief, stamp=stamp)


def _created(
    state: PetitionsState,
    ctx: Context,
    kind: ItemKind,
    item_id: str,
    text: str,
    agency_id: str | None,
    due: date | None,
    *,
    link: CommitmentLink | None = None,
    sup: str | None = None,
) -> list[Routed]:
    """A commitment or a conclusion: received, and assigned at once when it already names its agency."""
    _new_item_id(state, item_id)
    if agency_id is not None:
        _agency(state, agency_id)
    elif due is not None:
        raise invalid("thời hạn đi kèm cơ quan thực hiện", "a deadline needs the agency")
    stamp = _stamp(ctx)
    received = ItemReceived(item_id=item_id, kind=kind, text=text, link=link, supervision_id=sup, stamp=stamp)
    item = _new(received)
    out = _routed(state, item, received)
    if agency_id is not None:
        out += _routed(state, item, _assigned(state, item, agency_id, due, ctx, stamp), agency_id)
    return out


_CARRIED = re.compile(r"petitions:[A-Za-z0-9._-]{1,100}:[A-Za-z0-9._-]{1,100}#[A-Za-z0-9._-]{1,100}")


def _carry(state: PetitionsState, cmd: CarryItem, ctx: Context) -> list[Routed]:
    """An open item of an earlier term: received again here (classified when its field is still on the list)."""
    ctx.actor.require(Role.SECRETARY)
    _new_item_id(state, cmd.item_id)
    if not _CARRIED.fullmatch(cmd.carried_from):
        raise invalid("liên kết mục của nhiệm kỳ trước không hợp lệ", "the link to the earlier term's item is invalid")
    if cmd.field_id is not None and cmd.field_id not in state.rules.field_ids():
        raise DomainError(Code.UNKNOWN_FIELD, id=cmd.field_id)
    if cmd.kind is ItemKind.PETITION and cmd.field_id is not None and cmd.group is None:
        raise invalid("kiến nghị cần nhóm (cần hay không cần nguồn lực)", "a petition needs its group")
    stamp = _stamp(ctx)
    received = ItemReceived(
        item_id=cmd.item_id,
        kind=cmd.kind,
        text=_text(cmd.text, MAX_TEXT, "nội dung", "the text"),
        area=_text(cmd.area, MAX_NAME, "địa bàn", "the area", empty=True),
        carried_from=cmd.carried_from,
        stamp=stamp,
    )
    item = _new(received)
    out = _routed(state, item, received)
    if cmd.field_id is not None:
        group = cmd.group if cmd.kind is ItemKind.PETITION else None
        out += _routed(state, item, ItemClassified(item_id=item.id, field_id=cmd.field_id, group=group, stamp=stamp))
    return out


def _merge(state: PetitionsState, cmd: MergePetitions, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.SECRETARY)
    keep, dup = _item(state, cmd.item_id, ctx), _item(state, cmd.duplicate_id, ctx)
    if keep.id == dup.id:
        raise invalid("không thể gộp kiến nghị vào chính nó", "a petition cannot be merged into itself")
    if keep.kind is not ItemKind.PETITION or dup.kind is not ItemKind.PETITION:
        raise invalid("chỉ gộp được các kiến nghị cử tri", "only voters' petitions are merged")
    _require_status(dup, *(s for s in Status if s is not Status.MERGED))
    _require_status(keep, *(s for s in Status if s is not Status.MERGED))
    if len(keep.meeting_ids() | dup.meeting_ids()) > MAX_SOURCES:
        raise invalid(f"tối đa {MAX_SOURCES} nguồn", f"at most {MAX_SOURCES} sources")
    stamp = _stamp(ctx, cmd.note)
    audience = _audience(state, keep, dup.agency_id)
    audience = msgspec.structs.replace(audience, members=audience.members | _audience(state, dup).members)
    out = [Routed(event=PetitionsMerged(item_id=keep.id, duplicate_id=dup.id, stamp=stamp), audience=audience)]
    if keep.status in DONE:  # voters raised a finished petition again: it is reopened (issue 14 §1)
        reason = stamp.note or f"cử tri tiếp tục kiến nghị (gộp {dup.id})"
        reopen = ItemReopened(item_id=keep.id, stamp=msgspec.structs.replace(stamp, note=reason))
        out.append(Routed(event=reopen, audience=audience))
    return out


def _reopen(state: PetitionsState, cmd: ReopenItem, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.SECRETARY, Role.STANDING, Role.FRONT)
    item = _item(state, cmd.item_id, ctx)
    _require_status(item, *OUTCOMES)
    source = None
    if cmd.meeting_id is not None:
        if item.kind is not ItemKind.PETITION:
            raise invalid("chỉ kiến nghị cử tri mới có buổi tiếp xúc", "only a petition comes from a meeting")
        m = _meeting(state, cmd.meeting_id)
        source = Source(meeting_id=m.id, petitioner=_text(cmd.petitioner, MAX_NAME, "họ tên", "the name", empty=True))
        if len(item.sources) >= MAX_SOURCES:
            raise invalid(f"tối đa {MAX_SOURCES} nguồn", f"at most {MAX_SOURCES} sources")
    return _reopened(state, item, source, _stamp(ctx, cmd.note, need_note=True))


def _reopened(state: PetitionsState, item: TrackedItem, source: Source | None, stamp: Stamp) -> list[Routed]:
    """The new source (with the voter's name) goes only to the office and the delegates of the item's meetings; the
    reopening itself also to the agency it is taken from."""
    audience = _audience(state, item)
    out = []
    if source is not None:
        people = state.delegates_of(item) | state.meeting_people(source.meeting_id)
        audience = msgspec.structs.replace(audience, members=audience.members | people)
        added = SourceAdded(item_id=item.id, source=source, stamp=stamp)
        out.append(Routed(event=added, audience=Audience(roles=audience.roles, members=frozenset(people))))
    return [*out, Routed(event=ItemReopened(item_id=item.id, stamp=stamp), audience=audience)]


# --- apply
def _new(ev: ItemReceived) -> TrackedItem:
    return TrackedItem(
        id=ev.item_id,
        kind=ev.kind,
        text=ev.text,
        status=Status.RECEIVED,
        created_at=ev.stamp.at,
        area=ev.area,
        sources=[ev.source] if ev.source is not None else [],
        link=ev.link,
        supervision_id=ev.supervision_id,
        carried_from=ev.carried_from,
        history=[Transition(status=Status.RECEIVED, previous=None, stamp=ev.stamp)],
    )


def _move(item: TrackedItem, status: Status, stamp: Stamp) -> None:
    item.history.append(Transition(status=status, previous=item.status, stamp=stamp))
    item.status = status


def apply(state: PetitionsState | None, event: Event) -> PetitionsState:
    if isinstance(event, PetitionsOpened):
        return PetitionsState(council_id=event.council_id, term_id=event.term_id, rules=event.rules)
    if state is None:
        raise AssertionError("the first event of a petitions register must be PetitionsOpened")
    match event:
        case PetitionRulesChanged():
            state.rules = event.rules
        case DelegateGroupSet():
            state.groups[event.group.id] = event.group
        case OfficialAppointed():
            state.officials[event.person_id] = event.agency_id
        case OfficialDismissed():
            state.officials.pop(event.person_id, None)
        case VoterMeetingRecorded():
            state.meetings[event.meeting.id] = event.meeting
        case ItemReceived():
            state.items[event.item_id] = _new(event)
        case SupervisionRecorded():
            state.supervisions[event.supervision.id] = event.supervision
        case ItemClassified():
            item = state.items[event.item_id]
            item.field_id, item.group = event.field_id, event.group
            _move(item, Status.CLASSIFIED, event.stamp)
        case PetitionsMerged():
            keep, dup = state.items[event.item_id], state.items[event.duplicate_id]
            seen = {s.meeting_id for s in keep.sources}
            keep.sources += [s for s in dup.sources if s.meeting_id not in seen]
            keep.merged_from.append(dup.id)
            keep.history.append(Transition(status=keep.status, previous=keep.status, stamp=event.stamp))
            dup.merged_into = keep.id
            _move(dup, Status.MERGED, event.stamp)
        case ItemAssigned():
            item = state.items[event.item_id]
            item.agency_id, item.due = event.agency_id, event.due
            _move(item, Status.ASSIGNED, event.stamp)
        case ItemAnswered():
            item = state.items[event.item_id]
            item.answers.append(
                Answer(agency_id=event.agency_id, text=event.text, document_id=event.document_id, stamp=event.stamp)
            )
            _move(item, Status.ANSWERED, event.stamp)
        case ItemConcluded():
            item = state.items[event.item_id]
            if event.next_due is not None:
                item.due = event.next_due
            _move(item, event.outcome, event.stamp)
        case SourceAdded():
            item = state.items[event.item_id]
            if event.source.meeting_id not in item.meeting_ids():
                item.sources.append(event.source)
        case ItemReopened():
            item = state.items[event.item_id]
            item.agency_id, item.due, item.reopened = None, None, item.reopened + 1
            _move(item, Status.CLASSIFIED if item.field_id is not None else Status.RECEIVED, event.stamp)
        case ItemOverdue():
            state.items[event.item_id].overdue_noted = event.due
        case ItemReminded():
            state.items[event.item_id].reminded_for = event.due
        case _:
            raise AssertionError(f"not a petitions event: {event!r}")
    return state


def execute(state: PetitionsState | None, cmd: Command, ctx: Context) -> tuple[PetitionsState, list[Routed]]:
    return aggregate.execute(decide, apply, state, cmd, ctx)


def replay(events: Iterable[Event]) -> PetitionsState:
    return aggregate.replay(apply, events)
