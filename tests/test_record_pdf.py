"""The record's PDFs (record/pdf.py): the exact Vietnamese text of every element, the layout of Decree
30/2020/NĐ-CP checked by geometry (text boxes from pdfium, pages rendered to images), the font, PDF/A-2b, and the
same bytes for the same inputs."""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pypdf
import pypdfium2 as pdfium
import pytest
from PIL import ImageOps

from record import pdf
from record.model import CountRecordDoc, Header, MinutesDoc, ResolutionDoc, Section, Signature
from tests.record_session import demo_projection
from tests.services import unavailable

MM = 72 / 25.4  # PDF points per millimetre
# Decree 30/2020/NĐ-CP's smallest margins: top/bottom 20 mm, left 30 mm, right 15 mm. Nothing but the page number
# may be drawn in them (record/templates/common.typ sets top and bottom at 22 mm for the marks above and below letters).
TOP, BOTTOM, LEFT, RIGHT = 20 * MM, 20 * MM, 30 * MM, 15 * MM
A4 = (595.28, 841.89)
EPS = 0.75  # a quarter of a millimetre: glyph boxes may touch the margin line


@pytest.fixture(autouse=True)
def _font() -> None:
    if not all((pdf.FONT_DIR / f).is_file() for f in pdf.FONT_FILES):
        unavailable("fonts-croscore (Tinos) is not installed: `make fonts` installs it")


@functools.cache
def resolution() -> tuple[ResolutionDoc, bytes]:
    doc = demo_projection().resolution_doc("01/2026/NQ-HĐND")
    return doc, pdf.build_resolution_pdf(doc)


@functools.cache
def minutes() -> tuple[MinutesDoc, bytes]:
    doc = demo_projection().minutes_doc()
    return doc, pdf.build_minutes_pdf(doc)


@functools.cache
def count_records() -> list[tuple[CountRecordDoc, bytes]]:
    return [(d, pdf.build_count_record_pdf(d)) for d in demo_projection().count_record_docs()]


def all_pdfs() -> Iterator[tuple[str, bytes]]:
    yield "resolution", resolution()[1]
    yield "minutes", minutes()[1]
    for d, data in count_records():
        yield f"count-{d.subject_id}", data


def flat(text: str) -> str:
    return " ".join(text.split())


