"""The delegate's tablet (issue 11): npm dependencies served, the in-page reader, follow-me, the vote banner and
a ballot that survives a dropped socket — in Debian's chromium through Playwright, each person in their own
browser context, with axe-core (npm) on every tablet state."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from clients.sdk import SessionClient, sign_in
from documents.fonts import font_path
from meeting import agenda, polls, questioning, script, speakers, votes
from meeting import session as sess
from meeting.rules import BallotMode
from server.demo import DEMO_PASSWORD
from tests.docs_http import login, upload
from tests.e2e import ServerProcess
from tests.services import unavailable

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
SCREENS = ROOT / "docs" / "screens"
SESSION = script.SESSION_ID
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DOC = "bao-cao-ba-trang"


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        yield srv


def test_pdfjs_and_idb_are_served_from_the_locked_npm_packages(server: ServerProcess) -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for pkg, path in (
        ("pdfjs-dist", "build/pdf.min.mjs"),
        ("pdfjs-dist", "build/pdf.worker.min.mjs"),
        ("idb", "build/index.js"),
    ):
        installed = json.loads((NODE_MODULES / pkg / "package.json").read_text(encoding="utf-8"))["version"]
        assert installed == lock[f"node_modules/{pkg}"]["version"], pkg  # `make` installs what the lockfile says
        status, ctype, body = _get(f"{server.http}/vendor/{pkg}/{path}")
        assert status == 200 and "javascript" in ctype, (pkg, path, status)
        assert body == (NODE_MODULES / pkg / path).read_bytes()


def test_nothing_else_under_node_modules_is_served(server: ServerProcess) -> None:
    for path in (
        "/vendor/axe-core/axe.min.js",
        "/vendor/pdfjs-dist/../../pyproject.toml",
        "/vendor/.package-lock.json",
    ):
        status, ctype, body = _get(f"{server.http}{path}")
        assert status == 404 and ctype.startswith("application/json"), path
        assert json.loads(body)["message_vi"]


def test_the_pages_load_npm_code_only_from_this_server() -> None:
    """Third-party code comes only from /vendor/ (node_modules through this server): no CDN, nothing copied."""
    web = ROOT / "clients" / "web"
    urls = set()
    for f in web.glob("js/*.js"):
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), f.name
        urls |= set(re.findall(r'"(/vendor/[^"]+)"', text))
    assert urls == {
        "/vendor/pdfjs-dist/build/pdf.min.mjs",
        "/vendor/pdfjs-dist/build/pdf.worker.min.mjs",
        "/vendor/idb/build/index.js",  # js/offline.js (the tablet's store) and js/notes_store.js
    }
    for url in urls:
        assert (NODE_MODULES / url.removeprefix("/vendor/")).is_file(), url
    assert not list(web.rglob("*.min.mjs")) and not list(web.rglob("pdf*.js"))  # nothing vendored into git


# --- in a real browser ----------------------------------------------------------------------------------------------


def three_pages() -> bytes:
    """A 3-page Vietnamese PDF with an outline (one entry per page) and a phrase found only on page 3."""
    pdf = FPDF(format="A4")
    pdf.add_font("Body", "", str(font_path("Regular")))
    pdf.set_font("Body", size=14)
    for n, heading in enumerate(("Phần I. Tình hình thu chi", "Phần II. Đầu tư công", "Phần III. Kiến nghị"), 1):
        pdf.add_page()
        pdf.start_section(heading)
        pdf.multi_cell(
            0,
            8,
            f"{heading}\nTrang {n} của báo cáo thẩm tra dự toán ngân sách năm 2027.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if n == 3:
            pdf.multi_cell(
                0, 8, "Đề nghị bố trí vốn đối ứng cho tuyến đường ven biển.", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
    return bytes(pdf.output())


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        unavailable("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    if not (NODE_MODULES / "axe-core" / "axe.min.js").exists():
        unavailable("node_modules is missing: `make test` installs it (npm ci)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield b
        finally:
            await b.close()


async def _client(srv: ServerProcess, username: str, session: str = SESSION) -> SessionClient:
    c = SessionClient(srv.ws, session, await sign_in(srv.http, username, DEMO_PASSWORD))
    await c.connect()
    await c.ready()
    return c


async def _until(check: Any, what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _in_session(srv: ServerProcess, present: list[int]) -> tuple[SessionClient, SessionClient]:
    """The session opened with these delegates checked in (34 of 50 is the quorum) and the budget item current."""
    secretary = await _client(srv, "vanphong")
    chair = await _client(srv, "chutoa")
    await secretary.send(sess.OpenCheckIn())
    for i in present:
        await secretary.send(sess.CheckIn(delegate_id=script.delegate_id(i)))
    await chair.send(sess.OpenSession())
    await chair.send(agenda.MoveToItem(item_id="nq-ngan-sach"))
    return secretary, chair


async def _tablet(
    browser: Any,
    srv: ServerProcess,
    username: str,
    viewport: dict[str, int],
    errors: list[str],
    ws_route: Any = None,
    session: str = SESSION,
) -> Any:
    """A delegate's own browser context, signed in (the start page's sign-in is tested in test_web.py);
    `ws_route` stands between the page and the server's WebSocket when given."""
    async with httpx.AsyncClient(base_url=srv.http) as c:
        r = await c.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        out = r.json()
    ctx = await browser.new_context(locale="vi-VN", viewport=viewport, has_touch=viewport["width"] < 500)
    await ctx.add_init_script(
        f"""localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
        localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))});"""
    )
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"{username}: {e}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"{username} console: {m.text}"))
    if ws_route is not None:
        await page.route_web_socket("**/ws/**", ws_route)
    await page.goto(f"{srv.http}/tablet.html?session={session}")
    await page.wait_for_selector("#conn.live")
    return page


