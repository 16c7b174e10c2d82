"""One session's WebSocket: hello → welcome → (events after last_seq | snapshot) → live events and commands.

Delivery: the connection subscribes to the session's channel *before* it reads the backlog, then keeps a
cursor (the last sequence number it has handled, sent or not visible). A channel message at or below the
cursor is a duplicate and skipped; one above cursor + 1 means messages were dropped (a full queue on a slow
socket, a Redis hiccup) and the gap is filled from the stream's cache or the database. So a client gets every
event it may see, in order, exactly once — and its own resume number is enough to continue after a reconnect.

Robustness: every inbound message is size-checked and rate-limited before it is parsed, parsed with msgspec
into the protocol union, and answered with a bilingual error when bad. A bad message never closes the socket
(only a missing/invalid hello does), and nothing one socket does can stall another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, cast

import msgspec
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.exc import SQLAlchemyError
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from meeting.actors import Actor, Role
from meeting.errors import Code, DomainError
from meeting.protocol import ClientMessage, ErrorMessage, Hello, Result, SendCommand, Welcome
from server.auth import RECHECK_SECONDS, Principal, checked_principal
from server.engine import Cached, Runtime, Unavailable, channel_of
from server.errors import PROTOCOL_ERRORS, ApiError
from server.hub import Fanned, Hub, Room
from server.inbound import ID_FORBIDDEN, id_problem, json_problem
from server.services import Services

log = logging.getLogger("kyhop.ws")

_client_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()

PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))


class Anonymous:
    account_id = "public"
    actor = PUBLIC


def _error(code: str, id: str | None = None, detail: str | None = None) -> bytes:
    vi, en = PROTOCOL_ERRORS[code]
    if detail:
        en = f"{en} ({detail})"
    return _encoder.encode(ErrorMessage(code=code, message_vi=vi, message_en=en, id=id))


class _IdOnly(msgspec.Struct):
    id: str | None = None


_id_decoder = msgspec.json.Decoder(_IdOnly)


def _guess_id(raw: str) -> str | None:
    """The command id of a message we refuse before parsing it, so the client knows which command it was."""
    try:
        cid = _id_decoder.decode(raw).id
    except (msgspec.DecodeError, UnicodeError, RecursionError):
        return None
    return cid if cid is not None and id_problem(cid) is None else None


_RAW = "kyhop.asgi"  # where `expose_asgi` leaves the server's own receive and send in the scope


def expose_asgi(app: ASGIApp) -> ASGIApp:
    """Route middleware: keep the ASGI server's own receive/send, before Litestar's WebSocket wraps them."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        scope[_RAW] = (receive, send)  # type: ignore[literal-required]
        await app(scope, receive, send)

    return middleware


# The ASGI send as this module calls it (uvicorn's and Litestar's type their messages differently).
AnySend = Callable[[Any], Awaitable[None]]
# Writes a ready WebSocket frame if the socket takes it now; False if it cannot (paused, closing, not plain).
Direct = Callable[[bytes], bool]


class Outlet(NamedTuple):
    send: AnySend
    writable: asyncio.Event | None  # None: no way to know, every live event goes through the outbox task
    direct: Direct | None


