"""Carrying what is still open at the end of a term into the next term's register (issue 14 §2): each open
petition, commitment and conclusion is received again under its id with its text, area, field and group and a
link back; resolved, not-resolved-for-good and merged items stay behind; running it again carries nothing twice.
Through a real server (SQLite), with the bad requests."""

from __future__ import annotations

from typing import Any

import httpx

from meeting import script
from server.demo import DEMO_PASSWORD
from tests.e2e import ServerProcess, http

COUNCIL = script.COUNCIL_ID
OLD, NEW = "khoa-x", "khoa-xi-moi"


def test_open_items_are_carried_to_the_next_term_once() -> None:
    with ServerProcess() as srv:
        tokens: dict[str, str] = {}

        def call(method: str, path: str, body: Any = None, who: str = "vanphong") -> tuple[int, Any]:
            if who and who not in tokens:
                r = httpx.post(
                    f"{srv.http}/api/auth/login", json={"username": who, "password": DEMO_PASSWORD}, timeout=60
                )
                tokens[who] = r.json()["token"]
            return http(method, f"{srv.http}{path}", body, tokens[who] if who else None)

        n = 0

        def run(term: str, command: dict[str, Any]) -> None:
            nonlocal n
            n += 1
            status, body = call(
                "POST", f"/api/councils/{COUNCIL}/petitions/{term}/commands", {"id": f"c{n}", "command": command}
            )
            assert status == 201, (command, body)

        for term in (OLD, NEW):
            run(term, {"type": "open_petitions", "council_id": COUNCIL, "term_id": term})
        run(OLD, {"type": "set_delegate_group", "group_id": "to-1", "name": "Tổ 1", "members": []})
        run(OLD, {
            "type": "record_voter_meeting", "meeting_id": "m1", "group_id": "to-1", "timing": "themed",
            "place": "Xã Tân Phú", "held_on": "2026-01-10", "delegates_present": [], "voters": 80,
        })  # fmt: skip
        texts = {
            "kn-1": "Đường liên thôn xuống cấp",  # assigned, still open: carried (classified)
            "kn-2": "Trạm y tế thiếu bác sĩ",  # resolved: stays
            "kn-3": "Thiếu nước sạch",  # received only: carried (received)
            "kn-4": "Thiếu nước sạch sinh hoạt",  # merged into kn-3: stays
        }
        for pid, text in texts.items():
            record = {"type": "record_petition", "petition_id": pid, "meeting_id": "m1", "text": text}
            run(OLD, {**record, "area": "Thôn Đông", "petitioner": "Nguyễn Văn Hùng"})
        for pid in ("kn-1", "kn-2"):
            run(OLD, {"type": "classify_item", "item_id": pid, "field_id": "giao-thong", "group": "needs_resources"})
            run(OLD, {"type": "assign_item", "item_id": pid, "agency_id": "so-xd"})
        run(OLD, {"type": "conclude_item", "item_id": "kn-2", "outcome": "resolved", "note": "Đã xong."})
        run(OLD, {"type": "merge_petitions", "item_id": "kn-3", "duplicate_id": "kn-4"})

        path = f"/api/councils/{COUNCIL}/petitions/{NEW}/carry-over/"
        # The page's confirm step first: what would be carried, nothing written.
        status, preview = call("GET", f"{path}?from_term={OLD}")
        assert status == 200 and preview == {
            "from_term": OLD, "to_carry": 2, "already": 0, "left_behind": 2,
            "by_kind": {"petition": 2}, "by_status": {"assigned": 1, "received": 1},
        }, preview  # fmt: skip
        assert call("GET", f"/api/councils/{COUNCIL}/petitions/{NEW}/items")[1]["total"] == 0
        status, out = call("POST", path, {"from_term": OLD})
        assert status == 200 and out == {"carried": ["kn-1", "kn-3"], "refused": []}, out
        status, page = call("GET", f"/api/councils/{COUNCIL}/petitions/{NEW}/items")
        items = {i["id"]: i for i in page["items"]}
        assert set(items) == {"kn-1", "kn-3"}
        assert (items["kn-1"]["status"], items["kn-1"]["field_id"], items["kn-1"]["group"]) == (
            "classified", "giao-thong", "needs_resources",
        )  # fmt: skip
        assert items["kn-1"]["agency_id"] is None and items["kn-3"]["status"] == "received"
        assert items["kn-1"]["carried_from"] == f"petitions:{COUNCIL}:{OLD}#kn-1"
        assert items["kn-3"]["sources"] == [] and "Nguyễn Văn Hùng" not in str(items)  # the meetings stay behind
        # Again: nothing twice.
        status, again = call("POST", path, {"from_term": OLD})
        assert status == 200 and again["carried"] == ["kn-1", "kn-3"]
        assert call("GET", f"/api/councils/{COUNCIL}/petitions/{NEW}/items")[1]["total"] == 2
        status, preview = call("GET", f"{path}?from_term={OLD}")
        assert status == 200 and (preview["to_carry"], preview["already"], preview["by_kind"]) == (0, 2, {})
        for who, query, want in (
            ("vanphong", f"from_term={NEW}", 400),
            ("vanphong", "from_term=khong-co", 404),
            ("vanphong", "from_term=a%20b", 400),
            ("vanphong", f"from_term={'x' * 101}", 400),
            ("vanphong", "", 400),
            ("daibieu07", f"from_term={OLD}", 403),
            ("", f"from_term={OLD}", 401),
        ):
            status, err = call("GET", f"{path}?{query}", who=who)
            assert status == want and err["message_vi"], (who, query, status, err)
        # The bad requests, each answered clearly and changing nothing.
        for who, body, want in (
            ("vanphong", {"from_term": NEW}, 400),
            ("vanphong", {"from_term": "khong-co"}, 404),
            ("vanphong", {}, 400),
            ("daibieu07", {"from_term": OLD}, 403),
            ("", {"from_term": OLD}, 401),
        ):
            status, err = call("POST", path, body, who)
            assert status == want and err["message_vi"], (who, body, status, err)
        status, err = call(
            "POST", f"/api/councils/{COUNCIL}/petitions/{NEW}/commands",
            {"id": "bad-link", "command": {"type": "carry_item", "item_id": "kn-9", "kind": "petition", "text": "x",
                                           "carried_from": "khong phai lien ket"}},
        )  # fmt: skip
        assert (status, err["code"]) == (422, "invalid"), err
        assert call("GET", f"/api/councils/{COUNCIL}/petitions/{NEW}/items")[1]["total"] == 2
