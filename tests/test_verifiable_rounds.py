"""Verifiable secret rounds through the engine (issue 13 §2): the committee's ceremony, encrypted ballots checked
by the server (server/verifier.py) before the domain takes them, decryption by t of n members = certification.

Real databases (SQLite in a file, PostgreSQL from tests/services.py), the real engine and the real scheme
(ballotcrypto); committee devices and tablets are clients/ballots.py, as the SDK uses them.
"""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from ballotcrypto import board
from clients.ballots import CommitteeMember, encrypt_vote
from meeting import verifiable, votes
from meeting.rules import BallotMode
from meeting.session import SessionState
from meeting.verifiable import Step
from server import db, verifier
from server.engine import Engine, Reply
from tests.test_engine_pipeline import CHAIRPERSON, SID, STREAM, database, member, ok, running_session

pytestmark = pytest.mark.asyncio

N = 50
COMMITTEE = list(range(2, 9))  # delegates d002…d008: 7 members, threshold 4
OPTIONS = ["yes", "no", "abstain"]  # the default options of tests.factory.prepare


async def state_of(engine: Engine) -> SessionState:
    state, _ = await engine.state("session", SID)
    assert isinstance(state, SessionState)
    return state


async def refused(engine: Engine, who: Any, client_id: str, cmd: Any) -> Reply:
    reply = await engine.execute("session", SID, who, client_id, cmd)
    assert not reply.ok and reply.error is not None, reply
    return reply


async def ceremony(engine: Engine, ceremony_id: str = "bkp-1") -> dict[int, CommitteeMember]:
    """The committee's key ceremony, each member's device on its own, the messages through the engine."""
    await ok(
        engine,
        CHAIRPERSON,
        "cer",
        verifiable.StartCeremony(ceremony_id=ceremony_id, members=[f"d{i:03d}" for i in COMMITTEE]),
    )
    state = await state_of(engine)
    devices = {i: CommitteeMember(state, ceremony_id, f"d{i:03d}") for i in COMMITTEE}
    for i, d in devices.items():
        await ok(engine, member(i), f"pub-{ceremony_id}", d.publish())
    state = await state_of(engine)
    for i, d in devices.items():
        await ok(engine, member(i), f"deal-{ceremony_id}", d.deal(state))
    state = await state_of(engine)
    for i, d in devices.items():
        await ok(engine, member(i), f"compl-{ceremony_id}", d.complain(state))
    state = await state_of(engine)
    fingerprints = {d.finish(state) for d in devices.values()}
    assert len(fingerprints) == 1  # every device shows the same fingerprint: one transcript for all
    keys = state.ceremonies.by_id[ceremony_id].keys
    assert keys is not None and keys.fingerprint in fingerprints and keys.threshold == 4
    return devices


async def open_verifiable(engine: Engine, round_id: str = "bq-1") -> None:
    cmd = votes.OpenVote(
        round_id=round_id,
        item_id="item-1",
        motion="Biểu quyết kín thông qua Nghị quyết",
        secret=True,
        mode=BallotMode.VERIFIABLE,
        ceremony_id="bkp-1",
    )
    await ok(engine, CHAIRPERSON, f"open-{round_id}", cmd)


async def test_fifty_ballots_four_of_seven_decrypt_and_the_board_verifies(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, N)
        devices = await ceremony(engine)
        await open_verifiable(engine)
        state = await state_of(engine)
        pick = random.Random(13)
        choices = {i: pick.choice(OPTIONS) for i in range(1, N + 1)}
        casts = [encrypt_vote(state, "bq-1", f"d{i:03d}", choices[i]) for i in range(1, N + 1)]
        await asyncio.gather(*(ok(engine, member(i), "cast", c) for i, c in zip(range(1, N + 1), casts, strict=True)))

        # The server holds no count: no sealed tally row, and the plain ballot command is refused.
        async with d.tx() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(db.tallies))).scalar() == 0
            voters = (await conn.execute(sa.select(sa.func.count()).select_from(db.voters))).scalar()
        assert voters == N
        r = await refused(
            engine, member(2), "plain", votes.CastBallot(round_id="bq-1", delegate_id="d002", option="yes")
        )
        assert r.error is not None and r.error.code == "wrong_ballot_mode"

        await ok(engine, CHAIRPERSON, "close", votes.CloseRound(round_id="bq-1"))
        state = await state_of(engine)
        rnd = state.votes.rounds["bq-1"]
        assert rnd.status is votes.RoundStatus.COUNTED and rnd.result is None

        # Three members decrypt: below the threshold, nothing is announced.
        for i in COMMITTEE[:3]:
            await ok(engine, member(i), "partial", devices[i].decrypt(state, "bq-1"))
        state = await state_of(engine)
        assert state.votes.rounds["bq-1"].result is None

        # A member whose partial is bad is named and changes nothing; another member finishes.
        bad = devices[COMMITTEE[3]].decrypt(state, "bq-1")
        share = bad.partial["shares"][0][0]
        share["share"] = devices[COMMITTEE[4]].decrypt(state, "bq-1").partial["shares"][0][0]["share"]
        r = await refused(engine, member(COMMITTEE[3]), "bad-partial", bad)
        assert r.error is not None and r.error.code == "partial_invalid" and "d005" in r.error.message_en
        assert state.votes.rounds["bq-1"].result is None
        await ok(engine, member(COMMITTEE[4]), "partial", devices[COMMITTEE[4]].decrypt(state, "bq-1"))

        state = await state_of(engine)
        result = state.votes.rounds["bq-1"].result
        assert result is not None
        expected = {o: sum(1 for c in choices.values() if c == o) for o in OPTIONS}
        assert {o.key: o.count for o in result.options} == expected
        assert state.votes.rounds["bq-1"].certified_by == ["d002", "d003", "d004", "d006"]

        # The board, built from the log alone, verifies offline.
        data = build_board(state, "bq-1")
        report = board.verify_board(data)
        assert report.ok, report.failure
        assert report.board is not None and report.board.result.counts == [[expected[o] for o in OPTIONS]]


