"""Documents through a real server (uvicorn on loopback), with the document store on local disk and on a real
S3-compatible server (SeaweedFS): upload, realtime notification, signed downloads, replacement, receipts, the
delivery matrix after 50 tablets sync, and a state-secret document that no role can download through any route."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from clients.sdk import ClientError, SessionClient, sign_in
from meeting import documents as docs
from meeting import script
from server.demo import DEMO_PASSWORD
from tests import pdf_corpus as corpus
from tests.docs_http import assert_error, auth, form_fields
from tests.e2e import ServerProcess
from tests.s3 import S3Server, s3_session

SESSION = script.SESSION_ID
DEMO_SECRET = "bc-an-ninh-mat"
DEMO_RESTRICTED = "ds-tin-nhiem"
N = 50


@dataclass
class Site:
    kind: str
    srv: ServerProcess
    s3: S3Server | None

    def stored_keys(self, prefix: str) -> list[str]:
        """Every object in document storage whose key starts with `prefix`."""
        if self.s3 is None:
            from pathlib import Path

            root = Path(self.srv.data_dir) / "documents" / "objects"
            return sorted(
                str(p.relative_to(root))
                for p in root.rglob("*")
                if p.is_file() and str(p.relative_to(root)).startswith(prefix)
            )
        from minio import Minio

        client = Minio(
            f"127.0.0.1:{self.s3.port}",
            access_key=self.s3.access_key,
            secret_key=self.s3.secret_key,
            secure=False,
            region="us-east-1",
        )
        return sorted(o.object_name or "" for o in client.list_objects(self.s3.bucket, prefix=prefix, recursive=True))


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    yield from s3_session()


@pytest.fixture(scope="module", params=["local", "s3"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    s3: S3Server | None = request.getfixturevalue("s3_server") if request.param == "s3" else None
    with ServerProcess(extra_env=s3.env() if s3 else {}) as srv:
        yield Site(request.param, srv, s3)


@pytest.fixture
async def http(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=site.srv.http, timeout=60) as client:
        yield client


async def token(site: Site, username: str) -> str:
    return await sign_in(site.srv.http, username, DEMO_PASSWORD)


async def upload(
    http: httpx.AsyncClient, tok: str, data: bytes | None, *, path: str | None = None, **fields: str
) -> httpx.Response:
    url = path or f"/api/sessions/{SESSION}/documents"
    if data is None:
        boundary = uuid.uuid4().hex
        body = form_fields(boundary, fields) + f"--{boundary}--\r\n".encode()
        headers = {**auth(tok), "content-type": f"multipart/form-data; boundary={boundary}"}
        return await http.post(url, content=body, headers=headers)
    return await http.post(
        url, data=fields, files={"file": ("tai-lieu.pdf", data, "application/pdf")}, headers=auth(tok)
    )


async def manifest(http: httpx.AsyncClient, tok: str | None) -> dict[str, Any]:
    r = await http.get(f"/api/sessions/{SESSION}/documents/manifest", headers=auth(tok))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def entry(man: dict[str, Any], document_id: str) -> dict[str, Any] | None:
    return next((dict(e) for e in man["documents"] if e["document_id"] == document_id), None)


async def download(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=60) as c:  # no credentials: the signed URL is all a tablet needs
        r = await c.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        return r.content


async def wait_for(client: SessionClient, pred: Any, timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not pred(client):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


# --- upload, notification, download ------------------------------------------------------------------------------
async def test_upload_is_published_to_tablets_and_downloadable(site: Site, http: httpx.AsyncClient) -> None:
    secretary, delegate = await token(site, "vanphong"), await token(site, "daibieu05")
    tablet = SessionClient(site.srv.ws, SESSION, delegate)
    public_screen = SessionClient(site.srv.ws, SESSION, None)
    await asyncio.gather(tablet.connect(), public_screen.connect())
    try:
        await asyncio.gather(tablet.ready(), public_screen.ready())
        data = corpus.good_pdf("Tờ trình bổ sung", ["Đề nghị bổ sung dự toán chi cho trạm y tế xã.", "\f", "Trang 2."])
        r = await upload(
            http, secretary, data, document_id="ttr-bo-sung", item_id="nq-ngan-sach", kind="submission",
            title="Tờ trình bổ sung dự toán", access="delegates",
        )  # fmt: skip
        assert r.status_code == 201, r.text
        out = r.json()
        assert (out["version"], out["pages"], out["sha256"]) == (1, 2, hashlib.sha256(data).hexdigest())
        assert out["pdf_title"] == "Tờ trình bổ sung" and out["warnings"] == []
        # The tablet is told over the WebSocket; the public screen is not (delegates only).
        await wait_for(tablet, lambda c: c.state is not None and "ttr-bo-sung" in c.state.documents.documents)
        doc = tablet.state.documents.documents["ttr-bo-sung"]  # type: ignore[union-attr]
        assert doc.current.sha256 == out["sha256"] and doc.access is docs.Access.DELEGATES
        assert any(isinstance(e, docs.DocumentPublished) and e.document_id == "ttr-bo-sung" for _, e in tablet.events)
        assert "ttr-bo-sung" not in public_screen.state.documents.documents  # type: ignore[union-attr]
        # The manifest gives the tablet a signed URL; the download matches the hash.
        e = entry(await manifest(http, delegate), "ttr-bo-sung")
        assert e is not None and e["url"] and e["sha256"] == out["sha256"] and e["size"] == len(data)
        if site.s3 is not None:
            assert e["url"].startswith(site.s3.url)  # straight from object storage, not through the app
        else:
            assert e["url"].startswith(f"{site.srv.http}/api/files/")
        assert await download(e["url"]) == data
        assert e["delivery"] == "sent"
        # The public and a respondent see no link: the public no listing at all, the respondent the listing only.
        assert entry(await manifest(http, None), "ttr-bo-sung") is None
        resp = entry(await manifest(http, await token(site, "so.y.te")), "ttr-bo-sung")
        assert resp is not None and resp["url"] is None and resp["note_en"]
        # Search finds its text for delegates, "nghi quyet"-style without diacritics.
        s = (
            await http.get(
                f"/api/sessions/{SESSION}/documents/search", params={"q": "tram y te xa"}, headers=auth(delegate)
            )
        ).json()
        hit = next(x for x in s["results"] if x["document_id"] == "ttr-bo-sung")
        assert hit["hits"] and "trạm y tế xã" in hit["hits"][0]["snippet"]
        s = (await http.get(f"/api/sessions/{SESSION}/documents/search", params={"q": "tram y te xa"})).json()
        assert all(x["document_id"] != "ttr-bo-sung" for x in s["results"])
        # A delegate may not upload.
        assert_error(await upload(http, delegate, data, document_id="x", title="x", access="public"), 403, "forbidden")
    finally:
        await asyncio.gather(tablet.close(), public_screen.close())


async def test_demo_session_has_generated_documents(site: Site, http: httpx.AsyncClient) -> None:
    man = await manifest(http, await token(site, "daibieu07"))
    ids = {e["document_id"] for e in man["documents"]}
    assert {"ttr-ngan-sach-2027", "dtnq-ngan-sach-2027", "ttr-dau-tu-cong", DEMO_RESTRICTED, DEMO_SECRET} <= ids
    e = entry(man, "dtnq-ngan-sach-2027")
    assert e is not None and e["kind"] == "draft_resolution" and e["access"] == "public"
    text = PdfReader(io.BytesIO(await download(e["url"]))).pages[0].extract_text()
    assert "NGHỊ QUYẾT" in text and "Hội đồng nhân dân tỉnh" in text
    s = (await http.get(f"/api/sessions/{SESSION}/documents/search", params={"q": "nghi quyet"})).json()
    assert s["ignore_diacritics"] and any(x["document_id"] == "dtnq-ngan-sach-2027" and x["hits"] for x in s["results"])


async def test_links_are_signed_once_a_minute_and_never_shared_between_delegates(
    site: Site, http: httpx.AsyncClient
) -> None:
    """1000 tablets asking at once share one signed link per document (LINK_REUSE); a stamped copy's link is
    the delegate's own; every link says when it expires, at least 14 of its 15 minutes ahead."""
    a, b = await token(site, "daibieu08"), await token(site, "daibieu09")
    first, again, other = await manifest(http, a), await manifest(http, a), await manifest(http, b)
    public_a, public_b = entry(first, "dtnq-ngan-sach-2027"), entry(other, "dtnq-ngan-sach-2027")
    assert public_a is not None and public_b is not None and public_a["url"] == public_b["url"]
    mine, mine_again, theirs = (entry(m, DEMO_RESTRICTED) for m in (first, again, other))
    assert mine is not None and mine_again is not None and theirs is not None
    assert mine["url"] == mine_again["url"] and mine["url"] != theirs["url"] and mine["sha256"] != theirs["sha256"]
    now = datetime.now(UTC)
    for e in (public_a, mine, theirs):
        left = datetime.fromisoformat(e["expires_at"]) - now
        assert timedelta(minutes=14) <= left <= timedelta(minutes=15)
    assert await download(theirs["url"]) != await download(mine["url"])


