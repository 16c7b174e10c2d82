"""Importing the council's roster from XLSX or CSV (server/roster_import.py) through a real server: the preview
lists each row's error in Vietnamese and English and writes nothing; the import runs only with the preview's hash
and only when no row has an error; a retried confirm seats each delegate once; malformed, oversized, wrongly
encoded and unauthorised uploads are refused with a clear message and change nothing."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import Workbook

from clients.sdk import sign_in
from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.test_petitions_import import post_raw

COUNCIL = script.COUNCIL_ID
BASE = f"/api/councils/{COUNCIL}/roster/import"
HEADER = ["STT", "Mã đại biểu", "Họ và tên", "Đơn vị bầu cử"]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in [header, *rows]:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv(rows: list[list[str]], sep: str = ";", encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(sep.join(r) for r in [HEADER, *rows]).encode(encoding)


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    with ServerProcess() as s:
        yield s


@pytest.fixture(scope="module")
def tokens(srv: ServerProcess) -> dict[str, str]:
    return {u: asyncio.run(sign_in(srv.http, u, DEMO_PASSWORD)) for u in ("vanphong", "chutoa", "daibieu07")}


def roster(srv: ServerProcess, token: str) -> dict[str, Any]:
    status, body = http("GET", f"{srv.http}/api/councils/{COUNCIL}", None, token)
    assert status == 200, body
    return {d["id"]: d for d in body["delegates"].values()} if isinstance(body["delegates"], dict) else body


def test_xlsx_preview_then_confirm_seats_each_delegate_once(srv: ServerProcess, tokens: dict[str, str]) -> None:
    tok = tokens["vanphong"]
    before = roster(srv, tok)
    data = xlsx([[1, "db101", "Nguyễn Thị Lan", "Đơn vị 1"], [2, "db102", "  Trần Văn Minh ", "Đơn vị 2"]])
    status, preview = post_raw(srv, f"{BASE}/xlsx", data, tok)
    assert status == 200, preview
    assert [(d["row"], d["delegate_id"], d["name"]) for d in preview["delegates"]] == [
        (2, "db101", "Nguyễn Thị Lan"),
        (3, "db102", "Trần Văn Minh"),
    ]
    assert preview["errors"] == [] and preview["rows"] == 2
    assert roster(srv, tok) == before  # a preview writes nothing
    status, out = post_raw(srv, f"{BASE}/xlsx?confirm={preview['hash']}", data, tok)
    assert status == 200, out
    assert out["seated"] == ["db101", "db102"] and out["refused"] == []
    after = roster(srv, tok)
    assert after["db102"]["name"] == "Trần Văn Minh"
    # the same confirm again (a retry): nothing doubles, nothing is refused
    status, again = post_raw(srv, f"{BASE}/xlsx?confirm={preview['hash']}", data, tok)
    assert status == 200 and again["seated"] == ["db101", "db102"] and again["refused"] == []
    assert roster(srv, tok) == after


def test_row_errors_are_listed_and_nothing_is_written(srv: ServerProcess, tokens: dict[str, str]) -> None:
    tok = tokens["vanphong"]
    before = roster(srv, tok)
    rows = [
        [1, "db201", "Lê Văn Hùng", ""],
        [2, "db201", "Phạm Thị Hoa", ""],  # the same id again
        [3, "db203", "   ", ""],  # no name
        [4, "DB 204!", "Võ Văn Tâm", ""],  # not an id
        [5, script.delegate_id(1), "Người khác", ""],  # already on the roster
    ]
    data = xlsx(rows)
    status, preview = post_raw(srv, f"{BASE}/xlsx", data, tok)
    assert status == 200, preview
    errs = {e["row"]: e for e in preview["errors"]}
    assert set(errs) == {3, 4, 5, 6}
    assert errs[3]["code"] == "duplicate_id" and "trùng với dòng 2" in errs[3]["message_vi"]
    assert errs[4]["code"] == "invalid" and "họ tên" in errs[4]["message_vi"]
    assert errs[6]["code"] == "duplicate_id"
    for e in preview["errors"]:
        assert e["message_vi"] and e["message_en"]
    status, body = post_raw(srv, f"{BASE}/xlsx?confirm={preview['hash']}", data, tok)
    assert status == 422 and body["code"] == "import_has_errors" and "Chưa có đại biểu nào" in body["message_vi"]
    assert roster(srv, tok) == before


def test_csv_semicolons_and_bom_read_like_xlsx(srv: ServerProcess, tokens: dict[str, str]) -> None:
    status, preview = post_raw(srv, f"{BASE}/csv", csv([["1", "db301", "Đặng Thu Hà", "Đơn vị 3"]]), tokens["vanphong"])
    assert status == 200 and [d["name"] for d in preview["delegates"]] == ["Đặng Thu Hà"]


@pytest.mark.parametrize(
    ("fmt", "data", "words"),
    [
        ("xlsx", b"PK\x03\x04 not really a workbook", "XLSX"),
        ("xlsx", b"", "XLSX"),
        ("csv", csv([["1", "db401", "Bùi Văn Đức", ""]], encoding="utf-16"), "UTF-8"),  # Excel's "Unicode text"
        ("csv", "Tên;Tuổi\nA;1\n".encode(), "Thiếu cột"),
        ("csv", "Mã đại biểu;Họ và tên\n".encode(), "không có dòng"),
    ],
)
def test_unreadable_tables_are_one_clear_refusal(
    srv: ServerProcess, tokens: dict[str, str], fmt: str, data: bytes, words: str
) -> None:
    tok = tokens["vanphong"]
    before = roster(srv, tok)
    status, body = post_raw(srv, f"{BASE}/{fmt}", data, tok)
    assert status == 422 and body["code"] == "bad_table", body
    assert words in body["message_vi"] and body["message_en"]
    assert roster(srv, tok) == before


def test_oversized_unauthorised_and_changed_files_are_refused(srv: ServerProcess, tokens: dict[str, str]) -> None:
    tok = tokens["vanphong"]
    before = roster(srv, tok)
    data = xlsx([[1, "db501", "Hồ Thị Mai", ""]])
    status, body = post_raw(srv, f"{BASE}/xlsx", b"x" * (1024 * 1024 + 1), tok)
    assert status == 413 and body["message_vi"]
    assert post_raw(srv, f"{BASE}/xlsx", data, None)[0] == 401
    for user in ("chutoa", "daibieu07"):  # the chair and a delegate may not change the roster
        status, body = post_raw(srv, f"{BASE}/xlsx", data, tokens[user])
        assert status == 403 and body["message_vi"], (user, body)
    assert post_raw(srv, "/api/councils/khong-co/roster/import/xlsx", data, tok)[0] in (403, 404)
    status, preview = post_raw(srv, f"{BASE}/xlsx", data, tok)
    other = xlsx([[1, "db502", "Người khác", ""]])
    status, body = post_raw(srv, f"{BASE}/xlsx?confirm={preview['hash']}", other, tok)
    assert status == 409 and body["code"] == "import_changed"
    status, body = post_raw(srv, f"{BASE}/xlsx?confirm={'z' * 65}", data, tok)
    assert status == 400
    assert roster(srv, tok) == before
