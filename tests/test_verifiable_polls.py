"""Verifiable confidence polls through the engine (issue 13 §2, meeting/verifiable_polls.py): a rating poll of three
officials encrypted on the delegates' devices, the proofs checked by the server, the count given by 4 of the 7
committee members' partial decryptions — the same percentages and consequences as a sealed poll (NQ 96/2023/QH15)
— and a board anyone can verify. Real databases (SQLite in a file, PostgreSQL), the real engine and scheme."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import msgspec
import pytest

from ballotcrypto import board
from clients.ballots import encrypt_poll
from meeting import polls, verifiable_polls
from meeting.rules import BallotMode
from meeting.session import SessionState
from server import routes_board, verifier
from server.engine import Engine
from server.errors import ApiError
from tests.test_engine_pipeline import CHAIRPERSON, SECRETARIAT, database, member, ok, running_session
from tests.test_verifiable_rounds import COMMITTEE, ceremony, refused, state_of

pytestmark = pytest.mark.asyncio

N = 20
POLL = "tn-2026"
OFFICIALS = [
    polls.Official(id="ct-ubnd", name="Nguyễn Văn Thành", position="Chủ tịch Ủy ban nhân dân tỉnh"),
    polls.Official(id="pct-ubnd", name="Trần Thị Hằng", position="Phó Chủ tịch Ủy ban nhân dân tỉnh"),
    polls.Official(id="gd-sxd", name="Lê Quốc Dũng", position="Giám đốc Sở Xây dựng"),
]


def marks(i: int) -> dict[str, str | None]:
    """Delegate i's ballot: the first official mostly rated high (two leave them unmarked: invalid for them), the
    second trusted, the third rated low by 11 of 20 (more than half of the ballots)."""
    first = "high" if i <= 12 else "trust" if i <= 16 else "low" if i <= 18 else None
    return {"ct-ubnd": first, "pct-ubnd": "low" if i % 5 == 0 else "trust", "gd-sxd": "low" if i <= 11 else "trust"}


def expected() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {o.id: {"high": 0, "trust": 0, "low": 0, "invalid": 0} for o in OFFICIALS}
    for i in range(1, N + 1):
        for official, level in marks(i).items():
            out[official][level or "invalid"] += 1
    return out


async def open_verifiable_poll(engine: Engine) -> None:
    await ok(
        engine,
        SECRETARIAT,
        "create",
        polls.CreatePoll(poll_id=POLL, item_id="item-1", kind=polls.PollKind.RATING, officials=OFFICIALS),
    )
    committee = [f"d{i:03d}" for i in COMMITTEE]
    await ok(engine, CHAIRPERSON, "appoint", polls.AppointCommittee(poll_id=POLL, members=committee))
    await ok(
        engine, CHAIRPERSON, "open-poll", polls.OpenPoll(poll_id=POLL, mode=BallotMode.VERIFIABLE, ceremony_id="bkp-1")
    )


def poll_board(state: SessionState) -> bytes:
    poll = state.polls.polls[POLL]
    c = state.ceremonies.by_id[poll.ceremony_id or ""]
    partials = [poll.partials[m] for m in poll.certified_by]
    return verifier.build_board(c.transcript(), verifiable_polls.poll_crypto(state.hall, poll), poll.ballots, partials)


async def test_a_rating_poll_encrypted_on_devices_is_counted_by_four_of_seven(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, N)
        devices = await ceremony(engine)
        # The ceremony's members must be the poll's committee; a ceremony that does not exist is named.
        await ok(
            engine,
            SECRETARIAT,
            "c2",
            polls.CreatePoll(poll_id="other", item_id="item-1", kind=polls.PollKind.RATING, officials=OFFICIALS),
        )
        await ok(
            engine,
            CHAIRPERSON,
            "a2",
            polls.AppointCommittee(poll_id="other", members=[f"d{i:03d}" for i in range(9, 16)]),
        )
        r = await refused(
            engine, CHAIRPERSON, "o2", polls.OpenPoll(poll_id="other", mode=BallotMode.VERIFIABLE, ceremony_id="bkp-1")
        )
        assert r.error is not None and r.error.code == "invalid"
        r = await refused(
            engine, CHAIRPERSON, "o3", polls.OpenPoll(poll_id="other", mode=BallotMode.VERIFIABLE, ceremony_id="nope")
        )
        assert r.error is not None and r.error.code == "unknown_ceremony"
        await open_verifiable_poll(engine)
        state = await state_of(engine)
        assert state.polls.polls[POLL].mode is BallotMode.VERIFIABLE and state.polls.polls[POLL].joint_key

        # The plain ballot is refused; a ballot whose proof was taken from another is refused and changes nothing.
        r = await refused(
            engine,
            member(2),
            "plain",
            polls.CastPollBallot(poll_id=POLL, delegate_id="d002", marks={"ct-ubnd": ["high"]}),
        )
        assert (
            r.error is not None
            and r.error.code == "wrong_poll_mode"
            and "Cuộc lấy phiếu tín nhiệm" in r.error.message_vi
        )
        good = encrypt_poll(state, POLL, "d002", marks(2))
        other = encrypt_poll(state, POLL, "d002", {"ct-ubnd": "low", "pct-ubnd": "low", "gd-sxd": "low"})
        bad = msgspec.structs.replace(good, ballot=json.loads(json.dumps(good.ballot)))
        bad.ballot["answers"][2]["sum_proof"] = other.ballot["answers"][2]["sum_proof"]
        r = await refused(engine, member(2), "bad", bad)
        assert r.error is not None and r.error.code == "ballot_proof_invalid"
        assert (await state_of(engine)).polls.polls[POLL].voted == set()

        casts = {i: encrypt_poll(state, POLL, f"d{i:03d}", marks(i)) for i in range(1, N + 1)}
        replies = await asyncio.gather(*(ok(engine, member(i), "cast", casts[i]) for i in range(1, N + 1)))
        assert all(x.ok for x in replies)
        r = await refused(engine, member(3), "again", encrypt_poll(state, POLL, "d003", marks(3)))
        assert r.error is not None and r.error.code == "already_voted"
        r = await refused(engine, member(COMMITTEE[0]), "certify", polls.CertifyPoll(poll_id=POLL))
        assert r.error is not None and r.error.code == "wrong_poll_mode"

        # Closed: no count exists anywhere; 3 partials announce nothing; the 4th publishes the result.
        await ok(engine, CHAIRPERSON, "close", polls.ClosePoll(poll_id=POLL))
        state = await state_of(engine)
        closed = copy.deepcopy(state)  # the engine's own state object moves on
        poll = state.polls.polls[POLL]
        assert poll.status is polls.PollStatus.COUNTED and poll.result is None
        for i in COMMITTEE[:3]:
            await ok(engine, member(i), "partial", devices[i].decrypt_poll(state, POLL))
        assert (await state_of(engine)).polls.polls[POLL].result is None
        await ok(engine, member(COMMITTEE[3]), "partial", devices[COMMITTEE[3]].decrypt_poll(state, POLL))
        state = await state_of(engine)
        poll = state.polls.polls[POLL]
        assert poll.status is polls.PollStatus.CERTIFIED and poll.result is not None
        got = {o.official_id: {**o.counts, "invalid": o.invalid} for o in poll.result.officials}
        assert got == expected()
        consequences = {o.official_id: o.consequence for o in poll.result.officials}
        assert consequences["gd-sxd"] is not polls.Consequence.NONE  # 11 of 20 "tín nhiệm thấp": more than half
        assert consequences["ct-ubnd"] is polls.Consequence.NONE
        assert poll.certified_by == [f"d{i:03d}" for i in COMMITTEE[:4]]
        assert sorted(poll.published_receipts) == sorted(c.ballot["tracker"] for c in casts.values())
        late = await refused(engine, member(COMMITTEE[4]), "late", devices[COMMITTEE[4]].decrypt_poll(closed, POLL))
        assert late.error is not None and late.error.code == "round_not_counted"

        # The board verifies offline, and its counts are the result's; the route refuses what it must.
        assert routes_board.poll_board_of(state, POLL) == poll_board(state)
        for pid, code in (("nope", "unknown_poll"), ("other", "wrong_poll_mode")):
            with pytest.raises(ApiError) as refusal:
                routes_board.poll_board_of(state, pid)
            assert refusal.value.body.code == code, refusal.value
        with pytest.raises(ApiError) as refusal:
            routes_board.poll_board_of(closed, POLL)  # not published yet
        assert refusal.value.body.code == "board_not_published" and refusal.value.body.status == 409
        report = board.verify_board(poll_board(state))
        assert report.ok, report.failure
        assert report.board is not None
        assert report.board.result.counts == [
            [expected()[o.id][lv] for lv in ("high", "trust", "low")] for o in OFFICIALS
        ]

        # A restarted server rebuilds the same state from the log alone.
        again = Engine(d, sealer=engine.sealer)
        state2 = await state_of(again)
        assert msgspec.to_builtins(state2.polls.polls[POLL]) == msgspec.to_builtins(poll)


async def test_a_sealed_poll_is_unchanged_and_takes_no_encrypted_ballot(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, 10)
        await ceremony(engine)
        await ok(
            engine,
            SECRETARIAT,
            "create",
            polls.CreatePoll(
                poll_id="p", item_id="item-1", kind=polls.PollKind.CONFIDENCE_VOTE, officials=OFFICIALS[:1]
            ),
        )
        await ok(
            engine,
            CHAIRPERSON,
            "appoint",
            polls.AppointCommittee(poll_id="p", members=[f"d{i:03d}" for i in COMMITTEE]),
        )
        sealed = polls.OpenPoll(poll_id="p", mode=BallotMode.SEALED, ceremony_id="bkp-1")
        r = await refused(engine, CHAIRPERSON, "open-p1", sealed)
        assert r.error is not None and r.error.code == "invalid"  # a sealed poll takes no ceremony
        await ok(engine, CHAIRPERSON, "open-p2", polls.OpenPoll(poll_id="p", mode=BallotMode.SEALED))
        state = await state_of(engine)
        assert state.polls.polls["p"].mode is BallotMode.SEALED
        cmd: Any = verifiable_polls.CastEncryptedPollBallot(
            poll_id="p", delegate_id="d002", ballot={"tracker": "00", "answers": []}
        )
        r = await refused(engine, member(2), "enc", cmd)
        assert r.error is not None and r.error.code == "wrong_poll_mode"
        await ok(
            engine,
            member(2),
            "cast",
            polls.CastPollBallot(poll_id="p", delegate_id="d002", marks={OFFICIALS[0].id: ["trust"]}),
        )
