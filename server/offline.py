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
import re
from pathlib import Path

from litestar import Response, get

WEB_DIR = Path(__file__).resolve().parent.parent / "clients" / "web"
LOCKFILE = WEB_DIR.parent.parent / "package-lock.json"
NODE_MODULES = WEB_DIR.parent.parent / "node_modules"
# What the tablet page needs besides clients/web itself: pdf.js and its worker (the reader), idb (the store).
VENDOR_SHELL = (
    "/vendor/pdfjs-dist/build/pdf.min.mjs",
    "/vendor/pdfjs-dist/build/pdf.worker.min.mjs",
    "/vendor/idb/build/index.js",
)
# The pages of clients/web the worker keeps: only the tablet's (the other pages are for staff on the LAN).
SHELL_PAGES = ("tablet.html", "favicon.svg")
SHELL_DIRS = ("js", "css")

# The ES modules the pages import by bare name through tablet.html's import map (the ballot crypto's @noble
# packages: ~40 files, ~400 KB). They are found by following the static imports from clients/web/js, so a module
# the crypto starts to use is cached too: a tablet that reloads with no network must still encrypt its ballot
# and its committee member still decrypt.
MAPPED = ("@noble/",)
_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']""")

_cache: dict[tuple[tuple[str, int, int], ...], str] = {}


def shell_files(web_dir: Path = WEB_DIR) -> list[Path]:
    files = [web_dir / p for p in SHELL_PAGES if (web_dir / p).is_file()]
    for d in SHELL_DIRS:
        files += sorted(p for p in (web_dir / d).rglob("*") if p.is_file())
    return files


def mapped_modules(web_dir: Path = WEB_DIR, node_modules: Path = NODE_MODULES) -> list[str]:
    """The /vendor/ paths of every module of a MAPPED package that clients/web/js reaches by static imports."""
    todo = [(p, True) for p in sorted((web_dir / "js").rglob("*.js"))]
    seen: set[Path] = set()
    found: set[str] = set()
    while todo:
        path, ours = todo.pop()
        for spec in _IMPORT.findall(path.read_text(encoding="utf-8")):
            if spec.startswith(MAPPED):
                target = node_modules / spec
            elif spec.startswith(".") and not ours:
                target = (path.parent / spec).resolve()
            else:
                continue  # our own relative imports are under js/ already; a URL or a Node builtin is not ours
            if target in seen or not target.is_file():
                continue
            seen.add(target)
            found.add("/vendor/" + target.relative_to(node_modules.resolve()).as_posix())
            todo.append((target, False))
    return sorted(found)


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
    shell += mapped_modules(web_dir)
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
