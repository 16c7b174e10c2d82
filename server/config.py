"""Settings from environment variables, with safe defaults for the embedded mode.

With nothing set, Kỳ họp runs on one process with SQLite in ./var, in-process channels and files on disk.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import msgspec

log = logging.getLogger("kyhop.config")


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    # The largest command is a registered question (text up to a few KB) or a prepared roster of 125 delegates
    # (~10 KB); 64 KiB refuses anything absurd before it is parsed.
    max_message_bytes: int = 64 * 1024
    # A person taps a tablet a few times a second at most; 20/s with a burst of 40 stops a runaway client.
    commands_per_second: float = 20.0
    command_burst: int = 40
    # Events queued for one slow socket. When it is full the oldest queued event is dropped; the connection sees
    # the gap in sequence numbers and refills it from the log, so the socket loses nothing and no other socket
    # waits. 1000 events is more than a whole 40-vote session of 50 delegates sends a tablet in a minute.
    subscriber_queue: int = 1000
    # The server pings every 20 s and drops a socket that has not answered within 20 s more.
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    # The first message (hello) must arrive within 10 s of connecting.
    hello_timeout: float = 10.0
    max_upload_bytes: int = 200 * 1024 * 1024
    # Public feed streams (server-sent events) one worker holds open: each is a socket and a file descriptor (20 000
    # per process here, shared with the tablets' WebSockets). Past it a reader gets 503 and should read the JSON
    # snapshot (docs/FEED.md); a website with more readers puts a cache in front of the snapshot.
    feed_streams: int = 2000


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str
    redis_url: str | None
    secret_key: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    # A tablet signs in once before the session and stays signed in: 30 days. Revocation is by token id or by
    # bumping the account's token version.
    token_ttl_seconds: int = 30 * 24 * 3600
    limits: Limits = Limits()
    # Document storage (documents/store.py): S3/MinIO when s3_url is set, else files under data_dir/documents.
    # s3_public_url: the S3 address as tablets reach it, when it differs (presigned URLs name their host).
    s3_url: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_bucket: str = "kyhop"
    s3_public_url: str | None = None
    # Signing the record's resolutions and minutes (record/signing.py, PAdES B-B) with the chair's certificate:
    # PEM files of the private key and the certificate (and of the CA chain, if any). Unset: the PDFs are unsigned.
    signing_key: Path | None = None
    signing_cert: Path | None = None
    signing_chain: Path | None = None
    signing_passphrase: str | None = None
    # E-mail to agencies (server/notify.py): a new petition assigned to them. Unset host: no e-mail is sent.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "kyhop@localhost"
    smtp_starttls: bool = True


# Where the secret key lives when neither KYHOP_SECRET_KEY nor KYHOP_SECRET_KEY_FILE says: the user's
# configuration directory, never the data directory. The key opens the sealed counts of open secret rounds
# (server/sealing.py); a copy of the data directory (a backup, a disk handed to a technician) must not carry it.
DEFAULT_KEY_NAME = "kyhop/secret.key"
LEGACY_KEY_NAME = "secret.key"  # where versions before 0.2 kept it: inside the data directory


class KeyBesideDatabase(SystemExit):
    """Start refused: the secret key sits where a copy of the database would take it along.

    A SystemExit so that every entry point (kyhop serve, kyhop-manage, uvicorn's factory) stops with this message
    and no traceback."""

    def __init__(self, key: Path, near: Path) -> None:
        self.key, self.near = key, near
        super().__init__(
            f"Khóa bí mật {key} nằm cạnh cơ sở dữ liệu ({near}): ai sao chép cơ sở dữ liệu sẽ lấy được cả khóa "
            "và có thể mở số phiếu kín đã niêm phong. Hãy chuyển khóa ra ngoài thư mục dữ liệu và đặt "
            "KYHOP_SECRET_KEY_FILE, hoặc truyền khóa qua KYHOP_SECRET_KEY.\n"
            f"The secret key {key} sits beside the database ({near}): whoever copies the database takes the key "
            "too and can open the sealed counts of secret ballots. Move the key out of the data directory and set "
            "KYHOP_SECRET_KEY_FILE, or pass the key in KYHOP_SECRET_KEY."
        )


def _database_dirs(data_dir: Path, database_url: str) -> list[Path]:
    """The directories a copy of the database takes along: the data directory and, for SQLite, the directory of
    the database file (with its -wal and -shm files)."""
    dirs = [data_dir]
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            dirs.append(Path(path).resolve().parent)
    return dirs


def _beside(key: Path, dirs: list[Path]) -> Path | None:
    resolved = key.resolve()
    return next((d for d in dirs if resolved.is_relative_to(d)), None)


def _read_or_create(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written under a temporary name and linked into place: two servers starting at once both end up with the
    # key that won, never a half-written one.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_text(key)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


def _secret(e: dict[str, str], data_dir: Path, database_url: str) -> str:
    """The server's secret key (signs tokens, derives the key that seals secret-ballot counts).

    In order: KYHOP_SECRET_KEY; the file KYHOP_SECRET_KEY_FILE; else a key generated once in the user's
    configuration directory ($XDG_CONFIG_HOME/kyhop/secret.key, by default ~/.config/kyhop/secret.key).

    "Beside the database" means inside the data directory or inside the directory of the SQLite database file.
    A key file there is refused at start (KeyBesideDatabase), including the secret.key that older versions wrote
    into the data directory, except for the demo (KYHOP_DEMO=1: `make run`, `kyhop serve --demo`, `kyhop demo`),
    which only logs a warning: demo data is not a real council's."""
    env = e.get("KYHOP_SECRET_KEY")
    if env:
        return env
    dirs = _database_dirs(data_dir, database_url)
    demo = e.get("KYHOP_DEMO") == "1"
    named = e.get("KYHOP_SECRET_KEY_FILE")
    if named:
        path = Path(named).expanduser()
    else:
        legacy = data_dir / LEGACY_KEY_NAME
        if legacy.exists():
            path = legacy
        else:
            config_home = e.get("XDG_CONFIG_HOME") or str(Path(e.get("HOME") or Path.home()) / ".config")
            path = Path(config_home) / DEFAULT_KEY_NAME
    near = _beside(path, dirs)
    if near is not None:
        if not demo:
            raise KeyBesideDatabase(path, near)
        log.warning("the secret key %s sits beside the database (%s): allowed for the demo only", path, near)
    return _read_or_create(path)


def database_location(env: dict[str, str] | None = None) -> tuple[Path, str]:
    """The data directory (created) and the database URL, without the secret key: what commands that only read
    the database (`kyhop audit verify`) need, so they run wherever the key is kept."""
    e = os.environ if env is None else env
    data_dir = Path(e.get("KYHOP_DATA_DIR", "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir, e.get("KYHOP_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'kyhop.db'}"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    e = dict(os.environ if env is None else env)
    data_dir, db = database_location(e)
    return Settings(
        database_url=db,
        redis_url=e.get("KYHOP_REDIS_URL") or None,
        secret_key=_secret(e, data_dir, db),
        data_dir=data_dir,
        host=e.get("KYHOP_HOST", "127.0.0.1"),
        port=int(e.get("KYHOP_PORT", "8000")),
        limits=Limits(
            max_upload_bytes=int(e.get("KYHOP_MAX_UPLOAD_BYTES") or Limits().max_upload_bytes),
            feed_streams=int(e.get("KYHOP_FEED_STREAMS") or Limits().feed_streams),
        ),
        s3_url=e.get("KYHOP_S3_URL") or None,
        s3_access_key=e.get("KYHOP_S3_ACCESS_KEY") or None,
        s3_secret_key=e.get("KYHOP_S3_SECRET_KEY") or None,
        s3_bucket=e.get("KYHOP_S3_BUCKET") or "kyhop",
        s3_public_url=e.get("KYHOP_S3_PUBLIC_URL") or None,
        signing_key=_path(e.get("KYHOP_SIGNING_KEY")),
        signing_cert=_path(e.get("KYHOP_SIGNING_CERT")),
        signing_chain=_path(e.get("KYHOP_SIGNING_CHAIN")),
        signing_passphrase=e.get("KYHOP_SIGNING_PASSPHRASE") or None,
        smtp_host=e.get("KYHOP_SMTP_HOST") or None,
        smtp_port=int(e.get("KYHOP_SMTP_PORT") or 587),
        smtp_user=e.get("KYHOP_SMTP_USER") or None,
        smtp_password=e.get("KYHOP_SMTP_PASSWORD") or None,
        smtp_from=e.get("KYHOP_SMTP_FROM") or "kyhop@localhost",
        smtp_starttls=(e.get("KYHOP_SMTP_STARTTLS") or "1") != "0",
    )


def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None
