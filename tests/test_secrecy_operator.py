"""The operator test: copies of `./var` taken during a secret round, with and without the server's key.

One SQLite server (the embedded default, whose data directory holds the database, its write-ahead log, the -shm
index and the server's log), one secret round of 50 delegates on their own tablets, options with distinctive keys,
and copies of the whole data directory taken as an operator would:

- "racing": copied over and over while delegates 1–12 vote one at a time (each ballot its own transaction), so
  some copies land between a commit and the checkpoint that follows it;
- "mid-round": after ballot 12 was acknowledged;
- "after kill": delegates 13–30 vote at once, then the server is killed (SIGKILL) and the directory copied as the
  crash left it; a new server starts on the same files and delegates 31–50 vote;
- "before close": all 50 ballots in, just before the chair closes the round;
- "after close": once the result is published.

tests/operator_attack.py then tries every way the outside test linked voters: it opens every sealed tally version
found anywhere in the bytes (incl. every WAL frame of every generation, and free space), and joins them to the
voters by transaction, by rowid and by the voting order the event log keeps. Before this fix, the same attack with
the key linked 31–47 of 50 delegates. The claims checked here, and stated in docs/SECURITY.md:

- without the key, no copy links anybody, and no file names an option next to a delegate;
- with the key, a copy holds the live version of the round's sealed counts only — the counts of whoever has voted
  so far, which is what the operator who watches the live process also sees — and links nobody beyond what that
  version and the published result imply; a copy racing a ballot holds at most the version just before it too;
- after the close, no version is left at all: with the key, nobody beyond what the result implies.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from meeting import script
from meeting.rules import BallotOption
from tests.e2e import ServerProcess, until
from tests.operator_attack import Counts, Findings, attack, baseline
from tests.test_e2e_voting import Chamber, N, did

ROUND = "kin-op"
ROUND_KEY = f"vote:{ROUND}"
STREAM = f"session:{script.SESSION_ID}"
OPTIONS = [
    BallotOption(key="pa-ngoc-b5", label="Phương án Ngọc B5"),
    BallotOption(key="pa-suong-h2", label="Phương án Sương H2"),
    BallotOption(key="pa-trang-w6", label="Phương án Trăng W6"),
    BallotOption(key="pa-gio-t3", label="Phương án Gió T3"),
]
KEYS = [o.key for o in OPTIONS]
SEQUENTIAL = 12  # one at a time, each its own transaction: the case a reader of old versions likes best
KILL_AFTER = 30
MAX_RACING = 60


def chosen(i: int) -> str:
    # Every option in every stretch of four voters: no option is unanimous in the result, nor among the first 12
    # or the first 30, so neither the result nor a live version links anyone by itself.
    return KEYS[(i * 3) % len(KEYS)]


@dataclass
class Scenario:
    secret: str
    copies: dict[str, Path] = field(default_factory=dict)
    racing: list[Path] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # voters in voting order, from the event log
    result: Counts = field(default_factory=dict)


def _copy(data_dir: Path, dest: Path) -> Path:
    """`cp -r var` while the server runs: the files as they are at that moment, torn or not."""
    shutil.copytree(data_dir, dest, ignore_dangling_symlinks=True, dirs_exist_ok=True)
    return dest


def _voting_order(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT payload FROM events WHERE stream_id = ? AND type = 'vote_delegate_voted' ORDER BY seq", (STREAM,)
        )
        payloads = [json.loads(r[0]) for r in rows]
    finally:
        conn.close()
    return [p["delegate_id"] for p in payloads if p["round_id"] == ROUND]


async def _run(first: ServerProcess, out: Path) -> Scenario:
    sc = Scenario(secret=first.secret)
    data = Path(first.data_dir)
    ch = await Chamber.convene(first)
    try:
        await ch.open_round(ROUND, secret=True, options=OPTIONS)

        stop = threading.Event()

        def copier() -> None:
            while not stop.is_set() and len(sc.racing) < MAX_RACING:
                sc.racing.append(_copy(data, out / f"racing-{len(sc.racing):02d}"))

        thread = threading.Thread(target=copier, name="copier", daemon=True)
        thread.start()
        try:
            for i in range(1, SEQUENTIAL + 1):
                r = await ch.cast(i, ROUND, chosen(i))
                assert r.ok, r
                # At least one copy per ballot however loaded the machine is; the copier keeps running, so the
                # next copies overlap the next ballot's commit.
                await until(lambda i=i: len(sc.racing) >= i or stop.is_set(), 10, "a copy")
        finally:
            stop.set()
            await asyncio.to_thread(thread.join)
        sc.copies["mid-round"] = _copy(data, out / "mid-round")

        acked = await asyncio.gather(*(ch.cast(i, ROUND, chosen(i)) for i in range(SEQUENTIAL + 1, KILL_AFTER + 1)))
        assert all(a.ok for a in acked), acked
        first.kill()
        sc.copies["after kill"] = _copy(data, out / "after-kill")

        second = ServerProcess(first.database_url, data_dir=first.data_dir, port=first.port, secret=first.secret)
        ch.restarts.append(second)
        await asyncio.to_thread(second.start)
        ch.srv = second
        rest = await asyncio.gather(*(ch.cast(i, ROUND, chosen(i)) for i in range(KILL_AFTER + 1, N + 1)))
        assert all(a.ok for a in rest), rest
        sc.copies["before close"] = _copy(data, out / "before-close")

        result = await ch.close_round(ROUND)
        sc.result = {o.key: o.count for o in result.options}
        sc.copies["after close"] = _copy(data, out / "after-close")
        sc.order = _voting_order(data / "kyhop.db")
    finally:
        await ch.close()
        for srv in ch.restarts:
            srv.stop()
    return sc


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with ServerProcess() as srv:
        yield asyncio.run(_run(srv, tmp_path_factory.mktemp("copies")))


def _attack(sc: Scenario, copy: Path, *, key: bool) -> Findings:
    return attack(
        copy,
        stream=STREAM,
        round_key=ROUND_KEY,
        order=sc.order,
        result=sc.result,
        options={o.key: [o.key, o.label] for o in OPTIONS},
        key=sc.secret if key else None,
    )


def test_the_round_counted_every_ballot_across_the_kill(scenario: Scenario) -> None:
    assert scenario.result == dict(Counter(chosen(i) for i in range(1, N + 1)))
    assert sorted(scenario.order) == sorted(did(i) for i in range(1, N + 1))
    assert baseline(scenario.order, scenario.result) == {}  # the result alone links nobody
    assert len(scenario.racing) >= SEQUENTIAL, "the copier did not run during the sequential ballots"


def test_without_the_key_no_copy_links_anybody(scenario: Scenario) -> None:
    for name, copy in [*scenario.copies.items(), *((p.name, p) for p in scenario.racing)]:
        f = _attack(scenario, copy, key=False)
        assert f.versions == [] and f.links == {}, name
        assert f.text_hits == [], (name, f.text_hits[:3])
        assert f.rowid_order is None, name  # voters WITHOUT ROWID: no insertion order to read


def test_with_the_key_a_copy_holds_only_the_live_version(scenario: Scenario) -> None:
    """Quiet copies (no ballot in flight): exactly the live version, and nothing linked beyond it and the result."""
    want = {
        "mid-round": Counter(chosen(i) for i in range(1, SEQUENTIAL + 1)),
        "after kill": Counter(chosen(i) for i in range(1, KILL_AFTER + 1)),
        "before close": Counter(chosen(i) for i in range(1, N + 1)),
    }
    for name, counts in want.items():
        f = _attack(scenario, scenario.copies[name], key=True)
        assert [{k: n for k, n in v.items() if n} for v in f.versions] == [dict(counts)], (name, f.versions)
        assert f.links == baseline(scenario.order, scenario.result, f.versions) == {}, name


def test_with_the_key_nothing_is_left_after_the_close(scenario: Scenario) -> None:
    f = _attack(scenario, scenario.copies["after close"], key=True)
    assert f.versions == [], f.versions
    assert f.links == {}


def test_with_the_key_a_copy_racing_a_ballot_holds_at_most_the_version_before_it(scenario: Scenario) -> None:
    """A copy taken while ballots are committed may catch the new version in the log and the previous one in the
    file — two consecutive live counts, i.e. that one transaction's ballot — never an older version; and no join
    (transaction, rowid, voting order) links anyone beyond what those two versions and the result imply."""
    most = 0
    for copy in scenario.racing:
        f = _attack(scenario, copy, key=True)
        sums = sorted(sum(v.values()) for v in f.versions)
        assert len(sums) <= 2, (copy.name, f.versions)
        if len(sums) == 2:
            assert sums[1] - sums[0] == 1, (copy.name, sums)  # consecutive: one ballot per transaction here
        assert f.links == baseline(scenario.order, scenario.result, f.versions), copy.name
        most = max(most, len(f.versions))
    assert most >= 1, "no racing copy caught the round open"
