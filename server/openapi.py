"""What the OpenAPI document says about sign-in, errors and uploads: one place, used by every route.

Every error a route answers is the bilingual `ErrorBody` (server/errors.py), declared once as a component and
referenced by each status a route can send; Litestar's own default (`status_code`, `detail`, `extra`) is never
what the server answers, so no route may keep it. tests/test_openapi_conformance.py runs schemathesis against a
real server to hold the document to what the server really sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Encoding,
    OpenAPIMediaType,
    Operation,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from meeting import documents as docs
from server.document_service import MAX_FIELD
from server.errors import ErrorBody

SECURITY_SCHEME = "BearerToken"
# The app's OpenAPIConfig must declare this scheme (components=[OPENAPI_COMPONENTS]) for the `security`
# requirement below to resolve in the generated document.
OPENAPI_COMPONENTS = Components(
    security_schemes={
        SECURITY_SCHEME: SecurityScheme(
            type="http", scheme="bearer", bearer_format="JWT", description="Token from POST /api/auth/login"
        )
    }
)
BEARER: list[SecurityRequirement] = [{SECURITY_SCHEME: []}]
# Routes that answer the anonymous public too (its view), and a signed-in caller with what that caller may see.
OPTIONAL_BEARER: list[SecurityRequirement] = [{SECURITY_SCHEME: []}, {}]

# What each status means on this server, with the stable codes a client can branch on. A route that wants to be
# more precise passes its own text for a status (`text=`).
ERROR_TEXT: dict[int, str] = {
    400: "Malformed request: body, path or query parameter (`malformed`; uploads: `bad_form`, `form_order`)",
    401: "Not signed in, or the token is invalid, expired or revoked (`unauthenticated`)",
    403: "Not allowed (`forbidden`, `wrong_council`, `not_a_delegate`, ...)",
    404: "No such council, session, item, document or account (`not_found`, `unknown_*`)",
    406: "The response type asked for in Accept cannot be sent (`not_acceptable`)",
    409: "Not possible in the current state (e.g. `wrong_session_state`, `round_not_open`, `already_voted`)",
    413: "Body or file too large (`too_large`, `file_too_large`); nothing was stored",
    415: "Not multipart/form-data (`not_multipart`)",
    422: "A value breaks a rule (`invalid`, `counts_invalid`, a refused PDF, ...)",
    503: "The database or document storage cannot be reached; nothing was done, retry (`unavailable`)",
}

# The statuses every route that reads a JSON body can answer before its handler runs.
BODY = (400, 413)


def errors(*statuses: int, text: Mapping[int, str] | None = None) -> dict[int, ResponseSpec]:
    """The `responses=` of a route: the bilingual ErrorBody for each status it can send."""
    text = text or {}
    return {
        s: ResponseSpec(data_container=ErrorBody, description=text.get(s, ERROR_TEXT[s]), generate_examples=False)
        for s in sorted(set(statuses))
    }


# --- multipart uploads -------------------------------------------------------------------------------------------
# server/document_service.py `receive_form` parses the form by hand as it streams (so a file is never held in
# memory), which Litestar cannot see: the request body is declared here instead, and given to the route through
# its `operation_class`. Property order is the order the server wants them sent in: fields first, `file` last.


def _text(description: str, *, min_length: int = 0) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description, min_length=min_length, max_length=MAX_FIELD)


def _enum(kind: type[Any], description: str) -> Schema:
    return Schema(type=OpenAPIType.STRING, enum=[k.value for k in kind], description=description)


_FILE = Schema(
    type=OpenAPIType.STRING,
    format=OpenAPIFormat.BINARY,
    description="The PDF, sent last; none for `access=secret` (Law 29/2018/QH14 art. 5 forbids the upload)",
)
_COMMON = {
    "title": _text("Title shown on the tablets (Vietnamese)"),
    "note": _text("A note for the record"),
    "id": _text("Client-made command id (1–100 characters): a retried upload is answered, not published twice"),
    "pages": _text("Page count of a secret document (digits), which has no file to count them from"),
}
_NEW_DOCUMENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["document_id", "access"],
    properties={
        "document_id": _text("The document's id in the session", min_length=1),
        "item_id": _text("The agenda item it belongs to"),
        "kind": _enum(docs.DocumentKind, "Default `other`"),
        "access": _enum(docs.Access, "Who may receive it; `secret` is registered without a file"),
        **_COMMON,
        "file": _FILE,
    },
)
_NEW_VERSION = Schema(type=OpenAPIType.OBJECT, properties={**_COMMON, "file": _FILE})


def _multipart(schema: Schema) -> RequestBody:
    return RequestBody(
        required=True,
        description="multipart/form-data: the fields, then the PDF `file` part last",
        content={
            "multipart/form-data": OpenAPIMediaType(
                schema=schema, encoding={"file": Encoding(content_type="application/pdf")}
            )
        },
    )


@dataclass
class NewDocumentUpload(Operation):
    """`operation_class` of POST /api/sessions/{id}/documents."""

    def __post_init__(self) -> None:
        self.request_body = _multipart(_NEW_DOCUMENT)


_PETITION_ANSWER = Schema(
    type=OpenAPIType.OBJECT,
    required=["text"],
    properties={
        "text": _text("The answer (Vietnamese), at most 20 000 characters", min_length=1),
        "id": _COMMON["id"],
        "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="The answer's PDF, last"),
    },
)


@dataclass
class PetitionAnswerUpload(Operation):
    """`operation_class` of POST /api/councils/{id}/petitions/{term}/items/{item}/answer-document."""

    def __post_init__(self) -> None:
        self.request_body = _multipart(_PETITION_ANSWER)


@dataclass
class NewVersionUpload(Operation):
    """`operation_class` of POST /api/sessions/{id}/documents/{doc}/versions."""

    def __post_init__(self) -> None:
        self.request_body = _multipart(_NEW_VERSION)
