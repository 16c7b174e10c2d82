"""The public machine feed (docs/FEED.md): a JSON snapshot and a server-sent-event stream of the same picture.

Both are built by meeting/public_feed.py from the PUBLIC audience's view (the same events the public WebSocket
sends), so the feed is exactly as secret as the public page. The stream joins the session's room in the hub
(server/hub.py) like a public WebSocket does, so an event committed on any worker wakes it (Redis fan-out across
workers); each wake re-reads the view (single-flight, server/engine.py `refresh`) and sends the whole picture
again if it changed. A picture replaces the previous one, so a client that misses one loses nothing, and the
SSE `id` is the session's sequence number: a client resuming with `Last-Event-ID: k` gets nothing until the
public picture changes if no public event came after k, else the current picture at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.exc import SQLAlchemyError

from meeting.actors import Actor, Role
from meeting.errors import Code, DomainError
from meeting.public_feed import Feed, project
from meeting.session import SessionState
from meeting.votes import RoundStatus
from server.engine import Runtime, Unavailable, channel_of
from server.errors import ApiError, from_refusal, protocol_error
from server.hub import Fanned, Hub
from server.openapi import errors
from server.services import Services

log = logging.getLogger("kyhop.feed")

PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))

# A comment line this often keeps proxies (nginx's default proxy_read_timeout is 60 s) from closing a quiet
# stream, and lets the server notice a client that went away during a long break.
KEEPALIVE_SECONDS = 15.0
# How long a client waits before reconnecting after the stream drops (the SSE `retry` field), in ms.
RETRY_MS = 2000
# After a failed read of the database, the stream waits this long before it reads again.
UNAVAILABLE_RETRY_SECONDS = 1.0
# Sequence numbers fit comfortably in 15 digits (a session logs thousands of events, not 10^15); a longer
# Last-Event-ID is not one this server sent.
MAX_EVENT_ID = 10**15

_encoder = msgspec.json.Encoder()
TAGS = ["public"]
# "Cache-Control: no-store": a CDN or proxy must not serve a minute-old picture of a live vote.
NO_STORE = {"cache-control": "no-store"}


def _named_record(state: SessionState) -> dict[str, dict[str, str]]:
    """How each delegate voted in each closed named round: public record (it is in the minutes). A secret round's
    `choices` is never filled (meeting/votes.py), and the projection drops secret rounds again."""
    return {
        rid: dict(r.choices)
        for rid, r in state.votes.rounds.items()
        if not r.secret and r.status is RoundStatus.CLOSED and r.choices
    }


async def _runtime(services: Services, session_id: str) -> Runtime:
    try:
        rt: Runtime | None = await services.engine.existing("session", session_id)
    except Unavailable as e:
        raise protocol_error(503, "unavailable") from e
    if rt is None:
        raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id[:64]).refusal)
    return rt


class Picture(msgspec.Struct, frozen=True):
    """One built picture, shared by every stream and snapshot of the session at that sequence number."""

    seq: int
    feed: Feed
    data: str  # the feed's JSON, as an SSE `data` field carries it
    body: bytes  # the same without `seq` and `now`: equal bodies mean nothing the public sees changed


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# The newest picture per session stream: 1000 streams woken by one event build it once, not 1000 times (building
# and encoding a 40-round session's picture takes about a millisecond; at 4 progress reports a second, per
# stream, that was the whole worker).
_pictures_cache: dict[str, Picture] = {}


async def build(rt: Runtime) -> Picture:
    """The public picture as of the newest event (the view is current with the database on return)."""
    public, seq = await rt.view_state(PUBLIC)
    # No await since `view_state` returned: the full state is at the same sequence number as the public view.
    hit = _pictures_cache.get(rt.stream_id)
    if hit is not None and hit.seq == seq:
        return hit
    assert isinstance(public, SessionState)
    feed = project(public, seq, datetime.now(UTC), _named_record(rt.state))
    picture = Picture(
        seq=seq,
        feed=feed,
        data=_encoder.encode(feed).decode(),
        body=_encoder.encode(msgspec.structs.replace(feed, seq=0, now=_EPOCH)),
    )
    _pictures_cache[rt.stream_id] = picture
    return picture


@get(
    "/api/public/sessions/{session_id:str}/feed",
    summary="The public feed: the session's public picture now (JSON)",
    description="Current item, speaker and countdown, votes in progress (how many voted, never any option's "
    "count), announced results, agenda. Built from the public view: see docs/FEED.md.",
    tags=TAGS,
    cache_control=CacheControlHeader(no_store=True),
    responses=errors(400, 404, 503),
)
async def feed_snapshot(services: NamedDependency[Services], session_id: FromPath[str]) -> Feed:
    picture = await build(await _runtime(services, session_id))
    return msgspec.structs.replace(picture.feed, now=datetime.now(UTC))  # the cached picture, dated now


class _Waker:
    """The stream as the session's room sees it (server/hub.py `Listener`): each public event wakes it."""

    actor = PUBLIC

    def __init__(self) -> None:
        self.changed = asyncio.Event()

    async def offer(self, event: Fanned, follows: bool) -> None:
        if event.audience.admits(PUBLIC):
            self.changed.set()

    def resync(self, seq: int, handled: int | None) -> None:
        self.changed.set()  # the fan-out may have missed events: re-read the view


