"""Real PostgreSQL 15 and Redis 7 servers for the test suite, on loopback, on free ports.

Each server is a child process of the test run with its own throwaway directory under /tmp. Nothing here touches the
machine's own PostgreSQL on 5432 or Redis on 6379: the servers bind 127.0.0.1 on a port the kernel hands out.

Use the session-scoped fixtures ``postgres_server`` and ``redis_server`` (load this module with
``pytest_plugins = ["tests.services"]``). A test that stops a shared server must bring it back before it ends;
``with server.down(): ...`` does that even when the test fails.

Measured on the 2-core Debian 12 machines (PostgreSQL 15.20, Redis 7.0.15), as root (servers run as `postgres`):
- PostgreSQL first start 1.3 s on an idle machine, 2.2-2.5 s at load average 2.5 (initdb is ~80 % of it, then
  the postmaster is ready ~65 ms after spawn and ``createdb`` takes ~0.1-0.2 s); stop 20-60 ms (fast) or ~10 ms
  (immediate); start again 0.11-0.16 s, crash recovery after an immediate stop included.
- Redis ready 15-40 ms after spawn; stop ~115 ms (SIGTERM).

Servers must not outlive the test run, however it ends:
- normal exit, failure, Ctrl-C: the fixtures' teardown, and an ``atexit`` hook for anything left over;
- SIGKILL of the test process (``atexit`` cannot run): the servers are spawned with the Linux parent-death signal,
  so the kernel stops them; their directories are swept by the next run (the owner pid is in the directory name).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import pytest

__all__ = [
    "PostgresServer",
    "RedisServer",
    "ServiceUnavailable",
    "free_port",
    "postgres_server",
    "redis_server",
    "running_under_ci",
    "unavailable",
]

START_TIMEOUT = 30.0  # seconds per launch or tool; a healthy launch takes ~0.1 s, initdb ~1-2.5 s
STOP_TIMEOUT = 15.0  # seconds before a polite stop turns into SIGKILL
POLL_INTERVAL = 0.01  # seconds between readiness probes: the postmaster is ready ~65 ms after spawn
LOG_TAIL_LINES = 40

DIR_PREFIX = "kyhop-test-"  # + "<kind>-<owner pid>-<random>", see _sweep_stale_dirs


class ServiceUnavailable(RuntimeError):
    """A test server could not be started (missing binaries, no unprivileged user, start-up failure, timeout)."""


# --- CI policy ---------------------------------------------------------------------------------------------------


def running_under_ci() -> bool:
    """True when the environment says this is CI: there, a missing server is a failure, never a skip.

    GitHub Actions, GitLab and most others set ``CI=true``; "1" and "yes" are accepted too so that a hand-set
    ``CI=1`` cannot quietly turn failures into skips.
    """
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def unavailable(reason: str) -> None:
    """Fail (under CI) or skip (elsewhere) the current test because a server it needs is missing.

    A developer without PostgreSQL still gets the rest of the suite; CI must never pass by skipping.
    """
    if running_under_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure rather than a skip)", pytrace=False)
    pytest.skip(reason)


# --- ports, processes, directories --------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Another process may take it before the server binds (a race of a few milliseconds); the servers retry once on
    "address in use" with a fresh port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


_SETPRIV = shutil.which("setpriv")  # util-linux >= 2.33 has --pdeathsig; Debian 12 ships 2.38


def _with_parent_death_signal(args: list[str], sig: signal.Signals) -> list[str]:
    """``args`` prefixed so that the kernel sends ``sig`` to the server when the test process dies (Linux).

    util-linux ``setpriv --pdeathsig`` sets it and execs the server, so no Python runs between fork and exec (a
    ``preexec_fn`` could deadlock when other threads exist). It runs after Popen's switch of user, which matters
    because a change of user clears the setting. The kernel ties it to the *thread* that forked, not the process:
    a server started from a worker thread (say ``asyncio.to_thread(server.start)``) would die when that thread
    ends. So it is used only from the main thread; servers (re)started elsewhere rely on teardown and ``atexit``.
    """
    if _SETPRIV is None or threading.current_thread() is not threading.main_thread():
        return args
    return [_SETPRIV, f"--pdeathsig={sig.name.removeprefix('SIG')}", "--", *args]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale_dirs() -> None:
    """Remove directories left by a test run that was SIGKILLed (its servers died with it, see module docstring)."""
    pattern = re.compile(rf"^{re.escape(DIR_PREFIX)}[a-z]+-(\d+)-")
    with contextlib.suppress(OSError):
        for entry in os.scandir(_temp_root()):
            match = pattern.match(entry.name)
            if match and entry.is_dir(follow_symlinks=False) and not _pid_alive(int(match.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)


def _temp_root() -> str:
    # As root the server runs as `postgres`, which must traverse every parent of its directory; a TMPDIR under
    # /root (mode 0700) would not do, /tmp (1777) does. Unix socket paths are capped at 107 bytes: keep it short.
    return "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else tempfile.gettempdir()


def _make_temp_dir(kind: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{kind}-{os.getpid()}-", dir=_temp_root()))


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment for server and client tools: no PG* variables, so PGHOST/PGPORT/PGUSER set for the real
    server cannot redirect a probe or ``createdb`` to it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(extra)
    return env


def _stop_process(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


_live: set[_Server] = set()
_live_lock = threading.Lock()


@atexit.register
def _close_all() -> None:
    """Last resort at interpreter exit: stop whatever a fixture or a test did not close."""
    with _live_lock:
        servers = list(_live)
    for server in servers:
        with contextlib.suppress(Exception):
            server.close()


# --- servers ------------------------------------------------------------------------------------------------------


class _Server:
    """What both servers share: a child process, a temp dir, a log, a port kept across stop/start."""

    kind = "server"
    ADDRESS_IN_USE = "Address already in use"

    def __init__(self, port: int | None = None) -> None:
        self._fixed_port = port is not None
        self.port: int = port if port is not None else free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self.startup_seconds: float | None = None  # of the last successful start(), for reports

    # subclasses fill these in
    def _prepare(self) -> None:
        raise NotImplementedError

    def _spawn(self) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def _after_first_start(self) -> None:
        return None

    def _stop_signal(self) -> signal.Signals:
        raise NotImplementedError

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.kind}.log"

    @property
    def directory(self) -> Path:
        if self._dir is None:
            raise ServiceUnavailable(f"{self.kind} has no directory: start() it first")
        return self._dir

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def start(self) -> Self:
        """Start the server (first time: create its directory) and wait until it serves. Idempotent."""
        if self.running:
            return self
        began = time.monotonic()
        first = self._dir is None
        if first:
            _sweep_stale_dirs()
            self._dir = _make_temp_dir(self.kind)
            with _live_lock:
                _live.add(self)
            try:
                self._prepare()
            except BaseException:
                self.close()
                raise
        try:
            try:
                self._launch()
            except ServiceUnavailable as exc:
                # The port was free when picked but someone took it before the server bound it: pick again, once.
                # A fixed port (given by the caller, or kept for a restart) is never changed.
                if self._fixed_port or not first or self.ADDRESS_IN_USE not in str(exc):
                    raise
                self.port = free_port()
                self._launch()
            if first:
                self._after_first_start()
        except BaseException:
            if first:  # nothing useful to keep; a restart failure keeps the directory for the next start()
                self.close()
            raise
        # Later starts are restarts: the clients already know this port, so it must stay the same.
        self._fixed_port = True
        self.startup_seconds = time.monotonic() - began
        return self

    def _launch(self) -> None:
        self._proc = self._spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise ServiceUnavailable(
                    f"{self.kind} exited with code {code} while starting on 127.0.0.1:{self.port}; "
                    f"log {self.log_path}:\n{_log_tail(self.log_path)}"
                )
            if self._ready():
                return
            if time.monotonic() > deadline:
                self._stop_now()
                raise ServiceUnavailable(
                    f"{self.kind} did not accept connections on 127.0.0.1:{self.port} within {START_TIMEOUT:.0f} s; "
                    f"log {self.log_path}:\n{_log_tail(self.log_path)}"
                )
            time.sleep(POLL_INTERVAL)

    def _stop_now(self, sig: signal.Signals | None = None) -> None:
        if self._proc is not None:
            _stop_process(self._proc, sig or self._stop_signal())
            self._proc = None

    def stop(self) -> None:
        """Stop the server; its directory and port stay, so start() brings back the same server."""
        self._stop_now()

    def restart(self) -> Self:
        """Stop, then start on the same port: what clients see when the server is restarted mid-session."""
        self.stop()
        return self.start()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """Stopped inside the block, running again after it, even if the block raises."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def close(self) -> None:
        """Stop the server and delete its directory. The object cannot be started again."""
        try:
            self._stop_now()
        finally:
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
            with _live_lock:
                _live.discard(self)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} 127.0.0.1:{self.port} {state} dir={self._dir}>"


