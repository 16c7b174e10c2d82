"""Accounts, passwords and bearer tokens: who is calling, and what they may touch.

Passwords are argon2id hashes (`Services.hasher`). Tokens are HS256 JWTs signed with `settings.secret_key`; a token
is good while its signature and expiry hold, its account exists and is active, its `ver` claim equals the account's
`token_version` (bumping it signs the account out everywhere) and its `jti` is not in `revoked_tokens` (signing
out of one device). Every way a token can be bad ends in the same bilingual 401: a client cannot tell a forged
token from an expired one, and no malformed token can reach a 500.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
import msgspec
import sqlalchemy as sa
from anyio.lowlevel import RunVar
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.security.jwt import Token
from sqlalchemy.exc import IntegrityError

from meeting.actors import Actor, Role
from server.db import accounts, revoked_tokens
from server.errors import ApiError, protocol_error
from server.services import Services

log = logging.getLogger("kyhop.auth")

ALGORITHM = "HS256"
USERNAME_RE = re.compile(r"[a-z0-9._-]{3,64}")
MIN_PASSWORD = 8
# argon2 cost does not grow with the password (it is pre-hashed once), but nobody types 1 KiB: refuse it as a typo
# or an attack rather than store it.
MAX_PASSWORD = 1024
# Our tokens are ~250 characters; anything far longer is not ours and is refused before any parsing.
MAX_TOKEN = 4096
# Column sizes in server/db.py: checked here so PostgreSQL never raises a 500 for an over-long value.
MAX_DISPLAY_NAME = 200
MAX_ID = 100

# Roles an account may hold. PUBLIC is the anonymous audience, never an account.
ACCOUNT_ROLES = frozenset(Role) - {Role.PUBLIC}
_ROLE_VALUES = frozenset(r.value for r in Role)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller of one request, as read from a valid token and the current account row."""

    account_id: str
    username: str
    display_name: str
    council_id: str | None  # None: a system administrator, not tied to one council
    actor: Actor
    jti: str
    expires_at: int  # Unix seconds

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.actor.roles


class AccountOut(msgspec.Struct, frozen=True, kw_only=True):
    """The public view of an account (never the password hash)."""

    id: str
    username: str
    display_name: str
    council_id: str | None
    roles: list[Role]
    person_id: str | None
    active: bool


