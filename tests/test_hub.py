"""The per-session room (server/hub.py) and a socket's outbox (server/ws.py `Connection`), in process.

The sockets here are `Connection`s whose transport is a recorder with a `writable` switch, like uvicorn's: a
socket whose transport is paused must not hold up the others, must get everything in order once it drains, and
past its outbox bound must refill from the log instead of losing events. (Real sockets and real uvicorn: the
e2e tests and bench/t1_fanout.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
from litestar import Litestar

from meeting import agenda, script
from meeting.actors import EVERYONE, Actor, Audience, Role, only, staff_and
from meeting.protocol import EventMessage
from server.app import create_app
from server.config import Limits, load_settings
from server.engine import Cached, Runtime, channel_of, encode_fanout
from server.fanout import RobustChannelsPlugin
from server.hub import Fanned, Hub
from server.ws import PUBLIC, Connection

SECRETARY = Actor(roles=frozenset({Role.SECRETARY}), person_id="vp-test")


class Staff:
    account_id = "hub-test"
    actor = SECRETARY


class Transport:
    """What a Connection writes to: records text frames; `writable` cleared = the client stopped reading."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.frames: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()  # what uvicorn's send does first
        self.frames.append(msgspec.json.decode(message["text"]))

    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.frames if f["type"] == "event"]


class Harness:
    def __init__(self, app: Litestar) -> None:
        self.services = app.state.services
        self.channels = app.plugins.get(RobustChannelsPlugin)
        self.hub = Hub(self.channels)
        self.n = 0

    async def runtime(self) -> Runtime:
        rt: Runtime | None = await self.services.engine.existing("session", script.SESSION_ID)
        assert rt is not None
        return rt

    async def tablet(self, actor: Actor = PUBLIC) -> tuple[Connection, Transport]:
        t = Transport()
        conn = Connection(SimpleNamespace(scope={}, send=t.send), self.services, script.SESSION_ID)  # type: ignore[arg-type]
        conn._send, conn._writable = t.send, t.writable  # no `direct`: every frame goes through `send`
        conn._rt, conn.actor = await self.runtime(), actor
        await conn.attach(self.hub, None)
        return conn, t

    async def add_items(self, k: int) -> list[int]:
        seqs: list[int] = []
        rt = await self.runtime()
        for _ in range(k):
            self.n += 1
            cmd = agenda.AddItem(item_id=f"hub-{self.n}", title=f"Mục thử {self.n}")
            reply = await rt.submit(Staff(), f"hub-{self.n}", cmd)
            assert reply.ok, reply.error
            seqs += reply.seqs
        return seqs


