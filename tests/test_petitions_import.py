"""Importing a delegate group's summary table of petitions (server/petitions_import.py) through a real server, on
SQLite and PostgreSQL: the preview lists each row's error in Vietnamese and English and writes nothing; the import
runs only with the preview's hash, only when no row has an error, and a retried confirm records each row once;
CSV (comma or semicolon, with Excel's byte-order mark) and XLSX read alike; files that are not tables are 422."""

from __future__ import annotations

import asyncio
import io
import json
import urllib.error
import urllib.request
from typing import Any

from openpyxl import Workbook

from clients.sdk import sign_in
from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.services import PostgresServer

COUNCIL = script.COUNCIL_ID
BASE = f"/api/councils/{COUNCIL}/petitions/2026-2031"
D7, D9 = script.delegate_id(7), script.delegate_id(9)

HEADER = ["STT", "Mã buổi TXCT", "Nội dung kiến nghị", "Địa bàn", "Cử tri kiến nghị"]
GOOD = [
    ["1", "m1", "Đề nghị nâng cấp đường liên xã Phú Lộc", "Thôn 3", "Nguyễn Văn Bình"],
    ["2", "m1", "Trạm y tế thiếu bác sĩ trực đêm", "Tổ dân phố 2", ""],
]
BAD = [*GOOD, ["3", "m-x", "Kênh mương xuống cấp", "", ""], ["4", "m1", "   ", "", ""]]


def post_raw(srv: ServerProcess, path: str, data: bytes, token: str | None) -> tuple[int, Any]:
    req = urllib.request.Request(f"{srv.http}{path}", data=data, method="POST")
    req.add_header("content-type", "application/octet-stream")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def as_csv(rows: list[list[str]], sep: str = ",") -> bytes:
    return ("\ufeff" + "\n".join(sep.join(r) for r in [HEADER, *rows]) + "\n").encode()


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in [HEADER, *rows]:
        sheet.append([int(r[0]) if r[0].isdigit() else r[0], *r[1:]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def scenario(srv: ServerProcess) -> None:
    tok = {u: asyncio.run(sign_in(srv.http, u, DEMO_PASSWORD)) for u in ("vanphong", "daibieu07", "daibieu09")}

    def cmd(command: dict[str, Any], n: str) -> None:
        status, body = http("POST", f"{srv.http}{BASE}/commands", {"id": n, "command": command}, tok["vanphong"])
        assert status == 201, body

    def items() -> list[str]:
        status, page = http("GET", f"{srv.http}{BASE}/items", None, tok["vanphong"])
        assert status == 200
        return [i["id"] for i in page["items"]]

    cmd({"type": "open_petitions", "council_id": COUNCIL, "term_id": "2026-2031"}, "o")
    cmd({"type": "set_delegate_group", "group_id": "to-1", "name": "Tổ 1", "members": [D7]}, "g")
    meeting = {
        "type": "record_voter_meeting", "meeting_id": "m1", "group_id": "to-1", "timing": "after",
        "session_id": script.SESSION_ID, "place": "Xã Phú Lộc", "held_on": "2027-01-04",
        "delegates_present": [D7], "voters": 80,
    }  # fmt: skip
    cmd(meeting, "m")

    # The preview: the good rows, and each bad row's error from the domain, in both languages; nothing written.
    status, preview = post_raw(srv, f"{BASE}/import/csv", as_csv(BAD), tok["daibieu07"])
    assert status == 200, preview
    assert preview["rows"] == 4 and [p["row"] for p in preview["petitions"]] == [2, 3]
    assert [(e["row"], e["code"]) for e in preview["errors"]] == [(4, "unknown_voter_meeting"), (5, "invalid")]
    assert all(e["message_vi"] and e["message_en"] for e in preview["errors"])
    assert items() == []
    # Confirming a table with errors, or another file than the previewed one, writes nothing.
    status, body = post_raw(srv, f"{BASE}/import/csv?confirm={preview['hash']}", as_csv(BAD), tok["daibieu07"])
    assert (status, body["code"]) == (422, "import_has_errors")
    status, body = post_raw(srv, f"{BASE}/import/csv?confirm={preview['hash']}", as_csv(GOOD), tok["daibieu07"])
    assert (status, body["code"]) == (409, "import_changed")
    assert items() == []
    # A delegate of another group: every row is theirs to fix (the domain's not_in_group).
    status, other = post_raw(srv, f"{BASE}/import/csv", as_csv(GOOD), tok["daibieu09"])
    assert status == 200 and {e["code"] for e in other["errors"]} == {"not_in_group"} and not other["petitions"]

    # The good table, semicolon-separated as Excel writes it in a Vietnamese locale, then confirmed twice.
    data = as_csv(GOOD, ";")
    status, preview = post_raw(srv, f"{BASE}/import/csv", data, tok["daibieu07"])
    assert status == 200 and not preview["errors"] and len(preview["petitions"]) == 2
    ids = [p["petition_id"] for p in preview["petitions"]]
    for _ in range(2):
        status, done = post_raw(srv, f"{BASE}/import/csv?confirm={preview['hash']}", data, tok["daibieu07"])
        assert status == 200 and done["recorded"] == ids and done["refused"] == [], done
    assert items() == sorted(ids)
    status, one = http("GET", f"{srv.http}{BASE}/items/{ids[0]}", None, tok["vanphong"])
    assert one["sources"] == [{"meeting_id": "m1", "petitioner": "Nguyễn Văn Bình"}] and one["area"] == "Thôn 3"

    # XLSX reads the same (numbers in the STT column and all); its own ids are derived from its own hash.
    book = as_xlsx(GOOD)
    status, preview = post_raw(srv, f"{BASE}/import/xlsx", book, tok["vanphong"])
    assert status == 200 and [p["text"] for p in preview["petitions"]] == [r[2] for r in GOOD], preview
    status, done = post_raw(srv, f"{BASE}/import/xlsx?confirm={preview['hash']}", book, tok["vanphong"])
    assert status == 200 and len(done["recorded"]) == 2
    assert len(items()) == 4

    # Not tables: 422 `bad_table`, in both languages; no token: 401; another council: 403.
    for path, body_bytes in (
        ("xlsx", b"not a zip"),
        ("xlsx", as_csv(GOOD)),
        ("csv", "Mã buổi TXCT;Nội dung\n".encode("utf-16")),
        ("csv", b"a,b,c\n1,2,3\n"),
        ("csv", b""),
    ):
        status, body = post_raw(srv, f"{BASE}/import/{path}", body_bytes, tok["vanphong"])
        assert (status, body["code"]) == (422, "bad_table"), (path, body_bytes[:20], body)
        assert body["message_vi"] and body["message_en"]
    assert post_raw(srv, f"{BASE}/import/csv", as_csv(GOOD), None)[0] == 401
    status, body = post_raw(srv, "/api/councils/other/petitions/2026-2031/import/csv", as_csv(GOOD), tok["vanphong"])
    assert (status, body["code"]) == (403, "wrong_council")
    status, body = post_raw(srv, f"/api/councils/{COUNCIL}/petitions/nope/import/csv", as_csv(GOOD), tok["vanphong"])
    assert (status, body["code"]) == (404, "unknown_petitions")
    assert len(items()) == 4


def test_import_on_sqlite() -> None:
    with ServerProcess() as srv:
        scenario(srv)


def test_import_on_postgres(postgres_server: PostgresServer) -> None:
    with ServerProcess(postgres_server.create_database("petitions_import")) as srv:
        scenario(srv)