async def _axe(page: Any, state: str) -> None:
    """axe-core (npm, from node_modules) on the page as it is: no serious or critical violation."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(NODE_MODULES / "axe-core" / "axe.min.js"))
    found = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`)"""
    )
    assert found == [], f"{state}: {found}"


async def _shot(page: Any, name: str) -> None:
    """A screenshot of this state; into docs/screens/ (shown in the README) only when asked, so that a test run
    leaves the checkout clean."""
    folder = SCREENS if os.environ.get("KYHOP_UPDATE_SCREENS") == "1" else Path(tempfile.gettempdir()) / "kyhop-screens"
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"))


async def test_a_tablet_reads_in_the_reader_and_follow_me_moves_it(browser: Any) -> None:
    errors: list[str] = []
    with ServerProcess() as srv:
        with httpx.Client(base_url=srv.http, timeout=60) as http:
            r = upload(
                http,
                login(http, "vanphong"),
                three_pages(),
                document_id=DOC,
                kind="review_report",
                title="Báo cáo thẩm tra (3 trang)",
            )
            assert r.status_code == 201, r.text
        secretary, chair = await _in_session(srv, list(range(1, 35)))
        try:
            tablet = await _tablet(browser, srv, "daibieu02", TABLET, errors)
            reader = "#reader"
            await tablet.wait_for_selector(f'button[data-open="{DOC}"]')
            await _axe(tablet, "tablet home")
            await _shot(tablet, "tablet-home-1280x800")
            # --- open from the documents card: page 1 drawn by pdf.js, in the page (no new tab)
            await tablet.click(f'button[data-open="{DOC}"]')
            await tablet.wait_for_selector(f'{reader}[data-document="{DOC}"][data-drawn="1"]', timeout=20_000)
            assert "Trang 1/3" in await tablet.inner_text("#reader-page-num")
            assert len(tablet.context.pages) == 1
            await tablet.click("#reader-next")
            await tablet.wait_for_selector(f'{reader}[data-drawn="2"]')
            # --- zoom
            width = await tablet.evaluate("document.querySelector('canvas.reader-page').clientWidth")
            await tablet.click("#reader-zoom-in")
            await tablet.wait_for_function(f"document.querySelector('canvas.reader-page').clientWidth != {width}")
            assert "%" in await tablet.inner_text("#reader-zoom")
            await tablet.click("#reader-fit")
            await tablet.wait_for_selector("#reader-fit", state="detached")
            # --- text search (Vietnamese, across pages) and the outline
            await tablet.fill("#reader-search", "vốn đối ứng")
            await tablet.press("#reader-search", "Enter")
            hits = await tablet.wait_for_selector("#reader-hits li")
            assert "Trang 3" in await hits.inner_text()
            assert len(await tablet.query_selector_all("#reader-hits li")) == 1
            await tablet.click('#reader-hits button[data-page="3"]')
            await tablet.wait_for_selector(f'{reader}[data-drawn="3"]')
            await tablet.click(".reader-outline >> text=Phần I. Tình hình thu chi")
            await tablet.wait_for_selector(f'{reader}[data-drawn="1"]')
            # --- quick switching between the item's documents (the demo's budget submission and report + ours)
            switch = await tablet.query_selector_all(".reader-docs button")
            assert len(switch) >= 2
            await tablet.click('.reader-docs button[data-document="ttr-ngan-sach-2027"]')
            await tablet.wait_for_selector(f'{reader}[data-document="ttr-ngan-sach-2027"][data-drawn="1"]')
            await _axe(tablet, "reader")
            await _shot(tablet, "tablet-reader-1280x800")

            # --- follow me: the chair points at page 3 of our report; the reader goes there by itself
            await chair.send(agenda.SetFollowMe(document_id=DOC, page=3))
            await tablet.wait_for_selector(f'{reader}[data-document="{DOC}"][data-drawn="3"]')
            await tablet.wait_for_selector("#reader-following")
            await _axe(tablet, "reader following the chair")
            await _shot(tablet, "tablet-follow-me-1280x800")
            # "tự xem": the delegate reads on their own; the chair's next page does not move them ...
            await tablet.click("#reader-alone-button")
            await tablet.click("#reader-prev")
            await tablet.wait_for_selector(f'{reader}[data-drawn="2"]')
            await chair.send(agenda.SetFollowMe(document_id=DOC, page=1))
            back = await tablet.wait_for_selector("#reader-back:has-text('(trang 1)')")
            await asyncio.sleep(0.5)
            assert await tablet.get_attribute(reader, "data-page") == "2"
            # ... until they go back to the chair's page.
            await back.click()
            await tablet.wait_for_selector(f'{reader}[data-drawn="1"][data-following="true"]')
            await tablet.click("#reader-close")
            await tablet.wait_for_selector(f"{reader}.hidden", state="attached")
            assert "Xem trang 1" in await tablet.inner_text("#follow-me")

            # --- a phone: the same reader fits the width
            phone = await _tablet(browser, srv, "daibieu03", PHONE, errors)
            await phone.wait_for_selector(f'{reader}[data-document="{DOC}"][data-drawn="1"]', timeout=20_000)
            box = await (await phone.query_selector("canvas.reader-page")).bounding_box()
            assert box is not None and box["width"] <= PHONE["width"]
            await _axe(phone, "reader on a phone")
            await _shot(phone, "tablet-follow-me-390x844")
        finally:
            await asyncio.gather(secretary.close(), chair.close())
    assert errors == []


