"""HTTP helpers shared by the document tests: sign in, upload (multipart, file last), manifest, download."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from meeting import script
from server.demo import DEMO_PASSWORD

SESSION = script.SESSION_ID


def login(client: httpx.Client, username: str) -> str:
    r = client.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    r.raise_for_status()
    token: str = r.json()["token"]
    return token


def auth(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


def form_fields(boundary: str, fields: dict[str, str]) -> bytes:
    return b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    )


def upload(
    client: httpx.Client,
    token: str,
    data: bytes | None,
    *,
    document_id: str | None = None,
    item_id: str | None = "nq-ngan-sach",
    kind: str = "submission",
    title: str = "Tờ trình thử nghiệm",
    access: str = "delegates",
    session: str = SESSION,
    extra: dict[str, str] | None = None,
    filename: str = "to-trinh.pdf",
) -> httpx.Response:
    fields = {
        "document_id": document_id or f"doc-{uuid.uuid4().hex[:10]}",
        "kind": kind,
        "title": title,
        "access": access,
    }
    if item_id is not None:
        fields["item_id"] = item_id
    fields.update(extra or {})
    files = {"file": (filename, data, "application/pdf")} if data is not None else None
    if files is None:
        # httpx sends a urlencoded body when there are no files: force multipart with an explicit boundary.
        boundary = uuid.uuid4().hex
        body = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        body += f"--{boundary}--\r\n".encode()
        headers = {**auth(token), "content-type": f"multipart/form-data; boundary={boundary}"}
        return client.post(f"/api/sessions/{session}/documents", content=body, headers=headers)
    return client.post(f"/api/sessions/{session}/documents", data=fields, files=files, headers=auth(token))


def new_version(
    client: httpx.Client, token: str, document_id: str, data: bytes | None, *, extra: dict[str, str] | None = None
) -> httpx.Response:
    files = {"file": ("v.pdf", data, "application/pdf")} if data is not None else None
    fields = dict(extra or {})
    if files is None:
        boundary = uuid.uuid4().hex
        body = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        body += f"--{boundary}--\r\n".encode()
        headers = {**auth(token), "content-type": f"multipart/form-data; boundary={boundary}"}
        return client.post(f"/api/sessions/{SESSION}/documents/{document_id}/versions", content=body, headers=headers)
    return client.post(
        f"/api/sessions/{SESSION}/documents/{document_id}/versions", data=fields, files=files, headers=auth(token)
    )


def manifest(client: httpx.Client, token: str | None, session: str = SESSION) -> dict[str, Any]:
    r = client.get(f"/api/sessions/{session}/documents/manifest", headers=auth(token))
    r.raise_for_status()
    out: dict[str, Any] = r.json()
    return out


def entry(man: dict[str, Any], document_id: str) -> dict[str, Any]:
    for e in man["documents"]:
        if e["document_id"] == document_id:
            return dict(e)
    raise AssertionError(f"{document_id} not in the manifest: {[e['document_id'] for e in man['documents']]}")


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    assert body["message_vi"].strip() and body["message_en"].strip(), body
    assert body["message_vi"] != body["message_en"], body
    return body


def stored_files(data_dir: str) -> set[Path]:
    """Every object in the server's local document store (not its metadata or temporary files)."""
    root = Path(data_dir) / "documents" / "objects"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def temp_files(data_dir: str) -> set[Path]:
    out: set[Path] = set()
    for d in (Path(data_dir) / "tmp", Path(data_dir) / "documents" / "tmp"):
        if d.exists():
            out |= {p for p in d.rglob("*") if p.is_file()}
    return out
