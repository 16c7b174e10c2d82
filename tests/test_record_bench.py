"""bench/record_minutes.py at one repetition: it keeps working (correctness only, never time)."""

from __future__ import annotations

from bench import record_minutes
from record import pdf
from tests.services import unavailable


def test_forty_vote_minutes_bench_runs() -> None:
    if not (pdf.FONT_DIR / pdf.FONT_FILES[0]).is_file():
        unavailable("fonts-croscore (Tinos) is not installed: `make fonts` installs it")
    out = record_minutes.run(repeat=1, write=False)
    assert out["votes"] == 40 and out["count_records"] == 20
    assert out["minutes_pages"] >= 5 and out["total_ms"]["n"] == 1
    assert set(out["meets_target"]) == {"total_under_5_s"}
