"""The chair's console on one screen (issue 12 §1), in Debian's chromium through Playwright: at 1280×800 the agenda,
the floor and the vote are all on screen without the page scrolling; a named vote is opened from its summary (with
the number of votes it needs in this hall), delegates vote, the live count and the names of those who have not
voted follow, the chair votes too, closes and announces — and a delegate's tablet shows the announcement; the next
vote starts from a fresh form; the counting committee is picked by name (not the person on the ballot); bad input
gets a Vietnamese message and sends nothing; axe-core finds no serious or critical violation in any state."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from clients.sdk import SessionClient
from meeting import polls, questioning, script, speakers, votes
from meeting import session as sess
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess
from tests.test_web_tablet import TABLET, _axe, _client, _shot, _tablet, browser

# The sealed flow of the chair's vote form (the verifiable one: its own tests); the demo council is built sealed.
SEALED = {"KYHOP_DEMO_SECRET_MODE": "sealed"}

__all__ = ["browser"]  # the Playwright fixture, shared with the tablet's tests

SESSION = script.SESSION_ID
WIDE = {"width": 1920, "height": 1080}
BUDGET = "nq-ngan-sach"
INVEST = "nq-dau-tu-cong"


async def _chair(
    browser: Any, srv: ServerProcess, viewport: dict[str, int], errors: list[str], session: str = SESSION
) -> Any:
    async with httpx.AsyncClient(base_url=srv.http) as c:
        out = (await c.post("/api/auth/login", json={"username": "chutoa", "password": DEMO_PASSWORD})).json()
    ctx = await browser.new_context(locale="vi-VN", viewport=viewport)
    # Only on the server's pages: a tab the console opens (verify.html, target=_blank) starts as about:blank, whose
    # opaque origin has no localStorage.
    await ctx.add_init_script(
        f"""if (location.protocol.startsWith("http")) {{
        localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
        localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))}); }}"""
    )
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"chair: {e}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"chair console: {m.text}"))
    await page.goto(f"{srv.http}/chair.html?session={session}")
    await page.wait_for_selector("#conn.live")
    await page.wait_for_selector("#present-count")
    return page


async def _one_screen(page: Any, state: str) -> None:
    """The page itself does not scroll (each pane scrolls inside itself) and the three columns are on screen."""
    fits = await page.evaluate(
        """() => ({
            scroll: document.scrollingElement.scrollHeight, inner: innerHeight, width: innerWidth,
            panes: ['pane-agenda', 'pane-speakers', 'pane-votes'].map((id) => {
                const r = document.getElementById(id).getBoundingClientRect();
                return r.top >= 0 && r.bottom <= innerHeight + 1 && r.left >= 0 && r.right <= innerWidth + 1
                    && r.height >= 80;
            }),
        })"""
    )
    assert fits["scroll"] <= fits["inner"] + 1, f"{state}: the page scrolls ({fits})"
    assert fits["panes"] == [True, True, True], f"{state}: {fits}"


async def _confirm(page: Any) -> str:
    """Read the open confirmation dialog and press its main button."""
    dlg = page.locator("dialog.confirm")
    await dlg.wait_for()
    text: str = await dlg.inner_text()
    await dlg.locator("button.primary").click()
    await dlg.wait_for(state="detached")
    return text


async def _rounds(page: Any) -> int:
    n: int = await page.evaluate("Object.keys(window.kyhop.state.votes.rounds).length")
    return n


async def test_the_chair_runs_a_named_and_a_secret_vote_from_one_screen(browser: Any) -> None:
    errors: list[str] = []
    chair_id = script.delegate_id(1)
    voters: list[SessionClient] = []
    with ServerProcess(extra_env=SEALED) as srv:
        secretary = await _client(srv, "vanphong")
        try:
            page = await _chair(browser, srv, TABLET, errors)
            await _one_screen(page, "prepared")
            await _axe(page, "chair, session prepared")

            # --- check-in: the chair opens it and checks in as the delegate they are (33 others make 34, the quorum)
            await page.click("#lifecycle button:has-text('Mở điểm danh')")
            await page.wait_for_selector("#me-checkin")
            for i in range(2, 35):
                await secretary.send(sess.CheckIn(delegate_id=script.delegate_id(i)))
            await page.click("#me-checkin")
            await page.wait_for_selector('#me-status[data-present="true"]')
            await page.wait_for_function("document.querySelector('#present-count').innerText === '34/50'")
            assert "Đủ số lượng tối thiểu" in await page.inner_text("#quorum-status")
            # The seat map names every delegate with the seat the council's plan gives them.
            await page.click("#seat-map-open")
            assert "34/50 có mặt" in await page.inner_text("#seat-map-open")
            seat = page.locator(f'.seat[data-delegate="{chair_id}"]')
            await seat.wait_for()
            assert "Ghế A-01" in await seat.inner_text() and script.delegate_name(1) in await seat.inner_text()
            assert "present" in (await seat.get_attribute("class") or "")
            assert "present" not in (
                await page.get_attribute(f'.seat[data-delegate="{script.delegate_id(50)}"]', "class") or ""
            )
            await _axe(page, "the seat map")
            await _shot(page, "chair-seats-1280x800")
            await page.keyboard.press("Escape")
            await page.locator("#seat-map").wait_for(state="hidden")
            await _axe(page, "check-in")
            await _shot(page, "chair-checkin-1280x800")

            # --- the session opens; the chair moves to the budget item from the agenda
            await page.click("#lifecycle button:has-text('Khai mạc kỳ họp')")
            await page.click(f'#agenda-list button[data-move="{BUDGET}"]')
            await page.wait_for_function("document.querySelector('#st-item').innerText.includes('dự toán ngân sách')")
            assert "đang họp" in await page.inner_text("#st-session")
            await _one_screen(page, "in progress")

            # --- a speech under a minute reads "45 giây", never "0 phút"
            await page.select_option("#direct-delegate", script.delegate_id(2))
            await page.fill("#speech-seconds", "45")
            await page.click("#direct-form button[type=submit]")
            await page.wait_for_selector("#speech-now .countdown")
            assert "Thời lượng 45 giây" in await page.inner_text("#speech-now")
            assert script.delegate_name(2) in await page.inner_text("#st-floor")
            assert "0 phút" not in await page.inner_text("body")
            await _axe(page, "a speech")
            await _shot(page, "chair-floor-1280x800")
            await page.click("#speech-now button.danger")
            await page.wait_for_selector("#speech-now >> text=Không có ai đang phát biểu.")

            # --- bad input: an empty motion is refused on the page, in Vietnamese, and nothing is sent
            await page.fill("#vote-motion", "   ")
            await page.click("#vote-open")
            assert "Vui lòng nhập nội dung biểu quyết" in await page.inner_text("#vote-motion-error")
            assert await page.get_attribute("#vote-motion", "aria-invalid") == "true"
            assert await page.locator("dialog[open]").count() == 0 and await _rounds(page) == 0
            await _axe(page, "an empty motion")

            # --- a named vote, opened from its summary: more than half of all 50 delegates is 26
            motion = "Thông qua Nghị quyết về dự toán ngân sách địa phương năm 2027"
            await page.fill("#vote-motion", motion)
            await page.fill("#vote-duration", "0")
            await page.click("#vote-open")
            assert "Thời gian phải là số giây từ 1" in await page.inner_text("#vote-duration-error")
            assert await page.locator("dialog[open]").count() == 0 and await _rounds(page) == 0
            await page.fill("#vote-duration", "600")
            await page.click("#vote-open")
            await page.wait_for_selector("dialog.confirm #sum-needed")
            assert await page.get_attribute("#sum-needed", "data-needed") == "26"
            summary = await page.inner_text("dialog.confirm")
            for words in (motion, "Công khai", "Điện tử", "quá nửa tổng số đại biểu", "26", "Tán thành", "10 phút"):
                assert words in summary, words
            await _axe(page, "the vote summary")
            await _shot(page, "chair-vote-summary-1280x800")
            await _confirm(page)
            card = page.locator(".open-round")
            await card.wait_for()
            rid = await card.get_attribute("data-round")
            assert rid and await _rounds(page) == 1
            assert "0/50 đã bỏ phiếu" in await page.text_content("#st-vote") or ""

            # --- tablets vote: 26 yes and 3 no from delegates' own connections, one delegate on a tablet page
            tablet_errors: list[str] = []
            tablet = await _tablet(browser, srv, "daibieu02", TABLET, tablet_errors)
            voters = list(await asyncio.gather(*(_client(srv, f"daibieu{i:02d}") for i in range(3, 31))))
            await asyncio.gather(
                *(
                    c.send(
                        votes.CastBallot(
                            round_id=rid, delegate_id=script.delegate_id(i), option="yes" if i <= 27 else "no"
                        )
                    )
                    for i, c in zip(range(3, 31), voters, strict=True)
                )
            )
            await page.wait_for_function("document.querySelector('.open-round .ballots-cast').innerText === '28'")
            assert await page.inner_text('.open-round .tally b[data-option="yes"]') == "25"
            not_voted = page.locator(".open-round .not-voted")
            assert script.delegate_name(31) in await not_voted.inner_text()  # present, not voted yet: by name
            assert script.delegate_name(5) not in await not_voted.inner_text()  # voted
            assert "vắng mặt" in await not_voted.inner_text()  # 16 absent ones are told apart

            # The delegate on the tablet votes; the chair sees the name leave the list.
            yes = f'.ballot[data-round="{rid}"] button[data-option="yes"]'
            await tablet.locator(yes).click()
            await tablet.locator("dialog.confirm button.primary").click()
            await tablet.wait_for_selector(f'.ballot.done[data-round="{rid}"]')
            await page.wait_for_function("document.querySelector('.open-round .ballots-cast').innerText === '29'")
            assert script.delegate_name(2) not in await not_voted.inner_text()

            # --- the chair votes from the console: confirm, then "đã ghi nhận"
            await page.locator(".my-ballot button[data-option='yes']").click()
            assert "Chủ tọa chọn: Tán thành" in await _confirm(page)
            await page.wait_for_selector("#my-ballot-done")
            assert "đã ghi nhận — Tán thành" in await page.inner_text(".my-ballot")
            await page.wait_for_function("document.querySelector('.open-round .ballots-cast').innerText === '30'")
            assert script.delegate_name(1) not in await not_voted.inner_text()
            await _one_screen(page, "a named vote open")
            await _axe(page, "a named vote open")
            await _shot(page, "chair-vote-open-1280x800")
            await page.set_viewport_size(WIDE)
            await _one_screen(page, "a named vote open, 1920×1080")
            await _shot(page, "chair-vote-open-1920x1080")
            await page.set_viewport_size(TABLET)

            # --- close, then announce: a real command; the tablet shows the announcement
            await page.click(f'button[data-close="{rid}"]')
            await _confirm(page)
            announce = page.locator(f'button[data-announce="{rid}"]')
            await announce.wait_for()
            assert "Kết quả chờ công bố" in await page.text_content("#st-vote") or ""
            result = await page.inner_text(f'.result-card[data-round="{rid}"]')
            assert "THÔNG QUA" in result and "cần 26" in result
            await announce.click()
            assert "Công bố kết quả" in await _confirm(page)
            await page.wait_for_selector(f'.announced[data-announced="{rid}"]')
            assert "THÔNG QUA" in (await page.text_content("#st-vote") or "")
            assert await page.evaluate(f"!!window.kyhop.state.votes.rounds['{rid}'].announced_at")
            banner = tablet.locator(f'.announced-result[data-round="{rid}"]')
            await banner.wait_for()
            text = await banner.inner_text()
            assert "Chủ tọa đã công bố kết quả" in text and "THÔNG QUA" in text and motion in text
            await _axe(tablet, "tablet: the announced result")
            await _shot(tablet, "tablet-announced-1280x800")
            await _axe(page, "result announced")
            await _shot(page, "chair-result-announced-1280x800")

            # --- the next vote starts from a fresh form
            await page.click(f'#agenda-list button[data-move="{INVEST}"]')
            await page.wait_for_function("document.querySelector('#st-item').innerText.includes('đầu tư công')")
            await page.locator("#vote-form").wait_for()
            assert "đầu tư công" in await page.input_value("#vote-motion")
            assert not await page.is_checked("#vote-secret") and await page.input_value("#vote-duration") == ""

            # --- a secret vote: the committee is picked by name; too few is refused on the page, nothing sent
            await page.check("#vote-secret")
            await page.locator("#committee-box .committee-list").wait_for()
            assert "tối thiểu 7" in await page.inner_text("#committee-box")
            for i in (30, 31):
                await page.locator(f'.committee-list label[data-delegate="{script.delegate_id(i)}"]').click()
            await page.click("#vote-open")
            assert "cần ít nhất 7 thành viên, mới chọn 2" in await page.inner_text("#committee-error")
            assert await page.locator("dialog[open]").count() == 0 and await _rounds(page) == 1
            # The person on the ballot (a removal round's subject) cannot be picked.
            await page.select_option("#vote-kind", "removal")
            await page.select_option("#vote-subject", script.delegate_id(32))
            subject_box = page.locator(f'.committee-list input[value="{script.delegate_id(32)}"]')
            assert await subject_box.is_disabled()
            assert "có tên trong lá phiếu" in await page.inner_text(
                f'.committee-list label[data-delegate="{script.delegate_id(32)}"]'
            )
            await page.select_option("#vote-kind", "resolution")
            assert not await subject_box.is_disabled()
            await page.fill(".committee input[type=search]", script.delegate_name(33))
            await page.locator(f'.committee-list label[data-delegate="{script.delegate_id(33)}"]').click()
            await page.fill(".committee input[type=search]", "")
            for i in range(32, 37):
                box = page.locator(f'.committee-list input[value="{script.delegate_id(i)}"]')
                if not await box.is_checked():
                    await box.check()
            assert "Đã chọn 7 người" in await page.inner_text(".committee-count")
            await _axe(page, "a secret vote's form with the committee")
            await _shot(page, "chair-secret-form-1280x800")
            await page.set_viewport_size(WIDE)
            await _one_screen(page, "the secret form, 1920×1080")
            await _shot(page, "chair-secret-form-1920x1080")
            await page.set_viewport_size(TABLET)
            await page.click("#vote-open")
            await page.wait_for_selector("dialog.confirm #sum-committee")
            summary = await page.inner_text("dialog.confirm")
            assert "Bỏ phiếu kín" in summary and script.delegate_name(36) in summary
            assert await page.get_attribute("#sum-needed", "data-needed") == "26"
            await _confirm(page)
            secret = page.locator(".open-round")
            await secret.wait_for()
            sid = await secret.get_attribute("data-round")
            assert sid and sid != rid
            assert "Bỏ phiếu kín" in await secret.inner_text()
            assert await secret.locator(".tally, .not-voted").count() == 0  # a secret round: the count only
            # The form behind it is fresh again: nothing of the secret vote carries over.
            assert not await page.is_checked("#vote-secret")
            assert await page.is_checked('input[name="vote-secret"][value="named"]')
            assert await page.locator(".committee-list input:checked").count() == 0
            # The keyboard: Alt+digit gives a pane the focus, as the line at the bottom of the screen says.
            assert "Alt+5 biểu quyết" in " ".join((await page.inner_text("#keys")).split())
            await page.keyboard.press("Alt+5")
            assert await page.evaluate("document.activeElement.id") == "pane-votes"
            await page.keyboard.press("Alt+3")
            assert await page.evaluate("document.activeElement.id") == "pane-speakers"
            await _one_screen(page, "a secret vote open")
            await _axe(page, "a secret vote open")
            await _shot(page, "chair-secret-open-1280x800")

            # --- the secret round closes to its committee, which certifies it; then the chair announces it
            await asyncio.gather(
                *(
                    voters[i - 3].send(votes.CastBallot(round_id=sid, delegate_id=script.delegate_id(i), option="yes"))
                    for i in range(3, 10)
                )
            )
            await page.wait_for_function("document.querySelector('.open-round .ballots-cast').innerText === '7'")
            await page.click(f'button[data-close="{sid}"]')
            assert "chuyển Ban kiểm phiếu" in await _confirm(page)
            await page.locator(f'.counted-round[data-round="{sid}"]').wait_for()
            assert "Chờ Ban kiểm phiếu xác nhận" in (await page.text_content("#st-vote") or "")
            members = [voters[27], *await asyncio.gather(*(_client(srv, f"daibieu{i}") for i in (31, 32, 33)))]
            voters += members[1:]
            for m in members:  # 4 of 7: more than half certifies the count
                await m.send(votes.CertifyRound(round_id=sid))
            await page.locator(f'button[data-announce="{sid}"]').click()
            await _confirm(page)
            await page.wait_for_selector(f'.announced[data-announced="{sid}"]')
            await tablet.locator(f'.announced-result[data-round="{sid}"]').wait_for()
            await tablet.context.close()
            assert tablet_errors == []

            # --- a confidence poll's committee, picked by name too; an official who is a delegate cannot be
            official = polls.Official(
                id="pho-chu-tich", name="Phó Chủ tịch HĐND", position="Phó Chủ tịch", delegate_id=script.delegate_id(37)
            )
            await secretary.send(
                polls.CreatePoll(poll_id="ltn", item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=[official])
            )
            await page.locator('#polls-body [data-poll="ltn"] button:has-text("Chọn Ban kiểm phiếu")').click()
            dialog = page.locator("dialog.confirm")
            await dialog.wait_for()
            assert await dialog.locator(f'input[value="{script.delegate_id(37)}"]').is_disabled()
            for i in range(38, 45):
                await dialog.locator(f'label[data-delegate="{script.delegate_id(i)}"]').click()
            await _axe(page, "the poll committee picker")
            await _confirm(page)
            await page.wait_for_selector(f'#polls-body [data-poll="ltn"] >> text={script.delegate_name(44)}')

            # A speaking request from a tablet shows in the queue (the floor pane stays live during a vote).
            await voters[0].send(
                speakers.RequestToSpeak(
                    request_id="xin-noi", delegate_id=script.delegate_id(3), item_id=INVEST, topic="Vốn đối ứng"
                )
            )
            await page.wait_for_selector('#speaker-queue li[data-request="xin-noi"]')

            # --- questioning: a delegate's question is called; the turn and its countdown are on the strip too
            await page.click('#agenda-list button[data-move="chat-van"]')
            await page.wait_for_function("document.querySelector('#st-item').innerText.includes('chất vấn')")
            await voters[1].send(
                questioning.RegisterQuestion(
                    question_id="cq-1",
                    delegate_id=script.delegate_id(4),
                    respondent_id="so-y-te",
                    topic="Y tế cơ sở",
                    text="Khi nào các trạm y tế xã có đủ bác sĩ?",
                )
            )
            await page.locator('#chair-questions li[data-question="cq-1"] button.primary').click()
            await page.wait_for_selector("#turn-now .countdown")
            assert script.delegate_name(4) in await page.inner_text("#st-floor")
            assert "Y tế cơ sở" in await page.inner_text("#turn-now")
            await _one_screen(page, "a question called")
            await _axe(page, "a question called")
            await _shot(page, "chair-questioning-1280x800")
            await page.click("#turn-now button.danger")
            await page.wait_for_selector("#turn-now >> text=Không có lượt chất vấn nào đang diễn ra.")
        finally:
            await asyncio.gather(secretary.close(), *(c.close() for c in voters))
    assert errors == []
