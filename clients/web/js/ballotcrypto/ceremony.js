// The key ceremony's public checks (docs/BALLOT-CRYPTO.md §5, ballotcrypto/dkg.py `outcome`): what the verifier
// recomputes from a board's transcript — every proof of knowledge, every complaint opened (ChaCha20-Poly1305 from
// @noble/ciphers), the disqualified dealers, the joint key, each member's verification key and the fingerprint.
// A member's own device side (publish, deal, receive, finish) is not here yet.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  L,
  VerifyFailure,
  ZERO,
  baseMul,
  bytesToIntLE,
  fromHex,
  hash32,
  mulPublic,
  parsePoint,
  parseScalar,
  toHex,
} from "./group.js";
import { dleqValid, schnorrValid } from "./proofs.js";

export const MAX_MEMBERS = 100;
const NONCE = new Uint8Array(12); // each sealing key is used once (a fresh ephemeral per share)

export function ceremonyContext(spec) {
  return hash32("ceremony", spec.council_id, spec.ceremony_id, spec.threshold, spec.members.length, ...spec.members);
}

export const shareKey = (qc, dealer, recipient, eph, secret) => hash32("share-key", qc, dealer, recipient, eph, secret);

// The share, or null when the seal or the scalar is bad.
export function openShare(key, sealed) {
  let data;
  try {
    data = chacha20poly1305(key, NONCE).decrypt(sealed);
  } catch {
    return null;
  }
  const k = bytesToIntLE(data);
  return data.length === 32 && k < L ? k : null;
}

// What P(j)·G must be: Σ_k j^k·C_k.
export function sharePoint(commitments, j) {
  let acc = commitments[0];
  let power = 1n;
  for (const c of commitments.slice(1)) {
    power = (power * BigInt(j)) % L;
    acc = acc.add(mulPublic(power, c));
  }
  return acc;
}

const range1 = (n) => Array.from({ length: n }, (_, i) => i + 1);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function proofScalars(p, check, subject) {
  return [parseScalar(p.challenge, check, subject), parseScalar(p.response, check, subject)];
}

export function checkSpec(spec) {
  const n = spec.members.length;
  if (!(n >= 1 && n <= MAX_MEMBERS)) {
    throw new VerifyFailure("ceremony_parameters", "members", `a committee has 1 to ${MAX_MEMBERS} members, not ${n}`);
  }
  if (new Set(spec.members).size !== n) throw new VerifyFailure("ceremony_parameters", "members", "a member is named twice");
  if (!(spec.threshold >= 1 && spec.threshold <= n)) {
    throw new VerifyFailure("ceremony_parameters", "threshold", `threshold ${spec.threshold} is not within 1…${n}`);
  }
}

export function checkPublications(spec, pubs, qc = ceremonyContext(spec)) {
  const n = spec.members.length;
  const t = spec.threshold;
  if (!same(pubs.map((p) => p.member), range1(n))) {
    throw new VerifyFailure("member_key", "publications", `need one publication per member, 1…${n}, in order`);
  }
  const out = new Map();
  for (const p of pubs) {
    const who = `member ${p.member}`;
    const key = parsePoint(p.comm_key, "member_key", who, { allowIdentity: false });
    const [c, z] = proofScalars(p.comm_key_proof, "member_key", who);
    if (!schnorrValid(key, c, z, "pok-comm-key", [qc, p.member])) {
      throw new VerifyFailure("member_key", who, "the proof of knowledge of the communication key fails");
    }
    if (p.commitments.length !== t || p.commitment_proofs.length !== t) {
      throw new VerifyFailure("commitment", who, `need ${t} commitments with ${t} proofs`);
    }
    const commitments = p.commitments.map((text, k) => {
      const subject = `member ${p.member} coefficient ${k}`;
      const point = parsePoint(text, "commitment", subject, { allowIdentity: false });
      const [ck, zk] = proofScalars(p.commitment_proofs[k], "commitment", subject);
      if (!schnorrValid(point, ck, zk, "pok-coefficient", [qc, p.member, k])) {
        throw new VerifyFailure("commitment", subject, "the proof of knowledge of the coefficient fails");
      }
      return point;
    });
    out.set(p.member, { commKey: key, commitments });
  }
  return out;
}

