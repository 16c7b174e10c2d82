"""Generated Vietnamese documents for the demo session (and for tests): written here, laid out with fpdf2 in the
state's document layout (Decree 30/2020/NĐ-CP: issuing body top left, national motto top right, number, place and
date, title, body, signature block). The names, numbers and figures are invented for the demo province.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from pypdf import PdfReader, PdfWriter

from documents.fonts import font_path

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


@dataclass(frozen=True)
class Letter:
    """One document in the state layout."""

    issuer: tuple[str, str]  # e.g. ("ỦY BAN NHÂN DÂN", "TỈNH MINH HÒA")
    number: str  # "Số: 112/TTr-UBND"
    place_date: str  # "Minh Hòa, ngày 20 tháng 11 năm 2026"
    kind: str  # "TỜ TRÌNH", "NGHỊ QUYẾT", "BÁO CÁO THẨM TRA"
    subject: str  # the line under the kind
    body: Sequence[str]  # paragraphs; a paragraph starting with "#" is a bold heading
    signer: tuple[str, str]  # ("TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH", "Trương Quang Định")
    title: str = ""  # the PDF's /Title metadata
    recipients: Sequence[str] = field(default_factory=tuple)


def _font(pdf: FPDF) -> None:
    # Two faces only: every face embedded costs a font subset (~0.2 s of fontTools work per document).
    pdf.add_font("Body", "", str(font_path("Regular")))
    pdf.add_font("Body", "B", str(font_path("Bold")))


def _lines(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy word wrap, each word measured once (fpdf2's own multi_cell re-measures the growing line for every
    character, which made a one-page letter take ~0.3 s)."""
    space = pdf.get_string_width(" ")
    lines: list[str] = []
    line: list[str] = []
    used = 0.0
    for word in text.split():
        w = pdf.get_string_width(word)
        if line and used + space + w > width:
            lines.append(" ".join(line))
            line, used = [], 0.0
        used += (space if line else 0.0) + w
        line.append(word)
    if line:
        lines.append(" ".join(line))
    return lines


