"""The delegate's tablet (issue 11): npm dependencies served, the in-page reader, follow-me, the vote banner and
a ballot that survives a dropped socket — in Debian's chromium through Playwright, each person in their own
browser context, with axe-core (npm) on every tablet state."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        yield srv


def test_pdfjs_and_idb_are_served_from_the_locked_npm_packages(server: ServerProcess) -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for pkg, path in (
        ("pdfjs-dist", "build/pdf.min.mjs"),
        ("pdfjs-dist", "build/pdf.worker.min.mjs"),
        ("idb", "build/index.js"),
    ):
        installed = json.loads((NODE_MODULES / pkg / "package.json").read_text(encoding="utf-8"))["version"]
        assert installed == lock[f"node_modules/{pkg}"]["version"], pkg  # `make` installs what the lockfile says
        status, ctype, body = _get(f"{server.http}/vendor/{pkg}/{path}")
        assert status == 200 and "javascript" in ctype, (pkg, path, status)
        assert body == (NODE_MODULES / pkg / path).read_bytes()


def test_nothing_else_under_node_modules_is_served(server: ServerProcess) -> None:
    for path in (
        "/vendor/axe-core/axe.min.js",
        "/vendor/pdfjs-dist/../../pyproject.toml",
        "/vendor/.package-lock.json",
    ):
        status, ctype, body = _get(f"{server.http}{path}")
        assert status == 404 and ctype.startswith("application/json"), path
        assert json.loads(body)["message_vi"]
