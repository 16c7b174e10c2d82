"""Voting (biểu quyết): open (named) and secret rounds, electronic or on paper, and their results.

A round is opened by the chair on the item under consideration, collects at most one ballot per eligible
delegate (a ballot is locked once cast: "không được biểu quyết lại") and is closed by the chair or the
server's timer, or cancelled. The result counts every option, shows its share of *all* delegates and decides
"passed" with integer thresholds (Law on Local Government 77/2015/QH13 art. 91(3)).

Secrecy. A secret ballot produces three facts that are never joined in one event:
- `DelegateVoted` (who voted; in the ordered log, so a second ballot is refused; seen by staff and the voter),
- `SecretBallot` (the anonymous choice; audience SEALED, no delegate, receipt, time or counter, so the store can
  keep it apart from the ordered log),
- `BallotReceipt` (delegate -> receipt, seen by that delegate only).
The receipt is deliberately not linked to the choice: the delegate -> receipt pair is stored in the ordered
log, so a receipt that also named the choice would let anyone reading the log link delegates to choices. A
receipt proves "my ballot was counted" (it is in the list published at close), never what it was.

Live count. The hall and the public do not get a message per ballot: with D tablets connected that is D sends
per ballot and D² per round (125 tablets: 15 625 sends for one vote). They get `RoundProgress`, the number of
ballots cast so far, which the server's clock asks for with `ReportProgress` at most every 250 ms per round while
ballots arrive (server/engine.py). It carries a number only — never who, never what — so it goes to everyone,
the livestream included ("đã biểu quyết 40/50").

Kinds. A round says what it decides (`VoteKind`): a resolution (more than half of all delegates, or a stricter
rule), the removal of a delegate (bãi nhiệm: two thirds of all, naming the delegate), or a procedural question
(any rule, never numbered as a resolution). A rule the law does not allow for the kind is refused at open.

Certification. A secret round with a counting committee (on by default: `Rules.secret_certification`) is not
announced at close: `RoundBallotsClosed` tells everyone balloting ended, `RoundCounted` gives the count to staff
and the committee, and `RoundClosed` — the announcement — follows once more than half of the committee has
certified (`CertifyRound`), as for confidence polls (meeting/polls.py).

Few ballots. Closing a secret round with fewer than `Rules.secret_min_ballots` ballots is refused (`few_ballots`)
unless the close carries `confirm_few_ballots`; the result records that the chair confirmed.

Replay. `RoundClosed` carries the whole result and `apply` takes the tally from it, so a closed (or cancelled)
round is rebuilt from the ordered log alone; the sealed ballots are only needed to rebuild the running tally
of a secret round that is still open.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from meeting.actors import EVERYONE, SEALED, Context, Role, committee_of, only, staff_and
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall, SessionStatus, VacancyGrounds
from meeting.messages import Command, Event, Routed
from meeting.rules import BallotMode, BallotOption, Base, PassRule, Threshold, VoteKind

# Ids are short machine tokens; 100 characters bounds what one command may carry.
MAX_ID = 100
# A motion is a sentence or a short paragraph ("Biểu quyết thông qua toàn văn dự thảo Nghị quyết về ...").
MAX_TEXT = 2000
MAX_OPTION_KEY = 40
MAX_OPTION_LABEL = 200
# Ordinary votes have 3 options; an election-style ballot a few more. 20 bounds a ballot's size.
MAX_OPTIONS = 20
# A vote runs for minutes; a timer longer than a day is a mistake.
MAX_DURATION_SECONDS = 24 * 3600
# A receipt must be unguessable, or one delegate could claim another's receipt in the published list:
# 16 characters of the caller's token (e.g. secrets.token_urlsafe(12) = 96 bits) is the minimum we accept.
MIN_RECEIPT = 16
MAX_RECEIPT = 256
# The count is published once more than half of the committee has certified: one absent member cannot block it,
# no minority can publish alone (the same rule as confidence polls, meeting/polls.py).
MORE_THAN_HALF = Threshold(num=1, den=2, strict=True)


class RoundStatus(StrEnum):
    OPEN = "open"  # đang biểu quyết
    COUNTED = "counted"  # đã kiểm phiếu kín, chờ Ban kiểm phiếu xác nhận
    CLOSED = "closed"  # đã kết thúc, có kết quả
    CANCELLED = "cancelled"  # đã hủy, không có kết quả

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    RoundStatus.OPEN: "đang biểu quyết",
    RoundStatus.COUNTED: "đã kiểm phiếu, chờ Ban kiểm phiếu xác nhận",
    RoundStatus.CLOSED: "đã kết thúc",
    RoundStatus.CANCELLED: "đã hủy",
}


# --- the result (council.py numbers resolutions from it: keep these names)
class OptionCount(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str
    count: int
    share_of_all: float  # percent of ALL delegates when the round opened, rounded to 2 decimals, display only


class VoteResult(msgspec.Struct, frozen=True, kw_only=True):
    round_id: str
    item_id: str
    motion: str
    secret: bool
    paper: bool
    normative: bool
    options: list[OptionCount]
    ballots_collected: int
    total_delegates: int
    pass_rule: PassRule
    needed: int  # the minimum count of the first option that passes (26 of 50 for > 1/2 of all)
    passed: bool  # decided with integers via Threshold.met, never from the floats
    eligible_at_open: list[str]
    present_at_open: list[str]
    present_at_close: list[str]
    voted: list[str]  # who cast a ballot (sorted); for a secret round *that* they voted, never how
    opened_at: datetime
    closed_at: datetime  # when balloting ended: the resolution's date and year come from it (council.py)
    kind: VoteKind = VoteKind.RESOLUTION
    subject_id: str | None = None  # the delegate a removal round is about
    committee: list[str] = []  # the counting committee that certifies a secret round (empty: none)
    # True when a secret round closed with fewer than `Rules.secret_min_ballots` ballots and the chair confirmed
    # it knowing the result may reveal how those few voted (issue 9 §4).
    few_ballots_confirmed: bool = False


# --- state
class Round(msgspec.Struct, kw_only=True):
    id: str
    item_id: str
    motion: str
    secret: bool
    paper: bool
    normative: bool
    options: list[BallotOption]
    pass_rule: PassRule
    total_delegates: int
    eligible: list[str]
    present_at_open: list[str]
    opened_at: datetime
    closes_at: datetime | None
    status: RoundStatus = RoundStatus.OPEN
    # Who voted. Only staff see every `DelegateVoted`: in a delegate's view this holds at most themself, so the
    # hall's count is `ballots_reported`.
    voted: set[str] = msgspec.field(default_factory=set)
    # The number of ballots cast as last announced to everyone (`RoundProgress`): while the round is open it lags
    # `len(voted)` by one reporting window (250 ms, server/engine.py); once closed, the result has the final number.
    ballots_reported: int = 0
    # Ballots per option key. For an open secret round this is the only place the sealed choices meet; the
    # server must not publish or persist snapshots of it per ballot (a diff would pair a voter with a choice).
    tally: dict[str, int] = msgspec.field(default_factory=dict)
    # Named rounds only: how each delegate voted (a named vote is on the record). Never filled for secret rounds.
    choices: dict[str, str] = msgspec.field(default_factory=dict)
    receipts: set[str] = msgspec.field(default_factory=set)
    result: VoteResult | None = None
    # The counted receipts published at close, so a delegate who reconnects later can still check theirs.
    published_receipts: list[str] = msgspec.field(default_factory=list)
    cancel_reason: str | None = None
    cancelled_at: datetime | None = None
    kind: VoteKind = VoteKind.RESOLUTION
    subject_id: str | None = None
    committee: list[str] = msgspec.field(default_factory=list)
    # The count awaiting certification (staff and the committee see it; `result` is set only when announced).
    count: VoteResult | None = None
    certified_by: list[str] = msgspec.field(default_factory=list)
    # Verifiable rounds (meeting/verifiable.py): the ceremony's keys, the cast ballots (public, proofs checked)
    # and the committee members' accepted partial decryptions of their total.
    mode: BallotMode = BallotMode.SEALED
    ceremony_id: str | None = None
    joint_key: str = ""
    fingerprint: str = ""
    ballots: list[dict[str, Any]] = msgspec.field(default_factory=list)
    trackers: set[str] = msgspec.field(default_factory=set)
    partials: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    ballots_closed_at: datetime | None = None
    few_ballots_confirmed: bool = False
    # When the chair announced the result to the hall (`AnnounceResult`): the result is on everyone's screen from
    # `RoundClosed`, the announcement is the chair's act the tablets and the broadcast overlay put up large.
    announced_at: datetime | None = None

    def option_keys(self) -> list[str]:
        return [o.key for o in self.options]


class Votes(msgspec.Struct, kw_only=True):
    rounds: dict[str, Round] = msgspec.field(default_factory=dict)


class CeremonyKeys(msgspec.Struct, frozen=True, kw_only=True):
    """A completed key ceremony as a verifiable round needs it (meeting/verifiable.py keeps the transcript)."""

    ceremony_id: str
    members: list[str]  # member i (1-based) is members[i - 1]
    threshold: int
    disqualified: list[int]
    joint_key: str
    fingerprint: str


# --- commands
class OpenVote(Command, frozen=True, kw_only=True, tag="vote_open"):
    round_id: str
    item_id: str
    motion: str
    secret: bool = False
    paper: bool = False
    options: list[BallotOption] | None = None  # None: the council's options; the first one passes the motion
    pass_rule: PassRule | None = None  # None: the council's default pass rule
    normative: bool = False  # a QPPL resolution, numbered in its own sequence
    duration_seconds: int | None = None
    kind: VoteKind = VoteKind.RESOLUTION
    subject_id: str | None = None  # removal: the delegate the council votes to remove
    # Secret rounds (when the council's rules ask for certification): the counting committee, elected by the
    # council, recorded by the chair; seated delegates, not the subject of the vote.
    committee: list[str] = []
    # Secret rounds: None takes the council's `Rules.secret_mode`. A verifiable round names a completed key
    # ceremony; its members are the committee (meeting/verifiable.py).
    mode: BallotMode | None = None
    ceremony_id: str | None = None


class CastBallot(Command, frozen=True, kw_only=True, tag="vote_cast_ballot"):
    round_id: str
    delegate_id: str
    option: str


class CloseRound(Command, frozen=True, kw_only=True, tag="vote_close_round"):
    round_id: str
    # The chair's answer to `few_ballots`: close a secret round even though so few ballots may reveal them.
    confirm_few_ballots: bool = False


class CancelRound(Command, frozen=True, kw_only=True, tag="vote_cancel_round"):
    round_id: str
    reason: str


class EnterPaperResult(Command, frozen=True, kw_only=True, tag="vote_enter_paper_result"):
    round_id: str
    counts: dict[str, int]
    ballots_collected: int
    confirm_few_ballots: bool = False  # as for `CloseRound`, for a secret round counted on paper


class CertifyRound(Command, frozen=True, kw_only=True, tag="vote_certify_round"):
    """A member of the round's counting committee certifies the count of a secret round."""

    round_id: str


