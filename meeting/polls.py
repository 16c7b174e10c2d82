"""Confidence polls: lấy phiếu tín nhiệm and bỏ phiếu tín nhiệm (NQ 96/2023/QH15).

One secret ballot lists several officials. In a rating poll (lấy phiếu tín nhiệm) each official is marked
"tín nhiệm cao", "tín nhiệm" or "tín nhiệm thấp"; in a confidence vote (bỏ phiếu tín nhiệm) "tín nhiệm" or
"không tín nhiệm". A counting committee (Ban kiểm phiếu) whose members are not on the ballot counts it, and the
result is published to everyone only once a majority of that committee has certified it.

Lifecycle: DRAFT → (committee appointed) → OPEN → COUNTED → CERTIFIED; CANCELLED from DRAFT or OPEN. A poll
held on paper goes from DRAFT (or OPEN with no electronic ballot) to COUNTED when the secretariat enters the
committee's figures.

Secrecy is that of a secret vote: a ballot yields three unlinked events — *that* the delegate voted (staff
and that delegate), the anonymous marks (sealed: no delegate, no receipt, no time, no counter) and the delegate's
receipt (only to them). The receipt is deliberately not linked to the marks; the certified result lists every
counted receipt so each delegate can check their ballot was counted.

Live count: as for votes (meeting/votes.py), the hall and the public get `PollProgress` — the number of ballots
collected so far, at most every 250 ms while ballots arrive — instead of one message per ballot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from meeting.actors import EVERYONE, SEALED, Context, Role, committee_of, only, staff_and
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall, SessionStatus
from meeting.messages import Command, Event, Routed
from meeting.rules import BallotMode, Base, Threshold
from meeting.votes import CeremonyKeys

# Ids are made by clients (slugs or UUIDs); 64 characters hold a UUID with a prefix.
MAX_ID = 64
# Names and positions ("Phó Chủ tịch Ủy ban nhân dân tỉnh phụ trách khối kinh tế") fit in 200 characters.
MAX_NAME = 200
# A cancellation reason is a sentence or a short paragraph for the minutes.
MAX_TEXT = 2000
# NQ 96/2023/QH15: a province rates the HĐND chair, vice-chairs and heads of its committees and every UBND
# member — about 30–40 people. 100 leaves room for any council while bounding what one command may carry.
MAX_OFFICIALS = 100
# A poll stays open for the ballot period of one sitting; 4 hours bounds a mistyped timer.
MAX_POLL_SECONDS = 4 * 3600
# A receipt must be unguessable by another delegate: 16 characters of CSPRNG output carry at least 64 bits.
MIN_RECEIPT = 16

# "Quá nửa" is strictly more than half. The counting minutes (biên bản kiểm phiếu) are signed by the
# committee; we publish once more than half of the members have certified, so that one absent member cannot
# block publication while no minority can publish alone.
MORE_THAN_HALF = Threshold(num=1, den=2, strict=True)


class PollKind(StrEnum):
    RATING = "rating"  # lấy phiếu tín nhiệm
    CONFIDENCE_VOTE = "confidence_vote"  # bỏ phiếu tín nhiệm

    @property
    def label_vi(self) -> str:
        return "Lấy phiếu tín nhiệm" if self is PollKind.RATING else "Bỏ phiếu tín nhiệm"

    @property
    def levels(self) -> tuple[Mark, ...]:
        """The boxes next to each official's name, in ballot order."""
        if self is PollKind.RATING:
            return (Mark.HIGH, Mark.TRUST, Mark.LOW)
        return (Mark.TRUST, Mark.NO_TRUST)

    @property
    def adverse(self) -> Mark:
        """The level whose count decides the consequence."""
        return Mark.LOW if self is PollKind.RATING else Mark.NO_TRUST


class Mark(StrEnum):
    HIGH = "high"  # tín nhiệm cao
    TRUST = "trust"  # tín nhiệm
    LOW = "low"  # tín nhiệm thấp
    NO_TRUST = "no_trust"  # không tín nhiệm
    # Not a box on the ballot: what an official counts as when the ballot marks none or several of their boxes.
    INVALID = "invalid"

    @property
    def label_vi(self) -> str:
        return _MARK_VI[self]


_MARK_VI = {
    Mark.HIGH: "Tín nhiệm cao",
    Mark.TRUST: "Tín nhiệm",
    Mark.LOW: "Tín nhiệm thấp",
    Mark.NO_TRUST: "Không tín nhiệm",
    Mark.INVALID: "Không hợp lệ",
}


class PollStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    COUNTED = "counted"
    CERTIFIED = "certified"
    CANCELLED = "cancelled"

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    PollStatus.DRAFT: "đang chuẩn bị",
    PollStatus.OPEN: "đang bỏ phiếu",
    PollStatus.COUNTED: "đã kiểm phiếu, chờ xác nhận",
    PollStatus.CERTIFIED: "đã công bố kết quả",
    PollStatus.CANCELLED: "đã hủy",
}


class Consequence(StrEnum):
    NONE = "none"
    # NQ 96/2023/QH15: more than 1/2 and less than 2/3 "tín nhiệm thấp".
    MAY_RESIGN_OR_CONFIDENCE_VOTE = "may_resign_or_confidence_vote"
    # NQ 96/2023/QH15: 2/3 or more "tín nhiệm thấp", or more than half "không tín nhiệm" in a confidence vote.
    DISMISSAL_PROPOSED = "dismissal_proposed"

    @property
    def label_vi(self) -> str:
        return _CONSEQUENCE_VI[self]


_CONSEQUENCE_VI = {
    Consequence.NONE: "Không phát sinh hệ quả",
    Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE: (
        "Có thể xin từ chức; nếu không, Thường trực HĐND trình HĐND bỏ phiếu tín nhiệm"
    ),
    # NQ 96/2023/QH15: from 2/3 "tín nhiệm thấp", or more than half "không tín nhiệm" in a confidence vote, the body
    # or person who nominated the official "trình Hội đồng nhân dân miễn nhiệm" — miễn nhiệm relieves an official
    # the council elected. Bãi nhiệm is the removal of a *delegate* (Law 77/2015/QH13 art. 91(3), 102(3); Constitution
    # 2013 art. 7(2)) and is no consequence of a confidence poll. (The resolution's article numbers could not be
    # checked against the gazette text offline; the wording is its own.)
    Consequence.DISMISSAL_PROPOSED: "Trình Hội đồng nhân dân miễn nhiệm",
}


class Official(msgspec.Struct, frozen=True, kw_only=True):
    """A person on the ballot. Most are not delegates (UBND members, heads of departments); the council chair
    and vice-chairs are, hence `delegate_id` — such a delegate may not sit on the counting committee."""

    id: str
    name: str
    position: str
    delegate_id: str | None = None


class OfficialResult(msgspec.Struct, frozen=True, kw_only=True):
    official_id: str
    name: str
    position: str
    counts: dict[str, int]  # every level of the poll's kind, in ballot order
    invalid: int
    # Display only, 2 decimals, rounded half up; the consequence is decided on the integer counts.
    percentages: dict[str, float]
    invalid_percentage: float
    consequence: Consequence
    consequence_vi: str


class PollResult(msgspec.Struct, frozen=True, kw_only=True):
    poll_id: str
    kind: PollKind
    kind_vi: str
    paper: bool
    total_delegates: int
    ballots_collected: int
    base: Base  # what the percentages and consequences are computed over
    base_size: int
    officials: list[OfficialResult]


class Poll(msgspec.Struct, kw_only=True):
    id: str
    item_id: str
    kind: PollKind
    officials: list[Official]
    status: PollStatus = PollStatus.DRAFT
    committee: list[str] = []
    eligible: set[str] = msgspec.field(default_factory=set)
    present_at_open: set[str] = msgspec.field(default_factory=set)
    present_at_close: set[str] = msgspec.field(default_factory=set)
    opened_at: datetime | None = None
    closes_at: datetime | None = None
    closed_at: datetime | None = None
    # Only staff see every `PollDelegateVoted`: in a delegate's view `voted` holds at most themself, and
    # `ballots_collected` is the newest number that view has seen (its own ballot's or a `PollProgress`).
    voted: set[str] = msgspec.field(default_factory=set)
    receipts: set[str] = msgspec.field(default_factory=set)
    ballots_collected: int = 0
    # The number of ballots as last announced to everyone (`PollProgress`).
    ballots_reported: int = 0
    # official id -> level (or "invalid") -> count. Filled by sealed ballots while open; never sent to anyone
    # before the count.
    counts: dict[str, dict[str, int]] = {}
    paper: bool = False
    result: PollResult | None = None
    certified_by: list[str] = []
    published_at: datetime | None = None
    # The counted receipts published with the result, kept so a delegate reconnecting later can check theirs.
    published_receipts: list[str] = []
    cancel_reason: str = ""
    cancelled_at: datetime | None = None
    # Verifiable polls (meeting/verifiable_polls.py): the ceremony's key, the cast ballots (proofs checked) and
    # the committee members' accepted partial decryptions. Sealed polls leave these empty.
    mode: BallotMode = BallotMode.SEALED
    ceremony_id: str | None = None
    joint_key: str = ""
    fingerprint: str = ""
    ballots: list[dict[str, Any]] = []
    trackers: set[str] = msgspec.field(default_factory=set)
    partials: dict[str, dict[str, Any]] = {}

    def official(self, official_id: str) -> Official | None:
        return next((o for o in self.officials if o.id == official_id), None)


