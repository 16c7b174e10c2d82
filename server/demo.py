"""Demo data for `make run`: a province council of 50 delegates, accounts, and a session ready to open.

Idempotent: running it on a database that already has the demo council changes nothing.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date

import msgspec
import sqlalchemy as sa

from meeting import agenda, council, script
from meeting.actors import Actor, Role
from meeting.messages import Command
from meeting.rules import BallotMode, Level, Rules, rules_for
from server.auth import create_account
from server.engine import Reply
from server.services import Services

DEMO_PASSWORD = "kyhop-demo-2026"
SEED_LOCK = 0x6B79686F71  # advisory lock key held while seeding the demo


class System:
    """The seeding process acts as an administrator of the demo council."""

    account_id = "system"
    actor = Actor(roles=frozenset({Role.ADMIN, Role.SECRETARY}))


def demo_accounts(n: int) -> list[tuple[str, str, set[Role], str | None]]:
    """(username, display name, roles, person id)."""
    accounts: list[tuple[str, str, set[Role], str | None]] = [
        ("quantri", "Quản trị hệ thống", {Role.ADMIN}, None),
        ("vanphong", "Văn phòng HĐND tỉnh", {Role.SECRETARY}, None),
        ("chutoa", f"Chủ tọa — {script.delegate_name(1)}", {Role.CHAIR, Role.DELEGATE}, script.delegate_id(1)),
    ]
    for i in range(2, n + 1):
        roles = {Role.DELEGATE}
        if 30 <= i < 37:  # the counting committee of the demo poll (7 members, Guidance 883/HD-UBTVQH14)
            roles.add(Role.COMMITTEE)
        accounts.append((f"daibieu{i:02d}", script.delegate_name(i), roles, script.delegate_id(i)))
    for r in script.RESPONDENTS:
        accounts.append((r.id.replace("-", "."), f"{r.name} — {r.position}", {Role.RESPONDENT}, r.id))
    return accounts


def demo_rules() -> Rules | None:
    """The demo council's rules: a province's defaults (verifiable secret ballots, issue 13 §2), or, with
    KYHOP_DEMO_SECRET_MODE=sealed, sealed ones — for pages and tests that show the sealed flow. Read at seeding
    only; afterwards the secretariat's "Quy chế" panel changes them for the next session."""
    mode = os.environ.get("KYHOP_DEMO_SECRET_MODE", "")
    if not mode:
        return None
    return msgspec.structs.replace(rules_for(Level.PROVINCE), secret_mode=BallotMode(mode))


async def _run(services: Services, kind: str, ident: str, n: int, cmd: Command) -> Reply:
    reply: Reply = await services.engine.runtime(kind, ident).submit(System(), f"demo-{kind}-{ident}-{n}", cmd)
    return reply


async def _seed(services: Services, n: int = 50) -> bool:
    """Create the demo council and session unless they exist. Returns True when it created them."""
    existing, _ = await services.engine.state("council", script.COUNCIL_ID)
    if existing is not None:
        return False
    for k, (_, cmd) in enumerate(script.council_setup(n, demo_rules())):
        reply = await _run(services, "council", script.COUNCIL_ID, k, cmd)
        assert reply.ok, reply.error
    for username, name, roles, person in demo_accounts(n):
        await create_account(
            services,
            username=username,
            password=DEMO_PASSWORD,
            display_name=name,
            council_id=None if Role.ADMIN in roles else script.COUNCIL_ID,
            roles=roles,
            person_id=person,
        )
    state, _ = await services.engine.state("council", script.COUNCIL_ID)
    prepare = council.prepare_session(
        state,
        session_id=script.SESSION_ID,
        title=script.SESSION_TITLE,
        opens_on=date(2026, 12, 9),
        place="Hội trường Trung tâm Hội nghị tỉnh",
    )
    reply = await _run(services, "session", script.SESSION_ID, 0, prepare)
    assert reply.ok, reply.error
    for k, (item_id, title, kind) in enumerate(script.ITEMS, start=1):
        reply = await _run(
            services, "session", script.SESSION_ID, k, agenda.AddItem(item_id=item_id, title=title, kind=kind)
        )
        assert reply.ok, reply.error
    # Real PDFs on the agenda, generated now (documents/samples.py), checked, stored and published like uploads.
    from server.document_service import seed_demo_documents

    await seed_demo_documents(services, script.SESSION_ID, System())
    # The secretariat's inputs for the record (record/inputs.py demo_inputs), stored and audited like its edits.
    from record.inputs import demo_stored
    from server.record_service import RecordService

    await RecordService(services).put_all(System(), script.COUNCIL_ID, script.SESSION_ID, demo_stored())
    scale = int(os.environ.get("KYHOP_DEMO_PETITIONS", "0") or 0)
    if scale > 0:
        await seed_petitions(services, scale)
    return True