function checkBundles(spec, bundles) {
  const n = spec.members.length;
  if (!same(bundles.map((b) => b.dealer), range1(n))) {
    throw new VerifyFailure("share_bundle", "bundles", `need one bundle per member, 1…${n}, in order`);
  }
  const out = new Map();
  for (const b of bundles) {
    const who = `dealer ${b.dealer}`;
    const others = range1(n).filter((j) => j !== b.dealer);
    if (!same(b.shares.map((s) => s.recipient), others)) {
      throw new VerifyFailure("share_bundle", who, "need one share for every other member, in order");
    }
    for (const s of b.shares) {
      const eph = parsePoint(s.ephemeral, "share_bundle", `${who} to member ${s.recipient}`, { allowIdentity: false });
      out.set(`${b.dealer}:${s.recipient}`, [eph, fromHex(s.sealed)]);
    }
  }
  return out;
}

export function fingerprint(qc, pubs, disqualified, joint) {
  const parts = [qc, pubs.length];
  for (const p of pubs) parts.push(p.commKey, ...p.commitments);
  parts.push(disqualified.length, ...disqualified, joint);
  return hash32("fingerprint", ...parts);
}

// Every public check of the ceremony, in the order of §9; throws VerifyFailure at the first that fails.
export function outcome(spec, publications, bundles, complaintLists) {
  checkSpec(spec);
  const qc = ceremonyContext(spec);
  const n = spec.members.length;
  const t = spec.threshold;
  const pubs = checkPublications(spec, publications, qc);
  const sealed = checkBundles(spec, bundles);
  if (!same(complaintLists.map((c) => c.member), range1(n))) {
    throw new VerifyFailure("complaint", "complaints", `need one complaint list per member, 1…${n}, in order`);
  }
  const disqualified = new Set();
  for (const cl of complaintLists) {
    const j = cl.member;
    const dealers = cl.complaints.map((c) => c.dealer);
    const ascending = dealers.every((d, i) => i === 0 || d > dealers[i - 1]);
    if (!ascending || dealers.some((d) => d < 1 || d > n || d === j)) {
      throw new VerifyFailure("complaint", `member ${j}`, "complaints name each other dealer at most once, in order");
    }
    for (const c of cl.complaints) {
      const subject = `member ${j} against dealer ${c.dealer}`;
      const [eph, box] = sealed.get(`${c.dealer}:${j}`);
      const secret = parsePoint(c.shared_secret, "complaint", subject);
      const [cc, z] = proofScalars(c.proof, "complaint", subject);
      if (!dleqValid(pubs.get(j).commKey, eph, secret, cc, z, "complaint", [qc, c.dealer, j])) {
        throw new VerifyFailure("complaint", subject, "the proof of the revealed shared secret fails");
      }
      const share = openShare(shareKey(qc, c.dealer, j, eph, secret), box);
      if (share === null || !baseMul(share).equals(sharePoint(pubs.get(c.dealer).commitments, j))) {
        disqualified.add(c.dealer); // the complaint holds; otherwise it is rejected and changes nothing
      }
    }
  }
  const qualified = range1(n).filter((i) => !disqualified.has(i));
  if (qualified.length < t) {
    throw new VerifyFailure(
      "disqualified",
      "members",
      `only ${qualified.length} members remain qualified, fewer than the threshold ${t}`,
    );
  }
  const sums = [];
  for (let k = 0; k < t; k++) {
    let acc = ZERO;
    for (const i of qualified) acc = acc.add(pubs.get(i).commitments[k]);
    sums.push(acc);
  }
  const joint = sums[0];
  const verificationKeys = new Map(qualified.map((j) => [j, sharePoint(sums, j)]));
  const dq = [...disqualified].sort((a, b) => a - b);
  const fp = fingerprint(
    qc,
    range1(n).map((i) => pubs.get(i)),
    dq,
    joint,
  );
  return { qc, qualified, disqualified: dq, jointKey: joint, verificationKeys, fingerprint: fp };
}

// The transcript on a board: recompute the outcome and compare with what the board states.
export function checkCeremony(c) {
  const out = outcome(c.spec, c.publications, c.bundles, c.complaints);
  if (!same(c.disqualified, out.disqualified)) {
    throw new VerifyFailure(
      "disqualified",
      "members",
      `the board says [${c.disqualified}], the complaints give [${out.disqualified}]`,
    );
  }
  if (c.joint_key !== toHex(out.jointKey.toBytes())) {
    throw new VerifyFailure("joint_key", "joint key", "not the sum of the qualified members' constant commitments");
  }
  if (c.fingerprint !== toHex(out.fingerprint)) {
    throw new VerifyFailure("joint_key", "fingerprint", "the ceremony's fingerprint does not match its transcript");
  }
  return out;
}
