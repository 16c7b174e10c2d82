"""Opening an uploaded PDF the way robust readers do, and making the copy tablets receive (qpdf, through pikepdf).

Councils receive PDFs from a dozen agencies and their tools: a pdflatex file whose cross-reference table pypdf frowns
at, a scan with kilobytes of junk after `%%EOF`, a file with 1000 bytes before `%PDF-`. Poppler, pdf.js and qpdf open
them all, so Kỳ họp does too: qpdf reads the file (reconstructing a damaged cross-reference table as readers do) and,
when anything had to be repaired or removed, writes a new, well-formed copy. That copy — not the upload — is what
every tablet receives, so every reader shows the same thing; the upload is kept byte for byte for the record.

What is removed from the copy (and reported to the uploader, the record and the manifest as active content):
JavaScript (name tree, OpenAction, additional actions /AA, link and form actions, Rendition scripts), launch actions,
form submission and data import, links to `javascript:`/`file:`/other non-web addresses, embedded files (name tree,
file specifications' /EF, file-attachment annotations, PDF 2.0 /AF), XFA forms, and rich media (RichMedia, Screen,
Movie, Sound and 3D annotations). Links to http(s) and mailto addresses and links inside the document stay.

A file that needs neither repair nor removal is served as uploaded (no rewrite, one object in storage).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pikepdf

from documents.errors import PdfRefused

# The longest real documents are budget annexes of a few thousand pages; 20 000 leaves room and stops a bomb.
MAX_PAGES = 20_000
# Dictionaries and arrays looked at while removing active content: a 100-page report has ~3 000, a 2 000-page scan
# ~40 000; 4 million leaves room for the largest real files and bounds the time a crafted one can take (~10 s).
MAX_SCAN_NODES = 4_000_000
# An action and its /Next chain: real chains have one or two links.
MAX_CHAIN = 64
# Direct (inline) objects nested in one indirect object: real files nest 3-6 levels.
MAX_NESTING = 32

# Web and mail links are what agencies put in documents; anything else (javascript:, file:, data:, smb:…) is
# removed: a tablet's viewer must never run a script or open a local file from a session document.
_SAFE_URI = re.compile(rb"\s*(https?|mailto):", re.IGNORECASE)
_RICH_ANNOTATIONS = frozenset({"/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"})
_ACTION_CODES = {
    "/JavaScript": "javascript",
    "/Launch": "launch_action",
    "/SubmitForm": "form_submission",
    "/ImportData": "form_submission",
    "/RichMediaExecute": "rich_media",
    "/GoToE": "embedded_file",  # a go-to into an embedded file
}

# What may be repaired, as the uploader is told (our words, never qpdf's).
REPAIRS: dict[str, tuple[str, str]] = {
    "header_offset": ("có dữ liệu thừa trước dấu %PDF-", "data before the %PDF- header"),
    "trailing_data": ("có dữ liệu thừa sau dấu %%EOF", "data after the %%EOF end marker"),
    "structure": ("bảng tham chiếu chéo hoặc cấu trúc bị lỗi", "a damaged cross-reference table or structure"),
}


class Envelope(msgspec.Struct, frozen=True):
    size: int
    header_offset: int  # where `%PDF-` starts (readers accept it within the first 1024 bytes)
    trailing_data: bool  # more than an end of line after the last `%%EOF`


class Opened:
    """An uploaded PDF opened by qpdf, its active content already removed in memory (see `neutralise`)."""

    def __init__(self, path: Path, envelope: Envelope) -> None:
        self.pdf = _open(path)
        self.envelope = envelope
        self.structure_repaired = bool(self.pdf.get_warnings())
        try:
            if self.pdf.is_encrypted:
                raise PdfRefused("encrypted_pdf")
            pages = len(self.pdf.pages)
            if pages > MAX_PAGES:
                raise PdfRefused(
                    "pdf_bomb", detail_vi=f"hơn {MAX_PAGES} trang", detail_en=f"more than {MAX_PAGES} pages"
                )
            if pages == 0:
                raise PdfRefused("no_pages")
            self.active = neutralise(self.pdf)
        except PdfRefused:
            self.pdf.close()
            raise
        except (pikepdf.PdfError, RuntimeError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
            self.pdf.close()
            raise PdfRefused("unreadable_pdf") from e

    @property
    def repairs(self) -> list[str]:
        out = []
        if self.envelope.header_offset:
            out.append("header_offset")
        if self.envelope.trailing_data:
            out.append("trailing_data")
        if self.structure_repaired:
            out.append("structure")
        return out

    @property
    def needs_rewrite(self) -> bool:
        return bool(self.repairs or self.active)

    def write(self, out: Path) -> None:
        """The copy tablets receive: streams copied as they are (never decoded: no bomb can go off here, and images
        keep their bytes), a deterministic /ID, so the same upload always gives the same copy and the same hash."""
        try:
            self.pdf.save(
                out,
                deterministic_id=True,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                compress_streams=False,
                object_stream_mode=pikepdf.ObjectStreamMode.preserve,
                fix_metadata_version=False,
            )
        except (pikepdf.PdfError, RuntimeError, ValueError, OSError) as e:
            raise PdfRefused("unreadable_pdf") from e

    def close(self) -> None:
        self.pdf.close()

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path, attempt_recovery=True)
    except pikepdf.PasswordError as e:
        raise PdfRefused("encrypted_pdf") from e
    except pikepdf.PdfError as e:
        text = str(e)
        if "/Pages" in text:  # qpdf walks the page tree on opening: loops, repeated nodes, more than 100 levels
            raise PdfRefused(
                "pdf_bomb",
                detail_vi="cây trang có vòng lặp, nút lặp lại hoặc lồng quá sâu",
                detail_en="the page tree loops, repeats a node or is nested too deeply",
            ) from e
        if re.search(r"xref|trailer|damaged", text, re.IGNORECASE):
            raise PdfRefused("broken_xref") from e
        raise PdfRefused("unreadable_pdf") from e
    except (RuntimeError, ValueError, OSError, RecursionError) as e:
        raise PdfRefused("unreadable_pdf") from e


# --- active content ------------------------------------------------------------------------------------------------
def _is_dict(obj: Any) -> bool:
    return isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream))


def _name(obj: Any) -> str:
    return str(obj) if isinstance(obj, pikepdf.Name) else ""


def action_codes(action: Any) -> set[str]:
    """The active-content codes of an action and its /Next chain (empty for harmless ones: GoTo, Named, web links)."""
    codes: set[str] = set()
    todo = [action]
    seen: set[tuple[int, int]] = set()
    steps = 0
    while todo and steps < MAX_CHAIN:
        steps += 1
        a = todo.pop()
        if isinstance(a, pikepdf.Array):
            todo.extend(a)
            continue
        if not _is_dict(a):
            continue
        if a.is_indirect:
            if a.objgen in seen:
                continue
            seen.add(a.objgen)
        kind = _name(a.get("/S"))
        if kind in _ACTION_CODES:
            codes.add(_ACTION_CODES[kind])
        elif kind == "/URI":
            uri = a.get("/URI")
            if not isinstance(uri, pikepdf.String) or not _SAFE_URI.match(bytes(uri)):
                codes.add("unsafe_link")
        elif kind == "/Rendition":
            codes.add("javascript" if "/JS" in a else "rich_media")
        if "/Next" in a:
            todo.append(a.get("/Next"))
    if todo:  # a chain longer than any writer makes: treated as hostile
        codes.add("javascript")
    return codes


class _Scan:
    def __init__(self) -> None:
        self.found: dict[str, set[int]] = {}
        self.nodes = 0

    def add(self, codes: set[str] | str, where: int) -> None:
        for code in [codes] if isinstance(codes, str) else codes:
            self.found.setdefault(code, set()).add(where)

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_SCAN_NODES:
            raise PdfRefused(
                "pdf_bomb",
                detail_vi=f"hơn {MAX_SCAN_NODES} đối tượng cần kiểm tra",
                detail_en=f"more than {MAX_SCAN_NODES} objects to check",
            )


def _clean(obj: Any, where: int, scan: _Scan) -> None:
    """Remove active content held by one indirect object and the direct objects nested in it."""
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        scan.tick()
        if isinstance(node, pikepdf.Array):
            children: Iterator[Any] = iter(node)
        elif _is_dict(node):
            _clean_dict(node, where, scan)
            children = (node.get(k) for k in list(node.keys()))
        else:
            continue
        if depth < MAX_NESTING:
            stack.extend((c, depth + 1) for c in children if isinstance(c, pikepdf.Object) and not c.is_indirect)


def _clean_dict(d: Any, where: int, scan: _Scan) -> None:
    for key in ("/A", "/OpenAction"):
        if key in d:
            codes = action_codes(d.get(key))
            if codes:
                if key == "/OpenAction" and "javascript" in codes:
                    codes = (codes - {"javascript"}) | {"open_action_javascript"}
                scan.add(codes, where)
                del d[key]
    if "/AA" in d:  # additional actions: triggers on opening a page, focusing a field, closing the document…
        aa = d.get("/AA")
        if _is_dict(aa):
            for trigger in list(aa.keys()):
                codes = action_codes(aa.get(trigger))
                if codes:
                    scan.add(codes, where)
                    del aa[trigger]
            if not list(aa.keys()):
                del d["/AA"]
        else:
            del d["/AA"]
    for key in ("/EF", "/RF", "/AF"):  # embedded file streams, related files, PDF 2.0 associated files
        if key in d:
            scan.add("embedded_file", where)
            del d[key]
    if "/XFA" in d:
        scan.add("xfa_form", where)
        del d["/XFA"]
        if "/NeedsRendering" in d:
            del d["/NeedsRendering"]
    annots = d.get("/Annots")
    if isinstance(annots, pikepdf.Array):
        keep = []
        for a in annots:
            subtype = _name(a.get("/Subtype")) if _is_dict(a) else ""
            if subtype == "/FileAttachment":
                scan.add("embedded_file", where)
            elif subtype in _RICH_ANNOTATIONS:
                scan.add("rich_media", where)
            else:
                keep.append(a)
        if len(keep) != len(annots):
            d["/Annots"] = pikepdf.Array(keep)


def neutralise(pdf: pikepdf.Pdf) -> dict[str, set[int]]:
    """Remove active content from the open PDF; returns what was found, by code, with page numbers (0: the document
    as a whole). Every object of the file is looked at, not only those reachable the usual way: an action hidden
    in an object that a viewer reaches by an unusual route is still removed."""
    scan = _Scan()
    root = pdf.Root
    names: Any = root.get("/Names")
    if _is_dict(names):
        for key, code in (("/JavaScript", "javascript"), ("/EmbeddedFiles", "embedded_file")):
            if key in names:
                scan.add(code, 0)
                del names[key]
    if "/Collection" in root:  # a portfolio: its files are embedded files, gone with them
        del root["/Collection"]
    page_of: dict[tuple[int, int], int] = {}
    for number, page in enumerate(pdf.pages, start=1):
        page_of[page.obj.objgen] = number
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            for a in annots:
                scan.tick()
                if a.is_indirect:
                    page_of.setdefault(a.objgen, number)
    _clean(root, 0, scan)
    for obj in pdf.objects:
        if obj.is_indirect and (_is_dict(obj) or isinstance(obj, pikepdf.Array)):
            _clean(obj, page_of.get(obj.objgen, 0), scan)
    return scan.found