async def seed_petitions(services: Services, meetings_per_round: int) -> None:
    """The petitions register with a generated year (server/demo_petitions.py) and its people's accounts."""
    from server import demo_petitions

    for username, name, roles, person, _ in demo_petitions.ACCOUNTS:
        await create_account(
            services,
            username=username,
            password=DEMO_PASSWORD,
            display_name=name,
            council_id=script.COUNCIL_ID,
            roles=roles,
            person_id=person,
        )
    plan = demo_petitions.plan(meetings_per_round)
    runtime = services.engine.runtime("petitions", f"{script.COUNCIL_ID}:{demo_petitions.TERM}")
    # Submitted together, the engine commits them 256 to a transaction (~1 s for the full demo, not ~5 000).
    futures = [runtime.submit(System(), f"demo-petitions-{k}", cmd) for k, cmd in enumerate(plan.commands)]
    for reply, cmd in zip(await asyncio.gather(*futures), plan.commands, strict=True):
        assert reply.ok, (cmd, reply.error)


async def seed(services: Services, n: int = 50) -> bool:
    """Create the demo council and session unless they exist. Returns True when it created them.

    Several workers may start on an empty PostgreSQL database at once: an advisory lock lets one seed while the
    others wait and then find the council there.
    """
    if services.db.is_sqlite:
        return await _seed(services, n)
    async with services.db.engine.connect() as conn:
        await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": SEED_LOCK})
        await conn.commit()
        try:
            return await _seed(services, n)
        finally:
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": SEED_LOCK})
            await conn.commit()


def sign_in_text(host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    return "\n".join(
        [
            f"Kỳ họp đang chạy tại {base}  — mở trình duyệt / open in a browser: {base}/",
            f"  (OpenAPI: {base}/schema, giao thức / protocol: {base}/api/schema)",
            f"Hội đồng mẫu: {script.COUNCIL_NAME}; kỳ họp: {script.SESSION_TITLE} (mã {script.SESSION_ID}).",
            f"Mật khẩu chung của các tài khoản mẫu / demo password: {DEMO_PASSWORD}",
            "  quantri (quản trị), vanphong (Văn phòng), chutoa (chủ tọa, đại biểu db001),",
            "  daibieu02 … daibieu50 (đại biểu; daibieu30–36 là Ban kiểm phiếu), so.y.te (người trả lời chất vấn)",
            "  Bỏ phiếu kín kiểm chứng được (mặc định): Ban kiểm phiếu tạo khóa, giải mã kết quả trên máy tính bảng.",
            "  Chỉ một máy tính bảng (daibieu30)? `make demo-committee` ở cửa sổ khác làm thay 6 thành viên còn lại",
            "  (README: «A verifiable secret vote in the demo»).",
            f'Đăng nhập / sign in: POST {base}/api/auth/login  {{"username": "vanphong", "password": "…"}}',
            f'WebSocket: ws://{host}:{port}/ws/sessions/{script.SESSION_ID}  → gửi {{"type": "hello", "token": "…"}}',
        ]
    )
