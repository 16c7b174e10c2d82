"""Verifiable secret ballots on the client side (issue 13): a delegate's encrypted ballot and a committee member's
device — its part of the key ceremony and its partial decryption. Pure: no I/O; the commands it returns are sent
with `clients.sdk.SessionClient.send`, and it reads what it needs from the session state the client keeps
(`SessionClient.state`, the member's own view).

The member's key share (`CommitteeMember.share`) never leaves this object: nothing here sends it, and the server
cannot rebuild it (docs/BALLOT-CRYPTO.md §5). Keeping it across a restart — passphrase and backup file — is
`clients/committee_device.py`'s (with `ballotcrypto/keystore.py`), as it is the tablet's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from ballotcrypto import ballots, dkg, tally
from ballotcrypto import records as rec
from ballotcrypto.group import Rng
from meeting import polls, verifiable, verifiable_polls, votes
from meeting.rules import BallotMode
from meeting.session import SessionState


class NotReady(Exception):
    """The state does not yet hold what this step needs (e.g. not every member has published)."""


def _round(state: SessionState, round_id: str) -> votes.Round:
    r = state.votes.rounds.get(round_id)
    if r is None or r.mode is not BallotMode.VERIFIABLE:
        raise NotReady(f"{round_id} is not a verifiable round in this state")
    return r


def round_context(state: SessionState, round_id: str) -> ballots.RoundContext:
    """What every proof of the round is bound to, from the round's opening event (joint key, fingerprint)."""
    r = _round(state, round_id)
    spec = ballots.vote_round(state.hall.council_id, state.hall.session_id, r.id, r.option_keys())
    return ballots.round_context(spec, bytes.fromhex(r.joint_key), bytes.fromhex(r.fingerprint))


def encrypt_vote(
    state: SessionState, round_id: str, delegate_id: str, option: str, rng: Rng | None = None
) -> verifiable.CastEncryptedBallot:
    """The command casting `option`, encrypted with its proofs; its `ballot["tracker"]` is the receipt to find
    on the board (`ballots.short_tracker` for the 16 characters a tablet shows)."""
    ctx = round_context(state, round_id)
    ballot, _nonces = ballots.encrypt_ballot(ctx, ballots.vote_choices(ctx.spec, option), rng)
    return verifiable.CastEncryptedBallot(
        round_id=round_id, delegate_id=delegate_id, ballot=msgspec.to_builtins(ballot)
    )


def _poll(state: SessionState, poll_id: str) -> polls.Poll:
    poll = state.polls.polls.get(poll_id)
    if poll is None or poll.mode is not BallotMode.VERIFIABLE:
        raise NotReady(f"{poll_id} is not a verifiable poll in this state")
    return poll


def poll_context(state: SessionState, poll_id: str) -> ballots.RoundContext:
    """A confidence poll's context: one question per official, the kind's levels as its choices."""
    poll = _poll(state, poll_id)
    spec = ballots.poll_round(
        state.hall.council_id,
        state.hall.session_id,
        poll.id,
        [o.id for o in poll.officials],
        [m.value for m in poll.kind.levels],
    )
    return ballots.round_context(spec, bytes.fromhex(poll.joint_key), bytes.fromhex(poll.fingerprint))


def encrypt_poll(
    state: SessionState, poll_id: str, delegate_id: str, marks: Mapping[str, str | None], rng: Rng | None = None
) -> verifiable_polls.CastEncryptedPollBallot:
    """The command casting a confidence-poll ballot: `marks` official id -> level (None or absent: no mark,
    invalid for that official)."""
    ctx = poll_context(state, poll_id)
    ballot, _nonces = ballots.encrypt_ballot(ctx, ballots.poll_choices(ctx.spec, marks), rng)
    return verifiable_polls.CastEncryptedPollBallot(
        poll_id=poll_id, delegate_id=delegate_id, ballot=msgspec.to_builtins(ballot)
    )


