"""Where the server's secret key may live (server/config.py): never where a copy of the database takes it along.

The key signs tokens and derives the key that seals the counts of open secret rounds (server/sealing.py); with it,
a copy of the database opens those counts (tests/test_secrecy_operator.py). So: from KYHOP_SECRET_KEY, from the
file KYHOP_SECRET_KEY_FILE, or generated once in the user's configuration directory; a key file inside the data
directory or beside the SQLite file is refused at start, except for the demo (KYHOP_DEMO=1), which warns.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import KeyBesideDatabase, load_settings
from tests.e2e import ROOT


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"KYHOP_DATA_DIR": str(tmp_path / "var"), "HOME": str(tmp_path / "home"), **extra}


def test_by_default_the_key_is_made_once_outside_the_data_directory(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = load_settings(env)
    path = tmp_path / "home" / ".config" / "kyhop" / "secret.key"
    assert path.read_text() == first.secret_key and len(first.secret_key) >= 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not any(p.name.endswith(".key") for p in (tmp_path / "var").rglob("*"))
    assert load_settings(env).secret_key == first.secret_key  # the same key on every start
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary file left behind


def test_xdg_config_home_and_an_explicit_file_are_honoured(tmp_path: Path) -> None:
    xdg = load_settings(_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg")))
    assert (tmp_path / "xdg" / "kyhop" / "secret.key").read_text() == xdg.secret_key
    named = tmp_path / "etc" / "kyhop.key"
    named.parent.mkdir()
    named.write_text("a-key-the-operator-made-that-is-long-enough-for-hs256\n")
    s = load_settings(_env(tmp_path, KYHOP_SECRET_KEY_FILE=str(named)))
    assert s.secret_key == "a-key-the-operator-made-that-is-long-enough-for-hs256"
    env_key = load_settings(_env(tmp_path, KYHOP_SECRET_KEY="from-the-environment", KYHOP_SECRET_KEY_FILE="/x"))
    assert env_key.secret_key == "from-the-environment"


@pytest.mark.parametrize("where", ["data directory", "legacy secret.key", "beside the SQLite file"])
def test_a_key_beside_the_database_is_refused_in_both_languages(tmp_path: Path, where: str) -> None:
    env = _env(tmp_path)
    data = tmp_path / "var"
    data.mkdir()
    if where == "data directory":
        key = data / "keys" / "k"
        key.parent.mkdir()
        key.write_text("x" * 64)
        env["KYHOP_SECRET_KEY_FILE"] = str(key)
    elif where == "legacy secret.key":  # what versions before this one wrote by default
        key = data / "secret.key"
        key.write_text("x" * 64)
    else:
        db_dir = tmp_path / "db"
        db_dir.mkdir()
        env["KYHOP_DATABASE_URL"] = f"sqlite+aiosqlite:///{db_dir / 'kyhop.db'}"
        key = db_dir / "secret.key"
        env["KYHOP_SECRET_KEY_FILE"] = str(key)
    with pytest.raises(KeyBesideDatabase) as e:
        load_settings(env)
    msg = str(e.value.code)
    assert str(key) in msg
    assert "nằm cạnh cơ sở dữ liệu" in msg and "sits beside the database" in msg
    assert "KYHOP_SECRET_KEY_FILE" in msg and "KYHOP_SECRET_KEY" in msg
    # The demo (make run) only warns, and keeps working with its old key.
    demo = load_settings({**env, "KYHOP_DEMO": "1"})
    assert demo.secret_key == key.read_text().strip()


def test_kyhop_serve_stops_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    (data / "secret.key").write_text("x" * 64)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYHOP_")}
    env.update(KYHOP_DATA_DIR=str(data), HOME=str(tmp_path / "home"), KYHOP_PORT="1")
    cmd = [sys.executable, "-m", "server.cli", "serve"]
    out = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out
    assert "sits beside the database" in out.stderr and "nằm cạnh cơ sở dữ liệu" in out.stderr
    assert "Traceback" not in out.stderr
