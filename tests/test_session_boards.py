"""GET /api/sessions/{id}/boards (server/routes_board_index.py): one public list of a session's secret decisions and
how each was counted (issue 13 §1 "paper ballots … marked as such on the board", §2 "the board says which mode").

Against a real server (tests.e2e.ServerProcess) driven through real sockets by the Python client, as the chair,
the secretariat, ten delegates and the 7-member counting committee do: one verifiable round (the committee's key
ceremony on clients.ballots.CommitteeMember devices, ballots from encrypt_vote, 4 of 7 decrypt), one sealed secret
round, one secret round on paper (the secretariat enters the committee's figures), a confidence poll on paper and
one named round. Every mode
is passed explicitly: the council's default (`Rules.secret_mode`) is not what is tested here.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from clients.ballots import CommitteeMember, encrypt_vote
from clients.sdk import SessionClient
from meeting import polls, script, verifiable, votes
from meeting import session as sess
from meeting.rules import BallotMode
from server.demo import DEMO_PASSWORD
from server.routes_board_index import CountMode, mode_text
from tests.e2e import ServerProcess
from tests.test_bad_input import error_body
from tests.test_web_tablet import _client, _in_session

SESSION = script.SESSION_ID
ITEM = "nq-ngan-sach"
COMMITTEE = [script.delegate_id(i) for i in range(44, 51)]  # 7 members: the province's minimum
CERTIFIERS = COMMITTEE[:4]  # more than half of 7, and the ceremony's threshold
VOTERS = list(range(41, 51))
VERIFIABLE, SEALED, PAPER, NAMED = "kin-kiem-chung", "kin-niem-phong", "kin-phieu-giay", "cong-khai"
PAPER_COUNTS = {"yes": 31, "no": 6, "abstain": 3}
POLL = "tin-nhiem-phieu-giay"
POLL_COUNTS = {"high": 20, "trust": 12, "low": 6, "invalid": 2}
OPTIONS = ("yes", "no", "abstain")


@dataclass
class Session:
    srv: ServerProcess
    choices: dict[str, dict[int, str]]  # round -> voter -> option
    # The list as it was while each round was still short of a published result (GET .../boards).
    before: dict[str, list[str]] = field(default_factory=dict)
    fingerprint: str = ""

    def boards(self, session: str = SESSION, **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.srv.http}/api/sessions/{session}/boards", timeout=60, **kw)

    def listed(self) -> list[str]:
        r = self.boards()
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["decisions"]]


async def _run(srv: ServerProcess) -> Session:
    out = Session(srv, {})
    secretary, chair = await _in_session(srv, list(range(1, 35)))
    clients: dict[int, SessionClient] = {i: await _client(srv, f"daibieu{i:02d}") for i in VOTERS}
    everyone = [secretary, chair, *clients.values()]
    member = {m: clients[int(m[2:])] for m in COMMITTEE}

    async def settle(seq: int) -> None:
        await asyncio.gather(*(c.wait_seq(seq, 30) for c in everyone))

    async def certify(round_id: str) -> None:
        last = 0
        for m in CERTIFIERS:
            last = (await member[m].send(votes.CertifyRound(round_id=round_id))).seqs[-1]
        await settle(last)

    async def cast(round_id: str, pick: int) -> None:
        out.choices[round_id] = {i: OPTIONS[(i * pick) % 3] for i in VOTERS}
        for i, c in clients.items():
            await c.send(
                votes.CastBallot(round_id=round_id, delegate_id=script.delegate_id(i), option=out.choices[round_id][i])
            )

    try:
        for i, c in clients.items():
            await c.send(sess.CheckIn(delegate_id=script.delegate_id(i)))
        out.before["start"] = out.listed()

        # 1. Verifiable: the ceremony on the members' devices, encrypted ballots, 4 of 7 decrypt.
        started = await chair.send(verifiable.StartCeremony(ceremony_id="bkp-list", members=COMMITTEE))
        await settle(started.seqs[-1])
        devices = {m: CommitteeMember(member[m].state, "bkp-list", m) for m in COMMITTEE}  # type: ignore[arg-type]
        for step in ("publish", "deal", "complain"):
            sent = []
            for m, dev in devices.items():
                state = member[m].state
                assert state is not None
                cmd = dev.publish() if step == "publish" else dev.deal(state) if step == "deal" else dev.complain(state)
                sent.append(await member[m].send(cmd))
            await settle(max(r.seqs[-1] for r in sent))
        fingerprints = {dev.finish(member[m].state) for m, dev in devices.items()}  # type: ignore[arg-type]
        assert len(fingerprints) == 1  # every device holds the same transcript
        out.fingerprint = fingerprints.pop()
        opened = await chair.send(
            votes.OpenVote(
                round_id=VERIFIABLE,
                item_id=ITEM,
                motion="Thông qua dự toán ngân sách (bỏ phiếu kín có thể kiểm chứng)",
                secret=True,
                mode=BallotMode.VERIFIABLE,
                ceremony_id="bkp-list",
            )
        )
        await settle(opened.seqs[-1])
        out.choices[VERIFIABLE] = {i: OPTIONS[(i * 5) % 3] for i in VOTERS}
        for i, c in clients.items():
            await c.send(encrypt_vote(c.state, VERIFIABLE, script.delegate_id(i), out.choices[VERIFIABLE][i]))  # type: ignore[arg-type]
        closed = await chair.send(votes.CloseRound(round_id=VERIFIABLE, confirm_few_ballots=True))
        await settle(closed.seqs[-1])
        out.before[VERIFIABLE] = out.listed()  # balloting over, nothing decrypted yet
        last = 0
        for m in CERTIFIERS:
            state = member[m].state
            assert state is not None
            last = (await member[m].send(devices[m].decrypt(state, VERIFIABLE))).seqs[-1]
        await settle(last)

        # 2. Sealed on the server, certified by the committee.
        common = {"item_id": ITEM, "secret": True, "committee": COMMITTEE}
        await chair.send(
            votes.OpenVote(round_id=SEALED, motion="Bầu Phó Chủ tịch (niêm phong)", mode=BallotMode.SEALED, **common)
        )  # type: ignore[arg-type]
        await cast(SEALED, 2)
        closed = await chair.send(votes.CloseRound(round_id=SEALED, confirm_few_ballots=True))
        await settle(closed.seqs[0])  # `RoundBallotsClosed`, for everyone; the count after it is the committee's
        out.before[SEALED] = out.listed()  # counted, not yet certified
        await certify(SEALED)

        # 3. On paper: the secretariat enters the committee's figures; the committee certifies them.
        await chair.send(
            votes.OpenVote(
                round_id=PAPER, motion="Miễn nhiệm Ủy viên (phiếu giấy)", paper=True, mode=BallotMode.SEALED, **common
            )
        )  # type: ignore[arg-type]
        entered = await secretary.send(
            votes.EnterPaperResult(round_id=PAPER, counts=PAPER_COUNTS, ballots_collected=sum(PAPER_COUNTS.values()))
        )
        await settle(entered.seqs[0])
        out.before[PAPER] = out.listed()
        await certify(PAPER)

        # 4. A confidence poll on paper: the secretariat enters the committee's figures, the committee certifies.
        officials = [polls.Official(id=r.id, name=r.name, position=r.position) for r in script.RESPONDENTS[:2]]
        await secretary.send(
            polls.CreatePoll(poll_id=POLL, item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials)
        )
        await chair.send(polls.AppointCommittee(poll_id=POLL, members=COMMITTEE))
        await secretary.send(
            polls.EnterPaperPollResult(
                poll_id=POLL, ballots_collected=40, counts={o.id: POLL_COUNTS for o in officials}
            )
        )
        out.before[POLL] = out.listed()
        last = 0
        for m in CERTIFIERS:
            last = (await member[m].send(polls.CertifyPoll(poll_id=POLL))).seqs[-1]
        await settle(last)

        # 5. A named round: its roll call is in the record, not on this list.
        await chair.send(votes.OpenVote(round_id=NAMED, item_id=ITEM, motion="Thông qua chương trình (công khai)"))
        await cast(NAMED, 1)
        closed = await chair.send(votes.CloseRound(round_id=NAMED))
        await settle(closed.seqs[-1])
        return out
    finally:
        await asyncio.gather(*(c.close() for c in everyone), return_exceptions=True)


def session_fixture() -> Iterator[Session]:
    with ServerProcess() as srv:
        yield asyncio.run(asyncio.wait_for(_run(srv), 300))


held = pytest.fixture(scope="module", name="held")(session_fixture)


def _names() -> dict[str, str]:
    return {script.delegate_id(i): script.delegate_name(i) for i in range(1, 51)}


def test_the_list_has_the_three_secret_rounds_with_their_modes_counts_and_certifiers(held: Session) -> None:
    r = held.boards()
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["session_id"] == SESSION and body["title"]
    decisions = body["decisions"]
    assert [(d["kind"], d["id"], d["mode"]) for d in decisions] == [
        ("vote", VERIFIABLE, "verifiable"),
        ("vote", SEALED, "sealed"),
        ("vote", PAPER, "paper"),
        ("poll", POLL, "paper"),
    ]
    names = _names()
    poll = decisions.pop()
    assert poll["item_id"] == "tin-nhiem" and poll["opened_at"] is None and poll["closed_at"]  # never opened
    assert poll["ballots"] == 40 and poll["ballots_entered"] is True and poll["options"] == []
    assert [p["id"] for p in poll["certified_by"]] == CERTIFIERS
    assert [o["official_id"] for o in poll["officials"]] == [r.id for r in script.RESPONDENTS[:2]]
    for o in poll["officials"]:
        assert {**o["counts"], "invalid": o["invalid"]} == POLL_COUNTS
    assert poll["title"].endswith(", ".join(r.name for r in script.RESPONDENTS[:2]))
    assert poll["entered_by"]["name"] == "Văn phòng HĐND tỉnh" and poll["board"] is None
    for d in decisions:
        assert d["item_id"] == ITEM and d["item_title"], d
        assert d["opened_at"] and d["closed_at"], d
        assert [p["id"] for p in d["certified_by"]] == CERTIFIERS, d
        assert [p["name"] for p in d["certified_by"]] == [names[m] for m in CERTIFIERS]
        counts = {o["key"]: o["count"] for o in d["options"]}
        if d["mode"] == "paper":
            assert counts == PAPER_COUNTS and d["ballots"] == 40 and d["ballots_entered"] is True
        else:
            assert counts == {o: Counter(held.choices[d["id"]].values())[o] for o in OPTIONS}, d["id"]
            assert d["ballots"] == len(VOTERS) and d["ballots_entered"] is False
    v, s, p = decisions
    assert v["board"]["ceremony_id"] == "bkp-list" and v["board"]["fingerprint"] == held.fingerprint
    assert v["board"]["path"] == f"/api/sessions/{SESSION}/rounds/{VERIFIABLE}/board"
    assert v["entered_by"] is None and s["board"] is None and s["entered_by"] is None and p["board"] is None
    # Who typed the paper count in: the secretariat's account, as its audit row names it.
    me = httpx.post(f"{held.srv.http}/api/auth/login", json={"username": "vanphong", "password": DEMO_PASSWORD})
    assert p["entered_by"] == {
        "account_id": me.json()["account"]["id"],
        "name": "Văn phòng HĐND tỉnh",
        "roles": ["secretary"],
    }
    # The sentences the page shows, Vietnamese and English.
    assert "phong bì của Ban kiểm phiếu" in p["mode_vi"] and "sealed envelope" in p["mode_en"]
    assert "Không kiểm chứng độc lập được" in s["mode_vi"] and "cannot be verified independently" in s["mode_en"]
    assert "ai cũng tự kiểm tra được" in v["mode_vi"]


def test_the_verifiable_digest_is_the_per_round_routes(held: Session) -> None:
    v = held.boards().json()["decisions"][0]
    board = httpx.get(held.srv.http + v["board"]["path"], timeout=60)
    assert board.status_code == 200
    assert v["board"]["sha256"] == board.headers["x-content-sha256"] == hashlib.sha256(board.content).hexdigest()


def test_a_round_is_absent_until_its_result_is_published(held: Session) -> None:
    assert held.before["start"] == []
    assert held.before[VERIFIABLE] == []  # closed, not decrypted
    assert held.before[SEALED] == [VERIFIABLE]  # counted, not certified
    assert held.before[PAPER] == [VERIFIABLE, SEALED]  # entered, not certified
    assert held.before[POLL] == [VERIFIABLE, SEALED, PAPER]  # entered, not certified


def test_bad_input(held: Session) -> None:
    error_body(held.boards("khong-co-ky-hop-nay"), {404}, "unknown_session")
    error_body(held.boards("k" * 5000), {404}, "unknown_session")
    error_body(httpx.get(f"{held.srv.http}/api/sessions/ky%01hop/boards"), {400}, "malformed")
    # Public: no token is read, so a garbage or foreign one changes nothing.
    plain = held.boards().json()
    assert held.boards(headers={b"authorization": "Bearer không-phải-token".encode()}).json() == plain
    assert held.boards(params={"x": "y" * 2000}).json() == plain
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = httpx.request(method, f"{held.srv.http}/api/sessions/{SESSION}/boards", json={"decisions": []})
        body = error_body(r, {405})
        assert body["message_vi"] != body["message_en"]
    assert held.boards().json() == plain


def test_a_sealed_round_nobody_certified_does_not_say_a_committee_did() -> None:
    vi, en = mode_text(CountMode.SEALED, certified=False)
    assert "không có Ban kiểm phiếu xác nhận" in vi and "no counting committee certified" in en
    assert "Ban kiểm phiếu xác nhận kết quả" in mode_text(CountMode.SEALED, certified=True)[0]
    assert mode_text(CountMode.PAPER, certified=False) == mode_text(CountMode.PAPER, certified=True)
