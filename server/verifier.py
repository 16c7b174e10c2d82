"""The server's verifiable-ballot hook: meeting/verifiable.py's `Crypto`, done with ballotcrypto.

The server holds no key that opens a ballot: it checks proofs, adds ciphertexts and combines the committee's
partial decryptions (docs/BALLOT-CRYPTO.md §12). Every failure becomes a refusal with a stable code and the
check's Vietnamese and English sentence (ballotcrypto/errors.py), so a bad ballot or partial changes nothing.

Caches (per process, rebuilt on demand, never needed for correctness): a ceremony's outcome (~2 ms per member to
recompute from its transcript) and each verified ballot's decoded ciphertexts (~1.5 ms per ballot to re-verify),
so the t partial decryptions of a 125-ballot round do not re-verify 125 ballots t times.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from typing import Any, TypeVar

import msgspec

from ballotcrypto import ballots, board, dkg, tally
from ballotcrypto import records as rec
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.proofs import Pair
from meeting.errors import Code, DomainError
from meeting.verifiable import CeremonySpec, Outcome, RoundCrypto, Step, Transcript

T = TypeVar("T")
_STEP_TYPES: dict[Step, type[Any]] = {
    Step.PUBLISH: rec.MemberPublication,
    Step.DEAL: rec.ShareBundle,
    Step.COMPLAIN: rec.ComplaintList,
}
_STEP_MEMBER = {Step.PUBLISH: "member", Step.DEAL: "dealer", Step.COMPLAIN: "member"}
# 125 delegates × a few open rounds; 10 000 decoded ballots is ~10 MB.
MAX_CACHED_BALLOTS = 10_000
MAX_CACHED_CEREMONIES = 64


def _convert(data: Any, typ: type[T], on_error: DomainError) -> T:
    try:
        return msgspec.convert(data, typ)
    except msgspec.ValidationError:
        raise on_error from None


def ceremony_spec(spec: CeremonySpec) -> rec.CeremonySpec:
    return rec.CeremonySpec(
        council_id=spec.council_id, ceremony_id=spec.ceremony_id, threshold=spec.threshold, members=list(spec.members)
    )


def round_spec(rnd: RoundCrypto) -> rec.RoundSpec:
    if rnd.kind == "poll":
        return ballots.poll_round(rnd.council_id, rnd.session_id, rnd.round_id, rnd.officials, rnd.options)
    return ballots.vote_round(rnd.council_id, rnd.session_id, rnd.round_id, rnd.options)


def round_context(rnd: RoundCrypto) -> ballots.RoundContext:
    return ballots.round_context(round_spec(rnd), bytes.fromhex(rnd.joint_key), bytes.fromhex(rnd.fingerprint))


def ceremony_record(t: Transcript) -> tuple[rec.Ceremony, dkg.Outcome]:
    """The transcript as ballotcrypto records, checked (raises VerifyFailure)."""
    return dkg.transcript(
        ceremony_spec(t.spec),
        [msgspec.convert(p, rec.MemberPublication) for p in t.publications],
        [msgspec.convert(b, rec.ShareBundle) for b in t.bundles],
        [msgspec.convert(c, rec.ComplaintList) for c in t.complaints],
    )


class ServerCrypto:
    def __init__(self) -> None:
        self._outcomes: OrderedDict[tuple[str, str], dkg.Outcome] = OrderedDict()
        self._cells: OrderedDict[tuple[bytes, str], list[list[Pair]]] = OrderedDict()
        # SHA-256 of (round, ballot) -> tracker, for ballots whose every proof was checked.
        self._verified: OrderedDict[str, str] = OrderedDict()
        # Ballots are checked in worker threads too (`precheck_ballot`): the caches are shared with the loop.
        self._lock = threading.Lock()

    # --- the ceremony
    def check_step(self, spec: CeremonySpec, step: Step, member: int, message: dict[str, Any]) -> None:
        def bad(detail: str) -> DomainError:
            return DomainError(
                Code.CEREMONY_INVALID,
                id=spec.ceremony_id,
                reason_vi="thông điệp không đúng định dạng",
                reason_en="the message is malformed",
                detail=detail,
            )

        record = _convert(message, _STEP_TYPES[step], bad(f"{step.value} of member {member}"))
        if getattr(record, _STEP_MEMBER[step]) != member:
            raise bad(f"the {step.value} message names another member than {member}")

    def outcome(self, transcript: Transcript) -> Outcome:
        try:
            record, out = ceremony_record(transcript)
        except (VerifyFailure, msgspec.ValidationError) as e:
            check = e.check if isinstance(e, VerifyFailure) else "board_format"
            vi, en = _sentences(e)
            raise DomainError(
                Code.CEREMONY_INVALID, id=transcript.spec.ceremony_id, reason_vi=vi, reason_en=en, detail=check
            ) from None
        self._remember(self._outcomes, (record.spec.ceremony_id, record.fingerprint), out, MAX_CACHED_CEREMONIES)
        return Outcome(disqualified=out.disqualified, joint_key=record.joint_key, fingerprint=record.fingerprint)

    def _outcome(self, transcript: Transcript, fingerprint: str) -> dkg.Outcome:
        key = (transcript.spec.ceremony_id, fingerprint)
        out = self._outcomes.get(key)
        if out is None:
            out = ceremony_record(transcript)[1]
            self._remember(self._outcomes, key, out, MAX_CACHED_CEREMONIES)
        return out

    # --- ballots
    def precheck_ballot(self, rnd: RoundCrypto, ballot: dict[str, Any]) -> None:
        """`check_ballot` ahead of the domain, in a worker thread (server/engine.py `Runtime.submit`): a ballot
        that passes is remembered, so the domain's check under the stream's lock is a lookup. A failure is left
        for the domain to refuse (and audit) in order."""
        with contextlib.suppress(DomainError):
            self.check_ballot(rnd, ballot)

    def check_ballot(self, rnd: RoundCrypto, ballot: dict[str, Any]) -> str:
        # The exact bytes of the ballot in this round: a repeat of a verified ballot is not verified again.
        digest = _digest(rnd, ballot)
        with self._lock:
            known = self._verified.get(digest)
            if known is not None:
                self._verified.move_to_end(digest)
                return known
        tracker = self._verify_ballot(rnd, ballot)
        with self._lock:
            self._remember(self._verified, digest, tracker, MAX_CACHED_BALLOTS)
        return tracker

    def _verify_ballot(self, rnd: RoundCrypto, ballot: dict[str, Any]) -> str:
        bad_format = DomainError(
            Code.BALLOT_PROOF_INVALID,
            reason_vi="phiếu không đúng cấu trúc",
            reason_en="the ballot is malformed",
            detail="ballot_format",
        )
        b = _convert(ballot, rec.Ballot, bad_format)
        ctx = round_context(rnd)
        try:
            cells = ballots.verify_ballot(ctx, b)
        except VerifyFailure as e:
            raise DomainError(
                Code.BALLOT_PROOF_INVALID, reason_vi=e.message_vi, reason_en=e.message_en, detail=e.check
            ) from None
        with self._lock:
            self._remember(self._cells, (ctx.qr, b.tracker), cells, MAX_CACHED_BALLOTS)
        return b.tracker

    def _aggregate(self, ctx: ballots.RoundContext, stored: list[dict[str, Any]]) -> tally.Cells:
        cts = []
        for data in stored:
            b = msgspec.convert(data, rec.Ballot)
            with self._lock:
                cells = self._cells.get((ctx.qr, b.tracker))
            if cells is None:  # another worker took it, or this one restarted: verify again
                cells = ballots.verify_ballot(ctx, b)
                with self._lock:
                    self._remember(self._cells, (ctx.qr, b.tracker), cells, MAX_CACHED_BALLOTS)
            cts.append(cells)
        return tally.aggregate(ctx, cts)

    # --- counting
    def _checked(
        self, transcript: Transcript, rnd: RoundCrypto, stored: list[dict[str, Any]], member: int, p: dict[str, Any]
    ) -> list[list[bytes]]:
        ctx = round_context(rnd)
        partial = _convert(p, rec.PartialDecryption, _partial_error(transcript, member, "board_format"))
        try:
            return tally.check_partial(
                ctx, self._outcome(transcript, rnd.fingerprint), self._aggregate(ctx, stored), partial
            )
        except VerifyFailure as e:
            raise _partial_error(transcript, member, e.check, e) from None

    def check_partial(
        self, transcript: Transcript, rnd: RoundCrypto, ballots: list[dict[str, Any]], member: int, p: dict[str, Any]
    ) -> None:
        self._checked(transcript, rnd, ballots, member, p)

    def combine(
        self,
        transcript: Transcript,
        rnd: RoundCrypto,
        ballots: list[dict[str, Any]],
        partials: dict[int, dict[str, Any]],
    ) -> list[list[int]]:
        ctx = round_context(rnd)
        checked = {m: self._checked(transcript, rnd, ballots, m, p) for m, p in partials.items()}
        return tally.combine(self._aggregate(ctx, ballots), checked, transcript.spec.threshold, len(ballots))

    @staticmethod
    def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any, limit: int) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > limit:
            cache.popitem(last=False)


def _digest(rnd: RoundCrypto, ballot: dict[str, Any]) -> str:
    return hashlib.sha256(msgspec.json.encode([rnd, ballot], order="sorted")).hexdigest()


def _sentences(e: Exception) -> tuple[str, str]:
    if isinstance(e, VerifyFailure):
        return e.message_vi, e.message_en
    return "thông điệp không đúng định dạng", "a message is malformed"


def _partial_error(transcript: Transcript, member: int, check: str, e: VerifyFailure | None = None) -> DomainError:
    vi, en = _sentences(e) if e is not None else ("không đúng cấu trúc", "malformed")
    return DomainError(
        Code.PARTIAL_INVALID,
        member=transcript.spec.members[member - 1],
        reason_vi=vi,
        reason_en=en,
        detail=check,
    )


def build_board(
    transcript: Transcript, rnd: RoundCrypto, stored: list[dict[str, Any]], partials: list[dict[str, Any]]
) -> bytes:
    """The round's bulletin board (docs/BALLOT-CRYPTO.md §8), every record checked again as it is built."""
    record, out = ceremony_record(transcript)
    board_rec = board.build_board(
        record,
        out,
        round_context(rnd),
        [msgspec.convert(b, rec.Ballot) for b in stored],
        [],
        [msgspec.convert(p, rec.PartialDecryption) for p in partials],
    )
    return board.encode_board(board_rec)
