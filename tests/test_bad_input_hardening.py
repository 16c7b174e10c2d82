"""Bad input found by an outside test (issue 9, part 1), on a real server over SQLite and over PostgreSQL.

- Control characters (U+0000 above all: PostgreSQL refuses it in text) in any text field, command id, path or query
  are `malformed` at decode, over REST and the WebSocket; Vietnamese text (NFC and NFD), tabs and line breaks in
  free text are kept exactly.
- JSON nested deeper than server.inbound.MAX_DEPTH is `malformed` (it was a 500, and a 4500 close on the socket).
- Nobody can disable their own account, nor a council's last active secretariat or administrator account.
- Commands refused because their stream does not exist share one audit chain instead of starting one each.

The world is tests/test_bad_input.py's (the demo session in progress, a second council with one secretary).
"""

from __future__ import annotations

import asyncio
import json
import time
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from server.audit import ORPHANS, verify
from server.inbound import MAX_DEPTH
from tests.e2e import ServerProcess
from tests.services import PostgresServer
from tests.test_bad_input import (
    CID,
    OTHER_COUNCIL,
    OTHER_SECRETARY,
    SID,
    Raw,
    World,
    _setup,
    error_body,
    new_id,
    ws_error,
    ws_url,
)

# Refused in every text field: NUL, the other C0 controls but tab/LF/CR, DEL, C1 controls.
FORBIDDEN = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f"]
NFC = unicodedata.normalize("NFC", "Nghị quyết về dự toán ngân sách tỉnh Đắk Lắk năm 2027")
NFD = unicodedata.normalize("NFD", NFC)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    url = None
    if request.param == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        url = pg.create_database(f"hardening_{uuid.uuid4().hex[:12]}")
    with ServerProcess(url) as srv, httpx.Client(base_url=srv.http, timeout=30) as http:
        w = World(srv, http)
        _setup(w)
        # The set-up's ballot is announced (`vote_round_progress`) within 250 ms: let it land before tests compare
        # sequence numbers.
        deadline = time.monotonic() + 10
        while not any(e["event"]["type"] == "vote_round_progress" for e in events(w)):
            assert time.monotonic() < deadline, "no vote_round_progress after the set-up's ballot"
            time.sleep(0.05)
        yield w


def events(w: World) -> list[dict[str, Any]]:
    r = w.http.get(f"/api/sessions/{SID}/events", params={"after": 0, "limit": 5000}, headers=w.headers("vanphong"))
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()["events"]
    return out


def database_url(w: World) -> str:
    return w.srv.database_url or f"sqlite+aiosqlite:///{Path(w.srv.data_dir) / 'kyhop.db'}"


