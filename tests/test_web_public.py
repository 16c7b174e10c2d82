"""The public surfaces in Debian's chromium (issue 12 §3): the broadcast overlay at 1920×1080 — dark and transparent
— and the phone page at 390×844, through a whole session driven on the server: before the opening, a speech with
its countdown, a named and a secret vote closed and announced (the result card), a suspension with its reason,
the close with the results; and an unknown session said once. axe-core on every state; screenshots
`overlay-*-1920x1080.png` and `public-*-390x844.png` (docs/screens/ with KYHOP_UPDATE_SCREENS=1)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from meeting import script
from tests.e2e import ServerProcess
from tests.public_session import ITEM, ITEM2, NAMED, NAMED_BALLOTS, SECRET, SECRET_BALLOTS, SESSION, Driver
from tests.test_web_tablet import PHONE, SCREENS, _axe, browser  # noqa: F401 (browser: the pytest fixture)

FULL_HD = {"width": 1920, "height": 1080}
# The result card stays up 120 s in these tests (`?ket-qua=120`) instead of the default 20 s: a slow, shared
# machine must not make the card disappear before the test has read it.
OVERLAY = f"/overlay.html?session={SESSION}&ket-qua=120"


async def _shot(page: Any, name: str, *, transparent: bool = False) -> bytes:
    """Like test_web_tablet's `_shot`, and returns the PNG (a transparent overlay keeps its alpha channel)."""
    folder = SCREENS if os.environ.get("KYHOP_UPDATE_SCREENS") == "1" else Path(tempfile.gettempdir()) / "kyhop-screens"
    folder.mkdir(parents=True, exist_ok=True)
    png: bytes = await page.screenshot(path=str(folder / f"{name}.png"), omit_background=transparent)
    return png


async def _page(b: Any, srv: ServerProcess, path: str, viewport: dict[str, int], errors: list[str]) -> Any:
    ctx = await b.new_context(locale="vi-VN", viewport=viewport)
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"{path}: {e}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"{path} console: {m.text}"))
    await page.goto(srv.http + path)
    return page


async def _feed_at(page: Any, check: str) -> None:
    """Wait until the page's feed client holds a picture where `check` (JS over `f`) is true."""
    await page.wait_for_function(
        f"(() => {{ const f = window.kyhop && window.kyhop.feed; return !!f && ({check}); }})()"
    )


