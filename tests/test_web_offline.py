"""The tablet offline first (issue 11 §1), in Debian's chromium through Playwright: the service worker keeps the
app shell, every document copy is kept on the device once its SHA-256 matches, the last session state and the
ballots in flight survive a reload with no network, and on return nothing is lost, counted twice or skipped."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx

from bench import web_budgets
from meeting import documents as mdocs
from meeting import script, votes
from server.demo import DEMO_PASSWORD
from server.offline import build_hash, shell_files, worker_script
from tests import test_web_tablet as tablet_tests
from tests.docs_http import login, new_version, upload
from tests.e2e import ServerProcess

browser = tablet_tests.browser  # the same fixture: Debian's chromium, headless
_axe = tablet_tests._axe
_shot = tablet_tests._shot
_until = tablet_tests._until
_client = tablet_tests._client
_in_session = tablet_tests._in_session
three_pages = tablet_tests.three_pages

SESSION = script.SESSION_ID
TABLET = tablet_tests.TABLET
PHONE = tablet_tests.PHONE
DOC = "bao-cao-ngoai-tuyen"
OTHER = "phu-luc-rut-lai"
NETWORK_NOISE = ("ERR_INTERNET_DISCONNECTED", "ERR_CONNECTION", "ERR_NAME_NOT_RESOLVED", "ERR_FAILED")


def test_the_build_hash_changes_with_any_file_of_the_pages(tmp_path: Path) -> None:
    web = tmp_path / "clients" / "web"
    (web / "js").mkdir(parents=True)
    (web / "css").mkdir()
    (web / "tablet.html").write_text("<!doctype html>", encoding="utf-8")
    (web / "js" / "a.js").write_text("export const a = 1;", encoding="utf-8")
    (web / "css" / "app.css").write_text("body {}", encoding="utf-8")
    (web / "sw.js").write_text("// worker", encoding="utf-8")
    lock = tmp_path / "package-lock.json"
    lock.write_text("{}", encoding="utf-8")
    first = build_hash(web, lock)
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert build_hash(web, lock) == first
    (web / "js" / "a.js").write_text("export const a = 2;", encoding="utf-8")
    second = build_hash(web, lock)
    assert second != first
    lock.write_text('{"packages": {}}', encoding="utf-8")
    assert build_hash(web, lock) != second
    script_text = worker_script(web, lock)
    assert script_text.startswith(f'const BUILD = "{build_hash(web, lock)}";')
    assert [p.name for p in shell_files(web)] == ["tablet.html", "a.js", "app.css"]


def test_the_worker_is_served_with_its_build_and_every_shell_file_exists(
    server: ServerProcess,
) -> None:
    with httpx.Client(base_url=server.http, timeout=30) as c:
        r = c.get("/sw.js")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["cache-control"] == "no-cache"
        build = re.search(r'^const BUILD = "([0-9a-f]{16})";$', r.text, re.M)
        shell = re.search(r"^const SHELL = (\[.*\]);$", r.text, re.M)
        assert build and shell
        files = json.loads(shell.group(1))
        assert (
            "/tablet.html" in files
            and "/js/offline.js" in files
            and "/vendor/pdfjs-dist/build/pdf.worker.min.mjs" in files
        )
        # The ballot crypto the tablet encrypts with offline, and what it imports in turn (hashes from curves).
        assert {
            "/js/secretballot.js",
            "/js/ballotcrypto/group.js",
            "/vendor/@noble/curves/ed25519.js",
            "/vendor/@noble/curves/abstract/edwards.js",
            "/vendor/@noble/hashes/scrypt.js",
            "/vendor/@noble/ciphers/chacha.js",
        } <= set(files)
        # cache.addAll fails as a whole on one missing file: every one must be there.
        for f in files:
            assert c.get(f).status_code == 200, f
        # it takes no input: a query is ignored, another method is refused (JSON, bilingual), never a 5xx
        assert c.get("/sw.js", params={"v": "x" * 2000}).text == r.text
        for method in ("POST", "PUT", "DELETE"):
            bad = c.request(method, "/sw.js", content=b"x" * 1000)
            assert bad.status_code == 405, (method, bad.status_code)
            assert bad.json()["code"] == "method_not_allowed" and bad.json()["message_vi"]


server = tablet_tests.server


async def _open_tablet(
    browser: Any, srv: ServerProcess, username: str, viewport: dict[str, int], errors: list[str]
) -> Any:
    """A delegate's own context, signed in, not yet on the page (so the test may stand in the way first)."""
    async with httpx.AsyncClient(base_url=srv.http) as c:
        out = (await c.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})).json()
    ctx = await browser.new_context(locale="vi-VN", viewport=viewport, has_touch=viewport["width"] < 500)
    await ctx.add_init_script(
        f"""localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
        localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))});"""
    )
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"{username}: {e}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"{username} console: {m.text}"))
    return page


