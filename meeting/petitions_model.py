"""Between sessions: the structs of a council's petitions register and the queries over it (issue 14 §1).

One register (*sổ theo dõi*) per council per term holds the voter meetings (*tiếp xúc cử tri*), the voters'
petitions (*kiến nghị cử tri*), the questioning commitments (*cam kết*) and the supervision conclusions (*kết luận
giám sát*) the council follows up. The three are one `TrackedItem` with a `kind`, driven by one lifecycle:

    received → classified → assigned → answered → resolved | partly resolved | roadmap | not resolved

(plus `merged` for a duplicate folded into another petition). Overdue is not a status: it is a question asked
with a time (`is_overdue`), so an item is in exactly one status whatever the clock says.

Why per term: a province holds hundreds of voter meetings and several thousand petitions a year; over a five-year
term that is ~2 500 meetings and ~15 000 items with ~6 events each (~100 000 events), which folds in memory in
about a second and fits the stream-per-aggregate engine (docs/PETITIONS.md has the measurement). A national host
has thousands of councils, each with its own small stream, never one big one. A new term is a new council
(new delegates, new groups), so a new register; what is still open is carried over by the secretariat.

Everything here is pure: the commands and events are in `meeting/petitions.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import msgspec

from meeting.actors import Actor, Role
from meeting.resolutions import COUNCIL_TZ
from meeting.rules import Level

# Roles that follow every item of the council: the secretariat classifies, merges and assigns; the Standing
# Committee and the committees (các Ban) follow up and conclude; the Front (Ủy ban MTTQ) co-organises every voter
# meeting and presents the summary report at the session.
OFFICE = frozenset({Role.ADMIN, Role.SECRETARY, Role.STANDING, Role.FRONT})


class ItemKind(StrEnum):
    PETITION = "petition"  # kiến nghị cử tri
    COMMITMENT = "commitment"  # cam kết khi trả lời chất vấn
    CONCLUSION = "conclusion"  # kết luận giám sát


class Status(StrEnum):
    RECEIVED = "received"
    CLASSIFIED = "classified"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    PARTLY_RESOLVED = "partly_resolved"
    ROADMAP = "roadmap"
    NOT_RESOLVED = "not_resolved"
    MERGED = "merged"

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    Status.RECEIVED: "đã tiếp nhận",
    Status.CLASSIFIED: "đã phân loại",
    Status.ASSIGNED: "đã chuyển cơ quan giải quyết",
    Status.ANSWERED: "đã trả lời",
    Status.RESOLVED: "đã giải quyết",
    Status.PARTLY_RESOLVED: "giải quyết một phần",
    Status.ROADMAP: "đưa vào kế hoạch, lộ trình",
    Status.NOT_RESOLVED: "không giải quyết được",
    Status.MERGED: "đã gộp vào kiến nghị khác",
}

OUTCOMES = (Status.RESOLVED, Status.PARTLY_RESOLVED, Status.ROADMAP, Status.NOT_RESOLVED)
# Done: the clock stops and only a reopening brings the item back.
DONE = (Status.RESOLVED, Status.NOT_RESOLVED, Status.MERGED)
# An answer does not stop the clock, only an outcome does (or a new date: partly resolved, roadmap).
RUNNING = (Status.ASSIGNED, Status.ANSWERED, Status.PARTLY_RESOLVED, Status.ROADMAP)


class ResourceGroup(StrEnum):
    """The split of seed 004: what needs no resources must be resolved; what needs resources gets a plan."""

    NO_RESOURCES = "no_resources"  # không cần nguồn lực: phải giải quyết dứt điểm, có thời hạn
    NEEDS_RESOURCES = "needs_resources"  # cần nguồn lực: UBND xây dựng kế hoạch, lộ trình


class AgencyLevel(StrEnum):
    CENTRAL = "central"  # cơ quan trung ương (HĐND chuyển đến)
    PROVINCE = "province"  # UBND tỉnh, các sở, ngành
    COMMUNE = "commune"  # UBND xã, phường, đặc khu
    COURT = "court"  # Tòa án nhân dân
    PROCURACY = "procuracy"  # Viện kiểm sát nhân dân
    OTHER = "other"  # đơn vị khác (điện lực, cấp nước...)


class MeetingTiming(StrEnum):
    BEFORE = "before"  # trước kỳ họp
    AFTER = "after"  # sau kỳ họp
    THEMED = "themed"  # tiếp xúc cử tri chuyên đề


class Field(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str  # "Đất đai"


class Agency(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    level: AgencyLevel
    email: str = ""  # where the server tells the agency of a new assignment (server/notify.py); "" for none


def _fields(*pairs: tuple[str, str]) -> list[Field]:
    return [Field(id=i, name=n) for i, n in pairs]


DEFAULT_FIELDS = _fields(
    ("dat-dai", "Đất đai"),
    ("giao-thong", "Giao thông"),
    ("y-te", "Y tế"),
    ("giao-duc", "Giáo dục"),
    ("chinh-sach-xa-hoi", "Chính sách xã hội"),
    ("moi-truong", "Môi trường"),
    ("nong-nghiep", "Nông nghiệp"),
    ("dien-nuoc", "Điện, nước sinh hoạt"),
    ("an-ninh-trat-tu", "An ninh, trật tự"),
    ("khac", "Lĩnh vực khác"),
)

# Departments as reorganised in 2025 (e.g. Nông nghiệp và Môi trường); a council edits the list to its own.
_PROVINCE_AGENCIES = [
    Agency(id="ubnd-tinh", name="Ủy ban nhân dân tỉnh", level=AgencyLevel.PROVINCE),
    Agency(id="so-nnmt", name="Sở Nông nghiệp và Môi trường", level=AgencyLevel.PROVINCE),
    Agency(id="so-xd", name="Sở Xây dựng", level=AgencyLevel.PROVINCE),
    Agency(id="so-yt", name="Sở Y tế", level=AgencyLevel.PROVINCE),
    Agency(id="so-gddt", name="Sở Giáo dục và Đào tạo", level=AgencyLevel.PROVINCE),
    Agency(id="so-nv", name="Sở Nội vụ", level=AgencyLevel.PROVINCE),
    Agency(id="so-tc", name="Sở Tài chính", level=AgencyLevel.PROVINCE),
    Agency(id="ubnd-xa", name="Ủy ban nhân dân cấp xã", level=AgencyLevel.COMMUNE),
    Agency(id="tand", name="Tòa án nhân dân tỉnh", level=AgencyLevel.COURT),
    Agency(id="vksnd", name="Viện kiểm sát nhân dân tỉnh", level=AgencyLevel.PROCURACY),
    Agency(id="trung-uong", name="Các cơ quan trung ương", level=AgencyLevel.CENTRAL),
]
_COMMUNE_AGENCIES = [
    Agency(id="ubnd-xa", name="Ủy ban nhân dân xã", level=AgencyLevel.COMMUNE),
    Agency(id="ubnd-tinh", name="Ủy ban nhân dân tỉnh", level=AgencyLevel.PROVINCE),
    Agency(id="khac", name="Cơ quan, đơn vị khác", level=AgencyLevel.OTHER),
]


class PetitionRules(msgspec.Struct, frozen=True, kw_only=True):
    """Every list and number of the register, per council (defaults are practice, not law: each council sets its
    own in its regulation on voter petitions)."""

    fields: list[Field] = msgspec.field(default_factory=lambda: list(DEFAULT_FIELDS))
    agencies: list[Agency] = msgspec.field(default_factory=lambda: list(_PROVINCE_AGENCIES))
    # Days from assignment to the deadline, on the council's calendar: to resolve (no resources needed), to
    # present a plan and roadmap (resources needed), and for commitments and conclusions given no date.
    no_resources_days: int = 30
    needs_resources_days: int = 90
    other_days: int = 60
    # Days before a deadline the agency is reminded by e-mail while it has not answered (0: no reminder). A week
    # leaves an agency's usual internal round (draft, sign-off by its head) time to finish.
    remind_days: int = 7

    def field_ids(self) -> set[str]:
        return {f.id for f in self.fields}

    def agency(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def days_for(self, group: ResourceGroup | None) -> int:
        if group is ResourceGroup.NO_RESOURCES:
            return self.no_resources_days
        if group is ResourceGroup.NEEDS_RESOURCES:
            return self.needs_resources_days
        return self.other_days


def default_rules(level: Level) -> PetitionRules:
    if level is Level.COMMUNE:
        return PetitionRules(agencies=list(_COMMUNE_AGENCIES))
    return PetitionRules()


class DelegateGroup(msgspec.Struct, frozen=True, kw_only=True):
    """A Tổ đại biểu: the delegates elected in one constituency, who meet its voters together."""

    id: str
    name: str
    members: list[str]  # person ids (delegate ids)


class VoterMeeting(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    group_id: str
    timing: MeetingTiming
    session_id: str  # the session it comes before or after ("" for a themed meeting between sessions)
    place: str  # commune or ward
    held_on: date
    delegates_present: list[str]
    voters: int  # số cử tri tham dự
    front_organiser: str  # the Front's committee that co-organised it ("Ủy ban MTTQ xã ...")


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """Where a petition was raised. `petitioner` is a voter's personal data: never sent to agencies or the
    public (see `for_viewer`)."""

    meeting_id: str
    petitioner: str = ""


class CommitmentLink(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    question_id: str
    respondent_id: str


class Supervision(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    topic: str
    committee: str  # "Ban Kinh tế - Ngân sách", "Thường trực HĐND"
    subjects: list[str]  # the bodies supervised
    concluded_on: date


class Stamp(msgspec.Struct, frozen=True, kw_only=True):
    """Who did it, when, and why: carried by every lifecycle event."""

    at: datetime
    by: str | None  # the actor's person id
    roles: list[Role]
    note: str = ""


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    status: Status
    previous: Status | None
    stamp: Stamp


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    agency_id: str
    text: str
    document_id: str | None
    stamp: Stamp


class TrackedItem(msgspec.Struct, kw_only=True):
    id: str
    kind: ItemKind
    text: str
    status: Status
    created_at: datetime
    area: str = ""  # the voters' area (thôn, tổ dân phố, xã)
    sources: list[Source] = msgspec.field(default_factory=list)
    link: CommitmentLink | None = None
    supervision_id: str | None = None
    field_id: str | None = None
    group: ResourceGroup | None = None
    agency_id: str | None = None
    due: date | None = None
    answers: list[Answer] = msgspec.field(default_factory=list)
    merged_into: str | None = None
    merged_from: list[str] = msgspec.field(default_factory=list)
    reopened: int = 0
    overdue_noted: date | None = None  # the deadline whose passing the server's clock reported
    reminded_for: date | None = None  # the deadline the agency was last reminded of
    carried_from: str = ""  # "petitions:<council>:<earlier term>#<item>" when carried over from a term
    history: list[Transition] = msgspec.field(default_factory=list)

    def meeting_ids(self) -> set[str]:
        return {s.meeting_id for s in self.sources}


class PetitionsState(msgspec.Struct, kw_only=True):
    council_id: str
    term_id: str
    rules: PetitionRules
    groups: dict[str, DelegateGroup] = msgspec.field(default_factory=dict)
    officials: dict[str, str] = msgspec.field(default_factory=dict)  # person id → agency id
    meetings: dict[str, VoterMeeting] = msgspec.field(default_factory=dict)
    items: dict[str, TrackedItem] = msgspec.field(default_factory=dict)
    supervisions: dict[str, Supervision] = msgspec.field(default_factory=dict)

    # --- who is concerned by what
    def meeting_people(self, meeting_id: str) -> set[str]:
        """The group's members and the delegates present: the delegates who report back to these voters."""
        m = self.meetings[meeting_id]
        g = self.groups.get(m.group_id)
        return {*(g.members if g else ()), *m.delegates_present}

    def officials_of(self, agency_id: str | None) -> set[str]:
        if agency_id is None:
            return set()
        return {p for p, a in self.officials.items() if a == agency_id}

    def delegates_of(self, item: TrackedItem) -> set[str]:
        people: set[str] = set()
        for mid in item.meeting_ids():
            people |= self.meeting_people(mid)
        return people


