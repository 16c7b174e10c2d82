"""The bulletin board and the offline verifier (ballotcrypto/board.py, ballotcrypto/verify.py): a 50-ballot vote
board and a 10-official confidence-poll board verify, through the real CLI too; tampered boards are named by the
first failing check (every kind of edit: tests/test_ballotcrypto_vectors.py)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import msgspec

from ballotcrypto import ballots, board, tally
from ballotcrypto.group import SeededRng
from tests.ballotcrypto_helpers import LEVELS, OPTIONS, committee, context, vote_run


def _vote_board() -> board.rec.Board:
    run, s = vote_run(), committee()
    return board.build_board(s.ceremony, s.outcome, run.ctx, run.ballots, [], [run.partials[j] for j in (2, 3, 5, 7)])


def test_a_fifty_ballot_board_verifies_and_says_the_choices() -> None:
    b = _vote_board()
    assert b.result.counts == [[vote_run().choices.count(o) for o in OPTIONS]]
    report = board.verify_board(board.encode_board(b))
    assert report.ok and report.board == b


def test_a_confidence_poll_board_verifies() -> None:
    s = committee()
    officials = [f"official-{i}" for i in range(10)]
    ctx = context(ballots.poll_round("hdnd-ha-noi", "ky-hop-12", "ltn-1", officials, LEVELS))
    pick, rng = random.Random(7), SeededRng(b"poll-board")
    marks = [{o: pick.choice([*LEVELS, None]) for o in officials} for _ in range(8)]
    cast = [ballots.encrypt_ballot(ctx, ballots.poll_choices(ctx.spec, m), rng)[0] for m in marks]
    cells = tally.aggregate(ctx, [ballots.verify_ballot(ctx, x) for x in cast])
    partials = [tally.partial_decrypt(s.shares[j], ctx, cells, rng) for j in (4, 5, 6, 7)]
    b = board.build_board(s.ceremony, s.outcome, ctx, cast, [], partials)
    assert board.verify_board(board.encode_board(b)).ok
    assert b.result.counts == [[sum(m[o] == lv for m in marks) for lv in LEVELS] for o in officials]
    assert tally.invalid_counts(ctx.spec, b.result) == {o: sum(m[o] is None for m in marks) for o in officials}


def test_garbage_is_a_format_failure() -> None:
    for data in (b"", b"{", b"[]", b'{"version": "kyhop-ballot-v1"}', b"\xff\xfe"):
        report = board.verify_board(data)
        assert report.failure is not None and report.failure.check == "board_format"


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ballotcrypto.verify", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_verifies_offline_and_names_the_first_failure(tmp_path: Path) -> None:
    b = _vote_board()
    good = tmp_path / "board.json"
    good.write_bytes(board.encode_board(b))
    out = _cli(good)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("OK vote bq-1: 50 ballots, 4 of 7 members decrypted (threshold 4)")
    data = msgspec.to_builtins(b)
    data["partials"][1]["shares"][0][2]["share"] = data["partials"][0]["shares"][0][2]["share"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    out = _cli(bad)
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        "FAIL partial_decryption — member 3 question 0 choice 2: the proof of correct decryption fails",
        "Phần giải mã của một thành viên không hợp lệ / a member's partial decryption is invalid",
    ]
    assert _cli(tmp_path / "missing.json").returncode == 2
