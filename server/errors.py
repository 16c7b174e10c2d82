"""One error shape for every HTTP and WebSocket failure: a stable code and messages in Vietnamese and English.

Bad input is the client's fault and gets a 4xx with a clear message; the handlers here make sure no framework
exception reaches a client as a bare 500 or an English-only text.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import SQLAlchemyError

from meeting.errors import Code, DomainError, Refusal
from server.engine import Unavailable

log = logging.getLogger("kyhop")


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message_vi: str
    message_en: str
    status: int
    detail: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, vi: str, en: str, detail: str | None = None) -> None:
        super().__init__(f"{code}: {en}")
        self.body = ErrorBody(code=code, message_vi=vi, message_en=en, status=status, detail=detail)


# Status per domain refusal: unknown ids are 404, permissions 403, everything else a 409 (the request was
# well-formed but not possible in the current state) or 422 (the values themselves are invalid).
_STATUS: dict[Code, int] = {
    Code.FORBIDDEN: 403,
    Code.NOT_A_DELEGATE: 403,
    Code.NOT_YOURSELF: 403,
    Code.NOT_ON_COMMITTEE: 403,
    Code.NOT_IN_GROUP: 403,  # a delegate recording for another delegate group (petitions)
    Code.INVALID: 422,
    Code.COUNTS_INVALID: 422,
    Code.UNKNOWN_OPTION: 422,
    # The values themselves fail: a proof that does not verify, a malformed ceremony message.
    Code.BALLOT_PROOF_INVALID: 422,
    Code.PARTIAL_INVALID: 422,
    Code.CEREMONY_INVALID: 422,
}


def refusal_status(code: Code) -> int:
    if code in _STATUS:
        return _STATUS[code]
    return 404 if code.value.startswith("unknown_") else 409


def from_refusal(r: Refusal) -> ApiError:
    return ApiError(refusal_status(r.code), r.code.value, r.message_vi, r.message_en)


PROTOCOL_ERRORS: dict[str, tuple[str, str]] = {
    "malformed": ("Thông điệp không hợp lệ.", "The message is malformed."),
    "too_large": ("Thông điệp quá lớn.", "The message is too large."),
    "rate_limited": ("Gửi lệnh quá nhanh, vui lòng chờ.", "Too many commands; slow down."),
    "unauthenticated": ("Chưa đăng nhập hoặc phiên đăng nhập đã hết hạn.", "Not signed in, or the sign-in expired."),
    "forbidden": ("Bạn không có quyền truy cập.", "You are not allowed to access this."),
    "not_found": ("Không tìm thấy.", "Not found."),
    "wrong_council": ("Tài khoản không thuộc Hội đồng này.", "The account does not belong to this council."),
    "unavailable": (
        "Máy chủ tạm thời không ghi được dữ liệu; lệnh chưa được thực hiện, vui lòng thử lại.",
        "The server cannot write right now; the command was not carried out, please retry.",
    ),
    "internal": ("Lỗi máy chủ; lệnh chưa được thực hiện.", "Server error; the command was not carried out."),
    "hello_required": ("Cần gửi thông điệp chào (hello) trước.", "Send a hello message first."),
    "method_not_allowed": ("Phương thức HTTP này không được hỗ trợ ở đây.", "This HTTP method is not allowed here."),
    "http_error": ("Yêu cầu không thực hiện được.", "The request could not be carried out."),
}


def protocol_error(status: int, code: str, detail: str | None = None) -> ApiError:
    vi, en = PROTOCOL_ERRORS[code]
    return ApiError(status, code, vi, en, detail)


def _respond(body: ErrorBody) -> Response[ErrorBody]:
    return Response(content=body, status_code=body.status, media_type=MediaType.JSON)


def handle_api_error(_: Request, exc: ApiError) -> Response[ErrorBody]:  # type: ignore[type-arg]
    return _respond(exc.body)


def handle_domain_error(_: Request, exc: DomainError) -> Response[ErrorBody]:  # type: ignore[type-arg]
    return _respond(from_refusal(exc.refusal).body)


def validation_detail(extra: Any) -> str | None:
    """Litestar's validation failures (a list of {message, key, source}) as one readable line, e.g.
    "after (query): Expected `int`, got `str`" — never the Python repr of the list it used to be."""
    items = extra if isinstance(extra, list) else [extra] if extra else []
    parts: list[str] = []
    for item in items:
        if isinstance(item, dict):
            message = str(item.get("message") or "").strip()
            key, source = item.get("key"), item.get("source")
            source = getattr(source, "value", source)  # a ParamType enum for path, query and header values
            where = f"{key} ({source})" if key and source else str(key or source or "")
            parts.append(f"{where}: {message}" if where else message)
        else:
            parts.append(str(item))
    return "; ".join(p for p in parts if p) or None


def handle_http_exception(_: Request, exc: HTTPException) -> Response[ErrorBody]:  # type: ignore[type-arg]
    status = exc.status_code
    # Litestar raises a bare ClientException for a body that is not JSON at all.
    if type(exc) is ClientException and status == 400:
        return _respond(protocol_error(400, "malformed", exc.detail).body)
    if isinstance(exc, ValidationException):
        return _respond(protocol_error(400, "malformed", validation_detail(exc.extra) or exc.detail).body)
    if isinstance(exc, NotAuthorizedException):
        return _respond(protocol_error(401, "unauthenticated").body)
    if isinstance(exc, PermissionDeniedException):
        return _respond(protocol_error(403, "forbidden").body)
    if isinstance(exc, NotFoundException):
        return _respond(protocol_error(404, "not_found").body)
    if status == 413:
        return _respond(protocol_error(413, "too_large").body)
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error("http error %s: %s", status, exc.detail)
        return _respond(protocol_error(status, "internal").body)
    if status == 405:
        return _respond(protocol_error(405, "method_not_allowed").body)
    return _respond(protocol_error(status, "http_error", exc.detail).body)


def handle_unavailable(_: Request, exc: Exception) -> Response[ErrorBody]:  # type: ignore[type-arg]
    """The database (or another backend) is unreachable: nothing was done, the client may retry."""
    log.warning("backend unavailable: %s", exc)
    return _respond(protocol_error(503, "unavailable").body)


def handle_unexpected(_: Request, exc: Exception) -> Response[ErrorBody]:  # type: ignore[type-arg]
    log.exception("unexpected error", exc_info=exc)
    return _respond(protocol_error(500, "internal").body)


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    Unavailable: handle_unavailable,
    SQLAlchemyError: handle_unavailable,
    OSError: handle_unavailable,  # asyncpg reports a refused connection as a bare OSError
    Exception: handle_unexpected,
}
