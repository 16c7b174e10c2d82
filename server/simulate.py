"""Run the scripted session through the domain in memory and narrate it in Vietnamese (`kyhop simulate`)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from meeting import council, polls, script, session, votes
from meeting.actors import Actor, Context, Role
from meeting.messages import Command, Routed
from meeting.session import SessionState
from meeting.votes import RoundStatus, VoteResult
from server.verifier import ServerCrypto

# The server's clock that announces ballot counts (server/engine.py PROGRESS): the chair's authority, no seat.
CLOCK = Actor(roles=frozenset({Role.CHAIR}))


class MemoryRunner:
    """Keeps a council and a session in memory; time advances 10 s per command."""

    def __init__(self, n: int, out: Callable[[str], None] = print) -> None:
        self.out = out
        self.crypto = ServerCrypto()
        self.now = datetime(2026, 12, 9, 7, 30, tzinfo=UTC)
        self.council: council.CouncilState | None = None
        self.session: session.SessionState | None = None
        self.log: list[Routed] = []
        self.council_log: list[Routed] = []
        for actor, cmd in script.council_setup(n):
            self.council, routed = council.execute(self.council, cmd, self._ctx(actor))
            self.council_log.extend(routed)
        assert self.council is not None
        prepare = council.prepare_session(
            self.council,
            session_id=script.SESSION_ID,
            title=script.SESSION_TITLE,
            opens_on=self.now.date(),
            place="Hội trường Trung tâm Hội nghị tỉnh",
        )
        self.session, routed = session.execute(None, prepare, self._ctx(script.SECRETARY))
        self.log.extend(routed)

    def _ctx(self, actor: Actor) -> Context:
        self.now += timedelta(seconds=10)
        # The server's verifiable-ballot hook (server/verifier.py): it checks every proof, as the server does.
        return Context(actor=actor, now=self.now, nonce=secrets.token_urlsafe(18), crypto=self.crypto)

    async def session_cmd(self, actor: Actor, command: Command) -> None:
        self.session, routed = session.execute(self.session, command, self._ctx(actor))
        self.log.extend(routed)
        # The server announces a round's (or poll's) count at most every 250 ms while ballots arrive; commands
        # here are 10 s apart, so each ballot is followed by its announcement, as the server would do.
        for r in routed:
            report: Command
            match r.event:
                case votes.DelegateVoted():
                    report = votes.ReportProgress(round_id=r.event.round_id)
                case polls.PollDelegateVoted():
                    report = polls.ReportPollProgress(poll_id=r.event.poll_id)
                case _:
                    continue
            self.session, announced = session.execute(self.session, report, self._ctx(CLOCK))
            self.log.extend(announced)

    async def council_cmd(self, actor: Actor, command: Command) -> None:
        self.council, routed = council.execute(self.council, command, self._ctx(actor))
        self.council_log.extend(routed)
        for r in routed:
            if isinstance(r.event, council.ResolutionAdopted):
                res = r.event.resolution
                self.out(f"  → Nghị quyết số {res.number} ngày {res.adopted_on:%d/%m/%Y}: {res.title}")

    async def result(self, round_id: str) -> VoteResult:
        assert self.session is not None
        rnd = self.session.votes.rounds[round_id]
        assert rnd.status is RoundStatus.CLOSED and rnd.result is not None
        return rnd.result

    def say(self, text: str) -> None:
        self.out(f"• {text}")

    def state(self) -> SessionState:
        """Every device reads the one state in memory: nothing is in flight between commands."""
        assert self.session is not None
        return self.session


class _Adapter:
    """Maps the Runner protocol's names onto MemoryRunner (which keeps `session`/`council` as state)."""

    def __init__(self, m: MemoryRunner) -> None:
        self.m = m

    async def session(self, actor: Actor, command: Command) -> None:
        await self.m.session_cmd(actor, command)

    async def council(self, actor: Actor, command: Command) -> None:
        await self.m.council_cmd(actor, command)

    async def result(self, round_id: str) -> VoteResult:
        return await self.m.result(round_id)

    def say(self, text: str) -> None:
        self.m.say(text)

    async def state(self, actor: Actor) -> SessionState:
        return self.m.state()


def simulate(n: int = 50, present: int = 46, out: Callable[[str], None] = print) -> MemoryRunner:
    m = MemoryRunner(n, out)
    out(f"{script.COUNCIL_NAME} — {script.SESSION_TITLE}")
    out(f"{n} đại biểu; mô phỏng toàn bộ kỳ họp qua các quy tắc của miền nghiệp vụ (không cần máy chủ).")
    asyncio.run(script.run(_Adapter(m), n=n, present=present))
    assert m.session is not None
    out(f"Nhật ký kỳ họp: {len(m.log)} sự kiện.")
    return m