class AnnounceResult(Command, frozen=True, kw_only=True, tag="vote_announce_result"):
    """The chair announces a closed round's result to the hall ("Chủ tọa công bố kết quả biểu quyết")."""

    round_id: str


class ReportProgress(Command, frozen=True, kw_only=True, tag="vote_report_progress"):
    """Announce the number of ballots cast so far to everyone (sent by the server's clock, chair authority)."""

    round_id: str


# --- events
class RoundOpened(Event, frozen=True, kw_only=True, tag="vote_round_opened"):
    round_id: str
    item_id: str
    motion: str
    secret: bool
    paper: bool
    normative: bool
    options: list[BallotOption]
    pass_rule: PassRule
    total_delegates: int
    eligible: list[str]  # seated delegates when the round opened, sorted
    present: list[str]  # seated and checked in when the round opened, sorted
    opened_at: datetime
    closes_at: datetime | None
    kind: VoteKind = VoteKind.RESOLUTION
    subject_id: str | None = None
    committee: list[str] = []
    mode: BallotMode = BallotMode.SEALED
    ceremony_id: str | None = None
    joint_key: str = ""  # hex, verifiable rounds: what every ballot is encrypted to
    fingerprint: str = ""  # hex, the ceremony's fingerprint (docs/BALLOT-CRYPTO.md §5)


