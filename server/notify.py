"""E-mail to agencies: a petition, commitment or conclusion newly assigned to them, and a reminder when its
deadline is near and it is not answered (issue 14 §2). The reminder is the event `item_reminded`, which the
server's clock records once per item and deadline (server/engine.py `_fire_overdue`, petitions_model
`reminder_due`), so it is mailed once like an assignment.

The engine calls `Notifier.committed` on the worker that committed a batch, after the commit, so each assignment
is mailed once however many workers hold the register, and never for an assignment that was not committed. The
address is the agency's on the council's list (`Agency.email`); an agency without one, or a server without
`KYHOP_SMTP_HOST`, gets nothing. Sending runs in a thread (stdlib smtplib) off the event loop; a failure is
logged and never touches the command, which is committed already. What the mail carries is the assignment's
`Brief`: what the agency may read anyway, never a voter's name.

A delivery that fails for a passing reason (the relay unreachable or restarting, a 4xx answer such as
greylisting's 451) is tried again after RETRY_DELAYS; a permanent refusal (5xx: no such mailbox, relaying denied)
is logged once and not repeated. The retries live in the worker's memory: a restart in between loses them (the
message is in the log).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from meeting.petitions_messages import ItemAssigned, ItemReminded
from meeting.petitions_model import PetitionsState, council_date
from server.config import Settings

log = logging.getLogger("kyhop.notify")
SMTP_TIMEOUT = 30.0  # seconds for one message; a relay that hangs longer is logged and given up
# Seconds before the 2nd, 3rd and 4th attempt: greylisting asks senders to come back after 1-5 minutes, and a
# relay being restarted is back within minutes; after ~12 minutes in all the failure is logged and left.
RETRY_DELAYS = (30.0, 120.0, 600.0)


def permanent(e: Exception) -> bool:
    """A 5xx answer will be the same next time; a 4xx answer, a timeout or a refused connection may not be."""
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in e.recipients.values())
    if isinstance(e, smtplib.SMTPResponseException):
        return e.smtp_code >= 500
    return False


class Notifier:
    def __init__(self, settings: Settings, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self.settings = settings
        self.retry_delays = retry_delays
        self.tasks: set[asyncio.Task[bool]] = set()

    @property
    def enabled(self) -> bool:
        return self.settings.smtp_host is not None

    def committed(self, stream_id: str, state: Any, events: list[Any]) -> None:
        """After a commit on this worker: mail each assignment in `events` to its agency."""
        if not self.enabled or not isinstance(state, PetitionsState):
            return
        for ev in events:
            if not isinstance(ev, ItemAssigned | ItemReminded):
                continue
            agency = state.rules.agency(ev.agency_id)
            if agency is None or not agency.email:
                continue
            if isinstance(ev, ItemAssigned):
                self.post(assignment(state, ev, self.settings.smtp_from, agency.email))
            else:
                self.post(reminder(state, ev, self.settings.smtp_from, agency.email))

    def post(self, msg: EmailMessage) -> asyncio.Task[bool]:
        """Send `msg` in the background, with its retries; the task says whether it was delivered."""
        task = asyncio.get_running_loop().create_task(self.send(msg))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def send(self, msg: EmailMessage) -> bool:
        """Deliver `msg`, trying again after each of `retry_delays` while the failure may pass."""
        attempts = (0.0, *self.retry_delays)
        for n, delay in enumerate(attempts, 1):
            if delay:
                await asyncio.sleep(delay)
            try:
                await asyncio.to_thread(self._deliver, msg)
                return True
            except (OSError, smtplib.SMTPException) as e:
                if permanent(e):
                    log.warning("mail to %s refused, not retried: %s", msg["To"], e)
                    return False
                log.warning("mail to %s not sent (attempt %d of %d): %s", msg["To"], n, len(attempts), e)
        return False

    def _deliver(self, msg: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(msg)


def assignment(state: PetitionsState, ev: ItemAssigned, sender: str, to: str) -> EmailMessage:
    """The message: Vietnamese first, English after; the register, the item, its deadline and what it says."""
    agency = state.rules.agency(ev.agency_id)
    name = agency.name if agency else ev.agency_id
    fields = {f.id: f.name for f in state.rules.fields}
    field = fields.get(ev.brief.field_id or "", "")
    due = ev.due.strftime("%d/%m/%Y")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = f"[Kỳ họp] Kiến nghị {ev.item_id} giao {name}, hạn {due} / assigned, due {due}"
    msg.set_content(
        f"Kính gửi {name},\n\n"
        f"Thường trực HĐND ({state.council_id}, nhiệm kỳ {state.term_id}) giao quý cơ quan giải quyết, trả lời "
        f"mục {ev.item_id}{f' (lĩnh vực {field})' if field else ''}, hạn trả lời {due}:\n\n"
        f"{ev.brief.text}\n{f'Địa bàn: {ev.brief.area}' if ev.brief.area else ''}\n\n"
        "Trả lời trong Kỳ họp (hộp thư của cơ quan).\n\n"
        f"---\nTo {name}: item {ev.item_id} of the council's register {state.council_id}/{state.term_id} is "
        f"assigned to you; answer by {ev.due.isoformat()} in Kỳ họp (your agency's inbox).\n"
    )
    return msg


def reminder(state: PetitionsState, ev: ItemReminded, sender: str, to: str) -> EmailMessage:
    """The deadline is near: the item, its deadline and the days left, Vietnamese first; never a voter's name."""
    agency = state.rules.agency(ev.agency_id)
    name = agency.name if agency else ev.agency_id
    item = state.items.get(ev.item_id)
    text = item.text if item is not None else ""
    area = item.area if item is not None else ""
    due = ev.due.strftime("%d/%m/%Y")
    left = (ev.due - council_date(ev.stamp.at)).days
    left_vi = "hôm nay là hạn cuối" if left <= 0 else f"còn {left} ngày"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = f"[Kỳ họp] Nhắc hạn: kiến nghị {ev.item_id} hạn {due} ({left_vi}) / reminder, due {due}"
    msg.set_content(
        f"Kính gửi {name},\n\n"
        f"Mục {ev.item_id} trong sổ theo dõi kiến nghị ({state.council_id}, nhiệm kỳ {state.term_id}) giao quý cơ "
        f"quan giải quyết đến hạn trả lời ngày {due} ({left_vi}) và chưa có trả lời:\n\n"
        f"{text}\n{f'Địa bàn: {area}' if area else ''}\n\n"
        "Đề nghị trả lời trong Kỳ họp (hộp thư của cơ quan) trước thời hạn.\n\n"
        f"---\nTo {name}: item {ev.item_id} of the register {state.council_id}/{state.term_id} is due on "
        f"{ev.due.isoformat()} and has no answer yet; please answer in Kỳ họp (your agency's inbox).\n"
    )
    return msg