def _last_event_id(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_EVENT_ID)) or int(raw) > MAX_EVENT_ID:
        raise protocol_error(400, "malformed", "Last-Event-ID must be a sequence number this server sent")
    return int(raw)


def _unchanged_since(rt: Runtime, last: int) -> bool:
    """Whether no event the public may see came after `last` (so the client's picture is still current)."""
    if last > rt.seq:
        return False  # not a number of this log (a restored database?): send the picture
    cached = rt.events_after(last)
    return cached is not None and not any(c.audience.admits(PUBLIC) for c in cached)


class _Open:
    """How many feed streams this worker holds. Counted by the stream itself, from its first step to its end (a
    response never started never counts), so a burst of requests may pass the limit by the requests in flight."""

    streams = 0


async def _pictures(rt: Runtime, hub: Hub, last: int | None) -> AsyncGenerator[ServerSentEventMessage, None]:
    waker = _Waker()
    _Open.streams += 1
    try:
        room = await hub.join(channel_of(rt.stream_id), waker)
    except BaseException:
        _Open.streams -= 1
        raise
    try:
        room.fast(waker)  # offered only the events its audience (public) admits from now on
        # The body of the picture the client holds: None (nothing), or b"" (resumed: the picture at `last`, which
        # is the current one if no public event came after it — decided against the first picture read, as an
        # event may be committed while the stream starts).
        sent: bytes | None = None if last is None else b""
        while True:
            waker.changed.clear()  # before reading: an event committed during the read wakes the next round
            try:
                picture = await build(rt)
            except (Unavailable, SQLAlchemyError, OSError) as e:
                # The database is away for a moment: keep the stream (its client cannot tell a 503 from inside
                # a 200) and read again soon; the picture it has stays true until then.
                log.info("feed %s: %s; reading again in %.1f s", rt.stream_id, e, UNAVAILABLE_RETRY_SECONDS)
                await asyncio.sleep(UNAVAILABLE_RETRY_SECONDS)
                continue
            body = picture.body
            # No await since `build` returned: the runtime is at the picture's sequence number.
            resumed_unchanged = sent == b"" and last is not None and _unchanged_since(rt, last)
            if not resumed_unchanged and body != sent:
                yield ServerSentEventMessage(data=picture.data, event="feed", id=str(picture.seq))
            sent = body
            try:
                await asyncio.wait_for(waker.changed.wait(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keepalive")
    finally:
        _Open.streams -= 1
        hub.leave(room, waker)


NOT_ACCEPTABLE = (
    "Luồng trực tiếp cần tiêu đề Accept: text/event-stream (EventSource gửi sẵn); ảnh chụp JSON ở …/feed.",
    "The live stream needs the header Accept: text/event-stream (EventSource sends it); the JSON picture is at …/feed.",
)


@get(
    "/api/public/sessions/{session_id:str}/feed/stream",
    summary="The public feed as server-sent events (text/event-stream)",
    description="Event `feed`, data: the same JSON as GET …/feed, id: its sequence number. Sent at once, then "
    "whenever the public picture changes; resume with `Last-Event-ID`. Requires `Accept: text/event-stream`. "
    "See docs/FEED.md.",
    tags=TAGS,
    media_type="text/event-stream",
    responses=errors(400, 404, 406, 503),
)
async def feed_stream(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    hub: NamedDependency[Hub],
    session_id: FromPath[str],
) -> ServerSentEvent:
    # Checked first: a client that cannot read an endless stream (a plain GET, a crawler, a fuzzer) must get an
    # answer, not a connection held open for hours.
    if "text/event-stream" not in request.headers.get("accept", ""):
        raise ApiError(406, "not_acceptable", *NOT_ACCEPTABLE)
    last = _last_event_id(request)
    rt = await _runtime(services, session_id)
    if _Open.streams >= services.settings.limits.feed_streams:
        raise protocol_error(503, "unavailable", "too many live feed streams on this server: read …/feed instead")
    return ServerSentEvent(_pictures(rt, hub, last), retry_duration=RETRY_MS, headers=NO_STORE)


ROUTES = [feed_snapshot, feed_stream]
