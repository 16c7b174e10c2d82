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

Replay. `RoundClosed` carries the whole result and `apply` takes the tally from it, so a closed (or cancelled)
round is rebuilt from the ordered log alone; the sealed ballots are only needed to rebuild the running tally
of a secret round that is still open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from meeting.actors import EVERYONE, SEALED, Context, Role, only, staff_and
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall, SessionStatus
from meeting.messages import Command, Event, Routed
from meeting.rules import BallotOption, Base, PassRule

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


class RoundStatus(StrEnum):
    OPEN = "open"  # đang biểu quyết
    CLOSED = "closed"  # đã kết thúc, có kết quả
    CANCELLED = "cancelled"  # đã hủy, không có kết quả

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    RoundStatus.OPEN: "đang biểu quyết",
    RoundStatus.CLOSED: "đã kết thúc",
    RoundStatus.CANCELLED: "đã hủy",
}


# --- the result (council.py numbers resolutions from it: keep these names)
class OptionCount(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str
    count: int
    share_of_all: float  # percent of ALL delegates (hall.total), rounded to 2 decimals, display only


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
    closed_at: datetime


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

    def option_keys(self) -> list[str]:
        return [o.key for o in self.options]


class Votes(msgspec.Struct, kw_only=True):
    rounds: dict[str, Round] = msgspec.field(default_factory=dict)


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


class CastBallot(Command, frozen=True, kw_only=True, tag="vote_cast_ballot"):
    round_id: str
    delegate_id: str
    option: str


class CloseRound(Command, frozen=True, kw_only=True, tag="vote_close_round"):
    round_id: str


class CancelRound(Command, frozen=True, kw_only=True, tag="vote_cancel_round"):
    round_id: str
    reason: str


class EnterPaperResult(Command, frozen=True, kw_only=True, tag="vote_enter_paper_result"):
    round_id: str
    counts: dict[str, int]
    ballots_collected: int


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


class RoundClosed(Event, frozen=True, kw_only=True, tag="vote_round_closed"):
    round_id: str
    result: VoteResult
    receipts: list[str]  # every counted receipt, sorted (the published list for a secret round)


class RoundCancelled(Event, frozen=True, kw_only=True, tag="vote_round_cancelled"):
    round_id: str
    reason: str
    at: datetime


COMMANDS: tuple[type[Command], ...] = (OpenVote, CastBallot, CloseRound, CancelRound, EnterPaperResult, ReportProgress)
EVENTS: tuple[type[Event], ...] = (
    RoundOpened,
    BallotCast,
    DelegateVoted,
    RoundProgress,
    SecretBallot,
    BallotReceipt,
    RoundClosed,
    RoundCancelled,
)

# A round open when the session is suspended must still be closable or cancellable (the session cannot be
# closed while a round is open) and a paper count may be entered during the break.
_RUNNING_OR_SUSPENDED = (SessionStatus.IN_PROGRESS, SessionStatus.SUSPENDED)


def busy(state: Votes) -> bool:
    return any(r.status is RoundStatus.OPEN for r in state.rounds.values())


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


def _decide_open(hall: Hall, state: Votes, cmd: OpenVote, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    hall.require_running()
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
    ev = RoundOpened(
        round_id=cmd.round_id,
        item_id=cmd.item_id,
        motion=motion,
        secret=cmd.secret,
        paper=cmd.paper,
        normative=cmd.normative,
        options=options,
        pass_rule=hall.rules.default_pass_rule if cmd.pass_rule is None else cmd.pass_rule,
        total_delegates=hall.total,
        eligible=sorted(hall.seated_ids()),
        present=sorted(hall.present_seated()),
        opened_at=ctx.now,
        closes_at=closes_at,
    )
    return [Routed(event=ev, audience=EVERYONE)]


def _decide_cast(hall: Hall, state: Votes, cmd: CastBallot, ctx: Context) -> list[Routed]:
    hall.require_running()
    delegate_id = hall.acting_delegate(ctx, cmd.delegate_id)
    r = require_round(state, cmd.round_id)
    _require_open(r)
    # The timer may fire a moment after the deadline; a ballot that arrives in between is late all the same.
    if r.closes_at is not None and ctx.now >= r.closes_at:
        raise DomainError(Code.ROUND_NOT_OPEN, id=r.id)
    if r.paper:
        raise DomainError(Code.ROUND_IS_PAPER, id=r.id)
    if cmd.option not in r.option_keys():
        raise DomainError(Code.UNKNOWN_OPTION, option=cmd.option[:MAX_OPTION_KEY])
    if delegate_id not in r.eligible:
        raise DomainError(Code.NOT_ELIGIBLE, id=delegate_id)
    if delegate_id in r.voted:
        raise DomainError(Code.ALREADY_VOTED)
    if hall.rules.presence_required and delegate_id not in hall.present:
        raise DomainError(Code.ABSENT, id=delegate_id)
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


def _base_size(hall: Hall, rule: PassRule, ballots_collected: int) -> int:
    match rule.threshold.base:
        case Base.ALL_DELEGATES:
            return hall.total
        case Base.BALLOTS_COLLECTED:
            return ballots_collected
        case Base.PRESENT:
            return len(hall.present_seated())
    raise AssertionError(rule)


def tally_result(
    hall: Hall, r: Round, *, counts: dict[str, int], ballots_collected: int, voted: list[str], now: datetime
) -> VoteResult:
    """The result of `r` with these counts, as of `now` (attendance at close is read from the hall)."""
    total = hall.total
    threshold = r.pass_rule.threshold
    base = _base_size(hall, r.pass_rule, ballots_collected)
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
    )


def _decide_close(hall: Hall, state: Votes, cmd: CloseRound, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    hall.require_status(*_RUNNING_OR_SUSPENDED)
    r = require_round(state, cmd.round_id)
    _require_open(r)
    if r.paper:
        raise DomainError(Code.ROUND_IS_PAPER, id=r.id)
    counts = {k: r.tally.get(k, 0) for k in r.option_keys()}
    result = tally_result(hall, r, counts=counts, ballots_collected=len(r.voted), voted=sorted(r.voted), now=ctx.now)
    ev = RoundClosed(round_id=r.id, result=result, receipts=sorted(r.receipts))
    return [Routed(event=ev, audience=EVERYONE)]


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
    if cmd.ballots_collected > hall.total:
        raise DomainError(
            Code.COUNTS_INVALID,
            reason_vi="số phiếu thu về nhiều hơn tổng số đại biểu",
            reason_en="more ballots collected than there are delegates",
        )
    counts = {k: cmd.counts[k] for k in keys}
    # Who put a paper ballot in the box is not known to the system: `voted` stays empty.
    result = tally_result(hall, r, counts=counts, ballots_collected=cmd.ballots_collected, voted=[], now=ctx.now)
    return [Routed(event=RoundClosed(round_id=r.id, result=result, receipts=[]), audience=EVERYONE)]


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


def decide(hall: Hall, state: Votes, cmd: Command, ctx: Context) -> list[Routed]:
    match cmd:
        case OpenVote():
            return _decide_open(hall, state, cmd, ctx)
        case CastBallot():
            return _decide_cast(hall, state, cmd, ctx)
        case CloseRound():
            return _decide_close(hall, state, cmd, ctx)
        case CancelRound():
            return _decide_cancel(hall, state, cmd, ctx)
        case EnterPaperResult():
            return _decide_paper(hall, state, cmd, ctx)
        case ReportProgress():
            return _decide_progress(hall, state, cmd, ctx)
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
        case RoundClosed():
            r = state.rounds[event.round_id]
            r.status = RoundStatus.CLOSED
            r.result = event.result
            r.published_receipts = list(event.receipts)
            # Taken from the result, so the state does not depend on whether sealed ballots were replayed.
            r.tally = {o.key: o.count for o in event.result.options}
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
