"""The OpenAPI document matches what the server answers: schemathesis against a real uvicorn, as the secretariat
and anonymously, and a unit check that every route declares its error statuses with the real error body.

Bounded and deterministic: a fixed seed, `deterministic` generation (Hypothesis' derandomize, no example
database), and a fixed number of generated cases per operation in the fuzzing phase (the examples and coverage
phases add a fixed set of their own). Every operation of the document is tested, both ways; none is excluded.
Two runs sent the same ~6000 requests (27 operations × 2 callers; two thirds of them the coverage phase's
variants of the session and council command unions) and got the same statuses; the module took 31–55 s on this
2-core machine, the server's start included.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.serialization import encode_json
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from documents.samples import demo_documents
from meeting import script
from server.app import create_app
from server.auth import provide_optional_principal, provide_principal
from server.config import load_settings
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
SEED = 20261209
# Fuzzing-phase cases per operation and caller (the examples and coverage phases add their own fixed sets).
EXAMPLES = 12
# Half the generated ids are the demo's real ones, so that reads answer 200 (and their bodies are checked against
# the document) and commands reach the domain; the other half are random, for the 404s. No account ids: the
# accounts routes only ever see random ones, so a generated request cannot disable the secretariat's account.
REAL_IDS: dict[str, list[str]] = {
    "council_id": [script.COUNCIL_ID],
    "session_id": [script.SESSION_ID],
    "document_id": [d.document_id for d in demo_documents()],
    "version": ["1"],
}
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "cache": {"enabled": False},
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "dictionaries": {name: {"values": values} for name, values in REAL_IDS.items()},
        "parameters": {f"path.{name}": {"dictionary": name, "probability": 0.5} for name in REAL_IDS},
    }
)
# What a Python repr looks like in an error's `detail` (it used to carry Litestar's list of dicts as one).
PYTHON_REPR = re.compile(r"\{'|\['|<\w+(\.\w+)*: ")


class Live:
    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.http = httpx.Client(base_url=srv.http, timeout=30)
        self.token = ""
        # (caller, operation) → the statuses it answered, for the `reached` fixture's checks.
        self.sent: dict[tuple[str, str], list[int]] = {}

    def login(self, username: str = "vanphong") -> str:
        r = self.http.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        return token


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with ServerProcess() as srv:
        api = Live(srv)
        api.token = api.login()
        yield api
        api.http.close()


# Reads that, with the demo's ids, must answer 2xx at least once, so that their success bodies are checked
# against the document too (not only the errors).
READS = {
    "GET /api/auth/me",
    "GET /api/councils/{council_id}",
    "GET /api/councils/{council_id}/accounts",
    "GET /api/councils/{council_id}/resolutions",
    "GET /api/councils/{council_id}/sessions",
    "GET /api/sessions/{session_id}",
    "GET /api/sessions/{session_id}/events",
    "GET /api/sessions/{session_id}/documents/manifest",
    "GET /api/sessions/{session_id}/documents/deliveries",
}
PUBLIC_READS = {"GET /api/sessions/{session_id}", "GET /api/sessions/{session_id}/events"}


@pytest.fixture
def reached(request: pytest.FixtureRequest, live: Live) -> Iterator[None]:
    """After each operation's test: it sent requests, and a read reached its 200."""
    name: str = request.node.name  # e.g. "test_anonymously[GET /api/health]"
    caller = "secretariat" if name.startswith("test_as_the_secretariat") else "anonymous"
    label = name[name.index("[") + 1 : -1]
    yield
    statuses = live.sent.get((caller, label), [])
    assert statuses, f"{label}: nothing was sent as {caller}"
    if label in (READS if caller == "secretariat" else PUBLIC_READS):
        assert min(statuses) < 300, f"{label} as {caller} never answered 2xx: {sorted(set(statuses))}"


def _document() -> dict[str, Any]:
    """The app's OpenAPI document, built in-process at collection so each operation becomes its own test item
    (schemathesis' fixture-based loader needs pytest internals that pytest 9.2 removed). The live server serves
    the same document: test_the_live_server_serves_this_document checks it."""
    with tempfile.TemporaryDirectory(prefix="kyhop-openapi-") as data_dir:
        app = create_app(load_settings({"KYHOP_DATA_DIR": data_dir, "KYHOP_SECRET_KEY": "x" * 40}))
        doc: dict[str, Any] = json.loads(encode_json(app.openapi_schema.to_schema()))  # as the server sends it
    return doc


DOCUMENT = _document()
OPERATIONS = {f"{m.upper()} {p}" for p, ops in DOCUMENT["paths"].items() for m in ops}
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def _call(case: Any, live: Live, caller: str) -> None:
    token = live.token if caller == "secretariat" else None
    if token is not None and case.operation.label == "POST /api/auth/logout":
        # Signing out revokes the token it is given: this case gets a token of its own, so every other operation
        # keeps the module's.
        token = live.login()
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = case.call_and_validate(base_url=live.srv.http, headers=headers, checks=CHECKS)
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", [""])[0]
    if response.status_code >= 400 and content_type.startswith("application/json"):
        detail = response.json().get("detail")
        assert detail is None or (isinstance(detail, str) and not PYTHON_REPR.search(detail)), detail
    if case.method.upper() == case.operation.method.upper():  # the coverage phase also tries other methods
        live.sent.setdefault((caller, case.operation.label), []).append(response.status_code)


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # `reached` is per operation on purpose
def test_as_the_secretariat(case: Any, live: Live, reached: None) -> None:
    _call(case, live, "secretariat")


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # `reached` is per operation on purpose
def test_anonymously(case: Any, live: Live, reached: None) -> None:
    _call(case, live, "anonymous")


