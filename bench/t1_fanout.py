"""T1 — "vote opened" reaching every tablet (1000 and 5000 tablets, one worker, SQLite).

The chair (a signed-in WebSocket) opens a vote; N anonymous public tablets each note when the `vote_round_opened`
event arrives. Per round: time-to-last = last arrival − the moment the chair sent the command (so it includes the
decision and the SQLite commit), time-to-first, and the spread (last − first, the fan-out alone). The chair then
closes the round and every tablet must see that too before the next round starts.

Baseline, same run, same generator: bench/baseline_server.py with the same N tablets; the chair's command carries
the very `vote_round_opened` event kyhop sent (fetched from GET /api/sessions/{id}/events), which the baseline
broadcasts to everyone. Throughput ratio = baseline time-to-last / kyhop time-to-last (≥ 0.7 is the target).

Correctness (what the smoke test asserts): every tablet got every round's open and close, no tablet saw a
duplicate, and every tablet's sequence numbers equal the public events the server logged (no gap).

    python -m bench.t1_fanout --n 1000 5000 --rounds 60
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from bench import scene
from bench.common import (
    Cores,
    baseline_server,
    emit,
    http_json,
    kyhop_server,
    loadavg,
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
from bench.wsclient import Ev, Tablet, close_all, connect_many

TARGET_P99_MS = {1000: 30.0, 5000: 120.0}
TARGET_RATIO = 0.7
CHAIR_INTERVAL = 0.055  # the server allows a socket 20 commands/s


class Marks:
    """Arrival times of one marked event at every tablet."""

    def __init__(self) -> None:
        self.kind = ""
        self.round_id = ""
        self.expected = 0
        self.times: list[float] = []
        self.done: asyncio.Event = asyncio.Event()

    def arm(self, kind: str, round_id: str, expected: int) -> None:
        self.kind, self.round_id, self.expected = kind, round_id, expected
        self.times = []
        self.done = asyncio.Event()

    def hook(self, tablet: Tablet, seq: int, ev: Ev, t: float) -> None:
        if ev.type == self.kind and ev.round_id == self.round_id:
            self.times.append(t)
            if len(self.times) >= self.expected:
                self.done.set()


async def drive_rounds(
    chair: Tablet,
    marks: Marks,
    n: int,
    rounds: int,
    warmup: int,
    open_cmd: Callable[[str], dict[str, Any]],
    close_cmd: Callable[[str], dict[str, Any]],
    prefix: str,
    timeout: float = 60.0,
) -> dict[str, Any]:
    ttl: list[float] = []
    ttf: list[float] = []
    spread: list[float] = []
    close_ttl: list[float] = []
    missing = 0
    for k in range(warmup + rounds):
        rid = f"{prefix}-{k}"
        for kind, cmd, sink in (("vote_round_opened", open_cmd, ttl), ("vote_round_closed", close_cmd, close_ttl)):
            await chair.pace()
            marks.arm(kind, rid, n)
            t0 = now()
            fut = chair.command(cmd(rid))
            try:
                await asyncio.wait_for(marks.done.wait(), timeout)
            except TimeoutError:
                missing += n - len(marks.times)
                log(f"  {rid} {kind}: only {len(marks.times)}/{n} tablets after {timeout}s")
            res = await asyncio.wait_for(fut, timeout)
            if not res.ok:
                raise RuntimeError(f"{kind} refused: {res.error}")
            if k >= warmup and marks.times:
                sink.append(max(marks.times) - t0)
                if kind == "vote_round_opened":
                    ttf.append(min(marks.times) - t0)
                    spread.append(max(marks.times) - min(marks.times))
        await asyncio.sleep(0.02)
    med = sorted(ttl)[len(ttl) // 2] if ttl else float("nan")
    return {
        "time_to_last_ms": summary(ttl),
        "time_to_first_ms": summary(ttf),
        "spread_ms": summary(spread),
        "close_time_to_last_ms": summary(close_ttl),
        "deliveries_per_s_median": round(n / med) if ttl and med > 0 else None,
        "missing_deliveries": missing,
    }


async def run_kyhop(
    n: int, rounds: int, warmup: int, cores: Cores, profile: bool = False, server: Any = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    with kyhop_server(cores, existing=server) as srv:
        assert srv.proc is not None
        demo = await scene.open_demo_session(srv.http)
        url = f"{srv.ws}/ws/sessions/{demo.session_id}"
        chair = Tablet(url, demo.chair_token)
        chair.min_interval = CHAIR_INTERVAL
        await chair.connect()
        warm = await connect_many(url, 1)
        base_seq = warm[0].last_seq or 0
        rss0 = rss_kib(srv.proc.pid)
        marks = Marks()
        t = now()
        tablets = await connect_many(url, n, on_event=marks.hook, keep_seqs=True)
        connect_s = now() - t
        rss1 = rss_kib(srv.proc.pid)
        log(f"  kyhop: {n} tablets connected in {connect_s:.1f}s, RSS {rss0} -> {rss1} KiB")
        with profiled(srv.proc.pid, f"t1_fanout-{n}", profile) as prof:
            out = await drive_rounds(
                chair,
                marks,
                n,
                rounds,
                warmup,
                lambda r: scene.open_vote(r, demo.item_id),
                scene.close_vote,
                f"t1-{n}",
            )
        if prof:
            out["profile"] = prof
        # No gap: every tablet's sequence numbers are exactly the public events logged after its snapshot.
        events = http_json("GET", f"{srv.http}/api/sessions/{demo.session_id}/events?after={base_seq}&limit=5000")
        public = [e["seq"] for e in events["events"]]
        opened = next(e["event"] for e in events["events"] if e["event"]["type"] == "vote_round_opened")
        gaps = sum(1 for tb in tablets if tb.seqs != [s for s in public if s > (tb.snapshot_seq or 0)])
        out.update(
            connect_s=round(connect_s, 2),
            rss_before_kib=rss0,
            rss_after_kib=rss1,
            rss_per_connection_kib=round((rss1 - rss0) / n, 2),
            duplicates=sum(tb.duplicates for tb in tablets),
            tablets_with_gap=gaps,
            disconnected=sum(1 for tb in tablets if not tb.connected),
            errors=sum(len(tb.errors) for tb in tablets) + len(chair.errors),
        )
        await close_all([*tablets, *warm, chair])
        return out, opened


async def run_baseline(n: int, rounds: int, warmup: int, cores: Cores, event: dict[str, Any]) -> dict[str, Any]:
    with baseline_server(cores) as srv:
        url = srv.ws
        chair = Tablet(url)
        chair.min_interval = CHAIR_INTERVAL
        await chair.connect()
        warm = await connect_many(url, 1)
        rss0 = rss_kib(srv.pid)
        marks = Marks()
        tablets = await connect_many(url, n, on_event=marks.hook)
        rss1 = rss_kib(srv.pid)

        def cmd(kind: str) -> Callable[[str], dict[str, Any]]:
            return lambda r: {"type": "broadcast", "event": {**event, "type": kind, "round_id": r}}

        out = await drive_rounds(
            chair, marks, n, rounds, warmup, cmd("vote_round_opened"), cmd("vote_round_closed"), f"b1-{n}"
        )
        out.update(
            rss_before_kib=rss0,
            rss_after_kib=rss1,
            rss_per_connection_kib=round((rss1 - rss0) / n, 2),
            duplicates=sum(tb.duplicates for tb in tablets),
        )
        await close_all([*tablets, *warm, chair])
        return out


async def run(
    ns: list[int],
    rounds: int,
    warmup: int = 3,
    pin: bool = True,
    write: bool = True,
    profile: bool = False,
    server: Any = None,
) -> dict[str, Any]:
    """`server`: a running tests.e2e.ServerProcess to use instead of starting one per size (smoke test)."""
    cores = plan_cores(pin)
    pin_self(cores.generator)
    raise_nofile()
    result: dict[str, Any] = {
        "name": "t1_fanout",
        "scenario": "vote opened reaching every tablet (anonymous public tablets, one worker, SQLite)",
        "machine": machine(cores),
        "runs": [],
    }
    ok = True
    for n in ns:
        log(f"T1 n={n}")
        ky, event = await run_kyhop(n, rounds, warmup, cores, profile, server)
        base = await run_baseline(n, rounds, warmup, cores, event)
        ratio = _ratio(base["time_to_last_ms"], ky["time_to_last_ms"])
        spread_ratio = _ratio(base["spread_ms"], ky["spread_ms"])
        target = TARGET_P99_MS.get(n)
        meets = {
            "p99_time_to_last": None if target is None else ky["time_to_last_ms"]["p99"] <= target,
            "throughput_ratio": (ratio["median"] or 0.0) >= TARGET_RATIO,
        }
        ok = ok and all(v is not False for v in meets.values())
        result["runs"].append(
            {
                "tablets": n,
                "rounds": rounds,
                "event_bytes": len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()),
                "kyhop": ky,
                "baseline": base,
                "throughput_ratio_vs_baseline": ratio,
                "fanout_ratio_vs_baseline": spread_ratio,
                "target": {"p99_time_to_last_ms": target, "throughput_ratio": TARGET_RATIO},
                "meets_target": meets,
            }
        )
    result["meets_targets"] = ok
    result["loadavg_after"] = loadavg()
    return emit(result, write)


def _ratio(base: dict[str, Any], ky: dict[str, Any]) -> dict[str, float | None]:
    """Throughput ratio kyhop/baseline = baseline time / kyhop time (1.0: as fast as the baseline)."""
    return {k: (round(base[k] / ky[k], 3) if ky.get(k) and base.get(k) else None) for k in ("median", "p99")}


def main() -> None:
    ap = parser(__doc__, "py-spy the server during the measured rounds")
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    run_async(run(args.n, args.rounds, args.warmup, pin=not args.no_pin, profile=args.profile))


if __name__ == "__main__":
    main()
