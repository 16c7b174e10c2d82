// Verifiable secret ballots in the browser (issue 13; docs/BALLOT-CRYPTO.md): the scheme of ballotcrypto/ on
// @noble/curves (ristretto255), @noble/hashes (SHA-512) and @noble/ciphers (ChaCha20-Poly1305). One entry point for
// the pages; the modules under ballotcrypto/ follow the Python package's split.
export {
  L,
  SeededRng,
  VerifyFailure,
  hashBytes,
  hashScalar,
  hexp,
  hexs,
  parsePoint,
  parseScalar,
  systemRng,
  toHex,
  fromHex,
} from "./ballotcrypto/group.js";
export { encrypt, rangeProve, rangeValid, schnorrProve, schnorrValid, dleqProve, dleqValid } from "./ballotcrypto/proofs.js";
export {
  audit,
  checkRound,
  encryptBallot,
  pollChoices,
  pollRound,
  roundContext,
  shortTracker,
  spoil,
  tracker,
  verifyBallot,
  voteChoices,
  voteRound,
} from "./ballotcrypto/ballots.js";
export { checkCeremony, outcome } from "./ballotcrypto/ceremony.js";
export { Member, evaluate } from "./ballotcrypto/dkg.js";
export { KeyStoreError, openKeyShare, sealKeyShare } from "./ballotcrypto/keystore.js";
export { aggregate, checkPartial, combine, partialDecrypt } from "./ballotcrypto/tally.js";
export { decodeBoard } from "./ballotcrypto/format.js";
export { CHECKS } from "./ballotcrypto/checks.js";
export { STAGES, checkBoard, stageOf, verifyBoard } from "./ballotcrypto/board.js";
