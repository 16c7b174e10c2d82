"""A cheap WebSocket tablet for the load generator: thousands per process, one core.

Transport: picows (Cython, a few µs per frame) when installed (`pip install -e '.[bench]'`), else the `websockets`
sans-I/O protocol on a plain asyncio.Protocol (no task per connection, no asyncio client machinery). The
`websockets` asyncio client costs too much at 5000 connections (~640 ms p99 time-to-last, FIELD-NOTES).

Protocol: the Kỳ họp session protocol (meeting/protocol.py), which bench/baseline_server.py also speaks:
hello → welcome → snapshot | events → live events; command → result. Only the fields the benchmarks need are
decoded (msgspec skips the rest). Every event's sequence number is checked: a number at or below the last one
is counted as a duplicate; `seqs` keeps every number received (for the no-gap checks) when `keep_seqs` is set.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any, cast

import msgspec

try:  # the fast transport, from the `bench` extra
    import picows

    HAVE_PICOWS = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_PICOWS = False

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri


class Ev(msgspec.Struct):
    type: str
    round_id: str | None = None
    delegate_id: str | None = None
    seq: int | None = None  # the baseline's payload carries its own marker here


class Msg(msgspec.Struct):
    type: str
    seq: int | None = None
    event: Ev | None = None
    id: str | None = None
    ok: bool | None = None
    seqs: list[int] | None = None
    resumed: bool | None = None
    replayed: bool | None = None
    code: str | None = None
    message_vi: str | None = None
    message_en: str | None = None
    error: Any = None


_decode = msgspec.json.Decoder(Msg).decode
_encode = msgspec.json.Encoder().encode
_ids = itertools.count(1)

RETRYABLE: tuple[type[BaseException], ...] = (OSError, ConnectionError, TimeoutError) + (
    (picows.WSError,) if HAVE_PICOWS else ()
)

EventHook = Callable[["Tablet", int, Ev, float], None]


class ServerError(Exception):
    pass


class Tablet:
    """One connection speaking the session protocol. Not thread-safe; one event loop."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        on_event: EventHook | None = None,
        keep_seqs: bool = False,
        transport: str = "auto",
    ) -> None:
        self.url = url
        self.token = token
        self.on_event = on_event
        self.keep_seqs = keep_seqs
        self.kind = ("picows" if HAVE_PICOWS else "sansio") if transport == "auto" else transport
        self.last_seq: int | None = None
        self.snapshot_seq: int | None = None
        self.seqs: list[int] = []
        self.duplicates = 0
        self.errors: list[Msg] = []
        self.welcome: Msg | None = None
        self.connected = False
        self.pong_at: float | None = None
        self._conn: Any = None
        self._ready: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._pending: dict[str, list[asyncio.Future[Msg]]] = {}  # a retry reuses its id: answers in order
        self._ping_waiter: asyncio.Future[float] | None = None
        self._ping_sent = 0.0
        # The server allows 20 commands/s per socket (burst 40); a chair opening and closing votes back to back
        # would hit that, so scenarios set min_interval for it and call pace() before timing a command.
        self.min_interval = 0.0
        self._last_command = 0.0

    # --- connection ---------------------------------------------------------------------------------------------
    async def connect(self, last_seq: int | None = None, timeout: float = 60.0) -> None:
        """Open, send hello, and wait for the snapshot (or the welcome of a resume)."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._closed = loop.create_future()
        self.welcome = None
        if last_seq is not None:
            self.last_seq = last_seq
        if self.kind == "picows":
            self._conn = await _open_picows(self)
        else:
            self._conn = await _open_sansio(self, loop)
        self.connected = True
        self.send({"type": "hello", "token": self.token, "last_seq": last_seq})
        await asyncio.wait_for(self._ready, timeout)

    def send(self, obj: Any) -> None:
        self._conn.send_text(obj if isinstance(obj, bytes) else _encode(obj))

    def ping(self) -> asyncio.Future[float]:
        """Send a WebSocket ping; the future gets the round trip in seconds."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[float] = loop.create_future()
        self._ping_waiter = fut
        self._ping_sent = time.perf_counter()
        self._conn.send_ping()
        return fut

    def abort(self) -> None:
        """Drop the TCP connection without a close handshake (a tablet losing Wi-Fi)."""
        if self._conn is not None:
            self._conn.abort()

    async def close(self) -> None:
        if self._conn is not None and self.connected:
            self._conn.close()
            if self._closed is not None:
                with _suppress_timeout():
                    await asyncio.wait_for(asyncio.shield(self._closed), 5)

    async def wait_closed(self, timeout: float = 10.0) -> None:
        if self._closed is not None and self.connected:
            await asyncio.wait_for(asyncio.shield(self._closed), timeout)

    # --- commands -----------------------------------------------------------------------------------------------
    def command(self, command: dict[str, Any], cid: str | None = None) -> asyncio.Future[Msg]:
        cid = cid or f"b{next(_ids)}"
        fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(cid, []).append(fut)
        self._last_command = time.perf_counter()
        self.send({"type": "command", "id": cid, "command": command})
        return fut

    async def pace(self) -> None:
        """Wait until `min_interval` has passed since this tablet's previous command."""
        wait = self._last_command + self.min_interval - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)

    async def run(self, command: dict[str, Any], timeout: float = 60.0) -> Msg:
        """Send a command (paced) and wait for an accepted result (raises on a refusal)."""
        await self.pace()
        res = await asyncio.wait_for(self.command(command), timeout)
        if not res.ok:
            raise ServerError(f"{command.get('type')}: {res.error or res.code}")
        return res

    # --- inbound ------------------------------------------------------------------------------------------------
    def on_message(self, data: bytes) -> None:
        t = time.perf_counter()
        m = _decode(data)
        kind = m.type
        if kind == "event":
            seq = m.seq
            assert seq is not None and m.event is not None
            if self.last_seq is not None and seq <= self.last_seq:
                self.duplicates += 1
                return
            self.last_seq = seq
            if self.keep_seqs:
                self.seqs.append(seq)
            if self.on_event is not None:
                self.on_event(self, seq, m.event, t)
        elif kind == "result":
            self._answer(m)
        elif kind == "snapshot":
            self.last_seq = self.snapshot_seq = m.seq
            self._set_ready()
        elif kind == "welcome":
            self.welcome = m
            if m.resumed:
                self._set_ready()
        elif kind == "error":
            self.errors.append(m)
            self._answer(m)
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(ServerError(f"{m.code}: {m.message_en} / {m.message_vi}"))

    def _answer(self, m: Msg) -> None:
        waiting = self._pending.get(m.id or "")
        if not waiting:
            return
        fut = waiting.pop(0)
        if not waiting:
            del self._pending[m.id or ""]
        if not fut.done():
            fut.set_result(m)

    def _set_ready(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    def on_pong(self) -> None:
        w = self._ping_waiter
        if w is not None and not w.done():
            w.set_result(time.perf_counter() - self._ping_sent)

    def on_disconnected(self) -> None:
        self.connected = False
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ConnectionError("closed before ready"))
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        for futs in self._pending.values():
            for fut in futs:
                if not fut.done():
                    fut.set_exception(ConnectionError("closed"))
        self._pending.clear()


