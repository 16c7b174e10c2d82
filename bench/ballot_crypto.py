"""Verifiable ballots (issue 13, ballotcrypto/) — the server's share of the work, in one process, no I/O.

Measured (median of `--repeat` runs each):
- verify one ballot: a vote of 3 options (target ≤ 5 ms) and a confidence-poll ballot of 10 officials × 3 levels;
- encrypt + prove one ballot in Python (the tablet does it in the browser; this is the Python SDK's cost);
- close-to-result for 125 ballots (target ≤ 1 s): every ballot verified again, the aggregate, 4 of 7 members'
  partial decryptions computed and checked, the combination and the discrete log — as if the members' devices
  answered instantly and one after the other;
- the offline verifier on that whole board (ceremony transcript included).
Baselines, same run: the raw libsodium operations every proof is made of (rbcl: base-point and variable-base
scalar multiplication, point addition), and the sealed mode's cost per ballot (server/sealing.py: re-sealing the
round's counts with AES-256-GCM), i.e. what verifiable ballots replace.

    python -m bench.ballot_crypto --repeat 5
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import rbcl

from ballotcrypto import ballots, board, dkg, tally
from ballotcrypto import records as rec
from ballotcrypto.group import SystemRng
from bench.common import conclude, machine, parser, summary

VERIFY_TARGET_MS = 5.0
CLOSE_TARGET_S = 1.0
BALLOTS = 125  # Hà Nội and HCMC: the largest councils
OPTIONS = ["tan_thanh", "khong_tan_thanh", "khong_bieu_quyet"]
LEVELS = ["high", "trust", "low"]


def _per_call(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def _baseline(n: int = 2000) -> dict[str, float]:
    from server.sealing import Sealer

    k = rbcl.crypto_core_ristretto255_scalar_random()
    p, q = rbcl.crypto_core_ristretto255_random(), rbcl.crypto_core_ristretto255_random()
    sealer = Sealer(bytes(32))
    counts = dict.fromkeys(OPTIONS, 40)
    return {
        "base_mul_us": round(_per_call(lambda: rbcl.crypto_scalarmult_ristretto255_base(k), n) * 1e6, 1),
        "var_mul_us": round(_per_call(lambda: rbcl.crypto_scalarmult_ristretto255(k, p), n) * 1e6, 1),
        "point_add_us": round(_per_call(lambda: rbcl.crypto_core_ristretto255_add(p, q), n) * 1e6, 1),
        "sealed_mode_reseal_per_ballot_us": round(_per_call(lambda: sealer.seal("s", "r", counts), n) * 1e6, 1),
    }


def _setup() -> tuple[rec.Ceremony, dkg.Outcome, dict[int, dkg.KeyShare], float]:
    spec = rec.CeremonySpec(
        council_id="bench", ceremony_id="bench", threshold=4, members=[f"m{i}" for i in range(1, 8)]
    )
    t0 = time.perf_counter()
    record, out, shares = dkg.run_ceremony(spec)
    return record, out, shares, time.perf_counter() - t0


def _round(out: dkg.Outcome, spec: rec.RoundSpec) -> ballots.RoundContext:
    return ballots.round_context(spec, out.joint_key, out.fingerprint)


def _close(
    ctx: ballots.RoundContext,
    out: dkg.Outcome,
    shares: dict[int, dkg.KeyShare],
    cast: list[rec.Ballot],
    reverify: bool = True,
) -> tuple[float, list[rec.PartialDecryption]]:
    """reverify=False: the ballots were verified on receipt (as the server does), so the close only decodes."""
    decoded = None if reverify else [_decode(b) for b in cast]
    t0 = time.perf_counter()
    cts = [ballots.verify_ballot(ctx, b) for b in cast] if decoded is None else decoded
    cells = tally.aggregate(ctx, cts)
    partials = [tally.partial_decrypt(shares[j], ctx, cells) for j in (1, 3, 5, 7)]
    checked = {p.member: tally.check_partial(ctx, out, cells, p) for p in partials}
    tally.combine(cells, checked, 4, len(cast))
    return time.perf_counter() - t0, partials


def _decode(b: rec.Ballot) -> list[list[tuple[bytes, bytes]]]:
    return [[(bytes.fromhex(c.alpha), bytes.fromhex(c.beta)) for c in a.ciphertexts] for a in b.answers]


def run(repeat: int = 5, write: bool = True, n_ballots: int = BALLOTS) -> dict[str, Any]:
    base = _baseline()
    record, out, shares, ceremony_s = _setup()
    pick = random.Random(2027)
    vote = _round(out, ballots.vote_round("bench", "s", "r", OPTIONS))
    officials = [f"official-{i}" for i in range(10)]
    poll = _round(out, ballots.poll_round("bench", "s", "p", officials, LEVELS))
    rng = SystemRng()

    t_enc_vote, t_enc_poll, cast_vote, cast_poll = [], [], [], []
    for _ in range(n_ballots):
        choices = ballots.vote_choices(vote.spec, pick.choice(OPTIONS))
        t0 = time.perf_counter()
        cast_vote.append(ballots.encrypt_ballot(vote, choices, rng)[0])
        t_enc_vote.append(time.perf_counter() - t0)
    for _ in range(n_ballots):
        marks = {o: pick.choice([*LEVELS, None]) for o in officials}
        t0 = time.perf_counter()
        cast_poll.append(ballots.encrypt_ballot(poll, ballots.poll_choices(poll.spec, marks), rng)[0])
        t_enc_poll.append(time.perf_counter() - t0)

    t_ver_vote, t_ver_poll = [], []
    for b in cast_vote:
        t0 = time.perf_counter()
        ballots.verify_ballot(vote, b)
        t_ver_vote.append(time.perf_counter() - t0)
    for b in cast_poll[:40]:
        t0 = time.perf_counter()
        ballots.verify_ballot(poll, b)
        t_ver_poll.append(time.perf_counter() - t0)

    t_close_vote, t_close_poll, t_close_poll_received, t_board = [], [], [], []
    board_bytes = 0
    for _ in range(repeat):
        s, partials = _close(vote, out, shares, cast_vote)
        t_close_vote.append(s)
        b = board.build_board(record, out, vote, cast_vote, [], partials)
        data = board.encode_board(b)
        board_bytes = len(data)
        t0 = time.perf_counter()
        report = board.verify_board(data)
        t_board.append(time.perf_counter() - t0)
        assert report.ok, report.failure
    for _ in range(max(1, repeat // 2)):
        t_close_poll.append(_close(poll, out, shares, cast_poll)[0])
        t_close_poll_received.append(_close(poll, out, shares, cast_poll, reverify=False)[0])

    median_verify_ms = statistics.median(t_ver_vote) * 1000
    median_close_s = statistics.median(t_close_vote)
    result: dict[str, Any] = {
        "name": "ballot_crypto",
        "machine": machine(),
        "inputs": {"ballots": n_ballots, "members": 7, "threshold": 4, "vote_options": 3, "poll": "10 officials × 3"},
        "baseline_libsodium": base,
        "ceremony_7_members_s": round(ceremony_s, 3),
        "verify_vote_ballot_ms": summary(t_ver_vote),
        "verify_poll_ballot_ms": summary(t_ver_poll),
        "encrypt_vote_ballot_python_ms": summary(t_enc_vote),
        "encrypt_poll_ballot_python_ms": summary(t_enc_poll),
        "close_to_result_vote_125_ms": summary(t_close_vote),
        "close_to_result_poll_125_ms": summary(t_close_poll),
        "close_to_result_poll_125_verified_on_receipt_ms": summary(t_close_poll_received),
        "verify_board_vote_125_ms": summary(t_board),
        "board_vote_125_bytes": board_bytes,
        "ratio_verify_vote_to_var_mul": round(median_verify_ms * 1000 / base["var_mul_us"], 1),
    }
    meets = {
        f"verify_vote_ballot_under_{VERIFY_TARGET_MS:g}_ms": median_verify_ms <= VERIFY_TARGET_MS,
        f"close_to_result_vote_125_under_{CLOSE_TARGET_S:g}_s": median_close_s <= CLOSE_TARGET_S,
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = ap.parse_args()
    run(args.repeat, write=not args.no_write)


if __name__ == "__main__":
    main()
