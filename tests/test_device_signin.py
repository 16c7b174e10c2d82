"""Device sign-in by QR code (server/device_signin.py) through a real server: the secretariat makes a one-time
code for a delegate's account, the device redeems it once and stays signed in, the second use is refused, an
expired or revoked code is refused, revoking signs the device out; malformed, oversized, unauthorised and
out-of-council requests are refused with a clear message and change nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clients.sdk import sign_in
from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.test_petitions_import import post_raw

COUNCIL = script.COUNCIL_ID
DEVICES = f"/api/councils/{COUNCIL}/devices"


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    with ServerProcess() as s:
        yield s


@pytest.fixture(scope="module")
def tokens(srv: ServerProcess) -> dict[str, str]:
    return {u: asyncio.run(sign_in(srv.http, u, DEMO_PASSWORD)) for u in ("vanphong", "chutoa", "daibieu07")}


def account_id(srv: ServerProcess, tok: str, username: str) -> str:
    status, accounts = http("GET", f"{srv.http}/api/councils/{COUNCIL}/accounts", None, tok)
    assert status == 200, accounts
    return str(next(a["id"] for a in accounts if a["username"] == username))


def make(srv: ServerProcess, tok: str | None, body: Any) -> tuple[int, Any]:
    return http("POST", f"{srv.http}{DEVICES}", body, tok)


def redeem(srv: ServerProcess, code: str) -> tuple[int, Any]:
    return http("POST", f"{srv.http}/api/auth/device", {"code": code}, None)


def me(srv: ServerProcess, tok: str) -> int:
    return http("GET", f"{srv.http}/api/auth/me", None, tok)[0]


def test_a_code_signs_one_device_in_once_and_revoking_signs_it_out(srv: ServerProcess, tokens: dict[str, str]) -> None:
    sec = tokens["vanphong"]
    d10 = account_id(srv, sec, "daibieu10")
    status, out = make(srv, sec, {"account_id": d10, "label": "Máy tính bảng số 10", "session_id": script.SESSION_ID})
    assert status == 201, out
    code = out["code"]
    assert out["path"] == f"/?code={code}&session={script.SESSION_ID}" and len(code) >= 32
    assert out["svg"].startswith("<svg") and "Mã đăng nhập thiết bị" in out["svg"]
    assert out["device"]["expires_at"] - out["device"]["created_at"] == 600
    assert out["device"]["used_at"] is None

    status, login = redeem(srv, code)
    assert status == 200, login
    assert login["account"]["username"] == "daibieu10"
    assert me(srv, login["token"]) == 200  # signed in, with an ordinary long-lived token

    status, again = redeem(srv, code)  # single use
    assert status == 401 and again["code"] == "device_code_invalid" and "đã được dùng" in again["message_vi"]

    status, listing = http("GET", f"{srv.http}{DEVICES}", None, sec)
    assert status == 200
    row = next(r for r in listing if r["id"] == out["device"]["id"])
    assert row["used_at"] is not None and row["revoked_at"] is None and row["label"] == "Máy tính bảng số 10"
    assert code not in str(listing)  # the code is shown once, never listed

    status, revoked = http("POST", f"{srv.http}{DEVICES}/{row['id']}/revoke", None, sec)
    assert status == 200 and revoked["revoked_at"] is not None
    assert me(srv, login["token"]) == 401  # the device is signed out


def test_stored_hashed_expired_and_revoked_codes_are_refused(srv: ServerProcess, tokens: dict[str, str]) -> None:
    sec = tokens["vanphong"]
    d11 = account_id(srv, sec, "daibieu11")
    _, a = make(srv, sec, {"account_id": d11})
    _, b = make(srv, sec, {"account_id": d11})
    database = Path(srv.data_dir) / "kyhop.db"
    found = list(Path(srv.data_dir).rglob("*.db")) if not database.exists() else [database]
    assert found, "the test server's SQLite file"
    with sqlite3.connect(found[0]) as conn:
        hashes = [r[0] for r in conn.execute("SELECT code_hash FROM device_codes")]
        assert a["code"] not in str(hashes) and len(hashes[0]) == 64  # only the SHA-256 is kept
        conn.execute("UPDATE device_codes SET expires_at = ? WHERE id = ?", (int(time.time()) - 1, a["device"]["id"]))
    status, body = redeem(srv, a["code"])
    assert status == 401 and body["code"] == "device_code_invalid"
    assert http("POST", f"{srv.http}{DEVICES}/{b['device']['id']}/revoke", None, sec)[0] == 200
    assert redeem(srv, b["code"])[0] == 401  # revoked before use


@pytest.mark.parametrize("code", ["", "x", "A" * 32, "a" * 64])
def test_wrong_codes_are_one_refusal(srv: ServerProcess, code: str) -> None:
    status, body = redeem(srv, code)
    assert status == 401 and body["code"] == "device_code_invalid" and body["message_en"]


def test_bad_input_and_unauthorised_requests(srv: ServerProcess, tokens: dict[str, str]) -> None:
    sec = tokens["vanphong"]
    d12 = account_id(srv, sec, "daibieu12")
    assert post_raw(srv, "/api/auth/device", b"{not json", None)[0] == 400
    assert redeem(srv, "a" * 65)[0] == 400  # longer than any code: refused as malformed
    assert post_raw(srv, "/api/auth/device", b'{"code": "' + b"a" * 20000 + b'"}', None)[0] == 413
    assert make(srv, None, {"account_id": d12})[0] == 401
    for user in ("chutoa", "daibieu07"):
        status, body = make(srv, tokens[user], {"account_id": d12})
        assert status == 403 and body["message_vi"], user
    status, body = make(srv, sec, {"account_id": account_id(srv, sec, "vanphong")})
    assert status == 422 and body["code"] == "device_account_refused"  # never a staff account on paper
    assert make(srv, sec, {"account_id": "khong-co"})[0] == 404
    assert make(srv, sec, {"label": "thiếu tài khoản"})[0] == 400
    assert make(srv, sec, {"account_id": d12, "session_id": "Không hợp lệ"})[0] == 400
    assert make(srv, sec, {"account_id": d12, "session_id": 5})[0] == 400
    assert http("POST", f"{srv.http}/api/councils/khac/devices", {"account_id": d12}, sec)[0] in (403, 404)
    assert http("POST", f"{srv.http}{DEVICES}/khong-co/revoke", None, sec)[0] == 404
    status, listing = http("GET", f"{srv.http}{DEVICES}", None, sec)
    assert status == 200 and not any(r["account_id"] == d12 for r in listing)  # nothing was made
