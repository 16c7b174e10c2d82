"""The Alembic migrations build exactly the schema in server/db.py, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

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