def _paragraph(pdf: FPDF, text: str, height: float, align: Align = Align.L) -> None:
    for line in _lines(pdf, text, pdf.epw):
        pdf.cell(pdf.epw, height, line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _letter(pdf: FPDF, letter: Letter) -> None:
    pdf.add_page()
    width = pdf.epw
    left_w = width * 0.42
    top = pdf.get_y()
    pdf.set_font("Body", "", 11)
    pdf.cell(left_w, 5.5, letter.issuer[0], align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Body", "B", 11)
    pdf.cell(left_w, 5.5, letter.issuer[1], align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Body", "", 11)
    pdf.cell(left_w, 7, letter.number, align=Align.C)
    pdf.set_xy(pdf.l_margin + left_w, top)
    pdf.set_font("Body", "B", 11)
    pdf.cell(width - left_w, 5.5, MOTTO[0], align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.cell(width - left_w, 5.5, MOTTO[1], align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Body", "", 11)
    pdf.cell(width - left_w, 7, letter.place_date, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(8)
    pdf.set_font("Body", "B", 14)
    pdf.cell(width, 7, letter.kind, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Body", "B", 12)
    _paragraph(pdf, letter.subject, 6, Align.C)
    pdf.ln(5)

    for paragraph in letter.body:
        if paragraph.startswith("#"):
            pdf.set_font("Body", "B", 12)
            _paragraph(pdf, paragraph.lstrip("# "), 6.5)
        else:
            pdf.set_font("Body", "", 12)
            _paragraph(pdf, paragraph, 6.5)
        pdf.ln(1.5)

    pdf.ln(6)
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    y = pdf.get_y()
    if letter.recipients:
        pdf.set_font("Body", "B", 10)
        pdf.cell(left_w, 5, "Nơi nhận:", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font("Body", "", 10)
        for r in letter.recipients:
            pdf.cell(left_w, 5, f"- {r};", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin + left_w, y)
    pdf.set_font("Body", "B", 12)
    for line in letter.signer[0].split(" / "):
        pdf.cell(width - left_w, 6, line, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(18)
    pdf.set_x(pdf.l_margin + left_w)
    pdf.cell(width - left_w, 6, letter.signer[1], align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _new_pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_margins(25, 20, 18)  # left 30 mm in the decree; 25 keeps the demo compact
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_creator("Kỳ họp")
    _font(pdf)
    return pdf


def render_all(letters: Sequence[Letter]) -> list[bytes]:
    """Each letter as its own PDF. They are laid out in one fpdf2 document, so the font is subset once, then split
    into one file per letter with pypdf, each with its own /Title."""
    pdf = _new_pdf()
    starts: list[int] = []
    for letter in letters:
        starts.append(pdf.page_no())
        _letter(pdf, letter)
    ends = [*starts[1:], pdf.page_no()]
    whole = PdfReader(io.BytesIO(bytes(pdf.output())))
    out: list[bytes] = []
    for letter, first, last in zip(letters, starts, ends, strict=True):
        writer = PdfWriter()
        for i in range(first, last):
            writer.add_page(whole.pages[i])
        writer.add_metadata(
            {
                "/Title": letter.title or f"{letter.kind.capitalize()} {letter.subject}",
                "/Author": " ".join(letter.issuer),
                "/Creator": "Kỳ họp",
            }
        )
        buf = io.BytesIO()
        writer.write(buf)
        out.append(buf.getvalue())
    return out


def render(letter: Letter) -> bytes:
    return render_all([letter])[0]


def simple(title: str, paragraphs: Sequence[str]) -> bytes:
    """A plain document: a bold title and paragraphs (tests use it to make valid Vietnamese PDFs)."""
    pdf = _new_pdf()
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("Body", "B", 14)
    _paragraph(pdf, title, 7)
    pdf.set_font("Body", "", 12)
    for p in paragraphs:
        if p == "\f":
            pdf.add_page()
            continue
        _paragraph(pdf, p, 6.5)
    return bytes(pdf.output())


# --- the demo session's documents ----------------------------------------------------------------------------------
_UB = ("ỦY BAN NHÂN DÂN", "TỈNH MINH HÒA")
_HD = ("HỘI ĐỒNG NHÂN DÂN", "TỈNH MINH HÒA")
_UB_SIGN = ("TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH", "Trương Quang Định")
_RECIPIENTS = ("Thường trực HĐND tỉnh", "Các đại biểu HĐND tỉnh", "Lưu: VT")


@dataclass(frozen=True)
class DemoDocument:
    document_id: str
    item_id: str
    kind: str  # meeting.documents.DocumentKind value
    access: str  # meeting.documents.Access value
    title: str
    letter: Letter | None  # None: a state-secret document, listed but never stored
    pages: int = 0  # declared page count of a secret document
    note: str = ""


def demo_documents() -> list[DemoDocument]:
    budget_ttr = Letter(
        issuer=_UB,
        number="Số: 215/TTr-UBND",
        place_date="Minh Hòa, ngày 18 tháng 11 năm 2026",
        kind="TỜ TRÌNH",
        subject="Về dự toán ngân sách địa phương và phương án phân bổ ngân sách tỉnh năm 2027",
        title="Tờ trình về dự toán ngân sách địa phương năm 2027",
        body=[
            "Kính gửi: Hội đồng nhân dân tỉnh Minh Hòa khóa XI, kỳ họp thứ Tư.",
            "Căn cứ Luật Tổ chức chính quyền địa phương và Luật Ngân sách nhà nước; căn cứ tình hình thực hiện "
            "nhiệm vụ thu, chi ngân sách năm 2026, Ủy ban nhân dân tỉnh kính trình Hội đồng nhân dân tỉnh xem xét, "
            "quyết định dự toán ngân sách địa phương năm 2027 như sau:",
            "# I. Dự toán thu ngân sách nhà nước trên địa bàn",
            "Tổng thu ngân sách nhà nước trên địa bàn dự kiến 18.450 tỷ đồng, tăng 8,6% so với ước thực hiện năm "
            "2026; trong đó thu nội địa 16.920 tỷ đồng, thu từ hoạt động xuất nhập khẩu 1.530 tỷ đồng.",
            "# II. Dự toán chi ngân sách địa phương",
            "Tổng chi ngân sách địa phương 21.375 tỷ đồng, gồm chi đầu tư phát triển 7.980 tỷ đồng, chi thường "
            "xuyên 12.860 tỷ đồng, dự phòng ngân sách 420 tỷ đồng và chi trả nợ lãi 115 tỷ đồng.",
            "Ưu tiên bố trí kinh phí cho giáo dục và đào tạo, y tế cơ sở, chuyển đổi số trong cơ quan nhà nước "
            "và hỗ trợ đồng bào vùng đồng bào dân tộc thiểu số và miền núi.",
            "# III. Đề nghị",
            "Ủy ban nhân dân tỉnh kính trình Hội đồng nhân dân tỉnh xem xét, thông qua dự thảo Nghị quyết kèm theo.",
        ],
        signer=_UB_SIGN,
        recipients=_RECIPIENTS,
    )
    budget_nq = Letter(
        issuer=_HD,
        number="Số:     /2026/NQ-HĐND",
        place_date="Minh Hòa, ngày    tháng 12 năm 2026",
        kind="NGHỊ QUYẾT",
        subject="Về dự toán ngân sách địa phương năm 2027 (dự thảo)",
        title="Dự thảo Nghị quyết về dự toán ngân sách địa phương năm 2027",
        body=[
            "HỘI ĐỒNG NHÂN DÂN TỈNH MINH HÒA KHÓA XI, KỲ HỌP THỨ TƯ",
            "Xét Tờ trình số 215/TTr-UBND của Ủy ban nhân dân tỉnh; Báo cáo thẩm tra của Ban Kinh tế - Ngân sách "
            "Hội đồng nhân dân tỉnh và ý kiến thảo luận của đại biểu Hội đồng nhân dân tỉnh tại kỳ họp.",
            "# QUYẾT NGHỊ:",
            "Điều 1. Quyết định dự toán thu ngân sách nhà nước trên địa bàn năm 2027 là 18.450 tỷ đồng và tổng chi "
            "ngân sách địa phương là 21.375 tỷ đồng.",
            "Điều 2. Giao Ủy ban nhân dân tỉnh tổ chức thực hiện Nghị quyết; Thường trực Hội đồng nhân dân tỉnh, "
            "các Ban và đại biểu Hội đồng nhân dân tỉnh giám sát việc thực hiện.",
            "Điều 3. Nghị quyết này có hiệu lực từ ngày 01 tháng 01 năm 2027.",
        ],
        signer=("CHỦ TỊCH", ""),
        recipients=("Ủy ban Thường vụ Quốc hội", "Chính phủ", "Lưu: VT"),
    )
    budget_review = Letter(
        issuer=("HĐND TỈNH MINH HÒA", "BAN KINH TẾ - NGÂN SÁCH"),
        number="Số: 48/BC-KTNS",
        place_date="Minh Hòa, ngày 02 tháng 12 năm 2026",
        kind="BÁO CÁO THẨM TRA",
        subject="Dự thảo Nghị quyết về dự toán ngân sách địa phương năm 2027",
        title="Báo cáo thẩm tra dự toán ngân sách địa phương năm 2027",
        body=[
            "Ban Kinh tế - Ngân sách thống nhất với dự toán thu do Ủy ban nhân dân tỉnh trình và đề nghị rà soát "
            "các khoản thu tiền sử dụng đất để bảo đảm tính khả thi.",
            "Ban đề nghị tách riêng kinh phí chuyển đổi số, tránh phân tán; ưu tiên trạm y tế xã đã xuống cấp.",
            "Ban đề nghị Hội đồng nhân dân tỉnh xem xét, thông qua dự thảo Nghị quyết với các ý kiến nêu trên.",
        ],
        signer=("TM. BAN KINH TẾ - NGÂN SÁCH / TRƯỞNG BAN", "Nguyễn Thị Hương"),
        recipients=("Thường trực HĐND tỉnh", "Lưu: VT"),
    )
    invest_ttr = Letter(
        issuer=_UB,
        number="Số: 221/TTr-UBND",
        place_date="Minh Hòa, ngày 20 tháng 11 năm 2026",
        kind="TỜ TRÌNH",
        subject="Về điều chỉnh kế hoạch đầu tư công trung hạn giai đoạn 2026–2030",
        title="Tờ trình điều chỉnh kế hoạch đầu tư công trung hạn 2026–2030",
        body=[
            "Kính gửi: Hội đồng nhân dân tỉnh Minh Hòa.",
            "Để đẩy nhanh tiến độ các dự án giao thông liên vùng và bảo đảm nguồn vốn đối ứng, Ủy ban nhân dân tỉnh "
            "kính trình điều chỉnh kế hoạch đầu tư công trung hạn giai đoạn 2026–2030 như sau:",
            "Giảm 640 tỷ đồng của 12 dự án chậm giải phóng mặt bằng; bổ sung tương ứng cho tuyến đường ven biển "
            "đoạn qua huyện Đông Hải và hồ chứa nước Suối Đá.",
            "Các dự án được điều chỉnh bảo đảm đủ thủ tục đầu tư, không làm tăng tổng mức kế hoạch đã được giao.",
        ],
        signer=_UB_SIGN,
        recipients=_RECIPIENTS,
    )
    invest_nq = Letter(
        issuer=_HD,
        number="Số:     /NQ-HĐND",
        place_date="Minh Hòa, ngày    tháng 12 năm 2026",
        kind="NGHỊ QUYẾT",
        subject="Về điều chỉnh kế hoạch đầu tư công trung hạn giai đoạn 2026–2030 (dự thảo)",
        title="Dự thảo Nghị quyết điều chỉnh kế hoạch đầu tư công trung hạn 2026–2030",
        body=[
            "HỘI ĐỒNG NHÂN DÂN TỈNH MINH HÒA KHÓA XI, KỲ HỌP THỨ TƯ",
            "# QUYẾT NGHỊ:",
            "Điều 1. Điều chỉnh giảm 640 tỷ đồng kế hoạch vốn của 12 dự án và bổ sung cho 02 dự án theo Phụ lục "
            "kèm theo Nghị quyết này.",
            "Điều 2. Giao Ủy ban nhân dân tỉnh tổ chức thực hiện; Thường trực, các Ban và đại biểu Hội đồng nhân "
            "dân tỉnh giám sát việc thực hiện Nghị quyết.",
        ],
        signer=("CHỦ TỊCH", ""),
    )
    questions = Letter(
        issuer=_HD,
        number="Số: 12/BC-HĐND",
        place_date="Minh Hòa, ngày 04 tháng 12 năm 2026",
        kind="BÁO CÁO",
        subject="Tổng hợp ý kiến, kiến nghị của cử tri và nhóm vấn đề chất vấn tại kỳ họp thứ Tư",
        title="Báo cáo tổng hợp nhóm vấn đề chất vấn",
        body=[
            "Qua tiếp xúc cử tri trước kỳ họp, Thường trực Hội đồng nhân dân tỉnh tổng hợp ba nhóm vấn đề chất vấn:",
            "1. Tình trạng thiếu thuốc, vật tư y tế tại các bệnh viện tuyến huyện (Giám đốc Sở Y tế trả lời).",
            "2. Sạt lở bờ sông và chuyển đổi cơ cấu cây trồng vùng ven biển (Giám đốc Sở Nông nghiệp và Môi trường).",
            "3. Tiến độ giải quyết các vụ án hành chính về đất đai (Chánh án Tòa án nhân dân tỉnh).",
        ],
        signer=("TM. THƯỜNG TRỰC HĐND / PHÓ CHỦ TỊCH", "Lê Minh Khánh"),
    )
    confidence = Letter(
        issuer=_HD,
        number="Số: 15/DS-HĐND",
        place_date="Minh Hòa, ngày 05 tháng 12 năm 2026",
        kind="DANH SÁCH",
        subject="Người giữ chức vụ do Hội đồng nhân dân tỉnh bầu được lấy phiếu tín nhiệm",
        title="Danh sách người được lấy phiếu tín nhiệm",
        body=[
            "Theo Nghị quyết số 96/2023/QH15 của Quốc hội, Hội đồng nhân dân tỉnh lấy phiếu tín nhiệm đối với:",
            "1. Ông Trương Quang Định, Chủ tịch Ủy ban nhân dân tỉnh.",
            "2. Bà Lý Thị Mai, Giám đốc Sở Y tế.",
            "3. Ông Đinh Văn Tùng, Giám đốc Sở Nông nghiệp và Môi trường.",
            "Báo cáo kết quả công tác của từng người được gửi kèm; tài liệu được cấp riêng cho từng đại biểu.",
        ],
        signer=("TM. THƯỜNG TRỰC HĐND / CHỦ TỊCH", "Nguyễn Văn An"),
    )
    return [
        DemoDocument("ttr-ngan-sach-2027", "nq-ngan-sach", "submission", "delegates", budget_ttr.title, budget_ttr),
        DemoDocument(
            "bctt-ngan-sach-2027", "nq-ngan-sach", "review_report", "delegates", budget_review.title, budget_review
        ),
        DemoDocument("dtnq-ngan-sach-2027", "nq-ngan-sach", "draft_resolution", "public", budget_nq.title, budget_nq),
        DemoDocument("ttr-dau-tu-cong", "nq-dau-tu-cong", "submission", "delegates", invest_ttr.title, invest_ttr),
        DemoDocument("dtnq-dau-tu-cong", "nq-dau-tu-cong", "draft_resolution", "public", invest_nq.title, invest_nq),
        DemoDocument("bc-chat-van", "chat-van", "other", "public", questions.title, questions),
        DemoDocument("ds-tin-nhiem", "tin-nhiem", "other", "restricted", confidence.title, confidence),
        DemoDocument(
            "bc-an-ninh-mat",
            "tin-nhiem",
            "other",
            "secret",
            "Báo cáo tình hình an ninh chính trị trên địa bàn tỉnh (Mật)",
            None,
            pages=14,
            note="Phòng đọc tài liệu mật, tầng 2 Nhà B",
        ),
    ]
