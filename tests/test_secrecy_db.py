"""Secret means secret: nobody who later reads the database (or the server's log) can link a delegate to a choice.

One secret round per backend (SQLite, PostgreSQL) runs through a real server with 50 delegates on their own
tablets, options with distinctive keys and labels, and a known choice per delegate; the first ballots are cast
one at a time so that each is its own transaction. The scenario records what an operator could read — every row
of every table while the round is open and after it closed, PostgreSQL row versions (`xmin`, and with the
`pageinspect` extension the dead ones too), a copy of the SQLite file and its write-ahead log, the log file —
and what the public and the chair see. The tests below then check each property on those observations.

The round's counts are stored as ONE `tallies` row (stream_id, round_id, sealed): the counts sealed with
AES-256-GCM under a key derived from the server's secret key (server/sealing.py), re-sealed with a fresh nonce by
every transaction that records ballots. An "attacker" reads the old row versions (PostgreSQL dead tuples through
`pageinspect`, SQLite WAL frames) and pairs each with the voter row of the same transaction: without the key it
links nobody; with the key (the residual risk docs/SECURITY.md states) it links every sequential voter. A second,
small round ("kin-2") checks that the length of a sealing does not give away what the key hides.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import re
import sqlite3
import struct
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from clients.sdk import SessionClient
from meeting import script, votes
from meeting.rules import BallotOption
from server.sealing import Sealer
from tests.e2e import ServerProcess
from tests.test_e2e_voting import Chamber, N, Prestarted, backends_in_order, did, http, state_of

ROUND = "kin-1"
ROUND_KEY = f"vote:{ROUND}"
STREAM = f"session:{script.SESSION_ID}"
# Keys and labels that occur nowhere else, so that finding one in a row means the row names that option.
OPTIONS = [
    BallotOption(key="pa-hong-x7", label="Phương án Hồng X7"),
    BallotOption(key="pa-lam-q4", label="Phương án Lam Q4"),
    BallotOption(key="pa-vang-k2", label="Phương án Vàng K2"),
    BallotOption(key="pa-tim-z9", label="Phương án Tím Z9"),
]
KEYS = [o.key for o in OPTIONS]
# The first ballots go one at a time, each in its own transaction (the case an observer of row versions likes best).
# Few enough that PostgreSQL neither prunes the tallies page nor autovacuums it before we look.
SEQUENTIAL = 8

# The second round: one option reaches 10 votes during sequential ballots (9 -> 10 is one more digit), the other
# stays below 10, so the published result says which option a "one byte longer" sealing belongs to.
LEAK_ROUND = "kin-2"
LEAK_ROUND_KEY = f"vote:{LEAK_ROUND}"
LEAK_OPTIONS = [
    BallotOption(key="pa-bac-m3", label="Phương án Bạc M3"),
    BallotOption(key="pa-do-r8", label="Phương án Đỏ R8"),
]
_A, _B = (o.key for o in LEAK_OPTIONS)
LEAK_CHOICES = [_A, _A, _A, _A, _A, _B, _A, _A, _A, _A, _A, _B]  # delegate i+1 chooses LEAK_CHOICES[i]


def chosen(i: int) -> str:
    return KEYS[(i * 3) % len(KEYS)]


def counts_after(i: int) -> dict[str, int]:
    """The round's true counts once delegates 1..i have voted."""
    c = Counter(chosen(j) for j in range(1, i + 1))
    return {k: c[k] for k in KEYS}


