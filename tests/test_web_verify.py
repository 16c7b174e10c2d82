"""The public verifier page (clients/web/verify.html, issue 13 §1 "Verifier … and a page") against a real server.

A verifiable secret round is run through real sockets by the Python client (clients/ballots.py: the committee's 7
devices hold the key ceremony, 10 delegates cast encrypted ballots, 4 members decrypt); then Chromium opens the
page for that round: it fetches the bulletin board from the REST route, runs every check of docs/BALLOT-CRYPTO.md
§9 in the browser (clients/web/js/ballotcrypto/, on @noble/*), shows the verified counts — the choices that were
cast — and finds a delegate's tracker. A tampered board given as a file is refused, naming the check; bad input
in the forms gets Vietnamese messages; axe finds no serious violation.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ballotcrypto import ballots
from clients.ballots import CommitteeMember, encrypt_poll, encrypt_vote
from clients.sdk import SessionClient
from meeting import polls, script, verifiable, votes
from meeting import session as sess
from meeting.rules import BallotMode
from tests.e2e import ROOT, ServerProcess
from tests.test_web_tablet import NODE_MODULES, PHONE, TABLET, _axe, _client, _in_session, _shot, browser

__all__ = ["browser"]  # the Playwright fixture, shared with the tablet's tests

SESSION = script.SESSION_ID
ROUND = "kin-web-kiem-chung"
POLL = "tin-nhiem-kiem-chung"  # a verifiable confidence poll on the same ceremony
COMMITTEE = [script.delegate_id(i) for i in range(44, 51)]
VOTERS = list(range(41, 51))  # db041..db050 cast; db044..db050 are also the committee
OPTIONS = ("yes", "no", "abstain")
LABEL = {"yes": "Tán thành", "no": "Không tán thành", "abstain": "Không biểu quyết"}


@dataclass(frozen=True)
class Round:
    srv: ServerProcess
    choices: dict[int, str]
    trackers: dict[int, str]  # voter -> full tracker

    @property
    def board_url(self) -> str:
        return f"{self.srv.http}/api/sessions/{SESSION}/rounds/{ROUND}/board"

    def board(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.board_url, timeout=60) as r:
            data: dict[str, Any] = json.loads(r.read())
            return data


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


async def _verifiable_round(srv: ServerProcess) -> Round:
    # 34 of 50 checked in by the secretary (the quorum), the 10 voters check themselves in on their own tablets.
    secretary, chair = await _in_session(srv, list(range(1, 35)))
    clients: dict[int, SessionClient] = {i: await _client(srv, f"daibieu{i:02d}") for i in VOTERS}
    everyone = [secretary, chair, *clients.values()]
    for i, c in clients.items():
        await c.send(sess.CheckIn(delegate_id=script.delegate_id(i)))

    async def settle(seq: int) -> None:
        await asyncio.gather(*(c.wait_seq(seq, 30) for c in everyone))

    try:
        started = await chair.send(verifiable.StartCeremony(ceremony_id="bkp-web", members=COMMITTEE))
        await settle(started.seqs[-1])
        member = {m: clients[int(m[2:])] for m in COMMITTEE}
        devices = {m: CommitteeMember(member[m].state, "bkp-web", m) for m in COMMITTEE}  # type: ignore[arg-type]
        for step in ("publish", "deal", "complain"):
            sent = []
            for m, dev in devices.items():
                state = member[m].state
                assert state is not None
                cmd = dev.publish() if step == "publish" else dev.deal(state) if step == "deal" else dev.complain(state)
                sent.append(await member[m].send(cmd))
            await settle(max(r.seqs[-1] for r in sent))
        assert len({dev.finish(member[m].state) for m, dev in devices.items()}) == 1  # type: ignore[arg-type]
        opened = await chair.send(
            votes.OpenVote(
                round_id=ROUND,
                item_id="nq-ngan-sach",
                motion="Bỏ phiếu kín có thể kiểm chứng trên trang công khai",
                secret=True,
                mode=BallotMode.VERIFIABLE,
                ceremony_id="bkp-web",
            )
        )
        await settle(opened.seqs[-1])
        choices = {i: OPTIONS[(i * 5) % 3] for i in VOTERS}
        trackers = {}
        for i, c in clients.items():
            cmd = encrypt_vote(c.state, ROUND, script.delegate_id(i), choices[i])  # type: ignore[arg-type]
            await c.send(cmd)
            trackers[i] = cmd.ballot["tracker"]
        closed = await chair.send(votes.CloseRound(round_id=ROUND, confirm_few_ballots=True))
        await settle(closed.seqs[-1])
        last = 0
        for m in COMMITTEE[:4]:
            state = member[m].state
            assert state is not None
            last = (await member[m].send(devices[m].decrypt(state, ROUND))).seqs[-1]
        await settle(last)
        assert chair.state is not None and chair.state.votes.rounds[ROUND].result is not None

        # A verifiable confidence poll of two officials on the same ceremony: db041 leaves the second unmarked.
        officials = [polls.Official(id=r.id, name=r.name, position=r.position) for r in script.RESPONDENTS[:2]]
        create = polls.CreatePoll(poll_id=POLL, item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials)
        await secretary.send(create)
        await chair.send(polls.AppointCommittee(poll_id=POLL, members=COMMITTEE))
        opened = await chair.send(polls.OpenPoll(poll_id=POLL, mode=BallotMode.VERIFIABLE, ceremony_id="bkp-web"))
        await settle(opened.seqs[-1])
        for i, c in clients.items():
            marks = {officials[0].id: "high" if i % 2 else "trust", officials[1].id: None if i == 41 else "low"}
            await c.send(encrypt_poll(c.state, POLL, script.delegate_id(i), marks))  # type: ignore[arg-type]
        closed = await chair.send(polls.ClosePoll(poll_id=POLL))
        await settle(closed.seqs[-1])
        for m in COMMITTEE[:4]:
            state = member[m].state
            assert state is not None
            last = (await member[m].send(devices[m].decrypt_poll(state, POLL))).seqs[-1]
        await settle(last)
        assert chair.state.polls.polls[POLL].result is not None
        return Round(srv, choices, trackers)
    finally:
        await asyncio.gather(*(c.close() for c in everyone), return_exceptions=True)


@pytest.fixture(scope="module")
def verified() -> Iterator[Round]:
    with ServerProcess() as srv:
        yield asyncio.run(asyncio.wait_for(_verifiable_round(srv), 240))


def test_noble_is_served_from_the_locked_npm_packages(verified: Round) -> None:
    lock = json.loads((NODE_MODULES.parent / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for pkg, path in (
        ("@noble/curves", "ed25519.js"),
        ("@noble/hashes", "sha2.js"),
        ("@noble/ciphers", "chacha.js"),
    ):
        installed = json.loads((NODE_MODULES / pkg / "package.json").read_text(encoding="utf-8"))["version"]
        assert installed == lock[f"node_modules/{pkg}"]["version"], pkg
        status, ctype, body = _get(f"{verified.srv.http}/vendor/{pkg}/{path}")
        assert status == 200 and "javascript" in ctype, (pkg, status)
        assert body == (NODE_MODULES / pkg / path).read_bytes()
    for path in ("/vendor/@noble/../axe-core/axe.min.js", "/vendor/@noble/curves/../../.package-lock.json"):
        status, _, _ = _get(f"{verified.srv.http}{path}")
        assert status == 404, path


async def _page(browser: Any, viewport: dict[str, int], errors: list[str]) -> Any:
    ctx = await browser.new_context(locale="vi-VN", viewport=viewport, has_touch=viewport["width"] < 500)
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    return page


async def test_the_page_verifies_the_round_in_the_browser_and_finds_a_tracker(browser: Any, verified: Round) -> None:
    errors: list[str] = []
    page = await _page(browser, TABLET, errors)
    await page.goto(f"{verified.srv.http}/verify.html?session={SESSION}&round={ROUND}")
    await page.wait_for_selector("#verdict-ok", timeout=120_000)
    assert await page.locator(".stage.ok").count() == 8
    assert "Đã kiểm tra toàn bộ bảng công khai" in await page.locator("#verdict").inner_text()
    # The verified counts are the choices that were cast.
    want = Counter(verified.choices.values())
    rows = page.locator(".verify-result tbody tr")
    assert await rows.count() == 3
    for k in range(3):
        cells = await rows.nth(k).locator("th, td").all_inner_texts()
        assert cells == [LABEL[OPTIONS[k]], str(want[OPTIONS[k]])], cells
    facts = await page.locator(".verify-facts").inner_text()
    assert "10 phiếu mã hóa" in facts and "cần 4 người" in facts and ", ".join(COMMITTEE[:4]) in facts
    # The digest shown is the one the route sends: two people compare it to know they checked the same board.
    with urllib.request.urlopen(verified.board_url, timeout=60) as r:
        sent = r.headers["x-content-sha256"]
        assert sent == hashlib.sha256(r.read()).hexdigest()
    assert sent in facts
    await _axe(page, "verify: verified")
    await _shot(page, "verify-ok-1280x800")

    # A delegate's tracker, as the tablet shows it (16 characters), then the full one; one that is not there.
    voter = VOTERS[3]
    short = ballots.short_tracker(verified.trackers[voter])
    await page.fill("#tracker-code", short.lower())
    await page.click("#tracker-form button")
    found = page.locator("#tracker-found")
    await found.wait_for()
    assert short in await found.inner_text() and "đã được đếm" in await found.inner_text()
    await page.fill("#tracker-code", verified.trackers[VOTERS[0]])
    await page.click("#tracker-form button")
    await page.wait_for_function(
        "s => document.querySelector('#tracker-found')?.textContent.includes(s)",
        arg=ballots.short_tracker(verified.trackers[VOTERS[0]]),
    )
    await page.fill("#tracker-code", "AAAA-BBBB-CCCC-DDDD")
    await page.click("#tracker-form button")
    await page.locator("#tracker-missing").wait_for()
    assert "Không tìm thấy phiếu AAAA-BBBB-CCCC-DDDD" in await page.locator("#tracker-missing").inner_text()
    await _axe(page, "verify: tracker not found")
    # Malformed input: a Vietnamese message, nothing looked up.
    await page.fill("#tracker-code", "xin chào")
    await page.click("#tracker-form button")
    assert "16 ký tự" in await page.locator("#tracker-error").inner_text()
    assert await page.locator("#tracker-code").get_attribute("aria-invalid") == "true"
    await page.fill("#tracker-code", short)
    await page.click("#tracker-form button")
    await found.wait_for()
    await _shot(page, "verify-tracker-1280x800")

    # On a phone: the same verdict, nothing wider than the screen.
    phone = await _page(browser, PHONE, errors)
    await phone.goto(f"{verified.srv.http}/verify.html?session={SESSION}&round={ROUND}")
    await phone.wait_for_selector("#verdict-ok", timeout=120_000)
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await _axe(phone, "verify: phone")
    await _shot(phone, "verify-ok-390x844")
    assert errors == []


async def test_a_verifiable_confidence_polls_board_is_verified_in_the_browser(browser: Any, verified: Round) -> None:
    """The poll's board (GET /api/sessions/{id}/polls/{poll}/board) through the same page: one row per official
    with its levels and the invalid count (db041 left the second official unmarked)."""
    errors: list[str] = []
    page = await _page(browser, TABLET, errors)
    await page.goto(f"{verified.srv.http}/verify.html?session={SESSION}&poll={POLL}")
    await page.wait_for_selector("#verdict-ok", timeout=120_000)
    assert await page.locator("#board-kind").input_value() == "polls"
    rows = page.locator(".verify-result tbody tr")
    assert await rows.count() == 2
    first = await rows.nth(0).locator("th, td").all_inner_texts()
    second = await rows.nth(1).locator("th, td").all_inner_texts()
    assert first[1:] == ["5", "5", "0", "0"], first  # high, trust, low, invalid: 5 odd and 5 even voters
    assert second[1:] == ["0", "0", "9", "1"], second
    await _axe(page, "verify: a confidence poll")
    assert errors == []


async def test_a_tampered_board_file_is_refused_naming_the_check(browser: Any, verified: Round) -> None:
    errors: list[str] = []
    page = await _page(browser, TABLET, errors)
    await page.goto(f"{verified.srv.http}/verify.html")
    board = verified.board()
    cases = [
        (["result", "counts", 0, 0], board["result"]["counts"][0][0] + 1, "result", "result"),
        (
            ["ballots", 2, "answers", 0, "ciphertexts", 1, "beta"],
            board["ballots"][3]["answers"][0]["ciphertexts"][1]["beta"],
            "ballot_tracker",
            "ballots",
        ),
        (
            ["partials", 1, "shares", 0, 2, "share"],
            board["partials"][0]["shares"][0][2]["share"],
            "partial_decryption",
            "partials",
        ),
        (["version"], "kyhop-ballot-v2", "board_format", "format"),
    ]
    for path, value, check, stage in cases:
        bad = json.loads(json.dumps(board))
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        payload = {"name": "bang-cong-khai.json", "mimeType": "application/json", "buffer": json.dumps(bad).encode()}
        await page.set_input_files("#board-file", files=[payload])
        verdict = page.locator(f"#verdict-bad[data-check='{check}']")
        await verdict.wait_for(timeout=120_000)
        text = await verdict.inner_text()
        assert "KHÔNG hợp lệ" in text and check in text, text
        assert await page.locator(f"#stage-{stage}.fail").count() == 1
        if check == "result":
            await _axe(page, "verify: tampered")
            await _shot(page, "verify-tampered-1280x800")
    # The board as served, dropped on the page, verifies: it was the edits that failed.
    await page.evaluate(
        """text => {
            const data = new DataTransfer();
            data.items.add(new File([text], "bang-cong-khai.json", {type: "application/json"}));
            document.querySelector("#drop").dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""",
        json.dumps(board),
    )
    await page.wait_for_selector("#verdict-ok", timeout=120_000)
    assert await page.locator("#file-name").inner_text() == "bang-cong-khai.json"
    # The vectors' board has a spoiled ballot (a Benaloh challenge): looked up, it shows what it was opened to.
    vector = (ROOT / "tests" / "vectors" / "ballotcrypto" / "board-vote.json").read_bytes()
    await page.set_input_files(
        "#board-file", files=[{"name": "board-vote.json", "mimeType": "application/json", "buffer": vector}]
    )
    await page.wait_for_selector("#verdict-ok", timeout=120_000)
    spoiled = json.loads(vector)["spoiled"][0]
    await page.fill("#tracker-code", ballots.short_tracker(spoiled["ballot"]["tracker"]))
    await page.click("#tracker-form button")
    shown = page.locator("#tracker-spoiled .spoiled-choice")
    await shown.wait_for()
    assert await shown.inner_text() == "khong_tan_thanh"  # the vectors' option keys, shown as they are
    await _axe(page, "verify: a spoiled ballot looked up")
    assert errors == []


async def test_the_form_speaks_vietnamese_and_a_round_without_a_board_is_explained(
    browser: Any, verified: Round
) -> None:
    errors: list[str] = []
    page = await _page(browser, PHONE, errors)
    await page.goto(f"{verified.srv.http}/verify.html")
    await page.evaluate("localStorage.clear()")
    await page.fill("#session-id", "")
    await page.fill("#round-id", "")
    await page.click("#fetch-button")
    assert await page.locator("#session-error").inner_text() == "Hãy nhập mã kỳ họp."
    assert await page.locator("#round-error").inner_text() == "Hãy nhập mã lượt biểu quyết."
    await _axe(page, "verify: empty form")
    await page.fill("#session-id", SESSION)
    await page.fill("#round-id", "khong-co-luot-nay")
    await page.click("#fetch-button")
    err = page.locator("#fetch-error")
    await err.wait_for()
    assert "khong-co-luot-nay" in await err.inner_text()
    assert await page.locator("#tracker").is_hidden()
    # Chromium logs the refused fetch itself (404); nothing else went wrong on the page.
    assert [e for e in errors if "status of 404" not in e] == []


async def test_the_public_page_says_the_round_was_verifiable_and_links_its_board(browser: Any, verified: Round) -> None:
    """Issue 13 §2: the public results say which mode counted a secret round; a verifiable one links its board."""
    errors: list[str] = []
    page = await _page(browser, PHONE, errors)
    await page.goto(f"{verified.srv.http}/public.html?session={SESSION}")
    card = page.locator(f'#results-body [data-round="{ROUND}"]')
    await card.wait_for()
    link = card.locator(".verify-public a")
    assert await link.inner_text() == "Kiểm chứng công khai"
    await _axe(page, "public: a verifiable result with its link")
    await card.scroll_into_view_if_needed()
    await _shot(page, "public-result-verifiable-390x844")
    await link.click()
    await page.wait_for_url(f"**/verify.html?session={SESSION}&round={ROUND}")
    await page.wait_for_selector("#verdict-ok", timeout=120_000)
    assert errors == []