class LoginResult(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    expires_at: int
    account: AccountOut


# --------------------------------------------------------------------------------------------------- errors


def _invalid(code: str, vi: str, en: str) -> ApiError:
    return ApiError(422, code, vi, en)


def wrong_credentials() -> ApiError:
    return ApiError(401, "wrong_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.")


def account_disabled() -> ApiError:
    return ApiError(401, "account_disabled", "Tài khoản đã bị khóa.", "The account is disabled.")


def username_taken() -> ApiError:
    return ApiError(409, "username_taken", "Tên đăng nhập đã được sử dụng.", "The username is already taken.")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise _invalid(
            "weak_password",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.",
            f"The password must have at least {MIN_PASSWORD} characters.",
        )
    if len(password) > MAX_PASSWORD:
        raise _invalid(
            "invalid_password",
            f"Mật khẩu không được dài quá {MAX_PASSWORD} ký tự.",
            f"The password must not exceed {MAX_PASSWORD} characters.",
        )


def normalize_username(username: str) -> str:
    # Tablets capitalise the first letter and keyboards add spaces: one spelling per person, lower case.
    return username.strip().lower()


# ------------------------------------------------------------------------------------------------ hashing

# argon2 takes ~50 ms of CPU and 64 MiB per hash: run it off the event loop, and at most a few at a time so a
# burst of sign-ins (85 delegates at 8 a.m.) neither blocks WebSocket traffic nor exhausts memory. One limiter
# per event loop (RunVar), because tests and tools run several loops in one process.
_HASH_SLOTS = max(1, min(4, os.cpu_count() or 1))
_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("kyhop_password_hash_limiter")


def _limiter() -> anyio.CapacityLimiter:
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(_HASH_SLOTS)
        _LIMITER.set(limiter)
        return limiter


async def _in_thread(fn: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args, limiter=_limiter())


# A hash of a random password per hasher configuration, verified against when the username is unknown so that
# an unknown user costs the same time as a wrong password.
_DUMMY_HASHES: dict[tuple[Any, ...], str] = {}


def _params(hasher: PasswordHasher) -> tuple[Any, ...]:
    return (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len, hasher.salt_len, hasher.type)


async def _dummy_hash(hasher: PasswordHasher) -> str:
    key = _params(hasher)
    found = _DUMMY_HASHES.get(key)
    if found is None:
        found = _DUMMY_HASHES[key] = str(await _in_thread(hasher.hash, secrets.token_urlsafe(16)))
    return found


async def hash_password(services: Services, password: str) -> str:
    return str(await _in_thread(services.hasher.hash, password))


async def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    def run() -> bool:
        try:
            return hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            # A corrupt stored hash must not become a 500 nor let anyone in.
            return False

    return bool(await _in_thread(run))


# ------------------------------------------------------------------------------------------------ accounts


def _roles(text: str) -> frozenset[Role]:
    out = set()
    for part in text.split(","):
        # An unknown value (a role written by a newer release, then rolled back) is dropped rather than a crash
        # that would lock the account out.
        if part in _ROLE_VALUES:
            out.add(Role(part))
    return frozenset(out)


def _account_out(row: sa.Row[*tuple[Any, ...]]) -> AccountOut:
    return AccountOut(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        council_id=row.council_id,
        roles=sorted(_roles(row.roles)),
        person_id=row.person_id,
        active=bool(row.active),
    )


_PUBLIC_COLUMNS = (
    accounts.c.id,
    accounts.c.username,
    accounts.c.display_name,
    accounts.c.council_id,
    accounts.c.roles,
    accounts.c.person_id,
    accounts.c.active,
)


async def create_account(
    services: Services,
    *,
    username: str,
    password: str,
    display_name: str,
    council_id: str | None,
    roles: set[Role] | frozenset[Role],
    person_id: str | None = None,
) -> AccountOut:
    """Create an account. Values are checked here (not only in the HTTP layer) because the CLI calls this too."""
    username = normalize_username(username)
    if not USERNAME_RE.fullmatch(username):
        raise _invalid(
            "invalid_username",
            "Tên đăng nhập phải dài 3–64 ký tự, chỉ gồm chữ thường không dấu, chữ số và các dấu . _ -",
            "The username must be 3–64 characters of lower-case letters a–z, digits and . _ -",
        )
    _check_password(password)
    display_name = display_name.strip()
    if not display_name or len(display_name) > MAX_DISPLAY_NAME:
        raise _invalid(
            "invalid_display_name",
            f"Tên hiển thị phải có từ 1 đến {MAX_DISPLAY_NAME} ký tự.",
            f"The display name must have 1 to {MAX_DISPLAY_NAME} characters.",
        )
    if not roles or not set(roles) <= ACCOUNT_ROLES:
        raise _invalid(
            "invalid_roles",
            "Tài khoản phải có ít nhất một vai trò hợp lệ.",
            "The account needs at least one valid role.",
        )
    if council_id is None and Role.ADMIN not in roles:
        # An account outside every council can only be a system administrator; anyone else would see nothing.
        raise _invalid(
            "council_required",
            "Tài khoản phải thuộc một Hội đồng (trừ quản trị hệ thống).",
            "The account must belong to a council (unless it is a system administrator).",
        )
    if council_id is not None and not 0 < len(council_id) <= MAX_ID:
        raise _invalid("invalid_council", "Mã Hội đồng không hợp lệ.", "The council id is invalid.")
    if person_id is not None and not 0 < len(person_id) <= MAX_ID:
        raise _invalid("invalid_person", "Mã đại biểu không hợp lệ.", "The person id is invalid.")
    if Role.DELEGATE in roles and person_id is None:
        # Ballots, speaking requests and questions are recorded under the delegate id, not the account.
        raise _invalid(
            "person_required",
            "Tài khoản đại biểu phải gắn với mã đại biểu.",
            "A delegate account needs the delegate's person id.",
        )
    if Role.AGENCY in roles and person_id is None:
        # The petitions register scopes an official to their agency by person id (`appoint_official`).
        raise _invalid(
            "person_required",
            "Tài khoản cán bộ cơ quan phải gắn với mã cán bộ.",
            "An agency official's account needs the official's person id.",
        )
    password_hash = await hash_password(services, password)
    account_id = secrets.token_hex(12)
    try:
        async with services.db.tx() as conn:
            taken = await conn.scalar(sa.select(accounts.c.id).where(accounts.c.username == username))
            if taken is not None:
                raise username_taken()
            await conn.execute(
                accounts.insert().values(
                    id=account_id,
                    username=username,
                    password_hash=password_hash,
                    display_name=display_name,
                    council_id=council_id,
                    roles=",".join(sorted(roles)),
                    person_id=person_id,
                    token_version=0,
                    active=True,
                )
            )
    except IntegrityError:
        # Two concurrent creations of one username on PostgreSQL: the unique index decides.
        raise username_taken() from None
    return AccountOut(
        id=account_id,
        username=username,
        display_name=display_name,
        council_id=council_id,
        roles=sorted(roles),
        person_id=person_id,
        active=True,
    )


async def get_account(services: Services, account_id: str) -> AccountOut | None:
    async with services.db.tx() as conn:
        row = (await conn.execute(sa.select(*_PUBLIC_COLUMNS).where(accounts.c.id == account_id))).first()
    return None if row is None else _account_out(row)


async def list_accounts(services: Services, council_id: str | None) -> list[AccountOut]:
    """The accounts of one council (None: the system administrators), by username."""
    where = accounts.c.council_id.is_(None) if council_id is None else accounts.c.council_id == council_id
    async with services.db.tx() as conn:
        rows = (await conn.execute(sa.select(*_PUBLIC_COLUMNS).where(where).order_by(accounts.c.username))).all()
    return [_account_out(r) for r in rows]


async def _update(services: Services, account_id: str, **values: Any) -> None:
    async with services.db.tx() as conn:
        result = await conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
    forget(account_id=account_id)  # roles, activity or token version may have changed
    if result.rowcount == 0:
        raise protocol_error(404, "not_found")


async def set_password(services: Services, account_id: str, password: str) -> None:
    """Set a new password and sign the account out everywhere (a reset usually follows a lost tablet)."""
    _check_password(password)
    password_hash = await hash_password(services, password)
    await _update(services, account_id, password_hash=password_hash, token_version=accounts.c.token_version + 1)


def self_lockout() -> ApiError:
    return ApiError(
        409,
        "self_lockout",
        "Không thể tự khóa tài khoản đang đăng nhập; hãy nhờ một tài khoản văn phòng hoặc quản trị khác.",
        "You cannot disable the account you are signed in with; ask another secretariat or administrator account.",
    )


def last_manager() -> ApiError:
    return ApiError(
        409,
        "last_manager",
        "Không thể khóa tài khoản văn phòng hoặc quản trị cuối cùng còn hoạt động của Hội đồng.",
        "You cannot disable the council's last active secretariat or administrator account.",
    )


# The roles that manage a council's accounts: a council left without an active one can only be repaired by a
# system administrator, and a system without an active administrator only from the command line.
MANAGER_ROLES = frozenset({Role.SECRETARY, Role.ADMIN})


async def set_active(services: Services, account_id: str, active: bool) -> None:
    """Enable or disable an account. Disabling also bumps the token version, so re-enabling the account later
    does not bring back tokens issued before (e.g. on a tablet that was lost meanwhile).

    Disabling the last active secretariat or administrator account of a council (or the last active system
    administrator) is refused `last_manager`. The check and the change are one transaction that locks the
    council's active manager rows in id order: two secretaries disabling each other at once cannot both pass
    (PostgreSQL re-reads a locked row after the other transaction commits; SQLite has one writer)."""
    if active:
        await _update(services, account_id, active=True)
        return
    async with services.db.tx() as conn:
        target = (await conn.execute(sa.select(accounts.c.council_id).where(accounts.c.id == account_id))).first()
        if target is None:
            raise protocol_error(404, "not_found")
        council = target.council_id
        same_council = accounts.c.council_id.is_(None) if council is None else accounts.c.council_id == council
        managers = (
            await conn.execute(
                sa.select(accounts.c.id, accounts.c.roles)
                .where(
                    same_council,
                    accounts.c.active.is_(True),
                    sa.or_(*(accounts.c.roles.contains(r.value) for r in MANAGER_ROLES)),
                )
                .order_by(accounts.c.id)
                .with_for_update()
            )
        ).all()
        active_managers = {m.id for m in managers if not _roles(m.roles).isdisjoint(MANAGER_ROLES)}
        if account_id in active_managers and len(active_managers) == 1:
            raise last_manager()
        await conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(active=False, token_version=accounts.c.token_version + 1)
        )
    forget(account_id=account_id)


