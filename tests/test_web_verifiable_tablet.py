"""The delegate's tablet casts verifiable secret ballots (issue 13 §1 "Casting"; docs/BALLOT-CRYPTO.md §13.2), in
Debian's chromium through Playwright against a real server: the counting committee's key ceremony runs on the
Python SDK's `CommitteeMember` over real sockets, the tablets encrypt in the page (js/secretballot.js), other
delegates with `clients.ballots.encrypt_vote`; the members decrypt with the SDK. Every frame the pages put on their
sockets is read: no plain choice ever leaves a page, and each encrypted ballot verifies (Python ballotcrypto)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import msgspec
import pytest

from ballotcrypto import ballots as bb
from ballotcrypto import board as bboard
from ballotcrypto import records as rec
from clients.ballots import CommitteeMember, encrypt_poll, encrypt_vote, poll_context, round_context
from clients.sdk import SessionClient
from meeting import agenda, polls, script, verifiable, votes
from meeting.rules import BallotMode
from tests.e2e import ServerProcess
from tests.test_web_tablet import (
    PHONE,
    TABLET,
    _axe,
    _client,
    _in_session,
    _shot,
    _tablet,
    _until,
    browser,
)

__all__ = ["browser"]  # the fixture, imported for pytest
pytestmark = pytest.mark.asyncio
CEREMONY = "bkp-may-tinh-bang"
ROUND = "bq-kin-kiem-chung"
POLL = "ltn-kiem-chung"
MEMBERS = script.COMMITTEE  # db030…db036: 7 members (a province's minimum), 4 decrypt
# The quorum (34 of 50), the committee and the three tablets: 35 commands from the secretary stay under the
# server's burst of 40 a connection (server/config.py).
PRESENT = [*range(1, 23), *range(30, 42)]


def username(delegate: str) -> str:
    return f"daibieu{int(delegate[2:]):02d}"


class Wire:
    """Every command frame the pages send (a WebSocket route between each page and the server); `hold` keeps
    back (never forwards) the encrypted ballots of the delegates named in it, as a socket that dies with them."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []  # {"id", "command"}
        self.hold: set[str] = set()

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            msg = json.loads(message)
            if msg.get("type") == "command":
                self.commands.append({"id": msg["id"], "command": msg["command"]})
                cmd = msg["command"]
                if cmd["type"] == "vote_cast_encrypted" and cmd["delegate_id"] in self.hold:
                    return
            server.send(message)

        ws.on_message(from_page)
        server.on_message(ws.send)

    def ballots(self, type_: str) -> list[dict[str, Any]]:
        return [c for c in self.commands if c["command"]["type"] == type_]


async def _ceremony(srv: ServerProcess, chair: SessionClient) -> tuple[dict[str, SessionClient], dict[str, Any]]:
    """The committee's key ceremony, each member's device from the state its own socket keeps."""
    members = {m: await _client(srv, username(m)) for m in MEMBERS}
    started = await chair.send(verifiable.StartCeremony(ceremony_id=CEREMONY, members=MEMBERS))
    await asyncio.gather(*(c.wait_seq(started.seqs[-1]) for c in members.values()))
    devices = {m: CommitteeMember(c.state, CEREMONY, m) for m, c in members.items()}  # type: ignore[arg-type]
    for step in ("publish", "deal", "complain"):
        sent = []
        for m, dev in devices.items():
            state = members[m].state
            assert state is not None
            cmd = dev.publish() if step == "publish" else dev.deal(state) if step == "deal" else dev.complain(state)
            sent.append(members[m].send(cmd))
        last = max(r.seqs[-1] for r in await asyncio.gather(*sent))
        await asyncio.gather(*(c.wait_seq(last) for c in members.values()))
    assert len({dev.finish(members[m].state) for m, dev in devices.items()}) == 1  # type: ignore[arg-type]
    return members, devices


