"""Verifiable secret rounds (issue 13): the committee's key ceremony, encrypted ballots, decryption = certification.

The cryptography is specified in docs/BALLOT-CRYPTO.md and done by `ballotcrypto/`; this module does not import
it. The domain sees the scheme's messages as opaque JSON objects and asks a `Crypto` hook, passed in with the
command's `Context` (like the time and the nonce), whether they verify. The server's hook (server/verifier.py)
runs ballotcrypto; a test may pass another. The events carry everything a replay needs (the joint key, every
accepted ballot and partial, the result), so `apply` never calls the hook.

Flow:
1. The chair starts a ceremony for the counting committee (`StartCeremony`); each member's device sends its
   publication, then (once all n are in) its share bundle, then (once all n bundles are in) its complaint list
   (`CeremonyStep`). Every step is a public `CeremonyMessage` in the session log. With the n-th complaint list
   the hook computes the outcome: `CeremonyCompleted` carries the joint key and the fingerprint.
2. The chair opens a secret round with `mode = verifiable` and the ceremony (meeting/votes.py). A delegate's
   tablet casts `CastEncryptedBallot`: the hook checks every proof and gives the tracker; the domain keeps the
   one-ballot and eligibility rules of `CastBallot`. `DelegateVoted` says who voted (as for sealed rounds);
   `EncryptedBallotCast` holds the ballot, for staff and the committee (the board publishes it after the result,
   no delegate named in it); the voter gets
   the tracker as their receipt. The hall sees only the number of ballots (`RoundProgress`).
3. Closing the round (`CloseRound`) emits `RoundBallotsClosed`: no count exists yet. Each member sends a partial
   decryption of the total (`SubmitPartialDecryption`); the hook checks its proof — a bad one is refused naming
   the member, and the others still finish. With the t-th valid partial the hook combines them and the domain
   announces `RoundClosed`: decrypting is certifying, and the members who decrypted are its `certified_by`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import msgspec

from meeting import votes
from meeting.actors import EVERYONE, Context, Role, committee_of, only, staff_and
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall
from meeting.messages import Command, Event, Routed
from meeting.rules import BallotMode
from meeting.votes import CeremonyKeys

# ballotcrypto allows 1 ≤ t ≤ n ≤ 100 members (docs/BALLOT-CRYPTO.md §5).
MAX_MEMBERS = 100


class Step(StrEnum):
    PUBLISH = "publish"  # MemberPublication: communication key and coefficient commitments, with proofs
    DEAL = "deal"  # ShareBundle: one sealed share per other member
    COMPLAIN = "complain"  # ComplaintList: the dealers whose share failed (usually none)


# --- what the hook is given
class CeremonySpec(msgspec.Struct, frozen=True, kw_only=True):
    council_id: str
    ceremony_id: str
    threshold: int
    members: list[str]


class Transcript(msgspec.Struct, frozen=True, kw_only=True):
    """The ceremony's public messages, each list in member order (1…n)."""

    spec: CeremonySpec
    publications: list[dict[str, Any]]
    bundles: list[dict[str, Any]]
    complaints: list[dict[str, Any]]


class RoundCrypto(msgspec.Struct, frozen=True, kw_only=True):
    """A verifiable round as the scheme binds it (docs/BALLOT-CRYPTO.md §6): a vote is one question whose
    choices are `options`; a confidence poll is one question per official (`officials`, in ballot order) whose
    choices are the poll's levels (`options`)."""

    council_id: str
    session_id: str
    round_id: str
    options: list[str]
    joint_key: str
    fingerprint: str
    kind: str = "vote"  # "vote" | "poll"
    officials: list[str] = []


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    disqualified: list[int]
    joint_key: str
    fingerprint: str


