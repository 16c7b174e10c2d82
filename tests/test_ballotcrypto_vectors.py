"""The test vectors in tests/vectors/ballotcrypto/ (what the browser implementation will be checked against):
regenerated from their seeds they are the same bytes, and each says what it claims — read back through the
package's public checks, not through the generator."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ballotcrypto import ballots, board, proofs, vectors
from ballotcrypto import records as rec
from ballotcrypto.errors import VerifyFailure
from ballotcrypto.group import G, L, add, base_mul, hash_bytes, hash_scalar, is_point, mul

DIR = Path(__file__).parent / "vectors" / "ballotcrypto"


def _load(name: str) -> Any:
    return json.loads((DIR / name).read_text())


def test_vectors_are_regenerated_byte_for_byte() -> None:
    fresh = vectors.generate()
    assert sorted(fresh) == sorted(p.name for p in DIR.glob("*.json"))
    for name, data in fresh.items():
        assert (DIR / name).read_bytes() == data, f"{name}: run `python -m ballotcrypto.vectors {DIR}`"


def _part(p: dict[str, Any]) -> bytes | str | int:
    if "bytes" in p:
        return bytes.fromhex(p["bytes"])
    return p["str"] if "str" in p else int(p["int"])


def test_hash_and_group_vectors() -> None:
    for case in _load("hash.json")["cases"]:
        parts = [_part(p) for p in case["parts"]]
        assert hash_bytes(case["tag"], *parts).hex() == case["sha512"]
        assert int.from_bytes(bytes.fromhex(case["scalar"]), "little") == hash_scalar(case["tag"], *parts)
    g = _load("group.json")
    assert g["base_point"] == G.hex() and int(g["order"]) == L
    for m in g["base_multiples"]:
        assert base_mul(int.from_bytes(bytes.fromhex(m["scalar"]), "little")).hex() == m["point"]
    for s in g["sums"]:
        assert add(bytes.fromhex(s["p"]), bytes.fromhex(s["q"])).hex() == s["sum"]
    for p in g["products"]:
        assert (
            mul(int.from_bytes(bytes.fromhex(p["scalar"]), "little"), bytes.fromhex(p["point"])).hex() == p["product"]
        )
    assert g["invalid_points"] and not any(is_point(bytes.fromhex(x)) for x in g["invalid_points"])


def test_proof_vectors_verify() -> None:
    v = _load("proofs.json")
    ctx = [_part(p) for p in v["context"]]
    key = bytes.fromhex(v["key"])

    def sc(h: str) -> int:
        return int.from_bytes(bytes.fromhex(h), "little")

    assert proofs.schnorr_valid(key, sc(v["schnorr"]["challenge"]), sc(v["schnorr"]["response"]), "pok-comm-key", ctx)
    d = v["dleq"]
    assert proofs.dleq_valid(
        key, bytes.fromhex(d["b2"]), bytes.fromhex(d["x2"]), sc(d["challenge"]), sc(d["response"]), "partial", ctx
    )
    for r in v["range"]:
        ct = (bytes.fromhex(r["ciphertext"]["alpha"]), bytes.fromhex(r["ciphertext"]["beta"]))
        assert proofs.encrypt(key, r["m"], sc(r["r"])) == ct
        cs, zs = [sc(c) for c in r["challenges"]], [sc(z) for z in r["responses"]]
        assert proofs.range_valid(key, ct, r["lo"], r["hi"], cs, zs, ctx)


def test_ballot_vectors_verify_and_their_edits_are_named() -> None:
    v = _load("ballots.json")
    spec = msgspec.convert(v["round"], rec.RoundSpec)
    ctx = ballots.round_context(spec, bytes.fromhex(v["joint_key"]), bytes.fromhex(v["fingerprint"]))
    assert ctx.qr.hex() == v["round_context"]
    for case in v["valid"]:
        ballot = msgspec.convert(case["ballot"], rec.Ballot)
        ballots.verify_ballot(ctx, ballot)
        assert ballots.short_tracker(ballot.tracker) == case["short_tracker"]
        spoiled = rec.SpoiledBallot(ballot=ballot, choices=case["choices"], nonces=case["nonces"])
        assert ballots.audit(ctx, spoiled) == case["choices"]
    for case in v["tampered"]:
        data = copy.deepcopy(v["valid"][0]["ballot"])
        vectors.apply_tamper(data, {"op": "replace", **case})
        with pytest.raises(VerifyFailure) as e:
            ballots.verify_ballot(ctx, msgspec.convert(data, rec.Ballot))
        assert e.value.check == case["check"]


@pytest.mark.parametrize("name", ["board-vote.json", "board-poll.json"])
def test_board_vectors_verify(name: str) -> None:
    report = board.verify_board((DIR / name).read_bytes())
    assert report.ok, report.failure
    assert report.board is not None and report.board.result.ballots in (10, 6)


def test_vote_board_vector_has_a_disqualified_dealer_and_a_spoiled_ballot() -> None:
    b = _load("board-vote.json")
    assert b["ceremony"]["disqualified"] == [6]
    assert [p["member"] for p in b["partials"]] == [1, 2, 4, 7]
    assert len(b["spoiled"]) == 1 and b["result"]["counts"] == [
        [6, 2, 2]
    ]  # choices i % 3, and option 0 when 4 divides i


def test_every_tampering_is_named_first_by_its_check() -> None:
    original = _load("board-vote.json")
    cases = _load("board-tampered.json")
    checks = {c["check"] for c in cases}
    # Each kind of record the issue names is among them.
    assert {"joint_key", "commitment", "ballot_choice_proof", "aggregate", "partial_decryption", "result"} <= checks
    for case in cases:
        data = vectors.apply_tamper(copy.deepcopy(original), case)
        report = board.verify_board(json.dumps(data).encode())
        assert report.failure is not None, case["why"]
        assert report.failure.check == case["check"], (case["why"], report.failure)
