// A committee member's key share at rest (docs/BALLOT-CRYPTO.md §13.1): what the device keeps and the backup file
// the member takes home are the same JSON, the secret sealed under the member's passphrase —
// scrypt (@noble/hashes) stretches the passphrase with a fresh random salt, ChaCha20-Poly1305 (@noble/ciphers)
// seals the 32-byte share, bound to the public fields (ceremony, member, joint key, fingerprint) as associated data.
// Each sealing draws a new salt, so each key seals one share once and the fixed nonce is safe (as §5's sealed shares).
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { L, bytesToIntLE, fromHex, hash32, toHex } from "./group.js";

export const KEYSHARE_VERSION = "kyhop-keyshare-v1";
// 2^15 × 128 × 8 bytes = 32 MiB and ~1 s on this machine's core (~4 s on a tablet at a quarter of its speed): paid once
// per unlock. The share alone decrypts nothing (t of n are needed), so this guards the committee's margin, not a ballot.
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1 };
export const MIN_PASSPHRASE = 10;
const NONCE = new Uint8Array(12);
const utf8 = new TextEncoder();

export class KeyStoreError extends Error {
  constructor(vi, en) {
    super(`${vi} / ${en}`);
    this.vi = vi;
    this.en = en;
  }
}

// The associated data: the framed hash of §3 over the public fields, so none can be swapped onto another share.
const aad = (f) => hash32("keyshare", f.ceremony_id, f.member, fromHex(f.joint_key), fromHex(f.fingerprint));

async function stretch(passphrase, salt, { N, r, p }, onProgress) {
  // NFC: the same Vietnamese passphrase typed on two keyboards (composed or combining marks) gives the same key.
  return scryptAsync(utf8.encode(passphrase.normalize("NFC")), salt, { N, r, p, dkLen: 32, onProgress });
}

// share: {ceremony_id, member, secret (hex), joint_key, fingerprint} as dkg.js Member.finish returns it.
export async function sealKeyShare(share, passphrase, { onProgress, kdf = SCRYPT } = {}) {
  if (typeof passphrase !== "string" || [...passphrase].length < MIN_PASSPHRASE) {
    throw new KeyStoreError(
      `Mật khẩu phải có ít nhất ${MIN_PASSPHRASE} ký tự`,
      `the passphrase needs at least ${MIN_PASSPHRASE} characters`,
    );
  }
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const key = await stretch(passphrase, salt, kdf, onProgress);
  const sealed = chacha20poly1305(key, NONCE, aad(share)).encrypt(fromHex(share.secret));
  return {
    version: KEYSHARE_VERSION,
    ceremony_id: share.ceremony_id,
    member: share.member,
    joint_key: share.joint_key,
    fingerprint: share.fingerprint,
    kdf: { name: "scrypt", N: kdf.N, r: kdf.r, p: kdf.p, salt: toHex(salt) },
    sealed: toHex(sealed),
  };
}

const HEX = (n) => new RegExp(`^[0-9a-f]{${n}}$`);

// The share back, or KeyStoreError: a malformed file, or the wrong passphrase (indistinguishable from an altered file).
export async function openKeyShare(file, passphrase, { onProgress } = {}) {
  const k = file?.kdf;
  const ok =
    file?.version === KEYSHARE_VERSION &&
    typeof file.ceremony_id === "string" &&
    Number.isInteger(file.member) &&
    HEX(64).test(file.joint_key) &&
    HEX(64).test(file.fingerprint) &&
    HEX(96).test(file.sealed) &&
    k?.name === "scrypt" &&
    HEX(32).test(k.salt) &&
    // Bounds, so a crafted file cannot make the device spend minutes or gigabytes: N ≤ 2^20 (128 MiB at r = 8).
    [k.N, k.r, k.p].every(Number.isInteger) &&
    k.N >= 2 ** 14 && k.N <= 2 ** 20 && (k.N & (k.N - 1)) === 0 && k.r >= 1 && k.r <= 16 && k.p >= 1 && k.p <= 4;
  if (!ok) throw new KeyStoreError("Tệp khóa không đúng định dạng", "the key file is not in the expected format");
  const key = await stretch(String(passphrase), fromHex(k.salt), k, onProgress);
  let secret;
  try {
    secret = chacha20poly1305(key, NONCE, aad(file)).decrypt(fromHex(file.sealed));
  } catch {
    throw new KeyStoreError("Sai mật khẩu, hoặc tệp khóa đã bị sửa", "wrong passphrase, or the key file was altered");
  }
  if (bytesToIntLE(secret) >= L) throw new KeyStoreError("Tệp khóa không đúng định dạng", "the key file is not in the expected format");
  const { ceremony_id, member, joint_key, fingerprint } = file;
  return { ceremony_id, member, secret: toHex(secret), joint_key, fingerprint };
}
