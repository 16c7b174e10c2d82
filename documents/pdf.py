"""Checks on an uploaded PDF before anything is stored or published (pypdf).

`inspect(path)` either refuses the file (`PdfRefused`, with a stable code and a message in Vietnamese and English)
or returns what the server records: page count, the PDF's own title, the text of every page (for search), and a
report of active content (JavaScript, launch actions, embedded files), which is passed on to the uploader as
warnings rather than refused: councils receive PDFs from many agencies, and a form with a harmless script is
still a document the delegates must read.

What is refused, in the order it is checked:
- an empty file; a file that is not a PDF by content (it does not start with `%PDF-`: the name and the declared
  content type are never trusted);
- a truncated file (no `%%EOF` near the end: an upload cut off half way);
- a file whose cross-reference table is broken (pypdf in strict mode cannot read its structure: different
  readers would repair it differently, so what the delegates see could differ from what was checked);
- an encrypted file (even with an empty user password: tablets must open every copy without a password, and
  stamping needs to rewrite the pages);
- a PDF bomb: a page tree deeper than `MAX_TREE_DEPTH` or with more than `MAX_TREE_NODES` nodes (a few objects
  that reference each other can declare billions of pages), more than `MAX_PAGES` pages, or a stream that
  decompresses to more than `MAX_STREAM_BYTES`;
- a file without pages.
"""

from __future__ import annotations

import hashlib
import logging
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
from pypdf.errors import LimitReachedError, PdfReadError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

# --- named limits --------------------------------------------------------------------------------------------------
# The longest real documents are budget annexes of a few thousand pages; 20 000 leaves room and stops a bomb.
MAX_PAGES = 20_000
# Real page trees are 2-4 levels deep (balanced trees of ~10-50 kids per node); 32 is far beyond any writer.
MAX_TREE_DEPTH = 32
# Nodes visited while walking the tree, counting a node again each time another node references it (the bomb is
# a small DAG whose paths multiply): pages plus intermediate nodes of the largest document allowed.
MAX_TREE_NODES = 2 * MAX_PAGES
# One decompressed stream. Page content streams of real documents are kilobytes to a few megabytes (a detailed
# vector map ~20 MB); images are not decompressed by the checks (their declared pixels are checked instead).
MAX_STREAM_BYTES = 64 * 1024 * 1024
# All pages' content streams together, decoded (what a viewer must decompress to draw the document).
MAX_TOTAL_CONTENT_BYTES = 1024 * 1024 * 1024
# An image's declared pixels (width × height) in one page: an A3 scan at 600 dpi is ~70 M pixels.
MAX_IMAGE_PIXELS = 200_000_000
# Text kept for search: beyond 8 M characters (~4000 dense pages) the rest of the document is not indexed.
MAX_TEXT_CHARS = 8_000_000
# Text extraction is best effort and stops after this many seconds (the check itself never does).
TEXT_SECONDS = 120.0
# Readers tolerate junk before "%PDF-" (PDF 1.7, Annex H), but we do not: a file that is something else first and a
# PDF later (an HTML/PDF polyglot) is not a PDF we distribute.
HEADER = b"%PDF-"
EOF_WINDOW = 1024  # "%%EOF" must be in the last kilobyte
MAX_ACTIONS = 10_000  # actions and annotations looked at by the active-content scan

