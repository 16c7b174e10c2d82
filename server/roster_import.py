"""The council's roster (danh sách đại biểu) imported from XLSX or CSV, previewed before anything is written.

Each row becomes a `seat_delegate` command, checked by the council domain itself (`meeting.council.decide`
against the council as it is, as the caller) so the preview shows exactly the refusals the import would meet, row
by row, in Vietnamese and English: a missing name, a malformed or repeated id, an id already on the roster. The
file is read with the petitions importer's readers (openpyxl for XLSX, UTF-8 CSV with the delimiter Excel picks),
so a malformed workbook or a CSV in another encoding is one clear refusal, not a row list. Nothing is written
until the same file comes back with the preview's hash (`confirm`); every row's command id is made of that hash
and the row, so a retried confirm seats each delegate once.

Columns are found by their header, in Vietnamese or English, with or without diacritics: "Mã đại biểu" /
delegate_id and "Họ và tên" / name (both required).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from meeting import council
from meeting.actors import Actor, Context
from meeting.errors import DomainError
from server.petitions_import import RowError, TableError, digest, read_columns

# A province's roster is at most 125 rows (Hà Nội, HCMC; Law 72/2025/QH15 art. 30), a few KB as CSV and ~10 KB
# as XLSX; 1 MB refuses anything that is not such a list before it is parsed.
MAX_FILE = 1024 * 1024
COLUMNS = {
    "delegate_id": ("ma dai bieu", "ma", "ma so", "delegate_id", "id"),
    "name": ("ho va ten", "ho ten", "ten dai bieu", "name", "full name"),
}


class PlannedDelegate(msgspec.Struct, frozen=True, kw_only=True):
    row: int
    delegate_id: str
    name: str
    seated_already: bool = False  # on the roster with this name: a retried confirm, not an error


class RosterPreview(msgspec.Struct, frozen=True, kw_only=True):
    """What the import would seat (`delegates`) and what it would refuse (`errors`); `hash` confirms it."""

    hash: str
    rows: int
    delegates: list[PlannedDelegate]
    errors: list[RowError]


def read_roster(data: bytes, fmt: str) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    columns, body = read_columns(data, fmt, COLUMNS)
    if len(columns) < len(COLUMNS):
        raise TableError(
            "Thiếu cột bắt buộc: Mã đại biểu, Họ và tên (ở dòng đầu của bảng).",
            "Missing required columns: delegate_id, name (Mã đại biểu, Họ và tên) in the first row.",
        )
    if not body:
        raise TableError("Bảng không có dòng đại biểu nào.", "The table has no delegate rows.")
    return columns, body


def plan(
    data: bytes, fmt: str, state: council.CouncilState, actor: Actor, now: datetime
) -> tuple[RosterPreview, list[Any]]:
    """The preview and the commands it stands for, one per planned row (None: seated already)."""
    h = digest(data)
    columns, body = read_roster(data, fmt)

    def get(cells: list[str], name: str) -> str:
        i = columns[name]
        return cells[i] if i < len(cells) else ""

    ctx = Context(actor=actor, now=now)
    planned: list[PlannedDelegate] = []
    commands: list[Any] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row, cells in body:
        did, name = get(cells, "delegate_id"), get(cells, "name")
        if did in seen:
            errors.append(
                RowError(
                    row=row,
                    code="duplicate_id",
                    message_vi=f"Mã đại biểu {did} trùng với dòng {seen[did]}.",
                    message_en=f"Delegate id {did} repeats row {seen[did]}.",
                )
            )
            continue
        if did:
            seen[did] = row
        cmd = council.SeatDelegate(delegate_id=did, name=name)
        on_roster = state.delegates.get(did)
        if on_roster is not None and on_roster.name == name.strip():
            planned.append(PlannedDelegate(row=row, delegate_id=did, name=name, seated_already=True))
            commands.append(None)
            continue
        try:
            council.decide(state, cmd, ctx)  # the domain's own checks; decide changes nothing
        except DomainError as e:
            r = e.refusal
            errors.append(RowError(row=row, code=r.code.value, message_vi=r.message_vi, message_en=r.message_en))
            continue
        planned.append(PlannedDelegate(row=row, delegate_id=did, name=name.strip()))
        commands.append(cmd)
    return RosterPreview(hash=h, rows=len(body), delegates=planned, errors=errors), commands
