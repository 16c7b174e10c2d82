"""The commands and events of a council's petitions register (issue 14 §1); decided in `meeting/petitions.py`.

Every change to the register is one of these commands, and every fact one of these events: the engine stores the
events of one register (council and term) as one stream, `petitions:<council_id>:<term_id>`.
"""

from __future__ import annotations

from datetime import date

import msgspec

from meeting.messages import Command, Event
from meeting.petitions_model import (
    CommitmentLink,
    DelegateGroup,
    ItemKind,
    MeetingTiming,
    PetitionRules,
    ResourceGroup,
    Source,
    Stamp,
    Status,
    Supervision,
    VoterMeeting,
)
from meeting.rules import Level


# --- commands
class OpenPetitions(Command, frozen=True, kw_only=True, tag="open_petitions"):
    council_id: str
    term_id: str
    level: Level = Level.PROVINCE
    rules: PetitionRules | None = None  # None: the defaults for the level


class ChangePetitionRules(Command, frozen=True, kw_only=True, tag="change_petition_rules"):
    rules: PetitionRules


class SetDelegateGroup(Command, frozen=True, kw_only=True, tag="set_delegate_group"):
    group_id: str
    name: str
    members: list[str]


class AppointOfficial(Command, frozen=True, kw_only=True, tag="appoint_official"):
    person_id: str
    agency_id: str


class DismissOfficial(Command, frozen=True, kw_only=True, tag="dismiss_official"):
    person_id: str


class RecordVoterMeeting(Command, frozen=True, kw_only=True, tag="record_voter_meeting"):
    meeting_id: str
    group_id: str
    timing: MeetingTiming
    session_id: str = ""
    place: str
    held_on: date
    delegates_present: list[str]
    voters: int
    front_organiser: str = ""


class RecordPetition(Command, frozen=True, kw_only=True, tag="record_petition"):
    petition_id: str
    meeting_id: str
    text: str
    area: str = ""
    petitioner: str = ""


class TrackCommitment(Command, frozen=True, kw_only=True, tag="track_commitment"):
    """Follow up a commitment recorded in a session's questioning (`record_answer`), keeping its link."""

    item_id: str
    session_id: str
    question_id: str
    respondent_id: str
    text: str
    agency_id: str | None = None
    due: date | None = None


class RecordSupervision(Command, frozen=True, kw_only=True, tag="record_supervision"):
    supervision_id: str
    topic: str
    committee: str
    subjects: list[str]
    concluded_on: date


class AddConclusion(Command, frozen=True, kw_only=True, tag="add_conclusion"):
    item_id: str
    supervision_id: str
    text: str
    agency_id: str
    due: date | None = None


class ClassifyItem(Command, frozen=True, kw_only=True, tag="classify_item"):
    item_id: str
    field_id: str
    group: ResourceGroup | None = None  # required for a petition
    note: str = ""


class MergePetitions(Command, frozen=True, kw_only=True, tag="merge_petitions"):
    """Fold `duplicate_id` into `item_id`, which keeps every source of both."""

    item_id: str
    duplicate_id: str
    note: str = ""


class AssignItem(Command, frozen=True, kw_only=True, tag="assign_item"):
    item_id: str
    agency_id: str
    due: date | None = None  # None: today + the council's days for the item's group
    note: str = ""  # required when the item moves from one agency to another


class AnswerItem(Command, frozen=True, kw_only=True, tag="answer_item"):
    item_id: str
    text: str
    document_id: str | None = None


class ConcludeItem(Command, frozen=True, kw_only=True, tag="conclude_item"):
    item_id: str
    outcome: Status
    note: str
    next_due: date | None = None  # required for a roadmap, allowed for partly resolved


class ReopenItem(Command, frozen=True, kw_only=True, tag="reopen_item"):
    item_id: str
    note: str
    meeting_id: str | None = None  # the voter meeting where it was raised again
    petitioner: str = ""


class MarkOverdue(Command, frozen=True, kw_only=True, tag="mark_overdue"):
    item_id: str


class CarryItem(Command, frozen=True, kw_only=True, tag="carry_item"):
    """Bring an item still open at the end of a term into the new term's register, keeping where it came from.
    It starts over as received (classified when its field is given): the new term assigns it anew."""

    item_id: str
    kind: ItemKind
    text: str
    area: str = ""
    field_id: str | None = None
    group: ResourceGroup | None = None
    carried_from: str  # "petitions:<council>:<earlier term>#<item>"