async def test_a_ballot_queued_while_the_socket_is_down_is_counted_once_after_reconnect(browser: Any) -> None:
    """A phone (390×844) gets the vote banner with the vote card first on screen; the network is cut (offline,
    and the server dies so the open socket really closes); the ballot cast meanwhile shows "đang gửi" with the
    other options locked, goes again with the same command id once the server is back, and is counted once."""
    me = script.delegate_id(40)
    errors: list[str] = []
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, [*range(1, 34), 40])
        try:
            phone = await _tablet(browser, srv, "daibieu40", PHONE, errors)
            await _axe(phone, "tablet, nothing to do")
            await phone.wait_for_selector("#document-list [data-document]")
            await _shot(phone, "tablet-home-390x844")
            motion = "Thông qua Nghị quyết về dự toán ngân sách địa phương năm 2027"
            await chair.send(votes.OpenVote(round_id="bq-mang", item_id="nq-ngan-sach", motion=motion))

            # --- the banner, and the vote card first and in view on the phone
            alert = await phone.wait_for_selector("#alert:not(.hidden)")
            assert "Đang biểu quyết" in await alert.inner_text() and motion in await alert.inner_text()
            await phone.wait_for_selector("#vote.first")
            order = await phone.evaluate(
                "[...document.querySelectorAll('.grid > section')].filter((s) => s.offsetParent)"
                ".sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)[0].id"
            )
            assert order == "vote"
            yes = '.ballot[data-round="bq-mang"] button[data-option="yes"]'
            await phone.wait_for_selector(yes)
            await asyncio.sleep(0.3)  # the progress count re-renders the card; measure a settled one
            box = await phone.locator(yes).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
            assert box["height"] >= 44
            await _axe(phone, "vote open")
            await _shot(phone, "tablet-vote-open-390x844")

            # --- the network is cut: offline, and the server goes down so the open socket closes
            await phone.context.set_offline(True)
            srv.kill()
            srv.stop()
            await phone.wait_for_selector("#conn.offline")
            await phone.click(yes)
            await phone.click("dialog.confirm button.primary")
            await phone.wait_for_selector('.ballot.sending[data-round="bq-mang"]')
            text = await phone.locator('.ballot.sending[data-round="bq-mang"]').inner_text()
            assert "Đang gửi phiếu: Tán thành" in text and "tự gửi lại khi có mạng" in text
            # no second tap on another option; a locator, since a progress count may re-render the card meanwhile
            disabled = await phone.locator('.ballot[data-round="bq-mang"] button').evaluate_all(
                "(bs) => bs.length > 0 && bs.every((b) => b.disabled)"
            )
            assert disabled
            assert "đang được gửi" in await phone.inner_text("#alert")
            head = await phone.locator('.ballot.sending[data-round="bq-mang"] .sending').bounding_box()
            alert_box = await phone.locator("#alert").bounding_box()
            assert head is not None and alert_box is not None
            assert head["y"] >= alert_box["y"] + alert_box["height"] - 1  # "đang gửi" is not under the banner
            ids = await phone.evaluate("window.kyhop.pendingCommands().map((c) => c.id)")
            assert len(ids) == 1
            await _axe(phone, "ballot in flight")
            await _shot(phone, "tablet-ballot-sending-390x844")

            # --- back: the same command goes again, the server answers, "đã ghi nhận"
            await asyncio.to_thread(srv.start)
            await phone.context.set_offline(False)
            await phone.wait_for_selector('.ballot.done[data-round="bq-mang"]', timeout=30_000)
            assert (
                "Đã ghi nhận phiếu của bạn: Tán thành"
                in await phone.locator('.ballot.done[data-round="bq-mang"]').inner_text()
            )
            assert await phone.evaluate("window.kyhop.pendingCommands().length") == 0
            await phone.wait_for_selector("#alert.hidden", state="attached")
            errors[:] = [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e and "ERR_CONNECTION" not in e]

            await chair.ready()
            await _until(lambda: me in chair.state.votes.rounds["bq-mang"].voted, "the chair to see the ballot")
            assert chair.state.votes.rounds["bq-mang"].voted == {me}  # one delegate, one ballot
            await chair.send(votes.CloseRound(round_id="bq-mang"))
            await _until(lambda: chair.state.votes.rounds["bq-mang"].status == "closed", "the round to close")
            tally = chair.state.votes.rounds["bq-mang"].tally
            assert sum(tally.values()) == 1 and tally["yes"] == 1, tally
            await _axe(phone, "vote closed")
        finally:
            await asyncio.gather(secretary.close(), chair.close())
    assert errors == [], errors