class Polls(msgspec.Struct, kw_only=True):
    polls: dict[str, Poll] = {}


# --- commands
class CreatePoll(Command, frozen=True, kw_only=True, tag="create_poll"):
    poll_id: str
    item_id: str
    kind: PollKind
    officials: list[Official]


class AppointCommittee(Command, frozen=True, kw_only=True, tag="appoint_poll_committee"):
    """The council elects the Ban kiểm phiếu; the chair records the members."""

    poll_id: str
    members: list[str]


class OpenPoll(Command, frozen=True, kw_only=True, tag="open_poll"):
    poll_id: str
    duration_seconds: int | None = None
    # None takes the council's `Rules.secret_mode`; a verifiable poll names a completed key ceremony whose
    # members are the poll's committee (meeting/verifiable_polls.py).
    mode: BallotMode | None = None
    ceremony_id: str | None = None


class CastPollBallot(Command, frozen=True, kw_only=True, tag="cast_poll_ballot"):
    """`marks` maps an official id to the boxes ticked for them: one box is a valid mark; none or several make
    the ballot invalid for that official only, as on paper. An official left out counts as no mark."""

    poll_id: str
    delegate_id: str
    marks: dict[str, list[str]]


class ClosePoll(Command, frozen=True, kw_only=True, tag="close_poll"):
    poll_id: str


class CertifyPoll(Command, frozen=True, kw_only=True, tag="certify_poll"):
    poll_id: str


class EnterPaperPollResult(Command, frozen=True, kw_only=True, tag="enter_paper_poll_result"):
    """The committee's figures from a paper ballot: official id -> level or "invalid" -> count (a key left out
    is 0). Per official the counts add up to `ballots_collected`."""

    poll_id: str
    ballots_collected: int
    counts: dict[str, dict[str, int]]


class CancelPoll(Command, frozen=True, kw_only=True, tag="cancel_poll"):
    poll_id: str
    reason: str


class ReportPollProgress(Command, frozen=True, kw_only=True, tag="report_poll_progress"):
    """Announce the number of ballots collected so far to everyone (sent by the server's clock, chair authority)."""

    poll_id: str


# --- events
class PollCreated(Event, frozen=True, kw_only=True, tag="poll_created"):
    poll_id: str
    item_id: str
    kind: PollKind
    officials: list[Official]


class PollCommitteeAppointed(Event, frozen=True, kw_only=True, tag="poll_committee_appointed"):
    poll_id: str
    members: list[str]


class PollOpened(Event, frozen=True, kw_only=True, tag="poll_opened"):
    poll_id: str
    at: datetime
    closes_at: datetime | None
    eligible: list[str]  # seated delegates when the poll opened
    present: list[str]  # those of them checked in
    mode: BallotMode = BallotMode.SEALED
    ceremony_id: str | None = None
    joint_key: str = ""
    fingerprint: str = ""


class PollDelegateVoted(Event, frozen=True, kw_only=True, tag="poll_delegate_voted"):
    """That a delegate has voted (locks a second ballot) and the live number of ballots; never what. Staff and
    the voter only."""

    poll_id: str
    delegate_id: str
    ballots_collected: int


class PollProgress(Event, frozen=True, kw_only=True, tag="poll_progress"):
    """The number of ballots collected so far, for everyone: no delegate, no mark."""

    poll_id: str
    ballots_collected: int


class SealedPollBallot(Event, frozen=True, kw_only=True, tag="sealed_poll_ballot"):
    """The anonymous content of one ballot: every official on the ballot, in ballot order, with the level
    counted for them or "invalid". Canonical, so no ordering or duplicate ticks can fingerprint a ballot."""

    poll_id: str
    marks: dict[str, Mark]


class PollReceipt(Event, frozen=True, kw_only=True, tag="poll_receipt"):
    poll_id: str
    delegate_id: str
    receipt: str


class PollClosed(Event, frozen=True, kw_only=True, tag="poll_closed"):
    """Balloting is over and the count is with the committee; says nothing of the result."""

    poll_id: str
    at: datetime
    present: list[str]
    paper: bool


class PollCounted(Event, frozen=True, kw_only=True, tag="poll_counted"):
    poll_id: str
    result: PollResult


class PollCertifiedBy(Event, frozen=True, kw_only=True, tag="poll_certified_by"):
    poll_id: str
    member_id: str
    certified: int
    needed: int


class PollPublished(Event, frozen=True, kw_only=True, tag="poll_published"):
    poll_id: str
    at: datetime
    result: PollResult
    receipts: list[str]  # sorted, so their order says nothing about who voted when
    certified_by: list[str]


