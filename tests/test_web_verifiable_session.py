"""A verifiable secret ballot through the pages only (issue 13, "Done when": the tablet encrypts; committee members
hold shares on their tablets and certify by decrypting), in Debian's Chromium against a real server.

The chair, on the console, picks a counting committee of three by name (the council lets 3 count, a commune's
minimum) and starts the key ceremony; each member's own tablet asks for a passphrase and runs the ceremony; the
three tablets and the console show one fingerprint, the server's. The chair opens the vote from the form with that
ceremony; the three members and a fourth delegate cast from their tablets (the fourth after a Benaloh check), six
more delegates through the Python SDK (their tablets are tested in test_web_verifiable_tablet.py); the chair
closes; two of the members decrypt on their tablets (2 of 3 is the threshold) and the hall sees the result, equal
to the choices; the chair announces it; every tablet that cast finds its ballot on the public board. No Python
committee device takes part: the only shares are in the tablets.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from clients.ballots import encrypt_vote
from clients.sdk import SessionClient
from meeting import script
from meeting.rules import BallotMode
from tests.e2e import ServerProcess
from tests.test_web_chair import _chair, _confirm
from tests.test_web_chair_verifiable import ITEM, SESSION, _open_session, _prepare, _start_from_dialog
from tests.test_web_tablet import PHONE, TABLET, _client, _shot, _tablet, _until, browser

__all__ = ["browser"]  # the Playwright fixture, shared with the tablet's tests

MEMBERS = {30: "Ban kiểm phiếu số một", 31: "Mật khẩu thứ hai của tôi", 32: "Khóa thứ ba — đừng quên"}
DELEGATE = 5  # a delegate who is not on the committee, on a phone
SDK_VOTERS = [2, 3, 4, 6, 7, 8]
CHOICES = {
    30: "yes",
    31: "no",
    32: "yes",
    DELEGATE: "abstain",
    2: "yes",
    3: "yes",
    4: "no",
    6: "yes",
    7: "yes",
    8: "no",
}
OPTIONS = ("yes", "no", "abstain")


def _id(i: int) -> str:
    return script.delegate_id(i)


async def _cast(page: Any, rid: str, option: str, *, check: bool = False) -> None:
    """Tap the option, optionally have a test ballot opened on the tablet first, then send the ballot."""
    await page.click(f'.ballot[data-round="{rid}"] button[data-option="{option}"]')
    await page.wait_for_selector("dialog.secret-choice")
    if check:
        await page.click("dialog.secret-choice button.secret-check")
        await page.wait_for_selector("dialog.secret-check-result .check-ok", timeout=60_000)
        await page.click("dialog.secret-check-result button.primary")
    else:
        await page.click("dialog.secret-choice button.primary")
    await page.wait_for_selector(".tracker-receipt[data-tracker] >> nth=0", timeout=60_000)


async def test_a_verifiable_secret_ballot_from_the_pages_only(browser: Any) -> None:
    errors: list[str] = []
    clients: list[SessionClient] = []
    with ServerProcess() as srv:
        await _prepare(srv)
        try:
            secretary = await _client(srv, "vanphong", SESSION)
            chair = await _client(srv, "chutoa", SESSION)
            voters = {i: await _client(srv, f"daibieu{i:02d}", SESSION) for i in SDK_VOTERS}
            clients += [secretary, chair, *voters.values()]
            await _open_session(srv, secretary, chair)
            console = await _chair(browser, srv, TABLET, errors, SESSION)
            tablets = {
                i: await _tablet(browser, srv, f"daibieu{i:02d}", TABLET, errors, session=SESSION) for i in MEMBERS
            }
            tablets[DELEGATE] = await _tablet(browser, srv, f"daibieu{DELEGATE:02d}", PHONE, errors, session=SESSION)
            await console.wait_for_function("document.querySelector('#st-item').innerText.includes('thử nghiệm')")

            # 1. The chair picks the committee by name and starts the ceremony (threshold: a majority, 2 of 3).
            await console.click("#ceremony-new")
            dlg = console.locator("dialog.ceremony-dialog")
            await dlg.wait_for()
            for i in MEMBERS:
                await dlg.locator(f'label[data-delegate="{_id(i)}"]').click()
            assert await dlg.locator("#ceremony-threshold").input_value() == "2"
            cid = await _start_from_dialog(console)

            # 2. Each member's tablet asks for a passphrase; then the devices run every step by themselves.
            for i, page in tablets.items():
                if i == DELEGATE:
                    continue
                form = page.locator("[data-form=choose]")
                await form.wait_for(timeout=30_000)
                inputs = form.locator("input[type=password]")
                await inputs.nth(0).fill(MEMBERS[i])
                await inputs.nth(1).fill(MEMBERS[i])
                await form.locator("button[type=submit]").click()
            fp = console.locator("#ceremony-fingerprint")
            await fp.wait_for(timeout=120_000)
            await _until(lambda: chair.state is not None and chair.state.ceremonies.by_id[cid].keys is not None, "keys")
            assert chair.state is not None
            keys = chair.state.ceremonies.by_id[cid].keys
            assert keys is not None and keys.threshold == 2 and keys.disqualified == []
            assert await fp.get_attribute("data-fingerprint") == keys.fingerprint
            for i in MEMBERS:
                shown = tablets[i].locator(".fingerprint")
                await shown.wait_for(timeout=60_000)
                assert (await shown.inner_text()).replace(" ", "") == keys.fingerprint[:32], i
            # The delegate who is not a member is asked for nothing.
            assert await tablets[DELEGATE].locator("[data-form=choose]").count() == 0

            # 3. The vote opens from the form with that ceremony; its members are the committee.
            await console.check("#vote-secret")
            await console.locator(f'#vote-ceremony option[value="{cid}"]').wait_for(state="attached")
            await console.select_option("#vote-ceremony", cid)
            await console.click("#vote-open")
            summary = await _confirm(console)
            assert "Phiếu kín kiểm chứng" in summary and "Giải mã khi đủ 2/3" in summary, summary
            card = console.locator(".open-round")
            await card.wait_for()
            rid = await card.get_attribute("data-round")
            assert rid
            await _until(lambda: chair.state is not None and rid in chair.state.votes.rounds, "the round")
            rnd = chair.state.votes.rounds[rid]
            assert rnd.mode is BallotMode.VERIFIABLE and rnd.ceremony_id == cid and rnd.item_id == ITEM

            # 4. Four tablets cast (one after a Benaloh check); six delegates through the SDK.
            for i, page in tablets.items():
                await _cast(page, rid, CHOICES[i], check=i == DELEGATE)
            await _until(lambda: all(c.state and rid in c.state.votes.rounds for c in voters.values()), "the round")
            for i, c in voters.items():
                await c.send(encrypt_vote(c.state, rid, _id(i), CHOICES[i]))  # type: ignore[arg-type]
            await console.wait_for_function(
                f"document.querySelector('.open-round .ballots-cast').innerText === '{len(CHOICES)}'"
            )

            # 5. Closed: two members decrypt on their tablets; the third is not needed.
            await console.click(f'button[data-close="{rid}"]')
            await _confirm(console)
            for i in (30, 31):
                form = tablets[i].locator(f'.committee-task[data-round="{rid}"] [data-form=decrypt]')
                await form.wait_for(timeout=60_000)
                await form.locator("input[type=password]").fill(MEMBERS[i])
                await form.locator("button[type=submit]").click()
            await _shot(tablets[31], "session-verifiable-decrypted-1280x800")

            # 6. The result equals the choices; the chair announces it; each tablet finds its ballot on the board.
            result = console.locator(f'.result-card[data-round="{rid}"]')
            await result.wait_for(timeout=120_000)
            await _until(lambda: chair.state is not None and chair.state.votes.rounds[rid].result is not None, "result")
            res = chair.state.votes.rounds[rid].result
            assert res is not None
            assert {o.key: o.count for o in res.options} == {o: Counter(CHOICES.values())[o] for o in OPTIONS}
            # Only the two tablets' partial decryptions counted it: no other device holds a share.
            assert sorted(chair.state.votes.rounds[rid].partials) == [_id(30), _id(31)]
            await console.locator(f'button[data-announce="{rid}"]').click()
            await _confirm(console)
            for i, page in tablets.items():
                found = page.locator(f'.board-check[data-round="{rid}"][data-board="found"]')
                await found.wait_for(timeout=60_000)
                assert "đã được đếm ✓" in await found.inner_text(), i
            await _shot(tablets[DELEGATE], "session-verifiable-board-390x844")
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    assert errors == []
