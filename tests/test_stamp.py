"""Stamped copies of restricted documents (documents/stamp.py): every page carries the delegate's name, the council
and the time, in Vietnamese that comes back exactly from pypdf's text extraction, and the copy still opens and
passes the same checks as any upload."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from documents import pdf as pdfcheck
from documents.fonts import font_path
from documents.stamp import stamp_line, stamp_pdf
from tests import pdf_corpus as corpus

NAME = "Nguyễn Thị Hương"
COUNCIL = "Hội đồng nhân dân tỉnh Minh Hòa"
AT = datetime(2026, 12, 9, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam


def _stamp(tmp_path: Path, data: bytes, name: str = NAME) -> tuple[Path, Path, str]:
    src, dst = tmp_path / "goc.pdf", tmp_path / "ban-cap-rieng.pdf"
    src.write_bytes(data)
    digest = stamp_pdf(src, dst, name=name, council=COUNCIL, at=AT)
    return src, dst, digest


def test_every_page_carries_the_name_council_and_time(tmp_path: Path) -> None:
    original = corpus.good_pdf(
        "Danh sách lấy phiếu tín nhiệm", [*corpus.VIETNAMESE, "\f", "Trang 2.", "\f", "Trang 3."]
    )
    before = hashlib.sha256(original).hexdigest()
    src, dst, digest = _stamp(tmp_path, original)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # the original is untouched
    assert digest == hashlib.sha256(dst.read_bytes()).hexdigest()
    reader = PdfReader(dst)
    assert len(reader.pages) == 3
    line = stamp_line(NAME, COUNCIL, AT)
    assert "08:30 ngày 09/12/2026" in line
    for page, text in zip(reader.pages, ["Hội đồng nhân dân tỉnh quyết nghị", "Trang 2.", "Trang 3."], strict=True):
        extracted = page.extract_text()
        assert NAME in extracted  # exactly, with its diacritics: ễ (U+1EC5), ị (U+1ECB), ư, ơ
        assert line in extracted
        assert text in extracted  # the page's own text is still there


def test_stamped_copy_still_opens_and_passes_the_checks(tmp_path: Path) -> None:
    _, dst, digest = _stamp(tmp_path, corpus.good_pdf())
    report = pdfcheck.inspect(dst)
    assert report.pages == 1 and report.sha256 == digest
    assert report.findings == []
    assert report.title == "Tờ trình về dự toán ngân sách"  # the metadata is kept
    assert NAME in report.text[0]


def test_the_stamp_embeds_the_declared_font(tmp_path: Path) -> None:
    _, dst, _ = _stamp(tmp_path, corpus.good_pdf())
    data = dst.read_bytes()
    assert b"BeVietnamPro" in data  # a subset of the packaged font, not a core font without Vietnamese glyphs
    assert font_path("Regular").is_file()


def test_the_copy_references_the_page_content_instead_of_copying_it(tmp_path: Path) -> None:
    paragraphs = [p for i in range(30) for p in (f"Trang {i + 1}.", *corpus.VIETNAMESE, "\f")][:-1]
    original = corpus.good_pdf("Báo cáo dài", paragraphs)
    src, dst, _ = _stamp(tmp_path, original)
    assert len(PdfReader(dst).pages) == 30
    # One overlay per page size, one font subset: 30 pages add little more than one page's stamp.
    assert dst.stat().st_size < src.stat().st_size + 80_000
    # Not an incremental update: cutting the file back to the original's length does not remove the stamp.
    assert not dst.read_bytes().startswith(original)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotated_and_odd_sized_pages_are_stamped(tmp_path: Path, rotation: int) -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    page.rotate(rotation)
    writer.add_blank_page(300, 200)  # a small landscape page: the line shrinks to fit
    buf = io.BytesIO()
    writer.write(buf)
    _, dst, _ = _stamp(tmp_path, buf.getvalue())
    reader = PdfReader(dst)
    for p in reader.pages:
        assert NAME in p.extract_text()
    assert reader.pages[0].rotation == rotation  # the page keeps its orientation


def test_each_delegate_gets_a_different_copy(tmp_path: Path) -> None:
    data = corpus.good_pdf()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, a, ha = _stamp(tmp_path / "a", data, "Nguyễn Thị Hương")
    _, b, hb = _stamp(tmp_path / "b", data, "Trần Quốc Bảo")
    assert ha != hb
    assert "Trần Quốc Bảo" in PdfReader(b).pages[0].extract_text()
    assert "Trần Quốc Bảo" not in PdfReader(a).pages[0].extract_text()
