"""Who acts, who may see, and what the caller passes in instead of I/O.

The domain never reads a clock, never draws a random number and never looks up an account: the caller
(the server, a test, a replay) passes an `Actor`, the time and a fresh random token in a `Context`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from meeting.errors import Code, DomainError


class Role(StrEnum):
    ADMIN = "admin"
    SECRETARY = "secretary"  # Văn phòng (secretariat)
    CHAIR = "chair"  # chủ tọa
    DELEGATE = "delegate"  # đại biểu
    RESPONDENT = "respondent"  # người bị chất vấn
    COMMITTEE = "committee"  # Ban kiểm phiếu (membership itself is per poll)
    PUBLIC = "public"
    # Between sessions (meeting/petitions.py). Which agency an official answers for, and which delegate group a
    # delegate belongs to, are facts of the council's petitions register, not roles.
    AGENCY = "agency"  # cán bộ cơ quan được giao giải quyết kiến nghị (UBND, sở, xã, tòa án, viện kiểm sát)
    STANDING = "standing"  # Thường trực HĐND và các Ban: theo dõi, đôn đốc, giám sát
    FRONT = "front"  # Ủy ban MTTQ Việt Nam: phối hợp tiếp xúc cử tri, báo cáo tổng hợp kiến nghị


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller. The chair is usually a delegate too, so roles is a set.

    `person_id` is the delegate id for delegates (and chairs who are delegates), the respondent id for
    respondents.
    """

    roles: frozenset[Role]
    person_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    def require(self, *roles: Role) -> None:
        """Refuse unless the actor holds one of `roles` (admin may do anything the secretariat may)."""
        allowed = set(roles)
        if Role.SECRETARY in allowed:
            allowed.add(Role.ADMIN)
        if self.roles.isdisjoint(allowed):
            raise DomainError(Code.FORBIDDEN)


class Context(msgspec.Struct, frozen=True, kw_only=True):
    actor: Actor
    now: datetime
    # A fresh, unguessable token from the caller's CSPRNG, used where the domain must hand out a secret
    # (ballot receipts). Commands that need none ignore it.
    nonce: str = ""
    # The verifiable-ballot hook (a meeting.verifiable.Crypto): the server's checks of encrypted ballots, ceremony
    # messages and partial decryptions, passed in like the time so the domain never imports the cryptography.
    # Commands that need none ignore it.
    crypto: Any = None


class Audience(msgspec.Struct, frozen=True, kw_only=True):
    """Who may see an event. The fan-out layer maps this to channels; the domain only says who.

    An empty audience (`SEALED`) is seen by nobody: the anonymous content of a secret ballot, which the
    store keeps apart from the ordered event log.
    """

    roles: frozenset[Role] = frozenset()
    delegate_id: str | None = None
    # Named persons (by person id) besides the roles: the counting committee of one poll.
    members: frozenset[str] = frozenset()

    def admits(self, actor: Actor) -> bool:
        if not self.roles.isdisjoint(actor.roles):
            return True
        if actor.person_id is None:
            return False
        return actor.person_id == self.delegate_id or actor.person_id in self.members

    @property
    def sealed(self) -> bool:
        return not self.roles and self.delegate_id is None and not self.members


_HALL = frozenset({Role.ADMIN, Role.SECRETARY, Role.CHAIR, Role.DELEGATE, Role.RESPONDENT, Role.COMMITTEE})

EVERYONE = Audience(roles=frozenset(Role))  # the hall, the public, and the roles of the petitions register
DELEGATES = Audience(roles=_HALL)  # everyone in the hall (delegates, chair, secretariat...), not the public
STAFF = Audience(roles=frozenset({Role.ADMIN, Role.SECRETARY, Role.CHAIR}))


def committee_of(members: list[str]) -> Audience:
    """Staff and the named members of one counting committee (not every account with the committee role)."""
    return Audience(roles=STAFF.roles, members=frozenset(members))


SEALED = Audience()


def only(delegate_id: str) -> Audience:
    return Audience(delegate_id=delegate_id)


def staff_and(delegate_id: str) -> Audience:
    return Audience(roles=STAFF.roles, delegate_id=delegate_id)
