"""The public machine feed (docs/FEED.md) against a real server: the JSON snapshot and the server-sent-event stream
(httpx streaming), through a session with a named and a secret vote — in order, as secret as the public page,
resumable with Last-Event-ID — and bad input answered with a bilingual 4xx, never a 5xx."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from meeting import script
from meeting import session as sess
from tests.e2e import ServerProcess, until
from tests.public_session import ITEM, ITEM2, NAMED, NAMED_BALLOTS, SECRET, SECRET_BALLOTS, SESSION, Driver
from tests.services import PostgresServer, RedisServer
from tests.test_multiworker import _fresh_database

FEED = f"/api/public/sessions/{SESSION}/feed"
STREAM = f"{FEED}/stream"
SSE = {"accept": "text/event-stream"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        yield srv


class Listener:
    """One SSE connection read in the background: every `feed` event's id and data, in arrival order."""

    def __init__(self, base: str, last_event_id: str | None = None) -> None:
        self.base = base
        self.headers = dict(SSE) | ({"last-event-id": last_event_id} if last_event_id is not None else {})
        self.events: list[tuple[int, dict[str, Any], str]] = []  # (id, parsed data, raw data)
        self.retry: int | None = None
        self.comments = 0
        self.status = 0
        self.content_type = ""
        self.task: asyncio.Task[None] | None = None
        self.opened = asyncio.Event()

    async def _run(self) -> None:
        async with (
            httpx.AsyncClient(base_url=self.base, timeout=httpx.Timeout(30, read=None)) as client,
            client.stream("GET", STREAM, headers=self.headers) as r,
        ):
            self.status, self.content_type = r.status_code, r.headers.get("content-type", "")
            self.opened.set()
            fields: dict[str, str] = {}
            async for line in r.aiter_lines():
                if line == "":
                    if fields.get("event") == "feed":
                        self.events.append((int(fields["id"]), json.loads(fields["data"]), fields["data"]))
                    fields = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "retry":
                        self.retry = int(value)
                    else:
                        fields[name] = fields.get(name, "") + value if name != "data" else value

    async def __aenter__(self) -> Listener:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.opened.wait(), 30)
        return self

    async def __aexit__(self, t: type[BaseException] | None, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        # A failure in the test body is the one to report, not the stream's end that may have caused it.
        with contextlib.suppress(asyncio.CancelledError, *((Exception,) if t is not None else ())):
            await self.task

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1][1]

    async def wait(self, what: str, check: Any, timeout: float = 20.0) -> dict[str, Any]:
        await until(lambda: bool(self.events) and check(self.last), timeout, what)
        return self.last


@pytest.fixture
async def driver(server: ServerProcess) -> AsyncIterator[Driver]:
    yield Driver(server)