class RemindItem(Command, frozen=True, kw_only=True, tag="remind_item"):
    """The server's clock: the deadline is near and the agency has not answered (the e-mail goes on commit)."""

    item_id: str


# --- events
class PetitionsOpened(Event, frozen=True, kw_only=True, tag="petitions_opened"):
    council_id: str
    term_id: str
    rules: PetitionRules


class PetitionRulesChanged(Event, frozen=True, kw_only=True, tag="petition_rules_changed"):
    rules: PetitionRules


class DelegateGroupSet(Event, frozen=True, kw_only=True, tag="delegate_group_set"):
    group: DelegateGroup


class OfficialAppointed(Event, frozen=True, kw_only=True, tag="official_appointed"):
    person_id: str
    agency_id: str


class OfficialDismissed(Event, frozen=True, kw_only=True, tag="official_dismissed"):
    person_id: str


class VoterMeetingRecorded(Event, frozen=True, kw_only=True, tag="voter_meeting_recorded"):
    meeting: VoterMeeting
    stamp: Stamp


class ItemReceived(Event, frozen=True, kw_only=True, tag="item_received"):
    item_id: str
    kind: ItemKind
    text: str
    area: str = ""
    source: Source | None = None
    link: CommitmentLink | None = None
    supervision_id: str | None = None
    carried_from: str = ""  # the earlier term's item it continues (`carry_item`)
    stamp: Stamp


class SupervisionRecorded(Event, frozen=True, kw_only=True, tag="supervision_recorded"):
    supervision: Supervision
    stamp: Stamp


class ItemClassified(Event, frozen=True, kw_only=True, tag="item_classified"):
    item_id: str
    field_id: str
    group: ResourceGroup | None
    stamp: Stamp


class PetitionsMerged(Event, frozen=True, kw_only=True, tag="petitions_merged"):
    item_id: str
    duplicate_id: str
    stamp: Stamp


class Brief(msgspec.Struct, frozen=True, kw_only=True):
    """What the agency needs to answer, in the assignment itself: it saw none of the item's earlier events."""

    kind: ItemKind
    text: str
    area: str
    field_id: str | None
    group: ResourceGroup | None
    link: CommitmentLink | None
    supervision_id: str | None


class ItemAssigned(Event, frozen=True, kw_only=True, tag="item_assigned"):
    item_id: str
    agency_id: str
    due: date
    brief: Brief
    stamp: Stamp


class ItemAnswered(Event, frozen=True, kw_only=True, tag="item_answered"):
    item_id: str
    agency_id: str
    text: str
    document_id: str | None
    stamp: Stamp


class ItemConcluded(Event, frozen=True, kw_only=True, tag="item_concluded"):
    item_id: str
    outcome: Status
    next_due: date | None
    stamp: Stamp


class SourceAdded(Event, frozen=True, kw_only=True, tag="source_added"):
    """Voters raised the item again at `source.meeting_id` (before its reopening)."""

    item_id: str
    source: Source
    stamp: Stamp


class ItemReopened(Event, frozen=True, kw_only=True, tag="item_reopened"):
    item_id: str
    stamp: Stamp


class ItemOverdue(Event, frozen=True, kw_only=True, tag="item_overdue"):
    item_id: str
    due: date
    stamp: Stamp


class ItemReminded(Event, frozen=True, kw_only=True, tag="item_reminded"):
    item_id: str
    agency_id: str
    due: date
    stamp: Stamp


COMMANDS: tuple[type[Command], ...] = (
    OpenPetitions,
    ChangePetitionRules,
    SetDelegateGroup,
    AppointOfficial,
    DismissOfficial,
    RecordVoterMeeting,
    RecordPetition,
    TrackCommitment,
    RecordSupervision,
    AddConclusion,
    ClassifyItem,
    MergePetitions,
    AssignItem,
    AnswerItem,
    ConcludeItem,
    ReopenItem,
    MarkOverdue,
    RemindItem,
    CarryItem,
)
EVENTS: tuple[type[Event], ...] = (
    PetitionsOpened,
    PetitionRulesChanged,
    DelegateGroupSet,
    OfficialAppointed,
    OfficialDismissed,
    VoterMeetingRecorded,
    ItemReceived,
    SupervisionRecorded,
    ItemClassified,
    PetitionsMerged,
    ItemAssigned,
    ItemAnswered,
    ItemConcluded,
    SourceAdded,
    ItemReopened,
    ItemOverdue,
    ItemReminded,
)
