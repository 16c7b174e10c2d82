"""An operator's attack on a copy of the data directory (`./var`): link delegates to their secret-ballot choices.

    python -m tests.operator_attack COPY_DIR --stream session:ky-hop-4 --round vote:kin-1 [--key SECRET]

What the attacker has: every byte of the copy (the SQLite database, its write-ahead log with every frame of every
generation still in the file, the -shm index, the logs, anything else there), optionally the server's secret key,
and what stays public for ever afterwards: the order in which delegates voted (the `vote_delegate_voted` events of
the log, which staff see live) and the published result. What it tries, every approach the outside test used:

- find every sealed tally version anywhere in the bytes (base64 runs on any page image: the live row, old versions
  in WAL frames of the current and of older generations, stale bytes in free space) and, with the key, open each;
- replay the database as of each commit still in the write-ahead log and pair each state's sealed row with its
  voters (the transaction join);
- order the voters by the hidden rowid when the table has one, and by the event log (the order join);
- read every file as text for option names next to delegate names (plain-text leaks: logs, JSON).

Each decrypted version with k ballots in it is a "point": the first k voters chose those counts. Two points whose
voter sets nest give the choices of the voters in between as a multiset; when that multiset has one option only,
each of those voters is linked. The published result is itself such a point (all voters) and (no one, zero counts)
another: what they alone link is what the result implies (`baseline`).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import itertools
import re
import sqlite3
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag

from server.sealing import Sealer

_B64_RUN = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}")
_HEX = re.compile(r"[0-9a-f]+")
_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f\n]")  # what ends a stretch of text: control bytes, a line end
# The sealed value sits in a record right after the round id, and stale bytes may follow it: try starting and
# ending a few characters into a run.
_SLACK = 16

Counts = dict[str, int]


@dataclass(frozen=True)
class Point:
    voters: frozenset[str]
    counts: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, voters: Iterable[str], counts: Counts) -> Point:
        return cls(frozenset(voters), tuple(sorted((k, n) for k, n in counts.items() if n)))


@dataclass
class Findings:
    candidates: set[str] = field(default_factory=set)  # base64 runs long enough to be a sealing
    lengths: set[int] = field(default_factory=set)  # decoded lengths of the sealings that opened, or of all runs
    versions: list[Counts] = field(default_factory=list)  # distinct decrypted counts of the round
    points: set[Point] = field(default_factory=set)
    links: dict[str, str] = field(default_factory=dict)  # delegate -> option
    rowid_order: list[str] | None = None  # voters in rowid order, when the table has a rowid
    text_hits: list[str] = field(default_factory=list)  # files that name an option next to a delegate


def _blobs(copy: Path) -> dict[str, bytes]:
    return {str(p.relative_to(copy)): p.read_bytes() for p in sorted(copy.rglob("*")) if p.is_file()}


def _wal_frames(wal: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """Every (salt, header, page) frame in the file, whatever its generation (salt)."""
    if len(wal) < 32:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    if page_size not in {1 << k for k in range(9, 17)}:
        return []
    frame = 24 + page_size
    out = []
    for k in range((len(wal) - 32) // frame):
        at = 32 + k * frame
        head = wal[at : at + 24]
        out.append((head[8:16], head, wal[at + 24 : at + frame]))
    return out


def _sealings(blob: bytes) -> set[str]:
    out: set[str] = set()
    for m in _B64_RUN.finditer(blob):
        run = m.group().decode()
        if _HEX.fullmatch(run):
            continue  # audit hashes: random bytes in base64 are never all hex digits
        for start in range(min(_SLACK, len(run) - 40)):
            for end in range(len(run), max(start + 40, len(run) - _SLACK) - 1, -1):
                if (end - start) % 4 == 0:
                    out.add(run[start:end])
    return out


@functools.cache
def _sealer(key: str) -> Sealer:
    return Sealer.from_secret(key)


@functools.lru_cache(maxsize=1 << 20)  # the copies of one scenario share most of their candidates
def _open(key: str, stream: str, round_key: str, sealed: str) -> Counts | None:
    try:
        return _sealer(key).open(stream, round_key, sealed)
    except (InvalidTag, ValueError, binascii.Error):
        return None


def _states(db: bytes, wal: bytes, round_key: str) -> list[tuple[frozenset[str], list[str]]]:
    """The database as of each commit of the write-ahead log's current generation: (voters, sealed rows)."""
    commits: list[int] = []
    frames = _wal_frames(wal)
    if frames:
        salt = wal[16:24]
        frame = len(frames[0][1]) + len(frames[0][2])
        for k, (s, head, _) in enumerate(frames):
            if s != salt:
                break
            if struct.unpack(">I", head[4:8])[0]:
                commits.append(32 + (k + 1) * frame)
    out = []
    with tempfile.TemporaryDirectory(prefix="kyhop-attack-") as tmp:
        for end in [0, *commits]:
            path = Path(tmp) / f"at-{end}.db"
            path.write_bytes(db)
            if end:
                Path(f"{path}-wal").write_bytes(wal[:end])
            try:
                conn = sqlite3.connect(path)
                try:
                    voters = frozenset(
                        r[0] for r in conn.execute("SELECT delegate_id FROM voters WHERE round_id = ?", (round_key,))
                    )
                    sealed = [r[0] for r in conn.execute("SELECT sealed FROM tallies WHERE round_id = ?", (round_key,))]
                finally:
                    conn.close()
            except sqlite3.DatabaseError:
                continue  # a torn copy: the raw scan below still reads its pages
            out.append((voters, sealed))
    return out


