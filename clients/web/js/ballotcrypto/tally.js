// Counting (docs/BALLOT-CRYPTO.md §7), as ballotcrypto/tally.py: add the ballots' ciphertexts, check each member's
// partial decryption of the sum, combine t of them with Lagrange coefficients, then the small discrete logarithm by
// table (a count is at most the number of ballots, ≤ 125 in the largest council).
import { Point, VerifyFailure, ZERO, hexp, hexs, mul, parsePoint, parseScalar, systemRng } from "./group.js";
import { addPairs, dleqProve, dleqValid } from "./proofs.js";

const Fn = Point.Fn; // arithmetic mod L (noble's field, for the inverse)

export function aggregate(spec, ballots) {
  let acc = spec.questions.map((q) => q.choices.map(() => [ZERO, ZERO]));
  for (const b of ballots) acc = acc.map((row, qi) => row.map((x, k) => addPairs(x, b[qi][k])));
  return acc;
}

export const aggregateRecord = (cells) => cells.map((row) => row.map(([a, b]) => ({ alpha: hexp(a), beta: hexp(b) })));

const partialContext = (ctx, member, q, k) => [ctx.qr, member, q, k];

// A member's device: s_j·A for every cell's alpha A with a Chaum–Pedersen proof (one nonce per cell, in order).
// share: {member, secret (hex), joint_key, fingerprint} as ballotcrypto/dkg.py KeyShare.
export function partialDecrypt(share, ctx, cells, rng = systemRng) {
  if (share.joint_key !== hexp(ctx.jointKey)) throw new Error("this key share is not of the round's ceremony");
  const s = parseScalar(share.secret, "partial_decryption", "own share");
  const shares = cells.map((row, qi) =>
    row.map(([alpha], k) => {
      const [c, z] = dleqProve(s, alpha, "partial", partialContext(ctx, share.member, qi, k), rng);
      return { share: hexp(mul(s, alpha)), proof: { challenge: hexs(c), response: hexs(z) } };
    }),
  );
  return { member: share.member, shares };
}

// outcome: checkCeremony's result. Throws VerifyFailure("partial_decryption") naming the member.
export function checkPartial(ctx, outcome, cells, p) {
  const who = `member ${p.member}`;
  const vkey = outcome.verificationKeys.get(p.member);
  if (!vkey) throw new VerifyFailure("partial_decryption", who, "not a qualified member of the ceremony");
  if (p.shares.map((r) => r.length).join() !== cells.map((r) => r.length).join() || p.shares.length !== cells.length) {
    throw new VerifyFailure("partial_decryption", who, "not one share per cell of the aggregate");
  }
  return cells.map((row, qi) =>
    row.map(([alpha], k) => {
      const d = p.shares[qi][k];
      const where = `${who} question ${qi} choice ${k}`;
      const m = parsePoint(d.share, "partial_decryption", where);
      const c = parseScalar(d.proof.challenge, "partial_decryption", where);
      const z = parseScalar(d.proof.response, "partial_decryption", where);
      if (!dleqValid(vkey, alpha, m, c, z, "partial", partialContext(ctx, p.member, qi, k))) {
        throw new VerifyFailure("partial_decryption", where, "the proof of correct decryption fails");
      }
      return m;
    }),
  );
}

// λ_j = Π_{m≠j} m / (m − j) mod L: the weights that give the polynomial's value at 0.
export function lagrange(members) {
  const out = new Map();
  for (const j of members) {
    let num = 1n;
    let den = 1n;
    for (const m of members) {
      if (m !== j) {
        num = Fn.mul(num, Fn.create(BigInt(m)));
        den = Fn.mul(den, Fn.create(BigInt(m - j)));
      }
    }
    out.set(j, Fn.mul(num, Fn.inv(den)));
  }
  return out;
}

// partials: Map member -> checked points. The counts, or VerifyFailure("too_few_partials" | "result").
export function combine(cells, partials, threshold, ballots) {
  if (partials.size < threshold) {
    throw new VerifyFailure(
      "too_few_partials",
      "partials",
      `${partials.size} partial decryptions, the threshold is ${threshold}`,
    );
  }
  const table = new Map([[hexp(ZERO), 0]]);
  let p = ZERO;
  for (let m = 1; m <= ballots; m++) {
    p = p.add(Point.BASE);
    table.set(hexp(p), m);
  }
  const lam = lagrange([...partials.keys()].sort((a, b) => a - b));
  return cells.map((row, qi) =>
    row.map(([, beta], k) => {
      let acc = ZERO;
      for (const [j, shares] of partials) acc = acc.add(shares[qi][k].multiplyUnsafe(lam.get(j)));
      const m = table.get(hexp(beta.subtract(acc)));
      if (m === undefined) {
        throw new VerifyFailure("result", `question ${qi} choice ${k}`, `the total is no count from 0 to ${ballots}`);
      }
      return m;
    }),
  );
}
