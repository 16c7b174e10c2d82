"""The `kyhop` command: serve, demo, simulate, schema, audit verify, archive verify, verify-round, bundle-hash,
committee-device."""

from __future__ import annotations

import argparse
import json
import os
import sys


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.config import load_settings

    if args.demo:  # before the settings: the demo may keep its key beside the database (server/config.py)
        os.environ["KYHOP_DEMO"] = "1"
        os.environ.setdefault("KYHOP_DEMO_PETITIONS", "3")  # a year of voter meetings (server/demo_petitions.py)
    settings = load_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    if args.demo:
        from server.demo import sign_in_text

        print(sign_in_text(host, port), flush=True)
    limits = settings.limits
    uvicorn.run(
        "server.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        ws_ping_interval=limits.ping_interval,
        ws_ping_timeout=limits.ping_timeout,
        # Frames up to twice the message limit reach our own check (a clear error, the socket stays);
        # anything larger is cut off by uvicorn before it is buffered.
        ws_max_size=2 * limits.max_message_bytes,
        ws_per_message_deflate=False,  # compression costs ~5x memory per connection
        log_level=args.log_level,
    )
    return 0


def _audit(args: argparse.Namespace) -> int:
    import asyncio

    from server.audit import verify
    from server.config import database_location

    # The audit chain is plain hashes: checking it needs the database, never the secret key.
    url = args.database or database_location()[1]
    report = asyncio.run(verify(url))
    print(report.text())
    return 0 if report.ok else 1


