"""Counting (ballotcrypto/tally.py, docs/BALLOT-CRYPTO.md §7): 7 members, threshold 4, 50 ballots of 3 options →
the result equals the choices for every 4 of the 7; 3 cannot decrypt; a member's bad partial decryption is named
and any 4 honest of the rest still finish; a confidence poll of 10 officials × 3 levels counts as the domain does."""

from __future__ import annotations

import itertools
import random

import pytest

from ballotcrypto import ballots, tally
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.group import L, SeededRng, base_mul
from tests.ballotcrypto_helpers import LEVELS, OPTIONS, committee, context, other_point, tampered, vote_run


def _expected(choices: list[str]) -> list[list[int]]:
    return [[choices.count(o) for o in OPTIONS]]


def test_fifty_ballots_any_four_of_seven_decrypt_to_the_choices() -> None:
    run, s = vote_run(), committee()
    checked = {j: tally.check_partial(run.ctx, s.outcome, run.cells, p) for j, p in run.partials.items()}
    expected = _expected(run.choices)
    assert sum(expected[0]) == 50 and all(expected[0])
    subsets = list(itertools.combinations(range(1, 8), 4))
    assert len(subsets) == 35
    for subset in subsets:
        assert tally.combine(run.cells, {j: checked[j] for j in subset}, 4, 50) == expected, subset
    assert tally.combine(run.cells, checked, 4, 50) == expected  # all seven agree too


def test_fewer_than_the_threshold_cannot_decrypt() -> None:
    run, s = vote_run(), committee()
    checked = {j: tally.check_partial(run.ctx, s.outcome, run.cells, p) for j, p in run.partials.items()}
    counts = _expected(run.choices)[0]
    for subset in itertools.combinations(range(1, 8), 3):
        partial = {j: checked[j] for j in subset}
        with pytest.raises(VerifyFailure) as e:
            tally.combine(run.cells, partial, 4, 50)
        assert e.value.check == "too_few_partials"
        # Not a refusal only: the three shares' Lagrange combination is simply not the count.
        points = tally.combine_points(run.cells, partial)[0]
        assert all(p != base_mul(c) for p, c in zip(points, counts, strict=True))


def test_a_bad_partial_decryption_is_named_and_the_others_finish() -> None:
    run, s = vote_run(), committee()
    bad = tampered(run.partials[3], ["shares", 0, 1, "share"], other_point("p"))
    with pytest.raises(VerifyFailure) as e:
        tally.check_partial(run.ctx, s.outcome, run.cells, bad)
    assert (e.value.check, e.value.subject) == ("partial_decryption", "member 3 question 0 choice 1")
    # A member who decrypts with a wrong share but a consistent proof is caught by the verification key.
    wrong = tally.partial_decrypt(
        tampered(s.shares[5], ["secret"], s.shares[6].secret), run.ctx, run.cells, SeededRng(b"w")
    )
    with pytest.raises(VerifyFailure) as e:
        tally.check_partial(run.ctx, s.outcome, run.cells, wrong)
    assert e.value.subject.startswith("member 5")
    honest = [j for j in range(1, 8) if j not in (3, 5)]
    checked = {j: tally.check_partial(run.ctx, s.outcome, run.cells, run.partials[j]) for j in honest}
    for subset in itertools.combinations(honest, 4):
        assert tally.combine(run.cells, {j: checked[j] for j in subset}, 4, 50) == _expected(run.choices)


def test_a_partial_for_another_aggregate_is_refused() -> None:
    run, s = vote_run(), committee()
    other = tally.aggregate(run.ctx, [ballots.verify_ballot(run.ctx, b) for b in run.ballots[:-1]])
    with pytest.raises(VerifyFailure) as e:
        tally.check_partial(run.ctx, s.outcome, other, run.partials[1])
    assert e.value.check == "partial_decryption"
    with pytest.raises(ValueError):
        tally.partial_decrypt(s.shares[1], ballots.round_context(run.ctx.spec, base_mul(7), bytes(32)), run.cells)


def test_confidence_poll_of_ten_officials_counts_levels_and_invalid() -> None:
    s = committee()
    officials = [f"official-{i}" for i in range(10)]
    ctx = context(ballots.poll_round("hdnd-ha-noi", "ky-hop-12", "ltn-1", officials, LEVELS))
    pick, rng = random.Random(96), SeededRng(b"poll")
    marks = [{o: pick.choice([*LEVELS, None]) for o in officials} for _ in range(12)]
    cts = [
        ballots.verify_ballot(ctx, ballots.encrypt_ballot(ctx, ballots.poll_choices(ctx.spec, m), rng)[0])
        for m in marks
    ]
    cells = tally.aggregate(ctx, cts)
    checked = {
        j: tally.check_partial(ctx, s.outcome, cells, tally.partial_decrypt(s.shares[j], ctx, cells, rng))
        for j in (1, 2, 6, 7)
    }
    counts = tally.combine(cells, checked, 4, len(marks))
    assert counts == [[sum(m[o] == lv for m in marks) for lv in LEVELS] for o in officials]
    from ballotcrypto import records as rec

    invalid = tally.invalid_counts(ctx.spec, rec.Result(ballots=len(marks), counts=counts))
    assert invalid == {o: sum(m[o] is None for m in marks) for o in officials}


def test_dlog_table_and_lagrange() -> None:
    table = tally.dlog_table(125)
    assert len(table) == 126 and all(table[base_mul(m)] == m for m in (0, 1, 62, 125))
    lam = tally.lagrange([1, 2, 3])
    assert lam == {1: 3, 2: L - 3, 3: 1}  # 6/2, 3/(-1), 2/2
