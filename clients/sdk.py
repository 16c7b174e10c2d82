"""The Python client: sign in, connect to a session, resume, send commands, receive typed events.

Built on the `websockets` library. The client keeps the session as its owner may see it: it starts from the
server's snapshot (or from where it left off) and applies each event with the domain's own `apply`, so
`client.state` is always the same object a fresh snapshot would give. It reconnects by itself with
exponential back-off and resumes from the last sequence number it saw; commands still waiting for an answer
are re-sent with the same id, which the server answers without doing them twice.

    token = await sign_in("http://127.0.0.1:8000", "daibieu07", "…")
    async with SessionClient("ws://127.0.0.1:8000", "ky-hop-4", token) as c:
        await c.send(votes.CastBallot(round_id="bq-1", delegate_id="db007", option="yes"))

A verifiable secret round takes an encrypted ballot instead, made from the state the client keeps; a committee
member's device runs the key ceremony and decrypts the total with `clients.ballots.CommitteeMember`:

        await c.send(clients.ballots.encrypt_vote(c.state, "bq-2", "db007", "yes"))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection, connect

from meeting import session
from meeting.messages import Command, Event
from meeting.protocol import ErrorMessage, EventMessage, Hello, Result, SendCommand, ServerMessage, Snapshot, Welcome

_decoder = msgspec.json.Decoder(ServerMessage)
_encoder = msgspec.json.Encoder()


class ClientError(Exception):
    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en} / {message_vi}")
        self.code, self.message_vi, self.message_en = code, message_vi, message_en


def _post_json(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            out: dict[str, Any] = json.loads(resp.read() or b"{}")
            return out
    except urllib.error.HTTPError as e:
        err = json.loads(e.read() or b"{}")
        raise ClientError(err.get("code", str(e.code)), err.get("message_vi", ""), err.get("message_en", "")) from e


async def sign_in(http_base: str, username: str, password: str) -> str:
    """A bearer token for the account (tablets keep it: it lasts 30 days unless revoked)."""
    out = await asyncio.to_thread(
        _post_json, f"{http_base}/api/auth/login", {"username": username, "password": password}
    )
    token: str = out["token"]
    return token


class SessionClient:
    def __init__(
        self,
        ws_base: str,
        session_id: str,
        token: str | None = None,
        *,
        on_event: Callable[[int, Event], None] | None = None,
        reconnect: bool = True,
        max_backoff: float = 5.0,
    ) -> None:
        self.url = f"{ws_base}/ws/sessions/{session_id}"
        self.session_id = session_id
        self.token = token
        self.on_event = on_event
        self.reconnect = reconnect
        self.max_backoff = max_backoff
        self.state: session.SessionState | None = None
        self.last_seq: int | None = None
        self.welcome: Welcome | None = None
        self.events: list[tuple[int, Event]] = []  # every event received, in order (tests compare these)
        self.errors: list[ErrorMessage] = []
        self.connects = 0
        self.duplicates = 0
        self._ws: ClientConnection | None = None
        self._pending: dict[str, tuple[SendCommand, asyncio.Future[Result]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closed = False
        self._seq_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._tasks: set[asyncio.Future[None]] = set()

    async def __aenter__(self) -> SessionClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- connection ------------------------------------------------------------------------------------------
    async def connect(self) -> None:
        await self._open()
        self._reader = asyncio.create_task(self._run())

    async def _open(self) -> None:
        self._ready.clear()
        ws = await connect(self.url, compression=None, max_size=16 * 1024 * 1024, open_timeout=10)
        try:
            await ws.send(_encoder.encode(Hello(token=self.token, last_seq=self.last_seq)).decode())
            first = _decoder.decode(await ws.recv())
        except BaseException:
            await ws.close()
            raise
        if isinstance(first, ErrorMessage):
            await ws.close()
            raise ClientError(first.code, first.message_vi, first.message_en)
        assert isinstance(first, Welcome), first
        self.welcome = first
        self._ws = ws
        self.connects += 1
        if first.resumed:
            self._ready.set()
        # Commands that were waiting when the previous connection dropped: same ids, answered once.
        for cmd, _ in list(self._pending.values()):
            await ws.send(_encoder.encode(cmd).decode())

    async def _run(self) -> None:
        backoff = 0.05
        while not self._closed:
            ws = self._ws
            assert ws is not None
            try:
                async for raw in ws:
                    self._handle(_decoder.decode(raw))
                    backoff = 0.05
            except websockets.ConnectionClosed:
                pass
            if self._closed or not self.reconnect:
                break
            while not self._closed:
                # Jittered exponential back-off so 1000 tablets do not return in the same millisecond.
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(self.max_backoff, backoff * 2)
                try:
                    await self._open()
                except (OSError, websockets.WebSocketException, ClientError, TimeoutError):
                    continue
                if self._closed and self._ws is not None:
                    await self._ws.close()  # close() was called while this socket was opening
                break
        for _, fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("closed"))

    def _handle(self, msg: Any) -> None:
        if isinstance(msg, EventMessage):
            if self.last_seq is not None and msg.seq <= self.last_seq:
                self.duplicates += 1  # must never happen; counted so tests can assert it stays 0
                return
            self.state = session.apply(self.state, msg.event)
            self.last_seq = msg.seq
            self.events.append((msg.seq, msg.event))
            if self.on_event:
                self.on_event(msg.seq, msg.event)
        elif isinstance(msg, Snapshot):
            self.state = msgspec.convert(msg.state, session.SessionState) if msg.state else None
            self.last_seq = msg.seq
            self._ready.set()
        elif isinstance(msg, Result):
            item = self._pending.pop(msg.id, None)
            if item and not item[1].done():
                item[1].set_result(msg)
        elif isinstance(msg, ErrorMessage):
            self.errors.append(msg)
            if msg.id and msg.id in self._pending:
                if msg.code == "unavailable":
                    # Nothing was done: send the same command again (same id, so never twice) after a pause.
                    asyncio.get_running_loop().call_later(0.2 + random.random() * 0.3, self._resend, msg.id)
                else:
                    _, fut = self._pending.pop(msg.id)
                    if not fut.done():
                        fut.set_exception(ClientError(msg.code, msg.message_vi, msg.message_en))
        if self.last_seq is not None:
            for target, waiter in list(self._seq_waiters):
                if self.last_seq >= target and not waiter.done():
                    waiter.set_result(None)
            self._seq_waiters = [(t, w) for t, w in self._seq_waiters if not w.done()]
        if isinstance(msg, EventMessage | Snapshot):
            self._ready.set()

    def _resend(self, cid: str) -> None:
        item = self._pending.get(cid)
        if item is None or self._ws is None or self._closed:
            return
        ws, text = self._ws, _encoder.encode(item[0]).decode()

        async def go() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await ws.send(text)

        task = asyncio.ensure_future(go())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def ready(self) -> None:
        await self._ready.wait()

    async def wait_seq(self, seq: int, timeout: float = 10.0) -> None:
        """Wait until the client has seen everything up to `seq` (visible or not: the cursor moves anyway
        only with events it receives, so wait for a seq this client can see)."""
        if self.last_seq is not None and self.last_seq >= seq:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq_waiters.append((seq, fut))
        await asyncio.wait_for(fut, timeout)

    # --- commands --------------------------------------------------------------------------------------------
    async def send(self, command: Command, *, id: str | None = None, timeout: float = 30.0) -> Result:
        """Send a command and wait for its result. Raises ClientError when it is refused."""
        result = await self.request(command, id=id, timeout=timeout)
        if not result.ok:
            assert result.error is not None
            raise ClientError(result.error.code, result.error.message_vi, result.error.message_en)
        return result

    async def request(self, command: Command, *, id: str | None = None, timeout: float = 30.0) -> Result:
        """Send a command and return its result, accepted or refused."""
        cid = id or uuid.uuid4().hex
        msg = SendCommand(id=cid, command=command)
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending[cid] = (msg, fut)
        if self._ws is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._ws.send(_encoder.encode(msg).decode())
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            # Given up: never re-send it on a later reconnect behind the caller's back.
            self._pending.pop(cid, None)
            raise

    async def send_raw(self, text: str | bytes) -> None:
        """For tests of bad input: send anything."""
        assert self._ws is not None
        await self._ws.send(text)

    async def drop(self) -> None:
        """Close the socket without telling the client loop (simulates a network drop; it reconnects)."""
        if self._ws is not None:
            await self._ws.close()

    async def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
