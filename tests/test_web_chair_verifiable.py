"""The chair's console runs a verifiable secret ballot (issue 13 §1–2), in Debian's chromium through Playwright,
against a real server: the council counts secret ballots verifiably and lets a committee of 3 count (a commune's
minimum); the form refuses, in Vietnamese, to open a verifiable vote before a key ceremony is complete; the chair
picks 4 members by name (too few and a threshold above 4 are refused in the dialog, nothing sent) with the
default threshold 3 of 4; the members' devices (the Python SDK over real sockets) run the ceremony and the console
follows each member's steps, names who it waits for, and shows the fingerprint equal to the server's and to every
member's device; the chair opens the vote from the form (mode and ceremony sent); 7 delegates cast encrypted
ballots; the console counts them, closes, shows "2/3 cần thiết" with the names of those who decrypted, then the
result equal to the choices, announces it, and its "Kiểm chứng" link opens the public verifier, which checks the
board. Screenshots of the ceremony and the counting at 1280×800, 1920×1080 and 390×844."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx

from clients.ballots import CommitteeMember, encrypt_vote
from clients.sdk import SessionClient
from meeting import agenda, script
from meeting import session as sess
from meeting.agenda import ItemKind
from meeting.rules import BallotMode
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess
from tests.test_web_chair import WIDE, _chair, _confirm, _one_screen, _rounds
from tests.test_web_public import _page
from tests.test_web_tablet import PHONE, TABLET, _axe, _client, _shot, _until, browser

__all__ = ["browser"]  # the Playwright fixture, shared with the tablet's tests

SESSION = "ky-hop-kiem-chung"
ITEM = "nq-kiem-chung"
MEMBERS = [script.delegate_id(i) for i in (30, 31, 32, 33)]
VOTERS = list(range(2, 9))  # db002..db008
OPTIONS = ("yes", "no", "abstain")


def _user(delegate: str) -> str:
    return f"daibieu{int(delegate[2:]):02d}"


async def _prepare(srv: ServerProcess) -> None:
    """The council counts secret ballots verifiably and lets 3 members count; a session prepared after that keeps
    these rules (a session takes the council's rules when it is prepared)."""
    async with httpx.AsyncClient(base_url=srv.http, timeout=60) as c:
        login = await c.post("/api/auth/login", json={"username": "vanphong", "password": DEMO_PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        council = (await c.get(f"/api/councils/{script.COUNCIL_ID}", headers=auth)).json()
        rules = {**council["rules"], "committee_min": 3, "secret_mode": "verifiable"}
        change = {"id": uuid.uuid4().hex, "command": {"type": "change_rules", "rules": rules}}
        r = await c.post(f"/api/councils/{script.COUNCIL_ID}/commands", headers=auth, json=change)
        assert r.status_code == 201, r.text
        new = {"session_id": SESSION, "title": "Kỳ họp thử bỏ phiếu kín kiểm chứng", "opens_on": "2026-12-10"}
        r = await c.post(f"/api/councils/{script.COUNCIL_ID}/sessions", headers=auth, json=new)
        assert r.status_code == 201, r.text


async def _shots(page: Any, name: str, part: str = "#ceremony-panel") -> None:
    """The same state at the three sizes, `part` in view; 1280×800 and 1920×1080 keep the one-screen promise."""
    for size, label in ((TABLET, "1280x800"), (WIDE, "1920x1080"), (PHONE, "390x844")):
        await page.set_viewport_size(size)
        if size is not PHONE:
            await _one_screen(page, f"{name} {label}")
        await page.locator(part).scroll_into_view_if_needed()
        await _shot(page, f"{name}-{label}")
    await page.set_viewport_size(TABLET)


async def test_the_chair_runs_a_verifiable_secret_ballot(browser: Any) -> None:
    errors: list[str] = []
    clients: list[SessionClient] = []
    with ServerProcess() as srv:
        await _prepare(srv)
        try:
            secretary = await _client(srv, "vanphong", SESSION)
            chair = await _client(srv, "chutoa", SESSION)
            members = {m: await _client(srv, _user(m), SESSION) for m in MEMBERS}
            voters = {i: await _client(srv, f"daibieu{i:02d}", SESSION) for i in VOTERS}
            clients += [secretary, chair, *members.values(), *voters.values()]
            await secretary.send(agenda.AddItem(item_id=ITEM, title="Nghị quyết thử nghiệm", kind=ItemKind.RESOLUTION))
            await secretary.send(sess.OpenCheckIn())
            for i in range(1, 35):  # 34 of 50: the quorum
                await secretary.send(sess.CheckIn(delegate_id=script.delegate_id(i)))
            await chair.send(sess.OpenSession())
            await chair.send(agenda.MoveToItem(item_id=ITEM))
            page = await _chair(browser, srv, TABLET, errors, SESSION)
            await page.wait_for_function("document.querySelector('#st-item').innerText.includes('thử nghiệm')")

            # --- no completed ceremony: the form says so, links to the ceremony panel, and sends nothing
            await page.check("#vote-secret")
            assert "Phiếu kín kiểm chứng — máy tính bảng mã hóa, Ban kiểm phiếu giải mã" in await page.inner_text(
                "#vote-mode"
            )
            await page.locator("#vote-no-ceremony").wait_for()
            assert await page.locator("#committee-box").is_hidden()  # the ceremony's members are the committee
            await page.click("#vote-open")
            assert "Chưa có khóa Ban kiểm phiếu" in await page.inner_text("#vote-ceremony-error")
            assert await page.locator("dialog[open]").count() == 0 and await _rounds(page) == 0
            await page.click("#vote-no-ceremony button")
            assert await page.evaluate("document.activeElement.id") == "ceremony-new"
            assert "tối thiểu 3 thành viên" in await page.inner_text("#ceremony-panel")

            # --- the ceremony dialog: too few members and a threshold above n are refused inside it
            await page.click("#ceremony-new")
            dlg = page.locator("dialog.ceremony-dialog")
            await dlg.wait_for()
            for m in MEMBERS[:2]:
                await dlg.locator(f'label[data-delegate="{m}"]').click()
            await dlg.locator("#ceremony-start").click()
            assert "cần ít nhất 3 thành viên, mới chọn 2" in await dlg.locator("#ceremony-error").inner_text()
            for m in MEMBERS[2:]:
                await dlg.locator(f'label[data-delegate="{m}"]').click()
            assert await dlg.locator("#ceremony-threshold").input_value() == "3"  # a majority of 4
            await dlg.locator("#ceremony-threshold").fill("5")
            await dlg.locator("#ceremony-start").click()
            assert "từ 1 đến 4" in await dlg.locator("#ceremony-error").inner_text()
            assert await page.evaluate("Object.keys(window.kyhop.state.ceremonies.by_id).length") == 0
            await dlg.locator("#ceremony-threshold").fill("3")
            await _axe(page, "the ceremony dialog")
            await _shot(page, "chair-ceremony-dialog-1280x800")
            await dlg.locator("#ceremony-start").click()
            await dlg.wait_for(state="detached")
            card = page.locator(".ceremony-card")
            await card.wait_for()
            cid = await card.get_attribute("data-ceremony")
            assert cid

            # --- the members' devices run it; the console follows every step
            await _until(lambda: all(c.state and cid in c.state.ceremonies.by_id for c in members.values()), "ceremony")
            devices = {m: CommitteeMember(members[m].state, cid, m) for m in MEMBERS}  # type: ignore[arg-type]

            async def step(name: str, who: list[str]) -> None:
                sent = []
                for m in who:
                    dev, state = devices[m], members[m].state
                    assert state is not None
                    if name == "publish":
                        cmd = dev.publish()
                    else:
                        cmd = dev.deal(state) if name == "deal" else dev.complain(state)
                    sent.append((await members[m].send(cmd)).seqs[-1])
                await asyncio.gather(*(c.wait_seq(max(sent), 30) for c in members.values()))

            await step("publish", MEMBERS[:3])
            await page.wait_for_selector('.ceremony-steps td[data-step="publish"][data-done="true"] >> nth=2')
            waiting = await page.inner_text(".ceremony-waiting")
            assert "Đang chờ (1)" in waiting and script.delegate_name(33) in waiting, waiting
            assert "bước công bố" in await card.inner_text()
            await _axe(page, "a ceremony under way")
            await _shots(page, "chair-ceremony-progress")
            await step("publish", MEMBERS[3:])
            await step("deal", MEMBERS)
            await page.wait_for_selector('.ceremony-steps td[data-step="deal"][data-done="true"] >> nth=3')
            await step("complain", MEMBERS)
            fp_el = page.locator("#ceremony-fingerprint")
            await fp_el.wait_for()
            await _until(lambda: chair.state is not None and chair.state.ceremonies.by_id[cid].keys is not None, "keys")
            assert chair.state is not None
            keys = chair.state.ceremonies.by_id[cid].keys
            assert keys is not None and keys.threshold == 3
            assert await fp_el.get_attribute("data-fingerprint") == keys.fingerprint
            shown = await fp_el.inner_text()
            assert shown.split() == [keys.fingerprint[i : i + 4] for i in range(0, 32, 4)], shown
            assert {dev.finish(members[m].state) for m, dev in devices.items()} == {keys.fingerprint}  # type: ignore[arg-type]
            assert "để các thành viên so và ghi biên bản" in await page.inner_text("#ceremony-panel")
            await _axe(page, "a ceremony complete")
            await _shots(page, "chair-ceremony-done")

            # --- the vote opens from the form with the completed ceremony
            await page.locator(f'#vote-ceremony option[value="{cid}"]').wait_for(state="attached")
            assert await page.is_checked("#vote-secret")  # the form kept what the chair had ticked
            assert await page.locator("#committee-box").is_hidden()
            await page.click("#vote-open")
            summary = await _confirm(page)
            assert "Phiếu kín kiểm chứng" in summary and "Giải mã khi đủ 3/4" in summary, summary
            assert script.delegate_name(33) in summary
            open_card = page.locator(".open-round")
            await open_card.wait_for()
            rid = await open_card.get_attribute("data-round")
            assert rid
            await _until(lambda: chair.state is not None and rid in chair.state.votes.rounds, "the round")
            rnd = chair.state.votes.rounds[rid]
            assert rnd.mode is BallotMode.VERIFIABLE and rnd.ceremony_id == cid and sorted(rnd.committee) == MEMBERS

            # --- 7 delegates cast encrypted ballots from their devices
            await _until(lambda: all(c.state and rid in c.state.votes.rounds for c in voters.values()), "the round")
            choices = {i: OPTIONS[i % 3] for i in VOTERS}
            for i, c in voters.items():
                await c.send(encrypt_vote(c.state, rid, script.delegate_id(i), choices[i]))  # type: ignore[arg-type]
            await page.wait_for_function("document.querySelector('.open-round .ballots-cast').innerText === '7'")
            assert "phiếu đã bỏ (đã mã hóa)" in await open_card.inner_text()

            # --- closed: the console waits for the committee, names who decrypted, k of t
            await page.click(f'button[data-close="{rid}"]')
            await _confirm(page)
            counting = page.locator(f'.counted-round[data-round="{rid}"]')
            await counting.wait_for()
            # The public page and the broadcast overlay say what is being waited for.
            public = await _page(browser, srv, f"/public.html?session={SESSION}", PHONE, errors)
            overlay = await _page(browser, srv, f"/overlay.html?session={SESSION}&ket-qua=120", WIDE, errors)
            await public.wait_for_selector(f'#voting-body .vote-progress[data-round="{rid}"]')
            assert "Đang chờ Ban kiểm phiếu giải mã" in await public.inner_text("#voting-body")
            await overlay.wait_for_selector("#lower >> text=Đang chờ Ban kiểm phiếu giải mã")
            assert "Chờ Ban kiểm phiếu giải mã: 0/3 cần thiết" in await counting.inner_text()
            assert "Chờ Ban kiểm phiếu giải mã" in (await page.text_content("#st-vote") or "")
            await _until(
                lambda: all(c.state and c.state.votes.rounds[rid].status == "counted" for c in members.values()),
                "the round closed for counting on the members' devices",
            )
            for m in MEMBERS[:2]:
                state = members[m].state
                assert state is not None
                await members[m].send(devices[m].decrypt(state, rid))
            await page.wait_for_selector(f'.counted-round[data-round="{rid}"] .partials-line[data-accepted="2"]')
            text = await counting.inner_text()
            assert "Chờ Ban kiểm phiếu giải mã: 2/3 cần thiết" in text, text
            assert script.delegate_name(30) in text and script.delegate_name(31) in text
            assert script.delegate_name(32) not in text
            await _axe(page, "a verifiable round being decrypted")
            await _shots(page, "chair-verifiable-counting", f'.counted-round[data-round="{rid}"]')
            state = members[MEMBERS[3]].state
            assert state is not None
            await members[MEMBERS[3]].send(devices[MEMBERS[3]].decrypt(state, rid))

            # --- the result, equal to the choices; announced; its "Kiểm chứng" link verifies the board
            result = page.locator(f'.result-card[data-round="{rid}"]')
            await result.wait_for()
            await _until(lambda: chair.state is not None and chair.state.votes.rounds[rid].result is not None, "result")
            res = chair.state.votes.rounds[rid].result
            assert res is not None
            assert {o.key: o.count for o in res.options} == {o: Counter(choices.values())[o] for o in OPTIONS}
            await page.locator(f'button[data-announce="{rid}"]').click()
            await _confirm(page)
            await page.wait_for_selector(f'.announced[data-announced="{rid}"]')
            # The public result links to the verifier; the overlay gives its address.
            public_link = public.locator(f'#results-body a[data-verify="{rid}"]')
            await public_link.wait_for()
            assert await public_link.inner_text() == "Kiểm chứng công khai"
            assert await public_link.get_attribute("href") == f"verify.html?session={SESSION}&round={rid}"
            card = overlay.locator(f'#result[data-round="{rid}"] .rc-verify')
            await card.wait_for()
            assert f"/verify.html?session={SESSION}&round={rid}" in await card.inner_text()
            await _shot(public, "public-verifiable-result-390x844")
            await _shot(overlay, "overlay-verifiable-result-1920x1080")
            link = result.locator(f'a.verify-link[data-verify="{rid}"]')
            assert await link.get_attribute("href") == f"verify.html?session={SESSION}&round={rid}"
            await _one_screen(page, "a verifiable result")
            await _shot(page, "chair-verifiable-result-1280x800")
            async with page.context.expect_page() as opened:
                await link.click()
            verify = await opened.value
            verify.on("pageerror", lambda e: errors.append(f"verify: {e}"))
            await verify.wait_for_selector("#verdict-ok", timeout=120_000)
            assert "Đã kiểm tra toàn bộ bảng công khai" in await verify.locator("#verdict").inner_text()
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    assert errors == []
