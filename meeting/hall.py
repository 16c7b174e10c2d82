"""What every part of a session needs to know about the room: roster, rules, lifecycle and attendance.

The session's sub-machines (agenda, speakers, questioning, votes, polls) read the hall to check who may act;
only the session itself changes it.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from meeting.actors import Context, Role
from meeting.errors import Code, DomainError
from meeting.rules import Level, Rules


class SessionStatus(StrEnum):
    PREPARED = "prepared"  # chuẩn bị
    CHECKIN_OPEN = "checkin_open"  # điểm danh
    IN_PROGRESS = "in_progress"  # đang họp
    SUSPENDED = "suspended"  # tạm dừng
    CLOSED = "closed"  # bế mạc

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]

    @property
    def label_en(self) -> str:
        return self.value.replace("_", " ")


_STATUS_VI = {
    SessionStatus.PREPARED: "chuẩn bị",
    SessionStatus.CHECKIN_OPEN: "đang điểm danh",
    SessionStatus.IN_PROGRESS: "đang họp",
    SessionStatus.SUSPENDED: "tạm dừng",
    SessionStatus.CLOSED: "đã bế mạc",
}


class Delegate(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    seated: bool = True  # False once the seat is vacated (bãi nhiệm, từ chức, qua đời...)
    # The seat in the hall when the council sets a seating plan (e.g. "B-12"); None: no plan. The chair's seat
    # map shows it beside the name.
    seat: str | None = None


class VacancyGrounds(StrEnum):
    """Why a delegate stops holding a seat, and so what must be on record before the seat is vacated."""

    REMOVAL = "removal"  # bãi nhiệm: a passed removal round (two thirds of all delegates)
    RESIGNATION = "resignation"  # thôi làm nhiệm vụ đại biểu: the decision accepting it
    DEATH = "death"  # qua đời: the record of it

    @property
    def label_vi(self) -> str:
        return _GROUNDS_VI[self]


_GROUNDS_VI = {
    VacancyGrounds.REMOVAL: "bãi nhiệm",
    VacancyGrounds.RESIGNATION: "thôi làm nhiệm vụ đại biểu",
    VacancyGrounds.DEATH: "qua đời",
}


class Respondent(msgspec.Struct, frozen=True, kw_only=True):
    """An official who may be questioned (chất vấn) or rated in a confidence poll."""

    id: str
    name: str
    position: str  # e.g. "Chủ tịch UBND tỉnh", "Giám đốc Sở Y tế"


class Hall(msgspec.Struct, kw_only=True):
    session_id: str
    council_id: str
    council_name: str
    level: Level
    rules: Rules
    delegates: dict[str, Delegate]
    respondents: dict[str, Respondent]
    status: SessionStatus = SessionStatus.PREPARED
    present: set[str] = msgspec.field(default_factory=set)
    current_item: str | None = None
    # Why the chair suspended the session, shown to the hall and the public while it is suspended ("" otherwise).
    suspension_reason: str = ""

    # --- roster
    @property
    def total(self) -> int:
        """Tổng số đại biểu: the seated delegates, the base of every "of all delegates" rule."""
        return sum(1 for d in self.delegates.values() if d.seated)

    def seated(self, delegate_id: str) -> bool:
        d = self.delegates.get(delegate_id)
        return d is not None and d.seated

    def seated_ids(self) -> frozenset[str]:
        return frozenset(d.id for d in self.delegates.values() if d.seated)

    def present_seated(self) -> frozenset[str]:
        return frozenset(self.present & self.seated_ids())

    # --- quorum
    def quorum_needed(self) -> int:
        return self.rules.quorum.minimum(self.total)

    def quorum_met(self) -> bool:
        return self.rules.quorum.met(len(self.present_seated()), self.total)

    # --- guards
    def require_status(self, *allowed: SessionStatus) -> None:
        if self.status not in allowed:
            raise DomainError(Code.WRONG_SESSION_STATE, state_vi=self.status.label_vi, state_en=self.status.label_en)

    def require_running(self) -> None:
        self.require_status(SessionStatus.IN_PROGRESS)

    def acting_delegate(self, ctx: Context, delegate_id: str | None = None) -> str:
        """The seated delegate the actor acts as. A delegate may act only as themself.

        `delegate_id` names the delegate the command is about; staff may act on a delegate's behalf where a
        command allows it, but that is the caller's decision (see `on_behalf`).
        """
        actor = ctx.actor
        if Role.DELEGATE not in actor.roles or actor.person_id is None:
            raise DomainError(Code.NOT_A_DELEGATE)
        if delegate_id is not None and delegate_id != actor.person_id:
            raise DomainError(Code.NOT_YOURSELF)
        if actor.person_id not in self.delegates:
            raise DomainError(Code.NOT_A_DELEGATE)
        if not self.seated(actor.person_id):
            raise DomainError(Code.SEAT_VACANT, id=actor.person_id)
        return actor.person_id

    def require_delegate(self, delegate_id: str) -> Delegate:
        d = self.delegates.get(delegate_id)
        if d is None:
            raise DomainError(Code.UNKNOWN_DELEGATE, id=delegate_id)
        if not d.seated:
            raise DomainError(Code.SEAT_VACANT, id=delegate_id)
        return d

    def require_respondent(self, respondent_id: str) -> Respondent:
        r = self.respondents.get(respondent_id)
        if r is None:
            raise DomainError(Code.UNKNOWN_RESPONDENT, id=respondent_id)
        return r
