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
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath
from sqlalchemy.exc import SQLAlchemyError

from meeting.actors import Actor, Audience, Role
from meeting.errors import Code, DomainError
from meeting.protocol import ClientMessage, ErrorMessage, Hello, Result, SendCommand, Welcome
from server.auth import Principal, principal_from_token
from server.engine import Cached, FanoutHeader, Runtime, Unavailable, channel_of
from server.errors import PROTOCOL_ERRORS, ApiError
from server.fanout import parse_resync
from server.services import Services

log = logging.getLogger("kyhop.ws")

_client_decoder = msgspec.json.Decoder(ClientMessage)
_header_decoder = msgspec.json.Decoder(FanoutHeader)
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


# Commands re-check the token when the last check is older than this: a revoked tablet is cut off within 2 s,
# and a burst of ballots does not cost one account lookup each.
REVALIDATE_SECONDS = 2.0


# Shared by every socket of the worker: 500 tablets voting at once re-check their tokens with at most one
# account lookup per token per REVALIDATE_SECONDS (measured: per-socket lookups were 17 % of the server's time
# at 5000 ballots/s and overflowed the database pool).
_checked: dict[str, tuple[Principal, float]] = {}
_CHECKED_MAX = 20_000


async def _revalidate(services: Services, token: str) -> Principal:
    now = time.monotonic()
    hit = _checked.get(token)
    if hit is not None and now - hit[1] <= REVALIDATE_SECONDS:
        return hit[0]
    principal = await principal_from_token(services, token)
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
    _checked[token] = (principal, time.monotonic())
    return principal


class _IdOnly(msgspec.Struct):
    id: str | None = None


_id_decoder = msgspec.json.Decoder(_IdOnly)


def _guess_id(raw: str) -> str | None:
    """The command id of a message we refuse before parsing it, so the client knows which command it was."""
    try:
        cid = _id_decoder.decode(raw).id
    except (msgspec.DecodeError, UnicodeError):
        return None
    return cid if cid is not None and len(cid) <= 100 else None


class _FanoutCache:
    """Every socket of a session receives the same bytes object for an event; the first one to look parses its
    header, builds the audience and decodes the text, the other 999 reuse them (measured: parsing per socket
    was most of the per-socket cost of a broadcast)."""

    def __init__(self) -> None:
        self.raw: bytes | None = None
        self.value: tuple[int, Audience, str] = (0, Audience(), "")

    def parse(self, raw: bytes) -> tuple[int, Audience, str]:
        if raw is not self.raw:
            head, _, wire = raw.partition(b"\n")
            h = _header_decoder.decode(head)
            audience = Audience(
                roles=frozenset(Role(r) for r in h.roles), delegate_id=h.delegate_id, members=frozenset(h.members)
            )
            self.raw, self.value = raw, (h.seq, audience, wire.decode())
        return self.value


_fanout = _FanoutCache()


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
    def __init__(self, socket: WebSocket[Any, Any, Any], services: Services, channels: ChannelsPlugin, sid: str):
        self.socket = socket
        self.services = services
        self.channels = channels
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

    @property
    def rt(self) -> Runtime:
        assert self._rt is not None, "set by a successful hello"
        return self._rt

    async def send(self, data: bytes) -> None:
        await self.send_text(data.decode())

    async def send_text(self, text: str) -> None:
        async with self.send_lock:
            await self.socket.send_data(text, mode="text")

    def admits(self, audience: Audience) -> bool:
        return audience.admits(self.actor)

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
                p = await principal_from_token(self.services, msg.token)
            except ApiError as e:
                await self.send(_error(e.body.code))
                return None
            except (SQLAlchemyError, OSError):
                await self.send(_error("unavailable"))
                return None
            self.principal, self.actor = p, p.actor
            self.token, self.checked_at = msg.token, time.monotonic()
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
            if self.admits(c.audience):
                await self.send_text(c.text)
            self.cursor = c.seq

    # --- live ----------------------------------------------------------------------------------------------
    async def pump(self, subscriber: Any) -> None:
        async for raw in subscriber.iter_events():
            marker = parse_resync(raw)
            if marker is not None:  # the fan-out may have missed events: whatever it missed is in the log
                if 0 <= marker <= self.cursor:
                    continue
                await self.rt.refresh()
                missed = self.rt.events_after(self.cursor)
                if missed is None:
                    await self.fill_gap(self.rt.seq + 1)
                elif missed:
                    await self.deliver(missed)
                continue
            seq, audience, text = _fanout.parse(raw)
            if seq <= self.cursor:
                continue
            if seq > self.cursor + 1:
                await self.fill_gap(seq)
                if seq <= self.cursor:
                    continue
            if self.admits(audience):
                await self.send_text(text)
            self.cursor = seq

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
        if not msg.id or len(msg.id) > 100:
            await self.send(_error("malformed", detail="id must be 1-100 characters"))
            return
        if isinstance(self.principal, Anonymous):
            refusal = DomainError(Code.FORBIDDEN).refusal
            await self.send(_encoder.encode(Result(id=msg.id, ok=False, error=refusal)))
            return
        if time.monotonic() - self.checked_at > REVALIDATE_SECONDS:
            # A revoked token or a disabled account stops working on an open socket too (a lost tablet).
            try:
                self.principal = await _revalidate(self.services, self.token)
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

    async def run(self) -> None:
        hello = await self.hello()
        if hello is None:
            await self.socket.close(code=1008)
            return
        async with self.channels.start_subscription([channel_of(self.rt.stream_id)]) as subscriber:
            await self.backlog(hello.last_seq)
            pump = asyncio.create_task(self.pump(subscriber))
            try:
                await self.commands()
            except WebSocketDisconnect:
                pass
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump


@websocket("/ws/sessions/{session_id:str}", name="session_socket")
async def session_socket(
    socket: WebSocket[Any, Any, Any],
    session_id: FromPath[str],
    services: NamedDependency[Services],
    channels: NamedDependency[ChannelsPlugin],
) -> None:
    await socket.accept()
    try:
        await Connection(socket, services, channels, session_id).run()
    except WebSocketDisconnect:
        return