class Crypto(Protocol):
    """Checks the scheme's messages. Each method raises `DomainError` (with the codes named) when one fails."""

    def check_step(self, spec: CeremonySpec, step: Step, member: int, message: dict[str, Any]) -> None:
        """The message's shape and its own proofs (`ceremony_invalid`)."""

    def outcome(self, transcript: Transcript) -> Outcome:
        """The whole transcript's outcome (`ceremony_invalid`)."""

    def check_ballot(self, rnd: RoundCrypto, ballot: dict[str, Any]) -> str:
        """Every proof of the ballot (`ballot_proof_invalid`); returns its tracker (hex)."""

    def check_partial(
        self, transcript: Transcript, rnd: RoundCrypto, ballots: list[dict[str, Any]], member: int, p: dict[str, Any]
    ) -> None:
        """The member's partial decryption of the ballots' total (`partial_invalid`, naming the member)."""

    def combine(
        self,
        transcript: Transcript,
        rnd: RoundCrypto,
        ballots: list[dict[str, Any]],
        partials: dict[int, dict[str, Any]],
    ) -> list[list[int]]:
        """The count of each choice of each question (a vote: one question) from t checked partials."""


# --- state
class Ceremony(msgspec.Struct, kw_only=True):
    spec: CeremonySpec
    # step -> member id -> message. Keyed by id, not number: a snapshot is JSON, whose object keys are strings.
    messages: dict[Step, dict[str, dict[str, Any]]] = msgspec.field(default_factory=lambda: {s: {} for s in Step})
    keys: CeremonyKeys | None = None
    started_at: datetime | None = None

    def transcript(self) -> Transcript:
        def ordered(step: Step) -> list[dict[str, Any]]:
            return [self.messages[step][m] for m in self.spec.members if m in self.messages[step]]

        return Transcript(
            spec=self.spec,
            publications=ordered(Step.PUBLISH),
            bundles=ordered(Step.DEAL),
            complaints=ordered(Step.COMPLAIN),
        )


class Ceremonies(msgspec.Struct, kw_only=True):
    by_id: dict[str, Ceremony] = msgspec.field(default_factory=dict)

    def keys(self) -> dict[str, CeremonyKeys]:
        return {k: c.keys for k, c in self.by_id.items() if c.keys is not None}


# --- commands
class StartCeremony(Command, frozen=True, kw_only=True, tag="ceremony_start"):
    ceremony_id: str
    members: list[str]  # the counting committee, in member order
    threshold: int | None = None  # None: a majority, ⌊n/2⌋ + 1 (4 of 7)


class CeremonyStep(Command, frozen=True, kw_only=True, tag="ceremony_step"):
    ceremony_id: str
    step: Step
    message: dict[str, Any]  # the ballotcrypto record of the step (docs/BALLOT-CRYPTO.md §5, §8)


class CastEncryptedBallot(Command, frozen=True, kw_only=True, tag="vote_cast_encrypted"):
    round_id: str
    delegate_id: str
    ballot: dict[str, Any]  # {tracker, answers} (docs/BALLOT-CRYPTO.md §6)


class SubmitPartialDecryption(Command, frozen=True, kw_only=True, tag="vote_partial_decryption"):
    round_id: str
    partial: dict[str, Any]  # {member, shares} (docs/BALLOT-CRYPTO.md §7)


# --- events
class CeremonyStarted(Event, frozen=True, kw_only=True, tag="ceremony_started"):
    spec: CeremonySpec
    # When the chair started it: the console shows the newest ceremony, and an id need not sort by time (a client
    # may choose any id). None in logs written before it was recorded.
    at: datetime | None = None


class CeremonyMessage(Event, frozen=True, kw_only=True, tag="ceremony_message"):
    """One member's public ceremony message (what every other device needs for its next step)."""

    ceremony_id: str
    member: int
    member_id: str
    step: Step
    message: dict[str, Any]


class CeremonyCompleted(Event, frozen=True, kw_only=True, tag="ceremony_completed"):
    ceremony_id: str
    disqualified: list[int]
    joint_key: str
    fingerprint: str  # every member's device shows it; the members compare them (docs/BALLOT-CRYPTO.md §5)