class CommitteeMember:
    """One member's device for one ceremony: publish, deal, complain, finish, then decrypt rounds' totals."""

    def __init__(self, state: SessionState, ceremony_id: str, member_id: str, rng: Rng | None = None) -> None:
        c = state.ceremonies.by_id.get(ceremony_id)
        if c is None:
            raise NotReady(f"no ceremony {ceremony_id} in this state")
        s = c.spec
        self.ceremony_id = ceremony_id
        self.spec = rec.CeremonySpec(
            council_id=s.council_id, ceremony_id=s.ceremony_id, threshold=s.threshold, members=list(s.members)
        )
        self.index = s.members.index(member_id) + 1
        self._member = dkg.Member(self.spec, self.index, rng)
        self._rng = rng
        self.share: dkg.KeyShare | None = None
        self.fingerprint: str | None = None

    def _step(self, step: verifiable.Step, message: Any) -> verifiable.CeremonyStep:
        return verifiable.CeremonyStep(ceremony_id=self.ceremony_id, step=step, message=msgspec.to_builtins(message))

    def _messages(self, state: SessionState, step: verifiable.Step, typ: type[Any]) -> list[Any]:
        got = state.ceremonies.by_id[self.ceremony_id].messages[step]
        n = len(self.spec.members)
        if len(got) < n:
            raise NotReady(f"{len(got)} of {n} members have sent {step.value}")
        return [msgspec.convert(got[m], typ) for m in self.spec.members]

    def publish(self) -> verifiable.CeremonyStep:
        return self._step(verifiable.Step.PUBLISH, self._member.publish())

    def deal(self, state: SessionState) -> verifiable.CeremonyStep:
        """Checks every publication (VerifyFailure names a member whose proof fails) and seals their shares."""
        pubs = self._messages(state, verifiable.Step.PUBLISH, rec.MemberPublication)
        return self._step(verifiable.Step.DEAL, self._member.deal(pubs))

    def complain(self, state: SessionState) -> verifiable.CeremonyStep:
        bundles = self._messages(state, verifiable.Step.DEAL, rec.ShareBundle)
        return self._step(verifiable.Step.COMPLAIN, self._member.receive(bundles))

    def finish(self, state: SessionState) -> str:
        """Keeps this member's share; returns the fingerprint to compare with the other members' (first 32 hex
        characters at least, docs/BALLOT-CRYPTO.md §5). Raises if the server's joint key is not the transcript's."""
        pubs = self._messages(state, verifiable.Step.PUBLISH, rec.MemberPublication)
        bundles = self._messages(state, verifiable.Step.DEAL, rec.ShareBundle)
        complaints = self._messages(state, verifiable.Step.COMPLAIN, rec.ComplaintList)
        self.share, out = self._member.finish(pubs, bundles, complaints)
        keys = state.ceremonies.by_id[self.ceremony_id].keys
        if keys is not None and (keys.joint_key, keys.fingerprint) != (self.share.joint_key, self.share.fingerprint):
            raise ValueError("the server's joint key or fingerprint is not the one this transcript gives")
        self.fingerprint = out.fingerprint.hex()
        return self.fingerprint

    def decrypt(self, state: SessionState, round_id: str) -> verifiable.SubmitPartialDecryption:
        """The partial decryption of the round's total. The device adds up the ballots itself, each checked:
        decrypting only what it computed, it never decrypts a single ballot passed off as the total."""
        if self.share is None:
            raise NotReady("the ceremony is not finished on this device")
        r = _round(state, round_id)
        if r.status is not votes.RoundStatus.COUNTED:
            raise NotReady(f"round {round_id} is not closed for counting")
        return verifiable.SubmitPartialDecryption(
            round_id=round_id, partial=self._partial(round_context(state, round_id), r.ballots)
        )

    def decrypt_poll(self, state: SessionState, poll_id: str) -> verifiable_polls.SubmitPollPartialDecryption:
        """As `decrypt`, for a verifiable confidence poll closed for counting."""
        if self.share is None:
            raise NotReady("the ceremony is not finished on this device")
        poll = _poll(state, poll_id)
        if poll.status is not polls.PollStatus.COUNTED:
            raise NotReady(f"poll {poll_id} is not closed for counting")
        partial = self._partial(poll_context(state, poll_id), poll.ballots)
        return verifiable_polls.SubmitPollPartialDecryption(poll_id=poll_id, partial=partial)

    def _partial(self, ctx: ballots.RoundContext, cast: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.share is not None
        if ctx.joint_key.hex() != self.share.joint_key:
            raise ValueError(f"{ctx.spec.round_id} is not encrypted to this ceremony's key")
        cells = tally.aggregate(ctx, [ballots.verify_ballot(ctx, msgspec.convert(b, rec.Ballot)) for b in cast])
        out: dict[str, Any] = msgspec.to_builtins(tally.partial_decrypt(self.share, ctx, cells, self._rng))
        return out
