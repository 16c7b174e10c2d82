"""The offline verifier: `python -m ballotcrypto.verify BOARD.json`.

Checks everything on one round's bulletin board (docs/BALLOT-CRYPTO.md §9) and prints the result, or the first
check that fails by its name, in Vietnamese and English. Exit status: 0 verified, 1 a check failed, 2 the file
could not be read. Needs nothing but this package: no server, no network.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ballotcrypto.board import Report, verify_board
from ballotcrypto.errors import VerifyFailure

__all__ = ["VerifyFailure", "main", "verify_board", "verify_file"]


def verify_file(path: Path) -> Report:
    return verify_board(path.read_bytes())


def describe(report: Report) -> str:
    if report.failure is not None:
        f = report.failure
        return f"FAIL {f.check} — {f.subject}: {f.detail}\n{f.message_vi} / {f.message_en}"
    board = report.board
    assert board is not None
    lines = [
        f"OK {board.round.kind} {board.round.round_id}: {board.result.ballots} ballots, "
        f"{len(board.partials)} of {len(board.ceremony.spec.members)} members decrypted "
        f"(threshold {board.ceremony.spec.threshold})",
        "Đã kiểm tra toàn bộ bảng công khai / every check on the board passed",
    ]
    for q, counts in zip(board.round.questions, board.result.counts, strict=True):
        cells = ", ".join(f"{c}={n}" for c, n in zip(q.choices, counts, strict=True))
        lines.append(f"  {q.id}: {cells}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ballotcrypto.verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("board", type=Path, help="the round's bulletin board, as exported (JSON)")
    args = ap.parse_args(argv)
    try:
        report = verify_file(args.board)
    except OSError as e:
        print(f"cannot read {args.board}: {e.strerror}", file=sys.stderr)
        return 2
    print(describe(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
