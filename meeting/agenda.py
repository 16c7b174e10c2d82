"""The agenda (chương trình kỳ họp): ordered items, the current item and the chair's "follow me" pointer."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import msgspec

from meeting.actors import DELEGATES, EVERYONE, Context, Role
from meeting.errors import Code, DomainError, invalid
from meeting.hall import Hall, SessionStatus
from meeting.ids import check_id
from meeting.messages import Command, Event, Routed

MAX_TITLE = 500


class ItemKind(StrEnum):
    RESOLUTION = "resolution"  # a draft resolution (dự thảo nghị quyết) to vote on
    REPORT = "report"  # báo cáo
    QUESTIONING = "questioning"  # phiên chất vấn
    CONFIDENCE = "confidence"  # lấy phiếu / bỏ phiếu tín nhiệm
    OTHER = "other"


class ItemStatus(StrEnum):
    PENDING = "pending"
    CURRENT = "current"
    DONE = "done"


class AgendaItem(msgspec.Struct, kw_only=True):
    id: str
    title: str
    kind: ItemKind
    status: ItemStatus = ItemStatus.PENDING


class FollowMe(msgspec.Struct, frozen=True, kw_only=True):
    """Every tablet opens this document at this page (chủ tọa: "mời các vị đại biểu xem trang...")."""

    document_id: str
    page: int


class Agenda(msgspec.Struct, kw_only=True):
    items: dict[str, AgendaItem] = msgspec.field(default_factory=dict)
    order: list[str] = msgspec.field(default_factory=list)
    follow_me: FollowMe | None = None


# --- commands
class AddItem(Command, frozen=True, kw_only=True, tag="add_item"):
    item_id: str
    title: str
    kind: ItemKind = ItemKind.RESOLUTION


class ReorderAgenda(Command, frozen=True, kw_only=True, tag="reorder_agenda"):
    order: list[str]


class EditItem(Command, frozen=True, kw_only=True, tag="edit_item"):
    """Correct an item's title or kind before the session opens (None keeps it)."""

    item_id: str
    title: str | None = None
    kind: ItemKind | None = None


class RemoveItem(Command, frozen=True, kw_only=True, tag="remove_item"):
    item_id: str


class MoveToItem(Command, frozen=True, kw_only=True, tag="move_to_item"):
    item_id: str


class SetFollowMe(Command, frozen=True, kw_only=True, tag="set_follow_me"):
    document_id: str
    page: int


class ClearFollowMe(Command, frozen=True, kw_only=True, tag="clear_follow_me"):
    pass


# --- events
class ItemAdded(Event, frozen=True, kw_only=True, tag="item_added"):
    item_id: str
    title: str
    kind: ItemKind
    position: int


class AgendaReordered(Event, frozen=True, kw_only=True, tag="agenda_reordered"):
    order: list[str]


class ItemEdited(Event, frozen=True, kw_only=True, tag="item_edited"):
    item_id: str
    title: str
    kind: ItemKind


class ItemRemoved(Event, frozen=True, kw_only=True, tag="item_removed"):
    item_id: str


class CurrentItemChanged(Event, frozen=True, kw_only=True, tag="current_item_changed"):
    item_id: str
    previous_item_id: str | None


class FollowMeSet(Event, frozen=True, kw_only=True, tag="follow_me_set"):
    document_id: str
    page: int


class FollowMeCleared(Event, frozen=True, kw_only=True, tag="follow_me_cleared"):
    pass


COMMANDS: tuple[type[Command], ...] = (
    AddItem,
    ReorderAgenda,
    EditItem,
    RemoveItem,
    MoveToItem,
    SetFollowMe,
    ClearFollowMe,
)
EVENTS: tuple[type[Event], ...] = (
    ItemAdded,
    AgendaReordered,
    ItemEdited,
    ItemRemoved,
    CurrentItemChanged,
    FollowMeSet,
    FollowMeCleared,
)

_OPEN = (
    SessionStatus.PREPARED,
    SessionStatus.CHECKIN_OPEN,
    SessionStatus.IN_PROGRESS,
    SessionStatus.SUSPENDED,
)

# The council adopts its agenda when the session opens (Law 72/2025/QH15: the chair puts the programme to the
# council at the opening sitting); after that an item is changed only by a decision of the council, which is a
# vote, not the secretariat's pen. So the secretariat edits and removes items only while preparing and during
# check-in; adding and reordering stay open (a session may add an item by a vote, and the chair moves one).
_BEFORE_OPENING = (SessionStatus.PREPARED, SessionStatus.CHECKIN_OPEN)

# What else in the session refers to an item, as (Vietnamese, English) descriptions; an item something refers to
# cannot be removed, nor its kind changed (a confidence poll needs a confidence item), only retitled.
InUse = Callable[[str], tuple[str, str] | None]


def _nothing_uses(item_id: str) -> tuple[str, str] | None:
    return None


