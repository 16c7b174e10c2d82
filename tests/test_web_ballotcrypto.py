"""The browser's ballot crypto (clients/web/js/ballotcrypto.js, on @noble/curves) against the Python package, both
ways (issue 13 §2): the Node tests (tests/js/ballotcrypto.test.mjs) reproduce every Python vector byte for byte
and name every tampered board's check as Python does; boards the JS makes — ballots from the platform's CSPRNG,
partial decryptions, the result — pass the Python verifier, and a tampered one does not.

Needs Node.js and the npm packages (`make node_modules/.installed`); under CI=true a missing one fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import unicodedata
from typing import Any

import msgspec
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ballotcrypto import ballots, board, dkg
from ballotcrypto import records as rec
from ballotcrypto.errors import CHECKS
from ballotcrypto.group import hash32
from tests.e2e import ROOT


def node() -> str:
    found = shutil.which("node")
    if found is None or not (ROOT / "node_modules" / "@noble" / "curves").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("node or node_modules/@noble missing: run `make node_modules/.installed`")
        pytest.skip("node or node_modules/@noble missing")
    return found


def run_node(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([node(), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def test_node_reproduces_the_python_vectors() -> None:
    done = run_node("--test", "tests/js/")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 12" in done.stdout, done.stdout[-2000:]


def js_board(kind: str, n: int) -> tuple[dict[str, Any], list[list[list[int]]]]:
    done = run_node("tests/js/make_board.mjs", kind, str(n))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    return out["board"], out["choices"]


@pytest.mark.parametrize(("kind", "n"), [("vote", 12), ("poll", 5)])
def test_python_verifies_what_the_browser_makes(kind: str, n: int) -> None:
    data, choices = js_board(kind, n)
    report = board.verify_board(json.dumps(data).encode())
    assert report.ok, report.failure
    # The counts are the choices the JS encrypted (nonces from the CSPRNG, so only the sums can be compared).
    want = [[sum(c[q][k] for c in choices) for k in range(len(choices[0][q]))] for q in range(len(choices[0]))]
    assert data["result"]["counts"] == want
    assert report.board is not None and len(report.board.ballots) == n
    # Two runs never make the same ballot: the browser's randomness is not the vectors' seed.
    again, _ = js_board(kind, 1)
    assert again["ballots"][0]["tracker"] not in {b["tracker"] for b in data["ballots"]}


def test_python_refuses_a_tampered_browser_ballot() -> None:
    data, _ = js_board("vote", 3)
    full = msgspec.convert(data, rec.Board)
    out = dkg.check_ceremony(full.ceremony)
    ctx = ballots.round_context(full.round, out.joint_key, out.fingerprint)
    for b in full.ballots:
        ballots.verify_ballot(ctx, b)
    proof = data["ballots"][1]["answers"][0]["choice_proofs"][0]
    proof["responses"][0], proof["responses"][1] = proof["responses"][1], proof["responses"][0]
    report = board.verify_board(json.dumps(data).encode())
    assert report.failure is not None and report.failure.check == "ballot_choice_proof", report.failure
    # A ballot copied from the JS board into another round does not verify there either (bound to Qr).
    data, _ = js_board("vote", 2)
    data["round"]["round_id"] = "bieu-quyet-khac"
    data["round"]["questions"][0]["id"] = "bieu-quyet-khac"
    report = board.verify_board(json.dumps(data).encode())
    assert report.failure is not None and report.failure.check == "ballot_tracker"


def test_the_page_names_each_check_as_python_does() -> None:
    script = "import('./clients/web/js/ballotcrypto.js').then(m => console.log(JSON.stringify(m.CHECKS)))"
    done = run_node("--input-type=module", "-e", script)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {k: list(v) for k, v in CHECKS.items()}


def test_a_key_share_sealed_in_the_browser_opens_in_python_with_the_documented_recipe() -> None:
    """docs/BALLOT-CRYPTO.md §13.1 from the document alone: scrypt, the "keyshare" hash as associated data,
    ChaCha20-Poly1305 — so a member's backup file does not depend on this JavaScript to be opened."""
    script = (
        "const { bc, vector } = await import('./tests/js/vectors.mjs');"
        "const share = vector('ceremony.json').key_shares['5'];"
        "const file = await bc.sealKeyShare(share, 'Mật khẩu của ủy viên', { kdf: { N: 2 ** 14, r: 8, p: 1 } });"
        "console.log(JSON.stringify(file));"
    )
    done = run_node("--input-type=module", "-e", script)
    assert done.returncode == 0, done.stderr
    f = json.loads(done.stdout)
    k = f["kdf"]
    key = hashlib.scrypt(
        unicodedata.normalize("NFC", "Mật khẩu của ủy viên").encode(),
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
    secret = ChaCha20Poly1305(key).decrypt(bytes(12), bytes.fromhex(f["sealed"]), ad)
    share = json.loads((ROOT / "tests" / "vectors" / "ballotcrypto" / "ceremony.json").read_text())["key_shares"]["5"]
    assert secret.hex() == share["secret"]
    with pytest.raises(InvalidTag):
        ChaCha20Poly1305(key).decrypt(bytes(12), bytes.fromhex(f["sealed"]), ad[:-1] + b"\0")