async def revoke_all(services: Services, account_id: str) -> None:
    """Sign out everywhere: every token carries the version it was issued under."""
    await _update(services, account_id, token_version=accounts.c.token_version + 1)


# -------------------------------------------------------------------------------------------------- tokens


def issue_token(services: Services, account_id: str, token_version: int) -> tuple[str, int]:
    """A signed token for the account and its expiry (Unix seconds)."""
    now = datetime.now(UTC).replace(microsecond=0)
    exp = now + timedelta(seconds=services.settings.token_ttl_seconds)
    token = Token(exp=exp, sub=account_id, iat=now, jti=secrets.token_hex(16), extras={"ver": token_version})
    return token.encode(services.settings.secret_key, ALGORITHM), int(exp.timestamp())


async def login(services: Services, username: str, password: str) -> LoginResult:
    """Check the credentials and issue a token; unknown user and wrong password give the same 401."""
    username = normalize_username(username)
    async with services.db.tx() as conn:
        row = (
            await conn.execute(
                sa.select(*_PUBLIC_COLUMNS, accounts.c.password_hash, accounts.c.token_version).where(
                    accounts.c.username == username
                )
            )
        ).first()
    if row is None:
        # Same work as for a known user, so response time does not tell which usernames exist.
        await _verify(services.hasher, await _dummy_hash(services.hasher), password)
        raise wrong_credentials()
    if not await _verify(services.hasher, row.password_hash, password):
        raise wrong_credentials()
    if not row.active:
        # Said only after the password matched: it reveals nothing to someone guessing.
        raise account_disabled()
    if services.hasher.check_needs_rehash(row.password_hash):
        # Cost parameters were raised since this hash was made: upgrade it now that we know the password.
        new_hash = await hash_password(services, password)
        async with services.db.tx() as conn:
            await conn.execute(
                accounts.update()
                .where(accounts.c.id == row.id, accounts.c.password_hash == row.password_hash)
                .values(password_hash=new_hash)
            )
    token, expires_at = issue_token(services, row.id, row.token_version)
    return LoginResult(token=token, expires_at=expires_at, account=_account_out(row))


