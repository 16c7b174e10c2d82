// The browser's ballot crypto (clients/web/js/ballotcrypto.js) against the Python implementation's vectors
// (docs/BALLOT-CRYPTO.md §10): every hash, point, proof, ballot and partial decryption byte for byte from the
// seeded generator, and every check of a board named as Python names it. Run by tests/test_web_ballotcrypto.py.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyTamper, bc, contextOf, part, vector } from "./vectors.mjs";

const { Point } = await import("@noble/curves/ed25519.js").then((m) => ({ Point: m.ristretto255.Point }));

test("hash: framed SHA-512 and hash-to-scalar", () => {
  for (const c of vector("hash.json").cases) {
    const parts = c.parts.map(part);
    assert.equal(bc.toHex(bc.hashBytes(c.tag, ...parts)), c.sha512, c.tag);
    assert.equal(bc.hexs(bc.hashScalar(c.tag, ...parts)), c.scalar, c.tag);
  }
});

test("group: base multiples, sums, products, refused encodings", () => {
  const v = vector("group.json");
  assert.equal(bc.L.toString(), v.order);
  assert.equal(bc.hexp(Point.BASE), v.base_point);
  const scalar = (h) => bc.parseScalar(h, "board_format", "vector");
  const point = (h) => bc.parsePoint(h, "board_format", "vector");
  for (const m of v.base_multiples) {
    assert.equal(bc.hexp(m.scalar === "00".repeat(32) ? Point.ZERO : Point.BASE.multiply(scalar(m.scalar))), m.point);
  }
  for (const s of v.sums) assert.equal(bc.hexp(point(s.p).add(point(s.q))), s.sum);
  for (const p of v.products) assert.equal(bc.hexp(point(p.point).multiply(scalar(p.scalar))), p.product);
  for (const bad of v.invalid_points) {
    assert.throws(() => point(bad), (e) => e instanceof bc.VerifyFailure && e.check === "board_format", bad);
  }
});

test("proofs: Schnorr, Chaum–Pedersen and range proofs reproduce the seeded vectors", () => {
  const v = vector("proofs.json");
  const ctx = v.context.map(part);
  const x = bc.parseScalar(v.secret, "board_format", "x");
  const key = bc.parsePoint(v.key, "board_format", "key");
  const [sc, sz] = bc.schnorrProve(x, v.schnorr.tag, ctx, new bc.SeededRng(v.schnorr.seed));
  assert.deepEqual([bc.hexs(sc), bc.hexs(sz)], [v.schnorr.challenge, v.schnorr.response]);
  assert.ok(bc.schnorrValid(key, sc, sz, v.schnorr.tag, ctx));
  assert.ok(!bc.schnorrValid(key, sc, sz + 1n, v.schnorr.tag, ctx));
  const b2 = bc.parsePoint(v.dleq.b2, "board_format", "b2");
  const [dc, dz] = bc.dleqProve(x, b2, v.dleq.tag, ctx, new bc.SeededRng(v.dleq.seed));
  assert.deepEqual([bc.hexs(dc), bc.hexs(dz)], [v.dleq.challenge, v.dleq.response]);
  const x2 = bc.parsePoint(v.dleq.x2, "board_format", "x2");
  assert.ok(bc.dleqValid(Point.BASE.multiply(x), b2, x2, dc, dz, v.dleq.tag, ctx));
  assert.ok(!bc.dleqValid(Point.BASE.multiply(x), b2, x2, dc, dz, v.dleq.tag, [...ctx, 0]));
  for (const r of v.range) {
    const nonce = bc.parseScalar(r.r, "board_format", "r");
    const ct = bc.encrypt(key, r.m, nonce);
    assert.deepEqual(ct.map(bc.hexp), [r.ciphertext.alpha, r.ciphertext.beta]);
    const [cs, zs] = bc.rangeProve(key, ct, r.m, nonce, r.lo, r.hi, ctx, new bc.SeededRng(r.seed));
    assert.deepEqual(cs.map(bc.hexs), r.challenges, r.seed);
    assert.deepEqual(zs.map(bc.hexs), r.responses, r.seed);
    assert.ok(bc.rangeValid(key, ct, r.lo, r.hi, cs, zs, ctx));
    if (r.lo !== r.hi) assert.ok(!bc.rangeValid(key, ct, r.lo, r.hi, [...cs].reverse(), zs, ctx));
  }
});

