"""A removal through a real server: the council's `vacate_seat` takes the result its session recorded, and the
vacancy reaches every session of the council not yet closed (server/routes.py), over REST as the secretariat
would do it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from clients.sdk import sign_in
from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http

CID = script.COUNCIL_ID
SID = script.SESSION_ID
SUBJECT = "db050"
PRESENT = 35  # db001..db035: above the 34 of 50 a vote needs


@pytest.fixture
def srv() -> Iterator[ServerProcess]:
    with ServerProcess() as s:
        yield s


def _command(srv: ServerProcess, path: str, token: str, command: dict[str, Any]) -> tuple[int, Any]:
    return http("POST", f"{srv.http}{path}/commands", {"id": uuid.uuid4().hex, "command": command}, token)


async def test_a_removal_vacates_the_seat_in_every_open_session(srv: ServerProcess) -> None:
    users = {"vanphong": "vanphong", **{script.delegate_id(i): f"daibieu{i:02d}" for i in range(2, PRESENT + 1)}}
    users[script.delegate_id(1)] = "chutoa"
    users[SUBJECT] = "daibieu50"
    signed = await asyncio.gather(*(sign_in(srv.http, u, DEMO_PASSWORD) for u in users.values()))
    tokens = dict(zip(users, signed, strict=True))
    sec, chair = tokens["vanphong"], tokens[script.delegate_id(1)]
    session, council = f"/api/sessions/{SID}", f"/api/councils/{CID}"

    def ok(status_body: tuple[int, Any]) -> Any:
        status, body = status_body
        assert status in (200, 201), body
        return body

    def refused(status_body: tuple[int, Any], code: str) -> None:
        status, body = status_body
        assert 400 <= status < 500 and body["code"] == code, (status, body)

    def run() -> None:
        # A second session of the council, only prepared: it must learn the vacancy too.
        ok(
            http(
                "POST",
                f"{srv.http}{council}/sessions",
                {"session_id": "ky-hop-5", "title": "Kỳ họp thứ Năm", "opens_on": "2027-07-01"},
                sec,
            )
        )
        ok(_command(srv, session, sec, {"type": "open_check_in"}))
        for i in range(1, PRESENT + 1):
            ok(_command(srv, session, sec, {"type": "check_in", "delegate_id": script.delegate_id(i)}))
        ok(_command(srv, session, chair, {"type": "open_session"}))
        ok(_command(srv, session, chair, {"type": "move_to_item", "item_id": "nq-ngan-sach"}))
        motion = "Bãi nhiệm đại biểu Hội đồng nhân dân tỉnh đối với ông/bà db050"
        opening = {"type": "vote_open", "round_id": "bn-1", "item_id": "nq-ngan-sach", "motion": motion}
        # A removal by a simple majority is refused: the law asks for two thirds of all delegates.
        refused(
            _command(
                srv,
                session,
                chair,
                {**opening, "kind": "removal", "subject_id": SUBJECT, "pass_rule": "majority_of_all"},
            ),
            "rule_not_allowed",
        )
        ok(_command(srv, session, chair, {**opening, "kind": "removal", "subject_id": SUBJECT}))
        for i in range(1, 35):  # 34 of 50: exactly two thirds
            d = script.delegate_id(i)
            ok(
                _command(
                    srv,
                    session,
                    tokens[d],
                    {"type": "vote_cast_ballot", "round_id": "bn-1", "delegate_id": d, "option": "yes"},
                )
            )
        ok(_command(srv, session, chair, {"type": "vote_close_round", "round_id": "bn-1"}))

        vacate = {"type": "vacate_seat", "reason": "Không còn xứng đáng", "grounds": "removal", "session_id": SID}
        # Not the delegate the round was about, a round that does not exist, or no round at all: refused.
        refused(
            _command(srv, council, sec, {**vacate, "delegate_id": "db049", "round_id": "bn-1"}), "vacancy_unfounded"
        )
        refused(
            _command(srv, council, sec, {**vacate, "delegate_id": SUBJECT, "round_id": "khong-co"}), "unknown_round"
        )
        refused(
            _command(
                srv, council, sec, {"type": "vacate_seat", "reason": "R", "grounds": "removal", "delegate_id": SUBJECT}
            ),
            "vacancy_unfounded",
        )
        ok(_command(srv, council, sec, {**vacate, "delegate_id": SUBJECT, "round_id": "bn-1"}))

    await asyncio.to_thread(run)

    state = ok(http("GET", f"{srv.http}{council}", None, sec))
    assert state["delegates"][SUBJECT]["seated"] is False
    for sid in (SID, "ky-hop-5"):
        view = ok(http("GET", f"{srv.http}/api/sessions/{sid}", None, sec))["state"]
        assert view["hall"]["delegates"][SUBJECT]["seated"] is False, sid
        feed = ok(http("GET", f"{srv.http}/api/sessions/{sid}/events?after=0&limit=5000"))["events"]
        (vacancy,) = [m["event"] for m in feed if m["event"]["type"] == "vacancy_recorded"]
        assert (vacancy["delegate_id"], vacancy["grounds"], vacancy["total"]) == (SUBJECT, "removal", 49), sid
        assert (vacancy["session_id"], vacancy["round_id"]) == (SID, "bn-1")
    # The removed delegate can no longer check in; the closed round keeps its base of 50.
    refused(_command(srv, session, tokens[SUBJECT], {"type": "check_in", "delegate_id": SUBJECT}), "seat_vacant")
    rounds = ok(http("GET", f"{srv.http}{session}", None, sec))["state"]["votes"]["rounds"]
    assert (rounds["bn-1"]["result"]["total_delegates"], rounds["bn-1"]["result"]["passed"]) == (50, True)
