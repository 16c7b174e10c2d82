"""T2 — a ballot cast → the chair's console showing it, at 1000 ballots/s (one worker, SQLite).

A council of `--delegates` (default 125: the largest councils, Hà Nội and HCMC) is created through the REST API;
every delegate signs in and holds a WebSocket on the session, the chair too. Per round the chair opens a named
vote; the delegates cast their ballots paced at `--rate` ballots/s (one every 1 ms at 1000/s); the chair's socket
notes when each `vote_ballot_cast` event (the live tally line for that ballot) arrives. Latency = that arrival −
the moment the generator sent the ballot. Also: the delegate's own acknowledgement (result) latency. The chair
closes the round; the next begins. A ballot's `vote_delegate_voted` goes to staff and the voter only; the other
tablets get the count as `vote_round_progress`, at most every 250 ms per round (meeting/votes.py).

Reconciled at the end (what the smoke test asserts): every ballot acknowledged, each seen once by the chair, and
each closed round's result (GET /api/sessions/{id} as the chair) counts exactly the ballots sent, per option.

Baseline, same run: the same sockets and pacing against bench/baseline_server.py, which broadcasts each ballot
to every socket; latency = the chair's arrival − send.

    python -m bench.t2_tally --delegates 125 --rate 1000 --rounds 20
"""

from __future__ import annotations

import asyncio
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
from bench.wsclient import Ev, Msg, Tablet, close_all

TARGET_P99_MS = 50.0
OPTIONS = ("yes", "no", "abstain")


class ChairView:
    def __init__(self) -> None:
        self.round_id = ""
        self.sent: dict[str, float] = {}
        self.latency: dict[str, float] = {}
        self.seen_twice = 0
        self.expected = 0
        self.done = asyncio.Event()
        self.kind = "vote_ballot_cast"

    def arm(self, round_id: str, expected: int) -> None:
        self.round_id, self.expected = round_id, expected
        self.sent, self.latency = {}, {}
        self.done = asyncio.Event()

    def hook(self, tablet: Tablet, seq: int, ev: Ev, t: float) -> None:
        if ev.type != self.kind or ev.round_id != self.round_id or ev.delegate_id is None:
            return
        if ev.delegate_id in self.latency:
            self.seen_twice += 1
            return
        self.latency[ev.delegate_id] = t - self.sent[ev.delegate_id]
        if len(self.latency) >= self.expected:
            self.done.set()


async def paced(
    voters: list[tuple[str, Tablet]],
    rate: float,
    view: ChairView,
    command: Any,
) -> tuple[list[asyncio.Future[Msg]], list[float], float]:
    """Send one ballot per voter at `rate`/s; returns the result futures, their send times and the span."""
    futs: list[asyncio.Future[Msg]] = []
    sent_at: list[float] = []
    gap = 1.0 / rate
    start = now()
    for i, (d, tab) in enumerate(voters):
        due = start + i * gap
        wait = due - now()
        if wait > 0.0005:
            await asyncio.sleep(wait)
        t = now()
        view.sent[d] = t
        sent_at.append(t)
        futs.append(tab.command(command(d, i)))
    return futs, sent_at, now() - start


async def drive(
    chair: Tablet,
    voters: list[tuple[str, Tablet]],
    view: ChairView,
    rounds: int,
    warmup: int,
    rate: float,
    open_cmd: Any,
    ballot_cmd: Any,
    close_cmd: Any,
    prefix: str,
) -> dict[str, Any]:
    lat: list[float] = []
    ack: list[float] = []
    spans: list[float] = []
    refused = 0
    unseen = 0
    rounds_done: list[str] = []
    for k in range(warmup + rounds):
        rid = f"{prefix}-{k}"
        await chair.run(open_cmd(rid))
        view.arm(rid, len(voters))
        futs, sent_at, span = await paced(voters, rate, view, lambda d, i, r=rid: ballot_cmd(r, d, OPTIONS[i % 3]))
        results = await asyncio.wait_for(asyncio.gather(*futs), 120)
        acked_at = now()
        try:
            await asyncio.wait_for(view.done.wait(), 30)
        except TimeoutError:
            unseen += len(voters) - len(view.latency)
        refused += sum(1 for r in results if not r.ok)
        await chair.run(close_cmd(rid))
        rounds_done.append(rid)
        if k >= warmup:
            lat.extend(view.latency.values())
            spans.append(span)
            ack.append(acked_at - sent_at[0])
        await asyncio.sleep(0.05)
    return {
        "cast_to_chair_ms": summary(lat),
        "offered_rate_per_s": rate,
        "achieved_send_rate_per_s": round(len(voters) / (sum(spans) / len(spans))) if spans else None,
        "all_acked_after_first_send_ms": summary(ack),
        "refused": refused,
        "unseen_by_chair": unseen,
        "seen_twice_by_chair": view.seen_twice,
        "rounds": rounds_done,
    }


