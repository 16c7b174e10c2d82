"""`kyhop audit verify`: an intact chain passes; an edited, deleted or re-linked row is named."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from server import db
from server.audit import GENESIS, chain_hash, verify
from server.cli import main
from server.database import Database


async def _db_with_chain(tmp_path: Path, n: int = 5) -> tuple[str, Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    database = Database(url)
    await database.migrate()
    prev = GENESIS
    rows = []
    for i in range(1, n + 1):
        row = {
            "chain": "session:s1",
            "n": i,
            "at": f"2026-12-09T08:00:0{i}+00:00",
            "actor": "acc1 delegate",
            "command": "check_in",
            "detail": "{}",
            "outcome": f"accepted {i}..{i}",
            "prev_hash": prev,
        }
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    async with database.tx() as conn:
        await conn.execute(db.audit.insert(), rows)
    return url, database


async def test_intact_chain_verifies(tmp_path: Path) -> None:
    url, database = await _db_with_chain(tmp_path)
    await database.dispose()
    report = await verify(url)
    assert report.ok and report.rows == 5 and report.chains == 1
    assert "session:s1" in report.text()


async def test_edited_row_is_named(tmp_path: Path) -> None:
    url, database = await _db_with_chain(tmp_path)
    async with database.tx() as conn:
        await conn.execute(sa.update(db.audit).where(db.audit.c.n == 3).values(outcome="refused forbidden"))
    await database.dispose()
    report = await verify(url)
    assert not report.ok
    assert "row 3" in report.problems[0] and "hash" in report.problems[0]


async def test_deleted_row_is_named(tmp_path: Path) -> None:
    url, database = await _db_with_chain(tmp_path)
    async with database.tx() as conn:
        await conn.execute(sa.delete(db.audit).where(db.audit.c.n == 2))
    await database.dispose()
    report = await verify(url)
    assert not report.ok and "row 3" in report.problems[0] and "missing" in report.problems[0]


async def test_cli_exit_code(tmp_path: Path) -> None:
    url, database = await _db_with_chain(tmp_path)
    async with database.tx() as conn:
        await conn.execute(sa.update(db.audit).where(db.audit.c.n == 5).values(prev_hash=GENESIS))
    await database.dispose()
    import asyncio

    code = await asyncio.to_thread(main, ["audit", "verify", "--database", url])
    assert code == 1
