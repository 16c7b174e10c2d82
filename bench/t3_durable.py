"""T3 — sustained durable ballots per second, one worker, PostgreSQL; 0 lost and 0 doubled.

Part A, end to end: a council of `--delegates` created through the REST API, `--sessions` sessions of it voting
at the same time (a host running many councils), every delegate signed in with a WebSocket on each session. Per
round the chair opens a vote (named and secret rounds alternate) and every delegate casts at once; a ballot counts
when its `result` (the acknowledgement, sent only after the commit) arrives. Sustained rate = all ballots of all
sessions / the wall time of the whole run (opening and closing rounds included). 2 % of the ballots are sent a
second time with the same command id (a tablet retrying): the answer must be the stored one (`replayed`), never a
second ballot. Reconciled at the end from the chair's view (GET /api/sessions/{id}): every closed round counts exactly
the acknowledged ballots, per option, and lists exactly the delegates who were acknowledged.

Part A measures the product as deployed, not the database alone: each ballot's `vote_delegate_voted` goes to
staff and the voter, and every tablet gets the count as `vote_round_progress` at most every 250 ms per round.

Part B, the pipeline alone: bench/t3_engine.py submits the same ballots straight to server.engine.Engine on a
fresh database of the same PostgreSQL, no sockets (process pinned like the server).

PostgreSQL is tests.services.PostgresServer (fsync off, synchronous_commit off: the harness's throwaway cluster;
see docs/PERFORMANCE.md), on the generator's core.

Baseline, same run: the baseline server cannot store a ballot; it gets the same sockets and the same bursts, and
broadcasts each ballot to every socket and acknowledges it — the wire work kyhop did before the live count was
coalesced (one message per ballot to every tablet), so it is a reference, no longer a ceiling.

    python -m bench.t3_durable --sessions 10 --delegates 50 --rounds 20 --engine-delegates 1000
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from typing import Any

from bench import scene
from bench.common import (
    ROOT,
    Cores,
    baseline_server,
    conclude,
    gather_limited,
    http_json,
    kyhop_server,
    log,
    machine,
    now,
    parser,
    pin_self,
    pin_tree,
    plan_cores,
    profiled,
    raise_nofile,
    run_async,
    spawning_on,
    summary,
)
from bench.wsclient import Msg, Tablet, close_all

TARGET_PER_S = 5000
OPTIONS = ("yes", "no", "abstain")
RETRY_EVERY = 50  # 2 %
_runs = itertools.count()


async def burst(
    chair: Tablet,
    voters: list[tuple[str, Tablet]],
    rounds: int,
    warmup: int,
    open_cmd: Any,
    ballot_cmd: Any,
    close_cmd: Any,
    prefix: str,
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Returns the numbers and, per round, the acknowledged ballots (delegate -> option)."""
    rates: list[float] = []
    spans: list[float] = []
    acked: dict[str, dict[str, str]] = {}
    refused = 0
    replayed_ok = 0
    retry_not_replayed = 0
    total = 0
    total_all = 0
    chair.min_interval = 0.055  # the server allows a socket 20 commands/s
    for k in range(warmup + rounds):
        rid = f"{prefix}-{k}"
        await chair.run(open_cmd(rid, k % 2 == 1))
        t0 = now()
        futs: list[tuple[str, str, asyncio.Future[Msg]]] = []
        retries: list[asyncio.Future[Msg]] = []
        for i, (d, tab) in enumerate(voters):
            option = OPTIONS[i % 3]
            cid = f"{rid}-{d}"
            futs.append((d, option, tab.command(ballot_cmd(rid, d, option), cid)))
            if i % RETRY_EVERY == 1:
                retries.append(tab.command(ballot_cmd(rid, d, option), cid))
        results = await asyncio.wait_for(asyncio.gather(*(f for _, _, f in futs)), 300)
        span = now() - t0
        again = await asyncio.wait_for(asyncio.gather(*retries), 60)
        replayed_ok += sum(1 for r in again if r.ok and r.replayed)
        retry_not_replayed += sum(1 for r in again if not (r.ok and r.replayed))
        refused += sum(1 for r in results if not r.ok)
        acked[rid] = {d: o for (d, o, _), r in zip(futs, results, strict=True) if r.ok}
        await chair.run(close_cmd(rid))
        total_all += len(voters)
        if k >= warmup:
            rates.append(len(voters) / span)
            spans.append(span)
            total += len(voters)
    return (
        {
            "ballots_per_s_per_round": summary(rates, scale=1.0, digits=0),
            "ballots_per_s_overall": round(total / sum(spans)) if spans else None,
            "rates": rates,
            "ballots_all_rounds": total_all,
            "refused": refused,
            "retries_sent": len(voters[1::RETRY_EVERY]) * (warmup + rounds),
            "retries_answered_replayed": replayed_ok,
            "retries_not_replayed": retry_not_replayed,
        },
        acked,
    )


