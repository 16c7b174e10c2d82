"""The session's archive (record/archive.py): byte-stable, and `verify_archive` / `kyhop archive verify` name the
first failure when any kind of part is tampered with — a PDF byte, a manifest line, an audit row, an event, the
inputs — also when the forger rewrote the manifest to match. Built from the demo session run in memory, with real
audit chains made by server/audit.py's hash."""

from __future__ import annotations

import functools
import io
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import msgspec
import pytest

from record import archive as ar
from record.inputs import DraftText, StoredInputs, demo_stored
from server.audit import GENESIS, chain_hash
from tests.record_session import demo_resolutions, demo_run

SESSION = "ky-hop-4"
COUNCIL = "hdnd-minh-hoa"


def _chain(name: str, items: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rows, prev = [], GENESIS
    for n, (command, detail) in enumerate(items, start=1):
        row: dict[str, Any] = {
            "chain": name, "n": n, "at": f"2026-12-09T08:{n:02d}:00+00:00", "actor": "vanphong secretary",
            "command": command, "detail": detail, "outcome": "accepted", "prev_hash": prev,
        }  # fmt: skip
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    return rows


def _edit(key: str, value: Any) -> str:
    return msgspec.json.encode({"key": key, "value": value}).decode()


def sources(stored: StoredInputs | None = None) -> ar.Sources:
    stored = stored or demo_stored()
    log, seq = [], 0
    for r in demo_run().log:
        if not r.audience.sealed:  # the store keeps sealed choices apart from the ordered log
            seq += 1
            log.append((seq, r.audience, r.event))
    session = [(type(e).__name__, "{}") for _, _, e in log[:12]]
    drafts = [("set_draft_resolution", _edit(f"draft:{k}", d)) for k, d in stored.drafts.items()]
    audit = (
        _chain(f"session:{SESSION}", session)
        + _chain(f"record:council:{COUNCIL}", [("set_record_settings", _edit("settings", stored.council))])
        + _chain(f"record:session:{SESSION}", [("set_record_settings", _edit("settings", stored.session)), *drafts])
    )
    return ar.Sources(
        council_id=COUNCIL, session_id=SESSION, log=log, resolutions=demo_resolutions(), audit=audit,
        documents=[{"id": "du-thao", "access": "public", "versions": [{"version": 1, "sha256": "ab" * 32}]}],
        stored=stored,
    )  # fmt: skip


@functools.cache
def archive() -> bytes:
    return ar.Bundle(sources()).archive()


def files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rezip(parts: dict[str, bytes], *, fix_manifest: bool) -> bytes:
    """The archive with changed parts; `fix_manifest`: as a forger would, with SHA256SUMS recomputed."""
    if fix_manifest:
        parts = {n: d for n, d in parts.items() if n != ar.MANIFEST}
        parts[ar.MANIFEST] = ar.manifest(parts)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n in sorted(parts):
            zf.writestr(n, parts[n])
    return buf.getvalue()


def first_problem(data: bytes) -> str:
    v = ar.verify_archive(data)
    assert not v.ok
    return v.problems[0]


def test_the_archive_holds_every_part_and_verifies() -> None:
    f = files(archive())
    assert set(f) == {
        ar.MANIFEST, ar.META, ar.EVENTS, ar.AUDIT, ar.INPUTS, ar.DOCUMENTS, ar.RECORD_JSON, ar.VOTES_CSV,
        ar.ATTENDANCE_CSV, ar.MINUTES_PDF, ar.MINUTES_AKN, "pdf/nghi-quyet-01-2026-nq-hdnd.pdf",
        "pdf/nghi-quyet-01-nq-hdnd.pdf", "akn/nghi-quyet-01-2026-nq-hdnd.xml", "akn/nghi-quyet-01-nq-hdnd.xml",
        "pdf/bien-ban-kiem-phieu-bq-2.pdf", "pdf/bien-ban-kiem-phieu-ltn-1.pdf",
    }  # fmt: skip
    # The manifest is sha256sum's format, one line per other part.
    lines = f[ar.MANIFEST].decode().splitlines()
    assert len(lines) == len(f) - 1 and all(len(x.split("  ")[0]) == 64 for x in lines)
    v = ar.verify_archive(archive())
    assert v.ok, v.text()
    assert v.parts == 16 and v.audit_rows == 12 + 1 + 3
    # The heads the minutes print: each audit chain's last row, and the public log's SHA-256.
    assert set(v.heads) == {f"session:{SESSION}", f"record:council:{COUNCIL}", f"record:session:{SESSION}",
                            f"events:session:{SESSION}"}  # fmt: skip
    assert v.heads[f"events:session:{SESSION}"] == ar.sha256(f[ar.EVENTS])
    assert "Toàn vẹn / intact" in v.text() and all(h in v.text() for h in v.heads.values())


def test_the_public_log_holds_only_what_the_public_may_see() -> None:
    lines = files(archive())[ar.EVENTS].decode().splitlines()
    kinds = {msgspec.json.decode(x)["event"]["type"] for x in lines}
    assert "vote_round_closed" in kinds and "session_closed" in kinds
    # Who voted what (named rounds), receipts, questions before they are called, the committee's counts: not public.
    hidden = {"ballot_cast", "ballot_receipt", "delegate_voted", "secret_ballot", "question_registered", "poll_counted"}
    assert not kinds & hidden, kinds & hidden


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert ar.Bundle(sources()).archive() == archive()
    # Every entry carries the session's close as its time (Vietnam time), Unix permissions, sorted names.
    with zipfile.ZipFile(io.BytesIO(archive())) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {infos[0].date_time} and {i.create_system for i in infos} == {3}


def test_a_changed_pdf_byte_is_named() -> None:
    f = files(archive())
    pdf = bytearray(f[ar.MINUTES_PDF])
    pdf[len(pdf) // 2] ^= 0x01
    f[ar.MINUTES_PDF] = bytes(pdf)
    assert first_problem(rezip(f, fix_manifest=False)).startswith(f"{ar.MINUTES_PDF}: SHA-256 không khớp")


@pytest.mark.parametrize("how", ["hash", "malformed", "dropped"])
def test_a_changed_manifest_line_is_named(how: str) -> None:
    f = files(archive())
    lines = f[ar.MANIFEST].decode().splitlines(keepends=True)
    i = next(k for k, x in enumerate(lines) if x.endswith(f"  {ar.VOTES_CSV}\n"))
    if how == "hash":
        lines[i] = "0" * 64 + lines[i][64:]
        want = f"{ar.VOTES_CSV}: SHA-256 không khớp"
    elif how == "malformed":
        lines[i] = lines[i].replace("  ", " ", 1)
        want = f"{ar.MANIFEST} dòng / line {i + 1}: sai định dạng"
    else:
        del lines[i]
        want = f"{ar.VOTES_CSV}: không có trong {ar.MANIFEST}"
    f[ar.MANIFEST] = "".join(lines).encode()
    assert first_problem(rezip(f, fix_manifest=False)).startswith(want)


def _tamper_audit(f: dict[str, bytes], line: int) -> None:
    lines = f[ar.AUDIT].splitlines(keepends=True)
    row = msgspec.json.decode(lines[line - 1])
    row["actor"] = "ai-do secretary"
    lines[line - 1] = msgspec.json.encode(row) + b"\n"
    f[ar.AUDIT] = b"".join(lines)


def test_a_changed_audit_row_is_named() -> None:
    f = files(archive())
    _tamper_audit(f, 5)
    assert first_problem(rezip(f, fix_manifest=False)).startswith(f"{ar.AUDIT}: SHA-256 không khớp")
    # A forger who also rewrote the manifest: the chain names the row.
    want = f"{ar.AUDIT} dòng / line 5: chuỗi / chain session:{SESSION} row 5: nội dung bị sửa"
    assert first_problem(rezip(f, fix_manifest=True)).startswith(want)


def test_a_removed_audit_row_is_named() -> None:
    f = files(archive())
    lines = f[ar.AUDIT].splitlines(keepends=True)
    del lines[3]
    f[ar.AUDIT] = b"".join(lines)
    want = f"{ar.AUDIT} dòng / line 4: chuỗi / chain session:{SESSION} row 5: thiếu dòng"
    assert first_problem(rezip(f, fix_manifest=True)).startswith(want)


def test_a_changed_event_is_named() -> None:
    f = files(archive())
    lines = f[ar.EVENTS].splitlines(keepends=True)
    k = next(i for i, x in enumerate(lines) if b'"vote_round_closed"' in x)
    lines[k] = lines[k].replace(b'"passed":true', b'"passed":false', 1)
    assert lines[k] != files(archive())[ar.EVENTS].splitlines(keepends=True)[k]
    f[ar.EVENTS] = b"".join(lines)
    assert first_problem(rezip(f, fix_manifest=False)).startswith(f"{ar.EVENTS}: SHA-256 không khớp")
    # With the manifest rewritten, the log no longer has the SHA-256 the minutes print.
    assert first_problem(rezip(f, fix_manifest=True)).startswith(
        f"{ar.RECORD_JSON}: mã băm cuối của events:session:{SESSION} trong biên bản khác với nhật ký"
    )


def test_an_event_log_out_of_order_or_unreadable_is_named() -> None:
    f = files(archive())
    lines = f[ar.EVENTS].splitlines(keepends=True)
    lines[2], lines[3] = lines[3], lines[2]
    f[ar.EVENTS] = b"".join(lines)
    assert f"{ar.EVENTS} dòng / line 4: số thứ tự" in ar.verify_archive(rezip(f, fix_manifest=True)).problems[0]
    f[ar.EVENTS] = b'{"type":"event","seq":1,"event":{"type":"vote_rigged"}}\n'
    problem = ar.verify_archive(rezip(f, fix_manifest=True)).problems[0]
    assert f"{ar.EVENTS} dòng / line 1: không phải sự kiện hợp lệ" in problem


def test_inputs_that_differ_from_their_audited_edits_are_named() -> None:
    f = files(archive())
    stored = msgspec.json.decode(f[ar.INPUTS], type=StoredInputs)
    forged = msgspec.structs.replace(stored, drafts={**stored.drafts, "nq-ngan-sach": DraftText(summary="khác")})
    f[ar.INPUTS] = msgspec.json.encode(forged)
    assert first_problem(rezip(f, fix_manifest=True)).startswith(f"{ar.INPUTS}: khác với lần sửa cuối")


def test_not_a_zip_and_a_missing_manifest() -> None:
    assert first_problem(b"PK\x03\x04 not really").startswith("không đọc được tệp zip")
    f = files(archive())
    del f[ar.MANIFEST]
    assert first_problem(rezip(f, fix_manifest=False)) == f"thiếu / missing {ar.MANIFEST}"


def test_kyhop_archive_verify(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(archive())
    f = files(archive())
    _tamper_audit(f, 2)
    bad.write_bytes(rezip(f, fix_manifest=True))
    kyhop = [sys.executable, "-m", "server.cli", "archive", "verify"]
    ok = subprocess.run([*kyhop, str(good)], capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    v = ar.verify_archive(archive())
    assert all(f"  {k}  {h}" in ok.stdout for k, h in v.heads.items())
    broken = subprocess.run([*kyhop, str(bad)], capture_output=True, text=True, timeout=120, check=False)
    assert broken.returncode == 1
    assert "HỎNG / BROKEN" in broken.stdout and f"chain session:{SESSION} row 2" in broken.stdout
    missing = subprocess.run([*kyhop, str(tmp_path / "none.zip")], capture_output=True, text=True, check=False)
    assert missing.returncode == 2 and "không đọc được tệp" in missing.stderr
