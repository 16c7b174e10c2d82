"""The record through a real server (uvicorn, SQLite): the demo session run to its close over WebSockets yields its
resolutions, minutes, count records, Akoma Ntoso, data and archive from the secretariat's routes, the public gets
the resolutions and the minutes (only after the close), `kyhop archive verify` passes on the downloaded archive,
and every bad request gets its clear answer. A second server on PostgreSQL checks the audited inputs there."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader

from clients.sdk import sign_in
from meeting import script
from record import archive as ar
from server.audit import verify
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.services import PostgresServer
from tests.test_e2e_session import run_session

SESSION = script.SESSION_ID
COUNCIL = script.COUNCIL_ID
RECORD = f"/api/sessions/{SESSION}/record"
PUBLIC = f"/api/sessions/{SESSION}/public-record"


def fetch(url: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def _text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


class Closed:
    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.tokens = {u: asyncio.run(sign_in(srv.http, u, DEMO_PASSWORD)) for u in ("vanphong", "chutoa", "daibieu07")}
        self.before: dict[str, tuple[int, Any]] = {}

    def get(self, path: str, who: str | None = "vanphong") -> tuple[int, dict[str, str], bytes]:
        return fetch(f"{self.srv.http}{path}", self.tokens[who] if who else None)

    def json(self, method: str, path: str, body: Any = None, who: str | None = "vanphong") -> tuple[int, Any]:
        return http(method, f"{self.srv.http}{path}", body, self.tokens[who] if who else None)


@pytest.fixture(scope="module")
def closed() -> Iterator[Closed]:
    with ServerProcess() as srv:
        c = Closed(srv)
        # While the session is still open: nothing for anyone.
        c.before["secretariat"] = c.json("GET", RECORD)
        c.before["public"] = c.json("GET", PUBLIC, who=None)
        c.before["minutes"] = c.json("GET", f"{PUBLIC}/minutes", who=None)
        asyncio.run(run_session(srv))
        yield c


def test_nothing_before_the_session_closes(closed: Closed) -> None:
    for key in ("secretariat", "public", "minutes"):
        status, body = closed.before[key]
        assert status == 409 and body["code"] == "session_open", (key, body)
        assert "chưa bế mạc" in body["message_vi"] and "has not closed" in body["message_en"]


def test_the_closed_demo_session_yields_its_record(closed: Closed) -> None:
    status, index = closed.json("GET", RECORD)
    assert status == 200, index
    assert [r["number"] for r in index["resolutions"]] == ["01/NQ-HĐND", "01/2026/NQ-HĐND"]
    assert all(r["has_draft"] for r in index["resolutions"]) and index["missing_drafts"] == []
    assert [c["subject_id"] for c in index["count_records"]] == ["bq-2", "ltn-1"]
    assert index["signed"] is False
    texts = {}
    for part in index["parts"]:
        status, headers, body = closed.get(f"{RECORD}/files/{part}")
        assert status == 200, (part, body[:300])
        assert headers["x-content-sha256"] == ar.sha256(body)
        if part.endswith(".pdf"):
            assert headers["content-type"] == "application/pdf" and body.startswith(b"%PDF-")
            assert headers["content-disposition"].startswith("inline;")
            texts[part] = _text(body)
        elif part.endswith(".xml"):
            assert etree.fromstring(body).tag.endswith("akomaNtoso")
    assert "NGHỊ QUYẾT" in texts["pdf/nghi-quyet-01-2026-nq-hdnd.pdf"]
    assert "Dự toán ngân sách địa phương năm 2027" in texts["pdf/nghi-quyet-01-2026-nq-hdnd.pdf"]
    assert "BIÊN BẢN KIỂM PHIẾU" in texts["pdf/bien-ban-kiem-phieu-bq-2.pdf"]
    minutes = texts[ar.MINUTES_PDF]
    assert "BIÊN BẢN" in minutes and "MÃ BĂM CUỐI CỦA NHẬT KÝ KIỂM TOÁN" in minutes
    # By number too, and as a download.
    status, headers, by_number = closed.get(f"{RECORD}/resolutions/01-2026-nq-hdnd?download=true")
    assert status == 200 and headers["content-disposition"].startswith("attachment;")
    assert by_number == closed.get(f"{RECORD}/files/pdf/nghi-quyet-01-2026-nq-hdnd.pdf")[2]
    status, headers, xml = closed.get(f"{RECORD}/resolutions/01-nq-hdnd?format=akn")
    assert status == 200 and headers["content-type"].startswith("application/akn+xml") and b"<akomaNtoso" in xml


def test_the_archive_verifies_offline_and_its_heads_are_the_real_chains(closed: Closed, tmp_path: Path) -> None:
    status, index = closed.json("POST", f"{RECORD}/build")
    assert status == 200, index
    status, headers, data = closed.get(f"{RECORD}/archive")
    assert status == 200 and headers["content-type"] == "application/zip"
    assert headers["content-disposition"] == f'attachment; filename="ho-so-{SESSION}.zip"'
    assert ar.sha256(data) == index["archive_sha256"]
    path = tmp_path / "ho-so.zip"
    path.write_bytes(data)
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "archive", "verify", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    heads = index["heads"]
    assert set(heads) == {
        f"session:{SESSION}", f"council:{COUNCIL}", f"record:council:{COUNCIL}", f"record:session:{SESSION}",
        f"events:session:{SESSION}",
    }  # fmt: skip
    assert all(f"  {k}  {h}" in out.stdout for k, h in heads.items())
    # The minutes' heads are rows of the server's own audit chains (`kyhop audit verify` reads the database).
    report = asyncio.run(verify(f"sqlite+aiosqlite:///{closed.srv.data_dir}/kyhop.db"))
    assert report.ok, report.text()
    assert heads[f"record:session:{SESSION}"] == report.heads[f"record:session:{SESSION}"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        audit = [json.loads(x) for x in zf.read(ar.AUDIT).splitlines()]
        events = zf.read(ar.EVENTS)
    session_rows = [r for r in audit if r["chain"] == f"session:{SESSION}"]
    assert session_rows[-1]["command"] == "close_session" and session_rows[-1]["hash"] == heads[f"session:{SESSION}"]
    assert b'"type":"ballot_cast"' not in events and b'"type":"session_closed"' in events
    # Built once per state of the session: the same bytes again, from the cache.
    t = time.perf_counter()
    again = closed.get(f"{RECORD}/archive")[2]
    assert again == data
    assert time.perf_counter() - t < 1.0  # measured here: ~0.1 s to build the demo's, ~20 ms from the cache


def test_the_public_gets_the_resolutions_and_the_minutes_after_the_close(closed: Closed) -> None:
    status, public = closed.json("GET", PUBLIC, who=None)
    assert status == 200, public
    assert [r["number"] for r in public["resolutions"]] == ["01/NQ-HĐND", "01/2026/NQ-HĐND"]
    status, headers, minutes = closed.get(public["minutes_pdf"], who=None)
    assert status == 200 and headers["content-type"] == "application/pdf"
    assert minutes == closed.get(f"{RECORD}/files/{ar.MINUTES_PDF}")[2]
    for r in public["resolutions"]:
        status, _, body = closed.get(r["pdf"], who=None)
        assert status == 200 and body.startswith(b"%PDF-")
    # Everything else stays with the secretariat.
    assert closed.json("GET", RECORD, who=None)[0] == 401
    assert closed.json("GET", f"{RECORD}/archive", who=None)[0] == 401


def test_bad_requests_get_clear_answers(closed: Closed) -> None:
    cases = [
        ("GET", "/api/sessions/khong-co/record", "vanphong", 404, "unknown_session"),
        ("GET", "/api/sessions/khong-co/public-record", None, 404, "unknown_session"),
        ("GET", f"{RECORD}/resolutions/99-2026-nq-hdnd", "vanphong", 404, "unknown_resolution"),
        ("GET", f"{RECORD}/files/pdf/nghi-quyet-99-nq-hdnd.pdf", "vanphong", 404, "unknown_resolution"),
        ("GET", f"{PUBLIC}/resolutions/99-nq-hdnd", None, 404, "unknown_resolution"),
        ("GET", f"{RECORD}/files/pdf/khong-co.pdf", "vanphong", 404, "not_found"),
        ("GET", f"{RECORD}/resolutions/01-nq-hdnd?format=docx", "vanphong", 400, "malformed"),
        ("GET", RECORD, None, 401, "unauthenticated"),
        ("GET", RECORD, "daibieu07", 403, "forbidden"),
        ("GET", f"{RECORD}/drafts", "chutoa", 403, "forbidden"),
        ("PUT", f"/api/councils/{COUNCIL}/record-settings", "daibieu07", 403, "forbidden"),
        ("PUT", f"{RECORD}/drafts/khong-co", "vanphong", 404, "unknown_item"),
        ("PUT", f"{RECORD}/drafts/nq-ngan-sach", "vanphong", 400, "malformed"),  # articles must be a list
    ]
    settings = {"body_lines": ["HĐND"], "place_name": "A", "council_name": "B", "term_label": "C", "chair_name": "D"}
    for method, path, who, want_status, want_code in cases:
        body: Any = None
        if method == "PUT":
            body = {"articles": "Điều 1"} if path.endswith("nq-ngan-sach") else {}
            body = settings if path.endswith("record-settings") else body
        status, answer = closed.json(method, path, body, who=who)
        assert (status, answer["code"]) == (want_status, want_code), (method, path, answer)
        assert answer["message_vi"] and answer["message_en"] and answer["message_vi"] != answer["message_en"]
    status, answer = closed.json("PUT", f"{RECORD}/drafts/nq-ngan-sach", {"summary": "x" * 3000})
    assert status == 400 and answer["code"] == "malformed"


def test_edits_after_the_close_are_audited_and_a_missing_draft_is_named(closed: Closed) -> None:
    status, drafts = closed.json("GET", f"{RECORD}/drafts")
    assert status == 200 and set(drafts) == {"nq-ngan-sach", "nq-dau-tu-cong"}
    before = closed.get(f"{RECORD}/resolutions/01-nq-hdnd")[2]
    try:
        # The secretariat empties the articles of the second draft: that resolution can no longer be printed.
        status, _ = closed.json("PUT", f"{RECORD}/drafts/nq-dau-tu-cong", {**drafts["nq-dau-tu-cong"], "articles": []})
        assert status == 200
        for path in (f"{RECORD}/resolutions/01-nq-hdnd", f"{RECORD}/archive"):
            status, answer = closed.json("GET", path)
            assert status == 422 and answer["code"] == "invalid", answer
            assert "nq-dau-tu-cong" in answer["message_vi"] and "nq-dau-tu-cong" in answer["message_en"]
        status, index = closed.json("GET", RECORD)
        assert index["missing_drafts"] == ["nq-dau-tu-cong"]
        assert closed.get(f"{RECORD}/files/{ar.MINUTES_PDF}")[0] == 200  # the rest of the record is still made
        status, public = closed.json("GET", PUBLIC, who=None)
        assert [r["number"] for r in public["resolutions"]] == ["01/2026/NQ-HĐND"]  # only what can be printed
        # A new article text: a new resolution PDF (the cache follows the inputs' edits).
        changed = dict(drafts["nq-dau-tu-cong"])
        changed["articles"] = [{"heading": "Điều chỉnh kế hoạch", "paragraphs": ["Tăng thêm 1.300 tỷ đồng."]}]
        assert closed.json("PUT", f"{RECORD}/drafts/nq-dau-tu-cong", changed)[0] == 200
        after = closed.get(f"{RECORD}/resolutions/01-nq-hdnd")[2]
        assert after != before and "1.300 tỷ đồng" in _text(after)
    finally:
        closed.json("PUT", f"{RECORD}/drafts/nq-dau-tu-cong", drafts["nq-dau-tu-cong"])
    assert closed.get(f"{RECORD}/resolutions/01-nq-hdnd")[2] == before  # same inputs, same bytes
    report = asyncio.run(verify(f"sqlite+aiosqlite:///{closed.srv.data_dir}/kyhop.db"))
    assert report.ok, report.text()
    status, data = closed.json("GET", f"/api/councils/{COUNCIL}/record-settings")
    assert status == 200 and data["council_name"] == "Hội đồng nhân dân tỉnh Minh Hòa"


def test_the_council_settings_of_a_closed_session_are_those_in_force_at_its_close(closed: Closed) -> None:
    """A new chair elected after the session does not re-sign its resolutions: the council's record settings are
    frozen at the close (issue 10, left from session 3); the archive still verifies against its carried edits."""
    status, settings = closed.json("GET", f"/api/councils/{COUNCIL}/record-settings")
    assert status == 200
    before = closed.get(f"{RECORD}/resolutions/01-nq-hdnd")[2]
    assert settings["chair_name"] in _text(before)
    try:
        changed = {**settings, "chair_name": "Lê Thị Kế Nhiệm"}
        assert closed.json("PUT", f"/api/councils/{COUNCIL}/record-settings", changed)[0] == 200
        assert closed.json("GET", f"/api/councils/{COUNCIL}/record-settings")[1]["chair_name"] == "Lê Thị Kế Nhiệm"
        after = closed.get(f"{RECORD}/resolutions/01-nq-hdnd")[2]
        assert after == before and "Kế Nhiệm" not in _text(after)
        status, _, data = closed.get(f"{RECORD}/archive")
        assert status == 200
        report = ar.verify_archive(data)
        assert report.ok, report.problems
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert json.loads(z.read(ar.INPUTS))["council"]["chair_name"] == settings["chair_name"]
    finally:
        assert closed.json("PUT", f"/api/councils/{COUNCIL}/record-settings", settings)[0] == 200


def test_the_openapi_document_declares_the_record_routes(closed: Closed) -> None:
    status, doc = closed.json("GET", "/schema/openapi.json", who=None)
    assert status == 200
    paths = doc["paths"]
    for path, method, statuses in (
        ("/api/sessions/{session_id}/record", "get", {"200", "401", "403", "404", "409", "422"}),
        ("/api/sessions/{session_id}/record/archive", "get", {"200", "401", "403", "404", "409", "422"}),
        ("/api/sessions/{session_id}/record/resolutions/{ref}", "get", {"200", "404", "409", "422"}),
        ("/api/sessions/{session_id}/record/drafts/{item_id}", "put", {"200", "400", "401", "403", "404", "413"}),
        ("/api/councils/{council_id}/record-settings", "put", {"200", "400", "401", "403", "404", "413"}),
        ("/api/sessions/{session_id}/public-record", "get", {"200", "404", "409"}),
        ("/api/sessions/{session_id}/public-record/minutes", "get", {"200", "404", "409"}),
    ):
        op = paths[path][method]
        assert statuses <= set(op["responses"]), (path, set(op["responses"]))
        for s in statuses - {"200"}:
            ref = op["responses"][s]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody"), (path, s)


def test_record_inputs_are_audited_on_postgres(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("record_inputs")
    with ServerProcess(url) as srv:  # the demo seeding stores and audits the demo inputs
        token = asyncio.run(sign_in(srv.http, "vanphong", DEMO_PASSWORD))
        status, drafts = http("GET", f"{srv.http}{RECORD}/drafts", token=token)
        assert status == 200 and set(drafts) == {"nq-ngan-sach", "nq-dau-tu-cong"}
        for k in range(3):
            body = {**drafts["nq-ngan-sach"], "summary": f"Về dự toán năm 2027 (bản {k})"}
            assert http("PUT", f"{srv.http}{RECORD}/drafts/nq-ngan-sach", body, token)[0] == 200
        assert http("GET", f"{srv.http}{RECORD}/drafts", token=token)[1]["nq-ngan-sach"]["summary"].endswith("(bản 2)")
    report = asyncio.run(verify(url))
    assert report.ok, report.text()
    assert f"record:session:{SESSION}" in report.heads and f"record:council:{COUNCIL}" in report.heads
