"""The record on the pages, in Debian's chromium: the secretariat's "Hồ sơ kỳ họp" panel (edit a draft, build,
download the archive, which verifies) and the public page's resolutions and minutes after the demo session closed.
Screenshots at 1280×800 and 390×844 go to the test's folder (KYHOP_SCREENSHOTS=<dir> keeps copies)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clients.sdk import sign_in
from meeting import script
from record.archive import verify_archive
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.test_e2e_session import run_session
from tests.test_web import CHROMIUM_ARGS, browser  # noqa: F401 - the fixture

SESSION = script.SESSION_ID
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def closed_server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        asyncio.run(run_session(srv))
        yield srv


async def _signed_in(browser: Any, srv: ServerProcess, size: tuple[int, int]) -> Any:  # noqa: F811
    token = await sign_in(srv.http, "vanphong", DEMO_PASSWORD)
    _, me = http("GET", f"{srv.http}/api/auth/me", token=token)
    ctx = await browser.new_context(
        locale="vi-VN", viewport={"width": size[0], "height": size[1]}, accept_downloads=True
    )
    store = {"kyhop.token": token, "kyhop.account": json.dumps(me), "kyhop.expires_at": "0"}
    await ctx.add_init_script(f"for (const [k, v] of Object.entries({json.dumps(store)})) localStorage.setItem(k, v);")
    return ctx


def _keep(path: Path) -> None:
    out = os.environ.get("KYHOP_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out) / path.name)


async def _small_targets(page: Any, selector: str) -> list[str]:
    """Buttons and links under `selector` whose box is less than 44 px high (touch targets)."""
    found: list[str] = await page.evaluate(
        """(sel) => [...document.querySelectorAll(`${sel} button, ${sel} a.button, ${sel} summary`)]
            .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map((e) => e.textContent.trim())""",
        selector,
    )
    return found


@pytest.mark.parametrize("size", sorted(SIZES))
async def test_secretariat_builds_and_downloads_the_record(
    browser: Any,  # noqa: F811
    closed_server: ServerProcess,
    tmp_path: Path,
    size: str,
) -> None:
    errors: list[str] = []
    ctx = await _signed_in(browser, closed_server, SIZES[size])
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    await page.goto(f"{closed_server.http}/secretariat.html?session={SESSION}")
    await page.wait_for_selector('#record-files li[data-part="nghi-quyet-01-2026-nq-hdnd.pdf"]')
    text = await page.inner_text("#record")
    for phrase in (
        "Hồ sơ kỳ họp",
        "Nghị quyết số 01/2026/NQ-HĐND",
        "Biên bản kỳ họp",
        "Biên bản kiểm phiếu",
        "Lập hồ sơ",
    ):
        assert phrase in text, phrase
    assert await _small_targets(page, "#record") == []

    # Edit a draft's summary and save: the server has it.
    summary = "Về dự toán ngân sách địa phương và phân bổ ngân sách tỉnh năm 2027"
    details = page.locator('details.draft[data-item="nq-ngan-sach"]')
    await details.locator("summary").click()
    await page.fill("#rd-nq-ngan-sach-summary", summary)
    await details.locator("button.primary").click()
    await page.wait_for_selector(".toast.ok >> text=Đã lưu dự thảo nghị quyết.")
    token = await sign_in(closed_server.http, "vanphong", DEMO_PASSWORD)
    _, drafts = http("GET", f"{closed_server.http}/api/sessions/{SESSION}/record/drafts", token=token)
    assert drafts["nq-ngan-sach"]["summary"] == summary
    assert len(drafts["nq-ngan-sach"]["articles"]) == 3  # the articles came back as they were

    # Build, then download the archive: it verifies.
    await page.wait_for_selector("#record-build")
    await page.click("#record-build")
    await page.wait_for_selector("#record-built .banner.ok", timeout=60_000)
    async with page.expect_download() as dl:
        await page.click("#record-archive")
    download = await dl.value
    assert download.suggested_filename == f"ho-so-{SESSION}.zip"
    saved = tmp_path / "ho-so.zip"
    await download.save_as(saved)
    verdict = verify_archive(saved.read_bytes())
    assert verdict.ok, verdict.text()
    assert verdict.fingerprint in await page.inner_text("#record-built")
    shot = tmp_path / f"secretariat-record-{size}.png"
    await page.locator("#record").screenshot(path=str(shot))
    _keep(shot)
    await ctx.close()
    assert errors == []


@pytest.mark.parametrize("size", sorted(SIZES))
async def test_public_page_lists_the_resolutions_and_the_minutes_after_close(
    browser: Any,  # noqa: F811
    closed_server: ServerProcess,
    tmp_path: Path,
    size: str,
) -> None:
    errors: list[str] = []
    w, h = SIZES[size]
    ctx = await browser.new_context(locale="vi-VN", viewport={"width": w, "height": h})
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    await page.goto(f"{closed_server.http}/public.html?session={SESSION}")
    await page.wait_for_selector("#record-list a")
    links = await page.eval_on_selector_all("#record-list a", "els => els.map(e => [e.textContent, e.href])")
    assert [t for t, _ in links] == ["Nghị quyết số 01/NQ-HĐND", "Nghị quyết số 01/2026/NQ-HĐND", "Biên bản kỳ họp"]
    for _, href in links:  # plain links: no sign-in needed
        r = await page.request.get(href)
        assert r.status == 200 and (await r.body()).startswith(b"%PDF-")
    assert await _small_targets(page, "#record") == []
    shot = tmp_path / f"public-record-{size}.png"
    await page.screenshot(path=str(shot), full_page=True)
    _keep(shot)
    await ctx.close()
    assert errors == []


_ = CHROMIUM_ARGS
