"""The questioning record links back to the register (issue 14 "into the session"): `GET …/items/{item}/citations`
lists the sessions and questions that raised an item, for whoever may read the item. Through a real server on
SQLite and PostgreSQL, with the bad requests (unknown item, malformed id, another agency's, no token, another
council), none of which changes anything; and the scan itself over a whole demo session (questions called,
answered, with a commitment), for who sees which question."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec

from clients.sdk import sign_in
from meeting import questioning as qn
from meeting import script, session
from meeting.actors import Actor, Role
from meeting.petitions_model import CommitmentLink, ItemKind, Status, TrackedItem
from server.demo import DEMO_PASSWORD
from server.routes_petitions_citations import citations_in
from tests.e2e import ServerProcess, http
from tests.record_session import demo_events
from tests.services import PostgresServer

COUNCIL = script.COUNCIL_ID
TERM = script.TERM_ID  # the demo session's term
BASE = f"/api/councils/{COUNCIL}/petitions/{TERM}"
D2, D7 = script.delegate_id(2), script.delegate_id(7)  # daibieu02 (no group), daibieu07 (group to-1)


def scenario(srv: ServerProcess) -> None:
    tokens: dict[str, str] = {}

    def call(method: str, path: str, body: Any = None, who: str = "vanphong") -> tuple[int, Any]:
        if who and who not in tokens:
            tokens[who] = asyncio.run(sign_in(srv.http, who, DEMO_PASSWORD))
        return http(method, f"{srv.http}{path}", body, tokens[who] if who else None)

    n = 0

    def run(command: dict[str, Any], path: str = f"{BASE}/commands", who: str = "vanphong") -> None:
        nonlocal n
        n += 1
        status, body = call("POST", path, {"id": f"c{n}", "command": command}, who)
        assert status in (200, 201) and body.get("ok", True), (command, body)

    run({"type": "open_petitions", "council_id": COUNCIL, "term_id": TERM})
    for username, roles, person in (("thuongtruc", ["standing"], "tt01"), ("cb.yte", ["agency"], "cb-yte")):
        body = {"username": username, "password": DEMO_PASSWORD, "display_name": username, "roles": roles}
        status, out = call("POST", f"/api/councils/{COUNCIL}/accounts/", {**body, "person_id": person})
        assert status == 201, out
    run({"type": "appoint_official", "person_id": "cb-yte", "agency_id": "so-yt"})
    run({"type": "set_delegate_group", "group_id": "to-1", "name": "Tổ 1", "members": [D7]})
    run({
        "type": "record_voter_meeting", "meeting_id": "m1", "group_id": "to-1", "timing": "before",
        "session_id": script.SESSION_ID, "place": "Xã Tân Phú", "held_on": "2026-11-10",
        "delegates_present": [D7], "voters": 80,
    })  # fmt: skip
    for pid, text in (("kn-1", "Đường liên thôn xuống cấp"), ("kn-2", "Trạm y tế thiếu bác sĩ")):
        run({"type": "record_petition", "petition_id": pid, "meeting_id": "m1", "text": text, "area": "Thôn Đông"})
    run({"type": "classify_item", "item_id": "kn-2", "field_id": "y-te", "group": "no_resources"})
    run({"type": "assign_item", "item_id": "kn-2", "agency_id": "so-yt"})

    # Two delegates raise kn-1 in the session: registered, not yet on the floor.
    session_cmds = f"/api/sessions/{script.SESSION_ID}/commands"
    run({"type": "open_check_in"}, session_cmds)
    link = f"petitions:{COUNCIL}:{TERM}#kn-1"
    for qid, who, d in (("cv-a", "daibieu02", D2), ("cv-b", "daibieu07", D7)):
        run(
            {
                "type": "register_question", "question_id": qid, "delegate_id": d, "respondent_id": "ub-chu-tich",
                "topic": "Giao thông nông thôn", "text": "Bao giờ sửa đường liên thôn?", "link": link,
            },
            session_cmds,
            who,
        )  # fmt: skip

    path = f"{BASE}/items/kn-1/citations"
    status, out = call("GET", path)
    assert status == 200, out
    assert out["item_id"] == "kn-1" and out["links"] == [link] and out["sessions_scanned"] == 1
    assert [(c["question_id"], c["delegate_id"]) for c in out["citations"]] == [("cv-a", D2), ("cv-b", D7)]
    first = out["citations"][0]
    assert first["session_id"] == script.SESSION_ID and first["session_title"] == script.SESSION_TITLE
    assert first["delegate_name"] == script.delegate_name(2) and first["respondent_name"] == "Trương Quang Định"
    assert (first["status"], first["status_vi"], first["answer"], first["link"]) == (
        "registered", "đã đăng ký", None, link,
    )  # fmt: skip
    # A delegate of the meeting reads them too; the Standing Committee, outside the hall, not before the floor.
    status, mine = call("GET", path, who="daibieu07")
    assert status == 200 and len(mine["citations"]) == 2
    status, standing = call("GET", path, who="thuongtruc")
    assert status == 200 and standing["citations"] == [] and standing["sessions_scanned"] == 1
    # An item nobody raised.
    status, none = call("GET", f"{BASE}/items/kn-2/citations", who="cb.yte")
    assert status == 200 and none["citations"] == []

    # The bad requests: each answered clearly, none changing anything.
    before = call("GET", f"{BASE}/items")[1]
    for who, url, want, code in (
        ("vanphong", f"{BASE}/items/khong-co/citations", 404, "unknown_tracked_item"),
        ("vanphong", f"{BASE}/items/{'x' * 300}/citations", 404, "unknown_tracked_item"),
        ("vanphong", f"{BASE}/items/a%20b%3Cscript%3E/citations", 404, "unknown_tracked_item"),
        ("vanphong", f"/api/councils/{COUNCIL}/petitions/khong-co/items/kn-1/citations", 404, "unknown_petitions"),
        ("vanphong", f"/api/councils/{COUNCIL}/petitions/a%20b/items/kn-1/citations", 404, "unknown_petitions"),
        ("vanphong", "/api/councils/hdnd-khac/petitions/khoa-xi/items/kn-1/citations", 403, "wrong_council"),
        ("cb.yte", path, 404, "unknown_tracked_item"),  # another agency's item reads as one that does not exist
        ("daibieu02", path, 404, "unknown_tracked_item"),  # not of daibieu02's meetings (may_see)
        ("", path, 401, "unauthenticated"),
    ):
        status, body = call("GET", url, who=who)
        assert (status, body["code"]) == (want, code) and body["message_vi"] and body["message_en"], (who, url, body)
    status, body = call("POST", path, {})
    assert status == 405 and body["message_vi"]
    assert call("GET", f"{BASE}/items")[1] == before


def test_citations_through_the_api_on_sqlite() -> None:
    with ServerProcess() as srv:
        scenario(srv)


def test_citations_through_the_api_on_postgres(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("petitions_citations")
    with ServerProcess(url) as srv:
        scenario(srv)


def _demo_session() -> session.SessionState:
    state = None
    for e in demo_events():
        state = session.apply(state, e)
    assert isinstance(state, session.SessionState)
    return state


def _item(item_id: str, *, carried_from: str = "", link: CommitmentLink | None = None) -> TrackedItem:
    kind = ItemKind.COMMITMENT if link else ItemKind.PETITION
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return TrackedItem(
        id=item_id, kind=kind, text="x", status=Status.RECEIVED, created_at=now, carried_from=carried_from, link=link
    )


def test_the_scan_finds_the_questions_each_viewer_may_know_of() -> None:
    """Over the demo session's whole questioning (called, answered, a commitment): the linked questions in order,
    the commitment's own question as its origin, the earlier term's link for a carried item; those outside the
    hall see what was put on the floor, not a question only registered; another term's session is not read."""
    s = _demo_session()
    answered, registered = s.questioning.questions["cv-1"], s.questioning.questions["cv-2"]
    assert answered.status is qn.QuestionStatus.ANSWERED and answered.commitment is not None
    assert registered.status is qn.QuestionStatus.REGISTERED
    here = f"petitions:{COUNCIL}:{TERM}#kn-9"
    earlier = f"petitions:{COUNCIL}:khoa-x#kn-9"
    s.questioning.questions["cv-1"] = msgspec.structs.replace(answered, link=here)
    s.questioning.questions["cv-2"] = msgspec.structs.replace(registered, link=here)
    # A third, answered, that cited the item in the earlier term's register before it was carried over.
    s.questioning.questions["cv-0"] = msgspec.structs.replace(
        answered, id="cv-0", link=earlier, registered_at=answered.registered_at.replace(year=2025)
    )
    secretary = Actor(roles=frozenset({Role.SECRETARY}))
    standing = Actor(roles=frozenset({Role.STANDING}), person_id="tt01")

    scanned, found = citations_in([s], _item("kn-9"), [here], secretary)
    assert scanned == 1 and [c.question_id for c in found] == ["cv-1", "cv-2"]
    assert found[0].answer == answered.answer and found[0].status is qn.QuestionStatus.ANSWERED
    assert found[0].delegate_name == script.delegate_name(7) and found[0].respondent_position == "Giám đốc Sở Y tế"
    _, found = citations_in([s], _item("kn-9"), [here], standing)
    assert [c.question_id for c in found] == ["cv-1"]  # the registered one stayed in the hall
    # Carried over from khoa-x: the earlier term's link is looked for as well, oldest first.
    _, found = citations_in([s], _item("kn-9", carried_from=earlier), [here, earlier], secretary)
    assert [c.question_id for c in found] == ["cv-0", "cv-1", "cv-2"]
    # A session of another term is not read for this register's links.
    other = msgspec.structs.replace(s, term_id="khoa-xii")
    assert citations_in([other], _item("kn-9"), [here], secretary) == (0, [])
    # A commitment: the question whose answer made it is listed as its origin, with the commitment.
    link = CommitmentLink(session_id=s.hall.session_id, question_id="cv-1", respondent_id=answered.respondent_id)
    _, found = citations_in([s], _item("ck-1", link=link), [f"petitions:{COUNCIL}:{TERM}#ck-1"], standing)
    (origin,) = found
    assert origin.origin and origin.question_id == "cv-1" and origin.link == ""
    assert origin.commitment is not None and origin.commitment.text == answered.commitment.text