async def test_the_confidence_poll_ballot_has_whole_cell_targets_one_card_per_official_and_a_summary(
    browser: Any,
) -> None:
    errors: list[str] = []
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, [*range(1, 34), 40, 41])
        try:
            await chair.send(agenda.MoveToItem(item_id="tin-nhiem"))
            officials = [polls.Official(id=x.id, name=x.name, position=x.position) for x in script.RESPONDENTS[:3]]
            await secretary.send(
                polls.CreatePoll(
                    poll_id="ltn-web", item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials
                )
            )
            await chair.send(polls.AppointCommittee(poll_id="ltn-web", members=script.COMMITTEE))
            # The tablet's sealed poll ballot (the encrypted one is the tablet's verifiable flow, tested on its own).
            await chair.send(polls.OpenPoll(poll_id="ltn-web", mode=BallotMode.SEALED))

            tablet = await _tablet(browser, srv, "daibieu41", TABLET, errors)
            phone = await _tablet(browser, srv, "daibieu40", PHONE, errors)
            for page, size in ((tablet, "1280x800"), (phone, "390x844")):
                assert "Đang lấy phiếu" in await (await page.wait_for_selector("#alert:not(.hidden)")).inner_text()
                await page.wait_for_selector("#poll.first .poll-ballot")
                cells = await page.locator(".poll-ballot label.mark").all()
                assert len(cells) == 9
                for cell in cells:
                    box = await cell.bounding_box()
                    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
                await _axe(page, f"poll open {size}")
                await _shot(page, f"tablet-poll-{size}")

            # On a phone each official is a card of its own: rows stacked, as wide as the form.
            rows = [await r.bounding_box() for r in await phone.locator(".poll-ballot tbody tr").all()]
            form = await phone.locator(".poll-ballot").bounding_box()
            assert form is not None and all(r is not None for r in rows)
            assert all(r["width"] >= form["width"] - 2 for r in rows if r)
            assert all(a["y"] + a["height"] <= b["y"] for a, b in itertools.pairwise(rows) if a and b)

            # A tap at the edge of a cell (not on the radio) marks it; the third official is left unmarked.
            first, second = officials[0].id, officials[1].id
            await phone.locator(f'label.mark:has(input[name="m-{first}"][value="high"])').click(
                position={"x": 4, "y": 4}
            )
            await phone.locator(f'label.mark:has(input[name="m-{second}"][value="low"])').click(
                position={"x": 4, "y": 4}
            )
            assert await phone.is_checked(f'input[name="m-{first}"][value="high"]')
            assert await phone.is_checked(f'input[name="m-{second}"][value="low"]')
            await phone.click("#poll .actions button.primary")
            summary = await phone.wait_for_selector("dialog.confirm")
            text = await summary.inner_text()
            assert f"{officials[0].name}: Tín nhiệm cao" in text and f"{officials[1].name}: Tín nhiệm thấp" in text
            assert f"{officials[2].name}: không đánh dấu (không hợp lệ)" in text
            assert "1 người chưa được đánh dấu" in text
            await _axe(phone, "poll summary")
            await _shot(phone, "tablet-poll-summary-390x844")
            await phone.click("dialog.confirm button.primary")
            await phone.wait_for_selector("#poll-body >> text=Đã ghi nhận phiếu tín nhiệm của bạn.")
            await _until(lambda: "db040" in chair.state.polls.polls["ltn-web"].voted, "the chair to see the ballot")
        finally:
            await asyncio.gather(secretary.close(), chair.close())
    assert errors == [], errors