class _suppress_timeout:
    def __enter__(self) -> None:
        return None

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: object) -> bool:
        return t is not None and issubclass(t, TimeoutError)


# --- picows ------------------------------------------------------------------------------------------------------
class _PicoConn:
    def __init__(self, transport: Any) -> None:
        self.t = transport

    def send_text(self, data: bytes) -> None:
        self.t.send(picows.WSMsgType.TEXT, data)

    def send_ping(self) -> None:
        self.t.send_ping()

    def abort(self) -> None:
        self.t.disconnect(graceful=False)

    def close(self) -> None:
        self.t.send_close(picows.WSCloseCode.OK)
        self.t.disconnect()


async def _open_picows(tablet: Tablet) -> _PicoConn:
    text, ping, pong, close = (
        picows.WSMsgType.TEXT,
        picows.WSMsgType.PING,
        picows.WSMsgType.PONG,
        picows.WSMsgType.CLOSE,
    )

    class Listener(picows.WSListener):
        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            t = frame.msg_type
            if t == text:
                if not frame.fin:
                    raise ServerError("fragmented message: not expected from these servers")
                tablet.on_message(frame.get_payload_as_bytes())
            elif t == pong:
                tablet.on_pong()
            elif t == ping:
                transport.send_pong(frame.get_payload_as_bytes())
            elif t == close:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def on_ws_disconnected(self, transport: Any) -> None:
            tablet.on_disconnected()

    transport, _ = await picows.ws_connect(
        Listener,
        tablet.url,
        enable_auto_pong=False,
        max_frame_size=64 * 1024 * 1024,
        read_buffer_init_size=4096,
        websocket_handshake_timeout=60,
    )
    return _PicoConn(transport)


