"""The petitions register at its boundaries (issue 14 §1): the deadline day on the council's calendar, merging
duplicates, reopening, and who sees what — an agency only its own, a delegate only their own meetings'.

Plus one test through the engine on both databases: a petitions command commits, is audited, and replays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from meeting import petitions as pet
from meeting import petitions_messages as m
from meeting.actors import Actor, Context, Role
from meeting.errors import Code, DomainError
from meeting.messages import Command, Routed
from meeting.petitions_model import (
    Filter,
    ItemKind,
    MeetingTiming,
    PetitionsState,
    ResourceGroup,
    Status,
    counts,
    is_overdue,
    overdue_unreported,
    select,
)
from server.audit import verify
from server.database import Database
from server.engine import Engine
from tests.factory import Who

T0 = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)  # 09:00 on 5 January 2027 in Vietnam

SECRETARY = Actor(roles=frozenset({Role.SECRETARY}), person_id="vp01")
STANDING = Actor(roles=frozenset({Role.STANDING}), person_id="tt01")
FRONT = Actor(roles=frozenset({Role.FRONT}), person_id="mt01")
PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))
CLOCK = Actor(roles=frozenset({Role.CHAIR}))  # the engine's timer acts with the chair's authority
HEALTH = Actor(roles=frozenset({Role.AGENCY}), person_id="cb-yte")  # an official of Sở Y tế
BUILDING = Actor(roles=frozenset({Role.AGENCY}), person_id="cb-xd")  # an official of Sở Xây dựng


def delegate(i: int) -> Actor:
    return Actor(roles=frozenset({Role.DELEGATE}), person_id=f"d{i:03d}")


class Register:
    """A register under test: `accept` runs a command at the clock's time, `refuse` checks nothing changed."""

    def __init__(self) -> None:
        self.now = T0
        self.log: list[Routed] = []
        self.state: PetitionsState | None = None
        self.accept(m.OpenPetitions(council_id="hdnd-demo", term_id="2026-2031"), SECRETARY)

    @property
    def s(self) -> PetitionsState:
        assert self.state is not None
        return self.state

    def ctx(self, actor: Actor) -> Context:
        return Context(actor=actor, now=self.now)

    def accept(self, cmd: Command, actor: Actor) -> list[Routed]:
        self.state, routed = pet.execute(self.state, cmd, self.ctx(actor))
        self.log.extend(routed)
        return routed

    def refuse(self, cmd: Command, actor: Actor, code: Code) -> DomainError:
        before = msgspec.json.encode(self.state)
        try:
            pet.decide(self.state, cmd, self.ctx(actor))
        except DomainError as e:
            assert e.code == code, (e.code, code, e.refusal.message_en)
            assert e.refusal.message_vi and e.refusal.message_en
            assert msgspec.json.encode(self.state) == before
            return e
        raise AssertionError(f"{cmd!r} was accepted, expected {code}")

    def seen_by(self, actor: Actor) -> list[str]:
        return [i.id for i in select(self.s, actor)]

    def events_for(self, actor: Actor) -> list[str]:
        return [type(r.event).__name__ for r in self.log if r.audience.admits(actor)]


def setup() -> Register:
    """Two delegate groups, two agencies with one official each, a meeting per group and one petition each."""
    r = Register()
    r.accept(m.SetDelegateGroup(group_id="to-1", name="Tổ đại biểu số 1", members=["d001", "d002"]), SECRETARY)
    r.accept(m.SetDelegateGroup(group_id="to-2", name="Tổ đại biểu số 2", members=["d003"]), SECRETARY)
    r.accept(m.AppointOfficial(person_id="cb-yte", agency_id="so-yt"), SECRETARY)
    r.accept(m.AppointOfficial(person_id="cb-xd", agency_id="so-xd"), SECRETARY)
    meeting(r, "txct-1", "to-1", delegate(1), present=["d001", "d002"])
    meeting(r, "txct-2", "to-2", delegate(3), present=["d003"])
    petition(
        r, "kn-1", "txct-1", "Đề nghị sửa chữa đường liên xã bị sạt lở", delegate(1), petitioner="Ông Nguyễn Văn Tư"
    )
    petition(r, "kn-2", "txct-2", "Trạm y tế xã thiếu thuốc bảo hiểm y tế", delegate(3))
    return r