async def _js(page: Any, expression: str, value: Any, timeout: float = 30.0) -> None:
    """Wait until an (awaited) expression in the page equals `value`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            got = await page.evaluate(f"async () => {expression}")
        except Exception as e:  # the page is between two loads: ask again
            got = e
        if got == value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{expression} is {got!r}, not {value!r}")
        await asyncio.sleep(0.05)


def _deliveries(srv: ServerProcess, delegate: str) -> dict[str, str]:
    """The secretariat's delivery matrix, for one delegate: document id → status of the current version."""
    with httpx.Client(base_url=srv.http, timeout=30) as http:
        token = login(http, "vanphong")
        r = http.get(f"/api/sessions/{SESSION}/documents/deliveries", headers={"authorization": f"Bearer {token}"})
        r.raise_for_status()
        m = r.json()
    row = next(r for r in m["rows"] if r["delegate_id"] == delegate)
    return {c["document_id"]: s for c, s in zip(m["columns"], row["statuses"], strict=True)}


async def _progress(page: Any) -> tuple[int, int]:
    el = page.locator("#sync-progress")
    return int(await el.get_attribute("data-ready") or -1), int(await el.get_attribute("data-total") or -1)


async def _show(page: Any, selector: str, block: str = "start") -> None:
    """Scroll a panel to the top of the screen (below the banners), or a row to its middle, for a screenshot."""
    await page.evaluate("([s, b]) => document.querySelector(s).scrollIntoView({ block: b })", [selector, block])


async def _kept(page: Any) -> list[str]:
    """The addresses of the copies in the device's document cache."""
    return sorted(
        await page.evaluate(
            "async () => (await (await caches.open('kyhop-docs')).keys()).map((r) => new URL(r.url).pathname)"
        )
    )


