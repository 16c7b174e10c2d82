"""Checks on an uploaded PDF before anything is stored or published (qpdf through pikepdf, then pypdf).

`inspect(path)` either refuses the file (`PdfRefused`, with a stable code and a message in Vietnamese and English)
or returns what the server records: the upload's size and hash, the copy tablets receive (the upload itself, or a
repaired and neutralised rewrite of it: documents/repair.py), page count, the PDF's own title, the text of every
page (for search), and what was repaired or removed, which is passed on to the uploader as warnings: councils
receive PDFs from many agencies, and a file a PDF reader opens is a document the delegates must be able to read.

What is refused, in the order it is checked:
- an empty file; a file that is not a PDF by content (no `%PDF-` in its first 1024 bytes, where readers look for
  it: the name and the declared content type are never trusted);
- a truncated file (no `%%EOF` anywhere: an upload cut off half way);
- a file qpdf cannot open even by reconstructing its cross-reference table (`broken_xref`, `unreadable_pdf`);
- an encrypted file (even with an empty user password: tablets must open every copy without a password, and
  stamping needs to rewrite the pages);
- a PDF bomb: a page tree that loops, repeats a node or is deeper than `MAX_TREE_DEPTH`, more than `MAX_PAGES`
  pages, a stream that decompresses to more than `MAX_STREAM_BYTES`, images declaring more than
  `MAX_IMAGE_PIXELS`;
- a file without pages;
- a file whose compressed data is damaged (`damaged_pdf`): a stream other than an image that does not decompress,
  as after a transfer in text mode turned every LF into CRLF, or a broken metadata stream.
Everything after the first step reads the copy tablets will receive, so what was checked is what they get.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from documents import repair
from documents.errors import ACTIVE_CONTENT, REFUSALS, WARNINGS, Finding, PdfRefused, finding

__all__ = ["ACTIVE_CONTENT", "REFUSALS", "WARNINGS", "Finding", "PdfRefused", "PdfReport", "finding", "inspect"]

# --- named limits --------------------------------------------------------------------------------------------------
MAX_PAGES = repair.MAX_PAGES
# Real page trees are 2-4 levels deep (balanced trees of ~10-50 kids per node); 32 is far beyond any writer.
MAX_TREE_DEPTH = 32
# Nodes visited while walking the tree, counting a node again each time another node references it (the bomb is
# a small DAG whose paths multiply): pages plus intermediate nodes of the largest document allowed.
MAX_TREE_NODES = 2 * MAX_PAGES
# One decompressed stream. Page content streams of real documents are kilobytes to a few megabytes (a detailed
# vector map ~20 MB); images are not decompressed by the checks (their declared pixels are checked instead).
MAX_STREAM_BYTES = 64 * 1024 * 1024
# All streams other than images together, decoded (what a viewer must decompress to draw the document).
MAX_TOTAL_CONTENT_BYTES = 1024 * 1024 * 1024
# A damaged Flate stream is salvaged byte by byte in Python (~1 s per MB here); pypdf's default is 5 MB per stream.
# A damaged stream is refused anyway, so only enough is tried to tell damage from a stream merely cut short.
MAX_RECOVERY_BYTES = 1024 * 1024
# An image's declared pixels (width × height): an A3 scan at 600 dpi is ~70 M pixels.
MAX_IMAGE_PIXELS = 200_000_000
# Objects visited while decoding streams (a 100-page report has ~3 000, a 2 000-page scan ~40 000).
MAX_OBJECTS = 2_000_000
# Text kept for search: beyond 8 M characters (~4000 dense pages) the rest of the document is not indexed.
MAX_TEXT_CHARS = 8_000_000
# Text extraction is best effort and stops after this many seconds (the check itself never does).
TEXT_SECONDS = 120.0
HEADER = b"%PDF-"
# Readers look for the header within the first 1024 bytes (PDF 1.7, Annex H, note 13): junk before it is accepted,
# and the copy tablets receive starts with the header (an HTML/PDF polyglot loses its HTML).
HEADER_WINDOW = 1024
EOF_MARK = b"%%EOF"
_END_OF_LINE = b"\r\n"


class PdfReport(msgspec.Struct, frozen=True, kw_only=True):
    size: int  # of the copy tablets receive (`path`)
    sha256: str  # of the copy tablets receive: what the manifest announces and receipts are checked against
    original_size: int  # of the upload, kept byte for byte on record
    original_sha256: str
    path: Path  # the copy tablets receive: the upload itself, or the rewrite written to `out`
    rewritten: bool  # False: the upload is served as it is (nothing to repair or remove)
    pages: int
    title: str  # the PDF's own /Title, "" when it has none
    text: list[str]  # per page, NFC; empty strings for pages without text (scans)
    findings: list[Finding]

    @property
    def active_content(self) -> list[str]:
        return [c for c in ACTIVE_CONTENT if any(f.code == c for f in self.findings)]


def sha256_file(path: Path, chunk: int = 1024 * 1024) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# --- what pypdf only logs ----------------------------------------------------------------------------------------
# pypdf repairs some broken cross-reference entries and salvages damaged Flate streams, saying so only in its log.
# A repair while reading an upload that qpdf found sound means the two disagree on what the file holds: the file is
# then rewritten by qpdf, so tablets get one unambiguous copy. A salvaged stream means its data is damaged.
_XREF_REPAIRS = re.compile(r"xref|ref repaired|rebuil|startxref|trailer|not found in|invalid parent", re.IGNORECASE)
_STREAM_DAMAGE = re.compile(r"while decompressing|data-loss|corrupt", re.IGNORECASE)


class _ThreadLog(logging.Handler):
    """What pypdf logs in one thread (uploads are checked concurrently, each in a worker thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.xref_repairs = 0
        self.stream_damage = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        message = record.getMessage()
        if _STREAM_DAMAGE.search(message):
            self.stream_damage += 1
        elif _XREF_REPAIRS.search(message):
            self.xref_repairs += 1


@contextmanager
def _pypdf_log() -> Iterator[_ThreadLog]:
    logger = logging.getLogger("pypdf")
    handler = _ThreadLog()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


# --- the checks ----------------------------------------------------------------------------------------------------
def _check_envelope(path: Path) -> repair.Envelope:
    size = path.stat().st_size
    if size == 0:
        raise PdfRefused("empty_file")
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        offset = data.find(HEADER, 0, HEADER_WINDOW + len(HEADER))
        if offset < 0:
            raise PdfRefused("not_pdf")
        end = data.rfind(EOF_MARK)
        if end < offset:
            raise PdfRefused("truncated_pdf")
        rest = data[end + len(EOF_MARK) : end + len(EOF_MARK) + 3]
        trailing = size - end - len(EOF_MARK) > 2 or bool(rest.strip(_END_OF_LINE))
    return repair.Envelope(size=size, header_offset=offset, trailing_data=trailing)


def _open(path: Path) -> PdfReader:
    """pypdf on the copy tablets receive, which qpdf has already read (and rewritten if it needed any repair)."""
    try:
        reader = PdfReader(path, strict=False)
    except LimitReachedError as e:
        raise _bomb(e) from e
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
        raise PdfRefused("unreadable_pdf") from e
    if reader.is_encrypted:
        raise PdfRefused("encrypted_pdf")
    return reader


def _bomb(e: LimitReachedError) -> PdfRefused:
    """pypdf stopped at one of its limits. Its own message (byte counts, internals) is never shown."""
    if str(e).startswith("Recovery limit"):  # a damaged Flate stream, larger than is worth salvaging
        return PdfRefused("damaged_pdf", detail_vi="một luồng dữ liệu nén lớn", detail_en="a large compressed stream")
    return PdfRefused(
        "pdf_bomb",
        detail_vi=f"dữ liệu giải nén hoặc cấu trúc quá lớn: mỗi luồng tối đa {MAX_STREAM_BYTES // 2**20} MB, "
        f"cây trang tối đa {MAX_TREE_DEPTH} cấp và {MAX_TREE_NODES} nút",
        detail_en=f"decompressed data or structure too large: at most {MAX_STREAM_BYTES // 2**20} MB per stream, "
        f"{MAX_TREE_DEPTH} page tree levels and {MAX_TREE_NODES} page tree nodes",
    )


def _resolve(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _walk_page_tree(reader: PdfReader) -> int:
    """Count the leaves of the page tree without trusting it: bounded depth, bounded visits, no cycles."""
    try:
        root = _resolve(reader.trailer["/Root"])
        top = root["/Pages"]
    except (KeyError, PyPdfError, TypeError, ValueError) as e:
        raise PdfRefused("unreadable_pdf") from e
    pages = 0
    visits = 0
    # (node reference or object, depth, the object ids on the path from the root)
    stack: list[tuple[Any, int, frozenset[int]]] = [(top, 1, frozenset())]
    while stack:
        ref, depth, path = stack.pop()
        visits += 1
        if visits > MAX_TREE_NODES:
            raise PdfRefused(
                "pdf_bomb",
                detail_vi=f"cây trang có hơn {MAX_TREE_NODES} nút",
                detail_en=f"the page tree has more than {MAX_TREE_NODES} nodes",
            )
        if depth > MAX_TREE_DEPTH:
            raise PdfRefused(
                "pdf_bomb",
                detail_vi=f"cây trang sâu hơn {MAX_TREE_DEPTH} cấp",
                detail_en=f"the page tree is deeper than {MAX_TREE_DEPTH} levels",
            )
        ident = ref.idnum if isinstance(ref, IndirectObject) else None
        if ident is not None and ident in path:
            raise PdfRefused("pdf_bomb", detail_vi="cây trang có vòng lặp", detail_en="the page tree contains a cycle")
        try:
            node = _resolve(ref)
        except (PyPdfError, ValueError, KeyError, TypeError) as e:
            raise PdfRefused("unreadable_pdf") from e
        if not isinstance(node, DictionaryObject):
            raise PdfRefused("unreadable_pdf")
        kind = node.get("/Type")
        kids = _resolve(node.get("/Kids")) if "/Kids" in node else None
        if kind == "/Pages" or (kind is None and isinstance(kids, ArrayObject)):
            if not isinstance(kids, ArrayObject):
                raise PdfRefused("unreadable_pdf")
            if len(kids) > MAX_TREE_NODES:
                raise PdfRefused(
                    "pdf_bomb",
                    detail_vi=f"một nút của cây trang có {len(kids)} nhánh",
                    detail_en=f"one page tree node has {len(kids)} kids",
                )
            sub = path | {ident} if ident is not None else path
            stack.extend((k, depth + 1, sub) for k in reversed(kids))
        else:
            pages += 1
            if pages > MAX_PAGES:
                raise PdfRefused(
                    "pdf_bomb",
                    detail_vi=f"hơn {MAX_PAGES} trang",
                    detail_en=f"more than {MAX_PAGES} pages",
                )
    return pages


def _places(where: set[int]) -> dict[str, str]:
    """{where_vi, where_en} for a set of page numbers, 0 meaning the document as a whole."""
    pages = sorted(w for w in where if w > 0)
    vi: list[str] = ["toàn tài liệu"] if 0 in where else []
    en: list[str] = ["document level"] if 0 in where else []
    if pages:
        shown = ", ".join(map(str, pages[:10])) + (", …" if len(pages) > 10 else "")
        vi.append(f"trang {shown}")
        en.append(f"page{'s' if len(pages) > 1 else ''} {shown}")
    return {"where_vi": "; ".join(vi), "where_en": "; ".join(en)}


def _text(reader: PdfReader, deadline: float) -> tuple[list[str], list[Finding]]:
    texts: list[str] = []
    total = 0
    failed: list[int] = []
    stopped: tuple[str, str] | None = None
    for number, page in enumerate(reader.pages, start=1):
        if stopped:
            texts.append("")
            continue
        try:
            t = unicodedata.normalize("NFC", page.extract_text() or "")
        except LimitReachedError as e:
            raise _bomb(e) from e
        except Exception:  # a page whose text cannot be read is still a page: it is shown, not searched
            failed.append(number)
            t = ""
        if total + len(t) > MAX_TEXT_CHARS:
            t = t[: max(0, MAX_TEXT_CHARS - total)]
            stopped = (f"quá {MAX_TEXT_CHARS} ký tự", f"more than {MAX_TEXT_CHARS} characters")
        total += len(t)
        texts.append(t)
        if not stopped and time.monotonic() > deadline:
            stopped = (f"quá {TEXT_SECONDS:.0f} giây", f"more than {TEXT_SECONDS:.0f} seconds")
    findings: list[Finding] = []
    if failed:
        shown = ", ".join(map(str, failed[:10])) + (", …" if len(failed) > 10 else "")
        findings.append(finding("text_incomplete", detail_vi=f"trang {shown}", detail_en=f"pages {shown}"))
    if stopped:
        findings.append(finding("text_incomplete", detail_vi=stopped[0], detail_en=stopped[1]))
    return texts, findings


def _title(reader: PdfReader) -> str:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except Exception:
        return ""
    return unicodedata.normalize("NFC", str(title)).strip()[:500] if title else ""


def _check_streams(reader: PdfReader, log: _ThreadLog) -> None:
    """Decode every stream the document reaches, images excepted (bounded per stream by pypdf's configured limits
    and in total here), and check images' declared size without decoding them: a small file must not make a viewer
    inflate gigabytes, and a stream that does not decode (a CRLF-mangled transfer, a broken metadata stream) means
    no reader can show the document as it was made."""
    total = 0
    damaged: list[str] = []
    seen: set[int] = set()
    todo: list[Any] = [reader.trailer]
    visits = 0
    while todo:
        obj = todo.pop()
        visits += 1
        if visits > MAX_OBJECTS:
            raise PdfRefused(
                "pdf_bomb",
                detail_vi=f"hơn {MAX_OBJECTS} đối tượng",
                detail_en=f"more than {MAX_OBJECTS} objects",
            )
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            try:
                obj = obj.get_object()
            except LimitReachedError as e:
                raise _bomb(e) from e
            except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
                raise PdfRefused("unreadable_pdf") from e
        if isinstance(obj, ArrayObject):
            todo.extend(obj)
        elif isinstance(obj, DictionaryObject):
            todo.extend(v for k, v in obj.items() if k != "/Parent")
            if isinstance(obj, StreamObject):
                total += _check_stream(obj, log, damaged)
        if total > MAX_TOTAL_CONTENT_BYTES:
            raise PdfRefused(
                "pdf_bomb",
                detail_vi=f"nội dung giải nén quá {MAX_TOTAL_CONTENT_BYTES // 2**20} MB",
                detail_en=f"the content decompresses to more than {MAX_TOTAL_CONTENT_BYTES // 2**20} MB",
            )
    if damaged:
        n = len(damaged)
        meta_vi, meta_en = (
            ("", "") if "/Metadata" not in damaged else (", gồm siêu dữ liệu XMP", ", the XMP metadata among them")
        )
        raise PdfRefused(
            "damaged_pdf",
            detail_vi=f"{n} luồng dữ liệu nén{meta_vi}",
            detail_en=f"{n} compressed stream{'s' if n > 1 else ''}{meta_en}",
        )


def _check_stream(stream: StreamObject, log: _ThreadLog, damaged: list[str]) -> int:
    """The decoded size of one stream (0 for images, whose declared pixels are checked instead)."""
    if stream.get("/Subtype") == "/Image":
        try:
            pixels = int(_resolve(stream.get("/Width", 0))) * int(_resolve(stream.get("/Height", 0)))
        except (TypeError, ValueError):
            return 0
        if pixels > MAX_IMAGE_PIXELS:
            raise PdfRefused(
                "pdf_bomb",
                detail_vi=f"một hình ảnh khai báo {pixels} điểm ảnh",
                detail_en=f"an image declares {pixels} pixels",
            )
        return 0
    before = log.stream_damage
    try:
        size = len(stream.get_data())
    except LimitReachedError as e:
        bomb = _bomb(e)
        if bomb.code != "damaged_pdf":
            raise bomb from e
        damaged.append(str(stream.get("/Type", "")))
        return 0
    except NotImplementedError:  # a filter pypdf cannot decode (JPX, a private one): readers may; not judged here
        return 0
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        damaged.append(str(stream.get("/Type", "")))
        return 0
    if log.stream_damage != before:
        damaged.append(str(stream.get("/Type", "")))
    return size


class _Read(msgspec.Struct, frozen=True, kw_only=True):
    pages: int
    title: str
    text: list[str]
    findings: list[Finding]
    xref_repairs: int


def _read(path: Path, extract_text: bool) -> _Read:
    """pypdf's part, on the copy tablets receive: bombs, damaged streams, page count, text and title."""
    with (
        apply_configuration(
            zlib_maximum_output_length=MAX_STREAM_BYTES,
            zlib_maximum_recovery_input_length=MAX_RECOVERY_BYTES,
            lzw_maximum_output_length=MAX_STREAM_BYTES,
            run_length_maximum_output_length=MAX_STREAM_BYTES,
            brotli_maximum_output_length=MAX_STREAM_BYTES,
            jbig2_maximum_output_length=MAX_STREAM_BYTES,
            array_based_stream_maximum_output_length=MAX_STREAM_BYTES,
            maximum_declared_stream_length=MAX_STREAM_BYTES,
            page_tree_maximum_depth=MAX_TREE_DEPTH,
            page_tree_maximum_entries=MAX_TREE_NODES,
            page_tree_maximum_page_entries=MAX_TREE_NODES * 4,
        ),
        _pypdf_log() as log,
    ):
        reader = _open(path)
        counted = _walk_page_tree(reader)
        try:
            pages = len(reader.pages)
        except LimitReachedError as e:
            raise _bomb(e) from e
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
            raise PdfRefused("unreadable_pdf") from e
        if pages == 0 or counted == 0:
            raise PdfRefused("no_pages")
        _check_streams(reader, log)
        texts: list[str] = [""] * pages
        findings: list[Finding] = []
        if extract_text:
            texts, findings = _text(reader, time.monotonic() + TEXT_SECONDS)
        title = _title(reader)
    return _Read(pages=pages, title=title, text=texts, findings=findings, xref_repairs=log.xref_repairs)


def inspect(path: Path, *, sha256: str | None = None, extract_text: bool = True, out: Path | None = None) -> PdfReport:
    """Check the PDF at `path` (see the module docstring). Blocking and CPU-bound: run it in a worker thread.

    `sha256` may be given when the caller hashed the file while receiving it. When the file needs a repair or has
    active content, the copy tablets receive is written to `out` (default: beside `path`, `.served.pdf`) and the
    caller owns it; on a refusal nothing is left there.
    """
    envelope = _check_envelope(path)
    out = out or path.with_name(path.name + ".served.pdf")
    try:
        with repair.Opened(path, envelope) as opened:
            served = path
            if opened.needs_rewrite:
                opened.write(out)
                served = out
            read = _read(served, extract_text)
            if read.xref_repairs and served == path:
                # qpdf found the file sound but pypdf had to repair it: serve qpdf's reading to every reader.
                opened.structure_repaired = True
                opened.write(out)
                served = out
                read = _read(served, extract_text)
            repairs = opened.repairs
            active = opened.active
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    findings: list[Finding] = []
    if repairs:
        findings.append(
            finding(
                "repaired",
                detail_vi="; ".join(repair.REPAIRS[r][0] for r in repairs),
                detail_en="; ".join(repair.REPAIRS[r][1] for r in repairs),
            )
        )
    findings += [finding(code, **_places(active[code])) for code in ACTIVE_CONTENT if code in active]
    findings += read.findings
    original_sha = sha256 or sha256_file(path)
    rewritten = served != path
    return PdfReport(
        size=served.stat().st_size if rewritten else envelope.size,
        sha256=sha256_file(served) if rewritten else original_sha,
        original_size=envelope.size,
        original_sha256=original_sha,
        path=served,
        rewritten=rewritten,
        pages=read.pages,
        title=read.title,
        text=read.text,
        findings=findings,
    )
