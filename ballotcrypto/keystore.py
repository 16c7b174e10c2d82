"""A committee member's key share at rest (docs/BALLOT-CRYPTO.md §13.1), the same JSON as the tablet's
(clients/web/js/ballotcrypto/keystore.js): what a device keeps and the backup file a member takes home. The secret
is sealed under the member's passphrase — scrypt (`hashlib.scrypt`, OpenSSL) stretches it with a fresh random salt,
ChaCha20-Poly1305 (`cryptography`) seals the 32-byte share with the public fields' hash as associated data.

A file sealed by a tablet opens here and one sealed here opens on a tablet (tests/test_keystore.py,
tests/js/keystore.test.mjs). The refusals are the tablet's, word for word.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from collections.abc import Mapping
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ballotcrypto.dkg import KeyShare
from ballotcrypto.group import L, hash32

KEYSHARE_VERSION = "kyhop-keyshare-v1"
# 2^15 × 128 × 8 bytes = 32 MiB and ~1 s on one core here, paid once per unlock; as keystore.js.
N, R, P = 2**15, 8, 1
MIN_PASSPHRASE = 10
# Bounds on a file's parameters, so a crafted file cannot make a device spend minutes or gigabytes (keystore.js).
N_MIN, N_MAX, R_MAX, P_MAX = 2**14, 2**20, 16, 4
_NONCE = bytes(12)  # a fresh salt per sealing gives a fresh key, used once: the fixed nonce is safe (§13.1)
_HEX = {n: re.compile(f"[0-9a-f]{{{n}}}") for n in (32, 64, 96)}

FORMAT = ("Tệp khóa không đúng định dạng", "the key file is not in the expected format")
WRONG = ("Sai mật khẩu, hoặc tệp khóa đã bị sửa", "wrong passphrase, or the key file was altered")


class KeyStoreError(ValueError):
    """A refusal with its Vietnamese and English sentence (`str()` gives both, as the tablet shows them)."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


def _aad(ceremony_id: str, member: int, joint_key: str, fingerprint: str) -> bytes:
    """H32("keyshare", …): binds the public fields, so a share moved onto another member's file does not open."""
    return hash32("keyshare", ceremony_id, member, bytes.fromhex(joint_key), bytes.fromhex(fingerprint))


def _stretch(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # NFC: the same Vietnamese passphrase typed with composed or combining marks gives the same key.
    data = unicodedata.normalize("NFC", passphrase).encode()
    # OpenSSL needs 128·r·(N + p + 2) bytes; hashlib's default ceiling (32 MiB) is just below N = 2^15, r = 8.
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=128 * r * (n + p + 2) + 2**16)


def seal(
    share: KeyShare, passphrase: str, *, n: int = N, r: int = R, p: int = P, salt: bytes | None = None
) -> dict[str, Any]:
    """The §13.1 JSON object for `share`. `salt` is for test vectors only (default: 16 fresh random bytes)."""
    if len(unicodedata.normalize("NFC", passphrase)) < MIN_PASSPHRASE:
        raise KeyStoreError(
            f"Mật khẩu phải có ít nhất {MIN_PASSPHRASE} ký tự",
            f"the passphrase needs at least {MIN_PASSPHRASE} characters",
        )
    salt = secrets.token_bytes(16) if salt is None else salt
    assert len(salt) == 16
    key = _stretch(passphrase, salt, n, r, p)
    ad = _aad(share.ceremony_id, share.member, share.joint_key, share.fingerprint)
    sealed = ChaCha20Poly1305(key).encrypt(_NONCE, bytes.fromhex(share.secret), ad)
    return {
        "version": KEYSHARE_VERSION,
        "ceremony_id": share.ceremony_id,
        "member": share.member,
        "joint_key": share.joint_key,
        "fingerprint": share.fingerprint,
        "kdf": {"name": "scrypt", "N": n, "r": r, "p": p, "salt": salt.hex()},
        "sealed": sealed.hex(),
    }


def _int(x: Any, lo: int, hi: int) -> bool:
    return type(x) is int and lo <= x <= hi  # not bool: JSON `true` is no integer (as Number.isInteger)


def _hex(x: Any, n: int) -> bool:
    return isinstance(x, str) and _HEX[n].fullmatch(x) is not None


def _well_formed(f: Any) -> bool:
    if not isinstance(f, Mapping):
        return False
    k = f.get("kdf")
    return (
        f.get("version") == KEYSHARE_VERSION
        and isinstance(f.get("ceremony_id"), str)
        and _int(f.get("member"), 0, 2**53)
        and _hex(f.get("joint_key"), 64)
        and _hex(f.get("fingerprint"), 64)
        and _hex(f.get("sealed"), 96)
        and isinstance(k, Mapping)
        and k.get("name") == "scrypt"
        and _hex(k.get("salt"), 32)
        and _int(k.get("N"), N_MIN, N_MAX)
        and k["N"] & (k["N"] - 1) == 0
        and _int(k.get("r"), 1, R_MAX)
        and _int(k.get("p"), 1, P_MAX)
    )


def open(file: Mapping[str, Any] | bytes | str, passphrase: str) -> KeyShare:
    """The share back from the §13.1 JSON (an object, or its text), or KeyStoreError: a malformed file, or the
    wrong passphrase — which cannot be told from an altered file, so both say so. (Named `open` as the module's
    verb, `keystore.open`; this module never calls the builtin.)"""
    f: Any = file
    if isinstance(file, bytes | str):
        try:
            f = json.loads(file)
        except ValueError:
            raise KeyStoreError(*FORMAT) from None
    if not _well_formed(f):
        raise KeyStoreError(*FORMAT)
    k = f["kdf"]
    key = _stretch(str(passphrase), bytes.fromhex(k["salt"]), k["N"], k["r"], k["p"])
    ad = _aad(f["ceremony_id"], f["member"], f["joint_key"], f["fingerprint"])
    try:
        secret = ChaCha20Poly1305(key).decrypt(_NONCE, bytes.fromhex(f["sealed"]), ad)
    except InvalidTag:
        raise KeyStoreError(*WRONG) from None
    if int.from_bytes(secret, "little") >= L:
        raise KeyStoreError(*FORMAT)
    return KeyShare(
        ceremony_id=f["ceremony_id"],
        member=f["member"],
        secret=secret.hex(),
        joint_key=f["joint_key"],
        fingerprint=f["fingerprint"],
    )


def dumps(file: Mapping[str, Any]) -> bytes:
    """The file's bytes as written to disk (UTF-8 JSON, one object)."""
    return msgspec.json.format(msgspec.json.encode(file), indent=2) + b"\n"
