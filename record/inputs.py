"""What the record needs that the domain does not hold yet: the secretariat's inputs, edited on its page.

The event log knows who voted and how many, but not the text of a draft resolution's articles, the council's
"Căn cứ" lines, the recipients, the place name written before the date, or the chair's name. These structs are
taken as explicit inputs by `record.projection`; `demo_inputs` gives the demo session of meeting/script.py
sensible values. Every field is plain text typed by a person: the projection normalises it to NFC.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from meeting.errors import invalid

# Bounds for text typed on the secretariat's page: an article of a long resolution runs to a few pages
# (~20 000 characters); 200 articles and 100 "Căn cứ" lines are beyond any resolution of a council.
MAX_LINE = 2_000
MAX_PARAGRAPH = 20_000
MAX_ARTICLES = 200
MAX_LINES = 100


class CouncilProfile(msgspec.Struct, frozen=True, kw_only=True):
    """The council's settings for its documents (Decree 30/2020/NĐ-CP, Appendix I)."""

    # The issuing body as printed top left, one line per element ("HỘI ĐỒNG NHÂN DÂN", "TỈNH MINH HÒA").
    body_lines: list[str]
    # The place written before the date ("Minh Hòa, ngày 09 tháng 12 năm 2026"): the province or commune name.
    place_name: str
    # "khóa XI" and "thứ Tư" as spoken in "Hội đồng nhân dân tỉnh Minh Hòa khóa XI, kỳ họp thứ Tư".
    term_label: str
    session_ordinal: str
    # The council named in running text ("Hội đồng nhân dân tỉnh Minh Hòa").
    council_name: str
    chair_name: str  # signs every resolution ("TM. HỘI ĐỒNG NHÂN DÂN / CHỦ TỊCH")
    chair_title: str = "CHỦ TỊCH"
    secretary_name: str = ""  # the session's secretary (thư ký kỳ họp) signs the minutes
    # The legal bases every resolution of this council cites, in order ("Căn cứ Luật ...;").
    bases: list[str] = []
    # "Nơi nhận:" lines for every resolution, the last one usually "Lưu: VT, ...".
    recipients: list[str] = []


class Article(msgspec.Struct, frozen=True, kw_only=True):
    """One article (Điều) of a draft resolution: a short heading and its paragraphs (khoản, điểm as text)."""

    heading: str = ""
    paragraphs: list[str] = []


class DraftResolution(msgspec.Struct, frozen=True, kw_only=True):
    """The structured text of a draft resolution attached to an agenda item."""

    item_id: str
    # The summary line under "NGHỊ QUYẾT" ("Về dự toán ngân sách địa phương năm 2027"); empty: from the title.
    summary: str = ""
    # Bases of this resolution after the council's own ("Căn cứ Luật Ngân sách nhà nước ...;").
    bases: list[str] = []
    # "Xét Tờ trình số .../TTr-UBND ...; Báo cáo thẩm tra ...; ý kiến thảo luận ... tại kỳ họp." lines.
    considering: list[str] = []
    articles: list[Article] = []
    recipients: list[str] = []  # empty: the council's recipients


class RecordInputs(msgspec.Struct, frozen=True, kw_only=True):
    profile: CouncilProfile
    drafts: list[DraftResolution] = []
    # Why a delegate was absent, when the secretariat knows ("vắng có lý do: công tác").
    absence_reasons: dict[str, str] = {}
    # The counting committee (delegate ids) of the session's secret vote rounds. The domain records a
    # committee per confidence poll only; a secret round's committee comes from here until it does too.
    vote_committee: list[str] = []
    minutes_number: str = ""  # "Số: 05/BB-HĐND", when the secretariat numbers its minutes
    # Head hashes of the audit chains (server/audit.py, `kyhop audit verify`), printed in the minutes.
    audit_heads: dict[str, str] = {}

    def draft(self, item_id: str) -> DraftResolution | None:
        return next((d for d in self.drafts if d.item_id == item_id), None)


# --- what the secretariat edits and the server stores (server/record_service.py), with bounds for its page ------
Line = Annotated[str, msgspec.Meta(max_length=MAX_LINE)]
Lines = Annotated[list[Line], msgspec.Meta(max_length=MAX_LINES)]
Paragraph = Annotated[str, msgspec.Meta(max_length=MAX_PARAGRAPH)]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class CouncilSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The council's part of `CouncilProfile`: the same for every session of a term."""

    body_lines: Annotated[list[Line], msgspec.Meta(min_length=1, max_length=6)]
    place_name: Line
    council_name: Line
    term_label: Line
    chair_name: Line
    chair_title: Line = "CHỦ TỊCH"
    bases: Lines = []
    recipients: Lines = []


class SessionSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The session's part: its ordinal, secretary, minutes number, reasons for absence, counting committee."""

    session_ordinal: Line = ""
    secretary_name: Line = ""
    minutes_number: Line = ""
    absence_reasons: Annotated[dict[Ident, Line], msgspec.Meta(max_length=1000)] = {}
    vote_committee: Annotated[list[Ident], msgspec.Meta(max_length=MAX_LINES)] = []


class ArticleText(msgspec.Struct, frozen=True, kw_only=True):
    heading: Line = ""
    paragraphs: Annotated[list[Paragraph], msgspec.Meta(max_length=MAX_LINES)] = []


class DraftText(msgspec.Struct, frozen=True, kw_only=True):
    """A draft resolution's structured text as the secretariat edits it for one agenda item."""

    summary: Line = ""
    bases: Lines = []
    considering: Lines = []
    articles: Annotated[list[ArticleText], msgspec.Meta(max_length=MAX_ARTICLES)] = []
    recipients: Lines = []


class StoredInputs(msgspec.Struct, frozen=True, kw_only=True):
    """Everything stored for one session's record; `log/inputs.json` in the archive."""

    council: CouncilSettings | None = None
    session: SessionSettings = msgspec.field(default_factory=SessionSettings)
    drafts: dict[str, DraftText] = {}


def assemble(stored: StoredInputs, audit_heads: dict[str, str]) -> RecordInputs:
    """The projection's inputs from what the secretariat stored, with the audit heads the server read."""
    c = stored.council
    if c is None:
        raise invalid(
            "Hội đồng chưa nhập thiết lập hồ sơ (cơ quan ban hành, địa danh, chủ tịch, căn cứ, nơi nhận)",
            "the council's record settings (issuing body, place, chair, bases, recipients) are not set",
        )
    s = stored.session
    profile = CouncilProfile(
        body_lines=list(c.body_lines), place_name=c.place_name, term_label=c.term_label,
        session_ordinal=s.session_ordinal, council_name=c.council_name, chair_name=c.chair_name,
        chair_title=c.chair_title, secretary_name=s.secretary_name, bases=list(c.bases),
        recipients=list(c.recipients),
    )  # fmt: skip
    drafts = [
        DraftResolution(
            item_id=item_id, summary=d.summary, bases=list(d.bases), considering=list(d.considering),
            articles=[Article(heading=a.heading, paragraphs=list(a.paragraphs)) for a in d.articles],
            recipients=list(d.recipients),
        )
        for item_id, d in sorted(stored.drafts.items())
    ]  # fmt: skip
    return RecordInputs(
        profile=profile,
        drafts=drafts,
        absence_reasons=dict(s.absence_reasons),
        vote_committee=list(s.vote_committee),
        minutes_number=s.minutes_number,
        audit_heads=dict(audit_heads),
    )


def demo_stored() -> StoredInputs:
    """`demo_inputs()` split the way the server stores it (the demo seeding stores this)."""
    d = demo_inputs()
    p = d.profile
    return StoredInputs(
        council=CouncilSettings(
            body_lines=p.body_lines, place_name=p.place_name, council_name=p.council_name, term_label=p.term_label,
            chair_name=p.chair_name, chair_title=p.chair_title, bases=p.bases, recipients=p.recipients,
        ),
        session=SessionSettings(
            session_ordinal=p.session_ordinal, secretary_name=p.secretary_name, minutes_number=d.minutes_number,
            absence_reasons=d.absence_reasons, vote_committee=d.vote_committee,
        ),
        drafts={
            x.item_id: DraftText(
                summary=x.summary, bases=x.bases, considering=x.considering, recipients=x.recipients,
                articles=[ArticleText(heading=a.heading, paragraphs=a.paragraphs) for a in x.articles],
            )
            for x in d.drafts
        },
    )  # fmt: skip


