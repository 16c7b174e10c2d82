"""The browser pages (clients/web) through a real server: served, well-formed, and working in a real browser.

The browser test drives Debian's chromium with the `playwright` package (no browser download): a delegate signs in
on the start page, checks in on the tablet and sees it; the chair (through the SDK) opens a named vote, the delegate
votes on the tablet (with the confirmation a final ballot needs) and gets a receipt, and the public page — which
shows "đang biểu quyết" and no count while the round is open — shows the result once the chair closes it.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from clients.sdk import SessionClient, sign_in
from meeting import agenda, script, speakers, votes
from meeting import session as sess
from meeting.errors import Code
from server import demo_petitions
from server.demo import DEMO_PASSWORD, demo_accounts
from tests.e2e import ServerProcess
from tests.services import unavailable

WEB = Path(__file__).resolve().parent.parent / "clients" / "web"
JS = WEB / "js"
SESSION = script.SESSION_ID

# Each page and a Vietnamese phrase (with diacritics) it must carry as served.
PAGES = {
    "index.html": "Bạn tham dự với vai trò nào?",
    "public.html": "Nội dung đang xem xét",
    "tablet.html": "Đăng ký phát biểu",
    "chair.html": "Điểm danh và số lượng tối thiểu",
    "secretariat.html": "Nghị quyết đã thông qua",
}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _fetch(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        yield srv


# --- served ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_is_served_in_utf8_with_vietnamese(server: ServerProcess, page: str) -> None:
    status, ctype, body = _fetch(f"{server.http}/{page}")
    assert status == 200
    assert ctype.startswith("text/html") and "charset=utf-8" in ctype.lower(), ctype
    text = body.decode("utf-8")  # raises if not UTF-8
    assert '<meta charset="utf-8">' in text
    assert '<html lang="vi">' in text
    assert PAGES[page] in text
    # Precomposed Vietnamese letters really are in the page (not entities, not mojibake).
    assert re.search("[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", text)
    assert "Ã" not in text and "Â»" not in text  # the classic signs of UTF-8 read as Latin-1


def test_root_opens_the_start_page(server: ServerProcess) -> None:
    status, ctype, body = _fetch(f"{server.http}/")
    assert status == 200 and ctype.startswith("text/html")
    assert PAGES["index.html"] in body.decode("utf-8")


def test_assets_of_every_page_are_served(server: ServerProcess) -> None:
    for page in PAGES:
        html = (WEB / page).read_text(encoding="utf-8")
        scripts = re.findall(r'<script type="module" src="([^"]+)"', html)
        styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert scripts and styles, page
        for src in scripts:
            status, ctype, _ = _fetch(f"{server.http}/{src}")
            assert status == 200 and "javascript" in ctype, (page, src, status, ctype)
        for href in styles:
            status, ctype, _ = _fetch(f"{server.http}/{href}")
            assert status == 200 and ctype.startswith("text/css"), (page, href, status, ctype)


def test_api_and_errors_still_answer_in_json_beside_the_pages(server: ServerProcess) -> None:
    status, ctype, body = _fetch(f"{server.http}/api/health")
    assert status == 200 and ctype.startswith("application/json") and json.loads(body) == {"status": "ok"}
    status, _, body = _fetch(f"{server.http}/api/sessions/{SESSION}")
    assert status == 200 and json.loads(body)["state"]["hall"]["session_id"] == SESSION
    for missing in ("/khong-co.html", "/js/khong-co.js", "/api/khong-co"):
        status, ctype, body = _fetch(f"{server.http}{missing}")
        err = json.loads(body)
        assert status == 404 and ctype.startswith("application/json"), missing
        assert err["message_vi"] and err["message_en"] and err["message_vi"] != err["message_en"]


def test_no_file_outside_clients_web_is_served(server: ServerProcess) -> None:
    for path in (
        "/../sdk.py",
        "/%2e%2e/sdk.py",
        "/..%2fsdk.py",
        "/js/%2e%2e/%2e%2e/sdk.py",
        "/..%2f..%2fpyproject.toml",
    ):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
        finally:
            conn.close()
        assert r.status == 404, path
        assert b"SessionClient" not in body and b"[project]" not in body, path


def test_a_page_opening_the_websocket_url_gets_a_vietnamese_error(server: ServerProcess) -> None:
    status, _, body = _fetch(f"{server.http}/ws/sessions/{SESSION}")
    err = json.loads(body)
    assert 400 <= status < 500
    assert err["message_vi"] and err["message_en"]
    assert err["message_vi"] != err["message_en"]


# --- the JavaScript -------------------------------------------------------------------------------------------------

_IMPORT = re.compile(r'import\s*\{([^}]*)\}\s*from\s*"\./([\w-]+\.js)"', re.S)
_EXPORT = re.compile(r"export\s+(?:async\s+)?(?:function|class|const|let)\s+([\w$]+)")


def _modules() -> list[Path]:
    mods = sorted(JS.glob("*.js"))
    assert len(mods) >= 8, mods
    return mods


def test_every_module_passes_node_check(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js is not installed (apt-get install nodejs)")
    assert node is not None
    for mod in _modules():
        # As .mjs, so node parses it as the ES module the browser loads (import/export, top-level await).
        copy = tmp_path / f"{mod.stem}.mjs"
        copy.write_text(mod.read_text(encoding="utf-8"), encoding="utf-8")
        out = subprocess.run([node, "--check", str(copy)], capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, f"{mod.name}: {out.stderr}"


def test_node_check_rejects_a_broken_module(tmp_path: Path) -> None:
    """The check above can fail: a syntax error in a module is caught."""
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js is not installed (apt-get install nodejs)")
    assert node is not None
    bad = tmp_path / "bad.mjs"
    bad.write_text((JS / "api.js").read_text(encoding="utf-8") + "\nexport const broken = ;\n", encoding="utf-8")
    out = subprocess.run([node, "--check", str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode != 0


def test_every_import_names_an_existing_export() -> None:
    """node --check parses one file; this catches a renamed module or function before a browser does."""
    exports = {m.name: set(_EXPORT.findall(m.read_text(encoding="utf-8"))) for m in _modules()}
    seen = 0
    for mod in _modules():
        for names, target in _IMPORT.findall(mod.read_text(encoding="utf-8")):
            assert target in exports, f"{mod.name} imports missing module {target}"
            for name in (n.strip() for n in names.split(",")):
                if name:
                    assert name in exports[target], f"{mod.name} imports {name} that {target} does not export"
                    seen += 1
    assert seen > 40


def test_no_third_party_code_is_loaded() -> None:
    for f in [*WEB.glob("*.html"), *JS.glob("*.js"), *WEB.glob("css/*.css")]:
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"https?://", text), f.name
        assert not re.search(r"from\s+\"(?!\./)", text), f.name  # only relative ES module imports
        assert "@import" not in text and "@font-face" not in text, f.name


def test_the_demo_hint_matches_the_demo_accounts() -> None:
    html = (WEB / "index.html").read_text(encoding="utf-8")
    assert DEMO_PASSWORD in html
    assert SESSION in html and script.COUNCIL_ID in html
    usernames = {u for u, *_ in demo_accounts(50)} | {u for u, *_ in demo_petitions.ACCOUNTS}
    for name in re.findall(r"<code>([a-z][a-z0-9.]+)</code>", html):
        if name not in {SESSION, script.COUNCIL_ID, DEMO_PASSWORD, "make"}:
            assert name in usernames, name
    for page, user in (("tablet", "daibieu02"), ("chair", "chutoa"), ("secretariat", "vanphong")):
        assert f'data-page="{page}.html" data-user="{user}"' in html and user in usernames


# --- a real browser -------------------------------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        unavailable("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("the playwright package is missing: pip install -e '.[dev]'")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield b
        finally:
            await b.close()


async def _client(srv: ServerProcess, username: str) -> SessionClient:
    token = await sign_in(srv.http, username, DEMO_PASSWORD)
    c = SessionClient(srv.ws, SESSION, token)
    await c.connect()
    await c.ready()
    return c


async def _until(check: Any, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_delegate_checks_in_and_votes_and_the_public_sees_the_result(browser: Any, tmp_path: Path) -> None:
    me = script.delegate_id(40)
    errors: list[str] = []
    with ServerProcess() as srv:
        secretary = await _client(srv, "vanphong")
        chair = await _client(srv, "chutoa")
        voters: list[SessionClient] = []
        try:
            # 33 delegates are checked in by the secretariat; the browser's delegate is the 34th: the quorum.
            await secretary.send(sess.OpenCheckIn())
            for i in range(1, 34):
                await secretary.send(sess.CheckIn(delegate_id=script.delegate_id(i)))

            tablet_ctx = await browser.new_context(locale="vi-VN", viewport={"width": 1200, "height": 900})
            tablet = await tablet_ctx.new_page()
            tablet.on("pageerror", lambda e: errors.append(f"tablet: {e}"))
            tablet.on("console", lambda m: m.type == "error" and errors.append(f"tablet console: {m.text}"))

            # --- the start page: role, sign in, session
            await tablet.goto(f"{srv.http}/")
            await tablet.click('.role[data-role="delegate"]')
            assert await tablet.input_value("#username") == "daibieu02"  # the demo hint pre-fills a delegate
            await tablet.fill("#username", "daibieu40")
            await tablet.fill("#password", "sai-mat-khau")
            await tablet.click('#signin-form button[type="submit"]')
            await tablet.wait_for_selector("#signin-msg .banner.bad")
            assert "không đúng" in await tablet.inner_text("#signin-msg")  # the server's Vietnamese message
            errors[:] = [e for e in errors if "401" not in e]  # the browser logs the refused sign-in; expected
            await tablet.fill("#password", DEMO_PASSWORD)
            await tablet.click('#signin-form button[type="submit"]')
            await tablet.click(f'#sessions button[data-session="{SESSION}"]')
            await tablet.wait_for_url(f"**/tablet.html?session={SESSION}")

            # --- check in, and see it
            await tablet.wait_for_selector("#checkin-button")
            assert await tablet.get_attribute("#checkin-status", "data-present") == "false"
            await tablet.click("#checkin-button")
            await tablet.wait_for_selector('#checkin-status[data-present="true"]')
            assert "Đã điểm danh" in await tablet.inner_text("#checkin-status")
            await _until(lambda: chair.state is not None and me in chair.state.hall.present, "the chair to see it")

            # A refusal from the server is shown in Vietnamese (English underneath): no speaking before the opening.
            await tablet.click("#speak-send")
            toast = await tablet.wait_for_selector(".toast.bad")
            shown = await toast.inner_text()
            # The same refusal as the server gives the chair (a delegate too) for the same command now.
            answer = await chair.request(speakers.RequestToSpeak(request_id="thu", delegate_id=script.delegate_id(1)))
            refusal = answer.error
            assert not answer.ok and refusal is not None and refusal.code == Code.WRONG_SESSION_STATE
            assert refusal.message_vi and refusal.message_en
            assert refusal.message_vi in shown
            assert refusal.message_en == await (await toast.query_selector("small")).inner_text()
            await tablet.screenshot(path=str(tmp_path / "tablet-checked-in.png"), full_page=True)

            # --- the server dies and comes back: the tablet says so, reconnects by itself and resumes
            seen = await tablet.evaluate("window.kyhop.lastSeq")
            srv.kill()
            srv.stop()  # closes the dead server's log file (kill() leaves it open and start() opens another)
            await tablet.wait_for_selector("#conn.offline")
            assert "Mất kết nối" in await tablet.inner_text("#conn")
            await asyncio.to_thread(srv.start)
            await tablet.wait_for_selector("#conn.live", timeout=20_000)
            errors[:] = [e for e in errors if "ERR_CONNECTION_REFUSED" not in e]  # logged while it was down
            assert await tablet.evaluate("window.kyhop.welcome.resumed") is True  # from last_seq, no snapshot
            # Nothing older is read again; newer events may follow at once (the tablet's delivery receipts that were
            # waiting for the network are sent on reconnecting, js/sync.js).
            assert await tablet.evaluate("window.kyhop.lastSeq") >= seen
            await chair.ready()

            # --- the chair opens a named vote; the public page shows that a vote is on, and no count
            await chair.send(sess.OpenSession())
            await chair.send(agenda.MoveToItem(item_id="nq-ngan-sach"))
            motion = "Thông qua Nghị quyết về dự toán ngân sách địa phương năm 2027"
            await chair.send(votes.OpenVote(round_id="bq-web", item_id="nq-ngan-sach", motion=motion, normative=True))

            public_ctx = await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
            public = await public_ctx.new_page()
            public.on("pageerror", lambda e: errors.append(f"public: {e}"))
            public.on("console", lambda m: m.type == "error" and errors.append(f"public console: {m.text}"))
            await public.goto(f"{srv.http}/public.html?session={SESSION}")
            await public.wait_for_selector(".voting-now")
            assert "ĐANG BIỂU QUYẾT" in await public.inner_text("#voting-body")
            assert "Nghị quyết về dự toán ngân sách" in await public.inner_text("#now-item")

            # --- the delegate votes on the tablet: confirm first, then the receipt
            yes = '.ballot[data-round="bq-web"] button[data-option="yes"]'
            await tablet.click(yes)
            await tablet.wait_for_selector("dialog.confirm")
            assert "Tán thành" in await tablet.inner_text("dialog.confirm")
            assert "không thể biểu quyết lại" in await tablet.inner_text("dialog.confirm")
            await tablet.click("dialog.confirm button.primary")
            receipt_el = await tablet.wait_for_selector('.ballot.done[data-round="bq-web"] .receipt')
            receipt = (await receipt_el.inner_text()).strip()
            assert len(receipt) >= 16
            await _until(lambda: me in chair.state.votes.rounds["bq-web"].voted, "the chair to count the ballot")

            # 26 more Tán thành and 3 Không tán thành from delegates on the SDK: 27 of 50 > 1/2 of all delegates.
            voters = list(await asyncio.gather(*(_client(srv, f"daibieu{i:02d}") for i in range(2, 31))))
            await asyncio.gather(
                *(
                    c.send(
                        votes.CastBallot(
                            round_id="bq-web", delegate_id=script.delegate_id(i), option="yes" if i <= 27 else "no"
                        )
                    )
                    for i, c in zip(range(2, 31), voters, strict=True)
                )
            )
            # While the round is open the public page and the tablet show how many have voted — the server's
            # coalesced count (vote_round_progress), not one message per ballot — and never any option's count.
            done = '.vote-progress[data-round="bq-web"]'
            await public.wait_for_function(
                f"document.querySelector('{done}')?.innerText.includes('30/50')", timeout=10_000
            )
            assert "Đã biểu quyết: 30/50 đại biểu" in await public.inner_text("#voting-body")
            await tablet.wait_for_function(
                f"document.querySelector('{done}')?.innerText.includes('30/50')", timeout=10_000
            )
            assert await public.query_selector(".ballots-cast") is None
            assert "phiếu đã bỏ" not in await public.inner_text("body")
            assert not re.search(r"\b(27|3)\b", await public.inner_text("#voting-body"))
            assert "Tán thành" not in await public.inner_text("#voting-body")

            await chair.send(votes.CloseRound(round_id="bq-web"))

            # --- the public page shows the result: counts, shares of all 50 delegates, the verdict
            result = await public.wait_for_selector('#results-body .result[data-round="bq-web"]')
            text = await result.inner_text()
            assert "THÔNG QUA" in text and "KHÔNG THÔNG QUA" not in text
            assert await result.query_selector(".verdict.passed") is not None
            rows = [await r.inner_text() for r in await result.query_selector_all("tbody tr")]
            assert [r.split()[0:1] for r in rows] == [["Tán"], ["Không"], ["Không"]]
            assert "27" in rows[0] and "54,00%" in rows[0]
            assert "3" in rows[1] and "6,00%" in rows[1]
            assert "0,00%" in rows[2]
            await public.wait_for_selector("#voting-body >> text=Không có lượt biểu quyết nào đang mở.")
            await public.screenshot(path=str(tmp_path / "public-result.png"), full_page=True)

            # --- the tablet shows the result and that its receipt is in the published list
            await tablet.wait_for_selector('#results-body .result[data-round="bq-web"] .verdict.passed')
            mine = await tablet.wait_for_selector('.my-receipt.ok[data-round="bq-web"]')
            assert receipt in await mine.inner_text()
            await tablet.screenshot(path=str(tmp_path / "tablet-result.png"), full_page=True)

            # Every screen's socket saw each event once.
            assert await tablet.evaluate("window.kyhop.duplicates") == 0
            assert await public.evaluate("window.kyhop.duplicates") == 0
            await tablet_ctx.close()
            await public_ctx.close()
        finally:
            await asyncio.gather(*(c.close() for c in [secretary, chair, *voters]))
    assert errors == []