def reconcile(http: str, session_id: str, token: str, acked: dict[str, dict[str, str]]) -> dict[str, Any]:
    state = http_json("GET", f"{http}/api/sessions/{session_id}", token=token)["state"]
    lost = doubled = n_acked = counted = 0
    wrong: list[str] = []
    for rid, ballots in acked.items():
        result = state["votes"]["rounds"][rid]["result"]
        counts = {o["key"]: o["count"] for o in result["options"]}
        want = {o: sum(1 for v in ballots.values() if v == o) for o in OPTIONS}
        n_acked += len(ballots)
        counted += result["ballots_collected"]
        voted = set(result["voted"])
        lost += len(set(ballots) - voted)
        doubled += max(0, result["ballots_collected"] - len(ballots))
        if counts != want or voted != set(ballots):
            wrong.append(rid)
    return {"acknowledged": n_acked, "counted": counted, "lost": lost, "doubled": doubled, "rounds_wrong": wrong}


async def sessions_burst(
    groups: list[list[Tablet]],
    delegates: list[str],
    rounds: int,
    warmup: int,
    open_cmd: Any,
    ballot_cmd: Any,
    close_cmd: Any,
    prefix: str,
) -> tuple[dict[str, Any], dict[str, dict[str, dict[str, str]]]]:
    """`burst` in every session at once; the sustained rate is all ballots / the wall time of the whole run
    (opening and closing rounds included)."""
    t0 = now()
    outs = await asyncio.gather(
        *(
            burst(
                g[0],
                list(zip(delegates, g, strict=True)),
                rounds,
                warmup,
                open_cmd,
                ballot_cmd,
                close_cmd,
                f"{prefix}-{k}",
            )
            for k, g in enumerate(groups)
        )
    )
    wall = now() - t0
    rates = [r for o, _ in outs for r in o.pop("rates")]
    total = sum(o["ballots_all_rounds"] for o, _ in outs)
    merged: dict[str, Any] = {
        "sessions": len(groups),
        "delegates_per_session": len(delegates),
        "rounds_per_session": rounds,
        "ballots_per_s_sustained": round(total / wall),
        "ballots": total,
        "wall_s": round(wall, 2),
        "ballots_per_s_per_round_per_session": summary(rates, scale=1.0, digits=0),
    }
    for key in ("refused", "retries_sent", "retries_answered_replayed", "retries_not_replayed"):
        merged[key] = sum(o[key] for o, _ in outs)
    sids = [g[0].url.rsplit("/", 1)[1] for g in groups]
    return merged, {sid: acked for sid, (_, acked) in zip(sids, outs, strict=True)}


def reconcile_all(http: str, council: Any, acked: dict[str, dict[str, dict[str, str]]]) -> dict[str, Any]:
    parts = [reconcile(http, sid, council.tokens[council.chair], rounds) for sid, rounds in acked.items()]
    out: dict[str, Any] = {k: sum(p[k] for p in parts) for k in ("acknowledged", "counted", "lost", "doubled")}
    out["rounds_wrong"] = [r for p in parts for r in p["rounds_wrong"]]
    return out


def engine_part(url: str, cores: Cores, delegates: int, rounds: int, profile: bool) -> dict[str, Any]:
    with spawning_on(cores.server):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.t3_engine",
                "--url",
                url,
                "--delegates",
                str(delegates),
                "--rounds",
                str(rounds),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    pin_tree(proc.pid, cores.server)
    with profiled(proc.pid, "t3_engine", profile) as prof:
        out, err = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"t3_engine failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    if prof:
        result["profile"] = prof
    return result


