"""E-mail to an agency when a petition is assigned to it (server/notify.py), through a real SMTP server the test
starts (aiosmtpd) and a real Kỳ họp server (SQLite and PostgreSQL): one message per assignment, to the address on
the council's list, Vietnamese first, with what the agency may read and never the voter's name; an agency
without an address gets nothing; an invalid address is refused with the rules change."""

from __future__ import annotations

import asyncio
import logging
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


# --- retries (server/notify.py): the Notifier against a real SMTP server that fails the way relays do ------------


class Flaky:
    """Answers DATA with 451 (greylisting, "come back later") `busy` times, then accepts; refuses `refused`
    recipients with 550 at RCPT."""

    def __init__(self, busy: int = 0, refused: str = "") -> None:
        self.busy = busy
        self.refused = refused
        self.attempts = 0
        self.delivered: list[EmailMessage] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.attempts <= self.busy:
            return "451 4.7.1 Greylisted, try again later"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.delivered.append(msg)
        return "250 OK"


def _notifier(port: int, delays: tuple[float, ...]) -> Any:
    from pathlib import Path

    from server.config import Settings
    from server.notify import Notifier

    settings = Settings(
        database_url="sqlite+aiosqlite:///unused.db",
        redis_url=None,
        secret_key="x" * 40,
        data_dir=Path("."),
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_from="hdnd@kyhop.example.vn",
    )
    return Notifier(settings, retry_delays=delays)


def _message(to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "hdnd@kyhop.example.vn", to, "[Kỳ họp] Kiến nghị p1 sắp đến hạn"
    msg.set_content("Kính gửi Sở Y tế")
    return msg


def _serve(handler: Any) -> tuple[Controller, int]:
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, port


def test_a_passing_failure_is_retried_until_delivered_once() -> None:
    handler = Flaky(busy=2)
    ctl, port = _serve(handler)
    try:
        delivered = asyncio.run(_notifier(port, (0.05, 0.05, 0.05)).send(_message("soyte@example.vn")))
    finally:
        ctl.stop()
    assert delivered and handler.attempts == 3 and len(handler.delivered) == 1
    assert handler.delivered[0]["Subject"] == "[Kỳ họp] Kiến nghị p1 sắp đến hạn"


def test_a_relay_that_stays_busy_is_given_up_after_the_last_retry() -> None:
    handler = Flaky(busy=10)
    ctl, port = _serve(handler)
    try:
        delivered = asyncio.run(_notifier(port, (0.05, 0.05)).send(_message("soyte@example.vn")))
    finally:
        ctl.stop()
    assert not delivered and handler.attempts == 3 and handler.delivered == []


def test_a_permanent_refusal_is_not_retried() -> None:
    handler = Flaky(refused="khongco@example.vn")
    ctl, port = _serve(handler)
    try:
        delivered = asyncio.run(_notifier(port, (0.05, 0.05, 0.05)).send(_message("khongco@example.vn")))
    finally:
        ctl.stop()
    assert not delivered and handler.attempts == 0 and handler.delivered == []


def test_an_unreachable_relay_is_retried_and_then_reached() -> None:
    """Nothing listens at first (connection refused); the relay comes up before the second attempt."""
    port = free_port()
    handler = Flaky()

    async def scenario() -> bool:
        failed = asyncio.Event()

        class Watch(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if "attempt 1 of 2" in record.getMessage():
                    failed.set()

        watch = Watch()
        logging.getLogger("kyhop.notify").addHandler(watch)
        try:
            task = _notifier(port, (1.0,)).post(_message("soyte@example.vn"))
            await asyncio.wait_for(failed.wait(), 30)  # the first attempt was refused: nothing listened
            ctl = Controller(handler, hostname="127.0.0.1", port=port)
            ctl.start()
            try:
                return bool(await task)
            finally:
                ctl.stop()
        finally:
            logging.getLogger("kyhop.notify").removeHandler(watch)

    assert asyncio.run(scenario()) and len(handler.delivered) == 1
