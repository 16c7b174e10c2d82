"""A session driven through the real server's REST commands for the public-surface tests (feed, overlay, phone).

Everyone acts as themself with their own token (delegates cast their own ballots: nobody may vote for another),
through POST /api/sessions/{id}/commands — the same engine as the WebSocket.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec

from meeting import agenda, script, speakers, votes
from meeting import session as sess
from meeting.messages import Command
from meeting.rules import BallotMode
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http

SESSION = script.SESSION_ID
ITEM = "nq-ngan-sach"
ITEM2 = "nq-dau-tu-cong"
NAMED = "bq-cong-khai"
SECRET = "bq-kin"


def _login(srv: ServerProcess, username: str) -> str:
    status, body = http("POST", f"{srv.http}/api/auth/login", {"username": username, "password": DEMO_PASSWORD})
    assert status == 200, body
    token: str = body["token"]
    return token


class Driver:
    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = _login(self.srv, username)
        return self.tokens[username]

    def run(self, username: str, cmd: Command) -> dict[str, Any]:
        body = {"id": uuid.uuid4().hex, "command": msgspec.to_builtins(cmd)}
        status, out = http("POST", f"{self.srv.http}/api/sessions/{SESSION}/commands", body, self.token(username))
        assert status in (200, 201) and out["ok"], (cmd, status, out)
        result: dict[str, Any] = out
        return result

    async def arun(self, username: str, cmd: Command) -> dict[str, Any]:
        return await asyncio.to_thread(self.run, username, cmd)

    @staticmethod
    def user(i: int) -> str:
        return "chutoa" if i == 1 else f"daibieu{i:02d}"

    # --- steps ---------------------------------------------------------------------------------------------------
    async def open_session(self, present: int = 40) -> None:
        await self.arun("vanphong", sess.OpenCheckIn())
        for i in range(1, present + 1):
            await self.arun("vanphong", sess.CheckIn(delegate_id=script.delegate_id(i)))
        await self.arun("chutoa", sess.OpenSession())

    async def move(self, item: str) -> None:
        await self.arun("chutoa", agenda.MoveToItem(item_id=item))

    async def speech(self, delegate: int, seconds: int = 300) -> None:
        await self.arun("chutoa", speakers.StartSpeech(delegate_id=script.delegate_id(delegate), seconds=seconds))

    async def end_speech(self) -> None:
        await self.arun("chutoa", speakers.EndSpeech())

    async def vote(self, round_id: str, item: str, motion: str, ballots: dict[int, str], *, secret: bool) -> None:
        """Open a round, cast `ballots` (delegate number → option key) as each delegate, close it."""
        # A secret round is certified by the demo council's counting committee (db030–db036) before it is announced.
        committee = script.COMMITTEE if secret else []
        # Sealed: the public board, feed and overlay show a certified count the same way in both modes, and a
        # sealed round needs no key ceremony (the verifiable count: tests/test_e2e_verifiable.py).
        mode = BallotMode.SEALED if secret else None
        opened = votes.OpenVote(
            round_id=round_id, item_id=item, motion=motion, secret=secret, committee=committee, mode=mode
        )
        await self.arun("chutoa", opened)
        await self.cast(round_id, ballots)

    async def cast(self, round_id: str, ballots: dict[int, str]) -> None:
        await asyncio.gather(
            *(
                self.arun(
                    self.user(i), votes.CastBallot(round_id=round_id, delegate_id=script.delegate_id(i), option=opt)
                )
                for i, opt in ballots.items()
            )
        )

    async def close(self, round_id: str) -> None:
        await self.arun("chutoa", votes.CloseRound(round_id=round_id))

    async def certify(self, round_id: str, members: int = 4) -> None:
        """More than half of the 7 members certify the count: the result is published (`RoundClosed`)."""
        for member in script.COMMITTEE[:members]:
            await self.arun(f"daibieu{int(member.removeprefix('db')):02d}", votes.CertifyRound(round_id=round_id))

    async def announce(self, round_id: str) -> None:
        await self.arun("chutoa", votes.AnnounceResult(round_id=round_id))

    async def suspend(self, reason: str) -> None:
        await self.arun("chutoa", sess.SuspendSession(reason=reason))

    async def resume(self) -> None:
        await self.arun("chutoa", sess.ResumeSession())

    async def close_session(self) -> None:
        await self.arun("chutoa", sess.CloseSession())


# 30 Tán thành, 5 Không tán thành, 2 Không biểu quyết: passes (30 of 50 > 1/2 of all).
NAMED_BALLOTS = {
    **dict.fromkeys(range(1, 31), "yes"),
    **dict.fromkeys(range(31, 36), "no"),
    36: "abstain",
    37: "abstain",
}
# 20 Tán thành, 15 Không tán thành: fails (20 of 50).
SECRET_BALLOTS = {**dict.fromkeys(range(1, 21), "yes"), **dict.fromkeys(range(21, 36), "no")}