# --- state secrets -------------------------------------------------------------------------------------------------
ROLES = ["quantri", "vanphong", "chutoa", "daibieu05", "daibieu31", "so.y.te", None]


async def test_state_secret_can_never_be_downloaded(site: Site, http: httpx.AsyncClient) -> None:
    secretary = await token(site, "vanphong")
    doc_id = "mat-" + uuid.uuid4().hex[:6]
    prefix = f"sessions/{SESSION}/documents/{doc_id}"
    secret_bytes = corpus.good_pdf("TUYỆT MẬT", ["Nội dung bí mật nhà nước: không được lưu trên máy nối mạng."])
    # Uploading the file is refused before a byte is written; registering it without the file is accepted.
    r = await upload(
        http, secretary, secret_bytes, document_id=doc_id, title="Báo cáo (Mật)", access="secret", kind="other"
    )
    assert_error(r, 422, "secret_file_refused")
    assert site.stored_keys(prefix) == []
    r = await upload(
        http, secretary, None, document_id=doc_id, item_id="tin-nhiem", kind="other", title="Báo cáo (Mật)",
        access="secret", pages="9", note="Phòng đọc tài liệu mật, tầng 2",
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert (r.json()["size"], r.json()["sha256"], r.json()["pages"]) == (0, "", 9)
    # A new version with a file is refused the same way.
    path = f"/api/sessions/{SESSION}/documents/{doc_id}/versions"
    assert_error(await upload(http, secretary, secret_bytes, path=path), 422, "secret_file_refused")

    urls_seen: list[str] = []
    for username in ROLES:
        tok = await token(site, username) if username else None
        man = await manifest(http, tok)
        for e in man["documents"]:
            if e["url"]:
                urls_seen.append(e["url"])
        for d in (doc_id, DEMO_SECRET):
            e = entry(man, d)
            if username is None:
                assert e is None  # the public is not even told
                continue
            assert e is not None, (username, d)
            assert e["access"] == "secret" and e["url"] is None and e["sha256"] is None and e["size"] is None
            assert "phòng đọc" in e["note_vi"] and "reading room" in e["note_en"]
        # The session state and event log, as this caller sees them, carry no link and no content.
        view = (await http.get(f"/api/sessions/{SESSION}", headers=auth(tok))).json()
        evs = (await http.get(f"/api/sessions/{SESSION}/events", headers=auth(tok))).json()
        for blob in (view, evs):
            text = str(blob)
            assert "/api/files/" not in text and "X-Amz-Signature" not in text
        # Search: its title may be found by the hall, its content never.
        s = (
            await http.get(
                f"/api/sessions/{SESSION}/documents/search", params={"q": "bí mật nhà nước"}, headers=auth(tok)
            )
        ).json()
        assert all(x["document_id"] != doc_id or not x["hits"] for x in s["results"])
    # No link handed to anyone points at it.
    assert not any(doc_id in u or DEMO_SECRET in u for u in urls_seen)
    # Guessing a link on this server gets nowhere; nothing exists in storage to guess at.
    for guess in (
        f"/api/files/{prefix}/v1.pdf",
        f"/api/files/{prefix}/v1-{'0' * 16}.pdf?exp=9999999999&sig=x",
        f"/api/files/sessions/{SESSION}/documents/{DEMO_SECRET}/v1.pdf?exp=1&sig=",
    ):
        r = await http.get(guess, headers=auth(secretary))
        assert_error(r, 403, "link_invalid")
    assert site.stored_keys(prefix) == [] and site.stored_keys(f"sessions/{SESSION}/documents/{DEMO_SECRET}") == []
    # No delivery can be recorded or acknowledged for it, by any route.
    cmd = {
        "type": "record_copies_sent",
        "delegate_id": "db005",
        "copies": [{"document_id": doc_id, "version": 1, "sha256": "0" * 64}],
    }
    r = await http.post(
        f"/api/sessions/{SESSION}/commands", json={"id": uuid.uuid4().hex, "command": cmd}, headers=auth(secretary)
    )
    assert_error(r, 409, "secret_document")
    delegate = await token(site, "daibieu05")
    r = await http.post(
        f"/api/sessions/{SESSION}/documents/{doc_id}/versions/1/receipt",
        json={"sha256": "0" * 64},
        headers=auth(delegate),
    )
    assert_error(r, 409, "secret_document")
    tablet = SessionClient(site.srv.ws, SESSION, delegate, reconnect=False)
    await tablet.connect()
    try:
        await tablet.ready()
        with pytest.raises(ClientError) as info:
            await tablet.send(
                docs.AcknowledgeDelivery(document_id=doc_id, version=1, delegate_id="db005", sha256="0" * 64)
            )
        assert info.value.code == "secret_document" and info.value.message_vi and info.value.message_en
    finally:
        await tablet.close()
    matrix = (await http.get(f"/api/sessions/{SESSION}/documents/deliveries", headers=auth(secretary))).json()
    assert all(c["document_id"] not in {doc_id, DEMO_SECRET} for c in matrix["columns"])


# --- versions ------------------------------------------------------------------------------------------------------
async def test_replacement_keeps_the_old_version_and_tablets_are_told(site: Site, http: httpx.AsyncClient) -> None:
    secretary, delegate = await token(site, "vanphong"), await token(site, "daibieu09")
    v1 = corpus.good_pdf("Dự thảo lần 1", ["Điều 1. Tổng chi 21.375 tỷ đồng."])
    v2 = corpus.good_pdf("Dự thảo lần 2", ["Điều 1. Tổng chi 21.500 tỷ đồng (đã tiếp thu ý kiến)."])
    doc_id = "dt-" + uuid.uuid4().hex[:6]
    r = await upload(http, secretary, v1, document_id=doc_id, item_id="nq-ngan-sach", kind="draft_resolution",
                     title="Dự thảo Nghị quyết", access="delegates")  # fmt: skip
    assert r.status_code == 201, r.text
    tablet = SessionClient(site.srv.ws, SESSION, delegate)
    await tablet.connect()
    try:
        await tablet.ready()
        e1 = entry(await manifest(http, delegate), doc_id)
        assert e1 is not None and await download(e1["url"]) == v1
        await tablet.send(
            docs.AcknowledgeDelivery(document_id=doc_id, version=1, delegate_id="db009", sha256=e1["sha256"])
        )
        # Version 2 arrives over the WebSocket.
        path = f"/api/sessions/{SESSION}/documents/{doc_id}/versions"
        r = await upload(http, secretary, v2, path=path, title="Dự thảo Nghị quyết (lần 2)")
        assert r.status_code == 201, r.text
        assert r.json()["version"] == 2
        await wait_for(
            tablet,
            lambda c: any(isinstance(e, docs.DocumentReplaced) and e.document_id == doc_id for _, e in c.events),
        )
        replaced = next(e for _, e in tablet.events if isinstance(e, docs.DocumentReplaced) and e.document_id == doc_id)
        assert (replaced.version, replaced.previous_version) == (2, 1)
        assert replaced.sha256 == hashlib.sha256(v2).hexdigest()
        # The manifest now gives version 2; the old version stays on record with its receipt.
        e2 = entry(await manifest(http, delegate), doc_id)
        assert (
            e2 is not None and (e2["version"], e2["versions"]) == (2, 2) and e2["title"] == "Dự thảo Nghị quyết (lần 2)"
        )
        assert await download(e2["url"]) == v2
        # Receipts also go over REST: a failure first, then the right hash.
        base = f"/api/sessions/{SESSION}/documents/{doc_id}/versions/2"
        r = await http.post(f"{base}/failure", json={"reason": "mất mạng giữa chừng"}, headers=auth(delegate))
        assert r.status_code == 200 and r.json()["status"] == "failed", r.text
        r = await http.post(f"{base}/receipt", json={"sha256": e2["sha256"]}, headers=auth(delegate))
        assert r.status_code == 200 and r.json()["status"] == "received", r.text
        r = await http.post(f"{base}/receipt", json={"sha256": e2["sha256"]}, headers=auth(secretary))
        assert_error(r, 403, "not_a_delegate")
        bad = f"/api/sessions/{SESSION}/documents/{doc_id}/versions/x/receipt"
        r = await http.post(bad, json={"sha256": "a"}, headers=auth(delegate))
        assert_error(r, 404, "unknown_document_version")
        state = (await http.get(f"/api/sessions/{SESSION}", headers=auth(secretary))).json()["state"]
        versions = state["documents"]["documents"][doc_id]["versions"]
        assert [v["sha256"] for v in versions] == [hashlib.sha256(v1).hexdigest(), hashlib.sha256(v2).hexdigest()]
        assert versions[0]["deliveries"]["db009"]["status"] == "received"
        full = (await http.get(f"/api/sessions/{SESSION}/documents/deliveries", params={"all_versions": "true"},
                               headers=auth(secretary))).json()  # fmt: skip
        cols = [i for i, c in enumerate(full["columns"]) if c["document_id"] == doc_id]
        row = next(r for r in full["rows"] if r["delegate_id"] == "db009")
        assert [row["statuses"][i] for i in cols] == ["received", "received"]
        # Both files are still in storage.
        assert len([k for k in site.stored_keys(f"sessions/{SESSION}/documents/{doc_id}/") if k.endswith(".pdf")]) == 2
        # A version number that is not the next one is refused by the domain.
        cmd = {
            "type": "replace_document",
            "document_id": doc_id,
            "version": 2,
            "size": 1,
            "sha256": "a" * 64,
            "pages": 1,
        }
        r = await http.post(
            f"/api/sessions/{SESSION}/commands", json={"id": uuid.uuid4().hex, "command": cmd}, headers=auth(secretary)
        )
        assert_error(r, 409, "wrong_document_version")
    finally:
        await tablet.close()


async def test_withdrawn_document_loses_its_link(site: Site, http: httpx.AsyncClient) -> None:
    secretary, delegate = await token(site, "vanphong"), await token(site, "daibieu11")
    doc_id = "rut-" + uuid.uuid4().hex[:6]
    r = await upload(
        http, secretary, corpus.good_pdf(), document_id=doc_id, title="Sẽ rút", access="public", kind="other"
    )
    assert r.status_code == 201, r.text
    cmd = {"type": "withdraw_document", "document_id": doc_id, "reason": "Trình lại kỳ sau"}
    r = await http.post(
        f"/api/sessions/{SESSION}/commands", json={"id": uuid.uuid4().hex, "command": cmd}, headers=auth(secretary)
    )
    assert r.status_code in (200, 201), r.text
    for tok in (delegate, None):
        e = entry(await manifest(http, tok), doc_id)
        assert e is not None and e["withdrawn"] and e["url"] is None and e["note_vi"] and e["note_en"]


async def test_published_without_a_stored_file_gets_no_link(site: Site, http: httpx.AsyncClient) -> None:
    """A publish_document sent as a raw command (not through the upload route) names a file that storage does not
    have: the restricted copy cannot be made, and the manifest says so instead of failing."""
    secretary, delegate = await token(site, "vanphong"), await token(site, "daibieu12")
    doc_id = "khong-tep-" + uuid.uuid4().hex[:6]
    cmd = {
        "type": "publish_document", "document_id": doc_id, "kind": "other", "title": "Không có tệp",
        "access": "restricted", "size": 10, "sha256": "ab" * 32, "pages": 1,
    }  # fmt: skip
    r = await http.post(
        f"/api/sessions/{SESSION}/commands", json={"id": uuid.uuid4().hex, "command": cmd}, headers=auth(secretary)
    )
    assert r.status_code in (200, 201), r.text
    e = entry(await manifest(http, delegate), doc_id)
    assert e is not None and e["url"] is None and e["note_vi"] and e["note_en"]


# --- 50 tablets ------------------------------------------------------------------------------------------------------
def _usernames(n: int) -> dict[str, str]:
    out = {script.delegate_id(1): "chutoa"}
    out.update({script.delegate_id(i): f"daibieu{i:02d}" for i in range(2, n + 1)})
    return out


async def _sync(
    client: SessionClient, delegate_id: str, tok: str, http: httpx.AsyncClient, dl: httpx.AsyncClient
) -> dict[str, str]:
    """What a tablet does: fetch its manifest, download each copy, check the hash, acknowledge. Returns the hashes of
    its copies by document id."""
    r = await http.get(f"/api/sessions/{SESSION}/documents/manifest", headers=auth(tok))
    assert r.status_code == 200, r.text
    got: dict[str, str] = {}
    for e in r.json()["documents"]:
        if not e["url"]:
            assert e["access"] == "secret" or e["withdrawn"] or e["document_id"].startswith("khong-tep-"), e
            continue
        resp = await dl.get(e["url"])
        assert resp.status_code == 200, (e["url"], resp.status_code)
        digest = hashlib.sha256(resp.content).hexdigest()
        assert digest == e["sha256"] and len(resp.content) == e["size"]
        got[e["document_id"]] = digest
        if e["document_id"] == DEMO_RESTRICTED and delegate_id in {"db001", "db017", "db050"}:
            text = PdfReader(io.BytesIO(resp.content)).pages[0].extract_text()
            assert script.delegate_name(int(delegate_id[2:])) in text
        await client.send(
            docs.AcknowledgeDelivery(
                document_id=e["document_id"], version=e["version"], delegate_id=delegate_id, sha256=digest
            )
        )
    return got


async def test_delivery_matrix_after_tablets_sync(site: Site, http: httpx.AsyncClient) -> None:
    """All 50 delegates' tablets sync from S3 at once (the production path); on local storage 20 of them, through the
    app's signed-link route (the embedded default), to keep the file's run time down."""
    n = N if site.s3 is not None else 20
    names = _usernames(n)
    tokens = dict(
        zip(
            names,
            await asyncio.gather(*(sign_in(site.srv.http, u, DEMO_PASSWORD) for u in names.values())),
            strict=True,
        )
    )
    secretary = await token(site, "vanphong")
    desk = SessionClient(site.srv.ws, SESSION, secretary)  # the secretariat's live view
    tablets = {d: SessionClient(site.srv.ws, SESSION, t) for d, t in tokens.items()}
    await asyncio.gather(desk.connect(), *(c.connect() for c in tablets.values()))
    try:
        await asyncio.gather(desk.ready(), *(c.ready() for c in tablets.values()))
        before = (await http.get(f"/api/sessions/{SESSION}/documents/deliveries", headers=auth(secretary))).json()
        demo_cols = [c["document_id"] for c in before["columns"] if c["document_id"] in {
            "ttr-ngan-sach-2027", "bctt-ngan-sach-2027", "dtnq-ngan-sach-2027", "ttr-dau-tu-cong", "dtnq-dau-tu-cong",
            "bc-chat-van", DEMO_RESTRICTED}]  # fmt: skip
        assert len(demo_cols) == 7
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(timeout=120, limits=limits) as dl:
            copies = await asyncio.gather(*(_sync(tablets[d], d, tokens[d], http, dl) for d in tablets))
        # Each restricted copy is the delegate's own; the other documents are the same bytes for everyone.
        restricted = {c[DEMO_RESTRICTED] for c in copies}
        assert len(restricted) == n
        assert len({c["ttr-ngan-sach-2027"] for c in copies}) == 1
        matrix = (await http.get(f"/api/sessions/{SESSION}/documents/deliveries", headers=auth(secretary))).json()
        assert len(matrix["rows"]) == N
        cols = {c["document_id"]: i for i, c in enumerate(matrix["columns"])}
        for d in demo_cols:
            c = matrix["columns"][cols[d]]
            # The others were not synced here (some fetched a manifest in another test: sent, not received).
            assert (c["received"], c["sent"] + c["not_sent"], c["failed"]) == (n, N - n, 0), c
        for row in matrix["rows"]:
            want = {"received"} if row["delegate_id"] in tablets else {"not_sent", "sent"}
            assert all(row["statuses"][cols[d]] in want for d in demo_cols), row
        assert matrix["complete"] is False or n == N

        # The secretariat's live view got there over the WebSocket and agrees with the matrix.
        def all_received(c: SessionClient) -> bool:
            if c.state is None:
                return False
            for d in demo_cols:
                dv = c.state.documents.documents[d].current.deliveries
                got = [dv.get(who) for who in tablets]
                if any(x is None or x.status is not docs.DeliveryStatus.RECEIVED for x in got):
                    return False
            return True

        await wait_for(desk, all_received, timeout=30)
        # A tablet sees its own receipts only.
        mine = tablets["db017"].state
        assert mine is not None and set(mine.documents.documents["ttr-ngan-sach-2027"].current.deliveries) == {"db017"}
        # Fetching the manifest again hands out the same copies and records nothing new.
        seq = (await http.get(f"/api/sessions/{SESSION}", headers=auth(secretary))).json()["seq"]
        again = await manifest(http, tokens["db017"])
        e = entry(again, DEMO_RESTRICTED)
        assert e is not None and e["sha256"] == copies[16][DEMO_RESTRICTED] and e["delivery"] == "received"
        assert (await http.get(f"/api/sessions/{SESSION}", headers=auth(secretary))).json()["seq"] == seq
        # A corrupted download is reported as failed, and shows in the matrix.
        await tablets["db017"].send(
            docs.AcknowledgeDelivery(document_id="bc-chat-van", version=1, delegate_id="db017", sha256="f" * 64)
        )
        matrix = (await http.get(f"/api/sessions/{SESSION}/documents/deliveries", headers=auth(secretary))).json()
        row = next(r for r in matrix["rows"] if r["delegate_id"] == "db017")
        assert row["statuses"][cols["bc-chat-van"]] == "failed" and row["missing"] >= 1
        # The next manifest sends it again (a new attempt, recorded as such), and this time it arrives.
        e = entry(await manifest(http, tokens["db017"]), "bc-chat-van")
        assert e is not None and e["delivery"] == "sent"
        await tablets["db017"].send(
            docs.AcknowledgeDelivery(document_id="bc-chat-van", version=1, delegate_id="db017", sha256=e["sha256"])
        )
        matrix = (await http.get(f"/api/sessions/{SESSION}/documents/deliveries", headers=auth(secretary))).json()
        row = next(r for r in matrix["rows"] if r["delegate_id"] == "db017")
        assert row["statuses"][cols["bc-chat-van"]] == "received"
        # Only staff see the matrix.
        assert_error(
            await http.get(f"/api/sessions/{SESSION}/documents/deliveries", headers=auth(tokens["db017"])),
            403,
            "forbidden",
        )
    finally:
        await asyncio.gather(desk.close(), *(c.close() for c in tablets.values()))
