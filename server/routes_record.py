"""HTTP routes of the session's record (docs/RECORD.md): the secretariat edits the inputs, builds, previews and
downloads every document and the archive of a closed session; the public reads the adopted resolutions and the
minutes once the session has closed, nothing before.

Every part of the record is served under the path it has in the archive (`pdf/bien-ban-ky-hop.pdf`, ...), so a
file downloaded here and the same file inside the archive are the same bytes. Building is CPU-bound and runs in a
worker thread (server/record_service.py); each state of the session is built once per worker.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter

from meeting.actors import Role
from meeting.errors import Code, DomainError
from record import akn
from record import archive as ar
from record.inputs import CouncilSettings, DraftText, SessionSettings
from server.auth import Principal, provide_principal, require_council, require_roles
from server.errors import from_refusal, protocol_error
from server.openapi import BEARER, errors
from server.record_service import RecordService, unknown_resolution
from server.routes_accounts import BODY_ERROR_HANDLERS

# A long resolution's typed text is ~20 pages (~100 KB of JSON); the app's 256 KiB limit holds ~40 pages (its
# tables and appendices are attached documents, not typed articles) and refuses anything absurd before it is read.
MAX_BODY = 256 * 1024

# More precise than server/openapi.py's general text for what these routes answer.
_RECORD_TEXT = {
    403: "Not the council's secretariat (`forbidden`, `wrong_council`)",
    404: "No such session, council, agenda item, resolution or part (`unknown_session`, `unknown_council`, "
    "`unknown_item`, `unknown_resolution`, `not_found`)",
    409: "The session has not closed yet (`session_open`)",
    422: "The record cannot be made yet: the council's record settings are missing, or an adopted resolution's "
    "agenda item has no draft text (`invalid`, naming the item)",
}


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    # On every route: 400, each takes a path parameter (server/inbound.py refuses one with a control character);
    # 503, each reads the database.
    return errors(400, 503, *statuses, text=_RECORD_TEXT)


MEDIA = {".pdf": "application/pdf", ".xml": "application/akn+xml", ".csv": "text/csv; charset=utf-8"}


def _file(name: str, data: bytes, download: bool) -> Response[bytes]:
    media = next((m for ext, m in MEDIA.items() if name.endswith(ext)), "application/json")
    if name.endswith(".zip"):
        media = "application/zip"
    base = name.rsplit("/", 1)[-1]
    return Response(
        content=data,
        media_type=media,
        headers={
            "content-disposition": f'{"attachment" if download else "inline"}; filename="{base}"',
            "x-content-sha256": ar.sha256(data),
        },
    )


class ResolutionEntry(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    ref: Annotated[str, msgspec.Meta(description="The number as used in URLs: 01/2026/NQ-HĐND -> 01-2026-nq-hdnd")]
    title: str
    normative: bool
    adopted_on: date
    item_id: str
    has_draft: bool
    pdf: str
    akn: str


class CountRecordEntry(msgspec.Struct, frozen=True, kw_only=True):
    subject_id: str
    summary: str
    pdf: str


class RecordIndex(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    title: str
    closed_at: datetime | None
    resolutions: list[ResolutionEntry]
    count_records: list[CountRecordEntry]
    parts: list[str]  # every part's path (GET …/record/files/{path})
    missing_drafts: list[str]  # agenda items of adopted resolutions that have no draft text yet
    signed: bool  # resolutions and minutes are signed with the configured certificate


class PartOut(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    sha256: str
    size: int


class BuildOut(msgspec.Struct, frozen=True, kw_only=True):
    archive_sha256: str
    archive_size: int
    fingerprint: str  # SHA-256 of the archive's SHA256SUMS
    heads: dict[str, str]  # as the minutes print them
    parts: list[PartOut]


class PublicResolution(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    ref: str
    title: str
    normative: bool
    adopted_on: date
    pdf: str


class PublicRecord(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    title: str
    closed_at: datetime | None
    minutes_pdf: str
    resolutions: list[PublicResolution]


def _base(session_id: str) -> str:
    return f"/api/sessions/{session_id}/record"


def _index(session_id: str, b: ar.Bundle, signed: bool) -> RecordIndex:
    pr = b.projection
    drafts = b.inputs
    res = []
    for r in pr.resolutions:
        d = drafts.draft(r.item_id)
        ref = akn.slug(r.number)
        res.append(
            ResolutionEntry(
                number=r.number, ref=ref, title=r.title, normative=r.normative, adopted_on=r.adopted_on,
                item_id=r.item_id, has_draft=bool(d and d.articles),
                pdf=f"{_base(session_id)}/files/{ar.resolution_pdf(r.number)}",
                akn=f"{_base(session_id)}/files/{ar.resolution_akn(r.number)}",
            )
        )  # fmt: skip
    counts = [
        CountRecordEntry(
            subject_id=c.subject_id,
            summary=c.summary,
            pdf=f"{_base(session_id)}/files/{ar.count_record_pdf(c.subject_id)}",
        )
        for c in pr.count_record_docs()
    ]
    return RecordIndex(
        session_id=session_id, title=pr.record.title, closed_at=pr.record.closed_at, resolutions=res,
        count_records=counts, parts=b.names(), missing_drafts=sorted({r.item_id for r in res if not r.has_draft}),
        signed=signed,
    )  # fmt: skip


class RecordController(Controller):
    """The secretariat's side: inputs, build, preview and download."""

    path = "/api"
    tags = ["record"]
    request_max_body_size = MAX_BODY
    exception_handlers = BODY_ERROR_HANDLERS
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    async def _secretariat(self, record: RecordService, principal: Principal, session_id: str) -> str:
        state, _ = await record.session(session_id)
        council_id = state.hall.council_id
        require_council(principal, council_id)
        require_roles(principal, Role.SECRETARY)
        return council_id

    @get(
        "/councils/{council_id:str}/record-settings",
        summary="The council's record settings",
        description="Issuing body lines, place, council name, term, chair, the 'Căn cứ' lines and recipients of "
        "every resolution. 404 `not_found` until the secretariat has set them.",
        responses=_errors(401, 403, 404),
    )
    async def get_council_settings(
        self, record: NamedDependency[RecordService], principal: NamedDependency[Principal], council_id: FromPath[str]
    ) -> CouncilSettings:
        require_council(principal, council_id)
        require_roles(principal, Role.SECRETARY)
        await record.council(council_id)
        stored = await record.stored(council_id, "")
        if stored.council is None:
            raise protocol_error(404, "not_found", "the council's record settings are not set yet")
        return stored.council

    @put(
        "/councils/{council_id:str}/record-settings",
        summary="Set the council's record settings (audited)",
        description="Replaces the settings; the edit is appended to the audit chain `record:council:<id>`.",
        responses=_errors(400, 401, 403, 404, 413),
    )
    async def put_council_settings(
        self,
        record: NamedDependency[RecordService],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        data: JSONBody[CouncilSettings],
    ) -> CouncilSettings:
        require_council(principal, council_id)
        require_roles(principal, Role.SECRETARY)
        await record.council(council_id)
        await record.put(principal, f"council:{council_id}", "settings", data, "set_record_settings")
        return data

    @get(
        "/sessions/{session_id:str}/record/settings",
        summary="The session's record settings",
        responses=_errors(401, 403, 404),
    )
    async def get_session_settings(
        self, record: NamedDependency[RecordService], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> SessionSettings:
        council_id = await self._secretariat(record, principal, session_id)
        return (await record.stored(council_id, session_id)).session

    @put(
        "/sessions/{session_id:str}/record/settings",
        summary="Set the session's record settings (audited)",
        description="The session's ordinal ('thứ Tư'), its secretary, the minutes' number, reasons for absence "
        "(by delegate id) and the counting committee of its secret rounds (delegate ids). Appended to the audit "
        "chain `record:session:<id>`; allowed after the session closes (the record is finalised then).",
        responses=_errors(400, 401, 403, 404, 413),
    )
    async def put_session_settings(
        self,
        record: NamedDependency[RecordService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        data: JSONBody[SessionSettings],
    ) -> SessionSettings:
        await self._secretariat(record, principal, session_id)
        await record.put(principal, f"session:{session_id}", "settings", data, "set_record_settings")
        return data

    @get(
        "/sessions/{session_id:str}/record/drafts",
        summary="The draft resolutions' text, by agenda item",
        responses=_errors(401, 403, 404),
    )
    async def get_drafts(
        self, record: NamedDependency[RecordService], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> dict[str, DraftText]:
        council_id = await self._secretariat(record, principal, session_id)
        return (await record.stored(council_id, session_id)).drafts

    @put(
        "/sessions/{session_id:str}/record/drafts/{item_id:str}",
        summary="Set the draft resolution's text of an agenda item (audited)",
        description="Summary, own bases, 'Xét …' lines, articles (heading and paragraphs) and recipients (empty: "
        "the council's). Appended to the audit chain `record:session:<id>`.",
        responses=_errors(400, 401, 403, 404, 413),
    )
    async def put_draft(
        self,
        record: NamedDependency[RecordService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        item_id: FromPath[str],
        data: JSONBody[DraftText],
    ) -> DraftText:
        await self._secretariat(record, principal, session_id)
        state, _ = await record.session(session_id)
        if item_id not in state.agenda.items:
            raise from_refusal(DomainError(Code.UNKNOWN_ITEM, id=item_id).refusal)
        await record.put(principal, f"session:{session_id}", f"draft:{item_id}", data, "set_draft_resolution")
        return data

    @get(
        "/sessions/{session_id:str}/record",
        summary="What the closed session's record holds",
        description="Its resolutions (with their URLs and whether their draft text is in), count records, every "
        "part's path, and the agenda items still missing draft text.",
        responses=_errors(401, 403, 404, 409, 422),
    )
    async def index(
        self, record: NamedDependency[RecordService], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> RecordIndex:
        await self._secretariat(record, principal, session_id)
        return _index(session_id, await record.bundle(session_id), record.signer is not None)

    @post(
        "/sessions/{session_id:str}/record/build",
        status_code=200,
        summary="Build every document and the archive",
        description="Typesets everything now (kept for later downloads until the session's log, the council's "
        "or the inputs change) and answers with every part's SHA-256.",
        responses=_errors(401, 403, 404, 409, 422),
    )
    async def build(
        self, record: NamedDependency[RecordService], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> BuildOut:
        await self._secretariat(record, principal, session_id)
        b = await record.bundle(session_id)
        data = await record.archive(b)
        parts = [PartOut(path=n, sha256=ar.sha256(b.part(n)), size=len(b.part(n))) for n in b.names()]
        return BuildOut(
            archive_sha256=ar.sha256(data),
            archive_size=len(data),
            fingerprint=b.fingerprint,
            heads=b.heads,
            parts=parts,
        )

    @get(
        "/sessions/{session_id:str}/record/files/{path:path}",
        summary="One part of the record (preview inline, or download)",
        description="Paths as in the archive: `pdf/nghi-quyet-<ref>.pdf`, `akn/nghi-quyet-<ref>.xml`, "
        "`pdf/bien-ban-ky-hop.pdf`, `akn/bien-ban-ky-hop.xml`, `pdf/bien-ban-kiem-phieu-<round or poll>.pdf`, "
        "`data/ky-hop.json`, `data/bieu-quyet.csv`, `data/diem-danh.csv`, `log/events.jsonl`, `log/audit.jsonl`, "
        "`log/inputs.json`, `log/documents.json`. `?download=true` asks the browser to save it.",
        responses=_errors(401, 403, 404, 409, 422),
        media_type="application/octet-stream",
    )
    async def file(
        self,
        record: NamedDependency[RecordService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        path: FromPath[str],
        download: bool = Parameter(default=False),
    ) -> Response[bytes]:
        await self._secretariat(record, principal, session_id)
        b = await record.bundle(session_id)
        name = path.lstrip("/")
        if not b.has(name):
            if name.startswith(("pdf/nghi-quyet-", "akn/nghi-quyet-")):
                raise unknown_resolution(session_id, name.split("nghi-quyet-", 1)[1].rsplit(".", 1)[0])
            raise protocol_error(404, "not_found", f"the record has no part {name}")
        return _file(name, await record.part(b, name), download)

    @get(
        "/sessions/{session_id:str}/record/resolutions/{ref:str}",
        summary="A resolution by its number",
        description="`ref` is the number as in URLs (01/2026/NQ-HĐND -> 01-2026-nq-hdnd); `?format=akn` for "
        "Akoma Ntoso XML. 422 names the agenda item when its draft text is missing.",
        responses=_errors(401, 403, 404, 409, 422),
        media_type="application/pdf",
    )
    async def resolution(
        self,
        record: NamedDependency[RecordService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        ref: FromPath[str],
        format: str = Parameter(default="pdf", pattern="^(pdf|akn)$"),
        download: bool = Parameter(default=False),
    ) -> Response[bytes]:
        await self._secretariat(record, principal, session_id)
        b = await record.bundle(session_id)
        number = next((r.number for r in b.projection.resolutions if akn.slug(r.number) == akn.slug(ref)), None)
        if number is None:
            raise unknown_resolution(session_id, ref)
        name = ar.resolution_pdf(number) if format == "pdf" else ar.resolution_akn(number)
        return _file(name, await record.part(b, name), download)

    @get(
        "/sessions/{session_id:str}/record/archive",
        summary="The session's archive (zip)",
        description="Every part and the manifest SHA256SUMS; check it offline with `kyhop archive verify FILE`.",
        responses=_errors(401, 403, 404, 409, 422),
        media_type="application/zip",
    )
    async def download_archive(
        self, record: NamedDependency[RecordService], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> Response[bytes]:
        await self._secretariat(record, principal, session_id)
        b = await record.bundle(session_id)
        return _file(f"ho-so-{session_id}.zip", await record.archive(b), True)


class PublicRecordController(Controller):
    """The public's side: after the session closes, its adopted resolutions and its minutes. No sign-in."""

    path = "/api/sessions/{session_id:str}/public-record"
    tags = ["record"]

    @get(
        "/",
        summary="The adopted resolutions and the minutes of a closed session",
        description="409 `session_open` until the session closes. Lists the resolutions whose text is in.",
        responses=_errors(404, 409, 422),
    )
    async def public_index(self, record: NamedDependency[RecordService], session_id: FromPath[str]) -> PublicRecord:
        b = await record.bundle(session_id)
        pr = b.projection
        base = f"/api/sessions/{session_id}/public-record"
        res = [
            PublicResolution(
                number=r.number, ref=akn.slug(r.number), title=r.title, normative=r.normative,
                adopted_on=r.adopted_on, pdf=f"{base}/resolutions/{akn.slug(r.number)}",
            )
            for r in pr.resolutions
            if (d := b.inputs.draft(r.item_id)) is not None and d.articles
        ]  # fmt: skip
        return PublicRecord(
            session_id=session_id, title=pr.record.title, closed_at=pr.record.closed_at, minutes_pdf=f"{base}/minutes",
            resolutions=res,
        )  # fmt: skip

    @get(
        "/minutes",
        summary="The minutes (PDF)",
        responses=_errors(404, 409, 422),
        media_type="application/pdf",
    )
    async def public_minutes(
        self, record: NamedDependency[RecordService], session_id: FromPath[str]
    ) -> Response[bytes]:
        b = await record.bundle(session_id)
        return _file(ar.MINUTES_PDF, await record.part(b, ar.MINUTES_PDF), False)

    @get(
        "/resolutions/{ref:str}",
        summary="An adopted resolution (PDF)",
        responses=_errors(404, 409, 422),
        media_type="application/pdf",
    )
    async def public_resolution(
        self, record: NamedDependency[RecordService], session_id: FromPath[str], ref: FromPath[str]
    ) -> Response[bytes]:
        b = await record.bundle(session_id)
        number = next((r.number for r in b.projection.resolutions if akn.slug(r.number) == akn.slug(ref)), None)
        if number is None:
            raise unknown_resolution(session_id, ref)
        name = ar.resolution_pdf(number)
        return _file(name, await record.part(b, name), False)


ROUTES = [RecordController, PublicRecordController]
