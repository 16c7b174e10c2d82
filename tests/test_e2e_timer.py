"""A round opened with a duration is closed by the server's timer, once, with the ballots cast in time."""

from __future__ import annotations

import asyncio

from clients.sdk import SessionClient, sign_in
from meeting import agenda, script, votes
from meeting import session as sess
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess


async def test_timer_closes_the_round() -> None:
    with ServerProcess() as srv:
        names = {"vanphong": "vanphong", script.delegate_id(1): "chutoa"}
        names.update({script.delegate_id(i): f"daibieu{i:02d}" for i in range(2, 35)})
        tokens = dict(
            zip(
                names, await asyncio.gather(*(sign_in(srv.http, u, DEMO_PASSWORD) for u in names.values())), strict=True
            )
        )
        clients = {k: SessionClient(srv.ws, script.SESSION_ID, t) for k, t in tokens.items()}
        await asyncio.gather(*(c.connect() for c in clients.values()))
        try:
            sec, chair = clients["vanphong"], clients[script.delegate_id(1)]
            await sec.send(sess.OpenCheckIn())
            await asyncio.gather(
                *(
                    clients[script.delegate_id(i)].send(sess.CheckIn(delegate_id=script.delegate_id(i)))
                    for i in range(1, 35)
                )
            )
            await chair.send(sess.OpenSession())
            await chair.send(agenda.MoveToItem(item_id="nq-ngan-sach"))
            await chair.send(
                votes.OpenVote(round_id="t1", item_id="nq-ngan-sach", motion="Có hẹn giờ", duration_seconds=2)
            )
            await asyncio.gather(
                *(
                    clients[script.delegate_id(i)].send(
                        votes.CastBallot(round_id="t1", delegate_id=script.delegate_id(i), option="yes")
                    )
                    for i in range(1, 31)
                )
            )
            for _ in range(300):
                st = chair.state
                if st is not None and st.votes.rounds["t1"].status is votes.RoundStatus.CLOSED:
                    break
                await asyncio.sleep(0.02)
            st = chair.state
            assert st is not None
            rnd = st.votes.rounds["t1"]
            assert rnd.status is votes.RoundStatus.CLOSED, "the timer did not close the round"
            assert rnd.result is not None and rnd.result.ballots_collected == 30 and rnd.result.passed
            late = await clients[script.delegate_id(33)].request(
                votes.CastBallot(round_id="t1", delegate_id=script.delegate_id(33), option="no")
            )
            assert not late.ok and late.error is not None and late.error.code == "round_not_open"
            closes = [e for _, e in chair.events if isinstance(e, votes.RoundClosed)]
            assert len(closes) == 1
        finally:
            await asyncio.gather(*(c.close() for c in clients.values()))
