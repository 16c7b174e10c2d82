"""Real servers for end-to-end tests: `kyhop` under uvicorn in its own process, on loopback, on a free port."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """One uvicorn worker running server.app:app_factory with the demo council seeded."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        redis_url: str | None = None,
        data_dir: str | None = None,
        port: int | None = None,
        secret: str = "e2e-secret-key-that-is-long-enough-for-hs256",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="kyhop-e2e-")
        self.data_dir = data_dir or self._tmp.name  # type: ignore[union-attr]
        self.port = port or free_port()
        self.database_url = database_url
        self.redis_url = redis_url
        self.secret = secret
        self.extra_env = dict(extra_env or {})  # e.g. KYHOP_S3_* for document storage on S3
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.log_path = Path(self.data_dir) / f"server-{self.port}.log"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        env = dict(os.environ)
        env.update(
            KYHOP_DATA_DIR=self.data_dir,
            KYHOP_DEMO="1",
            KYHOP_TEST_FAST_HASH="1",
            KYHOP_SECRET_KEY=self.secret,
        )
        if self.database_url:
            env["KYHOP_DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["KYHOP_REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        self._log = log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process, closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "server.app:app_factory",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ws-max-size",
                str(128 * 1024),
                "--ws-per-message-deflate",
                "false",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.http}/api/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s: {self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: the worker dies with whatever it had in memory."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


def http(method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
    """(status, decoded JSON body), 4xx/5xx included."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"null")
        except ValueError:
            return e.code, {"raw": raw.decode(errors="replace")}


async def until(cond: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Wait for a condition another task makes true (polls; never a blind sleep)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.005)
