"""The record as data: JSON (the `SessionRecord` struct, with a JSON Schema for other systems) and CSV.

The JSON is `msgspec`'s encoding of `record.model.SessionRecord`, keys in declaration order, so the same session
gives the same bytes; `json_schema()` documents it (docs/RECORD.md). The CSVs are for spreadsheets: one row per
option of every vote round, and one row per delegate's attendance, UTF-8 with a byte-order mark so that Excel —
the secretariat's tool — reads the Vietnamese letters correctly.
"""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from typing import Any

import msgspec

from record.model import OptionLine, SessionRecord


class CsvTable(StrEnum):
    VOTES = "votes"
    ATTENDANCE = "attendance"


VOTE_COLUMNS = (
    "round_id", "item_id", "motion", "mode", "status", "option_key", "option_label", "count", "share_of_all",
    "ballots_collected", "total_delegates", "pass_rule", "needed", "passed", "resolution_number", "opened_at",
    "closed_at",
)  # fmt: skip
ATTENDANCE_COLUMNS = ("delegate_id", "name", "present", "checked_in_at", "absence_reason")


def export_json(record: SessionRecord) -> bytes:
    return msgspec.json.encode(record)


def load_json(data: bytes) -> SessionRecord:
    """Decode (and validate) an exported record."""
    return msgspec.json.decode(data, type=SessionRecord)


def json_schema() -> dict[str, Any]:
    return msgspec.json.schema(SessionRecord)


def _iso(value: Any) -> str:
    return "" if value is None else value.isoformat()


def export_csv(record: SessionRecord, table: CsvTable = CsvTable.VOTES) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180 line ends
    if table is CsvTable.VOTES:
        w.writerow(VOTE_COLUMNS)
        for v in record.votes:
            options: list[OptionLine | None] = list(v.options) or [None]  # a cancelled round: one row, no option
            for o in options:
                w.writerow(
                    [
                        v.round_id, v.item_id, v.motion, v.mode_vi, v.status, o.key if o else "",
                        o.label if o else "", o.count if o else "", f"{o.share_of_all:.2f}" if o else "",
                        v.ballots_collected, v.total_delegates, v.pass_rule, v.needed, str(v.passed).lower(),
                        v.resolution_number, _iso(v.opened_at), _iso(v.closed_at),
                    ]
                )  # fmt: skip
    else:
        w.writerow(ATTENDANCE_COLUMNS)
        for a in record.attendance:
            w.writerow([a.delegate_id, a.name, str(a.present).lower(), _iso(a.checked_in_at), a.absence_reason])
    return buf.getvalue().encode("utf-8-sig")
