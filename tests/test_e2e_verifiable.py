"""Verifiable secret rounds end to end (issue 13 §3), through a real server and 51 WebSocket tablets, on SQLite and
PostgreSQL: the committee's 7 tablets run the key ceremony, 50 delegates cast encrypted ballots, a ballot with a
bad proof is refused, 3 partial decryptions announce nothing, a bad one is named, the 4th valid one announces the
result — equal to the choices — and the bulletin board from the REST route passes `kyhop verify-round` (a
tampered copy does not). On SQLite, the operator's attack (tests/operator_attack.py) on copies of the data
directory taken mid-round and after the result, with the server's secret key: nobody is linked.

Committee devices and tablets encrypt with clients/ballots.py from the state their own socket keeps.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from clients.ballots import CommitteeMember, encrypt_vote
from clients.sdk import ClientError
from meeting import verifiable, votes
from meeting.rules import BallotMode
from tests.e2e import ROOT, ServerProcess, http
from tests.operator_attack import attack, baseline
from tests.services import PostgresServer
from tests.test_e2e_voting import COMMITTEE, ITEM, OPTIONS, Chamber, N, did

pytestmark = pytest.mark.asyncio
ROUND = "kin-kiem-chung"


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    url = None
    if request.param == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        url = pg.create_database(f"verifiable_{uuid.uuid4().hex[:12]}")
    with ServerProcess(url) as srv:
        yield srv


def copy_of(srv: ServerProcess, dest: Path) -> Path:
    shutil.copytree(srv.data_dir, dest, ignore_dangling_symlinks=True, dirs_exist_ok=True)
    return dest


def verify_round(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "verify-round", str(path)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


async def test_committee_ceremony_fifty_encrypted_ballots_four_of_seven_decrypt(
    server: ServerProcess, tmp_path: Path
) -> None:
    ch = await Chamber.convene(server, max_backoff=0.3)
    try:
        await asyncio.wait_for(run_round(ch, server, tmp_path), 240)
        await asyncio.wait_for(ch.assert_consistent(), 120)
    finally:
        await ch.close()


async def run_round(ch: Chamber, srv: ServerProcess, tmp_path: Path) -> None:
    # 1. The key ceremony: each member's tablet computes its messages from the state its own socket keeps.
    started = await ch.chair.send(verifiable.StartCeremony(ceremony_id="bkp-1", members=COMMITTEE))
    await ch.settle(started.seqs[-1])
    members = {m: ch.tablets[m] for m in COMMITTEE}
    devices = {m: CommitteeMember(t.state, "bkp-1", m) for m, t in members.items()}  # type: ignore[arg-type]
    last = 0
    for step in ("publish", "deal", "complain"):
        sent = []
        for m, dev in devices.items():
            state = members[m].state
            assert state is not None
            cmd = dev.publish() if step == "publish" else dev.deal(state) if step == "deal" else dev.complain(state)
            sent.append(members[m].send(cmd))
        last = max(r.seqs[-1] for r in await asyncio.gather(*sent))
        await ch.settle(last)
    fingerprints = {dev.finish(members[m].state) for m, dev in devices.items()}  # type: ignore[arg-type]
    assert len(fingerprints) == 1
    assert ch.chair.state is not None
    keys = ch.chair.state.ceremonies.by_id["bkp-1"].keys
    assert keys is not None and keys.threshold == 4 and keys.fingerprint in fingerprints

    # 2. The round, and a ballot whose proof was taken from another ballot: refused, nothing changes.
    opened = await ch.chair.send(
        votes.OpenVote(
            round_id=ROUND,
            item_id=ITEM,
            motion="Bỏ phiếu kín có thể kiểm chứng",
            secret=True,
            mode=BallotMode.VERIFIABLE,
            ceremony_id="bkp-1",
        )
    )
    await ch.settle(opened.seqs[-1])
    pick = random.Random(13)
    choices = {i: pick.choice(OPTIONS) for i in range(1, N + 1)}
    casts = {i: encrypt_vote(ch.tablet(i).state, ROUND, did(i), choices[i]) for i in range(1, N + 1)}  # type: ignore[arg-type]
    other = encrypt_vote(ch.tablet(2).state, ROUND, did(2), "no")  # type: ignore[arg-type]
    bad = msgspec.structs.replace(casts[2], ballot=json.loads(json.dumps(casts[2].ballot)))
    bad.ballot["answers"][0]["sum_proof"] = other.ballot["answers"][0]["sum_proof"]
    r = await ch.tablet(2).request(bad)
    assert not r.ok and r.error is not None and r.error.code == "ballot_proof_invalid", r
    assert r.error.message_vi and "ballot_sum_proof" in r.error.message_en

    # 3. Fifty delegates cast at once; a copy of the data directory is taken mid-round.
    first = await asyncio.gather(*(ch.tablet(i).send(casts[i]) for i in range(1, N // 2 + 1)))
    mid = copy_of(srv, tmp_path / "mid-round") if srv.database_url is None else None
    rest = await asyncio.gather(*(ch.tablet(i).send(casts[i]) for i in range(N // 2 + 1, N + 1)))
    assert all(a.ok for a in [*first, *rest])
    order = [did(i) for i in range(1, N + 1)]

    # 4. Closed: no count exists; the board is not public yet.
    closed = await ch.chair.send(votes.CloseRound(round_id=ROUND))
    await ch.settle(closed.seqs[-1])
    status, body = http("GET", f"{srv.http}/api/sessions/{ch.chair.session_id}/rounds/{ROUND}/board")
    assert status == 409 and body["code"] == "board_not_published", body

    # 5. Three members decrypt: nothing is announced. A bad partial is refused naming its member.
    async def partial(m: str) -> int:
        state = members[m].state
        assert state is not None
        return (await members[m].send(devices[m].decrypt(state, ROUND))).seqs[-1]

    for m in COMMITTEE[:3]:
        await partial(m)
    assert ch.chair.state.votes.rounds[ROUND].result is None
    wrong = devices[COMMITTEE[3]].decrypt(members[COMMITTEE[3]].state, ROUND)  # type: ignore[arg-type]
    wrong.partial["shares"][0][1]["share"] = wrong.partial["shares"][0][0]["share"]
    with pytest.raises(ClientError) as err:
        await members[COMMITTEE[3]].send(wrong)
    assert err.value.code == "partial_invalid" and COMMITTEE[3] in err.value.message_en
    seq = await partial(COMMITTEE[4])
    await ch.settle(seq)

    # 6. The result is the choices; it names the members who decrypted.
    rnd = ch.chair.state.votes.rounds[ROUND]
    assert rnd.result is not None
    assert {o.key: o.count for o in rnd.result.options} == {o: Counter(choices.values())[o] for o in OPTIONS}
    assert rnd.certified_by == [*COMMITTEE[:3], COMMITTEE[4]]
    assert rnd.result.voted == sorted(order)

    # 7. The board: every tablet's tracker is on it, and `kyhop verify-round` checks it offline.
    status, board = http("GET", f"{srv.http}/api/sessions/{ch.chair.session_id}/rounds/{ROUND}/board")
    assert status == 200, board
    trackers = {b["tracker"] for b in board["ballots"]}
    assert {c.ballot["tracker"] for c in casts.values()} == trackers and len(board["ballots"]) == N
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board))
    done = verify_round(path)
    assert done.returncode == 0, done.stdout + done.stderr
    board["result"]["counts"][0][0] += 1
    path.write_text(json.dumps(board))
    done = verify_round(path)
    assert done.returncode == 1 and "result" in done.stdout, done.stdout

    # 8. The operator: every byte of the data directory and the server's key, mid-round and after the result.
    if mid is not None:
        result = {o: n for o, n in Counter(choices.values()).items() if n}
        assert baseline(order, result) == {}
        for copy in (mid, copy_of(srv, tmp_path / "after-result")):
            f = attack(
                copy,
                stream=f"session:{ch.chair.session_id}",
                round_key=f"vote:{ROUND}",
                order=order,
                result=result,
                # By label: the keys "yes"/"no" occur by chance in any hash or password digest in the files.
                options={o.key: [o.label] for o in rnd.options},
                key=srv.secret,
            )
            assert f.versions == [] and f.links == {} and f.text_hits == [], (copy.name, f)