async def test_the_overlay_and_the_phone_page_through_a_session(browser: Any) -> None:  # noqa: F811
    errors: list[str] = []
    with ServerProcess() as srv:
        d = Driver(srv)
        overlay = await _page(browser, srv, OVERLAY, FULL_HD, errors)
        clear = await _page(browser, srv, OVERLAY + "&nen=trong-suot", FULL_HD, errors)
        phone = await _page(browser, srv, f"/public.html?session={SESSION}", PHONE, errors)

        # --- before the opening: "chuẩn bị"
        await overlay.wait_for_selector("#stage[data-status=prepared] .lt-tag")
        assert "CHUẨN BỊ" in await overlay.inner_text("#lower")
        await phone.wait_for_selector(".state-banner[data-status=prepared]")
        assert "Kỳ họp đang chuẩn bị" in await phone.inner_text("#state-banner")
        assert await phone.is_hidden("#now") and await phone.is_hidden("#voting")
        await _axe(overlay, "overlay prepared")
        await _axe(phone, "phone prepared")
        await _shot(overlay, "overlay-prepared-1920x1080")
        await _shot(phone, "public-prepared-390x844")

        # --- a speech: the item, the speaker and the countdown
        await d.open_session()
        await d.move(ITEM)
        await d.speech(7, seconds=300)
        name = script.delegate_name(7)
        for page in (overlay, clear, phone):
            await _feed_at(page, "f.speaker !== null")
        await overlay.wait_for_selector(".lt-speaker .countdown:not(:empty)")
        lower = await overlay.inner_text("#lower")
        assert "ĐANG HỌP" in lower and name in lower and "Nghị quyết về dự toán ngân sách" in lower
        assert "Nội dung 1" in lower
        left = await overlay.inner_text(".lt-speaker .countdown")
        assert left[0] in "54" and ":" in left, left  # 5:00 counting down (4:5x on a slow machine)
        await phone.wait_for_selector("#floor-body .countdown:not(:empty)")
        assert name in await phone.inner_text("#floor-body")
        await _axe(overlay, "overlay speaker")
        await _axe(phone, "phone speaker")
        await _shot(overlay, "overlay-speaker-1920x1080")
        await _shot(phone, "public-speaker-390x844")

        # The transparent variant: the body draws nothing, only the panels (checked in the style and the pixels).
        await clear.wait_for_selector(".lt-speaker .countdown:not(:empty)")
        assert await clear.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
        assert await clear.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgba(0, 0, 0, 0)"
        assert await overlay.evaluate("getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)"
        img = Image.open(io.BytesIO(await _shot(clear, "overlay-transparent-1920x1080", transparent=True)))
        assert img.mode == "RGBA" and img.size == (1920, 1080)
        assert img.getpixel((960, 400))[3] == 0  # the middle of the frame: the video shows through
        assert img.getpixel((960, 1000))[3] == 255  # the lower third: opaque
        await _axe(clear, "overlay transparent")
        await d.end_speech()

        # --- a named vote: while open, how many voted and no option's count; the card only once announced
        motion = "Thông qua Nghị quyết dự toán ngân sách 2027"
        await d.vote(NAMED, ITEM, motion, NAMED_BALLOTS, secret=False)
        await _feed_at(overlay, "f.votes.length === 1 && f.votes[0].ballots_cast === 37")
        await overlay.wait_for_selector("#lower .lt-tag >> text=ĐANG BIỂU QUYẾT")
        text = await overlay.inner_text("#lower")
        assert motion in text and "37/50" in text and "Tán thành" not in text
        await _feed_at(phone, "f.votes.length === 1 && f.votes[0].ballots_cast === 37")
        assert "Đã biểu quyết: 37/50 đại biểu" in await phone.inner_text("#voting-body")
        await _axe(overlay, "overlay voting")
        await _shot(overlay, "overlay-voting-1920x1080")
        await _shot(phone, "public-voting-390x844")
        await d.close(NAMED)
        await _feed_at(overlay, "f.results.length === 1")
        assert await overlay.is_hidden("#result")  # closed, not yet announced by the chair
        await d.announce(NAMED)
        card = overlay.locator(f'#result[data-round="{NAMED}"]')
        await card.wait_for(state="visible")
        shown = await card.inner_text()
        assert "KẾT QUẢ BIỂU QUYẾT" in shown and motion in shown and "THÔNG QUA" in shown
        assert "60,00%" in shown and "30" in shown  # 30 of all 50 delegates
        assert await overlay.is_hidden("#lower")  # the card takes the lower third's place
        await _axe(overlay, "overlay named result")
        await _shot(overlay, "overlay-result-named-1920x1080")
        # The phone page: the result and the named roll call (public record), by name.
        result = phone.locator(f'#results-body .result[data-round="{NAMED}"]')
        await result.locator(".verdict.passed").wait_for()
        await result.locator(".roll-call summary").click()
        roll = await result.locator(".roll-call").inner_text()
        assert "Danh sách biểu quyết công khai (37 đại biểu)" in roll and name in roll
        await _axe(phone, "phone named result")
        await _shot(phone, "public-result-390x844")

        # --- a secret vote: counted, certified by the committee, announced; never a count before, never who
        await d.move(ITEM2)
        motion2 = "Thông qua Nghị quyết điều chỉnh kế hoạch đầu tư công"
        await d.vote(SECRET, ITEM2, motion2, SECRET_BALLOTS, secret=True)
        await _feed_at(overlay, "f.votes.length === 1 && f.votes[0].ballots_cast === 35")
        assert await overlay.is_hidden("#result")  # a new vote replaces the previous announcement
        text = await overlay.inner_text("#lower")
        assert "Bỏ phiếu kín" in text and "35/50" in text and "Tán thành" not in text
        await d.close(SECRET)
        await overlay.wait_for_selector("#lower .lt-tag >> text=ĐANG KIỂM PHIẾU")
        await phone.wait_for_selector("#voting-body >> text=Ban kiểm phiếu đang xác nhận kết quả.")
        assert "Tán thành" not in await phone.inner_text("#voting-body")
        await d.certify(SECRET)
        await d.announce(SECRET)
        card = overlay.locator(f'#result[data-round="{SECRET}"]')
        await card.wait_for(state="visible")
        shown = await card.inner_text()
        assert "KHÔNG THÔNG QUA" in shown and "Bỏ phiếu kín, niêm phong" in shown and "40,00%" in shown
        await _axe(overlay, "overlay secret result")
        await _shot(overlay, "overlay-result-secret-1920x1080")
        secret = phone.locator(f'#results-body .result[data-round="{SECRET}"]')
        await secret.wait_for()
        assert "niêm phong" in await secret.locator(".verify-public").inner_text()  # sealed: no board to check
        await secret.locator(".verdict.failed").wait_for()
        assert await secret.locator(".roll-call").count() == 0  # no roll call for a secret ballot

        # --- a suspension shows its reason
        await d.suspend("Nghỉ giải lao 15 phút")
        await overlay.wait_for_selector("#stage[data-status=suspended]")
        assert await overlay.is_hidden("#result")
        lower = await overlay.inner_text("#lower")
        assert "TẠM DỪNG" in lower and "Nghỉ giải lao 15 phút" in lower
        await phone.wait_for_selector(".state-banner[data-status=suspended]")
        await phone.evaluate("window.scrollTo(0, 0)")  # the roll call was opened further down
        assert "Lý do: Nghỉ giải lao 15 phút" in await phone.inner_text("#state-banner")
        await _axe(overlay, "overlay suspended")
        await _axe(phone, "phone suspended")
        await _shot(overlay, "overlay-suspended-1920x1080")
        await _shot(phone, "public-suspended-390x844")

        # --- the close: "Kỳ họp đã bế mạc" and its results, no item
        await d.resume()
        await d.close_session()
        await overlay.wait_for_selector("#stage[data-status=closed] #result:not(.hidden)")
        closed = await overlay.inner_text("#result")
        assert "KỲ HỌP ĐÃ BẾ MẠC" in closed and motion in closed and motion2 in closed
        assert "Nội dung 2" not in await overlay.inner_text("body")
        await phone.wait_for_selector(".state-banner[data-status=closed]")
        banner = await phone.inner_text("#state-banner")
        assert "Kỳ họp đã bế mạc" in banner and "2 nội dung đã biểu quyết, 1 được thông qua" in banner
        assert await phone.is_hidden("#now") and await phone.is_visible(f'.result[data-round="{SECRET}"]')
        await _axe(overlay, "overlay closed")
        await _axe(phone, "phone closed")
        await _shot(overlay, "overlay-closed-1920x1080")
        await _shot(phone, "public-closed-390x844")
        for page in (overlay, clear, phone):
            assert await page.evaluate("window.kyhop.duplicates") == 0
            await page.context.close()
    assert errors == []


async def test_an_unknown_session_is_said_once(browser: Any) -> None:  # noqa: F811
    errors: list[str] = []
    with ServerProcess() as srv:
        for path, viewport, shot in (
            ("/overlay.html?session=khong-co", FULL_HD, "overlay-unknown-1920x1080"),
            ("/public.html?session=khong-co", PHONE, "public-unknown-390x844"),
        ):
            requests: list[str] = []
            ctx = await browser.new_context(locale="vi-VN", viewport=viewport)
            page = await ctx.new_page()
            page.on("request", lambda r, seen=requests: "/api/public/" in r.url and seen.append(r.url))
            page.on("pageerror", lambda e, p=path: errors.append(f"{p}: {e}"))
            await page.goto(srv.http + path)
            await page.wait_for_selector("[data-status=unknown]")
            await page.wait_for_function("window.kyhop.stopped === true")
            body = await page.inner_text("body")
            assert "Không tìm thấy kỳ họp" in body and "Unknown session" in body
            assert "kết nối lại" not in body and "Đang tải" not in body  # not found, and nothing else
            assert len(requests) == 1 and requests[0].endswith("/khong-co/feed"), requests  # asked once, no stream
            await _axe(page, f"unknown {path}")
            await _shot(page, shot)
            await ctx.close()
    # The browser logs the 404 itself; nothing else went wrong.
    assert [e for e in errors if "404" not in e] == []