class BallotCast(Event, frozen=True, kw_only=True, tag="vote_ballot_cast"):
    """A named ballot: staff see it live, the delegate sees their own. Never emitted for a secret round."""

    round_id: str
    delegate_id: str
    option: str
    ballots_cast: int


class DelegateVoted(Event, frozen=True, kw_only=True, tag="vote_delegate_voted"):
    """That a delegate voted, and the live number of ballots; never what they chose. Staff and the voter only."""

    round_id: str
    delegate_id: str
    ballots_cast: int


class RoundProgress(Event, frozen=True, kw_only=True, tag="vote_round_progress"):
    """The number of ballots cast so far, for everyone: no delegate, no option."""

    round_id: str
    ballots_cast: int


class SecretBallot(Event, frozen=True, kw_only=True, tag="vote_secret_ballot"):
    """The anonymous choice of a secret ballot: nothing here may identify or order the voter."""

    round_id: str
    option: str


class BallotReceipt(Event, frozen=True, kw_only=True, tag="vote_ballot_receipt"):
    # Not linked to the choice on purpose: see the module docstring.
    round_id: str
    delegate_id: str
    receipt: str


class RoundBallotsClosed(Event, frozen=True, kw_only=True, tag="vote_round_ballots_closed"):
    """Balloting on a secret round is over and the count is with the committee; says nothing of the result."""

    round_id: str
    at: datetime
    ballots_cast: int
    few_ballots_confirmed: bool = False  # verifiable rounds: carried to the result once decrypted


class RoundCounted(Event, frozen=True, kw_only=True, tag="vote_round_counted"):
    """The count of a secret round, for staff and its counting committee to certify; not yet announced."""

    round_id: str
    result: VoteResult


class RoundCertifiedBy(Event, frozen=True, kw_only=True, tag="vote_round_certified_by"):
    round_id: str
    member_id: str
    certified: int
    needed: int


class RoundClosed(Event, frozen=True, kw_only=True, tag="vote_round_closed"):
    """The result, announced to everyone (for a certified secret round: once the committee has certified)."""

    round_id: str
    result: VoteResult
    receipts: list[str]  # every counted receipt, sorted (the published list for a secret round)
    certified_by: list[str] = []


class RoundResultAnnounced(Event, frozen=True, kw_only=True, tag="vote_round_result_announced"):
    """The chair announced the result of a closed round to the hall."""

    round_id: str
    at: datetime


class RoundCancelled(Event, frozen=True, kw_only=True, tag="vote_round_cancelled"):
    round_id: str
    reason: str
    at: datetime


COMMANDS: tuple[type[Command], ...] = (
    OpenVote,
    CastBallot,
    CloseRound,
    CancelRound,
    EnterPaperResult,
    CertifyRound,
    ReportProgress,
    AnnounceResult,
)
EVENTS: tuple[type[Event], ...] = (
    RoundOpened,
    BallotCast,
    DelegateVoted,
    RoundProgress,
    SecretBallot,
    BallotReceipt,
    RoundBallotsClosed,
    RoundCounted,
    RoundCertifiedBy,
    RoundClosed,
    RoundResultAnnounced,
    RoundCancelled,
)

# A round open when the session is suspended must still be closable or cancellable (the session cannot be
# closed while a round is open) and a paper count may be entered during the break.
_RUNNING_OR_SUSPENDED = (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)


def busy(state: Votes) -> bool:
    """A round taking ballots, or counted and awaiting certification, keeps the session from closing: a closed
    session takes no command, so an uncertified count could never be announced."""
    return any(r.status in (RoundStatus.OPEN, RoundStatus.COUNTED) for r in state.rounds.values())


