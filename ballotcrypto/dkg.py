"""The key ceremony (docs/BALLOT-CRYPTO.md §5): a t-of-n distributed key generation after Pedersen, with Feldman
commitments, Schnorr proofs of knowledge and public complaints.

Each committee member's device runs a `Member`, a sans-I/O state machine: it is handed what the others published
and answers with what it publishes next; it never does I/O and draws randomness only from the `Rng` it was given.

    publish() -> MemberPublication          comm. key, commitments to its polynomial, proofs of knowledge
    deal(publications) -> ShareBundle       its polynomial's value for every other member, sealed to that member
    receive(bundles) -> ComplaintList        opens its shares, checks them against the dealers' commitments
    finish(complaint_lists) -> KeyShare      its share of the joint secret (the dealers not disqualified)

`outcome()` is the same computation on public data only — what the server and the verifier run: every proof,
every complaint opened, the disqualified dealers, the joint key, each member's verification key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ballotcrypto import records as rec
from ballotcrypto.errors import CeremonyError, VerifyFailure
from ballotcrypto.group import (
    IDENTITY,
    L,
    Rng,
    add,
    base_mul,
    default_rng,
    hash32,
    hexs,
    mul,
    parse_point,
    parse_scalar,
    scalar_bytes,
)
from ballotcrypto.proofs import dleq_prove, dleq_valid, schnorr_prove, schnorr_valid

MAX_MEMBERS = 100
_NONCE = bytes(12)  # each sealing key is used once (fresh ephemeral per share), so a fixed nonce is safe


def default_threshold(n: int) -> int:
    """A majority of the committee (4 of 7, 2 of 3): decrypting is certifying, and the domain publishes once more
    than half of the committee has certified."""
    return n // 2 + 1


def ceremony_context(spec: rec.CeremonySpec) -> bytes:
    return hash32("ceremony", spec.council_id, spec.ceremony_id, spec.threshold, len(spec.members), *spec.members)


def _share_key(qc: bytes, dealer: int, recipient: int, ephemeral: bytes, secret: bytes) -> bytes:
    return hash32("share-key", qc, dealer, recipient, ephemeral, secret)


def _open_share(key: bytes, sealed: bytes) -> int | None:
    """The share, or None when the seal or the scalar is bad."""
    try:
        data = ChaCha20Poly1305(key).decrypt(_NONCE, sealed, None)
    except InvalidTag:
        return None
    k = int.from_bytes(data, "little")
    return k if len(data) == 32 and k < L else None


def share_point(commitments: Sequence[bytes], j: int) -> bytes:
    """What g^{P(j)} must be: Σ_k j^k · C_k."""
    acc = commitments[0]
    power = 1
    for c in commitments[1:]:
        power = power * j % L
        acc = add(acc, mul(power, c))
    return acc


def _evaluate(coeffs: Sequence[int], x: int) -> int:
    acc = 0
    for a in reversed(coeffs):
        acc = (acc * x + a) % L
    return acc


# --- public checks ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    qc: bytes
    qualified: list[int]
    disqualified: list[int]
    joint_key: bytes
    verification_keys: dict[int, bytes]  # member -> s_j·G, for the members not disqualified
    fingerprint: bytes


def check_spec(spec: rec.CeremonySpec) -> None:
    n = len(spec.members)
    if not 1 <= n <= MAX_MEMBERS:
        raise VerifyFailure("ceremony_parameters", "members", f"a committee has 1 to {MAX_MEMBERS} members, not {n}")
    if len(set(spec.members)) != n:
        raise VerifyFailure("ceremony_parameters", "members", "a member is named twice")
    if not 1 <= spec.threshold <= n:
        raise VerifyFailure("ceremony_parameters", "threshold", f"threshold {spec.threshold} is not within 1…{n}")


def check_publications(spec: rec.CeremonySpec, pubs: Sequence[rec.MemberPublication]) -> dict[int, _Pub]:
    qc = ceremony_context(spec)
    n, t = len(spec.members), spec.threshold
    if [p.member for p in pubs] != list(range(1, n + 1)):
        raise VerifyFailure("member_key", "publications", f"need one publication per member, 1…{n}, in order")
    out: dict[int, _Pub] = {}
    for p in pubs:
        who = f"member {p.member}"
        key = parse_point(p.comm_key, "member_key", who, allow_identity=False)
        c, z = _proof(p.comm_key_proof, "member_key", who)
        if not schnorr_valid(key, c, z, "pok-comm-key", (qc, p.member)):
            raise VerifyFailure("member_key", who, "the proof of knowledge of the communication key fails")
        if len(p.commitments) != t or len(p.commitment_proofs) != t:
            raise VerifyFailure("commitment", who, f"need {t} commitments with {t} proofs")
        commits = []
        for k, (text, proof) in enumerate(zip(p.commitments, p.commitment_proofs, strict=True)):
            subject = f"member {p.member} coefficient {k}"
            point = parse_point(text, "commitment", subject, allow_identity=False)
            c, z = _proof(proof, "commitment", subject)
            if not schnorr_valid(point, c, z, "pok-coefficient", (qc, p.member, k)):
                raise VerifyFailure("commitment", subject, "the proof of knowledge of the coefficient fails")
            commits.append(point)
        out[p.member] = _Pub(key, commits)
    return out


@dataclass(frozen=True)
class _Pub:
    comm_key: bytes
    commitments: list[bytes]


def _proof(p: rec.Proof, check: str, subject: str) -> tuple[int, int]:
    return parse_scalar(p.challenge, check, subject), parse_scalar(p.response, check, subject)


def check_bundles(
    spec: rec.CeremonySpec, bundles: Sequence[rec.ShareBundle]
) -> dict[tuple[int, int], tuple[bytes, bytes]]:
    """(dealer, recipient) -> (ephemeral point, sealed bytes)."""
    n = len(spec.members)
    if [b.dealer for b in bundles] != list(range(1, n + 1)):
        raise VerifyFailure("share_bundle", "bundles", f"need one bundle per member, 1…{n}, in order")
    out = {}
    for b in bundles:
        who = f"dealer {b.dealer}"
        if [s.recipient for s in b.shares] != [j for j in range(1, n + 1) if j != b.dealer]:
            raise VerifyFailure("share_bundle", who, "need one share for every other member, in order")
        for s in b.shares:
            eph = parse_point(s.ephemeral, "share_bundle", f"{who} to member {s.recipient}", allow_identity=False)
            out[b.dealer, s.recipient] = (eph, bytes.fromhex(s.sealed))
    return out


def outcome(
    spec: rec.CeremonySpec,
    publications: Sequence[rec.MemberPublication],
    bundles: Sequence[rec.ShareBundle],
    complaint_lists: Sequence[rec.ComplaintList],
) -> Outcome:
    """Every public check of the ceremony, in the order of §9; raises VerifyFailure at the first that fails."""
    check_spec(spec)
    qc = ceremony_context(spec)
    n, t = len(spec.members), spec.threshold
    pubs = check_publications(spec, publications)
    sealed = check_bundles(spec, bundles)
    if [c.member for c in complaint_lists] != list(range(1, n + 1)):
        raise VerifyFailure("complaint", "complaints", f"need one complaint list per member, 1…{n}, in order")
    disqualified: set[int] = set()
    for cl in complaint_lists:
        j = cl.member
        dealers = [c.dealer for c in cl.complaints]
        if dealers != sorted(set(dealers)) or any(not 1 <= d <= n or d == j for d in dealers):
            raise VerifyFailure("complaint", f"member {j}", "complaints name each other dealer at most once, in order")
        for c in cl.complaints:
            subject = f"member {j} against dealer {c.dealer}"
            eph, box = sealed[c.dealer, j]
            secret = parse_point(c.shared_secret, "complaint", subject)
            cc, z = _proof(c.proof, "complaint", subject)
            if not dleq_valid(pubs[j].comm_key, eph, secret, cc, z, "complaint", (qc, c.dealer, j)):
                raise VerifyFailure("complaint", subject, "the proof of the revealed shared secret fails")
            share = _open_share(_share_key(qc, c.dealer, j, eph, secret), box)
            if share is None or base_mul(share) != share_point(pubs[c.dealer].commitments, j):
                disqualified.add(c.dealer)  # the complaint holds; otherwise it is rejected and changes nothing
    qualified = [i for i in range(1, n + 1) if i not in disqualified]
    if len(qualified) < t:
        raise VerifyFailure(
            "disqualified", "members", f"only {len(qualified)} members remain qualified, fewer than the threshold {t}"
        )
    sums = []
    for k in range(t):
        acc = IDENTITY
        for i in qualified:
            acc = add(acc, pubs[i].commitments[k])
        sums.append(acc)
    joint = sums[0]
    vkeys = {j: share_point(sums, j) for j in qualified}
    fp = fingerprint(qc, [pubs[i] for i in range(1, n + 1)], sorted(disqualified), joint)
    return Outcome(qc, qualified, sorted(disqualified), joint, vkeys, fp)


def fingerprint(qc: bytes, pubs: Sequence[_Pub], disqualified: Sequence[int], joint: bytes) -> bytes:
    """What members compare on their devices and sign in the minutes: the keys and commitments every device saw,
    who was disqualified and the joint key. Differs if the server showed two members different transcripts."""
    parts: list[bytes | int] = [qc, len(pubs)]
    for p in pubs:
        parts += [p.comm_key, *p.commitments]
    parts += [len(disqualified), *disqualified, joint]
    return hash32("fingerprint", *parts)


def check_ceremony(c: rec.Ceremony) -> Outcome:
    """The transcript on a board: recompute the outcome and compare with what the board states."""
    out = outcome(c.spec, c.publications, c.bundles, c.complaints)
    if c.disqualified != out.disqualified:
        raise VerifyFailure(
            "disqualified", "members", f"the board says {c.disqualified}, the complaints give {out.disqualified}"
        )
    if c.joint_key != out.joint_key.hex():
        raise VerifyFailure("joint_key", "joint key", "not the sum of the qualified members' constant commitments")
    if c.fingerprint != out.fingerprint.hex():
        raise VerifyFailure("joint_key", "fingerprint", "the ceremony's fingerprint does not match its transcript")
    return out


def transcript(
    spec: rec.CeremonySpec,
    publications: Sequence[rec.MemberPublication],
    bundles: Sequence[rec.ShareBundle],
    complaint_lists: Sequence[rec.ComplaintList],
) -> tuple[rec.Ceremony, Outcome]:
    """The ceremony's public record (what the session log and every board carry), checked."""
    out = outcome(spec, publications, bundles, complaint_lists)
    record = rec.Ceremony(
        spec=spec,
        publications=list(publications),
        bundles=list(bundles),
        complaints=list(complaint_lists),
        disqualified=out.disqualified,
        joint_key=out.joint_key.hex(),
        fingerprint=out.fingerprint.hex(),
    )
    return record, out