class EncryptedBallotCast(Event, frozen=True, kw_only=True, tag="vote_encrypted_ballot"):
    """A ballot whose proofs verified: public on the board after the result; no delegate named."""

    round_id: str
    tracker: str
    ballot: dict[str, Any]


class PartialDecryptionAccepted(Event, frozen=True, kw_only=True, tag="vote_partial_accepted"):
    round_id: str
    member_id: str
    member: int
    partial: dict[str, Any]
    accepted: int
    needed: int


COMMANDS: tuple[type[Command], ...] = (StartCeremony, CeremonyStep, CastEncryptedBallot, SubmitPartialDecryption)
EVENTS: tuple[type[Event], ...] = (
    CeremonyStarted,
    CeremonyMessage,
    CeremonyCompleted,
    EncryptedBallotCast,
    PartialDecryptionAccepted,
)


def crypto_of(ctx: Context) -> Crypto:
    if ctx.crypto is None:
        raise AssertionError("a verifiable-ballot command needs the Crypto hook in its Context")
    crypto: Crypto = ctx.crypto
    return crypto


def round_crypto(hall: Hall, r: votes.Round) -> RoundCrypto:
    return RoundCrypto(
        council_id=hall.council_id,
        session_id=hall.session_id,
        round_id=r.id,
        options=r.option_keys(),
        joint_key=r.joint_key,
        fingerprint=r.fingerprint,
    )


def _member_index(c: Ceremony, ctx: Context) -> tuple[int, str]:
    person = ctx.actor.person_id
    if person is None or person not in c.spec.members:
        raise DomainError(Code.NOT_ON_COMMITTEE, id=person or "?")
    return c.spec.members.index(person) + 1, person


def _decide_start(hall: Hall, cers: Ceremonies, cmd: StartCeremony, ctx: Context) -> list[Routed]:
    ctx.actor.require(Role.CHAIR)
    if not cmd.ceremony_id or len(cmd.ceremony_id) > votes.MAX_ID:
        raise invalid("mã phiên tạo khóa trống hoặc quá dài", "the ceremony id is empty or too long")
    if cmd.ceremony_id in cers.by_id:
        raise DomainError(Code.DUPLICATE_ID, id=cmd.ceremony_id)
    members = list(cmd.members)
    if len(set(members)) != len(members) or not 1 <= len(members) <= MAX_MEMBERS:
        raise invalid(
            f"Ban kiểm phiếu phải có từ 1 đến {MAX_MEMBERS} người, không trùng",
            f"the committee needs 1 to {MAX_MEMBERS} distinct members",
        )
    for m in members:
        hall.require_delegate(m)
    if len(members) < hall.rules.committee_min:
        raise DomainError(Code.COMMITTEE_TOO_SMALL, needed=hall.rules.committee_min, size=len(members))
    t = cmd.threshold if cmd.threshold is not None else len(members) // 2 + 1
    if not 1 <= t <= len(members):
        raise invalid("ngưỡng giải mã phải từ 1 đến số thành viên", "the threshold must be 1 to the number of members")
    spec = CeremonySpec(council_id=hall.council_id, ceremony_id=cmd.ceremony_id, threshold=t, members=members)
    return [Routed(event=CeremonyStarted(spec=spec, at=ctx.now), audience=EVERYONE)]


_BEFORE = {Step.DEAL: Step.PUBLISH, Step.COMPLAIN: Step.DEAL}