def require_round(state: Votes, round_id: str) -> Round:
    r = state.rounds.get(round_id)
    if r is None:
        raise DomainError(Code.UNKNOWN_ROUND, id=round_id)
    return r


def _require_open(r: Round) -> None:
    if r.status is not RoundStatus.OPEN:
        raise DomainError(Code.ROUND_NOT_OPEN, id=r.id)


def _check_options(options: list[BallotOption]) -> list[BallotOption]:
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise invalid(f"phiếu phải có từ 2 đến {MAX_OPTIONS} phương án", f"a ballot needs 2 to {MAX_OPTIONS} options")
    keys = [o.key for o in options]
    if len(set(keys)) != len(keys):
        raise invalid("các phương án trùng mã", "two options share a key")
    out = []
    for o in options:
        label = o.label.strip()
        if not o.key or len(o.key) > MAX_OPTION_KEY or o.key != o.key.strip():
            raise invalid("mã phương án trống, quá dài hoặc có khoảng trắng", "an option key is empty or malformed")
        if not label or len(label) > MAX_OPTION_LABEL:
            raise invalid("tên phương án trống hoặc quá dài", "an option label is empty or too long")
        out.append(BallotOption(key=o.key, label=label))
    return out


def _pass_rule(hall: Hall, cmd: OpenVote) -> PassRule:
    """The round's rule: the one asked for, else the kind's default; refused unless the law allows it for the kind."""
    if cmd.pass_rule is not None:
        rule = cmd.pass_rule
    elif cmd.kind is VoteKind.REMOVAL:
        rule = PassRule.TWO_THIRDS_OF_ALL
    else:
        rule = hall.rules.default_pass_rule
    if rule not in cmd.kind.allowed_rules:
        raise DomainError(
            Code.RULE_NOT_ALLOWED,
            rule_vi=rule.threshold.describe_vi(),
            rule_en=rule.value,
            kind_vi=cmd.kind.label_vi,
            kind_en=cmd.kind.value,
            allowed=", ".join(r.value for r in cmd.kind.allowed_rules),
        )
    return rule


def _check_subject(hall: Hall, cmd: OpenVote) -> str | None:
    if cmd.kind is VoteKind.REMOVAL:
        if cmd.subject_id is None:
            raise invalid(
                "biểu quyết bãi nhiệm phải nêu đại biểu bị bãi nhiệm", "a removal vote must name the delegate"
            )
        hall.require_delegate(cmd.subject_id)
        return cmd.subject_id
    if cmd.subject_id is not None:
        raise invalid("chỉ biểu quyết bãi nhiệm mới nêu một đại biểu", "only a removal vote names a delegate")
    if cmd.normative and cmd.kind is not VoteKind.RESOLUTION:
        raise invalid(
            "chỉ nghị quyết mới có thể là văn bản quy phạm pháp luật", "only a resolution can be a normative act"
        )
    return None


def _check_committee(hall: Hall, cmd: OpenVote, subject: str | None) -> list[str]:
    """The counting committee of a secret round: required when the council's rules ask for certification
    (Guidance 883/HD-UBTVQH14 sizes: >= 7 in a province, >= 3 in a commune), seated, not the vote's subject."""
    wanted = cmd.secret and hall.rules.secret_certification
    if not wanted:
        if cmd.committee:
            raise invalid(
                "chỉ bỏ phiếu kín mới có Ban kiểm phiếu xác nhận kết quả",
                "only a secret round has a counting committee certify its result",
            )
        return []
    if not cmd.committee:
        raise DomainError(Code.COMMITTEE_MISSING)
    if len(cmd.committee) > hall.total or len(set(cmd.committee)) != len(cmd.committee):
        raise invalid(
            "danh sách Ban kiểm phiếu có người trùng hoặc quá dài", "the committee list repeats someone or is too long"
        )
    for member in cmd.committee:
        hall.require_delegate(member)
        if member == subject:
            raise DomainError(Code.COMMITTEE_ON_BALLOT, id=member)
    if len(cmd.committee) < hall.rules.committee_min:
        raise DomainError(Code.COMMITTEE_TOO_SMALL, needed=hall.rules.committee_min, size=len(cmd.committee))
    return list(cmd.committee)


def _mode(hall: Hall, cmd: OpenVote, keys: Mapping[str, CeremonyKeys]) -> tuple[BallotMode, CeremonyKeys | None]:
    """The round's ballot mode and, for a verifiable round, its completed ceremony."""
    if not cmd.secret or cmd.paper:
        if cmd.mode is BallotMode.VERIFIABLE or cmd.ceremony_id is not None:
            raise invalid(
                "chỉ bỏ phiếu kín điện tử mới có thể kiểm chứng", "only an electronic secret round can be verifiable"
            )
        return BallotMode.SEALED, None
    mode = cmd.mode or hall.rules.secret_mode
    if mode is BallotMode.SEALED:
        if cmd.ceremony_id is not None:
            raise invalid("lượt niêm phong không dùng phiên tạo khóa", "a sealed round takes no key ceremony")
        return mode, None
    if cmd.ceremony_id is None or cmd.ceremony_id not in keys:
        raise DomainError(Code.UNKNOWN_CEREMONY, id=(cmd.ceremony_id or "?")[:MAX_ID])
    k = keys[cmd.ceremony_id]
    if cmd.committee and sorted(cmd.committee) != sorted(k.members):
        raise invalid(
            "Ban kiểm phiếu phải là các thành viên của phiên tạo khóa",
            "the committee must be the key ceremony's members",
        )
    return mode, k