async def test_the_floor_or_a_question_called_brings_the_banner_and_forms_speak_vietnamese(browser: Any) -> None:
    errors: list[str] = []
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, [*range(1, 34), 40])
        try:
            phone = await _tablet(browser, srv, "daibieu40", PHONE, errors)
            # The browser's validation message for a required field is Vietnamese first, English beside it.
            await phone.click("#q-send")
            message = await phone.evaluate("document.querySelector('#q-topic').validationMessage")
            assert message.startswith("Vui lòng điền mục này.") and "Please fill in this field." in message
            await phone.fill("#q-topic", "Y tế")
            assert await phone.evaluate("document.querySelector('#q-topic').validationMessage") == ""

            await chair.send(speakers.StartSpeech(delegate_id=script.delegate_id(40)))
            alert = await phone.wait_for_selector("#alert:not(.hidden)")
            assert "Chủ tọa mời bạn phát biểu." in await alert.inner_text()
            await phone.wait_for_selector("#floor.first")
            await asyncio.sleep(0.3)  # the scroll waits for the frame after the render
            top, alert_bottom = await phone.evaluate(
                "[document.querySelector('#floor').getBoundingClientRect().top,"
                " document.querySelector('#alert').getBoundingClientRect().bottom]"
            )
            assert alert_bottom <= top < PHONE["height"] / 2  # the panel's heading is in view, not under the banner
            await _axe(phone, "floor given")
            await _shot(phone, "tablet-floor-390x844")
            await chair.send(speakers.EndSpeech())
            await phone.wait_for_selector("#alert.hidden", state="attached")
            assert await phone.query_selector("#floor.first") is None

            # A question registered from the phone's form, then called by the chair: "mời bạn chất vấn".
            await chair.send(agenda.MoveToItem(item_id="chat-van"))
            await phone.fill("#q-topic", "Y tế")
            await phone.fill("#q-text", "Đề nghị Giám đốc Sở Y tế cho biết giải pháp bảo đảm thuốc tại trạm y tế xã.")
            await phone.click("#q-send")
            await phone.wait_for_selector("#question-list [data-question]")
            await _until(lambda: len(chair.state.questioning.questions) == 1, "the chair to see the question")
            (question_id,) = chair.state.questioning.questions
            await chair.send(questioning.CallQuestion(question_id=question_id))
            alert = await phone.wait_for_selector("#alert:not(.hidden)")
            assert "Chủ tọa mời bạn chất vấn." in await alert.inner_text()
            await phone.wait_for_selector("#floor.first")
            await _axe(phone, "question called")

            # A document arrives: the banner names it (after the call: less urgent) and opens it in the reader.
            def publish() -> None:
                with httpx.Client(base_url=srv.http, timeout=60) as http:
                    r = upload(http, login(http, "vanphong"), three_pages(), document_id=DOC, title="Báo cáo bổ sung")
                    assert r.status_code == 201, r.text

            await asyncio.to_thread(publish)
            await phone.wait_for_function("document.querySelector('#alert').innerText.includes('và 1 việc khác')")
            await chair.send(questioning.EndTurn())
            alert = await phone.wait_for_selector("#alert:has-text('Tài liệu mới: Báo cáo bổ sung')")
            await _axe(phone, "document arrived")
            await _shot(phone, "tablet-document-arrived-390x844")
            await phone.click("#alert-go")
            await phone.wait_for_selector(f'#reader[data-document="{DOC}"][data-drawn="1"]', timeout=20_000)
            await phone.wait_for_selector("#alert.hidden", state="attached")
        finally:
            await asyncio.gather(secretary.close(), chair.close())
    assert errors == [], errors


