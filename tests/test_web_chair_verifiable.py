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
import msgspec

from ballotcrypto import dkg
from clients.ballots import CommitteeMember, encrypt_poll, encrypt_vote
from clients.sdk import SessionClient
from meeting import agenda, polls, script, verifiable
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
POLL = "tin-nhiem-kiem-chung"


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


async def _open_session(srv: ServerProcess, secretary: SessionClient, chair: SessionClient) -> None:
    """34 of 50 checked in (the quorum), the session open, the test's resolution under consideration."""
    await secretary.send(agenda.AddItem(item_id=ITEM, title="Nghị quyết thử nghiệm", kind=ItemKind.RESOLUTION))
    await secretary.send(sess.OpenCheckIn())
    for i in range(1, 35):
        await secretary.send(sess.CheckIn(delegate_id=script.delegate_id(i)))
    await chair.send(sess.OpenSession())
    await chair.send(agenda.MoveToItem(item_id=ITEM))


def _message(dev: CommitteeMember, name: str, state: Any) -> Any:
    return dev.publish() if name == "publish" else dev.deal(state) if name == "deal" else dev.complain(state)


async def _step(name: str, devices: dict[str, CommitteeMember], members: dict[str, SessionClient]) -> None:
    """One ceremony step from each of `devices`, computed from the state its own socket keeps; then every member's
    device has seen them all (the next step needs them)."""
    sent = []
    for m, dev in devices.items():
        state = members[m].state
        assert state is not None
        sent.append((await members[m].send(_message(dev, name, state))).seqs[-1])
    await asyncio.gather(*(c.wait_seq(max(sent), 30) for c in members.values()))


def _cheating_deal(dev: CommitteeMember, state: Any, victim: int) -> verifiable.CeremonyStep:
    """`dev`'s share bundle with a wrong share sealed to member `victim` (the share + 1), as
    tests/test_ballotcrypto_ceremony.py makes one: only the victim can tell, and complains; the dealer is
    disqualified. Reaches into the device's dealer (test only)."""
    step = dev.deal(state)
    dealer = dev._member
    wrong = msgspec.to_builtins(dealer.seal_share(victim, dkg._evaluate(dealer._coeffs, victim) + 1))
    shares = [wrong if s["recipient"] == victim else s for s in step.message["shares"]]
    return msgspec.structs.replace(step, message={**step.message, "shares": shares})


async def _start_from_dialog(page: Any) -> str:
    """Press the dialog's start button; the id of the ceremony the panel then shows."""
    dlg = page.locator("dialog.ceremony-dialog")
    before = await page.evaluate("Object.keys(window.kyhop.state.ceremonies.by_id)")
    await dlg.locator("#ceremony-start").click()
    await dlg.wait_for(state="detached")
    await page.wait_for_function(
        f"Object.keys(window.kyhop.state.ceremonies.by_id).length === {len(before) + 1}"
        " && document.querySelector('.ceremony-card')"
    )
    (cid,) = set(await page.evaluate("Object.keys(window.kyhop.state.ceremonies.by_id)")) - set(before)
    await page.locator(f'.ceremony-card[data-ceremony="{cid}"]').wait_for()
    return str(cid)


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
            await _open_session(srv, secretary, chair)
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
            cid = await _start_from_dialog(page)
            card = page.locator(".ceremony-card")

            # --- the members' devices run it; the console follows every step
            await _until(lambda: all(c.state and cid in c.state.ceremonies.by_id for c in members.values()), "ceremony")
            devices = {m: CommitteeMember(members[m].state, cid, m) for m in MEMBERS}  # type: ignore[arg-type]

            await _step("publish", {m: devices[m] for m in MEMBERS[:3]}, members)
            await page.wait_for_selector('.ceremony-steps td[data-step="publish"][data-done="true"] >> nth=2')
            waiting = await page.inner_text(".ceremony-waiting")
            assert "Đang chờ (1)" in waiting and script.delegate_name(33) in waiting, waiting
            assert "bước công bố" in await card.inner_text()
            await _axe(page, "a ceremony under way")
            await _shots(page, "chair-ceremony-progress")
            await _step("publish", {m: devices[m] for m in MEMBERS[3:]}, members)
            await _step("deal", devices, members)
            await page.wait_for_selector('.ceremony-steps td[data-step="deal"][data-done="true"] >> nth=3')
            await _step("complain", devices, members)
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
            await page.locator("#vote-ceremony").scroll_into_view_if_needed()
            await _axe(page, "a verifiable vote's form")
            await _shot(page, "chair-verifiable-form-1280x800")
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


