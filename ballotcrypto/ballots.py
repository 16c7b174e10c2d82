"""Rounds and ballots (docs/BALLOT-CRYPTO.md §6): encrypt and prove on the tablet, verify on the server and in
the verifier, spoil and audit (Benaloh challenge).

A round is a list of questions, each a row of boxes holding 0 or 1 with a bound on how many are 1:
- a vote round: one question, its options, exactly one chosen (min = max = 1);
- a confidence poll: one question per official, their levels, one or none chosen (min 0, max 1) — none counts
  invalid for that official, as the domain counts it today (meeting/polls.py).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ballotcrypto import records as rec
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.group import IDENTITY, L, Part, Rng, default_rng, hash32, hexs, parse_point, parse_scalar
from ballotcrypto.proofs import Pair, add_pairs, encrypt, range_prove, range_valid

MAX_QUESTIONS = 100  # meeting/polls.py MAX_OFFICIALS
MAX_CHOICES = 20  # meeting/votes.py MAX_OPTIONS


@dataclass(frozen=True)
class RoundContext:
    """A round bound to its ceremony: what every ballot proof of the round is hashed with."""

    spec: rec.RoundSpec
    joint_key: bytes
    fingerprint: bytes
    qr: bytes


def vote_round(council_id: str, session_id: str, round_id: str, options: Sequence[str]) -> rec.RoundSpec:
    q = rec.Question(id=round_id, choices=list(options), min=1, max=1)
    return rec.RoundSpec(council_id=council_id, session_id=session_id, round_id=round_id, kind="vote", questions=[q])


def poll_round(
    council_id: str, session_id: str, poll_id: str, officials: Sequence[str], levels: Sequence[str]
) -> rec.RoundSpec:
    qs = [rec.Question(id=o, choices=list(levels), min=0, max=1) for o in officials]
    return rec.RoundSpec(council_id=council_id, session_id=session_id, round_id=poll_id, kind="poll", questions=qs)


def check_round(spec: rec.RoundSpec) -> None:
    if not 1 <= len(spec.questions) <= MAX_QUESTIONS:
        raise VerifyFailure("round", spec.round_id, f"a round has 1 to {MAX_QUESTIONS} questions")
    if len({q.id for q in spec.questions}) != len(spec.questions):
        raise VerifyFailure("round", spec.round_id, "two questions share an id")
    for q in spec.questions:
        if not 1 <= len(q.choices) <= MAX_CHOICES or len(set(q.choices)) != len(q.choices):
            raise VerifyFailure("round", q.id, f"a question has 1 to {MAX_CHOICES} distinct choices")
        if not 0 <= q.min <= q.max <= len(q.choices):
            raise VerifyFailure("round", q.id, "need 0 ≤ min ≤ max ≤ the number of choices")
    if spec.kind == "vote" and (len(spec.questions) != 1 or spec.questions[0].min != 1 or spec.questions[0].max != 1):
        raise VerifyFailure("round", spec.round_id, "a vote round is one question with exactly one choice")


def round_context(spec: rec.RoundSpec, joint_key: bytes, fingerprint: bytes) -> RoundContext:
    check_round(spec)
    parts: list[Part] = [fingerprint, spec.council_id, spec.session_id, spec.round_id, spec.kind, joint_key]
    parts.append(len(spec.questions))
    for q in spec.questions:
        parts += [q.id, q.min, q.max, len(q.choices), *q.choices]
    return RoundContext(spec, joint_key, fingerprint, hash32("round", *parts))


def tracker(ctx: RoundContext, cts: Sequence[Sequence[Pair]]) -> bytes:
    parts: list[Part] = [ctx.qr, len(cts)]
    for row in cts:
        parts.append(len(row))
        for alpha, beta in row:
            parts += [alpha, beta]
    return hash32("tracker", *parts)


def short_tracker(tracker_hex: str) -> str:
    """What the tablet shows: the first 10 bytes in base32, 4 groups of 4 (80 bits: finding another ballot with
    the same short tracker takes ~2^80 tries)."""
    text = base64.b32encode(bytes.fromhex(tracker_hex)[:10]).decode()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def vote_choices(spec: rec.RoundSpec, option: str) -> list[list[int]]:
    q = spec.questions[0]
    if option not in q.choices:
        raise ValueError(f"no option {option!r}")
    return [[int(c == option) for c in q.choices]]


def poll_choices(spec: rec.RoundSpec, marks: Mapping[str, str | None]) -> list[list[int]]:
    """marks: official -> level, or None / absent for no mark (invalid for that official)."""
    out = []
    for q in spec.questions:
        level = marks.get(q.id)
        if level is not None and level not in q.choices:
            raise ValueError(f"no level {level!r}")
        out.append([int(c == level) for c in q.choices])
    return out


def _context(ctx: RoundContext, t: bytes, what: str, q: int, k: int) -> tuple[Part, ...]:
    return (ctx.qr, t, what, q, k)


def encrypt_ballot(
    ctx: RoundContext, choices: Sequence[Sequence[int]], rng: Rng | None = None
) -> tuple[rec.Ballot, list[list[int]]]:
    """The ballot and its encryption nonces (kept only to spoil it). Randomness: every nonce, question by question
    and box by box; then per question each box's proof, then the sum's proof (proofs.range_prove's order)."""
    rng = default_rng(rng)
    qs = ctx.spec.questions
    if len(choices) != len(qs) or any(len(c) != len(q.choices) for c, q in zip(choices, qs, strict=True)):
        raise ValueError("the choices do not have the round's shape")
    for c, q in zip(choices, qs, strict=True):
        if any(v not in (0, 1) for v in c) or not q.min <= sum(c) <= q.max:
            raise ValueError(f"question {q.id}: each box 0 or 1, and {q.min} to {q.max} chosen")
    nonces = [[rng.scalar() for _ in row] for row in choices]
    cts = [
        [encrypt(ctx.joint_key, m, r) for m, r in zip(row, rs, strict=True)]
        for row, rs in zip(choices, nonces, strict=True)
    ]
    t = tracker(ctx, cts)
    answers = []
    for qi, (q, row, rs, pairs) in enumerate(zip(qs, choices, nonces, cts, strict=True)):
        proofs = []
        for k, (m, r, ct) in enumerate(zip(row, rs, pairs, strict=True)):
            cs, zs = range_prove(ctx.joint_key, ct, m, r, 0, 1, _context(ctx, t, "choice", qi, k), rng)
            proofs.append(_range_rec(cs, zs))
        total = _sum_pairs(pairs)
        cs, zs = range_prove(
            ctx.joint_key, total, sum(row), sum(rs) % L, q.min, q.max, _context(ctx, t, "sum", qi, 0), rng
        )
        answers.append(
            rec.Answer(
                ciphertexts=[rec.Ciphertext(alpha=a.hex(), beta=b.hex()) for a, b in pairs],
                choice_proofs=proofs,
                sum_proof=_range_rec(cs, zs),
            )
        )
    return rec.Ballot(tracker=t.hex(), answers=answers), nonces


def _range_rec(cs: Sequence[int], zs: Sequence[int]) -> rec.RangeProof:
    return rec.RangeProof(challenges=[hexs(c) for c in cs], responses=[hexs(z) for z in zs])


def _sum_pairs(pairs: Sequence[Pair]) -> Pair:
    acc = (IDENTITY, IDENTITY)
    for p in pairs:
        acc = add_pairs(acc, p)
    return acc


def verify_ballot(ctx: RoundContext, ballot: rec.Ballot) -> list[list[Pair]]:
    """Every check of one ballot, in order (§9): shape and encodings, tracker, each box's proof, each sum's proof.
    Returns the ciphertexts, decoded, for the aggregate. Raises VerifyFailure naming the ballot by its tracker."""
    who = f"ballot {ballot.tracker[:16]}"
    qs = ctx.spec.questions
    if len(ballot.answers) != len(qs):
        raise VerifyFailure("ballot_format", who, f"{len(ballot.answers)} answers for {len(qs)} questions")
    cts: list[list[Pair]] = []
    for qi, (q, a) in enumerate(zip(qs, ballot.answers, strict=True)):
        n = len(q.choices)
        if len(a.ciphertexts) != n or len(a.choice_proofs) != n:
            raise VerifyFailure("ballot_format", f"{who} question {qi}", f"need {n} ciphertexts and {n} proofs")
        row = []
        for k, c in enumerate(a.ciphertexts):
            where = f"{who} question {qi} choice {k}"
            row.append((parse_point(c.alpha, "ballot_format", where), parse_point(c.beta, "ballot_format", where)))
        cts.append(row)
    t = tracker(ctx, cts)
    if t.hex() != ballot.tracker:
        raise VerifyFailure("ballot_tracker", who, "the tracker is not the hash of the ciphertexts")
    for qi, (q, a, row) in enumerate(zip(qs, ballot.answers, cts, strict=True)):
        for k, (ct, proof) in enumerate(zip(row, a.choice_proofs, strict=True)):
            where = f"{who} question {qi} choice {k}"
            cs, zs = _range_scalars(proof, 2, "ballot_choice_proof", where)
            if not range_valid(ctx.joint_key, ct, 0, 1, cs, zs, _context(ctx, t, "choice", qi, k)):
                raise VerifyFailure("ballot_choice_proof", where, "the 0-or-1 proof does not verify")
        where = f"{who} question {qi}"
        cs, zs = _range_scalars(a.sum_proof, q.max - q.min + 1, "ballot_sum_proof", where)
        if not range_valid(ctx.joint_key, _sum_pairs(row), q.min, q.max, cs, zs, _context(ctx, t, "sum", qi, 0)):
            raise VerifyFailure("ballot_sum_proof", where, f"the proof that {q.min} to {q.max} are chosen fails")
    return cts


def _range_scalars(p: rec.RangeProof, n: int, check: str, where: str) -> tuple[list[int], list[int]]:
    if len(p.challenges) != n or len(p.responses) != n:
        raise VerifyFailure(check, where, f"need {n} challenges and {n} responses")
    return [parse_scalar(c, check, where) for c in p.challenges], [parse_scalar(z, check, where) for z in p.responses]


# --- Benaloh challenge -----------------------------------------------------------------------------------------------
def spoil(ballot: rec.Ballot, choices: Sequence[Sequence[int]], nonces: Sequence[Sequence[int]]) -> rec.SpoiledBallot:
    """The delegate challenged this ballot: it is never cast; its choices and nonces are published."""
    return rec.SpoiledBallot(
        ballot=ballot, choices=[list(c) for c in choices], nonces=[[hexs(r) for r in rs] for rs in nonces]
    )


def audit(ctx: RoundContext, spoiled: rec.SpoiledBallot) -> list[list[int]]:
    """Checks a spoiled ballot opens to the choices it reveals: each ciphertext re-encrypted from its nonce. What
    the tablet (or any device the delegate trusts) shows the delegate, to compare with what they chose."""
    who = f"spoiled {spoiled.ballot.tracker[:16]}"
    try:
        cts = verify_ballot(ctx, spoiled.ballot)
    except VerifyFailure as e:
        raise VerifyFailure("spoiled_ballot", who, f"{e.check}: {e.detail}") from None
    shape = [len(row) for row in cts]
    if [len(c) for c in spoiled.choices] != shape or [len(n) for n in spoiled.nonces] != shape:
        raise VerifyFailure("spoiled_ballot", who, "the revealed choices and nonces do not have the ballot's shape")
    for qi, row in enumerate(cts):
        for k, ct in enumerate(row):
            m = spoiled.choices[qi][k]
            r = parse_scalar(spoiled.nonces[qi][k], "spoiled_ballot", who)
            if m not in (0, 1) or encrypt(ctx.joint_key, m, r) != ct:
                raise VerifyFailure("spoiled_ballot", f"{who} question {qi} choice {k}", "does not open as revealed")
    return [list(c) for c in spoiled.choices]
