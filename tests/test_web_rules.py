"""The secretariat's "Quy chế" panel (issue 13 §2) in Debian's Chromium: the council's rules as the server holds
them, verifiable secret ballots chosen by default, the sealed mode chosen for a council whose counting committee
has no devices; a bad number is refused on the page and nothing is sent; a saved change is the council's (a fresh
read, a reload) and applies to the sessions prepared afterwards, the session on screen keeping its own. Through the
API: a delegate may not change the rules, and a mode that does not exist is refused — neither changes anything."""

from __future__ import annotations

from typing import Any

import httpx

from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess
from tests.test_web_secretariat import _secretariat
from tests.test_web_tablet import PHONE, TABLET, _axe, _shot, browser

__all__ = ["browser"]  # the Playwright fixture, shared with the tablet's tests

COUNCIL = f"/api/councils/{script.COUNCIL_ID}"


def _login(http: httpx.Client, username: str) -> dict[str, str]:
    r = http.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def _rules(http: httpx.Client, auth: dict[str, str]) -> dict[str, Any]:
    r = http.get(COUNCIL, headers=auth)
    assert r.status_code == 200, r.text
    rules: dict[str, Any] = r.json()["rules"]
    return rules


async def test_the_secretariat_chooses_how_secret_ballots_are_counted(browser: Any) -> None:
    errors: list[str] = []
    with ServerProcess() as srv, httpx.Client(base_url=srv.http, timeout=30) as http:
        sec = _login(http, "vanphong")
        before = _rules(http, sec)
        assert before["secret_mode"] == "verifiable"  # the default (meeting/rules.py)

        # --- API: a delegate may not change the rules; an unknown mode is refused; neither changes anything
        delegate = _login(http, "daibieu07")
        forbidden = http.post(
            f"{COUNCIL}/commands",
            headers=delegate,
            json={"id": "r-del", "command": {"type": "change_rules", "rules": {**before, "secret_mode": "sealed"}}},
        )
        assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden", forbidden.text
        bad = http.post(
            f"{COUNCIL}/commands",
            headers=sec,
            json={"id": "r-bad", "command": {"type": "change_rules", "rules": {**before, "secret_mode": "open"}}},
        )
        assert bad.status_code in (400, 422) and bad.json()["message_vi"], bad.text
        huge = http.post(
            f"{COUNCIL}/commands",
            headers=sec,
            json={"id": "r-huge", "command": {"type": "change_rules", "rules": {**before, "committee_min": 10**6}}},
        )
        assert huge.status_code == 422 and huge.json()["code"] == "invalid", huge.text
        assert _rules(http, sec) == before

        # --- the page: the council's rules, verifiable chosen, the session on screen verifiable too
        page = await _secretariat(browser, srv, TABLET, errors)
        await page.wait_for_selector("#rules-form")
        assert await page.is_checked('input[name="rules-secret-mode"][value="verifiable"]')
        assert "Kiểm chứng (khuyến nghị)" in await page.inner_text("#rules")
        assert "Niêm phong — khi Ban kiểm phiếu không có máy tính bảng" in await page.inner_text("#rules")
        assert "kiểm chứng" in await page.inner_text("#rules-session-mode")
        assert await page.input_value("#rules-committee-min") == "7"  # a province (Guidance 883/HD-UBTVQH14)
        await page.locator("#rules").scroll_into_view_if_needed()
        await _axe(page, "the rules panel")
        await _shot(page, "secretariat-rules-1280x800")

        # A bad number is refused on the page, in Vietnamese; nothing is sent.
        await page.check('input[name="rules-secret-mode"][value="sealed"]')
        await page.fill("#rules-committee-min", "0")
        await page.click("#rules-save")
        await page.wait_for_selector("#rules-msg .banner.bad")
        assert "từ 1 đến 1000" in await page.inner_text("#rules-msg")
        assert _rules(http, sec) == before

        # --- sealed, a committee of at least 5: saved as the council's; the other rules are kept as they were
        await page.fill("#rules-committee-min", "5")
        await page.click("#rules-save")
        await page.wait_for_selector("#rules-msg .banner.ok")
        after = _rules(http, sec)
        assert after == {**before, "secret_mode": "sealed", "committee_min": 5}
        # The session on screen keeps the rules it was prepared with, and the panel says so.
        note = await page.inner_text("#rules-session-mode")
        assert "kiểm chứng" in note and "kỳ họp chuẩn bị sau" in note
        assert await page.evaluate("window.kyhop.state.hall.rules.secret_mode") == "verifiable"
        await _axe(page, "the rules panel after a change")
        await _shot(page, "secretariat-rules-saved-1280x800")

        # A session prepared now takes the sealed mode.
        prepared = http.post(
            f"{COUNCIL}/sessions",
            headers=sec,
            json={"session_id": "ky-hop-5", "title": "Kỳ họp thứ Năm", "opens_on": "2026-12-20"},
        )
        assert prepared.status_code in (200, 201), prepared.text
        fresh = http.get("/api/sessions/ky-hop-5", headers=sec).json()
        assert fresh["state"]["hall"]["rules"]["secret_mode"] == "sealed"

        # After a reload the page shows what the server holds.
        await page.reload()
        await page.wait_for_selector("#rules-form")
        assert await page.is_checked('input[name="rules-secret-mode"][value="sealed"]')
        assert await page.input_value("#rules-committee-min") == "5"
        await page.context.close()

        # --- a phone-sized screen: the two choices stay readable, one under the other
        phone = await _secretariat(browser, srv, PHONE, errors)
        await phone.wait_for_selector("#rules-form")
        await phone.locator("#rules").scroll_into_view_if_needed()
        await _axe(phone, "the rules panel on a phone")
        await _shot(phone, "secretariat-rules-390x844")
        await phone.context.close()
    assert errors == []