async def test_a_stalled_ceremony_is_started_again_and_a_verifiable_poll_opens_from_the_console(browser: Any) -> None:
    """A member never publishes: "Tạo lại" starts a new ceremony, prefilled with the same members, where the chair
    swaps the member out. A confidence poll in this council opens on the completed ceremony (its members appointed as
    the poll's committee); one whose member is on the ballot is not offered. The console counts the encrypted poll
    ballots, waits for the committee to decrypt (k/t, names), then shows the result and its "Kiểm chứng" link."""
    errors: list[str] = []
    clients: list[SessionClient] = []
    stuck, spare = MEMBERS[3], script.delegate_id(34)
    second = [*MEMBERS[:3], spare]
    with ServerProcess() as srv:
        await _prepare(srv)
        try:
            secretary = await _client(srv, "vanphong", SESSION)
            chair = await _client(srv, "chutoa", SESSION)
            members = {m: await _client(srv, _user(m), SESSION) for m in [*MEMBERS, spare]}
            voters = {i: await _client(srv, f"daibieu{i:02d}", SESSION) for i in VOTERS}
            clients += [secretary, chair, *members.values(), *voters.values()]
            await _open_session(srv, secretary, chair)
            page = await _chair(browser, srv, TABLET, errors, SESSION)

            # --- the first ceremony stalls: one member never publishes
            await page.click("#ceremony-new")
            for m in MEMBERS:
                await page.locator(f'dialog.ceremony-dialog label[data-delegate="{m}"]').click()
            first = await _start_from_dialog(page)
            await _until(lambda: all(c.state and first in c.state.ceremonies.by_id for c in members.values()), "one")
            devices = {m: CommitteeMember(members[m].state, first, m) for m in MEMBERS[:3]}  # type: ignore[arg-type]
            await _step("publish", devices, members)
            await page.wait_for_selector(f".ceremony-waiting >> text={script.delegate_name(33)}")

            # --- Tạo lại: the same members ticked, the threshold kept; the stuck member swapped out
            await page.click("#ceremony-again")
            dlg = page.locator("dialog.ceremony-dialog")
            await dlg.wait_for()
            ticked = await dlg.locator(".committee-list input:checked").evaluate_all("(els) => els.map((e) => e.value)")
            assert sorted(ticked) == MEMBERS
            assert await dlg.locator("#ceremony-threshold").input_value() == "3"
            await dlg.locator(f'label[data-delegate="{stuck}"]').click()
            await dlg.locator(f'label[data-delegate="{spare}"]').click()
            again = await _start_from_dialog(page)
            assert again != first
            card = page.locator(f'.ceremony-card[data-ceremony="{again}"]')
            assert "bước công bố" in await card.inner_text()
            await _until(lambda: all(c.state and again in c.state.ceremonies.by_id for c in members.values()), "two")
            devices = {m: CommitteeMember(members[m].state, again, m) for m in second}  # type: ignore[arg-type]
            await _step("publish", devices, members)
            # Member 2 (db031) seals a wrong share to member 4: member 4 complains, member 2 is disqualified; the
            # 3 others still reach the threshold of 3.
            cheat = second[1]
            cheat_state = members[cheat].state
            assert cheat_state is not None
            sent = await members[cheat].send(_cheating_deal(devices[cheat], cheat_state, 4))
            await asyncio.gather(*(c.wait_seq(sent.seqs[-1], 30) for c in members.values()))
            await _step("deal", {m: d for m, d in devices.items() if m != cheat}, members)
            await _step("complain", devices, members)
            await page.locator("#ceremony-fingerprint").wait_for()
            disqualified = await page.inner_text("#ceremony-disqualified")
            assert "Bị loại" in disqualified and script.delegate_name(31) in disqualified, disqualified
            said = await page.inner_text(".ceremony-complaints")
            assert f"khiếu nại phần khóa của {script.delegate_name(31)}" in said, said
            await page.locator(".ceremony-details summary").click()
            assert "bị loại" in await page.inner_text(f'.ceremony-steps tr[data-member="{cheat}"]')
            await _axe(page, "a ceremony with a disqualified member")
            await _shot(page, "chair-ceremony-disqualified-1280x800")
            shown = await page.get_attribute("#ceremony-fingerprint", "data-fingerprint")
            honest = {m: d for m, d in devices.items() if m != cheat}  # a disqualified member holds no share
            assert {d.finish(members[m].state) for m, d in honest.items()} == {shown}  # type: ignore[arg-type]

            # --- a poll of two officials: a delegate on the ballot cannot count it
            officials = [
                polls.Official(id="pct", name="Phó Chủ tịch HĐND", position="Phó Chủ tịch", delegate_id=stuck),
                polls.Official(id=script.RESPONDENTS[0].id, name=script.RESPONDENTS[0].name, position="Giám đốc"),
            ]
            kind = polls.PollKind.RATING
            await secretary.send(polls.CreatePoll(poll_id=POLL, item_id="tin-nhiem", kind=kind, officials=officials))
            card = page.locator(f'#polls-body [data-poll="{POLL}"]')
            await card.locator(f'#poll-ceremony-{POLL} option[value="{again}"]').wait_for(state="attached")
            assert await card.locator(f"#poll-ceremony-{POLL} option").count() == 1  # the stalled one is not complete
            assert "Phiếu kín kiểm chứng" in await card.inner_text()
            await _axe(page, "a verifiable poll ready to open")
            await card.locator(f'button[data-open-poll="{POLL}"]').click()
            await card.locator("text=Kết thúc bỏ phiếu").wait_for()
            await _until(lambda: chair.state is not None and POLL in chair.state.polls.polls, "the poll")
            await _until(lambda: chair.state.polls.polls[POLL].status.value == "open", "the poll open")  # type: ignore[union-attr]
            poll = chair.state.polls.polls[POLL]  # type: ignore[union-attr]
            assert (
                poll.mode is BallotMode.VERIFIABLE
                and poll.ceremony_id == again
                and sorted(poll.committee) == sorted(second)
            )

            # --- delegates cast encrypted poll ballots; the chair closes; the committee decrypts
            await _until(lambda: all(c.state and POLL in c.state.polls.polls for c in voters.values()), "poll seen")
            for i, c in voters.items():
                marks = {"pct": "trust" if i % 2 else "low", officials[1].id: "high"}
                await c.send(encrypt_poll(c.state, POLL, script.delegate_id(i), marks))  # type: ignore[arg-type]
            await page.wait_for_selector(f'#polls-body [data-poll="{POLL}"] >> text=7 phiếu đã bỏ')
            await card.locator("text=Kết thúc bỏ phiếu").click()
            await card.locator(".partials-line").wait_for()
            assert "Chờ Ban kiểm phiếu giải mã: 0/3 cần thiết" in await card.inner_text()
            await _until(
                lambda: all(c.state and c.state.polls.polls[POLL].status.value == "counted" for c in members.values()),
                "the poll closed for counting on the members' devices",
            )
            for m in (second[0], second[2]):  # the disqualified member holds no share
                state = members[m].state
                assert state is not None
                await members[m].send(devices[m].decrypt_poll(state, POLL))
            await card.locator('.partials-line[data-accepted="2"]').wait_for()
            text = await card.inner_text()
            assert "2/3 cần thiết" in text and script.delegate_name(32) in text, text
            state = members[spare].state
            assert state is not None
            await members[spare].send(devices[spare].decrypt_poll(state, POLL))
            link = card.locator(f'a.verify-link[data-verify="{POLL}"]')
            await link.wait_for()
            assert await link.get_attribute("href") == f"verify.html?session={SESSION}&poll={POLL}"
            result = chair.state.polls.polls[POLL].result  # type: ignore[union-attr]
            assert result is not None
            await _shot(page, "chair-verifiable-poll-1280x800")
            public = await _page(browser, srv, f"/public.html?session={SESSION}", PHONE, errors)
            public_link = public.locator(f'#polls-body a[data-verify="{POLL}"]')
            await public_link.wait_for()
            assert await public_link.get_attribute("href") == f"verify.html?session={SESSION}&poll={POLL}"
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    assert errors == []
