"""bench/petitions_fold.py at a small size: it keeps working (correctness only, never time)."""

from __future__ import annotations

from bench import petitions_fold


def test_the_fold_bench_runs_and_counts_what_it_built() -> None:
    out = petitions_fold.run(repeat=1, write=False, petitions=60, meetings=6)
    assert out["items"] == 60 and out["events"] == 1 + petitions_fold.GROUPS + 6 + 60 * 5
    assert out["filter_hits"] == sum(1 for i in range(60) if i % 11 == 3)  # so-yt is the 4th of 11 default agencies
    assert out["meets_targets"] is True
