"""Session documents over HTTP: upload, versions, the tablet manifest, signed downloads, receipts, the delivery
matrix and search. The domain rules live in meeting/documents.py; storage in documents/store.py.

Upload (secretariat): `POST /api/sessions/{id}/documents` (multipart/form-data: document_id, item_id, kind, title,
access, note, id, then `file` LAST) and `POST /api/sessions/{id}/documents/{doc}/versions` for a new version. The
file part streams to a temporary file while it is hashed and counted (refused the moment it passes the size limit),
the PDF checks run on that file (documents/pdf.py), and only a file that passed is put to storage; the publication
is then a session command through the engine, so the event reaches every tablet over the WebSocket. A refusal at
any step leaves nothing behind: the temporary file is deleted, and stored objects are removed again if the command
is refused. A state-secret document is registered without a file: a file part sent with `access=secret` is refused
as soon as its headers arrive, before a byte of it is written anywhere.

Tablets: `GET /api/sessions/{id}/documents/manifest` lists what the caller may see with a short-lived signed URL
for each copy it may download (S3 presigned GET, or this server's `/api/files/...` link for local storage; a
restricted document's URL is the caller's own stamped copy, made once and cached in storage; a secret document
never has a URL). Handing out links records the delegate's copies as "sent"; the tablet downloads, checks the
SHA-256 and acknowledges (`POST .../receipt`, or the `acknowledge_delivery` command over the WebSocket).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any

import anyio
import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import File
from litestar.types import ControllerRouterHandler

from documents import search as textsearch
from documents.store import LocalStore
from meeting import documents as docs
from meeting.actors import Role
from meeting.errors import Code, DomainError
from server.auth import Principal, provide_optional_principal, provide_principal, require_council, require_roles
from server.document_service import (
    SEARCH_LIMIT,
    DocumentService,
    FailureIn,
    Manifest,
    ReceiptIn,
    ReceiptOut,
    SearchOut,
    UploadOut,
    api_error,
    receive_form,
)
from server.engine import Reply, Unavailable
from server.errors import from_refusal, protocol_error
from server.openapi import BEARER, BODY, OPTIONAL_BEARER, NewDocumentUpload, NewVersionUpload, errors
from server.routes_accounts import BODY_ERROR_HANDLERS

log = logging.getLogger("kyhop.documents")

# An upload can end in every refusal there is: a bad form (400), no token (401), not the secretariat (403),
# unknown session or document (404), a state the command does not fit or a reused id (409), too large (413), not
# multipart (415), a refused PDF or a missing file (422), storage or database away (503).
UPLOAD = (400, 401, 403, 404, 409, 413, 415, 422, 503)
# A tablet's receipt or failure report is a session command (server/routes.py COMMAND).
DELIVERY = (*BODY, 401, 403, 404, 409, 422, 503)


async def _council_of(service: DocumentService, session_id: str) -> str:
    state = await service.session_state(session_id)
    return state.hall.council_id


def _version_number(document_id: str, version: str) -> int:
    """A version in a path: a positive number, else the document has no such version (404)."""
    if not version.isdigit() or len(version) > 6 or int(version) < 1:
        raise from_refusal(DomainError(Code.UNKNOWN_DOCUMENT_VERSION, id=document_id, version=version).refusal)
    return int(version)


async def _submit_as(principal: Principal, service: DocumentService, session_id: str, cid: str, cmd: Any) -> Reply:
    try:
        reply: Reply = await service.services.engine.runtime("session", session_id).submit(principal, cid, cmd)
    except Unavailable as e:
        raise protocol_error(503, "unavailable") from e
    if not reply.ok:
        assert reply.error is not None
        raise from_refusal(reply.error)
    return reply


class DocumentController(Controller):
    path = "/api/sessions/{session_id:str}/documents"
    tags = ["documents"]
    exception_handlers = BODY_ERROR_HANDLERS
    request_max_body_size = 16 * 1024

    @post(
        "/",
        summary="Upload a document (secretariat): multipart fields, then the PDF `file` last",
        status_code=201,
        dependencies={"principal": Provide(provide_principal)},
        request_max_body_size=None,  # the file part is bounded by settings.limits.max_upload_bytes as it streams
        operation_class=NewDocumentUpload,
        security=BEARER,
        responses=errors(*UPLOAD),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
    ) -> UploadOut:
        require_council(principal, await _council_of(documents, session_id))
        require_roles(principal, Role.SECRETARY)
        fields, file = await receive_form(
            request,
            tmp_dir=documents.tmp_dir,
            max_file=documents.services.settings.limits.max_upload_bytes,
            secret=None,
        )
        try:
            return await documents.publish(principal, session_id, fields=fields, file=file)
        finally:
            if file is not None:
                with contextlib.suppress(FileNotFoundError):
                    file.path.unlink()

    @post(
        "/{document_id:str}/versions",
        summary="Upload a new version of a document (secretariat); the old versions stay on record",
        status_code=201,
        dependencies={"principal": Provide(provide_principal)},
        request_max_body_size=None,
        operation_class=NewVersionUpload,
        security=BEARER,
        responses=errors(*UPLOAD),
    )
    async def new_version(
        self,
        request: Request[Any, Any, Any],
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        document_id: FromPath[str],
    ) -> UploadOut:
        state = await documents.session_state(session_id)
        require_council(principal, state.hall.council_id)
        require_roles(principal, Role.SECRETARY)
        doc = state.documents.documents.get(document_id)
        if doc is None:
            raise from_refusal(DomainError(Code.UNKNOWN_DOCUMENT, id=document_id).refusal)
        fields, file = await receive_form(
            request,
            tmp_dir=documents.tmp_dir,
            max_file=documents.services.settings.limits.max_upload_bytes,
            secret=doc.access is docs.Access.SECRET,
        )
        try:
            return await documents.publish(principal, session_id, fields=fields, file=file, replace_id=document_id)
        finally:
            if file is not None:
                with contextlib.suppress(FileNotFoundError):
                    file.path.unlink()

    @get(
        "/manifest",
        summary="The documents this caller may see, with short-lived signed URLs to the copies it may download",
        dependencies={"principal": Provide(provide_optional_principal)},
        security=OPTIONAL_BEARER,
        responses=errors(400, 401, 403, 404, 503),
    )
    async def manifest(
        self,
        request: Request[Any, Any, Any],
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal | None],
        session_id: FromPath[str],
    ) -> Manifest:
        return await documents.manifest(session_id, principal, str(request.base_url))

    @post(
        "/{document_id:str}/versions/{version:str}/receipt",
        summary="The delegate's tablet downloaded its copy: the SHA-256 it computed",
        status_code=200,
        dependencies={"principal": Provide(provide_principal)},
        security=BEARER,
        responses=errors(*DELIVERY),
    )
    async def receipt(
        self,
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        document_id: FromPath[str],
        version: FromPath[str],
        data: JSONBody[ReceiptIn],
    ) -> ReceiptOut:
        state = await documents.session_state(session_id)
        require_council(principal, state.hall.council_id)
        n = _version_number(document_id, version)
        me = principal.actor.person_id or ""
        cmd = docs.AcknowledgeDelivery(document_id=document_id, version=n, delegate_id=me, sha256=data.sha256)
        # A default id per state of the record: acknowledging again after a failure is a new command, not a replay.
        doc = state.documents.documents.get(document_id)
        v = doc.version(n) if doc is not None else None
        rec = v.deliveries.get(me) if v is not None else None
        cid = data.id or f"ack:{document_id}:v{n}:{data.sha256[:16]}:{rec.at if rec else ''}"[:100]
        reply = await _submit_as(principal, documents, session_id, cid, cmd)
        return await self._status(documents, session_id, document_id, n, me, reply)

    @post(
        "/{document_id:str}/versions/{version:str}/failure",
        summary="The delegate's tablet could not get or open its copy",
        status_code=200,
        dependencies={"principal": Provide(provide_principal)},
        security=BEARER,
        responses=errors(*DELIVERY),
    )
    async def failure(
        self,
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        document_id: FromPath[str],
        version: FromPath[str],
        data: JSONBody[FailureIn],
    ) -> ReceiptOut:
        require_council(principal, await _council_of(documents, session_id))
        n = _version_number(document_id, version)
        me = principal.actor.person_id or ""
        cmd = docs.ReportDeliveryFailure(document_id=document_id, version=n, delegate_id=me, reason=data.reason)
        cid = data.id or f"fail:{document_id}:v{n}:{secrets.token_hex(8)}"
        reply = await _submit_as(principal, documents, session_id, cid, cmd)
        return await self._status(documents, session_id, document_id, n, me, reply)

    @staticmethod
    async def _status(
        documents: DocumentService, session_id: str, document_id: str, version: int, me: str, reply: Reply
    ) -> ReceiptOut:
        state = await documents.session_state(session_id)
        v = state.documents.documents[document_id].version(version)
        rec = v.deliveries.get(me) if v is not None else None
        status = rec.status if rec is not None else docs.DeliveryStatus.NOT_SENT
        return ReceiptOut(document_id=document_id, version=version, status=status, seqs=reply.seqs)

    @get(
        "/deliveries",
        summary="The delivery matrix: seated delegate × document version (not sent / sent / received / failed)",
        dependencies={"principal": Provide(provide_principal)},
        security=BEARER,
        responses=errors(400, 401, 403, 404, 503),
    )
    async def deliveries(
        self,
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        all_versions: bool = Parameter(default=False),
    ) -> docs.DeliveryMatrix:
        state = await documents.session_state(session_id)
        require_council(principal, state.hall.council_id)
        require_roles(principal, Role.SECRETARY, Role.CHAIR)
        return docs.delivery_matrix(state.hall, state.documents, all_versions=all_versions)

    @get(
        "/search",
        summary="Full-text search over the documents the caller may read; `diacritics=ignore` finds "
        '"nghị quyết" from "nghi quyet" (default: ignore unless the query has marks)',
        dependencies={"principal": Provide(provide_optional_principal)},
        security=OPTIONAL_BEARER,
        responses=errors(400, 401, 403, 404, 422, 503),
    )
    async def search(
        self,
        documents: NamedDependency[DocumentService],
        principal: NamedDependency[Principal | None],
        session_id: FromPath[str],
        q: str = Parameter(default="", max_length=textsearch.MAX_QUERY),
        diacritics: str = Parameter(default="auto", pattern="^(auto|ignore|exact)$"),
        limit: int = Parameter(default=20, ge=1, le=SEARCH_LIMIT),
    ) -> SearchOut:
        if principal is not None:
            require_council(principal, await _council_of(documents, session_id))
        ignore = {"auto": None, "ignore": True, "exact": False}[diacritics]
        return await documents.search(session_id, principal, q, ignore, limit)


@get(
    "/api/files/{key:path}",
    summary="Download through a signed, expiring link (local storage only; links come from the manifest)",
    tags=["documents"],
    responses=errors(400, 403, 404, 503, text={403: "The link is not valid or has expired (`link_invalid`)"}),
)
async def signed_file(
    documents: NamedDependency[DocumentService],
    key: FromPath[str],  # a storage key (str: as `Path` the OpenAPI document called it a URI)
    exp: str = Parameter(default="", max_length=20),
    sig: str = Parameter(default="", max_length=100),
    name: str | None = Parameter(default=None, max_length=200),
) -> File:
    store = documents.store
    text = key.lstrip("/")
    if not isinstance(store, LocalStore) or not store.verify(text, exp, sig, name):
        raise api_error("link_invalid")
    path = store.path_of(text)
    if not await anyio.to_thread.run_sync(path.is_file):
        raise protocol_error(404, "not_found")
    return File(
        path=path,
        filename=name or path.name,
        media_type="application/pdf",
        content_disposition_type="attachment",
        chunk_size=256 * 1024,
        # Whatever bytes a stored file holds, a browser must never render them as a page of this origin: no
        # sniffing past the declared type, and a sandbox with no scripts, no same origin and no subresources.
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"},
    )


ROUTES: list[ControllerRouterHandler] = [DocumentController, signed_file]
