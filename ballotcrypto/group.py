"""The group, the hash and the encodings (docs/BALLOT-CRYPTO.md §2–3).

Group: ristretto255 (RFC 9496), prime order L. Every group operation is libsodium's, through PyPI `rbcl` (which
bundles libsodium): no curve arithmetic is written here. Scalars are Python ints mod L (exact, and Lagrange
coefficients, polynomials and sums read as the algebra they are); they go to libsodium as 32-byte little-endian
strings.

Points are `bytes` (the 32-byte canonical encoding); anything that comes from outside is checked with
`crypto_core_ristretto255_is_valid_point` before it is used (`parse_point`).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol

import rbcl

from ballotcrypto.errors import VerifyFailure

VERSION = "kyhop-ballot-v1"
L = 2**252 + 27742317777372353535851937790883648493  # order of ristretto255
IDENTITY = bytes(32)  # the encoding of the identity element


def scalar_bytes(k: int) -> bytes:
    return (k % L).to_bytes(32, "little")


def base_mul(k: int) -> bytes:
    """k·G. libsodium refuses a product equal to the identity (k ≡ 0), which we return as such."""
    k %= L
    if k == 0:
        return IDENTITY
    return bytes(rbcl.crypto_scalarmult_ristretto255_base(scalar_bytes(k)))


def mul(k: int, p: bytes) -> bytes:
    """k·P for a point already checked valid. In a prime-order group the product is the identity only if k ≡ 0
    or P is the identity, the two cases libsodium refuses."""
    k %= L
    if k == 0 or p == IDENTITY:
        return IDENTITY
    return bytes(rbcl.crypto_scalarmult_ristretto255(scalar_bytes(k), p))


def add(p: bytes, q: bytes) -> bytes:
    return bytes(rbcl.crypto_core_ristretto255_add(p, q))


def sub(p: bytes, q: bytes) -> bytes:
    return bytes(rbcl.crypto_core_ristretto255_sub(p, q))


G = base_mul(1)


def is_point(data: bytes) -> bool:
    """A canonical ristretto255 encoding (RFC 9496 §4.3.1). The libsodium that rbcl 1.1.2 bundles ignores the top
    bit (it accepts 00…00 80 as the identity), which RFC 9496 and @noble/curves refuse: checked here first, so
    both sides accept exactly the same strings."""
    return len(data) == 32 and data[31] < 0x80 and bool(rbcl.crypto_core_ristretto255_is_valid_point(data))


# --- hashing (§3) ----------------------------------------------------------------------------------------------------
Part = bytes | str | int


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _part(p: Part) -> bytes:
    if isinstance(p, bool):  # bool is an int: refuse it rather than hash it as 0/1 by accident
        raise TypeError("a hash input cannot be a bool")
    if isinstance(p, bytes):
        return p
    if isinstance(p, str):
        return p.encode("utf-8")
    if not 0 <= p < 2**64:
        raise ValueError("an integer hash input must fit in 64 bits")
    return p.to_bytes(8, "big")


def hash_bytes(tag: str, *parts: Part) -> bytes:
    """SHA-512 of the framed tag "kyhop-ballot-v1/<tag>" then every part framed (4-byte big-endian length, then
    the bytes): no two different input lists hash the same byte string, and no two tags share a hash."""
    h = hashlib.sha512(_frame(f"{VERSION}/{tag}".encode()))
    for p in parts:
        h.update(_frame(_part(p)))
    return h.digest()


def hash_scalar(tag: str, *parts: Part) -> int:
    """The 64-byte hash as a little-endian integer reduced mod L (bias below 2^-250)."""
    return int.from_bytes(hash_bytes(tag, *parts), "little") % L


def hash32(tag: str, *parts: Part) -> bytes:
    """Context hashes, trackers and fingerprints: the first 32 bytes of `hash_bytes`."""
    return hash_bytes(tag, *parts)[:32]


# --- parsing what comes from outside ----------------------------------------------------------------------------------
def parse_point(text: str, check: str, subject: str, *, allow_identity: bool = True) -> bytes:
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise VerifyFailure(check, subject, "not hexadecimal") from None
    if not is_point(data):
        raise VerifyFailure(check, subject, "not a canonical ristretto255 encoding")
    if not allow_identity and data == IDENTITY:
        raise VerifyFailure(check, subject, "the identity element is not allowed here")
    return data


def parse_scalar(text: str, check: str, subject: str) -> int:
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise VerifyFailure(check, subject, "not hexadecimal") from None
    k = int.from_bytes(data, "little")
    if len(data) != 32 or k >= L:
        raise VerifyFailure(check, subject, "not a canonical scalar (32 bytes, little-endian, below L)")
    return k


def hexs(k: int) -> str:
    return scalar_bytes(k).hex()


# --- randomness -------------------------------------------------------------------------------------------------------
class Rng(Protocol):
    def scalar(self) -> int: ...


class SystemRng:
    """The operating system's CSPRNG: 64 bytes reduced mod L, so the scalar is uniform up to 2^-250."""

    def scalar(self) -> int:
        return int.from_bytes(secrets.token_bytes(64), "little") % L


class SeededRng:
    """For test vectors only: the i-th scalar is H("test-drbg", seed, i) mod L (i = 0, 1, …), so another
    implementation that draws in the order §10 gives reproduces every byte."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.counter = 0

    def scalar(self) -> int:
        k = hash_scalar("test-drbg", self.seed, self.counter)
        self.counter += 1
        return k


def default_rng(rng: Rng | None) -> Rng:
    return rng if rng is not None else SystemRng()