# --- queries (the later list, dashboard and public pages read these; nothing here changes state)
def council_date(now: datetime) -> date:
    """Today on the council's calendar (UTC+7); naive times are UTC."""
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return aware.astimezone(COUNCIL_TZ).date()


def is_overdue(item: TrackedItem, now: datetime) -> bool:
    """Past its deadline without an outcome: a deadline of 10 June is met all through 10 June in Vietnam and
    missed from 00:00 on 11 June UTC+7 (17:00 UTC on 10 June)."""
    return item.due is not None and item.status in RUNNING and council_date(now) > item.due


def overdue_unreported(state: PetitionsState, now: datetime) -> list[str]:
    """The items whose deadline passed and whose passing no `ItemOverdue` records yet: what a clock submits."""
    return [i.id for i in state.items.values() if is_overdue(i, now) and i.overdue_noted != i.due]


# Waiting for the agency to act by the deadline: assigned and not answered, or given a new date by an outcome.
AWAITING = (Status.ASSIGNED, Status.PARTLY_RESOLVED, Status.ROADMAP)


def reminder_due(item: TrackedItem, rules: PetitionRules, now: datetime) -> bool:
    """The agency should be reminded now: within `remind_days` of the deadline (the deadline day included), not
    yet past it, still waiting for the agency, and not reminded of this deadline before."""
    if rules.remind_days <= 0 or item.due is None or item.status not in AWAITING or item.reminded_for == item.due:
        return False
    today = council_date(now)
    return item.due - timedelta(days=rules.remind_days) <= today <= item.due


