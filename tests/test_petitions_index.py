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