async def test_a_tablet_cut_off_reloads_reads_votes_and_loses_nothing(browser: Any) -> None:
    n = 41
    me = script.delegate_id(n)
    errors: list[str] = []
    answers: list[str] = []
    with ServerProcess() as srv:
        with httpx.Client(base_url=srv.http, timeout=60) as http:
            token = login(http, "vanphong")
            r = upload(http, token, three_pages(), document_id=DOC, kind="review_report", title="Báo cáo ngoại tuyến")
            assert r.status_code == 201, r.text
        secretary, chair = await _in_session(srv, [*range(1, 34), n])
        other = await _client(srv, "daibieu02")
        try:
            motion = "Thông qua Nghị quyết về dự toán ngân sách địa phương năm 2027"
            await chair.send(votes.OpenVote(round_id="bq-ngoai-tuyen", item_id="nq-ngan-sach", motion=motion))
            page = await _open_tablet(browser, srv, f"daibieu{n}", TABLET, errors)
            ctx = page.context

            # --- first visit: our report's copy arrives tampered, and every receipt is lost on the way
            async def tamper(route: Any) -> None:
                if DOC in route.request.url:
                    await route.fulfill(status=200, content_type="application/pdf", body=b"%PDF-1.7 not the file")
                else:
                    await route.continue_()

            await ctx.route("**/api/files/**", tamper)

            async def lose(route: Any) -> None:
                await route.abort("internetdisconnected")

            await ctx.route("**/receipt", lose)
            await page.goto(f"{srv.http}/tablet.html?session={SESSION}")
            await page.wait_for_selector("#conn.live")
            await page.wait_for_selector(f'[data-document="{DOC}"] [data-sync="mismatch"]', timeout=30_000)
            await page.wait_for_function(
                "() => { const p = document.querySelector('#sync-progress');"
                " return p && +p.dataset.ready === +p.dataset.total - 1; }",
                timeout=30_000,
            )
            ready, total = await _progress(page)
            assert total >= 2, "the demo's documents and ours"
            assert f"{ready}/{total} tài liệu sẵn sàng ngoại tuyến" in await page.inner_text("#sync-progress")
            assert "lỗi kiểm tra" in await page.inner_text(f'#document-list [data-document="{DOC}"]')
            await _until(lambda: _deliveries(srv, me).get(DOC) == "failed", "the mismatch to be reported")
            await _js(page, "await window.kyhopSync.outboxSize()", ready)
            await _axe(page, "a copy failed its check")
            await _show(page, "#documents")
            await _shot(page, "tablet-offline-sync-1280x800")
            await ctx.unroute("**/api/files/**", tamper)

            # --- reloaded online, from the service worker now: the report verifies (n/n)
            await page.reload()
            await page.wait_for_selector("#conn.live")
            assert await page.evaluate("!!navigator.serviceWorker.controller")
            await page.wait_for_selector(f'#sync-progress[data-ready="{total}"][data-total="{total}"]', timeout=30_000)
            await _js(page, "await window.kyhopSync.outboxSize()", total)
            assert all(s != "received" for s in _deliveries(srv, me).values())

            # --- the network is cut: offline, and the server goes down so the open socket closes
            # (once the device holds the last event number seen; events may still come until the kill)
            await _js(page, "(await window.kyhopOffline.stored()).lastSeq === window.kyhop.lastSeq", True)
            last_seq = await page.evaluate("window.kyhop.lastSeq")
            await ctx.set_offline(True)
            srv.kill()
            srv.stop()
            await page.wait_for_selector("#conn.offline")
            # reopened with no network at all: the page, its modules, pdf.js and the state come from the device
            await page.reload()
            banner = await page.wait_for_selector("#offline-state:not(.hidden)")
            assert re.search(r"Ngoại tuyến — trạng thái lúc \d\d:\d\d", await banner.inner_text())
            await page.wait_for_selector('.ballot[data-round="bq-ngoai-tuyen"] button[data-option="yes"]')
            await page.wait_for_selector(f'#sync-progress[data-ready="{total}"]')
            # the socket's last event number from the device: the one seen before the cut, or a later one that
            # arrived before the kill (it is what the server resumes from below)
            restored = await page.evaluate("window.kyhop.lastSeq")
            assert restored >= last_seq
            last_seq = restored
            await _axe(page, "offline, reopened")
            await _shot(page, "tablet-offline-reopened-1280x800")
            # a cached document in the reader
            await page.click(f'button[data-open="{DOC}"]')
            await page.wait_for_selector(f'#reader[data-document="{DOC}"][data-drawn="1"]', timeout=30_000)
            await page.click("#reader-next")
            await page.wait_for_selector('#reader[data-drawn="2"]')
            await _axe(page, "offline reader")
            await _shot(page, "tablet-offline-reader-1280x800")
            await page.click("#reader-close")
            # a ballot, queued
            await page.click('.ballot[data-round="bq-ngoai-tuyen"] button[data-option="yes"]')
            await page.click("dialog.confirm button.primary")
            await page.wait_for_selector('.ballot.sending[data-round="bq-ngoai-tuyen"]')
            await _js(page, "(await window.kyhopOffline.storedPending()).length", 1)
            ids = await page.evaluate("window.kyhop.pendingCommands().map((c) => c.id)")
            assert len(ids) == 1

            # --- reloaded again with the ballot pending: still "đang gửi", under the same command id
            await page.reload()
            await page.wait_for_selector('.ballot.sending[data-round="bq-ngoai-tuyen"]')
            assert await page.evaluate("window.kyhop.pendingCommands().map((c) => c.id)") == ids
            assert "Đang gửi phiếu: Tán thành" in await page.inner_text('.ballot.sending[data-round="bq-ngoai-tuyen"]')
            await page.wait_for_selector("#offline-state:not(.hidden)")
            await _axe(page, "offline, ballot pending after a reload")
            await _shot(page, "tablet-offline-ballot-pending-1280x800")

            # --- the server comes back; while this tablet is still cut off, another delegate votes
            await asyncio.to_thread(srv.start)
            await asyncio.gather(chair.ready(), other.ready())
            await other.send(
                votes.CastBallot(round_id="bq-ngoai-tuyen", delegate_id=script.delegate_id(2), option="no")
            )
            await ctx.unroute("**/receipt", lose)
            page.on("response", lambda r: "/receipt" in r.url and answers.append(f"{r.status} {r.url}"))
            await ctx.set_offline(False)
            await page.wait_for_selector('.ballot.done[data-round="bq-ngoai-tuyen"]', timeout=30_000)
            await page.wait_for_selector("#offline-state.hidden", state="attached")
            assert await page.evaluate("window.kyhop.pendingCommands().length") == 0
            await _js(page, "(await window.kyhopOffline.storedPending()).length", 0)
            # counted exactly once
            await _until(lambda: me in chair.state.votes.rounds["bq-ngoai-tuyen"].voted, "the chair to see it")
            await chair.send(votes.CloseRound(round_id="bq-ngoai-tuyen"))
            await _until(lambda: chair.state.votes.rounds["bq-ngoai-tuyen"].status == "closed", "the round to close")
            tally = chair.state.votes.rounds["bq-ngoai-tuyen"].tally
            assert tally["yes"] == 1 and tally["no"] == 1 and sum(tally.values()) == 2, tally
            # resumed from the sequence number kept on the device: exactly the events this delegate may see
            await page.wait_for_function("() => window.kyhop.state.votes.rounds['bq-ngoai-tuyen'].status === 'closed'")
            assert await page.evaluate("window.kyhop.welcome.resumed") is True
            assert await page.evaluate("window.kyhop.duplicates") == 0
            seen = await page.evaluate("window.kyhopOffline.seqs")
            async with httpx.AsyncClient(base_url=srv.http) as c:
                tok = (
                    await c.post("/api/auth/login", json={"username": f"daibieu{n}", "password": DEMO_PASSWORD})
                ).json()
                r = await c.get(
                    f"/api/sessions/{SESSION}/events",
                    params={"after": last_seq},
                    headers={"authorization": f"Bearer {tok['token']}"},
                )
            expected = [e["seq"] for e in r.json()["events"]]
            assert seen == expected[: len(seen)] and len(seen) >= 3, (seen, expected)
            # the receipts kept on the device were sent once back
            await _js(page, "await window.kyhopSync.outboxSize()", 0)
            statuses = _deliveries(srv, me)
            assert all(s == "received" for s in statuses.values()), (statuses, answers)
            await _axe(page, "back online")
        finally:
            await asyncio.gather(secretary.close(), chair.close(), other.close())
    errors[:] = [e for e in errors if not any(x in e for x in NETWORK_NOISE)]
    assert errors == [], errors


