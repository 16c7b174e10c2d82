"""The petitions pages (issue 14 §2) in Debian's Chromium through Playwright, on the demo council's generated year
(server/demo_petitions.py): the secretariat's dashboard, search, classify and assign, the import with its preview;
an agency official's inbox and answer with a PDF; a delegate's own meetings; the Standing Committee's dashboard on
a phone; the public page. Each state at 1280×800 or 390×844, axe-core with no serious or critical violation."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from meeting import script
from server import demo_petitions
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.services import unavailable
from tests.test_web_tablet import PHONE, TABLET, _axe, _shot, browser, three_pages

__all__ = ["browser"]  # the fixture, imported for pytest

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "clients" / "web" / "js" / "petitions"
BASE = f"/api/councils/{script.COUNCIL_ID}/petitions/{demo_petitions.TERM}"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(extra_env={"KYHOP_DEMO_PETITIONS": str(demo_petitions.FULL_SCALE)}) as srv:
        yield srv


_TOKENS: dict[tuple[int, str], str] = {}


def _api(srv: ServerProcess, user: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A plain HTTP call as `user` ("" for none): usable from the async browser tests (no event loop of its own)."""
    token = None
    if user:
        key = (srv.port, user)
        if key not in _TOKENS:
            r = httpx.post(f"{srv.http}/api/auth/login", json={"username": user, "password": DEMO_PASSWORD}, timeout=30)
            _TOKENS[key] = r.json()["token"]
        token = _TOKENS[key]
    return http(method, f"{srv.http}{path}", body, token)


async def _page(
    browser: Any, srv: ServerProcess, user: str | None, viewport: dict[str, int], path: str, errors: list[str]
) -> Any:
    ctx = await browser.new_context(locale="vi-VN", viewport=viewport, has_touch=viewport["width"] < 500)
    if user:
        async with httpx.AsyncClient(base_url=srv.http) as c:
            out = (await c.post("/api/auth/login", json={"username": user, "password": DEMO_PASSWORD})).json()
        await ctx.add_init_script(
            f"""localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
            localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))});"""
        )
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"{user}: {e}"))

    def console(m: Any) -> None:
        if m.type == "error":
            errors.append(f"{user} console: {m.text}")

    page.on("console", console)
    await page.goto(f"{srv.http}/{path}")
    return page


# --- without a browser ----------------------------------------------------------------------------------------------


