"""An agency answers with a PDF (server/routes_petitions_answers.py) through a real server, on SQLite and
PostgreSQL: the PDF passes the documents' checks and storage, the answer records its document id, whoever may see
the item gets a signed link that downloads the same bytes, and another agency, a file that is not a PDF, an
answer out of turn or a missing file are refused with nothing recorded."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import httpx
import pytest

from clients.sdk import sign_in
from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.pdf_corpus import good_pdf
from tests.services import PostgresServer

COUNCIL = script.COUNCIL_ID
BASE = f"/api/councils/{COUNCIL}/petitions/2026-2031"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    pg: PostgresServer = request.getfixturevalue("postgres_server")
    return pg.create_database(f"petitions_answer_{time.monotonic_ns()}")


def test_an_agency_answers_with_a_pdf(database_url: str | None) -> None:
    with ServerProcess(database_url) as srv:
        vp = asyncio.run(sign_in(srv.http, "vanphong", DEMO_PASSWORD))
        for user, person in (("cb.yte", "cb-yte"), ("cb.xd", "cb-xd")):
            body = {"username": user, "password": DEMO_PASSWORD, "display_name": user, "roles": ["agency"],
                    "person_id": person}  # fmt: skip
            assert http("POST", f"{srv.http}/api/councils/{COUNCIL}/accounts/", body, vp)[0] == 201
        yte = asyncio.run(sign_in(srv.http, "cb.yte", DEMO_PASSWORD))
        xd = asyncio.run(sign_in(srv.http, "cb.xd", DEMO_PASSWORD))
        n = 0

        def run(command: dict[str, Any]) -> None:
            nonlocal n
            n += 1
            status, body = http("POST", f"{srv.http}{BASE}/commands", {"id": f"c{n}", "command": command}, vp)
            assert status == 201, (command, body)

        run({"type": "open_petitions", "council_id": COUNCIL, "term_id": "2026-2031"})
        run({"type": "set_delegate_group", "group_id": "to-1", "name": "Tổ 1", "members": []})
        run({"type": "appoint_official", "person_id": "cb-yte", "agency_id": "so-yt"})
        run({"type": "appoint_official", "person_id": "cb-xd", "agency_id": "so-xd"})
        run({"type": "record_voter_meeting", "meeting_id": "m1", "group_id": "to-1", "timing": "themed",
             "place": "Xã Phú Lộc", "held_on": "2027-01-04", "delegates_present": [], "voters": 60})  # fmt: skip
        run({"type": "record_petition", "petition_id": "p1", "meeting_id": "m1", "text": "Thiếu bác sĩ"})
        run({"type": "record_petition", "petition_id": "p2", "meeting_id": "m1", "text": "Chưa phân loại"})
        run({"type": "classify_item", "item_id": "p1", "field_id": "y-te", "group": "no_resources"})
        run({"type": "assign_item", "item_id": "p1", "agency_id": "so-yt"})

        pdf = good_pdf("Văn bản trả lời kiến nghị cử tri")

        def upload(token: str | None, item: str, data: dict[str, str], file: bytes | None) -> tuple[int, Any]:
            # Without a file the form still goes as multipart, with one more field instead.
            files: dict[str, Any] = (
                {"file": ("tra-loi.pdf", file, "application/pdf")} if file is not None else {"note": (None, b"")}
            )
            headers = {"authorization": f"Bearer {token}"} if token else {}
            r = httpx.post(f"{srv.http}{BASE}/items/{item}/answer-document", data=data, files=files,
                           headers=headers, timeout=60)  # fmt: skip
            return r.status_code, r.json()

        def item(pid: str) -> Any:
            return http("GET", f"{srv.http}{BASE}/items/{pid}", None, vp)[1]

        # Refusals first, each leaving the item as it was.
        status, body = upload(xd, "p1", {"text": "Đã xử lý"}, pdf)
        assert (status, body["code"]) == (404, "unknown_tracked_item")
        status, body = upload(yte, "p1", {"text": "Đã xử lý"}, b"%PDF-1.4 not really")
        assert status == 422 and body["message_vi"] and body["message_en"], body
        status, body = upload(yte, "p1", {"text": "Đã xử lý"}, None)
        assert status == 422, body
        status, body = upload(vp, "p2", {"text": "Đã xử lý"}, pdf)  # not assigned yet: out of turn
        assert (status, body["code"]) == (409, "wrong_item_state"), body
        assert upload(None, "p1", {"text": "x"}, pdf)[0] == 401
        assert item("p1")["status"] == "assigned" and item("p1")["answers"] == []

        status, out = upload(yte, "p1", {"text": "Sở Y tế bố trí bác sĩ trực từ tháng 3."}, pdf)
        assert status == 201, out
        assert out["sha256"] == hashlib.sha256(pdf).hexdigest() and out["pages"] >= 1
        answer = item("p1")["answers"][0]
        assert answer["document_id"] == out["document_id"] and answer["agency_id"] == "so-yt"
        # The official, the office: a signed link to the same bytes; another agency: nothing.
        for token in (yte, vp):
            status, link = http("GET", f"{srv.http}{BASE}/items/p1/answer-document/{out['document_id']}", None, token)
            assert status == 200, link
            got = httpx.get(link["url"], timeout=30)
            assert got.status_code == 200 and got.content == pdf
        status, body = http("GET", f"{srv.http}{BASE}/items/p1/answer-document/{out['document_id']}", None, xd)
        assert (status, body["code"]) == (404, "unknown_tracked_item")
        status, body = http("GET", f"{srv.http}{BASE}/items/p1/answer-document/tl-nope", None, vp)
        assert (status, body["code"]) == (404, "unknown_document")