def _decode(services: Services, token: str) -> tuple[str, str, int, int]:
    """(account id, jti, version, expiry) of a token with a valid signature and expiry, else a 401."""
    if not token or len(token) > MAX_TOKEN:
        raise protocol_error(401, "unauthenticated")
    try:
        decoded = Token.decode(
            token, services.settings.secret_key, ALGORITHM, require_claims=["exp", "sub", "jti", "iat"]
        )
    except Exception:
        # Token.decode maps the usual failures to NotAuthorizedException, but a correctly signed token with odd
        # claim shapes can still raise something else; whatever it is, the token is not one we accept.
        raise protocol_error(401, "unauthenticated") from None
    jti, version = decoded.jti, decoded.extras.get("ver")
    if not isinstance(jti, str) or not 0 < len(jti) <= 64:
        raise protocol_error(401, "unauthenticated")
    if not isinstance(version, int) or isinstance(version, bool):
        raise protocol_error(401, "unauthenticated")
    return decoded.sub, jti, version, int(decoded.exp.timestamp())


async def principal_from_token(services: Services, token: str) -> Principal:
    """The caller behind a bearer token, or ApiError 401 `unauthenticated`."""
    account_id, jti, version, expires_at = _decode(services, token)
    revoked = sa.exists().where(revoked_tokens.c.jti == jti).label("revoked")
    async with services.db.tx() as conn:
        row = (
            await conn.execute(
                sa.select(*_PUBLIC_COLUMNS, accounts.c.token_version, revoked).where(accounts.c.id == account_id)
            )
        ).first()
    if row is None or not row.active or row.token_version != version or row.revoked:
        raise protocol_error(401, "unauthenticated")
    return _principal(row, jti, expires_at)


