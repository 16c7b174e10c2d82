// The group, the hash and the encodings (docs/BALLOT-CRYPTO.md §2–3), in the browser and in Node.
//
// Every group operation is @noble/curves' ristretto255 (RFC 9496); SHA-512 is @noble/hashes'. Nothing below the
// group operations is written here: this module only frames hash inputs, reads and writes the hex encodings, and
// does scalar arithmetic mod L on bigints (the same algebra as ballotcrypto/group.py on Python ints).
import { ristretto255 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";

export const VERSION = "kyhop-ballot-v1";
export const Point = ristretto255.Point;
export const L = Point.Fn.ORDER; // 2^252 + 27742317777372353535851937790883648493
export const G = Point.BASE;
export const ZERO = Point.ZERO;

export class VerifyFailure extends Error {
  // A check that did not pass: `check` is a key of CHECKS (checks.js), `subject` says which record.
  constructor(check, subject, detail) {
    super(`${check} [${subject}]: ${detail}`);
    this.check = check;
    this.subject = subject;
    this.detail = detail;
  }
}

export const mod = (k) => {
  const r = k % L;
  return r < 0n ? r + L : r;
};

// --- encodings --------------------------------------------------------------------------------------------------------
const HEX = /^[0-9a-f]*$/;

export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 || !HEX.test(text)) throw new TypeError("not hexadecimal");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes) {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function scalarBytes(k) {
  let v = mod(k);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function bytesToIntLE(bytes) {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

export const hexs = (k) => toHex(scalarBytes(k));
export const hexp = (p) => toHex(p.toBytes());

// --- group operations (@noble/curves) -----------------------------------------------------------------------------------
// noble refuses a scalar of 0 in multiply(): k ≡ 0 gives the identity, as in group.py.
export function baseMul(k) {
  const s = mod(k);
  return s === 0n ? ZERO : G.multiply(s);
}

// Secret scalars (nonces, shares): noble's constant-time multiply.
export function mul(k, p) {
  const s = mod(k);
  return s === 0n || p.is0() ? ZERO : p.multiply(s);
}

// Public scalars only (challenges and responses being verified): the faster variable-time multiply.
export function mulPublic(k, p) {
  return p.multiplyUnsafe(mod(k));
}

// v·G for the small values a range proof names (0 … 20 options), computed once.
const SMALL = new Map();
export function small(v) {
  let p = SMALL.get(v);
  if (!p) SMALL.set(v, (p = baseMul(BigInt(v))));
  return p;
}

// A canonical ristretto255 encoding (RFC 9496 §4.3.1); the top-bit test repeats group.py's so both sides accept
// exactly the same strings (noble already refuses it).
export function decodePoint(bytes) {
  if (bytes.length !== 32 || bytes[31] >= 0x80) return null;
  try {
    return Point.fromBytes(bytes);
  } catch {
    return null;
  }
}

export function parsePoint(text, check, subject, { allowIdentity = true } = {}) {
  let bytes;
  try {
    bytes = fromHex(text);
  } catch {
    throw new VerifyFailure(check, subject, "not hexadecimal");
  }
  const p = decodePoint(bytes);
  if (!p) throw new VerifyFailure(check, subject, "not a canonical ristretto255 encoding");
  if (!allowIdentity && p.is0()) throw new VerifyFailure(check, subject, "the identity element is not allowed here");
  return p;
}

export function parseScalar(text, check, subject) {
  let bytes;
  try {
    bytes = fromHex(text);
  } catch {
    throw new VerifyFailure(check, subject, "not hexadecimal");
  }
  const k = bytesToIntLE(bytes);
  if (bytes.length !== 32 || k >= L) {
    throw new VerifyFailure(check, subject, "not a canonical scalar (32 bytes, little-endian, below L)");
  }
  return k;
}

// --- hashing (§3) -------------------------------------------------------------------------------------------------------
const utf8 = new TextEncoder();
const U64 = 1n << 64n;

// A part: Uint8Array as it is, a point as its encoding, a string as UTF-8, an integer (number or bigint) as u64be.
function partBytes(p) {
  if (p instanceof Uint8Array) return p;
  if (p instanceof Point) return p.toBytes();
  if (typeof p === "string") return utf8.encode(p);
  if (typeof p === "number" || typeof p === "bigint") {
    if (typeof p === "number" && !Number.isSafeInteger(p)) throw new RangeError("an integer hash input must be exact");
    let v = BigInt(p);
    if (v < 0n || v >= U64) throw new RangeError("an integer hash input must fit in 64 bits");
    const out = new Uint8Array(8);
    for (let i = 7; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return out;
  }
  throw new TypeError(`cannot hash a ${typeof p}`);
}

function frame(h, bytes) {
  const n = bytes.length;
  h.update(new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
  h.update(bytes);
}

// SHA-512 of the framed tag "kyhop-ballot-v1/<tag>" then every part framed (4-byte big-endian length, the bytes).
export function hashBytes(tag, ...parts) {
  const h = sha512.create();
  frame(h, utf8.encode(`${VERSION}/${tag}`));
  for (const p of parts) frame(h, partBytes(p));
  return h.digest();
}

// The 64-byte hash as a little-endian integer reduced mod L (bias below 2^-250).
export const hashScalar = (tag, ...parts) => mod(bytesToIntLE(hashBytes(tag, ...parts)));

export const hash32 = (tag, ...parts) => hashBytes(tag, ...parts).slice(0, 32);

// --- randomness ---------------------------------------------------------------------------------------------------------
// The platform's CSPRNG (WebCrypto getRandomValues, in browsers and Node): 64 bytes reduced mod L.
export const systemRng = {
  scalar() {
    const bytes = new Uint8Array(64);
    globalThis.crypto.getRandomValues(bytes);
    return mod(bytesToIntLE(bytes));
  },
};

// Test vectors only: the i-th scalar is Hs("test-drbg", seed, i) (docs/BALLOT-CRYPTO.md §10).
export class SeededRng {
  constructor(seed) {
    this.seed = typeof seed === "string" ? utf8.encode(seed) : seed;
    this.counter = 0;
  }

  scalar() {
    return hashScalar("test-drbg", this.seed, this.counter++);
  }
}