def demo_inputs() -> RecordInputs:
    """The secretariat's inputs for the demo session of meeting/script.py (made-up province "Minh Hòa")."""
    profile = CouncilProfile(
        body_lines=["HỘI ĐỒNG NHÂN DÂN", "TỈNH MINH HÒA"],
        place_name="Minh Hòa",
        term_label="khóa XI",
        session_ordinal="thứ Tư",
        council_name="Hội đồng nhân dân tỉnh Minh Hòa",
        chair_name="Nguyễn Minh Bình",
        secretary_name="Trần Thu Hà",
        bases=[
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025;",
            "Căn cứ Luật Ban hành văn bản quy phạm pháp luật ngày 19 tháng 02 năm 2025;",
        ],
        recipients=[
            "Ủy ban Thường vụ Quốc hội;",
            "Chính phủ;",
            "Thường trực Tỉnh ủy;",
            "Thường trực HĐND, UBND tỉnh;",
            "Đại biểu HĐND tỉnh;",
            "Các sở, ban, ngành tỉnh;",
            "Lưu: VT, TH.",
        ],
    )
    budget = DraftResolution(
        item_id="nq-ngan-sach",
        summary="Về dự toán ngân sách địa phương năm 2027",
        bases=["Căn cứ Luật Ngân sách nhà nước ngày 25 tháng 6 năm 2025;"],
        considering=[
            "Xét Tờ trình số 215/TTr-UBND ngày 20 tháng 11 năm 2026 của Ủy ban nhân dân tỉnh;",
            "Báo cáo thẩm tra của Ban Kinh tế - Ngân sách Hội đồng nhân dân tỉnh;",
            "ý kiến thảo luận của đại biểu Hội đồng nhân dân tỉnh tại kỳ họp.",
        ],
        articles=[
            Article(
                heading="Dự toán ngân sách địa phương năm 2027",
                paragraphs=[
                    "1. Tổng thu ngân sách nhà nước trên địa bàn: 18.500 tỷ đồng.",
                    "2. Tổng chi ngân sách địa phương: 24.300 tỷ đồng, trong đó chi đầu tư phát triển "
                    "8.100 tỷ đồng, chi thường xuyên 15.600 tỷ đồng.",
                    "3. Bội chi ngân sách địa phương: 320 tỷ đồng.",
                ],
            ),
            Article(
                heading="Tổ chức thực hiện",
                paragraphs=[
                    "1. Giao Ủy ban nhân dân tỉnh tổ chức thực hiện Nghị quyết.",
                    "2. Giao Thường trực Hội đồng nhân dân, các Ban, các Tổ đại biểu và đại biểu Hội đồng nhân "
                    "dân tỉnh giám sát việc thực hiện Nghị quyết.",
                ],
            ),
            Article(
                heading="Hiệu lực thi hành",
                paragraphs=["Nghị quyết này có hiệu lực từ ngày 01 tháng 01 năm 2027."],
            ),
        ],
    )
    investment = DraftResolution(
        item_id="nq-dau-tu-cong",
        summary="Về điều chỉnh kế hoạch đầu tư công trung hạn giai đoạn 2026–2030",
        bases=["Căn cứ Luật Đầu tư công ngày 29 tháng 11 năm 2024;"],
        considering=[
            "Xét Tờ trình số 221/TTr-UBND ngày 25 tháng 11 năm 2026 của Ủy ban nhân dân tỉnh;",
            "Báo cáo thẩm tra của Ban Kinh tế - Ngân sách Hội đồng nhân dân tỉnh;",
            "ý kiến thảo luận của đại biểu Hội đồng nhân dân tỉnh tại kỳ họp.",
        ],
        articles=[
            Article(
                heading="Điều chỉnh kế hoạch",
                paragraphs=[
                    "Điều chỉnh tăng kế hoạch đầu tư công trung hạn vốn ngân sách địa phương giai đoạn "
                    "2026–2030 thêm 1.250 tỷ đồng cho các dự án giao thông, y tế và giáo dục.",
                ],
            ),
            Article(
                heading="Tổ chức thực hiện",
                paragraphs=["Giao Ủy ban nhân dân tỉnh tổ chức thực hiện Nghị quyết."],
            ),
        ],
    )
    return RecordInputs(
        profile=profile,
        drafts=[budget, investment],
        absence_reasons={"db047": "công tác", "db048": "ốm", "db049": "việc gia đình"},
        vote_committee=[f"db{i:03d}" for i in range(30, 37)],
        minutes_number="01/BB-HĐND",
    )