# --- websockets sans-I/O -------------------------------------------------------------------------------------------
class _SansIO(asyncio.Protocol):
    def __init__(self, tablet: Tablet, url: str, opened: asyncio.Future[None]) -> None:
        self.tablet = tablet
        self.proto = ClientProtocol(parse_uri(url), max_size=None)
        self.opened = opened
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport has the asyncio.Transport methods but is not a subclass of it.
        self.transport = cast(asyncio.Transport, transport)
        self.proto.send_request(self.proto.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        for ev in self.proto.events_received():
            if isinstance(ev, Response):
                if self.proto.handshake_exc is not None:
                    if not self.opened.done():
                        self.opened.set_exception(self.proto.handshake_exc)
                elif not self.opened.done():
                    self.opened.set_result(None)
            elif isinstance(ev, Frame):
                if ev.opcode is Opcode.TEXT or ev.opcode is Opcode.BINARY:
                    if not ev.fin:
                        raise ServerError("fragmented message: not expected from these servers")
                    self.tablet.on_message(bytes(ev.data))
                elif ev.opcode is Opcode.PONG:
                    self.tablet.on_pong()
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        for chunk in self.proto.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        self.tablet.on_disconnected()

    # the connection interface
    def send_text(self, data: bytes) -> None:
        self.proto.send_text(data)
        self._flush()

    def send_ping(self) -> None:
        self.proto.send_ping(b"hb")
        self._flush()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.proto.send_close(1000)
        self._flush()


async def _open_sansio(tablet: Tablet, loop: asyncio.AbstractEventLoop) -> _SansIO:
    uri = parse_uri(tablet.url)
    opened: asyncio.Future[None] = loop.create_future()
    _, proto = await loop.create_connection(lambda: _SansIO(tablet, tablet.url, opened), uri.host, uri.port)
    await asyncio.wait_for(opened, 60)
    return proto


async def connect_many(
    url: str,
    n: int,
    *,
    token: str | None = None,
    on_event: EventHook | None = None,
    keep_seqs: bool = False,
    concurrency: int = 200,
) -> list[Tablet]:
    """`n` tablets, connected and past their snapshot, at most `concurrency` handshakes in flight."""
    tablets = [Tablet(url, token, on_event=on_event, keep_seqs=keep_seqs) for _ in range(n)]
    sem = asyncio.Semaphore(concurrency)

    async def one(t: Tablet) -> None:
        async with sem:
            for attempt in range(5):
                try:
                    await t.connect()
                    return
                except RETRYABLE:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))

    await asyncio.gather(*(one(t) for t in tablets))
    return tablets


async def close_all(tablets: list[Tablet]) -> None:
    for t in tablets:
        t.abort()
    await asyncio.sleep(0)
