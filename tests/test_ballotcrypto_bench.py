"""bench/ballot_crypto.py on 4 ballots: it keeps working (correctness only, never time)."""

from __future__ import annotations

from bench import ballot_crypto


def test_ballot_crypto_bench_runs() -> None:
    out = ballot_crypto.run(repeat=1, write=False, n_ballots=4)
    assert out["inputs"]["ballots"] == 4 and out["verify_vote_ballot_ms"]["n"] == 4
    assert out["close_to_result_vote_125_ms"]["n"] == 1 and out["board_vote_125_bytes"] > 0
    assert set(out["meets_target"]) == {"verify_vote_ballot_under_5_ms", "close_to_result_vote_125_under_1_s"}
