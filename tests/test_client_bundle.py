"""The published hash of the code the pages run (server/bundle.py, issue 13 §2): a real server's
`GET /api/client-bundle` equals what `kyhop bundle-hash` computes from this checkout, `--check` downloads every
listed file and finds them equal, and a source tree that differs by one byte is named file by file."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server import app as server_app
from server import cli
from server.bundle import digest_of
from tests.e2e import ServerProcess, http


@pytest.fixture(scope="module")
def srv() -> ServerProcess:
    with ServerProcess() as s:
        yield s


def test_the_server_publishes_the_digest_of_what_it_serves(srv: ServerProcess) -> None:
    status, bundle = http("GET", f"{srv.http}/api/client-bundle")
    assert status == 200
    paths = {f["path"] for f in bundle["files"]}
    assert {"/tablet.html", "/js/live.js", "/js/tablet.js"} <= paths
    assert any(p.startswith("/vendor/pdfjs-dist/") for p in paths)
    assert not any("node_modules" in p or p.startswith("/vendor/axe-core") for p in paths)  # only what is served
    # The digest is sha256sum's lines, sorted by path: reproducible with standard tools.
    lines = "".join(f"{f['sha256']}  {f['path']}\n" for f in sorted(bundle["files"], key=lambda f: f["path"]))
    assert bundle["digest"] == hashlib.sha256(lines.encode()).hexdigest()
    tablet = (server_app.WEB_DIR / "js" / "tablet.js").read_bytes()
    assert (
        next(f for f in bundle["files"] if f["path"] == "/js/tablet.js")["sha256"] == hashlib.sha256(tablet).hexdigest()
    )
    assert {p["name"] for p in bundle["packages"]} == set(server_app.VENDOR)
    assert all(p["integrity"].startswith("sha512-") and p["version"] for p in bundle["packages"])
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "bundle-hash"], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == bundle["digest"]
    checked = subprocess.run(
        [sys.executable, "-m", "server.cli", "bundle-hash", "--check", srv.http],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "KHỚP / MATCHES" in checked.stdout


def test_a_source_tree_that_differs_is_named_file_by_file(
    srv: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    web = tmp_path / "web"
    shutil.copytree(server_app.WEB_DIR, web)
    live = web / "js" / "live.js"
    live.write_bytes(live.read_bytes() + b"\n// one more line\n")
    monkeypatch.setattr(server_app, "WEB_DIR", web)
    assert cli.main(["bundle-hash", "--check", srv.http]) == 1
    out = capsys.readouterr().out
    assert "/js/live.js: khác mã nguồn / differs from the source" in out
    assert "KHÔNG KHỚP / DOES NOT MATCH" in out and "/js/tablet.js" not in out


def test_the_digest_does_not_depend_on_listing_order() -> None:
    from server.bundle import BundleFile

    a = BundleFile(path="/a.js", sha256="0" * 64, size=1)
    b = BundleFile(path="/b.js", sha256="1" * 64, size=2)
    assert digest_of([a, b]) == digest_of([b, a]) != digest_of([a])
