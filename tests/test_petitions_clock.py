"""The overdue clock of a petitions register (issue 14 §2, server/engine.py `_arm_overdue`): when a deadline
passes — 00:00 in Vietnam on the day after it — the engine submits `mark_overdue` itself, under the same command
id on every worker, so two workers holding the register record it once. On SQLite and PostgreSQL.

The engine's wall clock is replaced by one the test moves (`server.engine.datetime`); the timers run on the
real event loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from meeting import petitions as pet
from meeting import petitions_messages as m
from meeting.actors import Actor, Role
from meeting.messages import Command
from meeting.petitions_model import MeetingTiming, PetitionsState, ResourceGroup
from server import engine as engine_module
from server.audit import verify
from server.database import Database
from server.engine import Engine
from tests.factory import Who

T0 = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)  # 09:00 on 5 January 2027 in Vietnam
DUE = date(2027, 1, 20)
MISSED = datetime(2027, 1, 20, 17, 0, tzinfo=UTC)  # 00:00 on 21 January in Vietnam
G = ResourceGroup.NEEDS_RESOURCES


class Clock:
    now = T0


class FakeDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return Clock.now if tz is None else Clock.now.astimezone(tz)


VP = Who("acc-vp01", Actor(roles=frozenset({Role.SECRETARY}), person_id="vp01"))


async def _until(cond: Any, what: str) -> None:
    for _ in range(200):
        if await cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.asyncio
async def test_the_clock_marks_an_item_overdue_once_across_workers(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "datetime", FakeDatetime)
    Clock.now = T0
    d = Database(database_url)
    try:
        await d.migrate()
        one, two = Engine(d), Engine(d)
        ident = pet.stream_ident("hdnd-demo", "2026-2031")
        steps: list[Command] = [
            m.OpenPetitions(council_id="hdnd-demo", term_id="2026-2031"),
            m.SetDelegateGroup(group_id="to-1", name="Tổ đại biểu số 1", members=["d001"]),
            m.RecordVoterMeeting(
                meeting_id="txct-1", group_id="to-1", timing=MeetingTiming.BEFORE, session_id="ky-hop-5",
                place="Xã Phú Lộc", held_on=date(2027, 1, 4), delegates_present=["d001"], voters=95,
            ),
            m.RecordPetition(petition_id="kn-1", meeting_id="txct-1", text="Sửa đường liên xã"),
            m.RecordPetition(petition_id="kn-2", meeting_id="txct-1", text="Thiếu giáo viên"),
            m.ClassifyItem(item_id="kn-1", field_id="giao-thong", group=ResourceGroup.NO_RESOURCES),
            m.AssignItem(item_id="kn-1", agency_id="so-xd", due=DUE),
        ]  # fmt: skip
        for n, cmd in enumerate(steps):
            reply = await one.execute("petitions", ident, VP, f"s{n}", cmd)
            assert reply.ok, (n, reply.error)
        await two.state("petitions", ident)  # the second worker holds the register too

        # The deadline day itself: nothing, even when the workers look again.
        Clock.now = MISSED - timedelta(microseconds=1)
        for rt in (one.runtime("petitions", ident), two.runtime("petitions", ident)):
            await rt.refresh()
        classify = m.ClassifyItem(item_id="kn-2", field_id="giao-duc", group=G)
        reply = await one.execute("petitions", ident, VP, "c1", classify)
        assert reply.ok, reply.error
        await asyncio.sleep(0.3)
        state, _ = await Engine(d).state("petitions", ident)
        assert isinstance(state, PetitionsState) and state.items["kn-1"].overdue_noted is None

        # The day after: both workers' clocks fire; the item is recorded overdue once.
        Clock.now = MISSED
        for rt in (one.runtime("petitions", ident), two.runtime("petitions", ident)):
            await rt.refresh()
        await one.execute("petitions", ident, VP, "c2", m.ClassifyItem(item_id="kn-2", field_id="y-te", group=G))

        async def noted() -> bool:
            s, _ = await Engine(d).state("petitions", ident)
            return bool(s.items["kn-1"].overdue_noted == DUE)

        await _until(noted, "item_overdue")
        await asyncio.sleep(0.3)  # the other worker's timer has fired by now too
        fresh = await Engine(d).existing("petitions", ident)
        assert fresh is not None
        overdue = [(e.item_id, e.due) for e in (c.event for c in fresh.cache) if isinstance(e, m.ItemOverdue)]
        assert overdue == [("kn-1", DUE)]
        report = await verify(database_url)
        assert report.ok, report.problems
        for e in (one, two):
            for held in e.runtimes.values():
                for h in held.timers.values():
                    h.cancel()
    finally:
        await d.dispose()


@pytest.mark.asyncio
async def test_a_reminder_window_already_past_does_not_spin_the_clock(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadline that passed with its agency never reminded (the server was down through the reminder window, or
    the item was assigned late): the clock records it overdue and then waits for the next moment ahead — it does
    not arm a 0 s timer again and again (a busy loop that took a whole core with the demo year)."""
    monkeypatch.setattr(engine_module, "datetime", FakeDatetime)
    Clock.now = T0
    fired: list[int] = []
    real = engine_module.Runtime._fire_overdue

    def counted(self: Any) -> None:
        fired.append(1)
        real(self)

    monkeypatch.setattr(engine_module.Runtime, "_fire_overdue", counted)
    d = Database(database_url)
    try:
        await d.migrate()
        e = Engine(d)
        ident = pet.stream_ident("hdnd-demo", "2026-2031")
        steps: list[Command] = [
            m.OpenPetitions(council_id="hdnd-demo", term_id="2026-2031"),
            m.SetDelegateGroup(group_id="to-1", name="Tổ đại biểu số 1", members=["d001"]),
            m.RecordVoterMeeting(
                meeting_id="txct-1", group_id="to-1", timing=MeetingTiming.BEFORE, session_id="ky-hop-5",
                place="Xã Phú Lộc", held_on=date(2027, 1, 4), delegates_present=["d001"], voters=95,
            ),
            m.RecordPetition(petition_id="kn-1", meeting_id="txct-1", text="Sửa đường liên xã"),
            m.ClassifyItem(item_id="kn-1", field_id="giao-thong", group=ResourceGroup.NO_RESOURCES),
            m.AssignItem(item_id="kn-1", agency_id="so-xd", due=DUE),
        ]  # fmt: skip
        for n, cmd in enumerate(steps):
            assert (await e.execute("petitions", ident, VP, f"s{n}", cmd)).ok
        Clock.now = MISSED + timedelta(days=2)  # past the deadline; the reminder window went by unreminded
        rt = e.runtime("petitions", ident)
        await rt.refresh()
        await e.execute(
            "petitions", ident, VP, "c", m.RecordPetition(petition_id="kn-2", meeting_id="txct-1", text="x")
        )

        async def noted() -> bool:
            s, _ = await Engine(d).state("petitions", ident)
            return bool(s.items["kn-1"].overdue_noted == DUE)

        await _until(noted, "item_overdue")
        fired.clear()
        await asyncio.sleep(0.5)
        assert len(fired) <= 1, f"the overdue clock fired {len(fired)} times in 0.5 s"
        for h in rt.timers.values():
            h.cancel()
    finally:
        await d.dispose()
