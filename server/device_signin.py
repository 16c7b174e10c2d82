"""Device sign-in by QR code (issue 11 §1): the secretariat hands a tablet a one-time code; the tablet opens
`/?code=…` (or scans the printed QR code), is signed in as the account the code was made for, and stays signed
in with an ordinary token (30 days by default, `token_ttl_seconds`) that the secretariat can revoke.

- The code is 24 random bytes (192 bits, URL-safe base64). Only its SHA-256 is stored: with that much entropy a
  salted slow hash adds nothing (nobody can enumerate 2^192 codes), and a database reader cannot sign in.
- It is good once, for 10 minutes: long enough to print a sheet and walk it round the hall, short enough that a
  lost sheet is worthless by the next break. Redeeming is one conditional UPDATE (unused, not revoked, not
  expired), so two tablets scanning the same code at once cannot both get in.
- Codes are made only for the council's own active accounts that hold hall roles (delegate, respondent, counting
  committee, chair): a sheet of paper must never carry the secretariat's or an administrator's powers.
- Creating, redeeming and revoking are audited in the chain `devices:<council id>` (server/audit.py rows, same
  transaction), beside this table's own columns (who made it, when it was used, when revoked).
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
import segno
import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncConnection

from meeting.actors import Role
from server import db
from server.audit import GENESIS, chain_hash
from server.auth import (
    LoginResult,
    Principal,
    _decode,
    forget,
    get_account,
    issue_token,
    provide_principal,
    require_council,
    require_roles,
)
from server.errors import ApiError
from server.openapi import BEARER, errors
from server.record_service import _lock_key
from server.routes_accounts import BODY_ERROR_HANDLERS, MAX_BODY
from server.services import Services

log = logging.getLogger("kyhop.devices")

CODE_TTL = 10 * 60  # seconds a printed code stays good
CODE_BYTES = 24  # 192 bits
# What a code may sign a tablet in as: the hall's roles, never staff that administer the council.
DEVICE_ROLES = frozenset({Role.DELEGATE, Role.RESPONDENT, Role.COMMITTEE, Role.CHAIR})
MAX_CODE = 64  # token_urlsafe(24) is 32 characters; anything far longer is not ours


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def qr_svg(text: str, title: str) -> str:
    """The QR code as an SVG document (segno: error correction M, 15 % of the symbol may be smudged)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=6, border=4, xmldecl=False, title=title)
    return out.getvalue().decode()


class DeviceCodeIn(msgspec.Struct, frozen=True, kw_only=True):
    account_id: Annotated[str, msgspec.Meta(max_length=100, description="The account the tablet signs in as")]
    label: Annotated[str, msgspec.Meta(max_length=200, examples=["Máy tính bảng số 12"])] = ""
    session_id: (
        Annotated[
            str,
            msgspec.Meta(max_length=100, pattern="^[a-z0-9][a-z0-9._-]*$", description="The session the device opens"),
        ]
        | None
    ) = None


class DeviceCode(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    account_id: str
    username: str
    display_name: str
    label: str
    created_at: int
    expires_at: int
    used_at: int | None
    revoked_at: int | None


class NewDeviceCode(msgspec.Struct, frozen=True, kw_only=True):
    """Shown once: the code itself is never stored nor listed again."""

    device: DeviceCode
    code: str
    path: str  # "/?code=…[&session=…]": the start page signs the device in and opens that session
    svg: str  # the QR code of the full link, as an SVG document


class RedeemIn(msgspec.Struct, frozen=True, kw_only=True):
    code: Annotated[str, msgspec.Meta(max_length=MAX_CODE)]


def code_invalid() -> ApiError:
    return ApiError(
        401,
        "device_code_invalid",
        "Mã đăng nhập thiết bị không đúng, đã hết hạn hoặc đã được dùng. Vui lòng xin Văn phòng mã mới.",
        "The device sign-in code is wrong, expired or already used. Ask the secretariat for a new one.",
    )


def _not_for_device() -> ApiError:
    return ApiError(
        422,
        "device_account_refused",
        "Chỉ cấp mã đăng nhập thiết bị cho tài khoản đang hoạt động của Hội đồng với vai trò đại biểu, chủ tọa, "
        "người trả lời chất vấn hoặc ban kiểm phiếu.",
        "Device codes are only for the council's active delegate, chair, respondent or counting-committee accounts.",
    )


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Không tìm thấy mã thiết bị này.", "No such device code.")


async def _audit(
    conn: AsyncConnection, services: Services, council_id: str, actor: str, command: str, detail: Any
) -> None:
    chain = f"devices:{council_id}"
    a = db.audit.c
    if not services.db.is_sqlite:  # PostgreSQL: one writer per chain at a time, as server/record_service.py
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(chain)})
    head = (await conn.execute(sa.select(a.n, a.hash).where(a.chain == chain).order_by(a.n.desc()).limit(1))).first()
    n, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    row: dict[str, Any] = {
        "chain": chain,
        "n": n,
        "at": datetime.now(UTC).isoformat(),
        "actor": actor,
        "command": command,
        "detail": msgspec.json.encode(detail).decode(),
        "outcome": "accepted",
        "prev_hash": prev,
    }
    row["hash"] = chain_hash(prev, row)
    await conn.execute(sa.insert(db.audit).values(**row))


