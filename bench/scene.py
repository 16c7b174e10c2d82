"""Getting a running server to the state a scenario needs, through its public API only (REST and WebSocket).

- `open_demo_session`: the demo council's session "ky-hop-4" (server/demo.py) checked in, opened and on its first
  item, so the chair can open votes that every tablet — the anonymous public included — sees.
- `bench_council`: a council with `n` delegates and their accounts (POST /api/councils, council commands
  seat_delegate, POST /api/councils/{id}/accounts), a prepared session with one item, everyone checked in,
  the session opened: for ballots from many real delegates (T2, T3).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from dataclasses import dataclass, field
from typing import Any

import msgspec

from bench.common import http_json
from meeting import script
from meeting.rules import BallotMode, Level, rules_for
from server.demo import DEMO_PASSWORD

ITEM = "nq-ngan-sach"
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=24, thread_name_prefix="bench-http")


async def call(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool, functools.partial(http_json, method, url, body, token))


async def limited(coros: list[Any], limit: int = 24) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def login(http: str, username: str, password: str = DEMO_PASSWORD) -> str:
    out = await call("POST", f"{http}/api/auth/login", {"username": username, "password": password})
    token: str = out["token"]
    return token


async def session_cmd(http: str, session_id: str, token: str, cid: str, command: dict[str, Any]) -> Any:
    return await call("POST", f"{http}/api/sessions/{session_id}/commands", {"id": cid, "command": command}, token)


@dataclass
class DemoSession:
    session_id: str
    item_id: str
    chair_token: str
    secretary_token: str
    tokens: dict[str, str] = field(default_factory=dict)  # delegate id -> token


async def open_demo_session(http: str, present: int = 34) -> DemoSession:
    """Check in `present` of the demo's 50 delegates (2/3 of 50 is 34), open the session, move to item 1."""
    sid = script.SESSION_ID
    names = {script.delegate_id(1): "chutoa"} | {
        script.delegate_id(i): f"daibieu{i:02d}" for i in range(2, present + 1)
    }
    secretary = await login(http, "vanphong")
    tokens = dict(zip(names, await limited([login(http, u) for u in names.values()]), strict=True))
    chair = tokens[script.delegate_id(1)]
    await session_cmd(http, sid, secretary, "bench-open-check-in", {"type": "open_check_in"})
    await limited(
        [
            session_cmd(http, sid, tok, f"bench-check-in-{d}", {"type": "check_in", "delegate_id": d})
            for d, tok in tokens.items()
        ]
    )
    await session_cmd(http, sid, chair, "bench-open-session", {"type": "open_session"})
    await session_cmd(http, sid, chair, "bench-move", {"type": "move_to_item", "item_id": ITEM})
    return DemoSession(sid, ITEM, chair, secretary, tokens)


@dataclass
class BenchCouncil:
    council_id: str
    session_id: str  # the first of session_ids
    item_id: str
    delegates: list[str]  # delegate ids; delegates[0] is the chair
    tokens: dict[str, str]  # delegate id -> token
    session_ids: list[str] = field(default_factory=list)

    @property
    def chair(self) -> str:
        return self.delegates[0]


def bench_delegate(i: int) -> str:
    return f"bd{i:04d}"


async def bench_council(
    http: str, n: int, council_id: str = "hdnd-do-tai", session_id: str = "ky-hop-do-tai", sessions: int = 1
) -> BenchCouncil:
    """A council of `n` delegates (bd0001 is the chair), all signed in; `sessions` sessions of it
    (`session_id`, then `session_id`-2 ...), everyone checked in, each open on its item nq-1."""
    admin = await login(http, "quantri")
    await call(
        "POST",
        f"{http}/api/councils",
        {"council_id": council_id, "name": "Hội đồng đo tải", "level": "province"},
        admin,
    )
    cmds = f"{http}/api/councils/{council_id}/commands"
    await call(
        "POST",
        cmds,
        {"id": "term", "command": {"type": "open_term", "term_id": "k1", "name": "Khóa I", "starts_on": "2026-03-15"}},
        admin,
    )
    # The benchmarks measure the ballot pipeline, not the counting committee's signatures or the chair's
    # few-ballots confirmation: secret rounds are announced at close, as in a council that turned both off. Sealed
    # secret rounds: plain ballots the server counts (the verifiable scheme's costs: bench/ballot_crypto*.py).
    rules = msgspec.structs.replace(
        rules_for(Level.PROVINCE), secret_certification=False, secret_min_ballots=0, secret_mode=BallotMode.SEALED
    )
    await call(
        "POST", cmds, {"id": "rules", "command": {"type": "change_rules", "rules": msgspec.to_builtins(rules)}}, admin
    )
    ids = [bench_delegate(i) for i in range(1, n + 1)]
    await limited(
        [
            call(
                "POST",
                cmds,
                {"id": f"seat-{d}", "command": {"type": "seat_delegate", "delegate_id": d, "name": f"Đại biểu {d}"}},
                admin,
            )
            for d in ids
        ]
    )
    accounts = f"{http}/api/councils/{council_id}/accounts"
    await limited(
        [
            call(
                "POST",
                accounts,
                {
                    "username": d,
                    "password": DEMO_PASSWORD,
                    "display_name": f"Đại biểu {d}",
                    "roles": ["chair", "delegate"] if k == 0 else ["delegate"],
                    "person_id": d,
                },
                admin,
            )
            for k, d in enumerate(ids)
        ]
    )
    tokens = dict(zip(ids, await limited([login(http, d) for d in ids]), strict=True))
    sids = [session_id] + [f"{session_id}-{k}" for k in range(2, sessions + 1)]
    await limited([_open_session(http, council_id, sid, admin, ids, tokens) for sid in sids], limit=4)
    return BenchCouncil(council_id, session_id, "nq-1", ids, tokens, sids)


async def _open_session(
    http: str, council_id: str, sid: str, admin: str, ids: list[str], tokens: dict[str, str]
) -> None:
    await call(
        "POST",
        f"{http}/api/councils/{council_id}/sessions",
        {"session_id": sid, "title": "Kỳ họp đo tải", "opens_on": "2026-12-09"},
        admin,
    )
    await session_cmd(http, sid, admin, "item", {"type": "add_item", "item_id": "nq-1", "title": "Nghị quyết đo tải"})
    await session_cmd(http, sid, admin, "check-in-open", {"type": "open_check_in"})
    await limited([session_cmd(http, sid, tokens[d], f"ci-{d}", {"type": "check_in", "delegate_id": d}) for d in ids])
    await session_cmd(http, sid, tokens[ids[0]], "open", {"type": "open_session"})
    await session_cmd(http, sid, tokens[ids[0]], "move", {"type": "move_to_item", "item_id": "nq-1"})


def open_vote(round_id: str, item_id: str, secret: bool = False) -> dict[str, Any]:
    return {
        "type": "vote_open",
        "round_id": round_id,
        "item_id": item_id,
        "motion": "Biểu quyết thông qua toàn văn dự thảo Nghị quyết về dự toán ngân sách địa phương năm 2027",
        "secret": secret,
    }


def close_vote(round_id: str) -> dict[str, Any]:
    return {"type": "vote_close_round", "round_id": round_id}


def ballot(round_id: str, delegate_id: str, option: str = "yes") -> dict[str, Any]:
    return {"type": "vote_cast_ballot", "round_id": round_id, "delegate_id": delegate_id, "option": option}