def _snapshot(server: ServerProcess) -> dict[str, Any]:
    r = httpx.get(server.http + FEED, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "no-store" in r.headers.get("cache-control", "")
    body: dict[str, Any] = r.json()
    return body


def _no_counts(feed: dict[str, Any]) -> None:
    """Nothing in a picture gives an option's count or a voter's choice for a round that is not closed."""
    for v in feed["votes"]:
        assert set(v) == {
            "round_id",
            "item_id",
            "motion",
            "secret",
            "paper",
            "status",
            "ballots_cast",
            "eligible",
            "opened_at",
            "closes_at",
            "mode",
        }
        assert v["mode"] in ("sealed", "verifiable")  # how it is counted, never a count
    assert "tally" not in json.dumps(feed)
    for r in feed["results"]:
        assert not r["choices"] or (r["round_id"] == NAMED and not r["secret"]), r["round_id"]  # roll calls: named only


async def test_the_feed_through_a_session(server: ServerProcess, driver: Driver) -> None:
    first = _snapshot(server)
    assert first["session_id"] == SESSION and first["status"] == "prepared" and first["status_vi"] == "chuẩn bị"
    assert first["current_item"] is None and first["speaker"] is None and first["results"] == []
    assert [i["number"] for i in first["agenda"]] == list(range(1, len(first["agenda"]) + 1))

    async with Listener(server.http) as sse:
        assert sse.status == 200 and sse.content_type.startswith("text/event-stream")
        await sse.wait("the first picture", lambda f: f["status"] == "prepared")
        assert sse.retry == 2000

        await driver.open_session()
        await driver.move(ITEM)
        feed = await sse.wait("the item", lambda f: f["current_item"] is not None)
        assert feed["status"] == "in_progress" and feed["present"] == 40 and feed["total"] == 50
        assert feed["current_item"]["id"] == ITEM and feed["current_item"]["status"] == "current"

        await driver.speech(7, seconds=180)
        feed = await sse.wait("the speaker", lambda f: f["speaker"] is not None)
        sp = feed["speaker"]
        assert sp["name"] == script.delegate_name(7) and sp["kind_vi"] == "Phát biểu" and sp["seconds"] == 180
        assert sp["ends_at"] > sp["started_at"]
        await driver.end_speech()
        await sse.wait("the end of the speech", lambda f: f["speaker"] is None)

        # --- a named vote: while open only how many voted; after close the roll call by name
        await driver.vote(NAMED, ITEM, "Thông qua Nghị quyết dự toán ngân sách 2027", NAMED_BALLOTS, secret=False)
        feed = await sse.wait(
            "the named round's progress", lambda f: f["votes"] and f["votes"][0]["ballots_cast"] == 37
        )
        _no_counts(feed)
        await driver.close(NAMED)
        feed = await sse.wait("the named result", lambda f: any(r["round_id"] == NAMED for r in f["results"]))
        named = next(r for r in feed["results"] if r["round_id"] == NAMED)
        assert named["passed"] and not named["secret"] and named["announced_at"] is None
        assert [(o["key"], o["count"]) for o in named["options"]] == [("yes", 30), ("no", 5), ("abstain", 2)]
        assert named["needed"] == 26 and named["pass_rule_vi"] == "quá nửa tổng số đại biểu"
        roll = {c["delegate_id"]: c["option"] for c in named["choices"]}
        assert roll == {script.delegate_id(i): o for i, o in NAMED_BALLOTS.items()}
        assert {c["name"] for c in named["choices"]} >= {script.delegate_name(1), script.delegate_name(37)}
        await driver.announce(NAMED)
        feed = await sse.wait("the announcement", lambda f: f["results"][0]["announced_at"] is not None)

        # --- a secret vote: never a count before the result, never who voted what
        await driver.move(ITEM2)
        await driver.vote(SECRET, ITEM2, "Thông qua Nghị quyết đầu tư công", SECRET_BALLOTS, secret=True)
        feed = await sse.wait(
            "the secret round's progress", lambda f: f["votes"] and f["votes"][0]["ballots_cast"] == 35
        )
        assert feed["votes"][0]["secret"] is True
        _no_counts(feed)
        await driver.close(SECRET)
        feed = await sse.wait("the count awaiting certification", lambda f: f["votes"][0]["status"] == "counted")
        _no_counts(feed)  # the committee sees the count now; the public does not, until it is certified
        await driver.certify(SECRET)
        feed = await sse.wait("the secret result", lambda f: any(r["round_id"] == SECRET for r in f["results"]))
        secret = next(r for r in feed["results"] if r["round_id"] == SECRET)
        assert secret["secret"] and not secret["passed"] and secret["choices"] == []
        assert [(o["key"], o["count"]) for o in secret["options"]] == [("yes", 20), ("no", 15), ("abstain", 0)]

        # --- a suspension shows its reason; the closed session has no item, and its results
        await driver.suspend("Nghỉ giải lao 15 phút")
        feed = await sse.wait("the suspension", lambda f: f["status"] == "suspended")
        assert feed["suspension_reason"] == "Nghỉ giải lao 15 phút" and feed["status_vi"] == "tạm dừng"
        await driver.resume()
        feed = await sse.wait("the resumption", lambda f: f["status"] == "in_progress")
        assert feed["suspension_reason"] == ""
        await driver.close_session()
        feed = await sse.wait("the close", lambda f: f["status"] == "closed")
        assert feed["status_vi"] == "đã bế mạc" and feed["current_item"] is None and feed["speaker"] is None
        assert [r["round_id"] for r in feed["results"]] == [NAMED, SECRET]

    # In order, each picture once, ids = the session's sequence numbers, no two pictures alike in a row.
    ids = [i for i, _, _ in sse.events]
    assert ids == sorted(set(ids)), ids
    assert all(data["seq"] == i for i, data, _ in sse.events)
    for (_, a, _), (_, b, _) in zip(sse.events, sse.events[1:], strict=False):
        assert {**a, "seq": 0, "now": ""} != {**b, "seq": 0, "now": ""}
    # No picture ever paired a delegate with a secret choice, or counted an open round's options.
    for _, data, raw in sse.events:
        _no_counts(data)
        for r in data["results"]:
            if r["secret"]:
                assert r["choices"] == []
        assert "SecretBallot" not in raw and "secret_ballot" not in raw
    assert _snapshot(server) | {"now": ""} == feed | {"now": ""}  # the snapshot is the stream's last picture


async def test_resume_with_last_event_id() -> None:
    with ServerProcess() as srv:
        driver = Driver(srv)
        await driver.arun("vanphong", sess.OpenCheckIn())
        seq = _snapshot(srv)["seq"]
        # Behind by public events: the current picture at once.
        async with Listener(srv.http, last_event_id="1") as sse:
            feed = await sse.wait("the picture", lambda f: f["seq"] == seq)
            assert feed["status"] == "checkin_open"
        # Up to date: nothing until the public picture changes, then the new one (and only it).
        async with Listener(srv.http, last_event_id=str(seq)) as sse:
            await driver.arun("vanphong", sess.CheckIn(delegate_id=script.delegate_id(5)))
            feed = await sse.wait("the change", lambda f: f["present"] == 1)
            assert [i for i, _, _ in sse.events] == [feed["seq"]] and feed["seq"] > seq
        # Ahead of the log (not a number this server sent, e.g. after a restore): the picture, at once.
        async with Listener(srv.http, last_event_id=str(10**12)) as sse:
            await sse.wait("the picture", lambda f: f["present"] == 1)


async def test_an_unknown_session_is_one_clear_404(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as c:
        for path, headers in (
            ("/api/public/sessions/khong-co/feed", {}),
            ("/api/public/sessions/khong-co/feed/stream", SSE),
        ):
            r = await c.get(path, headers=headers)
            assert r.status_code == 404 and r.headers["content-type"].startswith("application/json"), path
            err = r.json()
            assert err["code"] == "unknown_session"
            assert "Không tìm thấy kỳ họp" in err["message_vi"] and "Unknown session" in err["message_en"]


async def test_bad_input_is_a_4xx_never_a_5xx(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as c:
        # The stream without Accept: text/event-stream (a crawler, a plain GET): answered, not held open.
        r = await c.get(STREAM)
        assert r.status_code == 406 and r.json()["code"] == "not_acceptable" and "Accept" in r.json()["message_vi"]
        for bad in ("abc", "-1", "1.5", "9" * 40, "1" * 16, "٣".encode(), "12a", "0x10"):
            r = await c.get(STREAM, headers={"accept": "text/event-stream", "last-event-id": bad})
            assert r.status_code == 400 and r.json()["code"] == "malformed", (bad, r.status_code)
            assert r.json()["message_vi"] and r.json()["message_en"]
        for path in (
            "/api/public/sessions/%01/feed",
            "/api/public/sessions/" + "x" * 5000 + "/feed",
            "/api/public/sessions/%ZZ/feed",
            "/api/public/sessions/" + "đ" * 300 + "/feed/stream",
            f"{FEED}?x=%00",
        ):
            r = await c.get(path, headers=SSE)
            assert 400 <= r.status_code < 500, (path[:60], r.status_code)
            assert r.json()["message_vi"] and r.json()["message_en"]
        for method in ("POST", "PUT", "DELETE"):
            r = await c.request(method, FEED, content=b"{}")
            assert 400 <= r.status_code < 500, method
        # Nothing above broke the server.
        assert (await c.get(FEED)).status_code == 200


async def test_a_stream_on_one_worker_follows_commands_on_another(
    postgres_server: PostgresServer, redis_server: RedisServer
) -> None:
    """Two workers over one PostgreSQL and one Redis: the stream on worker B gets every change made through A."""
    url = await asyncio.to_thread(_fresh_database, postgres_server)
    with (
        ServerProcess(url, redis_url=redis_server.url) as a,  # migrates and seeds the demo first
        ServerProcess(url, redis_url=redis_server.url) as b,
    ):
        driver = Driver(a)
        async with Listener(b.http) as sse:
            await sse.wait("the first picture", lambda f: f["status"] == "prepared")
            await driver.open_session(present=34)
            await driver.move(ITEM)
            await sse.wait("the item, from the other worker", lambda f: f["current_item"] is not None)
            present = {i: o for i, o in NAMED_BALLOTS.items() if i <= 34}
            await driver.vote(NAMED, ITEM, "Biểu quyết qua hai máy chủ", present, secret=False)
            await sse.wait("the count of ballots", lambda f: bool(f["votes"]) and f["votes"][0]["ballots_cast"] == 34)
            await driver.close(NAMED)
            feed = await sse.wait("the result", lambda f: bool(f["results"]))
        assert [o["count"] for o in feed["results"][0]["options"]] == [30, 4, 0]  # db001–db034 voted
        ids = [i for i, _, _ in sse.events]
        assert ids == sorted(set(ids))
        assert httpx.get(b.http + FEED, timeout=30).json()["seq"] == httpx.get(a.http + FEED, timeout=30).json()["seq"]


async def test_past_the_stream_limit_a_reader_is_told_to_read_the_snapshot() -> None:
    with ServerProcess(extra_env={"KYHOP_FEED_STREAMS": "2"}) as srv:
        async with Listener(srv.http) as one, Listener(srv.http) as two:
            await one.wait("a picture", lambda f: True)
            await two.wait("a picture", lambda f: True)
            async with httpx.AsyncClient(base_url=srv.http, timeout=30) as c:
                r = await c.get(STREAM, headers=SSE)
                assert r.status_code == 503 and r.json()["code"] == "unavailable" and r.json()["message_vi"]
                assert "/feed" in r.json()["detail"]
                assert (await c.get(FEED)).status_code == 200  # the snapshot still answers
        # The two streams ended: their places are free again, once the server noticed the disconnects.
        async with httpx.AsyncClient(base_url=srv.http, timeout=httpx.Timeout(30, read=None)) as c:
            statuses: list[int] = []

            async def reopen() -> bool:
                async with c.stream("GET", STREAM, headers=SSE) as r:
                    statuses.append(r.status_code)
                return r.status_code == 200

            deadline = asyncio.get_running_loop().time() + 20
            while not await reopen():
                assert asyncio.get_running_loop().time() < deadline, statuses
                await asyncio.sleep(0.05)
            assert set(statuses) <= {200, 503}