async def test_a_ballot_whose_answer_is_lost_goes_again_with_the_same_id_and_counts_once(browser: Any) -> None:
    """The ballot reaches the server, the connection breaks before the answer comes back (a router between the
    page and the server drops it and closes both sides): the tablet keeps showing "đang gửi", sends the same
    command id again after reconnecting, gets the first answer, and the server has counted one ballot."""
    me = script.delegate_id(40)
    errors: list[str] = []
    sent: list[str] = []  # the ids of every vote_cast_ballot the page put on a socket
    cut = {"armed": True}

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            msg = json.loads(message)
            if msg.get("type") == "command" and msg["command"]["type"] == "vote_cast_ballot":
                sent.append(msg["id"])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            msg = json.loads(message)
            if cut["armed"] and msg.get("type") == "result" and msg.get("id") in sent:
                cut["armed"] = False  # this answer is lost, and the connection with it
                asyncio.get_running_loop().create_task(ws.close(code=4000, reason="cut"))
                asyncio.get_running_loop().create_task(server.close())
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, [*range(1, 34), 40])
        try:
            tablet = await _tablet(browser, srv, "daibieu40", TABLET, errors, ws_route=route)
            await chair.send(votes.OpenVote(round_id="bq-mat", item_id="nq-ngan-sach", motion="Thông qua dự toán"))
            await tablet.click('.ballot[data-round="bq-mat"] button[data-option="no"]')
            await tablet.click("dialog.confirm button.primary")
            await tablet.wait_for_selector('.ballot.done[data-round="bq-mat"]', timeout=30_000)
            assert (
                "Đã ghi nhận phiếu của bạn: Không tán thành"
                in await tablet.locator('.ballot.done[data-round="bq-mat"]').inner_text()
            )
            assert cut["armed"] is False  # the first answer really was lost
            # "đã ghi nhận" may show from the session's events before the reconnect; the command is answered
            # (no longer pending) only once it has gone again
            await tablet.wait_for_function("window.kyhop.pendingCommands().length === 0", timeout=30_000)
            assert len(sent) == 2 and sent[0] == sent[1], sent  # sent again, with the same command id
            await _until(lambda: me in chair.state.votes.rounds["bq-mat"].voted, "the chair to see the ballot")
            await chair.send(votes.CloseRound(round_id="bq-mat"))
            await _until(lambda: chair.state.votes.rounds["bq-mat"].status == "closed", "the round to close")
            tally = chair.state.votes.rounds["bq-mat"].tally
            assert sum(tally.values()) == 1 and tally["no"] == 1, tally  # counted once
        finally:
            await asyncio.gather(secretary.close(), chair.close())
    assert errors == [], errors