async def test_a_replaced_copy_is_kept_until_the_new_one_verifies_and_a_withdrawn_one_goes(browser: Any) -> None:
    n = 42
    errors: list[str] = []
    with ServerProcess() as srv:
        with httpx.Client(base_url=srv.http, timeout=60) as http:
            token = login(http, "vanphong")
            for doc, title in ((DOC, "Báo cáo có bản mới"), (OTHER, "Phụ lục sẽ rút lại")):
                r = upload(http, token, three_pages(), document_id=doc, kind="review_report", title=title)
                assert r.status_code == 201, r.text
        secretary, chair = await _in_session(srv, [*range(1, 34), n, 43])
        try:
            page = await _open_tablet(browser, srv, f"daibieu{n}", PHONE, errors)
            await page.goto(f"{srv.http}/tablet.html?session={SESSION}")
            await page.wait_for_selector("#conn.live")
            await page.wait_for_function(
                "() => { const p = document.querySelector('#sync-progress');"
                " return p && p.dataset.total > 0 && p.dataset.ready === p.dataset.total; }",
                timeout=30_000,
            )
            kept = await _kept(page)
            assert any(f"/{DOC}/v1" in k for k in kept) and any(f"/{OTHER}/v1" in k for k in kept)
            # the worker controls the tablet page only: the staff's pages are never served from a cache
            assert await page.evaluate("!!navigator.serviceWorker.controller")
            assert await page.evaluate("navigator.serviceWorker.getRegistration('/chair.html').then((r) => !r)")

            # --- version 2 arrives tampered: version 1 stays on the device and opens in the reader
            async def tamper(route: Any) -> None:
                if DOC in route.request.url and "v2-" in route.request.url:
                    await route.fulfill(status=200, content_type="application/pdf", body=b"%PDF-1.7 not the file")
                else:
                    await route.continue_()

            await page.context.route("**/api/files/**", tamper)
            with httpx.Client(base_url=srv.http, timeout=60) as http:
                second = three_pages() + b"\n% version 2\n"
                r = new_version(http, login(http, "vanphong"), DOC, second)
                assert r.status_code == 201, r.text
            row = f'#document-list [data-document="{DOC}"]'
            await page.wait_for_selector(f'{row} [data-sync="mismatch"]', timeout=30_000)
            assert "Đang giữ bản 1" in await page.inner_text(row)
            kept = await _kept(page)
            assert any(f"/{DOC}/v1" in k for k in kept) and not any(f"/{DOC}/v2" in k for k in kept)
            await _axe(page, "a new version failed its check")
            await _show(page, row, "center")
            await _shot(page, "tablet-offline-old-version-390x844")
            await page.click(f'button[data-open="{DOC}"]')
            await page.wait_for_selector(f'#reader[data-document="{DOC}"][data-drawn="1"]', timeout=30_000)
            await page.click("#reader-close")

            # --- the right bytes come: version 2 verifies, and only then version 1 is deleted
            await page.context.unroute("**/api/files/**", tamper)
            await page.evaluate("window.kyhopSync.documents.load()")
            await page.wait_for_selector(f'{row} [data-sync="ready"]', timeout=30_000)
            kept = await _kept(page)
            assert any(f"/{DOC}/v2" in k for k in kept) and not any(f"/{DOC}/v1" in k for k in kept)

            # --- withdrawn: gone from the device
            await secretary.send(mdocs.WithdrawDocument(document_id=OTHER, reason="Nộp nhầm"))
            await _js(
                page,
                f"(await (await caches.open('kyhop-docs')).keys()).some((r) => r.url.includes('/{OTHER}/'))",
                False,
            )
            ready, total = await _progress(page)
            assert ready == total

            # --- the same device handed to another delegate: nothing of the first one's stays on it
            async with httpx.AsyncClient(base_url=srv.http) as c:
                out = (
                    await c.post("/api/auth/login", json={"username": "daibieu43", "password": DEMO_PASSWORD})
                ).json()
            # the init scripts run in order: this one signs the device in as the other delegate
            await page.context.add_init_script(
                f"""localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
                localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))});"""
            )
            await page.reload()
            await page.wait_for_selector("#conn.live")
            await page.wait_for_function(
                "() => { const p = document.querySelector('#sync-progress');"
                " return p && p.dataset.total > 0 && p.dataset.ready === p.dataset.total; }",
                timeout=30_000,
            )
            kept = await _kept(page)
            assert kept and all("daibieu43" in k for k in kept), kept
            stored = await page.evaluate(
                """async () => { const db = await new Promise((ok) => { const r = indexedDB.open('kyhop-offline');
                    r.onsuccess = () => ok(r.result); });
                  const keys = await new Promise((ok) => { const r = db.transaction('sessions').objectStore('sessions')
                    .getAllKeys(); r.onsuccess = () => ok(r.result); });
                  db.close(); return keys; }"""
            )
            assert stored == [f"daibieu43@{SESSION}"], stored

            # --- a device with no room: nothing is called ready, and what did not fit is named
            full = await _open_tablet(browser, srv, "daibieu05", PHONE, errors)
            await full.add_init_script("navigator.storage.estimate = async () => ({ usage: 1000, quota: 1024 });")
            await full.goto(f"{srv.http}/tablet.html?session={SESSION}")
            quota = await full.wait_for_selector("#sync-quota", timeout=30_000)
            assert "Không đủ bộ nhớ trên máy" in await quota.inner_text()
            assert await full.locator('[data-sync="quota"]').count() >= 1
            ready, _total = await _progress(full)
            assert ready == 0
            await _axe(full, "no room on the device")
            await _show(full, "#documents")
            await _shot(full, "tablet-offline-quota-390x844")
        finally:
            await asyncio.gather(secretary.close(), chair.close())
    errors[:] = [e for e in errors if not any(x in e for x in NETWORK_NOISE)]
    assert errors == [], errors


async def test_the_web_budgets_bench_runs_and_every_tablet_gets_the_vote() -> None:
    """bench/web_budgets.py at small N (as tests/test_bench_smoke.py does for the others): correctness, never time."""
    with ServerProcess() as srv:
        out = await web_budgets.run(repeat=1, pages_n=2, rounds=1, pin=False, write=False, server=srv)
    assert out["first_load_ms"]["n"] == 1 and out["cached_reload_shown_ms"]["n"] == 1
    assert out["js_files_first_load"] >= 10 and out["js_bytes_first_load"] > 50_000
    banner = out["vote_banner"]
    assert banner["banner_on_pages_ms"]["n"] == 2
    assert banner["clients_reached"] == f"{web_budgets.TABLETS - 2}/{web_budgets.TABLETS - 2}"
