// Rounds and ballots (docs/BALLOT-CRYPTO.md §6), as ballotcrypto/ballots.py: encrypt and prove on the tablet,
// verify in the verifier, spoil and audit (Benaloh challenge). Records are the plain JSON objects of §8.
import {
  L,
  VerifyFailure,
  fromHex,
  hash32,
  hexp,
  hexs,
  mod,
  parsePoint,
  parseScalar,
  systemRng,
  toHex,
} from "./group.js";
import { encrypt, rangeProve, rangeValid, sumPairs } from "./proofs.js";

export const MAX_QUESTIONS = 100; // meeting/polls.py MAX_OFFICIALS
export const MAX_CHOICES = 20; // meeting/votes.py MAX_OPTIONS

export function voteRound(councilId, sessionId, roundId, options) {
  const q = { id: roundId, choices: [...options], min: 1, max: 1 };
  return { council_id: councilId, session_id: sessionId, round_id: roundId, kind: "vote", questions: [q] };
}

export function pollRound(councilId, sessionId, pollId, officials, levels) {
  const questions = officials.map((o) => ({ id: o, choices: [...levels], min: 0, max: 1 }));
  return { council_id: councilId, session_id: sessionId, round_id: pollId, kind: "poll", questions };
}

export function checkRound(spec) {
  const qs = spec.questions;
  if (!(qs.length >= 1 && qs.length <= MAX_QUESTIONS)) {
    throw new VerifyFailure("round", spec.round_id, `a round has 1 to ${MAX_QUESTIONS} questions`);
  }
  if (new Set(qs.map((q) => q.id)).size !== qs.length) {
    throw new VerifyFailure("round", spec.round_id, "two questions share an id");
  }
  for (const q of qs) {
    const n = q.choices.length;
    if (!(n >= 1 && n <= MAX_CHOICES) || new Set(q.choices).size !== n) {
      throw new VerifyFailure("round", q.id, `a question has 1 to ${MAX_CHOICES} distinct choices`);
    }
    if (!(0 <= q.min && q.min <= q.max && q.max <= n)) {
      throw new VerifyFailure("round", q.id, "need 0 ≤ min ≤ max ≤ the number of choices");
    }
  }
  if (spec.kind === "vote" && (qs.length !== 1 || qs[0].min !== 1 || qs[0].max !== 1)) {
    throw new VerifyFailure("round", spec.round_id, "a vote round is one question with exactly one choice");
  }
}

// What every ballot proof of the round is hashed with: {spec, jointKey (Point), fingerprint (bytes), qr (bytes)}.
export function roundContext(spec, jointKey, fingerprint) {
  checkRound(spec);
  const parts = [fingerprint, spec.council_id, spec.session_id, spec.round_id, spec.kind, jointKey];
  parts.push(spec.questions.length);
  for (const q of spec.questions) parts.push(q.id, q.min, q.max, q.choices.length, ...q.choices);
  return { spec, jointKey, fingerprint, qr: hash32("round", ...parts) };
}

export function tracker(ctx, cts) {
  const parts = [ctx.qr, cts.length];
  for (const row of cts) {
    parts.push(row.length);
    for (const [alpha, beta] of row) parts.push(alpha, beta);
  }
  return hash32("tracker", ...parts);
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// What the tablet shows: base32 (RFC 4648) of the tracker's first 10 bytes, 4 groups of 4 (80 bits).
export function shortTracker(trackerHex) {
  const bytes = fromHex(trackerHex).slice(0, 10);
  let bits = 0;
  let acc = 0;
  let text = "";
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      text += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return text.match(/.{4}/g).join("-");
}

export function voteChoices(spec, option) {
  const q = spec.questions[0];
  if (!q.choices.includes(option)) throw new RangeError(`no option ${option}`);
  return [q.choices.map((c) => (c === option ? 1 : 0))];
}

// marks: official -> level, or null / absent for no mark (invalid for that official).
export function pollChoices(spec, marks) {
  return spec.questions.map((q) => {
    const level = marks[q.id] ?? null;
    if (level !== null && !q.choices.includes(level)) throw new RangeError(`no level ${level}`);
    return q.choices.map((c) => (c === level ? 1 : 0));
  });
}

const proofContext = (ctx, t, what, q, k) => [ctx.qr, t, what, q, k];
const rangeRecord = (cs, zs) => ({ challenges: cs.map(hexs), responses: zs.map(hexs) });

// The ballot record and its nonces (kept only to spoil it). Randomness: every nonce, question by question and box
// by box; then per question each box's proof, then the sum's proof (§10).
export function encryptBallot(ctx, choices, rng = systemRng) {
  const qs = ctx.spec.questions;
  if (choices.length !== qs.length || choices.some((c, i) => c.length !== qs[i].choices.length)) {
    throw new RangeError("the choices do not have the round's shape");
  }
  choices.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (row.some((v) => v !== 0 && v !== 1) || total < qs[i].min || total > qs[i].max) {
      throw new RangeError(`question ${qs[i].id}: each box 0 or 1, and ${qs[i].min} to ${qs[i].max} chosen`);
    }
  });
  const nonces = choices.map((row) => row.map(() => rng.scalar()));
  const cts = choices.map((row, qi) => row.map((m, k) => encrypt(ctx.jointKey, m, nonces[qi][k])));
  const t = tracker(ctx, cts);
  const answers = qs.map((q, qi) => {
    const row = choices[qi];
    const proofs = row.map((m, k) => {
      const [cs, zs] = rangeProve(
        ctx.jointKey,
        cts[qi][k],
        m,
        nonces[qi][k],
        0,
        1,
        proofContext(ctx, t, "choice", qi, k),
        rng,
      );
      return rangeRecord(cs, zs);
    });
    const m = row.reduce((a, b) => a + b, 0);
    const r = mod(nonces[qi].reduce((a, b) => a + b, 0n));
    const [cs, zs] = rangeProve(
      ctx.jointKey,
      sumPairs(cts[qi]),
      m,
      r,
      q.min,
      q.max,
      proofContext(ctx, t, "sum", qi, 0),
      rng,
    );
    return {
      ciphertexts: cts[qi].map(([a, b]) => ({ alpha: hexp(a), beta: hexp(b) })),
      choice_proofs: proofs,
      sum_proof: rangeRecord(cs, zs),
    };
  });
  return { ballot: { tracker: toHex(t), answers }, nonces };
}