class PollCancelled(Event, frozen=True, kw_only=True, tag="poll_cancelled"):
    poll_id: str
    reason: str
    at: datetime


COMMANDS: tuple[type[Command], ...] = (
    CreatePoll,
    AppointCommittee,
    OpenPoll,
    CastPollBallot,
    ClosePoll,
    CertifyPoll,
    EnterPaperPollResult,
    CancelPoll,
    ReportPollProgress,
)
EVENTS: tuple[type[Event], ...] = (
    PollCreated,
    PollCommitteeAppointed,
    PollOpened,
    PollDelegateVoted,
    PollProgress,
    SealedPollBallot,
    PollReceipt,
    PollClosed,
    PollCounted,
    PollCertifiedBy,
    PollPublished,
    PollCancelled,
)

_NOT_CLOSED = (
    SessionStatus.PREPARED,
    SessionStatus.CHECKIN_OPEN,
    SessionStatus.IN_PROGRESS,
    SessionStatus.SUSPENDED,
)
# A timer or the chair may end balloting, and the secretariat enter paper figures, during a suspension.
_SITTING = (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)


# --- helpers
def _valid_id(value: str) -> bool:
    return bool(value.strip()) and len(value) <= MAX_ID


def require_poll(state: Polls, poll_id: str) -> Poll:
    poll = state.polls.get(poll_id)
    if poll is None:
        raise DomainError(Code.UNKNOWN_POLL, id=poll_id)
    return poll


def _open_poll_for_chair(hall: Hall, state: Polls, ctx: Context, poll_id: str) -> Poll:
    """The open poll the chair acts on while the session sits (closing it, announcing its count)."""
    ctx.actor.require(Role.CHAIR)
    hall.require_status(*_SITTING)
    poll = require_poll(state, poll_id)
    if poll.status is not PollStatus.OPEN:
        raise DomainError(Code.POLL_NOT_OPEN, id=poll.id)
    return poll


def _require_poll_status(poll: Poll, *allowed: PollStatus) -> None:
    if poll.status not in allowed:
        raise DomainError(Code.WRONG_POLL_STATE, id=poll.id, state_vi=poll.status.label_vi, state_en=poll.status)


def _counting_keys(kind: PollKind) -> tuple[Mark, ...]:
    return (*kind.levels, Mark.INVALID)


def _percent(count: int, base_size: int) -> float:
    """count / base as a percentage, 2 decimals rounded half up in integers (no binary edge at .xx5)."""
    if base_size <= 0:
        return 0.0
    hundredths = (count * 20000 + base_size) // (2 * base_size)
    return hundredths / 100


def _base_size(base: Base, hall: Hall, poll: Poll, ballots: int) -> int:
    if base is Base.BALLOTS_COLLECTED:
        return ballots
    if base is Base.ALL_DELEGATES:
        return hall.total
    # A paper poll entered from DRAFT never opened: those present at the count stand in.
    return len(poll.present_at_open) if poll.opened_at is not None else len(hall.present_seated())


def consequence(kind: PollKind, adverse: int, base_size: int, base: Base) -> Consequence:
    """NQ 96/2023/QH15, decided on integers over `base_size`.

    Rating: "tín nhiệm thấp" from 2/3 of the base → dismissal proposed; more than 1/2 (strictly: exactly half
    is not "quá nửa") → may resign, else a confidence vote. Confidence vote: more than half "không tín nhiệm"
    → dismissal proposed.
    """
    more_than_half = Threshold(num=1, den=2, strict=True, base=base)
    if kind is PollKind.RATING:
        if Threshold(num=2, den=3, strict=False, base=base).met(adverse, base_size):
            return Consequence.DISMISSAL_PROPOSED
        if more_than_half.met(adverse, base_size):
            return Consequence.MAY_RESIGN_OR_CONFIDENCE_VOTE
        return Consequence.NONE
    if more_than_half.met(adverse, base_size):
        return Consequence.DISMISSAL_PROPOSED
    return Consequence.NONE


def tally(hall: Hall, poll: Poll, counts: dict[str, dict[str, int]], ballots: int, *, paper: bool) -> PollResult:
    base = hall.rules.poll_base if poll.kind is PollKind.RATING else hall.rules.confidence_vote_base
    size = _base_size(base, hall, poll, ballots)
    officials = []
    for o in poll.officials:
        per = counts[o.id]
        levels = {m.value: per.get(m, 0) for m in poll.kind.levels}
        bad = per.get(Mark.INVALID, 0)
        c = consequence(poll.kind, levels[poll.kind.adverse], size, base)
        officials.append(
            OfficialResult(
                official_id=o.id,
                name=o.name,
                position=o.position,
                counts=levels,
                invalid=bad,
                percentages={k: _percent(v, size) for k, v in levels.items()},
                invalid_percentage=_percent(bad, size),
                consequence=c,
                consequence_vi=c.label_vi,
            )
        )
    return PollResult(
        poll_id=poll.id,
        kind=poll.kind,
        kind_vi=poll.kind.label_vi,
        paper=paper,
        total_delegates=hall.total,
        ballots_collected=ballots,
        base=base,
        base_size=size,
        officials=officials,
    )


