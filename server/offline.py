"""The tablet's service worker (clients/web/sw.js), served with the build it belongs to.

The worker caches the tablet's app shell under a cache named after a hash of every file the pages are made of
(clients/web and the locked npm packages served under /vendor). Any change to those files changes the hash, so
the worker script itself changes by that one line; the browser, which compares the script byte for byte on each
navigation, installs the new worker, which fills a new cache and deletes the old one. Hashing ~40 files of
~400 KB takes ~2 ms; the result is kept until a file's size or modification time changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from litestar import Response, get

WEB_DIR = Path(__file__).resolve().parent.parent / "clients" / "web"
LOCKFILE = WEB_DIR.parent.parent / "package-lock.json"
# What the tablet page needs besides clients/web itself: pdf.js and its worker (the reader), idb (the store).
VENDOR_SHELL = (
    "/vendor/pdfjs-dist/build/pdf.min.mjs",
    "/vendor/pdfjs-dist/build/pdf.worker.min.mjs",
    "/vendor/idb/build/index.js",
)
# The pages of clients/web the worker keeps: only the tablet's (the other pages are for staff on the LAN).
SHELL_PAGES = ("tablet.html", "favicon.svg")
SHELL_DIRS = ("js", "css")

_cache: dict[tuple[tuple[str, int, int], ...], str] = {}


def shell_files(web_dir: Path = WEB_DIR) -> list[Path]:
    files = [web_dir / p for p in SHELL_PAGES if (web_dir / p).is_file()]
    for d in SHELL_DIRS:
        files += sorted(p for p in (web_dir / d).rglob("*") if p.is_file())
    return files


def build_hash(web_dir: Path = WEB_DIR, lockfile: Path = LOCKFILE) -> str:
    """16 hex digits of SHA-256 over every file under web_dir (path and bytes) and the npm lockfile."""
    files = sorted(p for p in web_dir.rglob("*") if p.is_file())
    if lockfile.is_file():
        files.append(lockfile)
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if stamp in _cache:
        return _cache[stamp]
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(web_dir.parent.parent) if p != lockfile else "package-lock.json").encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    _cache.clear()
    _cache[stamp] = h.hexdigest()[:16]
    return _cache[stamp]


def worker_script(web_dir: Path = WEB_DIR, lockfile: Path = LOCKFILE) -> str:
    shell = ["/" + p.relative_to(web_dir).as_posix() for p in shell_files(web_dir)] + list(VENDOR_SHELL)
    head = f"const BUILD = {json.dumps(build_hash(web_dir, lockfile))};\nconst SHELL = {json.dumps(shell)};\n"
    return head + (web_dir / "sw.js").read_text(encoding="utf-8")


@get("/sw.js", include_in_schema=False, sync_to_thread=False)
def service_worker() -> Response[str]:
    """The service worker with its build hash and shell list; never cached by HTTP (the browser checks it)."""
    return Response(
        worker_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
