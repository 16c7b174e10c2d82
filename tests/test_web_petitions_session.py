"""The petitions pages' way into the session (issue 14), in Debian's Chromium: the secretariat publishes the Front's
summary report on a session's agenda item (then the document is on the session's documents and on a delegate's
tablet), a petition's detail lists the questions that raised it, and a new term's register is opened and takes
over what the earlier term left open after a confirm step that says how many. Each state looked at by axe-core
(no serious or critical violation) at 1280×800 or 390×844."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meeting import script
from tests.e2e import ServerProcess
from tests.test_web_petitions import BASE, _api, _page
from tests.test_web_tablet import PHONE, TABLET, _axe, _shot, browser

__all__ = ["browser"]  # the fixture, imported for pytest

REPORT = f"bc-kien-nghi-{script.SESSION_ID}"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    # One round of the demo year's meetings is enough for a report and an item to cite (40 meetings, ~300 items).
    with ServerProcess(extra_env={"KYHOP_DEMO_PETITIONS": "1"}) as srv:
        yield srv


def _manifest_doc(srv: ServerProcess, document_id: str) -> dict[str, Any] | None:
    status, manifest = _api(srv, "vanphong", "GET", f"/api/sessions/{script.SESSION_ID}/documents/manifest")
    assert status == 200, manifest
    return next((d for d in manifest["documents"] if d["document_id"] == document_id), None)


async def test_the_secretariat_puts_the_report_on_the_sessions_agenda(browser: Any, server: ServerProcess) -> None:
    item_id, item_title, _ = script.ITEMS[2]  # the questioning sitting
    assert _manifest_doc(server, REPORT) is None
    errors: list[str] = []
    page = await _page(browser, server, "vanphong", TABLET, "petitions.html", errors)
    # From the dashboard's report card to the tab.
    await page.click("#to-attach")
    await page.wait_for_selector("#ra-item:not([disabled])")
    assert await page.input_value("#ra-session") == script.SESSION_ID
    # No item chosen: said in Vietnamese, nothing sent.
    await page.select_option("#ra-item", "")
    await page.click("#ra-attach")
    await page.wait_for_selector("#ra-result .banner.bad:has-text('Vui lòng chọn nội dung')")
    assert _manifest_doc(server, REPORT) is None
    # Preview: the PDF the server generates, to open or download.
    await page.click("#ra-preview-btn")
    await page.wait_for_selector("#ra-download")
    async with page.expect_download() as download:
        await page.click("#ra-download")
    pdf = Path(await (await download.value).path())
    assert pdf.read_bytes().startswith(b"%PDF-")
    await page.select_option("#ra-item", item_id)
    await page.click("#ra-attach")
    done = page.locator("#ra-result .banner.ok")
    await done.wait_for(timeout=60_000)
    text = await done.inner_text()
    assert "phiên bản 1" in text and item_title in text and "Báo cáo tổng hợp ý kiến, kiến nghị của cử tri" in text
    await _axe(page, "report attached")
    await _shot(page, "petitions-report-attach-1280x800")
    # On the session's documents, on that agenda item, public.
    doc = _manifest_doc(server, REPORT)
    assert doc is not None and (doc["item_id"], doc["version"], doc["access"]) == (item_id, 1, "public")
    assert doc["title"] in text
    # Again: the page says it is there, and attaching makes version 2.
    await page.wait_for_selector("#ra-existing:has-text('phiên bản 1')")
    await page.click("#ra-attach")
    await page.wait_for_selector("#ra-result .banner.ok[data-version='2']", timeout=60_000)
    doc = _manifest_doc(server, REPORT)
    assert doc is not None and doc["version"] == 2
    # On a delegate's tablet, among the session's documents.
    tablet = await _page(browser, server, "daibieu07", TABLET, f"tablet.html?session={script.SESSION_ID}", errors)
    await tablet.wait_for_selector(f'button[data-open="{REPORT}"]', timeout=30_000)
    assert errors == [], errors


@pytest.mark.parametrize(("viewport", "size"), [(TABLET, "1280x800"), (PHONE, "390x844")])
async def test_a_petitions_detail_lists_the_questions_that_raised_it(
    browser: Any, server: ServerProcess, viewport: dict[str, int], size: str
) -> None:
    status, topics = _api(server, "vanphong", "GET", f"{BASE}/topics?limit=10")
    assert status == 200 and topics["total"] > 2
    topic = topics["topics"][0 if size == "1280x800" else 1]
    item_id = topic["item"]["id"]
    status, answer = _api(
        server, "vanphong", "POST", f"/api/sessions/{script.SESSION_ID}/commands",
        {"id": "open-checkin-citations", "command": {"type": "open_check_in"}},
    )  # fmt: skip
    assert status in (200, 201) and answer["ok"], answer  # the same id again is answered as the first time
    qid = f"cv-{size}"
    status, answer = _api(
        server, "daibieu02", "POST", f"/api/sessions/{script.SESSION_ID}/commands",
        {"id": f"q-{size}", "command": {
            "type": "register_question", "question_id": qid, "delegate_id": script.delegate_id(2),
            "respondent_id": "so-y-te", "topic": "Kiến nghị cử tri chưa giải quyết",
            "text": "Đề nghị cho biết vì sao kiến nghị này quá hạn?", "link": topic["link"]}},
    )  # fmt: skip
    assert status in (200, 201) and answer["ok"], answer
    errors: list[str] = []
    page = await _page(browser, server, "vanphong", viewport, "petitions.html#topics", errors)
    await page.locator(f'#topics .item[data-item="{item_id}"] .item-open').click()
    citation = page.locator(f'dialog.detail[data-item="{item_id}"] .citation[data-question="{qid}"]')
    await citation.wait_for()
    text = await citation.inner_text()
    assert script.delegate_name(2) in text and "Lý Thị Mai" in text and "đã đăng ký" in text
    assert script.SESSION_TITLE in text
    href = await citation.locator("a").first.get_attribute("href")
    assert href == f"secretariat.html?session={script.SESSION_ID}"
    await citation.scroll_into_view_if_needed()
    await _axe(page, f"citations {size}")
    await _shot(page, f"petitions-citations-{size}")
    assert errors == [], errors


async def test_a_new_terms_register_takes_over_what_the_earlier_left_open(browser: Any) -> None:
    """Its own server: opening a new term changes the council's current term for every page."""
    with ServerProcess(extra_env={"KYHOP_DEMO_PETITIONS": "1"}) as srv:
        status, before = _api(srv, "vanphong", "GET", f"{BASE}/carry-over/?from_term=x")
        assert (status, before["code"]) == (404, "unknown_petitions")  # no register for "x"
        status, out = _api(
            srv, "vanphong", "POST", f"/api/councils/{script.COUNCIL_ID}/commands",
            {"id": "term-xii", "command": {"type": "open_term", "term_id": "khoa-xii",
                                            "name": "Khóa XII, nhiệm kỳ 2031–2036", "starts_on": "2031-03-15"}},
        )  # fmt: skip
        assert status in (200, 201) and out["ok"], out
        new_base = f"/api/councils/{script.COUNCIL_ID}/petitions/khoa-xii"
        # Khóa XI's council has its own list: a field added, an agency's address, a shorter reminder.
        _, old = _api(srv, "vanphong", "GET", f"{BASE}/register")
        rules = {k: old[k] for k in ("fields", "agencies", "no_resources_days", "needs_resources_days", "other_days")}
        rules |= {"fields": [*old["fields"], {"id": "chuyen-doi-so", "name": "Chuyển đổi số"}], "remind_days": 5}
        status, out = _api(
            srv, "vanphong", "POST", f"{BASE}/commands",
            {"id": "rules-xi", "command": {"type": "change_petition_rules", "rules": rules}},
        )  # fmt: skip
        assert status in (200, 201) and out["ok"], out
        _, old = _api(srv, "vanphong", "GET", f"{BASE}/register")
        errors: list[str] = []
        page = await _page(browser, srv, "vanphong", PHONE, "petitions.html", errors)
        # The new term has no register yet: the secretariat opens it from the page, keeping khóa XI's lists.
        await page.wait_for_selector("#not-opened")
        keep = page.locator("#keep-rules-row")
        await keep.wait_for()
        assert f"lĩnh vực ({len(old['fields'])})" in await keep.inner_text()
        assert await page.is_checked("#keep-rules")
        await _axe(page, "a new term's register, not opened")
        await _shot(page, "petitions-open-term-390x844")
        # The page learns it from GET …/register's 404 `unknown_petitions`, which the console logs as a failed load.
        assert errors == [
            "vanphong console: Failed to load resource: the server responded with a status of 404 (Not Found)"
        ]
        errors.clear()
        await page.click("#open-register")
        await page.wait_for_selector("#carry-start")
        _, fresh = _api(srv, "vanphong", "GET", f"{new_base}/register")
        kept = ("fields", "agencies", "no_resources_days", "needs_resources_days", "other_days", "remind_days")
        assert {k: fresh[k] for k in kept} == {k: old[k] for k in kept}
        assert {"id": "chuyen-doi-so", "name": "Chuyển đổi số"} in fresh["fields"] and fresh["remind_days"] == 5
        # The report card offers this term's sessions: khóa XI's ky-hop-4 is not one of them.
        await page.wait_for_selector("#ra-none")
        assert _api(srv, "vanphong", "GET", f"{new_base}/items")[1]["total"] == 0
        status, preview = _api(srv, "vanphong", "GET", f"{new_base}/carry-over/?from_term={script.TERM_ID}")
        assert status == 200 and preview["to_carry"] > 50
        # Cancelled: nothing carried.
        await page.click("#carry-start")
        confirm = page.locator("dialog.confirm")
        await confirm.wait_for()
        assert await confirm.locator("[data-count]").get_attribute("data-count") == str(preview["to_carry"])
        assert "kiến nghị cử tri" in (await confirm.inner_text()).lower()
        await _axe(page, "carry-over confirm")
        await _shot(page, "petitions-carry-confirm-390x844")
        await confirm.locator("button[value='cancel']").click()
        await page.wait_for_selector("#carry-result:has-text('Chưa chuyển gì')")
        assert _api(srv, "vanphong", "GET", f"{new_base}/items")[1]["total"] == 0
        # Confirmed: carried, and the outcome says how many.
        await page.click("#carry-start")
        await page.locator(f"dialog.confirm button:has-text('Chuyển {preview['to_carry']} mục')").click()
        await page.wait_for_selector(f"#carry-done[data-carried='{preview['to_carry']}']", timeout=60_000)
        await page.locator("#carry-done").scroll_into_view_if_needed()
        await _axe(page, "carry-over done")
        await _shot(page, "petitions-carry-done-390x844")
        status, items = _api(srv, "vanphong", "GET", f"{new_base}/items?limit=500")
        assert items["total"] == preview["to_carry"]
        assert all(
            i["carried_from"] == f"petitions:{script.COUNCIL_ID}:{script.TERM_ID}#{i['id']}" for i in items["items"]
        )
        # Again: nothing more to carry, said plainly.
        await page.click("#carry-start")
        await page.wait_for_selector("#carry-result:has-text('Không còn mục nào để chuyển')")
        assert _api(srv, "vanphong", "GET", f"{new_base}/items")[1]["total"] == preview["to_carry"]
        # The list, for classifying and assigning anew.
        await page.click("#carry-list")
        await page.wait_for_selector("#items .item")
        assert errors == [], json.dumps(errors, ensure_ascii=False)
