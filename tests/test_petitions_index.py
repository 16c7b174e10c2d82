"""The petitions search projection (server/petitions_index.py, table `petition_items`, migration 0004): written
in the transaction of the events it follows, it holds exactly the register's items after assignments, a merge,
an answer and a reopening, and its filters and diacritics-blind text search find what the domain's `select`
and `documents.search.matches` find. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from documents.search import matches
from meeting import petitions as pet
from meeting import petitions_messages as m
from meeting.actors import Actor, Role
from meeting.messages import Command
from meeting.petitions_model import ALL, Filter, ItemKind, MeetingTiming, PetitionsState, ResourceGroup, Status, select
from server import db, petitions_index
from server.database import Database
from server.engine import Engine
from tests.factory import Who

VP = Actor(roles=frozenset({Role.SECRETARY}), person_id="vp01")
TT = Actor(roles=frozenset({Role.STANDING}), person_id="tt01")
XD = Actor(roles=frozenset({Role.AGENCY}), person_id="cb-xd")


TEXTS = [
    "Sửa đường liên xã Phú Lộc bị sạt lở",
    "Đề nghị nâng cấp trạm y tế, thiếu bác sĩ",
    "Đường liên thôn xuống cấp; 100% hộ dân đề nghị sửa",  # a % in the text: the query escapes it
    "Thiếu giáo viên tiếng Anh ở trường tiểu học",
]


@pytest.mark.asyncio
async def test_the_projection_follows_the_log_and_finds_what_the_domain_finds(database_url: str) -> None:
    d = Database(database_url)
    try:
        await d.migrate()
        engine = Engine(d)
        ident = pet.stream_ident("hdnd-demo", "2026-2031")
        g = ResourceGroup.NO_RESOURCES
        steps: list[tuple[Actor, Command]] = [
            (VP, m.OpenPetitions(council_id="hdnd-demo", term_id="2026-2031")),
            (VP, m.SetDelegateGroup(group_id="to-1", name="Tổ 1", members=["d001"])),
            (VP, m.AppointOfficial(person_id="cb-xd", agency_id="so-xd")),
            (VP, m.RecordVoterMeeting(
                meeting_id="txct-1", group_id="to-1", timing=MeetingTiming.BEFORE, session_id="ky-hop-5",
                place="Xã Phú Lộc", held_on=date(2027, 1, 4), delegates_present=["d001"], voters=95,
            )),
            *[
                (VP, m.RecordPetition(petition_id=f"kn-{n}", meeting_id="txct-1", text=t, area="Thôn Đông"))
                for n, t in enumerate(TEXTS)
            ],
            (VP, m.ClassifyItem(item_id="kn-0", field_id="giao-thong", group=g)),
            (VP, m.ClassifyItem(item_id="kn-2", field_id="giao-thong", group=g)),
            (VP, m.ClassifyItem(item_id="kn-1", field_id="y-te", group=ResourceGroup.NEEDS_RESOURCES)),
            (VP, m.MergePetitions(item_id="kn-0", duplicate_id="kn-2", note="trùng")),
            (VP, m.AssignItem(item_id="kn-0", agency_id="so-xd")),
            (VP, m.AssignItem(item_id="kn-1", agency_id="so-yt")),
            (XD, m.AnswerItem(item_id="kn-0", text="Đã bố trí vốn")),
            (TT, m.ConcludeItem(item_id="kn-0", outcome=Status.RESOLVED, note="xong")),
            (TT, m.ReopenItem(item_id="kn-0", note="cử tri phản ánh lại")),
        ]  # fmt: skip
        for n, (actor, cmd) in enumerate(steps):
            reply = await engine.execute("petitions", ident, Who(f"acc-{actor.person_id}", actor), f"s{n}", cmd)
            assert reply.ok, (n, reply.error)
        state, _ = await Engine(d).state("petitions", ident)
        assert isinstance(state, PetitionsState)
        stream = f"petitions:{ident}"

        async with d.engine.connect() as conn:
            rows = [dict(r._mapping) for r in await conn.execute(sa.select(db.petition_items).order_by("item_id"))]
            assert rows == [petitions_index.row(stream, state.items[i]) for i in sorted(state.items)]
            assert {r["item_id"]: r["status"] for r in rows} == {
                "kn-0": "classified", "kn-1": "assigned", "kn-2": "merged", "kn-3": "received",
            }  # fmt: skip

            now = datetime(2027, 1, 6, tzinfo=UTC)
            cases = [
                (ALL, None),
                (Filter(field_id="giao-thong"), None),
                (Filter(agency_id="so-yt", status=Status.ASSIGNED), None),
                (Filter(group=ResourceGroup.NEEDS_RESOURCES), None),
                (Filter(kind=ItemKind.PETITION, status=Status.MERGED), None),
                (ALL, "duong lien"),
                (ALL, "DUONG  LIEN   thon"),
                (ALL, "100%"),
                (ALL, "100_"),
                (ALL, "bac si"),
                (ALL, "thon dong"),
                (Filter(field_id="y-te"), "tram y te"),
                (Filter(overdue_at=now), None),
            ]
            for f, q in cases:
                expected = [i.id for i in select(state, VP, f) if q is None or matches(f"{i.text}\n{i.area}", q)]
                total, ids = await petitions_index.search(conn, stream, f, q, None)
                assert (total, ids) == (len(expected), expected), (f, q)
                total, page = await petitions_index.search(conn, stream, f, q, (1, 1))
                assert (total, page) == (len(expected), expected[1:2]), (f, q)
            # Another register's rows are never found.
            assert await petitions_index.search(conn, "petitions:x:y", ALL, None, None) == (0, [])
    finally:
        await d.dispose()


@pytest.mark.asyncio
async def test_a_register_without_its_rows_gets_them_back_when_loaded(database_url: str) -> None:
    """A register whose items were recorded before migration 0004 has no search rows: the first worker that loads
    it rewrites them all (under the stream's row lock, like a commit); the rows then follow the log again."""
    d = Database(database_url)
    try:
        await d.migrate()
        ident = pet.stream_ident("hdnd-cu", "2021-2026")
        stream = f"petitions:{ident}"
        steps: list[Command] = [
            m.OpenPetitions(council_id="hdnd-cu", term_id="2021-2026"),
            m.SetDelegateGroup(group_id="to-1", name="Tổ 1", members=["d001"]),
            m.RecordVoterMeeting(
                meeting_id="txct-1", group_id="to-1", timing=MeetingTiming.BEFORE, session_id="ky-hop-9",
                place="Xã Phú Lộc", held_on=date(2025, 6, 4), delegates_present=["d001"], voters=80,
            ),
            *[m.RecordPetition(petition_id=f"kn-{n}", meeting_id="txct-1", text=t) for n, t in enumerate(TEXTS)],
            m.ClassifyItem(item_id="kn-1", field_id="y-te", group=ResourceGroup.NO_RESOURCES),
        ]  # fmt: skip
        engine = Engine(d)
        for n, cmd in enumerate(steps):
            assert (await engine.execute("petitions", ident, Who("acc-vp01", VP), f"b{n}", cmd)).ok
        async with d.tx() as conn:  # as before migration 0004: events, no rows
            await conn.execute(db.petition_items.delete().where(db.petition_items.c.stream_id == stream))

        async def rows() -> list[dict[str, object]]:
            async with d.engine.connect() as conn:
                q = sa.select(db.petition_items).where(db.petition_items.c.stream_id == stream).order_by("item_id")
                return [dict(r._mapping) for r in await conn.execute(q)]

        fresh = Engine(d)  # a worker started after the upgrade
        state, _ = await fresh.state("petitions", ident)
        assert isinstance(state, PetitionsState)
        task = fresh.runtime("petitions", ident).backfill
        assert task is not None
        await task
        assert await rows() == [petitions_index.row(stream, state.items[i]) for i in sorted(state.items)]
        assert (await rows())[1]["field_id"] == "y-te"
        # Then a command writes its rows as always, and a later load finds nothing to do.
        cmd = m.AssignItem(item_id="kn-1", agency_id="so-yt")
        assert (await fresh.execute("petitions", ident, Who("acc-vp01", VP), "b-assign", cmd)).ok
        assert [r["status"] for r in await rows()] == ["received", "assigned", "received", "received"]
        later = Engine(d)
        await later.state("petitions", ident)
        assert later.runtime("petitions", ident).backfill is None
    finally:
        await d.dispose()
