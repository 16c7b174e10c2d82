"""The petitions register through a real server (uvicorn, SQLite and PostgreSQL), issue 14 §2: the secretariat
opens it, grants the new roles, records a meeting and its petitions, classifies and assigns; an agency official
reads their inbox and answers; the Standing Committee reads the dashboard; a delegate reads their own meetings'
petitions; the public reads numbers only. And every bad request gets its clear answer and changes nothing:
malformed, unauthenticated, wrong council, another agency's item, out of turn."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

from clients.sdk import sign_in
from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http
from tests.services import PostgresServer

COUNCIL = script.COUNCIL_ID
TERM = "2026-2031"
BASE = f"/api/councils/{COUNCIL}/petitions/{TERM}"
D7 = script.delegate_id(7)  # daibieu07, a member of the group below
D9 = script.delegate_id(9)  # daibieu09, in no group


class Client:
    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.tokens: dict[str, str] = {}
        self.n = 0

    def sign_in(self, *users: str) -> None:
        for u in users:
            self.tokens[u] = asyncio.run(sign_in(self.srv.http, u, DEMO_PASSWORD))

    def call(self, method: str, path: str, body: Any = None, who: str | None = "vanphong") -> tuple[int, Any]:
        return http(method, f"{self.srv.http}{path}", body, self.tokens[who] if who else None)

    def run(self, command: dict[str, Any], who: str = "vanphong") -> tuple[int, Any]:
        self.n += 1
        return self.call("POST", f"{BASE}/commands", {"id": f"c{self.n}", "command": command}, who)

    def ok(self, command: dict[str, Any], who: str = "vanphong") -> None:
        status, body = self.run(command, who)
        assert status == 201, (command, body)

    def account(self, username: str, roles: list[str], person_id: str | None) -> tuple[int, Any]:
        body = {"username": username, "password": DEMO_PASSWORD, "display_name": username, "roles": roles}
        if person_id is not None:
            body["person_id"] = person_id
        return self.call("POST", f"/api/councils/{COUNCIL}/accounts/", body)


def _ids(page: Any) -> list[str]:
    return [i["id"] for i in page["items"]]


def scenario(srv: ServerProcess) -> None:
    c = Client(srv)
    c.sign_in("vanphong", "daibieu07", "daibieu09")

    # Nothing before the register is opened.
    status, body = c.call("GET", f"{BASE}/items")
    assert (status, body["code"]) == (404, "unknown_petitions")
    status, body = c.run({"type": "record_petition", "petition_id": "p1", "meeting_id": "m1", "text": "x"})
    assert (status, body["code"]) == (404, "unknown_petitions")
    # The path names the register: opening another council's or term's through it is malformed.
    status, body = c.run({"type": "open_petitions", "council_id": COUNCIL, "term_id": "other"})
    assert (status, body["code"]) == (400, "malformed")
    c.ok({"type": "open_petitions", "council_id": COUNCIL, "term_id": TERM})
    status, body = c.run({"type": "open_petitions", "council_id": COUNCIL, "term_id": TERM})
    assert (status, body["code"]) == (409, "petitions_exist")

    # The secretariat grants the petitions roles; an agency account needs its person id.
    assert c.account("cb.yte", ["agency"], "cb-yte")[0] == 201
    assert c.account("cb.xd", ["agency"], "cb-xd")[0] == 201
    assert c.account("thuongtruc", ["standing"], "tt01")[0] == 201
    assert c.account("mttq", ["front"], None)[0] == 201
    status, body = c.account("cb.none", ["agency"], None)
    assert (status, body["code"]) == (422, "person_required")
    status, body = c.account("sneaky", ["admin"], None)
    assert (status, body["code"]) == (403, "forbidden")
    c.sign_in("cb.yte", "cb.xd", "thuongtruc", "mttq")

    c.ok({"type": "set_delegate_group", "group_id": "to-1", "name": "Tổ đại biểu số 1", "members": [D7]})
    c.ok({"type": "appoint_official", "person_id": "cb-yte", "agency_id": "so-yt"})
    c.ok({"type": "appoint_official", "person_id": "cb-xd", "agency_id": "so-xd"})
    meeting = {
        "type": "record_voter_meeting",
        "meeting_id": "m1",
        "group_id": "to-1",
        "timing": "before",
        "session_id": script.SESSION_ID,
        "place": "Phường Đông Hải",
        "held_on": "2027-01-04",
        "delegates_present": [D7],
        "voters": 120,
    }
    c.ok(meeting, who="daibieu07")
    # A delegate records only for their own group (the domain's check, answered through the route).
    status, body = c.run({**meeting, "meeting_id": "m2"}, who="daibieu09")
    assert (status, body["code"]) == (403, "not_in_group")
    c.ok(
        {
            "type": "record_petition",
            "petition_id": "p1",
            "meeting_id": "m1",
            "text": "Đề nghị nâng cấp trạm y tế phường, thiếu bác sĩ trực đêm.",
            "area": "Tổ dân phố 3",
            "petitioner": "Nguyễn Thị Hoa",
        },
        who="daibieu07",
    )
    c.ok(
        {
            "type": "record_petition",
            "petition_id": "p2",
            "meeting_id": "m1",
            "text": "Đường liên thôn xuống cấp, đề nghị sửa chữa.",
        }
    )
    # Out of turn: an unclassified petition cannot be assigned, nor answered before it is assigned.
    status, body = c.run({"type": "assign_item", "item_id": "p1", "agency_id": "so-yt"})
    assert (status, body["code"]) == (409, "wrong_item_state")
    c.ok({"type": "classify_item", "item_id": "p1", "field_id": "y-te", "group": "no_resources"})
    c.ok({"type": "classify_item", "item_id": "p2", "field_id": "giao-thong", "group": "needs_resources"})
    c.ok({"type": "assign_item", "item_id": "p1", "agency_id": "so-yt"})
    c.ok({"type": "assign_item", "item_id": "p2", "agency_id": "so-xd"})

    # The agency's inbox: its own item only, without the voter's name.
    status, inbox = c.call("GET", f"{BASE}/inbox", who="cb.yte")
    assert status == 200 and _ids(inbox) == ["p1"] and inbox["total"] == 1
    assert [s["petitioner"] for s in inbox["items"][0]["sources"]] == [""]
    status, listed = c.call("GET", f"{BASE}/items", who="cb.yte")
    assert status == 200 and _ids(listed) == ["p1"]
    # Another agency's item: unknown to it, for reading and for answering alike.
    status, body = c.call("GET", f"{BASE}/items/p2", who="cb.yte")
    assert (status, body["code"]) == (404, "unknown_tracked_item")
    status, body = c.run({"type": "answer_item", "item_id": "p2", "text": "Đã sửa."}, who="cb.yte")
    assert (status, body["code"]) == (404, "unknown_tracked_item")
    c.ok({"type": "answer_item", "item_id": "p1", "text": "Sở Y tế bố trí bác sĩ trực từ tháng 3."}, who="cb.yte")
    # An official may not classify or assign, and a delegate has no inbox.
    status, body = c.run({"type": "assign_item", "item_id": "p1", "agency_id": "so-xd", "note": "x"}, who="cb.yte")
    assert (status, body["code"]) == (403, "forbidden")
    assert c.call("GET", f"{BASE}/inbox", who="daibieu07")[0] == 403
    assert c.call("GET", f"{BASE}/inbox", who="vanphong")[0] == 403  # not an appointed official

    # One item with its history, for the office.
    status, item = c.call("GET", f"{BASE}/items/p1")
    assert status == 200 and item["status"] == "answered"
    assert [h["status"] for h in item["history"]] == ["received", "classified", "assigned", "answered"]
    assert item["sources"][0]["petitioner"] == "Nguyễn Thị Hoa"
    assert item["answers"][0]["agency_id"] == "so-yt"

    # Filters and a diacritics-blind text query.
    status, page = c.call("GET", f"{BASE}/items?field=giao-thong")
    assert status == 200 and _ids(page) == ["p2"]
    status, page = c.call("GET", f"{BASE}/items?status=answered&agency=so-yt")
    assert status == 200 and _ids(page) == ["p1"]
    status, page = c.call("GET", f"{BASE}/items?q=" + urllib.parse.quote("duong lien thon"))
    assert status == 200 and _ids(page) == ["p2"]
    status, page = c.call("GET", f"{BASE}/items?q=" + urllib.parse.quote("bác sĩ"))
    assert status == 200 and _ids(page) == ["p1"]
    status, page = c.call("GET", f"{BASE}/items?group=needs_resources&overdue=true")
    assert status == 200 and page["total"] == 0
    status, page = c.call("GET", f"{BASE}/items?limit=1&offset=1")
    assert status == 200 and page["total"] == 2 and _ids(page) == ["p2"]

    # The delegate's own meetings' petitions, with the answer to report back; another delegate sees none.
    status, mine = c.call("GET", f"{BASE}/mine", who="daibieu07")
    assert status == 200 and _ids(mine) == ["p1", "p2"]
    assert mine["items"][0]["answers"][0]["text"].startswith("Sở Y tế")
    status, mine = c.call("GET", f"{BASE}/mine", who="daibieu09")
    assert status == 200 and mine["total"] == 0
    status, body = c.call("GET", f"{BASE}/items/p1", who="daibieu09")
    assert (status, body["code"]) == (404, "unknown_tracked_item")
    assert c.call("GET", f"{BASE}/mine", who="cb.yte")[0] == 403

    # The dashboard for the Standing Committee and the Front, not for delegates or agencies.
    status, dash = c.call("GET", f"{BASE}/dashboard", who="thuongtruc")
    assert status == 200 and dash["total"] == 2 and dash["overdue"] == 0
    assert dash["by_field"] == {"y-te": {"answered": 1}, "giao-thong": {"assigned": 1}}
    assert dash["by_agency"] == {"so-yt": {"answered": 1}, "so-xd": {"assigned": 1}}
    assert c.call("GET", f"{BASE}/dashboard", who="mttq")[0] == 200
    assert c.call("GET", f"{BASE}/dashboard", who="daibieu07")[0] == 403
    assert c.call("GET", f"{BASE}/dashboard", who="cb.yte")[0] == 403

    # The public: numbers by field and agency, nothing about any voter or any petition's text.
    status, pub = c.call("GET", f"{BASE}/summary", who=None)
    assert status == 200 and pub["total"] == 2
    assert pub["by_agency"] == {"so-yt": {"answered": 1}, "so-xd": {"assigned": 1}}
    raw = str(pub)
    assert "Nguyễn Thị Hoa" not in raw and "trạm y tế" not in raw and "Tổ dân phố" not in raw
    assert c.call("GET", f"{BASE}/items", who=None)[0] == 401

    # Malformed requests: a body that is not a command, an unknown tag, a bad query value, a bad command id.
    for body in ({"id": "x"}, {"id": "x", "command": {"type": "nope"}}, {"id": "", "command": {"type": "x"}}):
        status, answer = c.call("POST", f"{BASE}/commands", body)
        assert (status, answer["code"]) == (400, "malformed"), body
    no_id = {"id": "", "command": {"type": "mark_overdue", "item_id": "p1"}}
    status, answer = c.call("POST", f"{BASE}/commands", no_id)
    assert (status, answer["code"]) == (400, "malformed")
    for query in ("status=nope", "limit=0", "limit=100000", "offset=-1", "kind=x", "q=" + "a" * 300):
        status, answer = c.call("GET", f"{BASE}/items?{query}")
        assert status == 400 and answer["code"] == "malformed", (query, answer)
    status, answer = c.run({"type": "record_petition", "petition_id": "p3", "meeting_id": "m1", "text": " "})
    assert (status, answer["code"]) == (422, "invalid")
    # Another council's register, an unknown term.
    status, answer = c.call("GET", "/api/councils/other/petitions/2026-2031/items")
    assert (status, answer["code"]) == (403, "wrong_council")
    status, answer = c.call("GET", f"/api/councils/{COUNCIL}/petitions/nope/dashboard")
    assert (status, answer["code"]) == (404, "unknown_petitions")
    status, answer = c.call("GET", f"/api/councils/{COUNCIL}/petitions/nope/summary", who=None)
    assert (status, answer["code"]) == (404, "unknown_petitions")

    # None of the refusals changed anything.
    status, after = c.call("GET", f"{BASE}/items")
    assert status == 200 and _ids(after) == ["p1", "p2"]
    assert c.call("GET", f"{BASE}/dashboard")[1] == dash


def test_petitions_through_the_api_on_sqlite() -> None:
    with ServerProcess() as srv:
        scenario(srv)


def test_petitions_through_the_api_on_postgres(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("petitions_api")
    with ServerProcess(url) as srv:
        scenario(srv)
