"""Petitions — how long a worker takes to fold a province's petitions register for a whole term (issue 14 §1).

One register is one engine stream per council and term. A province holds hundreds of voter meetings and several
thousand petitions a year (issue 14 §3); over a five-year term that is taken here as 2 500 meetings and 15 000
petitions, each recorded, classified, assigned, answered (an answer three times the petition's length) and
concluded: ~77 500 events. Built through the domain in memory (not timed). Timed, `--repeat` times each:
- decode: the stored JSON of every event into its msgspec struct (what `Runtime._load` reads);
- fold: `meeting.petitions.replay` over the decoded events;
- filter: `select` by one agency, as the office (the dashboards read this).
Baseline, same run: msgspec decoding the same JSON into plain dicts and lists — the cost of reading the bytes at
all. Target: decode + fold in under 2 s, so a worker that picks the register up answers within seconds.

    python -m bench.petitions_fold --repeat 3
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, date, datetime
from typing import Any, Union

import msgspec

from bench.common import conclude, machine, parser, summary
from meeting import petitions as pet
from meeting import petitions_messages as m
from meeting.actors import Actor, Context, Role
from meeting.messages import Command, Event
from meeting.petitions_model import Filter, MeetingTiming, PetitionsState, ResourceGroup, Status, select

MEETINGS = 2_500
PETITIONS = 15_000
GROUPS = 10
TARGET_S = 2.0
TEXT = (
    "Cử tri đề nghị tỉnh quan tâm đầu tư nâng cấp tuyến đường liên xã đã xuống cấp nghiêm trọng, gây mất an toàn "
    "giao thông, đặc biệt vào mùa mưa lũ; đồng thời sớm giải quyết dứt điểm việc cấp giấy chứng nhận quyền sử dụng "
    "đất cho các hộ dân."
)
OFFICE = Actor(roles=frozenset({Role.SECRETARY}), person_id="vp01")
STANDING = Actor(roles=frozenset({Role.STANDING}), person_id="tt01")


def build(petitions: int = PETITIONS, meetings: int = MEETINGS) -> list[Event]:
    now = datetime(2027, 1, 5, 2, tzinfo=UTC)
    state: PetitionsState | None = None
    log: list[Event] = []

    def run(cmd: Command, actor: Actor = OFFICE) -> None:
        nonlocal state
        state, routed = pet.execute(state, cmd, Context(actor=actor, now=now))
        log.extend(r.event for r in routed)

    run(m.OpenPetitions(council_id="hdnd-tinh", term_id="2026-2031"))
    assert state is not None
    agencies = [a.id for a in state.rules.agencies]
    for g in range(GROUPS):
        run(
            m.SetDelegateGroup(
                group_id=f"to-{g}", name=f"Tổ đại biểu số {g + 1}", members=[f"d{g}{k}" for k in range(8)]
            )
        )
    for i in range(meetings):
        g = i % GROUPS
        run(
            m.RecordVoterMeeting(
                meeting_id=f"txct-{i}",
                group_id=f"to-{g}",
                timing=MeetingTiming.BEFORE,
                session_id="ky-hop-5",
                place="Xã Phú Lộc",
                held_on=date(2027, 1, 4),
                delegates_present=[f"d{g}0", f"d{g}1"],
                voters=120,
                front_organiser="Ủy ban MTTQ Việt Nam xã Phú Lộc",
            )
        )
    for i in range(petitions):
        pid = f"kn-{i}"
        run(m.RecordPetition(petition_id=pid, meeting_id=f"txct-{i % meetings}", text=TEXT, area="Thôn 3"))
        run(m.ClassifyItem(item_id=pid, field_id="giao-thong", group=ResourceGroup.NO_RESOURCES))
        run(m.AssignItem(item_id=pid, agency_id=agencies[i % len(agencies)]))
        run(m.AnswerItem(item_id=pid, text=TEXT * 3, document_id="tl-1"))
        run(m.ConcludeItem(item_id=pid, outcome=Status.RESOLVED, note="Đã kiểm tra thực tế"), STANDING)
    return log


def run(repeat: int = 3, write: bool = True, petitions: int = PETITIONS, meetings: int = MEETINGS) -> dict[str, Any]:
    payloads = [msgspec.json.encode(e) for e in build(petitions, meetings)]
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(Union[m.EVENTS])  # noqa: UP007 — as the engine does
    plain = msgspec.json.Decoder()
    t_decode, t_fold, t_filter, t_base = [], [], [], []
    state: PetitionsState | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        events = [decoder.decode(p) for p in payloads]
        t1 = time.perf_counter()
        state = pet.replay(events)
        t2 = time.perf_counter()
        hits = sum(1 for _ in select(state, OFFICE, Filter(agency_id="so-yt")))
        t3 = time.perf_counter()
        for p in payloads:
            plain.decode(p)
        t4 = time.perf_counter()
        t_decode.append(t1 - t0)
        t_fold.append(t2 - t1)
        t_filter.append(t3 - t2)
        t_base.append(t4 - t3)
    tracemalloc.start()
    kept = pet.replay(events)
    state_bytes, _ = tracemalloc.get_traced_memory()  # what the fold keeps beyond the decoded events
    tracemalloc.stop()
    del kept
    total = sorted(a + b for a, b in zip(t_decode, t_fold, strict=True))
    result: dict[str, Any] = {
        "name": "petitions_fold",
        "machine": machine(),
        "events": len(payloads),
        "event_bytes": sum(map(len, payloads)),
        "items": len(state.items) if state else 0,
        "filter_hits": hits,
        "decode_ms": summary(t_decode),
        "fold_ms": summary(t_fold),
        "filter_by_agency_ms": summary(t_filter),
        "baseline_plain_decode_ms": summary(t_base),
        "state_mb": round(state_bytes / 1e6, 1),
        "inputs": {"meetings": meetings, "petitions": petitions, "groups": GROUPS},
    }
    return conclude(result, {f"decode_and_fold_under_{TARGET_S:g}_s": total[len(total) // 2] < TARGET_S}, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = ap.parse_args()
    run(args.repeat, write=not args.no_write)


if __name__ == "__main__":
    main()