def _check_officials(hall: Hall, officials: list[Official]) -> list[Official]:
    if not officials or len(officials) > MAX_OFFICIALS:
        raise invalid(
            f"phiếu phải có từ 1 đến {MAX_OFFICIALS} người được lấy phiếu",
            f"a ballot lists 1 to {MAX_OFFICIALS} officials",
        )
    ids: set[str] = set()
    delegates: set[str] = set()
    clean = []
    for o in officials:
        if not _valid_id(o.id):
            raise invalid("mã người được lấy phiếu trống hoặc quá dài", "an official's id is empty or too long")
        if o.id in ids:
            raise DomainError(Code.DUPLICATE_ID, id=o.id)
        ids.add(o.id)
        name, position = o.name.strip(), o.position.strip()
        if not name or len(name) > MAX_NAME or not position or len(position) > MAX_NAME:
            raise invalid(
                f"họ tên hoặc chức vụ của {o.id} trống hoặc quá dài",
                f"the name or position of {o.id} is empty or too long",
            )
        if o.delegate_id is not None:
            hall.require_delegate(o.delegate_id)
            if o.delegate_id in delegates:
                raise DomainError(Code.DUPLICATE_ID, id=o.delegate_id)
            delegates.add(o.delegate_id)
        clean.append(Official(id=o.id, name=name, position=position, delegate_id=o.delegate_id))
    return clean


def _sealed_marks(poll: Poll, marks: dict[str, list[str]]) -> dict[str, Mark]:
    allowed = {m.value: m for m in poll.kind.levels}
    for official_id in marks:
        if poll.official(official_id) is None:
            raise DomainError(Code.UNKNOWN_OFFICIAL, id=official_id)
    for official_id, ticked in marks.items():
        if len(ticked) > len(allowed) or len(set(ticked)) != len(ticked):
            raise invalid(
                f"một ô được đánh dấu hai lần cho {official_id}",
                f"a box is ticked twice for {official_id}",
            )
        for level in ticked:
            if level not in allowed:
                raise invalid(f"mức «{level[:MAX_ID]}» không có trong phiếu", f"no such level: {level[:MAX_ID]!r}")
    sealed = {}
    for o in poll.officials:
        ticked = marks.get(o.id, [])
        sealed[o.id] = allowed[ticked[0]] if len(ticked) == 1 else Mark.INVALID
    return sealed


def _paper_counts(hall: Hall, poll: Poll, cmd: EnterPaperPollResult) -> dict[str, dict[str, int]]:
    def bad(vi: str, en: str) -> DomainError:
        return DomainError(Code.COUNTS_INVALID, reason_vi=vi, reason_en=en)

    if not 0 <= cmd.ballots_collected <= hall.total:
        raise bad(
            f"số phiếu thu về phải từ 0 đến {hall.total}",
            f"ballots collected must be between 0 and {hall.total}",
        )
    for official_id in cmd.counts:
        if poll.official(official_id) is None:
            raise DomainError(Code.UNKNOWN_OFFICIAL, id=official_id)
    keys = _counting_keys(poll.kind)
    allowed = {m.value for m in keys}
    counts: dict[str, dict[str, int]] = {}
    for o in poll.officials:
        given = cmd.counts.get(o.id)
        if given is None:
            raise bad(f"thiếu số phiếu của {o.id}", f"no counts for {o.id}")
        for level, n in given.items():
            if level not in allowed:
                raise invalid(f"mức «{level[:MAX_ID]}» không có trong phiếu", f"no such level: {level[:MAX_ID]!r}")
            if n < 0:
                raise bad(f"số phiếu âm cho {o.id}", f"a negative count for {o.id}")
        per = {m.value: given.get(m, 0) for m in keys}
        if sum(per.values()) != cmd.ballots_collected:
            raise bad(
                f"số phiếu của {o.id} cộng lại là {sum(per.values())}, khác số phiếu thu về {cmd.ballots_collected}",
                f"the counts for {o.id} add up to {sum(per.values())}, not {cmd.ballots_collected} ballots",
            )
        counts[o.id] = per
    return counts


