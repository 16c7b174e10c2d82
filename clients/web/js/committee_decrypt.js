// Certifying = decrypting (issue 13 §1), as clients/ballots.py `CommitteeMember.decrypt` / `decrypt_poll`: the
// device checks every cast ballot itself (verifyBallot), adds them up (tally.js aggregate) and decrypts only that
// total — never a ciphertext the server hands it as "the total", which could be one delegate's ballot.
//
// Not in one go: a poll ballot of 30 officials is 120 range proofs (~0.2 s on a tablet), 125 of them would freeze
// the page for half a minute. The ballots are checked in slices of at most SLICE_MS, the page drawing in between.
import { verifyBallot } from "./ballotcrypto/ballots.js";
import { aggregate, partialDecrypt } from "./ballotcrypto/tally.js";
import { sessionContext } from "./ballotcontext.js";

const SLICE_MS = 50;
const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

export class FewerBallots extends Error {
  constructor(got, announced) {
    super(`the view holds ${got} ballots, ${announced} were announced`);
    this.vi = `Thiết bị nhận ${got} phiếu, ít hơn ${announced} phiếu đã công bố: không giải mã. Báo Chủ tọa.`;
  }
}

/** The verifiable rounds and polls closed for counting whose committee this member is on. */
export function decryptTargets(state, me) {
  const rounds = Object.values(state.votes.rounds)
    .filter((r) => r.mode === "verifiable" && r.status === "counted" && r.committee.includes(me))
    .map((r) => ({ kind: "round", id: r.id, title: r.motion, item: r }));
  const polls = Object.values(state.polls.polls)
    .filter((p) => p.mode === "verifiable" && p.status === "counted" && p.committee.includes(me))
    .map((p) => ({ kind: "poll", id: p.id, title: null, item: p }));
  return [...rounds, ...polls];
}

/**
 * The command carrying this member's partial decryption of the target's total. onProgress(checked, total) after
 * every slice; a ballot that fails its proofs throws VerifyFailure naming its tracker (nothing is sent).
 */
export async function partialCommand(state, target, share, onProgress = () => {}) {
  const ctx = sessionContext(state, target.kind, target.item);
  if (share.joint_key !== target.item.joint_key) throw new Error(`${target.id} is not encrypted to this ceremony's key`);
  const cast = target.item.ballots;
  // The hall was told at least `ballots_reported` ballots (it lags, never leads): a view holding fewer would have
  // this member decrypt a subset — at worst one ballot. (A tracker missing from the board is the voter's check.)
  if (cast.length < (target.item.ballots_reported || 0)) throw new FewerBallots(cast.length, target.item.ballots_reported);
  const checked = [];
  let since = performance.now();
  for (const b of cast) {
    checked.push(verifyBallot(ctx, b));
    if (performance.now() - since > SLICE_MS) {
      onProgress(checked.length, cast.length);
      await yieldToPage();
      since = performance.now();
    }
  }
  onProgress(cast.length, cast.length);
  await yieldToPage();
  const partial = partialDecrypt(share, ctx, aggregate(ctx.spec, checked));
  return target.kind === "round"
    ? { type: "vote_partial_decryption", round_id: target.id, partial }
    : { type: "poll_partial_decryption", poll_id: target.id, partial };
}