def build_board(state: SessionState, round_id: str) -> bytes:
    r = state.votes.rounds[round_id]
    c = state.ceremonies.by_id[r.ceremony_id or ""]
    partials = [r.partials[m] for m in r.certified_by]
    return verifier.build_board(c.transcript(), verifiable.round_crypto(state.hall, r), r.ballots, partials)


async def test_a_ballot_with_a_bad_proof_is_refused_and_changes_nothing(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, 10)
        await ceremony(engine)
        await open_verifiable(engine)
        state = await state_of(engine)
        good = encrypt_vote(state, "bq-1", "d002", "yes")
        other = encrypt_vote(state, "bq-1", "d002", "no")
        # The 0-or-1 proof of one box taken from another ballot: the tracker still matches, the proof does not.
        tampered = msgspec.structs.replace(good, ballot=dict(good.ballot))
        answers = [dict(a) for a in good.ballot["answers"]]
        answers[0]["choice_proofs"] = other.ballot["answers"][0]["choice_proofs"]
        tampered.ballot["answers"] = answers
        before = (await state_of(engine)).votes.rounds["bq-1"]
        r = await refused(engine, member(2), "bad", tampered)
        assert r.error is not None and r.error.code == "ballot_proof_invalid"
        assert "ballot_choice_proof" in r.error.message_en and r.error.message_vi
        after = (await state_of(engine)).votes.rounds["bq-1"]
        assert after.voted == before.voted == set() and after.ballots == []
        await ok(engine, member(2), "good", good)  # the delegate can still cast a proper ballot
        # The same ballot again from another delegate: refused, a copied ballot would repeat a choice.
        copied = msgspec.structs.replace(good, delegate_id="d003")
        r = await refused(engine, member(3), "copy", copied)
        assert r.error is not None and r.error.code == "ballot_duplicate"


async def test_a_verifiable_round_survives_a_restart(database_url: str) -> None:
    """Everything a verifiable round needs is in the ordered log: a fresh engine (another worker, or after a
    crash) finishes the count the first one started."""
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, 10)
        devices = await ceremony(engine)
        await open_verifiable(engine)
        state = await state_of(engine)
        for i in range(1, 9):
            await ok(engine, member(i), "cast", encrypt_vote(state, "bq-1", f"d{i:03d}", OPTIONS[i % 2]))
        await ok(engine, CHAIRPERSON, "close", votes.CloseRound(round_id="bq-1"))
        state = await state_of(engine)
        for i in COMMITTEE[:2]:
            await ok(engine, member(i), "partial", devices[i].decrypt(state, "bq-1"))
        fresh = Engine(d)
        for i in COMMITTEE[2:4]:
            await ok(fresh, member(i), "partial", devices[i].decrypt(state, "bq-1"))
        result = (await state_of(fresh)).votes.rounds["bq-1"].result
        assert result is not None and [o.count for o in result.options] == [4, 4, 0]
        async with d.tx() as conn:
            rows = (await conn.execute(sa.select(db.events.c.type).where(db.events.c.stream_id == STREAM))).all()
        assert ("vote_encrypted_ballot",) in rows and ("vote_secret_ballot",) not in rows