async def run(
    delegates: int,
    rounds: int,
    engine_delegates: int,
    engine_rounds: int,
    sessions: int = 10,
    warmup: int = 2,
    pin: bool = True,
    write: bool = True,
    profile: bool = False,
    postgres: Any = None,
) -> dict[str, Any]:
    """`postgres`: a running tests.services.PostgresServer to use (the smoke test's fixture); else one is started."""
    from tests.services import PostgresServer

    cores = plan_cores(pin)
    pin_self(cores.generator)
    raise_nofile()
    log(f"T3 sessions={sessions} delegates={delegates}")
    pg = postgres
    if pg is None:
        with spawning_on(cores.generator):
            pg = PostgresServer().start()
    tag = f"{os.getpid()}_{next(_runs)}"
    try:
        url = pg.create_database(f"bench_t3_{tag}")
        with kyhop_server(cores, url) as srv:
            assert srv.proc is not None
            council = await scene.bench_council(srv.http, delegates, sessions=sessions)
            groups = [
                [Tablet(f"{srv.ws}/ws/sessions/{sid}", council.tokens[d]) for d in council.delegates]
                for sid in council.session_ids
            ]
            await gather_limited([t.connect() for g in groups for t in g], 200)
            with profiled(srv.proc.pid, "t3_durable", profile) as prof:
                wire, acked = await sessions_burst(
                    groups,
                    council.delegates,
                    rounds,
                    warmup,
                    lambda r, secret: scene.open_vote(r, council.item_id, secret),
                    scene.ballot,
                    scene.close_vote,
                    "t3",
                )
            if prof:
                wire["profile"] = prof
            wire["reconcile"] = reconcile_all(srv.http, council, acked)
            await close_all([t for g in groups for t in g])
        log("T3 engine part")
        engine = engine_part(pg.create_database(f"bench_t3e_{tag}"), cores, engine_delegates, engine_rounds, profile)
    finally:
        if postgres is None:
            pg.close()
    with baseline_server(cores) as b:
        groups = [[Tablet(f"{b.ws}/s{k}") for _ in range(delegates)] for k in range(sessions)]
        await gather_limited([t.connect() for g in groups for t in g], 200)

        def bcast(kind: str) -> Any:
            return lambda r, *_: {"type": "broadcast", "event": {"type": kind, "round_id": r}}

        def bballot(r: str, d: str, o: str) -> dict[str, Any]:
            return {"type": "broadcast", "event": {"type": "vote_delegate_voted", "round_id": r, "delegate_id": d}}

        base, _ = await sessions_burst(
            groups,
            council.delegates,
            rounds,
            warmup,
            bcast("vote_round_opened"),
            bballot,
            bcast("vote_round_closed"),
            "b3",
        )
        await close_all([t for g in groups for t in g])
    rec = wire["reconcile"]
    correct = rec["lost"] == 0 and rec["doubled"] == 0 and not rec["rounds_wrong"] and wire["retries_not_replayed"] == 0
    meets = {
        "end_to_end_per_s": wire["ballots_per_s_sustained"] >= TARGET_PER_S,
        "engine_per_s": (engine["ballots_per_s_overall"] or 0) >= TARGET_PER_S,
        "none_lost_or_doubled": correct and not engine["rounds_wrong"],
    }
    result = {
        "name": "t3_durable",
        "scenario": "durable ballots per second on PostgreSQL, one worker (A: over WebSockets; B: engine alone)",
        "machine": machine(cores),
        "kyhop_end_to_end": wire,
        "kyhop_engine_only": engine,
        "baseline_broadcast_only": base,
        "ratio_end_to_end_vs_baseline": round(wire["ballots_per_s_sustained"] / base["ballots_per_s_sustained"], 3)
        if base["ballots_per_s_sustained"]
        else None,
        "target": {"ballots_per_s": TARGET_PER_S, "lost": 0, "doubled": 0},
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--delegates", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--sessions", type=int, default=10, help="sessions voting at once (each with --delegates)")
    ap.add_argument("--engine-delegates", type=int, default=1000)
    ap.add_argument("--engine-rounds", type=int, default=10)
    args = ap.parse_args()
    run_async(
        run(
            args.delegates,
            args.rounds,
            args.engine_delegates,
            args.engine_rounds,
            sessions=args.sessions,
            pin=not args.no_pin,
            profile=args.profile,
        )
    )


if __name__ == "__main__":
    main()
