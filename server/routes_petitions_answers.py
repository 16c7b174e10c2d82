"""An agency's answer with its PDF (issue 14 §2): uploaded through the documents' checks and storage.

`POST …/items/{item}/answer-document` takes a multipart form (`text`, optionally `id`, then the PDF in `file`
last), as the session document uploads do (server/document_service.py `receive_form`): the PDF is checked by
documents/pdf.py (refused, repaired or neutralised as a session document would be), the `answer_item` command is
decided against the register before anything is stored, the checked file goes to the object store under a key
made of its SHA-256, and the command records the answer with that document id. `GET …/answer-document/{doc}`
gives whoever may see the item a short-lived signed download link.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from documents.store import StoreUnavailable
from meeting import petitions as pet
from meeting.actors import Context
from meeting.errors import Code, DomainError
from meeting.petitions_messages import AnswerItem
from meeting.petitions_model import may_see
from server.auth import Principal, provide_principal, require_council
from server.document_service import LINK_TTL, DocumentService, api_error, receive_form
from server.errors import from_refusal
from server.openapi import BEARER, PetitionAnswerUpload, errors
from server.routes import READ, _submit
from server.routes_accounts import BODY_ERROR_HANDLERS
from server.routes_petitions import _REGISTER_TEXT, _register
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
        require_council(principal, council_id)
        state = await _register(services, council_id, term_id)
        item = state.items.get(item_id)
        if item is None or not may_see(state, item, principal.actor):
            raise from_refusal(DomainError(Code.UNKNOWN_TRACKED_ITEM, id=item_id).refusal)
        if not any(a.document_id == document_id for a in item.answers):
            raise from_refusal(DomainError(Code.UNKNOWN_DOCUMENT, id=document_id).refusal)
        key = answer_key(council_id, term_id, item_id, document_id)
        try:
            link = await documents.store.presigned_get(key, expires_in=LINK_TTL, filename=f"{document_id}.pdf")
        except (StoreUnavailable, OSError) as e:
            raise api_error("storage_unavailable") from e
        expires = datetime.now(UTC) + LINK_TTL
        return AnswerLink(url=urllib.parse.urljoin(str(request.base_url), link), expires_at=expires)


ROUTES = [PetitionAnswerController]
