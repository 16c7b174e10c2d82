// Shared by the Node tests: the Python vectors (tests/vectors/ballotcrypto) and the browser modules under test.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// Integers past 2^53 (hash.json's 2^64 − 1) are read as strings, then as BigInt by `part`: JSON.parse would round them.
export const vector = (name) =>
  JSON.parse(readFileSync(`${ROOT}tests/vectors/ballotcrypto/${name}`, "utf8").replace(/"int": (\d{16,})/g, '"int": "$1"'));
export const bc = await import(`${ROOT}clients/web/js/ballotcrypto.js`);

// The parts of hash.json / proofs.json: {bytes}, {str}, {int}.
export const part = (p) => ("bytes" in p ? bc.fromHex(p.bytes) : "str" in p ? p.str : BigInt(p.int));

// A board's round context from the vector ceremony (joint key and fingerprint as the transcript gives them).
export function contextOf(board) {
  const out = bc.checkCeremony(board.ceremony);
  return { out, ctx: bc.roundContext(board.round, out.jointKey, out.fingerprint) };
}

// The tamper cases' edit (ballotcrypto/vectors.py apply_tamper) on a deep copy.
export function applyTamper(board, c) {
  const copy = structuredClone(board);
  const path = [...c.path];
  const last = path.pop();
  let target = copy;
  for (const key of path) target = target[key];
  if (c.op === "replace" || c.op === undefined) target[last] = structuredClone(c.value);
  else if (c.op === "remove") target.splice(last, 1);
  else target[last].push(structuredClone(c.value));
  return copy;
}
