"""Real-world PDFs (issue 9, part 3): what PDF readers open is accepted and repaired, active content is removed from
what tablets receive (the upload is kept byte for byte on record), refusals speak our words only, and no stored
file can be rendered as a page of the app's origin — on local storage and on S3 (SeaweedFS, tests/s3.py)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pikepdf
import pytest
from pypdf import PdfReader

from documents import errors, repair
from documents import pdf as pdfcheck
from documents.store import S3Store
from meeting import documents as docs
from tests import pdf_corpus as corpus
from tests.docs_http import SESSION as SESSION_ID
from tests.docs_http import entry, login, manifest, stored_files, upload
from tests.e2e import ServerProcess
from tests.s3 import S3Server, s3_session

GOOD = corpus.good_pdf()
NAME = "Nguyễn Thị Hương"  # in corpus.VIETNAMESE: the text must survive every repair

# name -> (bytes, whether tablets get a rewritten copy). Each was refused before; poppler, pdf.js and qpdf open them.
REPAIRED: dict[str, tuple[Callable[[], bytes], bool]] = {
    "incremental update, xref not zero-indexed (pdflatex, OCR tools)": (
        lambda: corpus.update_xref_not_zero_indexed(GOOD),
        False,
    ),
    "xref without its free entry (another generator)": (lambda: corpus.xref_without_free_entry(GOOD), False),
    "4 KB of NULs after %%EOF": (lambda: corpus.trailing_nuls(GOOD), True),
    "1.8 KB after %%EOF": (lambda: corpus.trailing_junk(GOOD, 1800), True),
    "1000 bytes before %PDF-": (lambda: corpus.junk_before_header(GOOD, 1000), True),
    "xref offsets all wrong": (lambda: corpus.broken_xref(GOOD), True),
    "PDF followed by HTML": (lambda: corpus.html_after(GOOD), True),
    "HTML followed by a PDF": (lambda: corpus.html_before(GOOD), True),
}

# name -> (bytes, finding, bytes that must not reach a tablet: PDF names and stream data, which are written raw)
ACTIVE: dict[str, tuple[Callable[[], bytes], str, list[bytes]]] = {
    "JavaScript on open": (lambda: corpus.javascript_open_action(GOOD), "open_action_javascript", [b"/JavaScript"]),
    "JavaScript name tree": (lambda: corpus.javascript_name_tree(GOOD), "javascript", [b"app.alert", b"/JavaScript"]),
    "JavaScript in page and link /AA": (
        lambda: corpus.page_additional_actions(GOOD),
        "javascript",
        [b"/JavaScript", b"/AA"],
    ),
    "launch action on a link": (lambda: corpus.launch_link(GOOD), "launch_action", [b"/Launch"]),
    "launch at the end of an open-action chain": (lambda: corpus.chained_launch(GOOD), "launch_action", [b"/Launch"]),
    "javascript: link": (lambda: corpus.uri_javascript(GOOD), "unsafe_link", []),  # see test_web_links_stay
    "embedded file": (lambda: corpus.embedded_file(GOOD), "embedded_file", [b"not really a spreadsheet", b"/EF"]),
    "XFA form": (lambda: corpus.xfa_form(GOOD), "xfa_form", [b"xfa.host", b"/XFA"]),
    "RichMedia annotation": (lambda: corpus.rich_media(GOOD), "rich_media", [b"/RichMedia"]),
    "3D annotation": (lambda: corpus.rich_media(GOOD, "/3D"), "rich_media", [b"/3D"]),
    "form submission": (lambda: corpus.submit_form(GOOD), "form_submission", [b"/SubmitForm"]),
}

# Text that only a library writes: our messages never contain it (byte counts, zlib codes, object ids, file paths).
LIBRARY_TEXT = re.compile(
    r"remaining|pypdf|qpdf|pikepdf|zlib|Error -\d|object \d+ \d|offset|\w\.pdf|/tmp|Traceback|Exception", re.I
)
DOWNLOAD_CSP = "sandbox; default-src 'none'"


def _inspect(tmp_path: Path, data: bytes) -> pdfcheck.PdfReport:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(data)
    return pdfcheck.inspect(path)


def _still_active(data: bytes) -> dict[str, set[int]]:
    """What the removal would find in `data` (nothing, for a copy tablets receive)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.get_warnings() == []
        return repair.neutralise(pdf)


