"""The benchmarks at small N, to keep them working: correctness only, never time (docs/PERFORMANCE.md).

Each scenario runs end to end as `make bench` runs it — real uvicorn, the baseline server, the cheap tablets — with
20-30 tablets, unpinned, results not written. What is asserted is what the full runs report besides their numbers:
every tablet got every event, no gap, no duplicate, every ballot acknowledged is counted once, every resume resumed.
T1, T2, T4, T5 and T6 share one server (SQLite, documents on a SeaweedFS S3 server when `weed` is installed): a
server start is most of the time here. T3 runs on its own, on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import t1_fanout, t2_tally, t3_durable, t4_idle, t5_documents, t6_reconnect
from tests.e2e import ServerProcess
from tests.s3 import S3Server, _weed, s3_session
from tests.services import PostgresServer


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server | None]:
    if _weed() is None:
        yield None  # T5 says why it cannot run; the others do not need S3
        return
    yield from s3_session()


@pytest.fixture(scope="module")
def server(s3: S3Server | None) -> Iterator[ServerProcess]:
    with ServerProcess(extra_env=s3.env() if s3 is not None else None) as srv:
        yield srv


def _clean(side: dict[str, Any]) -> None:
    assert side["duplicates"] == 0
    assert side.get("errors", 0) == 0
    assert side.get("tablets_with_gap", 0) == 0


async def test_t1_every_tablet_gets_every_vote_once(server: ServerProcess) -> None:
    out = await t1_fanout.run([20], rounds=3, warmup=1, pin=False, write=False, server=server)
    (run,) = out["runs"]
    for side in ("kyhop", "baseline"):
        r = run[side]
        assert r["missing_deliveries"] == 0, side
        assert r["time_to_last_ms"]["n"] == 3 and r["close_time_to_last_ms"]["n"] == 3, side
        _clean(r)
    assert run["kyhop"]["disconnected"] == 0
    assert run["kyhop"]["rss_after_kib"] > 0
    assert out["machine"]["nproc"] >= 1 and out["machine"]["python"]


async def test_t2_every_ballot_reaches_the_chair_once_and_is_counted(server: ServerProcess) -> None:
    out = await t2_tally.run(delegates=20, rate=1000, rounds=3, warmup=0, pin=False, write=False, server=server)
    for side in ("kyhop", "baseline"):
        r = out[side]
        assert r["refused"] == 0 and r["unseen_by_chair"] == 0 and r["seen_twice_by_chair"] == 0, side
        assert r["cast_to_chair_ms"]["n"] == 3 * 20, side
    rec = out["kyhop"]["reconcile"]
    assert rec["rounds_wrong"] == [] and rec["rounds_checked"] == 3
    assert rec["ballots_counted"] == rec["ballots_sent"] == 60
    _clean(out["kyhop"])
    assert out["meets_target"]["none_lost_or_doubled"] is True


async def test_t3_durable_ballots_none_lost_none_doubled(postgres_server: PostgresServer) -> None:
    out = await t3_durable.run(
        delegates=20,
        rounds=2,
        sessions=2,
        engine_delegates=30,
        engine_rounds=2,
        warmup=0,
        pin=False,
        write=False,
        postgres=postgres_server,
    )
    wire = out["kyhop_end_to_end"]
    rec = wire["reconcile"]
    assert rec["acknowledged"] == rec["counted"] == 2 * 2 * 20
    assert rec["lost"] == 0 and rec["doubled"] == 0 and rec["rounds_wrong"] == []
    assert wire["refused"] == 0
    assert wire["retries_sent"] > 0 and wire["retries_answered_replayed"] == wire["retries_sent"]
    engine = out["kyhop_engine_only"]
    assert engine["refused"] == 0 and engine["rounds_wrong"] == [] and engine["delegates"] == 30
    assert out["meets_target"]["none_lost_or_doubled"] is True


async def test_t4_idle_tablets_stay_connected_and_answer_heartbeats(server: ServerProcess) -> None:
    out = await t4_idle.run(n=30, window=0.5, pin=False, write=False, settle=0.0, server=server)
    for side in ("kyhop", "baseline"):
        r = out[side]
        assert r["connected_after_heartbeats"] == 30, side
        assert r["heartbeats_unanswered"] == 0 and r["heartbeat_rtt_ms"]["n"] == 30, side
        assert r["errors"] == 0, side


async def test_t5_documents_runs_or_says_why_not(server: ServerProcess, s3: S3Server | None) -> None:
    if s3 is None:
        out = await t5_documents.run(n=20, pin=False, write=False)
        assert out["skipped"]
        pytest.skip(f"T5: {out['skipped']}")
    out = await t5_documents.run(n=20, pin=False, write=False, doc_bytes=256 * 1024, server=server, s3=s3)
    for side in ("kyhop", "raw"):
        r = out[side]
        assert r["failed"] == 0 and r["downloads"] == 20, side
        assert r["bytes_each"] == out["document_bytes"], side
    assert out["kyhop"]["sha256_ok"] is True


async def test_t6_reconnect_storm_resumes_everyone_without_gap_or_duplicate(server: ServerProcess) -> None:
    out = await t6_reconnect.run(n=20, missed=2, pin=False, write=False, server=server)
    for side in ("kyhop", "baseline"):
        r = out[side]
        assert r["not_resynced"] == 0 and r["resynced"] == 20, side
        assert r["resumed"] == 20, side
        _clean(r)
    assert out["meets_target"]["no_gap"] is True and out["meets_target"]["no_duplicate"] is True


_CONNECT_UNDER_UVLOOP = """
import sys, uvloop
from bench import scene
from bench.wsclient import Tablet

async def main(http, ws, kind):
    demo = await scene.open_demo_session(http)
    tablet = Tablet(f"{ws}/ws/sessions/{demo.session_id}", demo.chair_token, transport=kind)
    await tablet.connect(timeout=10)
    print(tablet.welcome.type)
    await tablet.close()

uvloop.run(main(*sys.argv[1:]))
"""


@pytest.mark.parametrize("kind", ["sansio", "picows"])
def test_both_tablet_clients_connect_under_uvloop(server: ServerProcess, kind: str) -> None:
    """The benchmarks run in their own process on uvloop (bench.common.run_async); the fallback client once failed
    there only (uvloop's transport is not an asyncio.Transport subclass), so every full run without picows hung at
    its first connect."""
    out = subprocess.run(
        [sys.executable, "-c", _CONNECT_UNDER_UVLOOP, server.http, server.ws, kind],
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0 and out.stdout.strip() == "welcome", out.stderr[-2000:]
