"""An agency's answer with its PDF (issue 14 §2): uploaded through the documents' checks and storage.

`POST …/items/{item}/answer-document` takes a multipart form (`text`, optionally `id`, then the PDF in `file`
last), as the session document uploads do (server/document_service.py `receive_form`): the PDF is checked by
documents/pdf.py (refused, repaired or neutralised as a session document would be), the `answer_item` command is
decided against the register before anything is stored, the checked file goes to the object store under a key
made of its SHA-256, and the command records the answer with that document id. `GET …/answer-document/{doc}`
gives whoever may see the item a short-lived signed download link.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import urllib.parse
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from documents.store import StoreUnavailable
from meeting import petitions as pet
from meeting.actors import Context, Role
from meeting.errors import Code, DomainError
from meeting.petitions_messages import AnswerItem
from record.pdf import FontMissing
from server import petitions_report
from server.auth import Principal, provide_principal, require_council, require_roles
from server.document_service import LINK_TTL, DocumentService, Received, UploadOut, api_error, receive_form
from server.errors import ApiError, from_refusal, protocol_error
from server.openapi import BEARER, PetitionAnswerUpload, errors
from server.routes import READ, _submit
from server.routes_accounts import BODY_ERROR_HANDLERS
from server.routes_petitions import _REGISTER_TEXT, _readable_item, _register
from server.services import Services

# An answer's full text with annexes: a few MB; 50 MB leaves room for scanned pages.
MAX_ANSWER_PDF = 50 * 1024 * 1024
UPLOAD = (400, 401, 403, 404, 409, 413, 415, 422, 503)


class AnswerOut(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    sha256: str
    size: int
    pages: int
    seqs: list[int]
    replayed: bool


class AnswerLink(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    expires_at: datetime


def answer_key(council_id: str, term_id: str, item_id: str, document_id: str) -> str:
    return f"petitions/{council_id}/{term_id}/{item_id}/{document_id}.pdf"


class PetitionAnswerController(Controller):
    path = "/api/councils/{council_id:str}/petitions/{term_id:str}/items/{item_id:str}/answer-document"
    tags = ["petitions"]
    exception_handlers = BODY_ERROR_HANDLERS
    request_max_body_size = 16 * 1024
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @post(
        "/",
        summary="Answer an item with text and a PDF (its agency's official, or the secretariat on its behalf)",
        description="multipart/form-data: `text`, optionally `id` (command id), then the PDF in `file`, last. "
        "The PDF passes the same checks as a session document; the answer is refused (404 for another agency's "
        "item, 409 out of turn) before anything is stored.",
        status_code=201,
        request_max_body_size=None,  # the file part is bounded by MAX_ANSWER_PDF as it streams
        operation_class=PetitionAnswerUpload,
        responses=errors(*UPLOAD, text=_REGISTER_TEXT),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        item_id: FromPath[str],
    ) -> AnswerOut:
        require_council(principal, council_id)
        state = await _register(services, council_id, term_id)
        fields, file = await receive_form(request, tmp_dir=documents.tmp_dir, max_file=MAX_ANSWER_PDF, secret=False)
        try:
            if file is None:
                raise api_error("file_missing")
            report = await documents.inspect(file.path, file.sha256)
            try:
                document_id = f"tl-{report.sha256[:32]}"
                cmd = AnswerItem(item_id=item_id, text=fields.get("text", ""), document_id=document_id)
                try:  # decided before anything is stored: a refusal costs no storage
                    pet.decide(state, cmd, Context(actor=principal.actor, now=datetime.now(UTC)))
                except DomainError as e:
                    raise from_refusal(e.refusal) from e
                key = answer_key(council_id, term_id, item_id, document_id)
                try:
                    await documents.store.put(key, report.path, sha256=report.sha256)
                except (StoreUnavailable, OSError) as e:
                    raise api_error("storage_unavailable") from e
                cid = fields.get("id") or f"answer:{item_id}:{report.sha256[:16]}"
                out = await _submit(services, "petitions", f"{council_id}:{term_id}", principal, cid, cmd)
                return AnswerOut(
                    document_id=document_id,
                    sha256=report.sha256,
                    size=report.size,
                    pages=report.pages,
                    seqs=out.seqs,
                    replayed=out.replayed,
                )
            finally:
                if report.rewritten:
                    report.path.unlink(missing_ok=True)
        finally:
            if file is not None:
                with contextlib.suppress(FileNotFoundError):
                    file.path.unlink()

    @get(
        "/{document_id:str}",
        summary="A signed download link for an answer's PDF, for whoever may see the item",
        responses=errors(*READ, text=_REGISTER_TEXT),
    )
    async def link(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        item_id: FromPath[str],
        document_id: FromPath[str],
    ) -> AnswerLink:
        _state, item = await _readable_item(services, principal, council_id, term_id, item_id)
        if not any(a.document_id == document_id for a in item.answers):
            raise from_refusal(DomainError(Code.UNKNOWN_DOCUMENT, id=document_id).refusal)
        key = answer_key(council_id, term_id, item_id, document_id)
        try:
            link = await documents.store.presigned_get(key, expires_in=LINK_TTL, filename=f"{document_id}.pdf")
        except (StoreUnavailable, OSError) as e:
            raise api_error("storage_unavailable") from e
        expires = datetime.now(UTC) + LINK_TTL
        return AnswerLink(url=urllib.parse.urljoin(str(request.base_url), link), expires_at=expires)


class AttachReportIn(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    item_id: str  # the agenda item the report goes with (the Front's report is usually its own item)


def report_document_id(session_id: str) -> str:
    return f"bc-kien-nghi-{session_id}"[:100]


class PetitionReportController(Controller):
    path = "/api/councils/{council_id:str}/petitions/{term_id:str}/report/attach"
    tags = ["petitions"]
    exception_handlers = BODY_ERROR_HANDLERS
    request_max_body_size = 16 * 1024
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @post(
        "/",
        summary="Generate the summary report of voters' petitions before a session and publish it on its agenda",
        description="The PDF of `GET …/report` goes to the session's documents as a public document of the agenda "
        "item (through the same checks, storage and publication as an upload); attached again, it becomes a new "
        "version of the same document. The secretariat's, as any document of the session.",
        status_code=201,
        responses=errors(*UPLOAD, text=_REGISTER_TEXT),
    )
    async def attach(
        self,
        services: NamedDependency[Services],
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        data: JSONBody[AttachReportIn],
    ) -> UploadOut:
        require_council(principal, council_id)
        require_roles(principal, Role.SECRETARY)
        state = await _register(services, council_id, term_id)
        session = await documents.session_state(data.session_id)
        require_council(principal, session.hall.council_id)
        if session.hall.council_id != council_id:
            raise protocol_error(403, "wrong_council")
        council_state, _ = await services.engine.state("council", council_id)
        name = getattr(council_state, "name", council_id)
        try:
            pdf = await asyncio.to_thread(
                petitions_report.build_report_pdf, state, name, data.session_id, datetime.now(UTC)
            )
        except FontMissing as e:
            vi, en = "Máy chủ chưa cài phông chữ để in báo cáo.", "The server has no font installed to print it."
            raise ApiError(503, "unavailable", vi, en) from e
        document_id = report_document_id(data.session_id)
        path = documents.tmp_dir / f"{document_id}-{uuid.uuid4().hex}.pdf"
        await asyncio.to_thread(path.write_bytes, pdf)
        received = Received(path=path, size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(), filename="")
        existing = session.documents.documents.get(document_id)
        version = 1 if existing is None else len(existing.versions) + 1
        fields = {
            "document_id": document_id,
            "item_id": data.item_id,
            "kind": "other",
            # The session's own name ("Kỳ họp thứ Tư, HĐND tỉnh … khóa XI") is what the tablets list; ≤ 500.
            "title": f"Báo cáo tổng hợp ý kiến, kiến nghị của cử tri trước {session.title or data.session_id}"[:500],
            "access": "public",
            # The version it becomes is in the id: the report is dated by the day, so two attached the same day are
            # the same bytes, and a second attach must be a new version, not the first one's id reused (409).
            # Cut to a command id's 100 characters at the end: the version and the hash come first.
            "id": f"petitions-report-v{version}-{received.sha256[:16]}-{document_id}"[:100],
        }
        try:
            return await documents.publish(
                principal,
                data.session_id,
                fields=fields,
                file=received,
                replace_id=document_id if existing is not None else None,
            )
        finally:
            path.unlink(missing_ok=True)


ROUTES = [PetitionAnswerController, PetitionReportController]
