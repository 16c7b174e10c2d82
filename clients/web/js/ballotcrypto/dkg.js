// One committee member's device in the key ceremony (docs/BALLOT-CRYPTO.md §5), as ballotcrypto/dkg.py `Member`:
// a state machine that is handed what the others published and answers with what it publishes next. No I/O.
//
//   publish() -> publication     communication key, commitments to its polynomial, proofs of knowledge
//   deal(publications) -> bundle its polynomial's value for every other member, sealed to that member
//   receive(bundles) -> complaints opens its shares, checks them against the dealers' commitments
//   finish(pubs, bundles, complaints) -> key share  {ceremony_id, member, secret, joint_key, fingerprint}
//
// Randomness in the order of §10: the communication key, the t coefficients; publish: the key proof's nonce, one
// per coefficient proof; deal: one ephemeral per other member, ascending; receive: one nonce per complaint.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ceremonyContext, checkPublications, checkSpec, openShare, outcome, shareKey, sharePoint } from "./ceremony.js";
import { VerifyFailure, baseMul, fromHex, hexp, hexs, mod, mul, parsePoint, scalarBytes, systemRng, toHex } from "./group.js";
import { dleqProve, schnorrProve } from "./proofs.js";

const NONCE = new Uint8Array(12); // each sealing key is used once (a fresh ephemeral per share)
const proofRecord = ([c, z]) => ({ challenge: hexs(c), response: hexs(z) });

export function evaluate(coeffs, x) {
  let acc = 0n;
  for (let i = coeffs.length - 1; i >= 0; i--) acc = mod(acc * BigInt(x) + coeffs[i]);
  return acc;
}

export class Member {
  constructor(spec, member, rng = systemRng) {
    checkSpec(spec);
    if (!(member >= 1 && member <= spec.members.length)) throw new RangeError(`no member ${member}`);
    this.spec = spec;
    this.member = member;
    this.rng = rng;
    this.qc = ceremonyContext(spec);
    this.comm = rng.scalar();
    this.coeffs = Array.from({ length: spec.threshold }, () => rng.scalar());
    this.phase = "publish";
    this.pubs = null; // member -> {commKey, commitments} (Points), from the checked publications
    this.received = new Map(); // dealer -> share (bigint)
  }

  step(expected, then) {
    if (this.phase !== expected) throw new Error(`member ${this.member}: ${expected} called in phase ${this.phase}`);
    this.phase = then;
  }

  publish() {
    this.step("publish", "deal");
    const keyProof = schnorrProve(this.comm, "pok-comm-key", [this.qc, this.member], this.rng);
    const proofs = this.coeffs.map((a, k) => proofRecord(schnorrProve(a, "pok-coefficient", [this.qc, this.member, k], this.rng)));
    return {
      member: this.member,
      comm_key: hexp(baseMul(this.comm)),
      comm_key_proof: proofRecord(keyProof),
      commitments: this.coeffs.map((a) => hexp(baseMul(a))),
      commitment_proofs: proofs,
    };
  }

  // Throws VerifyFailure naming the member whose publication fails (the ceremony restarts without them).
  deal(publications) {
    this.step("deal", "receive");
    this.pubs = checkPublications(this.spec, publications, this.qc);
    if (!this.pubs.get(this.member).commKey.equals(baseMul(this.comm))) {
      throw new VerifyFailure("member_key", `member ${this.member}`, "our own publication was altered");
    }
    const shares = [];
    for (let j = 1; j <= this.spec.members.length; j++) {
      if (j !== this.member) shares.push(this.sealShare(j, evaluate(this.coeffs, j)));
    }
    this.received.set(this.member, evaluate(this.coeffs, this.member));
    return { dealer: this.member, shares };
  }

  sealShare(recipient, value) {
    const e = this.rng.scalar();
    const eph = baseMul(e);
    const secret = mul(e, this.pubs.get(recipient).commKey);
    const key = shareKey(this.qc, this.member, recipient, eph, secret);
    const sealed = chacha20poly1305(key, NONCE).encrypt(scalarBytes(value));
    return { recipient, ephemeral: hexp(eph), sealed: toHex(sealed) };
  }

  receive(bundles) {
    this.step("receive", "finish");
    const complaints = [];
    for (let i = 1; i <= this.spec.members.length; i++) {
      if (i === this.member) continue;
      const bundle = bundles.find((b) => b.dealer === i);
      const s = bundle?.shares.find((x) => x.recipient === this.member);
      if (!s) throw new VerifyFailure("share_bundle", `dealer ${i}`, "no share for this member");
      const eph = parsePoint(s.ephemeral, "share_bundle", `dealer ${i} to member ${this.member}`, { allowIdentity: false });
      const secret = mul(this.comm, eph);
      const share = openShare(shareKey(this.qc, i, this.member, eph, secret), fromHex(s.sealed));
      if (share !== null && baseMul(share).equals(sharePoint(this.pubs.get(i).commitments, this.member))) {
        this.received.set(i, share);
        continue;
      }
      const proof = dleqProve(this.comm, eph, "complaint", [this.qc, i, this.member], this.rng);
      complaints.push({ dealer: i, shared_secret: hexp(secret), proof: proofRecord(proof) });
    }
    return { member: this.member, complaints };
  }

  // The member's share of the joint secret — the one thing its device must keep (under the member's passphrase).
  finish(publications, bundles, complaintLists) {
    this.step("finish", "done");
    const out = outcome(this.spec, publications, bundles, complaintLists);
    if (out.disqualified.includes(this.member)) throw new Error(`member ${this.member} was disqualified`);
    const secret = mod(out.qualified.reduce((acc, i) => acc + this.received.get(i), 0n));
    if (!baseMul(secret).equals(out.verificationKeys.get(this.member))) {
      throw new Error(`member ${this.member}: the share does not match the public verification key`);
    }
    const share = {
      ceremony_id: this.spec.ceremony_id,
      member: this.member,
      secret: hexs(secret),
      joint_key: hexp(out.jointKey),
      fingerprint: toHex(out.fingerprint),
    };
    return { share, outcome: out };
  }
}
