"""The counting committee member's tablet (issue 13 §1, js/committee.js) in Debian's chromium through Playwright:
three members' tablets (each in its own browser context) and four members' devices from the Python SDK
(clients/ballots.py CommitteeMember) run one key ceremony of 7 — the province's minimum committee — with t = 3.
Every tablet shows the fingerprint the server announced; one tablet is reloaded mid-ceremony and resumes with its
passphrase (typed decomposed the first time, composed the second: NFC); the backup file opens in Python with the
documented recipe and holds the member's share. Then a verifiable round: delegates cast through the SDK, the chair
closes it, a wrong passphrase sends nothing, and the three tablets' partial decryptions announce the choices.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from playwright.async_api import Error as PlaywrightError

from ballotcrypto import dkg
from ballotcrypto import records as rec
from ballotcrypto.group import base_mul, hash32
from clients.ballots import CommitteeMember, NotReady, encrypt_poll, encrypt_vote
from clients.sdk import SessionClient
from meeting import agenda, polls, script, verifiable, votes
from meeting.rules import BallotMode
from tests.e2e import ServerProcess
from tests.test_web_tablet import PHONE, TABLET, _axe, _client, _in_session, _shot, _tablet, _until, browser  # noqa: F401 (the fixture)

pytestmark = pytest.mark.asyncio
CEREMONY = "bkp-may-tinh-bang"
ROUND = "kin-kiem-chung-tablet"
POLL = "ltn-kiem-chung"
OPTIONS = ("yes", "no", "abstain")
PAGES = {30: "Mật khẩu của ủy viên số 30", 31: "Mật khẩu của ủy viên số 31", 32: "Chị Hằng giữ khóa số 32"}
SDK = (33, 34, 35, 36)
MEMBERS = [script.delegate_id(i) for i in (*PAGES, *SDK)]
VOTERS = range(2, 10)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        yield srv


async def _sdk_members(clients: dict[str, SessionClient], ceremony: str = CEREMONY) -> None:
    """The four SDK devices: each step as soon as their own state allows it, as a tablet does."""
    devices: dict[str, CommitteeMember] = {}
    sent: dict[str, set[str]] = {m: set() for m in clients}
    while True:
        for m, c in clients.items():
            state = c.state
            if state is None or ceremony not in state.ceremonies.by_id:
                continue
            dev = devices.setdefault(m, CommitteeMember(state, ceremony, m))
            for step in ("publish", "deal", "complain"):
                if step in sent[m]:
                    continue
                try:
                    cmd = (
                        dev.publish()
                        if step == "publish"
                        else dev.deal(state)
                        if step == "deal"
                        else dev.complain(state)
                    )
                except NotReady:
                    break
                sent[m].add(step)
                await c.send(cmd)
                break
        if all(len(s) == 3 for s in sent.values()):
            return
        await asyncio.sleep(0.05)


def _open_backup(path: Path, passphrase: str) -> tuple[dict[str, Any], bytes]:
    """docs/BALLOT-CRYPTO.md §13.1 from the document alone (as tests/test_web_ballotcrypto.py)."""
    f = json.loads(path.read_text(encoding="utf-8"))
    k = f["kdf"]
    key = hashlib.scrypt(
        unicodedata.normalize("NFC", passphrase).encode(),
        salt=bytes.fromhex(k["salt"]),
        n=k["N"],
        r=k["r"],
        p=k["p"],
        dklen=32,
        maxmem=64 * 1024 * 1024,
    )
    ad = hash32(
        "keyshare", f["ceremony_id"], f["member"], bytes.fromhex(f["joint_key"]), bytes.fromhex(f["fingerprint"])
    )
    return f, ChaCha20Poly1305(key).decrypt(bytes(12), bytes.fromhex(f["sealed"]), ad)


async def _choose(page: Any, passphrase: str, again: str | None = None) -> None:
    form = page.locator("[data-form=choose]")
    await form.wait_for()
    inputs = form.locator("input[type=password]")
    await inputs.nth(0).fill(passphrase)
    await inputs.nth(1).fill(passphrase if again is None else again)
    await form.locator("button[type=submit]").click()


async def _decrypt(page: Any, passphrase: str) -> None:
    form = page.locator(f'.committee-task[data-round="{ROUND}"] [data-form=decrypt]')
    await form.wait_for()
    await form.locator("input[type=password]").fill(passphrase)
    await form.locator("button[type=submit]").click()


async def _shots(page: Any, name: str, card: str) -> None:
    for size, viewport in (("tablet", TABLET), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.locator(card).evaluate("(e) => e.scrollIntoView({ block: 'start' })")
        await page.wait_for_timeout(150)
        await _shot(page, f"committee-{name}-{size}")
    await page.set_viewport_size(TABLET)


async def test_three_tablets_and_four_devices_make_the_key_then_decrypt_a_round(
    browser: Any,  # noqa: F811
    server: ServerProcess,
    tmp_path: Path,
) -> None:
    errors: list[str] = []
    secretary, chair = await _in_session(server, list(range(1, 41)))
    sdk = {script.delegate_id(i): await _client(server, f"daibieu{i:02d}") for i in SDK}
    voters = {i: await _client(server, f"daibieu{i:02d}") for i in VOTERS}
    pages: dict[int, Any] = {}
    try:
        for i in PAGES:
            pages[i] = await _tablet(browser, server, f"daibieu{i:02d}", TABLET, errors)
        p30, p31, p32 = pages[30], pages[31], pages[32]

        # 1. The chair starts the ceremony: each tablet asks its member for a passphrase (typed twice).
        started = await chair.send(verifiable.StartCeremony(ceremony_id=CEREMONY, members=MEMBERS, threshold=3))
        await chair.wait_seq(started.seqs[-1])
        await p30.locator("[data-form=choose]").wait_for()
        await _shots(p30, "passphrase", "#committee-keys")
        await _axe(p30, "the ceremony's passphrase")
        await _choose(p30, PAGES[30], "Mật khẩu khác hẳn nhau")
        err = p30.locator("[data-form=choose] .form-error")
        await err.wait_for()
        assert "không giống nhau" in await err.inner_text()
        await _choose(p30, "ngắn quá", "ngắn quá")
        assert "ít nhất 10 ký tự" in await err.inner_text()
        await _choose(p30, PAGES[30])
        # Decomposed diacritics (a keyboard sending combining marks): the same passphrase after NFC.
        await _choose(p31, unicodedata.normalize("NFD", PAGES[31]))
        await _choose(p32, PAGES[32])

        def published(who: list[str]) -> bool:
            s = chair.state
            c = s.ceremonies.by_id.get(CEREMONY) if s is not None else None
            return c is not None and all(m in c.messages[verifiable.Step.PUBLISH] for m in who)

        await _until(lambda: published(MEMBERS[:3]), "the three tablets publishing", 60)
        await p30.locator('.ceremony-counts [data-step="publish"]', has_text="3/7 thành viên đã công bố").wait_for()
        await _shots(p30, "progress", "#committee-keys")

        # 2. A reload before the others have published: the tablet asks for the passphrase and goes on.
        await p31.reload()
        await p31.wait_for_selector("#conn.live")
        unlock = p31.locator("[data-form=unlock]")
        await unlock.wait_for()
        await unlock.locator("input").fill("Không phải mật khẩu này")
        await unlock.locator("button").click()
        await unlock.locator(".task-error", has_text="Sai mật khẩu").wait_for(timeout=30_000)
        await unlock.locator("input").fill(PAGES[31])
        await unlock.locator("button").click()
        await p31.locator(".committee-task[data-ceremony] .banner.info").wait_for(timeout=30_000)

        await asyncio.wait_for(_sdk_members(sdk), 120)
        fps = {}
        for i, page in pages.items():
            fp = page.locator(".fingerprint")
            await fp.wait_for(timeout=90_000)
            fps[i] = (await fp.inner_text()).replace(" ", "")
        assert chair.state is not None
        cer = chair.state.ceremonies.by_id[CEREMONY]
        assert cer.keys is not None and cer.keys.disqualified == []
        assert set(fps.values()) == {cer.keys.fingerprint[:32]}, fps
        await _shots(p30, "fingerprint", "#committee-keys")

        # 3. The backup file opens in Python with the documented recipe and holds member 1's share of the key.
        async with p30.expect_download() as dl:
            await p30.locator(f"#backup-{CEREMONY}").click()
        path = tmp_path / "backup.json"
        await (await dl.value).save_as(path)
        f, secret = _open_backup(path, PAGES[30])
        assert (f["ceremony_id"], f["member"]) == (CEREMONY, 1)
        assert (f["joint_key"], f["fingerprint"]) == (cer.keys.joint_key, cer.keys.fingerprint)
        out = dkg.outcome(
            rec.CeremonySpec(council_id=cer.spec.council_id, ceremony_id=CEREMONY, threshold=3, members=MEMBERS),
            [msgspec.convert(cer.messages[verifiable.Step.PUBLISH][m], rec.MemberPublication) for m in MEMBERS],
            [msgspec.convert(cer.messages[verifiable.Step.DEAL][m], rec.ShareBundle) for m in MEMBERS],
            [msgspec.convert(cer.messages[verifiable.Step.COMPLAIN][m], rec.ComplaintList) for m in MEMBERS],
        )
        assert base_mul(int.from_bytes(secret, "little")) == out.verification_keys[1]

        # 4. A verifiable round (explicitly: the council's default mode may be another), eight encrypted ballots.
        opened = await chair.send(
            votes.OpenVote(
                round_id=ROUND,
                item_id="nq-ngan-sach",
                motion="Bỏ phiếu kín có thể kiểm chứng trên máy tính bảng",
                secret=True,
                mode=BallotMode.VERIFIABLE,
                ceremony_id=CEREMONY,
            )
        )
        choices = {i: OPTIONS[(i * 7) % 3] for i in VOTERS}
        for i, c in voters.items():
            await c.wait_seq(opened.seqs[-1])
            assert c.state is not None
            await c.send(encrypt_vote(c.state, ROUND, script.delegate_id(i), choices[i]))
        await _until(lambda: chair.state is not None and chair.state.votes.rounds[ROUND].ballots_reported == 8, "8")
        closed = await chair.send(votes.CloseRound(round_id=ROUND))
        await chair.wait_seq(closed.seqs[-1])

        # 5. A view holding fewer ballots than the hall was told (one ballot "as the total"): not decrypted.
        async def one_ballot(route: Any) -> None:
            response = await route.fetch()
            body = await response.json()
            rnd = (body.get("state") or {}).get("votes", {}).get("rounds", {}).get(ROUND)
            if rnd:
                rnd["ballots"] = rnd["ballots"][:1]
            with contextlib.suppress(PlaywrightError):
                await route.fulfill(response=response, json=body)

        await p30.route(f"**/api/sessions/{script.SESSION_ID}", one_ballot)
        await p30.reload()
        await _decrypt(p30, PAGES[30])
        task = p30.locator(f'.committee-task[data-round="{ROUND}"]')
        await task.locator(".task-error", has_text="ít hơn 8 phiếu đã công bố").wait_for(timeout=30_000)
        await p30.unroute_all(behavior="ignoreErrors")
        await p30.reload()

        # 6. A wrong passphrase: the keystore's message, nothing sent.
        await _decrypt(p30, "Mật khẩu sai hoàn toàn")
        await task.locator(".task-error", has_text="Sai mật khẩu").wait_for(timeout=30_000)
        await _shots(p30, "decrypt", "#committee-decrypt")
        await _axe(p30, "the decryption task")
        member = sdk[MEMBERS[3]]
        assert member.state is not None and member.state.votes.rounds[ROUND].partials == {}

        # 7. Three tablets decrypt: 1/3, 2/3, then the result is announced and equals the choices.
        await _decrypt(p30, PAGES[30])
        await task.locator(".decrypt-sent", has_text="Đã gửi phần giải mã — 1/3 cần thiết").wait_for(timeout=60_000)
        assert "8/8 phiếu đã kiểm tra" in await task.inner_text()
        await _shots(p30, "decrypted", "#committee-decrypt")
        await _decrypt(p31, PAGES[31])
        await p31.locator(".decrypt-sent", has_text="2/3 cần thiết").wait_for(timeout=60_000)
        await _decrypt(p32, PAGES[32])

        def announced() -> bool:
            s = chair.state
            return s is not None and s.votes.rounds[ROUND].result is not None

        await _until(announced, "the result", 60)
        assert chair.state is not None
        r = chair.state.votes.rounds[ROUND]
        assert r.result is not None
        assert {o.key: o.count for o in r.result.options} == {o: Counter(choices.values())[o] for o in OPTIONS}
        assert sorted(r.certified_by) == MEMBERS[:3]
        # The task leaves the tablets with the announcement.
        await p30.locator(f'.committee-task[data-round="{ROUND}"]').wait_for(state="detached")

        # 8. A verifiable confidence poll: one question per official, decrypted the same way.
        officials = [polls.Official(id=x.id, name=x.name, position=x.position) for x in script.RESPONDENTS[:3]]
        await chair.send(agenda.MoveToItem(item_id="tin-nhiem"))
        await chair.send(
            polls.CreatePoll(poll_id=POLL, item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials)
        )
        await chair.send(polls.AppointCommittee(poll_id=POLL, members=MEMBERS))
        opened = await chair.send(polls.OpenPoll(poll_id=POLL, mode=BallotMode.VERIFIABLE, ceremony_id=CEREMONY))
        levels = ("high", "trust", "low")
        marks = {i: {o.id: levels[(i + k) % 3] for k, o in enumerate(officials)} for i in VOTERS}
        for i, c in voters.items():
            await c.wait_seq(opened.seqs[-1])
            assert c.state is not None
            await c.send(encrypt_poll(c.state, POLL, script.delegate_id(i), marks[i]))
        closed = await chair.send(polls.ClosePoll(poll_id=POLL))
        await chair.wait_seq(closed.seqs[-1])
        for i, page in pages.items():
            form = page.locator(f'.committee-task[data-poll="{POLL}"] [data-form=decrypt]')
            await form.wait_for()
            await form.locator("input[type=password]").fill(PAGES[i])
            await form.locator("button[type=submit]").click()
            if i == 32:
                break  # the third partial certifies the poll: the task goes with the announcement
            task = page.locator(f'.committee-task[data-poll="{POLL}"]')
            await task.locator(".decrypt-sent").wait_for(timeout=60_000)

        def certified() -> bool:
            s = chair.state
            return s is not None and s.polls.polls[POLL].result is not None

        await _until(certified, "the poll's result", 60)
        assert chair.state is not None
        result = chair.state.polls.polls[POLL].result
        assert result is not None
        for o in result.officials:
            want = Counter(m[o.official_id] for m in marks.values())
            assert {k: v for k, v in o.counts.items() if k in levels} == {lv: want[lv] for lv in levels}, o

        # 9. Another device of the same member: no share there; the backup file restores it (not someone else's).
        other = await _tablet(browser, server, "daibieu30", PHONE, errors)
        pages[0] = other
        restore = other.locator(f"#restore-{CEREMONY}")
        await restore.wait_for()
        wrong = tmp_path / "wrong.json"
        wrong.write_text(json.dumps({**f, "member": 2}), encoding="utf-8")
        await restore.set_input_files(str(wrong))
        await other.locator(".task-error", has_text="thành viên khác").wait_for()
        await restore.set_input_files(str(path))
        fp = other.locator(".fingerprint")
        await fp.wait_for()
        assert (await fp.inner_text()).replace(" ", "") == cer.keys.fingerprint[:32]
        assert errors == []
    finally:
        for page in pages.values():
            await page.context.close()
        for c in [secretary, chair, *sdk.values(), *voters.values()]:
            await c.close()


async def test_a_tablet_shown_another_fingerprint_than_its_transcript_gives_refuses_and_keeps_nothing(
    browser: Any,  # noqa: F811
) -> None:
    """CommitteeMember.finish's check on the tablet: the session view this tablet reads says another fingerprint
    (a server showing members different keys) — the page says so loudly and keeps no share."""
    errors: list[str] = []
    with ServerProcess() as srv:
        secretary, chair = await _in_session(srv, list(range(1, 41)))
        sdk = {script.delegate_id(i): await _client(srv, f"daibieu{i:02d}") for i in range(31, 37)}
        page = await _tablet(browser, srv, "daibieu30", TABLET, errors)

        async def lie(route: Any) -> None:
            response = await route.fetch()
            body = await response.json()
            keys = (body.get("state") or {}).get("ceremonies", {}).get("by_id", {}).get(CEREMONY, {}).get("keys")
            if keys:
                keys["fingerprint"] = ("0" if keys["fingerprint"][0] != "0" else "1") + keys["fingerprint"][1:]
            with contextlib.suppress(PlaywrightError):  # a read cut short by the reload below
                await route.fulfill(response=response, json=body)

        try:
            await page.route(f"**/api/sessions/{script.SESSION_ID}", lie)
            await chair.send(verifiable.StartCeremony(ceremony_id=CEREMONY, members=MEMBERS, threshold=3))
            await _choose(page, PAGES[30])
            await asyncio.wait_for(_sdk_members(sdk), 120)
            task = page.locator(f'.committee-task[data-ceremony="{CEREMONY}"]')
            await task.locator(".task-error", has_text="dấu vân tay").wait_for(timeout=60_000)
            assert await page.locator(".fingerprint").count() == 0
            await _shots(page, "mismatch", "#committee-keys")
            assert await page.locator(f"#backup-{CEREMONY}").count() == 0
            # Told the truth after a reload, the device resumes from its sealed seed and keeps the server's key.
            await page.unroute_all(behavior="ignoreErrors")
            await page.reload()
            unlock = page.locator("[data-form=unlock]")
            await unlock.locator("input").fill(PAGES[30])
            await unlock.locator("button").click()
            fp = page.locator(".fingerprint")
            await fp.wait_for(timeout=60_000)
            assert chair.state is not None
            keys = chair.state.ceremonies.by_id[CEREMONY].keys
            assert keys is not None and (await fp.inner_text()).replace(" ", "") == keys.fingerprint[:32]
            assert errors == []
        finally:
            await page.context.close()
            for c in [secretary, chair, *sdk.values()]:
                await c.close()
