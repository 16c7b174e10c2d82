"""E-mail to an agency when a petition is assigned to it (server/notify.py), through a real SMTP server the test
starts (aiosmtpd) and a real Kỳ họp server (SQLite and PostgreSQL): one message per assignment, to the address on
the council's list, Vietnamese first, with what the agency may read and never the voter's name; an agency
without an address gets nothing; an invalid address is refused with the rules change."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from clients.sdk import sign_in
from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, free_port, http
from tests.services import PostgresServer

COUNCIL = script.COUNCIL_ID
BASE = f"/api/councils/{COUNCIL}/petitions/2026-2031"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it so
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    pg: PostgresServer = request.getfixturevalue("postgres_server")
    return pg.create_database(f"petitions_mail_{time.monotonic_ns()}")


def test_an_agency_is_mailed_its_assignment(smtp: tuple[Inbox, int], database_url: str | None) -> None:
    inbox, port = smtp
    env = {
        "KYHOP_SMTP_HOST": "127.0.0.1",
        "KYHOP_SMTP_PORT": str(port),
        "KYHOP_SMTP_STARTTLS": "0",
        "KYHOP_SMTP_FROM": "hdnd@kyhop.example.vn",
    }
    with ServerProcess(database_url, extra_env=env) as srv:
        token = asyncio.run(sign_in(srv.http, "vanphong", DEMO_PASSWORD))
        n = 0

        def run(command: dict[str, Any]) -> tuple[int, Any]:
            nonlocal n
            n += 1
            return http("POST", f"{srv.http}{BASE}/commands", {"id": f"c{n}", "command": command}, token)

        assert run({"type": "open_petitions", "council_id": COUNCIL, "term_id": "2026-2031"})[0] == 201
        status, summary = http("GET", f"{srv.http}{BASE}/summary")
        assert status == 200
        agencies = [{**a, "email": "soyte@example.vn"} if a["id"] == "so-yt" else a for a in summary["agencies"]]
        rules = {"fields": summary["fields"], "agencies": agencies}
        bad = [{**a, "email": "a@b, c@d"} if a["id"] == "so-xd" else a for a in agencies]
        status, body = run({"type": "change_petition_rules", "rules": {**rules, "agencies": bad}})
        assert (status, body["code"]) == (422, "invalid") and body["message_vi"]
        assert run({"type": "change_petition_rules", "rules": rules})[0] == 201
        # The public summary never shows the office's contacts.
        assert all(a["email"] == "" for a in http("GET", f"{srv.http}{BASE}/summary")[1]["agencies"])
        assert run({"type": "set_delegate_group", "group_id": "to-1", "name": "Tổ 1", "members": []})[0] == 201
        meeting = {
            "type": "record_voter_meeting", "meeting_id": "m1", "group_id": "to-1", "timing": "themed",
            "place": "Phường Đông Hải", "held_on": "2027-01-04", "delegates_present": [], "voters": 60,
        }  # fmt: skip
        assert run(meeting)[0] == 201, run(meeting)
        for pid, text in (("p1", "Trạm y tế phường thiếu bác sĩ trực đêm"), ("p2", "Đường liên thôn xuống cấp")):
            record = {"type": "record_petition", "petition_id": pid, "meeting_id": "m1", "text": text}
            assert run({**record, "area": "Tổ dân phố 3", "petitioner": "Nguyễn Thị Hoa"})[0] == 201
            classify = {"type": "classify_item", "item_id": pid, "field_id": "y-te", "group": "no_resources"}
            assert run(classify)[0] == 201
        assert run({"type": "assign_item", "item_id": "p1", "agency_id": "so-yt", "due": "2027-02-05"})[0] == 201
        assert run({"type": "assign_item", "item_id": "p2", "agency_id": "so-xd"})[0] == 201  # no address

        deadline = time.monotonic() + 20
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # long enough for a second message, if one were (wrongly) sent
    assert len(inbox.messages) == 1, [m["Subject"] for _, m in inbox.messages]
    rcpt, msg = inbox.messages[0]
    assert rcpt == ["soyte@example.vn"] and msg["From"] == "hdnd@kyhop.example.vn"
    assert "p1" in msg["Subject"] and "05/02/2027" in msg["Subject"]
    body = msg.get_content()
    assert body.startswith("Kính gửi Sở Y tế") and "Trạm y tế phường thiếu bác sĩ trực đêm" in body
    assert "Tổ dân phố 3" in body and "Y tế" in body and "2027-02-05" in body
    assert "Nguyễn Thị Hoa" not in body and "Nguyễn Thị Hoa" not in str(msg)