def reminders_unsent(state: PetitionsState, now: datetime) -> list[str]:
    """The items whose agency a clock should remind now (`remind_item`)."""
    return [i.id for i in state.items.values() if reminder_due(i, state.rules, now)]


def may_see(state: PetitionsState, item: TrackedItem, actor: Actor) -> bool:
    """The scope of each role: the office sees everything; an agency official only what is assigned to their
    agency now; a delegate the petitions from their own group's or their own meetings, and every commitment and
    conclusion (outcomes of the council's own sittings)."""
    if not actor.roles.isdisjoint(OFFICE):
        return True
    pid = actor.person_id
    if pid is None:
        return False
    if Role.AGENCY in actor.roles and item.agency_id is not None and state.officials.get(pid) == item.agency_id:
        return True
    if actor.has(Role.DELEGATE, Role.CHAIR):
        if item.kind is not ItemKind.PETITION:
            return True
        return pid in state.delegates_of(item)
    return False


def for_viewer(state: PetitionsState, item: TrackedItem, actor: Actor) -> TrackedItem:
    """The item as `actor` may read it: without voters' names unless the office or a delegate of its meetings."""
    if not actor.roles.isdisjoint(OFFICE) or (actor.person_id and actor.person_id in state.delegates_of(item)):
        return item
    return msgspec.structs.replace(item, sources=[msgspec.structs.replace(s, petitioner="") for s in item.sources])