# --- refusals and warnings ----------------------------------------------------------------------------------------
REFUSALS: dict[str, tuple[str, str]] = {
    "empty_file": ("Tệp tải lên rỗng (0 byte).", "The uploaded file is empty (0 bytes)."),
    "not_pdf": (
        "Tệp không phải là PDF (nội dung không bắt đầu bằng %PDF-), dù tên tệp có thể là .pdf.",
        "The file is not a PDF (its content does not start with %PDF-), whatever its name says.",
    ),
    "truncated_pdf": (
        "Tệp PDF bị cắt cụt (thiếu dấu kết thúc %%EOF): việc tải lên có thể đã bị gián đoạn, vui lòng tải lại.",
        "The PDF is truncated (no %%EOF end marker): the upload was probably cut off; please upload it again.",
    ),
    "broken_xref": (
        "Bảng tham chiếu chéo (xref) của tệp PDF bị hỏng; vui lòng xuất lại tệp PDF từ phần mềm soạn thảo.",
        "The PDF's cross-reference table is broken; please export the PDF again from the authoring software.",
    ),
    "unreadable_pdf": (
        "Không đọc được cấu trúc tệp PDF; vui lòng xuất lại tệp PDF.",
        "The PDF's structure cannot be read; please export the PDF again.",
    ),
    "encrypted_pdf": (
        "Tệp PDF được mã hóa hoặc đặt mật khẩu; vui lòng tải lên bản không mã hóa.",
        "The PDF is encrypted or password-protected; please upload an unencrypted copy.",
    ),
    "pdf_bomb": (
        "Tệp PDF có cấu trúc bất thường vượt giới hạn an toàn ({detail_vi}); tệp bị từ chối.",
        "The PDF's structure exceeds a safety limit ({detail_en}); the file is refused.",
    ),
    "no_pages": ("Tệp PDF không có trang nào.", "The PDF has no pages."),
}

WARNINGS: dict[str, tuple[str, str]] = {
    "javascript": (
        "Tệp PDF chứa mã JavaScript ({where_vi}); máy tính bảng sẽ không chạy mã này.",
        "The PDF contains JavaScript ({where_en}); tablets will not run it.",
    ),
    "open_action_javascript": (
        "Tệp PDF tự chạy JavaScript khi mở (OpenAction).",
        "The PDF runs JavaScript when it is opened (OpenAction).",
    ),
    "launch_action": (
        "Tệp PDF chứa lệnh mở chương trình hoặc tệp khác (Launch, {where_vi}).",
        "The PDF contains an action that launches a program or file (Launch, {where_en}).",
    ),
    "embedded_file": (
        "Tệp PDF có tệp đính kèm nhúng bên trong ({where_vi}).",
        "The PDF has embedded file attachments ({where_en}).",
    ),
    "xfa_form": (
        "Tệp PDF chứa biểu mẫu XFA (có thể có mã lệnh).",
        "The PDF contains an XFA form (which may carry scripts).",
    ),
    "text_incomplete": (
        "Không trích xuất được toàn bộ văn bản để tìm kiếm ({detail_vi}); tài liệu vẫn được phát hành.",
        "Not all text could be extracted for search ({detail_en}); the document is still published.",
    ),
}

ACTIVE_CONTENT = ("javascript", "open_action_javascript", "launch_action", "embedded_file", "xfa_form")


class PdfRefused(Exception):
    """The file must not be stored: `code` is stable, the messages are for people."""

    def __init__(self, code: str, **params: Any) -> None:
        vi, en = REFUSALS[code]
        self.code = code
        self.message_vi = vi.format(**params)
        self.message_en = en.format(**params)
        super().__init__(f"{code}: {self.message_en}")


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """Something the uploader should know about a file that was accepted."""

    code: str
    message_vi: str
    message_en: str


def finding(code: str, **params: Any) -> Finding:
    vi, en = WARNINGS[code]
    return Finding(code=code, message_vi=vi.format(**params), message_en=en.format(**params))


class PdfReport(msgspec.Struct, frozen=True, kw_only=True):
    size: int
    sha256: str
    pages: int
    title: str  # the PDF's own /Title, "" when it has none
    text: list[str]  # per page, NFC; empty strings for pages without text (scans)
    findings: list[Finding]

    @property
    def active_content(self) -> list[str]:
        return sorted({f.code for f in self.findings if f.code in ACTIVE_CONTENT})


def sha256_file(path: Path, chunk: int = 1024 * 1024) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# --- pypdf's repairs ----------------------------------------------------------------------------------------------
# Even in strict mode pypdf silently repairs some broken cross-reference entries ("Object ID 3,0 ref repaired"); it
# says so only in its log. Such a repair means the file's map of objects is wrong and readers may disagree on what it
# contains, so it is refused like any other broken xref.
_XREF_REPAIRS = re.compile(r"xref|ref repaired|rebuil|startxref|trailer|not found in|invalid parent", re.IGNORECASE)


