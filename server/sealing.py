"""Secret-ballot counters at rest: sealed with AES-256-GCM under a key that is not in the database.

The `tallies` table holds, per open secret round, one row whose content is the round's counts sealed here.
Each transaction that records secret ballots writes a fresh sealing (new random nonce) of the new counts, so
the row's versions — live, dead (PostgreSQL before VACUUM), or old pages in SQLite's write-ahead log — are
ciphertexts that change with every ballot whatever was chosen. Someone who reads the database, its WAL or a
backup learns nothing about which option a transaction added; linking a voter row to a choice needs the key.

The key is derived (HKDF-SHA256) from the server's secret key, which lives in the environment or in a file outside
the data directory (server/config.py refuses one beside the database): keep it out of database backups. Whoever
holds both can open the version the store holds — the live counts of an open round; the store keeps no older one
(server/database.py `forget_sealed_versions`; docs/SECURITY.md says what remains). The associated data binds a
sealing to its stream and round, so a row cannot be swapped into another round.
"""

from __future__ import annotations

import base64
import os

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_counts_decoder = msgspec.json.Decoder(dict[str, int])


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a 256-bit key is required")
        self._aead = AESGCM(key)

    @classmethod
    def from_secret(cls, secret: str) -> Sealer:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kyhop", info=b"kyhop secret-ballot tallies v1")
        return cls(hkdf.derive(secret.encode()))

    def seal(self, stream_id: str, round_key: str, counts: dict[str, int]) -> str:
        nonce = os.urandom(12)
        plain = msgspec.json.encode(counts)
        # AES-GCM keeps the plaintext's length, and JSON grows when a count reaches 10 or 100: the version written
        # by the ballot that took one option to 10 would be a byte longer and name that voter's choice. Padding
        # to the length of the same keys at 999 999 makes every sealing of a round the same length.
        width = len(msgspec.json.encode(dict.fromkeys(counts, 999_999)))
        plain += b" " * (width - len(plain))
        ct = self._aead.encrypt(nonce, plain, f"{stream_id}\n{round_key}".encode())
        return base64.b64encode(nonce + ct).decode()

    def open(self, stream_id: str, round_key: str, sealed: str) -> dict[str, int]:
        raw = base64.b64decode(sealed)
        plain = self._aead.decrypt(raw[:12], raw[12:], f"{stream_id}\n{round_key}".encode())
        return _counts_decoder.decode(plain)
