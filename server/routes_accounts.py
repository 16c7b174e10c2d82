"""HTTP routes for signing in and out and for managing a council's accounts.

Every body is a msgspec Struct, so a wrong type or a missing field is refused by the framework before a handler
runs (400 `malformed` through server.errors); value rules (username shape, password length, roles) are checked in
server.auth and answered with their own bilingual 422.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.types import ExceptionHandlersMap

from meeting.actors import Role
from meeting.errors import Code, DomainError
from server.auth import (
    MAX_PASSWORD,
    AccountOut,
    LoginResult,
    Principal,
    create_account,
    get_account,
    list_accounts,
    login,
    provide_principal,
    require_council,
    require_roles,
    revoke_all,
    revoke_token,
    self_lockout,
    set_active,
    set_password,
)
from server.errors import ErrorBody, from_refusal, handle_http_exception, protocol_error
from server.openapi import BEARER as _BEARER
from server.openapi import errors
from server.services import Services

# Account bodies are a few hundred bytes; 16 KiB refuses anything absurd before it is read (413 `too_large`).
MAX_BODY = 16 * 1024

# Roles a secretary may hand out: everything but administrator, so the secretariat cannot raise itself above
# its own rank. The petitions roles (agency officials, Standing Committee, Front) too: which agency an official
# answers for is the register's `appoint_official`, which only the secretariat runs.
SECRETARY_GRANTABLE = frozenset(
    {
        Role.DELEGATE,
        Role.RESPONDENT,
        Role.CHAIR,
        Role.COMMITTEE,
        Role.SECRETARY,
        Role.AGENCY,
        Role.STANDING,
        Role.FRONT,
    }
)

# More precise than server/openapi.py's general text for what these routes answer.
_ACCOUNT_TEXT = {
    404: "No such council, or no such account in it (`unknown_council`, `not_found`)",
    409: "The username is already taken (`username_taken`); disabling oneself (`self_lockout`) or the council's "
    "last active secretariat or administrator account (`last_manager`)",
    422: "A value breaks a rule (`invalid_username`, `weak_password`, `invalid_roles`, `person_required`, ...)",
}


def handle_client_exception(request: Request[Any, Any, Any], exc: ClientException) -> Response[ErrorBody]:
    """Litestar raises a bare ClientException for a body that is not JSON at all (its ValidationException covers
    only wrong shapes); server.errors would answer it as an English-only `http_error`. Here it is `malformed`
    like any other bad body. Everything else goes to the app's handler unchanged.
    """
    if type(exc) is ClientException and exc.status_code == 400:
        body = protocol_error(400, "malformed", exc.detail).body
        return Response(content=body, status_code=400, media_type=MediaType.JSON)
    return handle_http_exception(request, exc)


# Controller-level, so it wins over the app's HTTPException handler for these routes only.
BODY_ERROR_HANDLERS: ExceptionHandlersMap = {ClientException: handle_client_exception}


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    # Every route here reads the database: 503 `unavailable` when it cannot be reached.
    return errors(*statuses, 503, text=_ACCOUNT_TEXT)


Password = Annotated[
    str,
    msgspec.Meta(max_length=MAX_PASSWORD, description="At least 8 characters", examples=["mật-khẩu-dài"]),
]


class LoginIn(msgspec.Struct, frozen=True, kw_only=True):
    username: Annotated[
        str, msgspec.Meta(max_length=200, description="Case-insensitive", examples=["dbieu.nguyenvana"])
    ]
    password: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD)]


class AccountIn(msgspec.Struct, frozen=True, kw_only=True):
    username: Annotated[
        str,
        msgspec.Meta(max_length=200, description="3–64 characters of a–z, 0–9 and . _ - (stored lower-case)"),
    ]
    password: Password
    display_name: Annotated[str, msgspec.Meta(max_length=1000, examples=["Nguyễn Văn A"])]
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=len(Role))]
    person_id: Annotated[
        str | None,
        msgspec.Meta(description="The delegate or respondent id; required for the delegate role"),
    ] = None


class PasswordIn(msgspec.Struct, frozen=True, kw_only=True):
    password: Password


class ActiveIn(msgspec.Struct, frozen=True, kw_only=True):
    active: bool


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]
    request_max_body_size = MAX_BODY
    exception_handlers = BODY_ERROR_HANDLERS
    dependencies = {"principal": Provide(provide_principal)}

    @post(
        "/login",
        status_code=200,
        summary="Sign in",
        description="Exchange a username and password for a bearer token. An unknown username and a wrong "
        "password give the same 401 `wrong_credentials`; a disabled account gives 401 `account_disabled`.",
        responses=_errors(400, 401, 413),
    )
    async def sign_in(self, services: NamedDependency[Services], data: JSONBody[LoginIn]) -> LoginResult:
        return await login(services, data.username, data.password)

    @post(
        "/logout",
        status_code=204,
        summary="Sign out of this device",
        description="Revoke the presented token; the account's other tokens stay valid.",
        security=_BEARER,
        responses=_errors(401),
    )
    async def sign_out(self, services: NamedDependency[Services], principal: NamedDependency[Principal]) -> None:
        await revoke_token(services, principal)

    @get(
        "/me",
        summary="The signed-in account",
        security=_BEARER,
        responses=_errors(401),
    )
    async def current_account(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal]
    ) -> AccountOut:
        account = await get_account(services, principal.account_id)
        if account is None:  # deleted between the token check and now
            raise protocol_error(401, "unauthenticated")
        return account


async def _council_exists(services: Services, council_id: str) -> None:
    """404 `unknown_council` for a council that does not exist (accounts are never created in a void)."""
    if await services.engine.existing("council", council_id) is None:
        raise from_refusal(DomainError(Code.UNKNOWN_COUNCIL, id=council_id).refusal)


async def _target(services: Services, principal: Principal, council_id: str, account_id: str) -> AccountOut:
    """The account a secretary or admin of `council_id` acts on, after the permission checks."""
    require_roles(principal, Role.SECRETARY)
    require_council(principal, council_id)
    account = await get_account(services, account_id)
    if account is None or account.council_id != council_id:
        # An account of another council is "not found" here: the path's council is what was authorised.
        raise protocol_error(404, "not_found")
    if Role.ADMIN in account.roles and not principal.is_admin:
        # Resetting an administrator's password would let a secretary take the administrator's place.
        raise protocol_error(403, "forbidden")
    return account


class AccountsController(Controller):
    path = "/api/councils/{council_id:str}/accounts"
    tags = ["accounts"]
    request_max_body_size = MAX_BODY
    exception_handlers = BODY_ERROR_HANDLERS
    dependencies = {"principal": Provide(provide_principal)}
    security = _BEARER

    @get(
        "/",
        summary="List the council's accounts",
        description="For the council's secretariat and administrators.",
        responses=_errors(400, 401, 403, 404),
    )
    async def list_council_accounts(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], council_id: FromPath[str]
    ) -> list[AccountOut]:
        require_roles(principal, Role.SECRETARY)
        require_council(principal, council_id)
        await _council_exists(services, council_id)
        return await list_accounts(services, council_id)

    @post(
        "/",
        summary="Create an account in the council",
        description="Administrators may grant any role; the council's secretariat may grant delegate, respondent, "
        "chair, committee, secretary, agency, standing and front, never admin. A delegate or agency account needs "
        "its person id.",
        responses=_errors(400, 401, 403, 404, 409, 413, 422),
    )
    async def create_council_account(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        data: JSONBody[AccountIn],
    ) -> AccountOut:
        require_roles(principal, Role.SECRETARY)
        require_council(principal, council_id)
        await _council_exists(services, council_id)
        roles = set(data.roles)
        if not principal.is_admin and not roles <= SECRETARY_GRANTABLE:
            raise protocol_error(403, "forbidden")
        return await create_account(
            services,
            username=data.username,
            password=data.password,
            display_name=data.display_name,
            council_id=council_id,
            roles=roles,
            person_id=data.person_id,
        )

    @post(
        "/{account_id:str}/revoke",
        status_code=204,
        summary="Sign the account out everywhere",
        description="Every token issued to the account so far stops working (lost tablet, staff change).",
        responses=_errors(400, 401, 403, 404),
    )
    async def revoke_account_tokens(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        account_id: FromPath[str],
    ) -> None:
        await _target(services, principal, council_id, account_id)
        await revoke_all(services, account_id)

    @post(
        "/{account_id:str}/password",
        status_code=204,
        summary="Set the account's password",
        description="Also signs the account out everywhere.",
        responses=_errors(400, 401, 403, 404, 413, 422),
    )
    async def set_account_password(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        account_id: FromPath[str],
        data: JSONBody[PasswordIn],
    ) -> None:
        await _target(services, principal, council_id, account_id)
        await set_password(services, account_id, data.password)

    @post(
        "/{account_id:str}/active",
        status_code=200,
        summary="Enable or disable the account",
        description="A disabled account cannot sign in and its tokens stop working; enabling it again does not "
        "bring old tokens back. Nobody can disable their own account, nor the council's last active secretariat "
        "or administrator account (409).",
        responses=_errors(400, 401, 403, 404, 409, 413),
    )
    async def set_account_active(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        account_id: FromPath[str],
        data: JSONBody[ActiveIn],
    ) -> AccountOut:
        account = await _target(services, principal, council_id, account_id)
        if account_id == principal.account_id and not data.active:
            raise self_lockout()
        await set_active(services, account_id, data.active)
        return msgspec.structs.replace(account, active=data.active)