class _ThreadLog(logging.Handler):
    """pypdf's log messages from one thread (uploads are checked concurrently, each in a worker thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and len(self.messages) < 100:
            self.messages.append(record.getMessage())

    def xref_repaired(self) -> bool:
        return any(_XREF_REPAIRS.search(m) for m in self.messages)


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
def _check_envelope(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        raise PdfRefused("empty_file")
    with path.open("rb") as f:
        head = f.read(len(HEADER))
        if head != HEADER:
            raise PdfRefused("not_pdf")
        f.seek(max(0, size - EOF_WINDOW))
        tail = f.read()
    if b"%%EOF" not in tail:
        raise PdfRefused("truncated_pdf")
    return size


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path, strict=True)
    except LimitReachedError as e:
        raise _bomb(e) from e
    except PdfReadError as e:
        text = str(e).lower()
        if "xref" in text or "startxref" in text or "trailer" in text or "object" in text:
            raise PdfRefused("broken_xref") from e
        raise PdfRefused("unreadable_pdf") from e
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
        raise PdfRefused("unreadable_pdf") from e
    if reader.is_encrypted:
        raise PdfRefused("encrypted_pdf")
    return reader


def _bomb(e: LimitReachedError) -> PdfRefused:
    """pypdf stopped at one of its limits (a stream that decompresses too far, an array too long...)."""
    return PdfRefused(
        "pdf_bomb",
        detail_vi=f"dữ liệu giải nén hoặc cấu trúc vượt giới hạn (mỗi luồng tối đa {MAX_STREAM_BYTES // 2**20} MB)",
        detail_en=f"decompressed data or structure too large: {e}",
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


def _action_kinds(action: Any, budget: list[int]) -> Iterator[str]:
    """'/JavaScript', '/Launch', ... for an action and its /Next chain."""
    todo = [action]
    while todo and budget[0] > 0:
        budget[0] -= 1
        a = _resolve(todo.pop())
        if isinstance(a, ArrayObject):
            todo.extend(a)
            continue
        if not isinstance(a, DictionaryObject):
            continue
        s = a.get("/S")
        if isinstance(s, NameObject):
            yield str(s)
        if "/Next" in a:
            todo.append(a["/Next"])


def _scan_actions(holder: Any, where: int, found: dict[str, set[int]], budget: list[int]) -> None:
    holder = _resolve(holder)
    if not isinstance(holder, DictionaryObject):
        return
    candidates: list[Any] = []
    if "/A" in holder:
        candidates.append(holder["/A"])
    aa = _resolve(holder.get("/AA"))
    if isinstance(aa, DictionaryObject):
        candidates.extend(aa.values())
    for c in candidates:
        for kind in _action_kinds(c, budget):
            if kind == "/JavaScript":
                found.setdefault("javascript", set()).add(where)
            elif kind == "/Launch":
                found.setdefault("launch_action", set()).add(where)


def _active_content(reader: PdfReader) -> list[Finding]:
    found: dict[str, set[int]] = {}
    budget = [MAX_ACTIONS]
    try:
        root = _resolve(reader.trailer["/Root"])
        names = _resolve(root.get("/Names"))
        if isinstance(names, DictionaryObject):
            if "/JavaScript" in names:
                found.setdefault("javascript", set()).add(0)
            if "/EmbeddedFiles" in names:
                found.setdefault("embedded_file", set()).add(0)
        open_action = root.get("/OpenAction")
        if open_action is not None:
            for kind in _action_kinds(open_action, budget):
                if kind == "/JavaScript":
                    found.setdefault("open_action_javascript", set()).add(0)
                elif kind == "/Launch":
                    found.setdefault("launch_action", set()).add(0)
        _scan_actions(root, 0, found, budget)
        acro = _resolve(root.get("/AcroForm"))
        if isinstance(acro, DictionaryObject) and "/XFA" in acro:
            found.setdefault("xfa_form", set()).add(0)
        for number, page in enumerate(reader.pages, start=1):
            if budget[0] <= 0:
                break
            where = number
            _scan_actions(page, where, found, budget)
            annots = _resolve(page.get("/Annots"))
            if not isinstance(annots, ArrayObject):
                continue
            for annot in annots:
                budget[0] -= 1
                if budget[0] <= 0:
                    break
                a = _resolve(annot)
                if not isinstance(a, DictionaryObject):
                    continue
                if a.get("/Subtype") == "/FileAttachment":
                    found.setdefault("embedded_file", set()).add(where)
                _scan_actions(a, where, found, budget)
    except LimitReachedError as e:
        raise _bomb(e) from e
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise PdfRefused("unreadable_pdf") from e
    out: list[Finding] = []
    for code in ACTIVE_CONTENT:
        if code in found:
            out.append(finding(code, **_places(found[code])))
    return out


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


def _decode_pages(reader: PdfReader) -> None:
    """Decompress every page's content (bounded per stream by pypdf's configured limits and in total here) and check
    the declared size of its images without decoding them: a small file must not make a viewer inflate gigabytes."""
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            contents = page.get_contents()
            if contents is not None:
                total += len(contents.get_data())
            resources = _resolve(page.get("/Resources"))
            xobjects = _resolve(resources.get("/XObject")) if isinstance(resources, DictionaryObject) else None
            if isinstance(xobjects, DictionaryObject):
                for ref in xobjects.values():
                    x = _resolve(ref)
                    if isinstance(x, DictionaryObject) and x.get("/Subtype") == "/Image":
                        pixels = int(_resolve(x.get("/Width", 0))) * int(_resolve(x.get("/Height", 0)))
                        if pixels > MAX_IMAGE_PIXELS:
                            raise PdfRefused(
                                "pdf_bomb",
                                detail_vi=f"một hình ảnh ở trang {number} khai báo {pixels} điểm ảnh",
                                detail_en=f"an image on page {number} declares {pixels} pixels",
                            )
        except LimitReachedError as e:
            raise _bomb(e) from e
        except PdfRefused:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise PdfRefused("unreadable_pdf") from e
        if total > MAX_TOTAL_CONTENT_BYTES:
            raise PdfRefused(
                "pdf_bomb",
                detail_vi=f"nội dung các trang giải nén quá {MAX_TOTAL_CONTENT_BYTES // 2**20} MB",
                detail_en=f"the pages' content decompresses to more than {MAX_TOTAL_CONTENT_BYTES // 2**20} MB",
            )


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


def inspect(path: Path, *, sha256: str | None = None, extract_text: bool = True) -> PdfReport:
    """Check the PDF at `path` (see the module docstring). Blocking and CPU-bound: run it in a worker thread.

    `sha256` may be given when the caller hashed the file while receiving it.
    """
    size = _check_envelope(path)
    with (
        apply_configuration(
            zlib_maximum_output_length=MAX_STREAM_BYTES,
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
        if log.xref_repaired():
            raise PdfRefused("broken_xref")
        try:
            pages = len(reader.pages)
        except LimitReachedError as e:
            raise _bomb(e) from e
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
            raise PdfRefused("unreadable_pdf") from e
        if pages == 0 or counted == 0:
            raise PdfRefused("no_pages")
        _decode_pages(reader)
        findings = _active_content(reader)
        texts: list[str] = [""] * pages
        if extract_text:
            texts, text_findings = _text(reader, time.monotonic() + TEXT_SECONDS)
            findings += text_findings
        title = _title(reader)
        if log.xref_repaired():  # objects are loaded lazily: a repair may show only once a page is read
            raise PdfRefused("broken_xref")
    return PdfReport(
        size=size,
        sha256=sha256 or sha256_file(path),
        pages=pages,
        title=title,
        text=texts,
        findings=findings,
    )
