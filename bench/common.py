"""What every scenario shares: the servers under test, CPU pinning, statistics, machine facts, JSON output.

Process layout on a 2-core machine: the server under test (kyhop under uvicorn, or the baseline) runs in its own
process pinned to the first core; this process — the load generator — pins itself to the second. PostgreSQL, when a
scenario needs it, shares the generator's core. With one core nothing is pinned (and the JSON says so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


# --- CPUs ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cores:
    server: set[int] | None  # None: not pinned
    generator: set[int] | None

    @property
    def pinned(self) -> bool:
        return self.server is not None


def plan_cores(pin: bool = True) -> Cores:
    """The first available core for the server, the others for the generator (and PostgreSQL)."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return Cores(None, None)
    return Cores({cpus[0]}, set(cpus[1:]))


@contextlib.contextmanager
def spawning_on(cores: set[int] | None) -> Iterator[None]:
    """Children spawned inside the block inherit `cores` (affinity is inherited at fork)."""
    if cores is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def pin_self(cores: set[int] | None) -> None:
    if cores is not None:
        os.sched_setaffinity(0, cores)


def pin_tree(pid: int, cores: set[int] | None) -> None:
    """Pin every thread of a running process (threads started later inherit from their creator)."""
    if cores is None:
        return
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(tid), cores)


# --- measuring -------------------------------------------------------------------------------------------------------
def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) — with 100 samples p99 is the 99th smallest, not an interpolation."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


def summary(values_s: Sequence[float], scale: float = 1000.0, digits: int = 2) -> dict[str, float | int]:
    """Median, p90, p99, min, max (default: seconds in, milliseconds out)."""
    v = [x * scale for x in values_s]
    if not v:
        return {"n": 0}
    return {
        "n": len(v),
        "median": round(statistics.median(v), digits),
        "p90": round(percentile(v, 90), digits),
        "p99": round(percentile(v, 99), digits),
        "min": round(min(v), digits),
        "max": round(max(v), digits),
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine(cores: Cores | None = None) -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError):
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "open_files_limit": _nofile(),
        "versions": {d: _version(d) for d in ("litestar", "uvicorn", "websockets", "picows", "msgspec", "uvloop")},
        "loadavg": loadavg(),
    }
    if cores is not None:
        info["pinning"] = (
            {"server": sorted(cores.server), "generator": sorted(cores.generator or ())}
            if cores.server is not None
            else "none"
        )
    return info


def _nofile() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_nofile() -> None:
    """Soft limit up to the hard limit (20 000 on these machines)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def emit(result: dict[str, Any], write: bool = True) -> dict[str, Any]:
    """One JSON object per scenario: a line on stdout and bench/results/<name>.json."""
    text = json.dumps(result, ensure_ascii=False, sort_keys=False)
    print(text, flush=True)
    if write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{result['name']}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return result


def conclude(result: dict[str, Any], meets: dict[str, bool], write: bool = True) -> dict[str, Any]:
    """Add the verdict against the targets and the load after the run, then emit (every scenario ends so)."""
    result["meets_target"] = meets
    result["meets_targets"] = all(meets.values())
    result["loadavg_after"] = loadavg()
    return emit(result, write)


def parser(doc: str | None, profile_help: str = "py-spy the server during the scenario") -> argparse.ArgumentParser:
    """A scenario's command line: its docstring as help, and the options every scenario takes."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-pin", action="store_true", help="do not pin the server and the generator to cores")
    ap.add_argument("--profile", action="store_true", help=profile_help)
    return ap


def log(*parts: object) -> None:
    """Progress goes to stderr; stdout carries only the JSON."""
    print(*parts, file=sys.stderr, flush=True)


# --- HTTP ------------------------------------------------------------------------------------------------------------
class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body


def http_json(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 60) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        raise HttpError(e.code, json.loads(raw) if raw else {}) from e


# --- servers under test ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def kyhop_server(
    cores: Cores, database_url: str | None = None, extra_env: dict[str, str] | None = None, existing: Any = None
) -> Iterator[Any]:
    """Real uvicorn running server.app:app_factory (tests.e2e.ServerProcess: demo council seeded), on its core.

    `existing`: an already running ServerProcess to use as is (the smoke test shares one between scenarios)."""
    if existing is not None:
        yield existing
        return
    sys.path.insert(0, str(ROOT))
    from tests.e2e import ServerProcess

    srv = ServerProcess(database_url, extra_env=extra_env) if extra_env else ServerProcess(database_url)
    with spawning_on(cores.server):
        srv.start(timeout=120)
    try:
        assert srv.proc is not None
        pin_tree(srv.proc.pid, cores.server)
        yield srv
    finally:
        srv.stop()
        if srv._tmp is not None:
            srv._tmp.cleanup()


class BaselineProcess:
    """bench/baseline_server.py in its own process."""

    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port, self.proc = port, proc

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextlib.contextmanager
def baseline_server(cores: Cores) -> Iterator[BaselineProcess]:
    from tests.e2e import free_port

    port = free_port()
    with spawning_on(cores.server):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.baseline_server", "--port", str(port)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if b"READY" not in line:
            raise RuntimeError(f"baseline server did not start: {line!r}")
        yield BaselineProcess(port, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def now() -> float:
    return time.perf_counter()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_async(coro: Any) -> Any:
    """uvloop when installed (uvicorn runs the server on it too), else asyncio. SIGTERM acts like Ctrl-C, so the
    servers this process started are stopped on the way out."""
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


# --- profiling -------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def profiled(pid: int, name: str, enabled: bool) -> Iterator[dict[str, Any]]:
    """py-spy (sampling, non-blocking) on the server during the block; the dict gets the hottest functions and the
    path of the collapsed stacks (bench/results/<name>.pyspy.txt, for flamegraph.pl or speedscope)."""
    report: dict[str, Any] = {}
    if not enabled:
        yield report
        return
    import shutil
    import signal

    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.pyspy.txt"
    proc = subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--format", "raw", "--output", str(out), "--rate", "200", "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # attached
    try:
        yield report
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if out.exists():
            report.update(top_frames(out))
            report["stacks"] = str(out.relative_to(ROOT))
        else:
            report["error"] = err.decode(errors="replace")[-500:]


def top_frames(path: Path, k: int = 25) -> dict[str, Any]:
    """From py-spy's collapsed stacks: the functions with the most samples on the stack (inclusive) and on top
    (self), as shares of all samples."""
    incl: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [
            f.split(" (", 1)[0] + " (" + f.split(" (", 1)[1].rsplit(":", 1)[0] + ")" if " (" in f else f
            for f in stack.split(";")
        ]
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n

    def top(d: dict[str, int]) -> list[list[Any]]:
        return [[f, round(100 * c / total, 1)] for f, c in sorted(d.items(), key=lambda x: -x[1])[:k]]

    return {"samples": total, "inclusive_pct": top(incl), "self_pct": top(own)}


async def gather_limited(coros: Sequence[Any], limit: int) -> list[Any]:
    """asyncio.gather with at most `limit` awaiting at once (connection storms the server's backlog can take)."""
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))
