"""Test vectors for other implementations (the browser's, on @noble/curves): `python -m ballotcrypto.vectors DIR`.

Everything is derived from fixed seeds through `SeededRng` (docs/BALLOT-CRYPTO.md §10), so the files are the same
bytes on every run (tests/test_ballotcrypto_vectors.py regenerates them and compares) and an implementation that
draws its randomness in the documented order reproduces every proof byte for byte:

    hash.json            the framed SHA-512 and hash-to-scalar
    group.json           multiples of the base point, sums, encodings that must be refused
    proofs.json          Schnorr, Chaum–Pedersen and range proofs from explicit inputs and a seed
    ceremony.json        a 7-member, threshold-4 ceremony where dealer 6 cheats member 2 (and is disqualified)
    ballots.json         vote ballots with their nonces, and edits of the first with the check that must name them
    board-vote.json      a complete board: that ceremony, 10 ballots of 3 options, 1 spoiled, 4 partials
    board-poll.json      a complete board: 4 officials × 3 levels, 6 ballots
    board-tampered.json  edits of board-vote.json, each with the check a verifier must report first
    keyshare.json        member 5's key share of that ceremony sealed under a passphrase (§13.1, salt from a seed)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from ballotcrypto import ballots, board, dkg, keystore, proofs, tally
from ballotcrypto import records as rec
from ballotcrypto.group import (
    G,
    L,
    SeededRng,
    add,
    base_mul,
    hash_bytes,
    hash_scalar,
    hexs,
    is_point,
    mul,
    scalar_bytes,
)

OPTIONS = ["tan_thanh", "khong_tan_thanh", "khong_bieu_quyet"]
LEVELS = ["tin_nhiem_cao", "tin_nhiem", "tin_nhiem_thap"]
MEMBERS = [f"uy-vien-{i}" for i in range(1, 8)]
COUNCIL, SESSION = "hdnd-tinh-mau", "ky-hop-thu-10"


def _seed(name: str) -> SeededRng:
    return SeededRng(f"kyhop-vectors/{name}".encode())


def _dump(obj: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(obj), indent=1) + b"\n"


def _part_json(p: bytes | str | int) -> dict[str, Any]:
    if isinstance(p, bytes):
        return {"bytes": p.hex()}
    if isinstance(p, str):
        return {"str": p}
    return {"int": p}


def hash_vectors() -> dict[str, Any]:
    cases: list[tuple[str, list[bytes | str | int]]] = [
        ("empty", []),
        ("round", ["hdnd", "ky-hop", 7, bytes(32)]),
        ("framing", ["ab", "c"]),
        ("framing", ["a", "bc"]),
        ("unicode", ["Tán thành", "Không tán thành", 2**64 - 1]),
    ]
    return {
        "description": "H(tag, parts) = SHA-512(frame('kyhop-ballot-v1/' + tag) || frame(part)...); "
        "frame(x) = u32be(len(x)) || x; str as UTF-8, int as u64be; scalar = LE(H) mod L",
        "cases": [
            {
                "tag": tag,
                "parts": [_part_json(p) for p in parts],
                "sha512": hash_bytes(tag, *parts).hex(),
                "scalar": hexs(hash_scalar(tag, *parts)),
            }
            for tag, parts in cases
        ],
    }


def group_vectors() -> dict[str, Any]:
    rng = _seed("group")
    ks = [0, 1, 2, 3, 125, L - 1, rng.scalar(), rng.scalar()]
    p, q = base_mul(rng.scalar()), base_mul(rng.scalar())
    invalid = [
        b"\xff" * 32,
        (2**255 - 19).to_bytes(32, "little"),
        (1).to_bytes(32, "little"),
        bytes(31) + b"\x80",
        G[:31] + bytes([G[31] | 0x80]),
    ]
    assert not any(is_point(x) for x in invalid)
    return {
        "base_point": G.hex(),
        "order": str(L),
        "base_multiples": [{"scalar": hexs(k), "point": base_mul(k).hex()} for k in ks],
        "sums": [{"p": p.hex(), "q": q.hex(), "sum": add(p, q).hex()}],
        "products": [{"scalar": hexs(k), "point": p.hex(), "product": mul(k, p).hex()} for k in ks[4:]],
        "invalid_points": [x.hex() for x in invalid],
    }


def proof_vectors() -> dict[str, Any]:
    rng = _seed("proofs")
    x = rng.scalar()
    ctx: list[bytes | str | int] = [bytes(32), "vector", 1]
    sc, sz = proofs.schnorr_prove(x, "pok-comm-key", ctx, _seed("proofs/schnorr"))
    b2 = base_mul(rng.scalar())
    dc, dz = proofs.dleq_prove(x, b2, "partial", ctx, _seed("proofs/dleq"))
    key = base_mul(x)
    ranges = []
    for lo, hi, m in [(0, 1, 0), (0, 1, 1), (1, 1, 1), (0, 2, 2)]:
        r = rng.scalar()
        ct = proofs.encrypt(key, m, r)
        cs, zs = proofs.range_prove(key, ct, m, r, lo, hi, ctx, _seed(f"proofs/range/{lo}/{hi}/{m}"))
        ranges.append(
            {
                "lo": lo,
                "hi": hi,
                "m": m,
                "r": hexs(r),
                "seed": f"kyhop-vectors/proofs/range/{lo}/{hi}/{m}",
                "ciphertext": {"alpha": ct[0].hex(), "beta": ct[1].hex()},
                "challenges": [hexs(c) for c in cs],
                "responses": [hexs(z) for z in zs],
            }
        )
    return {
        "context": [_part_json(p) for p in ctx],
        "secret": hexs(x),
        "key": key.hex(),
        "schnorr": {
            "tag": "pok-comm-key",
            "seed": "kyhop-vectors/proofs/schnorr",
            "challenge": hexs(sc),
            "response": hexs(sz),
        },
        "dleq": {
            "tag": "partial",
            "seed": "kyhop-vectors/proofs/dleq",
            "b2": b2.hex(),
            "x2": mul(x, b2).hex(),
            "challenge": hexs(dc),
            "response": hexs(dz),
        },
        "range": ranges,
    }


def ceremony_with_cheat(
    spec: rec.CeremonySpec, seed: str, cheat: tuple[int, int] | None
) -> tuple[rec.Ceremony, dkg.Outcome, dict[int, dkg.KeyShare]]:
    """All members in one process, member i drawing from SeededRng("kyhop-vectors/<seed>/<i>"); with `cheat =
    (dealer, victim)` the dealer seals its share + 1 to the victim, who complains."""
    members = [dkg.Member(spec, i, _seed(f"{seed}/{i}")) for i in range(1, len(spec.members) + 1)]
    pubs = [m.publish() for m in members]
    bundles = [m.deal(pubs) for m in members]
    if cheat is not None:
        d, v = cheat
        m = members[d - 1]
        wrong = m.seal_share(v, dkg._evaluate(m._coeffs, v) + 1)
        bundles[d - 1] = rec.ShareBundle(
            dealer=d, shares=[wrong if s.recipient == v else s for s in bundles[d - 1].shares]
        )
    complaints = [m.receive(bundles) for m in members]
    record, out = dkg.transcript(spec, pubs, bundles, complaints)
    shares = {m.member: m.finish(pubs, bundles, complaints)[0] for m in members if m.member in out.qualified}
    return record, out, shares


def _ceremony() -> tuple[rec.Ceremony, dkg.Outcome, dict[int, dkg.KeyShare]]:
    spec = rec.CeremonySpec(council_id=COUNCIL, ceremony_id="ban-kiem-phieu-10", threshold=4, members=MEMBERS)
    return ceremony_with_cheat(spec, "ceremony", (6, 2))


def _vote_board() -> tuple[rec.Board, ballots.RoundContext]:
    cer, out, shares = _ceremony()
    spec = ballots.vote_round(COUNCIL, SESSION, "bieu-quyet-3", OPTIONS)
    ctx = ballots.round_context(spec, out.joint_key, out.fingerprint)
    rng = _seed("board-vote")
    choices = [OPTIONS[i % 3 if i % 4 else 0] for i in range(10)]
    cast = [ballots.encrypt_ballot(ctx, ballots.vote_choices(spec, c), rng)[0] for c in choices]
    sp_choices = ballots.vote_choices(spec, OPTIONS[1])
    sp_ballot, sp_nonces = ballots.encrypt_ballot(ctx, sp_choices, rng)
    spoiled = [ballots.spoil(sp_ballot, sp_choices, sp_nonces)]
    cells = tally.aggregate(ctx, [ballots.verify_ballot(ctx, b) for b in cast])
    partials = [tally.partial_decrypt(shares[j], ctx, cells, rng) for j in (1, 2, 4, 7)]
    return board.build_board(cer, out, ctx, cast, spoiled, partials), ctx


def _poll_board() -> rec.Board:
    spec = rec.CeremonySpec(council_id=COUNCIL, ceremony_id="ban-kiem-phieu-ltn", threshold=2, members=MEMBERS[:3])
    cer, out, shares = ceremony_with_cheat(spec, "poll-ceremony", None)
    officials = ["chu-tich-hdnd", "pho-chu-tich-hdnd", "chu-tich-ubnd", "giam-doc-so-tai-chinh"]
    rs = ballots.poll_round(COUNCIL, SESSION, "lay-phieu-tin-nhiem", officials, LEVELS)
    ctx = ballots.round_context(rs, out.joint_key, out.fingerprint)
    rng = _seed("board-poll")
    cast = []
    for b in range(6):
        marks = {o: (None if (b + i) % 5 == 4 else LEVELS[(b * i) % 3]) for i, o in enumerate(officials)}
        cast.append(ballots.encrypt_ballot(ctx, ballots.poll_choices(rs, marks), rng)[0])
    cells = tally.aggregate(ctx, [ballots.verify_ballot(ctx, b) for b in cast])
    partials = [tally.partial_decrypt(shares[j], ctx, cells, rng) for j in (1, 3)]
    return board.build_board(cer, out, ctx, cast, [], partials)


def _bump(h: str) -> str:
    return hexs(int.from_bytes(bytes.fromhex(h), "little") + 1)


def _other(label: str) -> str:
    return base_mul(hash_scalar("test-point", label)).hex()


def tamper_cases(b: rec.Board) -> list[dict[str, Any]]:
    """Edits of the vote board, each {op, path, value, check}: op "replace" sets the value at path, "remove" drops
    the list item at path, "append" adds value to the list at path; `check` is what §9 reports first."""
    d = msgspec.to_builtins(b)
    c: list[dict[str, Any]] = []

    def rep(path: list[str | int], value: Any, check: str, why: str) -> None:
        c.append({"op": "replace", "path": path, "value": value, "check": check, "why": why})

    rep(["version"], "kyhop-ballot-v0", "board_format", "unknown version")
    rep(["ceremony", "spec", "threshold"], 3, "member_key", "another threshold changes every proof's context")
    rep(["ceremony", "publications", 2, "comm_key"], _other("k"), "member_key", "member 3's key swapped")
    rep(["ceremony", "publications", 2, "commitments", 1], _other("c"), "commitment", "a commitment swapped")
    rep(["ceremony", "bundles", 1, "shares", 0, "recipient"], 3, "share_bundle", "a share to the wrong member")
    rep(
        ["ceremony", "complaints", 1, "complaints", 0, "proof", "response"],
        _bump(d["ceremony"]["complaints"][1]["complaints"][0]["proof"]["response"]),
        "complaint",
        "the complaint's proof altered",
    )
    rep(["ceremony", "disqualified"], [], "disqualified", "the bad dealer left in")
    rep(["ceremony", "joint_key"], _other("j"), "joint_key", "the joint key swapped")
    rep(["ceremony", "fingerprint"], "00" * 32, "joint_key", "the fingerprint altered")
    rep(["round", "council_id"], "hdnd-khac", "round", "the round of another council")
    rep(["round", "round_id"], "bieu-quyet-4", "ballot_tracker", "another round: every ballot's tracker changes")
    rep(["ballots", 4, "tracker"], "00" * 32, "ballot_tracker", "a tracker altered")
    rep(["ballots", 4, "answers", 0, "ciphertexts", 1, "beta"], _other("b"), "ballot_tracker", "a ciphertext swapped")
    rep(
        ["ballots", 4, "answers", 0, "choice_proofs", 2, "responses", 1],
        _bump(d["ballots"][4]["answers"][0]["choice_proofs"][2]["responses"][1]),
        "ballot_choice_proof",
        "a box's proof altered",
    )
    rep(
        ["ballots", 4, "answers", 0, "sum_proof", "challenges", 0],
        _bump(d["ballots"][4]["answers"][0]["sum_proof"]["challenges"][0]),
        "ballot_sum_proof",
        "the sum's proof altered",
    )
    rep(["ballots", 4, "answers", 0, "ciphertexts", 0, "alpha"], "ff" * 32, "ballot_format", "not a point")
    c.append(
        {
            "op": "append",
            "path": ["ballots"],
            "value": d["ballots"][3],
            "check": "ballot_duplicate",
            "why": "a ballot added twice",
        }
    )
    c.append({"op": "remove", "path": ["ballots", 9], "value": None, "check": "aggregate", "why": "a ballot dropped"})
    c.append(
        {
            "op": "append",
            "path": ["ballots"],
            "value": d["spoiled"][0]["ballot"],
            "check": "spoiled_ballot",
            "why": "a spoiled ballot counted",
        }
    )
    rep(["spoiled", 0, "choices", 0], [1, 0, 0], "spoiled_ballot", "a spoiled ballot's revealed choice altered")
    rep(["aggregate", 0, 1, "beta"], _other("a"), "aggregate", "the aggregate swapped")
    rep(
        ["partials", 2, "shares", 0, 0, "share"],
        _other("p"),
        "partial_decryption",
        "member 4's partial decryption swapped",
    )
    rep(["partials", 1, "member"], 6, "partial_decryption", "a partial from the disqualified member")
    c.append(
        {"op": "remove", "path": ["partials", 0], "value": None, "check": "too_few_partials", "why": "3 of 4 needed"}
    )
    rep(["result", "counts", 0, 0], d["result"]["counts"][0][0] + 1, "result", "a count altered")
    rep(["result", "ballots"], 11, "result", "the number of ballots altered")
    return c


def apply_tamper(board_json: Any, case: dict[str, Any]) -> Any:
    """Apply one case of `tamper_cases` to the board's JSON value (a deep copy is the caller's)."""
    *parents, last = case["path"]
    target = board_json
    for key in parents:
        target = target[key]
    if case["op"] == "replace":
        target[last] = case["value"]
    elif case["op"] == "remove":
        del target[last]
    else:
        target[last].append(case["value"])
    return board_json


def ballot_vectors(ctx: ballots.RoundContext) -> dict[str, Any]:
    rng = _seed("ballots")
    out: dict[str, Any] = {
        "round": msgspec.to_builtins(ctx.spec),
        "joint_key": ctx.joint_key.hex(),
        "fingerprint": ctx.fingerprint.hex(),
        "round_context": ctx.qr.hex(),
        "seed": "kyhop-vectors/ballots",
        "valid": [],
    }
    for opt in OPTIONS:
        choices = ballots.vote_choices(ctx.spec, opt)
        ballot, nonces = ballots.encrypt_ballot(ctx, choices, rng)
        out["valid"].append(
            {
                "choices": choices,
                "nonces": [[hexs(r) for r in row] for row in nonces],
                "ballot": msgspec.to_builtins(ballot),
                "short_tracker": ballots.short_tracker(ballot.tracker),
            }
        )
    first = out["valid"][0]["ballot"]
    a = first["answers"][0]
    out["tampered"] = [
        {"path": ["tracker"], "value": "00" * 32, "check": "ballot_tracker"},
        {"path": ["answers", 0, "ciphertexts", 2, "alpha"], "value": _other("t"), "check": "ballot_tracker"},
        {"path": ["answers", 0, "ciphertexts", 2, "alpha"], "value": "00" * 31 + "80", "check": "ballot_format"},
        {
            "path": ["answers", 0, "choice_proofs", 0, "challenges", 0],
            "value": _bump(a["choice_proofs"][0]["challenges"][0]),
            "check": "ballot_choice_proof",
        },
        {
            "path": ["answers", 0, "sum_proof", "responses", 0],
            "value": _bump(a["sum_proof"]["responses"][0]),
            "check": "ballot_sum_proof",
        },
    ]
    return out


KEYSHARE_PASSPHRASE = "Mật khẩu của ủy viên số 5"


def keyshare_vectors(share: dkg.KeyShare) -> dict[str, Any]:
    """A sealed share another implementation must open (and refuse when altered). The salt is the first 16 bytes
    of the seed's first scalar; N = 2^14, the least a device accepts, to keep the tests fast."""
    salt = scalar_bytes(_seed("keyshare").scalar())[:16]
    return {
        "seed": "salt = first 16 bytes of the scalar kyhop-vectors/keyshare draws first; N = 2^14, r = 8, p = 1",
        "passphrase": KEYSHARE_PASSPHRASE,
        "share": msgspec.to_builtins(share),
        "file": keystore.seal(share, KEYSHARE_PASSPHRASE, n=2**14, salt=salt),
    }


def generate() -> dict[str, bytes]:
    vote, ctx = _vote_board()
    cer, out, shares = _ceremony()
    ceremony = {
        "seeds": "member i draws from kyhop-vectors/ceremony/<i>; dealer 6 seals share+1 to member 2",
        "transcript": msgspec.to_builtins(cer),
        "qualified": out.qualified,
        "verification_keys": {str(j): v.hex() for j, v in out.verification_keys.items()},
        "key_shares": {str(j): msgspec.to_builtins(s) for j, s in shares.items()},
    }
    return {
        "hash.json": _dump(hash_vectors()),
        "group.json": _dump(group_vectors()),
        "proofs.json": _dump(proof_vectors()),
        "ceremony.json": _dump(ceremony),
        "ballots.json": _dump(ballot_vectors(ctx)),
        "board-vote.json": _dump(vote),
        "board-poll.json": _dump(_poll_board()),
        "board-tampered.json": _dump(tamper_cases(vote)),
        "keyshare.json": _dump(keyshare_vectors(shares[5])),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    target = Path(args[0] if args else "tests/vectors/ballotcrypto")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in generate().items():
        (target / name).write_bytes(data)
        print(f"{target / name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