async def settle(until: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not until():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[Harness]:
    """The app's lifespan in the test's own task (a fixture would be torn down in another task, which anyio's
    cancel scopes in the channels plugin refuse)."""
    settings = load_settings({"KYHOP_DATA_DIR": str(tmp_path), "KYHOP_SECRET_KEY": "k" * 43})
    settings = msgspec.structs.replace(settings, limits=Limits(subscriber_queue=4))
    app = create_app(settings, fast_hash=True, demo=True)
    async with app.lifespan():  # in this test's event loop (AsyncTestClient would run it in another thread)
        h = Harness(app)
        yield h
        await h.hub.close()


async def test_sockets_that_keep_up_are_written_in_the_room_loop(tmp_path: Path) -> None:
    async with running(tmp_path) as harness:
        (a, ta), (b, tb) = await harness.tablet(), await harness.tablet()
        assert ta.frames[0]["type"] == "welcome" and ta.frames[1]["type"] == "snapshot"
        start = a.cursor
        seqs = await harness.add_items(3)
        await settle(lambda: len(tb.seqs()) == 3 and len(ta.seqs()) == 3)
        assert ta.seqs() == tb.seqs() == seqs == list(range(start + 1, start + 4))
        # The fast path: no outbox, no task per socket.
        assert a.outbox is None and a.writer is None and b.outbox is None and b.writer is None
        assert len(harness.hub.rooms) == 1


async def test_a_stalled_socket_does_not_hold_up_the_others(tmp_path: Path) -> None:
    async with running(tmp_path) as harness:
        (a, ta), (_, tb) = await harness.tablet(), await harness.tablet()
        ta.writable.clear()  # tablet A stops reading
        seqs = await harness.add_items(3)
        await settle(lambda: len(tb.seqs()) == 3)
        assert tb.seqs() == seqs and ta.seqs() == []
        assert a.writer is not None and a.outbox is not None  # A's own task waits for A; B never waited
        ta.writable.set()
        await settle(lambda: len(ta.seqs()) == 3)
        assert ta.seqs() == seqs
        await settle(lambda: a.outbox is None and a.writer is None)  # back on the fast path
        more = await harness.add_items(1)
        await settle(lambda: len(ta.seqs()) == 4)
        assert ta.seqs() == seqs + more and tb.seqs() == seqs + more


async def test_past_the_outbox_bound_a_socket_refills_from_the_log(tmp_path: Path) -> None:
    async with running(tmp_path) as harness:
        (a, ta), (_, tb) = await harness.tablet(), await harness.tablet()
        ta.writable.clear()
        seqs = await harness.add_items(12)  # the bound is 4 (Limits.subscriber_queue in the fixture)
        await settle(lambda: len(tb.seqs()) == 12)
        assert a.outbox is not None and len(a.outbox) <= 4
        ta.writable.set()
        await settle(lambda: len(ta.seqs()) == 12)
        assert ta.seqs() == seqs == tb.seqs()  # every event once, in order: none lost, none repeated
        await settle(lambda: a.outbox is None)


async def test_a_missed_publish_is_refilled_by_the_resync_marker(tmp_path: Path) -> None:
    async with running(tmp_path) as harness:
        (_, ta), (_, tb) = await harness.tablet(), await harness.tablet()
        engine = harness.services.engine
        publish, engine._publish = engine._publish, None  # the fan-out loses the next event (a Redis restart)
        lost = await harness.add_items(1)
        engine._publish = publish
        await asyncio.sleep(0.05)
        assert ta.seqs() == [] and tb.seqs() == []
        rt = await harness.runtime()
        harness.channels.resync(channel_of(rt.stream_id), rt.seq)  # what the watch does once a second
        await settle(lambda: len(ta.seqs()) == 1 and len(tb.seqs()) == 1)
        assert ta.seqs() == tb.seqs() == lost
        # An event after a gap the socket has not filled yet is held until the log fills it: order is kept.
        engine._publish = None
        gap = await harness.add_items(1)
        engine._publish = publish
        after = await harness.add_items(1)
        await settle(lambda: len(ta.seqs()) == 3)
        assert ta.seqs() == lost + gap + after == tb.seqs()


async def test_the_room_closes_with_its_last_socket(tmp_path: Path) -> None:
    async with running(tmp_path) as harness:
        (a, _), (b, _) = await harness.tablet(), await harness.tablet()
        channel = channel_of((await harness.runtime()).stream_id)
        room = harness.hub.rooms[channel]
        await a.detach(harness.hub, room)
        assert channel in harness.hub.rooms
        await b.detach(harness.hub, room)
        assert channel not in harness.hub.rooms
        await settle(room.task.done)
        await settle(lambda: not harness.channels.listened())  # the worker unsubscribed
        _, tc = await harness.tablet()  # a new room for the next socket
        seqs = await harness.add_items(1)
        await settle(lambda: tc.seqs() == seqs)


async def test_an_event_is_offered_only_to_the_sockets_it_is_for(tmp_path: Path) -> None:
    """The room's index: a ballot's events for the chair and one delegate do not pass over the public screens, and
    a public screen that was not offered them keeps up without reading the log."""
    async with running(tmp_path) as harness:
        delegate = Actor(roles=frozenset({Role.DELEGATE}), person_id="db005")
        (pub, tp), (dele, td), (other, to) = (
            await harness.tablet(),
            await harness.tablet(delegate),
            await harness.tablet(Actor(roles=frozenset({Role.DELEGATE}), person_id="db006")),
        )
        rt = await harness.runtime()
        room = harness.hub.rooms[channel_of(rt.stream_id)]
        assert room.targets(only("db005")) == [dele]
        assert set(room.targets(staff_and("db006"))) == {other}
        assert set(room.targets(EVERYONE)) == {pub, dele, other}

        def fanout(seq: int, audience: Audience) -> bytes:
            ev = agenda.FollowMeSet(document_id="d", page=seq)
            wire = msgspec.json.encode(EventMessage(seq=seq, event=ev))
            return encode_fanout(Cached(seq, audience, ev, wire, wire.decode()))

        offered: list[tuple[int, int]] = []
        for conn in (pub, dele, other):
            real = conn.offer

            async def spy(event: Fanned, follows: bool, conn: Connection = conn, real: Any = real) -> None:
                offered.append((id(conn), event.seq))
                await real(event, follows)

            conn.offer = spy  # type: ignore[method-assign]
        base = rt.seq
        channel = channel_of(rt.stream_id)
        # The room's first event is offered to everyone (no continuity known yet); then only to whom it is for.
        await harness.channels.wait_published(fanout(base + 1, EVERYONE), channel)
        await harness.channels.wait_published(fanout(base + 2, only("db005")), channel)
        await harness.channels.wait_published(fanout(base + 3, EVERYONE), channel)
        await settle(lambda: len(tp.seqs()) == 2 and len(td.seqs()) == 3 and len(to.seqs()) == 2)
        assert tp.seqs() == to.seqs() == [base + 1, base + 3] and td.seqs() == [base + 1, base + 2, base + 3]
        assert (id(pub), base + 2) not in offered and (id(other), base + 2) not in offered
        assert (id(dele), base + 2) in offered
        assert all(c.outbox is None and c.writer is None and c.cursor == base + 3 for c in (pub, dele, other))