@dataclass
class Observation:
    backend: str
    expected: dict[str, str] = field(default_factory=dict)  # delegate -> option key
    identities: dict[str, set[str]] = field(default_factory=dict)  # delegate -> {delegate id, account id, username}
    secret: str = ""  # the server's KYHOP_SECRET_KEY: what an operator must NOT have (see the residual-risk test)
    # The round's `tallies` rows as (xmin | "", sealed): right after it opened, after each sequential ballot, after
    # close.
    tallies_open: list[tuple[str, str]] = field(default_factory=list)
    tallies_during: list[list[tuple[str, str]]] = field(default_factory=list)
    tallies_after: list[tuple[str, str]] = field(default_factory=list)
    dump_open: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dump_closed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)  # table -> its columns
    # PostgreSQL: every tuple of `tallies` (live and dead) and the row version of each voter row.
    pg_tuples: list[tuple[str, str, str]] = field(default_factory=list)  # (xmin, xmax, sealed)
    pg_voters: dict[str, str] = field(default_factory=dict)  # delegate -> xmin
    # PostgreSQL after the close: the raw pages of `tallies` (VACUUM FULL ran when the round closed).
    pg_raw_after: bytes = b""
    # SQLite: the database file and its write-ahead log, copied as an operator (or a backup) would.
    sqlite_db: bytes = b""
    sqlite_wal: bytes = b""
    public_open: dict[str, Any] = field(default_factory=dict)
    chair_open: dict[str, Any] = field(default_factory=dict)
    secretary_open: dict[str, Any] = field(default_factory=dict)
    chair_live_open: dict[str, Any] = field(default_factory=dict)
    public_closed: dict[str, Any] = field(default_factory=dict)
    result: votes.VoteResult | None = None
    receipts: dict[str, str] = field(default_factory=dict)  # delegate -> receipt, from its BallotReceipt event
    published: dict[str, list[str]] = field(default_factory=dict)  # who saw it -> RoundClosed.receipts
    log: str = ""
    # The second round: (who had voted, the live sealed row) right after it opened and after each ballot, and the
    # published result.
    leak_versions: list[tuple[frozenset[str], str]] = field(default_factory=list)
    leak_result: dict[str, int] = field(default_factory=dict)


# --- reading the database as an operator would --------------------------------------------------------------------


async def _rows(conn: AsyncConnection, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.execute(sa.text(sql), params)]