# --- decide
def check_cast(hall: Hall, poll: Poll, delegate_id: str, ctx: Context) -> str:
    """Who casts a ballot in this poll, if they may now (sealed and verifiable polls alike)."""
    hall.require_running()
    if poll.status is not PollStatus.OPEN or (poll.closes_at is not None and ctx.now >= poll.closes_at):
        raise DomainError(Code.POLL_NOT_OPEN, id=poll.id)
    me = hall.acting_delegate(ctx, delegate_id)
    if me not in poll.eligible:
        raise DomainError(Code.NOT_ELIGIBLE, id=me)
    if hall.rules.presence_required and me not in hall.present:
        raise DomainError(Code.ABSENT, id=me)
    if me in poll.voted:
        raise DomainError(Code.ALREADY_VOTED)
    return me


def _mode(hall: Hall, poll: Poll, cmd: OpenPoll, keys: Mapping[str, CeremonyKeys]) -> CeremonyKeys | None:
    """The completed ceremony of a verifiable poll (None: sealed), as meeting/votes.py `_mode` for rounds."""
    mode = cmd.mode or hall.rules.secret_mode
    if mode is BallotMode.SEALED:
        if cmd.ceremony_id is not None:
            raise invalid("cuộc lấy phiếu niêm phong không dùng phiên tạo khóa", "a sealed poll takes no key ceremony")
        return None
    if cmd.ceremony_id is None or cmd.ceremony_id not in keys:
        raise DomainError(Code.UNKNOWN_CEREMONY, id=(cmd.ceremony_id or "?")[:MAX_ID])
    k = keys[cmd.ceremony_id]
    if sorted(poll.committee) != sorted(k.members):
        raise invalid(
            "Ban kiểm phiếu phải là các thành viên của phiên tạo khóa",
            "the committee must be the key ceremony's members",
        )
    return k


def wrong_mode(poll: Poll) -> DomainError:
    if poll.mode is BallotMode.VERIFIABLE:
        return DomainError(
            Code.WRONG_POLL_MODE,
            id=poll.id,
            expected_vi="là cuộc bỏ phiếu kín có thể kiểm chứng: phiếu được mã hóa trên máy, Ban kiểm phiếu xác nhận "
            "bằng phần giải mã của từng thành viên",
            expected_en="is verifiable: ballots are encrypted on the device and the committee certifies by decrypting",
        )
    return DomainError(
        Code.WRONG_POLL_MODE,
        id=poll.id,
        expected_vi="không phải cuộc bỏ phiếu kín có thể kiểm chứng",
        expected_en="is not a verifiable poll",
    )


