"""Counting (docs/BALLOT-CRYPTO.md §7): add the ballots' ciphertexts, decrypt the sum with t partial decryptions
and Lagrange coefficients, then the small discrete logarithm by table (a count is at most the number of ballots,
≤ 125 in the largest council: a table of 126 points built by 125 additions, ~2 ms).

Nobody decrypts a single ballot: a member's device computes s_j·A only for the aggregate A, with a proof."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ballotcrypto import records as rec
from ballotcrypto.ballots import RoundContext
from ballotcrypto.dkg import KeyShare, Outcome
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.group import IDENTITY, G, L, Part, Rng, add, default_rng, hexs, mul, parse_point, parse_scalar, sub
from ballotcrypto.proofs import Pair, add_pairs, dleq_prove, dleq_valid

Cells = list[list[Pair]]


def aggregate(ctx: RoundContext, ballots: Sequence[Cells]) -> Cells:
    acc: Cells = [[(IDENTITY, IDENTITY) for _ in q.choices] for q in ctx.spec.questions]
    for b in ballots:
        acc = [[add_pairs(x, y) for x, y in zip(ra, rb, strict=True)] for ra, rb in zip(acc, b, strict=True)]
    return acc


def aggregate_record(cells: Cells) -> list[list[rec.Ciphertext]]:
    return [[rec.Ciphertext(alpha=a.hex(), beta=b.hex()) for a, b in row] for row in cells]


def _context(ctx: RoundContext, member: int, q: int, k: int) -> tuple[Part, ...]:
    return (ctx.qr, member, q, k)


def partial_decrypt(share: KeyShare, ctx: RoundContext, cells: Cells, rng: Rng | None = None) -> rec.PartialDecryption:
    """The member's device: s_j·A for every cell's alpha A, each with a Chaum–Pedersen proof that it used the
    same s_j as its public verification key s_j·G. Randomness: one nonce per cell, question by question."""
    if share.joint_key != ctx.joint_key.hex() or share.fingerprint != ctx.fingerprint.hex():
        raise ValueError("this key share is not of the round's ceremony")
    rng = default_rng(rng)
    s = share.scalar
    rows = []
    for qi, row in enumerate(cells):
        out = []
        for k, (alpha, _beta) in enumerate(row):
            c, z = dleq_prove(s, alpha, "partial", _context(ctx, share.member, qi, k), rng)
            out.append(
                rec.DecryptionShare(share=mul(s, alpha).hex(), proof=rec.Proof(challenge=hexs(c), response=hexs(z)))
            )
        rows.append(out)
    return rec.PartialDecryption(member=share.member, shares=rows)


def check_partial(ctx: RoundContext, ceremony: Outcome, cells: Cells, p: rec.PartialDecryption) -> list[list[bytes]]:
    """The server on receipt and the verifier: raises VerifyFailure("partial_decryption") naming the member."""
    who = f"member {p.member}"
    vkey = ceremony.verification_keys.get(p.member)
    if vkey is None:
        raise VerifyFailure("partial_decryption", who, "not a qualified member of the ceremony")
    if [len(r) for r in p.shares] != [len(r) for r in cells]:
        raise VerifyFailure("partial_decryption", who, "not one share per cell of the aggregate")
    out = []
    for qi, (row, prow) in enumerate(zip(cells, p.shares, strict=True)):
        points = []
        for k, ((alpha, _beta), d) in enumerate(zip(row, prow, strict=True)):
            where = f"{who} question {qi} choice {k}"
            m = parse_point(d.share, "partial_decryption", where)
            c = parse_scalar(d.proof.challenge, "partial_decryption", where)
            z = parse_scalar(d.proof.response, "partial_decryption", where)
            if not dleq_valid(vkey, alpha, m, c, z, "partial", _context(ctx, p.member, qi, k)):
                raise VerifyFailure("partial_decryption", where, "the proof of correct decryption fails")
            points.append(m)
        out.append(points)
    return out


def lagrange(members: Sequence[int]) -> dict[int, int]:
    """λ_j = Π_{m≠j} m / (m − j) mod L: the weights that give the polynomial's value at 0."""
    out = {}
    for j in members:
        num = den = 1
        for m in members:
            if m != j:
                num = num * m % L
                den = den * (m - j) % L
        out[j] = num * pow(den, -1, L) % L
    return out


def dlog_table(n: int) -> dict[bytes, int]:
    table = {IDENTITY: 0}
    p = IDENTITY
    for m in range(1, n + 1):
        p = add(p, G)
        table[p] = m
    return table


def combine_points(cells: Cells, partials: Mapping[int, list[list[bytes]]]) -> list[list[bytes]]:
    """m·G per cell = beta − Σ λ_j·(s_j·A). Only a set of ≥ t members gives the right point (`combine` checks)."""
    lam = lagrange(sorted(partials))
    out = []
    for qi, row in enumerate(cells):
        points = []
        for k, (_alpha, beta) in enumerate(row):
            acc = IDENTITY
            for j, shares in partials.items():
                acc = add(acc, mul(lam[j], shares[qi][k]))
            points.append(sub(beta, acc))
        out.append(points)
    return out


def combine(cells: Cells, partials: Mapping[int, list[list[bytes]]], threshold: int, ballots: int) -> list[list[int]]:
    """The counts. Every partial given must have passed `check_partial`; any t or more of them give the same."""
    if len(partials) < threshold:
        raise VerifyFailure(
            "too_few_partials", "partials", f"{len(partials)} partial decryptions, the threshold is {threshold}"
        )
    table = dlog_table(ballots)
    counts = []
    for qi, row in enumerate(combine_points(cells, partials)):
        out = []
        for k, point in enumerate(row):
            m = table.get(point)
            if m is None:
                raise VerifyFailure("result", f"question {qi} choice {k}", f"the total is no count from 0 to {ballots}")
            out.append(m)
        counts.append(out)
    return counts


def invalid_counts(spec: rec.RoundSpec, result: rec.Result) -> dict[str, int]:
    """A confidence poll: per official, the ballots that marked none of their levels (counted invalid)."""
    return {q.id: result.ballots - sum(c) for q, c in zip(spec.questions, result.counts, strict=True)}
