// Prints a bulletin board made by the browser's code, for the Python verifier to check (tests/test_web_ballotcrypto.py):
// the vector ceremony (its transcript and key shares), then ballots encrypted here with the platform's CSPRNG, their
// aggregate, partial decryptions by members 2, 3, 5, 7 and the result — everything after the ceremony is JS's.
//   node tests/js/make_board.mjs vote 12   |   node tests/js/make_board.mjs poll 5
import { bc, vector } from "./vectors.mjs";

const [kind = "vote", count = "12"] = process.argv.slice(2);
const n = Number(count);
const cer = vector("ceremony.json");
const out = bc.checkCeremony(cer.transcript);
const council = cer.transcript.spec.council_id;
const spec =
  kind === "vote"
    ? bc.voteRound(council, "ky-hop-js", "bieu-quyet-js", ["tan_thanh", "khong_tan_thanh", "khong_bieu_quyet"])
    : bc.pollRound(council, "ky-hop-js", "lay-phieu-js", ["chu-tich", "pho-chu-tich", "uy-vien"], ["cao", "tin", "thap"]);
const ctx = bc.roundContext(spec, out.jointKey, out.fingerprint);
const choices = [];
const ballots = [];
for (let i = 0; i < n; i++) {
  const c =
    kind === "vote"
      ? bc.voteChoices(spec, spec.questions[0].choices[(i * 7) % 3])
      : bc.pollChoices(spec, Object.fromEntries(spec.questions.map((q, k) => [q.id, (i + k) % 4 === 3 ? null : q.choices[(i + k) % 3]])));
  choices.push(c);
  ballots.push(bc.encryptBallot(ctx, c).ballot);
}
const sp = bc.encryptBallot(ctx, choices[0]);
const cells = bc.aggregate(spec, ballots.map((b) => bc.verifyBallot(ctx, b)));
const partials = [2, 3, 5, 7].map((j) => bc.partialDecrypt(cer.key_shares[j], ctx, cells));
const checked = new Map(partials.map((p) => [p.member, bc.checkPartial(ctx, out, cells, p)]));
const board = {
  version: "kyhop-ballot-v1",
  ceremony: cer.transcript,
  round: spec,
  ballots,
  spoiled: [bc.spoil(sp.ballot, choices[0], sp.nonces)],
  aggregate: cells.map((row) => row.map(([a, b]) => ({ alpha: bc.hexp(a), beta: bc.hexp(b) }))),
  partials,
  result: { ballots: n, counts: bc.combine(cells, checked, cer.transcript.spec.threshold, n) },
};
process.stdout.write(JSON.stringify({ board, choices }));