def _verifies(ctx: bb.RoundContext, ballot: dict[str, Any]) -> str:
    """The ballot's proofs verify in Python; its tracker."""
    b = msgspec.convert(ballot, rec.Ballot)
    bb.verify_ballot(ctx, b)
    return b.tracker


async def _cast(page: Any, option: str, *, check: bool = False) -> None:
    await page.click(f'.ballot[data-round="{ROUND}"] button[data-option="{option}"]')
    await page.wait_for_selector("dialog.secret-choice")
    if check:
        await page.click("dialog.secret-choice button.secret-check")
        await page.wait_for_selector("dialog.secret-check-result .check-ok")
        await page.click("dialog.secret-check-result button.primary")
    else:
        await page.click("dialog.secret-choice button.primary")


async def test_tablets_encrypt_show_their_tracker_and_find_it_on_the_board(browser: Any) -> None:
    errors: list[str] = []
    wire = Wire()
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, PRESENT)
        members: dict[str, SessionClient] = {}
        try:
            members, devices = await _ceremony(srv, chair)
            motion = "Thông qua Nghị quyết về dự toán ngân sách địa phương năm 2027 (bỏ phiếu kín có thể kiểm chứng)"
            await chair.send(
                votes.OpenVote(
                    round_id=ROUND,
                    item_id="nq-ngan-sach",
                    motion=motion,
                    secret=True,
                    mode=BallotMode.VERIFIABLE,  # explicit: the council's default may be either
                    ceremony_id=CEREMONY,
                )
            )
            checker = await _tablet(browser, srv, "daibieu41", TABLET, errors, ws_route=wire.route)
            phone = await _tablet(browser, srv, "daibieu40", PHONE, errors, ws_route=wire.route)
            reloader = await _tablet(browser, srv, "daibieu39", TABLET, errors, ws_route=wire.route)
            choices = {"db041": "yes", "db040": "no", "db039": "abstain"}
            for page in (checker, phone, reloader):
                await page.wait_for_selector(f'.ballot.verifiable[data-round="{ROUND}"] button[data-option="yes"]')

            # --- the Benaloh check first (1280×800 and 390×844): the choice dialog, then the opened test ballot
            for page, size in ((checker, "1280x800"), (phone, "390x844")):
                await page.click(f'.ballot[data-round="{ROUND}"] button[data-option="yes"]')
                await page.wait_for_selector("dialog.secret-choice")
                await _axe(page, f"verifiable choice {size}")
                await _shot(page, f"tablet-verifiable-choice-{size}")
                await page.click("dialog.secret-choice button.secret-check")
                ok = await page.wait_for_selector("dialog.secret-check-result .check-ok")
                assert "Phiếu thử được mã hóa đúng lựa chọn: Tán thành" in await ok.inner_text()
                await _shot(page, f"tablet-verifiable-check-{size}")
            test_tracker = await checker.evaluate("window.kyhopSecret.lastCheck.tracker")
            await phone.click("dialog.secret-check-result button:not(.primary)")  # back, no ballot
            await phone.wait_for_selector("dialog.secret-check-result", state="detached")
            # The checker casts from the check dialog: a fresh encryption, not the test ballot.
            await checker.click("dialog.secret-check-result button.primary")
            # "Đang mã hóa phiếu…" is on screen while the ballot is encrypted (however briefly).
            await phone.evaluate(
                """() => { window.sawEncrypting = false;
                new MutationObserver(() => {
                  if (document.querySelector(".ballot .encrypting")) window.sawEncrypting = true;
                }).observe(document.body, { subtree: true, childList: true }); }"""
            )
            await _cast(phone, "no")
            # The third one's ballot is held on the wire (a socket that dies with it); the page reloads.
            wire.hold.add("db039")
            await _cast(reloader, "abstain")
            await reloader.wait_for_selector(f'.ballot.sending[data-round="{ROUND}"] .tracker-receipt')
            held = await reloader.get_attribute(".tracker-receipt", "data-tracker")
            await _until(lambda: len(wire.ballots("vote_cast_encrypted")) == 3, "the three pages' ballots")

            # --- receipts: the short tracker, the same as the ballot's on the wire
            trackers: dict[str, str] = {}
            for page, who in ((checker, "db041"), (phone, "db040")):
                done = await page.wait_for_selector(f'.ballot.done[data-round="{ROUND}"] .tracker-receipt')
                trackers[who] = str(await done.get_attribute("data-tracker"))
                text = await done.inner_text()
                short = bb.short_tracker(trackers[who])
                assert (
                    f"Mã phiếu của bạn: {short}" in text and len(short) == 19 and "không cho biết bạn chọn gì" in text
                )
            assert await phone.evaluate("window.sawEncrypting")
            await _axe(checker, "verifiable receipt")
            await phone.locator(f'.ballot.done[data-round="{ROUND}"]').scroll_into_view_if_needed()
            for page in (checker, phone):  # "Phiếu đã được ghi nhận." (4 s) would cover the receipt
                await page.wait_for_selector("#toasts .toast", state="detached")
            await _shot(checker, "tablet-verifiable-receipt-1280x800")
            await _shot(phone, "tablet-verifiable-receipt-390x844")
            # The check's test ballot was thrown away: the ballot cast is a fresh one, and no page sent the test one.
            assert bb.short_tracker(trackers["db041"]) != test_tracker
            sent = [bb.short_tracker(c["command"]["ballot"]["tracker"]) for c in wire.ballots("vote_cast_encrypted")]
            assert test_tracker not in sent

            # --- the reload: the kept ballot goes again under its command id, the same ballot (same tracker)
            await reloader.wait_for_function("window.kyhopOffline.storedPending().then((p) => p.length === 1)")
            pending = await reloader.evaluate("window.kyhop.pendingCommands().map((c) => c.id)")
            wire.hold.clear()
            await reloader.reload()
            await reloader.wait_for_selector("#conn.live")
            done = await reloader.wait_for_selector(f'.ballot.done[data-round="{ROUND}"] .tracker-receipt')
            assert await done.get_attribute("data-tracker") == held
            trackers["db039"] = str(held)
            sent39 = [c for c in wire.ballots("vote_cast_encrypted") if c["command"]["delegate_id"] == "db039"]
            assert [c["id"] for c in sent39] == pending * 2, sent39  # sent twice, one command id
            assert sent39[0]["command"] == sent39[1]["command"]  # never encrypted again
            # And once more after it was counted: the tracker is kept; nothing is sent again.
            await reloader.reload()
            done = await reloader.wait_for_selector(f'.ballot.done[data-round="{ROUND}"] .tracker-receipt')
            assert await done.get_attribute("data-tracker") == held
            kept = await reloader.evaluate(f"window.kyhopSecret.trackers('round', '{ROUND}')")
            assert kept == [held]
            assert len(wire.ballots("vote_cast_encrypted")) == 4

            # --- the other delegates cast with the SDK
            for m in MEMBERS:
                choices[m] = ["yes", "no", "yes", "abstain", "yes", "yes", "no"][MEMBERS.index(m)]
                state = members[m].state
                assert state is not None
                await members[m].send(encrypt_vote(state, ROUND, m, choices[m]))
            await _until(lambda: len(chair.state.votes.rounds[ROUND].voted) == 10, "ten ballots")  # type: ignore[union-attr]
            assert chair.state is not None
            rnd = chair.state.votes.rounds[ROUND]
            assert len(rnd.ballots) == 10  # the reload cast nothing twice

            # --- what the pages sent: encrypted ballots only, each verifying, no plain choice
            ctx = round_context(chair.state, ROUND)
            frames = json.dumps(wire.commands)
            assert not wire.ballots("vote_cast_ballot") and '"option"' not in frames
            for c in wire.ballots("vote_cast_encrypted"):
                assert set(c["command"]) == {"type", "round_id", "delegate_id", "ballot"}
                assert _verifies(ctx, c["command"]["ballot"]) == trackers[c["command"]["delegate_id"]]

            # --- closed: the tablets wait for the committee's decryption
            await chair.send(votes.CloseRound(round_id=ROUND))
            for page in (checker, phone):
                wait = await page.wait_for_selector(f'.ballot.counting[data-round="{ROUND}"] .waiting-decryption')
                assert "Đang chờ Ban kiểm phiếu giải mã" in await wait.inner_text()
            for m in MEMBERS[:4]:
                await _until(lambda: members[m].state.votes.rounds[ROUND].status == "counted", "counting")  # type: ignore[union-attr]  # noqa: B023
                await members[m].send(devices[m].decrypt(members[m].state, ROUND))  # type: ignore[arg-type]
            await _until(lambda: chair.state.votes.rounds[ROUND].result is not None, "the result")  # type: ignore[union-attr]
            result = chair.state.votes.rounds[ROUND].result
            assert result is not None
            counted = Counter(choices.values())
            assert {o.key: o.count for o in result.options} == {o.key: counted[o.key] for o in result.options}

            # --- each page finds its tracker on the public board; the board verifies
            for page, size in ((checker, "1280x800"), (phone, "390x844"), (reloader, "1280x800")):
                found = await page.wait_for_selector(f'.board-check[data-round="{ROUND}"][data-board="found"]')
                text = await found.inner_text()
                assert "Phiếu của bạn có trên bảng công khai và đã được đếm ✓" in text
                link = await found.query_selector("a.verify-link")
                assert link is not None
                href = await link.get_attribute("href")
                assert href == f"verify.html?session={script.SESSION_ID}&round={ROUND}", href
                if page is not reloader:
                    await found.scroll_into_view_if_needed()
                    await _axe(page, f"board check {size}")
                    await _shot(page, f"tablet-verifiable-board-{size}")
            async with httpx.AsyncClient(base_url=srv.http) as h:
                data = (await h.get(f"/api/sessions/{script.SESSION_ID}/rounds/{ROUND}/board")).content
            report = bboard.verify_board(data)
            assert report.ok and report.board is not None, report.failure
            assert {b.tracker for b in report.board.ballots} >= set(trackers.values())
            assert report.board.spoiled == []  # the Benaloh test ballots stayed on the tablets
        finally:
            await asyncio.gather(secretary.close(), chair.close(), *(c.close() for c in members.values()))
    assert errors == [], errors