# --- a member's device -----------------------------------------------------------------------------------------------
class KeyShare(msgspec.Struct, frozen=True, kw_only=True):
    """What a member's device keeps, only sealed under the member's passphrase (ballotcrypto/keystore.py, the
    tablet's keystore.js; docs/BALLOT-CRYPTO.md §13.1): its share of the joint secret."""

    ceremony_id: str
    member: int
    secret: str  # hex scalar s_j
    joint_key: str
    fingerprint: str

    @property
    def scalar(self) -> int:
        return int.from_bytes(bytes.fromhex(self.secret), "little")


class Phase(Enum):
    PUBLISH = "publish"
    DEAL = "deal"
    RECEIVE = "receive"
    FINISH = "finish"
    DONE = "done"


class Member:
    """One committee member's side of the ceremony. Randomness is drawn in this order (test vectors, §10): the
    communication key, the t coefficients a_0…a_{t-1}; publish: a nonce for the key's proof, one per
    coefficient's proof; deal: one ephemeral per other member, ascending; receive: one nonce per complaint."""

    def __init__(self, spec: rec.CeremonySpec, member: int, rng: Rng | None = None) -> None:
        check_spec(spec)
        if not 1 <= member <= len(spec.members):
            raise CeremonyError(f"no member {member} in a committee of {len(spec.members)}")
        self.spec, self.member, self.rng = spec, member, default_rng(rng)
        self.qc = ceremony_context(spec)
        self._comm = self.rng.scalar()
        self._coeffs = [self.rng.scalar() for _ in range(spec.threshold)]
        self.phase = Phase.PUBLISH
        self._pubs: dict[int, _Pub] = {}
        self._received: dict[int, int] = {}

    def _step(self, expected: Phase, then: Phase) -> None:
        if self.phase is not expected:
            raise CeremonyError(f"member {self.member}: {expected.value} called in phase {self.phase.value}")
        self.phase = then

    def publish(self) -> rec.MemberPublication:
        self._step(Phase.PUBLISH, Phase.DEAL)
        c, z = schnorr_prove(self._comm, "pok-comm-key", (self.qc, self.member), self.rng)
        proofs = []
        for k, a in enumerate(self._coeffs):
            ck, zk = schnorr_prove(a, "pok-coefficient", (self.qc, self.member, k), self.rng)
            proofs.append(rec.Proof(challenge=hexs(ck), response=hexs(zk)))
        return rec.MemberPublication(
            member=self.member,
            comm_key=base_mul(self._comm).hex(),
            comm_key_proof=rec.Proof(challenge=hexs(c), response=hexs(z)),
            commitments=[base_mul(a).hex() for a in self._coeffs],
            commitment_proofs=proofs,
        )

    def deal(self, publications: Sequence[rec.MemberPublication]) -> rec.ShareBundle:
        """Raises VerifyFailure naming the member whose publication is bad: the ceremony must start over
        without them (a proof of knowledge fails only if that member's device misbehaves)."""
        self._step(Phase.DEAL, Phase.RECEIVE)
        self._pubs = check_publications(self.spec, publications)
        if self._pubs[self.member].comm_key != base_mul(self._comm):
            raise VerifyFailure("member_key", f"member {self.member}", "our own publication was altered")
        shares = []
        for j in range(1, len(self.spec.members) + 1):
            if j != self.member:
                shares.append(self.seal_share(j, _evaluate(self._coeffs, j)))
        self._received[self.member] = _evaluate(self._coeffs, self.member)
        return rec.ShareBundle(dealer=self.member, shares=shares)

    def seal_share(self, recipient: int, value: int) -> rec.EncryptedShare:
        e = self.rng.scalar()
        eph = base_mul(e)
        secret = mul(e, self._pubs[recipient].comm_key)
        key = _share_key(self.qc, self.member, recipient, eph, secret)
        sealed = ChaCha20Poly1305(key).encrypt(_NONCE, scalar_bytes(value), None)
        return rec.EncryptedShare(recipient=recipient, ephemeral=eph.hex(), sealed=sealed.hex())

    def receive(self, bundles: Sequence[rec.ShareBundle]) -> rec.ComplaintList:
        self._step(Phase.RECEIVE, Phase.FINISH)
        sealed = check_bundles(self.spec, bundles)
        complaints = []
        for i in range(1, len(self.spec.members) + 1):
            if i == self.member:
                continue
            eph, box = sealed[i, self.member]
            secret = mul(self._comm, eph)
            share = _open_share(_share_key(self.qc, i, self.member, eph, secret), box)
            if share is not None and base_mul(share) == share_point(self._pubs[i].commitments, self.member):
                self._received[i] = share
                continue
            c, z = dleq_prove(self._comm, eph, "complaint", (self.qc, i, self.member), self.rng)
            proof = rec.Proof(challenge=hexs(c), response=hexs(z))
            complaints.append(rec.Complaint(dealer=i, shared_secret=secret.hex(), proof=proof))
        return rec.ComplaintList(member=self.member, complaints=complaints)

    def finish(
        self,
        publications: Sequence[rec.MemberPublication],
        bundles: Sequence[rec.ShareBundle],
        complaint_lists: Sequence[rec.ComplaintList],
    ) -> tuple[KeyShare, Outcome]:
        self._step(Phase.FINISH, Phase.DONE)
        out = outcome(self.spec, publications, bundles, complaint_lists)
        if self.member in out.disqualified:
            raise CeremonyError(f"member {self.member} was disqualified: it holds no share of this key")
        secret = sum(self._received[i] for i in out.qualified) % L
        if base_mul(secret) != out.verification_keys[self.member]:
            raise CeremonyError(f"member {self.member}: the share does not match the public verification key")
        share = KeyShare(
            ceremony_id=self.spec.ceremony_id,
            member=self.member,
            secret=hexs(secret),
            joint_key=out.joint_key.hex(),
            fingerprint=out.fingerprint.hex(),
        )
        return share, out


def run_ceremony(spec: rec.CeremonySpec, rng: Rng | None = None) -> tuple[rec.Ceremony, Outcome, dict[int, KeyShare]]:
    """All members in one process (tests, benchmarks, the demo): the messages pass through in order."""
    members = [Member(spec, i, rng) for i in range(1, len(spec.members) + 1)]
    pubs = [m.publish() for m in members]
    bundles = [m.deal(pubs) for m in members]
    complaints = [m.receive(bundles) for m in members]
    shares = {m.member: m.finish(pubs, bundles, complaints)[0] for m in members}
    record, out = transcript(spec, pubs, bundles, complaints)
    return record, out, shares
