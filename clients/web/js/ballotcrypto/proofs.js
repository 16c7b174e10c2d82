// Exponential ElGamal and the three proofs (docs/BALLOT-CRYPTO.md §4), made non-interactive by Fiat–Shamir with
// the whole statement and every commitment in the hash. The same algebra as ballotcrypto/proofs.py: a proof is a
// (challenge, response) pair; the verifier recomputes the commitments and checks the hash. `context` is the list
// of hash inputs binding the proof to where it stands.
import { G, ZERO, baseMul, hashScalar, mod, mul, mulPublic, small } from "./group.js";

// (r·G, m·G + r·K): adding ciphertexts adds the messages.
export function encrypt(key, m, r) {
  return [baseMul(r), small(m).add(mul(r, key))];
}

export const addPairs = (x, y) => [x[0].add(y[0]), x[1].add(y[1])];

export function sumPairs(pairs) {
  let acc = [ZERO, ZERO];
  for (const p of pairs) acc = addPairs(acc, p);
  return acc;
}

// --- Schnorr: knowledge of x with X = x·G -------------------------------------------------------------------------------
export function schnorrProve(x, tag, context, rng) {
  const point = baseMul(x);
  const w = rng.scalar();
  const c = hashScalar(tag, ...context, point, baseMul(w));
  return [c, mod(w + c * x)];
}

export function schnorrValid(point, c, z, tag, context) {
  const a = baseMul(z).subtract(mulPublic(c, point));
  return c === hashScalar(tag, ...context, point, a);
}

// --- Chaum–Pedersen: the same x in X1 = x·G and X2 = x·B2 ---------------------------------------------------------------
export function dleqProve(x, b2, tag, context, rng) {
  const x1 = baseMul(x);
  const x2 = mul(x, b2);
  const w = rng.scalar();
  const c = hashScalar(tag, ...context, G, x1, b2, x2, baseMul(w), mul(w, b2));
  return [c, mod(w + c * x)];
}

export function dleqValid(x1, b2, x2, c, z, tag, context) {
  const a1 = baseMul(z).subtract(mulPublic(c, x1));
  const a2 = mulPublic(z, b2).subtract(mulPublic(c, x2));
  return c === hashScalar(tag, ...context, G, x1, b2, x2, a1, a2);
}

// --- range: (alpha, beta) encrypts one of lo…hi under `key` (Cramer–Damgård–Schoenmakers) ------------------------------
// Branch v claims log_G alpha = log_K (beta − v·G). The real branch (v = m) gets a fresh w; every other branch is
// simulated from a chosen challenge and response. Randomness in ascending v: w for the real branch, c_v then z_v.
export function rangeProve(key, ct, m, r, lo, hi, context, rng) {
  if (!(lo <= m && m <= hi)) throw new RangeError("the message is outside the range it is to be proved in");
  const [alpha, beta] = ct;
  const cs = [];
  const zs = [];
  const commits = [];
  let w = 0n;
  for (let v = lo; v <= hi; v++) {
    if (v === m) {
      w = rng.scalar();
      cs.push(0n);
      zs.push(0n);
      commits.push(baseMul(w), mul(w, key));
    } else {
      const cv = rng.scalar();
      const zv = rng.scalar();
      cs.push(cv);
      zs.push(zv);
      const shifted = v ? beta.subtract(small(v)) : beta;
      commits.push(baseMul(zv).subtract(mul(cv, alpha)), mul(zv, key).subtract(mul(cv, shifted)));
    }
  }
  const c = hashScalar("range", ...context, lo, hi, alpha, beta, ...commits);
  const i = m - lo;
  cs[i] = mod(c - cs.reduce((a, b) => a + b, 0n));
  zs[i] = mod(w + cs[i] * r);
  return [cs, zs];
}

export function rangeValid(key, ct, lo, hi, cs, zs, context) {
  if (cs.length !== hi - lo + 1 || zs.length !== hi - lo + 1) return false;
  const [alpha, beta] = ct;
  const commits = [];
  for (let v = lo; v <= hi; v++) {
    const cv = cs[v - lo];
    const zv = zs[v - lo];
    const shifted = v ? beta.subtract(small(v)) : beta;
    commits.push(
      baseMul(zv).subtract(mulPublic(cv, alpha)),
      mulPublic(zv, key).subtract(mulPublic(cv, shifted)),
    );
  }
  return mod(cs.reduce((a, b) => a + b, 0n)) === hashScalar("range", ...context, lo, hi, alpha, beta, ...commits);
}
