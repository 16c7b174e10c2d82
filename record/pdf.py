"""The record's PDFs in the layout of Decree 30/2020/NĐ-CP, typeset by Typst (PyPI `typst`).

Why Typst. The documents are text with a fixed layout — two header blocks side by side, rules of a given length,
justified articles, a signature block — and must come out with correct Vietnamese, embedded fonts, PDF/A and the
same bytes for the same inputs:
- `typst` 0.15 (Rust, one wheel, no system library): shapes with rustybuzz, so NFC and NFD Vietnamese both come
  out right; writes PDF/A-2b (`pdf_standards`); takes the creation time as an argument (`timestamp`), so the
  output is byte-stable; the layout lives in a readable template (record/templates/*.typ) that receives JSON.
- WeasyPrint (HTML/CSS) sets Vietnamese correctly too, but needs Pango/HarfBuzz from the system and offers
  PDF/A only as a variant of its own writer; fpdf2 with text shaping is correct but every box would be placed by
  hand in Python (the layout *is* the code); reportlab misplaces the marks of NFD text (FIELD-NOTES).

The font is Tinos (Times New Roman metrics, every Vietnamese letter) from Debian's fonts-croscore, installed by
`make fonts`: Decree 30 asks for a Unicode Vietnamese font (TCVN 6909:2001) and its samples are in Times New
Roman. Typst is given only the Tinos files (`ignore_system_fonts=True`) and the templates turn font fallback off,
so no other font can slip in.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path
from typing import Literal

import msgspec
import typst

from record.model import CountRecordDoc, MinutesDoc, ResolutionDoc

FONT_DIR = Path("/usr/share/fonts/truetype/croscore")
FONT_FILES = ("Tinos-Regular.ttf", "Tinos-Bold.ttf", "Tinos-Italic.ttf", "Tinos-BoldItalic.ttf")
# PDF/A-2b: the archival profile a People's Council's records are kept in (fonts embedded, no external content).
PDF_STANDARD: Literal["a-2b"] = "a-2b"


class FontMissing(RuntimeError):
    """The server is not set up to print the record (a deployment fault, not a caller's mistake)."""


def font_paths() -> list[Path]:
    """The Tinos files, or a clear error naming the package to install."""
    paths = [FONT_DIR / f for f in FONT_FILES]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FontMissing(
            f"thiếu phông chữ Tinos / the Tinos font is missing ({', '.join(missing)} in {FONT_DIR}): "
            "cài gói / install fonts-croscore (`make fonts`, or apt-get install fonts-croscore)"
        )
    return paths


def _render(template: str, doc: msgspec.Struct, created_at: float) -> bytes:
    data = msgspec.json.encode(doc).decode()
    with as_file(files("record").joinpath("templates")) as root:
        font_paths()  # a clear error before Typst's "unknown font family"
        out, warnings = typst.compile_with_warnings(
            str(Path(root) / template),
            root=str(root),
            # Typst takes font directories, not files; fonts-croscore's holds Tinos, Arimo and Cousine only, and
            # the templates name Tinos with fallback off.
            font_paths=[str(FONT_DIR)],
            ignore_system_fonts=True,
            sys_inputs={"data": data},
            pdf_standards=[PDF_STANDARD],
            timestamp=int(created_at),
        )
    # A warning (an unknown font, a missing glyph) means a document that is not what it should be: refuse it.
    if warnings:
        raise RuntimeError(f"typst warned while setting {template}: {warnings}")
    assert isinstance(out, bytes)
    return out


def build_resolution_pdf(doc: ResolutionDoc) -> bytes:
    """A resolution (nghị quyết), dated by when its round closed."""
    return _render("resolution.typ", doc, doc.created.timestamp())


def build_minutes_pdf(doc: MinutesDoc) -> bytes:
    """The session's minutes (biên bản kỳ họp), dated by the session's close."""
    return _render("minutes.typ", doc, doc.created.timestamp())


def build_count_record_pdf(doc: CountRecordDoc) -> bytes:
    """The count record (biên bản kiểm phiếu) of one secret round or confidence poll."""
    return _render("count_record.typ", doc, doc.created.timestamp())