_PG_TOOLS = ("initdb", "postgres", "pg_isready", "createdb")


def _postgres_bindir(preferred: Path | None = None) -> Path:
    """The directory holding initdb/postgres: the one given, else ``pg_config --bindir``, else the newest
    /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    if preferred is not None:
        candidates.append(preferred)
    else:
        pg_config = shutil.which("pg_config")
        if pg_config:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
                candidates.append(Path(out.stdout.strip()))
        versions = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")]
        candidates += sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in _PG_TOOLS):
            return bindir
    looked = ", ".join(map(str, candidates)) or "nothing: no pg_config on PATH, no /usr/lib/postgresql/*/bin"
    raise ServiceUnavailable(
        f"PostgreSQL server binaries ({', '.join(_PG_TOOLS)}) not found: install the postgresql package "
        f"(looked in {looked})"
    )


class PostgresServer(_Server):
    """A throwaway PostgreSQL cluster with a ``kyhop`` database, trust auth for user ``postgres``.

    Durability is switched off (fsync, synchronous_commit, full_page_writes): a test cluster is deleted afterwards,
    and fsync on a small VM costs milliseconds per commit.
    """

    kind = "postgres"
    database = "kyhop"
    user = "postgres"
    OS_USER = "postgres"  # initdb and postgres refuse to run as root; as root we run them as this user

    def __init__(self, port: int | None = None, *, bindir: Path | str | None = None) -> None:
        super().__init__(port)
        self._wanted_bindir = Path(bindir) if bindir is not None else None
        self._bindir: Path | None = None
        self._run_as: pwd.struct_passwd | None = None

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = _postgres_bindir(self._wanted_bindir)
        return self._bindir

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory

    def url_for(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL (asyncpg driver) of the ``kyhop`` database."""
        return self.url_for(self.database)

    @property
    def dsn(self) -> str:
        """libpq-style DSN of the ``kyhop`` database, for ``asyncpg.connect``."""
        return self.dsn_for(self.database)

    def _client_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]

    def _user_kwargs(self) -> dict[str, object]:
        if self._run_as is None:
            return {}
        # extra_groups=[]: drop root's supplementary groups too, not only uid/gid.
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}

    def _run_tool(self, args: list[str], what: str) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"\n$ {' '.join(args)}\n".encode())
            log.flush()
            try:
                proc = subprocess.run(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                    env=_clean_env(HOME=str(self.directory), LC_ALL="C"),
                    timeout=START_TIMEOUT,
                    check=False,
                    **self._user_kwargs(),  # type: ignore[call-overload]
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise ServiceUnavailable(f"{what} could not run: {exc}") from exc
        if proc.returncode != 0:
            raise ServiceUnavailable(
                f"{what} failed with code {proc.returncode}; log {self.log_path}:\n{_log_tail(self.log_path)}"
            )

    def _prepare(self) -> None:
        bindir = self.bindir
        if os.geteuid() == 0:
            try:
                self._run_as = pwd.getpwnam(self.OS_USER)
            except KeyError as exc:
                raise ServiceUnavailable(
                    f"running as root, and PostgreSQL refuses root: no '{self.OS_USER}' user to run it as"
                ) from exc
            os.chown(self.directory, self._run_as.pw_uid, self._run_as.pw_gid)
        self.log_path.touch()
        base = [str(bindir / "initdb"), "-D", str(self.data_dir), "-A", "trust", "--no-sync", "-U", self.user]
        try:
            self._run_tool([*base, "-E", "UTF8", "--locale=C.UTF-8"], "initdb")
        except ServiceUnavailable:
            # C.UTF-8 is built into glibc >= 2.35 (Debian 12 has it); older systems may lack it, and the suite
            # only needs UTF8 encoding, which the plain C locale allows.
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._run_tool([*base, "-E", "UTF8", "--locale=C"], "initdb")

    def _spawn(self) -> subprocess.Popen[bytes]:
        args = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        with self.log_path.open("ab") as log:
            try:
                proc: subprocess.Popen[bytes] = subprocess.Popen(
                    _with_parent_death_signal(args, signal.SIGQUIT),  # SIGQUIT = immediate shutdown
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                    env=_clean_env(HOME=str(self.directory), LC_ALL="C"),
                    # Own session: a Ctrl-C aimed at pytest must not stop the server under a running teardown.
                    start_new_session=True,
                    **self._user_kwargs(),  # type: ignore[call-overload]
                )
            except OSError as exc:
                raise ServiceUnavailable(f"postgres could not be spawned: {exc}") from exc
        return proc

    def _ready(self) -> bool:
        # What `pg_ctl start -w` checks: postmaster.pid names our process and its status line says "ready", which
        # the postmaster writes only after its sockets are open and startup (or crash recovery) is done. A bare TCP
        # connect would succeed earlier, while the server still answers "the database system is starting up", and
        # could reach another server that won the port race. Reading a file costs nothing per 10 ms poll.
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        if len(lines) < 8 or self._proc is None or lines[0].strip() != str(self._proc.pid):
            return False
        if lines[7].strip() != "ready":
            return False
        # Once, from the client side, the way the application will come in: TCP on 127.0.0.1 as user postgres
        # (-U/-d so that the probe does not log "role root does not exist").
        probe = subprocess.run(
            [str(self.bindir / "pg_isready"), "-q", *self._client_args(), "-d", "postgres", "-t", "5"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_clean_env(),
            timeout=START_TIMEOUT,
            check=False,
        )
        return probe.returncode == 0

    def _after_first_start(self) -> None:
        self.create_database(self.database)

    def create_database(self, name: str) -> str:
        """Create another database in this cluster (e.g. one per test module); returns its SQLAlchemy URL."""
        self._run_tool(
            [str(self.bindir / "createdb"), *self._client_args(), name],
            f"createdb {name}",
        )
        return self.url_for(name)

    def _stop_signal(self) -> signal.Signals:
        return signal.SIGINT  # "fast" shutdown: end sessions, checkpoint, exit (~20 ms with fsync off)

    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """Stop the postmaster; ``immediate`` is a crash stop (crash recovery on the next start).

        Equivalent to ``pg_ctl stop -m fast|immediate``, which sends the same signals, but we signal our own child
        so that we also reap it.
        """
        self._stop_now(signal.SIGINT if mode == "fast" else signal.SIGQUIT)


class RedisServer(_Server):
    """A Redis server with no persistence (``--save '' --appendonly no``): a restart starts empty."""

    kind = "redis"

    def __init__(self, port: int | None = None, *, executable: str | None = None) -> None:
        super().__init__(port)
        self._executable = executable

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _prepare(self) -> None:
        wanted = self._executable or "redis-server"
        # Checked here: once wrapped in setpriv, a missing binary would only show as "exited with code 127".
        self._executable = shutil.which(wanted)
        if self._executable is None:
            raise ServiceUnavailable(f"{wanted} not found or not executable: install the redis-server package")
        self.log_path.touch()

    def _spawn(self) -> subprocess.Popen[bytes]:
        assert self._executable is not None
        args = [self._executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no"]
        with self.log_path.open("ab") as log:
            try:
                return subprocess.Popen(
                    _with_parent_death_signal(args, signal.SIGTERM),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ServiceUnavailable(f"redis-server could not be spawned: {exc}") from exc

    def _ready(self) -> bool:
        # INFO rather than PING: its process_id proves the answer comes from our child, not from another server
        # that took the port in the free_port() race while ours was failing to bind.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"INFO server\r\n")
                reply = b""
                while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        return False
                    reply += chunk
        except OSError:
            return False
        match = re.search(rb"^process_id:(\d+)\r$", reply, re.MULTILINE)
        return match is not None and self._proc is not None and int(match.group(1)) == self._proc.pid

    def _stop_signal(self) -> signal.Signals:
        return signal.SIGTERM  # Redis exits at once on SIGTERM when it has nothing to save


# --- fixtures -----------------------------------------------------------------------------------------------------


def _started(server: _Server, what: str) -> None:
    """Start a fixture's server, or skip/fail (see ``unavailable``) with the reason and the server log tail."""
    try:
        server.start()
    except ServiceUnavailable as exc:
        reason = f"{what} test server unavailable: {exc}"
    else:
        return
    server.close()
    unavailable(reason)  # outside the except block, so the report is the reason, not a chained traceback


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL 15 for the whole run; ``.url`` for SQLAlchemy, ``.dsn`` for asyncpg."""
    server = PostgresServer()
    _started(server, "PostgreSQL")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database of each backend: a SQLite file, or a new database on the run's
    PostgreSQL (the tests of the engine and of each stream kind run on both)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kyhop.db'}"
    pg: PostgresServer = request.getfixturevalue("postgres_server")
    return pg.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real Redis for the whole run; ``.url`` for redis-py."""
    server = RedisServer()
    _started(server, "Redis")
    try:
        yield server
    finally:
        server.close()
