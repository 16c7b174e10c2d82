"""One channel subscription per session per worker, and a loop over that session's sockets.

Each event a worker receives for a session is parsed once (sequence number, audience, text) and offered to every
local socket of the session in turn. A socket that can take the frame now gets it written in the same loop, with
no queue and no task switch — the way `websockets.broadcast()` works; a socket that cannot (its transport is
paused because the client reads slowly, or it is still reading its backlog) queues the event in its own bounded
outbox, drained by a task of its own, so it never holds up the others.

Measured (docs/PERFORMANCE.md, T1 at 1000 tablets): with a Litestar subscriber, a queue and a pump task per socket,
waking 1000 tasks per event was ~10 % of the server's time and ~5 KiB of each connection's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import msgspec
from litestar.channels import ChannelsPlugin
from websockets.frames import Frame, Opcode

from meeting.actors import Audience, Role
from server.engine import FanoutHeader
from server.fanout import parse_resync

log = logging.getLogger("kyhop.hub")

_header_decoder = msgspec.json.Decoder(FanoutHeader)


class Fanned(msgspec.Struct, frozen=True, array_like=True):
    """One event as every local socket of its session receives it: its text, and the WebSocket frame of that
    text, built once (server → client frames are not masked, so one frame serves every socket that negotiated
    no extension — compression is off: docs/PERFORMANCE.md)."""

    seq: int
    audience: Audience
    text: str
    frame: bytes


def parse(raw: bytes) -> Fanned:
    head, _, wire = raw.partition(b"\n")
    h = _header_decoder.decode(head)
    audience = Audience(
        roles=frozenset(Role(r) for r in h.roles), delegate_id=h.delegate_id, members=frozenset(h.members)
    )
    return Fanned(h.seq, audience, wire.decode(), Frame(Opcode.TEXT, wire).serialize(mask=False))


class Listener(Protocol):
    """A socket as the room sees it (server/ws.py `Connection`)."""

    async def offer(self, event: Fanned) -> None:
        """Send the event now if the socket can take it without waiting, else queue it; never block."""

    def resync(self, seq: int) -> None:
        """The fan-out may have missed events up to `seq` (-1: unknown): look in the log."""


class Room:
    def __init__(self, hub: Hub, channel: str) -> None:
        self.hub, self.channel = hub, channel
        self.members: dict[Listener, None] = {}  # insertion-ordered set
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] = asyncio.create_task(self._run(), name=f"room {channel}")

    async def _run(self) -> None:
        try:
            async with self.hub.channels.start_subscription([self.channel]) as subscriber:
                self.ready.set()
                if self.members:  # else everyone left while the subscription was being made
                    await self._loop(subscriber.iter_events())
        finally:
            self.ready.set()  # a failed subscription must not leave joiners waiting

    async def _loop(self, stream: AsyncIterator[bytes]) -> None:
        async for raw in stream:
            # A snapshot of the members: sockets join and leave while earlier ones are being written to.
            members = list(self.members)
            marker = parse_resync(raw)
            if marker is not None:
                for m in members:
                    m.resync(marker)
                continue
            event = parse(raw)
            for m in members:
                try:
                    await m.offer(event)
                except Exception:  # one broken socket must not stop the session's fan-out
                    log.exception("offer failed on %s", self.channel)


class Hub:
    """The rooms of one worker, by channel."""

    def __init__(self, channels: ChannelsPlugin) -> None:
        self.channels = channels
        self.rooms: dict[str, Room] = {}

    async def join(self, channel: str, member: Listener) -> Room:
        """Add `member`; returns once the worker is subscribed, so no event published from then on is missed."""
        room = self.rooms.get(channel)
        if room is None or room.task.done():
            room = self.rooms[channel] = Room(self, channel)
        room.members[member] = None
        await room.ready.wait()
        if room.task.done():  # the subscription failed (the channel backend is down)
            room.members.pop(member, None)
            if self.rooms.get(channel) is room:
                del self.rooms[channel]
            room.task.result()  # raises the subscription's error
            raise RuntimeError(f"room {channel} ended")
        return room

    def leave(self, room: Room, member: Listener) -> None:
        room.members.pop(member, None)
        if not room.members and room.ready.is_set():
            if self.rooms.get(room.channel) is room:
                del self.rooms[room.channel]
            room.task.cancel()  # leaving the subscription's context unsubscribes

    async def close(self) -> None:
        rooms, self.rooms = list(self.rooms.values()), {}
        for room in rooms:
            room.task.cancel()
        for room in rooms:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await room.task