def meeting(r: Register, mid: str, group: str, actor: Actor, present: list[str]) -> None:
    cmd = m.RecordVoterMeeting(
        meeting_id=mid,
        group_id=group,
        timing=MeetingTiming.BEFORE,
        session_id="ky-hop-5",
        place="Xã Phú Lộc",
        held_on=date(2027, 1, 4),
        delegates_present=present,
        voters=120,
        front_organiser="Ủy ban MTTQ Việt Nam xã Phú Lộc",
    )
    r.accept(cmd, actor)


def petition(r: Register, pid: str, mid: str, text: str, actor: Actor, petitioner: str = "") -> None:
    r.accept(m.RecordPetition(petition_id=pid, meeting_id=mid, text=text, area="Thôn 3", petitioner=petitioner), actor)


def assigned(r: Register, pid: str, agency: str, group: ResourceGroup = ResourceGroup.NO_RESOURCES) -> None:
    field = "giao-thong" if agency == "so-xd" else "y-te"
    r.accept(m.ClassifyItem(item_id=pid, field_id=field, group=group), SECRETARY)
    r.accept(m.AssignItem(item_id=pid, agency_id=agency), SECRETARY)


def resolved(r: Register, pid: str, agency_actor: Actor) -> None:
    r.accept(m.AnswerItem(item_id=pid, text="Đã sửa chữa xong tháng 3/2027.", document_id="tl-0042"), agency_actor)
    r.accept(m.ConcludeItem(item_id=pid, outcome=Status.RESOLVED, note="Ban Kinh tế đã kiểm tra thực tế"), STANDING)


# --- the deadline day -----------------------------------------------------------------------------------------
def test_default_deadline_counts_days_on_the_council_calendar() -> None:
    r = setup()
    r.now = datetime(2027, 1, 5, 17, 30, tzinfo=UTC)  # 00:30 on 6 January in Vietnam, still 5 January in UTC
    assigned(r, "kn-1", "so-xd")  # no resources needed: 30 days by default
    assert r.s.items["kn-1"].due == date(2027, 2, 5)
    assigned(r, "kn-2", "so-yt", ResourceGroup.NEEDS_RESOURCES)  # a plan and roadmap: 90 days by default
    assert r.s.items["kn-2"].due == date(2027, 4, 6)


def test_overdue_exactly_after_the_deadline_day_in_vietnam() -> None:
    r = setup()
    assigned(r, "kn-1", "so-xd")
    due = r.s.items["kn-1"].due
    assert due == date(2027, 2, 4)
    last_moment = datetime(2027, 2, 4, 16, 59, 59, 999999, tzinfo=UTC)  # 23:59:59.999999 on 4 February, UTC+7
    first_late = datetime(2027, 2, 4, 17, 0, tzinfo=UTC)  # 00:00 on 5 February, UTC+7
    assert not is_overdue(r.s.items["kn-1"], last_moment)
    assert is_overdue(r.s.items["kn-1"], first_late)
    assert [i.id for i in select(r.s, STANDING, Filter(overdue_at=first_late))] == ["kn-1"]
    assert overdue_unreported(r.s, last_moment) == [] and overdue_unreported(r.s, first_late) == ["kn-1"]

    # The server's clock records it once, not before the day is over, and not twice.
    r.now = last_moment
    r.refuse(m.MarkOverdue(item_id="kn-1"), CLOCK, Code.NOT_OVERDUE)
    r.now = first_late
    r.accept(m.MarkOverdue(item_id="kn-1"), CLOCK)
    assert r.s.items["kn-1"].overdue_noted == due and r.s.items["kn-1"].status is Status.ASSIGNED
    assert overdue_unreported(r.s, first_late) == []
    r.refuse(m.MarkOverdue(item_id="kn-1"), CLOCK, Code.NOT_OVERDUE)
    r.refuse(m.MarkOverdue(item_id="kn-1"), delegate(1), Code.FORBIDDEN)

    # An answer does not stop the clock; an outcome does, and a roadmap sets a new date.
    r.accept(m.AnswerItem(item_id="kn-1", text="Đang lập dự toán sửa chữa."), BUILDING)
    assert is_overdue(r.s.items["kn-1"], first_late)
    r.refuse(m.ConcludeItem(item_id="kn-1", outcome=Status.ROADMAP, note="Cần vốn"), STANDING, Code.INVALID)
    roadmap = m.ConcludeItem(item_id="kn-1", outcome=Status.ROADMAP, note="Cần vốn", next_due=date(2027, 12, 31))
    r.accept(roadmap, STANDING)
    assert not is_overdue(r.s.items["kn-1"], first_late)
    assert is_overdue(r.s.items["kn-1"], datetime(2027, 12, 31, 17, 0, tzinfo=UTC))
    r.accept(m.AnswerItem(item_id="kn-1", text="Đã hoàn thành."), BUILDING)
    r.accept(m.ConcludeItem(item_id="kn-1", outcome=Status.RESOLVED, note="Đã kiểm tra"), STANDING)
    assert not is_overdue(r.s.items["kn-1"], datetime(2030, 1, 1, tzinfo=UTC))


