"""The record's structs: what `record.projection` builds and every renderer (PDF, Akoma Ntoso, JSON, CSV) reads.

`SessionRecord` is the JSON export; its schema (`record.export.json_schema()`) is the documented contract for
other systems. The document structs (`ResolutionDoc`, `MinutesDoc`, `CountRecordDoc`) add the words and lines of
the state's layout (Decree 30/2020/NĐ-CP) so the Typst templates only place text: every sentence, label, number
format and date is made here, none in a template. All text is NFC. Times are ISO 8601 with the +07:00 offset
(Vietnam keeps one time zone and no daylight saving time).
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class OptionLine(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str
    count: int
    share_of_all: float  # percent of ALL delegates, 2 decimals, as the domain computed it
    share_text: str  # "92,00%" (decimal comma)


class VoteRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One vote round: its counts, shares of all delegates, pass rule in words and outcome."""

    round_id: str
    item_id: str
    item_title: str
    motion: str
    secret: bool
    paper: bool
    normative: bool
    kind: str  # meeting.rules.VoteKind: resolution | removal | procedural
    kind_vi: str
    mode_vi: str  # "Biểu quyết công khai, điện tử", "Bỏ phiếu kín, điện tử, có thể kiểm chứng (…)", "…, phiếu giấy"
    status: str  # "closed" | "cancelled"
    options: list[OptionLine]
    total_delegates: int
    ballots_collected: int
    present_at_open: int
    present_at_close: int
    pass_rule: str  # the domain's PassRule value
    pass_rule_vi: str  # "quá nửa tổng số đại biểu (cần ít nhất 26/50)"
    needed: int
    passed: bool
    outcome_vi: str  # "Thông qua", "Không thông qua", "Đã hủy: …"
    opened_at: datetime
    closed_at: datetime | None
    resolution_number: str  # "" when no resolution was numbered from this round


class AttendanceEntry(msgspec.Struct, frozen=True, kw_only=True):
    delegate_id: str
    name: str
    present: bool  # checked in at any time while the session ran
    checked_in_at: datetime | None  # the first check-in
    absence_reason: str  # "" when present, or not known


class AgendaLine(msgspec.Struct, frozen=True, kw_only=True):
    position: int  # 1-based, in the agenda's final order
    item_id: str
    title: str
    kind: str
    kind_vi: str


class QuestionRecord(msgspec.Struct, frozen=True, kw_only=True):
    question_id: str
    topic: str
    delegate_id: str
    delegate_name: str
    respondent_id: str
    respondent_name: str
    respondent_position: str
    text: str
    status: str
    status_vi: str
    answer: str  # the secretariat's summary, "" if none was recorded
    commitment: str
    commitment_due: date | None
    rebuttals: list[str]  # names of the delegates who had a rebuttal turn, in order
    # The voters' petition or commitment the question was raised from ("petitions:<council>:<term>#<item>"):
    # the record links back to the register (issue 14).
    link: str | None = None


class LevelCount(msgspec.Struct, frozen=True, kw_only=True):
    level: str
    label: str
    count: int
    percentage: float
    percentage_text: str


class OfficialLine(msgspec.Struct, frozen=True, kw_only=True):
    official_id: str
    name: str
    position: str
    levels: list[LevelCount]
    invalid: int
    valid: int
    consequence: str
    consequence_vi: str


class PollRecord(msgspec.Struct, frozen=True, kw_only=True):
    poll_id: str
    item_id: str
    kind: str
    kind_vi: str
    status: str
    status_vi: str
    paper: bool
    total_delegates: int
    ballots_collected: int
    base_vi: str  # what the percentages are over: "tổng số phiếu thu về (46)"
    officials: list[OfficialLine]
    committee: list[str]  # names
    certified_by: list[str]  # names, in the order they certified
    published_at: datetime | None
    # "phiếu giấy", "điện tử, có thể kiểm chứng (…)" or "điện tử, niêm phong (…)" (issue 13 §2); "" in a record
    # exported before the mode was recorded, which still loads (record/export.py load_json).
    mode_vi: str = ""


