"""The petitions registers' search projection: one row per tracked item in `petition_items` (server/db.py).

The engine rewrites the rows of the items a batch of events touched in the same transaction that commits those
events (`write`), so the projection is never behind the log it was written with. Lists, filters and text search
read it (`search`) and then take each item from the register in memory, where the domain's `may_see` and
`for_viewer` decide what the caller reads: the projection narrows, the domain still scopes.

Text search folds diacritics as documents do (documents/search.py `fold`): "duong lien xa" finds "đường liên
xã". A query typed with marks must match them too; the projection finds the candidates without marks and the
route keeps those whose original text matches (`documents.search.matches`).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from documents.search import fold
from meeting.messages import Event
from meeting.petitions_model import RUNNING, Filter, PetitionsState, TrackedItem, council_date
from server import db

T = db.petition_items


def folded(text: str) -> str:
    """Lower case, no diacritics, one space between words: how both the rows and the queries are written."""
    return " ".join(fold(text).lower().split())


def touched(events: Iterable[Event]) -> set[str]:
    """The items a batch of events changed: every item event names its item, a merge its duplicate too."""
    out: set[str] = set()
    for ev in events:
        for name in ("item_id", "duplicate_id"):
            value = getattr(ev, name, None)
            if isinstance(value, str):
                out.add(value)
    return out


def row(stream_id: str, item: TrackedItem) -> dict[str, object]:
    return {
        "stream_id": stream_id,
        "item_id": item.id,
        "kind": item.kind.value,
        "status": item.status.value,
        "field_id": item.field_id,
        "agency_id": item.agency_id,
        "grp": item.group.value if item.group else None,
        "due": item.due,
        "folded": folded(f"{item.text} {item.area}"),
    }


async def write(conn: AsyncConnection, stream_id: str, state: PetitionsState, item_ids: set[str]) -> None:
    """Rewrite the rows of `item_ids` from the register as it stands after the batch (delete + insert: the same
    on SQLite and PostgreSQL, and a batch touches a handful of items)."""
    ids = sorted(i for i in item_ids if i in state.items)
    if not ids:
        return
    await conn.execute(T.delete().where(T.c.stream_id == stream_id, T.c.item_id.in_(ids)))
    await conn.execute(T.insert(), [row(stream_id, state.items[i]) for i in ids])


def _where(stream_id: str, f: Filter, query: str | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [T.c.stream_id == stream_id]
    if f.kind is not None:
        conds.append(T.c.kind == f.kind.value)
    if f.field_id is not None:
        conds.append(T.c.field_id == f.field_id)
    if f.agency_id is not None:
        conds.append(T.c.agency_id == f.agency_id)
    if f.status is not None:
        conds.append(T.c.status == f.status.value)
    if f.group is not None:
        conds.append(T.c.grp == f.group.value)
    if f.overdue_at is not None:  # meeting/petitions_model.py `is_overdue`, as a condition
        conds.append(T.c.status.in_([s.value for s in RUNNING]))
        conds.append(T.c.due < council_date(f.overdue_at))
    if query:
        conds.append(T.c.folded.contains(folded(query), autoescape=True))
    return conds


async def search(
    conn: AsyncConnection,
    stream_id: str,
    f: Filter,
    query: str | None,
    page: tuple[int, int] | None,
) -> tuple[int, list[str]]:
    """(how many match, their ids in id order). With `page` = (limit, offset) only that page's ids are read;
    without, every match (the caller scopes them and pages itself). `f.meeting_id` is not in the projection:
    the caller checks it on the item."""
    conds = _where(stream_id, f, query)
    ids = sa.select(T.c.item_id).where(*conds).order_by(T.c.item_id)
    if page is None:
        found = [r[0] for r in await conn.execute(ids)]
        return len(found), found
    limit, offset = page
    total = (await conn.execute(sa.select(sa.func.count()).select_from(T).where(*conds))).scalar_one()
    return int(total), [r[0] for r in await conn.execute(ids.limit(limit).offset(offset))]