class Filter(msgspec.Struct, frozen=True, kw_only=True):
    kind: ItemKind | None = None
    field_id: str | None = None
    agency_id: str | None = None
    status: Status | None = None
    group: ResourceGroup | None = None
    meeting_id: str | None = None
    overdue_at: datetime | None = None  # only items overdue at this time


ALL = Filter()


def select(state: PetitionsState, actor: Actor, f: Filter = ALL) -> Iterator[TrackedItem]:
    """The items `actor` may see that match `f`, in id order, as `actor` may read them."""
    for item_id in sorted(state.items):
        item = state.items[item_id]
        if f.kind is not None and item.kind is not f.kind:
            continue
        if f.field_id is not None and item.field_id != f.field_id:
            continue
        if f.agency_id is not None and item.agency_id != f.agency_id:
            continue
        if f.status is not None and item.status is not f.status:
            continue
        if f.group is not None and item.group is not f.group:
            continue
        if f.meeting_id is not None and f.meeting_id not in item.meeting_ids():
            continue
        if f.overdue_at is not None and not is_overdue(item, f.overdue_at):
            continue
        if may_see(state, item, actor):
            yield for_viewer(state, item, actor)


def counts(items: Iterable[TrackedItem], by: str) -> dict[str, dict[str, int]]:
    """Counts by `by` ("field_id", "agency_id" or "kind") and status, merged duplicates left out: the table of the
    Front's summary report and the public page (numbers only, nothing about any voter)."""
    out: dict[str, dict[str, int]] = {}
    for item in items:
        if item.status is Status.MERGED:
            continue
        key = str(getattr(item, by) or "")
        row = out.setdefault(key, {})
        row[item.status.value] = row.get(item.status.value, 0) + 1
    return out
