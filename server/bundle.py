"""The published hash of the JavaScript the server hands to browsers (issue 13 §2: the trust placed in it).

A tablet encrypts secret ballots and a committee member's device holds a key share with code this server serves;
a server that served other code could read them. Nobody can stop a server from lying to one browser, but it must
not be able to do so quietly to everyone: the server publishes one digest of every file under its pages
(`clients/web`) and its vendored npm packages (`/vendor/…`), `GET /api/client-bundle`, and anyone can

- recompute the digest from a release's source tree (`kyhop bundle-hash`, after `npm ci`), and
- check that a running server serves exactly those bytes (`kyhop bundle-hash --check URL` downloads each listed
  file and compares),

so the digest a council announces with a release (or an observer records) pins what every tablet runs. The
digest is `sha256sum`'s format: SHA-256 of the lines "<sha256 hex>  <URL path>\\n" sorted by path, so it can be
reproduced with standard tools. The vendored packages are also listed with the lockfile's npm `integrity` (the
registry's hash of the published tarball), tying them to what npm published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Controller, Request, get

from server.offline import worker_script
from server.openapi import errors


class BundleFile(msgspec.Struct, frozen=True, kw_only=True):
    path: str  # the URL path the browser fetches it from
    sha256: str
    size: int


class VendorPackage(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: str
    integrity: str  # from package-lock.json: the npm registry's hash of the published tarball


class ClientBundle(msgspec.Struct, frozen=True, kw_only=True):
    digest: str  # SHA-256 of the sha256sum-style lines of `files`, sorted by path
    files: list[BundleFile]
    packages: list[VendorPackage]


def _files(root: Path, prefix: str) -> Iterable[BundleFile]:
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            rel = p.relative_to(root).as_posix()
            yield BundleFile(path=f"{prefix}/{rel}", sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def digest_of(files: Sequence[BundleFile]) -> str:
    lines = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    return hashlib.sha256(lines.encode()).hexdigest()


def compute(web_dir: Path, node_modules: Path, vendor: Sequence[str], lockfile: Path) -> ClientBundle:
    """Every file the server serves to browsers: the pages at "/", each vendored package at /vendor/<name>/.
    ~500 files, 41 MB (pdf.js is most of it): ~0.2 s, done once per process in a worker thread."""
    files = list(_files(web_dir, ""))
    if (web_dir / "sw.js").is_file():
        # The service worker is served with its build hash and shell list in front (server/offline.py): what a
        # browser gets, not the file.
        served = worker_script(web_dir, lockfile).encode()
        sw = BundleFile(path="/sw.js", sha256=hashlib.sha256(served).hexdigest(), size=len(served))
        files = [sw if f.path == "/sw.js" else f for f in files]
    for pkg in vendor:
        files.extend(_files(node_modules / pkg, f"/vendor/{pkg}"))
    files.sort(key=lambda f: f.path)
    lock = json.loads(lockfile.read_text(encoding="utf-8")) if lockfile.exists() else {"packages": {}}
    packages = []
    for pkg in vendor:
        entry = lock["packages"].get(f"node_modules/{pkg}", {})
        packages.append(VendorPackage(name=pkg, version=entry.get("version", ""), integrity=entry.get("integrity", "")))
    return ClientBundle(digest=digest_of(files), files=files, packages=packages)


class ClientBundleController(Controller):
    path = "/api/client-bundle"
    tags = ["server"]

    @get(
        "",
        summary="The hash of every file the pages run (public)",
        description="SHA-256 of each file under `/` and `/vendor/`, and one digest over them (server/bundle.py): "
        "compare with `kyhop bundle-hash` on the release's source, or let `kyhop bundle-hash --check URL` "
        "download and compare every file.",
        responses=errors(503),
    )
    async def client_bundle(self, request: Request[Any, Any, Any]) -> ClientBundle:
        state = request.app.state
        bundle: ClientBundle | None = state.get("client_bundle")
        if bundle is None:
            web_dir, node_modules, vendor, lockfile = state["client_bundle_sources"]
            bundle = await anyio.to_thread.run_sync(compute, web_dir, node_modules, vendor, lockfile)
            state["client_bundle"] = bundle
        return bundle