def nested(depth: int, inner: Any = 1) -> Any:
    out = inner
    for _ in range(depth):
        out = [out]
    return out


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def post(w: World, path: str, body: str | bytes, username: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", **w.headers(username)}
    return w.http.post(path, content=body, headers=headers)


def free_text(text: str) -> dict[str, Any]:
    return {"type": "add_item", "item_id": f"muc-{new_id()[:8]}", "title": text}


# ------------------------------------------------------------------------------------ control characters


def test_control_characters_are_malformed_over_rest(world: World) -> None:
    w = world
    seq = w.seq()
    before = w.everything()
    for ch in FORBIDDEN:
        # In a command id, in free text, in an id inside a command; escaped (as json.dumps writes it) and raw.
        for body in (
            {"id": f"a{ch}b", "command": {"type": "check_in", "delegate_id": "db045"}},
            {"id": new_id(), "command": free_text(f"Dự thảo{ch}")},
            {"id": new_id(), "command": {"type": "check_in", "delegate_id": f"db0{ch}45"}},
        ):
            for text in (json.dumps(body), json.dumps(body, ensure_ascii=False)):
                if ch < "\x20" and "\\u" not in text:
                    continue  # a raw C0 control is invalid JSON anyway
                r = post(w, f"/api/sessions/{SID}/commands", text.encode(), "chutoa")
                error_body(r, {400}, "malformed")
        r = post(w, "/api/auth/login", json.dumps({"username": f"vanphong{ch}", "password": "x" * 10}))
        error_body(r, {400}, "malformed")  # was 503 on PostgreSQL for a NUL
        r = post(
            w,
            f"/api/councils/{CID}/accounts",
            json.dumps(
                {
                    "username": "moi.nguoi",
                    "password": "mat-khau-dai",
                    "display_name": f"Tên{ch}",
                    "roles": ["delegate"],
                    "person_id": "db049",
                }
            ),
            "vanphong",
        )
        error_body(r, {400}, "malformed")
        r = post(
            w,
            f"/api/councils/{CID}/commands",
            json.dumps({"id": new_id(), "command": {"type": "seat_delegate", "delegate_id": "x1", "name": f"A{ch}"}}),
            "vanphong",
        )
        error_body(r, {400}, "malformed")
    for path in (f"/api/sessions/{SID}%00", f"/api/sessions/{SID}%1b/events", f"/api/councils/{CID}%7f/sessions"):
        error_body(w.http.get(path, headers=w.headers("vanphong")), {400}, "malformed")
    error_body(
        post(
            w,
            "/api/sessions/a%00b/commands",
            json.dumps({"id": "x", "command": {"type": "open_check_in"}}),
            "vanphong",
        ),
        {400},
        "malformed",
    )
    r = w.http.get(f"/api/sessions/{SID}/documents/search", params={"q": "ngân\x00sách"}, headers=w.headers("vanphong"))
    error_body(r, {400}, "malformed")
    assert w.seq() == seq
    assert w.everything() == before


def test_vietnamese_text_tabs_and_line_breaks_are_kept(world: World) -> None:
    w = world
    texts = [NFC, NFD, f"{NFC}\n\tĐiều 1.\r\nĐiều 2.", "C:\\u0000 là văn bản, không phải ký tự NUL"]
    for text in texts:
        item_id = f"muc-{new_id()[:8]}"
        w.ok("vanphong", {"type": "add_item", "item_id": item_id, "title": text})
        items = w.view()["state"]["agenda"]["items"]
        found = [i for i in (items.values() if isinstance(items, dict) else items) if i["id"] == item_id]
        assert [i["title"] for i in found] == [text]  # byte for byte: NFD stays NFD


def test_lone_surrogates_are_malformed(world: World) -> None:
    w = world
    for escaped in ("\\ud800", "\\udfff", "x\\udc00y"):
        body = '{"id": "ESC", "command": {"type": "check_in", "delegate_id": "db045"}}'.replace("ESC", escaped)
        error_body(post(w, f"/api/sessions/{SID}/commands", body, "chutoa"), {400}, "malformed")


async def test_control_characters_are_malformed_over_the_socket(world: World) -> None:
    w = world
    seq = await w.aseq()
    raw = await Raw.open(w, "daibieu03")
    try:
        for ch in FORBIDDEN:
            await raw.send(
                {"type": "command", "id": f"c{ch}", "command": {"type": "check_out", "delegate_id": "db003"}}
            )
            msg = await raw.reply()
            ws_error(msg, "malformed")
            assert msg.get("id") is None  # an id that cannot be an id is not echoed
            cid = new_id()
            await raw.send({"type": "command", "id": cid, "command": {"type": "check_out", "delegate_id": f"db{ch}3"}})
            msg = await raw.reply()
            ws_error(msg, "malformed")
            assert msg["id"] == cid
        # The socket stayed open all along and still works.
        result = await raw.command({"type": "check_out", "delegate_id": "db003"})
        assert result["ok"], result
        result = await raw.command({"type": "check_in", "delegate_id": "db003"})
        assert result["ok"], result
    finally:
        await raw.close()
    assert await w.aseq() == seq + 2

    for frame in (
        json.dumps({"type": "hello", "token": "a\x00b"}),
        json.dumps({"type": "hello", "token": None, "x": "\x1b"}),
    ):
        ws = await _connect(w)
        await ws.send(frame)
        ws_error(json.loads(await asyncio.wait_for(ws.recv(), 10)), "malformed")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 1008
    ws = await _connect(w, f"{SID}%00")
    await ws.send(json.dumps({"type": "hello", "token": w.token("daibieu03")}))
    ws_error(json.loads(await asyncio.wait_for(ws.recv(), 10)), "malformed")
    await ws.close()


async def _connect(w: World, session: str = SID) -> Any:
    from websockets.asyncio.client import connect

    return await connect(ws_url(w, session), compression=None, max_size=None, open_timeout=10)


# ---------------------------------------------------------------------------------------------- nesting


def test_deep_json_is_malformed_over_rest(world: World) -> None:
    w = world
    seq = w.seq()
    w.token("daibieu50")
    daibieu50 = w.account_ids["daibieu50"]
    routes = [
        ("/api/auth/login", None),
        (f"/api/sessions/{SID}/commands", "chutoa"),
        (f"/api/councils/{CID}/commands", "vanphong"),
        (f"/api/councils/{CID}/accounts/{daibieu50}/active", "vanphong"),
        (f"/api/councils/{CID}/sessions", "vanphong"),
    ]
    for path, user in routes:
        for body in (deep_json(5000), deep_json(MAX_DEPTH + 1), json.dumps({"id": "x", "command": nested(200, {})})):
            r = post(w, path, body, user)
            detail = error_body(r, {400}, "malformed")["detail"]
            assert "nested" in detail, detail
        # At the limit the nesting is allowed: the body is refused for its shape, by msgspec, not for its depth.
        r = post(w, path, deep_json(MAX_DEPTH), user)
        assert "nested" not in (error_body(r, {400}, "malformed")["detail"] or "")
        # Brackets inside strings are text, not nesting.
        r = post(w, path, json.dumps({"id": "[" * 5000, "command": {"type": "x", "text": "{" * 5000}}), user)
        assert "nested" not in (error_body(r, {400, 401, 422}).get("detail") or "")
    assert w.seq() == seq


async def test_deep_json_over_the_socket_keeps_it_open(world: World) -> None:
    w = world
    seq = await w.aseq()
    raw = await Raw.open(w, "daibieu03")
    try:
        cid = new_id()
        for frame in (
            deep_json(5000),
            '{"type": "command", "id": "CID", "command": '.replace("CID", cid) + deep_json(5000) + "}",
        ):
            await raw.send(frame)
            msg = await raw.reply()
            ws_error(msg, "malformed")
            assert "nested" in msg["message_en"], msg
        result = await raw.command({"type": "check_out", "delegate_id": "db003"})
        assert result["ok"], result
        result = await raw.command({"type": "check_in", "delegate_id": "db003"})
        assert result["ok"], result
    finally:
        await raw.close()
    assert await w.aseq() == seq + 2
    # As the first frame: refused like any malformed hello (an error, then 1008), never a 4500 close.
    ws = await _connect(w)
    await ws.send(deep_json(5000))
    ws_error(json.loads(await asyncio.wait_for(ws.recv(), 10)), "malformed")
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == 1008


# ------------------------------------------------------------------------------------------ self-lockout


def test_nobody_disables_themselves_or_the_last_manager(world: World) -> None:
    w = world
    w.token("vanphong")
    vanphong = w.account_ids["vanphong"]
    other = w.account_ids[OTHER_SECRETARY]  # signed in by the world's set-up
    off = json.dumps({"active": False})

    r = post(w, f"/api/councils/{CID}/accounts/{vanphong}/active", off, "vanphong")
    error_body(r, {409}, "self_lockout")
    r = post(w, f"/api/councils/{OTHER_COUNCIL}/accounts/{other}/active", off, OTHER_SECRETARY)
    error_body(r, {409}, "self_lockout")
    # The administrator may disable a secretary, but not the council's only active one.
    r = post(w, f"/api/councils/{OTHER_COUNCIL}/accounts/{other}/active", off, "quantri")
    error_body(r, {409}, "last_manager")
    r = w.http.get("/api/auth/me", headers=w.headers(OTHER_SECRETARY))
    assert r.status_code == 200 and r.json()["active"], r.text

    # With a second secretary, the first can be disabled; then the second is the last one.
    r = w.http.post(
        f"/api/councils/{OTHER_COUNCIL}/accounts",
        json={
            "username": "vanphong2.xakhac",
            "password": "mat-khau-thu-hai",
            "display_name": "Văn phòng 2",
            "roles": ["secretary"],
        },
        headers=w.headers(OTHER_SECRETARY),
    )
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    r = post(w, f"/api/councils/{OTHER_COUNCIL}/accounts/{other}/active", off, "quantri")
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    r = post(w, f"/api/councils/{OTHER_COUNCIL}/accounts/{second}/active", off, "quantri")
    error_body(r, {409}, "last_manager")
    # Re-enabled, so the rest of the module keeps its world.
    r = post(w, f"/api/councils/{OTHER_COUNCIL}/accounts/{other}/active", json.dumps({"active": True}), "quantri")
    assert r.status_code == 200, r.text
    w.tokens[OTHER_SECRETARY] = w.login(OTHER_SECRETARY, "mat-khau-xa-khac")  # disabling signed it out


# ------------------------------------------------------------------------------------------------ audit


async def test_refusals_for_unknown_streams_share_one_audit_chain(world: World) -> None:
    w = world
    url = database_url(w)
    before = await verify(url)
    assert before.ok, before.problems
    invented = [f"khong-co-{i}-{new_id()[:6]}" for i in range(6)]
    for council_id in invented:
        body = {"id": new_id(), "command": {"type": "seat_delegate", "delegate_id": "x1", "name": "Tên"}}
        r = await asyncio.to_thread(
            w.http.post, f"/api/councils/{council_id}/commands", json=body, headers=w.headers("quantri")
        )
        error_body(r, {404}, "unknown_council")
    for bad in ("co dau cach", "ký-tự", "a/b"):
        r = await asyncio.to_thread(
            w.http.post,
            "/api/councils",
            json={"council_id": bad, "name": "X", "level": "commune"},
            headers=w.headers("quantri"),
        )
        error_body(r, {404, 422})
    after = await verify(url)
    assert after.ok, after.problems
    assert ORPHANS in after.heads
    new_chains = set(after.heads) - set(before.heads)
    assert new_chains <= {ORPHANS}, new_chains
    assert after.rows >= before.rows + len(invented)


def test_the_server_logged_no_crash(world: World) -> None:
    """Run last: nothing above made the server log an unexpected exception, a 5xx or a failed batch."""
    log = world.srv.log_path.read_text(errors="replace")
    markers = ("unexpected error", "Exception in ASGI application", "batch on", "http error 5", "Traceback")
    after_start = log.split("demo council and session created", 1)[-1]
    bad = [line for line in after_start.splitlines() if any(m in line for m in markers)]
    assert not bad, after_start[-5000:]
