"""A random walk through a petitions register (issue 14 §1), checking its invariants after every step:

- every item is in exactly one status, the one its recorded history ends with, and that history has no gaps;
- a merged petition points (through its chain) to a live one that keeps every source it had, and every
  meeting where a petition was recorded or raised again is still a source of the live petition it ended in;
- an agency official sees only what is assigned to their agency, a delegate only petitions of their meetings;
- no event a voter's name is in reaches an agency official;
- a refusal changes nothing, and replaying the log gives the same state.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from meeting import petitions as pet
from meeting import petitions_messages as m
from meeting.actors import Actor, Context, Role
from meeting.errors import DomainError
from meeting.messages import Command, Routed
from meeting.petitions_model import (
    OUTCOMES,
    ItemKind,
    MeetingTiming,
    PetitionsState,
    ResourceGroup,
    Status,
    TrackedItem,
    counts,
    select,
)
from tests.test_petitions import BUILDING, CLOCK, FRONT, HEALTH, SECRETARY, STANDING, T0, delegate

OFFICIALS = {"cb-yte": "so-yt", "cb-xd": "so-xd"}
ACTORS = [SECRETARY, STANDING, FRONT, HEALTH, BUILDING, delegate(1), delegate(3), delegate(9), CLOCK]
FIELDS = ["dat-dai", "y-te", "giao-thong", "khong-co"]
AGENCIES = ["so-yt", "so-xd", "ubnd-xa", "khong-co"]
WHO = st.one_of(st.none(), st.sampled_from(ACTORS))  # None: the right actor for the step (about half the time)
NOTES = ["", "Theo đề nghị của Ban Kinh tế - Ngân sách"]


def has_items(machine: PetitionsMachine) -> bool:
    return machine.state is not None and bool(machine.s.items)


class PetitionsMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.now = T0
        self.log: list[Routed] = []
        self.state: PetitionsState | None = None
        self.n = 0
        self.raised: set[tuple[str, str]] = set()  # (petition id, meeting id) as entered
        self.names: set[str] = set()  # voters' names entered
        setup: list[Command] = [
            m.OpenPetitions(council_id="hdnd-demo", term_id="2026-2031"),
            m.SetDelegateGroup(group_id="to-1", name="Tổ đại biểu số 1", members=["d001", "d002"]),
            m.SetDelegateGroup(group_id="to-2", name="Tổ đại biểu số 2", members=["d003"]),
            *(m.AppointOfficial(person_id=p, agency_id=a) for p, a in OFFICIALS.items()),
        ]
        for cmd in setup:
            assert self._try(cmd, SECRETARY) is not None
        self.meetings = ["txct-0"]
        self._meeting("txct-0", "to-1", SECRETARY)

    @property
    def s(self) -> PetitionsState:
        assert self.state is not None
        return self.state

    def _try(self, cmd: Command, actor: Actor) -> list[Routed] | None:
        before = msgspec.json.encode(self.state)
        try:
            routed = pet.decide(self.state, cmd, Context(actor=actor, now=self.now))
        except DomainError as e:
            assert e.refusal.message_vi and e.refusal.message_en
            assert msgspec.json.encode(self.state) == before, f"refused {e.code} but changed the state"
            return None
        for r in routed:
            self.state = pet.apply(self.state, r.event)
        self.log.extend(routed)
        return routed

    def _meeting(self, mid: str, group: str, actor: Actor) -> None:
        cmd = m.RecordVoterMeeting(
            meeting_id=mid, group_id=group, timing=MeetingTiming.BEFORE, session_id="ky-hop-5", place="Xã Phú Lộc",
            held_on=T0.date(), delegates_present=["d001"] if group == "to-1" else ["d003"], voters=60,
        )  # fmt: skip
        if self._try(cmd, actor) is not None:
            self.meetings.append(mid)

    def _who(self, k: Actor | None, right: Actor) -> Actor:
        """`right` for None (so walks get somewhere), else the actor drawn."""
        return right if k is None else k

    def _pick(self, i: int, *statuses: Status) -> str:
        """For even `i` an item in one of `statuses` (when there is one), for odd `i` any item."""
        ids = sorted(self.s.items)
        fit = [x for x in ids if self.s.items[x].status in statuses]
        if fit and i % 2 == 0:
            return fit[(i // 2) % len(fit)]
        return ids[i % len(ids)] if ids else "kn-none"

    def _official(self, item_id: str) -> Actor:
        item = self.s.items.get(item_id)
        return BUILDING if item is not None and item.agency_id == "so-xd" else HEALTH

    # --- entering ---------------------------------------------------------------------------------------------
    @rule(group=st.sampled_from(["to-1", "to-2", "to-9"]), k=WHO)
    def record_meeting(self, group: str, k: Actor | None) -> None:
        self.n += 1
        self._meeting(f"txct-{self.n}", group, self._who(k, FRONT))

    @rule(meeting=st.integers(0, 20), k=WHO, named=st.booleans())
    def record_petition(self, meeting: int, k: Actor | None, named: bool) -> None:
        self.n += 1
        pid, mid = f"kn-{self.n}", self.meetings[meeting % len(self.meetings)]
        name = f"Cử tri số {self.n}" if named else ""
        cmd = m.RecordPetition(petition_id=pid, meeting_id=mid, text=f"Kiến nghị số {self.n}", petitioner=name)
        if self._try(cmd, self._who(k, SECRETARY)) is not None:
            self.raised.add((pid, mid))
            if name:
                self.names.add(name)

    @rule(agency=st.sampled_from([*AGENCIES, None]), with_due=st.booleans(), k=WHO)
    def track_commitment(self, agency: str | None, with_due: bool, k: Actor | None) -> None:
        self.n += 1
        due = self.now.date() + timedelta(days=20) if with_due else None
        cmd = m.TrackCommitment(
            item_id=f"ck-{self.n}", session_id="ky-hop-4", question_id=f"q-{self.n}", respondent_id="r02",
            text="Cam kết bổ sung thuốc", agency_id=agency, due=due,
        )  # fmt: skip
        self._try(cmd, self._who(k, STANDING))

    # --- the lifecycle ----------------------------------------------------------------------------------------
    @precondition(has_items)
    @rule(i=st.integers(0, 50), field=st.sampled_from(FIELDS), group=st.sampled_from([*ResourceGroup, None]), k=WHO)
    def classify(self, i: int, field: str, group: ResourceGroup | None, k: Actor | None) -> None:
        cmd = m.ClassifyItem(item_id=self._pick(i, Status.RECEIVED), field_id=field, group=group)
        self._try(cmd, self._who(k, SECRETARY))

    @precondition(has_items)
    @rule(i=st.integers(0, 50), agency=st.sampled_from(AGENCIES), note=st.sampled_from(NOTES), k=WHO)
    def assign(self, i: int, agency: str, note: str, k: Actor | None) -> None:
        item_id = self._pick(i, Status.CLASSIFIED, Status.ASSIGNED)
        self._try(m.AssignItem(item_id=item_id, agency_id=agency, note=note), self._who(k, SECRETARY))

    @precondition(has_items)
    @rule(i=st.integers(0, 50), k=WHO)
    def answer(self, i: int, k: Actor | None) -> None:
        item_id = self._pick(i, Status.ASSIGNED, Status.ROADMAP, Status.PARTLY_RESOLVED)
        actor = self._who(k, self._official(item_id))
        routed = self._try(m.AnswerItem(item_id=item_id, text="Đã chỉ đạo giải quyết", document_id="tl-1"), actor)
        if routed is not None and Role.AGENCY in actor.roles:
            assert actor.person_id is not None
            assert self.s.items[item_id].agency_id == OFFICIALS[actor.person_id]

    @precondition(has_items)
    @rule(
        i=st.integers(0, 50),
        outcome=st.sampled_from([*OUTCOMES, *OUTCOMES, Status.ANSWERED, Status.MERGED]),
        note=st.sampled_from(NOTES),
        days=st.sampled_from([None, 30]),
        k=WHO,
    )
    def conclude(self, i: int, outcome: Status, note: str, days: int | None, k: Actor | None) -> None:
        next_due = None if days is None else self.now.date() + timedelta(days=days)
        item_id = self._pick(i, Status.ANSWERED, Status.ASSIGNED)
        cmd = m.ConcludeItem(item_id=item_id, outcome=outcome, note=note, next_due=next_due)
        self._try(cmd, self._who(k, STANDING))

    @precondition(has_items)
    @rule(i=st.integers(0, 50), meeting=st.integers(-1, 20), note=st.sampled_from(NOTES), k=WHO)
    def reopen(self, i: int, meeting: int, note: str, k: Actor | None) -> None:
        item_id = self._pick(i, *OUTCOMES)
        mid = None if meeting < 0 else self.meetings[meeting % len(self.meetings)]
        name = f"Cử tri nêu lại {self.n}"
        cmd = m.ReopenItem(item_id=item_id, note=note, meeting_id=mid, petitioner=name)
        if self._try(cmd, self._who(k, STANDING)) and mid:
            self.raised.add((item_id, mid))
            self.names.add(name)

    @precondition(has_items)
    @rule(i=st.integers(0, 50), j=st.integers(0, 50), k=WHO)
    def merge(self, i: int, j: int, k: Actor | None) -> None:
        live = (Status.RECEIVED, Status.CLASSIFIED, Status.ASSIGNED, Status.RESOLVED, Status.NOT_RESOLVED)
        cmd = m.MergePetitions(item_id=self._pick(i, *live), duplicate_id=self._pick(j, *live))
        self._try(cmd, self._who(k, SECRETARY))

    @precondition(has_items)
    @rule(i=st.integers(0, 50), steps=st.integers(1, 5), outcome=st.sampled_from(OUTCOMES), meeting=st.booleans())
    def progress(self, i: int, steps: int, outcome: Status, meeting: bool) -> None:
        """Move one item along its lifecycle by the right people: random steps alone rarely reach an outcome."""
        item_id = self._pick(i, *(x for x in Status if x is not Status.MERGED))
        for _ in range(steps):
            item = self.s.items.get(item_id)
            if item is None:
                return
            cmd: Command
            match item.status:
                case Status.RECEIVED:
                    cmd, actor = (
                        m.ClassifyItem(item_id=item_id, field_id="y-te", group=ResourceGroup.NO_RESOURCES),
                        SECRETARY,
                    )
                case Status.CLASSIFIED:
                    cmd, actor = m.AssignItem(item_id=item_id, agency_id="so-yt", note="Chuyển Sở Y tế"), SECRETARY
                case Status.ASSIGNED | Status.PARTLY_RESOLVED | Status.ROADMAP if item.agency_id in ("so-yt", "so-xd"):
                    cmd, actor = m.AnswerItem(item_id=item_id, text="Đã giải quyết"), self._official(item_id)
                case Status.ASSIGNED | Status.ANSWERED:
                    due = (
                        self.now.date() + timedelta(days=30)
                        if outcome in (Status.ROADMAP, Status.PARTLY_RESOLVED)
                        else None
                    )
                    cmd, actor = (
                        m.ConcludeItem(item_id=item_id, outcome=outcome, note="Đã kiểm tra", next_due=due),
                        STANDING,
                    )
                case Status.RESOLVED | Status.NOT_RESOLVED | Status.PARTLY_RESOLVED | Status.ROADMAP:
                    mid = self.meetings[-1] if meeting and item.kind is ItemKind.PETITION else None
                    self.reopen(0, -1 if mid is None else len(self.meetings) - 1, "Cử tri nêu lại", None)
                    continue
                case _:
                    return
            assert self._try(cmd, actor) is not None, (item.status, cmd)

    @rule(days=st.sampled_from([0, 1, 29, 30, 31, 45, 90]))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days, hours=7)

    @precondition(has_items)
    @rule(i=st.integers(0, 50), k=WHO)
    def mark_overdue(self, i: int, k: Actor | None) -> None:
        item_id = self._pick(i, Status.ASSIGNED, Status.ANSWERED, Status.ROADMAP, Status.PARTLY_RESOLVED)
        if self._try(m.MarkOverdue(item_id=item_id), self._who(k, CLOCK)) is not None:
            item = self.s.items[item_id]
            assert item.due is not None and self.now.date() + timedelta(days=1) > item.due

    # --- invariants -------------------------------------------------------------------------------------------
    def _root(self, item: TrackedItem) -> TrackedItem:
        seen = set()
        while item.merged_into is not None:
            assert item.id not in seen, "a merge cycle"
            seen.add(item.id)
            item = self.s.items[item.merged_into]
        return item

    @invariant()
    def one_status_each_with_its_history(self) -> None:
        if self.state is None:
            return
        by_status = counts(self.s.items.values(), "kind")
        live = sum(sum(row.values()) for row in by_status.values())
        merged = sum(1 for i in self.s.items.values() if i.status is Status.MERGED)
        assert live + merged == len(self.s.items)
        for item in self.s.items.values():
            assert item.history and item.history[0].status is Status.RECEIVED
            assert item.history[-1].status is item.status
            for before, after in zip(item.history, item.history[1:], strict=False):
                assert after.previous is before.status
            assert (item.status is Status.MERGED) == (item.merged_into is not None)
            if item.status in (Status.ASSIGNED, Status.ANSWERED):
                assert item.agency_id is not None and item.due is not None

    @invariant()
    def merged_petitions_keep_every_source(self) -> None:
        if self.state is None:
            return
        for item in self.s.items.values():
            root = self._root(item)
            assert root.status is not Status.MERGED
            assert item.meeting_ids() <= root.meeting_ids()
            if item.kind is ItemKind.PETITION:
                assert root.kind is ItemKind.PETITION
        for pid, mid in self.raised:
            assert mid in self._root(self.s.items[pid]).meeting_ids(), (pid, mid)

    @invariant()
    def scopes_hold(self) -> None:
        if self.state is None:
            return
        for official, agency in OFFICIALS.items():
            actor = Actor(roles=frozenset({Role.AGENCY}), person_id=official)
            assert all(i.agency_id == agency for i in select(self.s, actor))
            assert all(s.petitioner == "" for i in select(self.s, actor) for s in i.sources)
            sent = msgspec.json.encode([r.event for r in self.log if r.audience.admits(actor)]).decode()
            assert not any(name in sent for name in self.names)
        for d in (delegate(1), delegate(3), delegate(9)):
            for i in select(self.s, d):
                assert i.kind is not ItemKind.PETITION or d.person_id in self.s.delegates_of(i)

    @invariant()
    def replay_gives_the_same_state(self) -> None:
        if self.state is None:
            return
        assert pet.replay(r.event for r in self.log) == self.s


PetitionsMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=50, deadline=None)
TestPetitions = PetitionsMachine.TestCase


def test_the_walk_reaches_every_status() -> None:
    """Guard against a machine that only ever refuses: a fixed walk through every outcome and a merge."""
    RIGHT = None  # `_who` then picks the right actor
    machine = PetitionsMachine()
    machine.start()
    machine.record_petition(0, RIGHT, True)
    machine.record_petition(0, RIGHT, False)
    first, second = sorted(machine.s.items)
    machine.classify(0, "giao-thong", ResourceGroup.NO_RESOURCES, RIGHT)
    machine.assign(0, "so-xd", "", RIGHT)
    machine.answer(0, RIGHT)
    for outcome, days in ((Status.ROADMAP, 30), (Status.PARTLY_RESOLVED, None), (Status.NOT_RESOLVED, None)):
        machine.conclude(0, outcome, "Đã kiểm tra", days, RIGHT)
        if outcome is not Status.NOT_RESOLVED:
            machine.answer(0, RIGHT)
        if outcome is Status.PARTLY_RESOLVED:
            machine.time_passes(45)
            machine.mark_overdue(0, RIGHT)
    machine.merge(0, 2, RIGHT)  # the first (not resolved) takes in the second
    seen = {t.status for i in machine.s.items.values() for t in i.history}
    assert seen >= {Status.RECEIVED, Status.CLASSIFIED, Status.ASSIGNED, Status.ANSWERED, Status.ROADMAP}
    assert seen >= {Status.PARTLY_RESOLVED, Status.NOT_RESOLVED, Status.MERGED}
    assert machine.s.items[first].overdue_noted == date(2027, 1, 5) + timedelta(days=30)
    assert machine.s.items[second].merged_into == first and machine.s.items[first].reopened == 1
    machine.merged_petitions_keep_every_source()
    machine.scopes_hold()
    machine.replay_gives_the_same_state()
