"""A delegate group's summary table of petitions (bảng tổng hợp kiến nghị cử tri), imported from XLSX or CSV.

The table is read into `record_petition` commands, one per row; each row is checked by the domain itself
(`meeting.petitions.decide` against the register as it is, as the caller), so the preview shows exactly the
refusals the import would meet, row by row, in Vietnamese and English. Nothing is written by the preview. The
import runs when the same file is sent again with the preview's hash (`confirm`): every row becomes a command
whose id is made of the hash and the row, so a confirm that is retried records each petition once.

Columns are found by their header, in Vietnamese or English, with or without diacritics: "Mã buổi TXCT" /
meeting_id (required), "Nội dung kiến nghị" / text (required), "Địa bàn" / area, "Cử tri kiến nghị" /
petitioner, "Mã kiến nghị" / petition_id (else `<meeting>-<hash>-<row>`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import datetime
from typing import Any

import msgspec

from documents.search import fold
from meeting import petitions as pet
from meeting.actors import Actor, Context
from meeting.errors import DomainError
from meeting.petitions_messages import RecordPetition
from meeting.petitions_model import PetitionsState

MAX_FILE = 2 * 1024 * 1024  # a group's table for one round of meetings: tens of rows, a few KB; 2 MB is ample
MAX_ROWS = 2000  # a province's whole round is ~1 000 petitions before merging
COLUMNS = {
    "meeting_id": ("ma buoi txct", "buoi txct", "ma buoi tiep xuc", "meeting_id", "meeting"),
    "text": ("noi dung kien nghi", "noi dung", "kien nghi", "text"),
    "area": ("dia ban", "area"),
    "petitioner": ("cu tri kien nghi", "cu tri", "nguoi kien nghi", "petitioner"),
    "petition_id": ("ma kien nghi", "petition_id", "id"),
}
REQUIRED = ("meeting_id", "text")


class TableError(Exception):
    """The file is not a table this importer reads: nothing in it was checked row by row."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


class RowError(msgspec.Struct, frozen=True, kw_only=True):
    row: int  # the row's number in the sheet (the header is row 1)
    code: str
    message_vi: str
    message_en: str


class Planned(msgspec.Struct, frozen=True, kw_only=True):
    row: int
    petition_id: str
    meeting_id: str
    text: str
    area: str


class Preview(msgspec.Struct, frozen=True, kw_only=True):
    """What the import would record (`petitions`) and what it would refuse (`errors`); `hash` confirms it."""

    hash: str
    rows: int
    petitions: list[Planned]
    errors: list[RowError]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # imported here: only an XLSX import needs it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise TableError("Tệp không phải bảng tính XLSX đọc được.", "The file is not a readable XLSX workbook.") from e
    try:
        sheet = book.worksheets[0]
        out = []
        for values in sheet.iter_rows(values_only=True):
            out.append([_cell(v) for v in values])
            if len(out) > MAX_ROWS + 1:
                break
        return out
    finally:
        book.close()


def _rows_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as e:
        raise TableError("Tệp CSV phải mã hóa UTF-8.", "A CSV file must be UTF-8 encoded.") from e
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel in a Vietnamese locale separates with ";"
    try:
        return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)][: MAX_ROWS + 2]
    except csv.Error as e:
        raise TableError("Tệp CSV bị lỗi định dạng.", "The CSV file is malformed.") from e


def read_columns(data: bytes, fmt: str, known: dict[str, Any]) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """(column name → index, [(sheet row number, cells)]) from the first sheet: each of `known`'s columns found by
    one of its aliases (folded, lower case) in the first row; blank rows dropped; at most MAX_ROWS rows. The
    petitions' and the roster's imports share it, each checking its own required columns."""
    rows = _rows_xlsx(data) if fmt == "xlsx" else _rows_csv(data)
    if not rows:
        raise TableError("Bảng trống.", "The table is empty.")
    header = [" ".join(fold(h).lower().split()) for h in rows[0]]
    columns: dict[str, int] = {}
    for name, aliases in known.items():
        for i, h in enumerate(header):
            if h in aliases:
                columns[name] = i
                break
    body = [(n + 2, r) for n, r in enumerate(rows[1:]) if any(c for c in r)]
    if len(body) > MAX_ROWS:
        raise TableError(f"Bảng có quá {MAX_ROWS} dòng.", f"The table has more than {MAX_ROWS} rows.")
    return columns, body


def read_table(data: bytes, fmt: str) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """A delegate group's summary table of petitions (`read_columns` with this importer's columns)."""
    columns, body = read_columns(data, fmt, COLUMNS)
    missing = [n for n in REQUIRED if n not in columns]
    if missing:
        raise TableError(
            "Thiếu cột bắt buộc: Mã buổi TXCT, Nội dung kiến nghị.",
            f"Missing required columns: {', '.join(missing)} (Mã buổi TXCT, Nội dung kiến nghị).",
        )
    return columns, body


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plan(data: bytes, fmt: str, state: PetitionsState, actor: Actor, now: datetime) -> tuple[Preview, list[Any]]:
    """The preview and the commands it stands for, one per planned row (None: that row is recorded already)."""
    h = digest(data)
    columns, body = read_table(data, fmt)

    def get(cells: list[str], name: str) -> str:
        i = columns.get(name)
        return cells[i] if i is not None and i < len(cells) else ""

    ctx = Context(actor=actor, now=now)
    planned: list[Planned] = []
    commands: list[Any] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for row, cells in body:
        meeting_id = get(cells, "meeting_id")
        pid = get(cells, "petition_id") or f"{meeting_id[:60]}-{h[:8]}-{row}"
        cmd = RecordPetition(
            petition_id=pid,
            meeting_id=meeting_id,
            text=get(cells, "text"),
            area=get(cells, "area"),
            petitioner=get(cells, "petitioner"),
        )
        if pid in seen:
            errors.append(
                RowError(
                    row=row,
                    code="duplicate_id",
                    message_vi=f"Mã kiến nghị {pid} trùng với một dòng trên.",
                    message_en=f"Petition id {pid} repeats an earlier row.",
                )
            )
            continue
        seen.add(pid)
        done = state.items.get(pid)
        if done is not None and done.text == cmd.text.strip() and meeting_id in done.meeting_ids():
            # Recorded already, by this import confirmed before (a retry) or an identical one: not an error.
            planned.append(Planned(row=row, petition_id=pid, meeting_id=meeting_id, text=cmd.text, area=cmd.area))
            commands.append(None)
            continue
        try:
            pet.decide(state, cmd, ctx)  # the domain's own checks; decide changes nothing
        except DomainError as e:
            r = e.refusal
            errors.append(RowError(row=row, code=r.code.value, message_vi=r.message_vi, message_en=r.message_en))
            continue
        planned.append(Planned(row=row, petition_id=pid, meeting_id=meeting_id, text=cmd.text, area=cmd.area))
        commands.append(cmd)
    return Preview(hash=h, rows=len(body), petitions=planned, errors=errors), commands
