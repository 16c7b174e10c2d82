"""ballotcrypto's group, hash and ElGamal layer: libsodium's ristretto255 through rbcl, the framed hash, the
encodings a third party must reproduce (docs/BALLOT-CRYPTO.md §2–4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import proofs
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.group import (
    IDENTITY,
    G,
    L,
    SeededRng,
    add,
    base_mul,
    hash_bytes,
    hash_scalar,
    is_point,
    mul,
    parse_point,
    parse_scalar,
    sub,
)

scalars = st.integers(min_value=0, max_value=L - 1)
parts = st.lists(st.one_of(st.binary(max_size=40), st.text(max_size=20), st.integers(0, 2**64 - 1)), max_size=5)


def test_group_basics() -> None:
    assert is_point(G) and is_point(IDENTITY)
    assert base_mul(0) == IDENTITY == base_mul(L) == mul(5, IDENTITY) == mul(0, G)
    assert base_mul(1) == G and add(G, IDENTITY) == G and sub(G, G) == IDENTITY
    assert mul(L - 1, G) == sub(IDENTITY, G)
    # The standard base point's encoding (RFC 9496 §4.4): a third party's library must agree.
    assert G.hex() == "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"


@settings(max_examples=30, deadline=None)
@given(scalars, scalars)
def test_scalar_multiplication_is_a_homomorphism(a: int, b: int) -> None:
    assert add(base_mul(a), base_mul(b)) == base_mul(a + b)
    assert mul(b, base_mul(a)) == base_mul(a * b)


def test_non_canonical_and_invalid_encodings_are_refused() -> None:
    p = 2**255 - 19
    bad = [
        b"\xff" * 32,
        p.to_bytes(32, "little"),  # s = p: not reduced
        (1).to_bytes(32, "little"),  # s = 1 is "negative" (odd): ristretto255 refuses it
        b"\x00" * 31 + b"\x80",  # the top bit set
    ]
    for data in bad:
        assert not is_point(data)
        with pytest.raises(VerifyFailure) as e:
            parse_point(data.hex(), "ballot_format", "x")
        assert e.value.check == "ballot_format"
    with pytest.raises(VerifyFailure):
        parse_point("zz" * 32, "ballot_format", "x")
    with pytest.raises(VerifyFailure):
        parse_point(IDENTITY.hex(), "member_key", "x", allow_identity=False)
    with pytest.raises(VerifyFailure):
        parse_scalar(L.to_bytes(32, "little").hex(), "result", "x")  # not below L
    assert parse_scalar((L - 1).to_bytes(32, "little").hex(), "result", "x") == L - 1


@settings(max_examples=50, deadline=None)
@given(parts, parts)
def test_hash_framing_never_confuses_two_input_lists(a: list[bytes | str | int], b: list[bytes | str | int]) -> None:
    def enc(xs: list[bytes | str | int]) -> list[bytes]:
        return [x.encode() if isinstance(x, str) else x.to_bytes(8, "big") if isinstance(x, int) else x for x in xs]

    # Equal hashes exactly when the lists of encoded parts are equal: the length prefixes keep part boundaries.
    assert (hash_bytes("t", *a) == hash_bytes("t", *b)) == (enc(a) == enc(b))
    assert hash_bytes("t", "ab", "c") != hash_bytes("t", "a", "bc")
    assert hash_bytes("t", *a) != hash_bytes("u", *a)
    assert 0 <= hash_scalar("t", *a) < L


def test_hash_refuses_ambiguous_inputs() -> None:
    with pytest.raises(TypeError):
        hash_bytes("t", True)
    with pytest.raises(ValueError):
        hash_bytes("t", 2**64)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 125), st.integers(0, 125), scalars)
def test_exponential_elgamal_adds_messages(m1: int, m2: int, x: int) -> None:
    rng = SeededRng(b"elgamal")
    key = base_mul(x)
    c1, c2 = proofs.encrypt(key, m1, rng.scalar()), proofs.encrypt(key, m2, rng.scalar())
    alpha, beta = proofs.add_pairs(c1, c2)
    assert sub(beta, mul(x, alpha)) == base_mul(m1 + m2)


def test_proofs_verify_and_are_bound_to_their_context() -> None:
    rng = SeededRng(b"proofs")
    x = rng.scalar()
    c, z = proofs.schnorr_prove(x, "pok", ("ctx",), rng)
    assert proofs.schnorr_valid(base_mul(x), c, z, "pok", ("ctx",))
    assert not proofs.schnorr_valid(base_mul(x), c, z, "pok", ("other",))
    assert not proofs.schnorr_valid(base_mul(x + 1), c, z, "pok", ("ctx",))
    b2 = base_mul(rng.scalar())
    c, z = proofs.dleq_prove(x, b2, "dleq", ("ctx",), rng)
    assert proofs.dleq_valid(base_mul(x), b2, mul(x, b2), c, z, "dleq", ("ctx",))
    assert not proofs.dleq_valid(base_mul(x), b2, mul(x + 1, b2), c, z, "dleq", ("ctx",))
    key = base_mul(x)
    for lo, hi in [(0, 1), (1, 1), (0, 3)]:
        for m in range(lo, hi + 1):
            r = rng.scalar()
            ct = proofs.encrypt(key, m, r)
            cs, zs = proofs.range_prove(key, ct, m, r, lo, hi, ("ctx",), rng)
            assert proofs.range_valid(key, ct, lo, hi, cs, zs, ("ctx",))
            assert not proofs.range_valid(key, ct, lo, hi, cs, zs, ("other",))
            assert not proofs.range_valid(key, ct, lo, hi + 1, cs, zs, ("ctx",))
    # A prover who lies about the message produces a proof that fails: 2 is not 0 or 1.
    r = rng.scalar()
    ct = proofs.encrypt(key, 2, r)
    cs, zs = proofs.range_prove(key, ct, 1, r, 0, 1, ("ctx",), rng)
    assert not proofs.range_valid(key, ct, 0, 1, cs, zs, ("ctx",))
    with pytest.raises(ValueError):
        proofs.range_prove(key, ct, 2, r, 0, 1, ("ctx",), rng)