def _actor(p: Principal) -> str:
    return f"{p.account_id} {','.join(sorted(p.actor.roles))}"


_COLUMNS = (
    db.device_codes.c.id,
    db.device_codes.c.account_id,
    db.accounts.c.username,
    db.accounts.c.display_name,
    db.device_codes.c.label,
    db.device_codes.c.created_at,
    db.device_codes.c.expires_at,
    db.device_codes.c.used_at,
    db.device_codes.c.revoked_at,
)


def _row(r: Any) -> DeviceCode:
    return DeviceCode(
        id=r.id,
        account_id=r.account_id,
        username=r.username,
        display_name=r.display_name,
        label=r.label,
        created_at=r.created_at,
        expires_at=r.expires_at,
        used_at=r.used_at,
        revoked_at=r.revoked_at,
    )


def _joined() -> Any:
    return sa.select(*_COLUMNS).select_from(
        db.device_codes.join(db.accounts, db.accounts.c.id == db.device_codes.c.account_id)
    )


async def create(
    services: Services, principal: Principal, council_id: str, data: DeviceCodeIn, base: str
) -> NewDeviceCode:
    account = await get_account(services, data.account_id)
    if account is None or account.council_id != council_id:
        raise _not_found()
    if not account.active or not set(account.roles) <= DEVICE_ROLES:
        raise _not_for_device()
    code = secrets.token_urlsafe(CODE_BYTES)
    now = int(time.time())
    ident = f"tb-{secrets.token_hex(8)}"
    label = data.label.strip()
    async with services.db.tx() as conn:
        await conn.execute(
            sa.insert(db.device_codes).values(
                id=ident,
                council_id=council_id,
                account_id=account.id,
                code_hash=code_hash(code),
                label=label,
                created_by=principal.account_id,
                created_at=now,
                expires_at=now + CODE_TTL,
            )
        )
        detail = {"device": ident, "account": account.id, "label": label, "expires_at": now + CODE_TTL}
        await _audit(conn, services, council_id, _actor(principal), "create_device_code", detail)
    path = f"/?code={code}" + (f"&session={data.session_id}" if data.session_id else "")
    device = DeviceCode(
        id=ident,
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        label=label,
        created_at=now,
        expires_at=now + CODE_TTL,
        used_at=None,
        revoked_at=None,
    )
    svg = qr_svg(base.rstrip("/") + path, f"Mã đăng nhập thiết bị cho {account.display_name}")
    return NewDeviceCode(device=device, code=code, path=path, svg=svg)


async def redeem(services: Services, code: str) -> LoginResult:
    if not code or len(code) > MAX_CODE:
        raise code_invalid()
    now = int(time.time())
    t = db.device_codes.c
    async with services.db.tx() as conn:
        # One conditional UPDATE: of two tablets scanning the same code at once, exactly one gets in.
        res = await conn.execute(
            sa.update(db.device_codes)
            .where(t.code_hash == code_hash(code), t.used_at.is_(None), t.revoked_at.is_(None), t.expires_at > now)
            .values(used_at=now)
            .returning(t.id, t.council_id, t.account_id)
        )
        found = res.first()
        if found is None:
            raise code_invalid()
        acc = (
            await conn.execute(
                sa.select(db.accounts.c.token_version, db.accounts.c.active).where(db.accounts.c.id == found.account_id)
            )
        ).first()
        if acc is None or not acc.active:
            raise code_invalid()
        token, expires_at = issue_token(services, found.account_id, acc.token_version)
        _, jti, _, _ = _decode(services, token)
        await conn.execute(
            sa.update(db.device_codes).where(t.id == found.id).values(token_jti=jti, token_expires_at=expires_at)
        )
        await _audit(
            conn, services, found.council_id, f"{found.account_id} device", "redeem_device_code", {"device": found.id}
        )
    account = await get_account(services, found.account_id)
    assert account is not None
    log.info("device %s signed in as %s", found.id, found.account_id)
    return LoginResult(token=token, expires_at=expires_at, account=account)