def _decide_open(
    hall: Hall, state: Votes, cmd: OpenVote, ctx: Context, keys: Mapping[str, CeremonyKeys]
) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    hall.require_running()
    # Practice: the quorum that lets the session sit must still be in the hall when a vote opens.
    if hall.rules.vote_quorum_required and not hall.quorum_met():
        raise DomainError(
            Code.NO_QUORUM_TO_VOTE, present=len(hall.present_seated()), total=hall.total, needed=hall.quorum_needed()
        )
    if not cmd.round_id or len(cmd.round_id) > MAX_ID:
        raise invalid("mã lượt biểu quyết trống hoặc quá dài", "the round id is empty or too long")
    if cmd.round_id in state.rounds:
        raise DomainError(Code.DUPLICATE_ID, id=cmd.round_id)
    if any(r.item_id == cmd.item_id and r.status is RoundStatus.OPEN for r in state.rounds.values()):
        raise DomainError(Code.ROUND_OPEN_ON_ITEM)
    # The vote module sees the hall, not the agenda: the current item is the one item it knows exists and is
    # not finished, and a vote is held on the item under consideration.
    if hall.current_item is None:
        raise DomainError(Code.NO_CURRENT_ITEM)
    if cmd.item_id != hall.current_item:
        raise invalid(
            "chỉ biểu quyết nội dung đang được xem xét", "a vote can only be opened on the current agenda item"
        )
    motion = cmd.motion.strip()
    if not motion or len(motion) > MAX_TEXT:
        raise invalid("nội dung biểu quyết trống hoặc quá dài", "the motion is empty or too long")
    options = _check_options(list(hall.rules.options) if cmd.options is None else list(cmd.options))
    if cmd.duration_seconds is not None and not 1 <= cmd.duration_seconds <= MAX_DURATION_SECONDS:
        raise invalid(
            f"thời gian biểu quyết phải từ 1 đến {MAX_DURATION_SECONDS} giây",
            f"the duration must be 1 to {MAX_DURATION_SECONDS} seconds",
        )
    closes_at = None if cmd.duration_seconds is None else ctx.now + timedelta(seconds=cmd.duration_seconds)
    rule = _pass_rule(hall, cmd)
    subject = _check_subject(hall, cmd)
    mode, ceremony = _mode(hall, cmd, keys)
    if ceremony is None:
        committee = _check_committee(hall, cmd, subject)
    else:
        # Decrypting the total is certifying it: the ceremony's members are the committee.
        committee = list(ceremony.members)
        if subject in committee:
            raise DomainError(Code.COMMITTEE_ON_BALLOT, id=subject)
    ev = RoundOpened(
        round_id=cmd.round_id,
        item_id=cmd.item_id,
        motion=motion,
        secret=cmd.secret,
        paper=cmd.paper,
        normative=cmd.normative,
        options=options,
        pass_rule=rule,
        total_delegates=hall.total,
        eligible=sorted(hall.seated_ids()),
        present=sorted(hall.present_seated()),
        opened_at=ctx.now,
        closes_at=closes_at,
        kind=cmd.kind,
        subject_id=subject,
        committee=committee,
        mode=mode,
        ceremony_id=None if ceremony is None else ceremony.ceremony_id,
        joint_key="" if ceremony is None else ceremony.joint_key,
        fingerprint="" if ceremony is None else ceremony.fingerprint,
    )
    return [Routed(event=ev, audience=EVERYONE)]


def check_cast(hall: Hall, state: Votes, round_id: str, delegate_id: str, ctx: Context) -> tuple[Round, str]:
    """Who may cast a ballot now, for either kind of ballot: the round and the acting delegate."""
    hall.require_running()
    delegate_id = hall.acting_delegate(ctx, delegate_id)
    r = require_round(state, round_id)
    _require_open(r)
    # The timer may fire a moment after the deadline; a ballot that arrives in between is late all the same.
    if r.closes_at is not None and ctx.now >= r.closes_at:
        raise DomainError(Code.ROUND_NOT_OPEN, id=r.id)
    if r.paper:
        raise DomainError(Code.ROUND_IS_PAPER, id=r.id)
    if delegate_id not in r.eligible:
        raise DomainError(Code.NOT_ELIGIBLE, id=delegate_id)
    if delegate_id in r.voted:
        raise DomainError(Code.ALREADY_VOTED)
    if hall.rules.presence_required and delegate_id not in hall.present:
        raise DomainError(Code.ABSENT, id=delegate_id)
    return r, delegate_id


