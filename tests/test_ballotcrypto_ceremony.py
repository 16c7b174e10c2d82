"""The key ceremony (ballotcrypto/dkg.py, docs/BALLOT-CRYPTO.md §5): 7 members, threshold 4; a bad dealer is
named by a complaint anyone can check and left out; a false complaint changes nothing; t-1 shares are not enough."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import ballots, dkg, tally
from ballotcrypto import records as rec
from ballotcrypto.errors import CeremonyError, VerifyFailure
from ballotcrypto.group import IDENTITY, L, SeededRng, add, base_mul, hexs, mul
from tests.ballotcrypto_helpers import COMMITTEE, bump_scalar, ceremony_spec, committee, other_point, tampered


def test_default_threshold_is_a_majority() -> None:
    assert [dkg.default_threshold(n) for n in (1, 3, 4, 5, 7, 9)] == [1, 2, 3, 3, 4, 5]


def test_ceremony_gives_consistent_shares() -> None:
    s = committee()
    assert s.ceremony.spec.threshold == 4 and s.outcome.qualified == list(range(1, 8))
    assert s.ceremony.disqualified == []
    for j, share in s.shares.items():
        assert base_mul(share.scalar) == s.outcome.verification_keys[j]
        assert share.joint_key == s.ceremony.joint_key and share.fingerprint == s.ceremony.fingerprint
    assert dkg.check_ceremony(s.ceremony) == s.outcome


@settings(max_examples=25, deadline=None)
@given(st.sets(st.integers(1, 7), min_size=1, max_size=7))
def test_any_t_shares_give_the_joint_secret_and_fewer_do_not(members: set[int]) -> None:
    s = committee()
    lam = tally.lagrange(sorted(members))
    secret = sum(lam[j] * s.shares[j].scalar for j in members) % L
    assert (base_mul(secret) == s.outcome.joint_key) == (len(members) >= 4)


def test_steps_out_of_order_are_refused() -> None:
    m = dkg.Member(ceremony_spec(), 1, SeededRng(b"order"))
    with pytest.raises(CeremonyError):
        m.deal([])
    m.publish()
    with pytest.raises(CeremonyError):
        m.publish()
    with pytest.raises(CeremonyError):
        dkg.Member(ceremony_spec(), 8)


@pytest.mark.parametrize(("members", "threshold"), [(COMMITTEE, 0), (COMMITTEE, 8), (["a", "a", "b"], 2), ([], 1)])
def test_bad_parameters_are_named(members: list[str], threshold: int) -> None:
    spec = rec.CeremonySpec(council_id="c", ceremony_id="k", threshold=threshold, members=members)
    with pytest.raises(VerifyFailure) as e:
        dkg.check_spec(spec)
    assert e.value.check == "ceremony_parameters"


def _phase1(seed: bytes) -> tuple[list[dkg.Member], list[rec.MemberPublication]]:
    members = [dkg.Member(ceremony_spec(), i, SeededRng(seed + bytes([i]))) for i in range(1, 8)]
    return members, [m.publish() for m in members]


@pytest.mark.parametrize(
    ("path", "check"),
    [
        (["comm_key"], "member_key"),
        (["comm_key_proof", "response"], "member_key"),
        (["commitments", 2], "commitment"),
        (["commitment_proofs", 0, "challenge"], "commitment"),
    ],
)
def test_a_bad_publication_is_named_by_every_device(path: list[str | int], check: str) -> None:
    members, pubs = _phase1(b"badpub")
    value = other_point("x") if path[-1] in ("comm_key", 2) else bump_scalar
    pubs[2] = tampered(pubs[2], path, value)
    with pytest.raises(VerifyFailure) as e:
        members[0].deal(pubs)
    assert (e.value.check, e.value.subject.split(" coefficient")[0]) == (check, "member 3")


def test_a_bad_dealer_is_disqualified_and_the_rest_still_decrypt() -> None:
    members, pubs = _phase1(b"baddealer")
    bundles = [m.deal(pubs) for m in members]
    # Dealer 2 seals a wrong value to member 5 (its share + 1): only member 5 can see it.
    cheat = members[1]
    good = next(s for s in bundles[1].shares if s.recipient == 5)
    wrong = cheat.seal_share(5, dkg._evaluate(cheat._coeffs, 5) + 1)
    bundles[1] = rec.ShareBundle(dealer=2, shares=[wrong if s is good else s for s in bundles[1].shares])
    complaints = [m.receive(bundles) for m in members]
    assert [c.dealer for c in complaints[4].complaints] == [2]
    assert all(not c.complaints for i, c in enumerate(complaints) if i != 4)
    record, out = dkg.transcript(ceremony_spec(), pubs, bundles, complaints)
    assert out.disqualified == [2] and out.qualified == [1, 3, 4, 5, 6, 7]
    expected = IDENTITY
    for i in out.qualified:
        expected = add(expected, bytes.fromhex(pubs[i - 1].commitments[0]))
    assert out.joint_key == expected
    shares = {}
    for m in members:
        if m.member == 2:
            with pytest.raises(CeremonyError):
                m.finish(pubs, bundles, complaints)
        else:
            shares[m.member] = m.finish(pubs, bundles, complaints)[0]
    assert dkg.check_ceremony(record) == out
    # A vote under this key is decrypted by 4 of the 6 who remain; member 2's partial is refused.
    spec = ballots.vote_round("hdnd-ha-noi", "s", "r", ["a", "b"])
    ctx = ballots.round_context(spec, out.joint_key, out.fingerprint)
    rng = SeededRng(b"after-dq")
    cts = [ballots.verify_ballot(ctx, ballots.encrypt_ballot(ctx, [[0, 1]], rng)[0]) for _ in range(3)]
    cells = tally.aggregate(ctx, cts)
    parts = {
        j: tally.check_partial(ctx, out, cells, tally.partial_decrypt(shares[j], ctx, cells, rng)) for j in (1, 4, 5, 7)
    }
    assert tally.combine(cells, parts, 4, 3) == [[0, 3]]
    forged = dkg.KeyShare(
        ceremony_id="bkp-2027-1",
        member=2,
        secret=hexs(1),
        joint_key=out.joint_key.hex(),
        fingerprint=out.fingerprint.hex(),
    )
    with pytest.raises(VerifyFailure) as e:
        tally.check_partial(ctx, out, cells, tally.partial_decrypt(forged, ctx, cells, rng))
    assert (e.value.check, e.value.subject) == ("partial_decryption", "member 2")


def test_a_false_complaint_is_rejected_and_a_forged_one_is_named() -> None:
    members, pubs = _phase1(b"falsecomplaint")
    bundles = [m.deal(pubs) for m in members]
    complaints = [m.receive(bundles) for m in members]
    # Member 4 complains about dealer 6's (good) share, revealing the true shared secret with a valid proof.
    m4 = members[3]
    eph = bytes.fromhex(next(s for s in bundles[5].shares if s.recipient == 4).ephemeral)
    from ballotcrypto.proofs import dleq_prove

    c, z = dleq_prove(m4._comm, eph, "complaint", (m4.qc, 6, 4), SeededRng(b"c"))
    honest_lie = rec.Complaint(
        dealer=6, shared_secret=mul(m4._comm, eph).hex(), proof=rec.Proof(challenge=hexs(c), response=hexs(z))
    )
    complaints[3] = rec.ComplaintList(member=4, complaints=[honest_lie])
    out = dkg.outcome(ceremony_spec(), pubs, bundles, complaints)
    assert out.disqualified == []
    # The same complaint with a made-up shared secret does not verify: the complaint itself is named.
    complaints[3] = rec.ComplaintList(member=4, complaints=[tampered(honest_lie, ["shared_secret"], other_point("s"))])
    with pytest.raises(VerifyFailure) as e:
        dkg.outcome(ceremony_spec(), pubs, bundles, complaints)
    assert (e.value.check, e.value.subject) == ("complaint", "member 4 against dealer 6")


def test_too_many_bad_dealers_fail_the_ceremony() -> None:
    spec = ceremony_spec(COMMITTEE[:3])  # 2 of 3
    members = [dkg.Member(spec, i, SeededRng(b"3" + bytes([i]))) for i in range(1, 4)]
    pubs = [m.publish() for m in members]
    bundles = [m.deal(pubs) for m in members]
    for d in (1, 2):  # dealers 1 and 2 both cheat member 3
        cheat = members[d - 1]
        shares = [cheat.seal_share(3, 7) if s.recipient == 3 else s for s in bundles[d - 1].shares]
        bundles[d - 1] = rec.ShareBundle(dealer=d, shares=shares)
    complaints = [m.receive(bundles) for m in members]
    with pytest.raises(VerifyFailure) as e:
        dkg.outcome(spec, pubs, bundles, complaints)
    assert e.value.check == "disqualified"


def test_a_malformed_bundle_is_named() -> None:
    members, pubs = _phase1(b"bundle")
    bundles = [m.deal(pubs) for m in members]
    short = rec.ShareBundle(dealer=3, shares=bundles[2].shares[:-1])
    with pytest.raises(VerifyFailure) as e:
        members[0].receive([*bundles[:2], short, *bundles[3:]])
    assert (e.value.check, e.value.subject) == ("share_bundle", "dealer 3")


def test_the_fingerprint_changes_with_any_publication() -> None:
    s = committee()
    seen = {s.outcome.fingerprint}
    for i, k in itertools.product(range(7), range(4)):
        pubs = [
            dkg._Pub(bytes.fromhex(p.comm_key), [bytes.fromhex(c) for c in p.commitments])
            for p in s.ceremony.publications
        ]
        pubs[i].commitments[k] = base_mul(k + 1)
        seen.add(dkg.fingerprint(s.outcome.qc, pubs, [], s.outcome.joint_key))
    assert len(seen) == 1 + 7 * 4