def decide(
    hall: Hall, state: Polls, cmd: Command, ctx: Context, keys: Mapping[str, CeremonyKeys] | None = None
) -> list[Routed]:
    match cmd:
        case CreatePoll():
            ctx.actor.require(Role.SECRETARY, Role.CHAIR)
            hall.require_status(*_NOT_CLOSED)
            if not _valid_id(cmd.poll_id) or not _valid_id(cmd.item_id):
                raise invalid("mã cuộc lấy phiếu hoặc nội dung trống hoặc quá dài", "poll or item id empty or too long")
            if cmd.poll_id in state.polls:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.poll_id)
            officials = _check_officials(hall, cmd.officials)
            ev: Event = PollCreated(poll_id=cmd.poll_id, item_id=cmd.item_id, kind=cmd.kind, officials=officials)
            return [Routed(event=ev, audience=EVERYONE)]

        case AppointCommittee():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            poll = require_poll(state, cmd.poll_id)
            _require_poll_status(poll, PollStatus.DRAFT)
            if len(cmd.members) > hall.total or len(set(cmd.members)) != len(cmd.members):
                raise invalid(
                    "danh sách Ban kiểm phiếu có người trùng hoặc quá dài",
                    "the committee list repeats someone or is too long",
                )
            on_ballot = {o.delegate_id for o in poll.officials if o.delegate_id is not None}
            for member in cmd.members:
                hall.require_delegate(member)
                if member in on_ballot:
                    raise DomainError(Code.COMMITTEE_ON_BALLOT, id=member)
            if len(cmd.members) < hall.rules.committee_min:
                raise DomainError(Code.COMMITTEE_TOO_SMALL, needed=hall.rules.committee_min, size=len(cmd.members))
            ev = PollCommitteeAppointed(poll_id=poll.id, members=list(cmd.members))
            return [Routed(event=ev, audience=EVERYONE)]

        case OpenPoll():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            poll = require_poll(state, cmd.poll_id)
            _require_poll_status(poll, PollStatus.DRAFT)
            if not poll.committee:
                raise DomainError(Code.COMMITTEE_MISSING)
            closes_at = None
            if cmd.duration_seconds is not None:
                if not 1 <= cmd.duration_seconds <= MAX_POLL_SECONDS:
                    raise invalid(
                        f"thời gian bỏ phiếu phải từ 1 đến {MAX_POLL_SECONDS} giây",
                        f"the duration must be 1 to {MAX_POLL_SECONDS} seconds",
                    )
                closes_at = ctx.now + timedelta(seconds=cmd.duration_seconds)
            k = _mode(hall, poll, cmd, keys or {})
            ev = PollOpened(
                poll_id=poll.id,
                at=ctx.now,
                closes_at=closes_at,
                eligible=sorted(hall.seated_ids()),
                present=sorted(hall.present_seated()),
                mode=BallotMode.SEALED if k is None else BallotMode.VERIFIABLE,
                ceremony_id=None if k is None else k.ceremony_id,
                joint_key="" if k is None else k.joint_key,
                fingerprint="" if k is None else k.fingerprint,
            )
            return [Routed(event=ev, audience=EVERYONE)]

        case CastPollBallot():
            poll = require_poll(state, cmd.poll_id)
            if poll.mode is BallotMode.VERIFIABLE:
                raise wrong_mode(poll)
            me = check_cast(hall, poll, cmd.delegate_id, ctx)
            if len(ctx.nonce) < MIN_RECEIPT or ctx.nonce in poll.receipts:
                raise invalid("không tạo được biên nhận phiếu", "no fresh receipt token for this ballot")
            sealed = _sealed_marks(poll, cmd.marks)
            return [
                # Staff and the voter: the hall learns the count from `PollProgress` (module docstring).
                Routed(
                    event=PollDelegateVoted(poll_id=poll.id, delegate_id=me, ballots_collected=len(poll.voted) + 1),
                    audience=staff_and(me),
                ),
                Routed(event=SealedPollBallot(poll_id=poll.id, marks=sealed), audience=SEALED),
                Routed(event=PollReceipt(poll_id=poll.id, delegate_id=me, receipt=ctx.nonce), audience=only(me)),
            ]

        case ClosePoll():
            poll = _open_poll_for_chair(hall, state, ctx, cmd.poll_id)
            present = sorted(hall.present_seated())
            if poll.mode is BallotMode.VERIFIABLE:
                # Nobody holds a count: the committee's partial decryptions give it (meeting/verifiable_polls.py).
                closed = PollClosed(poll_id=poll.id, at=ctx.now, present=present, paper=False)
                return [Routed(event=closed, audience=EVERYONE)]
            result = tally(hall, poll, poll.counts, len(poll.voted), paper=False)
            return [
                Routed(event=PollClosed(poll_id=poll.id, at=ctx.now, present=present, paper=False), audience=EVERYONE),
                Routed(event=PollCounted(poll_id=poll.id, result=result), audience=committee_of(poll.committee)),
            ]

        case EnterPaperPollResult():
            ctx.actor.require(Role.SECRETARY)
            hall.require_status(*_SITTING)
            poll = require_poll(state, cmd.poll_id)
            _require_poll_status(poll, PollStatus.DRAFT, PollStatus.OPEN)
            if not poll.committee:
                raise DomainError(Code.COMMITTEE_MISSING)
            if poll.mode is BallotMode.VERIFIABLE:
                raise wrong_mode(poll)
            if poll.voted:
                raise invalid(
                    "đã có phiếu điện tử, không thể nhập thêm kết quả phiếu giấy",
                    "electronic ballots were cast; paper figures would count twice",
                )
            counts = _paper_counts(hall, poll, cmd)
            result = tally(hall, poll, counts, cmd.ballots_collected, paper=True)
            present = sorted(hall.present_seated())
            return [
                Routed(event=PollClosed(poll_id=poll.id, at=ctx.now, present=present, paper=True), audience=EVERYONE),
                Routed(event=PollCounted(poll_id=poll.id, result=result), audience=committee_of(poll.committee)),
            ]

        case CertifyPoll():
            poll = require_poll(state, cmd.poll_id)
            person = ctx.actor.person_id
            if person is None or person not in poll.committee:
                raise DomainError(Code.NOT_ON_COMMITTEE, id=person or "?")
            if poll.mode is BallotMode.VERIFIABLE:
                raise wrong_mode(poll)
            _require_poll_status(poll, PollStatus.COUNTED, PollStatus.CERTIFIED)
            if person in poll.certified_by:
                raise DomainError(Code.ALREADY_CERTIFIED)
            assert poll.result is not None
            needed = MORE_THAN_HALF.minimum(len(poll.committee))
            certified = len(poll.certified_by) + 1
            routed = [
                Routed(
                    event=PollCertifiedBy(poll_id=poll.id, member_id=person, certified=certified, needed=needed),
                    audience=committee_of(poll.committee),
                )
            ]
            # Members who sign after publication complete the minutes; the result is published once.
            if poll.status is PollStatus.COUNTED and certified == needed:
                ev = PollPublished(
                    poll_id=poll.id,
                    at=ctx.now,
                    result=poll.result,
                    receipts=sorted(poll.receipts),
                    certified_by=[*poll.certified_by, person],
                )
                routed.append(Routed(event=ev, audience=EVERYONE))
            return routed

        case ReportPollProgress():
            poll = _open_poll_for_chair(hall, state, ctx, cmd.poll_id)
            collected = len(poll.voted)
            if collected == poll.ballots_reported:
                # Several workers may ask for the same report; only a new number is worth a message to everyone.
                raise DomainError(Code.PROGRESS_UNCHANGED, id=poll.id, count=collected)
            return [Routed(event=PollProgress(poll_id=poll.id, ballots_collected=collected), audience=EVERYONE)]

        case CancelPoll():
            ctx.actor.require(Role.CHAIR)
            poll = require_poll(state, cmd.poll_id)
            _require_poll_status(poll, PollStatus.DRAFT, PollStatus.OPEN)
            reason = cmd.reason.strip()
            if not reason or len(reason) > MAX_TEXT:
                raise invalid("lý do hủy trống hoặc quá dài", "the reason is empty or too long")
            return [Routed(event=PollCancelled(poll_id=poll.id, reason=reason, at=ctx.now), audience=EVERYONE)]
    raise AssertionError(f"not a poll command: {cmd!r}")


