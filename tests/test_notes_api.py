"""The personal-notes routes (server/routes_notes.py) through a real server on SQLite and on PostgreSQL: a delegate
keeps a key record and encrypted blobs; nobody else reads them (another delegate sees only their own, the
secretariat is refused); a second device's stale write is a 409; malformed, oversized and out-of-turn bodies get
their clear 4xx and change nothing; every write is in the audit chain, which still verifies; and the database
holds the ciphertext, never the note's text."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from clients.sdk import sign_in
from meeting import script
from server.audit import verify
from server.demo import DEMO_PASSWORD
from server.routes_notes import MAX_CIPHERTEXT, MIN_ITERATIONS
from tests.e2e import ServerProcess, http

SESSION = script.SESSION_ID
NOTES = f"/api/sessions/{SESSION}/notes"
SECRET_TEXT = "Ghi chú riêng: hỏi lại số liệu chi đầu tư trang 3"
RESPONDENT = script.RESPONDENTS[0].id.replace("-", ".")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def key_record(passphrase: str, salt: bytes) -> tuple[dict[str, Any], AESGCM]:
    """What the tablet makes (clients/web/js/notes.js): PBKDF2-SHA-256 → AES-GCM key, and the check blob."""
    kdf = PBKDF2HMAC(algorithm=SHA256(), length=32, salt=salt, iterations=MIN_ITERATIONS)
    aes = AESGCM(kdf.derive(passphrase.encode()))
    iv = os.urandom(12)
    check = aes.encrypt(iv, b"kyhop-notes-v1", None)
    return {"salt": b64(salt), "iterations": MIN_ITERATIONS, "check_iv": b64(iv), "check": b64(check)}, aes


def blob(aes: AESGCM, text: str, revision: int) -> dict[str, Any]:
    iv = os.urandom(12)
    return {"iv": b64(iv), "ciphertext": b64(aes.encrypt(iv, text.encode(), None)), "revision": revision}


class Server:
    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        users = ("daibieu02", "daibieu03", "vanphong", "chutoa", RESPONDENT)
        self.tokens = {u: asyncio.run(sign_in(srv.http, u, DEMO_PASSWORD)) for u in users}
        status, manifest = self.call("GET", f"/api/sessions/{SESSION}/documents/manifest")
        assert status == 200, manifest
        self.doc = manifest["documents"][0]["document_id"]

    def call(self, method: str, path: str, body: Any = None, who: str | None = "daibieu02") -> tuple[int, Any]:
        return http(method, f"{self.srv.http}{path}", body, self.tokens[who] if who else None)


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    with ServerProcess(database_url) as srv:
        yield Server(srv)


def test_notes_are_the_owners_alone(server: Server) -> None:
    s = server
    doc = f"{NOTES}/{s.doc}"
    # Nothing yet: no key record, no notes.
    assert s.call("GET", "/api/notes/key") == (200, {"key": None})
    assert s.call("GET", doc)[0] == 404
    assert s.call("GET", NOTES) == (200, [])

    record, aes = key_record("một cụm mật khẩu dài", os.urandom(16))
    assert s.call("PUT", "/api/notes/key", record) == (200, record)
    # A second device reads the record, derives the same key and checks it before use.
    status, got = s.call("GET", "/api/notes/key")
    assert status == 200 and got == {"key": record}
    got = got["key"]
    again, aes2 = key_record("một cụm mật khẩu dài", base64.b64decode(got["salt"]))
    assert aes2.decrypt(base64.b64decode(got["check_iv"]), base64.b64decode(got["check"]), None) == b"kyhop-notes-v1"
    # Setting it again without `replace` is refused: the notes under the first key would become unreadable.
    status, err = s.call("PUT", "/api/notes/key", again)
    assert status == 409 and err["code"] == "notes_key_exists" and err["message_vi"]

    first = blob(aes, SECRET_TEXT, 0)
    status, saved = s.call("PUT", doc, first)
    assert status == 200 and saved["revision"] == 1 and saved["ciphertext"] == first["ciphertext"]
    status, got = s.call("GET", doc)
    assert status == 200
    plain = aes.decrypt(base64.b64decode(got["iv"]), base64.b64decode(got["ciphertext"]), None).decode()
    assert plain == SECRET_TEXT
    status, listed = s.call("GET", NOTES)
    assert status == 200 and [(m["document_id"], m["revision"]) for m in listed] == [(s.doc, 1)]

    # A second device that has not seen revision 1 writes "over nothing": refused with the current revision.
    status, err = s.call("PUT", doc, blob(aes, "khác", 0))
    assert status == 409 and err["code"] == "notes_conflict" and err["detail"] == "1"
    status, saved = s.call("PUT", doc, blob(aes, SECRET_TEXT + " (sửa)", 1))
    assert status == 200 and saved["revision"] == 2

    # Another delegate, the chair's own delegate account, a respondent: only their own (none) — never this one's.
    for other in ("daibieu03", "chutoa", RESPONDENT):
        assert s.call("GET", doc, who=other)[0] == 404
        assert s.call("GET", NOTES, who=other) == (200, [])
        assert s.call("GET", "/api/notes/key", who=other) == (200, {"key": None})
    # The secretariat has no notes at all, and cannot reach anyone's.
    for method, path in (("GET", doc), ("GET", NOTES), ("GET", "/api/notes/key"), ("DELETE", doc)):
        status, err = s.call(method, path, who="vanphong")
        assert status == 403 and err["code"] == "forbidden", (method, path)
    assert s.call("PUT", doc, blob(aes, "x" * 10, 0), who="vanphong")[0] == 403
    # No token.
    assert s.call("GET", doc, who=None)[0] == 401
    assert s.call("PUT", doc, first, who=None)[0] == 401

    # Delete: gone from the server (the tablet keeps its own copy); deleting again is 404.
    assert s.call("DELETE", doc)[0] == 204
    assert s.call("GET", doc)[0] == 404
    assert s.call("DELETE", doc)[0] == 404

    # A new passphrase (`replace`) drops what the old key encrypted.
    s.call("PUT", doc, blob(aes, SECRET_TEXT, 0))
    status, _ = s.call("PUT", "/api/notes/key", {**again, "replace": True})
    assert status == 200
    assert s.call("GET", doc)[0] == 404 and s.call("GET", NOTES) == (200, [])

    # The database: ciphertext only, never the text; and the audit chains still verify.
    rows = asyncio.run(_dump(s.srv.database_url or ""))
    assert SECRET_TEXT not in rows and "Ghi chú riêng" not in rows
    report = asyncio.run(verify(s.srv.database_url or ""))
    assert report.ok, report.text()
    assert any(c.startswith("notes:") for c in report.heads)


def test_bad_notes_input_changes_nothing(server: Server) -> None:
    s = server
    doc = f"{NOTES}/{s.doc}"
    record, aes = key_record("pass phrase", os.urandom(16))
    assert s.call("PUT", "/api/notes/key", record)[0] == 200
    good = blob(aes, SECRET_TEXT, 0)
    cases: list[tuple[str, str, Any, int]] = [
        ("PUT", doc, {**good, "iv": "!!!not-base64!!!"}, 400),  # the pattern, before any decoding
        ("PUT", doc, {**good, "iv": b64(os.urandom(9)) + "===="}, 400),
        ("PUT", doc, {**good, "iv": b64(os.urandom(10))}, 422),  # 16 characters that are 10 bytes
        ("PUT", doc, {**good, "ciphertext": "QUJD" * 6 + "Q"}, 422),  # bad padding
        ("PUT", doc, {**good, "revision": -1}, 400),
        ("PUT", doc, {"iv": good["iv"]}, 400),
        ("PUT", doc, [1, 2, 3], 400),
        ("PUT", doc, {**good, "ciphertext": "A" * (MAX_CIPHERTEXT + 4)}, 413),
        ("PUT", f"{NOTES}/no-such-document", good, 404),
        ("PUT", f"/api/sessions/no-such-session/notes/{s.doc}", good, 404),
        ("GET", "/api/sessions/no-such-session/notes", None, 404),
        ("PUT", "/api/notes/key", {**record, "iterations": 1000, "replace": True}, 400),
        ("PUT", "/api/notes/key", {**record, "salt": "short", "replace": True}, 400),
        ("PUT", "/api/notes/key", {"replace": True}, 400),
    ]
    for method, path, body, want in cases:
        status, err = s.call(method, path, body)
        assert status == want, (method, path, str(body)[:80], status, err)
        assert err["message_vi"] and err["message_en"], err
    # A body far past the limit is cut off before it is read (httpx reads the early answer; urllib would see the
    # server close the connection while it is still sending).
    big = json.dumps({**good, "ciphertext": "A" * (2 * MAX_CIPHERTEXT)}).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {s.tokens['daibieu02']}"}
    r = httpx.put(f"{s.srv.http}{doc}", content=big, headers=headers, timeout=30)
    assert r.status_code == 413 and r.json()["code"] == "too_large", r.text
    # Nothing changed: still no notes, and the key record is the first one.
    assert s.call("GET", doc)[0] == 404
    assert s.call("GET", "/api/notes/key") == (200, {"key": record})


async def _dump(url: str) -> str:
    """Every note and key row as text (what an operator with the database sees)."""
    from server import db
    from server.database import Database

    database = Database(url)
    try:
        async with database.engine.connect() as conn:
            rows = [*(await conn.execute(sa.select(db.notes))).all(), *(await conn.execute(sa.select(db.note_keys)))]
            audit = (await conn.execute(sa.select(db.audit).where(db.audit.c.chain.like("notes:%")))).all()
    finally:
        await database.dispose()
    return repr(rows) + repr(audit)