def _rowid_order(db: bytes, wal: bytes, round_key: str) -> list[str] | None:
    with tempfile.TemporaryDirectory(prefix="kyhop-attack-") as tmp:
        path = Path(tmp) / "now.db"
        path.write_bytes(db)
        if wal:
            Path(f"{path}-wal").write_bytes(wal)
        try:
            conn = sqlite3.connect(path)
            try:
                rows = conn.execute("SELECT delegate_id FROM voters WHERE round_id = ? ORDER BY rowid", (round_key,))
                return [r[0] for r in rows]
            finally:
                conn.close()
        except sqlite3.DatabaseError:  # WITHOUT ROWID: "no such column: rowid" (or a torn copy)
            return None


def link(points: Iterable[Point]) -> dict[str, str]:
    """Every delegate whose choice the points determine (see the module docstring)."""
    pts = set(points)
    links: dict[str, str] = {}
    for a, b in itertools.product(pts, repeat=2):
        if not a.voters < b.voters:
            continue
        ca, cb = dict(a.counts), dict(b.counts)
        diff = {k: cb.get(k, 0) - ca.get(k, 0) for k in set(ca) | set(cb)}
        grew = [k for k, n in diff.items() if n]
        if len(grew) == 1 and all(n >= 0 for n in diff.values()):
            for d in b.voters - a.voters:
                links[d] = grew[0]
    return links


def baseline(order: list[str], result: Counts, known: Iterable[Counts] = ()) -> dict[str, str]:
    """What the result (and the `known` versions, e.g. the live row of a copy taken mid-round) link by themselves."""
    pts = {Point.of([], {}), Point.of(order, result)}
    pts |= {Point.of(order[: sum(c.values())], c) for c in known}
    return link(pts)


def attack(
    copy: Path,
    *,
    stream: str,
    round_key: str,
    order: list[str],
    result: Counts,
    options: dict[str, list[str]],
    key: str | None,
) -> Findings:
    """`order`: the voters in voting order (from the event log); `result`: the published counts; `options`: each
    option's key -> the names it goes by (key, label)."""
    f = Findings()
    blobs = _blobs(copy)
    db = next((b for name, b in blobs.items() if name.endswith(".db")), b"")
    wal = next((b for name, b in blobs.items() if name.endswith(".db-wal")), b"")
    pages = [*blobs.values(), *(page for _, _, page in _wal_frames(wal))]
    for blob in pages:
        f.candidates |= _sealings(blob)
    opened: dict[str, Counts] = {}
    if key:
        for c in f.candidates:
            counts = _open(key, stream, round_key, c)
            if counts is not None:
                opened[c] = counts
    f.lengths = {len(base64.b64decode(c)) for c in (opened or f.candidates)}
    for counts in opened.values():
        if counts not in f.versions:
            f.versions.append(counts)
    # The order join: a version with k ballots holds the choices of the first k voters.
    f.points = {Point.of([], {}), Point.of(order, result)}
    f.points |= {Point.of(order[: sum(c.values())], c) for c in f.versions}
    # The transaction join: each replayed commit's voters with the sealed row written in the same transaction.
    for voters, sealed in _states(db, wal, round_key):
        for s in sealed:
            counts = _open(key, stream, round_key, s) if key else None
            if counts is not None:
                f.points.add(Point.of(voters, counts))
    # The rowid join: the same, by insertion order, when the voters table still has a rowid.
    f.rowid_order = _rowid_order(db, wal, round_key)
    if f.rowid_order:
        f.points |= {Point.of(f.rowid_order[: sum(c.values())], c) for c in f.versions}
    f.links = link(f.points)
    # Plain text: a stretch of text (a log line, a JSON payload in a record) that names a delegate and some but not
    # all of the options (naming all of them is the round itself: its opening, its result).
    for name, blob in blobs.items():
        for piece in _TEXT.split(blob.decode("utf-8", errors="replace")):
            named = {o for o, names in options.items() if any(n in piece for n in names)}
            # A published result's option lines (counts and shares of all delegates, beside the lists of who was
            # eligible and present) are public; a page boundary can cut one so that it names only some options.
            if '"share_of_all"' in piece:
                continue
            if named and named != set(options) and any(d in piece for d in order):
                f.text_hits.append(f"{name}: {piece[:300]}")
    return f


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("copy", type=Path)
    p.add_argument("--stream", required=True)
    p.add_argument("--round", required=True)
    p.add_argument("--key")
    args = p.parse_args(argv)
    f = attack(args.copy, stream=args.stream, round_key=args.round, order=[], result={}, options={}, key=args.key)
    print(f"{len(f.candidates)} candidate sealings, {len(f.versions)} opened: {f.versions}")
    print(f"voters in rowid order: {f.rowid_order}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
