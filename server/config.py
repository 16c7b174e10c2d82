"""Settings from environment variables, with safe defaults for the embedded mode.

With nothing set, Kỳ họp runs on one process with SQLite in ./var, in-process channels and files on disk.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import msgspec


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


def _secret(data_dir: Path) -> str:
    """The JWT signing key: KYHOP_SECRET_KEY, else one generated once and kept in the data directory."""
    env = os.environ.get("KYHOP_SECRET_KEY")
    if env:
        return env
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    e = dict(os.environ if env is None else env)
    data_dir = Path(e.get("KYHOP_DATA_DIR", "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    db = e.get("KYHOP_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'kyhop.db'}"
    return Settings(
        database_url=db,
        redis_url=e.get("KYHOP_REDIS_URL") or None,
        secret_key=e.get("KYHOP_SECRET_KEY") or _secret(data_dir),
        data_dir=data_dir,
        host=e.get("KYHOP_HOST", "127.0.0.1"),
        port=int(e.get("KYHOP_PORT", "8000")),
        limits=Limits(max_upload_bytes=int(e.get("KYHOP_MAX_UPLOAD_BYTES") or Limits().max_upload_bytes)),
        s3_url=e.get("KYHOP_S3_URL") or None,
        s3_access_key=e.get("KYHOP_S3_ACCESS_KEY") or None,
        s3_secret_key=e.get("KYHOP_S3_SECRET_KEY") or None,
        s3_bucket=e.get("KYHOP_S3_BUCKET") or "kyhop",
        s3_public_url=e.get("KYHOP_S3_PUBLIC_URL") or None,
        signing_key=_path(e.get("KYHOP_SIGNING_KEY")),
        signing_cert=_path(e.get("KYHOP_SIGNING_CERT")),
        signing_chain=_path(e.get("KYHOP_SIGNING_CHAIN")),
        signing_passphrase=e.get("KYHOP_SIGNING_PASSPHRASE") or None,
    )


def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None
