"""Shared, cached set-ups for the ballotcrypto tests: a 7-member ceremony (threshold 4) and rounds over it.
Built once per test process (a ceremony ~0.1 s, a ballot ~1.5 ms to encrypt and as much to verify)."""

from __future__ import annotations

import copy
import functools
import random
from dataclasses import dataclass
from typing import Any

import msgspec

from ballotcrypto import ballots, dkg, tally
from ballotcrypto import records as rec
from ballotcrypto.group import SeededRng

OPTIONS = ["tan_thanh", "khong_tan_thanh", "khong_bieu_quyet"]
LEVELS = ["high", "trust", "low"]
COMMITTEE = [f"bkp-{i}" for i in range(1, 8)]


def ceremony_spec(members: list[str] | None = None, threshold: int | None = None) -> rec.CeremonySpec:
    members = members or COMMITTEE
    t = threshold if threshold is not None else dkg.default_threshold(len(members))
    return rec.CeremonySpec(council_id="hdnd-ha-noi", ceremony_id="bkp-2027-1", threshold=t, members=members)


@dataclass(frozen=True)
class Setup:
    ceremony: rec.Ceremony
    outcome: dkg.Outcome
    shares: dict[int, dkg.KeyShare]


@functools.cache
def committee() -> Setup:
    record, out, shares = dkg.run_ceremony(ceremony_spec(), SeededRng(b"tests/committee"))
    return Setup(record, out, shares)


def context(spec: rec.RoundSpec, setup: Setup | None = None) -> ballots.RoundContext:
    s = setup or committee()
    return ballots.round_context(spec, s.outcome.joint_key, s.outcome.fingerprint)


def vote_spec(round_id: str = "bq-1") -> rec.RoundSpec:
    return ballots.vote_round("hdnd-ha-noi", "ky-hop-12", round_id, OPTIONS)


@dataclass(frozen=True)
class VoteRun:
    ctx: ballots.RoundContext
    choices: list[str]
    ballots: list[rec.Ballot]
    cells: tally.Cells
    partials: dict[int, rec.PartialDecryption]


@functools.cache
def vote_run(n: int = 50) -> VoteRun:
    """n delegates vote at random (seeded); every member's partial decryption is made (tests pick from them)."""
    rng, pick = SeededRng(b"tests/vote"), random.Random(13)
    ctx = context(vote_spec())
    choices = [pick.choice(OPTIONS) for _ in range(n)]
    bs = [ballots.encrypt_ballot(ctx, ballots.vote_choices(ctx.spec, c), rng)[0] for c in choices]
    cells = tally.aggregate(ctx, [ballots.verify_ballot(ctx, b) for b in bs])
    s = committee()
    partials = {j: tally.partial_decrypt(share, ctx, cells, rng) for j, share in s.shares.items()}
    return VoteRun(ctx, choices, bs, cells, partials)


def tampered(obj: Any, path: list[str | int], value: Any) -> Any:
    """A copy of a msgspec record with the field at `path` replaced (through its JSON form)."""
    data = msgspec.to_builtins(obj)
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return msgspec.convert(data, type(obj))


def other_point(seed: str) -> str:
    """A valid point unrelated to anything on a board (to swap in for a real one)."""
    from ballotcrypto.group import base_mul, hash_scalar

    return base_mul(hash_scalar("test-point", seed)).hex()


def bump_scalar(hex_scalar: str) -> str:
    from ballotcrypto.group import L

    return ((int.from_bytes(bytes.fromhex(hex_scalar), "little") + 1) % L).to_bytes(32, "little").hex()
