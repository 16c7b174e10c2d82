"""Three tablets through a session (issue 11), each in its own browser context in Debian's chromium: a 1280×800
tablet, a 390×844 phone and a 768×1024 tablet in portrait (a counting-committee member). A document arrives and
is read in the reader, the chair's follow-me moves all three, a delegate's notes and highlights are found again
after a reload (this device's IndexedDB) and on a second device of the same delegate once the notes passphrase
is entered there (the server's ciphertext), a named and a secret vote are cast from the tablets and their
results shown; a respondent signs in from `/` and gets their own header, answer turn and timer. axe-core on every
state; screenshots for the docs."""

from __future__ import annotations

import asyncio
import base64
import json
import unicodedata
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from meeting import agenda, questioning, script, votes
from meeting.rules import BallotMode
from server.demo import DEMO_PASSWORD
from tests.docs_http import login, upload
from tests.e2e import ServerProcess
from tests.test_web_tablet import (
    PHONE,
    SESSION,
    TABLET,
    _axe,
    _client,
    _in_session,
    _shot,
    _tablet,
    _until,
    browser,  # noqa: F401 (the fixture)
    three_pages,
)

PORTRAIT = {"width": 768, "height": 1024}
DOC = "bao-cao-ba-trang"
PASSPHRASE = "sông Hồng mùa nước nổi"
READER = "#reader"
NO_TOASTS = "!document.querySelector('#toasts .toast')"  # a toast lasts 4 s; the screenshots show the page under it
COMMITTEE = [script.delegate_id(i) for i in range(30, 37)]


async def _open_doc_at(page: Any, n: int) -> None:
    await page.wait_for_selector(f'{READER}[data-document="{DOC}"][data-drawn="{n}"]', timeout=30_000)


async def _notes_open(page: Any) -> None:
    if await page.get_attribute("#reader-notes-toggle", "aria-expanded") != "true":
        await page.click("#reader-notes-toggle")
    await page.wait_for_selector("#reader-notes:not(.hidden)")


async def _passphrase(page: Any, text: str) -> None:
    await page.click("#notes-sync-on")
    await page.fill("#notes-passphrase", text)
    await page.click("#notes-passphrase-ok")


async def _vote(page: Any, round_id: str, option: str) -> None:
    """From the banner to the ballot, one tap and the confirmation; done when the server has answered."""
    await page.wait_for_selector("#alert:not(.hidden)")
    await page.click("#alert-go")
    await page.locator(f'.ballot[data-round="{round_id}"] button[data-option="{option}"]').click()
    await page.click("dialog.confirm button.primary")
    await page.wait_for_selector(f'.ballot.done[data-round="{round_id}"]', timeout=20_000)


def _decrypt(passphrase: str, record: dict[str, Any], blob: dict[str, Any], aad: str) -> list[dict[str, Any]]:
    """What only the delegate can do: the tablet's key from the passphrase (PBKDF2-SHA-256), then AES-GCM."""
    salt = base64.b64decode(record["salt"])
    kdf = PBKDF2HMAC(algorithm=SHA256(), length=32, salt=salt, iterations=record["iterations"])
    aes = AESGCM(kdf.derive(unicodedata.normalize("NFC", passphrase).encode()))
    plain = aes.decrypt(base64.b64decode(blob["iv"]), base64.b64decode(blob["ciphertext"]), aad.encode())
    notes: list[dict[str, Any]] = json.loads(plain)["notes"]
    return notes


