"""bench/petitions_search.py at a small size on the harness's PostgreSQL: it keeps working and its queries find
what the Python scan finds (correctness only, never time)."""

from __future__ import annotations

from bench import petitions_search
from tests.services import PostgresServer


def test_the_search_bench_runs_and_finds_what_the_scan_finds(postgres_server: PostgresServer) -> None:
    out = petitions_search.run(repeat=1, write=False, rows=400, postgres=postgres_server)
    assert out["dialect"] == "postgresql" and out["rows"] == 400
    assert out["hits"]["all"] == 200  # one of the two registers
    assert out["hits"]["text_rare"] == 2  # items 7 and 107 of the first register
    assert 0 < out["hits"]["text"] < 200