def test_the_petitions_modules_pass_node_check_and_their_imports_exist(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js is not installed (apt-get install nodejs)")
    assert node is not None
    mods = sorted(JS.glob("*.js"))
    assert {m.name for m in mods} >= {
        "data.js",
        "charts.js",
        "items.js",
        "office.js",
        "agency.js",
        "delegate.js",
        "main.js",
        "public.js",
    }
    for mod in mods:
        copy = tmp_path / f"{mod.stem}.mjs"
        copy.write_text(mod.read_text(encoding="utf-8"), encoding="utf-8")
        r = subprocess.run([node, "--check", str(copy)], capture_output=True, text=True, check=False)
        assert r.returncode == 0, (mod.name, r.stderr)
        text = mod.read_text(encoding="utf-8")
        for names, target in re.findall(r'import\s*\{([^}]*)\}\s*from\s*"(\.\.?/[\w/-]+\.js)"', text):
            exported = (mod.parent / target).resolve().read_text(encoding="utf-8")
            found = set(re.findall(r"export\s+(?:async\s+)?(?:function|class|const|let)\s+([\w$]+)", exported))
            for name in (n.strip() for n in names.split(",")):
                assert name in found, f"{mod.name} imports {name} from {target}"


def test_the_demo_year_is_deterministic_and_full() -> None:
    a, b = demo_petitions.plan(), demo_petitions.plan()
    assert a.commands == b.commands
    # 10 groups × 4 rounds × 3 meetings, 6-12 petitions each (fewer where the same words were said twice).
    assert a.meetings == 120 and 700 <= a.petitions <= 1440 and a.merged > 0


def test_the_register_route_gives_each_role_its_own_meetings(server: ServerProcess) -> None:
    status, office = _api(server, "vanphong", "GET", f"{BASE}/register")
    assert status == 200 and len(office["meetings"]) == 120 and office["my_agency"] is None
    assert office["meetings"][0]["held_on"] >= office["meetings"][-1]["held_on"]  # newest first
    status, mine = _api(server, "daibieu07", "GET", f"{BASE}/register")
    assert status == 200 and mine["my_groups"] == ["to-02"]
    d7 = script.delegate_id(7)
    assert mine["meetings"] and all(d7 in m["delegates_present"] or m["group_id"] == "to-02" for m in mine["meetings"])
    status, agency = _api(server, "cb.soyt", "GET", f"{BASE}/register")
    assert status == 200 and agency["my_agency"] == "so-yt" and agency["meetings"] == []
    assert all(a["email"] == "" for a in agency["agencies"])
    status, body = _api(server, "", "GET", f"{BASE}/register")
    assert status == 401 and body["message_vi"]
    status, body = _api(server, "vanphong", "GET", f"/api/councils/{script.COUNCIL_ID}/petitions/khong-co/register")
    assert (status, body["code"]) == (404, "unknown_petitions")


# --- in a browser ---------------------------------------------------------------------------------------------------


async def test_the_secretariat_follows_searches_classifies_and_assigns(browser: Any, server: ServerProcess) -> None:
    errors: list[str] = []
    page = await _page(browser, server, "vanphong", TABLET, "petitions.html", errors)
    await page.wait_for_selector("#chart-agency .bars li")
    total = await page.inner_text('[data-tile="total"] .big-number')
    assert int(total) > 700
    assert int(await page.inner_text('[data-tile="overdue"] .big-number')) > 0
    await _axe(page, "office dashboard")
    await _shot(page, "petitions-dashboard-1280x800")
    # The Front's summary report for the year-end session, downloaded as a PDF.
    async with page.expect_download() as download:
        await page.click('form[data-action="report"] button[type="submit"]')
    pdf = Path(await (await download.value).path())
    assert pdf.read_bytes().startswith(b"%PDF") and (await download.value).suggested_filename.endswith("ky-hop-4.pdf")
    # The overdue list opens the list filtered to that agency's overdue items.
    await page.locator("#dash-overdue .overdue-list button").first.click()
    await page.wait_for_selector("#items .item.is-overdue")
    assert await page.locator("#items .item").count() == await page.locator("#items .item.is-overdue").count()
    # Search without diacritics finds the words with them.
    await page.fill('input[name="q"]', "duong lien thon")
    await page.uncheck('input[name="overdue"]')
    await page.select_option('select[name="agency"]', "")
    await page.click('form.filters button[type="submit"]')
    await page.wait_for_function("document.querySelector('#items .item-text')?.textContent.includes('đường liên thôn')")
    # The received ones: classify (the Vietnamese check first), then assign.
    await page.fill('input[name="q"]', "")
    await page.select_option('select[name="status"]', "received")
    await page.select_option('select[name="kind"]', "petition")
    await page.click('form.filters button[type="submit"]')
    await page.wait_for_selector('#items .item [data-status="received"]')
    item_id = await page.locator("#items .item").first.get_attribute("data-item")
    await page.locator("#items .item .item-open").first.click()
    dialog = page.locator(f'dialog.detail[data-item="{item_id}"]')
    await dialog.wait_for()
    await _axe(page, "item dialog")
    await _shot(page, "petitions-item-1280x800")
    classify = dialog.locator('form[data-action="classify"]')
    await classify.locator('button[type="submit"]').click()
    await classify.locator(".form-msg", has_text="Vui lòng chọn lĩnh vực.").wait_for()
    await classify.locator('select[name="field_id"]').select_option("giao-thong")
    await classify.locator('select[name="group"]').select_option("needs_resources")
    await classify.locator('button[type="submit"]').click()
    dialog = page.locator(f'dialog.detail[data-item="{item_id}"]')
    assign = dialog.locator('form[data-action="assign"]')
    await assign.wait_for()
    await assign.locator('select[name="agency_id"]').select_option("so-xd")
    await assign.locator('button[type="submit"]').click()
    await page.locator(f'dialog.detail[data-item="{item_id}"] [data-status="assigned"]').first.wait_for()
    status, item = _api(server, "vanphong", "GET", f"{BASE}/items/{item_id}")
    assert status == 200 and (item["status"], item["field_id"], item["agency_id"]) == (
        "assigned",
        "giao-thong",
        "so-xd",
    )
    assert item["due"]  # the council's 90 days for a petition that needs resources
    await page.keyboard.press("Escape")
    assert errors == []


async def test_the_secretariat_imports_a_groups_table_after_its_preview(
    browser: Any, server: ServerProcess, tmp_path: Path
) -> None:
    status, reg = _api(server, "vanphong", "GET", f"{BASE}/register")
    meeting = reg["meetings"][0]["id"]
    bad = tmp_path / "to-01-loi.csv"
    rows = [
        "Mã buổi TXCT;Nội dung kiến nghị;Địa bàn;Mã kiến nghị",
        f"{meeting};Đề nghị lắp đèn chiếu sáng tuyến đường ven sông.;thôn Phú Xuân;nhap-001",
        f"{meeting};Đề nghị sửa chữa cống thoát nước trước mùa mưa.;thôn Phú Hòa;nhap-002",
    ]
    bad.write_text("\n".join([*rows, "khong-co-buoi;Đề nghị xây nhà văn hóa.;;nhap-003"]), encoding="utf-8")
    good = tmp_path / "to-01.csv"
    good.write_text("\n".join(rows), encoding="utf-8")
    errors: list[str] = []
    page = await _page(browser, server, "vanphong", TABLET, "petitions.html#import", errors)
    form = page.locator('form[data-action="import"]')
    await form.locator('button[type="submit"]').click()
    await form.locator(".form-msg", has_text="Vui lòng chọn tệp").wait_for()
    await form.locator('input[name="file"]').set_input_files(str(bad))
    await form.locator('button[type="submit"]').click()
    await page.wait_for_selector("#import-errors")
    assert "Dòng" in await page.inner_text("#import-errors") and await page.is_disabled("#import-confirm")
    await _axe(page, "import preview with errors")
    await _shot(page, "petitions-import-errors-1280x800")
    status, body = _api(server, "vanphong", "GET", f"{BASE}/items/nhap-001")
    assert status == 404  # a preview writes nothing
    await form.locator('input[name="file"]').set_input_files(str(good))
    await form.locator('button[type="submit"]').click()
    await page.wait_for_selector("#import-rows tbody tr >> nth=1")
    await page.click("#import-confirm")
    await page.wait_for_selector("#import-done")
    assert "Đã ghi 2 kiến nghị" in await page.inner_text("#import-done")
    status, body = _api(server, "vanphong", "GET", f"{BASE}/items/nhap-002")
    assert status == 200 and body["status"] == "received" and body["sources"][0]["meeting_id"] == meeting
    assert errors == []


@pytest.mark.parametrize(("viewport", "size"), [(PHONE, "390x844"), (TABLET, "1280x800")])
async def test_an_agency_answers_with_its_pdf(
    browser: Any, server: ServerProcess, tmp_path: Path, viewport: dict[str, int], size: str
) -> None:
    pdf = tmp_path / "tra-loi.pdf"
    pdf.write_bytes(three_pages())
    errors: list[str] = []
    page = await _page(browser, server, "cb.soyt", viewport, "petitions.html", errors)
    await page.wait_for_selector("#items .item")
    assert "Sở Y tế" in await page.inner_text("main h2")
    # Overdue first.
    first = page.locator("#items .item").first
    assert await page.locator("#items .item.is-overdue").count() > 0
    assert "is-overdue" in (await first.get_attribute("class") or "")
    await _axe(page, f"agency inbox {size}")
    await _shot(page, f"petitions-agency-{size}")
    # Every item listed is this agency's.
    ids = [await li.get_attribute("data-item") for li in await page.locator("#items .item").all()]
    for item_id in ids[:5]:
        status, item = _api(server, "vanphong", "GET", f"{BASE}/items/{item_id}")
        assert item["agency_id"] == "so-yt"
    target = [i for i in ids if not i.startswith("ck-")][0 if size == "390x844" else 1]  # one item per size
    await page.locator(f'#items .item[data-item="{target}"] .item-open').click()
    dialog = page.locator(f'dialog.detail[data-item="{target}"]')
    form = dialog.locator('form[data-action="answer"]')
    await form.wait_for()
    before = await dialog.locator(".answers > li").count()
    await form.locator('button[type="submit"]').click()
    await form.locator(".form-msg", has_text="Vui lòng nhập nội dung trả lời.").wait_for()
    await form.locator('textarea[name="text"]').fill("Sở Y tế đã bố trí bác sĩ trực đêm tại trạm từ ngày 01/12/2026.")
    await form.locator('input[name="file"]').set_input_files(str(pdf))
    await _axe(page, f"answer form {size}")
    await form.locator('button[type="submit"]').click()
    # The dialog is drawn again with the new answer, its PDF's link last.
    await page.wait_for_function(
        """([id, n]) => {
            const answers = document.querySelectorAll(`dialog.detail[data-item="${id}"] .answers > li`);
            return answers.length === n + 1 && answers[n].querySelector("button[data-document]") !== null;
        }""",
        arg=[target, before],
    )
    status, item = _api(server, "cb.soyt", "GET", f"{BASE}/items/{target}")
    assert status == 200 and item["answers"][-1]["document_id"].startswith("tl-")
    assert item["answers"][-1]["text"].startswith("Sở Y tế đã bố trí")
    await page.locator(f'dialog.detail[data-item="{target}"] button[data-document]').last.scroll_into_view_if_needed()
    await _shot(page, f"petitions-answered-{size}")
    assert errors == []


async def test_a_delegate_sees_the_meetings_and_answers_to_report_back(browser: Any, server: ServerProcess) -> None:
    errors: list[str] = []
    page = await _page(browser, server, "daibieu07", PHONE, "petitions.html", errors)
    await page.wait_for_selector("section.meeting li[data-item]")
    assert "Tổ đại biểu số 2" in await page.inner_text("#mine-summary")
    assert await page.locator("section.meeting blockquote.answer").count() > 0
    await _axe(page, "delegate's own")
    await _shot(page, "petitions-delegate-390x844")
    await page.locator("section.meeting li[data-item] button.link").first.click()
    await page.wait_for_selector("dialog.detail")
    assert await page.locator("dialog.detail form").count() == 0  # a delegate reads; the office acts
    await _axe(page, "delegate's item")
    assert errors == []


async def test_the_standing_committee_dashboard_on_a_phone(browser: Any, server: ServerProcess) -> None:
    errors: list[str] = []
    page = await _page(browser, server, "thuongtruc", PHONE, "petitions.html", errors)
    await page.wait_for_selector("#chart-field .bars li")
    assert await page.locator('#tabs button[data-tab="import"]').count() == 0  # the secretariat's
    await _axe(page, "standing dashboard phone")
    await _shot(page, "petitions-dashboard-390x844")
    assert errors == []


@pytest.mark.parametrize(("viewport", "size"), [(TABLET, "1280x800"), (PHONE, "390x844")])
async def test_the_public_page_shows_numbers_only(
    browser: Any, server: ServerProcess, viewport: dict[str, int], size: str
) -> None:
    errors: list[str] = []
    page = await _page(
        browser,
        server,
        None,
        viewport,
        f"petitions-public.html?council={script.COUNCIL_ID}&term={demo_petitions.TERM}",
        errors,
    )
    await page.wait_for_selector("#chart-agency .bars li")
    text = await page.inner_text("body")
    assert "Sở Y tế" in text and "Giao thông" in text
    _, page_of = _api(server, "vanphong", "GET", f"{BASE}/items?kind=petition&limit=50")
    for item in page_of["items"]:  # no petition's words, no area, no voter's name
        assert item["text"] not in text and item["area"] not in text
        assert all(s["petitioner"] not in text for s in item["sources"] if s["petitioner"])
    await _axe(page, f"public {size}")
    await _shot(page, f"petitions-public-{size}")
    assert errors == []


async def test_open_items_are_offered_as_questioning_topics(browser: Any, server: ServerProcess) -> None:
    status, out = _api(server, "vanphong", "GET", f"{BASE}/topics?limit=500")
    assert status == 200 and out["total"] > 50
    days = [t["overdue_days"] for t in out["topics"]]
    assert days == sorted(days, reverse=True) and days[0] > 0  # the longest overdue first
    for t in out["topics"]:
        assert set(t["reasons"]) <= {"overdue", "not_resolved", "reopened"} and t["reasons"]
        assert t["link"] == f"petitions:{script.COUNCIL_ID}:{demo_petitions.TERM}#{t['item']['id']}"
        assert t["item"]["status"] not in ("resolved", "merged")
    assert any("not_resolved" in t["reasons"] for t in out["topics"])
    # The chair may read them, without the voters' names; an agency may not.
    status, chair = _api(server, "chutoa", "GET", f"{BASE}/topics?limit=500")
    assert status == 200 and chair["total"] == out["total"]
    meetings = {m["id"]: m for m in _api(server, "vanphong", "GET", f"{BASE}/register")[1]["meetings"]}
    d1 = script.delegate_id(1)

    def chairs_own(source: dict[str, Any]) -> bool:  # the chair is db001, of group to-01
        m = meetings[source["meeting_id"]]
        return m["group_id"] == "to-01" or d1 in m["delegates_present"]

    # As the domain's for_viewer: names only on petitions raised at one of the chair's own meetings.
    others = [t["item"] for t in chair["topics"] if not any(chairs_own(s) for s in t["item"]["sources"])]
    assert others and all(not s["petitioner"] for i in others for s in i["sources"])
    assert any(s["petitioner"] for t in out["topics"] for s in t["item"]["sources"])  # the office reads them
    status, body = _api(server, "cb.soyt", "GET", f"{BASE}/topics")
    assert (status, body["code"]) == (403, "forbidden")  # an agency's official reads only its own inbox
    # A delegate reads them (to raise a question from one), with fewer voters' names than the office (for_viewer).
    status, mine = _api(server, "daibieu07", "GET", f"{BASE}/topics?limit=500")
    assert status == 200 and mine["total"] == out["total"]
    names = sum(1 for t in mine["topics"] for s in t["item"]["sources"] if s["petitioner"])
    assert names < sum(1 for t in out["topics"][:500] for s in t["item"]["sources"] if s["petitioner"])
    status, body = _api(server, "vanphong", "GET", f"{BASE}/topics?limit=0")
    assert status == 400 and body["message_vi"]
    errors: list[str] = []
    page = await _page(browser, server, "thuongtruc", TABLET, "petitions.html#topics", errors)
    await page.wait_for_selector("#topics .item.is-overdue")
    assert await page.locator("#topics .item").count() == min(100, out["total"])
    await _axe(page, "questioning topics")
    await _shot(page, "petitions-topics-1280x800")
    assert errors == []


async def test_the_start_page_leads_each_role_to_its_petitions_page(browser: Any, server: ServerProcess) -> None:
    errors: list[str] = []
    page = await _page(browser, server, None, PHONE, "index.html", errors)
    await page.click('button.role[data-role="petitions"]')
    await page.fill("#username", "cb.sonnmt")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click('#signin-form button[type="submit"]')
    await page.wait_for_url("**/petitions.html**")
    await page.wait_for_selector("#items .item")
    assert "Sở Nông nghiệp và Môi trường" in await page.inner_text("main h2")
    # The public page's link needs no sign-in.
    await page.goto(f"{server.http}/index.html")
    await page.click("#petitions-public")
    await page.wait_for_selector("#chart-field .bars li")
    assert errors == []


def test_the_summary_report_before_a_session_is_a_pdf_without_voters_names(server: ServerProcess) -> None:
    from pypdf import PdfReader

    token = _api(server, "mttq", "GET", f"{BASE}/register")[0] == 200 and _TOKENS[(server.port, "mttq")]
    r = httpx.get(
        f"{server.http}{BASE}/report?session=ky-hop-4", headers={"authorization": f"Bearer {token}"}, timeout=60
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "BÁO CÁO" in text and "kiến nghị của cử tri" in text and "ky-hop-4" in text
    _, items = _api(server, "vanphong", "GET", f"{BASE}/items?kind=petition&limit=500")
    names = {s["petitioner"] for i in items["items"] for s in i["sources"] if s["petitioner"]}
    assert names and not any(n in text for n in names)
    for user, query, want in (
        ("daibieu07", "session=ky-hop-4", 403),
        ("cb.soyt", "session=ky-hop-4", 403),
        ("vanphong", "", 400),
        ("vanphong", "session=a%20b", 400),
        ("", "session=ky-hop-4", 401),
    ):
        status, body = _api(server, user, "GET", f"{BASE}/report?{query}")
        assert status == want and body["message_vi"], (user, query, status)


def test_the_summary_report_is_published_on_the_sessions_agenda(server: ServerProcess) -> None:
    item = script.ITEMS[0][0]
    path = f"{BASE}/report/attach/"
    status, body = _api(server, "vanphong", "POST", path, {"session_id": script.SESSION_ID, "item_id": item})
    assert status == 201, body
    assert body["document_id"] == f"bc-kien-nghi-{script.SESSION_ID}" and body["version"] == 1 and body["pages"] > 5
    assert body["access"] == "public"
    status, again = _api(server, "vanphong", "POST", path, {"session_id": script.SESSION_ID, "item_id": item})
    assert status == 201 and again["version"] == 2, again  # attached again: a new version of the same document
    for user, data, want in (
        ("thuongtruc", {"session_id": script.SESSION_ID, "item_id": item}, 403),
        ("daibieu07", {"session_id": script.SESSION_ID, "item_id": item}, 403),
        ("vanphong", {"session_id": "khong-co", "item_id": item}, 404),
        ("vanphong", {"session_id": script.SESSION_ID}, 400),
        ("", {"session_id": script.SESSION_ID, "item_id": item}, 401),
    ):
        status, out = _api(server, user, "POST", path, data)
        assert status == want and out["message_vi"], (user, data, status, out)


async def test_a_delegate_raises_a_question_from_an_unresolved_petition_on_the_tablet(
    browser: Any, server: ServerProcess
) -> None:
    """Issue 14 "into the session": on the tablet's questioning form a delegate picks an overdue or unresolved
    item of the register; the question keeps its link and the list says where it came from."""
    status, answer = _api(
        server, "vanphong", "POST", f"/api/sessions/{script.SESSION_ID}/commands",
        {"id": "open-checkin-topics", "command": {"type": "open_check_in"}},
    )  # fmt: skip
    assert status in (200, 201) and answer["ok"], answer
    status, topics = _api(server, "daibieu02", "GET", f"{BASE}/topics?limit=100")
    assert status == 200 and topics["total"] > 0  # the demo year leaves items overdue and unresolved
    assert all("voters" not in json.dumps(t["item"]) for t in topics["topics"][:5])  # no voters' names for them
    errors: list[str] = []
    page = await _page(browser, server, "daibieu02", TABLET, f"tablet.html?session={script.SESSION_ID}", errors)
    await page.wait_for_selector("#conn.live")
    await page.click("#q-source-load")
    await page.wait_for_selector("#q-source-wrap:not(.hidden)", timeout=60_000)
    first = topics["topics"][0]
    await page.select_option("#q-source", first["link"])
    assert await page.input_value("#q-topic")  # the item's words, to edit
    await page.select_option("#q-respondent", index=0)
    await page.fill("#q-text", "Đề nghị cho biết vì sao kiến nghị này chưa được giải quyết, bao giờ xong?")
    await _axe(page, "tablet: a question from a petition")
    await page.click("#q-send")
    item = first["link"].split("#", 1)[1]
    await page.wait_for_selector(f".question-link:has-text('{item}')")
    state = await page.evaluate("window.kyhop.state.questioning.questions")
    assert [q["link"] for q in state.values()] == [first["link"]]
    assert errors == [], errors
