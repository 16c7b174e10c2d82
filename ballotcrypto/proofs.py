"""Exponential ElGamal and the three zero-knowledge proofs, made non-interactive by Fiat–Shamir with the whole
statement and every commitment in the hash (docs/BALLOT-CRYPTO.md §4).

- Schnorr: knowledge of x with X = x·G.
- Chaum–Pedersen (DLEQ): the same x in X1 = x·B1 and X2 = x·B2.
- Range (disjunctive Chaum–Pedersen, Cramer–Damgård–Schoenmakers): a ciphertext holds one of lo…hi — with
  lo = 0, hi = 1 the "0 or 1" proof of a box, with lo = hi = 1 the "exactly one" proof of a vote.

Proofs are (challenge, response) pairs; the verifier recomputes the commitments from them and checks the hash.
`context` is the list of hash inputs that binds a proof to where it stands (ceremony or round context hash,
tracker, indices): the same proof copied elsewhere does not verify.
"""

from __future__ import annotations

from collections.abc import Sequence

from ballotcrypto.group import G, L, Part, Rng, add, base_mul, hash_scalar, mul, sub

Pair = tuple[bytes, bytes]  # (alpha, beta)

# v·G for the small values a range proof names (0 … 20 options), computed once.
_SMALL: dict[int, bytes] = {}


def small(v: int) -> bytes:
    p = _SMALL.get(v)
    if p is None:
        p = _SMALL[v] = base_mul(v)
    return p


def encrypt(key: bytes, m: int, r: int) -> Pair:
    """Exponential ElGamal: (r·G, m·G + r·K). Adding ciphertexts adds the messages."""
    return base_mul(r), add(small(m), mul(r, key))


def add_pairs(x: Pair, y: Pair) -> Pair:
    return add(x[0], y[0]), add(x[1], y[1])


# --- Schnorr ---------------------------------------------------------------------------------------------------------
def schnorr_prove(x: int, tag: str, context: Sequence[Part], rng: Rng) -> tuple[int, int]:
    point = base_mul(x)
    w = rng.scalar()
    c = hash_scalar(tag, *context, point, base_mul(w))
    return c, (w + c * x) % L


def schnorr_valid(point: bytes, c: int, z: int, tag: str, context: Sequence[Part]) -> bool:
    a = sub(base_mul(z), mul(c, point))
    return c == hash_scalar(tag, *context, point, a)


# --- Chaum–Pedersen --------------------------------------------------------------------------------------------------
def dleq_prove(x: int, b2: bytes, tag: str, context: Sequence[Part], rng: Rng) -> tuple[int, int]:
    """Proves log_G (x·G) = log_B2 (x·B2)."""
    x1, x2 = base_mul(x), mul(x, b2)
    w = rng.scalar()
    c = hash_scalar(tag, *context, G, x1, b2, x2, base_mul(w), mul(w, b2))
    return c, (w + c * x) % L


def dleq_valid(x1: bytes, b2: bytes, x2: bytes, c: int, z: int, tag: str, context: Sequence[Part]) -> bool:
    a1 = sub(base_mul(z), mul(c, x1))
    a2 = sub(mul(z, b2), mul(c, x2))
    return c == hash_scalar(tag, *context, G, x1, b2, x2, a1, a2)


# --- range -----------------------------------------------------------------------------------------------------------
def range_prove(
    key: bytes, ct: Pair, m: int, r: int, lo: int, hi: int, context: Sequence[Part], rng: Rng
) -> tuple[list[int], list[int]]:
    """Branch v claims (alpha, beta − v·G) encrypts 0 under `key`, i.e. log_G alpha = log_K (beta − v·G). The real
    branch (v = m) is proved with a fresh w; every other branch is simulated from a chosen challenge and
    response. Randomness drawn in ascending v: w for the real branch, c_v then z_v for each other."""
    if not lo <= m <= hi:
        raise ValueError("the message is outside the range it is to be proved in")
    alpha, beta = ct
    cs: list[int] = []
    zs: list[int] = []
    commits: list[bytes] = []
    w = 0
    for v in range(lo, hi + 1):
        if v == m:
            w = rng.scalar()
            cs.append(0)
            zs.append(0)
            commits += [base_mul(w), mul(w, key)]
        else:
            c_v, z_v = rng.scalar(), rng.scalar()
            cs.append(c_v)
            zs.append(z_v)
            shifted = sub(beta, small(v)) if v else beta
            commits += [sub(base_mul(z_v), mul(c_v, alpha)), sub(mul(z_v, key), mul(c_v, shifted))]
    c = hash_scalar("range", *context, lo, hi, alpha, beta, *commits)
    i = m - lo
    cs[i] = (c - sum(cs)) % L
    zs[i] = (w + cs[i] * r) % L
    return cs, zs


def range_valid(
    key: bytes, ct: Pair, lo: int, hi: int, cs: Sequence[int], zs: Sequence[int], context: Sequence[Part]
) -> bool:
    if len(cs) != hi - lo + 1 or len(zs) != hi - lo + 1:
        return False
    alpha, beta = ct
    commits: list[bytes] = []
    for v, c_v, z_v in zip(range(lo, hi + 1), cs, zs, strict=True):
        shifted = sub(beta, small(v)) if v else beta
        commits += [sub(base_mul(z_v), mul(c_v, alpha)), sub(mul(z_v, key), mul(c_v, shifted))]
    return sum(cs) % L == hash_scalar("range", *context, lo, hi, alpha, beta, *commits)