def require_item(agenda: Agenda, item_id: str) -> AgendaItem:
    item = agenda.items.get(item_id)
    if item is None:
        raise DomainError(Code.UNKNOWN_ITEM, id=item_id)
    return item


def _title(title: str) -> str:
    if not title.strip() or len(title) > MAX_TITLE:
        raise invalid("tiêu đề trống hoặc quá dài", "title is empty or too long")
    return title.strip()


def decide(hall: Hall, agenda: Agenda, cmd: Command, ctx: Context, in_use: InUse = _nothing_uses) -> list[Routed]:
    match cmd:
        case AddItem():
            ctx.actor.require(Role.SECRETARY)
            hall.require_status(*_OPEN)
            check_id(cmd.item_id, "mã nội dung", "the item id")
            if cmd.item_id in agenda.items:
                raise DomainError(Code.DUPLICATE_ID, id=cmd.item_id)
            ev: Event = ItemAdded(
                item_id=cmd.item_id, title=_title(cmd.title), kind=cmd.kind, position=len(agenda.order)
            )
            return [Routed(event=ev, audience=EVERYONE)]
        case EditItem():
            ctx.actor.require(Role.SECRETARY)
            hall.require_status(*_BEFORE_OPENING)
            item = require_item(agenda, cmd.item_id)
            title = item.title if cmd.title is None else _title(cmd.title)
            kind = item.kind if cmd.kind is None else cmd.kind
            if (title, kind) == (item.title, item.kind):
                raise invalid("không có gì thay đổi", "nothing changes")
            used = in_use(item.id)
            if kind is not item.kind and used is not None:
                raise DomainError(Code.ITEM_IN_USE, id=item.id, what_vi=used[0], what_en=used[1])
            ev = ItemEdited(item_id=item.id, title=title, kind=kind)
            return [Routed(event=ev, audience=EVERYONE)]
        case RemoveItem():
            ctx.actor.require(Role.SECRETARY)
            hall.require_status(*_BEFORE_OPENING)
            item = require_item(agenda, cmd.item_id)
            used = in_use(item.id)
            if used is not None:
                raise DomainError(Code.ITEM_IN_USE, id=item.id, what_vi=used[0], what_en=used[1])
            return [Routed(event=ItemRemoved(item_id=item.id), audience=EVERYONE)]
        case ReorderAgenda():
            ctx.actor.require(Role.CHAIR, Role.SECRETARY)
            hall.require_status(*_OPEN)
            if sorted(cmd.order) != sorted(agenda.order) or len(set(cmd.order)) != len(cmd.order):
                raise invalid(
                    "thứ tự mới phải liệt kê đúng mỗi nội dung một lần",
                    "the new order must list every item exactly once",
                )
            return [Routed(event=AgendaReordered(order=list(cmd.order)), audience=EVERYONE)]
        case MoveToItem():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            require_item(agenda, cmd.item_id)
            if hall.current_item == cmd.item_id:
                raise invalid("nội dung này đang được xem xét", "this item is already current")
            ev = CurrentItemChanged(item_id=cmd.item_id, previous_item_id=hall.current_item)
            return [Routed(event=ev, audience=EVERYONE)]
        case SetFollowMe():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            if not cmd.document_id or cmd.page < 1:
                raise invalid("số trang phải từ 1 trở lên", "page numbers start at 1")
            return [Routed(event=FollowMeSet(document_id=cmd.document_id, page=cmd.page), audience=DELEGATES)]
        case ClearFollowMe():
            ctx.actor.require(Role.CHAIR)
            hall.require_running()
            if agenda.follow_me is None:
                raise invalid("không có trang nào đang được chỉ định", "no page is being followed")
            return [Routed(event=FollowMeCleared(), audience=DELEGATES)]
    raise AssertionError(f"not an agenda command: {cmd!r}")


def apply(hall: Hall, agenda: Agenda, event: Event) -> None:
    match event:
        case ItemAdded():
            agenda.items[event.item_id] = AgendaItem(id=event.item_id, title=event.title, kind=event.kind)
            agenda.order.append(event.item_id)
        case AgendaReordered():
            agenda.order = list(event.order)
        case ItemEdited():
            item = agenda.items[event.item_id]
            item.title, item.kind = event.title, event.kind
        case ItemRemoved():
            del agenda.items[event.item_id]
            agenda.order.remove(event.item_id)
        case CurrentItemChanged():
            if event.previous_item_id is not None:
                agenda.items[event.previous_item_id].status = ItemStatus.DONE
            agenda.items[event.item_id].status = ItemStatus.CURRENT
            hall.current_item = event.item_id
            agenda.follow_me = None
        case FollowMeSet():
            agenda.follow_me = FollowMe(document_id=event.document_id, page=event.page)
        case FollowMeCleared():
            agenda.follow_me = None
