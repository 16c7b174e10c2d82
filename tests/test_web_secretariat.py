"""The secretariat's page (issue 12 §2) in Debian's Chromium: the sessions with their state, the agenda editor
(add, edit, drag-and-drop and keyboard reordering, remove), documents (drag-and-drop upload with progress, publish,
replace, withdraw, a refused non-PDF with the server's message beside it, a state-secret document without a file)
and the delivery legend — with axe-core on each state and screenshots for the README."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from meeting import script, votes
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess
from tests.test_web_tablet import PHONE, TABLET, _axe, _in_session, _shot, browser, three_pages

__all__ = ["browser"]  # the Playwright fixture, shared with the tablet's tests

SESSION = script.SESSION_ID
ITEM = "nq-ngan-sach"  # a demo item that already has documents


async def _secretariat(b: Any, srv: ServerProcess, viewport: dict[str, int], errors: list[str]) -> Any:
    async with httpx.AsyncClient(base_url=srv.http) as c:
        out = (await c.post("/api/auth/login", json={"username": "vanphong", "password": DEMO_PASSWORD})).json()
    ctx = await b.new_context(locale="vi-VN", viewport=viewport, has_touch=viewport["width"] < 500)
    await ctx.add_init_script(
        f"""localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
        localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))});"""
    )
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"secretariat: {e}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"secretariat console: {m.text}"))
    await page.goto(f"{srv.http}/secretariat.html?session={SESSION}")
    await page.wait_for_selector("#conn.live")
    await page.wait_for_selector("#agenda-list li[data-item]")
    return page


async def _order(page: Any) -> list[str]:
    order: list[str] = await page.evaluate("window.kyhop.state.agenda.order")
    return order


async def _until_order(page: Any, order: list[str]) -> None:
    await page.wait_for_function(
        "(o) => JSON.stringify(window.kyhop.state.agenda.order) === JSON.stringify(o)", arg=order
    )


async def _drop_files(page: Any, selector: str, files: list[tuple[str, str, bytes]]) -> None:
    """A drop event with a DataTransfer built in the page from these bytes: what a file dragged from the desktop
    gives the page (Playwright cannot drag an OS file)."""
    payload = [{"name": n, "type": t, "b64": base64.b64encode(data).decode()} for n, t, data in files]
    await page.evaluate(
        """([sel, files]) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name, { type: f.type }));
            }
            const zone = document.querySelector(sel);
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
            }
        }""",
        [selector, payload],
    )


async def test_the_secretariat_builds_the_agenda_from_its_page(browser: Any) -> None:
    errors: list[str] = []
    with ServerProcess() as srv:
        page = await _secretariat(browser, srv, TABLET, errors)
        # --- the sessions, each with its state
        row = page.locator(f'#session-list li[data-session="{SESSION}"]')
        await row.wait_for()
        assert "chuẩn bị" in await row.inner_text()
        await _axe(page, "secretariat, prepared")
        await _shot(page, "secretariat-agenda-1280x800")

        # --- add: an empty title is refused in Vietnamese, not by a browser bubble
        await page.click("#item-add")
        assert "Vui lòng nhập tên nội dung" in await page.inner_text("#item-msg")
        before = await _order(page)
        for item_id, title in (
            ("bc-a", "Báo cáo tình hình kinh tế - xã hội"),
            ("bc-b", "Báo cáo công tác phòng, chống tham nhũng"),
        ):
            await page.fill("#item-title", title)
            await page.fill("#item-id", item_id)
            await page.click("#item-add")
            await page.wait_for_selector(f'#agenda-list li[data-item="{item_id}"]')
        assert await _order(page) == [*before, "bc-a", "bc-b"]

        # --- reorder by drag and drop: bc-b onto the first item goes first
        first = before[0]
        await page.locator('#agenda-list li[data-item="bc-b"]').drag_to(
            page.locator(f'#agenda-list li[data-item="{first}"]'), target_position={"x": 20, "y": 4}
        )
        await _until_order(page, ["bc-b", *before, "bc-a"])

        # --- and by the keyboard: focus bc-a's ↑ and press Enter twice; the focus stays on the moved item
        up = page.locator('#agenda-list li[data-item="bc-a"] button.up')
        await up.focus()
        await page.keyboard.press("Enter")
        await _until_order(page, ["bc-b", *before[:-1], "bc-a", before[-1]])
        await page.wait_for_function("document.activeElement.closest('li')?.dataset.item === 'bc-a'")
        await page.keyboard.press("Enter")
        await _until_order(page, ["bc-b", *before[:-2], "bc-a", *before[-2:]])

        # --- edit in a dialog (Vietnamese validation), then remove
        await page.click('#agenda-list li[data-item="bc-a"] button.edit')
        await page.wait_for_selector("dialog[open] #edit-title")
        await page.fill("#edit-title", "")
        await page.click("#edit-save")
        assert "Vui lòng nhập tên nội dung" in await page.inner_text("dialog[open]")
        await _axe(page, "secretariat, editing an item")
        await page.fill("#edit-title", "Báo cáo kinh tế - xã hội năm 2026")
        await page.select_option("#edit-kind", "other")
        await page.click("#edit-save")
        await page.wait_for_function(
            "window.kyhop.state.agenda.items['bc-a'].title === 'Báo cáo kinh tế - xã hội năm 2026'"
            " && window.kyhop.state.agenda.items['bc-a'].kind === 'other'"
        )
        await page.click('#agenda-list li[data-item="bc-b"] button.remove')
        await page.click("dialog.confirm button[value=ok]")
        await page.wait_for_selector('#agenda-list li[data-item="bc-b"]', state="detached")
        assert "bc-b" not in await _order(page)

        # an item with documents cannot be removed: the server's reason, in Vietnamese
        await page.click(f'#agenda-list li[data-item="{ITEM}"] button.remove')
        await page.click("dialog.confirm button[value=ok]")
        toast = page.locator(".toast.bad").last
        await toast.wait_for()
        assert "tài liệu" in await toast.inner_text()
        assert ITEM in await _order(page)
        assert errors == [], errors


async def test_the_secretariat_publishes_replaces_and_withdraws_documents(browser: Any) -> None:
    errors: list[str] = []
    with ServerProcess() as srv:
        page = await _secretariat(browser, srv, TABLET, errors)
        zone = f'.doc-item[data-doc-item="{ITEM}"]'
        await page.wait_for_selector(f"{zone} .dropzone")
        known = set(await page.evaluate("Object.keys(window.kyhop.state.documents.documents)"))

        # --- two PDFs dropped: staged with a title, kind and access each, then published with a progress bar
        pdf = three_pages()
        await _drop_files(
            page,
            f"{zone} .dropzone",
            [("to-trinh-gia-dat.pdf", "application/pdf", pdf), ("bao-cao-tham-tra.pdf", "application/pdf", pdf)],
        )
        rows = page.locator(f"{zone} .doc-queue li")
        await rows.nth(1).wait_for()
        assert await rows.count() == 2
        await rows.nth(0).locator("input").fill("Tờ trình về bảng giá đất năm 2027")
        await rows.nth(1).locator("input").fill("Báo cáo thẩm tra bảng giá đất")
        await rows.nth(1).locator("select").first.select_option("review_report")
        await rows.nth(1).locator("select").nth(1).select_option("restricted")
        await _axe(page, "secretariat, two files staged")
        await _shot(page, "secretariat-documents-1280x800")
        await rows.nth(0).locator("button.publish").click()
        await rows.nth(1).locator("button.publish").click()
        for i in (0, 1):
            await page.wait_for_selector(f'{zone} .doc-queue li:nth-child({i + 1})[data-state="done"]')
            assert await rows.nth(i).locator("progress").evaluate("(p) => p.value") == 1
            assert "100%" in await rows.nth(i).locator(".q-pct").inner_text()
        new = [await rows.nth(i).get_attribute("data-document") for i in (0, 1)]
        # The upload's answer may come before the session's event that publishes it reaches the page.
        await page.wait_for_function(
            "(ids) => ids.every((id) => id in window.kyhop.state.documents.documents)", arg=new
        )
        docs = await page.evaluate("window.kyhop.state.documents.documents")
        assert set(docs) == known | set(new)
        assert docs[new[1]]["kind"] == "review_report" and docs[new[1]]["access"] == "restricted"
        await page.wait_for_selector(f'{zone} .doc-list li[data-document="{new[0]}"]')

        # --- a file that is not a PDF: refused, the server's Vietnamese message beside that file, nothing written
        await _drop_files(page, f"{zone} .dropzone", [("ghi-chu.txt", "text/plain", b"khong phai PDF\n" * 20)])
        bad = page.locator(f'{zone} .doc-queue li[data-file="ghi-chu.txt"]')
        await bad.locator("button.publish").click()
        await page.wait_for_selector(f'{zone} .doc-queue li[data-file="ghi-chu.txt"][data-state="refused"]')
        text = await bad.locator(".q-msg").inner_text()
        assert "PDF" in text and "không" in text.lower() and "[object" not in text, text
        assert set(await page.evaluate("Object.keys(window.kyhop.state.documents.documents)")) == known | set(new)
        await _axe(page, "secretariat, a refused file")
        await _shot(page, "secretariat-refused-1280x800")

        # --- replace: the file picker (what the keyboard reaches) on the document's row gives version 2
        row = page.locator(f'{zone} .doc-list li[data-document="{new[0]}"]')
        await row.locator("input[type=file]").set_input_files(
            files=[{"name": "to-trinh-v2.pdf", "mimeType": "application/pdf", "buffer": pdf + b"\n% v2\n"}]
        )
        await page.wait_for_selector(f'{zone} .doc-list li[data-document="{new[0]}"][data-version="2"]')
        assert "bản 2" in await page.locator(f'{zone} .doc-list li[data-document="{new[0]}"]').inner_text()

        # --- withdraw, with a reason
        await page.locator(f'{zone} .doc-list li[data-document="{new[1]}"] button.withdraw').click()
        await page.wait_for_selector("dialog[open] input")
        await page.fill("dialog[open] input", "Thay bằng báo cáo thẩm tra bổ sung")
        await page.click("dialog[open] button[value=ok]")
        await page.wait_for_function(f"window.kyhop.state.documents.documents['{new[1]}'].withdrawn === true")
        assert "đã thu hồi" in await page.locator(f'{zone} .doc-list li[data-document="{new[1]}"]').inner_text()

        # --- a state-secret document: registered without a file
        await page.click("#secret-add")
        assert "Vui lòng nhập tên tài liệu mật" in await page.inner_text("#secret-msg")
        await page.select_option("#secret-item", ITEM)
        await page.fill("#secret-title", "Phương án bảo đảm an ninh khu vực biên giới")
        await page.fill("#secret-pages", "12")
        await page.click("#secret-add")
        await page.wait_for_function(
            "Object.values(window.kyhop.state.documents.documents).some((d) => d.access === 'secret'"
            " && d.title.startsWith('Phương án bảo đảm'))"
        )
        secret = page.locator(f"{zone} .doc-list li", has_text="Phương án bảo đảm an ninh")
        await secret.wait_for()
        assert "Mật" in await secret.inner_text() and "12 trang" in await secret.inner_text()

        # --- the delivery matrix has a legend in words
        await page.wait_for_selector("#deliveries:not(.hidden) ul.legend")
        legend = await page.inner_text("#deliveries ul.legend")
        for words in ("đã nhận", "đã gửi, chưa xác nhận", "lỗi", "chưa gửi"):
            assert words in legend
        await _axe(page, "secretariat, documents published")
        await page.locator("#deliveries").scroll_into_view_if_needed()
        await _shot(page, "secretariat-deliveries-1280x800")
        assert [e for e in errors if "422" not in e and "415" not in e] == [], errors

        # --- the phone: the same page, readable
        phone = await _secretariat(browser, srv, PHONE, errors)
        await phone.wait_for_selector(f"{zone} .dropzone")
        await _axe(phone, "secretariat on a phone")
        await _shot(phone, "secretariat-390x844")


def _xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in [["STT", "Mã đại biểu", "Họ và tên"], *rows]:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_the_secretariat_imports_the_roster_and_creates_an_account(browser: Any) -> None:
    errors: list[str] = []
    with ServerProcess() as srv:
        page = await _secretariat(browser, srv, TABLET, errors)
        await page.wait_for_function("document.querySelector('#roster-count').textContent.includes('50 đại biểu')")

        async def choose(name: str, data: bytes, mime: str = XLSX) -> None:
            await page.locator("#roster-file").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])

        # --- a malformed workbook: one clear message, nothing written
        await choose("hong.xlsx", b"PK\x03\x04 khong phai bang tinh")
        await page.wait_for_selector('#roster-preview [data-state="refused"]')
        text = await page.inner_text("#roster-preview")
        assert "XLSX" in text and "Chưa ghi gì" in text

        # --- duplicate ids: each bad row named, no button to write
        await choose(
            "trung.xlsx", _xlsx([[1, "db601", "Nguyễn Văn Sơn"], [2, "db601", "Lê Thị Thu"], [3, "db603", ""]])
        )
        await page.wait_for_selector('#roster-preview [data-state="errors"]')
        assert await page.locator("#roster-confirm").count() == 0
        assert "trùng với dòng 2" in await page.inner_text('#roster-preview tr[data-row="3"]')
        assert "họ tên" in await page.inner_text('#roster-preview tr[data-row="4"]')
        await _axe(page, "secretariat, roster with row errors")
        await page.locator("#roster").scroll_into_view_if_needed()
        await _shot(page, "secretariat-roster-errors-1280x800")

        # --- a good list: previewed, then written once confirmed
        await choose("danh-sach.xlsx", _xlsx([[1, "db601", "Nguyễn Văn Sơn"], [2, "db602", "Lê Thị Thu"]]))
        await page.wait_for_selector('#roster-preview [data-state="ready"]')
        assert await page.locator("#roster-preview tr[data-delegate]").count() == 2
        async with httpx.AsyncClient(base_url=srv.http) as c:
            tok = (await c.post("/api/auth/login", json={"username": "vanphong", "password": DEMO_PASSWORD})).json()
            council = (
                await c.get(f"/api/councils/{script.COUNCIL_ID}", headers={"authorization": f"Bearer {tok['token']}"})
            ).json()
        assert "db601" not in council["delegates"]  # nothing written by the preview, nor by the refused files
        await page.click("#roster-confirm")
        await page.wait_for_selector('#roster-preview [data-state="done"]')
        assert "Đã ghi 2 đại biểu" in await page.inner_text("#roster-preview")
        await page.wait_for_function("document.querySelector('#roster-count').textContent.includes('52 đại biểu')")

        # --- an account for one of them: Vietnamese validation first, then the server
        await page.click("#account-add")
        assert "Tên đăng nhập gồm" in await page.inner_text("#account-msg")
        await page.fill("#account-username", "daibieu601")
        await page.fill("#account-name", "Nguyễn Văn Sơn")
        await page.select_option("#account-role", "delegate")
        await page.select_option("#account-person", "db601")
        await page.fill("#account-password", "mat-khau-tam-thoi")
        await page.click("#account-add")
        await page.wait_for_selector("#account-msg .banner.ok")
        assert "daibieu601" in await page.inner_text("#account-msg")
        await _axe(page, "secretariat, roster imported")

        # --- a device sign-in QR code for the new delegate: opened once in a fresh browser, refused the second time
        await page.reload()
        await page.wait_for_selector("#conn.live")
        await page.wait_for_selector('#device-account option:has-text("daibieu601")', state="attached")
        await page.select_option(
            "#device-account", label=await page.locator('#device-account option:has-text("daibieu601")').inner_text()
        )
        await page.fill("#device-label", "Máy tính bảng số 51")
        await page.click("#device-make")
        await page.wait_for_selector("#device-print .device-card img")
        link = await page.get_attribute("#device-link", "href")
        assert link and "/?code=" in link and f"session={SESSION}" in link
        await page.wait_for_selector('#device-list li:has-text("chờ quét")')
        await _axe(page, "secretariat, a device QR code")
        await page.locator("#device-print").scroll_into_view_if_needed()
        await _shot(page, "secretariat-device-qr-1280x800")

        tablet_ctx = await browser.new_context(locale="vi-VN", viewport=TABLET)
        tablet = await tablet_ctx.new_page()
        await tablet.goto(link)
        await tablet.wait_for_url(f"**/tablet.html?session={SESSION}")
        await tablet.wait_for_selector("#conn.live")
        account = json.loads(await tablet.evaluate("localStorage.getItem('kyhop.account')"))
        assert account["username"] == "daibieu601"
        device_token = await tablet.evaluate("localStorage.getItem('kyhop.token')")
        await tablet_ctx.close()

        other_ctx = await browser.new_context(locale="vi-VN", viewport=TABLET)
        other = await other_ctx.new_page()
        await other.goto(link)
        await other.wait_for_selector("#device-refused .banner.bad")
        assert "đã được dùng" in await other.inner_text("#device-refused")
        assert "code=" not in other.url  # the code leaves the address bar at once
        assert await other.evaluate("localStorage.getItem('kyhop.token')") is None
        await other_ctx.close()

        # --- the office revokes that tablet: its sign-in stops working at once
        await page.reload()
        await page.wait_for_selector('#device-list li:has-text("đã đăng nhập") button.revoke')
        await page.click('#device-list li:has-text("đã đăng nhập") button.revoke')
        await page.wait_for_selector('#device-list li:has-text("đã thu hồi")')
        async with httpx.AsyncClient(base_url=srv.http) as c:
            r = await c.get("/api/auth/me", headers={"authorization": f"Bearer {device_token}"})
        assert r.status_code == 401

        assert [e for e in errors if "status of 422" not in e] == [], errors  # the refused workbook, expected


async def test_the_secretariat_enters_a_paper_result(browser: Any) -> None:
    errors: list[str] = []
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, list(range(1, 41)))
        try:
            motion = "Thông qua Nghị quyết về dự toán ngân sách năm 2027 (phiếu giấy)"
            await chair.send(votes.OpenVote(round_id="bq-giay", item_id=ITEM, motion=motion, paper=True))
            page = await _secretariat(browser, srv, TABLET, errors)
            form = page.locator('#paper form[data-round="bq-giay"]')
            await form.wait_for()
            inputs = form.locator("input")
            n = await inputs.count()  # one per option, then the ballots collected
            for i in range(n - 1):
                await inputs.nth(i).fill("10")
            await inputs.nth(n - 1).fill("31")
            await form.locator("button[type=submit]").click()
            assert "phải bằng số phiếu thu về" in await form.locator("[role=alert]").inner_text()
            await _axe(page, "secretariat, a paper result being typed")
            await page.locator("#paper").scroll_into_view_if_needed()
            await _shot(page, "secretariat-paper-1280x800")
            await inputs.nth(n - 1).fill(str(10 * (n - 1)))
            await form.locator("button[type=submit]").click()
            await page.click("dialog.confirm button[value=ok]")
            await page.wait_for_function("window.kyhop.state.votes.rounds['bq-giay'].status === 'closed'")
            await page.wait_for_selector("#paper.hidden", state="attached")
            assert errors == [], errors
        finally:
            await secretary.close()
            await chair.close()


JS = Path(__file__).resolve().parent.parent / "clients" / "web" / "js"
_IMPORT = re.compile(r'import\s*\{([^}]*)\}\s*from\s*"(\.\.?/[\w/-]+\.js)"', re.S)
_EXPORT = re.compile(r"export\s+(?:async\s+)?(?:function|class|const|let)\s+([\w$]+)")


def test_the_secretariat_modules_parse_and_import_what_exists(tmp_path: Path) -> None:
    """test_web.py checks js/*.js; the secretariat's panels live in js/secretariat/: node --check each, and every
    name imported (./ or ../) is exported by its module."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed (apt-get install nodejs)"
    mods = [JS / "secretariat.js", JS / "device.js", *sorted((JS / "secretariat").glob("*.js"))]
    assert len(mods) >= 9
    seen = 0
    for mod in mods:
        copy = tmp_path / f"{mod.stem}.mjs"
        copy.write_text(mod.read_text(encoding="utf-8"), encoding="utf-8")
        out = subprocess.run([node, "--check", str(copy)], capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, f"{mod.name}: {out.stderr}"
        for names, target in _IMPORT.findall(mod.read_text(encoding="utf-8")):
            path = (mod.parent / target).resolve()
            assert path.is_file(), f"{mod.name} imports missing module {target}"
            exported = set(_EXPORT.findall(path.read_text(encoding="utf-8")))
            for name in (n.strip() for n in names.split(",")):
                if name:
                    assert name in exported, f"{mod.name} imports {name} that {target} does not export"
                    seen += 1
    assert seen > 30
