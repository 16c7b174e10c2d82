"""Web budgets — the delegate's tablet page in Debian's chromium (Playwright), on loopback (issue 11 §Tests).

Measured, `--repeat` times each in a fresh browser context signed in as a delegate of the demo session:
- first load: from the start of the navigation to the session shown and live (agenda drawn, socket's hello
  answered), with an empty cache, measured in the page (performance.now() in a MutationObserver) — target ≤ 1 s;
- cached reload: the same page reloaded once its service worker (clients/web/sw.js) controls it, from navigation
  to the session shown (from the device: the shell from the worker's cache, the last state from IndexedDB) —
  target ≤ 300 ms; and to live again (socket resumed), reported;
- JS shipped: the bytes of JavaScript the first load fetched (Resource Timing, encoded body size), and pdf.js with
  its worker, which the page imports only when a document is first opened;
- the vote banner on 125 tablets: `--pages` real tablet pages (each in its own context, a checked-in delegate)
  and 125 − pages protocol clients (bench/wsclient.py, anonymous public tablets: the same fan-out), the chair
  opens a vote over HTTP `--rounds` times; time from the command sent to the banner "Đang biểu quyết" on each
  page (a MutationObserver notes Date.now()) and to the event on each client. 125 full pages would need
  ~6 GB and 125 renderers on the bench machine's 2 cores: the pages measure the page's own work (the event, the
  re-read of the session, the render), the clients the server's fan-out to the rest of the hall.
  Target: every page ≤ 1 s (the issue gives none; 1 s is "at once" for a delegate looking up).
Baseline, same run: the same browser loading a static copy of tablet.html (its markup and CSS, no script) from a
plain Python HTTP server, first and reloaded (HTTP cache), to its load event: the cost of any page at all on this
machine; the ratio is tablet / static.

    python -m bench.web_budgets --repeat 5 --pages 8 --rounds 3
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import re
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import scene
from bench.common import ROOT, conclude, kyhop_server, log, machine, now, parser, plan_cores, run_async, summary
from bench.wsclient import Ev, Tablet, close_all, connect_many
from meeting import script
from server.demo import DEMO_PASSWORD

FIRST_TARGET_MS = 1000.0
CACHED_TARGET_MS = 300.0
BANNER_TARGET_MS = 1000.0
TABLETS = 125
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WEB = ROOT / "clients" / "web"
SHOWN = "#agenda-list li"
# Times measured in the page, from the start of its navigation (performance.now()): when the session is first
# drawn, and when the socket is live. Playwright's own round trips (~10-50 ms per wait) are not in them.
PAINT_WATCH = """
window.__shownAt = null; window.__liveAt = null;
new MutationObserver(() => {
  if (window.__shownAt === null && document.querySelector('#agenda-list li')) window.__shownAt = performance.now();
  if (window.__liveAt === null && document.querySelector('#conn.live')) window.__liveAt = performance.now();
}).observe(document, { subtree: true, childList: true, attributes: true });
"""
# Set on every page before it loads: the first moment the banner shows the round the bench expects.
BANNER_WATCH = """
window.__bannerAt = null; window.__expect = null;
new MutationObserver(() => {
  const a = document.querySelector('#alert');
  if (window.__expect && window.__bannerAt === null && a && !a.classList.contains('hidden')
      && a.textContent.includes(window.__expect)) window.__bannerAt = Date.now();
}).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"""


def static_copy(folder: Path) -> None:
    """tablet.html without its script, with its stylesheets: the baseline page."""
    html = re.sub(r"<script[^>]*></script>", "", (WEB / "tablet.html").read_text(encoding="utf-8"))
    (folder / "tablet.html").write_text(html, encoding="utf-8")
    shutil.copytree(WEB / "css", folder / "css")
    shutil.copy(WEB / "favicon.svg", folder / "favicon.svg")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_static(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


async def signed_in(browser: Any, http: str, username: str, watch: bool = False) -> Any:
    out = await scene.call("POST", f"{http}/api/auth/login", {"username": username, "password": DEMO_PASSWORD})
    ctx = await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
    await ctx.add_init_script(
        f"""localStorage.setItem("kyhop.token", {json.dumps(out["token"])});
        localStorage.setItem("kyhop.account", {json.dumps(json.dumps(out["account"]))});"""
        + PAINT_WATCH
        + (BANNER_WATCH if watch else "")
    )
    return await ctx.new_page()


async def page_loads(browser: Any, http: str, static: str, repeat: int) -> dict[str, Any]:
    first, cached, cached_live, base_first, base_cached = [], [], [], [], []
    js_bytes = js_files = 0
    url = f"{http}/tablet.html?session={script.SESSION_ID}"
    for i in range(repeat):
        page = await signed_in(browser, http, f"daibieu{2 + i % 40:02d}")
        await page.goto(url)
        await page.wait_for_function("window.__shownAt !== null && window.__liveAt !== null")
        first.append(max(await page.evaluate("[window.__shownAt, window.__liveAt]")) / 1000)
        js = await page.evaluate(
            """performance.getEntriesByType('resource').filter((e) => /\\.m?js$/.test(new URL(e.name).pathname))
                .map((e) => e.encodedBodySize)"""
        )
        js_bytes, js_files = sum(js), len(js)
        await page.wait_for_function("!!navigator.serviceWorker.controller", timeout=30_000)
        await page.wait_for_function("!!window.kyhopOffline && !!window.kyhopOffline.savedAt")
        await asyncio.sleep(0.4)  # the state is written to IndexedDB at most every 250 ms
        await page.reload()
        await page.wait_for_function("window.__shownAt !== null && window.__liveAt !== null")
        shown, live = await page.evaluate("[window.__shownAt, window.__liveAt]")
        cached.append(shown / 1000)
        cached_live.append(live / 1000)
        await page.context.close()

        base = await browser.new_page()
        loaded = "performance.getEntriesByType('navigation')[0].loadEventEnd"
        await base.goto(f"{static}/tablet.html")
        await base.wait_for_function(f"{loaded} > 0")
        base_first.append(await base.evaluate(loaded) / 1000)
        await base.reload()
        await base.wait_for_function(f"{loaded} > 0")
        base_cached.append(await base.evaluate(loaded) / 1000)
        await base.context.close()
    pdfjs = sum(
        (ROOT / "node_modules" / "pdfjs-dist" / "build" / f).stat().st_size
        for f in ("pdf.min.mjs", "pdf.worker.min.mjs")
    )
    return {
        "first_load_ms": summary(first),
        "cached_reload_shown_ms": summary(cached),
        "cached_reload_live_ms": summary(cached_live),
        "baseline_static_first_ms": summary(base_first),
        "baseline_static_reload_ms": summary(base_cached),
        "first_ratio_vs_baseline": round(statistics.median(first) / statistics.median(base_first), 2),
        "cached_ratio_vs_baseline": round(statistics.median(cached) / statistics.median(base_cached), 2),
        "js_bytes_first_load": js_bytes,
        "js_files_first_load": js_files,
        "js_bytes_pdfjs_on_first_document": pdfjs,
    }


async def vote_banner(browser: Any, http: str, ws: str, pages_n: int, rounds: int) -> dict[str, Any]:
    demo = await scene.open_demo_session(http, present=34)
    url = f"{http}/tablet.html?session={demo.session_id}"
    pages = [await signed_in(browser, http, f"daibieu{2 + i:02d}", watch=True) for i in range(pages_n)]
    for p in pages:
        await p.goto(url)
        await p.wait_for_selector("#conn.live")
        await p.wait_for_selector(SHOWN)
    arrived: dict[int, float] = {}

    def hook(t: Tablet, seq: int, ev: Ev, at: float) -> None:
        if ev.type == "vote_round_opened" and id(t) not in arrived:
            arrived[id(t)] = at

    clients = await connect_many(f"{ws}/ws/sessions/{demo.session_id}", TABLETS - pages_n, on_event=hook)
    on_pages: list[float] = []
    on_clients: list[float] = []
    try:
        for k in range(rounds):
            motion = f"Biểu quyết thông qua điều {k + 1} của dự thảo nghị quyết"
            for p in pages:
                await p.evaluate("(m) => { window.__expect = m; window.__bannerAt = null; }", motion)
            arrived.clear()
            command = scene.open_vote(f"bq-web-{k}", demo.item_id) | {"motion": motion}
            sent_wall, sent = time.time() * 1000, now()
            await scene.session_cmd(http, demo.session_id, demo.chair_token, f"web-open-{k}", command)
            for p in pages:
                await p.wait_for_function("window.__bannerAt !== null", timeout=30_000)
                on_pages.append((await p.evaluate("window.__bannerAt") - sent_wall) / 1000)
            deadline = now() + 30
            while len(arrived) < len(clients) and now() < deadline:
                await asyncio.sleep(0.01)
            on_clients += [at - sent for at in arrived.values()]
            await scene.session_cmd(
                http, demo.session_id, demo.chair_token, f"web-close-{k}", scene.close_vote(f"bq-web-{k}")
            )
            for p in pages:
                await p.wait_for_selector("#alert.hidden", state="attached")
    finally:
        await close_all(clients)
        for p in pages:
            await p.context.close()
    return {
        "tablets": TABLETS,
        "pages": pages_n,
        "protocol_clients": len(clients),
        "rounds": rounds,
        "banner_on_pages_ms": summary(on_pages),
        "event_on_clients_ms": summary(on_clients),
        "clients_reached": f"{len(on_clients)}/{len(clients) * rounds}",
    }


async def run(
    repeat: int, pages_n: int, rounds: int, pin: bool, write: bool = True, server: Any = None
) -> dict[str, Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    cores = plan_cores(pin)
    with kyhop_server(cores, existing=server) as srv, tempfile.TemporaryDirectory() as tmp:
        static_copy(Path(tmp))
        httpd, static = serve_static(Path(tmp))
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, timeout=60_000)
                try:
                    log("web: page loads")
                    loads = await page_loads(browser, srv.http, static, repeat)
                    log("web: vote banner on", TABLETS, "tablets")
                    banner = await vote_banner(browser, srv.http, srv.ws, pages_n, rounds)
                finally:
                    await browser.close()
        finally:
            httpd.shutdown()
            httpd.server_close()
    result: dict[str, Any] = {"name": "web_budgets", "machine": machine(cores), "repeat": repeat, **loads}
    result["vote_banner"] = banner
    meets = {
        "first_load_le_1s": loads["first_load_ms"]["median"] <= FIRST_TARGET_MS,
        "cached_reload_le_300ms": loads["cached_reload_shown_ms"]["median"] <= CACHED_TARGET_MS,
        "banner_every_page_le_1s": banner["banner_on_pages_ms"]["max"] <= BANNER_TARGET_MS,
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pages", type=int, default=8, help="real tablet pages among the 125 tablets")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    run_async(run(args.repeat, args.pages, args.rounds, not args.no_pin))


if __name__ == "__main__":
    main()