def _principal(row: Any, jti: str, expires_at: int) -> Principal:
    return Principal(
        account_id=row.id,
        username=row.username,
        display_name=row.display_name,
        council_id=row.council_id,
        actor=Actor(roles=_roles(row.roles), person_id=row.person_id),
        jti=jti,
        expires_at=expires_at,
    )


# A worker-wide cache of tokens checked against the database, shared by every request and socket of the worker:
# 1000 tablets fetching the manifest at once, or 500 voting at once, cost one account lookup per token per
# RECHECK_SECONDS instead of one each (measured: the lookup was 17-18 % of the server's time in T3 and T5, and
# overflowed the database pool). A check older than RECHECK_SECONDS is still answered from the cache for another
# RECHECK_SECONDS while one background query re-checks every such token at once: 125 delegates whose checks
# expired together made the next ballot of each wait behind 125 lookups on SQLite's one connection (measured in
# bench T2: every 10th round stalled 150-240 ms). So a change made through another worker (sign-out, revoke,
# password, disable) applies here within 2 × RECHECK_SECONDS plus one query; made through this worker, at once
# (`forget`).
RECHECK_SECONDS = 2.0
_CHECKED_MAX = 20_000
_RECHECK_BATCH = 500
_checked: dict[str, tuple[Principal, float]] = {}
_due: dict[str, None] = {}  # tokens to re-check in the background, in order
_rechecking: set[asyncio.Task[None]] = set()
_forgotten = [0]  # bumped by `forget`: a background answer that started before is not kept


async def checked_principal(services: Services, token: str) -> Principal:
    """`principal_from_token`, answered from the cache when this worker checked the token within 2 s (or within
    4 s, while a background re-check runs)."""
    now = time.monotonic()
    hit = _checked.get(token)
    if hit is not None:
        age = now - hit[1]
        if age <= RECHECK_SECONDS:
            return hit[0]
        if age <= 2 * RECHECK_SECONDS:
            _recheck_later(services, token)
            return hit[0]
    principal = await principal_from_token(services, token)
    _remember(token, principal, time.monotonic())
    return principal


def _remember(token: str, principal: Principal, at: float) -> None:
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
    _checked[token] = (principal, at)


def _recheck_later(services: Services, token: str) -> None:
    _due[token] = None
    if not _rechecking:
        task = asyncio.get_running_loop().create_task(_recheck(services))
        _rechecking.add(task)
        task.add_done_callback(_rechecking.discard)


async def _recheck(services: Services) -> None:
    while _due:
        tokens = list(itertools.islice(_due, _RECHECK_BATCH))
        for t in tokens:
            del _due[t]
        generation = _forgotten[0]
        try:
            found = await principals_from_tokens(services, tokens)
        except Exception as e:  # the database is away: the next use past 2 × RECHECK_SECONDS asks it directly
            log.warning("token re-check failed: %s", e)
            return
        if _forgotten[0] != generation:
            continue  # an account changed meanwhile: this answer may predate it; those tokens are asked again
        at = time.monotonic()
        for t in tokens:
            principal = found.get(t)
            if principal is None:
                _checked.pop(t, None)  # revoked or disabled: the next use is refused
            elif t in _checked:  # not forgotten meanwhile
                _remember(t, principal, at)


