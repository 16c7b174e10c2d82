"""One contract for document storage, run over both implementations: LocalStore (files on disk, links served by the
app's signed-link route) and S3Store against a real S3-compatible server (SeaweedFS `weed mini`, tests/s3.py)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import AsyncTestClient

from documents.store import PART_SIZE, LocalStore, ObjectNotFound, ObjectStore, S3Store
from server.config import load_settings
from server.database import Database
from server.document_service import DocumentService
from server.errors import EXCEPTION_HANDLERS
from server.routes_documents import signed_file
from server.services import Services, password_hasher
from tests.s3 import S3Server, s3_session

SECRET = "contract-test-secret-that-is-long-enough"


@dataclass
class Backend:
    store: ObjectStore
    prefix: str
    fetch: Callable[[str], Awaitable[httpx.Response]]

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    yield from s3_session()


def _service(store: LocalStore, data_dir: Path) -> DocumentService:
    settings = load_settings({"KYHOP_DATA_DIR": str(data_dir), "KYHOP_SECRET_KEY": SECRET})
    services = Services(settings=settings, db=Database(settings.database_url), hasher=password_hasher(fast=True))
    return DocumentService(services, store)


@pytest.fixture(params=["local", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    prefix = f"contract/{uuid.uuid4().hex}"
    if request.param == "local":
        store = LocalStore(tmp_path / "documents", SECRET)
        service = _service(store, tmp_path)
        app = Litestar(
            route_handlers=[signed_file],
            dependencies={"documents": Provide(lambda: service, sync_to_thread=False)},
            exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        )
        async with AsyncTestClient(app) as client:

            async def fetch_local(url: str) -> httpx.Response:
                assert url.startswith("/api/files/"), url  # a path on this server, never a file path
                return await client.get(url)

            yield Backend(store, prefix, fetch_local)
        return
    server: S3Server = request.getfixturevalue("s3_server")
    s3 = S3Store(server.url, server.access_key, server.secret_key, server.bucket)
    async with httpx.AsyncClient(timeout=30) as http:

        async def fetch_s3(url: str) -> httpx.Response:
            assert url.startswith(server.url), url  # straight from the S3 server, not through the app
            return await http.get(url)

        yield Backend(s3, prefix, fetch_s3)
    await s3.close()


def _random(n: int) -> bytes:
    return os.urandom(n)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_put_bytes_stat_get(backend: Backend) -> None:
    data = b"%PDF-1.7 t\xe1\xbb\x9d tr\xc3\xacnh"
    key = backend.key("a.pdf")
    info = await backend.store.put(key, data)
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    st = await backend.store.stat(key)
    assert st is not None and st.size == len(data) and st.sha256 == info.sha256
    assert st.content_type == "application/pdf"
    assert await backend.store.get(key) == data


async def test_large_file_goes_up_in_parts_and_streams_back(backend: Backend, tmp_path: Path) -> None:
    data = _random(2 * PART_SIZE + 12345)  # three parts of a multipart upload on S3
    src = tmp_path / "lon.pdf"
    src.write_bytes(data)
    key = backend.key("lon.pdf")
    digest = hashlib.sha256(data).hexdigest()
    info = await backend.store.put(key, src, sha256=digest)
    assert info.size == len(data) and info.sha256 == digest
    st = await backend.store.stat(key)
    assert st is not None and st.size == len(data) and st.sha256 == digest
    h = hashlib.sha256()
    chunks = 0
    async for chunk in backend.store.stream(key, chunk_size=256 * 1024):
        assert len(chunk) <= 256 * 1024  # never the whole object at once
        h.update(chunk)
        chunks += 1
    assert h.hexdigest() == digest and chunks >= len(data) // (256 * 1024)
    dest = tmp_path / "ve.pdf"
    await backend.store.download(key, dest)
    assert dest.read_bytes() == data


async def test_stream_of_unknown_length(backend: Backend) -> None:
    data = _random(PART_SIZE + 777)
    key = backend.key("dong.pdf")
    info = await backend.store.put(key, _chunks(data, 100_000))
    assert info.size == len(data) and info.sha256 == hashlib.sha256(data).hexdigest()
    st = await backend.store.stat(key)
    assert st is not None and st.sha256 == info.sha256 and st.size == len(data)
    assert await backend.store.get(key) == data


async def test_overwrite_and_delete(backend: Backend) -> None:
    key = backend.key("b.pdf")
    await backend.store.put(key, b"one")
    await backend.store.put(key, b"two, longer")
    assert await backend.store.get(key) == b"two, longer"
    st = await backend.store.stat(key)
    assert st is not None and st.sha256 == hashlib.sha256(b"two, longer").hexdigest()
    await backend.store.delete(key)
    assert await backend.store.stat(key) is None
    await backend.store.delete(key)  # deleting what is not there is fine


async def test_missing_objects(backend: Backend, tmp_path: Path) -> None:
    key = backend.key("khong-co.pdf")
    assert await backend.store.stat(key) is None
    with pytest.raises(ObjectNotFound):
        await backend.store.get(key)
    with pytest.raises(ObjectNotFound):
        await backend.store.download(key, tmp_path / "x.pdf")


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", "../x", "a/./b", "có-dấu", "a b", "a\\b", "x" * 1000])
async def test_bad_keys_are_refused(backend: Backend, key: str) -> None:
    with pytest.raises(ValueError):
        await backend.store.put(key, b"x")
    with pytest.raises(ValueError):
        await backend.store.stat(key)


async def test_presigned_get_downloads_without_credentials(backend: Backend) -> None:
    data = _random(300_000)
    key = backend.key("tai.pdf")
    await backend.store.put(key, data)
    url = await backend.store.presigned_get(key, expires_in=timedelta(minutes=5), filename="tai-v1.pdf")
    r = await backend.fetch(url)
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["content-type"].startswith("application/pdf")
    assert "tai-v1.pdf" in r.headers["content-disposition"]


async def test_tampered_links_are_refused(backend: Backend) -> None:
    await backend.store.put(backend.key("c.pdf"), b"%PDF-1.7 c")
    await backend.store.put(backend.key("other.pdf"), b"%PDF-1.7 other")
    url = await backend.store.presigned_get(backend.key("c.pdf"), expires_in=timedelta(minutes=5))
    assert (await backend.fetch(url)).status_code == 200
    other = url.replace("/c.pdf", "/other.pdf")
    assert other != url
    assert (await backend.fetch(other)).status_code in {401, 403}
    sig_param = "sig=" if isinstance(backend.store, LocalStore) else "X-Amz-Signature="
    i = url.index(sig_param) + len(sig_param)
    forged = url[:i] + ("A" if url[i] != "A" else "B") + url[i + 1 :]
    assert (await backend.fetch(forged)).status_code in {401, 403}


async def test_expired_links_are_refused(backend: Backend) -> None:
    key = backend.key("het-han.pdf")
    await backend.store.put(key, b"%PDF-1.7 old")
    store: Any = backend.store
    if isinstance(store, LocalStore):
        # Signed two hours ago for one hour.
        url = store.sign(key, expires_in=timedelta(hours=1), now=datetime.now(UTC).timestamp() - 7200)
        too_long = store.sign(key, expires_in=timedelta(days=30))
        assert (await backend.fetch(too_long)).status_code == 403  # longer than any link we hand out
    else:
        url = store.signer.presigned_get_object(
            store.bucket, key, expires=timedelta(hours=1), request_date=datetime.now(UTC) - timedelta(hours=2)
        )
    r = await backend.fetch(url)
    assert r.status_code in {401, 403}, r.text
    if isinstance(store, LocalStore):
        body = r.json()
        assert body["code"] == "link_invalid" and body["message_vi"] and body["message_en"]