async def test_verifiable_is_the_default_and_a_step_out_of_order_is_refused(database_url: str) -> None:
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, 10)
        members = [f"d{i:03d}" for i in COMMITTEE]
        await ok(engine, CHAIRPERSON, "cer", verifiable.StartCeremony(ceremony_id="bkp-1", members=members))
        state = await state_of(engine)
        # When it started is kept (the console shows the newest ceremony; an id need not sort by time).
        started = state.ceremonies.by_id["bkp-1"].started_at
        assert started is not None and abs(started - datetime.now(UTC)) < timedelta(minutes=5)
        device = CommitteeMember(state, "bkp-1", "d002")
        await ok(engine, member(2), "pub", device.publish())
        # Dealing before every member has published is refused, and so is a member's second publication.
        deal = verifiable.CeremonyStep(ceremony_id="bkp-1", step=Step.DEAL, message={"dealer": 1, "shares": []})
        r = await refused(engine, member(2), "deal", deal)
        assert r.error is not None and r.error.code == "ceremony_step"
        r = await refused(engine, member(2), "pub2", deal_as_publish(deal))
        assert r.error is not None and r.error.code == "ceremony_step"
        # Only a member takes part.
        r = await refused(
            engine, member(20), "pub-x", verifiable.CeremonyStep(ceremony_id="bkp-1", step=Step.PUBLISH, message={})
        )
        assert r.error is not None and r.error.code == "not_on_committee"
        # A secret round without a mode is verifiable (the council's default, issue 13 §2): with this ceremony
        # unfinished it is refused and changes nothing; the chair may still say "sealed" for one round.
        cmd = votes.OpenVote(round_id="bq-2", item_id="item-1", motion="Kín", secret=True, committee=members)
        r = await refused(engine, CHAIRPERSON, "open-bq-2", cmd)
        assert r.error is not None and r.error.code == "unknown_ceremony"
        r = await refused(engine, CHAIRPERSON, "open-bq-2b", msgspec.structs.replace(cmd, ceremony_id="bkp-1"))
        assert r.error is not None and r.error.code == "unknown_ceremony"
        assert "bq-2" not in (await state_of(engine)).votes.rounds
        await ok(engine, CHAIRPERSON, "open-bq-2s", msgspec.structs.replace(cmd, mode=BallotMode.SEALED))
        assert (await state_of(engine)).votes.rounds["bq-2"].mode is BallotMode.SEALED
        # A verifiable round needs a completed ceremony.
        await ok(engine, CHAIRPERSON, "cancel", votes.CancelRound(round_id="bq-2", reason="Thử"))
        v = votes.OpenVote(
            round_id="bq-3",
            item_id="item-1",
            motion="Kín",
            secret=True,
            mode=BallotMode.VERIFIABLE,
            ceremony_id="bkp-1",
        )
        r = await refused(engine, CHAIRPERSON, "open-v", v)
        assert r.error is not None and r.error.code == "unknown_ceremony"


def deal_as_publish(deal: verifiable.CeremonyStep) -> verifiable.CeremonyStep:
    return msgspec.structs.replace(deal, step=Step.PUBLISH)


async def test_every_viewer_gets_a_snapshot_of_a_verifiable_round(database_url: str) -> None:
    """Staff, a committee member, another delegate: each one's snapshot decodes as the client decodes it."""
    from clients.sdk import _decoder
    from meeting.protocol import Snapshot
    from tests.test_engine_pipeline import SECRETARIAT

    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, 10)
        devices = await ceremony(engine)
        await open_verifiable(engine)
        state = await state_of(engine)
        for i in range(1, 9):
            await ok(engine, member(i), "cast", encrypt_vote(state, "bq-1", f"d{i:03d}", OPTIONS[i % 2]))
        await ok(engine, CHAIRPERSON, "close", votes.CloseRound(round_id="bq-1"))
        state = await state_of(engine)
        for i in COMMITTEE[:4]:
            await ok(engine, member(i), "partial", devices[i].decrypt(state, "bq-1"))
        rt = engine.runtime("session", SID)
        for who in (SECRETARIAT, CHAIRPERSON, member(2), member(9)):
            wire, _ = await rt.snapshot_wire(who.actor)
            msg = _decoder.decode(wire)
            assert isinstance(msg, Snapshot)
            view = msgspec.convert(msg.state, SessionState)
            assert view.votes.rounds["bq-1"].result is not None


async def test_ballot_proofs_are_checked_before_the_batch_and_once(database_url: str, monkeypatch: Any) -> None:
    """The ~1.5 ms proof check of each encrypted ballot runs in a worker thread before the ballot joins a batch,
    not in the commit under the stream's lock (256 ballots would hold it ~0.4 s); the domain then finds it
    verified. A bad ballot is still refused by the domain, in order."""
    async with database(database_url) as d:
        engine = Engine(d)
        await running_session(engine, 20)
        await ceremony(engine)
        await open_verifiable(engine)
        state = await state_of(engine)
        casts = [encrypt_vote(state, "bq-1", f"d{i:03d}", OPTIONS[i % 3]) for i in range(1, 21)]
        on_loop: list[bool] = []  # the commit runs on the event loop's thread, under the stream's lock
        real = verifier.ballots.verify_ballot

        def watched(ctx: Any, b: Any) -> Any:
            on_loop.append(threading.current_thread() is threading.main_thread())
            return real(ctx, b)

        monkeypatch.setattr(verifier.ballots, "verify_ballot", watched)
        await asyncio.gather(*(ok(engine, member(i), "cast", c) for i, c in zip(range(1, 21), casts, strict=True)))
        assert len(on_loop) == 20 and not any(on_loop), on_loop  # each once, none in the commit
        again = await engine.execute("session", SID, member(1), "cast", casts[0])  # a retry: the first answer
        assert again.ok and again.replayed and len(on_loop) == 20
        state = await state_of(engine)
        assert len(state.votes.rounds["bq-1"].voted) == 20