# --- the checks themselves ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(REPAIRED))
def test_what_readers_open_is_accepted(tmp_path: Path, name: str) -> None:
    make, rewritten = REPAIRED[name]
    data = make()
    report = _inspect(tmp_path, data)
    assert report.pages == 1 and NAME in report.text[0]
    assert report.original_sha256 == hashlib.sha256(data).hexdigest() and report.original_size == len(data)
    assert report.rewritten is rewritten
    served = report.path.read_bytes()
    assert report.sha256 == hashlib.sha256(served).hexdigest() and report.size == len(served)
    if not rewritten:  # nothing to repair: tablets get the upload byte for byte
        assert served == data and report.findings == []
        return
    assert report.sha256 != report.original_sha256
    assert [f.code for f in report.findings] == ["repaired"]
    # The copy is well formed: it starts with the header, no reader needs to repair it, nothing is outside the PDF.
    assert served.startswith(b"%PDF-") and served.rstrip(b"\r\n").endswith(b"%%EOF")
    assert b"<html" not in served and b"\0\0\0\0" not in served[-64:]
    assert _still_active(served) == {}
    assert NAME in PdfReader(io.BytesIO(served), strict=True).pages[0].extract_text()


@pytest.mark.parametrize(
    ("make", "code"),
    [(corpus.crlf_mangled, "damaged_pdf"), (corpus.broken_metadata, "damaged_pdf")],
    ids=["CRLF-mangled transfer", "broken metadata stream"],
)
def test_what_no_reader_can_show_is_refused(tmp_path: Path, make: Callable[[bytes], bytes], code: str) -> None:
    path = tmp_path / "upload.pdf"
    path.write_bytes(make(GOOD))
    with pytest.raises(pdfcheck.PdfRefused) as info:
        pdfcheck.inspect(path)
    assert info.value.code == code
    assert "CRLF" not in info.value.message_en and "FTP" in info.value.message_en and "FTP" in info.value.message_vi
    assert sorted(p.name for p in tmp_path.iterdir()) == ["upload.pdf"]  # no rewritten copy left behind


@pytest.mark.parametrize("name", list(ACTIVE))
def test_active_content_is_removed_from_what_tablets_receive(tmp_path: Path, name: str) -> None:
    make, code, markers = ACTIVE[name]
    data = make()
    for marker in markers:
        assert marker in data, f"the corpus file lacks {marker!r}"
    report = _inspect(tmp_path, data)
    assert report.rewritten and code in report.active_content
    found = next(f for f in report.findings if f.code == code)
    assert "máy tính bảng" in found.message_vi and "tablets" in found.message_en  # says what happened to it
    served = report.path.read_bytes()
    for marker in markers:
        assert marker not in served, marker
    assert _still_active(served) == {}
    assert report.original_sha256 == hashlib.sha256(data).hexdigest() != report.sha256
    assert NAME in report.text[0]  # the document itself is untouched


