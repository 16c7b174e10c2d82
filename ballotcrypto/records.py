"""Every record of the key ceremony, a ballot and the bulletin board, as msgspec structs (docs/BALLOT-CRYPTO.md §8).

Points, scalars and hashes are lowercase hexadecimal strings (64 characters for 32 bytes): readable in a browser's
JSON and easy for a third-party verifier; the pattern is checked on decode, the group membership by the checks
(`group.parse_point`). Members are numbered 1…n in the order of `CeremonySpec.members`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Hex32 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
# A share sealed with ChaCha20-Poly1305: 32 bytes of scalar + 16 bytes of tag.
Hex48 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{96}$")]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Index = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class Struct(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


# --- proofs ----------------------------------------------------------------------------------------------------------
class Proof(Struct, frozen=True):
    """A Schnorr or Chaum–Pedersen proof in challenge–response form."""

    challenge: Hex32
    response: Hex32


class RangeProof(Struct, frozen=True):
    """A disjunctive Chaum–Pedersen proof that a ciphertext holds one of lo…hi: one challenge and one response
    per value, in ascending order; the challenges sum to the hash."""

    challenges: list[Hex32]
    responses: list[Hex32]


class Ciphertext(Struct, frozen=True):
    alpha: Hex32  # r·G
    beta: Hex32  # m·G + r·K


# --- the key ceremony (§5) -----------------------------------------------------------------------------------------
class CeremonySpec(Struct, frozen=True):
    council_id: Id
    ceremony_id: Id
    threshold: Index
    members: list[Id]  # member i is members[i-1]


class MemberPublication(Struct, frozen=True):
    member: Index
    comm_key: Hex32  # the key others encrypt this member's shares to
    comm_key_proof: Proof
    commitments: list[Hex32]  # a_k·G for the member's polynomial's coefficients, k = 0…t-1
    commitment_proofs: list[Proof]


class EncryptedShare(Struct, frozen=True):
    recipient: Index
    ephemeral: Hex32  # e·G
    sealed: Hex48  # ChaCha20-Poly1305 of the share


class ShareBundle(Struct, frozen=True):
    dealer: Index
    shares: list[EncryptedShare]  # one per other member, ascending recipient


class Complaint(Struct, frozen=True):
    dealer: Index
    shared_secret: Hex32  # k_j·E: lets anyone open the share
    proof: Proof  # log_G K_j = log_E shared_secret


class ComplaintList(Struct, frozen=True):
    member: Index
    complaints: list[Complaint]


class Ceremony(Struct, frozen=True):
    spec: CeremonySpec
    publications: list[MemberPublication]
    bundles: list[ShareBundle]
    complaints: list[ComplaintList]
    disqualified: list[Index]
    joint_key: Hex32
    fingerprint: Hex32


# --- rounds and ballots (§6) ---------------------------------------------------------------------------------------
class Question(Struct, frozen=True):
    """One group of boxes: a vote round's options (exactly one chosen: min = max = 1) or one official of a
    confidence poll with their levels (one or none: min 0, max 1 — none counts invalid for that official)."""

    id: Id
    choices: list[Id]
    min: Count
    max: Count


class RoundSpec(Struct, frozen=True):
    council_id: Id
    session_id: Id
    round_id: Id
    kind: Literal["vote", "poll"]
    questions: list[Question]


class Answer(Struct, frozen=True):
    ciphertexts: list[Ciphertext]
    choice_proofs: list[RangeProof]
    sum_proof: RangeProof


class Ballot(Struct, frozen=True):
    tracker: Hex32
    answers: list[Answer]


class SpoiledBallot(Struct, frozen=True):
    """A ballot the delegate challenged (Benaloh): its choices and every encryption nonce, so anyone can check it
    was encrypted as shown. Never counted."""

    ballot: Ballot
    choices: list[list[Count]]
    nonces: list[list[Hex32]]


# --- tally (§7) -------------------------------------------------------------------------------------------------------
class DecryptionShare(Struct, frozen=True):
    share: Hex32  # s_j·A for the aggregate's alpha A
    proof: Proof  # log_G V_j = log_A share


class PartialDecryption(Struct, frozen=True):
    member: Index
    shares: list[list[DecryptionShare]]  # per question, per choice


class Result(Struct, frozen=True):
    ballots: Count
    counts: list[list[Count]]  # per question, per choice


class Board(Struct, frozen=True):
    version: Literal["kyhop-ballot-v1"]
    ceremony: Ceremony
    round: RoundSpec
    ballots: list[Ballot]
    spoiled: list[SpoiledBallot]
    aggregate: list[list[Ciphertext]]
    partials: list[PartialDecryption]
    result: Result