def _decide_cast(hall: Hall, state: Votes, cmd: CastBallot, ctx: Context) -> list[Routed]:
    if require_round(state, cmd.round_id).mode is BallotMode.VERIFIABLE:
        raise DomainError(
            Code.WRONG_BALLOT_MODE,
            id=cmd.round_id,
            expected_vi="chỉ nhận phiếu đã mã hóa trên máy tính bảng",
            expected_en="takes only ballots encrypted on the tablet",
        )
    r, delegate_id = check_cast(hall, state, cmd.round_id, cmd.delegate_id, ctx)
    if cmd.option not in r.option_keys():
        raise DomainError(Code.UNKNOWN_OPTION, option=cmd.option[:MAX_OPTION_KEY])
    receipt = ctx.nonce
    if not receipt or len(receipt) > MAX_RECEIPT or (r.secret and len(receipt) < MIN_RECEIPT):
        raise invalid("mã biên nhận phiếu không hợp lệ", "the server gave no usable ballot receipt")
    if receipt in r.receipts:
        raise invalid("mã biên nhận phiếu đã được dùng", "the ballot receipt was already used")
    cast = len(r.voted) + 1
    # Staff and the voter, not the hall: the chair's console counts every ballot, a tablet needs only its own
    # ("you have voted"); the hall learns the count from `RoundProgress` (see the module docstring).
    voted = Routed(
        event=DelegateVoted(round_id=r.id, delegate_id=delegate_id, ballots_cast=cast), audience=staff_and(delegate_id)
    )
    receipt_ev = Routed(
        event=BallotReceipt(round_id=r.id, delegate_id=delegate_id, receipt=receipt), audience=only(delegate_id)
    )
    if r.secret:
        sealed = Routed(event=SecretBallot(round_id=r.id, option=cmd.option), audience=SEALED)
        return [voted, sealed, receipt_ev]
    named = BallotCast(round_id=r.id, delegate_id=delegate_id, option=cmd.option, ballots_cast=cast)
    return [Routed(event=named, audience=staff_and(delegate_id)), voted, receipt_ev]


def _base_size(hall: Hall, r: Round, ballots_collected: int) -> int:
    match r.pass_rule.threshold.base:
        case Base.ALL_DELEGATES:
            # Fixed when the round opened: a seat vacated while it runs changes the base of later rounds only.
            return r.total_delegates
        case Base.BALLOTS_COLLECTED:
            return ballots_collected
        case Base.PRESENT:
            return len(hall.present_seated())
    raise AssertionError(r.pass_rule)


def tally_result(
    hall: Hall,
    r: Round,
    *,
    counts: dict[str, int],
    ballots_collected: int,
    voted: list[str],
    now: datetime,
    few_ballots_confirmed: bool = False,
) -> VoteResult:
    """The result of `r` with these counts, as of `now` (attendance at close is read from the hall)."""
    total = r.total_delegates
    threshold = r.pass_rule.threshold
    base = _base_size(hall, r, ballots_collected)
    first = counts[r.options[0].key]
    needed = threshold.minimum(base)
    return VoteResult(
        round_id=r.id,
        item_id=r.item_id,
        motion=r.motion,
        secret=r.secret,
        paper=r.paper,
        normative=r.normative,
        options=[
            OptionCount(
                key=o.key,
                label=o.label,
                count=counts[o.key],
                share_of_all=round(counts[o.key] * 100 / total, 2) if total else 0.0,
            )
            for o in r.options
        ],
        ballots_collected=ballots_collected,
        total_delegates=total,
        pass_rule=r.pass_rule,
        needed=needed,
        passed=threshold.met(first, base),
        eligible_at_open=list(r.eligible),
        present_at_open=list(r.present_at_open),
        present_at_close=sorted(hall.present_seated()),
        voted=voted,
        opened_at=r.opened_at,
        closed_at=now,
        kind=r.kind,
        subject_id=r.subject_id,
        committee=list(r.committee),
        few_ballots_confirmed=few_ballots_confirmed,
    )


def _few_ballots(hall: Hall, r: Round, ballots: int, confirmed: bool) -> bool:
    """Refuse closing a secret round on too few ballots unless the chair confirmed; True when confirmed."""
    minimum = hall.rules.secret_min_ballots
    if not r.secret or ballots >= minimum:
        return False
    if not confirmed:
        raise DomainError(Code.FEW_BALLOTS, id=r.id, count=ballots, minimum=minimum)
    return True


def _announce(r: Round, result: VoteResult, at: datetime, receipts: list[str]) -> list[Routed]:
    """A result as it leaves the count: announced now, or first to the committee to certify."""
    if not r.committee:
        return [Routed(event=RoundClosed(round_id=r.id, result=result, receipts=receipts), audience=EVERYONE)]
    return [
        Routed(
            event=RoundBallotsClosed(round_id=r.id, at=at, ballots_cast=result.ballots_collected), audience=EVERYONE
        ),
        Routed(event=RoundCounted(round_id=r.id, result=result), audience=committee_of(r.committee)),
    ]


