"""A whole session through the pages (issue 12, "Tests"), in Debian's Chromium: the secretariat imports two new
delegates from an XLSX workbook (preview, then confirm), opens a fresh session prepared from that roster, builds its
agenda, reorders it by drag and drop, and publishes a PDF dropped on an item; the chair, on the console, opens
check-in, checks in as a delegate, opens the session, gives the floor to a speaker and calls a question, opens a
named and a secret vote from their summaries, closes and announces each, and closes the session; the broadcast
overlay at 1920×1080 shows the speaker, each announced result card and the close.

Where this test drives no page, people act as they would elsewhere, through REST commands with their own token:
delegates casting their own ballots and registering a question (their tablets; test_web_tablet/test_web_chair drive
those pages), and four members of the counting committee certifying the secret round. A fresh session is used
because a session copies the council's roster when it is prepared: the demo session was prepared before the
import, the fresh one (prepared from the secretariat's new "Chuẩn bị kỳ họp mới" form) counts 52 delegates.
Bad input on each form (a malformed XLSX, duplicate ids, a non-PDF, an empty motion, too small a committee) is
covered in test_web_secretariat.py and test_web_chair.py and not repeated here.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import msgspec

from meeting import questioning, script, votes
from meeting.messages import Command
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess
from tests.test_web_secretariat import XLSX, _drop_files, _until_order, _xlsx
from tests.test_web_tablet import TABLET, _axe, _shot, browser, three_pages

__all__ = ["browser"]  # the Playwright fixture, shared with the tablet's tests

FRESH = "ky-hop-chuyen-de-2027"
FULL_HD = {"width": 1920, "height": 1080}
LAND, INVEST, QUESTIONS = "nq-gia-dat", "nq-dau-tu", "chat-van"
# 50 demo delegates + 2 imported. A named resolution passes with more than half of ALL delegates: 27 of 52.
ALL = 52
IMPORTED = ["db601", "db602"]
PRESENT = 40  # the chair (db001), db002–db038 and the two imported delegates
COMMITTEE = list(range(32, 39))  # 7, the minimum; present, and none of them votes in the secret round
NAMED_YES = list(range(2, 32))  # 30 + the chair = 31 ≥ 27: THÔNG QUA
SECRET_YES, SECRET_NO = list(range(2, 22)), list(range(22, 26))  # 20 < 27: KHÔNG THÔNG QUA


class Desk:
    """People acting where no page does: each with their own token, through the REST command route."""

    def __init__(self, srv: ServerProcess) -> None:
        self.http = httpx.AsyncClient(base_url=srv.http, timeout=60)
        self.tokens: dict[str, str] = {}

    async def login(self, username: str) -> dict[str, Any]:
        r = await self.http.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        self.tokens[username] = out["token"]
        return out

    async def run(self, username: str, cmd: Command) -> None:
        if username not in self.tokens:
            await self.login(username)
        body = {"id": uuid.uuid4().hex, "command": msgspec.to_builtins(cmd)}
        r = await self.http.post(
            f"/api/sessions/{FRESH}/commands", json=body, headers={"authorization": f"Bearer {self.tokens[username]}"}
        )
        assert r.status_code in (200, 201) and r.json()["ok"], (cmd, r.status_code, r.text)

    async def as_delegates(self, numbers: list[int], make: Any) -> None:
        """Each delegate sends `make(i)` as themself; 8 at a time (2 shared cores)."""
        gate = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with gate:
                await self.run(f"daibieu{i:02d}", make(i))

        await asyncio.gather(*(one(i) for i in numbers))


async def _page(
    b: Any, srv: ServerProcess, desk: Desk, user: str | None, path: str, viewport: dict[str, int], errors: list[str]
) -> Any:
    ctx = await b.new_context(locale="vi-VN", viewport=viewport)
    if user:
        out = await desk.login(user)
        await ctx.add_init_script(
            f"""localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
            localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))});"""
        )
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"{path}: {e}"))

    def console(m: Any) -> None:
        if m.type == "error":
            errors.append(f"{path} console: {m.text}")

    page.on("console", console)
    await page.goto(srv.http + path)
    return page


async def _confirm(page: Any) -> str:
    dlg = page.locator("dialog.confirm")
    await dlg.wait_for()
    text: str = await dlg.inner_text()
    await dlg.locator("button.primary").click()
    await dlg.wait_for(state="detached")
    return text


async def _result_card(overlay: Any, rid: str) -> str:
    card = overlay.locator(f'#result[data-round="{rid}"]')
    await card.wait_for(state="visible")
    text: str = await card.inner_text()
    # The verdict is inside the card and the card inside the frame: a broadcaster's 1920×1080 crops nothing.
    box, verdict = await card.bounding_box(), await card.locator(".verdict").bounding_box()
    assert box and verdict and box["x"] >= 0 and box["x"] + box["width"] <= FULL_HD["width"], box
    assert verdict["x"] + verdict["width"] <= box["x"] + box["width"], (verdict, box)
    return text


async def test_a_whole_session_from_the_pages(browser: Any) -> None:
    errors: list[str] = []
    # The secret vote here is the chair form's sealed flow: the council (and the fresh session it prepares) is
    # sealed; the verifiable flow through the pages has its own tests.
    with ServerProcess(extra_env={"KYHOP_DEMO_SECRET_MODE": "sealed"}) as srv:
        desk = Desk(srv)
        try:
            await _whole_session(browser, srv, desk, errors)
        finally:
            await desk.http.aclose()
    # The pages logged nothing wrong but the browser's own line for the refused session id (409).
    assert [e for e in errors if "status of 409" not in e] == [], errors
    assert len(errors) == 1, errors


async def _whole_session(b: Any, srv: ServerProcess, desk: Desk, errors: list[str]) -> None:
    # ================================ 1. the secretariat: roster, session, agenda, documents
    sec = await _page(b, srv, desk, "vanphong", f"/secretariat.html?session={script.SESSION_ID}", TABLET, errors)
    await sec.wait_for_selector("#conn.live")
    await sec.wait_for_function("document.querySelector('#roster-count').textContent.includes('50 đại biểu')")
    book = _xlsx([[1, IMPORTED[0], "Nguyễn Văn Sơn"], [2, IMPORTED[1], "Lê Thị Thu"]])
    await sec.locator("#roster-file").set_input_files(
        files=[{"name": "danh-sach-bo-sung.xlsx", "mimeType": XLSX, "buffer": book}]
    )
    await sec.wait_for_selector('#roster-preview [data-state="ready"]')
    assert await sec.locator("#roster-preview tr[data-delegate]").count() == 2
    await sec.click("#roster-confirm")
    await sec.wait_for_selector('#roster-preview [data-state="done"]')
    await sec.wait_for_function("document.querySelector('#roster-count').textContent.includes('52 đại biểu')")

    # --- a fresh session, prepared from the page: it copies the roster as it is now (52)
    await sec.click("#session-add")
    assert "Vui lòng nhập tên kỳ họp" in await sec.inner_text("#session-msg")
    await sec.fill("#session-new-title", "Kỳ họp chuyên đề năm 2027")
    await sec.click("#session-add")
    assert "Vui lòng chọn ngày khai mạc" in await sec.inner_text("#session-msg")
    await sec.fill("#session-new-date", "2027-03-15")
    await sec.select_option("#session-new-kind", "themed")
    await sec.fill("#session-new-place", "Hội trường Hội đồng nhân dân tỉnh")
    await sec.fill("#session-new-id", script.SESSION_ID)  # already used: the server's reason, nothing written
    await sec.click("#session-add")
    await sec.locator("#session-msg .banner.bad").wait_for()
    taken = await sec.inner_text("#session-msg")
    assert "Kỳ họp đã được chuẩn bị" in taken, taken
    await sec.wait_for_selector("#session-add:not([disabled])")
    assert await sec.locator("#session-list li[data-session]").count() == 1
    await _axe(sec, "secretariat, a new session refused")
    await sec.fill("#session-new-id", FRESH)
    await sec.click("#session-add")
    await sec.wait_for_url(f"**/secretariat.html?session={FRESH}")
    await sec.wait_for_selector("#conn.live")
    await sec.wait_for_function("document.querySelector('#roster-count').textContent.includes('52 đại biểu')")
    assert await sec.evaluate("Object.keys(window.kyhop.state.hall.delegates).length") == ALL
    assert await sec.locator("#agenda-list li[data-item]").count() == 0
    await _axe(sec, "secretariat, a fresh session without an agenda")

    for item_id, title, kind in (
        (LAND, "Nghị quyết về bảng giá đất năm 2027", "resolution"),
        (QUESTIONS, "Chất vấn và trả lời chất vấn", "questioning"),
        (INVEST, "Nghị quyết điều chỉnh kế hoạch đầu tư công", "resolution"),
    ):
        await sec.fill("#item-title", title)
        await sec.fill("#item-id", item_id)
        await sec.select_option("#item-kind", kind)
        await sec.click("#item-add")
        await sec.wait_for_selector(f'#agenda-list li[data-item="{item_id}"]')
    await _until_order(sec, [LAND, QUESTIONS, INVEST])
    # Questioning goes last: dragged onto the end of the last item.
    await sec.locator(f'#agenda-list li[data-item="{QUESTIONS}"]').drag_to(
        sec.locator(f'#agenda-list li[data-item="{INVEST}"]'), target_position={"x": 20, "y": 40}
    )
    await _until_order(sec, [LAND, INVEST, QUESTIONS])

    zone = f'.doc-item[data-doc-item="{LAND}"]'
    await _drop_files(sec, f"{zone} .dropzone", [("to-trinh-gia-dat.pdf", "application/pdf", three_pages())])
    staged = sec.locator(f"{zone} .doc-queue li").first
    await staged.wait_for()
    await staged.locator("input").fill("Tờ trình về bảng giá đất năm 2027")
    await staged.locator("button.publish").click()
    await sec.wait_for_selector(f'{zone} .doc-queue li[data-state="done"]')
    doc = await staged.get_attribute("data-document")
    await sec.wait_for_selector(f'{zone} .doc-list li[data-document="{doc}"]')
    published = await sec.evaluate(f"window.kyhop.state.documents.documents['{doc}']")
    assert published["title"] == "Tờ trình về bảng giá đất năm 2027" and published["item_id"] == LAND

    # ================================ 2. the chair's console and the overlay beside it
    overlay = await _page(b, srv, desk, None, f"/overlay.html?session={FRESH}&ket-qua=120", FULL_HD, errors)
    await overlay.wait_for_selector("#stage[data-status=prepared]")
    chair = await _page(b, srv, desk, "chutoa", f"/chair.html?session={FRESH}", TABLET, errors)
    await chair.wait_for_selector("#conn.live")
    await chair.wait_for_selector("#present-count")

    await chair.click("#lifecycle button:has-text('Mở điểm danh')")
    await chair.wait_for_selector("#me-checkin")
    await chair.click("#me-checkin")
    await chair.wait_for_selector('#me-status[data-present="true"]')
    # The desk checks the others in from the secretariat's attendance list, the two imported delegates too.
    arriving = [script.delegate_id(i) for i in range(2, PRESENT - 1)] + IMPORTED
    for did in arriving:
        row = sec.locator(f'#attendance-list tr[data-delegate="{did}"]')
        await row.locator("button:has-text('Điểm danh hộ')").click()
        await row.locator(".pill.ok").wait_for()
    assert await sec.inner_text("#attendance-summary .big-number") == f"{PRESENT}/{ALL}"
    await _axe(sec, "secretariat, check-in by the desk")
    await sec.context.close()
    await chair.wait_for_function(f"document.querySelector('#present-count').innerText === '{PRESENT}/{ALL}'")
    assert "Đủ số lượng tối thiểu" in await chair.inner_text("#quorum-status")
    await chair.click("#lifecycle button:has-text('Khai mạc kỳ họp')")
    await chair.wait_for_function("document.querySelector('#st-session').innerText.includes('đang họp')")

    # --- a speaker, on the overlay with the countdown
    await chair.click(f'#agenda-list button[data-move="{LAND}"]')
    await chair.wait_for_function("document.querySelector('#st-item').innerText.includes('bảng giá đất')")
    await chair.select_option("#direct-delegate", script.delegate_id(2))
    await chair.fill("#speech-seconds", "300")
    await chair.click("#direct-form button[type=submit]")
    await chair.wait_for_selector("#speech-now .countdown")
    await overlay.wait_for_selector(".lt-speaker .countdown:not(:empty)")
    lower = await overlay.inner_text("#lower")
    assert script.delegate_name(2) in lower and "bảng giá đất" in lower, lower
    await chair.click("#speech-now button.danger")
    await chair.wait_for_selector("#speech-now >> text=Không có ai đang phát biểu.")

    # --- a named vote from its summary: 27 of all 52 needed; 30 tablets and the chair vote yes
    motion = "Thông qua Nghị quyết về bảng giá đất năm 2027"
    await chair.locator("#vote-form").wait_for()
    await chair.fill("#vote-motion", motion)
    await chair.click("#vote-open")
    await chair.wait_for_selector("dialog.confirm #sum-needed")
    assert await chair.get_attribute("#sum-needed", "data-needed") == "27"
    summary = await _confirm(chair)
    assert motion in summary and "Công khai" in summary
    card = chair.locator(".open-round")
    await card.wait_for()
    named = await card.get_attribute("data-round")
    assert named
    await desk.as_delegates(
        NAMED_YES, lambda i: votes.CastBallot(round_id=named, delegate_id=script.delegate_id(i), option="yes")
    )
    await chair.locator(".my-ballot button[data-option='yes']").click()
    await _confirm(chair)
    await chair.wait_for_selector("#my-ballot-done")
    await chair.wait_for_function(
        f"document.querySelector('.open-round .ballots-cast').innerText === '{len(NAMED_YES) + 1}'"
    )
    await overlay.wait_for_selector("#lower .lt-tag >> text=ĐANG BIỂU QUYẾT")
    await chair.click(f'button[data-close="{named}"]')
    await _confirm(chair)
    await chair.locator(f'button[data-announce="{named}"]').click()
    await _confirm(chair)
    await chair.wait_for_selector(f'.announced[data-announced="{named}"]')
    shown = await _result_card(overlay, named)
    assert "KẾT QUẢ BIỂU QUYẾT" in shown and motion in shown and "THÔNG QUA" in shown, shown
    assert "KHÔNG THÔNG QUA" not in shown and "31" in shown, shown

    # --- a secret vote: the committee picked by name, 24 ballots, counted, certified, announced
    await chair.click(f'#agenda-list button[data-move="{INVEST}"]')
    await chair.wait_for_function("document.querySelector('#st-item').innerText.includes('đầu tư công')")
    await chair.locator("#vote-form").wait_for()
    assert not await chair.is_checked("#vote-secret")  # a fresh form after the named vote
    motion2 = "Thông qua Nghị quyết điều chỉnh kế hoạch đầu tư công"
    await chair.fill("#vote-motion", motion2)
    await chair.check("#vote-secret")
    await chair.locator("#committee-box .committee-list").wait_for()
    for i in COMMITTEE:
        await chair.locator(f'.committee-list input[value="{script.delegate_id(i)}"]').check()
    assert f"Đã chọn {len(COMMITTEE)} người" in await chair.inner_text(".committee-count")
    await chair.click("#vote-open")
    await chair.wait_for_selector("dialog.confirm #sum-committee")
    summary = await _confirm(chair)
    assert "Bỏ phiếu kín" in summary and script.delegate_name(COMMITTEE[-1]) in summary
    secret = chair.locator(".open-round")
    await secret.wait_for()
    sid = await secret.get_attribute("data-round")
    assert sid and sid != named
    await overlay.wait_for_selector(f'#result[data-round="{named}"]', state="hidden")  # the new vote replaces it
    await desk.as_delegates(
        SECRET_YES + SECRET_NO,
        lambda i: votes.CastBallot(
            round_id=sid, delegate_id=script.delegate_id(i), option="yes" if i in SECRET_YES else "no"
        ),
    )
    cast = len(SECRET_YES) + len(SECRET_NO)
    await chair.wait_for_function(f"document.querySelector('.open-round .ballots-cast').innerText === '{cast}'")
    assert "Tán thành" not in await overlay.inner_text("#lower")  # never a per-option count while secret
    await chair.click(f'button[data-close="{sid}"]')
    assert "chuyển Ban kiểm phiếu" in await _confirm(chair)
    await chair.locator(f'.counted-round[data-round="{sid}"]').wait_for()
    await overlay.wait_for_selector("#lower .lt-tag >> text=ĐANG KIỂM PHIẾU")
    await desk.as_delegates(COMMITTEE[:4], lambda i: votes.CertifyRound(round_id=sid))  # 4 of 7: a majority
    await chair.locator(f'button[data-announce="{sid}"]').click()
    await _confirm(chair)
    await chair.wait_for_selector(f'.announced[data-announced="{sid}"]')
    shown = await _result_card(overlay, sid)
    assert motion2 in shown and "KHÔNG THÔNG QUA" in shown and "Bỏ phiếu kín" in shown, shown
    await _axe(overlay, "overlay, a secret result in a fresh session")
    await _shot(overlay, "whole-session-overlay-1920x1080")

    # --- questioning: a delegate's question (from their tablet) is called from the console
    await chair.click(f'#agenda-list button[data-move="{QUESTIONS}"]')
    await chair.wait_for_function("document.querySelector('#st-item').innerText.includes('chất vấn')")
    await desk.run(
        "daibieu04",
        questioning.RegisterQuestion(
            question_id="cq-gia-dat",
            delegate_id=script.delegate_id(4),
            respondent_id="so-y-te",
            topic="Trạm y tế xã",
            text="Khi nào các trạm y tế xã có đủ bác sĩ?",
        ),
    )
    await chair.locator('#chair-questions li[data-question="cq-gia-dat"] button.primary').click()
    await chair.wait_for_selector("#turn-now .countdown")
    assert script.delegate_name(4) in await chair.inner_text("#st-floor")
    await overlay.wait_for_function(
        f"document.querySelector('#lower').innerText.includes({json.dumps(script.delegate_name(4))})"
    )
    await chair.click("#turn-now button.danger")
    await chair.wait_for_selector("#turn-now >> text=Không có lượt chất vấn nào đang diễn ra.")

    # --- the close: the overlay says so, with both results
    await chair.click("#lifecycle button:has-text('Bế mạc')")
    await _confirm(chair)
    await overlay.wait_for_selector("#stage[data-status=closed] #result:not(.hidden)")
    closed = await overlay.inner_text("#result")
    assert "KỲ HỌP ĐÃ BẾ MẠC" in closed and motion in closed and motion2 in closed, closed
    assert await overlay.evaluate("window.kyhop.duplicates") == 0
    await chair.context.close()
    await overlay.context.close()
