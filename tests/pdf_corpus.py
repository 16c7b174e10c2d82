"""Good and bad PDFs made by the tests themselves (nothing is copied from elsewhere).

`raw_pdf` writes a PDF from numbered object bodies with a correct cross-reference table, so a test can build any
structure — a page-tree bomb, a JavaScript action — and be sure that what is refused is the structure, not a sloppy
xref.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Sequence

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from documents import samples

VIETNAMESE = (
    "Hội đồng nhân dân tỉnh quyết nghị thông qua dự toán ngân sách địa phương năm 2027.",
    "Đại biểu Nguyễn Thị Hương đề nghị làm rõ nguồn vốn đối ứng của dự án đường ven biển.",
)


def good_pdf(title: str = "Tờ trình về dự toán ngân sách", paragraphs: Sequence[str] = VIETNAMESE) -> bytes:
    return samples.simple(title, paragraphs)


def raw_pdf(objects: Sequence[bytes], root: int = 1) -> bytes:
    """A PDF whose object n (1-based) has body objects[n-1], with an exact xref table and trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def _page(parent: int, contents: int | None = None) -> bytes:
    c = b" /Contents %d 0 R" % contents if contents else b""
    return b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842]%s >>" % (parent, c)


def page_tree_bomb(levels: int = 40) -> bytes:
    """Each /Pages node lists the next one twice: `levels` objects declare 2**levels pages (~1 kB on disk)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for i in range(levels):
        me = 2 + i
        parent = b" /Parent %d 0 R" % (me - 1) if i else b""
        kid = me + 1
        objects.append(b"<< /Type /Pages%s /Kids [%d 0 R %d 0 R] /Count %d >>" % (parent, kid, kid, 2 ** (levels - i)))
    objects.append(_page(1 + levels))
    return raw_pdf(objects)


def deep_page_tree(depth: int = 200) -> bytes:
    """A chain of `depth` /Pages nodes with one page at the bottom."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for i in range(depth):
        me = 2 + i
        parent = b" /Parent %d 0 R" % (me - 1) if i else b""
        objects.append(b"<< /Type /Pages%s /Kids [%d 0 R] /Count 1 >>" % (parent, me + 1))
    objects.append(_page(1 + depth))
    return raw_pdf(objects)


def page_tree_cycle() -> bytes:
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        ]
    )


def decompression_bomb(megabytes: int = 100) -> bytes:
    """One page whose content stream inflates to `megabytes` MB of spaces (~100 kB on disk)."""
    comp = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    data = b"".join(comp.compress(chunk) for _ in range(megabytes)) + comp.flush()
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(2, contents=4),
            stream,
        ]
    )


def no_pages() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def broken_xref(data: bytes) -> bytes:
    """Every in-use xref offset moved 7 bytes: the table no longer points at the objects."""
    m = re.search(rb"\nxref\n0 \d+\n", data)
    assert m is not None, "no classic xref table"
    body = re.sub(rb"(\d{10}) 00000 n", lambda x: b"%010d 00000 n" % (int(x.group(1)) + 7), data[m.end() :])
    return data[: m.end()] + body


def encrypted(data: bytes, user_password: str = "") -> bytes:
    from pypdf import PdfReader

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password, "owner-secret", algorithm="AES-256")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _with(data: bytes, edit: object) -> bytes:
    from pypdf import PdfReader

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    edit(writer)  # type: ignore[operator]
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def javascript_open_action(data: bytes) -> bytes:
    def edit(w: PdfWriter) -> None:
        w._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('x');")}
        )

    return _with(data, edit)


def javascript_name_tree(data: bytes) -> bytes:
    def edit(w: PdfWriter) -> None:
        js = DecodedStreamObject()
        js.set_data(b"app.alert('hello');")
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): w._add_object(js)})
        tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("a"), w._add_object(action)])})
        w._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): w._add_object(tree)})

    return _with(data, edit)


def launch_link(data: bytes) -> bytes:
    """A link annotation on page 1 whose action launches a program."""

    def edit(w: PdfWriter) -> None:
        action = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")}
        )
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(
                    [NumberObject(0), NumberObject(0), NumberObject(50), NumberObject(50)]
                ),
                NameObject("/A"): action,
            }
        )
        w.pages[0][NameObject("/Annots")] = ArrayObject([w._add_object(annot)])

    return _with(data, edit)


def embedded_file(data: bytes) -> bytes:
    return _with(data, lambda w: w.add_attachment("bang-tinh.xlsx", b"PK\x03\x04 not really a spreadsheet"))


def padded(data: bytes, total: int) -> bytes:
    """A valid PDF grown to at least `total` bytes with comment lines after its end (an oversized upload)."""
    line = b"%" + b"x" * 78 + b"\n"
    missing = max(0, total - len(data) - 7)
    return data + line * (missing // len(line) + 1) + b"%%EOF\n"
