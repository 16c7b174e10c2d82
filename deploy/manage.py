#!/usr/bin/env python3
"""Operator tasks for a deployment: bring the database schema up to date, create the first administrator.

In the image this file is installed as ``kyhop-manage``; from a checkout run ``python deploy/manage.py``.
Settings come from the same environment variables as the server (KYHOP_DATABASE_URL, KYHOP_DATA_DIR, ...).

    kyhop-manage migrate
    kyhop-manage create-admin --username quantri.tinh --display-name "Quản trị HĐND tỉnh"   # asks for the password
    printf '%s' "$PASSWORD" | kyhop-manage create-admin --username quantri.tinh --password-stdin

Why a one-shot ``migrate`` before the replicas start: every worker brings the schema to the newest revision when
it starts, and two workers doing that at the same moment on an empty PostgreSQL database race on CREATE TABLE
(one of them dies with a duplicate-key error on pg_type). Migrating once, first, leaves the workers nothing to do.

Exit codes: 0 done, 1 refused (the message says why, in Vietnamese and English), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

# Run from a checkout (python deploy/manage.py): the project's packages are one directory up. In the image the
# project is installed, and this path does not exist, so nothing changes there.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "server" / "__init__.py").is_file() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))


async def _migrate() -> int:
    from server.config import load_settings
    from server.database import Database

    settings = load_settings()
    database = Database(settings.database_url)
    try:
        await database.migrate()
    finally:
        await database.dispose()
    print("Cơ sở dữ liệu đã ở phiên bản mới nhất. / The database schema is up to date.", flush=True)
    return 0


async def _create_admin(username: str, display_name: str, password: str) -> int:
    from meeting.actors import Role
    from server.auth import create_account
    from server.config import load_settings
    from server.database import Database
    from server.errors import ApiError
    from server.services import Services, password_hasher

    settings = load_settings()
    database = Database(settings.database_url)
    services = Services(settings=settings, db=database, hasher=password_hasher())
    try:
        await database.migrate()
        account = await create_account(
            services,
            username=username,
            password=password,
            display_name=display_name,
            council_id=None,
            roles={Role.ADMIN},
        )
    except ApiError as exc:
        body = exc.body
        print(f"{body.code}: {body.message_vi} / {body.message_en}", file=sys.stderr, flush=True)
        return 1
    finally:
        await database.dispose()
    print(
        f"Đã tạo tài khoản quản trị {account.username}. / Created administrator {account.username} (id {account.id}).",
        flush=True,
    )
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.read().rstrip("\r\n")
    first = getpass.getpass("Mật khẩu / Password: ")
    again = getpass.getpass("Nhập lại / Again: ")
    if first != again:
        print("Hai lần nhập không khớp. / The passwords do not match.", file=sys.stderr)
        raise SystemExit(1)
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kyhop-manage", description="Kỳ họp — tác vụ vận hành / operator tasks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="đưa lược đồ CSDL lên bản mới nhất / bring the schema up to date")
    admin = sub.add_parser("create-admin", help="tạo tài khoản quản trị hệ thống / create a system administrator")
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", default="Quản trị hệ thống")
    admin.add_argument(
        "--password-stdin", action="store_true", help="đọc mật khẩu từ stdin / read the password from standard input"
    )
    args = parser.parse_args(argv)
    if args.cmd == "migrate":
        return asyncio.run(_migrate())
    password = _read_password(args.password_stdin)
    return asyncio.run(_create_admin(args.username, args.display_name, password))


if __name__ == "__main__":
    sys.exit(main())
