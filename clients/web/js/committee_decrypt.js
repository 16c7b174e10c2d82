// Certifying = decrypting (issue 13 §1), as clients/ballots.py `CommitteeMember.decrypt` / `decrypt_poll`: the
// device checks every cast ballot itself (verifyBallot), adds them up (tally.js aggregate) and decrypts only that
// total — never a ciphertext the server hands it as "the total", which could be one delegate's ballot.
//
// Not in one go: a poll ballot of 30 officials is 120 range proofs (~0.2 s on a tablet), 125 of them would freeze
// the page for half a minute. The ballots are checked in slices of at most SLICE_MS, the page drawing in between.
import { fromHex, parsePoint } from "./ballotcrypto/group.js";
import { pollRound, roundContext, verifyBallot, voteRound } from "./ballotcrypto/ballots.js";
import { aggregate, partialDecrypt } from "./ballotcrypto/tally.js";
import { POLL_LEVELS } from "./ui.js";

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

/** The round's spec as the server binds it (meeting/verifiable.py round_crypto; clients/ballots.py poll_context). */
export function targetContext(state, target) {
  const { council_id, session_id } = state.hall;
  const x = target.item;
  const spec =
    target.kind === "round"
      ? voteRound(council_id, session_id, x.id, x.options.map((o) => o.key))
      : pollRound(council_id, session_id, x.id, x.officials.map((o) => o.id), POLL_LEVELS[x.kind]);
  return roundContext(spec, parsePoint(x.joint_key, "round", x.id), fromHex(x.fingerprint));
}

/**
 * The command carrying this member's partial decryption of the target's total. onProgress(checked, total) after
 * every slice; a ballot that fails its proofs throws VerifyFailure naming its tracker (nothing is sent).
 */
export async function partialCommand(state, target, share, onProgress = () => {}) {
  const ctx = targetContext(state, target);
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