async def listing(services: Services, council_id: str) -> list[DeviceCode]:
    async with services.db.tx() as conn:
        rows = await conn.execute(
            _joined().where(db.device_codes.c.council_id == council_id).order_by(db.device_codes.c.created_at.desc())
        )
        return [_row(r) for r in rows]


async def revoke(services: Services, principal: Principal, council_id: str, ident: str) -> DeviceCode:
    t = db.device_codes.c
    now = int(time.time())
    async with services.db.tx() as conn:
        row = (
            await conn.execute(
                sa.select(t.token_jti, t.token_expires_at, t.revoked_at).where(
                    t.id == ident, t.council_id == council_id
                )
            )
        ).first()
        if row is None:
            raise _not_found()
        if row.revoked_at is None:
            await conn.execute(sa.update(db.device_codes).where(t.id == ident).values(revoked_at=now))
            if row.token_jti is not None:
                # The token the device holds joins the revoked ones (server/auth.py checks every request and
                # re-checks open WebSockets), so the tablet is signed out at once.
                exists = (
                    await conn.execute(
                        sa.select(db.revoked_tokens.c.jti).where(db.revoked_tokens.c.jti == row.token_jti)
                    )
                ).first()
                if exists is None:
                    await conn.execute(
                        sa.insert(db.revoked_tokens).values(jti=row.token_jti, expires_at=row.token_expires_at or now)
                    )
            await _audit(conn, services, council_id, _actor(principal), "revoke_device", {"device": ident})
        out = (await conn.execute(_joined().where(t.id == ident))).first()
    if row.token_jti is not None:
        forget(jti=row.token_jti)
    return _row(out)


_TEXT = {
    401: "No token, or (redeeming) the code is wrong, expired or used (`device_code_invalid`)",
    404: "No such account or device code in this council (`not_found`)",
    422: "The account is not an active hall account of the council (`device_account_refused`)",
}


class DeviceController(Controller):
    path = "/api/councils/{council_id:str}/devices"
    tags = ["accounts"]
    request_max_body_size = MAX_BODY
    exception_handlers = BODY_ERROR_HANDLERS
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @post(
        "/",
        status_code=201,
        summary="Make a one-time device sign-in code (10 minutes) with its QR code (secretariat)",
        responses=errors(400, 401, 403, 404, 413, 422, 503, text=_TEXT),
    )
    async def make(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        data: JSONBody[DeviceCodeIn],
        request: Request[Any, Any, Any],
    ) -> NewDeviceCode:
        require_roles(principal, Role.SECRETARY)
        require_council(principal, council_id)
        # The QR code carries the address the secretariat reached this server at: the hall's LAN address.
        return await create(services, principal, council_id, data, str(request.base_url))

    @get(
        "/",
        summary="The council's device codes: made, used, revoked (never the codes themselves)",
        responses=errors(400, 401, 403, 404, 503, text=_TEXT),
    )
    async def list_devices(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], council_id: FromPath[str]
    ) -> list[DeviceCode]:
        require_roles(principal, Role.SECRETARY)
        require_council(principal, council_id)
        return await listing(services, council_id)

    @post(
        "/{device_id:str}/revoke",
        status_code=200,
        summary="Revoke a device: its unused code, or the sign-in it gave (signed out at once)",
        responses=errors(400, 401, 403, 404, 503, text=_TEXT),
    )
    async def revoke_device(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        device_id: FromPath[str],
    ) -> DeviceCode:
        require_roles(principal, Role.SECRETARY)
        require_council(principal, council_id)
        return await revoke(services, principal, council_id, device_id)


class DeviceSignInController(Controller):
    path = "/api/auth/device"
    tags = ["auth"]
    request_max_body_size = MAX_BODY
    exception_handlers = BODY_ERROR_HANDLERS

    @post(
        "/",
        status_code=200,
        summary="Sign a device in with a one-time code from the secretariat (the QR code's link)",
        responses=errors(400, 401, 413, 503, text=_TEXT),
    )
    async def device_sign_in(self, services: NamedDependency[Services], data: JSONBody[RedeemIn]) -> LoginResult:
        return await redeem(services, data.code)


ROUTES: list[ControllerRouterHandler] = [DeviceController, DeviceSignInController]
