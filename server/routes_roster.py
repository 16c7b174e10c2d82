"""Roster import over HTTP (secretariat): preview a CSV or XLSX list of delegates, then confirm it (see
server/roster_import.py). Same shape as the petitions import: the body is the file; without `confirm` nothing is
written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.types import ControllerRouterHandler

from meeting.actors import Role
from server import roster_import
from server.auth import Principal, provide_principal, require_council, require_roles
from server.errors import ApiError
from server.openapi import BEARER, errors
from server.petitions_import import RowError, TableError
from server.routes import READ, _council_state, _submit
from server.services import Services


class RosterImportResult(msgspec.Struct, frozen=True, kw_only=True):
    hash: str
    seated: list[str]  # delegate ids, in the table's order (those seated already included)
    refused: list[RowError]  # rows the council refused between the preview and the import


_TEXT = {
    409: "The file differs from the previewed one (`import_changed`)",
    413: "The file is larger than 1 MB",
    422: "Not a table this importer reads (`bad_table`), or rows with errors at confirm (`import_has_errors`)",
}


async def _import(
    services: Services,
    principal: Principal,
    request: Request[Any, Any, Any],
    council_id: str,
    fmt: str,
    confirm: str | None,
) -> roster_import.RosterPreview | RosterImportResult:
    require_council(principal, council_id)
    require_roles(principal, Role.SECRETARY)
    state = await _council_state(services, council_id)
    data = await request.body()
    try:
        preview, commands = roster_import.plan(data, fmt, state, principal.actor, datetime.now(UTC))
    except TableError as e:
        raise ApiError(422, "bad_table", e.vi, e.en) from e
    if confirm is None:
        return preview
    if confirm != preview.hash:
        raise ApiError(
            409,
            "import_changed",
            "Tệp khác với tệp đã xem trước; hãy xem trước lại.",
            "The file is not the one previewed; preview it again.",
        )
    if preview.errors:
        raise ApiError(
            422,
            "import_has_errors",
            "Bảng còn dòng lỗi; sửa rồi xem trước lại. Chưa có đại biểu nào được ghi.",
            "The table still has rows with errors; fix them and preview again. Nothing was written.",
        )
    seated: list[str] = []
    refused: list[RowError] = []
    for planned, cmd in zip(preview.delegates, commands, strict=True):
        if cmd is None:
            seated.append(planned.delegate_id)
            continue
        cid = f"roster-{preview.hash[:32]}-{planned.row}"  # a retried confirm seats each row once
        try:
            out = await _submit(services, "council", council_id, principal, cid, cmd)
        except ApiError as e:
            b = e.body
            refused.append(RowError(row=planned.row, code=b.code, message_vi=b.message_vi, message_en=b.message_en))
            continue
        if out.ok:
            seated.append(planned.delegate_id)
    return RosterImportResult(hash=preview.hash, seated=seated, refused=refused)


_DESCRIPTION = (
    "The body is the file. Without `confirm`: the preview (who would be seated, and each row's error in "
    "Vietnamese and English); nothing is written. With `confirm` = the preview's hash: each row becomes a "
    "`seat_delegate` council command, checked by the domain as the caller. Columns: Mã đại biểu, Họ và tên."
)


class RosterImportController(Controller):
    path = "/api/councils/{council_id:str}/roster/import"
    tags = ["councils"]
    request_max_body_size = roster_import.MAX_FILE
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @post(
        "/csv",
        status_code=200,
        summary="Preview, then import, the council's roster of delegates from CSV (UTF-8)",
        description=_DESCRIPTION,
        responses=errors(*READ, 409, 413, 422, text=_TEXT),
    )
    async def csv(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        council_id: FromPath[str],
        confirm: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> roster_import.RosterPreview | RosterImportResult:
        return await _import(services, principal, request, council_id, "csv", confirm)

    @post(
        "/xlsx",
        status_code=200,
        summary="Preview, then import, the council's roster of delegates from XLSX (the first sheet)",
        description=_DESCRIPTION,
        responses=errors(*READ, 409, 413, 422, text=_TEXT),
    )
    async def xlsx(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        council_id: FromPath[str],
        confirm: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> roster_import.RosterPreview | RosterImportResult:
        return await _import(services, principal, request, council_id, "xlsx", confirm)


ROUTES: list[ControllerRouterHandler] = [RosterImportController]