test("ceremony: the transcript's outcome — dealer 6 disqualified, verification keys, joint key, fingerprint", () => {
  const v = vector("ceremony.json");
  const out = bc.checkCeremony(v.transcript);
  assert.deepEqual(out.qualified, v.qualified);
  assert.deepEqual(out.disqualified, [6]);
  for (const [j, key] of Object.entries(v.verification_keys)) assert.equal(bc.hexp(out.verificationKeys.get(+j)), key);
  for (const share of Object.values(v.key_shares)) {
    assert.equal(share.joint_key, bc.hexp(out.jointKey));
    assert.equal(share.fingerprint, bc.toHex(out.fingerprint));
    const s = bc.parseScalar(share.secret, "board_format", "share");
    assert.ok(Point.BASE.multiply(s).equals(out.verificationKeys.get(share.member)));
  }
});

test("ballots: encrypted and proved byte for byte as Python does; each tampered ballot named", () => {
  const v = vector("ballots.json");
  const out = bc.checkCeremony(vector("ceremony.json").transcript);
  const ctx = bc.roundContext(v.round, out.jointKey, out.fingerprint);
  assert.equal(bc.toHex(ctx.qr), v.round_context);
  const rng = new bc.SeededRng(v.seed);
  for (const want of v.valid) {
    const { ballot, nonces } = bc.encryptBallot(ctx, want.choices, rng);
    assert.deepEqual(nonces.map((row) => row.map(bc.hexs)), want.nonces);
    assert.deepEqual(ballot, want.ballot);
    assert.equal(bc.shortTracker(ballot.tracker), want.short_tracker);
    bc.verifyBallot(ctx, want.ballot);
  }
  for (const t of v.tampered) {
    const bad = applyTamper(v.valid[0].ballot, t);
    assert.throws(() => bc.verifyBallot(ctx, bad), (e) => e.check === t.check, JSON.stringify(t.path));
  }
  assert.throws(() => bc.encryptBallot(ctx, [[1, 1, 0]]), RangeError);
});

test("board-vote: ballots, spoiled ballot and partial decryptions reproduced from the seed; the board verifies", async () => {
  const board = vector("board-vote.json");
  const shares = vector("ceremony.json").key_shares;
  const { out, ctx } = contextOf(board);
  const rng = new bc.SeededRng("kyhop-vectors/board-vote");
  const options = board.round.questions[0].choices;
  const choices = Array.from({ length: 10 }, (_, i) => options[i % 4 ? i % 3 : 0]);
  const cast = choices.map((c) => bc.encryptBallot(ctx, bc.voteChoices(board.round, c), rng).ballot);
  assert.deepEqual(cast, board.ballots);
  const spChoices = bc.voteChoices(board.round, options[1]);
  const sp = bc.encryptBallot(ctx, spChoices, rng);
  assert.deepEqual(bc.spoil(sp.ballot, spChoices, sp.nonces), board.spoiled[0]);
  assert.deepEqual(bc.audit(ctx, board.spoiled[0]), spChoices);
  const cells = bc.aggregate(board.round, cast.map((b) => bc.verifyBallot(ctx, b)));
  const partials = [1, 2, 4, 7].map((j) => bc.partialDecrypt(shares[j], ctx, cells, rng));
  assert.deepEqual(partials, board.partials);
  const checked = new Map(partials.map((p) => [p.member, bc.checkPartial(ctx, out, cells, p)]));
  assert.deepEqual(bc.combine(cells, checked, 4, 10), board.result.counts);
  // Any 4 of the qualified members give the same counts; 3 do not reach the threshold.
  checked.delete(1);
  assert.throws(() => bc.combine(cells, checked, 4, 10), (e) => e.check === "too_few_partials");
  const report = await bc.verifyBoard(JSON.stringify(board));
  assert.ok(report.ok, JSON.stringify(report.failure));
  assert.deepEqual(report.counts, board.result.counts);
});

test("board-poll: 4 officials × 3 levels, ballots reproduced and the board verifies", async () => {
  const board = vector("board-poll.json");
  const { ctx } = contextOf(board);
  const rng = new bc.SeededRng("kyhop-vectors/board-poll");
  const officials = board.round.questions.map((q) => q.id);
  const levels = board.round.questions[0].choices;
  for (let b = 0; b < 6; b++) {
    const marks = Object.fromEntries(officials.map((o, i) => [o, (b + i) % 5 === 4 ? null : levels[(b * i) % 3]]));
    const { ballot } = bc.encryptBallot(ctx, bc.pollChoices(board.round, marks), rng);
    assert.deepEqual(ballot, board.ballots[b]);
  }
  assert.ok((await bc.verifyBoard(board)).ok);
});

test("board-tampered: every edit is refused, naming the check Python names", async () => {
  const board = vector("board-vote.json");
  const cases = vector("board-tampered.json");
  assert.ok(cases.length >= 26);
  for (const c of cases) {
    const report = await bc.verifyBoard(JSON.stringify(applyTamper(board, c)));
    assert.equal(report.ok, false, c.why);
    assert.equal(report.failure.check, c.check, `${c.why}: ${report.failure.check} ${report.failure.detail}`);
    assert.ok(report.failure.vi && report.failure.en);
  }
});