class ResolutionLine(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    title: str
    normative: bool
    adopted_on: date
    item_id: str
    round_id: str


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The whole record of a closed session as data (the JSON export)."""

    council_id: str
    council_name: str
    session_id: str
    title: str
    kind: str
    place: str
    term_id: str
    opened_at: datetime | None
    closed_at: datetime | None
    total_delegates: int
    present_count: int
    attendance: list[AttendanceEntry]
    agenda: list[AgendaLine]
    votes: list[VoteRecord]
    questions: list[QuestionRecord]
    polls: list[PollRecord]
    resolutions: list[ResolutionLine]
    audit_heads: dict[str, str]


# --- the documents ------------------------------------------------------------------------------------------------
class Header(msgspec.Struct, frozen=True, kw_only=True):
    """The top of every administrative document (Decree 30/2020/NĐ-CP, Appendix I, boxes 1–5)."""

    body_lines: list[str]  # top left, bold caps
    motto: list[str]  # top right: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
    number: str  # "Số: 01/2026/NQ-HĐND", under the body; "" for none
    place_date: str  # "Minh Hòa, ngày 09 tháng 12 năm 2026", italic under the motto


class Signature(msgspec.Struct, frozen=True, kw_only=True):
    on_behalf: str  # "TM. HỘI ĐỒNG NHÂN DÂN" or ""
    title: str  # "CHỦ TỊCH"
    name: str


class ArticleDoc(msgspec.Struct, frozen=True, kw_only=True):
    label: str  # "Điều 1."
    heading: str
    paragraphs: list[str]


class Section(msgspec.Struct, frozen=True, kw_only=True):
    """A titled part of the minutes or a count record: lines of text, then an optional table."""

    title: str
    lines: list[str] = []
    table_head: list[str] = []
    table_rows: list[list[str]] = []
    table_wide: int = 1  # the column of names or titles, given the most room


class ResolutionDoc(msgspec.Struct, frozen=True, kw_only=True):
    header: Header
    doc_type: str  # "NGHỊ QUYẾT"
    summary: str
    issuer: list[str]  # "HỘI ĐỒNG NHÂN DÂN TỈNH MINH HÒA", "KHÓA XI, KỲ HỌP THỨ TƯ"
    bases: list[str]  # italic lines: "Căn cứ …;", "Xét …;"
    decides: str  # "QUYẾT NGHỊ:"
    articles: list[ArticleDoc]
    recipients_title: str  # "Nơi nhận:"
    recipients: list[str]  # "- Chính phủ;"
    signature: Signature
    created: datetime  # the PDF's creation date: when the round closed (byte-stable output)
    # For the Akoma Ntoso and JSON renderings.
    council_id: str
    number: str
    normative: bool
    adopted_on: date
    vote: VoteRecord


class MinutesDoc(msgspec.Struct, frozen=True, kw_only=True):
    header: Header
    doc_type: str  # "BIÊN BẢN"
    summary: str  # "Kỳ họp thứ Tư, Hội đồng nhân dân tỉnh Minh Hòa khóa XI"
    sections: list[Section]
    signatures: list[Signature]  # left to right: the secretary, the chair
    created: datetime
    record: SessionRecord


class CountRecordDoc(msgspec.Struct, frozen=True, kw_only=True):
    """Biên bản kiểm phiếu of one secret vote round or one confidence poll."""

    header: Header
    doc_type: str  # "BIÊN BẢN KIỂM PHIẾU"
    summary: str
    subject_id: str  # the round or poll id
    sections: list[Section]
    signatures: list[Signature]
    created: datetime
    committee: list[str]
    ballots_issued: int
    ballots_collected: int
    ballots_valid: int
    ballots_invalid: int
