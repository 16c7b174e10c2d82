"""Verifiable confidence polls (issue 13 §1–2): the scheme of meeting/verifiable.py applied to lấy phiếu / bỏ
phiếu tín nhiệm (NQ 96/2023/QH15).

A poll opened with `mode = verifiable` (meeting/polls.py `OpenPoll`) names a completed key ceremony whose members
are the poll's counting committee. Its ballot is one question per official with the kind's levels, at most one
marked (docs/BALLOT-CRYPTO.md §6: `min = 0, max = 1`); a ballot marking no level of an official is invalid for
that official, as on paper and in sealed polls. The tablet encrypts it (`CastEncryptedPollBallot`); the server
checks every proof through the `Crypto` hook and never sees a mark. Closing the poll (`ClosePoll`) gives no
count. Each committee member's device sends its partial decryption of the total (`SubmitPollPartialDecryption`);
with the t-th valid one the hook combines them and the result — computed by meeting/polls.py `tally`, the same
percentages and consequences as a sealed poll — is published (`PollPublished`, `certified_by` = the members who
decrypted). Decrypting is certifying; `CertifyPoll` is refused for these polls.
"""

from __future__ import annotations

from typing import Any

from meeting import polls
from meeting.actors import EVERYONE, Context, committee_of, only, staff_and
from meeting.errors import Code, DomainError
from meeting.hall import Hall
from meeting.messages import Command, Event, Routed
from meeting.rules import BallotMode
from meeting.verifiable import Ceremonies, RoundCrypto, check_partial_submission, crypto_of


# --- commands
class CastEncryptedPollBallot(Command, frozen=True, kw_only=True, tag="poll_cast_encrypted"):
    poll_id: str
    delegate_id: str
    ballot: dict[str, Any]  # {tracker, answers}: one answer per official, in ballot order (BALLOT-CRYPTO.md §6)


class SubmitPollPartialDecryption(Command, frozen=True, kw_only=True, tag="poll_partial_decryption"):
    poll_id: str
    partial: dict[str, Any]  # {member, shares} (docs/BALLOT-CRYPTO.md §7)


# --- events
class EncryptedPollBallotCast(Event, frozen=True, kw_only=True, tag="poll_encrypted_ballot"):
    """A poll ballot whose proofs verified: public on the board after the result; no delegate named."""

    poll_id: str
    tracker: str
    ballot: dict[str, Any]


class PollPartialAccepted(Event, frozen=True, kw_only=True, tag="poll_partial_accepted"):
    poll_id: str
    member_id: str
    member: int
    partial: dict[str, Any]
    accepted: int
    needed: int


COMMANDS: tuple[type[Command], ...] = (CastEncryptedPollBallot, SubmitPollPartialDecryption)
EVENTS: tuple[type[Event], ...] = (EncryptedPollBallotCast, PollPartialAccepted)


def poll_crypto(hall: Hall, poll: polls.Poll) -> RoundCrypto:
    return RoundCrypto(
        council_id=hall.council_id,
        session_id=hall.session_id,
        round_id=poll.id,
        options=[m.value for m in poll.kind.levels],
        joint_key=poll.joint_key,
        fingerprint=poll.fingerprint,
        kind="poll",
        officials=[o.id for o in poll.officials],
    )


def _verifiable(state: polls.Polls, poll_id: str) -> polls.Poll:
    poll = polls.require_poll(state, poll_id)
    if poll.mode is not BallotMode.VERIFIABLE:
        raise polls.wrong_mode(poll)
    return poll


def _decide_cast(hall: Hall, state: polls.Polls, cmd: CastEncryptedPollBallot, ctx: Context) -> list[Routed]:
    poll = _verifiable(state, cmd.poll_id)
    me = polls.check_cast(hall, poll, cmd.delegate_id, ctx)
    tracker = crypto_of(ctx).check_ballot(poll_crypto(hall, poll), cmd.ballot)
    if tracker in poll.trackers:
        raise DomainError(Code.BALLOT_DUPLICATE, tracker=tracker[:16])
    return [
        # Staff and the voter: the hall learns the count from `PollProgress` (meeting/polls.py).
        Routed(
            event=polls.PollDelegateVoted(poll_id=poll.id, delegate_id=me, ballots_collected=len(poll.voted) + 1),
            audience=staff_and(me),
        ),
        # Staff and the committee: a member's device adds the ballots up itself before decrypting.
        Routed(
            event=EncryptedPollBallotCast(poll_id=poll.id, tracker=tracker, ballot=cmd.ballot),
            audience=committee_of(poll.committee),
        ),
        # The tracker is the receipt: the voter finds it on the board.
        Routed(event=polls.PollReceipt(poll_id=poll.id, delegate_id=me, receipt=tracker), audience=only(me)),
    ]


def _decide_partial(
    hall: Hall, state: polls.Polls, cers: Ceremonies, cmd: SubmitPollPartialDecryption, ctx: Context
) -> list[Routed]:
    poll = _verifiable(state, cmd.poll_id)
    c = cers.by_id[poll.ceremony_id or ""]
    rnd = poll_crypto(hall, poll)
    ok = check_partial_submission(
        c,
        ctx,
        target=poll.id,
        counted=poll.status is polls.PollStatus.COUNTED,
        accepted=poll.partials,
        rnd=rnd,
        ballots=poll.ballots,
        partial=cmd.partial,
    )
    ev = PollPartialAccepted(
        poll_id=poll.id,
        member_id=ok.person,
        member=ok.member,
        partial=cmd.partial,
        accepted=ok.accepted,
        needed=ok.needed,
    )
    routed = [Routed(event=ev, audience=committee_of(poll.committee))]
    if ok.accepted == ok.needed:
        per_official = crypto_of(ctx).combine(c.transcript(), rnd, poll.ballots, ok.all)
        n = len(poll.ballots)
        counts: dict[str, dict[str, int]] = {}
        for o, row in zip(poll.officials, per_official, strict=True):
            levels = dict(zip(rnd.options, row, strict=True))
            # A ballot that marks no level of this official is invalid for them (at most one level: its proof).
            counts[o.id] = {**levels, polls.Mark.INVALID.value: n - sum(row)}
        result = polls.tally(hall, poll, counts, n, paper=False)
        published = polls.PollPublished(
            poll_id=poll.id,
            at=ctx.now,
            result=result,
            receipts=sorted(poll.trackers),
            certified_by=[*poll.partials, ok.person],
        )
        routed.append(Routed(event=published, audience=EVERYONE))
    return routed


def decide(hall: Hall, state: polls.Polls, cers: Ceremonies, cmd: Command, ctx: Context) -> list[Routed]:
    match cmd:
        case CastEncryptedPollBallot():
            return _decide_cast(hall, state, cmd, ctx)
        case SubmitPollPartialDecryption():
            return _decide_partial(hall, state, cers, cmd, ctx)
    raise AssertionError(f"not a verifiable-poll command: {cmd!r}")


def apply(state: polls.Polls, event: Event) -> None:
    match event:
        case EncryptedPollBallotCast():
            poll = state.polls[event.poll_id]
            poll.ballots.append(event.ballot)
            poll.trackers.add(event.tracker)
        case PollPartialAccepted():
            state.polls[event.poll_id].partials[event.member_id] = event.partial
        case _:
            raise AssertionError(f"not a verifiable-poll event: {event!r}")