# --- apply
def apply(state: Polls, event: Event) -> None:
    match event:
        case PollCreated():
            state.polls[event.poll_id] = Poll(
                id=event.poll_id,
                item_id=event.item_id,
                kind=event.kind,
                officials=list(event.officials),
                counts={o.id: {m.value: 0 for m in _counting_keys(event.kind)} for o in event.officials},
            )
        case PollCommitteeAppointed():
            state.polls[event.poll_id].committee = list(event.members)
        case PollOpened():
            poll = state.polls[event.poll_id]
            poll.status = PollStatus.OPEN
            poll.opened_at = event.at
            poll.closes_at = event.closes_at
            poll.eligible = set(event.eligible)
            poll.present_at_open = set(event.present)
            poll.mode = event.mode
            poll.ceremony_id = event.ceremony_id
            poll.joint_key = event.joint_key
            poll.fingerprint = event.fingerprint
        case PollDelegateVoted():
            poll = state.polls[event.poll_id]
            poll.voted.add(event.delegate_id)
            poll.ballots_collected = event.ballots_collected
        case PollProgress():
            poll = state.polls[event.poll_id]
            poll.ballots_reported = event.ballots_collected
            # A no-op in the full state (it already counts every ballot); in a view it is the newest number.
            poll.ballots_collected = max(poll.ballots_collected, event.ballots_collected)
        case SealedPollBallot():
            counts = state.polls[event.poll_id].counts
            for official_id, mark in event.marks.items():
                counts[official_id][mark.value] += 1
        case PollReceipt():
            state.polls[event.poll_id].receipts.add(event.receipt)
        case PollClosed():
            poll = state.polls[event.poll_id]
            poll.status = PollStatus.COUNTED
            poll.closed_at = event.at
            poll.present_at_close = set(event.present)
            poll.paper = event.paper
        case PollCounted():
            poll = state.polls[event.poll_id]
            poll.result = event.result
            poll.ballots_collected = event.result.ballots_collected
            poll.counts = {r.official_id: {**r.counts, Mark.INVALID.value: r.invalid} for r in event.result.officials}
        case PollCertifiedBy():
            state.polls[event.poll_id].certified_by.append(event.member_id)
        case PollPublished():
            poll = state.polls[event.poll_id]
            poll.status = PollStatus.CERTIFIED
            poll.published_at = event.at
            poll.published_receipts = list(event.receipts)
            # Those who do not see the committee's count (the public, delegates) learn the result here.
            poll.result = event.result
            if poll.mode is BallotMode.VERIFIABLE:  # certified by decrypting: no `PollCertifiedBy` before
                poll.certified_by = list(event.certified_by)
        case PollCancelled():
            poll = state.polls[event.poll_id]
            poll.status = PollStatus.CANCELLED
            poll.cancel_reason = event.reason
            poll.cancelled_at = event.at
        case _:
            raise AssertionError(f"not a poll event: {event!r}")


def busy(state: Polls) -> bool:
    """A poll collecting ballots, or counted but not yet certified, keeps the session from closing: once closed
    a session takes no command, so an uncertified result could never be published."""
    return any(p.status in (PollStatus.OPEN, PollStatus.COUNTED) for p in state.polls.values())
