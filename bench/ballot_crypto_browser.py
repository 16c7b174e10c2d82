"""Verifiable ballots in the browser (issue 13 §3): encrypt + prove one ballot in Chromium, CPU throttled 4× as a
tablet (Chrome DevTools Protocol `Emulation.setCPUThrottlingRate`), with clients/web/js/ballotcrypto.js on
@noble/curves exactly as the pages load it (the import map, the /vendor/ files from node_modules).

Measured (median of `--repeat` runs each, after one warm-up):
- encrypt + prove a vote ballot of 3 options and a confidence-poll ballot of 10 officials × 3 levels (target
  ≤ 1 s each, throttled);
- verify one vote ballot in the browser (what the verifier page does per ballot);
- unthrottled, the same vote ballot (the machine's own speed, for the ratio).
Baselines, same page and throttling: one variable-base scalar multiplication (noble's constant-time `multiply`, the
operation a proof is made of) and one SHA-256 of 1 kB; the ratio ballot / scalar multiplication does not depend
much on how busy the shared machine is.

The files are served to the page by Playwright's request routing from the checkout (no server process): what is
timed is the JavaScript alone.

    python -m bench.ballot_crypto_browser --repeat 9
"""

from __future__ import annotations

import asyncio
import mimetypes
import shutil
from pathlib import Path
from typing import Any

from bench.common import conclude, log, machine, parser, summary

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "clients" / "web"
NODE_MODULES = ROOT / "node_modules"
ORIGIN = "http://bench.kyhop.invalid"
THROTTLE = 4  # a mid-range tablet against this machine's core (issue 13 §3)
TARGET_MS = 1000.0
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>bench</title>
<script type="importmap">{"imports": {"@noble/curves/": "/vendor/@noble/curves/",
"@noble/hashes/": "/vendor/@noble/hashes/", "@noble/ciphers/": "/vendor/@noble/ciphers/"}}</script>
<script type="module">
import * as bc from "/js/ballotcrypto.js";
import { ristretto255 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
const P = ristretto255.Point;
// A round as the server opens it: a joint key nobody holds the secret of here (a random point: encryption and
// proofs cost the same), the vote's 3 options, a 10-official poll.
const key = P.BASE.multiply(bc.systemRng.scalar());
const fp = new Uint8Array(32);
const vote = bc.roundContext(bc.voteRound("hdnd", "ky-hop", "r1", ["yes", "no", "abstain"]), key, fp);
const officials = Array.from({length: 10}, (_, i) => `quan-chuc-${i + 1}`);
const poll = bc.roundContext(bc.pollRound("hdnd", "ky-hop", "p1", officials, ["high", "trust", "low"]), key, fp);
const marks = Object.fromEntries(officials.map((o, i) => [o, i % 4 === 3 ? null : ["high", "trust", "low"][i % 3]]));
const time = (fn, n = 1) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t0) / n;
};
const kb = new Uint8Array(1024);
const sample = bc.encryptBallot(vote, bc.voteChoices(vote.spec, "no")).ballot;
window.bench = {
  varMul: () => { const k = bc.systemRng.scalar(); const p = key; return time(() => p.multiply(k), 20); },
  sha256: () => time(() => sha256(kb), 200),
  vote: () => time(() => bc.encryptBallot(vote, bc.voteChoices(vote.spec, "no"))),
  poll: () => time(() => bc.encryptBallot(poll, bc.pollChoices(poll.spec, marks))),
  verify: () => time(() => bc.verifyBallot(vote, sample)),
};
window.benchReady = true;
</script></head><body></body></html>"""


async def _serve(route: Any) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    if path == "/":
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)
        return
    base, rel = (NODE_MODULES, path.removeprefix("/vendor/")) if path.startswith("/vendor/") else (WEB, path[1:])
    file = (base / rel).resolve()
    if not file.is_file() or base.resolve() not in file.parents:
        await route.fulfill(status=404, body="not found")
        return
    ctype = "text/javascript" if file.suffix in {".js", ".mjs"} else mimetypes.guess_type(file.name)[0] or "text/plain"
    await route.fulfill(status=200, content_type=ctype, body=file.read_bytes())


async def _measure(repeat: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: `make browser` installs it")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            page = await browser.new_page()
            await page.route(f"{ORIGIN}/**", _serve)
            await page.goto(f"{ORIGIN}/")
            await page.wait_for_function("window.benchReady === true", timeout=60_000)
            cdp = await page.context.new_cdp_session(page)

            async def runs(name: str, n: int) -> list[float]:
                await page.evaluate(f"window.bench.{name}()")  # warm-up (JIT, noble's precomputed tables)
                return [float(await page.evaluate(f"window.bench.{name}()")) / 1000 for _ in range(n)]

            unthrottled = await runs("vote", repeat)
            var_mul_fast = await runs("varMul", repeat)
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
            log(f"CPU throttled {THROTTLE}×")
            out = {
                "var_mul": await runs("varMul", repeat),
                "sha256_1k": await runs("sha256", repeat),
                "vote": await runs("vote", repeat),
                "poll": await runs("poll", max(3, repeat // 3)),
                "verify": await runs("verify", repeat),
                "vote_unthrottled": unthrottled,
                "var_mul_unthrottled": var_mul_fast,
                "user_agent": await page.evaluate("navigator.userAgent"),
            }
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            return out
        finally:
            await browser.close()


def run(repeat: int = 9, write: bool = True) -> dict[str, Any]:
    m = asyncio.run(_measure(repeat))
    vote_ms = summary(m["vote"])
    mul_ms = summary(m["var_mul"], digits=3)
    result: dict[str, Any] = {
        "name": "ballot_crypto_browser",
        "machine": machine(),
        "browser": m["user_agent"],
        "inputs": {"cpu_throttling": THROTTLE, "repeat": repeat, "vote_options": 3, "poll": "10 officials × 3"},
        "baseline_throttled_ms": {"var_mul": mul_ms, "sha256_1k": summary(m["sha256_1k"], digits=4)},
        "encrypt_vote_ballot_throttled_ms": vote_ms,
        "encrypt_poll_ballot_throttled_ms": summary(m["poll"]),
        "verify_vote_ballot_throttled_ms": summary(m["verify"]),
        "encrypt_vote_ballot_unthrottled_ms": summary(m["vote_unthrottled"]),
        "baseline_unthrottled_ms": {"var_mul": summary(m["var_mul_unthrottled"], digits=3)},
        # A vote ballot: 3 encryptions (6 multiplications) and 4 range proofs (~24 more): about 30 multiplications.
        "ratio_vote_to_var_mul": round(float(vote_ms["median"]) / float(mul_ms["median"]), 1),
    }
    poll_ms = result["encrypt_poll_ballot_throttled_ms"]
    meets = {
        f"encrypt_vote_ballot_throttled_{THROTTLE}x_under_{TARGET_MS:g}_ms": vote_ms["median"] <= TARGET_MS,
        f"encrypt_poll_ballot_throttled_{THROTTLE}x_under_{TARGET_MS:g}_ms": poll_ms["median"] <= TARGET_MS,
    }
    return conclude(result, meets, write)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = ap.parse_args()
    run(args.repeat, write=not args.no_write)


if __name__ == "__main__":
    main()