def reconcile(http: str, session_id: str, token: str, rounds: list[str], voters: list[str]) -> dict[str, Any]:
    """Each round's result counts exactly the ballots sent: per option, and who voted."""
    state = http_json("GET", f"{http}/api/sessions/{session_id}", token=token)["state"]
    want = {o: sum(1 for i in range(len(voters)) if OPTIONS[i % 3] == o) for o in OPTIONS}
    bad = []
    counted = 0
    for rid in rounds:
        result = state["votes"]["rounds"][rid]["result"]
        counts = {o["key"]: o["count"] for o in result["options"]}
        counted += result["ballots_collected"]
        if counts != want or sorted(result["voted"]) != sorted(voters):
            bad.append(rid)
    return {
        "rounds_checked": len(rounds),
        "rounds_wrong": bad,
        "ballots_sent": len(rounds) * len(voters),
        "ballots_counted": counted,
    }


async def run(
    delegates: int,
    rate: float,
    rounds: int,
    warmup: int = 2,
    pin: bool = True,
    write: bool = True,
    profile: bool = False,
    server: Any = None,
) -> dict[str, Any]:
    cores = plan_cores(pin)
    pin_self(cores.generator)
    raise_nofile()
    log(f"T2 delegates={delegates} rate={rate}")
    with kyhop_server(cores, existing=server) as srv:
        assert srv.proc is not None
        council = await scene.bench_council(srv.http, delegates)
        url = f"{srv.ws}/ws/sessions/{council.session_id}"
        view = ChairView()
        chair = Tablet(url, council.tokens[council.chair], on_event=view.hook)
        chair.min_interval = 0.055
        await chair.connect()
        others = [Tablet(url, council.tokens[d]) for d in council.delegates[1:]]
        await asyncio.gather(*(t.connect() for t in others))
        voters = list(zip(council.delegates, [chair, *others], strict=True))
        with profiled(srv.proc.pid, "t2_tally", profile) as prof:
            ky = await drive(
                chair,
                voters,
                view,
                rounds,
                warmup,
                rate,
                lambda r: scene.open_vote(r, council.item_id),
                scene.ballot,
                scene.close_vote,
                "t2",
            )
        if prof:
            ky["profile"] = prof
        ky["reconcile"] = reconcile(
            srv.http, council.session_id, council.tokens[council.chair], ky.pop("rounds"), council.delegates
        )
        ky["duplicates"] = sum(t.duplicates for t in [chair, *others])
        ky["errors"] = sum(len(t.errors) for t in [chair, *others])
        await close_all([chair, *others])
    with baseline_server(cores) as b:
        view = ChairView()
        chair = Tablet(b.ws, on_event=view.hook)
        chair.min_interval = 0.055
        await chair.connect()
        others = [Tablet(b.ws) for _ in council.delegates[1:]]
        await asyncio.gather(*(t.connect() for t in others))
        voters = list(zip(council.delegates, [chair, *others], strict=True))

        def bcast(kind: str) -> Any:
            return lambda r: {"type": "broadcast", "event": {"type": kind, "round_id": r}}

        def bballot(r: str, d: str, o: str) -> dict[str, Any]:
            return {
                "type": "broadcast",
                "event": {"type": "vote_ballot_cast", "round_id": r, "delegate_id": d, "option": o},
            }

        base = await drive(
            chair,
            voters,
            view,
            rounds,
            warmup,
            rate,
            bcast("vote_round_opened"),
            bballot,
            bcast("vote_round_closed"),
            "b2",
        )
        base.pop("rounds")
        await close_all([chair, *others])
    p99 = ky["cast_to_chair_ms"].get("p99", float("inf"))
    rec = ky["reconcile"]
    meets = {
        "p99_cast_to_chair": p99 <= TARGET_P99_MS,
        "none_lost_or_doubled": not rec["rounds_wrong"] and rec["ballots_counted"] == rec["ballots_sent"],
    }
    result = {
        "name": "t2_tally",
        "scenario": "ballot cast -> the chair's live tally, named vote, every delegate connected (SQLite)",
        "machine": machine(cores),
        "delegates": delegates,
        "rounds": rounds,
        "kyhop": ky,
        "baseline": base,
        "latency_ratio_vs_baseline": {
            k: round(base["cast_to_chair_ms"][k] / ky["cast_to_chair_ms"][k], 3)
            if ky["cast_to_chair_ms"].get(k)
            else None
            for k in ("median", "p99")
        },
        "target": {"p99_ms": TARGET_P99_MS, "rate_per_s": 1000},
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--delegates", type=int, default=125)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    run_async(run(args.delegates, args.rate, args.rounds, pin=not args.no_pin, profile=args.profile))


if __name__ == "__main__":
    main()
