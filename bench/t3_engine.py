"""T3, part B — the durable ballot pipeline alone: server.engine.Engine on PostgreSQL, no sockets, no HTTP.

Run by bench/t3_durable.py in its own process (pinned like the server). The same domain commands the server would
run, submitted straight to `Engine.runtime(...).submit` for `--delegates` delegates (principals made here: the
engine needs only an account id and an actor): per round the chair opens a vote, all ballots are submitted at once,
the pipeline decides, group-commits and acknowledges them; then the round is closed. Prints one JSON object.

    python -m bench.t3_engine --url postgresql+asyncpg://... --delegates 1000 --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec

from bench.common import loadavg, now, run_async, summary
from meeting import agenda, council, votes
from meeting import session as sess
from meeting.actors import Actor, Role
from meeting.messages import Command
from meeting.rules import BallotMode, Level, rules_for
from server.database import Database
from server.engine import Engine, Reply

OPTIONS = ("yes", "no", "abstain")


@dataclass(frozen=True)
class Who:
    account_id: str
    actor: Actor


ADMIN = Who("bench-admin", Actor(roles=frozenset({Role.ADMIN, Role.SECRETARY})))


async def _ok(engine: Engine, kind: str, ident: str, who: Who, cid: str, cmd: Command) -> Reply:
    reply = await engine.runtime(kind, ident).submit(who, cid, cmd)
    if not reply.ok:
        raise RuntimeError(f"{cid}: {reply.error}")
    return reply


async def setup(engine: Engine, n: int, cid: str, sid: str) -> list[Who]:
    await _ok(
        engine,
        "council",
        cid,
        ADMIN,
        "c",
        council.CreateCouncil(
            council_id=cid,
            name="Hội đồng đo tải",
            level=Level.PROVINCE,
            # The pipeline is measured, not the committee's signatures: secret rounds are announced at close.
            # Sealed: the pipeline's plain ballots (the verifiable scheme's costs: bench/ballot_crypto*.py).
            rules=msgspec.structs.replace(
                rules_for(Level.PROVINCE),
                secret_certification=False,
                secret_min_ballots=0,
                secret_mode=BallotMode.SEALED,
            ),
        ),
    )
    await _ok(
        engine, "council", cid, ADMIN, "t", council.OpenTerm(term_id="k1", name="Khóa I", starts_on=date(2026, 3, 15))
    )
    ids = [f"bd{i:04d}" for i in range(1, n + 1)]
    await asyncio.gather(
        *(
            _ok(engine, "council", cid, ADMIN, f"s-{d}", council.SeatDelegate(delegate_id=d, name=f"Đại biểu {d}"))
            for d in ids
        )
    )
    state, _ = await engine.state("council", cid)
    prep = council.prepare_session(state, session_id=sid, title="Kỳ họp đo tải", opens_on=date(2026, 12, 9))
    await _ok(engine, "session", sid, ADMIN, "p", prep)
    await _ok(engine, "session", sid, ADMIN, "i", agenda.AddItem(item_id="nq-1", title="Nghị quyết đo tải"))
    await _ok(engine, "session", sid, ADMIN, "o", sess.OpenCheckIn())
    people = [
        Who(d, Actor(roles=frozenset({Role.DELEGATE, Role.CHAIR} if k == 0 else {Role.DELEGATE}), person_id=d))
        for k, d in enumerate(ids)
    ]
    await asyncio.gather(
        *(_ok(engine, "session", sid, p, f"ci-{p.account_id}", sess.CheckIn(delegate_id=p.account_id)) for p in people)
    )
    await _ok(engine, "session", sid, people[0], "open", sess.OpenSession())
    await _ok(engine, "session", sid, people[0], "move", agenda.MoveToItem(item_id="nq-1"))
    return people


async def bench(url: str, n: int, rounds: int, warmup: int) -> dict[str, Any]:
    database = Database(url)
    await database.migrate()
    engine = Engine(database)
    sid = "ky-hop-do-tai"
    people = await setup(engine, n, "hdnd-do-tai", sid)
    chair = people[0]
    rt = engine.runtime("session", sid)
    rates: list[float] = []
    acks: list[float] = []
    cpu = 0.0
    wrong: list[str] = []
    refused = 0
    total = 0
    t_all = now()
    for k in range(warmup + rounds):
        rid = f"e-{k}"
        secret = k % 2 == 1
        await _ok(
            engine,
            "session",
            sid,
            chair,
            f"open-{rid}",
            votes.OpenVote(round_id=rid, item_id="nq-1", motion="Đo tải", secret=secret),
        )
        t0, c0 = now(), time.process_time()
        futs = [
            rt.submit(
                p,
                f"{rid}-{p.account_id}",
                votes.CastBallot(round_id=rid, delegate_id=p.account_id, option=OPTIONS[i % 3]),
            )
            for i, p in enumerate(people)
        ]
        replies = await asyncio.gather(*futs)
        span, burst_cpu = now() - t0, time.process_time() - c0
        refused += sum(1 for r in replies if not r.ok)
        await _ok(engine, "session", sid, chair, f"close-{rid}", votes.CloseRound(round_id=rid))
        result = rt.state.votes.rounds[rid].result
        want = {o: sum(1 for i in range(n) if OPTIONS[i % 3] == o) for o in OPTIONS}
        if {o.key: o.count for o in result.options} != want or result.ballots_collected != n:
            wrong.append(rid)
        if k >= warmup:
            rates.append(n / span)
            acks.append(span)
            cpu += burst_cpu
            total += n
    wall = now() - t_all
    await database.dispose()
    return {
        "delegates": n,
        "rounds": rounds,
        "ballots_per_s_per_round": summary(rates, scale=1.0, digits=0),
        "ballots_per_s_overall": round(total / sum(acks)) if acks else None,
        "wall_s_including_open_close": round(wall, 2),
        # This process's CPU time while ballots were in flight, per ballot: less sensitive than the rates to other
        # jobs on the machine (the rates also wait for PostgreSQL, whose CPU is not counted here).
        "engine_cpu_us_per_ballot": round(cpu * 1e6 / total) if total else None,
        "load": loadavg(),
        "refused": refused,
        "rounds_wrong": wrong,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--delegates", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    out = run_async(bench(args.url, args.delegates, args.rounds, args.warmup))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
