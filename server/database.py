"""The async engine, migrations on start-up, and the transaction that serialises writers of one stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6B79686F70  # "kyhop": the advisory lock key held while migrating


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            # One connection: SQLite has one writer at a time anyway, and a single connection makes
            # BEGIN IMMEDIATE the only lock we need. WAL lets the file be read (backups, `kyhop audit verify`)
            # while the server writes.
            self.engine: AsyncEngine = create_async_engine(url, pool_size=1, max_overflow=0)
            sync = self.engine.sync_engine

            @event.listens_for(sync, "connect")
            def _on_connect(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
                dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")  # an acknowledged ballot survives a power cut
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @event.listens_for(sync, "begin")
            def _on_begin(conn):  # type: ignore[no-untyped-def]
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # asyncpg tries TLS first unless told otherwise; on loopback that is a wasted handshake per
            # connection. Elsewhere TLS stays up to the URL (e.g. ?ssl=require).
            local = any(h in url for h in ("@127.0.0.1", "@localhost", "@[::1]"))
            self.engine = create_async_engine(
                url,
                # One flusher per busy session plus request handlers: 20 + 20 keeps a 500-tablet vote from
                # opening connections in the hot path (the benchmark saw overflow at 10 + 20).
                pool_size=20,
                max_overflow=20,
                pool_pre_ping=True,
                connect_args={"ssl": False} if local and "ssl=" not in url else {},
            )

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url)

        def run(conn: sa.Connection) -> None:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                # Several workers or replicas start together: one migrates, the others wait and then find the
                # schema current. (Without it 3 of 8 concurrent starts crashed on a duplicate pg_type row.)
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            await conn.run_sync(run)

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