async def principals_from_tokens(services: Services, tokens: list[str]) -> dict[str, Principal]:
    """The principals behind those of `tokens` that are still valid, in one query."""
    decoded: dict[str, tuple[str, str, int, int]] = {}
    for t in tokens:
        try:
            decoded[t] = _decode(services, t)
        except ApiError:
            continue
    if not decoded:
        return {}
    account_ids = {d[0] for d in decoded.values()}
    async with services.db.tx() as conn:
        rows = {
            r.id: r
            for r in await conn.execute(
                sa.select(*_PUBLIC_COLUMNS, accounts.c.token_version).where(accounts.c.id.in_(account_ids))
            )
        }
        revoked = set(
            (
                await conn.execute(
                    sa.select(revoked_tokens.c.jti).where(revoked_tokens.c.jti.in_({d[1] for d in decoded.values()}))
                )
            ).scalars()
        )
    out: dict[str, Principal] = {}
    for t, (account_id, jti, version, expires_at) in decoded.items():
        row = rows.get(account_id)
        if row is None or not row.active or row.token_version != version or jti in revoked:
            continue
        out[t] = _principal(row, jti, expires_at)
    return out


def forget(*, account_id: str | None = None, jti: str | None = None) -> None:
    """Drop cached checks of an account's tokens, or of one token, after a change to either."""
    _forgotten[0] += 1
    for token, (p, _) in list(_checked.items()):
        if p.account_id == account_id or p.jti == jti:
            _checked.pop(token, None)


async def revoke_token(services: Services, principal: Principal) -> None:
    """Revoke the principal's token (sign out of this device) and forget revocations that have expired anyway."""
    now = int(time.time())
    try:
        async with services.db.tx() as conn:
            # A revoked token past its expiry is refused by the signature check alone: its row is dead weight.
            await conn.execute(revoked_tokens.delete().where(revoked_tokens.c.expires_at < now))
            await conn.execute(revoked_tokens.insert().values(jti=principal.jti, expires_at=principal.expires_at))
    except IntegrityError:
        pass  # two sign-outs of the same token at once: it is revoked either way
    forget(jti=principal.jti)


# ------------------------------------------------------------------------------------------- dependencies


def bearer_token(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


# Where `authenticate_first` leaves the caller it checked, for the dependencies below (request state).
_PRINCIPAL = "kyhop.principal"


async def provide_principal(request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Principal:
    """Litestar dependency: the signed-in caller (401 without a valid `Authorization: Bearer` token)."""
    checked: Principal | None = request.state.get(_PRINCIPAL)
    if checked is not None:
        return checked
    token = bearer_token(request)
    if token is None:
        raise protocol_error(401, "unauthenticated")
    return await checked_principal(services, token)


async def provide_optional_principal(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> Principal | None:
    """Litestar dependency: the caller, or None for the anonymous public. A token that is presented but invalid
    is still a 401: silently downgrading a delegate to the public view would hide the real problem."""
    if request.headers.get("authorization") is None:
        return None
    return await provide_principal(request, services)


async def authenticate_first(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: check the caller's token before anything else about the request is looked at.

    Litestar decodes the body and the query string before it resolves dependencies, so with the token checked
    only in `provide_principal` a stranger sending a bad body got 400 `malformed` (and learned the body's shape)
    where it should get 401. Guards run before both. Routes whose handler takes no `principal` are left alone
    (a controller may provide one to routes that do not use it, like the sign-in route).
    """
    if "principal" not in handler.parsed_fn_signature.parameters:
        return
    provide = handler.resolve_dependencies().get("principal")
    dependency = provide.dependency if provide is not None else None
    if dependency is provide_optional_principal:
        if connection.headers.get("authorization") is None:
            return  # the anonymous public
    elif dependency is not provide_principal:
        return
    token = bearer_token(connection)
    if token is None:
        raise protocol_error(401, "unauthenticated")
    services: Services = connection.app.state.services
    connection.state[_PRINCIPAL] = await checked_principal(services, token)


# ------------------------------------------------------------------------------------------------- guards


def require_roles(principal: Principal, *roles: Role) -> None:
    """403 `forbidden` unless the principal holds one of `roles`; an administrator passes every check."""
    held = principal.actor.roles
    if Role.ADMIN in held or not held.isdisjoint(roles):
        return
    raise protocol_error(403, "forbidden")


def require_council(principal: Principal, council_id: str) -> None:
    """403 `wrong_council` unless the principal belongs to the council or is a system administrator."""
    if principal.council_id == council_id:
        return
    if principal.council_id is None and principal.is_admin:
        return
    raise protocol_error(403, "wrong_council")