async def _dump(url: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    """Every row of every table (including any the schema module does not know), and every table's columns."""
    engine = create_async_engine(url, poolclass=sa.NullPool)
    try:
        async with engine.connect() as conn:
            names: list[str] = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            columns: dict[str, list[str]] = await conn.run_sync(
                lambda c: {n: [col["name"] for col in sa.inspect(c).get_columns(n)] for n in names}
            )
            out: dict[str, list[dict[str, Any]]] = {}
            for name in names:
                table = sa.Table(name, sa.MetaData())

                def reflect(c: sa.Connection, t: sa.Table = table) -> None:
                    sa.inspect(c).reflect_table(t, None)

                await conn.run_sync(reflect)
                out[name] = [dict(r) for r in (await conn.execute(sa.select(table))).mappings()]
            await conn.rollback()
            return out, columns
    finally:
        await engine.dispose()


async def _tallies(url: str, *, xmin: bool, round_key: str = ROUND_KEY) -> list[tuple[str, str]]:
    """The round's `tallies` rows: (xmin, or "" off PostgreSQL; sealed)."""
    engine = create_async_engine(url, poolclass=sa.NullPool)
    try:
        async with engine.connect() as conn:
            col = "xmin::text" if xmin else "''"
            rows = await _rows(
                conn,
                f"SELECT {col}, sealed FROM tallies WHERE stream_id = :s AND round_id = :r",
                s=STREAM,
                r=round_key,
            )
            await conn.rollback()
            return [(str(a), str(b)) for a, b in rows]
    finally:
        await engine.dispose()


async def _voters(url: str, round_key: str) -> frozenset[str]:
    engine = create_async_engine(url, poolclass=sa.NullPool)
    try:
        async with engine.connect() as conn:
            rows = await _rows(
                conn, "SELECT delegate_id FROM voters WHERE stream_id = :s AND round_id = :r", s=STREAM, r=round_key
            )
            await conn.rollback()
            return frozenset(str(r[0]) for r in rows)
    finally:
        await engine.dispose()


def _varlena(raw: bytes) -> str:
    """A short or 4-byte-header varlena as pageinspect returns it (little-endian)."""
    if raw[0] & 1:
        return raw[1 : raw[0] >> 1].decode()
    size = int.from_bytes(raw[:4], "little") >> 2
    return raw[4:size].decode()


async def _pageinspect(url: str) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """What a superuser can read without the server: all row versions of `tallies` still on its pages (columns
    stream_id, round_id, sealed), and the transaction that wrote each voter row."""
    engine = create_async_engine(url, poolclass=sa.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            await conn.commit()
            blocks = (
                await conn.execute(sa.text("SELECT pg_relation_size('tallies') / current_setting('block_size')::int"))
            ).scalar_one()
            tuples: list[tuple[str, str, str]] = []
            for b in range(int(blocks)):
                rows = await _rows(
                    conn,
                    "SELECT t_xmin::text, t_xmax::text, t_attrs FROM heap_page_item_attrs("
                    "get_raw_page('tallies', :b), 'tallies'::regclass) WHERE lp_flags = 1",
                    b=b,
                )
                for x_min, x_max, attrs in rows:
                    if _varlena(attrs[0]) == STREAM and _varlena(attrs[1]) == ROUND_KEY:
                        tuples.append((x_min, x_max, _varlena(attrs[2])))
            voters = await _rows(conn, "SELECT delegate_id, xmin::text FROM voters WHERE round_id = :r", r=ROUND_KEY)
            await conn.rollback()
            return tuples, dict(voters)
    finally:
        await engine.dispose()


async def _raw_pages(url: str, table: str) -> bytes:
    """Every byte of every page of `table`, free space and dead tuples included, as a superuser reads them."""
    engine = create_async_engine(url, poolclass=sa.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            await conn.commit()
            blocks = (
                await conn.execute(sa.text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int"))
            ).scalar_one()
            pages = [
                (await conn.execute(sa.text(f"SELECT get_raw_page('{table}', :b)"), {"b": b})).scalar_one()
                for b in range(int(blocks))
            ]
            await conn.rollback()
            return b"".join(pages)
    finally:
        await engine.dispose()


def _checkpoint(db_path: Path) -> None:
    """Fold the write-ahead log into the file and empty it, so the copy taken later holds only the ballots' frames
    (makes the reconstruction below deterministic; an operator would find the same frames mixed with others)."""
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the checkpoint could not run"
    finally:
        conn.close()


def _read_bytes(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


# --- the scenario ------------------------------------------------------------------------------------------------


async def _observe(srv: ServerProcess, backend: str, url: str) -> Observation:
    obs = Observation(backend=backend)
    obs.expected = {did(i): chosen(i) for i in range(1, N + 1)}
    ch = await Chamber.convene(srv)
    public = SessionClient(srv.ws, script.SESSION_ID, None)
    ch.extra.append(public)
    try:
        await public.connect()
        await public.ready()
        await ch.open_round(ROUND, secret=True, options=OPTIONS)
        obs.tallies_open = await _tallies(url, xmin=backend == "postgres")
        db_path = Path(srv.data_dir) / "kyhop.db"
        if backend == "sqlite":
            await asyncio.to_thread(_checkpoint, db_path)

        for i in range(1, SEQUENTIAL + 1):
            r = await ch.cast(i, ROUND, chosen(i))
            assert r.ok, r
            obs.tallies_during.append(await _tallies(url, xmin=backend == "postgres"))
        if backend == "postgres":
            obs.pg_tuples, obs.pg_voters = await _pageinspect(url)
        else:
            obs.sqlite_db = await asyncio.to_thread(_read_bytes, db_path)
            obs.sqlite_wal = await asyncio.to_thread(_read_bytes, Path(f"{db_path}-wal"))

        rest = await asyncio.gather(*(ch.cast(i, ROUND, chosen(i)) for i in range(SEQUENTIAL + 1, N + 1)))
        assert all(r.ok for r in rest), [r for r in rest if not r.ok]
        await ch.settle(max(r.seqs[0] for r in rest))  # the last 'delegate voted' every tablet sees

        obs.dump_open, obs.columns = await _dump(url)
        base = f"{srv.http}/api/sessions/{script.SESSION_ID}"
        obs.public_open = (await asyncio.to_thread(http, "GET", base))[1]
        obs.chair_open = (await asyncio.to_thread(http, "GET", base, None, ch.tokens[did(1)]))[1]
        obs.secretary_open = (await asyncio.to_thread(http, "GET", base, None, ch.tokens["vanphong"]))[1]
        obs.chair_live_open = state_of(ch.chair)

        closed = await ch.chair.send(votes.CloseRound(round_id=ROUND))
        announced = await ch.certify(ROUND, closed.seqs)  # the counting committee certifies, then it is announced
        obs.result = await ch.result_at(ROUND, announced)
        await public.wait_seq(announced)
        obs.tallies_after = await _tallies(url, xmin=False)
        if backend == "postgres":
            obs.pg_raw_after = await _raw_pages(url, "tallies")
        obs.dump_closed, _ = await _dump(url)
        obs.public_closed = (await asyncio.to_thread(http, "GET", base))[1]

        for i in range(1, N + 1):
            mine = [
                e.receipt
                for _, e in ch.tablet(i).events
                if isinstance(e, votes.BallotReceipt) and e.round_id == ROUND and e.delegate_id == did(i)
            ]
            assert len(mine) == 1, (did(i), mine)
            obs.receipts[did(i)] = mine[0]
        watchers = {"chair": ch.chair, "public": public, "delegate": ch.tablet(17)}
        for who, c in watchers.items():
            closes = [e for _, e in c.events if isinstance(e, votes.RoundClosed) and e.round_id == ROUND]
            assert len(closes) == 1, who
            obs.published[who] = closes[0].receipts
        status, feed = await asyncio.to_thread(http, "GET", f"{base}/events?after=0&limit=5000")
        assert status == 200, feed
        rest_closes = [m["event"] for m in feed["events"] if m["event"]["type"] == "vote_round_closed"]
        obs.published["public REST feed"] = [r for e in rest_closes if e["round_id"] == ROUND for r in e["receipts"]]

        for row in obs.dump_closed["accounts"]:
            if row["person_id"] and row["person_id"].startswith("db"):
                obs.identities[row["person_id"]] = {row["person_id"], row["id"], row["username"]}

        # The second round, every ballot on its own, the live row and the voters read after each.
        await ch.open_round(LEAK_ROUND, secret=True, options=LEAK_OPTIONS)

        async def version() -> tuple[frozenset[str], str]:
            rows = await _tallies(url, xmin=False, round_key=LEAK_ROUND_KEY)
            assert len(rows) == 1, rows
            return await _voters(url, LEAK_ROUND_KEY), rows[0][1]

        obs.leak_versions.append(await version())
        for i, key in enumerate(LEAK_CHOICES, start=1):
            r = await ch.cast(i, LEAK_ROUND, key)
            assert r.ok, r
            obs.leak_versions.append(await version())
        leak = await ch.close_round(LEAK_ROUND)
        obs.leak_result = {o.key: o.count for o in leak.options}
    finally:
        await ch.close()
    return obs


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest) -> Iterator[Prestarted]:
    pool = Prestarted(request, backends_in_order(request, "observed"))
    pool.prefix = "secrecy"
    try:
        yield pool
    finally:
        pool.close()


# Cases about PostgreSQL's row versions (xmin, dead tuples, VACUUM) are generated for PostgreSQL only; SQLite's
# counterparts are the cases marked SQLITE_ONLY here and tests/test_secrecy_operator.py.
POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgres"], indirect=True, scope="module")
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True, scope="module")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def observed(servers: Prestarted, backend: str) -> Observation:
    srv = servers.take(backend)
    db_url = srv.database_url or f"sqlite+aiosqlite:///{srv.data_dir}/kyhop.db"
    obs = asyncio.run(_observe(srv, backend, db_url))
    obs.secret = srv.secret
    srv.stop()  # flushes and closes the log
    obs.log = srv.log_path.read_text(errors="replace")
    return obs


# --- what the rows must not say --------------------------------------------------------------------------------


def _text(row: dict[str, Any]) -> str:
    return json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)


def _names_delegate(text: str, obs: Observation) -> list[str]:
    return [d for d, ids in obs.identities.items() if any(re.search(rf"\b{re.escape(x)}\b", text) for x in ids)]


def _names_options(text: str) -> set[str]:
    return {o.key for o in OPTIONS if o.key in text or o.label in text}


def _links(dump: dict[str, list[dict[str, Any]]], obs: Observation) -> list[str]:
    """Rows that name a delegate together with some, but not all, of the options (naming all of them is the round
    itself: its opening or its result)."""
    out = []
    for table, rows in dump.items():
        for row in rows:
            text = _text(row)
            named = _names_options(text)
            if named and named != set(KEYS) and _names_delegate(text, obs):
                out.append(f"{table}: {text[:300]}")
    return out


def test_scenario_counted_every_ballot(observed: Observation) -> None:
    r = observed.result
    assert r is not None and r.secret
    assert r.voted == sorted(observed.expected) and r.ballots_collected == N
    want = Counter(observed.expected.values())
    assert {o.key: o.count for o in r.options} == {k: want[k] for k in KEYS}
    assert len(observed.identities) == N  # the rows are searched for every delegate's id, account id and username


def test_no_row_links_a_delegate_to_a_choice(observed: Observation) -> None:
    for moment, dump in (("open", observed.dump_open), ("closed", observed.dump_closed)):
        assert {"events", "audit", "command_results", "voters", "tallies"} <= set(dump), moment
        assert _links(dump, observed) == [], moment
        types = Counter(row["type"] for row in dump["events"])
        assert types["vote_secret_ballot"] == 0 and types["vote_ballot_cast"] == 0, moment
        assert types["vote_delegate_voted"] == N and types["vote_ballot_receipt"] == N, moment
        ballots = [row for row in dump["audit"] if row["command"] == "vote_cast_ballot"]
        assert len(ballots) == N, moment
        for row in ballots:
            detail = json.loads(row["detail"])
            assert detail["option"] == "<redacted>" and detail["delegate_id"] in observed.expected, row
            assert not _names_options(_text(row)), row
        for row in dump["command_results"]:
            assert not _names_options(_text(row)), row


def _versions(obs: Observation) -> list[str]:
    """Every sealed value of the round the scenario saw: at open, after each sequential ballot, with all 50 in."""
    live = [r["sealed"] for r in obs.dump_open["tallies"] if r["round_id"] == ROUND_KEY]
    return [s for _, s in obs.tallies_open] + [s for rows in obs.tallies_during for _, s in rows] + live


def test_tallies_hold_one_sealed_row_only_while_the_round_is_open(observed: Observation) -> None:
    assert sorted(observed.columns["tallies"]) == ["round_id", "sealed", "stream_id"]  # no option, no count
    assert len(observed.tallies_open) == 1
    for i, rows in enumerate(observed.tallies_during, start=1):
        assert len(rows) == 1, (i, rows)
    assert len(observed.tallies_during) == SEQUENTIAL
    open_rows = [r for r in observed.dump_open["tallies"] if r["round_id"] == ROUND_KEY]
    assert len(open_rows) == 1 and open_rows[0]["stream_id"] == STREAM, open_rows
    assert observed.tallies_after == []
    assert [r for r in observed.dump_closed["tallies"] if r["round_id"] == ROUND_KEY] == []


def test_every_write_is_a_fresh_sealing_that_reads_as_nothing(observed: Observation) -> None:
    versions = _versions(observed)
    assert len(versions) == 1 + SEQUENTIAL + 1
    assert len(set(versions)) == len(versions), versions  # every write stored a new value
    nonces = [_raw(v)[:12] for v in versions]
    assert len(set(nonces)) == len(nonces), "a nonce was used twice"  # AES-GCM: fresh random 12-byte nonce
    # The reader below does find counts stored as JSON, bare or under base64 (so the check can fail) ...
    plain = counts_after(3)
    assert _read_plain(json.dumps(plain)) == plain
    assert _read_plain(base64.b64encode(json.dumps(plain).encode()).decode()) == plain
    # ... and finds nothing in what the server stored: no option key or label, no count, as text or under base64.
    for i, v in enumerate(versions):
        assert _read_plain(v) is None, (i, v)
        assert not _names_options(v) and not _names_options(_raw(v).decode("latin-1")), (i, v)
    for rows in (observed.dump_open["tallies"], observed.dump_closed["tallies"]):
        for row in rows:
            assert not _names_options(_text(row)) and _read_plain(row["sealed"]) is None, row


def test_voters_table_records_only_that_a_delegate_voted(observed: Observation) -> None:
    assert sorted(observed.columns["voters"]) == ["delegate_id", "round_id", "stream_id"]
    for dump in (observed.dump_open, observed.dump_closed):
        rows = [r for r in dump["voters"] if r["round_id"] == ROUND_KEY]
        assert sorted(r["delegate_id"] for r in rows) == sorted(observed.expected)
        assert all(r["stream_id"] == STREAM for r in rows)


@POSTGRES_ONLY
def test_each_ballot_transaction_writes_a_new_row_version(observed: Observation) -> None:
    xmins = [x for x, _ in observed.tallies_open] + [x for rows in observed.tallies_during for x, _ in rows]
    assert len(xmins) == 1 + SEQUENTIAL
    assert len(set(xmins)) == len(xmins), xmins  # the open and every ballot's transaction rewrote the row
    for i, rows in enumerate(observed.tallies_during, start=1):
        # ... in the very transaction that wrote the delegate's voter row: the pairing an attacker starts from.
        assert rows[0][0] == observed.pg_voters[did(i)], i


def test_server_log_holds_no_choice(observed: Observation) -> None:
    for o in [*OPTIONS, *LEAK_OPTIONS]:
        assert o.key not in observed.log and o.label not in observed.log


def test_no_live_count_of_a_secret_round(observed: Observation) -> None:
    public = observed.public_open["state"]["votes"]["rounds"][ROUND]
    assert set(public["tally"]) == set(KEYS) and set(public["tally"].values()) == {0}
    assert public["choices"] == {} and public["voted"] == [] and public["receipts"] == []
    assert public["result"] is None
    for who, view in (("chair", observed.chair_open["state"]), ("secretary", observed.secretary_open["state"])):
        rnd = view["votes"]["rounds"][ROUND]
        assert set(rnd["tally"].values()) == {0}, who  # 50 ballots cast, and no count per option shows
        assert rnd["choices"] == {} and rnd["result"] is None, who
        assert sorted(rnd["voted"]) == sorted(observed.expected), who  # *that* they voted is for the hall
    live = observed.chair_live_open["votes"]["rounds"][ROUND]
    assert set(live["tally"].values()) == {0} and live["choices"] == {}


def test_after_close_everyone_sees_the_result_and_the_receipts(observed: Observation) -> None:
    public = observed.public_closed["state"]["votes"]["rounds"][ROUND]
    want = Counter(observed.expected.values())
    assert public["result"] is not None
    assert {o["key"]: o["count"] for o in public["result"]["options"]} == {k: want[k] for k in KEYS}
    assert public["choices"] == {}
    mine = observed.receipts
    assert len(set(mine.values())) == N
    for who, published in observed.published.items():
        assert published == sorted(published), who  # sorted: the list carries no voting order
        assert sorted(mine.values()) == published, who  # every delegate finds their receipt, and nothing else is in it


def test_a_snapshot_after_close_lists_the_receipts(observed: Observation) -> None:
    """A tablet or public page that loads the session after the close (GET /api/sessions/{id}, or a WebSocket
    snapshot) must still be able to check a receipt against the published list."""
    text = json.dumps(observed.public_closed)
    missing = [d for d, r in observed.receipts.items() if r not in text]
    assert missing == []
    published = observed.public_closed["state"]["votes"]["rounds"][ROUND]["published_receipts"]
    assert published == sorted(observed.receipts.values())


# --- what an operator with the files can reconstruct -------------------------------------------------------------

Reader = Callable[[str], dict[str, int] | None]


def _raw(sealed: str) -> bytes:
    try:
        return base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError):
        return sealed.encode()


def _read_plain(stored: str) -> dict[str, int] | None:
    """What someone without the key makes of a stored value: counts written as JSON, as text or under base64."""
    for text in (stored, _raw(stored).decode("latin-1")):
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            if isinstance(value, dict) and all(isinstance(n, int) for n in value.values()):
                return {str(k): int(n) for k, n in value.items()}
        pairs = re.findall(r'"([^"]{1,80})"\s*:\s*(\d+)', text)
        if pairs:
            return {k: int(n) for k, n in pairs}
    return None


def _infer(old: str, new: str, final: dict[str, int], read: Reader) -> str | None:
    """The option a transaction added, from the row version it replaced and the one it wrote, if they tell."""
    before, after = read(old), read(new)
    if before is not None and after is not None:
        grew = [k for k in after if after[k] == before.get(k, 0) + 1]
        if len(grew) == 1 and all(after[k] == before.get(k, 0) for k in after if k != grew[0]):
            return grew[0]
        return None
    # Unreadable: AES-GCM keeps the plaintext's length, and a count going 9 -> 10 (99 -> 100) makes a JSON
    # plaintext one byte longer; the published result says which options got that far.
    if len(_raw(new)) - len(_raw(old)) == 1:
        reached = [k for k, n in final.items() if n >= 10]
        if len(reached) == 1:
            return reached[0]
    return None


def _attack(material: dict[str, tuple[str, str]], final: dict[str, int], read: Reader) -> dict[str, str]:
    """delegate -> option, for every delegate whose transaction's row versions give the choice away."""
    links = {}
    for delegate, (old, new) in material.items():
        guess = _infer(old, new, final, read)
        if guess is not None:
            links[delegate] = guess
    return links


def _material_from_pages(obs: Observation) -> dict[str, tuple[str, str]]:
    """PostgreSQL: the voter row's transaction id is also the `xmin` of the tallies version it wrote and the `xmax`
    of the version it replaced. delegate -> (replaced, written)."""
    material: dict[str, tuple[str, str]] = {}
    for delegate, xid in obs.pg_voters.items():
        new = [s for x_min, _, s in obs.pg_tuples if x_min == xid]
        old = [s for _, x_max, s in obs.pg_tuples if x_max == xid]
        if len(new) == 1 and len(old) == 1:
            material[delegate] = (old[0], new[0])
    return material


def _sqlite_states(db: bytes, wal: bytes) -> list[tuple[set[str], list[str]]]:
    """SQLite: the database as of each commit still in the write-ahead log (the file plus the log cut after that
    commit's frame): the round's voters and sealed tallies rows at each step."""
    if len(wal) < 32:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    salt = wal[16:24]
    frame = 24 + page_size
    commits = []
    for k in range((len(wal) - 32) // frame):
        head = wal[32 + k * frame : 32 + k * frame + 24]
        if head[8:16] != salt:
            break
        if struct.unpack(">I", head[4:8])[0]:
            commits.append(32 + (k + 1) * frame)
    states = []
    with tempfile.TemporaryDirectory(prefix="kyhop-wal-") as tmp:
        for end in [0, *commits]:  # 0: the file alone, as of the checkpoint before the first ballot
            path = Path(tmp) / f"at-{end}.db"
            path.write_bytes(db)
            if end:
                Path(f"{path}-wal").write_bytes(wal[:end])
            conn = sqlite3.connect(path)
            try:
                voters = {r[0] for r in conn.execute("SELECT delegate_id FROM voters WHERE round_id = ?", (ROUND_KEY,))}
                sealed = [r[0] for r in conn.execute("SELECT sealed FROM tallies WHERE round_id = ?", (ROUND_KEY,))]
            finally:
                conn.close()
            states.append((voters, sealed))
    return states


def _material_from_wal(obs: Observation) -> dict[str, tuple[str, str]]:
    material: dict[str, tuple[str, str]] = {}
    for (v0, s0), (v1, s1) in itertools.pairwise(_sqlite_states(obs.sqlite_db, obs.sqlite_wal)):
        new_voters = v1 - v0
        if len(new_voters) == 1 and len(s0) == 1 and len(s1) == 1:
            material[next(iter(new_voters))] = (s0[0], s1[0])
    return material


def _material(obs: Observation) -> dict[str, tuple[str, str]]:
    return _material_from_pages(obs) if obs.backend == "postgres" else _material_from_wal(obs)


def _final(obs: Observation) -> dict[str, int]:
    assert obs.result is not None
    return {o.key: o.count for o in obs.result.options}


@SQLITE_ONLY
def test_sqlite_keeps_no_older_version_of_a_sealed_tally(observed: Observation) -> None:
    """Each transaction that wrote a sealed tally is followed by a truncating checkpoint (server/database.py): the
    copy of the file and its write-ahead log taken after 8 sequential ballots holds no pair of versions to compare —
    with the key or without (tests/test_secrecy_operator.py runs the whole operator attack on copies of ./var)."""
    assert len(observed.sqlite_wal) < 32 + 24 + 512, "the write-ahead log still holds frames"
    assert _material(observed) == {}
    sealer = Sealer.from_secret(observed.secret)
    live = [r["sealed"] for r in observed.dump_open["tallies"] if r["round_id"] == ROUND_KEY]
    assert len(live) == 1
    # The first 8 versions are gone from the file (secure_delete zeroes what an update overwrote), the 9th and
    # last of the copy is the live row of that moment.
    for i, rows in enumerate(observed.tallies_during[:-1], start=1):
        assert rows[0][1].encode() not in observed.sqlite_db, i
    last = observed.tallies_during[-1][0][1]
    assert observed.sqlite_db.count(last.encode()) == 1
    assert sealer.open(STREAM, ROUND_KEY, last) == counts_after(SEQUENTIAL)


@POSTGRES_ONLY
def test_old_row_versions_do_not_link_a_delegate_to_a_choice(observed: Observation) -> None:
    material = _material(observed)
    # The attacker has what it needs: for each sequential voter, the version before and after its transaction ...
    assert sorted(material) == [did(i) for i in range(1, SEQUENTIAL + 1)], sorted(material)
    assert all(old != new for old, new in material.values())
    # ... and, without the key, links nobody: the versions read as nothing, and no length step singles out a choice.
    links = _attack(material, _final(observed), _read_plain)
    assert links == {}, f"{len(links)} of the first {SEQUENTIAL} voters linked: {links}"
    # A key derived from any other secret opens nothing.
    wrong = Sealer.from_secret("not-the-server-secret-key-but-just-as-long-as-it")
    for old, new in material.values():
        for version in (old, new):
            with pytest.raises(InvalidTag):
                wrong.open(STREAM, ROUND_KEY, version)


@POSTGRES_ONLY
def test_residual_risk_on_postgres_the_key_opens_the_dead_versions_of_an_open_round(
    observed: Observation,
) -> None:
    """docs/SECURITY.md, "What is not protected": on PostgreSQL, while a round is open, its dead row versions stay
    on the table's pages (until pruned or vacuumed) and in PostgreSQL's write-ahead log; a superuser who also holds
    the server's secret key opens every version and links each voter of a transaction of their own."""
    sealer = Sealer.from_secret(observed.secret)

    def read(sealed: str) -> dict[str, int]:
        return sealer.open(STREAM, ROUND_KEY, sealed)

    live = [r["sealed"] for r in observed.dump_open["tallies"] if r["round_id"] == ROUND_KEY]
    assert len(live) == 1
    want = Counter(observed.expected.values())
    assert read(live[0]) == {k: want[k] for k in KEYS}  # the live row: the true running count of all 50
    ((_, at_open),) = observed.tallies_open
    assert sum(read(at_open).values()) == 0
    for i, rows in enumerate(observed.tallies_during, start=1):
        assert read(rows[0][1]) == counts_after(i), i
    with pytest.raises(InvalidTag):  # bound to its round: not accepted as another round's row
        sealer.open(STREAM, "vote:another-round", live[0])
    # The same attack as above, now with the key: every sequential voter is linked to the true choice.
    links = _attack(_material(observed), _final(observed), read)
    assert links == {did(i): chosen(i) for i in range(1, SEQUENTIAL + 1)}


@POSTGRES_ONLY
def test_after_the_close_postgres_pages_keep_no_version_of_the_round(observed: Observation) -> None:
    """VACUUM FULL when a round closes (server/database.py): no version of its sealed row, dead or alive, is left
    in the table's pages — neither as a tuple nor as stale bytes in free space."""
    versions = _versions(observed)
    assert len(versions) == 1 + SEQUENTIAL + 1
    assert observed.tallies_after == []
    left = [i for i, v in enumerate(versions) if v.encode() in observed.pg_raw_after]
    assert left == [], f"{len(left)} of {len(versions)} sealed versions still in the pages"


def test_the_length_of_a_sealing_does_not_link_a_delegate_to_a_choice(observed: Observation) -> None:
    assert observed.leak_result == dict(Counter(LEAK_CHOICES))  # A: 10, B: 2 (published at close)
    versions = observed.leak_versions
    assert len(versions) == 1 + len(LEAK_CHOICES)
    material: dict[str, tuple[str, str]] = {}
    for (v0, s0), (v1, s1) in itertools.pairwise(versions):
        (delegate,) = v1 - v0
        material[delegate] = (s0, s1)
    assert sorted(material) == [did(i) for i in range(1, len(LEAK_CHOICES) + 1)]
    links = _attack(material, observed.leak_result, _read_plain)
    assert links == {}, f"linked without the key: {links}"
