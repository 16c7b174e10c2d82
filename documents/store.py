"""Object storage for documents: one async interface, two real implementations.

- `S3Store`: any S3-compatible server (MinIO in production, SeaweedFS in the tests) through the `minio` SDK. The SDK
  is synchronous, so every call runs in a worker thread; files go up in parts (multipart upload) once they are
  larger than `PART_SIZE`, and tablets download straight from the S3 server through presigned GET URLs.
- `LocalStore`: files under a directory (the embedded default: `<data dir>/documents`). Its "presigned" URLs point
  at the app's own download route (`/api/files/...`), signed with an HMAC of the key, the expiry and the file name
  under a key derived from the server secret; the route checks the signature and expiry and streams the file from
  disk in chunks.

Both keep a SHA-256 with every object (S3 user metadata `x-amz-meta-sha256`; a small JSON file beside the object
for LocalStore), so `stat` can answer without reading the object.

Keys are `/`-separated paths of letters, digits and `._~%-`; no empty, `.` or `..` segment.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import os
import re
import secrets
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import anyio
import anyio.to_thread
import msgspec
from anyio.lowlevel import RunVar

CHUNK = 256 * 1024  # read and stream in 256 KiB pieces: never a whole file in memory
PART_SIZE = 8 * 1024 * 1024  # S3 multipart part size (the S3 minimum is 5 MiB)
MAX_KEY = 900
MAX_LINK_TTL = timedelta(days=1)  # a local link signed for longer than this is refused even if its HMAC holds
_KEY_RE = re.compile(r"[A-Za-z0-9._~%-]+(?:/[A-Za-z0-9._~%-]+)*")
_FILENAME_RE = re.compile(r"[A-Za-z0-9._-]{1,200}")

T = TypeVar("T")


class ObjectNotFound(Exception):
    pass


class StoreUnavailable(Exception):
    """The storage backend could not be reached or refused the operation."""


class ObjectInfo(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    size: int
    sha256: str | None
    content_type: str


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY or not _KEY_RE.fullmatch(key):
        raise ValueError(f"bad object key: {key!r}")
    if any(part in {".", ".."} for part in key.split("/")):
        raise ValueError(f"bad object key: {key!r}")
    return key


def check_filename(name: str | None) -> str | None:
    if name is not None and not _FILENAME_RE.fullmatch(name):
        raise ValueError(f"bad download file name: {name!r}")
    return name


# Store calls run in worker threads, at most 16 at a time per event loop (one limiter per loop, as in server/auth.py).
_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("kyhop_store_limiter")


def _limiter() -> anyio.CapacityLimiter:
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(16)
        _LIMITER.set(limiter)
        return limiter


async def _thread(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args, limiter=_limiter())


class ObjectStore(ABC):
    """What the document service needs from storage."""

    kind: str

    @abstractmethod
    async def put(
        self,
        key: str,
        source: Path | bytes | AsyncIterable[bytes],
        *,
        content_type: str = "application/pdf",
        sha256: str | None = None,
    ) -> ObjectInfo:
        """Store an object from a file (streamed, multipart on S3), bytes, or an async stream of chunks.

        `sha256` may be given when the caller already hashed a file source; it is computed otherwise.
        """

    @abstractmethod
    async def stat(self, key: str) -> ObjectInfo | None:
        """Size, hash and type of an object, or None when there is none."""

    @abstractmethod
    def stream(self, key: str, *, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        """The object's bytes in chunks. Raises ObjectNotFound (when iterated) if there is no such object."""

    async def get(self, key: str) -> bytes:
        """A small object in one piece (text indexes). Use `stream` or `download` for documents."""
        return b"".join([c async for c in self.stream(key)])

    @abstractmethod
    async def download(self, key: str, dest: Path) -> None:
        """Copy the object to a local file (for stamping)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    @abstractmethod
    async def presigned_get(self, key: str, *, expires_in: timedelta, filename: str | None = None) -> str:
        """A URL that downloads the object without credentials until it expires: absolute for S3, a path on this
        server for LocalStore. `filename` (ASCII) names the download."""

    async def close(self) -> None:
        return None


# --- local files ---------------------------------------------------------------------------------------------------
class LocalStore(ObjectStore):
    kind = "local"

    def __init__(self, root: Path, secret: str, *, url_prefix: str = "/api/files") -> None:
        self.root = root
        self.objects = root / "objects"
        self.meta = root / "meta"
        self.tmp = root / "tmp"
        for d in (self.objects, self.meta, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        self.url_prefix = url_prefix.rstrip("/")
        self._link_key = hmac.new(secret.encode(), b"kyhop local document links v1", hashlib.sha256).digest()

    def path_of(self, key: str) -> Path:
        return self.objects / check_key(key)

    def _meta_of(self, key: str) -> Path:
        return self.meta / f"{check_key(key)}.json"

    def _commit(self, tmp: Path, key: str, info: ObjectInfo) -> None:
        dst, meta = self.path_of(key), self._meta_of(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta_tmp = self.tmp / f"{secrets.token_hex(8)}.json"
        meta_tmp.write_bytes(msgspec.json.encode(info))
        # Object first, then its metadata: a reader that finds the metadata finds the object.
        os.replace(tmp, dst)
        os.replace(meta_tmp, meta)

    def _new_tmp(self) -> Path:
        return self.tmp / secrets.token_hex(16)

    async def put(
        self,
        key: str,
        source: Path | bytes | AsyncIterable[bytes],
        *,
        content_type: str = "application/pdf",
        sha256: str | None = None,
    ) -> ObjectInfo:
        check_key(key)
        tmp = self._new_tmp()
        try:
            if isinstance(source, bytes):
                size, digest = len(source), hashlib.sha256(source).hexdigest()
                await _thread(tmp.write_bytes, source)
            elif isinstance(source, Path):
                size, digest = await _thread(_copy_hashing, source, tmp)
                if sha256 is not None and sha256 != digest:
                    raise ValueError("the file changed while it was stored")
            else:
                h = hashlib.sha256()
                size = 0
                f = await _thread(tmp.open, "wb")
                try:
                    async for chunk in source:
                        h.update(chunk)
                        size += len(chunk)
                        await _thread(f.write, chunk)
                finally:
                    await _thread(f.close)
                digest = h.hexdigest()
            info = ObjectInfo(key=key, size=size, sha256=digest, content_type=content_type)
            await _thread(self._commit, tmp, key, info)
            return info
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _stat(self, key: str) -> ObjectInfo | None:
        path = self.path_of(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        try:
            info = msgspec.json.decode(self._meta_of(key).read_bytes(), type=ObjectInfo)
        except (FileNotFoundError, msgspec.DecodeError):
            return ObjectInfo(key=key, size=size, sha256=None, content_type="application/octet-stream")
        return info if info.size == size else msgspec.structs.replace(info, size=size, sha256=None)

    async def stat(self, key: str) -> ObjectInfo | None:
        return await _thread(self._stat, key)

    async def stream(self, key: str, *, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            f = await _thread(_open_binary, path)
        except FileNotFoundError as e:
            raise ObjectNotFound(key) from e
        try:
            while chunk := await _thread(f.read, chunk_size):
                yield chunk
        finally:
            await _thread(f.close)

    async def download(self, key: str, dest: Path) -> None:
        path = self.path_of(key)
        try:
            await _thread(_copy_hashing, path, dest)
        except FileNotFoundError as e:
            raise ObjectNotFound(key) from e

    def _delete(self, key: str) -> None:
        for p in (self.path_of(key), self._meta_of(key)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    async def delete(self, key: str) -> None:
        await _thread(self._delete, key)

    # --- signed links
    def _signature(self, key: str, expires: int, filename: str | None) -> str:
        msg = f"{key}\n{expires}\n{filename or ''}".encode()
        return base64.urlsafe_b64encode(hmac.new(self._link_key, msg, hashlib.sha256).digest()).decode().rstrip("=")

    def sign(self, key: str, *, expires_in: timedelta, filename: str | None = None, now: float | None = None) -> str:
        check_key(key)
        check_filename(filename)
        expires = int((time.time() if now is None else now) + expires_in.total_seconds())
        query = {"exp": str(expires), "sig": self._signature(key, expires, filename)}
        if filename:
            query["name"] = filename
        return f"{self.url_prefix}/{key}?{urllib.parse.urlencode(query)}"

    def verify(self, key: str, expires: str, signature: str, filename: str | None, now: float | None = None) -> bool:
        """Whether a link is genuine and still valid (constant-time comparison; any malformed part is False)."""
        try:
            check_key(key)
            check_filename(filename)
            exp = int(expires)
        except ValueError:
            return False
        t = time.time() if now is None else now
        if exp < t or exp > t + MAX_LINK_TTL.total_seconds():
            return False
        return hmac.compare_digest(self._signature(key, exp, filename), signature)

    async def presigned_get(self, key: str, *, expires_in: timedelta, filename: str | None = None) -> str:
        return self.sign(key, expires_in=expires_in, filename=filename)


def _open_binary(path: Path) -> BinaryIO:
    return path.open("rb")


def _copy_hashing(src: Path, dst: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with src.open("rb") as fin, dst.open("wb") as fout:
        while block := fin.read(1024 * 1024):
            h.update(block)
            size += len(block)
            fout.write(block)
    return size, h.hexdigest()


# --- S3 ------------------------------------------------------------------------------------------------------------
class _AsyncChunks(io.RawIOBase):
    """A blocking file-like view (for the minio SDK in its worker thread) of an async iterator on the event loop."""

    def __init__(self, chunks: AsyncIterable[bytes], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._it = aiter(chunks)
        self._loop = loop
        self._buffer = bytearray()
        self._done = False
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def _next(self) -> bytes:
        async def step() -> bytes:
            try:
                return await anext(self._it)
            except StopAsyncIteration:
                return b""

        return asyncio.run_coroutine_threadsafe(step(), self._loop).result()

    def read(self, n: int = -1) -> bytes:
        while not self._done and (n < 0 or len(self._buffer) < n):
            chunk = self._next()
            if not chunk:
                self._done = True
                break
            self.hash.update(chunk)
            self.size += len(chunk)
            self._buffer += chunk
        take = len(self._buffer) if n < 0 else min(n, len(self._buffer))
        out = bytes(self._buffer[:take])
        del self._buffer[:take]
        return out


class S3Store(ObjectStore):
    kind = "s3"

    def __init__(
        self,
        url: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        public_url: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        from minio import Minio
        from urllib3 import PoolManager, Retry, Timeout

        def client(u: str) -> Minio:
            parsed = urllib.parse.urlsplit(u)
            if parsed.scheme not in {"http", "https"} or not parsed.netloc:
                raise ValueError(f"S3 URL must be http(s)://host[:port], got {u!r}")
            http = PoolManager(
                timeout=Timeout(connect=5, read=60),
                maxsize=16,
                retries=Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
            )
            return Minio(
                parsed.netloc,
                access_key=access_key,
                secret_key=secret_key,
                secure=parsed.scheme == "https",
                region=region,  # known region: presigning needs no request to the server
                http_client=http,
            )

        self.bucket = bucket
        self.client = client(url)
        # Presigned URLs carry the host they were signed for: tablets may reach the S3 server by another address.
        self.signer = client(public_url) if public_url else self.client
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        from minio.error import S3Error

        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
        except S3Error as e:
            if e.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise
        self._bucket_ready = True

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        from minio.error import MinioException

        def run() -> T:
            self._ensure_bucket()
            return fn(*args)

        try:
            return await _thread(run)
        except (MinioException, OSError) as e:
            if _not_found(e):
                raise ObjectNotFound(str(args[0]) if args else "") from e
            raise StoreUnavailable(f"{type(e).__name__}: {e}") from e

    async def put(
        self,
        key: str,
        source: Path | bytes | AsyncIterable[bytes],
        *,
        content_type: str = "application/pdf",
        sha256: str | None = None,
    ) -> ObjectInfo:
        check_key(key)
        if isinstance(source, bytes):
            sha = hashlib.sha256(source).hexdigest()
            await self._call(
                lambda: self.client.put_object(
                    self.bucket,
                    key,
                    io.BytesIO(source),
                    len(source),
                    content_type=content_type,
                    metadata={"sha256": sha},
                )
            )
            return ObjectInfo(key=key, size=len(source), sha256=sha, content_type=content_type)
        if isinstance(source, Path):
            path = source
            digest = sha256 if sha256 is not None else await _thread(_hash_file, path)
            size = path.stat().st_size
            await self._call(
                lambda: self.client.fput_object(
                    self.bucket,
                    key,
                    str(path),
                    content_type=content_type,
                    metadata={"sha256": digest},
                    part_size=PART_SIZE,
                )
            )
            return ObjectInfo(key=key, size=size, sha256=digest, content_type=content_type)
        # A stream of unknown length: multipart upload as it arrives, then record the hash on the object by a
        # server-side copy onto itself (S3 metadata cannot be changed in place).
        reader = _AsyncChunks(source, asyncio.get_running_loop())
        body = cast(BinaryIO, reader)
        await self._call(
            lambda: self.client.put_object(self.bucket, key, body, -1, content_type=content_type, part_size=PART_SIZE)
        )
        digest = reader.hash.hexdigest()
        await self._call(self._set_sha256, key, digest, content_type)
        return ObjectInfo(key=key, size=reader.size, sha256=digest, content_type=content_type)

    def _set_sha256(self, key: str, digest: str, content_type: str) -> None:
        from minio.commonconfig import REPLACE, CopySource

        self.client.copy_object(
            self.bucket,
            key,
            CopySource(self.bucket, key),
            metadata={"sha256": digest, "Content-Type": content_type},
            metadata_directive=REPLACE,
        )

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        try:
            st = await self._call(self.client.stat_object, self.bucket, key)
        except ObjectNotFound:
            return None
        meta = {k.lower(): v for k, v in (st.metadata or {}).items()}
        return ObjectInfo(
            key=key,
            size=int(st.size or 0),
            sha256=meta.get("x-amz-meta-sha256"),
            content_type=st.content_type or "application/octet-stream",
        )

    async def stream(self, key: str, *, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        check_key(key)
        try:
            resp = await self._call(self.client.get_object, self.bucket, key)
        except ObjectNotFound:
            raise ObjectNotFound(key) from None
        try:
            while chunk := await _thread(resp.read, chunk_size):
                yield chunk
        finally:
            resp.close()
            resp.release_conn()

    async def download(self, key: str, dest: Path) -> None:
        check_key(key)
        await self._call(self.client.fget_object, self.bucket, key, str(dest))

    async def delete(self, key: str) -> None:
        check_key(key)
        with contextlib.suppress(ObjectNotFound):
            await self._call(self.client.remove_object, self.bucket, key)

    async def presigned_get(self, key: str, *, expires_in: timedelta, filename: str | None = None) -> str:
        check_key(key)
        check_filename(filename)
        headers: dict[str, str | list[str] | tuple[str]] = {"response-content-type": "application/pdf"}
        if filename:
            headers["response-content-disposition"] = f'attachment; filename="{filename}"'
        # Signing is local (the region is configured): no thread, no request.
        url: str = self.signer.presigned_get_object(self.bucket, key, expires=expires_in, response_headers=headers)
        return url


def _not_found(e: Exception) -> bool:
    code = getattr(e, "code", None)
    return code in {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1024 * 1024):
            h.update(block)
    return h.hexdigest()


def make_store(
    *,
    data_dir: Path,
    secret: str,
    s3_url: str | None = None,
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    s3_bucket: str | None = None,
    s3_public_url: str | None = None,
) -> ObjectStore:
    """S3 when a URL is configured, else files under `<data_dir>/documents`."""
    if s3_url:
        if not (s3_access_key and s3_secret_key):
            raise ValueError("KYHOP_S3_URL is set: KYHOP_S3_ACCESS_KEY and KYHOP_S3_SECRET_KEY are needed too")
        return S3Store(s3_url, s3_access_key, s3_secret_key, s3_bucket or "kyhop", public_url=s3_public_url)
    return LocalStore(data_dir / "documents", secret)


__all__ = [
    "CHUNK",
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "StoreUnavailable",
    "make_store",
]
