"""Editing and removing agenda items (edit_item, remove_item): only before the session opens, never an item
something else in the session refers to."""

from __future__ import annotations

import pytest

from meeting import agenda
from meeting import documents as docs
from meeting import polls as p
from meeting import session as sess
from meeting.errors import Code
from tests.factory import CHAIR, PUBLIC, SECRETARY, Hall, delegate, running
from tests.test_documents_domain import publish


def _hall() -> Hall:
    h = Hall(10)
    for k, kind in ((1, agenda.ItemKind.RESOLUTION), (2, agenda.ItemKind.REPORT), (3, agenda.ItemKind.CONFIDENCE)):
        h.accept(agenda.AddItem(item_id=f"i{k}", title=f"Nội dung {k}", kind=kind), SECRETARY)
    return h


def test_edit_and_remove_before_opening_and_replay() -> None:
    h = _hall()
    h.accept(agenda.EditItem(item_id="i1", title="  Nghị quyết về giá đất năm 2027 "), SECRETARY)
    assert h.s.agenda.items["i1"].title == "Nghị quyết về giá đất năm 2027"
    assert h.s.agenda.items["i1"].kind is agenda.ItemKind.RESOLUTION
    h.open_check_in()  # still before the opening: check-in is when last corrections come in
    h.accept(agenda.EditItem(item_id="i2", kind=agenda.ItemKind.OTHER), SECRETARY)
    assert h.s.agenda.items["i2"].kind is agenda.ItemKind.OTHER
    routed = h.accept(agenda.RemoveItem(item_id="i2"), SECRETARY)
    assert isinstance(routed[0].event, agenda.ItemRemoved)
    assert h.s.agenda.order == ["i1", "i3"] and "i2" not in h.s.agenda.items
    # the id of a removed item is free again
    h.accept(agenda.AddItem(item_id="i2", title="Thêm lại"), SECRETARY)
    assert h.s.agenda.order == ["i1", "i3", "i2"]
    assert sess.snapshot(h.replayed()) == sess.snapshot(h.s)


def test_refused_once_the_session_opens() -> None:
    h = running(10, items=2)
    h.refuse(agenda.EditItem(item_id="item-2", title="Muộn"), SECRETARY, Code.WRONG_SESSION_STATE)
    h.refuse(agenda.RemoveItem(item_id="item-2"), SECRETARY, Code.WRONG_SESSION_STATE)


@pytest.mark.parametrize(
    ("cmd", "actor", "code"),
    [
        (agenda.EditItem(item_id="i1", title="x"), CHAIR, Code.FORBIDDEN),
        (agenda.EditItem(item_id="i1", title="x"), PUBLIC, Code.FORBIDDEN),
        (agenda.RemoveItem(item_id="i1"), delegate(1), Code.FORBIDDEN),
        (agenda.EditItem(item_id="nope", title="x"), SECRETARY, Code.UNKNOWN_ITEM),
        (agenda.RemoveItem(item_id="nope"), SECRETARY, Code.UNKNOWN_ITEM),
        (agenda.EditItem(item_id="i1", title="   "), SECRETARY, Code.INVALID),
        (agenda.EditItem(item_id="i1", title="x" * 501), SECRETARY, Code.INVALID),
        (agenda.EditItem(item_id="i1"), SECRETARY, Code.INVALID),  # nothing to change
        (agenda.EditItem(item_id="i1", title="Nội dung 1"), SECRETARY, Code.INVALID),
    ],
)
def test_bad_edits_change_nothing(cmd: agenda.EditItem | agenda.RemoveItem, actor: object, code: Code) -> None:
    h = _hall()
    h.refuse(cmd, actor, code)  # type: ignore[arg-type]


def test_an_item_with_a_document_keeps_its_kind_and_stays() -> None:
    h = _hall()
    h.accept(publish("ttr-1", item_id="i1"), SECRETARY)
    e = h.refuse(agenda.RemoveItem(item_id="i1"), SECRETARY, Code.ITEM_IN_USE)
    assert "tài liệu" in e.refusal.message_vi and "documents" in e.refusal.message_en
    h.refuse(agenda.EditItem(item_id="i1", kind=agenda.ItemKind.OTHER), SECRETARY, Code.ITEM_IN_USE)
    h.accept(agenda.EditItem(item_id="i1", title="Tên mới"), SECRETARY)  # a retitle is fine
    # withdrawn is still on record: the item still cannot go
    h.accept(docs.WithdrawDocument(document_id="ttr-1", reason="nhầm"), SECRETARY)
    h.refuse(agenda.RemoveItem(item_id="i1"), SECRETARY, Code.ITEM_IN_USE)


def test_an_item_with_a_poll_stays() -> None:
    h = _hall()
    official = p.Official(id="ct", name="Nguyễn Văn A", position="Chủ tịch UBND tỉnh")
    h.accept(p.CreatePoll(poll_id="p1", item_id="i3", kind=p.PollKind.RATING, officials=[official]), SECRETARY)
    e = h.refuse(agenda.RemoveItem(item_id="i3"), SECRETARY, Code.ITEM_IN_USE)
    assert "phiếu tín nhiệm" in e.refusal.message_vi
