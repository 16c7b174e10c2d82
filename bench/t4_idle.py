"""T4 — idle tablets held by one worker (10 000 anonymous public tablets on the demo session, SQLite).

Memory: the server's VmRSS after one warm-up tablet, then after all N are connected and past their snapshot;
per connection = the difference / N. Heartbeat: while all N sit idle, every tablet sends one WebSocket ping at a
random moment of a `--window` second window (10 000 tablets over 10 s = a heartbeat every 10 s each, 1000 pings/s)
and times the pong. Then every tablet must still be connected.

Baseline, same run: the same N tablets and pings against bench/baseline_server.py.

    python -m bench.t4_idle --n 10000 --window 10
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bench.common import (
    baseline_server,
    conclude,
    kyhop_server,
    log,
    machine,
    now,
    parser,
    pin_self,
    plan_cores,
    profiled,
    raise_nofile,
    rss_kib,
    run_async,
    summary,
)
from bench.wsclient import Tablet, close_all, connect_many

TARGET_TABLETS = 10_000
TARGET_KIB = 16.0
TARGET_HEARTBEAT_P99_MS = 100.0


async def heartbeats(tablets: list[Tablet], window: float, timeout: float = 30.0) -> tuple[list[float], int]:
    loop = asyncio.get_running_loop()
    rng = random.Random(4)
    futs: list[asyncio.Future[float]] = []
    done = asyncio.Event()
    remaining = [len(tablets)]

    def fire(t: Tablet) -> None:
        f = t.ping()
        futs.append(f)
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set()

    for t in tablets:
        loop.call_later(rng.uniform(0, window), fire, t)
    await asyncio.wait_for(done.wait(), window + timeout)
    finished, pending = await asyncio.wait(futs, timeout=timeout)
    rtts = [f.result() for f in finished if f.exception() is None]
    return rtts, len(pending) + sum(1 for f in finished if f.exception() is not None)


async def hold(url: str, pid: int, n: int, window: float, settle: float, profile: str | None = None) -> dict[str, Any]:
    warm = await connect_many(url, 1)
    rss0 = rss_kib(pid)
    t = now()
    tablets = await connect_many(url, n)
    connect_s = now() - t
    await asyncio.sleep(settle)  # let the server settle (buffers, GC) before reading its memory
    rss1 = rss_kib(pid)
    log(f"  {n} tablets in {connect_s:.1f}s, RSS {rss0} -> {rss1} KiB")
    with profiled(pid, profile or "", profile is not None) as prof:
        rtts, lost = await heartbeats(tablets, window)
    connected = sum(1 for tb in tablets if tb.connected)
    await close_all([*tablets, *warm])
    return {
        "tablets": n,
        "connected_after_heartbeats": connected,
        "connect_s": round(connect_s, 2),
        "connects_per_s": round(n / connect_s),
        "rss_before_kib": rss0,
        "rss_after_kib": rss1,
        "rss_per_connection_kib": round((rss1 - rss0) / n, 2),
        "heartbeat_rtt_ms": summary(rtts),
        "heartbeats_unanswered": lost,
        "errors": sum(len(tb.errors) for tb in tablets),
        **({"profile": prof} if prof else {}),
    }


async def run(
    n: int,
    window: float,
    pin: bool = True,
    write: bool = True,
    settle: float = 1.0,
    server: Any = None,
    profile: bool = False,
) -> dict[str, Any]:
    cores = plan_cores(pin)
    pin_self(cores.generator)
    raise_nofile()
    log(f"T4 n={n}")
    with kyhop_server(cores, existing=server) as srv:
        assert srv.proc is not None
        ky = await hold(
            f"{srv.ws}/ws/sessions/ky-hop-4", srv.proc.pid, n, window, settle, "t4_idle" if profile else None
        )
    with baseline_server(cores) as b:
        base = await hold(b.ws, b.pid, n, window, settle)
    meets = {
        "tablets": ky["connected_after_heartbeats"] >= min(n, TARGET_TABLETS) and n >= TARGET_TABLETS,
        "kib_per_connection": ky["rss_per_connection_kib"] <= TARGET_KIB,
        "heartbeat_p99": ky["heartbeat_rtt_ms"].get("p99", float("inf")) <= TARGET_HEARTBEAT_P99_MS,
    }
    result = {
        "name": "t4_idle",
        "scenario": "idle anonymous tablets held by one worker; WebSocket ping round trips while idle (SQLite)",
        "machine": machine(cores),
        "window_s": window,
        "kyhop": ky,
        "baseline": base,
        "memory_ratio_vs_baseline": round(ky["rss_per_connection_kib"] / base["rss_per_connection_kib"], 2)
        if base["rss_per_connection_kib"]
        else None,
        "target": {
            "tablets": TARGET_TABLETS,
            "kib_per_connection": TARGET_KIB,
            "heartbeat_p99_ms": TARGET_HEARTBEAT_P99_MS,
        },
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__, "py-spy the server during the heartbeats")
    ap.add_argument("--n", type=int, default=TARGET_TABLETS)
    ap.add_argument("--window", type=float, default=10.0)
    args = ap.parse_args()
    run_async(run(args.n, args.window, pin=not args.no_pin, profile=args.profile))


if __name__ == "__main__":
    main()