# --- merging duplicates ---------------------------------------------------------------------------------------
def test_merged_petitions_keep_every_source() -> None:
    r = setup()
    meeting(r, "txct-3", "to-2", SECRETARY, present=["d003"])
    petition(r, "kn-3", "txct-3", "Sửa đường liên xã sạt lở (cử tri thôn 5)", SECRETARY, petitioner="Bà Lê Thị Năm")
    r.accept(m.MergePetitions(item_id="kn-2", duplicate_id="kn-3", note="Cùng nội dung"), SECRETARY)
    r.accept(m.MergePetitions(item_id="kn-1", duplicate_id="kn-2"), SECRETARY)
    kept = r.s.items["kn-1"]
    assert kept.meeting_ids() == {"txct-1", "txct-2", "txct-3"}
    assert {s.petitioner for s in kept.sources} == {"Ông Nguyễn Văn Tư", "", "Bà Lê Thị Năm"}
    assert kept.merged_from == ["kn-2"] and r.s.items["kn-2"].merged_from == ["kn-3"]
    assert [(r.s.items[i].status, r.s.items[i].merged_into) for i in ("kn-2", "kn-3")] == [
        (Status.MERGED, "kn-1"),
        (Status.MERGED, "kn-2"),
    ]
    # Every group whose voters raised it now follows the one petition; counts leave the duplicates out.
    assert "kn-1" in r.seen_by(delegate(3))
    assert counts(r.s.items.values(), "kind") == {"petition": {"received": 1}}

    r.refuse(m.MergePetitions(item_id="kn-2", duplicate_id="kn-1"), SECRETARY, Code.WRONG_ITEM_STATE)
    r.refuse(m.MergePetitions(item_id="kn-1", duplicate_id="kn-1"), SECRETARY, Code.INVALID)
    r.refuse(m.MergePetitions(item_id="kn-1", duplicate_id="kn-9"), SECRETARY, Code.UNKNOWN_TRACKED_ITEM)
    r.refuse(m.MergePetitions(item_id="kn-1", duplicate_id="kn-2"), STANDING, Code.FORBIDDEN)
    assert pet.replay(x.event for x in r.log) == r.s


def test_merging_into_a_resolved_petition_reopens_it() -> None:
    r = setup()
    assigned(r, "kn-1", "so-xd")
    resolved(r, "kn-1", BUILDING)
    r.accept(m.MergePetitions(item_id="kn-1", duplicate_id="kn-2"), SECRETARY)
    kn1 = r.s.items["kn-1"]
    assert kn1.status is Status.CLASSIFIED and kn1.reopened == 1 and kn1.agency_id is None
    assert kn1.history[-1].previous is Status.RESOLVED and "kn-2" in kn1.history[-1].stamp.note