def extracted(data: bytes) -> str:
    return flat("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))


def header_texts(h: Header) -> list[str]:
    return [*h.body_lines, *h.motto, h.place_date, *([h.number] if h.number else [])]


def section_texts(sections: list[Section]) -> list[str]:
    return [t for s in sections for t in (s.title, *s.lines, *s.table_head, *(c for r in s.table_rows for c in r)) if t]


def signature_texts(sigs: list[Signature]) -> list[str]:
    return [t for s in sigs for t in (s.on_behalf, s.title, s.name) if t]


def assert_all_in(texts: list[str], data: bytes) -> None:
    got = extracted(data)
    assert unicodedata.is_normalized("NFC", got)
    missing = [t for t in texts if flat(t) not in got]
    assert not missing


# --- text ---------------------------------------------------------------------------------------------------------
def test_resolution_text_is_the_exact_vietnamese_of_every_element() -> None:
    doc, data = resolution()
    texts = [*header_texts(doc.header), doc.doc_type, doc.summary, *doc.issuer, *doc.bases, doc.decides]
    texts += [f"{a.label} {a.heading}" for a in doc.articles] + [p for a in doc.articles for p in a.paragraphs]
    texts += [doc.recipients_title, *doc.recipients, *signature_texts([doc.signature])]
    assert_all_in(texts, data)
    assert "Điều 1. Dự toán ngân sách địa phương năm 2027" in extracted(data)


def test_minutes_text_is_the_exact_vietnamese_of_every_element() -> None:
    doc, data = minutes()
    texts = [*header_texts(doc.header), doc.doc_type, doc.summary, *section_texts(doc.sections)]
    assert_all_in([*texts, *signature_texts(doc.signatures)], data)


def test_count_records_text_is_the_exact_vietnamese_of_every_element() -> None:
    for doc, data in count_records():
        texts = [*header_texts(doc.header), doc.doc_type, doc.summary, *section_texts(doc.sections)]
        assert_all_in([*texts, *signature_texts(doc.signatures)], data)


def test_the_check_sees_a_wrong_letter() -> None:
    doc, data = resolution()
    with pytest.raises(AssertionError):
        assert_all_in([doc.summary.replace("ngân", "ngan")], data)


# --- geometry -----------------------------------------------------------------------------------------------------
Box = tuple[float, float, float, float]  # left, bottom, right, top in PDF points (origin bottom left)


def find(data: bytes, text: str) -> tuple[int, Box]:
    """The page index and box of the first occurrence of `text`."""
    doc = pdfium.PdfDocument(data)
    for i in range(len(doc)):
        tp = doc[i].get_textpage()
        occ = tp.search(text, match_case=True).get_next()
        if occ:
            start, count = occ
            boxes = [b for b in (tp.get_charbox(k) for k in range(start, start + count)) if b[2] > b[0]]
            return i, (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
    raise AssertionError(f"not found: {text}")


def centre(b: Box) -> float:
    return (b[0] + b[2]) / 2


def test_header_body_top_left_motto_top_right_number_and_date_under_them() -> None:
    doc, data = resolution()
    for name, d in all_pdfs():
        p_body, body = find(d, "HỘI ĐỒNG NHÂN DÂN")
        p_motto, motto = find(d, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        _, motto2 = find(d, "Độc lập - Tự do - Hạnh phúc")
        _, place = find(d, doc.header.place_date)
        assert p_body == p_motto == 0, name
        assert body[2] < motto[0], name  # the body ends left of where the motto starts
        assert abs(body[3] - motto[3]) < 2, name  # on the same first line
        assert centre(body) < A4[0] / 2 < centre(motto), name
        assert place[3] < motto2[1] and abs(centre(place) - centre(motto)) < 5, name  # centred under the motto
        assert body[3] > A4[1] - TOP - 20, name  # at the top of the page
    _, number = find(data, doc.header.number)
    _, body = find(data, "TỈNH MINH HÒA")
    assert number[3] < body[1] and abs(centre(number) - centre(body)) < 5


def test_signature_block_bottom_right_recipients_bottom_left() -> None:
    doc, data = resolution()
    p_sig, sig = find(data, "TM. HỘI ĐỒNG NHÂN DÂN")
    p_name, name = find(data, doc.signature.name)
    p_rec, rec = find(data, "Nơi nhận:")
    p_last, last = find(data, doc.articles[-1].paragraphs[-1][-30:])
    assert p_sig == p_name == p_rec and (p_sig, sig[3]) > (p_last, -last[1])  # after the last article
    assert sig[0] > A4[0] / 2 - 20 and centre(name) > A4[0] / 2 + 40
    assert rec[2] < A4[0] / 2 and abs(rec[3] - sig[3]) < 3
    assert name[3] < sig[1] - 50  # room for the signature and seal
    _, data = minutes()
    _, secretary = find(data, "THƯ KÝ KỲ HỌP")
    _, chair = find(data, "CHỦ TỌA")
    assert centre(secretary) < A4[0] / 2 < centre(chair) and abs(secretary[3] - chair[3]) < 2
    for c, cdata in count_records():
        _, head = find(cdata, "TM. BAN KIỂM PHIẾU")
        assert centre(head) > A4[0] / 2 + 40, c.subject_id


def test_titles_centred_articles_bold_dates_italic() -> None:
    doc, data = resolution()
    text_left, text_right = LEFT, A4[0] - RIGHT
    for t in ("NGHỊ QUYẾT", doc.summary, doc.decides, doc.issuer[1]):
        _, b = find(data, t)
        assert abs(centre(b) - (text_left + text_right) / 2) < 3, t
    fonts: dict[str, set[str]] = {}

    def visit(text: str, cm: object, tm: object, font: dict[str, object] | None, size: float) -> None:
        if font and text.strip():
            fonts.setdefault(text.strip(), set()).add(str(font["/BaseFont"]).split("+")[-1])

    pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    by_style = {f for t, f in fonts.items() for f in f if "Căn cứ" in t or "Minh Hòa, ngày" in t}
    assert by_style == {"Tinos-Italic"}
    assert {f for t, f in fonts.items() for f in f if t.startswith("Điều 1.")} == {"Tinos-Bold"}


def test_nothing_outside_the_margins_and_page_numbers_from_page_two() -> None:
    for name, data in all_pdfs():
        doc = pdfium.PdfDocument(data)
        assert len(doc) >= 2 or name.startswith("count"), name
        for i in range(len(doc)):
            page = doc[i]
            assert page.get_size() == pytest.approx(A4, abs=0.01), name
            tp = page.get_textpage()
            chars = range(tp.count_chars())
            boxes = [tp.get_charbox(k) for k in chars if not tp.get_text_range(k, 1).isspace()]
            boxes = [b for b in boxes if b[2] > b[0]]
            above = [b for b in boxes if b[3] > A4[1] - TOP + EPS]
            body = [b for b in boxes if b not in above]
            assert min(b[0] for b in body) >= LEFT - EPS, (name, i)
            assert max(b[2] for b in body) <= A4[0] - RIGHT + EPS, (name, i)
            assert min(b[1] for b in body) >= BOTTOM - EPS, (name, i)
            # Page numbers: none on page 1; from page 2 the number alone, centred in the top margin.
            top_text = tp.get_text_bounded(0, A4[1] - TOP + EPS, A4[0], A4[1]).strip()
            assert top_text == ("" if i == 0 else str(i + 1)), (name, i)
            if i:
                assert abs(centre((min(b[0] for b in above), 0, max(b[2] for b in above), 0)) - 112.5 * MM) < 3


def test_rendered_pages_have_ink_only_inside_the_page_box() -> None:
    """The rendered image (text, rules, table lines): no ink in the side or bottom margins, header top left and
    top right both inked on page 1."""
    scale = 2  # 144 dpi: 1 px = 0.5 pt
    for name, data in all_pdfs():
        doc = pdfium.PdfDocument(data)
        for i in range(len(doc)):
            img = ImageOps.invert(doc[i].render(scale=scale).to_pil().convert("L"))
            w, h = img.size
            x0, _, x1, y1 = img.point(lambda v: 255 if v > 40 else 0).getbbox() or (0, 0, 0, 0)
            assert x0 >= (LEFT - 1) * scale and x1 <= (A4[0] - RIGHT + 1) * scale, (name, i, x0, x1)
            assert y1 <= h - (BOTTOM - 1) * scale, (name, i)
            if i == 0:
                band = img.crop((0, int(TOP * scale), w, int((TOP + 30) * scale)))
                left = band.crop((0, 0, w // 2, band.height)).getbbox()
                right = band.crop((w // 2, 0, w, band.height)).getbbox()
                assert left is not None and right is not None, name


# --- the file -----------------------------------------------------------------------------------------------------
def test_fonts_are_tinos_only_and_embedded() -> None:
    for name, data in all_pdfs():
        reader = pypdf.PdfReader(io.BytesIO(data))
        seen = set()
        for page in reader.pages:
            for ref in page["/Resources"]["/Font"].values():
                font = ref.get_object()
                base = str(font["/BaseFont"]).split("+")[-1]
                seen.add(base)
                desc = (
                    font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                    if "/DescendantFonts" in font
                    else font["/FontDescriptor"]
                )
                assert any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")), (name, base)
        assert seen <= {"Tinos-Regular", "Tinos-Bold", "Tinos-Italic", "Tinos-BoldItalic", "Tinos"}, (name, seen)


def test_pdf_a_2b_with_the_close_time_as_creation_date() -> None:
    doc, data = resolution()
    reader = pypdf.PdfReader(io.BytesIO(data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    created = reader.metadata.creation_date if reader.metadata else None
    assert created is not None and created.timestamp() == int(doc.created.timestamp())


def test_same_inputs_same_bytes_and_different_inputs_different_bytes() -> None:
    doc, data = resolution()
    assert pdf.build_resolution_pdf(doc) == data
    other = msgspec.structs.replace(doc, summary=doc.summary + " (sửa)")
    assert pdf.build_resolution_pdf(other) != data


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    with pytest.raises(pdf.FontMissing, match="fonts-croscore"):
        pdf.build_resolution_pdf(resolution()[0])