def test_the_live_server_serves_this_document(live: Live) -> None:
    r = live.http.get("/schema/openapi.json")
    assert r.status_code == 200
    assert r.json() == DOCUMENT


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: REAL_IDS.get(m.group(1), ["x"])[0], path)


def test_a_stranger_gets_401_before_any_word_about_the_request(live: Live) -> None:
    """The token is checked before the body, the query or the content type: without a valid token a broken, an
    oversized or a non-multipart body gets 401 `unauthenticated`, never 400/413/415, so a stranger learns nothing
    about the shapes the server expects."""
    broken = b'{"id": [' + b"x" * (300 * 1024)  # malformed JSON, and over every route's body limit
    tried = 0
    for path, ops in DOCUMENT["paths"].items():
        for method, op in ops.items():
            security = op.get("security")
            if not security:
                continue  # public: sign-in, health, the schema, signed download links
            tokens = ["garbage", None] if {} not in security else ["garbage"]  # optional: no token is the public
            for token in tokens:
                headers = {"content-type": "text/plain"}
                if token is not None:
                    headers["authorization"] = f"Bearer {token}"
                query = "?after=-1&limit=abc&all_versions=maybe&diacritics=no&q="
                r = live.http.request(method.upper(), _url(path) + query, content=broken, headers=headers)
                assert r.status_code == 401, (method, path, token, r.status_code, r.text[:200])
                assert r.json()["code"] == "unauthenticated"
                tried += 1
    assert tried >= 40, tried


def test_a_validation_error_detail_is_one_readable_line(live: Live) -> None:
    r = live.http.get(f"/api/sessions/{script.SESSION_ID}/events?after=abc&limit=0")
    assert r.status_code == 400
    assert r.json()["detail"] == "after (query): Expected `int`, got `str`; limit (query): Expected `int` >= 1"
    r = live.http.post(
        f"/api/sessions/{script.SESSION_ID}/commands",
        json={"id": 5, "command": {"type": "open_check_in"}},
        headers={"authorization": f"Bearer {live.token}"},
    )
    assert r.status_code == 400
    assert r.json()["detail"] == "id (body): Expected `str`, got `int`"


# ----------------------------------------------------------------------------------- every route's declarations


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    """The app as `kyhop serve` builds it (not started: only its routes and OpenAPI document are read)."""
    data_dir = tmp_path_factory.mktemp("openapi")
    return create_app(load_settings({"KYHOP_DATA_DIR": str(data_dir), "KYHOP_SECRET_KEY": "x" * 40}))


def _handlers(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    """(method, path as the document spells it, handler) for every HTTP route."""
    for route in app.routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and "OPTIONS" not in handler.http_methods:
                for method in handler.http_methods:
                    yield method, path, handler


def expected_errors(path: str, handler: HTTPRouteHandler, doc_op: dict[str, Any]) -> set[int]:
    """The statuses a route can answer from what it is made of, whatever its handler does:
    a principal → 401, and 403 as well when a council or session is in the path (another council's caller);
    a JSON body → 400 and 413; a multipart body → also 415; a path or query parameter → 400; an id in the path
    → 404; the database or storage → 503."""
    out: set[int] = set()
    params = handler.parsed_fn_signature.parameters
    provide = handler.resolve_dependencies().get("principal") if "principal" in params else None
    if provide is not None and provide.dependency in (provide_principal, provide_optional_principal):
        out.add(401)
        if re.search(r"\{(council|session)_id", path):
            out.add(403)
    if "data" in params:
        out |= {400, 413}
    body = doc_op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in body:
        out |= {400, 413, 415}
    if doc_op.get("parameters"):
        out.add(400)
    if re.search(r"\{(council|session|document|account)_id", path):
        out.add(404)
    if {"services", "documents"} & set(params) or "data" in params:
        out.add(503)
    return out


def test_every_route_declares_its_error_statuses_with_the_error_body(app: Litestar) -> None:
    doc = app.openapi_schema.to_schema()
    assert "ErrorBody" in doc["components"]["schemas"]
    checked: set[str] = set()
    for method, path, handler in _handlers(app):
        label = f"{method} {path}"
        op = doc["paths"].get(path, {}).get(method.lower())
        if op is None:  # not in the document (the static pages at "/")
            continue
        declared = {int(s) for s in op["responses"] if int(s) >= 400}
        missing = expected_errors(path, handler, op) - declared
        assert not missing, f"{label} does not declare {sorted(missing)}"
        for status in declared:
            content = op["responses"][str(status)]["content"]["application/json"]["schema"]
            # Never Litestar's default `{status_code, detail, extra}`: the server never answers that.
            assert content == {"$ref": "#/components/schemas/ErrorBody"}, (label, status, content)
        checked.add(label)
    assert checked == OPERATIONS, OPERATIONS ^ checked


def test_upload_routes_declare_their_multipart_body(app: Litestar) -> None:
    doc = app.openapi_schema.to_schema()
    for path in ("/api/sessions/{session_id}/documents", "/api/sessions/{session_id}/documents/{document_id}/versions"):
        body = doc["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        form = body["content"]["multipart/form-data"]
        props = form["schema"]["properties"]
        assert list(props)[-1] == "file", "the file part is declared last, as the server wants it sent"
        assert props["file"] == {**props["file"], "type": "string", "format": "binary"}
        assert form["encoding"]["file"]["contentType"] == "application/pdf"
