"""Sign-in, tokens and account management, through HTTP against a real (temporary) SQLite database.

The app under test holds only the two account controllers and the project's exception handlers, so every
answer checked here is what a client of the full server gets. A response hook fails any test that sees a 5xx.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.testing import AsyncTestClient

from meeting.actors import Actor, Role
from meeting.council import CreateCouncil
from meeting.rules import Level
from server import auth
from server.config import Settings
from server.database import Database
from server.engine import Engine
from server.errors import EXCEPTION_HANDLERS, ApiError, protocol_error
from server.openapi import OPENAPI_COMPONENTS
from server.routes_accounts import AccountsController, AuthController
from server.services import Services, password_hasher

pytestmark = pytest.mark.asyncio

SECRET = "test-secret-" + "k" * 52  # ≥ 32 bytes: PyJWT warns about shorter HMAC keys (and warnings are errors)
PASSWORD = "mật-khẩu-đủ-dài"
WRONG = {
    "code": "wrong_credentials",
    "message_vi": "Tên đăng nhập hoặc mật khẩu không đúng.",
    "message_en": "Wrong username or password.",
    "status": 401,
    "detail": None,
}
UNAUTHENTICATED = {
    "code": "unauthenticated",
    "message_vi": "Chưa đăng nhập hoặc phiên đăng nhập đã hết hạn.",
    "message_en": "Not signed in, or the sign-in expired.",
    "status": 401,
    "detail": None,
}


@dataclass
class Env:
    client: AsyncTestClient[Litestar]
    services: Services
    db_path: Path

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read (or poke) the database file directly, as an operator would: the app's engine lives on the test
        client's own event loop, so the test does not share it."""
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(query, args).fetchall()

    async def login(self, username: str, password: str = PASSWORD) -> str:
        r = await self.client.post("/api/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _no_5xx(response: httpx.Response) -> None:
    assert response.status_code < 500, f"{response.request.method} {response.request.url} → {response.status_code}"


class _System:
    account_id = "system"
    actor = Actor(roles=frozenset({Role.ADMIN}))


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db_path = tmp_path / "kyhop.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{db_path}", redis_url=None, secret_key=SECRET, data_dir=tmp_path
    )
    services = Services(settings=settings, db=Database(settings.database_url), hasher=password_hasher(fast=True))
    services.engine = Engine(services.db)

    async def seed() -> None:
        # Runs on the test client's loop, the one that will use the engine.
        await services.db.migrate()
        system = _System()
        for council_id in ("hn", "hcm"):
            reply = await services.engine.runtime("council", council_id).submit(
                system,
                f"create-{council_id}",
                CreateCouncil(council_id=council_id, name=f"HĐND {council_id}", level=Level.PROVINCE),
            )
            assert reply.ok, reply.error
        for username, council, roles, person in [
            ("root", None, {Role.ADMIN}, None),
            ("hn.admin", "hn", {Role.ADMIN}, None),
            ("hn.vanphong", "hn", {Role.SECRETARY}, None),
            ("hn.daibieu", "hn", {Role.DELEGATE}, "d-1"),
            ("hcm.vanphong", "hcm", {Role.SECRETARY}, None),
            ("hcm.daibieu", "hcm", {Role.DELEGATE}, "d-9"),
        ]:
            await auth.create_account(
                services,
                username=username,
                password=PASSWORD,
                display_name=f"Người dùng {username}",
                council_id=council,
                roles=roles,
                person_id=person,
            )

    async def dispose() -> None:
        await services.db.dispose()

    app = Litestar(
        route_handlers=[AuthController, AccountsController],
        dependencies={"services": Provide(lambda: services, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(title="Kỳ họp", version="test", components=[OPENAPI_COMPONENTS]),
        on_startup=[seed],
        on_shutdown=[dispose],
    )
    async with AsyncTestClient(app=app) as client:
        client.event_hooks["response"] = [_no_5xx]
        yield Env(client=client, services=services, db_path=db_path)


def account_id(env: Env, username: str) -> str:
    return str(env.sql("SELECT id FROM accounts WHERE username = ?", username)[0][0])


def craft(env: Env, username: str, **overrides: Any) -> str:
    """A token made with PyJWT directly, shaped like ours unless `overrides` change it."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": account_id(env, username),
        "jti": "c" * 32,
        "iat": now - 10,
        "exp": now + 3600,
        "extras": {"ver": 0},
    }
    key = overrides.pop("key", SECRET)
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="HS256")


# ----------------------------------------------------------------------------------------------- sign-in


async def test_login_returns_token_and_account(env: Env) -> None:
    before = int(time.time())
    r = await env.client.post("/api/auth/login", json={"username": "hn.daibieu", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"token", "expires_at", "account"}
    ttl = env.services.settings.token_ttl_seconds
    assert before + ttl - 2 <= body["expires_at"] <= int(time.time()) + ttl
    assert body["account"] == {
        "id": account_id(env, "hn.daibieu"),
        "username": "hn.daibieu",
        "display_name": "Người dùng hn.daibieu",
        "council_id": "hn",
        "roles": ["delegate"],
        "person_id": "d-1",
        "active": True,
    }
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == body["account"]["id"]
    assert claims["exp"] == body["expires_at"]
    assert claims["extras"] == {"ver": 0}
    assert len(claims["jti"]) == 32


async def test_login_username_is_case_insensitive(env: Env) -> None:
    await env.login("  HN.DaiBieu ")


async def test_wrong_password_and_unknown_user_get_the_same_error(env: Env) -> None:
    wrong = await env.client.post("/api/auth/login", json={"username": "hn.daibieu", "password": "sai-mat-khau"})
    unknown = await env.client.post("/api/auth/login", json={"username": "khong.ton.tai", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == WRONG
    # The unknown user was checked against a dummy hash (same work as a real one), made with the same parameters.
    assert auth._params(env.services.hasher) in auth._DUMMY_HASHES


async def test_passwords_are_stored_as_argon2id(env: Env) -> None:
    hashes = [h for (h,) in env.sql("SELECT password_hash FROM accounts")]
    assert len(hashes) == 6
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert len(set(hashes)) == 6  # salted: the same password never gives the same hash
    r = await env.client.get("/api/auth/me", headers=bearer(await env.login("root")))
    assert "password" not in r.text and "$argon2" not in r.text


async def test_login_rehashes_an_outdated_hash(env: Env) -> None:
    old = PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    env.sql("UPDATE accounts SET password_hash = ? WHERE username = 'hn.daibieu'", old)
    assert env.services.hasher.check_needs_rehash(old)
    await env.login("hn.daibieu")
    [(new,)] = env.sql("SELECT password_hash FROM accounts WHERE username = 'hn.daibieu'")
    assert new != old and new.startswith("$argon2id$")
    assert not env.services.hasher.check_needs_rehash(new)
    await env.login("hn.daibieu")  # and the new hash still verifies


async def test_corrupt_stored_hash_is_a_wrong_password_not_a_crash(env: Env) -> None:
    env.sql("UPDATE accounts SET password_hash = 'not-a-hash' WHERE username = 'hn.daibieu'")
    r = await env.client.post("/api/auth/login", json={"username": "hn.daibieu", "password": PASSWORD})
    assert r.status_code == 401 and r.json() == WRONG


# ------------------------------------------------------------------------------------------------ tokens


async def test_token_works_on_me(env: Env) -> None:
    r = await env.client.get("/api/auth/me", headers=bearer(await env.login("hn.vanphong")))
    assert r.status_code == 200
    assert r.json()["username"] == "hn.vanphong"
    assert r.json()["roles"] == ["secretary"]


async def test_principal_from_token(env: Env) -> None:
    token = await env.login("hn.daibieu")
    principal = env.client.blocking_portal.call(auth.principal_from_token, env.services, token)
    assert principal.username == "hn.daibieu"
    assert principal.council_id == "hn"
    assert principal.actor == Actor(roles=frozenset({Role.DELEGATE}), person_id="d-1")
    assert principal.expires_at == jwt.decode(token, SECRET, algorithms=["HS256"])["exp"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic cm9vdDptYXQta2hhdQ=="},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA"},
        {"Authorization": "Bearer " + "a" * 100_000},
    ],
    ids=[
        "missing",
        "empty",
        "bearer-no-token",
        "bearer-blank",
        "basic",
        "token-scheme",
        "garbage",
        "three-dots",
        "bad-signature-b64",
        "huge",
    ],
)
async def test_bad_authorization_is_401(env: Env, headers: dict[str, str]) -> None:
    r = await env.client.get("/api/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.json() == UNAUTHENTICATED


async def test_wrong_scheme_with_a_valid_token_is_401(env: Env) -> None:
    token = await env.login("root")
    for header in (f"Token {token}", f"JWT {token}", token):
        r = await env.client.get("/api/auth/me", headers={"Authorization": header})
        assert r.status_code == 401 and r.json() == UNAUTHENTICATED
    r = await env.client.get("/api/auth/me", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200  # the scheme name is case-insensitive (RFC 9110 §11.1)


async def test_crafted_token_with_our_shape_is_accepted(env: Env) -> None:
    # Guards the tests below: they change one thing in an otherwise valid token.
    r = await env.client.get("/api/auth/me", headers=bearer(craft(env, "hn.daibieu")))
    assert r.status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 60, "iat": int(time.time()) - 3600},
        {"key": "another-secret-" + "x" * 40},
        {"extras": {"ver": 1}},
        {"extras": {"ver": "0"}},
        {"extras": {"ver": True}},
        {"extras": {}},
        {"extras": "ver"},
        {"extras": "ver", "foo": 1},
        {"jti": None},
        {"jti": 12345},
        {"jti": ["a", "b"]},
        {"jti": "j" * 65},
        {"sub": "no-such-account"},
        {"sub": 7},
        {"exp": "tomorrow"},
        {"iat": None},
        {"iat": int(time.time()) + 3600},
        {"exp": 10**20},
    ],
    ids=[
        "expired",
        "forged-signature",
        "old-version",
        "version-string",
        "version-bool",
        "no-version",
        "extras-string",
        "extras-string-and-extra-claim",
        "no-jti",
        "jti-int",
        "jti-list",
        "jti-too-long",
        "unknown-account",
        "sub-int",
        "exp-string",
        "no-iat",
        "iat-future",
        "exp-overflow",
    ],
)
async def test_bad_tokens_are_401(env: Env, overrides: dict[str, Any]) -> None:
    r = await env.client.get("/api/auth/me", headers=bearer(craft(env, "hn.daibieu", **overrides)))
    assert r.status_code == 401
    assert r.json() == UNAUTHENTICATED


async def test_alg_none_and_other_algorithms_are_refused(env: Env) -> None:
    claims = {"sub": account_id(env, "root"), "jti": "x" * 32, "iat": int(time.time()), "extras": {"ver": 0}}
    claims["exp"] = int(time.time()) + 3600
    none_token = jwt.encode(claims, None, algorithm="none")
    hs512 = jwt.encode(claims, SECRET + SECRET, algorithm="HS512")
    for token in (none_token, hs512):
        r = await env.client.get("/api/auth/me", headers=bearer(token))
        assert r.status_code == 401 and r.json() == UNAUTHENTICATED


async def test_logout_revokes_that_token_only(env: Env) -> None:
    # A revocation that expired long ago: logging out prunes it (the table stays bounded).
    env.sql("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('stale', 1000)")
    first = await env.login("hn.daibieu")
    second = await env.login("hn.daibieu")
    r = await env.client.post("/api/auth/logout", headers=bearer(first))
    assert r.status_code == 204 and r.content == b""
    assert (await env.client.get("/api/auth/me", headers=bearer(first))).json() == UNAUTHENTICATED
    assert (await env.client.get("/api/auth/me", headers=bearer(second))).status_code == 200
    # Logging out twice with the same token: it is no longer a valid sign-in.
    r = await env.client.post("/api/auth/logout", headers=bearer(first))
    assert r.status_code == 401 and r.json() == UNAUTHENTICATED
    jti = jwt.decode(first, SECRET, algorithms=["HS256"])["jti"]
    exp = jwt.decode(first, SECRET, algorithms=["HS256"])["exp"]
    assert env.sql("SELECT jti, expires_at FROM revoked_tokens") == [(jti, exp)]


async def test_logout_without_token_is_401(env: Env) -> None:
    r = await env.client.post("/api/auth/logout")
    assert r.status_code == 401 and r.json() == UNAUTHENTICATED


async def test_revoke_all_invalidates_every_token(env: Env) -> None:
    tablet, laptop = await env.login("hn.daibieu"), await env.login("hn.daibieu")
    secretary = await env.login("hn.vanphong")
    target = account_id(env, "hn.daibieu")
    r = await env.client.post(f"/api/councils/hn/accounts/{target}/revoke", headers=bearer(secretary))
    assert r.status_code == 204
    for token in (tablet, laptop):
        r = await env.client.get("/api/auth/me", headers=bearer(token))
        assert r.status_code == 401 and r.json() == UNAUTHENTICATED
    assert (await env.client.get("/api/auth/me", headers=bearer(await env.login("hn.daibieu")))).status_code == 200
    assert (await env.client.get("/api/auth/me", headers=bearer(secretary))).status_code == 200


async def test_deactivated_account_is_401(env: Env) -> None:
    old = await env.login("hn.daibieu")
    secretary = await env.login("hn.vanphong")
    url = f"/api/councils/hn/accounts/{account_id(env, 'hn.daibieu')}/active"
    r = await env.client.post(url, json={"active": False}, headers=bearer(secretary))
    assert r.status_code == 200 and r.json()["active"] is False
    r = await env.client.get("/api/auth/me", headers=bearer(old))
    assert r.status_code == 401 and r.json() == UNAUTHENTICATED
    r = await env.client.post("/api/auth/login", json={"username": "hn.daibieu", "password": PASSWORD})
    assert r.status_code == 401
    assert r.json()["code"] == "account_disabled"
    assert r.json()["message_vi"] == "Tài khoản đã bị khóa."
    # A wrong password on a disabled account still says only "wrong credentials".
    r = await env.client.post("/api/auth/login", json={"username": "hn.daibieu", "password": "sai-mat-khau"})
    assert r.json() == WRONG
    r = await env.client.post(url, json={"active": True}, headers=bearer(secretary))
    assert r.status_code == 200 and r.json()["active"] is True
    # Re-enabling does not bring back tokens from before.
    assert (await env.client.get("/api/auth/me", headers=bearer(old))).status_code == 401
    assert (await env.client.get("/api/auth/me", headers=bearer(await env.login("hn.daibieu")))).status_code == 200


async def test_set_password_signs_out_and_changes_the_password(env: Env) -> None:
    old = await env.login("hn.daibieu")
    secretary = await env.login("hn.vanphong")
    [(before,)] = env.sql("SELECT password_hash FROM accounts WHERE username = 'hn.daibieu'")
    url = f"/api/councils/hn/accounts/{account_id(env, 'hn.daibieu')}/password"
    r = await env.client.post(url, json={"password": "ngắn"}, headers=bearer(secretary))
    assert r.status_code == 422 and r.json()["code"] == "weak_password"
    r = await env.client.post(url, json={"password": "mật-khẩu-mới-2026"}, headers=bearer(secretary))
    assert r.status_code == 204
    [(after,)] = env.sql("SELECT password_hash FROM accounts WHERE username = 'hn.daibieu'")
    assert after != before and after.startswith("$argon2id$")
    assert (await env.client.get("/api/auth/me", headers=bearer(old))).status_code == 401
    r = await env.client.post("/api/auth/login", json={"username": "hn.daibieu", "password": PASSWORD})
    assert r.status_code == 401
    await env.login("hn.daibieu", "mật-khẩu-mới-2026")


# --------------------------------------------------------------------------------------- account management


async def test_secretary_lists_own_council(env: Env) -> None:
    r = await env.client.get("/api/councils/hn/accounts", headers=bearer(await env.login("hn.vanphong")))
    assert r.status_code == 200
    assert [a["username"] for a in r.json()] == ["hn.admin", "hn.daibieu", "hn.vanphong"]
    assert all("password_hash" not in a for a in r.json())


async def test_delegate_cannot_list_accounts(env: Env) -> None:
    r = await env.client.get("/api/councils/hn/accounts", headers=bearer(await env.login("hn.daibieu")))
    assert r.status_code == 403
    assert r.json() == {
        "code": "forbidden",
        "message_vi": "Bạn không có quyền truy cập.",
        "message_en": "You are not allowed to access this.",
        "status": 403,
        "detail": None,
    }


async def test_accounts_need_a_token(env: Env) -> None:
    r = await env.client.get("/api/councils/hn/accounts")
    assert r.status_code == 401 and r.json() == UNAUTHENTICATED


async def test_secretary_creates_delegate(env: Env) -> None:
    secretary = await env.login("hn.vanphong")
    r = await env.client.post(
        "/api/councils/hn/accounts",
        json={
            "username": "Tran.Thi.B",
            "password": "mật-khẩu-riêng",
            "display_name": "  Trần Thị B ",
            "roles": ["delegate", "chair"],
            "person_id": "d-2",
        },
        headers=bearer(secretary),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["username"] == "tran.thi.b"
    assert body["display_name"] == "Trần Thị B"
    assert body["roles"] == ["chair", "delegate"]
    assert body["council_id"] == "hn" and body["person_id"] == "d-2" and body["active"] is True
    token = await env.login("tran.thi.b", "mật-khẩu-riêng")
    r = await env.client.get("/api/auth/me", headers=bearer(token))
    assert r.json() == body


async def test_secretary_cannot_create_admin(env: Env) -> None:
    secretary = await env.login("hn.vanphong")
    r = await env.client.post(
        "/api/councils/hn/accounts",
        json={"username": "hn.admin2", "password": PASSWORD, "display_name": "X", "roles": ["admin"]},
        headers=bearer(secretary),
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await env.client.post(
        "/api/councils/hn/accounts",
        json={"username": "hn.admin2", "password": PASSWORD, "display_name": "X", "roles": ["secretary", "admin"]},
        headers=bearer(secretary),
    )
    assert r.status_code == 403
    assert env.sql("SELECT count(*) FROM accounts WHERE username = 'hn.admin2'") == [(0,)]


async def test_admins_create_admins(env: Env) -> None:
    for who, council in (("hn.admin", "hn"), ("root", "hcm")):
        r = await env.client.post(
            f"/api/councils/{council}/accounts",
            json={"username": f"{council}.admin.moi", "password": PASSWORD, "display_name": "X", "roles": ["admin"]},
            headers=bearer(await env.login(who)),
        )
        assert r.status_code == 201, r.text
        assert r.json()["council_id"] == council


async def test_secretary_cannot_touch_another_council(env: Env) -> None:
    secretary = await env.login("hn.vanphong")
    other = account_id(env, "hcm.daibieu")
    wrong_council = {
        "code": "wrong_council",
        "message_vi": "Tài khoản không thuộc Hội đồng này.",
        "message_en": "The account does not belong to this council.",
        "status": 403,
        "detail": None,
    }
    calls = [
        ("GET", "/api/councils/hcm/accounts", None),
        (
            "POST",
            "/api/councils/hcm/accounts",
            {"username": "hcm.moi", "password": PASSWORD, "display_name": "X", "roles": ["delegate"], "person_id": "d"},
        ),
        ("POST", f"/api/councils/hcm/accounts/{other}/revoke", None),
        ("POST", f"/api/councils/hcm/accounts/{other}/password", {"password": "mat-khau-moi"}),
        ("POST", f"/api/councils/hcm/accounts/{other}/active", {"active": False}),
    ]
    for method, url, body in calls:
        r = await env.client.request(method, url, json=body, headers=bearer(secretary))
        assert r.status_code == 403, url
        assert r.json() == wrong_council, url
    # Naming the other council's account under one's own council finds nothing.
    for suffix, body in (("revoke", None), ("password", {"password": "mat-khau-moi"}), ("active", {"active": False})):
        r = await env.client.post(f"/api/councils/hn/accounts/{other}/{suffix}", json=body, headers=bearer(secretary))
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    # Nothing changed: the other council's delegate still signs in with the old password.
    await env.login("hcm.daibieu")


async def test_secretary_cannot_take_over_an_admin(env: Env) -> None:
    secretary = await env.login("hn.vanphong")
    admin = account_id(env, "hn.admin")
    for suffix, body in (("password", {"password": "chiem-quyen-admin"}), ("active", {"active": False})):
        r = await env.client.post(f"/api/councils/hn/accounts/{admin}/{suffix}", json=body, headers=bearer(secretary))
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    await env.login("hn.admin")


async def test_system_admin_manages_any_council(env: Env) -> None:
    root = await env.login("root")
    r = await env.client.get("/api/councils/hcm/accounts", headers=bearer(root))
    assert r.status_code == 200 and [a["username"] for a in r.json()] == ["hcm.daibieu", "hcm.vanphong"]
    # A council's own admin is not a system admin.
    r = await env.client.get("/api/councils/hcm/accounts", headers=bearer(await env.login("hn.admin")))
    assert r.status_code == 403 and r.json()["code"] == "wrong_council"


async def test_unknown_account_is_404(env: Env) -> None:
    r = await env.client.post("/api/councils/hn/accounts/nope/revoke", headers=bearer(await env.login("hn.vanphong")))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_duplicate_username_is_409(env: Env) -> None:
    secretary = await env.login("hn.vanphong")
    for username in ("hn.daibieu", "HN.DAIBIEU", "hcm.daibieu"):
        r = await env.client.post(
            "/api/councils/hn/accounts",
            json={"username": username, "password": PASSWORD, "display_name": "X", "roles": ["secretary"]},
            headers=bearer(secretary),
        )
        assert r.status_code == 409
        assert r.json() == {
            "code": "username_taken",
            "message_vi": "Tên đăng nhập đã được sử dụng.",
            "message_en": "The username is already taken.",
            "status": 409,
            "detail": None,
        }


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"username": "ab"}, "invalid_username"),
        ({"username": "x" * 65}, "invalid_username"),
        ({"username": "nguyễn.văn.a"}, "invalid_username"),
        ({"username": "has space"}, "invalid_username"),
        ({"password": "1234567"}, "weak_password"),
        ({"display_name": "   "}, "invalid_display_name"),
        ({"display_name": "x" * 201}, "invalid_display_name"),
        ({"person_id": None}, "person_required"),
        ({"person_id": "p" * 101}, "invalid_person"),
        ({"roles": ["delegate", "public"]}, "invalid_roles"),
    ],
)
async def test_invalid_account_values_are_422(env: Env, changes: dict[str, Any], code: str) -> None:
    body = {"username": "moi", "password": PASSWORD, "display_name": "Mới", "roles": ["delegate"], "person_id": "d"}
    body.update(changes)
    r = await env.client.post("/api/councils/hn/accounts", json=body, headers=bearer(await env.login("hn.admin")))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert r.json()["message_vi"] and r.json()["message_en"]


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"null",
        b"[]",
        b'"username"',
        b'{"username": "root"}',
        b'{"password": "x"}',
        b'{"username": 123, "password": "abcdefgh"}',
        b'{"username": "root", "password": ["a"]}',
        b'{"username": "root", "password": null}',
        b'{"username": "root", "password": "' + b"a" * 1025 + b'"}',
        b"\xff\xfe\x00",
    ],
)
async def test_malformed_login_is_400(env: Env, content: bytes) -> None:
    r = await env.client.post("/api/auth/login", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "malformed"
    assert body["message_vi"] == "Thông điệp không hợp lệ."
    assert body["message_en"] == "The message is malformed."


@pytest.mark.parametrize(
    "body",
    [
        {"username": "moi", "password": PASSWORD, "display_name": "X"},
        {"username": "moi", "password": PASSWORD, "display_name": "X", "roles": []},
        {"username": "moi", "password": PASSWORD, "display_name": "X", "roles": ["president"]},
        {"username": "moi", "password": PASSWORD, "display_name": "X", "roles": "delegate"},
        {"username": "moi", "password": PASSWORD, "display_name": 5, "roles": ["secretary"]},
        {"username": "moi", "password": PASSWORD, "display_name": "X", "roles": ["secretary"], "person_id": 1},
    ],
)
async def test_malformed_account_is_400(env: Env, body: dict[str, Any]) -> None:
    r = await env.client.post("/api/councils/hn/accounts", json=body, headers=bearer(await env.login("hn.admin")))
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "malformed"


async def test_malformed_active_and_password_are_400(env: Env) -> None:
    admin = await env.login("hn.admin")
    target = account_id(env, "hn.daibieu")
    for suffix, body in (
        ("active", {"active": "no"}),
        ("active", {}),
        ("active", None),
        ("password", {"password": 12345678}),
        ("password", {}),
    ):
        r = await env.client.post(f"/api/councils/hn/accounts/{target}/{suffix}", json=body, headers=bearer(admin))
        assert r.status_code == 400, (suffix, body, r.text)
        assert r.json()["code"] == "malformed"


async def test_oversized_body_is_413(env: Env) -> None:
    big = b'{"username": "root", "password": "' + b"a" * 20_000 + b'"}'
    r = await env.client.post("/api/auth/login", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"
    assert r.json()["message_vi"] == "Thông điệp quá lớn."


# ----------------------------------------------------------------------------------- guards and OpenAPI


def _principal(council: str | None, *roles: Role) -> auth.Principal:
    return auth.Principal(
        account_id="a",
        username="u",
        display_name="U",
        council_id=council,
        actor=Actor(roles=frozenset(roles)),
        jti="j",
        expires_at=0,
    )


def _status(fn: Any, *args: Any) -> int | None:
    try:
        fn(*args)
    except ApiError as e:
        return e.body.status
    return None


async def test_guards() -> None:
    secretary, delegate = _principal("hn", Role.SECRETARY), _principal("hn", Role.DELEGATE)
    council_admin, system_admin = _principal("hn", Role.ADMIN), _principal(None, Role.ADMIN)
    assert _status(auth.require_roles, secretary, Role.SECRETARY) is None
    assert _status(auth.require_roles, delegate, Role.SECRETARY, Role.CHAIR) == 403
    assert _status(auth.require_roles, council_admin, Role.DELEGATE) is None  # admin passes every role check
    assert _status(auth.require_council, secretary, "hn") is None
    assert _status(auth.require_council, secretary, "hcm") == 403
    assert _status(auth.require_council, council_admin, "hcm") == 403
    assert _status(auth.require_council, system_admin, "hcm") is None
    # Without a council and without the admin role: no council at all.
    assert _status(auth.require_council, _principal(None, Role.SECRETARY), "hn") == 403
    try:
        auth.require_council(secretary, "hcm")
    except ApiError as e:
        assert e.body == protocol_error(403, "wrong_council").body


async def test_openapi_documents_the_routes(env: Env) -> None:
    r = await env.client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    paths = doc["paths"]
    assert {"/api/auth/login", "/api/auth/logout", "/api/auth/me", "/api/councils/{council_id}/accounts"} <= set(paths)
    login = paths["/api/auth/login"]["post"]
    assert login["summary"] == "Sign in"
    assert "401" in login["responses"] and "200" in login["responses"]
    assert doc["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert "AccountIn" in doc["components"]["schemas"] and "ErrorBody" in doc["components"]["schemas"]


async def test_checked_tokens_are_cached_for_two_seconds_and_forgotten_on_change(env: Env) -> None:
    """The worker-wide cache (`checked_principal`): a change made through this worker applies at once; one made
    behind its back (another worker, an operator in SQL) within RECHECK_SECONDS."""
    token = await env.login("hn.daibieu")
    check = env.client.blocking_portal.call
    principal = check(auth.checked_principal, env.services, token)
    assert principal.username == "hn.daibieu"
    # Another worker disables the account: this worker still answers from its cache for up to 2 s...
    env.sql("UPDATE accounts SET active = 0 WHERE id = ?", principal.account_id)
    assert check(auth.checked_principal, env.services, token) == principal
    # ... then, for another 2 s, still answers from the cache while one background query re-checks the token...
    auth._checked[token] = (principal, time.monotonic() - auth.RECHECK_SECONDS - 0.1)
    assert check(auth.checked_principal, env.services, token) == principal
    deadline = time.monotonic() + 5
    while token in auth._checked:  # ... which finds the account disabled and drops the token
        assert time.monotonic() < deadline, "the background re-check did not run"
        time.sleep(0.01)
    with pytest.raises(ApiError) as e:
        check(auth.checked_principal, env.services, token)
    assert e.value.body.code == "unauthenticated"
    # A check older than 2 × RECHECK_SECONDS is never used: the caller waits for the database.
    env.sql("UPDATE accounts SET active = 1 WHERE id = ?", principal.account_id)
    token = await env.login("hn.daibieu")
    principal = check(auth.checked_principal, env.services, token)
    env.sql("UPDATE accounts SET active = 0 WHERE id = ?", principal.account_id)
    auth._checked[token] = (principal, time.monotonic() - 2 * auth.RECHECK_SECONDS - 0.1)
    with pytest.raises(ApiError):
        check(auth.checked_principal, env.services, token)
    # A change through this worker (revoking the account's tokens) forgets the cached check at once.
    env.sql("UPDATE accounts SET active = 1 WHERE id = ?", principal.account_id)
    token = await env.login("hn.daibieu")
    principal = check(auth.checked_principal, env.services, token)
    check(auth.revoke_all, env.services, principal.account_id)
    with pytest.raises(ApiError):
        check(auth.checked_principal, env.services, token)
    # So does signing out one token.
    token = await env.login("hn.daibieu")
    principal = check(auth.checked_principal, env.services, token)
    check(auth.revoke_token, env.services, principal)
    r = await env.client.get("/api/auth/me", headers=bearer(token))
    assert r.status_code == 401