def _decide_step(cers: Ceremonies, cmd: CeremonyStep, ctx: Context) -> list[Routed]:
    c = cers.by_id.get(cmd.ceremony_id)
    if c is None:
        raise DomainError(Code.UNKNOWN_CEREMONY, id=cmd.ceremony_id[: votes.MAX_ID])
    member, person = _member_index(c, ctx)
    n = len(c.spec.members)

    def refuse(vi: str, en: str) -> DomainError:
        return DomainError(Code.CEREMONY_STEP, id=c.spec.ceremony_id, step=cmd.step.value, reason_vi=vi, reason_en=en)

    if c.keys is not None:
        raise refuse("phiên đã hoàn tất", "the ceremony is complete")
    if person in c.messages[cmd.step]:
        raise refuse("thành viên đã gửi bước này", "this member already sent this step")
    before = _BEFORE.get(cmd.step)
    if before is not None and len(c.messages[before]) < n:
        raise refuse("chưa đủ bước trước của mọi thành viên", "not every member has sent the step before")
    crypto = crypto_of(ctx)
    crypto.check_step(c.spec, cmd.step, member, cmd.message)
    msg = CeremonyMessage(
        ceremony_id=c.spec.ceremony_id, member=member, member_id=person, step=cmd.step, message=cmd.message
    )
    routed = [Routed(event=msg, audience=EVERYONE)]
    if cmd.step is Step.COMPLAIN and len(c.messages[Step.COMPLAIN]) == n - 1:
        done = c.transcript()
        complaints = [*done.complaints]
        complaints.insert(member - 1, cmd.message)
        out = crypto.outcome(msgspec.structs.replace(done, complaints=complaints))
        ev = CeremonyCompleted(
            ceremony_id=c.spec.ceremony_id,
            disqualified=out.disqualified,
            joint_key=out.joint_key,
            fingerprint=out.fingerprint,
        )
        routed.append(Routed(event=ev, audience=EVERYONE))
    return routed


def _verifiable(state: votes.Votes, round_id: str) -> votes.Round:
    r = votes.require_round(state, round_id)
    if r.mode is not BallotMode.VERIFIABLE:
        raise DomainError(
            Code.WRONG_BALLOT_MODE,
            id=r.id,
            expected_vi="không phải lượt bỏ phiếu kín có thể kiểm chứng",
            expected_en="is not a verifiable secret round",
        )
    return r


def _decide_cast(hall: Hall, state: votes.Votes, cmd: CastEncryptedBallot, ctx: Context) -> list[Routed]:
    _verifiable(state, cmd.round_id)
    r, delegate_id = votes.check_cast(hall, state, cmd.round_id, cmd.delegate_id, ctx)
    tracker = crypto_of(ctx).check_ballot(round_crypto(hall, r), cmd.ballot)
    if tracker in r.trackers:
        raise DomainError(Code.BALLOT_DUPLICATE, tracker=tracker[:16])
    cast = len(r.voted) + 1
    return [
        Routed(
            event=votes.DelegateVoted(round_id=r.id, delegate_id=delegate_id, ballots_cast=cast),
            audience=staff_and(delegate_id),
        ),
        # Staff and the committee: a member's device adds the ballots up itself before decrypting, so a server
        # cannot pass off one ballot as "the total" and have the committee decrypt it.
        Routed(
            event=EncryptedBallotCast(round_id=r.id, tracker=tracker, ballot=cmd.ballot),
            audience=committee_of(r.committee),
        ),
        # The tracker is the receipt: the voter checks it is on the board.
        Routed(
            event=votes.BallotReceipt(round_id=r.id, delegate_id=delegate_id, receipt=tracker),
            audience=only(delegate_id),
        ),
    ]


class CheckedPartial(msgspec.Struct, frozen=True, kw_only=True):
    """A member's partial decryption that passed every check, and what counting it needs."""

    member: int
    person: str
    accepted: int  # with this one
    needed: int  # the ceremony's threshold t
    all: dict[int, dict[str, Any]]  # member number -> partial, every one accepted so far and this one


