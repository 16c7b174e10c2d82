"""Where a connection's memory goes: the server under tracemalloc, N idle public tablets, the allocation diff.

Not a benchmark (tracemalloc slows the server several times): a diagnostic for T4's KiB-per-connection. A child
process runs the same app as `make run` (server.app:app_factory, demo seeded) under uvicorn with tracemalloc on;
this process connects N anonymous tablets between two snapshots and prints the allocation sites that grew, per
connection, grouped by file and line (or `--group file`).

    python -m bench.memory --n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, emit, log, raise_nofile, rss_kib, run_async
from bench.wsclient import close_all, connect_many

CHILD = r"""
import os, signal, sys, threading, tracemalloc, json, linecache
tracemalloc.start(int(os.environ.get("BENCH_FRAMES", "1")))
import uvicorn
from server.app import app_factory

snaps = []
out = os.environ["BENCH_OUT"]
group = os.environ.get("BENCH_GROUP", "lineno")

def on_usr1(signum, frame):
    snaps.append(tracemalloc.take_snapshot())
    if len(snaps) == 2:
        filt = [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        ]
        a, b = (s.filter_traces(filt) for s in snaps)
        stats = b.compare_to(a, group)
        where = lambda s: " | ".join(map(str, s.traceback)) if group == "traceback" else str(s.traceback[0])
        rows = [[where(s), s.size_diff, s.count_diff] for s in stats[:60]]
        total = sum(s.size_diff for s in stats)
        with open(out, "w") as f:
            json.dump({"total_diff": total, "rows": rows}, f)
    with open(out + ".ack", "w") as f:
        f.write(str(len(snaps)))

signal.signal(signal.SIGUSR1, on_usr1)
port = int(sys.argv[1])
uvicorn.run(
    app_factory, factory=True, host="127.0.0.1", port=port, log_level="warning",
    ws_per_message_deflate=False, ws_max_size=128 * 1024,
)
"""


def _wait_ack(path: Path, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip() == str(n):
            return
        time.sleep(0.05)
    raise TimeoutError(f"no snapshot {n}")


async def run(n: int, group: str = "lineno", frames: int = 1, write: bool = True) -> dict[str, Any]:
    import urllib.request

    from tests.e2e import free_port

    raise_nofile()
    tmp = tempfile.mkdtemp(prefix="kyhop-mem-")
    out = Path(tmp) / "diff.json"
    port = free_port()
    env = dict(os.environ)
    env.update(
        KYHOP_DATA_DIR=tmp,
        KYHOP_DEMO="1",
        KYHOP_TEST_FAST_HASH="1",
        KYHOP_SECRET_KEY="bench-memory-secret-key-long-enough-for-hs256",
        BENCH_OUT=str(out),
        BENCH_GROUP=group,
        BENCH_FRAMES=str(frames),
    )
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(port)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
        url = f"ws://127.0.0.1:{port}/ws/sessions/ky-hop-4"
        warm = await connect_many(url, 20)
        rss0 = rss_kib(proc.pid)
        proc.send_signal(signal.SIGUSR1)
        _wait_ack(Path(str(out) + ".ack"), 1)
        tablets = await connect_many(url, n)
        await asyncio.sleep(1.0)
        rss1 = rss_kib(proc.pid)
        proc.send_signal(signal.SIGUSR1)
        _wait_ack(Path(str(out) + ".ack"), 2)
        diff = json.loads(out.read_text())
        await close_all([*tablets, *warm])
    finally:
        proc.terminate()
        proc.wait(30)
    rows = [
        {"site": site, "bytes_per_connection": round(size / n), "objects_per_connection": round(count / n, 2)}
        for site, size, count in diff["rows"]
    ]
    result = {
        "name": "memory",
        "tablets": n,
        "rss_per_connection_kib": round((rss1 - rss0) / n, 2),
        "traced_per_connection_kib": round(diff["total_diff"] / n / 1024, 2),
        "top": rows[:40],
    }
    log(json.dumps(result, indent=1, ensure_ascii=False))
    return emit(result, write)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--group", choices=["lineno", "filename", "traceback"], default="lineno")
    ap.add_argument("--frames", type=int, default=1)
    args = ap.parse_args()
    run_async(run(args.n, args.group, args.frames))


if __name__ == "__main__":
    main()
