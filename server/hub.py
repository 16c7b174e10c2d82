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

from meeting.actors import Actor, Audience, Role
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

    @property
    def actor(self) -> Actor: ...

    async def offer(self, event: Fanned, follows: bool) -> None:
        """Send the event now if the socket can take it without waiting, else queue it; never block.

        `follows`: the event directly follows the one the room handled before, so a socket on the fast path, which
        the room offers only the events its audience admits, has handled everything before it. Otherwise (the
        room's first event, or one after a gap in the channel) every socket is offered it and compares it with
        its own cursor. A slow socket (see `Room.slow`) is offered every event."""

    def resync(self, seq: int, handled: int | None) -> None:
        """The fan-out may have missed events up to `seq` (-1: unknown): look in the log. `handled`: the room
        offered this socket every event up to there that it may see, if it is on the fast path."""


class Room:
    """The local sockets of one session, indexed by role and person, so an event for the chair and one
    delegate costs two sends and two lookups, not a pass over 1000 public screens (measured in bench T2, a
    pass over every socket for every ballot's three events was ~15 % of the server's time at 125 sockets)."""

    def __init__(self, hub: Hub, channel: str) -> None:
        self.hub, self.channel = hub, channel
        self.members: dict[Listener, None] = {}  # insertion-ordered sets
        self.by_role: dict[Role, dict[Listener, None]] = {}
        self.by_person: dict[str, dict[Listener, None]] = {}
        # Sockets with an outbox (reading their backlog, or behind): offered every event, so their own cursor
        # sees every sequence number. A socket joins slow and calls `fast` once it caught up.
        self.slow: dict[Listener, None] = {}
        self.last: int | None = None  # the newest sequence number offered
        self._targets: dict[Audience, list[Listener]] = {}  # cleared whenever a socket comes, goes or changes pace
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] = asyncio.create_task(self._run(), name=f"room {channel}")

    # --- membership (synchronous: nothing can interleave with the loop's view of it) ----------------------
    def add(self, m: Listener) -> None:
        self.members[m] = None
        self.slow[m] = None
        for r in m.actor.roles:
            self.by_role.setdefault(r, {})[m] = None
        if m.actor.person_id is not None:
            self.by_person.setdefault(m.actor.person_id, {})[m] = None
        self._targets.clear()

    def remove(self, m: Listener) -> None:
        self.members.pop(m, None)
        self.slow.pop(m, None)
        for r in m.actor.roles:
            self.by_role.get(r, {}).pop(m, None)
        if m.actor.person_id is not None:
            self.by_person.get(m.actor.person_id, {}).pop(m, None)
        self._targets.clear()

    def fast(self, m: Listener) -> None:
        if self.slow.pop(m, 0) is None:
            self._targets.clear()

    def slowed(self, m: Listener) -> None:
        if m in self.members and m not in self.slow:
            self.slow[m] = None
            self._targets.clear()

    def targets(self, audience: Audience) -> list[Listener]:
        """The sockets to offer an event: the slow ones, and every fast one the audience admits — exactly those
        (`Audience.admits`: a role in common, or the person named)."""
        hit = self._targets.get(audience)
        if hit is not None:
            return hit
        out: dict[Listener, None] = dict(self.slow)
        for r in audience.roles:
            out.update(self.by_role.get(r, {}))
        for person in (audience.delegate_id, *audience.members):
            if person is not None:
                out.update(self.by_person.get(person, {}))
        if len(self._targets) >= 1024:  # one entry per audience: staff + each delegate, a few hundred
            self._targets.clear()
        self._targets[audience] = targets = list(out)
        return targets

    # --- the loop ----------------------------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            async with self.hub.channels.start_subscription([self.channel]) as subscriber:
                self.ready.set()
                if self.members:  # else everyone left while the subscription was being made
                    await self._loop(subscriber.iter_events())
        finally:
            self.ready.set()  # a failed subscription must not leave joiners waiting

    def _resync(self, seq: int) -> None:
        for m in list(self.members):
            m.resync(seq, self.last)

    async def _loop(self, stream: AsyncIterator[bytes]) -> None:
        async for raw in stream:
            marker = parse_resync(raw)
            if marker is not None:
                self._resync(marker)
                continue
            event = parse(raw)
            last = self.last
            if last is not None and event.seq <= last:
                continue  # a duplicate from the channel: every socket was offered it
            follows = last is not None and event.seq == last + 1
            self.last = event.seq
            # Lists: sockets join and leave while earlier ones are being written to. Without continuity (the first
            # event, or events lost by the channel: a Redis restart) every socket checks its own cursor and
            # refills a gap from the log.
            for m in self.targets(event.audience) if follows else list(self.members):
                try:
                    await m.offer(event, follows)
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
        room.add(member)
        await room.ready.wait()
        if room.task.done():  # the subscription failed (the channel backend is down)
            room.remove(member)
            if self.rooms.get(channel) is room:
                del self.rooms[channel]
            room.task.result()  # raises the subscription's error
            raise RuntimeError(f"room {channel} ended")
        return room

    def leave(self, room: Room, member: Listener) -> None:
        room.remove(member)
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
