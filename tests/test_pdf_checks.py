"""The PDF checks (documents/pdf.py) on a corpus of good and bad files the tests make themselves, first directly,
then through the upload route of a real server: each bad file is refused (or flagged) with its own bilingual
message, and a refused upload leaves nothing in storage, in the session's event log or in temporary files."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from documents import pdf as pdfcheck
from tests import pdf_corpus as corpus
from tests.docs_http import SESSION, assert_error, auth, form_fields, login, stored_files, temp_files, upload
from tests.e2e import ServerProcess

GOOD = corpus.good_pdf()
UPLOAD_LIMIT = 1_000_000  # the test server's KYHOP_MAX_UPLOAD_BYTES

# name -> (bytes, refusal code)
REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "zero bytes": (lambda: b"", "empty_file"),
    "text renamed .pdf": (lambda: bytes("Nghị quyết về ngân sách\nĐiều 1.\n", "utf-8"), "not_pdf"),
    "html renamed .pdf": (lambda: b"<!doctype html><title>PDF</title>" + b" " * 1024 + b"%PDF-1.7 later", "not_pdf"),
    "truncated": (lambda: corpus.truncated(GOOD), "truncated_pdf"),
    "CRLF-mangled transfer": (lambda: corpus.crlf_mangled(GOOD), "damaged_pdf"),
    "broken metadata stream": (lambda: corpus.broken_metadata(GOOD), "damaged_pdf"),
    "encrypted, empty user password": (lambda: corpus.encrypted(GOOD), "encrypted_pdf"),
    "encrypted, with a password": (lambda: corpus.encrypted(GOOD, "mat-khau"), "encrypted_pdf"),
    "page tree bomb (2**20 pages from 22 objects)": (lambda: corpus.page_tree_bomb(20), "pdf_bomb"),
    "page tree 200 levels deep": (lambda: corpus.deep_page_tree(200), "pdf_bomb"),
    "page tree with a cycle": (corpus.page_tree_cycle, "pdf_bomb"),
    "content stream inflating to 100 MB": (corpus.decompression_bomb, "pdf_bomb"),
    "no pages": (corpus.no_pages, "no_pages"),
}

# name -> (bytes, the finding reported to the uploader); tests/test_pdf_repair.py checks what tablets receive
FLAGGED: dict[str, tuple[Callable[[], bytes], str]] = {
    "JavaScript run on open": (lambda: corpus.javascript_open_action(GOOD), "open_action_javascript"),
    "JavaScript name tree": (lambda: corpus.javascript_name_tree(GOOD), "javascript"),
    "launch action on a link": (lambda: corpus.launch_link(GOOD), "launch_action"),
    "embedded file": (lambda: corpus.embedded_file(GOOD), "embedded_file"),
}


def _inspect(tmp_path: Path, data: bytes) -> pdfcheck.PdfReport:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(data)
    return pdfcheck.inspect(path)


# --- the checks themselves ---------------------------------------------------------------------------------------
def test_good_pdf_is_recorded(tmp_path: Path) -> None:
    data = corpus.good_pdf("Tờ trình về dự toán ngân sách", [*corpus.VIETNAMESE, "\f", "Trang hai: Điều 2."])
    report = _inspect(tmp_path, data)
    assert report.pages == 2
    assert report.title == "Tờ trình về dự toán ngân sách"
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.size == len(data)
    assert "Nguyễn Thị Hương" in report.text[0]
    assert "Điều 2." in report.text[1]
    assert report.findings == [] and report.active_content == []


@pytest.mark.parametrize("name", list(REFUSED))
def test_bad_pdf_is_refused(tmp_path: Path, name: str) -> None:
    make, code = REFUSED[name]
    with pytest.raises(pdfcheck.PdfRefused) as info:
        _inspect(tmp_path, make())
    assert info.value.code == code
    assert info.value.message_vi.strip() and info.value.message_en.strip()
    assert info.value.message_vi != info.value.message_en


@pytest.mark.parametrize("name", list(FLAGGED))
def test_active_content_is_flagged_not_refused(tmp_path: Path, name: str) -> None:
    make, code = FLAGGED[name]
    report = _inspect(tmp_path, make())
    assert report.pages == 1
    assert code in report.active_content
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1 and found[0].message_vi.strip() and found[0].message_en.strip()
    assert "Nguyễn Thị Hương" in report.text[0]  # flagged files are still indexed for search


def test_page_bomb_limits_are_named(tmp_path: Path) -> None:
    # Just inside the limits is fine; the bomb's message names the limit it broke.
    ok = _inspect(tmp_path, corpus.deep_page_tree(pdfcheck.MAX_TREE_DEPTH - 2))
    assert ok.pages == 1
    with pytest.raises(pdfcheck.PdfRefused) as info:
        _inspect(tmp_path, corpus.deep_page_tree(pdfcheck.MAX_TREE_DEPTH + 8))
    assert str(pdfcheck.MAX_TREE_DEPTH) in info.value.message_en
    assert str(pdfcheck.MAX_TREE_DEPTH) in info.value.message_vi


# --- through the upload route ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(extra_env={"KYHOP_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}) as srv:
        yield srv


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.http, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def secretary(http: httpx.Client) -> str:
    return login(http, "vanphong")


def _seq(http: httpx.Client, token: str) -> int:
    r = http.get(f"/api/sessions/{SESSION}", headers=auth(token))
    r.raise_for_status()
    seq: int = r.json()["seq"]
    return seq


def _refused_leaves_nothing(
    server: ServerProcess, http: httpx.Client, token: str, data: bytes, status: int, code: str
) -> None:
    before_files, before_seq = stored_files(server.data_dir), _seq(http, token)
    doc_id = f"bad-{uuid.uuid4().hex[:8]}"
    r = upload(http, token, data, document_id=doc_id)
    assert_error(r, status, code)
    assert stored_files(server.data_dir) == before_files
    assert _seq(http, token) == before_seq
    assert temp_files(server.data_dir) == set()
    man = http.get(f"/api/sessions/{SESSION}/documents/manifest", headers=auth(token)).json()
    assert doc_id not in {e["document_id"] for e in man["documents"]}


@pytest.mark.parametrize("name", list(REFUSED))
def test_upload_of_bad_pdf_is_refused_and_nothing_stored(
    server: ServerProcess, http: httpx.Client, secretary: str, name: str
) -> None:
    make, code = REFUSED[name]
    _refused_leaves_nothing(server, http, secretary, make(), 422, code)


def test_oversized_upload_is_refused_and_nothing_stored(
    server: ServerProcess, http: httpx.Client, secretary: str
) -> None:
    big = corpus.padded(GOOD, UPLOAD_LIMIT + 300_000)
    _refused_leaves_nothing(server, http, secretary, big, 413, "file_too_large")
    # The message names the limit in MB, in both languages.
    body = assert_error(upload(http, secretary, big), 413, "file_too_large")
    assert "0 MB" in body["message_en"] and "0 MB" in body["message_vi"]


def test_oversized_stream_without_length_is_cut_off(server: ServerProcess, http: httpx.Client, secretary: str) -> None:
    """A chunked upload announces no length: the server counts the bytes as they stream and stops at the limit."""
    boundary = uuid.uuid4().hex
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in {"document_id": "qua-lon", "kind": "other", "title": "Quá lớn", "access": "public"}.items()
    ).encode()
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n'.encode()

    def body() -> Iterator[bytes]:
        yield head + GOOD[:1000]
        for _ in range(3 * UPLOAD_LIMIT // 65536):
            yield b"%" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    before = stored_files(server.data_dir)
    headers = {**auth(secretary), "content-type": f"multipart/form-data; boundary={boundary}"}
    try:
        r = http.post(f"/api/sessions/{SESSION}/documents", content=body(), headers=headers)
    except httpx.TransportError:
        pass  # the server may close the connection while the client is still sending: also a refusal
    else:
        assert_error(r, 413, "file_too_large")
    assert stored_files(server.data_dir) == before
    assert temp_files(server.data_dir) == set()


@pytest.mark.parametrize("name", list(FLAGGED))
def test_upload_with_active_content_is_published_with_a_warning(
    server: ServerProcess, http: httpx.Client, secretary: str, name: str
) -> None:
    make, code = FLAGGED[name]
    data = make()
    before = stored_files(server.data_dir)
    r = upload(http, secretary, data, access="public")
    assert r.status_code == 201, r.text
    out = r.json()
    # Tablets receive a copy without the active content; the upload is kept on record with its own hash.
    assert out["original_sha256"] == hashlib.sha256(data).hexdigest() != out["sha256"]
    warnings = [w for w in out["warnings"] if w["code"] == code]
    assert len(warnings) == 1 and warnings[0]["message_vi"].strip() and warnings[0]["message_en"].strip()
    assert len(stored_files(server.data_dir)) == len(before) + 3  # the served copy, the original, the search text
    # The tablet is told too: the manifest entry carries the finding.
    man = http.get(f"/api/sessions/{SESSION}/documents/manifest").json()
    assert code in next(e for e in man["documents"] if e["document_id"] == out["document_id"])["active_content"]


def test_file_before_fields_is_refused(server: ServerProcess, http: httpx.Client, secretary: str) -> None:
    """The fields must precede the file (as in an S3 POST form): the server decides before it writes a byte."""
    boundary = uuid.uuid4().hex
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n'.encode() + GOOD
    body += b"\r\n" + form_fields(boundary, {"access": "public"}) + f"--{boundary}--\r\n".encode()
    headers = {**auth(secretary), "content-type": f"multipart/form-data; boundary={boundary}"}
    before = stored_files(server.data_dir)
    assert_error(http.post(f"/api/sessions/{SESSION}/documents", content=body, headers=headers), 400, "form_order")
    assert stored_files(server.data_dir) == before and temp_files(server.data_dir) == set()


def test_not_multipart_is_refused(http: httpx.Client, secretary: str) -> None:
    r = http.post(
        f"/api/sessions/{SESSION}/documents",
        content=GOOD,
        headers={**auth(secretary), "content-type": "application/pdf"},
    )
    assert_error(r, 415, "not_multipart")
