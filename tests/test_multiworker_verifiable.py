"""A verifiable secret round survives the SIGKILL of a worker (issue 13 §3): two real workers over PostgreSQL and
Redis (tests/test_multiworker.py's cluster), the committee's key ceremony on its members' tablets spread over
both, fifty encrypted ballots, worker A killed while ballots through it are being acknowledged. Its tablets fail
over to B and re-send what was pending; every acknowledged ballot is on the board once, the committee's partial
decryptions give exactly the choices, and the board verifies."""

from __future__ import annotations

import asyncio
from collections import Counter

import msgspec
import pytest

from ballotcrypto import board
from clients.ballots import CommitteeMember, encrypt_vote
from meeting import verifiable, votes
from meeting.protocol import Result
from meeting.rules import BallotMode
from tests.e2e import http, until
from tests.test_multiworker import (  # noqa: F401 — the fixtures are used by name
    COMMITTEE,
    ITEM,
    SECRETARY,
    SID,
    Cluster,
    Hall,
    N,
    cluster,
    did,
    on_a,
    secret_choice,
    seeded,
    split,
)

pytestmark = pytest.mark.asyncio
ROUND = "bq-kiem-chung"


async def _ceremony(hall: Hall) -> dict[str, CommitteeMember]:
    """Each member's tablet computes its messages from the state its own socket keeps (as tests/test_e2e_verifiable)."""
    started = await hall.chair.send(verifiable.StartCeremony(ceremony_id="bkp-k", members=COMMITTEE))
    await hall.settle(started.seqs[-1])
    members = {m: hall.tablets[m] for m in COMMITTEE}
    devices = {m: CommitteeMember(t.state, "bkp-k", m) for m, t in members.items()}  # type: ignore[arg-type]
    for step in ("publish", "deal", "complain"):
        sent = []
        for m, dev in devices.items():
            state = members[m].state
            assert state is not None
            cmd = dev.publish() if step == "publish" else dev.deal(state) if step == "deal" else dev.complain(state)
            sent.append(members[m].send(cmd))
        await hall.settle(max(r.seqs[-1] for r in await asyncio.gather(*sent)))
    assert len({dev.finish(members[m].state) for m, dev in devices.items()}) == 1  # type: ignore[arg-type]
    return devices


async def test_sigkill_of_a_worker_in_the_middle_of_a_verifiable_round(cluster: Cluster) -> None:  # noqa: F811
    hall = await Hall.convene(cluster, split(cluster, chair_on="b"))
    try:
        devices = await _ceremony(hall)
        opened = await hall.chair.send(
            votes.OpenVote(
                round_id=ROUND,
                item_id=ITEM,
                motion="Bỏ phiếu kín có thể kiểm chứng",
                secret=True,
                mode=BallotMode.VERIFIABLE,
                ceremony_id="bkp-k",
            )
        )
        await hall.settle(opened.seqs[-1])
        choice = secret_choice  # 26 yes, 14 no, 10 abstain
        casts = {i: encrypt_vote(hall.tablet(i).state, ROUND, did(i), choice(i)) for i in range(1, N + 1)}  # type: ignore[arg-type]

        def cid(i: int) -> str:
            return f"kill-{i}"

        # Phase 1: 19 ballots through both workers, all acknowledged.
        assert all(r.ok for r in await asyncio.gather(*(hall.tablet(i).request(casts[i]) for i in range(2, 21))))

        # Phase 2 (as the sealed round's test): B keeps taking ballots, A dies the moment the first answer to a
        # burst of its own is handled; the last three are sent while their tablets fail over.
        late = [1, *range(21, N + 1)]
        a_late = [i for i in late if on_a(i)]
        first, burst, after = a_late[:2], a_late[2:-3], a_late[-3:]
        acked_at_kill: set[int] = set()
        killed: list[bool] = []

        def kill_a(_: Result) -> None:
            if killed:
                return
            killed.append(True)
            acked_at_kill.update(i for i in range(1, N + 1) if hall.tablet(i).answered(cid(i)))
            cluster.a.kill()

        async def cast(i: int, delay: float = 0.0) -> Result:
            await asyncio.sleep(delay)
            return await hall.tablet(i).request(casts[i], id=cid(i))

        on_b = [asyncio.create_task(cast(i, 0.02 * k)) for k, i in enumerate(i for i in late if not on_a(i))]
        assert all(r.ok for r in await asyncio.gather(*(cast(i) for i in first)))
        for i in burst:
            hall.tablet(i).on_result = kill_a
        in_burst = [asyncio.create_task(cast(i)) for i in burst]
        await until(lambda: bool(killed), what="the first answer to the burst")
        later = [asyncio.create_task(cast(i)) for i in after]
        results = await asyncio.wait_for(asyncio.gather(*on_b, *in_burst, *later), timeout=60)
        assert all(r.ok for r in results), [r for r in results if not r.ok]
        assert [i for i in burst if i not in acked_at_kill], "nothing was in flight through A when it died"
        b_url = f"{cluster.b.ws}/ws/sessions/{SID}"
        await until(lambda: all(hall.tablet(i).connected_to[-1] == b_url for i in range(2, N + 1, 2)), 20, "failover")

        # Closed on B; four members (some of them failed over from A) decrypt: the count is exactly the choices.
        closed = await hall.chair.send(votes.CloseRound(round_id=ROUND))
        await hall.settle(closed.seqs[-1])
        last = 0
        for m in COMMITTEE[:4]:
            t = hall.tablets[m]
            assert t.state is not None
            last = (await t.send(devices[m].decrypt(t.state, ROUND))).seqs[-1]
        await hall.settle(last)
        assert hall.chair.state is not None
        result = hall.chair.state.votes.rounds[ROUND].result
        assert result is not None
        want = Counter(choice(i) for i in range(1, N + 1))
        assert {o.key: o.count for o in result.options} == {"yes": 26, "no": 14, "abstain": 10} == dict(want)
        assert result.ballots_collected == N and result.voted == sorted(did(i) for i in range(1, N + 1))

        # The board from the surviving worker: every ballot once, and it verifies.
        facts = await cluster.stream_facts()
        assert facts["seqs"] == list(range(1, facts["last_seq"] + 1))
        assert sorted(facts["voters"][f"vote:{ROUND}"]) == sorted(did(i) for i in range(1, N + 1))
        url = f"{cluster.b.http}/api/sessions/{SID}/rounds/{ROUND}/board"
        status, data = await asyncio.to_thread(http, "GET", url)
        assert status == 200, data
        assert sorted(b["tracker"] for b in data["ballots"]) == sorted(c.ballot["tracker"] for c in casts.values())
        report = board.verify_board(msgspec.json.encode(data))
        assert report.ok, report.failure
        status, body = await asyncio.to_thread(
            http, "GET", f"{cluster.b.http}/api/sessions/{SID}/events?limit=5000", None, hall.tokens[SECRETARY]
        )
        assert status == 200
        voted = Counter(
            e["event"]["delegate_id"] for e in body["events"] if e["event"]["type"] == "vote_delegate_voted"
        )
        assert voted == Counter({did(i): 1 for i in range(1, N + 1)})
        await hall.assert_consistent(cluster.b)
    finally:
        await hall.close()
