"""Petitions — list, filter and full-text search over 100 000 petitions on PostgreSQL (issue 14 §3).

The projection `petition_items` (server/petitions_index.py) of a national host: 100 000 rows in two registers of
50 000 (the domain's most per register), texts drawn from Vietnamese phrases so a query hits a realistic
fraction. Rows are inserted directly (not timed) and the table analysed. Timed, `--repeat` times each, every
query as the list route sends it for the office (a count and a page of 100 ids, `petitions_index.search`):
- all: no filter, the first page;
- agency_status: one agency's assigned items;
- text: "duong lien xa" (no marks: folded, matches "đường liên xã");
- text_rare: a phrase in ~1 % of the items;
- field_text_overdue: a field, a text query and the overdue condition together.
Baseline, same run: the route before the projection — scanning the 50 000 items of one register in Python with
`documents.search.matches` for the same text query. Target: every query's p99 ≤ 200 ms.

    python -m bench.petitions_search --repeat 20
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import conclude, machine, parser, summary
from documents.search import matches
from meeting.petitions_model import Filter, ItemKind, ResourceGroup, Status, TrackedItem, default_rules
from meeting.rules import Level
from server import db, petitions_index
from server.database import Database

ROWS = 100_000
REGISTERS = 2
TARGET_MS = 200.0
PAGE = 100
NOW = datetime(2027, 6, 1, 2, tzinfo=UTC)
SUBJECTS = [
    "Cử tri đề nghị nâng cấp tuyến đường liên xã",
    "Cử tri phản ánh trạm y tế thiếu bác sĩ",
    "Đề nghị sớm cấp giấy chứng nhận quyền sử dụng đất",
    "Cử tri kiến nghị xử lý ô nhiễm môi trường tại cụm công nghiệp",
    "Đề nghị bố trí đủ giáo viên cho trường tiểu học",
    "Cử tri đề nghị sửa chữa hệ thống kênh mương nội đồng",
    "Phản ánh tình trạng mất điện kéo dài vào mùa hè",
    "Đề nghị tăng cường an ninh trật tự khu dân cư",
]
DETAILS = [
    "đã xuống cấp nghiêm trọng, gây mất an toàn giao thông vào mùa mưa lũ",
    "ảnh hưởng đến đời sống và sản xuất của nhân dân",
    "đã kiến nghị nhiều lần nhưng chưa được giải quyết dứt điểm",
    "đề nghị cơ quan chức năng kiểm tra và có lộ trình xử lý",
]
RARE = "cầu treo bản Nà Hẩu"  # in 1 % of the items


def items(n: int, seed: int = 14) -> list[TrackedItem]:
    rnd = random.Random(seed)
    rules = default_rules(Level.PROVINCE)
    fields = [f.id for f in rules.fields]
    agencies = [a.id for a in rules.agencies]
    statuses = [Status.RECEIVED, Status.CLASSIFIED, Status.ASSIGNED, Status.ANSWERED, Status.RESOLVED, Status.ROADMAP]
    out = []
    for i in range(n):
        status = rnd.choice(statuses)
        assigned = status not in (Status.RECEIVED, Status.CLASSIFIED)
        text = f"{rnd.choice(SUBJECTS)} {rnd.choice(DETAILS)}"
        if i % 100 == 7:
            text += f"; {RARE}"
        out.append(
            TrackedItem(
                id=f"kn-{i:06d}",
                kind=ItemKind.PETITION,
                text=text,
                status=status,
                created_at=NOW,
                area=f"Thôn {i % 40 + 1}",
                field_id=None if status is Status.RECEIVED else rnd.choice(fields),
                group=None if status is Status.RECEIVED else rnd.choice(list(ResourceGroup)),
                agency_id=rnd.choice(agencies) if assigned else None,
                due=date(2027, 1, 1) + timedelta(days=rnd.randrange(300)) if assigned else None,
            )
        )
    return out


QUERIES: dict[str, tuple[Filter, str | None]] = {
    "all": (Filter(), None),
    "agency_status": (Filter(agency_id="so-xd", status=Status.ASSIGNED), None),
    "text": (Filter(), "duong lien xa"),
    "text_rare": (Filter(), "cau treo ban na hau"),
    "field_text_overdue": (Filter(field_id="giao-thong", overdue_at=NOW), "mua mua lu"),
}


async def measure(url: str, repeat: int, rows: int) -> dict[str, Any]:
    d = Database(url)
    try:
        await d.migrate()
        per = rows // REGISTERS
        generated = items(rows)
        streams = [f"petitions:hdnd-{r}:2026-2031" for r in range(REGISTERS)]
        async with d.engine.begin() as conn:
            await conn.execute(db.petition_items.delete())
            for r, stream in enumerate(streams):
                chunk = generated[r * per : (r + 1) * per]
                for k in range(0, len(chunk), 5000):
                    await conn.execute(
                        db.petition_items.insert(), [petitions_index.row(stream, i) for i in chunk[k : k + 5000]]
                    )
        if d.engine.dialect.name == "postgresql":
            async with d.engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE petition_items")
        target = streams[0]
        one_register = generated[:per]
        times: dict[str, list[float]] = {name: [] for name in QUERIES}
        hits: dict[str, int] = {}
        baseline: list[float] = []
        async with d.engine.connect() as conn:
            for name, (f, q) in QUERIES.items():  # warm the connection and the cache once, untimed
                hits[name] = (await petitions_index.search(conn, target, f, q, (PAGE, 0)))[0]
            for _ in range(repeat):
                for name, (f, q) in QUERIES.items():
                    t0 = time.perf_counter()
                    await petitions_index.search(conn, target, f, q, (PAGE, 0))
                    times[name].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                found = [i.id for i in one_register if matches(f"{i.text}\n{i.area}", "duong lien xa")]
                baseline.append(time.perf_counter() - t0)
        assert len(found) == hits["text"], (len(found), hits["text"])
        return {
            "dialect": d.engine.dialect.name,
            "hits": hits,
            "query_ms": {name: summary(v) for name, v in times.items()},
            "baseline_python_scan_ms": summary(baseline),
            "worst_p99_ms": max(summary(v)["p99"] for v in times.values()),
        }
    finally:
        await d.dispose()


def run(repeat: int = 20, write: bool = True, rows: int = ROWS, postgres: Any = None) -> dict[str, Any]:
    """`postgres`: a running tests.services.PostgresServer (the smoke test's fixture); else one is started."""
    from tests.services import PostgresServer

    pg = postgres or PostgresServer().start()
    try:
        url = pg.create_database(f"bench_petitions_search_{time.monotonic_ns()}")
        part = asyncio.run(measure(url, repeat, rows))
    finally:
        if postgres is None:
            pg.stop()
    result: dict[str, Any] = {
        "name": "petitions_search",
        "machine": machine(),
        "rows": rows,
        "registers": REGISTERS,
        "page": PAGE,
        **part,
    }
    return conclude(result, {f"every_query_p99_under_{TARGET_MS:g}_ms": part["worst_p99_ms"] <= TARGET_MS}, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = ap.parse_args()
    run(args.repeat, write=not args.no_write)


if __name__ == "__main__":
    main()