# --- reopening ------------------------------------------------------------------------------------------------
def test_reopened_when_voters_raise_it_again() -> None:
    r = setup()
    assigned(r, "kn-1", "so-xd")
    r.refuse(m.ReopenItem(item_id="kn-1", note="Cử tri phản ánh lại"), SECRETARY, Code.WRONG_ITEM_STATE)
    resolved(r, "kn-1", BUILDING)
    meeting(r, "txct-9", "to-2", delegate(3), present=["d003"])
    reopen = m.ReopenItem(item_id="kn-1", note="", meeting_id="txct-9")
    r.refuse(reopen, SECRETARY, Code.INVALID)  # why is required
    r.refuse(m.ReopenItem(item_id="kn-1", note="Lại sạt lở"), delegate(1), Code.FORBIDDEN)
    r.refuse(m.ReopenItem(item_id="kn-1", note="x", meeting_id="txct-0"), SECRETARY, Code.UNKNOWN_VOTER_MEETING)
    r.now += timedelta(days=200)
    again = m.ReopenItem(item_id="kn-1", note="Đường lại sạt lở sau mưa lũ", meeting_id="txct-9", petitioner="Ông Tư")
    r.accept(again, STANDING)
    kn1 = r.s.items["kn-1"]
    assert kn1.status is Status.CLASSIFIED and kn1.reopened == 1
    assert (kn1.agency_id, kn1.due) == (None, None) and kn1.meeting_ids() == {"txct-1", "txct-9"}
    last = kn1.history[-1]
    assert (last.previous, last.status, last.stamp.by, last.stamp.at) == (
        Status.RESOLVED,
        Status.CLASSIFIED,
        "tt01",
        r.now,
    )
    assert last.stamp.note == "Đường lại sạt lở sau mưa lũ" and last.stamp.roles == [Role.STANDING]
    # Every step is on record, in order.
    assert [t.status for t in kn1.history] == [
        Status.RECEIVED,
        Status.CLASSIFIED,
        Status.ASSIGNED,
        Status.ANSWERED,
        Status.RESOLVED,
        Status.CLASSIFIED,
    ]
    # The agency it was taken from hears of the reopening, not the new voter's name; the new group's delegate sees it.
    mine = [x for x in r.log if x.audience.admits(BUILDING)]
    assert type(mine[-1].event).__name__ == "ItemReopened"
    assert not any(isinstance(x.event, m.SourceAdded) for x in mine)
    assert "kn-1" in r.seen_by(delegate(3)) and "kn-1" not in r.seen_by(BUILDING)
    assigned_again = m.AssignItem(item_id="kn-1", agency_id="so-xd")
    r.accept(assigned_again, SECRETARY)
    assert r.s.items["kn-1"].due == date(2027, 7, 24) + timedelta(days=30)  # 200 days after 5 January
    assert pet.replay(x.event for x in r.log) == r.s


