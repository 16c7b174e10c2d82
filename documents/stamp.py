"""Per-delegate copies of "restricted" documents: every page stamped with the delegate's name, the council and the
time the copy was made, so that a leaked page names its source.

The stamp is drawn once per page size with fpdf2 (Vietnamese text in an embedded Be Vietnam Pro subset, see
documents/fonts.py), turned into a Form XObject, and added to every page as one more content stream:

    [ "q" ] + the page's own content streams + [ "Q q <placement> cm /KyhopStamp Do Q" ]

The page's own streams are referenced, never decoded or rewritten, so a copy costs little more than the original
in time and size, and the original's content cannot be altered by the stamping. The placement matrix follows the
page's crop box and /Rotate, so the stamp reads upright along the bottom edge of the page as displayed. The whole
file is rewritten (not appended as an incremental update), so the stamp cannot be stripped by cutting the file at
the original's end.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from documents.fonts import font_path

# Vietnam's time (UTC+7, no daylight saving), as people in the hall read it.
VIETNAM = timezone(timedelta(hours=7), "ICT")
STAMP_NAME = NameObject("/KyhopStamp")
FONT_SIZE = 7.5
MARGIN = 14.0  # points from the bottom and left edges of the visible page


def stamp_line(name: str, council: str, at: datetime) -> str:
    local = at.astimezone(VIETNAM)
    return (
        f"Bản cấp riêng cho đại biểu {name} · {council} · {local:%H:%M} ngày {local:%d/%m/%Y}"
        " · Không sao chép, không chuyển giao"
    )


def _overlay(width: float, height: float, line: str, name: str) -> PdfReader:
    """A one-page PDF of the visible page size with the stamp line at the bottom and a faint diagonal name."""
    pdf = FPDF(unit="pt", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("Stamp", "", str(font_path("Regular")))
    pdf.add_page()
    size = FONT_SIZE
    pdf.set_font("Stamp", size=size)
    # Shrink the line to fit narrow pages rather than let it run off the edge.
    while size > 4 and pdf.get_string_width(line) > width - 2 * MARGIN:
        size -= 0.5
        pdf.set_font("Stamp", size=size)
    pdf.set_text_color(170, 20, 20)
    pdf.set_xy(MARGIN, height - MARGIN - size)
    pdf.cell(text=line)
    # The diagonal name: light, behind nothing (drawn last, but nearly transparent), across the page centre.
    big = min(width, height) / 14
    pdf.set_font("Stamp", size=big)
    pdf.set_text_color(120, 120, 120)
    with pdf.local_context(fill_opacity=0.12, text_color=(120, 120, 120)), pdf.rotation(35, width / 2, height / 2):
        w = pdf.get_string_width(name)
        pdf.set_xy(width / 2 - w / 2, height / 2 - big / 2)
        pdf.cell(text=name)
    return PdfReader(io.BytesIO(bytes(pdf.output())))


def _form(writer: PdfWriter, overlay: PdfReader, width: float, height: float) -> IndirectObject:
    page = overlay.pages[0]
    form = StreamObject()
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject([NumberObject(0), NumberObject(0), FloatObject(width), FloatObject(height)])
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    form[NameObject("/Resources")] = resources.clone(writer)
    contents = page.get_contents()
    form.set_data(contents.get_data() if contents is not None else b"")
    return writer._add_object(form.flate_encode())


def _placement(box: tuple[float, float, float, float], rotate: int) -> tuple[float, ...]:
    """The matrix taking the stamp (drawn upright in displayed coordinates) into the page's user space."""
    llx, lly, urx, ury = box
    if rotate == 90:
        return (0, 1, -1, 0, urx, lly)
    if rotate == 180:
        return (-1, 0, 0, -1, urx, ury)
    if rotate == 270:
        return (0, -1, 1, 0, llx, ury)
    return (1, 0, 0, 1, llx, lly)


def _stream(writer: PdfWriter, data: bytes) -> IndirectObject:
    s = StreamObject()
    s.set_data(data)
    return writer._add_object(s)


def stamp_pdf(src: Path, dst: Path, *, name: str, council: str, at: datetime) -> str:
    """Write the stamped copy of `src` to `dst` and return its SHA-256. Blocking and CPU-bound: run it in a thread.

    `src` must already have passed documents.pdf.inspect (not encrypted, sane page tree).
    """
    line = stamp_line(name, council, at)
    reader = PdfReader(src)
    writer = PdfWriter(clone_from=reader)
    forms: dict[tuple[float, float], IndirectObject] = {}
    push = _stream(writer, b"q\n")
    for page in writer.pages:
        crop = page.cropbox
        box = (float(crop.left), float(crop.bottom), float(crop.right), float(crop.top))
        rotate = page.rotation % 360
        width, height = box[2] - box[0], box[3] - box[1]
        if rotate in (90, 270):
            width, height = height, width
        key = (round(width, 2), round(height, 2))
        if key not in forms:
            forms[key] = _form(writer, _overlay(width, height, line, name), width, height)
        matrix = " ".join(f"{v:.4f}".rstrip("0").rstrip(".") for v in _placement(box, rotate))
        draw = _stream(writer, f"Q q {matrix} cm {STAMP_NAME} Do Q\n".encode())

        original = page.get("/Contents")
        resolved = original.get_object() if original is not None else None
        streams: list[IndirectObject] = []
        if isinstance(resolved, ArrayObject):
            streams = [s for s in resolved if isinstance(s, IndirectObject)]
        elif isinstance(original, IndirectObject):
            streams = [original]
        elif resolved is not None:  # a direct stream object (not allowed by the spec, but seen): make it indirect
            streams = [writer._add_object(resolved)]
        page[NameObject("/Contents")] = ArrayObject([push, *streams, draw])

        old = page.get("/Resources")
        resources = DictionaryObject(old.get_object()) if old is not None else DictionaryObject()
        xobjects = resources.get("/XObject")
        xobjects = DictionaryObject(xobjects.get_object()) if xobjects is not None else DictionaryObject()
        xobjects[STAMP_NAME] = forms[key]
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources

    with dst.open("wb") as f:
        writer.write(f)
    h = hashlib.sha256()
    with dst.open("rb") as f:
        while block := f.read(1024 * 1024):
            h.update(block)
    return h.hexdigest()
