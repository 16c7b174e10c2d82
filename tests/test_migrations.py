"""The Alembic migrations build exactly the schema in server/db.py, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.database import Database
from server.db import metadata
from tests.services import PostgresServer


async def _diff(url: str) -> list[object]:
    database = Database(url)
    try:
        await database.migrate()
        await database.migrate()  # a second run is a no-op
        async with database.engine.connect() as conn:

            def compare(sync: sa.Connection) -> list[object]:
                return list(compare_metadata(MigrationContext.configure(sync), metadata))

            return await conn.run_sync(compare)
    finally:
        await database.dispose()


async def test_sqlite_schema_matches_metadata(tmp_path: Path) -> None:
    assert await _diff(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}") == []


async def test_postgres_schema_matches_metadata(postgres_server: PostgresServer) -> None:
    assert await _diff(postgres_server.create_database("migrations")) == []


async def test_concurrent_migrations_on_postgres_do_not_collide(postgres_server: PostgresServer) -> None:
    """Workers and replicas start together; each migrates on start-up. The advisory lock serialises them."""
    import asyncio

    for attempt in range(4):
        url = postgres_server.create_database(f"race_{attempt}")
        databases = [Database(url) for _ in range(3)]
        try:
            await asyncio.gather(*(d.migrate() for d in databases))
        finally:
            for d in databases:
                await d.dispose()
        assert await _diff(url) == []


def test_sqlite_voters_lose_their_rowid_and_keep_their_rows(tmp_path: Path) -> None:
    """Migration 0002 on a database made by 0001 with ballots recorded: same rows, no hidden rowid (whose order
    was the voting order)."""
    import sqlite3

    from alembic import command
    from alembic.config import Config

    from server.database import MIGRATIONS

    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")

    def upgrade(to: str) -> None:  # on a connection handed over, as Database.migrate does
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as c:
            cfg.attributes["connection"] = c
            command.upgrade(cfg, to)

    upgrade("0001")
    rows = [("session:s", "vote:r", f"db{n:03d}") for n in (7, 2, 9, 1)]  # in voting order
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO voters VALUES (?, ?, ?)", rows)
        assert [r[0] for r in conn.execute("SELECT delegate_id FROM voters ORDER BY rowid")] == [r[2] for r in rows]
    conn.close()
    upgrade("head")
    engine.dispose()
    conn = sqlite3.connect(path)
    try:
        assert sorted(conn.execute("SELECT * FROM voters")) == sorted(rows)
        with pytest.raises(sqlite3.OperationalError, match="rowid"):
            conn.execute("SELECT rowid FROM voters")
    finally:
        conn.close()