# --- who sees what --------------------------------------------------------------------------------------------
def test_an_agency_cannot_see_or_answer_anothers() -> None:
    r = setup()
    assigned(r, "kn-1", "so-xd")
    assigned(r, "kn-2", "so-yt")
    assert r.seen_by(HEALTH) == ["kn-2"] and r.seen_by(BUILDING) == ["kn-1"]
    answer = m.AnswerItem(item_id="kn-1", text="Không thuộc thẩm quyền Sở Y tế")
    e = r.refuse(answer, HEALTH, Code.UNKNOWN_TRACKED_ITEM)  # the same answer as for an id that does not exist
    missing = r.refuse(m.AnswerItem(item_id="kn-404", text="x"), HEALTH, Code.UNKNOWN_TRACKED_ITEM).refusal
    assert msgspec.json.encode(e.refusal).replace(b"kn-1", b"kn-404") == msgspec.json.encode(missing)
    r.refuse(m.AssignItem(item_id="kn-2", agency_id="so-xd"), HEALTH, Code.FORBIDDEN)
    r.refuse(m.AnswerItem(item_id="kn-1", text="Đã sửa"), delegate(1), Code.FORBIDDEN)
    # Unregistered officials see nothing.
    stranger = Actor(roles=frozenset({Role.AGENCY}), person_id="cb-khac")
    assert r.seen_by(stranger) == []
    r.refuse(m.AnswerItem(item_id="kn-1", text="x"), stranger, Code.UNKNOWN_TRACKED_ITEM)
    # The voter's name never reaches an agency: not in what it reads, not in any event it is sent.
    assert [s.petitioner for s in next(select(r.s, BUILDING)).sources] == [""]
    assert "Nguyễn Văn Tư" not in str([x.event for x in r.log if x.audience.admits(BUILDING)])
    assert "Nguyễn Văn Tư" in str([x.event for x in r.log if x.audience.admits(delegate(1))])

    r.accept(m.AnswerItem(item_id="kn-1", text="Sở đã bố trí vốn sửa chữa.", document_id="tl-7"), BUILDING)
    assert r.s.items["kn-1"].answers[0].agency_id == "so-xd"
    # Moved to the other agency (why is required): the first one loses it.
    r.refuse(m.AssignItem(item_id="kn-1", agency_id="so-yt"), SECRETARY, Code.INVALID)
    r.accept(m.AssignItem(item_id="kn-1", agency_id="so-yt", note="Nội dung về y tế"), SECRETARY)
    r.refuse(m.AnswerItem(item_id="kn-1", text="Bổ sung"), BUILDING, Code.UNKNOWN_TRACKED_ITEM)
    assert r.seen_by(BUILDING) == [] and r.seen_by(HEALTH) == ["kn-1", "kn-2"]
    assert "ItemAssigned" in r.events_for(HEALTH) and "ItemReceived" not in r.events_for(HEALTH)


def test_a_delegate_sees_only_their_own_meetings_petitions() -> None:
    r = setup()
    assert r.seen_by(delegate(1)) == r.seen_by(delegate(2)) == ["kn-1"]
    assert r.seen_by(delegate(3)) == ["kn-2"]
    assert r.seen_by(delegate(9)) == [] and r.seen_by(PUBLIC) == []
    assert r.seen_by(SECRETARY) == r.seen_by(STANDING) == r.seen_by(FRONT) == ["kn-1", "kn-2"]
    # The events follow the same line.
    assert "ItemReceived" not in r.events_for(delegate(3))[:-1] and r.events_for(delegate(9)).count("ItemReceived") == 0
    # A delegate present at another group's meeting (invited) follows what was raised there.
    meeting(r, "txct-4", "to-1", SECRETARY, present=["d001", "d003"])
    petition(r, "kn-4", "txct-4", "Hỗ trợ hộ nghèo làm nhà", SECRETARY)
    assert r.seen_by(delegate(3)) == ["kn-2", "kn-4"]
    # A delegate records meetings and petitions for their own group only.
    other = m.RecordPetition(petition_id="kn-5", meeting_id="txct-1", text="Nước sạch")
    r.refuse(other, delegate(3), Code.NOT_IN_GROUP)
    meet = m.RecordVoterMeeting(
        meeting_id="txct-5", group_id="to-1", timing=MeetingTiming.AFTER, session_id="ky-hop-5",
        place="Phường An Hòa", held_on=date(2027, 1, 5), delegates_present=["d003"], voters=80,
    )  # fmt: skip
    r.refuse(meet, delegate(3), Code.NOT_IN_GROUP)
    r.refuse(meet, HEALTH, Code.FORBIDDEN)
    r.accept(meet, FRONT)
    # Commitments and supervision conclusions are the council's own: every delegate follows them.
    commit = m.TrackCommitment(
        item_id="ck-1", session_id="ky-hop-4", question_id="q-7", respondent_id="r02",
        text="Bổ sung thuốc cho trạm y tế xã trong quý I", agency_id="so-yt", due=date(2027, 3, 31),
    )  # fmt: skip
    r.refuse(commit, delegate(1), Code.FORBIDDEN)
    r.accept(commit, SECRETARY)
    sup = m.RecordSupervision(
        supervision_id="gs-1", topic="Y tế cơ sở", committee="Ban Văn hóa - Xã hội",
        subjects=["Sở Y tế", "UBND xã Phú Lộc"], concluded_on=date(2027, 1, 3),
    )  # fmt: skip
    r.accept(sup, STANDING)
    r.accept(
        m.AddConclusion(item_id="kl-1", supervision_id="gs-1", text="Rà soát biên chế", agency_id="so-yt"), STANDING
    )
    assert r.s.items["ck-1"].status is r.s.items["kl-1"].status is Status.ASSIGNED
    assert r.s.items["kl-1"].due == date(2027, 1, 5) + timedelta(days=60)
    assert r.seen_by(delegate(9)) == ["ck-1", "kl-1"]
    assert r.seen_by(HEALTH) == ["ck-1", "kl-1"] and r.seen_by(BUILDING) == []


