// The context every proof of a verifiable round or poll is bound to, read from the session state as the server
// binds it (meeting/verifiable.py round_crypto, verifiable_polls.py poll_crypto; clients/ballots.py round_context /
// poll_context): council, session, round id, option keys — or officials and the kind's levels in ballot order —
// the ceremony's joint key and fingerprint. One place for the delegate's casting (js/secretballot.js, which loads
// this module with the crypto only when a verifiable round appears) and the member's decryption
// (js/committee_decrypt.js): a context built two ways would make one side's proofs fail on the other.
import { fromHex, parsePoint } from "./ballotcrypto/group.js";
import { pollRound, roundContext, voteRound } from "./ballotcrypto/ballots.js";
import { POLL_LEVELS } from "./ui.js";

/** `kind`: "round" (a vote round of state.votes.rounds) or "poll" (a confidence poll of state.polls.polls). */
export function sessionContext(state, kind, x) {
  const { council_id, session_id } = state.hall;
  const spec =
    kind === "round"
      ? voteRound(council_id, session_id, x.id, x.options.map((o) => o.key))
      : pollRound(council_id, session_id, x.id, x.officials.map((o) => o.id), POLL_LEVELS[x.kind]);
  return roundContext(spec, parsePoint(x.joint_key, "round", x.id), fromHex(x.fingerprint));
}
