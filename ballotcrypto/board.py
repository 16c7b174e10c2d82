"""The bulletin board of one closed round (docs/BALLOT-CRYPTO.md §8–9): built by the server from what it checked,
verified offline by anyone from the exported JSON. `verify_board` runs every check in the order of §9 and stops
at the first failure, which it names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from ballotcrypto import records as rec
from ballotcrypto.ballots import RoundContext, audit, round_context, verify_ballot
from ballotcrypto.dkg import Outcome, check_ceremony
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.tally import Cells, aggregate, aggregate_record, check_partial, combine

# A board of 125 ballots of 3 options is ~0.5 MB; a 100-official poll of 125 ballots ~25 MB. 64 MB bounds a file.
MAX_BOARD_BYTES = 64 * 1024 * 1024


def build_board(
    ceremony: rec.Ceremony,
    outcome: Outcome,
    ctx: RoundContext,
    ballots: Sequence[rec.Ballot],
    spoiled: Sequence[rec.SpoiledBallot],
    partials: Sequence[rec.PartialDecryption],
) -> rec.Board:
    """The board after the close: checks every ballot and partial as the server does, then combines."""
    cts = [verify_ballot(ctx, b) for b in ballots]
    cells = aggregate(ctx, cts)
    checked = {p.member: check_partial(ctx, outcome, cells, p) for p in partials}
    counts = combine(cells, checked, ceremony.spec.threshold, len(ballots))
    return rec.Board(
        version="kyhop-ballot-v1",
        ceremony=ceremony,
        round=ctx.spec,
        ballots=list(ballots),
        spoiled=list(spoiled),
        aggregate=aggregate_record(cells),
        partials=list(partials),
        result=rec.Result(ballots=len(ballots), counts=counts),
    )


@dataclass(frozen=True)
class Report:
    failure: VerifyFailure | None
    board: rec.Board | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def decode_board(data: bytes) -> rec.Board:
    if len(data) > MAX_BOARD_BYTES:
        raise VerifyFailure("board_format", "file", f"larger than {MAX_BOARD_BYTES} bytes")
    try:
        return msgspec.json.decode(data, type=rec.Board)
    except msgspec.ValidationError as e:
        raise VerifyFailure("board_format", "file", str(e)) from None
    except msgspec.DecodeError as e:
        raise VerifyFailure("board_format", "file", f"not JSON: {e}") from None


def encode_board(board: rec.Board) -> bytes:
    return msgspec.json.encode(board)


def check_board(board: rec.Board) -> rec.Result:
    """Raises the first VerifyFailure, in the order of §9; returns the verified result."""
    outcome = check_ceremony(board.ceremony)
    spec = board.round
    if spec.council_id != board.ceremony.spec.council_id:
        raise VerifyFailure("round", spec.round_id, "the round's council is not the ceremony's")
    ctx = round_context(spec, outcome.joint_key, outcome.fingerprint)
    seen: set[str] = set()
    cts: list[Cells] = []
    for b in board.ballots:
        cts.append(verify_ballot(ctx, b))
        if b.tracker in seen:
            raise VerifyFailure("ballot_duplicate", f"ballot {b.tracker[:16]}", "two ballots with the same tracker")
        seen.add(b.tracker)
    for s in board.spoiled:
        audit(ctx, s)
        if s.ballot.tracker in seen:
            raise VerifyFailure("spoiled_ballot", f"spoiled {s.ballot.tracker[:16]}", "a spoiled ballot was counted")
    cells = aggregate(ctx, cts)
    if board.aggregate != aggregate_record(cells):
        raise VerifyFailure("aggregate", spec.round_id, "not the sum of the ballots' ciphertexts")
    checked: dict[int, list[list[bytes]]] = {}
    for p in board.partials:
        if p.member in checked:
            raise VerifyFailure("partial_decryption", f"member {p.member}", "two partial decryptions from one member")
        checked[p.member] = check_partial(ctx, outcome, cells, p)
    counts = combine(cells, checked, board.ceremony.spec.threshold, len(board.ballots))
    if board.result.ballots != len(board.ballots):
        raise VerifyFailure(
            "result", "ballots", f"the result says {board.result.ballots} ballots, the board has {len(board.ballots)}"
        )
    if board.result.counts != counts:
        raise VerifyFailure("result", "counts", f"the result says {board.result.counts}, the decryption gives {counts}")
    return board.result


def verify_board(data: bytes | rec.Board) -> Report:
    board: rec.Board | None = None
    try:
        board = data if isinstance(data, rec.Board) else decode_board(data)
        check_board(board)
    except VerifyFailure as e:
        return Report(e, board)
    return Report(None, board)