# --- the register's lists and refusals --------------------------------------------------------------------------
def test_lists_are_the_councils_and_refusals_change_nothing() -> None:
    r = setup()
    r.refuse(m.OpenPetitions(council_id="hdnd-demo", term_id="2026-2031"), SECRETARY, Code.PETITIONS_EXIST)
    r.refuse(
        m.ClassifyItem(item_id="kn-1", field_id="thue", group=ResourceGroup.NO_RESOURCES), SECRETARY, Code.UNKNOWN_FIELD
    )
    r.refuse(m.ClassifyItem(item_id="kn-1", field_id="giao-thong"), SECRETARY, Code.INVALID)  # a petition's group
    r.refuse(m.AssignItem(item_id="kn-1", agency_id="so-xd"), SECRETARY, Code.WRONG_ITEM_STATE)  # not classified
    r.accept(m.ClassifyItem(item_id="kn-1", field_id="giao-thong", group=ResourceGroup.NO_RESOURCES), SECRETARY)
    r.refuse(m.AssignItem(item_id="kn-1", agency_id="so-gtvt"), SECRETARY, Code.UNKNOWN_AGENCY)
    r.refuse(m.RecordPetition(petition_id="kn-1", meeting_id="txct-1", text="x"), SECRETARY, Code.DUPLICATE_ID)
    r.refuse(m.RecordPetition(petition_id="kn-8", meeting_id="txct-1", text=" "), SECRETARY, Code.INVALID)
    r.refuse(m.RecordPetition(petition_id="kn 8", meeting_id="txct-1", text="x"), SECRETARY, Code.INVALID)
    r.refuse(m.SetDelegateGroup(group_id="to-3", name="Tổ 3", members=["cb-yte"]), SECRETARY, Code.INVALID)
    r.refuse(m.AppointOfficial(person_id="d001", agency_id="so-yt"), SECRETARY, Code.INVALID)
    # The council's own field list, with its own deadlines; taking off a field in use is refused.
    rules = r.s.rules
    fewer = msgspec.structs.replace(rules, fields=[f for f in rules.fields if f.id != "giao-thong"])
    r.refuse(m.ChangePetitionRules(rules=fewer), SECRETARY, Code.IN_USE)
    no_agency = msgspec.structs.replace(rules, agencies=[a for a in rules.agencies if a.id != "so-yt"])
    r.refuse(m.ChangePetitionRules(rules=no_agency), SECRETARY, Code.IN_USE)  # an official belongs to it
    r.refuse(m.ChangePetitionRules(rules=msgspec.structs.replace(rules, no_resources_days=0)), SECRETARY, Code.INVALID)
    r.accept(m.ChangePetitionRules(rules=msgspec.structs.replace(rules, no_resources_days=15)), SECRETARY)
    r.accept(m.AssignItem(item_id="kn-1", agency_id="so-xd"), SECRETARY)
    assert r.s.items["kn-1"].due == date(2027, 1, 20)
    r.refuse(m.ConcludeItem(item_id="kn-1", outcome=Status.ANSWERED, note="x"), STANDING, Code.INVALID)
    r.refuse(m.ConcludeItem(item_id="kn-1", outcome=Status.RESOLVED, note=""), STANDING, Code.INVALID)
    r.refuse(m.ConcludeItem(item_id="kn-1", outcome=Status.RESOLVED, note="x"), BUILDING, Code.FORBIDDEN)
    r.refuse(m.AssignItem(item_id="kn-1", agency_id="so-xd", due=date(2040, 1, 1)), SECRETARY, Code.INVALID)
    long_ids = m.OpenPetitions(council_id="c" * 100, term_id="t" * 100)
    with pytest.raises(DomainError) as e:
        pet.decide(None, long_ids, Context(actor=SECRETARY, now=T0))
    assert e.value.code is Code.INVALID
    with pytest.raises(DomainError) as e:
        pet.decide(None, m.ClassifyItem(item_id="kn-1", field_id="y-te"), Context(actor=SECRETARY, now=T0))
    assert e.value.code is Code.UNKNOWN_PETITIONS
    # The public page's table: numbers by field and status, nothing about any voter.
    table = counts(r.s.items.values(), "field_id")
    assert table == {"giao-thong": {"assigned": 1}, "": {"received": 1}}
    assert [i.kind for i in select(r.s, SECRETARY, Filter(kind=ItemKind.PETITION, agency_id="so-xd"))] == [
        ItemKind.PETITION
    ]
    assert pet.replay(x.event for x in r.log) == r.s


