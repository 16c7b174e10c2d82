"""The summary report of voters' petitions for a session (issue 14 §2, "into the session"), as a PDF.

Before each session the Fatherland Front presents *Báo cáo tổng hợp ý kiến, kiến nghị của cử tri*: how many
voter meetings were held before it and with how many voters, the petitions by field, and what became of the
petitions of the earlier rounds. This builds it from the register in the administrative layout of Decree 30 the
record already typesets (record/pdf.py, Typst, the count record's template: header, title, sections with
tables, signature), so it needs no template of its own. The number is left blank for the Front to give it.
Numbers only for the counts; the list gives each petition's text, area, field and agency — never a voter's name.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from meeting.petitions_model import (
    OUTCOMES,
    RUNNING,
    ItemKind,
    PetitionsState,
    Status,
    council_date,
    is_overdue,
)
from record.model import Header, Section, Signature
from record.pdf import _render

MAX_LISTED = 2000  # rows of the list: a province's round is a few hundred; more is printed as counts only


class ReportDoc(msgspec.Struct, frozen=True, kw_only=True):
    """What the count record's template reads (record/templates/count_record.typ)."""

    header: Header
    doc_type: str
    summary: str
    subject_id: str
    sections: list[Section]
    signatures: list[Signature]


def report_doc(state: PetitionsState, council_name: str, session_id: str, now: datetime) -> ReportDoc:
    today = council_date(now)
    province = council_name.removeprefix("Hội đồng nhân dân ").strip()
    meetings = [m for m in state.meetings.values() if m.session_id == session_id and m.timing.value == "before"]
    ids = {m.id for m in meetings}
    mine = [
        i
        for i in state.items.values()
        if i.kind is ItemKind.PETITION and i.status is not Status.MERGED and i.meeting_ids() & ids
    ]
    fields = {f.id: f.name for f in state.rules.fields}
    agencies = {a.id: a.name for a in state.rules.agencies}
    by_field: dict[str, int] = {}
    for i in mine:
        by_field[i.field_id or ""] = by_field.get(i.field_id or "", 0) + 1
    earlier = [
        i
        for i in state.items.values()
        if i.kind is ItemKind.PETITION and i.status is not Status.MERGED and not (i.meeting_ids() & ids)
    ]
    settled = {s: sum(1 for i in earlier if i.status is s) for s in OUTCOMES}
    running = sum(1 for i in earlier if i.status in RUNNING and i.status not in OUTCOMES)
    late = sum(1 for i in earlier if is_overdue(i, now))
    field_rows = [
        [str(n), fields.get(k, "Chưa phân loại"), str(c)]
        for n, (k, c) in enumerate(sorted(by_field.items(), key=lambda kv: (-kv[1], kv[0])), 1)
    ]
    listed = sorted(mine, key=lambda i: (i.field_id or "", i.id))[:MAX_LISTED]
    list_rows = [
        [str(n), i.text, i.area, fields.get(i.field_id or "", "Chưa phân loại"), agencies.get(i.agency_id or "", "")]
        for n, i in enumerate(listed, 1)
    ]
    voters = sum(m.voters for m in meetings)
    sections = [
        Section(
            title="I. TÌNH HÌNH TỔ CHỨC TIẾP XÚC CỬ TRI",
            lines=[
                f"Trước kỳ họp {session_id}, các Tổ đại biểu Hội đồng nhân dân phối hợp với Ủy ban Mặt trận Tổ quốc "
                f"các cấp tổ chức {len(meetings)} buổi tiếp xúc cử tri với {voters} lượt cử tri tham dự; tổng hợp "
                f"được {len(mine)} ý kiến, kiến nghị (các kiến nghị trùng nhau đã được gộp).",
            ],
        ),
        Section(
            title="II. KIẾN NGHỊ CỦA CỬ TRI THEO LĨNH VỰC",
            table_head=["STT", "Lĩnh vực", "Số kiến nghị"],
            table_rows=field_rows,
        ),
        Section(
            title="III. KẾT QUẢ GIẢI QUYẾT KIẾN NGHỊ CỦA CỬ TRI CÁC KỲ TRƯỚC",
            lines=[
                f"Tổng số {len(earlier)} kiến nghị: đã giải quyết {settled[Status.RESOLVED]}; giải quyết một phần "
                f"{settled[Status.PARTLY_RESOLVED]}; đưa vào kế hoạch, lộ trình {settled[Status.ROADMAP]}; không "
                f"giải quyết được {settled[Status.NOT_RESOLVED]}; đang giải quyết {running}; trong đó quá hạn "
                f"{late} kiến nghị.",
            ],
        ),
        Section(
            title="IV. DANH SÁCH KIẾN NGHỊ CỦA CỬ TRI",
            lines=[] if len(mine) <= MAX_LISTED else [f"(In {MAX_LISTED} trong số {len(mine)} kiến nghị.)"],
            table_head=["STT", "Nội dung kiến nghị", "Địa bàn", "Lĩnh vực", "Cơ quan giải quyết"],
            table_rows=list_rows,
        ),
    ]
    return ReportDoc(
        header=Header(
            body_lines=["ỦY BAN MTTQ VIỆT NAM", province.upper()],
            motto=["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"],
            number="Số:      /BC-MTTQ",
            place_date=f"{province.removeprefix('tỉnh ').removeprefix('xã ')}, ngày {today:%d} tháng {today:%m} "
            f"năm {today:%Y}",
        ),
        doc_type="BÁO CÁO",
        summary=f"Tổng hợp ý kiến, kiến nghị của cử tri\ntrước kỳ họp {session_id}",
        subject_id=session_id,
        sections=sections,
        signatures=[Signature(on_behalf="TM. BAN THƯỜNG TRỰC", title="CHỦ TỊCH", name="")],
    )


def build_report_pdf(state: PetitionsState, council_name: str, session_id: str, now: datetime) -> bytes:
    """The PDF (PDF/A-2b, Tinos), dated by `now`."""
    return _render("count_record.typ", report_doc(state, council_name, session_id, now), now.timestamp())