function rangeScalars(p, n, check, where) {
  if (p.challenges.length !== n || p.responses.length !== n) {
    throw new VerifyFailure(check, where, `need ${n} challenges and ${n} responses`);
  }
  return [p.challenges.map((c) => parseScalar(c, check, where)), p.responses.map((z) => parseScalar(z, check, where))];
}

// Every check of one ballot, in order (§9): shape and encodings, tracker, each box's proof, each sum's proof.
// Returns the decoded ciphertexts (for the aggregate); throws VerifyFailure naming the ballot by its tracker.
export function verifyBallot(ctx, ballot) {
  const who = `ballot ${String(ballot.tracker).slice(0, 16)}`;
  const qs = ctx.spec.questions;
  if (ballot.answers.length !== qs.length) {
    throw new VerifyFailure("ballot_format", who, `${ballot.answers.length} answers for ${qs.length} questions`);
  }
  const cts = qs.map((q, qi) => {
    const a = ballot.answers[qi];
    const n = q.choices.length;
    if (a.ciphertexts.length !== n || a.choice_proofs.length !== n) {
      throw new VerifyFailure("ballot_format", `${who} question ${qi}`, `need ${n} ciphertexts and ${n} proofs`);
    }
    return a.ciphertexts.map((c, k) => {
      const where = `${who} question ${qi} choice ${k}`;
      return [parsePoint(c.alpha, "ballot_format", where), parsePoint(c.beta, "ballot_format", where)];
    });
  });
  const t = tracker(ctx, cts);
  if (toHex(t) !== ballot.tracker) {
    throw new VerifyFailure("ballot_tracker", who, "the tracker is not the hash of the ciphertexts");
  }
  qs.forEach((q, qi) => {
    const a = ballot.answers[qi];
    cts[qi].forEach((ct, k) => {
      const where = `${who} question ${qi} choice ${k}`;
      const [cs, zs] = rangeScalars(a.choice_proofs[k], 2, "ballot_choice_proof", where);
      if (!rangeValid(ctx.jointKey, ct, 0, 1, cs, zs, proofContext(ctx, t, "choice", qi, k))) {
        throw new VerifyFailure("ballot_choice_proof", where, "the 0-or-1 proof does not verify");
      }
    });
    const where = `${who} question ${qi}`;
    const [cs, zs] = rangeScalars(a.sum_proof, q.max - q.min + 1, "ballot_sum_proof", where);
    if (!rangeValid(ctx.jointKey, sumPairs(cts[qi]), q.min, q.max, cs, zs, proofContext(ctx, t, "sum", qi, 0))) {
      throw new VerifyFailure("ballot_sum_proof", where, `the proof that ${q.min} to ${q.max} are chosen fails`);
    }
  });
  return cts;
}

// --- Benaloh challenge --------------------------------------------------------------------------------------------------
export function spoil(ballot, choices, nonces) {
  return { ballot, choices: choices.map((c) => [...c]), nonces: nonces.map((row) => row.map(hexs)) };
}

// Checks a spoiled ballot opens to the choices it reveals: each ciphertext re-encrypted from its nonce.
export function audit(ctx, spoiled) {
  const who = `spoiled ${String(spoiled.ballot.tracker).slice(0, 16)}`;
  let cts;
  try {
    cts = verifyBallot(ctx, spoiled.ballot);
  } catch (e) {
    if (e instanceof VerifyFailure) throw new VerifyFailure("spoiled_ballot", who, `${e.check}: ${e.detail}`);
    throw e;
  }
  const shape = cts.map((row) => row.length).join();
  if (spoiled.choices.map((c) => c.length).join() !== shape || spoiled.nonces.map((n) => n.length).join() !== shape) {
    throw new VerifyFailure("spoiled_ballot", who, "the revealed choices and nonces do not have the ballot's shape");
  }
  cts.forEach((row, qi) =>
    row.forEach((ct, k) => {
      const m = spoiled.choices[qi][k];
      const r = parseScalar(spoiled.nonces[qi][k], "spoiled_ballot", who);
      const again = m === 0 || m === 1 ? encrypt(ctx.jointKey, m, r) : null;
      if (!again || !again[0].equals(ct[0]) || !again[1].equals(ct[1])) {
        throw new VerifyFailure("spoiled_ballot", `${who} question ${qi} choice ${k}`, "does not open as revealed");
      }
    }),
  );
  return spoiled.choices.map((c) => [...c]);
}

export { L };
