"""verify.html?session=ID with no round: the session's secret decisions and how each was counted
(clients/web/js/verify-session.js on GET /api/sessions/{id}/boards), in Chromium at a tablet's and a phone's size.

The session is tests/test_session_boards.py's (a real server, driven through real sockets): a verifiable round, a
sealed one, one on paper, a confidence poll on paper and a named round. The page lists the four secret ones, each
marked with its mode in Vietnamese, and "Kiểm chứng" runs verify.js's full check of the verifiable round's board in
the same page.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.test_session_boards import OPTIONS, PAPER, POLL, SEALED, SESSION, VERIFIABLE, Session, held
from tests.test_web_tablet import PHONE, TABLET, _axe, _shot, browser
from tests.test_web_verify import LABEL, _page

__all__ = ["browser", "held"]  # the fixtures: Playwright's, and the session with its four rounds

PAPER_MARK = "Kiểm phiếu giấy — Ban kiểm phiếu nhập số"
SEALED_MARK = "Niêm phong trên máy chủ — không kiểm chứng độc lập được"


async def test_the_list_shows_each_mode_and_verifies_the_verifiable_round(browser: Any, held: Session) -> None:
    errors: list[str] = []
    page = await _page(browser, TABLET, errors)
    await page.goto(f"{held.srv.http}/verify.html?session={SESSION}")
    entries = page.locator("#session-boards .decision")
    await entries.nth(3).wait_for(timeout=60_000)
    assert await entries.count() == 4
    modes = [await entries.nth(k).get_attribute("data-mode") for k in range(4)]
    assert modes == ["verifiable", "sealed", "paper", "paper"]
    poll = await page.locator(f"#decision-poll-{POLL}").inner_text()
    assert PAPER_MARK in poll and "Tín nhiệm cao 20" in poll and "không hợp lệ 2" in poll
    assert "nhập kết quả lúc" in poll  # never opened on the tablets: no opening time
    assert await page.locator(f"#decision-vote-{VERIFIABLE}").count() == 1
    sealed = await page.locator(f"#decision-vote-{SEALED}").inner_text()
    paper = await page.locator(f"#decision-vote-{PAPER}").inner_text()
    assert SEALED_MARK in sealed and PAPER_MARK in paper
    assert "Văn phòng HĐND tỉnh" in paper and "40 phiếu giấy" in paper
    assert "phong bì của Ban kiểm phiếu" in paper
    # Only the verifiable round has a board to check.
    assert await page.locator("button.verify-this").count() == 1
    assert await page.locator(f"#decision-vote-{SEALED} button, #decision-vote-{PAPER} button").count() == 0
    # The Vietnamese comes first; the English follows it, marked as English.
    first = page.locator(f"#decision-vote-{SEALED} .decision-explain").first
    assert await first.get_attribute("lang") is None and "Không kiểm chứng độc lập được" in await first.inner_text()
    assert await page.locator(f"#decision-vote-{SEALED} .decision-explain[lang=en]").count() == 1
    await _axe(page, "verify: a session's list")
    await _shot(page, "verify-session-1280x800")
    await page.locator("#session-boards").screenshot(path=_full("verify-session-list-1280"))

    sha = held.boards().json()["decisions"][0]["board"]["sha256"]
    await page.click("button.verify-this")
    await page.wait_for_selector("#verdict-ok", timeout=120_000)
    assert await page.locator("#round-id").input_value() == VERIFIABLE
    want = Counter(held.choices[VERIFIABLE].values())
    rows = page.locator(".verify-result tbody tr")
    for k in range(3):
        cells = await rows.nth(k).locator("th, td").all_inner_texts()
        assert cells == [LABEL[OPTIONS[k]], str(want[OPTIONS[k]])], cells
    assert sha in await page.locator(".verify-facts code.digest").last.inner_text()
    await _shot(page, "verify-session-verified-1280x800")

    phone = await _page(browser, PHONE, errors)
    await phone.goto(f"{held.srv.http}/verify.html?session={SESSION}")
    await phone.locator("#session-boards .decision").nth(3).wait_for(timeout=60_000)
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await _axe(phone, "verify: a session's list on a phone")
    await _shot(phone, "verify-session-390x844")
    await phone.locator("#session-boards").screenshot(path=_full("verify-session-list-390"))
    assert errors == []


async def test_an_unknown_session_is_explained(browser: Any, held: Session) -> None:
    errors: list[str] = []
    page = await _page(browser, PHONE, errors)
    await page.goto(f"{held.srv.http}/verify.html?session=khong-co-ky-hop")
    err = page.locator("#session-boards-error")
    await err.wait_for()
    assert "khong-co-ky-hop" in await err.inner_text()
    # A round in the address is the single-board flow, as before: no list.
    await page.goto(f"{held.srv.http}/verify.html?session={SESSION}&round={VERIFIABLE}")
    await page.wait_for_selector("#verdict-ok", timeout=120_000)
    assert await page.locator("#session-boards").is_hidden()
    assert [e for e in errors if "status of 404" not in e] == []


def _full(name: str) -> str:
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.gettempdir()) / "kyhop-screens"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"{name}.png")