def _decide_close(hall: Hall, state: Votes, cmd: CloseRound, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    hall.require_status(*_RUNNING_OR_SUSPENDED)
    r = require_round(state, cmd.round_id)
    _require_open(r)
    if r.paper:
        raise DomainError(Code.ROUND_IS_PAPER, id=r.id)
    confirmed = _few_ballots(hall, r, len(r.voted), cmd.confirm_few_ballots)
    if r.mode is BallotMode.VERIFIABLE:
        # Nobody knows the count yet: the committee's partial decryptions give it (meeting/verifiable.py).
        ev = RoundBallotsClosed(round_id=r.id, at=ctx.now, ballots_cast=len(r.voted), few_ballots_confirmed=confirmed)
        return [Routed(event=ev, audience=EVERYONE)]
    counts = {k: r.tally.get(k, 0) for k in r.option_keys()}
    result = tally_result(
        hall,
        r,
        counts=counts,
        ballots_collected=len(r.voted),
        voted=sorted(r.voted),
        now=ctx.now,
        few_ballots_confirmed=confirmed,
    )
    return _announce(r, result, ctx.now, sorted(r.receipts))


def _decide_cancel(hall: Hall, state: Votes, cmd: CancelRound, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    hall.require_status(*_RUNNING_OR_SUSPENDED)
    r = require_round(state, cmd.round_id)
    _require_open(r)
    reason = cmd.reason.strip()
    # The minutes must say why a vote was abandoned.
    if not reason or len(reason) > MAX_TEXT:
        raise invalid("lý do hủy trống hoặc quá dài", "the reason is empty or too long")
    return [Routed(event=RoundCancelled(round_id=r.id, reason=reason, at=ctx.now), audience=EVERYONE)]


def _decide_paper(hall: Hall, state: Votes, cmd: EnterPaperResult, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.SECRETARY)
    hall.require_status(*_RUNNING_OR_SUSPENDED)
    r = require_round(state, cmd.round_id)
    if not r.paper:
        raise DomainError(Code.ROUND_NOT_PAPER, id=r.id)
    _require_open(r)
    keys = r.option_keys()
    if sorted(cmd.counts) != sorted(keys):
        raise DomainError(
            Code.COUNTS_INVALID,
            reason_vi="phải nhập số phiếu cho đúng từng phương án trong phiếu",
            reason_en="give a count for exactly the options on the ballot",
        )
    if any(c < 0 for c in cmd.counts.values()) or cmd.ballots_collected < 0:
        raise DomainError(
            Code.COUNTS_INVALID, reason_vi="số phiếu không được âm", reason_en="counts cannot be negative"
        )
    if sum(cmd.counts.values()) != cmd.ballots_collected:
        raise DomainError(
            Code.COUNTS_INVALID,
            reason_vi="tổng số phiếu các phương án phải bằng số phiếu thu về",
            reason_en="the counts must add up to the ballots collected",
        )
    if cmd.ballots_collected > r.total_delegates:
        raise DomainError(
            Code.COUNTS_INVALID,
            reason_vi="số phiếu thu về nhiều hơn tổng số đại biểu",
            reason_en="more ballots collected than there are delegates",
        )
    counts = {k: cmd.counts[k] for k in keys}
    confirmed = _few_ballots(hall, r, cmd.ballots_collected, cmd.confirm_few_ballots)
    # Who put a paper ballot in the box is not known to the system: `voted` stays empty.
    result = tally_result(
        hall,
        r,
        counts=counts,
        ballots_collected=cmd.ballots_collected,
        voted=[],
        now=ctx.now,
        few_ballots_confirmed=confirmed,
    )
    return _announce(r, result, ctx.now, [])


def _decide_certify(state: Votes, cmd: CertifyRound, ctx: Context) -> list[Routed]:
    r = require_round(state, cmd.round_id)
    person = ctx.actor.person_id
    if person is None or person not in r.committee:
        raise DomainError(Code.NOT_ON_COMMITTEE, id=person or "?")
    if r.mode is BallotMode.VERIFIABLE:
        raise DomainError(
            Code.WRONG_BALLOT_MODE,
            id=r.id,
            expected_vi="được xác nhận bằng phần giải mã của từng thành viên",
            expected_en="is certified by each member's partial decryption",
        )
    # Members who sign after the announcement complete the count record; the result is announced once.
    if r.status not in (RoundStatus.COUNTED, RoundStatus.CLOSED) or r.count is None:
        raise DomainError(Code.ROUND_NOT_COUNTED, id=r.id)
    if person in r.certified_by:
        raise DomainError(Code.ALREADY_CERTIFIED)
    needed = MORE_THAN_HALF.minimum(len(r.committee))
    certified = len(r.certified_by) + 1
    routed = [
        Routed(
            event=RoundCertifiedBy(round_id=r.id, member_id=person, certified=certified, needed=needed),
            audience=committee_of(r.committee),
        )
    ]
    if r.status is RoundStatus.COUNTED and certified == needed:
        ev = RoundClosed(
            round_id=r.id, result=r.count, receipts=sorted(r.receipts), certified_by=[*r.certified_by, person]
        )
        routed.append(Routed(event=ev, audience=EVERYONE))
    return routed


def _decide_progress(hall: Hall, state: Votes, cmd: ReportProgress, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    # Ballots cast just before a suspension are still announced during the break.
    hall.require_status(*_RUNNING_OR_SUSPENDED)
    r = require_round(state, cmd.round_id)
    _require_open(r)
    cast = len(r.voted)
    if cast == r.ballots_reported:
        # Several workers may ask for the same report; only a new number is worth a message to every screen.
        raise DomainError(Code.PROGRESS_UNCHANGED, id=r.id, count=cast)
    return [Routed(event=RoundProgress(round_id=r.id, ballots_cast=cast), audience=EVERYONE)]


def _decide_announce(hall: Hall, state: Votes, cmd: AnnounceResult, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    hall.require_status(*_RUNNING_OR_SUSPENDED)
    r = require_round(state, cmd.round_id)
    if r.status is not RoundStatus.CLOSED or r.result is None:
        raise DomainError(Code.ROUND_NO_RESULT, id=r.id)
    if r.announced_at is not None:
        raise DomainError(Code.ALREADY_ANNOUNCED, id=r.id)
    return [Routed(event=RoundResultAnnounced(round_id=r.id, at=ctx.now), audience=EVERYONE)]


def check_vacancy(delegate_id: str, grounds: VacancyGrounds, decision: str, result: VoteResult | None) -> str:
    """What must be on record before a seat is vacated (council and session check the same); the decision text.

    Removal (bãi nhiệm) needs a passed removal round about this delegate under the law's rule (two thirds of all
    delegates, Law 77/2015/QH13 art. 91(3), 102(3)); resignation or death needs the reference of the decision
    or record (e.g. "Nghị quyết số 15/NQ-HĐND", "Trích lục khai tử số ...")."""

    def unfounded(vi: str, en: str) -> DomainError:
        return DomainError(Code.VACANCY_UNFOUNDED, id=delegate_id, reason_vi=vi, reason_en=en)

    text = decision.strip()
    if len(text) > MAX_OPTION_LABEL:
        raise invalid("căn cứ quá dài", "the decision reference is too long")
    if grounds is not VacancyGrounds.REMOVAL:
        if result is not None:
            raise invalid("chỉ bãi nhiệm mới dựa trên một lượt biểu quyết", "only a removal rests on a vote round")
        if not text:
            raise unfounded(
                "cần số, ngày của quyết định hoặc văn bản ghi nhận",
                "the reference of the decision or record is missing",
            )
        return text
    if result is None:
        raise unfounded(
            "bãi nhiệm cần một lượt biểu quyết bãi nhiệm đã kết thúc", "a removal needs a closed removal vote"
        )
    if result.kind is not VoteKind.REMOVAL or result.subject_id != delegate_id:
        raise unfounded(
            f"lượt {result.round_id} không phải biểu quyết bãi nhiệm đại biểu này",
            f"round {result.round_id} is not a vote to remove this delegate",
        )
    if result.pass_rule not in VoteKind.REMOVAL.allowed_rules or not result.passed:
        raise unfounded(
            f"lượt {result.round_id} không đạt ít nhất hai phần ba tổng số đại biểu tán thành",
            f"round {result.round_id} did not reach two thirds of all delegates",
        )
    return text


def decide(
    hall: Hall, state: Votes, cmd: Command, ctx: Context, keys: Mapping[str, CeremonyKeys] | None = None
) -> list[Routed]:
    match cmd:
        case OpenVote():
            return _decide_open(hall, state, cmd, ctx, keys or {})
        case CastBallot():
            return _decide_cast(hall, state, cmd, ctx)
        case CloseRound():
            return _decide_close(hall, state, cmd, ctx)
        case CancelRound():
            return _decide_cancel(hall, state, cmd, ctx)
        case EnterPaperResult():
            return _decide_paper(hall, state, cmd, ctx)
        case CertifyRound():
            return _decide_certify(state, cmd, ctx)
        case ReportProgress():
            return _decide_progress(hall, state, cmd, ctx)
        case AnnounceResult():
            return _decide_announce(hall, state, cmd, ctx)
    raise AssertionError(f"not a vote command: {cmd!r}")


def apply(state: Votes, event: Event) -> None:
    match event:
        case RoundOpened():
            state.rounds[event.round_id] = Round(
                id=event.round_id,
                item_id=event.item_id,
                motion=event.motion,
                secret=event.secret,
                paper=event.paper,
                normative=event.normative,
                options=list(event.options),
                pass_rule=event.pass_rule,
                total_delegates=event.total_delegates,
                eligible=list(event.eligible),
                present_at_open=list(event.present),
                opened_at=event.opened_at,
                closes_at=event.closes_at,
                tally={o.key: 0 for o in event.options},
                kind=event.kind,
                subject_id=event.subject_id,
                committee=list(event.committee),
                mode=event.mode,
                ceremony_id=event.ceremony_id,
                joint_key=event.joint_key,
                fingerprint=event.fingerprint,
            )
        case BallotCast():
            r = state.rounds[event.round_id]
            r.tally[event.option] += 1
            r.choices[event.delegate_id] = event.option
        case DelegateVoted():
            state.rounds[event.round_id].voted.add(event.delegate_id)
        case RoundProgress():
            state.rounds[event.round_id].ballots_reported = event.ballots_cast
        case SecretBallot():
            state.rounds[event.round_id].tally[event.option] += 1
        case BallotReceipt():
            state.rounds[event.round_id].receipts.add(event.receipt)
        case RoundBallotsClosed():
            r = state.rounds[event.round_id]
            r.status = RoundStatus.COUNTED
            r.ballots_closed_at = event.at
            r.few_ballots_confirmed = event.few_ballots_confirmed
        case RoundCounted():
            r = state.rounds[event.round_id]
            r.count = event.result
            r.tally = {o.key: o.count for o in event.result.options}
        case RoundCertifiedBy():
            state.rounds[event.round_id].certified_by.append(event.member_id)
        case RoundClosed():
            r = state.rounds[event.round_id]
            r.status = RoundStatus.CLOSED
            r.result = event.result
            r.published_receipts = list(event.receipts)
            if event.certified_by:
                r.certified_by = list(event.certified_by)
            # Taken from the result, so the state does not depend on whether sealed ballots were replayed.
            r.tally = {o.key: o.count for o in event.result.options}
        case RoundResultAnnounced():
            state.rounds[event.round_id].announced_at = event.at
        case RoundCancelled():
            r = state.rounds[event.round_id]
            r.status = RoundStatus.CANCELLED
            r.cancel_reason = event.reason
            r.cancelled_at = event.at
            # A cancelled round has no result; dropping its ballots also keeps its state independent of the
            # sealed ballots.
            r.tally = dict.fromkeys(r.tally, 0)
            r.choices = {}
        case _:
            raise AssertionError(f"not a vote event: {event!r}")
