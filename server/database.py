"""The async engine, migrations on start-up, and the transaction that serialises writers of one stream."""

from __future__ import annotations

import logging
import operator
import time
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger("kyhop.database")

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6B79686F70  # "kyhop": the advisory lock key held while migrating
# A pooled PostgreSQL connection idle for longer than this is pinged before use (see Database.__init__).
PING_AFTER_IDLE_S = 1.0


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
                # Deleted and overwritten content is zeroed on the page, not left in its free space: a sealed
                # tally's old version or a closed round's row must not linger in the file (docs/SECURITY.md).
                cur.execute("PRAGMA secure_delete=ON")
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
                # The most recently returned connection first: a busy session's flusher keeps reusing one warm
                # connection (and its prepared statements) instead of cycling through all 20.
                pool_use_lifo=True,
                connect_args={"ssl": False} if local and "ssl=" not in url else {},
            )
            sync = self.engine.sync_engine

            # Instead of `pool_pre_ping`: SQLAlchemy's asyncpg ping is BEGIN, `;`, ROLLBACK — three more round
            # trips before every transaction (a batch makes ~13), ~4 % of the T3 engine's samples. A connection
            # back in the pool for less than PING_AFTER_IDLE_S was just used successfully; under load (LIFO,
            # above) that is every checkout, and it goes unpinged. If the server died in that second, the batch
            # fails `unavailable` (clients resend with the same ids) and SQLAlchemy invalidates the whole pool on
            # the disconnect. A connection idle for longer — where restarts, failovers and idle timeouts bite — is
            # pinged as before, and replaced if the ping fails (DisconnectionError: the pool reconnects, ≤ 3 times).
            @event.listens_for(sync, "connect")
            def _on_pg_connect(_dbapi_conn, rec):  # type: ignore[no-untyped-def]
                rec.info["idle_since"] = time.monotonic()

            @event.listens_for(sync, "checkin")
            def _on_checkin(_dbapi_conn, rec):  # type: ignore[no-untyped-def]
                rec.info["idle_since"] = time.monotonic()

            @event.listens_for(sync, "checkout")
            def _on_checkout(dbapi_conn, rec, _proxy):  # type: ignore[no-untyped-def]
                if time.monotonic() - rec.info.get("idle_since", 0.0) <= PING_AFTER_IDLE_S:
                    return
                try:
                    sync.dialect.do_ping(dbapi_conn)
                except Exception as e:
                    raise exc.DisconnectionError(f"ping failed: {e}") from e

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
        if self.is_sqlite:
            # A server killed mid-round leaves its last transactions in the write-ahead log: fold them in and
            # empty the log before serving again.
            await self.forget_sealed_versions(round_closed=False)

    async def forget_sealed_versions(self, *, round_closed: bool) -> None:
        """Called after a commit that wrote a sealed tally (a secret round opened, took ballots or closed): make
        the store keep no version of it but the newest (docs/SECURITY.md, "What the files keep").

        SQLite: a TRUNCATE checkpoint copies the newest pages into the database file and empties the write-ahead
        log, so no earlier version of the tallies page — and no earlier generation of the log — is left to pair
        with the voter written in the same transaction. ~0.5 ms per commit here (0.12 ms for the commit itself).
        It cannot finish while another connection reads an older snapshot (a backup in progress): then the log
        keeps its frames until the next call, which the log line below says.

        PostgreSQL: when a round closes, VACUUM FULL rewrites the tallies table into a new file with only the
        live rows, so the dead versions of the round's row (each with the xmin of the transaction that also wrote
        a voter row) leave the table's pages. During the round they stay, and PostgreSQL's own write-ahead log
        keeps every version until its segment is recycled: that is what the operator with the key can still
        read there. VACUUM FULL locks the small tallies table for a moment (≤ lock_timeout); if it cannot get the
        lock, a plain VACUUM marks the dead versions free instead.

        Never raises: the transaction is committed, and a failure here must not turn an acknowledged ballot into
        an error."""
        try:
            if self.is_sqlite:
                async with self.engine.connect() as conn:
                    # The driver's own connection: SQLAlchemy would open a transaction (BEGIN IMMEDIATE, above),
                    # and a checkpoint cannot run inside one.
                    raw = (await conn.get_raw_connection()).driver_connection
                    assert raw is not None
                    cur = await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    busy, _, _ = await cur.fetchone()
                    await cur.close()
                    if busy:
                        log.warning("write-ahead log not emptied (a reader holds an older snapshot); retried next time")
            elif round_closed:
                async with self.engine.connect() as conn:
                    auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await auto.exec_driver_sql("SET lock_timeout = '200ms'")
                    try:
                        await auto.exec_driver_sql("VACUUM FULL tallies")
                    except exc.DBAPIError as e:
                        log.warning("VACUUM FULL tallies did not get its lock (%s): plain VACUUM instead", e)
                        await auto.exec_driver_sql("VACUUM tallies")
                    finally:
                        await auto.exec_driver_sql("RESET lock_timeout")
        except Exception as e:
            log.warning("could not clear old versions of sealed tallies: %s", e)

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    async def insert_rows(self, conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert `rows` (each with every column of `table`) in the transaction of `conn`, which must already
        have run a statement (on PostgreSQL the transaction starts with the first statement, and COPY is not one).

        On PostgreSQL as one binary COPY. SQLAlchemy's executemany processes each row's parameters in Python
        (`construct_params`, ~6 % of the T3 engine's samples) and asyncpg then binds and executes the INSERT once
        per row; SQLAlchemy's "insertmanyvalues" batching is used for asyncpg only with RETURNING. Measured for
        640 event rows (one 256-ballot batch): executemany 3.7 ms of our CPU and 8 ms of PostgreSQL's; one
        `INSERT … SELECT unnest($1::…[]), …` 2.5 + 4.9 ms (asyncpg encodes array elements slowly: two ABC
        isinstance checks each); COPY 1.4 + 4.9 ms, and the whole T3 engine ~10 % faster than with unnest.
        Errors come back as SQLAlchemy's, so the engine's "conflict: reload and decide again" still sees an
        IntegrityError when another worker recorded the same ballot first. SQLite (one process, its cost is the
        fsync of each commit) keeps SQLAlchemy's executemany."""
        if not rows:
            return
        if self.is_sqlite:
            await conn.execute(table.insert(), list(rows))
            return
        import asyncpg  # type: ignore[import-untyped]

        names = [c.name for c in table.columns]
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None or not driver.is_in_transaction():
            raise RuntimeError("insert_rows: no transaction yet (run a statement first)")
        values = operator.itemgetter(*names)  # a row's values in column order: a tuple, or one value for one column
        records = [values(r) for r in rows] if len(names) > 1 else [(values(r),) for r in rows]
        what = f"COPY {table.name}"
        try:
            await driver.copy_records_to_table(table.name, records=records, columns=names, schema_name=table.schema)
        except asyncpg.IntegrityConstraintViolationError as e:
            raise exc.IntegrityError(what, None, e) from e
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise exc.DBAPIError(what, None, e) from e

    def select_by_keys(
        self,
        key_cols: Sequence[sa.Column[Any]],
        keys: Collection[Sequence[Any]],
        columns: Sequence[sa.Column[Any]],
        *where: sa.ColumnElement[bool],
    ) -> sa.Select[Any]:
        """Rows `(*key_cols, *columns)` of the rows matching `where` whose `key_cols` equal one of `keys`, where
        `where` and a key together name at most one row (a primary key). On SQLite a superset may come back (each
        key column IN the values it takes in `keys`): callers check the exact tuples.

        PostgreSQL gets one primary-key probe per key: `unnest($1::…[], $2::…[]) AS wanted CROSS JOIN LATERAL
        (SELECT … WHERE … = wanted.k0 … LIMIT 1)`, one statement for every batch size. The alternatives all went
        wrong on a fresh table (T3, 1000 delegates, no ANALYZE yet): per-column `IN (…)` lists re-render
        2 × 256 parameters at every execution (SQLAlchemy's "postcompile", ~3.5 % of the engine's samples) and
        were seq-scanned (6.5 ms at 24 000 rows); `= ANY($1)` got a generic plan that bitmap-scanned every result
        of the account (38 ms); a plain join with unnest got a generic plan, made while the table was small, that
        seq-scanned the table once per key (590 ms at 24 000 rows). The LATERAL subquery cannot be flattened, and
        a LIMIT-1 lookup on the whole primary key costs less by index than a scan of the 10 pages PostgreSQL
        assumes for a table never vacuumed, so even a generic plan made on an empty table probes the index (0.7 ms
        for 256 keys at 24 000 rows). (A table analyzed while it fit in one page may get a scan until autoanalyze,
        after 50 + 10 % new rows, replans it.)"""
        if self.is_sqlite:
            stmt = sa.select(*key_cols, *columns).where(*where)
            for i, c in enumerate(key_cols):
                stmt = stmt.where(c.in_({k[i] for k in keys}))
            return stmt
        ordered = list(keys)  # one order for every column's array
        names = [f"k{i}" for i in range(len(key_cols))]
        arrays = [
            sa.bindparam(None, [k[i] for k in ordered], type_=postgresql.ARRAY(c.type)) for i, c in enumerate(key_cols)
        ]
        wanted = sa.func.unnest(*arrays).table_valued(*names).render_derived(name="wanted")
        probe = (
            sa.select(*columns)
            .where(*where, *(c == wanted.c[n] for c, n in zip(key_cols, names, strict=True)))
            .limit(sa.literal_column("1"))  # a literal: a `LIMIT $n` parameter would be a guess in a generic plan
            .lateral("found")
        )
        return sa.select(*(wanted.c[n] for n in names), *probe.c).select_from(wanted.join(probe, sa.true()))

    async def dispose(self) -> None:
        await self.engine.dispose()