def _outlet(socket: WebSocket[Any, Any, Any]) -> Outlet:
    """How this socket is written to, as directly as the server allows.

    Under uvicorn's sans-I/O WebSocket protocol (the default), `send` only waits on `writable`, which is set
    unless the client reads too slowly; when it is set, a send writes the frame and returns without
    suspending, so the room can write to 1000 sockets in one loop. Calling it directly skips Litestar's two send
    wrappers (measured: ~16 % of a broadcast), and `direct` writes the frame the room built once for all
    sockets — what `websockets.broadcast()` does — when the connection is open and negotiated no extension.
    Under any other server every live event goes through the socket's own outbox task: slower, equally correct.
    """
    raw = cast("tuple[Receive, Send] | None", socket.scope.get(_RAW))
    proto = getattr(raw[0], "__self__", None) if raw else None
    if not isinstance(proto, WebSocketsSansIOProtocol):
        return Outlet(socket.send, None, None)
    conn, transport, writable = proto.conn, proto.transport, proto.writable

    def direct(frame: bytes) -> bool:
        if conn.state is not State.OPEN or proto.close_sent or conn.extensions or not writable.is_set():
            return False
        transport.write(frame)
        return True

    return Outlet(proto.send, writable, direct)


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Connection:
    def __init__(self, socket: WebSocket[Any, Any, Any], services: Services, sid: str):
        self.socket = socket
        self.services = services
        self.session_id = sid
        self.limits = services.settings.limits
        self._rt: Runtime | None = None
        self.principal: Principal | Anonymous = Anonymous()
        self.actor: Actor = PUBLIC
        self.cursor = 0
        self.bucket = TokenBucket(self.limits.commands_per_second, self.limits.command_burst)
        self.send_lock = asyncio.Lock()
        self.token = ""
        self.checked_at = 0.0
        # Live events this socket could not take at once (or that came while it read its backlog), drained
        # in order by `writer`; None while the socket keeps up, which is the usual case.
        # An int in it is not an event but "look in the log up to that seq" (-1: up to its end).
        self.outbox: deque[Fanned | int] | None = deque()
        self.writer: asyncio.Task[None] | None = None
        self.live = False
        self.room: Room | None = None
        self._send, self._writable, self._direct = _outlet(socket)

    @property
    def rt(self) -> Runtime:
        assert self._rt is not None, "set by a successful hello"
        return self._rt

    async def send(self, data: bytes) -> None:
        await self.send_text(data.decode())

    async def send_text(self, text: str) -> None:
        async with self.send_lock:
            await self._send({"type": "websocket.send", "text": text})

    # --- handshake -----------------------------------------------------------------------------------------
    async def hello(self) -> Hello | None:
        try:
            raw = await asyncio.wait_for(self.socket.receive_data(mode="text"), self.limits.hello_timeout)
        except TimeoutError:
            await self.send(_error("hello_required"))
            return None
        if len(raw) > self.limits.max_message_bytes:
            await self.send(_error("too_large"))
            return None
        problem = json_problem(raw)
        if problem is not None:
            await self.send(_error("malformed", detail=problem))
            return None
        try:
            msg = _client_decoder.decode(raw)
        except msgspec.DecodeError as e:
            await self.send(_error("malformed", detail=str(e)))
            return None
        if not isinstance(msg, Hello):
            await self.send(_error("hello_required"))
            return None
        if msg.last_seq is not None and msg.last_seq < 0:
            await self.send(_error("malformed", detail="last_seq < 0"))
            return None
        if msg.token is not None:
            try:
                p = await checked_principal(self.services, msg.token)
            except ApiError as e:
                await self.send(_error(e.body.code))
                return None
            except (SQLAlchemyError, OSError):
                await self.send(_error("unavailable"))
                return None
            self.principal, self.actor = p, p.actor
            self.token, self.checked_at = msg.token, time.monotonic()
        if ID_FORBIDDEN.search(self.session_id):
            await self.send(_error("malformed", detail="control character in the session id"))
            return None
        try:
            rt = await self.services.engine.existing("session", self.session_id)
        except (SQLAlchemyError, OSError, Unavailable):
            await self.send(_error("unavailable"))
            return None
        if rt is None:
            await self.send(_error("not_found"))
            return None
        self._rt = rt
        state = rt.state
        if isinstance(self.principal, Principal):
            p = self.principal
            if p.council_id != state.hall.council_id and not (p.council_id is None and p.is_admin):
                await self.send(_error("wrong_council"))
                return None
        return msg

    async def backlog(self, last_seq: int | None) -> None:
        rt = self.rt
        await rt.refresh()
        events = rt.events_after(last_seq) if last_seq is not None and last_seq <= rt.seq else None
        await self.send(
            _encoder.encode(
                Welcome(
                    session_id=self.session_id,
                    seq=rt.seq,
                    roles=sorted(self.actor.roles),
                    person_id=self.actor.person_id,
                    resumed=events is not None,
                )
            )
        )
        if events is not None:
            self.cursor = last_seq or 0
            await self.deliver(events)
            return
        wire, seq = await rt.snapshot_wire(self.actor)
        await self.send(wire)
        self.cursor = seq
        # Events committed between the snapshot and now are in the cache; the channel may also bring them.
        more = rt.events_after(seq)
        if more:
            await self.deliver(more)

    async def deliver(self, events: list[Cached]) -> None:
        for c in events:
            if c.seq <= self.cursor:
                continue
            if c.audience.admits(self.actor):
                await self.send_text(c.text)
            self.cursor = c.seq

    # --- live (called by the session's room, server/hub.py) --------------------------------------------------
    async def offer(self, event: Fanned, follows: bool) -> None:
        if self.outbox is not None:
            self._queue(event)
            return
        seq = event.seq
        if seq <= self.cursor:
            return
        if follows:
            # The room offers a socket on the fast path only the events it may see, and this one follows the
            # room's previous event: everything before it was handled (server/hub.py `Listener.offer`).
            self.cursor = seq - 1
        writable = self._writable
        if seq > self.cursor + 1 or writable is None or not writable.is_set() or self.send_lock.locked():
            # A gap to fill from the log, or a send that would wait: this socket's own task takes over.
            # A send that would wait: this socket's own task takes over.
            self._queue(event)
            return
        self.cursor = seq
        if event.audience.admits(self.actor):
            direct = self._direct
            if direct is None or not direct(event.frame):
                try:
                    # Does not suspend: the transport is writable, and uvicorn's send then only writes the frame.
                    await self._send({"type": "websocket.send", "text": event.text})
                except Exception as e:  # the socket is closing; its own receive loop ends it
                    log.debug("live event to a closing socket: %s", e)

    def resync(self, seq: int, handled: int | None) -> None:
        if self.outbox is None:
            if handled is not None and handled > self.cursor:
                self.cursor = handled  # the room offered this socket everything up to there that it may see
            if 0 <= seq <= self.cursor:
                return  # this socket has seen the log up to there
        self._queue(seq)

    def _queue(self, event: Fanned | int) -> None:
        outbox = self.outbox
        if outbox is None:
            outbox = self.outbox = deque()
            if self.room is not None:
                self.room.slowed(self)  # offered every event from now on, until the outbox is drained
        if len(outbox) >= self.limits.subscriber_queue:
            # Too far behind to keep queueing: drop the queue. Nothing is lost: the event queued next comes
            # after a gap, and the writer fills a gap from the stream's cache or the log before sending it.
            outbox.clear()
        outbox.append(event)
        if self.live and self.writer is None:
            self.writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            outbox = self.outbox
            while outbox:
                event = outbox.popleft()
                if isinstance(event, int):
                    await self._catch_up(event)
                    continue
                seq = event.seq
                if seq <= self.cursor:
                    continue
                if seq > self.cursor + 1:
                    await self.fill_gap(seq)
                    if seq <= self.cursor:
                        continue
                if event.audience.admits(self.actor):
                    await self.send_text(event.text)
                self.cursor = seq
            self._caught_up()
        finally:
            self.writer = None

    def _caught_up(self) -> None:
        """The outbox is empty: the room writes to this socket directly again (the cursor is the newest event the
        room offered, or newer when the log was read ahead of the channel)."""
        self.outbox = None
        if self.room is not None:
            self.room.fast(self)

    async def _catch_up(self, marker: int) -> None:
        """The fan-out may have missed events (Redis reconnected, or the outbox overflowed): the log has them."""
        if 0 <= marker <= self.cursor:
            return
        await self.rt.refresh()
        missed = self.rt.events_after(self.cursor)
        if missed is None:
            await self.fill_gap(self.rt.seq + 1)
        elif missed:
            await self.deliver(missed)

    async def fill_gap(self, upto: int) -> None:
        events = self.rt.events_after(self.cursor)
        if events is None or not events or events[-1].seq < upto - 1:
            await self.rt.refresh()
            events = self.rt.events_after(self.cursor)
        if events is None:
            # Too far behind for the cache: the client gets a fresh snapshot (its state is replaced, not merged).
            wire, seq = await self.rt.snapshot_wire(self.actor)
            await self.send(wire)
            self.cursor = seq
            return
        await self.deliver([c for c in events if c.seq < upto])

    async def commands(self) -> None:
        max_bytes = self.limits.max_message_bytes
        while True:
            raw = await self.socket.receive_data(mode="text")
            # The limit is in bytes; a character is at most 4 bytes in UTF-8, so most messages skip the encode.
            if len(raw) * 4 > max_bytes and len(raw.encode()) > max_bytes:
                await self.send(_error("too_large", id=_guess_id(raw)))  # uvicorn caps frames at 128 KiB
                continue
            if not self.bucket.take():
                await self.send(_error("rate_limited", id=_guess_id(raw)))
                continue
            problem = json_problem(raw)
            if problem is not None:
                await self.send(_error("malformed", id=_guess_id(raw), detail=problem))
                continue
            try:
                msg = _client_decoder.decode(raw)
            except msgspec.DecodeError as e:
                await self.send(_error("malformed", id=_guess_id(raw), detail=str(e)))
                continue
            if isinstance(msg, Hello):
                await self.send(_error("malformed", detail="hello already received"))
                continue
            await self.command(msg)

    async def command(self, msg: SendCommand) -> None:
        problem = id_problem(msg.id)
        if problem is not None:
            await self.send(_error("malformed", detail=problem))
            return
        if isinstance(self.principal, Anonymous):
            refusal = DomainError(Code.FORBIDDEN).refusal
            await self.send(_encoder.encode(Result(id=msg.id, ok=False, error=refusal)))
            return
        if time.monotonic() - self.checked_at > RECHECK_SECONDS:
            # A revoked token or a disabled account stops working on an open socket too (a lost tablet).
            try:
                self.principal = await checked_principal(self.services, self.token)
            except ApiError as e:
                await self.send(_error(e.body.code, id=msg.id))
                raise WebSocketDisconnect(detail="token no longer valid") from e
            except (SQLAlchemyError, OSError):
                # The database is down: the command cannot be done anyway; say so and keep the socket.
                await self.send(_error("unavailable", id=msg.id))
                return
            self.checked_at = time.monotonic()
        try:
            reply = await self.rt.submit(self.principal, msg.id, msg.command)
        except Unavailable:
            await self.send(_error("unavailable", id=msg.id))
            return
        await self.send(
            _encoder.encode(Result(id=msg.id, ok=reply.ok, seqs=reply.seqs, error=reply.error, replayed=reply.replayed))
        )

    async def attach(self, hub: Hub, last_seq: int | None) -> Room:
        """Join the session's room, then send the backlog. Joining first means events committed meanwhile wait
        in the outbox (the cursor drops whichever the backlog already had) instead of being missed."""
        room = self.room = await hub.join(channel_of(self.rt.stream_id), self)  # joins on the slow path
        try:
            await self.backlog(last_seq)
        except BaseException:
            hub.leave(room, self)
            raise
        self.live = True
        if self.outbox:
            self.writer = asyncio.create_task(self._drain())
        else:
            self._caught_up()
        return room

    async def detach(self, hub: Hub, room: Room) -> None:
        hub.leave(room, self)
        writer = self.writer
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    async def run(self, hub: Hub) -> None:
        hello = await self.hello()
        if hello is None:
            await self.socket.close(code=1008)
            return
        room = await self.attach(hub, hello.last_seq)
        try:
            await self.commands()
        except WebSocketDisconnect:
            pass
        finally:
            await self.detach(hub, room)


@websocket("/ws/sessions/{session_id:str}", name="session_socket", middleware=[expose_asgi])
async def session_socket(
    socket: WebSocket[Any, Any, Any],
    session_id: FromPath[str],
    services: NamedDependency[Services],
    hub: NamedDependency[Hub],
) -> None:
    await socket.accept()
    try:
        await Connection(socket, services, session_id).run(hub)
    except WebSocketDisconnect:
        return