async def test_three_tablets_through_a_session(browser: Any) -> None:  # noqa: F811
    errors: list[str] = []
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, list(range(1, 35)))
        committee = [await _client(srv, f"daibieu{i}") for i in (31, 32, 33)]
        try:
            big = await _tablet(browser, srv, "daibieu02", TABLET, errors)
            phone = await _tablet(browser, srv, "daibieu03", PHONE, errors)
            portrait = await _tablet(browser, srv, "daibieu30", PORTRAIT, errors)
            tablets = (big, phone, portrait)
            await _axe(portrait, "768x1024 home")
            await _shot(portrait, "tablet-768x1024-home")

            # --- a document arrives on all three; the big tablet reads it from the banner
            def publish() -> None:
                with httpx.Client(base_url=srv.http, timeout=60) as http:
                    r = upload(http, login(http, "vanphong"), three_pages(), document_id=DOC, title="Báo cáo thẩm tra")
                    assert r.status_code == 201, r.text

            await asyncio.to_thread(publish)
            for t in tablets:
                await t.wait_for_selector("#alert:has-text('Tài liệu mới: Báo cáo thẩm tra')", timeout=20_000)
            await big.click("#alert-go")
            await _open_doc_at(big, 1)
            await portrait.click(f'button[data-open="{DOC}"]')
            await _open_doc_at(portrait, 1)
            await _axe(portrait, "768x1024 reader")

            # --- follow me: the chair's page 2 opens on all three (the phone had not opened it at all)
            await chair.send(agenda.SetFollowMe(document_id=DOC, page=2))
            for t in tablets:
                await _open_doc_at(t, 2)
                await t.wait_for_selector("#reader-following")
            await _shot(portrait, "tablet-768x1024-follow-me")

            # --- notes on the big tablet: a note on page 2, a highlight of selected text, a rectangle
            await _notes_open(big)
            assert "trang 2" in await big.inner_text("label[for=notes-text]")
            await big.click("#notes-add")  # empty: a Vietnamese message, nothing saved
            message = await big.evaluate("document.querySelector('#notes-text').validationMessage")
            assert message.startswith("Vui lòng viết nội dung ghi chú."), message
            await big.fill("#notes-text", "Hỏi lại: vốn đầu tư công năm 2027 tăng bao nhiêu?")
            await big.click("#notes-add")
            await big.wait_for_selector("#notes-list li[data-kind=note]")
            await big.wait_for_selector(".textLayer span")
            selected = await big.evaluate(
                """() => {
                    const spans = [...document.querySelectorAll('.textLayer span')];
                    const span = spans.find((s) => s.textContent.includes('Đầu tư'));
                    const range = document.createRange();
                    range.selectNodeContents(span);
                    const sel = getSelection();
                    sel.removeAllRanges();
                    sel.addRange(range);
                    return sel.toString();
                }"""
            )
            assert "Đầu tư" in selected
            await big.click("#notes-highlight")
            await big.wait_for_selector("#notes-list li[data-kind=highlight]")
            await big.wait_for_selector(".notes-marks .mark-hl")
            assert "Đầu tư" in await big.inner_text("#notes-list li[data-kind=highlight] q")
            await big.click("#notes-rect")
            pad = await big.locator("#notes-draw").bounding_box()
            assert pad is not None
            # Drag across the part of the page that is on screen (the page is taller than the window).
            top, bottom = max(pad["y"], 0), min(pad["y"] + pad["height"], TABLET["height"])
            await big.mouse.move(pad["x"] + pad["width"] * 0.2, top + (bottom - top) * 0.3)
            await big.mouse.down()
            await big.mouse.move(pad["x"] + pad["width"] * 0.6, top + (bottom - top) * 0.6, steps=5)
            await big.mouse.up()
            await big.wait_for_selector(".notes-marks .mark-rect")
            assert await big.locator("#notes-list li[data-note]").count() == 3
            await _axe(big, "reader with notes")
            await big.wait_for_function(NO_TOASTS)
            await _shot(big, "tablet-notes-1280x800")

            # --- a reload: the notes are still on this device
            await big.reload()
            await big.wait_for_selector("#conn.live")
            await _open_doc_at(big, 2)
            await _notes_open(big)
            await big.wait_for_function("document.querySelectorAll('#notes-list li[data-note]').length === 3")
            await big.wait_for_selector(".notes-marks .mark-hl")

            # --- kept on the server too: the passphrase, then the blob is there (and is not the text)
            await _passphrase(big, PASSPHRASE)
            await big.wait_for_selector("#notes-lock")
            token = await big.evaluate("localStorage.getItem('kyhop.token')")
            async with httpx.AsyncClient(base_url=srv.http, headers={"authorization": f"Bearer {token}"}) as c:

                async def stored() -> Any:
                    return (await c.get(f"/api/sessions/{SESSION}/notes/{DOC}")).json()

                for _ in range(200):
                    blob = await stored()
                    if blob.get("revision"):
                        break
                    await asyncio.sleep(0.05)
                assert blob["revision"] >= 1, blob
                assert "vốn đầu tư" not in json.dumps(blob, ensure_ascii=False)

            # --- a second device of the same delegate: nothing until the passphrase; a wrong one is refused
            second = await _tablet(browser, srv, "daibieu02", PORTRAIT, errors)
            await _open_doc_at(second, 2)
            await _notes_open(second)
            await second.wait_for_selector("#notes-list li.muted")
            await _passphrase(second, "không phải cụm này")
            await second.wait_for_selector("dialog.notes-passphrase .banner.bad:has-text('không đúng')", timeout=30_000)
            await _axe(second, "wrong notes passphrase")
            await second.fill("#notes-passphrase", PASSPHRASE)
            await second.click("#notes-passphrase-ok")
            await second.wait_for_function(
                "document.querySelectorAll('#notes-list li[data-note]').length === 3", timeout=30_000
            )
            await second.wait_for_selector(".notes-marks .mark-rect")
            await _axe(second, "notes on a second device")
            await second.wait_for_function(NO_TOASTS)
            await _shot(second, "tablet-notes-second-device-768x1024")
            # A note written there reaches the first device on its next opening of the document.
            await second.fill("#notes-text", "Ghi thêm từ máy thứ hai")
            await second.click("#notes-add")
            await second.wait_for_function("document.querySelectorAll('#notes-list li[data-note]').length === 4")
            async with httpx.AsyncClient(base_url=srv.http, headers={"authorization": f"Bearer {token}"}) as c:
                for _ in range(200):
                    if (await c.get(f"/api/sessions/{SESSION}/notes/{DOC}")).json().get("revision", 0) >= 2:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the second device's note did not reach the server")
            await second.context.close()
            await big.click("#reader-close")
            await big.click(f'button[data-open="{DOC}"]')
            await big.wait_for_function("document.querySelectorAll('#notes-list li[data-note]').length === 4")
            assert "Ghi thêm từ máy thứ hai" in await big.inner_text("#notes-list")
            # A deletion: gone from the list and from the page.
            await big.locator("#notes-list li[data-kind=rect] .note-delete").click()
            await big.wait_for_function("document.querySelectorAll('#notes-list li[data-note]').length === 3")
            await big.wait_for_selector(".notes-marks .mark-rect", state="detached")

            # --- the phone's own notes panel, under the page
            await _notes_open(phone)
            await phone.fill("#notes-text", "Đối chiếu với báo cáo của Sở Tài chính")
            await phone.click("#notes-add")
            await phone.wait_for_selector("#notes-list li[data-kind=note]")
            await _axe(phone, "notes on a phone")
            await phone.wait_for_function(NO_TOASTS)
            await _shot(phone, "tablet-notes-390x844")

            # --- the phone turns the sound on (off by default: nobody else chimes); a sample plays at once
            await chair.send(agenda.ClearFollowMe())
            await phone.click("#reader-close")
            assert await phone.get_attribute("#sound-toggle", "aria-pressed") == "false"
            await phone.click("#sound-toggle")
            assert await phone.get_attribute("#sound-toggle", "aria-pressed") == "true"
            await phone.wait_for_function("document.documentElement.dataset.chimes === '1'")
            await phone.reload()  # the choice is kept on the device
            await phone.wait_for_selector("#conn.live")
            assert await phone.get_attribute("#sound-toggle", "aria-pressed") == "true"
            await phone.click("#now h2")  # a browser lets a page play sound after a first tap on it
            await phone.wait_for_function("document.documentElement.dataset.audio === 'running'")

            # --- a named vote from the three tablets; the result on each
            motion = "Thông qua Nghị quyết về dự toán ngân sách địa phương năm 2027"
            await chair.send(votes.OpenVote(round_id="bq-ghi-danh", item_id="nq-ngan-sach", motion=motion))
            await phone.wait_for_function("document.documentElement.dataset.chimes === '1'")  # the vote opened
            for t, option in ((big, "yes"), (phone, "yes"), (portrait, "no")):
                await _vote(t, "bq-ghi-danh", option)
            assert await big.evaluate("document.documentElement.dataset.chimes") is None
            await _axe(portrait, "768x1024 named ballot cast")
            await _shot(portrait, "tablet-768x1024-voted")
            await chair.send(votes.CloseRound(round_id="bq-ghi-danh"))
            for t in tablets:
                await t.wait_for_selector("#results-body:has-text('Thông qua Nghị quyết về dự toán')")

            # --- a secret vote; the portrait tablet's delegate is on the counting committee and certifies there
            await chair.send(
                votes.OpenVote(
                    round_id="bq-kin", item_id="nq-ngan-sach", motion="Bỏ phiếu kín: phương án đầu tư", secret=True,
                    committee=COMMITTEE, mode=BallotMode.SEALED,  # the tablets' sealed ballot and certification
                )
            )  # fmt: skip
            for t, option in ((big, "yes"), (phone, "no"), (portrait, "yes")):
                await _vote(t, "bq-kin", option)
            text = await phone.locator('.ballot.done[data-round="bq-kin"]').inner_text()
            assert "Đã ghi nhận phiếu của bạn." in text and "Không tán thành" not in text  # secret: the choice unsaid
            await chair.send(votes.CloseRound(round_id="bq-kin", confirm_few_ballots=True))
            task = portrait.locator('.ballot.counted[data-round="bq-kin"] button')
            await task.wait_for()
            await portrait.wait_for_selector(
                "#alert:has-text('Ban kiểm phiếu: có kết quả kiểm phiếu chờ bạn xác nhận.')"
            )
            assert await big.is_hidden("#alert")  # not on the committee: nothing to do
            await _axe(portrait, "768x1024 committee certifies")
            await _shot(portrait, "tablet-768x1024-committee")
            await task.click()
            await portrait.wait_for_selector('.ballot.counted[data-round="bq-kin"] .banner.ok')
            for member in committee:
                await member.send(votes.CertifyRound(round_id="bq-kin"))
            await _until(lambda: chair.state.votes.rounds["bq-kin"].status == "closed", "the secret round to close")
            for t in tablets:
                await t.wait_for_selector("#results-body:has-text('Bỏ phiếu kín: phương án đầu tư')")
            assert sum(chair.state.votes.rounds["bq-kin"].tally.values()) == 3
            await _axe(big, "results")
            await _shot(big, "tablet-results-1280x800")

            # --- a forgotten passphrase: a new one replaces it; the server's old blob goes, this device's notes
            # go again under the new key — which the server cannot use, and the delegate (here: this test) can.
            await big.click(f'button[data-open="{DOC}"]')
            await big.click("#notes-lock")
            await _passphrase(big, "một cụm mới hoàn toàn")
            await big.click("#notes-replace")
            await big.click("dialog.confirm button.primary")
            await big.wait_for_selector("#notes-lock")
            async with httpx.AsyncClient(base_url=srv.http, headers={"authorization": f"Bearer {token}"}) as c:
                for _ in range(200):
                    blob = (await c.get(f"/api/sessions/{SESSION}/notes/{DOC}")).json()
                    if blob.get("revision"):
                        break
                    await asyncio.sleep(0.05)
                record = (await c.get("/api/notes/key")).json()["key"]
            account = json.loads(await big.evaluate("localStorage.getItem('kyhop.account')"))["id"]
            notes = _decrypt("một cụm mới hoàn toàn", record, blob, f"{account}|{SESSION}|{DOC}")
            live = [n for n in notes if not n.get("deleted")]
            assert len(live) == 3 and any(n["text"] == "Ghi thêm từ máy thứ hai" for n in live), notes
            assert any(n.get("deleted") and n["kind"] == "rect" for n in notes)  # the tombstone of the deletion

            # --- a note written without the network waits on the device and goes when the network is back
            await big.context.set_offline(True)
            await big.fill("#notes-text", "Ghi khi mất mạng")
            await big.click("#notes-add")
            await big.wait_for_selector("#notes-pending")
            await big.context.set_offline(False)
            await big.wait_for_selector("#notes-pending", state="detached", timeout=30_000)
            async with httpx.AsyncClient(base_url=srv.http, headers={"authorization": f"Bearer {token}"}) as c:
                after = (await c.get(f"/api/sessions/{SESSION}/notes/{DOC}")).json()
            assert after["revision"] > blob["revision"]
            notes = _decrypt("một cụm mới hoàn toàn", record, after, f"{account}|{SESSION}|{DOC}")
            assert any(n["text"] == "Ghi khi mất mạng" for n in notes)
            errors[:] = [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e]
        finally:
            await asyncio.gather(secretary.close(), chair.close(), *(m.close() for m in committee))
    assert errors == [], errors