def check_partial_submission(
    c: Ceremony,
    ctx: Context,
    *,
    target: str,
    counted: bool,
    accepted: dict[str, dict[str, Any]],
    rnd: RoundCrypto,
    ballots: list[dict[str, Any]],
    partial: dict[str, Any],
) -> CheckedPartial:
    """What a round's and a poll's partial decryption must pass alike: from a member of the ceremony, once, on a
    total closed for counting (`counted`), naming the member it comes from, and proved (the `Crypto` hook)."""
    assert c.keys is not None  # a verifiable round or poll opens only on a completed ceremony
    member, person = _member_index(c, ctx)
    if not counted:
        raise DomainError(Code.ROUND_NOT_COUNTED, id=target)
    if person in accepted:
        raise DomainError(Code.ALREADY_CERTIFIED)
    if partial.get("member") != member:
        raise DomainError(
            Code.PARTIAL_INVALID,
            member=person,
            reason_vi="phần giải mã ghi sai số thứ tự thành viên",
            reason_en="the partial names another member",
            detail=f"member {member}",
        )
    crypto_of(ctx).check_partial(c.transcript(), rnd, ballots, member, partial)
    everyone = {c.spec.members.index(m) + 1: p for m, p in accepted.items()}
    everyone[member] = partial
    return CheckedPartial(
        member=member, person=person, accepted=len(accepted) + 1, needed=c.keys.threshold, all=everyone
    )


def _decide_partial(
    hall: Hall, state: votes.Votes, cers: Ceremonies, cmd: SubmitPartialDecryption, ctx: Context
) -> list[Routed]:
    r = _verifiable(state, cmd.round_id)
    c = cers.by_id[r.ceremony_id or ""]
    rnd = round_crypto(hall, r)
    ok = check_partial_submission(
        c,
        ctx,
        target=r.id,
        counted=r.status is votes.RoundStatus.COUNTED,
        accepted=r.partials,
        rnd=rnd,
        ballots=r.ballots,
        partial=cmd.partial,
    )
    member, person, accepted, needed = ok.member, ok.person, ok.accepted, ok.needed
    ev = PartialDecryptionAccepted(
        round_id=r.id, member_id=person, member=member, partial=cmd.partial, accepted=accepted, needed=needed
    )
    routed = [Routed(event=ev, audience=committee_of(r.committee))]
    if accepted == needed:
        counts = crypto_of(ctx).combine(c.transcript(), rnd, r.ballots, ok.all)[0]
        result = votes.tally_result(
            hall,
            r,
            counts=dict(zip(r.option_keys(), counts, strict=True)),
            ballots_collected=len(r.ballots),
            voted=sorted(r.voted),
            now=r.ballots_closed_at or ctx.now,
            few_ballots_confirmed=r.few_ballots_confirmed,
        )
        closed = votes.RoundClosed(
            round_id=r.id, result=result, receipts=sorted(r.trackers), certified_by=[*r.partials, person]
        )
        routed.append(Routed(event=closed, audience=EVERYONE))
    return routed


def decide(hall: Hall, state: votes.Votes, cers: Ceremonies, cmd: Command, ctx: Context) -> list[Routed]:
    match cmd:
        case StartCeremony():
            return _decide_start(hall, cers, cmd, ctx)
        case CeremonyStep():
            return _decide_step(cers, cmd, ctx)
        case CastEncryptedBallot():
            return _decide_cast(hall, state, cmd, ctx)
        case SubmitPartialDecryption():
            return _decide_partial(hall, state, cers, cmd, ctx)
    raise AssertionError(f"not a verifiable-ballot command: {cmd!r}")


def apply(state: votes.Votes, cers: Ceremonies, event: Event) -> None:
    match event:
        case CeremonyStarted():
            cers.by_id[event.spec.ceremony_id] = Ceremony(spec=event.spec, started_at=event.at)
        case CeremonyMessage():
            cers.by_id[event.ceremony_id].messages[event.step][event.member_id] = event.message
        case CeremonyCompleted():
            c = cers.by_id[event.ceremony_id]
            c.keys = CeremonyKeys(
                ceremony_id=event.ceremony_id,
                members=list(c.spec.members),
                threshold=c.spec.threshold,
                disqualified=list(event.disqualified),
                joint_key=event.joint_key,
                fingerprint=event.fingerprint,
            )
        case EncryptedBallotCast():
            r = state.rounds[event.round_id]
            r.ballots.append(event.ballot)
            r.trackers.add(event.tracker)
        case PartialDecryptionAccepted():
            state.rounds[event.round_id].partials[event.member_id] = event.partial
        case _:
            raise AssertionError(f"not a verifiable-ballot event: {event!r}")