def _archive(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    # pyHanko logs a traceback when a signer's certificate has no trusted issuer; an archive carries no trust roots,
    # so that is expected here, and the verdict below says what was checked.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)

    from record.archive import verify_archive

    try:
        data = Path(args.file).read_bytes()
    except OSError as e:
        print(f"không đọc được tệp / cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 2
    verdict = verify_archive(data)
    print(verdict.text())
    return 0 if verdict.ok else 1


def _bundle_hash(args: argparse.Namespace) -> int:
    import hashlib
    import urllib.request

    import msgspec

    from server.app import NODE_MODULES, VENDOR, WEB_DIR
    from server.bundle import ClientBundle, compute

    local = compute(WEB_DIR, NODE_MODULES, VENDOR, NODE_MODULES.parent / "package-lock.json")
    if not args.check:
        print(local.digest)
        return 0
    base = args.check.rstrip("/")
    with urllib.request.urlopen(f"{base}/api/client-bundle", timeout=30) as r:
        served = msgspec.json.decode(r.read(), type=ClientBundle)
    problems = []
    if served.digest != local.digest:
        problems.append(f"digest: máy chủ / server {served.digest} ≠ mã nguồn / source {local.digest}")
    want = {f.path: f.sha256 for f in local.files}
    for f in served.files:
        if want.get(f.path) != f.sha256:
            problems.append(f"{f.path}: khác mã nguồn / differs from the source")
            continue
        # What the server really sends, not only what it says it sends.
        with urllib.request.urlopen(f"{base}{f.path}", timeout=30) as r:
            if hashlib.sha256(r.read()).hexdigest() != f.sha256:
                problems.append(f"{f.path}: nội dung máy chủ gửi khác / the bytes served differ")
    problems += [
        f"{p}: thiếu trên máy chủ / missing on the server" for p in sorted(set(want) - {f.path for f in served.files})
    ]
    for p in problems:
        print(p)
    verdict = "KHỚP / MATCHES" if not problems else "KHÔNG KHỚP / DOES NOT MATCH"
    print(f"{verdict} {local.digest} ({len(local.files)} files)")
    return 0 if not problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kyhop", description="Kỳ họp — phiên họp không giấy của HĐND")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="chạy máy chủ / run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="tạo dữ liệu mẫu nếu chưa có / seed the demo council")
    serve.add_argument("--log-level", default="info")
    demo = sub.add_parser("demo", help="tạo Hội đồng mẫu và in cách đăng nhập / seed demo data, print sign-in")
    demo.add_argument("--serve", action="store_true", help="rồi chạy máy chủ / then run the server")
    sim = sub.add_parser("simulate", help="mô phỏng một kỳ họp qua miền nghiệp vụ / simulate a session in memory")
    sim.add_argument("--delegates", type=int, default=50)
    sim.add_argument("--present", type=int, default=46)
    sub.add_parser("schema", help="in JSON Schema của giao thức / print the protocol's JSON Schema")
    audit = sub.add_parser("audit", help="nhật ký kiểm tra / audit log")
    audit_sub = audit.add_subparsers(dest="audit_cmd", required=True)
    verify = audit_sub.add_parser("verify", help="kiểm tra chuỗi băm / check the hash chain")
    verify.add_argument("--database", help="database URL (default: KYHOP_DATABASE_URL or ./var)")
    arch = sub.add_parser("archive", help="hồ sơ kỳ họp / session archive")
    arch_sub = arch.add_subparsers(dest="archive_cmd", required=True)
    check = arch_sub.add_parser(
        "verify", help="kiểm tra hồ sơ ngoại tuyến / check an archive offline (hashes, audit chain, signatures)"
    )
    check.add_argument("file", help="the .zip from GET /api/sessions/{id}/record/archive")
    vr = sub.add_parser(
        "verify-round",
        help="kiểm tra bảng công khai của một lượt bỏ phiếu kín / check a verifiable round's bulletin board offline",
    )
    vr.add_argument("file", help="the JSON from GET /api/sessions/{id}/rounds/{round}/board")
    bh = sub.add_parser(
        "bundle-hash",
        help="băm mã trang web máy chủ phục vụ / the digest of the code the pages run (server/bundle.py)",
    )
    bh.add_argument("--check", metavar="URL", help="so với máy chủ đang chạy / compare with a running server")
    from clients.committee_device import add_arguments as committee_arguments

    committee_arguments(
        sub.add_parser(
            "committee-device",
            help="thiết bị của thành viên Ban kiểm phiếu: tạo khóa, giải mã / a counting-committee member's device "
            "(clients/committee_device.py)",
        )
    )
    args = parser.parse_args(argv)

    if args.cmd == "serve":
        return _serve(args)
    if args.cmd == "demo":
        import asyncio

        from server.app import create_app
        from server.config import load_settings
        from server.demo import seed, sign_in_text

        os.environ["KYHOP_DEMO"] = "1"  # demo data: a key beside the database only warns (server/config.py)
        os.environ.setdefault("KYHOP_DEMO_PETITIONS", "3")
        settings = load_settings()
        app = create_app(settings)
        services = app.state.services

        async def go() -> bool:
            await services.db.migrate()
            try:
                return await seed(services)
            finally:
                await services.db.dispose()

        created = asyncio.run(go())
        print("Đã tạo dữ liệu mẫu." if created else "Dữ liệu mẫu đã có sẵn.")
        print(sign_in_text(settings.host, settings.port))
        if args.serve:
            return _serve(argparse.Namespace(host=None, port=None, workers=1, demo=False, log_level="info"))
        return 0
    if args.cmd == "simulate":
        from server.simulate import simulate

        simulate(args.delegates, args.present)
        return 0
    if args.cmd == "schema":
        from meeting.protocol import schema

        print(json.dumps(schema(), ensure_ascii=False, indent=2))
        return 0
    if args.cmd == "audit":
        return _audit(args)
    if args.cmd == "archive":
        return _archive(args)
    if args.cmd == "verify-round":
        # The same checks, in the same order, as `python -m ballotcrypto.verify` (docs/BALLOT-CRYPTO.md §9):
        # exit 0 verified, 1 a check failed (named), 2 the file cannot be read.
        from ballotcrypto.verify import main as verify_round

        return verify_round([args.file])
    if args.cmd == "bundle-hash":
        return _bundle_hash(args)
    if args.cmd == "committee-device":
        from clients.committee_device import main as committee_device
        from meeting.script import SESSION_ID
        from server.demo import DEMO_PASSWORD

        return committee_device(args, demo_password=DEMO_PASSWORD, demo_session=SESSION_ID)
    return 2


if __name__ == "__main__":
    sys.exit(main())
