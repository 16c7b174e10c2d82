// Check 1 of docs/BALLOT-CRYPTO.md §9 (`board_format`): the JSON has exactly the shape of §8 — every field
// present, no unknown field, hex patterns, integer bounds — as msgspec decodes ballotcrypto/records.py `Board`.
// Group membership and scalar ranges are the later checks'.
import { VerifyFailure } from "./group.js";

const hex = (n) => ({ re: new RegExp(`^[0-9a-f]{${n}}$`) });
const HEX32 = hex(64);
const HEX48 = hex(96);
const ID = { id: true };
const INDEX = { int: [1, 1000] };
const COUNT = { int: [0, Number.MAX_SAFE_INTEGER] };
const list = (of) => ({ list: of });
const obj = (fields) => ({ fields });

const PROOF = obj({ challenge: HEX32, response: HEX32 });
const RANGE = obj({ challenges: list(HEX32), responses: list(HEX32) });
const CT = obj({ alpha: HEX32, beta: HEX32 });
const BALLOT = obj({
  tracker: HEX32,
  answers: list(obj({ ciphertexts: list(CT), choice_proofs: list(RANGE), sum_proof: RANGE })),
});
const BOARD = obj({
  version: { literal: "kyhop-ballot-v1" },
  ceremony: obj({
    spec: obj({ council_id: ID, ceremony_id: ID, threshold: INDEX, members: list(ID) }),
    publications: list(
      obj({ member: INDEX, comm_key: HEX32, comm_key_proof: PROOF, commitments: list(HEX32), commitment_proofs: list(PROOF) }),
    ),
    bundles: list(obj({ dealer: INDEX, shares: list(obj({ recipient: INDEX, ephemeral: HEX32, sealed: HEX48 })) })),
    complaints: list(
      obj({ member: INDEX, complaints: list(obj({ dealer: INDEX, shared_secret: HEX32, proof: PROOF })) }),
    ),
    disqualified: list(INDEX),
    joint_key: HEX32,
    fingerprint: HEX32,
  }),
  round: obj({
    council_id: ID,
    session_id: ID,
    round_id: ID,
    kind: { oneOf: ["vote", "poll"] },
    questions: list(obj({ id: ID, choices: list(ID), min: COUNT, max: COUNT })),
  }),
  ballots: list(BALLOT),
  spoiled: list(obj({ ballot: BALLOT, choices: list(list(COUNT)), nonces: list(list(HEX32)) })),
  aggregate: list(list(CT)),
  partials: list(obj({ member: INDEX, shares: list(list(obj({ share: HEX32, proof: PROOF }))) })),
  result: obj({ ballots: COUNT, counts: list(list(COUNT)) }),
});

function fail(path, detail) {
  throw new VerifyFailure("board_format", "file", `${detail} at $${path}`);
}

function check(value, type, path) {
  if (type.re) {
    if (typeof value !== "string" || !type.re.test(value)) fail(path, "expected lowercase hexadecimal of the right length");
  } else if (type.id) {
    if (typeof value !== "string" || value.length < 1 || value.length > 200) fail(path, "expected an id of 1 to 200 characters");
  } else if (type.int) {
    if (!Number.isInteger(value) || value < type.int[0] || value > type.int[1]) {
      fail(path, `expected an integer from ${type.int[0]}`);
    }
  } else if (type.literal !== undefined) {
    if (value !== type.literal) fail(path, `expected ${JSON.stringify(type.literal)}`);
  } else if (type.oneOf) {
    if (!type.oneOf.includes(value)) fail(path, `expected one of ${type.oneOf.join(", ")}`);
  } else if (type.list) {
    if (!Array.isArray(value)) fail(path, "expected an array");
    value.forEach((v, i) => check(v, type.list, `${path}[${i}]`));
  } else {
    if (value === null || typeof value !== "object" || Array.isArray(value)) fail(path, "expected an object");
    for (const key of Object.keys(value)) if (!(key in type.fields)) fail(path, `unknown field ${JSON.stringify(key)}`);
    for (const [key, t] of Object.entries(type.fields)) {
      if (!(key in value)) fail(path, `missing field ${JSON.stringify(key)}`);
      check(value[key], t, `${path}.${key}`);
    }
  }
}

// A board of 125 three-option ballots is ~0.5 MB; 64 MiB bounds a file, as ballotcrypto/board.py.
export const MAX_BOARD_BYTES = 64 * 1024 * 1024;

// text (a string or bytes) or an already parsed object -> the board, or VerifyFailure("board_format").
export function decodeBoard(data) {
  let board = data;
  if (typeof data === "string" || data instanceof Uint8Array) {
    const size = typeof data === "string" ? new TextEncoder().encode(data).length : data.length;
    if (size > MAX_BOARD_BYTES) throw new VerifyFailure("board_format", "file", `larger than ${MAX_BOARD_BYTES} bytes`);
    try {
      board = JSON.parse(typeof data === "string" ? data : new TextDecoder("utf-8", { fatal: true }).decode(data));
    } catch (e) {
      throw new VerifyFailure("board_format", "file", `not JSON: ${e.message}`);
    }
  }
  check(board, BOARD, "");
  return board;
}
