// A key share sealed by the Python keystore (ballotcrypto/keystore.py, tests/vectors/ballotcrypto/keyshare.json)
// opens on the tablet (js/ballotcrypto/keystore.js): a member's file from `kyhop committee-device` restores a tablet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bc, vector } from "./vectors.mjs";

test("keystore: the share Python sealed opens here, and is refused when altered or with another passphrase", async () => {
  const v = vector("keyshare.json");
  assert.deepEqual(v.share, vector("ceremony.json").key_shares["5"]);
  assert.deepEqual(await bc.openKeyShare(v.file, v.passphrase), v.share);
  // The passphrase typed with combining marks: NFC on both sides.
  assert.deepEqual(await bc.openKeyShare(v.file, v.passphrase.normalize("NFD")), v.share);
  const wrong = (e) => e instanceof bc.KeyStoreError && e.vi === "Sai mật khẩu, hoặc tệp khóa đã bị sửa";
  await assert.rejects(bc.openKeyShare(v.file, "Mat khau cua uy vien so 5"), wrong);
  const flipped = v.file.sealed.slice(0, -1) + (v.file.sealed.endsWith("0") ? "1" : "0");
  await assert.rejects(bc.openKeyShare({ ...v.file, sealed: flipped }, v.passphrase), wrong);
  await assert.rejects(bc.openKeyShare({ ...v.file, member: 4 }, v.passphrase), wrong);
  await assert.rejects(bc.openKeyShare({ ...v.file, kdf: { ...v.file.kdf, N: 2 ** 21 } }, v.passphrase), /format/);
});
