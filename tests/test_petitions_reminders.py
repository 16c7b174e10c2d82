"""Reminders before a deadline (issue 14 §2): the server's clock records `item_reminded` once per item and
deadline when the deadline is `remind_days` away (7 by default, the deadline day included) and the agency has not
answered; the engine mails it on commit (server/notify.py). The domain's boundaries here; through a real server
and a real SMTP server (aiosmtpd) below."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from clients.sdk import sign_in
from meeting import petitions_messages as m
from meeting.errors import Code
from meeting.petitions_model import PetitionRules, ResourceGroup, Status, council_date, reminders_unsent
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.test_petitions import CLOCK, HEALTH, SECRETARY, STANDING, setup
from tests.test_petitions_mail import Inbox, smtp

__all__ = ["smtp"]  # the fixture, for pytest

DUE = date(2027, 1, 20)


def _assigned() -> Any:
    r = setup()
    r.accept(m.ClassifyItem(item_id="kn-2", field_id="y-te", group=ResourceGroup.NO_RESOURCES), SECRETARY)
    r.accept(m.AssignItem(item_id="kn-2", agency_id="so-yt", due=DUE), SECRETARY)
    return r


def _at(day: date, hour_utc: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour_utc, minute, tzinfo=UTC)


def test_the_reminder_is_due_from_the_first_minute_of_the_seventh_day_before_in_vietnam() -> None:
    r = _assigned()
    first_day = DUE - timedelta(days=7)  # 13 January
    # 16:59 UTC on 12 January is 23:59 on the 12th in Vietnam: too early; 17:00 UTC is 00:00 on the 13th.
    r.now = datetime(2027, 1, 12, 16, 59, tzinfo=UTC)
    assert council_date(r.now) == first_day - timedelta(days=1)
    assert reminders_unsent(r.s, r.now) == []
    r.refuse(m.RemindItem(item_id="kn-2"), CLOCK, Code.NO_REMINDER_DUE)
    r.now = datetime(2027, 1, 12, 17, 0, tzinfo=UTC)
    assert reminders_unsent(r.s, r.now) == ["kn-2"]
    routed = r.accept(m.RemindItem(item_id="kn-2"), CLOCK)
    ev = routed[0].event
    assert isinstance(ev, m.ItemReminded) and (ev.agency_id, ev.due) == ("so-yt", DUE)
    assert routed[0].audience.admits(HEALTH)  # the agency's official sees it, as the office does
    # Once per deadline, however many clocks ask.
    assert reminders_unsent(r.s, r.now) == []
    r.refuse(m.RemindItem(item_id="kn-2"), CLOCK, Code.NO_REMINDER_DUE)


def test_no_reminder_after_the_deadline_or_once_answered_or_for_a_non_clock() -> None:
    r = _assigned()
    r.now = _at(DUE + timedelta(days=1), 0)  # 07:00 on the 21st in Vietnam: overdue, not a reminder
    assert reminders_unsent(r.s, r.now) == []
    r.now = _at(DUE, 16, 59)  # 23:59 on the deadline day: still a reminder
    assert reminders_unsent(r.s, r.now) == ["kn-2"]
    r.refuse(m.RemindItem(item_id="kn-2"), HEALTH, Code.FORBIDDEN)  # the clock's (and the office's) only
    r.accept(m.AnswerItem(item_id="kn-2", text="Đã cấp bổ sung thuốc."), HEALTH)
    assert reminders_unsent(r.s, r.now) == []
    r.refuse(m.RemindItem(item_id="kn-2"), CLOCK, Code.NO_REMINDER_DUE)
    r.refuse(m.RemindItem(item_id="khong-co"), CLOCK, Code.UNKNOWN_TRACKED_ITEM)


def test_a_new_deadline_gets_its_own_reminder_and_zero_days_means_none() -> None:
    r = _assigned()
    r.now = _at(DUE - timedelta(days=3), 3)
    r.accept(m.RemindItem(item_id="kn-2"), CLOCK)
    # Partly resolved with a new date: the agency is reminded again before that one.
    later = DUE + timedelta(days=60)
    r.accept(
        m.ConcludeItem(item_id="kn-2", outcome=Status.PARTLY_RESOLVED, note="Mới cấp một phần.", next_due=later),
        STANDING,
    )
    assert reminders_unsent(r.s, r.now) == []
    r.now = _at(later - timedelta(days=2), 3)
    assert reminders_unsent(r.s, r.now) == ["kn-2"]
    rules = msgspec.structs.replace(r.s.rules, remind_days=0)
    r.accept(m.ChangePetitionRules(rules=rules), SECRETARY)
    assert reminders_unsent(r.s, r.now) == []
    r.refuse(m.ChangePetitionRules(rules=msgspec.structs.replace(rules, remind_days=-1)), SECRETARY, Code.INVALID)
    r.refuse(m.ChangePetitionRules(rules=msgspec.structs.replace(rules, remind_days=91)), SECRETARY, Code.INVALID)
    assert PetitionRules().remind_days == 7


def test_the_agency_is_mailed_a_reminder_once(smtp: tuple[Inbox, int]) -> None:
    """Through a real server: an item assigned with its deadline 3 days away is reminded at once by the server's
    clock; the agency gets the assignment and one reminder, never the voter's name."""
    inbox, port = smtp
    env = {
        "KYHOP_SMTP_HOST": "127.0.0.1",
        "KYHOP_SMTP_PORT": str(port),
        "KYHOP_SMTP_STARTTLS": "0",
        "KYHOP_SMTP_FROM": "hdnd@kyhop.example.vn",
    }
    base = "/api/councils/hdnd-minh-hoa/petitions/nhac-han"
    with ServerProcess(extra_env=env) as srv:
        token = asyncio.run(sign_in(srv.http, "vanphong", DEMO_PASSWORD))
        n = 0

        def run(command: dict[str, Any]) -> tuple[int, Any]:
            nonlocal n
            n += 1
            return http("POST", f"{srv.http}{base}/commands", {"id": f"c{n}", "command": command}, token)

        assert run({"type": "open_petitions", "council_id": "hdnd-minh-hoa", "term_id": "nhac-han"})[0] == 201
        summary = http("GET", f"{srv.http}{base}/summary")[1]
        agencies = [{**a, "email": "soyte@example.vn"} if a["id"] == "so-yt" else a for a in summary["agencies"]]
        assert (
            run({"type": "change_petition_rules", "rules": {"fields": summary["fields"], "agencies": agencies}})[0]
            == 201
        )
        assert run({"type": "set_delegate_group", "group_id": "to-1", "name": "Tổ 1", "members": []})[0] == 201
        meeting = {
            "type": "record_voter_meeting", "meeting_id": "m1", "group_id": "to-1", "timing": "themed",
            "place": "Phường Đông Hải", "held_on": "2026-11-20", "delegates_present": [], "voters": 60,
        }  # fmt: skip
        assert run(meeting)[0] == 201
        record = {"type": "record_petition", "petition_id": "p1", "meeting_id": "m1", "text": "Trạm y tế thiếu bác sĩ"}
        assert run({**record, "petitioner": "Nguyễn Thị Hoa"})[0] == 201
        assert run({"type": "classify_item", "item_id": "p1", "field_id": "y-te", "group": "no_resources"})[0] == 201
        due = council_date(datetime.now(UTC)) + timedelta(days=3)
        assert run({"type": "assign_item", "item_id": "p1", "agency_id": "so-yt", "due": due.isoformat()})[0] == 201
        deadline = time.monotonic() + 30
        while len(inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        # Asked again by hand, the reminder is refused: the clock recorded it for this deadline.
        status, body = run({"type": "remind_item", "item_id": "p1"})
        assert (status, body["code"]) == (409, "no_reminder_due"), body
        time.sleep(1.0)  # long enough for a third message, if one were (wrongly) sent
    subjects = sorted(msg["Subject"] for _, msg in inbox.messages)
    assert len(subjects) == 2, subjects
    reminder = next(msg for _, msg in inbox.messages if "Nhắc hạn" in msg["Subject"])
    assert "còn 3 ngày" in reminder["Subject"] and due.strftime("%d/%m/%Y") in reminder["Subject"]
    body = reminder.get_content()
    assert body.startswith("Kính gửi Sở Y tế") and "Trạm y tế thiếu bác sĩ" in body and due.isoformat() in body
    assert "Nguyễn Thị Hoa" not in str(reminder)