# --- through the engine ---------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_a_petitions_command_commits_and_is_audited(database_url: str) -> None:
    d = Database(database_url)
    try:
        await d.migrate()
        engine = Engine(d)
        ident = pet.stream_ident("hdnd-demo", "2026-2031")
        vp, official = Who("acc-vp01", SECRETARY), Who("acc-cb-xd", BUILDING)
        meeting_cmd = m.RecordVoterMeeting(
            meeting_id="txct-1", group_id="to-1", timing=MeetingTiming.BEFORE, session_id="ky-hop-5",
            place="Xã Phú Lộc", held_on=date(2027, 1, 4), delegates_present=["d001"], voters=95,
        )  # fmt: skip
        steps: list[tuple[Who, str, Command]] = [
            (vp, "open", m.OpenPetitions(council_id="hdnd-demo", term_id="2026-2031")),
            (vp, "group", m.SetDelegateGroup(group_id="to-1", name="Tổ đại biểu số 1", members=["d001"])),
            (vp, "official", m.AppointOfficial(person_id="cb-xd", agency_id="so-xd")),
            (vp, "meeting", meeting_cmd),
            (vp, "kn-1", m.RecordPetition(petition_id="kn-1", meeting_id="txct-1", text="Sửa đường liên xã")),
            (vp, "classify", m.ClassifyItem(item_id="kn-1", field_id="giao-thong", group=ResourceGroup.NO_RESOURCES)),
            (vp, "assign", m.AssignItem(item_id="kn-1", agency_id="so-xd")),
        ]
        for who, cid, cmd in steps:
            reply = await engine.execute("petitions", ident, who, cid, cmd)
            assert reply.ok, (cid, reply.error)
        # Another agency's official is refused, and the refusal is on the record too.
        other = await engine.execute(
            "petitions", ident, Who("acc-cb-yte", HEALTH), "a1", m.AnswerItem(item_id="kn-1", text="x")
        )
        assert not other.ok and other.error is not None and other.error.code == "unknown_tracked_item"
        ok = await engine.execute(
            "petitions", ident, official, "a1", m.AnswerItem(item_id="kn-1", text="Đã bố trí vốn")
        )
        again = await engine.execute("petitions", ident, official, "a1", m.AnswerItem(item_id="kn-1", text="lặp"))
        assert ok.ok and again.replayed and again.seqs == ok.seqs

        state, seq = await Engine(d).state("petitions", ident)  # another worker, from the database alone
        assert state.items["kn-1"].status is Status.ANSWERED and state.items["kn-1"].answers[0].text == "Đã bố trí vốn"
        assert seq == ok.seqs[-1]
        assert await Engine(d).streams_of("hdnd-demo", "petitions") == [(ident, "Kiến nghị cử tri, nhiệm kỳ 2026-2031")]
        report = await verify(database_url)
        assert report.ok and report.rows == len(steps) + 2, report.problems
        assert f"petitions:{ident}" in report.heads
    finally:
        await d.dispose()
