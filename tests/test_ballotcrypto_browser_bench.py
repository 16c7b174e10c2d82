"""bench/ballot_crypto_browser.py once in Chromium: it keeps working (correctness only, never time)."""

from __future__ import annotations

import shutil

from bench import ballot_crypto_browser
from tests.services import unavailable


def test_browser_ballot_bench_runs() -> None:
    if shutil.which("chromium") is None:
        unavailable("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    out = ballot_crypto_browser.run(repeat=1, write=False)
    assert out["inputs"]["cpu_throttling"] == 4
    assert out["encrypt_vote_ballot_throttled_ms"]["n"] == 1 and out["encrypt_poll_ballot_throttled_ms"]["n"] == 3
    assert out["ratio_vote_to_var_mul"] > 1
    assert set(out["meets_target"]) == {
        "encrypt_vote_ballot_throttled_4x_under_1000_ms",
        "encrypt_poll_ballot_throttled_4x_under_1000_ms",
    }