def _uris(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        annots = pdf.pages[0].obj.get("/Annots") or []
        return [str(a.A.URI) for a in annots if "/A" in a and a.A.get("/S") == "/URI"]


def test_web_links_stay(tmp_path: Path) -> None:
    data = corpus.uri_javascript(GOOD)
    assert _uris(data) == ["https://hdnd.example.gov.vn/", "  JavaScript:app.alert(1)"]
    assert _uris(_inspect(tmp_path, data).path.read_bytes()) == ["https://hdnd.example.gov.vn/"]


def test_the_served_copy_is_the_same_for_the_same_upload(tmp_path: Path) -> None:
    """A retried upload must find the same copy (and hash) on record: the rewrite is deterministic."""
    data = corpus.html_after(corpus.javascript_open_action(GOOD))
    first, second = _inspect(tmp_path, data), _inspect(tmp_path, data)
    assert first.sha256 == second.sha256 and first.path.read_bytes() == second.path.read_bytes()


def test_the_domain_accepts_every_active_content_code() -> None:
    assert set(errors.ACTIVE_CONTENT) == docs.ACTIVE_CONTENT


REFUSED: dict[str, Callable[[], bytes]] = {
    "content stream inflating to 100 MB": corpus.decompression_bomb,
    "2**20-page tree bomb": lambda: corpus.page_tree_bomb(20),
    "page tree 40 levels deep": lambda: corpus.deep_page_tree(40),
    "page tree with a cycle": corpus.page_tree_cycle,
    "CRLF-mangled": lambda: corpus.crlf_mangled(GOOD),
    "broken metadata": lambda: corpus.broken_metadata(GOOD),
    "encrypted": lambda: corpus.encrypted(GOOD, "mat-khau"),
    "truncated": lambda: corpus.truncated(GOOD),
    "HTML only": lambda: b"<!doctype html>" + b" " * 2000,
    "header, then nothing": lambda: b"%PDF-1.7\n%%EOF\n",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refusals_speak_our_words_only(tmp_path: Path, name: str) -> None:
    with pytest.raises(pdfcheck.PdfRefused) as info:
        _inspect(tmp_path, REFUSED[name]())
    for message in (info.value.message_vi, info.value.message_en):
        assert not LIBRARY_TEXT.search(message), message


# --- through a real server, on local storage and on S3 --------------------------------------------------------------
@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    yield from s3_session()


@pytest.fixture(scope="module", params=["local", "s3"])
def site(request: pytest.FixtureRequest) -> Iterator[tuple[ServerProcess, S3Server | None]]:
    s3: S3Server | None = request.getfixturevalue("s3_server") if request.param == "s3" else None
    with ServerProcess(extra_env=s3.env() if s3 else {}) as srv:
        yield srv, s3


@pytest.fixture
def http(site: tuple[ServerProcess, S3Server | None]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site[0].http, timeout=60) as client:
        yield client


def _download(url: str) -> httpx.Response:
    with httpx.Client(timeout=60) as c:  # no credentials: the signed URL is all a tablet needs
        r = c.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return r


def _assert_never_a_page(r: httpx.Response, s3: S3Server | None) -> None:
    """Whatever the bytes, a browser saves the file or shows it as a PDF; it never runs it as a page."""
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment")
    if s3 is None:  # the app serves local files itself: its own headers
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-security-policy"] == DOWNLOAD_CSP


@pytest.mark.parametrize("access", ["public", "restricted"])
def test_tablets_receive_the_neutralised_copy(
    site: tuple[ServerProcess, S3Server | None], http: httpx.Client, access: str
) -> None:
    srv, s3 = site
    secretary, delegate = login(http, "vanphong"), login(http, "daibieu05")
    data = corpus.html_after(corpus.javascript_open_action(corpus.launch_link(GOOD)))
    before = stored_files(srv.data_dir)
    r = upload(http, secretary, data, access=access)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["original_sha256"] == hashlib.sha256(data).hexdigest() != out["sha256"]
    assert out["original_size"] == len(data) != out["size"]
    codes = {w["code"] for w in out["warnings"]}
    assert {"repaired", "open_action_javascript", "launch_action"} <= codes
    if s3 is None:  # the served copy, the original beside it, the search text
        stored = stored_files(srv.data_dir) - before
        originals = [p for p in stored if p.name.startswith("original-")]
        assert len(stored) == 3 and len(originals) == 1
        assert originals[0].read_bytes() == data  # kept byte for byte
    e = entry(manifest(http, delegate), out["document_id"])
    assert e["active_content"] == ["launch_action", "open_action_javascript"]
    got = _download(e["url"])
    _assert_never_a_page(got, s3)
    assert hashlib.sha256(got.content).hexdigest() == e["sha256"]  # the manifest announces the copy it links
    assert b"<html" not in got.content and b"app.alert" not in got.content and b"cmd.exe" not in got.content
    assert _still_active(got.content) == {}
    if access == "restricted":  # the delegate's own stamped copy, made from the neutralised copy
        assert e["stamped"] and e["sha256"] != out["sha256"]
        text = PdfReader(io.BytesIO(got.content)).pages[0].extract_text()
        assert "Bản cấp riêng cho đại biểu" in text and NAME in text
    else:
        assert e["sha256"] == out["sha256"]


def test_a_sound_file_is_served_as_uploaded(site: tuple[ServerProcess, S3Server | None], http: httpx.Client) -> None:
    srv, s3 = site
    secretary = login(http, "vanphong")
    r = upload(http, secretary, GOOD, access="public")
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["sha256"] == hashlib.sha256(GOOD).hexdigest() and out["original_sha256"] == ""
    e = entry(manifest(http, None), out["document_id"])
    assert e["url"].startswith(s3.url if s3 else srv.http + "/api/files/")
    got = _download(e["url"])
    _assert_never_a_page(got, s3)
    assert got.content == GOOD  # nothing to repair or remove: one object, the upload itself


def test_s3_presigned_downloads_are_never_html(s3_server: S3Server) -> None:
    """SeaweedFS honours the presigned GET's response-content-type and response-content-disposition overrides:
    even an object stored as text/html comes back as an attachment of type application/pdf."""

    async def check() -> None:
        store = S3Store(s3_server.url, s3_server.access_key, s3_server.secret_key, s3_server.bucket)
        try:
            key = f"tests/{uuid.uuid4().hex}.pdf"
            await store.put(key, b"<!doctype html><script>alert(1)</script>", content_type="text/html")
            url = await store.presigned_get(key, expires_in=timedelta(minutes=5), filename="x.pdf")
            async with httpx.AsyncClient(timeout=30) as c:
                r = await c.get(url)
            assert r.status_code == 200
            _assert_never_a_page(r, s3_server)
            await store.delete(key)
        finally:
            await store.close()

    asyncio.run(check())


def test_the_record_keeps_the_original_beside_the_served_copy() -> None:
    """meeting/documents.py: `sha256`/`size` describe what tablets receive, `original_*` the upload when it differs."""
    from meeting.errors import Code
    from tests.factory import SECRETARY
    from tests.test_documents_domain import hall, publish, sha

    h = hall()
    h.refuse(publish(original_size=10, original_sha256="nope"), SECRETARY, Code.INVALID)
    h.refuse(publish(original_size=10, original_sha256=sha("ttr-1")), SECRETARY, Code.INVALID)  # = the served hash
    h.refuse(publish(access=docs.Access.SECRET, original_size=10, original_sha256=sha("x")), SECRETARY, Code.INVALID)
    (routed,) = h.accept(publish(original_size=2000, original_sha256=sha("upload")), SECRETARY)
    assert isinstance(routed.event, docs.DocumentPublished) and routed.event.original_sha256 == sha("upload")
    v = h.s.documents.documents["ttr-1"].current
    assert (v.sha256, v.original_size, v.original_sha256) == (sha("ttr-1"), 2000, sha("upload"))
    h.accept(docs.ReplaceDocument(document_id="ttr-1", version=2, size=5, sha256=sha("v2"), pages=1), SECRETARY)
    v2 = h.s.documents.documents["ttr-1"].current
    assert (v2.original_size, v2.original_sha256) == (0, "")  # served as uploaded


def test_the_files_site_sandboxes_downloads(tmp_path: Path) -> None:
    """deploy/Caddyfile run by the real Caddy: what the object store answers reaches a browser with nosniff and a
    sandboxing CSP (S3 itself cannot add either header)."""
    from tests.test_deploy import CaddyProcess, FakeObjectStore

    store = FakeObjectStore()  # answers every GET with a PDF: stands in for the app's health check too
    proxy = CaddyProcess(tmp_path, [store.address], store.address)
    try:
        proxy.start()
        query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0badc0ffee"
        r = httpx.get(f"http://127.0.0.1:{proxy.files_port}/kyhop-documents/a/v1.pdf?{query}", timeout=30)
        assert r.status_code == 200 and r.content == b"%PDF-1.7"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-security-policy"] == DOWNLOAD_CSP
    finally:
        proxy.stop()
        store.close()


def test_a_malformed_form_is_refused_in_our_words(
    site: tuple[ServerProcess, S3Server | None], http: httpx.Client
) -> None:
    secretary = login(http, "vanphong")
    boundary = uuid.uuid4().hex
    body = f"--{boundary}\r\nX-Not-A-Disposition: 1\r\n\r\nvalue\r\n--{boundary}--\r\n".encode()
    headers = {"authorization": f"Bearer {secretary}", "content-type": f"multipart/form-data; boundary={boundary}"}
    r = http.post(f"/api/sessions/{SESSION_ID}/documents", content=body, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "bad_form", r.text
    for message in (r.json()["message_vi"], r.json()["message_en"]):
        assert "multipart" in message and not re.search(r"Error|Exception", message), message


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "Tờ trình\x00"), ("title", "Tờ trình\x1b[31m"), ("document_id", "doc-\tx"), ("item_id", "nq\x00")],
)
def test_control_characters_in_form_fields_are_refused(
    site: tuple[ServerProcess, S3Server | None], http: httpx.Client, field: str, value: str
) -> None:
    """Upload fields follow the rule of every JSON body (server/inbound.py): no U+0000 (PostgreSQL refuses it in
    text), no control character in free text but tab and line breaks, none at all in an id; nothing is stored."""
    srv, _ = site
    secretary = login(http, "vanphong")
    before_manifest = manifest(http, secretary)["documents"]
    before_files = stored_files(srv.data_dir)
    kwargs: dict[str, str] = {field: value}
    r = upload(http, secretary, corpus.good_pdf(), **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 400 and r.json()["code"] == "bad_form", r.text
    assert "ký tự điều khiển" in r.json()["message_vi"], r.text
    assert manifest(http, secretary)["documents"] == before_manifest
    assert stored_files(srv.data_dir) == before_files
