"""JSON and CSV exports of the record (record/export.py): round trips and the documented schema."""

from __future__ import annotations

import csv
import io

import msgspec
import pytest

from record import export
from record.model import SessionRecord
from tests.record_session import demo_projection


def test_json_round_trips_and_is_byte_stable() -> None:
    rec = demo_projection().record
    data = export.export_json(rec)
    assert export.load_json(data) == rec
    assert export.export_json(demo_projection().record) == data
    assert "Tán thành".encode() in data  # UTF-8, not \\u escapes


def test_json_decoding_validates_the_shape() -> None:
    data = msgspec.json.decode(export.export_json(demo_projection().record))
    data["votes"][0]["options"][0]["count"] = "ba mươi chín"
    with pytest.raises(msgspec.ValidationError, match="count"):
        export.load_json(msgspec.json.encode(data))


def test_the_schema_documents_every_field() -> None:
    schema = export.json_schema()
    defs = schema["$defs"]
    assert schema["$ref"] == "#/$defs/SessionRecord"
    assert set(defs["SessionRecord"]["required"]) == set(SessionRecord.__struct_fields__)
    assert {"VoteRecord", "AttendanceEntry", "QuestionRecord", "PollRecord", "ResolutionLine"} <= set(defs)


def rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a byte-order mark: Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_votes_csv_has_a_row_per_option_with_the_record_numbers() -> None:
    rec = demo_projection().record
    got = rows(export.export_csv(rec, export.CsvTable.VOTES))
    assert list(got[0]) == list(export.VOTE_COLUMNS)
    assert len(got) == sum(len(v.options) for v in rec.votes)
    back = {(r["round_id"], r["option_key"]): (int(r["count"]), float(r["share_of_all"])) for r in got}
    assert back == {(v.round_id, o.key): (o.count, o.share_of_all) for v in rec.votes for o in v.options}
    assert got[0]["option_label"] == "Tán thành" and got[0]["resolution_number"] == "01/2026/NQ-HĐND"
    assert got[0]["passed"] == "true" and got[0]["mode"] == "Biểu quyết công khai, điện tử"


def test_attendance_csv_round_trips() -> None:
    rec = demo_projection().record
    got = rows(export.export_csv(rec, export.CsvTable.ATTENDANCE))
    assert [(r["delegate_id"], r["name"], r["present"] == "true", r["absence_reason"]) for r in got] == [
        (a.delegate_id, a.name, a.present, a.absence_reason) for a in rec.attendance
    ]
    assert [r["checked_in_at"] for r in got][:1] == [rec.attendance[0].checked_in_at.isoformat()]  # type: ignore[union-attr]


def test_a_record_exported_before_polls_said_their_mode_still_loads() -> None:
    rec = demo_projection().record
    data = msgspec.to_builtins(rec)
    for poll in data["polls"]:
        assert poll.pop("mode_vi").startswith("điện tử")  # the scripted session's poll: electronic, verifiable
    old = export.load_json(msgspec.json.encode(data))
    assert [p.mode_vi for p in old.polls] == [""] * len(old.polls) and old.polls
