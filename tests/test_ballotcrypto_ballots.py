"""Ballots (ballotcrypto/ballots.py, docs/BALLOT-CRYPTO.md §6): what a tablet encrypts verifies; every field of
every proof, tampered, is refused with the check's name; a tablet that marks two boxes or a 2 cannot prove it;
a ballot is bound to its round; a spoiled ballot opens to what was chosen."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import ballots, proofs
from ballotcrypto import records as rec
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.group import L, SeededRng, hexs
from tests.ballotcrypto_helpers import LEVELS, OPTIONS, bump_scalar, context, other_point, tampered, vote_spec


def _one_ballot() -> tuple[ballots.RoundContext, rec.Ballot]:
    ctx = context(vote_spec())
    ballot, _ = ballots.encrypt_ballot(ctx, ballots.vote_choices(ctx.spec, OPTIONS[1]), SeededRng(b"one"))
    return ctx, ballot


def _fields(ballot: rec.Ballot) -> list[tuple[list[str | int], str]]:
    """Every tamperable field of a 3-option vote ballot, with the check that must catch it."""
    out: list[tuple[list[str | int], str]] = [(["tracker"], "ballot_tracker")]
    for k in range(3):
        for part in ("alpha", "beta"):
            out.append((["answers", 0, "ciphertexts", k, part], "ballot_tracker"))
        for field in ("challenges", "responses"):
            for v in range(2):
                out.append((["answers", 0, "choice_proofs", k, field, v], "ballot_choice_proof"))
    for field in ("challenges", "responses"):
        out.append((["answers", 0, "sum_proof", field, 0], "ballot_sum_proof"))
    return out


def test_every_field_tampered_is_refused_by_name() -> None:
    ctx, ballot = _one_ballot()
    assert ballots.verify_ballot(ctx, ballot)
    fields = _fields(ballot)
    assert len(fields) == 1 + 3 * 2 + 3 * 4 + 2
    for path, check in fields:
        last = path[-1]
        value = other_point(str(path)) if last in ("alpha", "beta") else bump_scalar
        if last == "tracker":
            value = "00" * 32
        bad = tampered(ballot, path, value)
        with pytest.raises(VerifyFailure) as e:
            ballots.verify_ballot(ctx, bad)
        assert e.value.check == check, path
        assert e.value.subject.startswith(f"ballot {bad.tracker[:16]}")


def test_a_ciphertext_swapped_with_its_tracker_recomputed_fails_its_proof() -> None:
    ctx, ballot = _one_ballot()
    bad = tampered(ballot, ["answers", 0, "ciphertexts", 0, "beta"], other_point("b"))
    cts = [[(bytes.fromhex(c.alpha), bytes.fromhex(c.beta)) for c in a.ciphertexts] for a in bad.answers]
    bad = tampered(bad, ["tracker"], ballots.tracker(ctx, cts).hex())
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, bad)
    assert (e.value.check, e.value.subject.split(" ", 2)[2]) == ("ballot_choice_proof", "question 0 choice 0")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["answers", 0, "ciphertexts", 0, "alpha"], "ff" * 32),  # not a point
        (["answers", 0, "ciphertexts", 2, "beta"], "00" * 31 + "80"),  # top bit set: not canonical
        (["answers", 0, "ciphertexts"], []),
        (["answers"], []),
    ],
)
def test_malformed_ballots_are_refused(path: list[str | int], value: object) -> None:
    ctx, ballot = _one_ballot()
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, tampered(ballot, path, value))
    assert e.value.check == "ballot_format"


def test_a_scalar_not_below_L_is_refused() -> None:
    ctx, ballot = _one_ballot()
    bad = tampered(ballot, ["answers", 0, "sum_proof", "responses", 0], L.to_bytes(32, "little").hex())
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, bad)
    assert e.value.check == "ballot_sum_proof"


def _cheat(ctx: ballots.RoundContext, row: list[int], claimed: list[int], claimed_sum: int) -> rec.Ballot:
    """A dishonest tablet: encrypts `row` but proves each box as `claimed` and the sum as `claimed_sum`."""
    rng = SeededRng(b"cheat")
    rs = [rng.scalar() for _ in row]
    cts = [proofs.encrypt(ctx.joint_key, m, r) for m, r in zip(row, rs, strict=True)]
    t = ballots.tracker(ctx, [cts])
    box = [
        proofs.range_prove(ctx.joint_key, ct, c, r, 0, 1, (ctx.qr, t, "choice", 0, k), rng)
        for k, (ct, c, r) in enumerate(zip(cts, claimed, rs, strict=True))
    ]
    total = ballots._sum_pairs(cts)
    cs, zs = proofs.range_prove(ctx.joint_key, total, claimed_sum, sum(rs) % L, 1, 1, (ctx.qr, t, "sum", 0, 0), rng)
    return rec.Ballot(
        tracker=t.hex(),
        answers=[
            rec.Answer(
                ciphertexts=[rec.Ciphertext(alpha=a.hex(), beta=b.hex()) for a, b in cts],
                choice_proofs=[ballots._range_rec(c, z) for c, z in box],
                sum_proof=ballots._range_rec(cs, zs),
            )
        ],
    )


def test_a_tablet_cannot_prove_two_marks_or_a_two() -> None:
    ctx = context(vote_spec())
    assert ballots.verify_ballot(ctx, _cheat(ctx, [0, 1, 0], [0, 1, 0], 1))
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, _cheat(ctx, [1, 1, 0], [1, 1, 0], 1))  # two options: the sum is 2
    assert e.value.check == "ballot_sum_proof"
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, _cheat(ctx, [2, 0, 0], [1, 0, 0], 1))  # a 2 in one box
    assert (e.value.check, e.value.subject.split(" ", 2)[2]) == ("ballot_choice_proof", "question 0 choice 0")
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, _cheat(ctx, [0, 0, 0], [0, 0, 0], 1))  # no option at all
    assert e.value.check == "ballot_sum_proof"


def test_the_encryptor_refuses_choices_outside_the_rules() -> None:
    ctx = context(vote_spec())
    for bad in ([[1, 1, 0]], [[0, 0, 0]], [[2, 0, 0]], [[1, 0]], []):
        with pytest.raises(ValueError):
            ballots.encrypt_ballot(ctx, bad)
    with pytest.raises(ValueError):
        ballots.vote_choices(ctx.spec, "maybe")


def test_a_ballot_is_bound_to_its_round_and_key() -> None:
    ctx, ballot = _one_ballot()
    for other in (
        context(vote_spec("bq-2")),
        context(ballots.vote_round("hdnd-khac", "ky-hop-12", "bq-1", OPTIONS)),
        context(ballots.vote_round("hdnd-ha-noi", "ky-hop-13", "bq-1", OPTIONS)),
        ballots.round_context(ctx.spec, ctx.joint_key, bytes(32)),
    ):
        with pytest.raises(VerifyFailure) as e:
            ballots.verify_ballot(other, ballot)
        assert e.value.check == "ballot_tracker"


def test_proofs_copied_from_another_ballot_fail() -> None:
    ctx, a = _one_ballot()
    b, _ = ballots.encrypt_ballot(ctx, ballots.vote_choices(ctx.spec, OPTIONS[1]), SeededRng(b"two"))
    mixed = tampered(b, ["answers", 0, "choice_proofs"], [msgspec_builtins(p) for p in a.answers[0].choice_proofs])
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, mixed)
    assert e.value.check == "ballot_choice_proof"


def msgspec_builtins(x: object) -> object:
    import msgspec

    return msgspec.to_builtins(x)


def poll_spec(n: int = 10) -> rec.RoundSpec:
    return ballots.poll_round("hdnd-ha-noi", "ky-hop-12", "ltn-1", [f"official-{i}" for i in range(n)], LEVELS)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.sampled_from([*LEVELS, None]), min_size=10, max_size=10))
def test_confidence_poll_ballots_verify_and_audit(marks: list[str | None]) -> None:
    ctx = context(poll_spec())
    chosen = {f"official-{i}": m for i, m in enumerate(marks)}
    choices = ballots.poll_choices(ctx.spec, chosen)
    ballot, nonces = ballots.encrypt_ballot(ctx, choices, SeededRng(repr(marks).encode()))
    assert len(ballots.verify_ballot(ctx, ballot)) == 10
    assert ballots.audit(ctx, ballots.spoil(ballot, choices, nonces)) == choices


def test_a_poll_ballot_with_two_levels_for_one_official_is_refused() -> None:
    ctx = context(poll_spec(2))
    ballot, _ = ballots.encrypt_ballot(ctx, [[1, 0, 0], [0, 0, 0]], SeededRng(b"p"))
    assert ballots.verify_ballot(ctx, ballot)
    # The sum proof of official 1 stands for 0 or 1 marks; swap in official 0's and it no longer verifies.
    bad = tampered(ballot, ["answers", 1, "sum_proof"], msgspec_builtins(ballot.answers[0].sum_proof))
    with pytest.raises(VerifyFailure) as e:
        ballots.verify_ballot(ctx, bad)
    assert (e.value.check, e.value.subject.split(" ", 2)[2]) == ("ballot_sum_proof", "question 1")
    with pytest.raises(ValueError):
        ballots.encrypt_ballot(ctx, [[1, 1, 0], [0, 0, 0]])


def test_benaloh_audit_catches_a_tablet_that_encrypted_something_else() -> None:
    ctx = context(vote_spec())
    choices = ballots.vote_choices(ctx.spec, OPTIONS[0])
    ballot, nonces = ballots.encrypt_ballot(ctx, choices, SeededRng(b"spoil"))
    spoiled = ballots.spoil(ballot, choices, nonces)
    assert ballots.audit(ctx, spoiled) == [[1, 0, 0]]
    # The tablet claims the delegate's choice (option 1) but had encrypted option 0: the audit says so.
    lie = tampered(spoiled, ["choices"], [[0, 1, 0]])
    with pytest.raises(VerifyFailure) as e:
        ballots.audit(ctx, lie)
    assert e.value.check == "spoiled_ballot"
    wrong_nonce = tampered(spoiled, ["nonces", 0, 1], hexs(5))
    with pytest.raises(VerifyFailure) as e:
        ballots.audit(ctx, wrong_nonce)
    assert e.value.check == "spoiled_ballot"


def test_short_tracker_is_what_a_tablet_shows() -> None:
    _, ballot = _one_ballot()
    short = ballots.short_tracker(ballot.tracker)
    assert len(short) == 19 and short.count("-") == 3
    assert short.replace("-", "").isalnum() and short.upper() == short
