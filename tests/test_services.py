"""The test servers are real: PostgreSQL 15 and Redis 7 processes of our own, on loopback, on free ports."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import asyncpg  # type: ignore[import-untyped]
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests import services
from tests.services import (
    PostgresServer,
    RedisServer,
    ServiceUnavailable,
    port_accepts,
    running_under_ci,
    unavailable,
)

# The fixtures come from tests/conftest.py: `pytest_plugins = ["tests.services"]` (or `-p tests.services`). Naming
# the plugin here instead fails under -W error: this module imports tests.services before pytest could register it
# for assertion rewriting (PytestAssertRewriteWarning).

REPO = Path(__file__).resolve().parent.parent


# --- PostgreSQL ---------------------------------------------------------------------------------------------------


def test_postgres_is_a_real_server_of_our_own(postgres_server: PostgresServer) -> None:
    async def scenario() -> dict[str, str]:
        conn = await asyncpg.connect(postgres_server.dsn, timeout=10)
        try:
            await conn.execute("CREATE TABLE harness_probe (id int PRIMARY KEY, name text NOT NULL)")
            await conn.execute("INSERT INTO harness_probe VALUES (1, 'Hội đồng nhân dân'), (2, 'kỳ họp')")
            rows = await conn.fetch("SELECT name FROM harness_probe ORDER BY id")
            assert [row["name"] for row in rows] == ["Hội đồng nhân dân", "kỳ họp"]
            await conn.execute("DROP TABLE harness_probe")
            settings = {}
            for name in ("fsync", "synchronous_commit", "full_page_writes", "port", "max_connections"):
                settings[name] = await conn.fetchval(f"SHOW {name}")
            settings["database"] = await conn.fetchval("SELECT current_database()")
            settings["version"] = await conn.fetchval("SHOW server_version")
            settings["encoding"] = await conn.fetchval("SHOW server_encoding")
            return settings
        finally:
            await conn.close()

    settings = asyncio.run(scenario())
    assert postgres_server.port != 5432
    assert settings["port"] == str(postgres_server.port)
    assert settings["fsync"] == "off"
    assert settings["synchronous_commit"] == "off"
    assert settings["full_page_writes"] == "off"
    assert settings["max_connections"] == "200"
    assert settings["database"] == "kyhop"
    assert settings["encoding"] == "UTF8"
    assert settings["version"].startswith("15.")
    assert postgres_server.url == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres_server.port}/kyhop"


def test_postgres_url_works_with_sqlalchemy(postgres_server: PostgresServer) -> None:
    async def scenario() -> int:
        engine = create_async_engine(postgres_server.url)
        try:
            async with engine.connect() as conn:
                value: int = (await conn.execute(text("SELECT 40 + 2"))).scalar_one()
                return value
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 42


async def _select_one(dsn: str) -> int:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        value: int = await conn.fetchval("SELECT 1")
        return value
    finally:
        await conn.close()


def test_postgres_stop_makes_it_unreachable_and_start_brings_back_the_same_server(
    postgres_server: PostgresServer,
) -> None:
    port, data_dir = postgres_server.port, postgres_server.data_dir

    async def create_table() -> None:
        conn = await asyncpg.connect(postgres_server.dsn, timeout=5)
        try:
            await conn.execute("CREATE TABLE survives_restart (x int)")
            await conn.execute("INSERT INTO survives_restart VALUES (7)")
        finally:
            await conn.close()

    asyncio.run(create_table())
    with postgres_server.down():
        assert not postgres_server.running
        assert not port_accepts(port)
        with pytest.raises(OSError):  # ConnectionRefusedError: nothing listens on the port any more
            asyncio.run(_select_one(postgres_server.dsn))
    assert postgres_server.running
    assert (postgres_server.port, postgres_server.data_dir) == (port, data_dir)

    async def read_back() -> int:
        conn = await asyncpg.connect(postgres_server.dsn, timeout=5)
        try:
            value: int = await conn.fetchval("SELECT x FROM survives_restart")
            await conn.execute("DROP TABLE survives_restart")
            return value
        finally:
            await conn.close()

    assert asyncio.run(read_back()) == 7  # same data directory: committed rows survive a fast stop


def test_postgres_immediate_stop_is_a_crash_and_recovers(postgres_server: PostgresServer) -> None:
    postgres_server.stop(mode="immediate")
    try:
        assert not port_accepts(postgres_server.port)
    finally:
        postgres_server.start()
    assert asyncio.run(_select_one(postgres_server.dsn)) == 1


def test_postgres_create_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("harness_extra")
    assert url.endswith(f":{postgres_server.port}/harness_extra")
    assert asyncio.run(_select_one(postgres_server.dsn_for("harness_extra"))) == 1


# --- Redis --------------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    try:
        yield client
    finally:
        client.close()


def test_redis_is_a_real_server_of_our_own(redis_server: RedisServer, redis_client: redis.Redis) -> None:
    assert redis_server.port != 6379
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert redis_client.set("kyhop:probe", "phiên họp")
    assert redis_client.get("kyhop:probe") == "phiên họp".encode()
    info = redis_client.info("server")
    assert info["tcp_port"] == redis_server.port
    assert info["process_id"] == redis_server.pid
    assert redis_client.config_get("save") == {"save": ""}
    assert redis_client.config_get("appendonly") == {"appendonly": "no"}
    assert redis_client.config_get("bind") == {"bind": "127.0.0.1"}


def test_redis_restart_same_port_starts_empty(redis_server: RedisServer, redis_client: redis.Redis) -> None:
    port, old_pid = redis_server.port, redis_server.pid
    redis_client.set("kyhop:before-restart", "1")
    redis_server.restart()
    assert redis_server.port == port
    assert redis_server.pid != old_pid
    with redis.Redis.from_url(redis_server.url, socket_timeout=5) as fresh:
        assert fresh.ping()
        assert fresh.get("kyhop:before-restart") is None  # no persistence: a restart loses every key
    # A client made before the restart holds a dead pooled connection; redis-py 8 retries connection errors by
    # default (3 attempts with backoff), so its next command goes through on a new connection.
    assert redis_client.ping()


def test_redis_stop_and_start(redis_server: RedisServer) -> None:
    with redis_server.down():
        assert not port_accepts(redis_server.port)
        with redis.Redis.from_url(redis_server.url, socket_timeout=1) as client, pytest.raises(redis.ConnectionError):
            client.ping()
    with redis.Redis.from_url(redis_server.url, socket_timeout=5) as client:
        assert client.ping()


# --- the CI policy ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_unavailable_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert running_under_ci()
    with pytest.raises(pytest.fail.Exception, match="no PostgreSQL here"):
        unavailable("no PostgreSQL here")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_unavailable_skips_outside_ci(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not running_under_ci()
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL here"):
        unavailable("no PostgreSQL here")


# --- failures are loud and tidy -----------------------------------------------------------------------------------


def test_missing_postgres_binaries_are_a_clear_error(tmp_path: Path) -> None:
    server = PostgresServer(bindir=tmp_path)
    with pytest.raises(ServiceUnavailable, match="initdb, postgres, pg_isready, createdb"):
        server.start()
    assert not server.running


def test_missing_redis_binary_is_a_clear_error(tmp_path: Path) -> None:
    server = RedisServer(executable=str(tmp_path / "redis-server"))
    with pytest.raises(ServiceUnavailable, match="redis-server not found or not executable"):
        server.start()
    assert not server.running


@pytest.fixture
def occupied_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port: int = sock.getsockname()[1]
        yield port


def test_port_taken_before_bind_is_retried_once(monkeypatch: pytest.MonkeyPatch, occupied_port: int) -> None:
    # Simulate the free_port() race: the first port handed out is taken by the time the server binds it.
    ports = iter([occupied_port])
    real_free_port = services.free_port
    monkeypatch.setattr(services, "free_port", lambda: next(ports, None) or real_free_port())
    with RedisServer() as server:
        assert server.port != occupied_port
        assert server.running
        assert "Address already in use" in server.log_path.read_text()


def test_fixed_port_in_use_fails_with_the_server_log(occupied_port: int) -> None:
    server = PostgresServer(port=occupied_port)
    with pytest.raises(ServiceUnavailable, match="Address already in use") as caught:
        server.start()
    assert "exited with code" in str(caught.value)
    assert server.port == occupied_port  # a port the caller chose is never swapped for another
    assert server._dir is None  # a failed first start leaves no directory behind


# --- servers never outlive the test process -----------------------------------------------------------------------

CHILD = """
import json, sys, time
from tests.services import PostgresServer, RedisServer
pg, rd = PostgresServer().start(), RedisServer().start()
dirs = [str(pg.directory), str(rd.directory)]
print(json.dumps({"pids": [pg.pid, rd.pid], "ports": [pg.port, rd.port], "dirs": dirs}))
sys.stdout.flush()
if sys.argv[1] == "sleep":
    time.sleep(120)
