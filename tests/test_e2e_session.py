"""A whole session through real uvicorn and real WebSocket clients, on SQLite and on PostgreSQL.

50 delegates sign in and connect, check in, follow the agenda, speak, vote named and secret, question with a
rebuttal, rate officials in a confidence poll certified by the counting committee, and two resolutions get
their numbers. At the end every client's state — built from its snapshot plus the events it received — must
equal a fresh snapshot for the same account, no client may have seen a duplicate, and the audit chain holds.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import msgspec
import pytest

from clients.sdk import SessionClient, sign_in
from meeting import council, script
from meeting.actors import Actor
from meeting.messages import Command
from meeting.resolutions import adoption_date
from meeting.session import SessionState
from meeting.votes import VoteResult
from server.audit import verify
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess
from tests.services import PostgresServer

N = 50
PRESENT = 46


def _get(url: str, token: str | None = None) -> Any:
    req = urllib.request.Request(url)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _post(url: str, body: dict[str, Any], token: str) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class ServerRunner:
    def __init__(self, srv: ServerProcess, clients: dict[str, SessionClient], tokens: dict[str, str]) -> None:
        self.srv, self.clients, self.tokens = srv, clients, tokens
        self.n = 0
        self.last_seq = 0

    def _key(self, actor: Actor) -> str:
        return actor.person_id or "vanphong"

    async def session(self, actor: Actor, command: Command) -> None:
        result = await self.clients[self._key(actor)].send(command)
        self.last_seq = max([self.last_seq, *result.seqs])

    async def state(self, actor: Actor) -> SessionState:
        """The actor's own socket's state once it has the last command's events (script.Runner.state)."""
        client = self.clients[self._key(actor)]
        await client.wait_seq(self.last_seq, timeout=30)
        assert client.state is not None
        return client.state

    async def council(self, actor: Actor, command: Command) -> None:
        self.n += 1
        body = {"id": f"council-{self.n}", "command": msgspec.to_builtins(command)}
        await asyncio.to_thread(
            _post, f"{self.srv.http}/api/councils/{script.COUNCIL_ID}/commands", body, self.tokens["vanphong"]
        )

    async def result(self, round_id: str) -> VoteResult:
        chair = self.clients[script.delegate_id(1)]
        for _ in range(200):
            st = chair.state
            if st is not None and round_id in st.votes.rounds and st.votes.rounds[round_id].result is not None:
                result = st.votes.rounds[round_id].result
                assert result is not None
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(f"no result for {round_id}")

    def say(self, text: str) -> None:
        pass


def usernames() -> dict[str, str]:
    """person id (or 'vanphong') -> username."""
    out = {"vanphong": "vanphong", script.delegate_id(1): "chutoa"}
    out.update({script.delegate_id(i): f"daibieu{i:02d}" for i in range(2, N + 1)})
    return out


async def run_session(srv: ServerProcess) -> None:
    names = usernames()
    tokens = dict(
        zip(names, await asyncio.gather(*(sign_in(srv.http, u, DEMO_PASSWORD) for u in names.values())), strict=True)
    )
    clients = {k: SessionClient(srv.ws, script.SESSION_ID, t) for k, t in tokens.items()}
    public = SessionClient(srv.ws, script.SESSION_ID, None)
    await asyncio.gather(*(c.connect() for c in [*clients.values(), public]))
    try:
        await asyncio.gather(*(c.ready() for c in [*clients.values(), public]))
        await script.run(ServerRunner(srv, clients, tokens), n=N, present=PRESENT, add_items=False)

        resolutions = _get(f"{srv.http}/api/councils/{script.COUNCIL_ID}/resolutions", tokens["vanphong"])
        # The year is the one the round closed in, on the council's calendar (UTC+7), never a date a client sent.
        closed = datetime.fromisoformat(resolutions[0]["result"]["closed_at"])
        year = adoption_date(closed).year
        assert [r["number"] for r in resolutions] == [f"01/{year}/NQ-HĐND", "01/NQ-HĐND"]
        assert resolutions[0]["adopted_on"] == adoption_date(closed).isoformat()

        # A resolution is numbered from the result the session recorded, never from one the client makes up.
        chair = clients[script.delegate_id(1)]
        real = await ServerRunner(srv, clients, tokens).result("bq-1")
        forged = msgspec.structs.replace(real, round_id="bq-gia-mao", passed=True)
        for result, code in ((forged, "unknown_round"), (real, "already_numbered")):
            cmd = council.NumberResolution(session_id=script.SESSION_ID, title="Giả mạo", result=result)
            body = {"id": f"forge-{code}", "command": msgspec.to_builtins(cmd)}
            with pytest.raises(urllib.error.HTTPError) as e:
                await asyncio.to_thread(
                    _post, f"{srv.http}/api/councils/{script.COUNCIL_ID}/commands", body, tokens["vanphong"]
                )
            assert json.loads(e.value.read())["code"] == code
        final = _get(f"{srv.http}/api/sessions/{script.SESSION_ID}", tokens["vanphong"])["seq"]
        await chair.wait_seq(final, timeout=20)  # the chair (staff) sees every numbered event
        for c in [*clients.values(), public]:
            await c.wait_seq(final - 5, timeout=20)  # the last events are visible to everyone
        assert chair.state is not None
        assert chair.state.hall.status.value == "closed"
        poll = chair.state.polls.polls["ltn-1"]
        assert poll.status.value == "certified" and poll.result is not None
        secret = chair.state.votes.rounds["bq-2"]
        assert secret.result is not None and secret.result.ballots_collected == PRESENT
        assert secret.choices == {}  # a secret round never pairs a delegate with a choice

        # Snapshot + events == a fresh snapshot, for every account and for the public.
        for key, c in [*clients.items(), ("public", public)]:
            assert c.duplicates == 0, key
            fresh = SessionClient(srv.ws, script.SESSION_ID, tokens.get(key), reconnect=False)
            await fresh.connect()
            await fresh.ready()
            assert fresh.last_seq == c.last_seq or fresh.welcome is not None
            got = msgspec.to_builtins(c.state, order="deterministic")
            want = msgspec.to_builtins(fresh.state, order="deterministic")
            assert got == want, key
            await fresh.close()
        # The public saw results, never a ballot or a receipt.
        assert public.state is not None
        assert all(r.choices == {} and r.receipts == set() for r in public.state.votes.rounds.values())
    finally:
        await asyncio.gather(*(c.close() for c in [*clients.values(), public]))


@pytest.fixture
def sqlite_server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        yield srv


async def test_full_session_sqlite(sqlite_server: ServerProcess) -> None:
    await run_session(sqlite_server)
    report = await verify(f"sqlite+aiosqlite:///{sqlite_server.data_dir}/kyhop.db")
    assert report.ok and report.rows > 250, report.text()


async def test_full_session_postgres(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("e2e_session")
    with ServerProcess(url) as srv:
        await run_session(srv)
    report = await verify(url)
    assert report.ok and report.rows > 250, report.text()


_ = AsyncIterator