async def test_a_respondent_signs_in_from_the_start_page_and_gets_their_turn(browser: Any) -> None:  # noqa: F811
    errors: list[str] = []
    respondent = script.RESPONDENTS[1]  # Giám đốc Sở Y tế
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, list(range(1, 35)))
        asker = await _client(srv, "daibieu05")
        try:
            ctx = await browser.new_context(locale="vi-VN", viewport=PHONE, has_touch=True)
            page = await ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{srv.http}/")
            await page.click(".role[data-role=respondent]")
            assert await page.input_value("#username") == respondent.id.replace("-", ".")
            await page.fill("#password", DEMO_PASSWORD)
            await page.click("#signin-form button[type=submit]")
            await page.click(f'#sessions button[data-session="{SESSION}"]')
            await page.wait_for_selector("#conn.live")
            assert await page.inner_text(".topbar .page") == "Người trả lời chất vấn"
            who = await page.inner_text("#respondent-who")
            assert respondent.name in who and respondent.position in who
            assert await page.is_hidden("#vote") and await page.is_hidden("#checkin")
            await page.wait_for_selector("#answer-none")
            await _axe(page, "respondent waiting")
            await _shot(page, "respondent-home-390x844")

            # A delegate asks; the chair calls the question, then gives this respondent the floor to answer.
            await chair.send(agenda.MoveToItem(item_id="chat-van"))
            await asker.send(
                questioning.RegisterQuestion(
                    question_id="cau-hoi-1",
                    delegate_id=script.delegate_id(5),
                    respondent_id=respondent.id,
                    topic="Y tế cơ sở",
                    text="Đề nghị Giám đốc Sở Y tế cho biết giải pháp bảo đảm thuốc tại trạm y tế xã.",
                )
            )
            await page.wait_for_selector("#question-list [data-question=cau-hoi-1]")
            await chair.send(questioning.CallQuestion(question_id="cau-hoi-1"))
            await page.wait_for_selector("#answer-next")
            await chair.send(questioning.EndTurn())
            await chair.send(questioning.CallAnswer(question_id="cau-hoi-1"))
            turn = await page.wait_for_selector("#answer-turn")
            assert "Chủ tọa mời bạn trả lời chất vấn" in await turn.inner_text()
            await page.wait_for_function(
                "/\\d+:\\d\\d/.test(document.querySelector('#answer-turn .countdown').textContent)"
            )
            assert "Chủ tọa mời bạn trả lời chất vấn." in await page.inner_text("#alert")
            await _axe(page, "respondent answering")
            await _shot(page, "respondent-answer-turn-390x844")

            # A counting-committee member who is not a delegate (an account with the committee role alone) enters
            # through the delegates' button, is not refused, and certifies the count in their own card.
            member = script.delegate_id(36)
            async with httpx.AsyncClient(base_url=srv.http) as c:
                r = await c.post("/api/auth/login", json={"username": "quantri", "password": DEMO_PASSWORD})
                admin = {"authorization": f"Bearer {r.json()['token']}"}
                r = await c.post(
                    f"/api/councils/{script.COUNCIL_ID}/accounts",
                    headers=admin,
                    json={
                        "username": "kiemphieu36",
                        "password": DEMO_PASSWORD,
                        "display_name": "Thành viên Ban kiểm phiếu",
                        "roles": ["committee"],
                        "person_id": member,
                    },
                )
                assert r.status_code == 201, r.text
            ctx2 = await browser.new_context(locale="vi-VN", viewport=TABLET)
            desk = await ctx2.new_page()
            desk.on("pageerror", lambda e: errors.append(str(e)))
            await desk.goto(f"{srv.http}/")
            await desk.click(".role[data-role=delegate]")
            await desk.fill("#username", "kiemphieu36")
            await desk.fill("#password", DEMO_PASSWORD)
            await desk.click("#signin-form button[type=submit]")
            await desk.click(f'#sessions button[data-session="{SESSION}"]')
            await desk.wait_for_selector("#conn.live")
            assert await desk.inner_text(".topbar .page") == "Ban kiểm phiếu"
            await desk.wait_for_selector("#committee-none")
            await chair.send(agenda.MoveToItem(item_id="nq-ngan-sach"))
            motion = "Bỏ phiếu kín: phương án đầu tư"
            await chair.send(
                votes.OpenVote(
                    round_id="bq-kin",
                    item_id="nq-ngan-sach",
                    motion=motion,
                    secret=True,
                    committee=COMMITTEE,
                    mode=BallotMode.SEALED,  # the committee page's sealed certification
                )
            )
            await asker.send(votes.CastBallot(round_id="bq-kin", delegate_id=script.delegate_id(5), option="yes"))
            await chair.send(votes.CloseRound(round_id="bq-kin", confirm_few_ballots=True))
            task = desk.locator('.committee-task[data-round="bq-kin"] button')
            await task.wait_for()
            await desk.wait_for_selector("#alert:has-text('Ban kiểm phiếu: có kết quả kiểm phiếu chờ bạn xác nhận.')")
            await _axe(desk, "committee member's task")
            await _shot(desk, "committee-task-1280x800")
            await task.click()
            await desk.wait_for_selector('.committee-task[data-round="bq-kin"] .banner.ok')
            await desk.wait_for_selector("#alert.hidden", state="attached")
            await _until(lambda: member in chair.state.votes.rounds["bq-kin"].certified_by, "the certification")
        finally:
            await asyncio.gather(secretary.close(), chair.close(), asker.close())
    assert errors == [], errors
