// The bulletin board verifier (docs/BALLOT-CRYPTO.md §9), as ballotcrypto/board.py `check_board`: every check in
// order, stopping at the first that fails, which it names. Async only to let a page redraw between ballots.
import { roundContext, audit, verifyBallot } from "./ballots.js";
import { checkCeremony } from "./ceremony.js";
import { CHECKS } from "./checks.js";
import { decodeBoard } from "./format.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { VerifyFailure, hexp, toHex } from "./group.js";
import { aggregate, aggregateRecord, checkPartial, combine } from "./tally.js";

// The stages a person sees, each the checks of §9 it runs (the page shows one line per stage).
export const STAGES = [
  ["format", ["board_format"]],
  ["ceremony", ["ceremony_parameters", "member_key", "commitment", "share_bundle", "complaint", "disqualified", "joint_key"]],
  ["round", ["round"]],
  ["ballots", ["ballot_format", "ballot_tracker", "ballot_choice_proof", "ballot_sum_proof", "ballot_duplicate"]],
  ["spoiled", ["spoiled_ballot"]],
  ["aggregate", ["aggregate"]],
  ["partials", ["partial_decryption", "too_few_partials"]],
  ["result", ["result"]],
];

export const stageOf = (check) => STAGES.find(([, checks]) => checks.includes(check))[0];

// The file's SHA-256, as the board route's x-content-sha256 header and `sha256sum` give it: what two people
// compare to know they checked the same board.
export const boardDigest = (bytes) => toHex(sha256(bytes));

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// onStage(stage, "running" | "ok", info): info.done / info.total while the ballots are checked.
export async function checkBoard(data, onStage = () => {}) {
  onStage("format", "running");
  const board = decodeBoard(data);
  onStage("format", "ok");
  onStage("ceremony", "running");
  await tick();
  const outcome = checkCeremony(board.ceremony);
  onStage("ceremony", "ok", { fingerprint: outcome.fingerprint });
  onStage("round", "running");
  const spec = board.round;
  if (spec.council_id !== board.ceremony.spec.council_id) {
    throw new VerifyFailure("round", spec.round_id, "the round's council is not the ceremony's");
  }
  const ctx = roundContext(spec, outcome.jointKey, outcome.fingerprint);
  onStage("round", "ok");
  const seen = new Set();
  const cts = [];
  const total = board.ballots.length;
  onStage("ballots", "running", { done: 0, total });
  for (const [i, b] of board.ballots.entries()) {
    cts.push(verifyBallot(ctx, b));
    if (seen.has(b.tracker)) {
      throw new VerifyFailure("ballot_duplicate", `ballot ${b.tracker.slice(0, 16)}`, "two ballots with the same tracker");
    }
    seen.add(b.tracker);
    if (i % 4 === 3) {
      onStage("ballots", "running", { done: i + 1, total });
      await tick();
    }
  }
  onStage("ballots", "ok", { done: total, total });
  onStage("spoiled", "running");
  for (const s of board.spoiled) {
    audit(ctx, s);
    if (seen.has(s.ballot.tracker)) {
      throw new VerifyFailure("spoiled_ballot", `spoiled ${s.ballot.tracker.slice(0, 16)}`, "a spoiled ballot was counted");
    }
  }
  onStage("spoiled", "ok", { total: board.spoiled.length });
  onStage("aggregate", "running");
  const cells = aggregate(spec, cts);
  if (!sameJson(board.aggregate, aggregateRecord(cells))) {
    throw new VerifyFailure("aggregate", spec.round_id, "not the sum of the ballots' ciphertexts");
  }
  onStage("aggregate", "ok");
  onStage("partials", "running");
  await tick();
  const checked = new Map();
  for (const p of board.partials) {
    if (checked.has(p.member)) {
      throw new VerifyFailure("partial_decryption", `member ${p.member}`, "two partial decryptions from one member");
    }
    checked.set(p.member, checkPartial(ctx, outcome, cells, p));
  }
  if (checked.size < board.ceremony.spec.threshold) {
    throw new VerifyFailure(
      "too_few_partials",
      "partials",
      `${checked.size} partial decryptions, the threshold is ${board.ceremony.spec.threshold}`,
    );
  }
  onStage("partials", "ok", { members: [...checked.keys()], threshold: board.ceremony.spec.threshold });
  onStage("result", "running");
  const counts = combine(cells, checked, board.ceremony.spec.threshold, board.ballots.length);
  if (board.result.ballots !== board.ballots.length) {
    throw new VerifyFailure(
      "result",
      "ballots",
      `the result says ${board.result.ballots} ballots, the board has ${board.ballots.length}`,
    );
  }
  if (!sameJson(board.result.counts, counts)) {
    throw new VerifyFailure(
      "result",
      "counts",
      `the result says ${JSON.stringify(board.result.counts)}, the decryption gives ${JSON.stringify(counts)}`,
    );
  }
  onStage("result", "ok");
  return { board, outcome, jointKey: hexp(outcome.jointKey), counts };
}

// Never throws for a bad board: {ok: true, board, counts, …} or {ok: false, failure: {check, stage, subject, detail,
// vi, en}, board?}. Anything else thrown is a bug in this code and is rethrown.
export async function verifyBoard(data, onStage) {
  try {
    return { ok: true, ...(await checkBoard(data, onStage)) };
  } catch (e) {
    if (!(e instanceof VerifyFailure)) throw e;
    const [vi, en] = CHECKS[e.check];
    return { ok: false, failure: { check: e.check, stage: stageOf(e.check), subject: e.subject, detail: e.detail, vi, en } };
  }
}