async def test_a_verifiable_confidence_poll_is_cast_from_a_tablet(browser: Any) -> None:
    errors: list[str] = []
    wire = Wire()
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, PRESENT)
        members: dict[str, SessionClient] = {}
        try:
            members, devices = await _ceremony(srv, chair)
            await chair.send(agenda.MoveToItem(item_id="tin-nhiem"))
            officials = [polls.Official(id=x.id, name=x.name, position=x.position) for x in script.RESPONDENTS[:3]]
            await secretary.send(
                polls.CreatePoll(poll_id=POLL, item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials)
            )
            await chair.send(polls.AppointCommittee(poll_id=POLL, members=MEMBERS))
            await chair.send(polls.OpenPoll(poll_id=POLL, mode=BallotMode.VERIFIABLE, ceremony_id=CEREMONY))
            page = await _tablet(browser, srv, "daibieu40", PHONE, errors, ws_route=wire.route)
            await page.wait_for_selector(f'.poll[data-poll="{POLL}"] .poll-ballot')
            first, second = officials[0].id, officials[1].id
            await page.locator(f'label.mark:has(input[name="m-{first}"][value="high"])').click()
            await page.locator(f'label.mark:has(input[name="m-{second}"][value="low"])').click()
            await page.click(f'.poll[data-poll="{POLL}"] .actions button.primary')
            await page.wait_for_selector("dialog.secret-choice")
            await page.click("dialog.secret-choice button.secret-check")
            ok = await page.wait_for_selector("dialog.secret-check-result .check-ok")
            text = await ok.inner_text()
            assert f"{officials[0].name}: Tín nhiệm cao" in text and f"{officials[1].name}: Tín nhiệm thấp" in text
            assert f"{officials[2].name}: không đánh dấu" in text
            await _shot(page, "tablet-verifiable-poll-check-390x844")
            await page.click("dialog.secret-check-result button.primary")
            done = await page.wait_for_selector(f'.poll[data-poll="{POLL}"] .tracker-receipt')
            await page.wait_for_selector(f'.poll[data-poll="{POLL}"] >> text=Đã ghi nhận phiếu tín nhiệm của bạn.')
            tracker = str(await done.get_attribute("data-tracker"))
            assert f"Mã phiếu của bạn: {bb.short_tracker(tracker)}" in await done.inner_text()

            marks = {"db040": {first: "high", second: "low"}}
            for m in MEMBERS:
                marks[m] = {o.id: "trust" for o in officials}
                state = members[m].state
                assert state is not None
                await members[m].send(encrypt_poll(state, POLL, m, marks[m]))
            assert chair.state is not None
            ctx = poll_context(chair.state, POLL)
            sent = wire.ballots("poll_cast_encrypted")
            assert (
                len(sent) == 1 and not wire.ballots("cast_poll_ballot") and '"marks"' not in json.dumps(wire.commands)
            )
            assert set(sent[0]["command"]) == {"type", "poll_id", "delegate_id", "ballot"}
            assert _verifies(ctx, sent[0]["command"]["ballot"]) == tracker

            await _until(lambda: len(chair.state.polls.polls[POLL].voted) == 8, "eight ballots")  # type: ignore[union-attr]
            await chair.send(polls.ClosePoll(poll_id=POLL))
            await page.wait_for_selector(f'.poll[data-poll="{POLL}"] .waiting-decryption')
            for m in MEMBERS[:4]:
                await _until(lambda: members[m].state.polls.polls[POLL].status == "counted", "counting")  # type: ignore[union-attr]  # noqa: B023
                await members[m].send(devices[m].decrypt_poll(members[m].state, POLL))  # type: ignore[arg-type]
            found = await page.wait_for_selector(f'.board-check[data-poll="{POLL}"][data-board="found"]')
            assert "đã được đếm ✓" in await found.inner_text()
            link = await found.query_selector("a.verify-link")
            assert link is not None
            assert await link.get_attribute("href") == f"verify.html?session={script.SESSION_ID}&poll={POLL}"

            # A device whose own record is not the server's receipt says so, and does not find its ballot: loud.
            fake = "ab" * 32
            await page.evaluate(
                """([key, poll, fake]) => localStorage.setItem(key, JSON.stringify({[`poll:${poll}`]: [fake]}))""",
                ["kyhop.trackers.daibieu40@" + script.SESSION_ID, POLL, fake],
            )
            await page.reload()
            warn = await page.wait_for_selector(f'.poll[data-poll="{POLL}"] .receipt-mismatch')
            assert "báo ngay Ban kiểm phiếu" in await warn.inner_text()
            # The short form once the crypto has loaded after the reload (the full tracker until then).
            short = bb.short_tracker(fake)
            missing = await page.wait_for_selector(
                f'.board-check[data-poll="{POLL}"][data-board="missing"]:has-text("{short}")'
            )
            text = await missing.inner_text()
            assert (
                "Không thấy phiếu của bạn — báo ngay Ban kiểm phiếu" in text and "tell the counting committee" in text
            )
            await page.locator(f'.poll[data-poll="{POLL}"] .receipt-mismatch').evaluate(
                "(el) => el.scrollIntoView({ block: 'start' })"
            )
            await _shot(page, "tablet-verifiable-missing-390x844")

            result = chair.state.polls.polls[POLL].result
            assert result is not None
            by_id = {o.official_id: o.counts for o in result.officials}
            assert by_id[first]["high"] == 1 and by_id[first]["trust"] == 7
            assert by_id[second]["low"] == 1 and by_id[officials[2].id]["trust"] == 7
        finally:
            await asyncio.gather(secretary.close(), chair.close(), *(c.close() for c in members.values()))
    assert errors == [], errors
