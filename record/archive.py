"""A verifiable archive of a closed session: one zip with every document, the public log, the audit chains, the
inputs, and a manifest (`SHA256SUMS`, the format `sha256sum -c` reads) with the SHA-256 of every other part.

`Bundle` builds the parts from what the server gathered (`Sources`) — each on demand, so one resolution can be
previewed without typesetting the rest — and `Bundle.archive()` zips them all. `verify_archive` checks an archive
offline (`kyhop archive verify FILE`): every part against the manifest, the public log's shape, every audit chain
row by row, the head hashes against those the minutes print, the inputs against their audited edits, and any
signature. It names each failure, the first one first.

What anchors the archive: the minutes print the head hash of every audit chain it carries and the SHA-256 of its
public event log (`events:session:<id>`). The chair signs the minutes (on paper, or by PAdES, record/signing.py);
a later copy whose heads differ from the signed minutes is not the session's record, however consistent it is
inside. Byte-stable: the same log, resolutions, audit rows and inputs give the same zip (entries sorted, every
timestamp the session's close, fixed permissions, deflate level 9 with the same zlib) — except signed PDFs, which
carry their signing time (see record/signing.py), so signatures.json records each one's unsigned prefix.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from meeting.actors import Actor, Audience, Role
from meeting.messages import Event
from meeting.protocol import EventMessage
from meeting.resolutions import Resolution
from record import akn, export, pdf, words
from record.inputs import StoredInputs, assemble
from record.projection import Projection, project
from record.signing import PdfSigner, SignedPart, check_signature

FORMAT = "kyhop-archive/1"
MANIFEST = "SHA256SUMS"
META = "archive.json"
SIGNATURES = "signatures.json"
EVENTS = "log/events.jsonl"
AUDIT = "log/audit.jsonl"
INPUTS = "log/inputs.json"
DOCUMENTS = "log/documents.json"
RECORD_JSON = "data/ky-hop.json"
VOTES_CSV = "data/bieu-quyet.csv"
ATTENDANCE_CSV = "data/diem-danh.csv"
MINUTES_PDF = "pdf/bien-ban-ky-hop.pdf"
MINUTES_AKN = "akn/bien-ban-ky-hop.xml"
EVENTS_HEAD = "events:"  # + the session's stream id: the key of the public log's SHA-256 among the minutes' heads
AUDIT_FIELDS = ("chain", "n", "at", "actor", "command", "detail", "outcome", "prev_hash", "hash")
PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))
_LINE = re.compile(r"([0-9a-f]{64})  (\S[^\n]*)")


def resolution_pdf(number: str) -> str:
    return f"pdf/nghi-quyet-{akn.slug(number)}.pdf"


def resolution_akn(number: str) -> str:
    return f"akn/nghi-quyet-{akn.slug(number)}.xml"


def count_record_pdf(subject_id: str) -> str:
    return f"pdf/bien-ban-kiem-phieu-{subject_id}.pdf"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Sources:
    """What the server reads for one closed session (server/record_service.py)."""

    council_id: str
    session_id: str
    log: list[tuple[int, Audience, Event]]  # the session's ordered log, as stored (sealed choices are not in it)
    resolutions: list[Resolution]  # the council's; the projection keeps this session's
    audit: list[dict[str, Any]]  # rows of the chains the archive carries, each chain from its row 1, in order
    documents: list[dict[str, Any]]  # the session's document versions with their SHA-256
    stored: StoredInputs


def public_log(log: Iterable[tuple[int, Audience, Event]]) -> bytes:
    """The events the public may see (meeting/views.py: the audience decides), one `EventMessage` per line."""
    enc = msgspec.json.Encoder()
    return b"".join(enc.encode(EventMessage(seq=s, event=e)) + b"\n" for s, a, e in log if a.admits(PUBLIC))


def audit_lines(rows: Iterable[dict[str, Any]]) -> bytes:
    enc = msgspec.json.Encoder()
    return b"".join(enc.encode({k: r[k] for k in AUDIT_FIELDS}) + b"\n" for r in rows)


def chain_heads(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    return {r["chain"]: r["hash"] for r in rows}


class Bundle:
    """A closed session's record: every part made on first request and kept (one lock: typesetting is CPU-bound,
    two parts at once would only share the same core)."""

    def __init__(self, src: Sources, signer: PdfSigner | None = None) -> None:
        self.src = src
        self.signer = signer
        self.events = public_log(src.log)
        self.audit = audit_lines(src.audit)
        self.heads = dict(
            sorted({**chain_heads(src.audit), EVENTS_HEAD + f"session:{src.session_id}": sha256(self.events)}.items())
        )
        self.inputs = assemble(src.stored, self.heads)
        self.projection: Projection = project((e for _, _, e in src.log), src.resolutions, self.inputs)
        self._lock = threading.Lock()
        self._parts: dict[str, bytes] = {}
        self._signed: dict[str, dict[str, Any]] = {}
        self._builders = self._make_builders()
        self.fingerprint = ""  # SHA-256 of the last archive's SHA256SUMS

    def _make_builders(self) -> dict[str, Callable[[], bytes]]:
        pr = self.projection
        b: dict[str, Callable[[], bytes]] = {
            EVENTS: lambda: self.events,
            AUDIT: lambda: self.audit,
            INPUTS: lambda: msgspec.json.encode(self.src.stored),
            DOCUMENTS: lambda: msgspec.json.encode(self.src.documents),
            RECORD_JSON: lambda: export.export_json(pr.record),
            VOTES_CSV: lambda: export.export_csv(pr.record, export.CsvTable.VOTES),
            ATTENDANCE_CSV: lambda: export.export_csv(pr.record, export.CsvTable.ATTENDANCE),
            MINUTES_PDF: lambda: self._signed_pdf(
                MINUTES_PDF, pdf.build_minutes_pdf(pr.minutes_doc()), "Biên bản kỳ họp"
            ),
            MINUTES_AKN: lambda: akn.debate_akn(pr.minutes_doc()),
        }
        for r in pr.resolutions:
            b[resolution_pdf(r.number)] = _bind(self._resolution_pdf, r.number)
            b[resolution_akn(r.number)] = _bind(lambda n: akn.resolution_akn(pr.resolution_doc(n)), r.number)
        for c in pr.count_record_docs():
            b[count_record_pdf(c.subject_id)] = _bind(pdf.build_count_record_pdf, c)
        return b

    def _resolution_pdf(self, number: str) -> bytes:
        doc = self.projection.resolution_doc(number)
        return self._signed_pdf(resolution_pdf(number), pdf.build_resolution_pdf(doc), f"Nghị quyết số {number}")

    def _signed_pdf(self, path: str, unsigned: bytes, reason: str) -> bytes:
        if self.signer is None:
            return unsigned
        signed = self.signer.sign(unsigned, reason)
        self._signed[path] = SignedPart.entry(path, unsigned, self.signer.subject)
        return signed

    def names(self) -> list[str]:
        """Every document part, in archive order (the archive adds archive.json, signatures.json, SHA256SUMS)."""
        return sorted(self._builders)

    def has(self, name: str) -> bool:
        return name in self._builders

    def part(self, name: str) -> bytes:
        with self._lock:
            data = self._parts.get(name)
            if data is None:
                data = self._parts[name] = self._builders[name]()
            return data

    def meta(self) -> bytes:
        rec = self.projection.record
        return msgspec.json.encode(
            {
                "format": FORMAT,
                "council_id": self.src.council_id,
                "session_id": self.src.session_id,
                "title": rec.title,
                "closed_at": rec.closed_at,
                "last_seq": self.src.log[-1][0] if self.src.log else 0,
                "heads": self.heads,
            }
        )

    def archive(self) -> bytes:
        parts = {n: self.part(n) for n in self.names()}
        parts[META] = self.meta()
        with self._lock:
            if self._signed:
                parts[SIGNATURES] = msgspec.json.encode([self._signed[k] for k in sorted(self._signed)])
        self.fingerprint = sha256(manifest(parts))
        closed = self.projection.record.closed_at
        return zip_parts(parts, closed or datetime(1980, 1, 1))


def _bind(f: Callable[[Any], bytes], arg: Any) -> Callable[[], bytes]:
    return lambda: f(arg)


def manifest(parts: dict[str, bytes]) -> bytes:
    return "".join(f"{sha256(parts[n])}  {n}\n" for n in sorted(parts)).encode()


def zip_parts(parts: dict[str, bytes], when: datetime) -> bytes:
    """The parts and their manifest as a zip whose bytes depend only on the parts and `when`."""
    stamp = words.local(when).timetuple()[:6] if when.tzinfo else when.timetuple()[:6]
    everything = {**parts, MANIFEST: manifest(parts)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(everything):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            info.external_attr = 0o100644 << 16
            zf.writestr(info, everything[name], compresslevel=9)
    return buf.getvalue()


# --- verification ---------------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    session_id: str = ""
    parts: int = 0
    events: int = 0
    audit_rows: int = 0
    heads: dict[str, str] = field(default_factory=dict)  # as the minutes print them (checked against the parts)
    signed: dict[str, str] = field(default_factory=dict)  # part -> signer
    fingerprint: str = ""  # SHA-256 of SHA256SUMS: one hash that stands for the whole archive

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [
            f"Hồ sơ kỳ họp / session archive {self.session_id}: {self.parts} phần / parts, {self.events} sự kiện công "
            f"khai / public events, {self.audit_rows} dòng nhật ký / audit rows",
            f"Dấu vân tay / fingerprint (SHA-256 of {MANIFEST}): {self.fingerprint}",
        ]
        lines += [
            f"Chữ ký số nguyên vẹn / signature intact: {p} — {s} (chứng thư chưa đối chiếu nơi tin cậy / certificate "
            "not checked against a trust root)"
            for p, s in sorted(self.signed.items())
        ]
        if not self.ok:
            return "\n".join([*lines, "HỎNG / BROKEN (lỗi đầu tiên trước / first failure first):", *self.problems])
        heads = [f"  {k}  {h}" for k, h in self.heads.items()]
        return "\n".join(
            [*lines, "Toàn vẹn / intact. Mã băm cuối như in trong biên bản / head hashes as in the minutes:", *heads]
        )


def verify_archive(data: bytes) -> Verdict:
    v = Verdict()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
        files = {n: zf.read(n) for n in names}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        v.problems.append(f"không đọc được tệp zip / not a readable zip: {e}")
        return v
    if len(set(names)) != len(names):
        v.problems.append("tệp zip có phần trùng tên / the zip holds two parts of the same name")
    listed = _check_manifest(files, v)
    if listed is None:
        return v
    meta = _json(files, META, v)
    v.session_id = str(meta.get("session_id", "")) if isinstance(meta, dict) else ""
    _check_events(files.get(EVENTS, b""), v)
    rows = _check_audit(files.get(AUDIT, b""), v)
    _check_heads(files, rows, v)
    _check_inputs(files, rows, v)
    _check_signatures(files, v)
    return v


def _check_manifest(files: dict[str, bytes], v: Verdict) -> dict[str, str] | None:
    raw = files.get(MANIFEST)
    if raw is None:
        v.problems.append(f"thiếu / missing {MANIFEST}")
        return None
    v.fingerprint = sha256(raw)
    listed: dict[str, str] = {}
    for i, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        m = _LINE.fullmatch(line)
        if m is None or m.group(2) in listed:
            v.problems.append(f"{MANIFEST} dòng / line {i}: sai định dạng hoặc trùng / malformed or repeated: {line!r}")
            continue
        listed[m.group(2)] = m.group(1)
    for name, want in listed.items():
        if name not in files:
            v.problems.append(f"{name}: có trong {MANIFEST} nhưng thiếu trong tệp / listed but missing")
        elif sha256(files[name]) != want:
            v.problems.append(f"{name}: SHA-256 không khớp {MANIFEST} / does not match {MANIFEST}")
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        v.problems.append(f"{name}: không có trong {MANIFEST} / not listed in {MANIFEST}")
    v.parts = len(listed)
    return listed


def _json(files: dict[str, bytes], name: str, v: Verdict) -> Any:
    try:
        return msgspec.json.decode(files[name])
    except (KeyError, msgspec.DecodeError) as e:
        v.problems.append(f"{name}: không đọc được / unreadable ({e})")
        return None


def _check_events(raw: bytes, v: Verdict) -> None:
    dec = msgspec.json.Decoder(EventMessage)
    last = 0
    for i, line in enumerate(raw.splitlines(), start=1):
        try:
            ev = dec.decode(line)
        except msgspec.DecodeError as e:
            v.problems.append(f"{EVENTS} dòng / line {i}: không phải sự kiện hợp lệ / not a valid event ({e})")
            return
        if ev.seq <= last:
            v.problems.append(f"{EVENTS} dòng / line {i}: số thứ tự {ev.seq} không tăng / seq {ev.seq} out of order")
            return
        last = ev.seq
        v.events += 1


def _check_audit(raw: bytes, v: Verdict) -> list[dict[str, Any]]:
    from server.audit import GENESIS, chain_hash  # the one definition of a row's hash (imports no server state)

    rows: list[dict[str, Any]] = []
    prev: dict[str, tuple[int, str]] = {}
    broken: set[str] = set()
    for i, line in enumerate(raw.splitlines(), start=1):
        try:
            row = msgspec.json.decode(line)
            chain, n = row["chain"], row["n"]
        except (msgspec.DecodeError, KeyError, TypeError) as e:
            v.problems.append(f"{AUDIT} dòng / line {i}: không đọc được / unreadable ({e})")
            return rows
        rows.append(row)
        if chain in broken:
            continue
        last_n, last_hash = prev.get(chain, (0, GENESIS))
        where = f"{AUDIT} dòng / line {i}: chuỗi / chain {chain} row {n}"
        problem = None
        if n != last_n + 1:
            problem = f"{where}: thiếu dòng / expected row {last_n + 1} (a row is missing)"
        elif row.get("prev_hash") != last_hash:
            problem = f"{where}: sai liên kết / prev_hash does not match row {last_n}"
        elif chain_hash(last_hash, row) != row.get("hash"):
            problem = f"{where}: nội dung bị sửa / content changed (hash mismatch)"
        if problem:
            v.problems.append(problem)
            broken.add(chain)
            continue
        prev[chain] = (n, row["hash"])
    v.audit_rows = len(rows)
    return rows


def _check_heads(files: dict[str, bytes], rows: list[dict[str, Any]], v: Verdict) -> None:
    computed = {**chain_heads(rows), f"{EVENTS_HEAD}session:{v.session_id}": sha256(files.get(EVENTS, b""))}
    record = _json(files, RECORD_JSON, v)
    shown: dict[str, str] = record.get("audit_heads", {}) if isinstance(record, dict) else {}
    v.heads = dict(sorted(shown.items()))
    for key in sorted(set(computed) | set(shown)):
        if shown.get(key) != computed.get(key):
            v.problems.append(
                f"{RECORD_JSON}: mã băm cuối của {key} trong biên bản khác với nhật ký / the minutes' head of {key} "
                f"({shown.get(key, '—')}) differs from the archive's ({computed.get(key, '—')})"
            )
    minutes = files.get(MINUTES_PDF)
    if minutes is None:
        v.problems.append(f"thiếu / missing {MINUTES_PDF}")
        return
    text = _pdf_text(minutes)
    for key, h in v.heads.items():
        if h not in text:
            v.problems.append(f"{MINUTES_PDF}: không in mã băm cuối của {key} / does not print the head of {key}")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace("\n", "")
    except (PdfReadError, ValueError, KeyError, TypeError):
        return ""


def _check_inputs(files: dict[str, bytes], rows: list[dict[str, Any]], v: Verdict) -> None:
    """log/inputs.json must be what the last audited edit of each input says (record chains, server/record_store)."""
    try:
        stored = msgspec.json.decode(files.get(INPUTS, b""), type=StoredInputs)
    except msgspec.DecodeError as e:
        v.problems.append(f"{INPUTS}: không đọc được / unreadable ({e})")
        return
    edits: dict[str, Any] = {"council": None, "session": msgspec.to_builtins(StoredInputs().session), "drafts": {}}
    for r in rows:
        chain: str = r["chain"]
        if not chain.startswith("record:") or r.get("outcome") != "accepted":
            continue
        try:
            d = msgspec.json.decode(r["detail"])
            key, value = d["key"], d["value"]
        except (msgspec.DecodeError, KeyError, TypeError):
            continue
        if key == "settings":
            edits["council" if chain.startswith("record:council:") else "session"] = value
        elif key.startswith("draft:"):
            edits["drafts"][key.removeprefix("draft:")] = value
    want = msgspec.to_builtins(msgspec.convert(edits, StoredInputs))
    if msgspec.to_builtins(stored) != want:
        v.problems.append(f"{INPUTS}: khác với lần sửa cuối trong nhật ký / differs from the last audited edits")


def _check_signatures(files: dict[str, bytes], v: Verdict) -> None:
    if SIGNATURES not in files:
        return
    entries = _json(files, SIGNATURES, v)
    for e in entries or []:
        path = e.get("path", "")
        data = files.get(path)
        if data is None:
            v.problems.append(f"{SIGNATURES}: {path} thiếu / missing")
            continue
        size = int(e.get("unsigned_size", 0))
        if sha256(data[:size]) != e.get("unsigned_sha256"):
            v.problems.append(f"{path}: phần chưa ký không khớp / the unsigned prefix does not match {SIGNATURES}")
            continue
        ok, who = check_signature(data)
        if not ok:
            v.problems.append(f"{path}: chữ ký số không hợp lệ / signature invalid: {who}")
        else:
            v.signed[path] = who
