"""ballotcrypto/keystore.py, the key share at rest (docs/BALLOT-CRYPTO.md §13.1), against the tablet's keystore.js
both ways: a file sealed in Node opens here, the vector sealed here is reproduced byte for byte (and opens in Node:
tests/js/keystore.test.mjs); bad files and passphrases are refused with the tablet's sentences."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest

from ballotcrypto import keystore, vectors
from ballotcrypto.dkg import KeyShare
from tests.e2e import ROOT
from tests.test_web_ballotcrypto import run_node

VEC = json.loads((ROOT / "tests" / "vectors" / "ballotcrypto" / "keyshare.json").read_text(encoding="utf-8"))
SHARE = KeyShare(**VEC["share"])
WRONG = "Sai mật khẩu, hoặc tệp khóa đã bị sửa"
FAST = {"n": 2**14}  # the least a device accepts: the tests' cost (the default 2^15 is ~1 s)


def test_the_vector_opens_and_is_reproduced_from_its_salt() -> None:
    assert keystore.open(VEC["file"], VEC["passphrase"]) == SHARE
    assert keystore.open(json.dumps(VEC["file"]), unicodedata.normalize("NFD", VEC["passphrase"])) == SHARE
    salt = bytes.fromhex(VEC["file"]["kdf"]["salt"])
    assert keystore.seal(SHARE, vectors.KEYSHARE_PASSPHRASE, n=2**14, salt=salt) == VEC["file"]


def test_a_share_sealed_by_the_tablet_opens_here() -> None:
    script = (
        "const { bc, vector } = await import('./tests/js/vectors.mjs');"
        "const share = vector('ceremony.json').key_shares['2'];"
        "const file = await bc.sealKeyShare(share, 'Ủy viên số hai giữ khóa', { kdf: { N: 2 ** 14, r: 8, p: 1 } });"
        "console.log(JSON.stringify({ share, file }));"
    )
    done = run_node("--input-type=module", "-e", script)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert keystore.open(out["file"], "Ủy viên số hai giữ khóa") == KeyShare(**out["share"])
    with pytest.raises(keystore.KeyStoreError) as e:
        keystore.open(out["file"], "Uy vien so hai giu khoa")
    assert e.value.vi == WRONG


def test_a_fresh_sealing_draws_a_fresh_salt_and_hides_the_secret() -> None:
    a, b = (keystore.seal(SHARE, "Mười ký tự trở lên", **FAST) for _ in range(2))
    assert a["kdf"]["salt"] != b["kdf"]["salt"] and a["sealed"] != b["sealed"]
    assert SHARE.secret not in json.dumps(a)
    assert keystore.seal(SHARE, "Mười ký tự trở lên")["kdf"] | {"salt": ""} == {
        "name": "scrypt",
        "N": 2**15,
        "r": 8,
        "p": 1,
        "salt": "",
    }
    with pytest.raises(keystore.KeyStoreError, match="ít nhất 10 ký tự"):
        keystore.seal(SHARE, "ngắn quá")


def _edit(path: list[str], value: Any) -> dict[str, Any]:
    f = json.loads(json.dumps(VEC["file"]))
    target = f
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return f


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["member"], 4),  # the share moved onto another member's file
        (["ceremony_id"], "ban-kiem-phieu-11"),
        (["fingerprint"], "0" * 64),
        (["sealed"], VEC["file"]["sealed"][:-2] + "00"),
        (["kdf", "salt"], "00" * 16),
    ],
)
def test_an_altered_file_says_wrong_passphrase_or_altered(path: list[str], value: Any) -> None:
    with pytest.raises(keystore.KeyStoreError) as e:
        keystore.open(_edit(path, value), VEC["passphrase"])
    assert (e.value.vi, e.value.en) == (WRONG, "wrong passphrase, or the key file was altered")
    assert str(e.value) == f"{WRONG} / wrong passphrase, or the key file was altered"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["kdf", "N"], 2**21),  # 256 MiB at r = 8: over the bound, refused before any work
        (["kdf", "N"], 2**13),
        (["kdf", "N"], 3 * 2**14),  # not a power of two
        (["kdf", "N"], True),
        (["kdf", "r"], 17),
        (["kdf", "p"], 5),
        (["kdf", "p"], 0),
        (["kdf", "name"], "argon2id"),
        (["version"], "kyhop-keyshare-v2"),
        (["member"], "5"),
        (["sealed"], "00"),
        (["joint_key"], VEC["file"]["joint_key"].upper()),
    ],
)
def test_a_malformed_file_is_refused_before_scrypt(path: list[str], value: Any) -> None:
    with pytest.raises(keystore.KeyStoreError) as e:
        keystore.open(_edit(path, value), VEC["passphrase"])
    assert e.value.vi == "Tệp khóa không đúng định dạng"


@pytest.mark.parametrize("text", [b"", b"not json", b"[]", b"null", '{"version": "kyhop-keyshare-v1"}'])
def test_not_a_key_file(text: bytes | str) -> None:
    with pytest.raises(keystore.KeyStoreError, match="không đúng định dạng"):
        keystore.open(text, VEC["passphrase"])
