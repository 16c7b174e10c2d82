"""T6 — reconnect storm: 1000 tablets drop and return at once (one worker, SQLite).

N anonymous public tablets follow the demo session and see one vote open and close. Then every tablet loses its
connection at the same moment (TCP abort, no close handshake); while they are away the chair opens and closes
`--missed` more votes. Then all N reconnect at once, each sending `hello` with the last sequence number it saw,
and right after the storm starts the chair opens one more vote (a live event racing the backlog).

Resynced: the tablet has received that last event. Time = arrival − start of the storm; target: every tablet
≤ 3 s. No gap, no duplicate: every tablet's sequence numbers, from its first snapshot to the end, equal the public
events the server logged, each once (GET /api/sessions/{id}/events), and every resume was a resume (not a fresh
snapshot). A tablet whose reconnect fails retries after a short pause, like the SDK does; retries are counted.

Baseline, same run: the same storm against bench/baseline_server.py (its log replays the missed events).

    python -m bench.t6_reconnect --n 1000
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from bench import scene
from bench.common import (
    baseline_server,
    conclude,
    http_json,
    kyhop_server,
    log,
    machine,
    now,
    parser,
    pin_self,
    plan_cores,
    profiled,
    raise_nofile,
    run_async,
    summary,
)
from bench.wsclient import RETRYABLE, Ev, Tablet, close_all, connect_many

TARGET_S = 3.0


class LastArrival:
    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.seq: dict[int, int] = {}

    def hook(self, tablet: Tablet, seq: int, ev: Ev, t: float) -> None:
        self.at[id(tablet)] = t
        self.seq[id(tablet)] = seq


async def reconnect(t: Tablet, retries: list[int]) -> None:
    for attempt in range(20):
        try:
            await t.connect(last_seq=t.last_seq)
            return
        except RETRYABLE:
            retries[0] += 1
            await asyncio.sleep(0.05 * (attempt + 1) * (0.5 + random.random()))
    raise RuntimeError("tablet could not reconnect in 20 attempts")


async def storm(
    url: str,
    chair: Tablet,
    n: int,
    missed: int,
    open_cmd: Callable[[str], dict[str, Any]],
    close_cmd: Callable[[str], dict[str, Any]],
    prefix: str,
    pid: int = 0,
    profile: str | None = None,
) -> tuple[dict[str, Any], list[Tablet], int]:
    arrivals = LastArrival()
    tablets = await connect_many(url, n, on_event=arrivals.hook, keep_seqs=True)
    first_seq = min(t.snapshot_seq or 0 for t in tablets)

    async def cycle(rid: str) -> int:
        await chair.run(open_cmd(rid))
        res = await chair.run(close_cmd(rid))
        return (res.seqs or [0])[-1]

    last = await cycle(f"{prefix}-before")
    deadline = now() + 30
    while any(t.last_seq != last for t in tablets) and now() < deadline:
        await asyncio.sleep(0.01)
    for t in tablets:
        t.abort()
    while any(t.connected for t in tablets) and now() < deadline:
        await asyncio.sleep(0.01)
    for k in range(missed):
        await cycle(f"{prefix}-missed-{k}")

    retries = [0]
    with profiled(pid, profile or "", profile is not None) as prof:
        t0 = now()
        back = asyncio.gather(*(reconnect(t, retries) for t in tablets))
        live = await chair.run(open_cmd(f"{prefix}-live"))
        final = (live.seqs or [0])[-1]
        await back
        while any(arrivals.seq.get(id(t)) != final for t in tablets) and now() < t0 + 60:
            await asyncio.sleep(0.005)
    times = [arrivals.at[id(t)] - t0 for t in tablets if arrivals.seq.get(id(t)) == final]
    closed = await chair.run(close_cmd(f"{prefix}-live"))
    end = (closed.seqs or [0])[-1]
    while any(t.last_seq != end for t in tablets) and now() < t0 + 90:
        await asyncio.sleep(0.005)
    out = {
        "tablets": n,
        "missed_votes": missed,
        "resync_s": summary(times, scale=1.0, digits=3),
        "resynced": len(times),
        "not_resynced": n - len(times),
        "reconnect_retries": retries[0],
        "resumed": sum(1 for t in tablets if t.welcome is not None and t.welcome.resumed),
        "duplicates": sum(t.duplicates for t in tablets),
        "errors": sum(len(t.errors) for t in tablets),
        **({"profile": prof} if prof else {}),
    }
    return out, tablets, first_seq


async def run(
    n: int, missed: int = 3, pin: bool = True, write: bool = True, server: Any = None, profile: bool = False
) -> dict[str, Any]:
    cores = plan_cores(pin)
    pin_self(cores.generator)
    raise_nofile()
    log(f"T6 n={n}")
    with kyhop_server(cores, existing=server) as srv:
        assert srv.proc is not None
        demo = await scene.open_demo_session(srv.http)
        url = f"{srv.ws}/ws/sessions/{demo.session_id}"
        chair = Tablet(url, demo.chair_token)
        chair.min_interval = 0.055
        await chair.connect()
        ky, tablets, first = await storm(
            url,
            chair,
            n,
            missed,
            lambda r: scene.open_vote(r, demo.item_id),
            scene.close_vote,
            "t6",
            srv.proc.pid,
            "t6_reconnect" if profile else None,
        )
        events = http_json("GET", f"{srv.http}/api/sessions/{demo.session_id}/events?after={first}&limit=5000")
        public = [e["seq"] for e in events["events"]]
        ky["tablets_with_gap"] = sum(1 for t in tablets if t.seqs != [s for s in public if s > (t.snapshot_seq or 0)])
        await close_all([*tablets, chair])
    with baseline_server(cores) as b:
        chair = Tablet(b.ws)
        chair.min_interval = 0.055
        await chair.connect()

        def cmd(kind: str) -> Callable[[str], dict[str, Any]]:
            return lambda r: {"type": "broadcast", "event": {"type": kind, "round_id": r}}

        base, tablets, first = await storm(
            b.ws, chair, n, missed, cmd("vote_round_opened"), cmd("vote_round_closed"), "b6"
        )
        final = max(t.last_seq or 0 for t in tablets)
        base["tablets_with_gap"] = sum(
            1 for t in tablets if t.seqs != list(range((t.snapshot_seq or 0) + 1, final + 1))
        )
        await close_all([*tablets, chair])
    worst = ky["resync_s"].get("max", float("inf"))
    meets = {
        "all_resynced_within_3s": ky["not_resynced"] == 0 and worst <= TARGET_S,
        "no_gap": ky["tablets_with_gap"] == 0,
        "no_duplicate": ky["duplicates"] == 0,
    }
    result = {
        "name": "t6_reconnect",
        "scenario": "reconnect storm: every tablet drops at once, events happen, all return at once (SQLite)",
        "machine": machine(cores),
        "kyhop": ky,
        "baseline": base,
        "ratio_vs_baseline": {
            k: round(base["resync_s"][k] / ky["resync_s"][k], 3) if ky["resync_s"].get(k) else None
            for k in ("median", "max")
        },
        "target": {"all_resynced_s": TARGET_S, "gaps": 0, "duplicates": 0},
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__, "py-spy the server during the storm")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--missed", type=int, default=3)
    args = ap.parse_args()
    run_async(run(args.n, args.missed, pin=not args.no_pin, profile=args.profile))


if __name__ == "__main__":
    main()
