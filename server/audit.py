"""The audit log's hash chain: how a row's hash is made, and `kyhop audit verify`.

One chain per stream (council or session), and one more, ORPHANS, for commands refused because their stream does
not exist (an unknown or invented session or council id): its rows name the stream asked for. A row's hash is
SHA-256 over the previous row's hash and the row's own fields in canonical JSON; the first row of a chain follows
64 zeros. Changing, deleting or reordering any row breaks every hash after it, and verify names the first row that
does not match.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa

from server import db
from server.database import Database

GENESIS = "0" * 64
ORPHANS = "refused:no-such-stream"
ORPHANS_LOCK = 0x6B79686F7001  # PostgreSQL advisory lock held while appending to ORPHANS (server/engine.py)
FIELDS = ("chain", "n", "at", "actor", "command", "detail", "outcome")


def chain_hash(prev: str, row: dict[str, Any]) -> str:
    body = msgspec.json.encode({k: row[k] for k in FIELDS})
    return hashlib.sha256(prev.encode() + body).hexdigest()


@dataclass
class Report:
    chains: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    heads: dict[str, str] = field(default_factory=dict)  # chain -> hash of its newest row

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        head = (
            f"Nhật ký kiểm tra: {self.chains} chuỗi, {self.rows} dòng"
            f" / audit log: {self.chains} chains, {self.rows} rows"
        )
        if self.ok:
            # The heads are what to write into the signed minutes: a later rewrite of a whole chain (by someone
            # able to recompute every hash) no longer matches them.
            lines = [f"  {chain}  {h}" for chain, h in sorted(self.heads.items())]
            return "\n".join([head, "Toàn vẹn / intact. Mã băm cuối / head hashes:", *lines])
        return "\n".join([head, "HỎNG / BROKEN:", *self.problems])


async def verify(url: str) -> Report:
    database = Database(url)
    report = Report()
    try:
        async with database.engine.connect() as conn:
            rows = await conn.execute(sa.select(db.audit).order_by(db.audit.c.chain, db.audit.c.n))
            chain: str | None = None
            prev, expect_n, broken = GENESIS, 1, False
            for r in rows.mappings():
                row = dict(r)
                if row["chain"] != chain:
                    chain, prev, expect_n, broken = row["chain"], GENESIS, 1, False
                    report.chains += 1
                report.rows += 1
                if broken:
                    continue
                where = f"chain {chain} row {row['n']}"
                if row["n"] != expect_n:
                    report.problems.append(f"{where}: expected row {expect_n} (a row is missing) / thiếu dòng")
                    broken = True
                elif row["prev_hash"] != prev:
                    report.problems.append(f"{where}: prev_hash does not match row {expect_n - 1} / sai liên kết")
                    broken = True
                elif chain_hash(prev, row) != row["hash"]:
                    report.problems.append(f"{where}: content changed (hash mismatch) / nội dung bị sửa")
                    broken = True
                prev, expect_n = row["hash"], expect_n + 1
                report.heads[row["chain"]] = row["hash"]
            await conn.rollback()
    finally:
        await database.dispose()
    return report
