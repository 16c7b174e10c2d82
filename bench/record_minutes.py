"""Record — the minutes of a 40-vote session (MISSION: "up to ~40 votes in a session") built from its events.

The session runs through the domain in memory (server/simulate.py `MemoryRunner`): 50 delegates, 46 present, ten
draft resolutions with four rounds each (named and secret in turn, all 46 voting), so the log holds ~7 500
events (ballots, receipts and progress reports). Not timed. Timed, `--repeat` times each:
- project: replay the log and build the record and the minutes struct (record/projection.py);
- pdf: typeset the minutes (record/pdf.py, Typst, PDF/A-2b) and the 20 count records of the secret rounds;
- akn: the debate's Akoma Ntoso XML.
Baseline, same run: Typst setting the same text (every line and table cell of the minutes as plain paragraphs,
same font, no layout) — the cost of typesetting that many words at all. Ratio = minutes PDF / baseline.
Target: the minutes and every count record in under 5 s in all (issue 10: "build in seconds").

    python -m bench.record_minutes --repeat 5
"""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import pypdf
import typst

from bench.common import conclude, machine, parser, summary
from meeting import agenda, script, votes
from meeting import session as sess
from meeting.agenda import ItemKind
from meeting.rules import BallotMode
from record import akn, pdf
from record.inputs import RecordInputs, demo_inputs
from record.projection import project
from server.simulate import MemoryRunner

TARGET_S = 5.0
ITEMS, ROUNDS_PER_ITEM, DELEGATES, PRESENT = 10, 4, 50, 46


def forty_vote_session() -> MemoryRunner:
    m = MemoryRunner(DELEGATES, out=lambda _: None)
    chair, sec = script.CHAIR, script.SECRETARY

    async def run() -> None:
        for i in range(ITEMS):
            title = f"Nghị quyết số {i + 1} về kế hoạch phát triển kinh tế - xã hội, quốc phòng, an ninh năm 2027"
            await m.session_cmd(sec, agenda.AddItem(item_id=f"nq-{i}", title=title, kind=ItemKind.RESOLUTION))
        await m.session_cmd(sec, sess.OpenCheckIn())
        for d in range(1, PRESENT + 1):
            await m.session_cmd(script.delegate_actor(d), sess.CheckIn(delegate_id=script.delegate_id(d)))
        await m.session_cmd(chair, sess.OpenSession())
        for i in range(ITEMS):
            await m.session_cmd(chair, agenda.MoveToItem(item_id=f"nq-{i}"))
            for k in range(ROUNDS_PER_ITEM):
                rid = f"bq-{i}-{k}"
                motion = f"Biểu quyết thông qua điều {k + 1} của dự thảo nghị quyết số {i + 1}"
                await m.session_cmd(
                    chair,
                    votes.OpenVote(
                        round_id=rid,
                        item_id=f"nq-{i}",
                        motion=motion,
                        secret=k % 2 == 1,
                        committee=script.COMMITTEE if k % 2 == 1 else [],
                        # Sealed: the minutes are measured, not 460 encryptions (a verifiable round's record
                        # reads the same result; bench/ballot_crypto.py times the scheme).
                        mode=BallotMode.SEALED if k % 2 == 1 else None,
                    ),
                )
                for d in range(1, PRESENT + 1):
                    option = ("yes", "no", "abstain")[0 if d % 7 else (d // 7) % 3]
                    cast = votes.CastBallot(round_id=rid, delegate_id=script.delegate_id(d), option=option)
                    await m.session_cmd(script.delegate_actor(d), cast)
                await m.session_cmd(chair, votes.CloseRound(round_id=rid))
                if k % 2 == 1:  # a secret result is announced once more than half of its committee certified
                    for member in script.COMMITTEE[:4]:
                        await m.session_cmd(script.committee_actor(member), votes.CertifyRound(round_id=rid))
        await m.session_cmd(chair, sess.CloseSession())

    asyncio.run(run())
    return m


def _baseline_source(texts: list[str]) -> str:
    body = "\n\n".join(t.replace("\\", "\\\\").replace("#", "\\#").replace("$", "\\$") for t in texts)
    return '#set page(paper: "a4")\n#set text(font: "Tinos", size: 14pt, lang: "vi")\n' + body


def run(repeat: int = 5, write: bool = True) -> dict[str, Any]:
    m = forty_vote_session()
    events = [r.event for r in m.log]
    base = demo_inputs()
    inputs = RecordInputs(profile=base.profile, vote_committee=base.vote_committee)
    t_project, t_pdf, t_counts, t_akn, t_base = [], [], [], [], []
    pages = size = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        pr = project(events, [], inputs)
        minutes = pr.minutes_doc()
        t1 = time.perf_counter()
        data = pdf.build_minutes_pdf(minutes)
        t2 = time.perf_counter()
        counts = [pdf.build_count_record_pdf(d) for d in pr.count_record_docs()]
        t3 = time.perf_counter()
        akn.debate_akn(minutes)
        t4 = time.perf_counter()
        t_project.append(t1 - t0)
        t_pdf.append(t2 - t1)
        t_counts.append(t3 - t2)
        t_akn.append(t4 - t3)
        texts = [t for s in minutes.sections for t in (s.title, *s.lines, *(c for r in s.table_rows for c in r))]
        src = _baseline_source(texts).encode()
        t5 = time.perf_counter()
        typst.compile(src, font_paths=[str(pdf.FONT_DIR)], ignore_system_fonts=True)
        t_base.append(time.perf_counter() - t5)
        pages, size = len(pypdf.PdfReader(io.BytesIO(data)).pages), len(data)
    total = [a + b + c + d for a, b, c, d in zip(t_project, t_pdf, t_counts, t_akn, strict=True)]
    median_total = sorted(total)[len(total) // 2]
    result: dict[str, Any] = {
        "name": "record_minutes",
        "machine": machine(),
        "events": len(events),
        "votes": len(pr.record.votes),
        "count_records": len(counts),
        "minutes_bytes": size,
        "minutes_pages": pages,
        "project_ms": summary(t_project),
        "minutes_pdf_ms": summary(t_pdf),
        "count_records_pdf_ms": summary(t_counts),
        "debate_akn_ms": summary(t_akn),
        "total_ms": summary(total),
        "baseline_plain_typst_ms": summary(t_base),
        "ratio_minutes_pdf_to_baseline": round(sorted(t_pdf)[len(t_pdf) // 2] / sorted(t_base)[len(t_base) // 2], 2),
        "inputs": {"delegates": DELEGATES, "present": PRESENT, "rounds": ITEMS * ROUNDS_PER_ITEM},
    }
    return conclude(result, {f"total_under_{TARGET_S:g}_s": median_total < TARGET_S}, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = ap.parse_args()
    run(args.repeat, write=not args.no_write)


if __name__ == "__main__":
    main()