test("board_format: malformed files are named, never thrown", async () => {
  const board = vector("board-vote.json");
  const bad = [
    "{",
    "[]",
    JSON.stringify({ ...board, extra: 1 }),
    JSON.stringify({ ...board, ballots: undefined }),
    JSON.stringify(applyTamper(board, { path: ["ballots", 0, "tracker"], value: "AB".repeat(32) })),
    JSON.stringify(applyTamper(board, { path: ["ceremony", "spec", "threshold"], value: 0 })),
    JSON.stringify(applyTamper(board, { path: ["ceremony", "spec", "members", 0], value: "" })),
    new Uint8Array([0xff, 0xfe]),
  ];
  for (const data of bad) {
    const report = await bc.verifyBoard(data);
    assert.equal(report.failure?.check, "board_format", String(data).slice(0, 80));
  }
});

test("ceremony: a member's device in JS reproduces the 7-member transcript, dealer 6's cheat and every key share", () => {
  const v = vector("ceremony.json");
  const t = v.transcript;
  const members = t.spec.members.map((_, i) => new bc.Member(t.spec, i + 1, new bc.SeededRng(`kyhop-vectors/ceremony/${i + 1}`)));
  const pubs = members.map((m) => m.publish());
  assert.deepEqual(pubs, t.publications);
  const bundles = members.map((m) => m.deal(pubs));
  // The vectors' cheat (ballotcrypto/vectors.py): dealer 6 seals its share + 1 to member 2, from its own generator.
  const six = members[5];
  const wrong = six.sealShare(2, bc.evaluate(six.coeffs, 2) + 1n);
  bundles[5] = { dealer: 6, shares: bundles[5].shares.map((s) => (s.recipient === 2 ? wrong : s)) };
  assert.deepEqual(bundles, t.bundles);
  const complaints = members.map((m) => m.receive(bundles));
  assert.deepEqual(complaints, t.complaints);
  assert.deepEqual(complaints[1].complaints.map((c) => c.dealer), [6]);
  for (const m of members) {
    if (m.member === 6) {
      assert.throws(() => m.finish(pubs, bundles, complaints), /disqualified/);
      continue;
    }
    const { share } = m.finish(pubs, bundles, complaints);
    assert.deepEqual(share, v.key_shares[m.member]);
  }
  // Out of turn, and a publication altered in transit: refused, naming the member.
  assert.throws(() => members[0].publish(), /phase/);
  const fresh = new bc.Member(t.spec, 1, new bc.SeededRng("kyhop-vectors/ceremony/1"));
  fresh.publish();
  const altered = structuredClone(pubs);
  altered[2].comm_key_proof.response = altered[3].comm_key_proof.response;
  assert.throws(() => fresh.deal(altered), (e) => e.check === "member_key" && e.subject === "member 3");
});

test("keystore: a member's share sealed under a passphrase opens only with it, bound to its public fields", async () => {
  const share = vector("ceremony.json").key_shares["3"];
  const fast = { N: 2 ** 14, r: 8, p: 1 }; // the test's cost; the default is 2^15
  const file = await bc.sealKeyShare(share, "Ban kiểm phiếu 2026", { kdf: fast });
  assert.equal(file.version, "kyhop-keyshare-v1");
  assert.ok(!JSON.stringify(file).includes(share.secret));
  // The same passphrase typed with combining marks (NFD) opens it: NFC on both sides.
  assert.deepEqual(await bc.openKeyShare(file, "Ban kiểm phiếu 2026".normalize("NFD")), share);
  const again = await bc.sealKeyShare(share, "Ban kiểm phiếu 2026", { kdf: fast });
  assert.notEqual(again.kdf.salt, file.kdf.salt); // a fresh salt, so a fresh key, every time
  await assert.rejects(bc.openKeyShare(file, "Ban kiem phieu 2026"), (e) => e instanceof bc.KeyStoreError && /Sai mật khẩu/.test(e.vi));
  await assert.rejects(bc.openKeyShare({ ...file, member: 4 }, "Ban kiểm phiếu 2026"), /wrong passphrase/);
  await assert.rejects(bc.openKeyShare({ ...file, kdf: { ...file.kdf, N: 2 ** 30 } }, "x"), /format/);
  await assert.rejects(bc.openKeyShare({ ...file, sealed: "00" }, "x"), /format/);
  await assert.rejects(bc.openKeyShare(null, "x"), /format/);
  await assert.rejects(bc.sealKeyShare(share, "ngắn"), (e) => /ít nhất 10 ký tự/.test(e.vi));
});