"""  # exits without close(): "exit" leaves the clean-up to atexit; "sleep" is SIGKILLed, so only the kernel can


class ChildServers(TypedDict):
    pids: list[int]
    ports: list[int]
    dirs: list[str]


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie waiting for an init that may never reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in {"Z", "X"}


def _spawn_child(mode: str) -> tuple[subprocess.Popen[str], ChildServers]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert child.stdout is not None
    # The child writes one line; the pipe is closed right after, as an open one is a ResourceWarning (an error here).
    with child.stdout:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        line = child.stdout.readline() if ready else ""
    if not ready:
        child.kill()
        child.wait()
        pytest.fail("the child test process did not start its servers within 60 s")
    if not line:
        child.wait()
        pytest.fail(f"the child test process exited with {child.returncode} before starting its servers")
    info: ChildServers = json.loads(line)
    return child, info


def _wait_until_gone(info: ChildServers, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    pids, ports = info["pids"], info["ports"]
    while time.monotonic() < deadline:
        if all(_gone(pid) for pid in pids) and not any(port_accepts(port) for port in ports):
            return
        time.sleep(0.05)
    pytest.fail(f"servers outlived their test process: pids {pids}, ports {ports}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and parent-death signals are Linux-only")
def test_atexit_stops_servers_and_removes_directories() -> None:
    child, info = _spawn_child("exit")
    assert child.wait(timeout=60) == 0
    _wait_until_gone(info)
    assert not any(Path(d).exists() for d in info["dirs"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and parent-death signals are Linux-only")
def test_sigkilled_test_process_takes_its_servers_along() -> None:
    child, info = _spawn_child("sleep")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    _wait_until_gone(info)
    # The directories stay (nothing ran in the killed process); the next run sweeps them by their dead owner pid.
    dirs = [Path(d) for d in info["dirs"]]
    assert all(d.exists() for d in dirs)
    services._sweep_stale_dirs()
    assert not any(d.exists() for d in dirs)
