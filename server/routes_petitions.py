"""REST for a council's petitions register (issue 14 §2): its commands, and what each role reads from it.

One register per council and term is one engine stream, `petitions:<council_id>:<term_id>`
(meeting/petitions.py). Every command goes through the engine like a session's, so who may do what is decided
in the domain; the reading routes here only pick which of the domain's queries (`select`, `counts`, `may_see`,
`for_viewer` in meeting/petitions_model.py) answers, so an agency official sees only what is assigned to their
agency and a delegate only the petitions of their own group's meetings. Nothing here adds a rule.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any, Union

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.types import ControllerRouterHandler

from documents.search import MAX_QUERY, has_diacritics, matches
from meeting import petitions_messages as pm
from meeting.actors import Actor, Role
from meeting.errors import Code, DomainError
from meeting.petitions_model import (
    OFFICE,
    Agency,
    DelegateGroup,
    Field,
    Filter,
    ItemKind,
    PetitionsState,
    ResourceGroup,
    Status,
    TrackedItem,
    VoterMeeting,
    council_date,
    counts,
    for_viewer,
    is_overdue,
    may_see,
    select,
)
from record.pdf import FontMissing
from server import petitions_import, petitions_index, petitions_report
from server.auth import Principal, provide_optional_principal, provide_principal, require_council, require_roles
from server.errors import ApiError, from_refusal, protocol_error
from server.openapi import BEARER, OPTIONAL_BEARER, errors
from server.routes import COMMAND, READ, CommandOut, _submit
from server.services import Services

# A petitions command is a few KB (a petition's text is at most 4000 characters); the council's rules with 500
# fields and agencies ~60 KB.
MAX_BODY = 128 * 1024
MAX_PAGE = 500  # items per page of a list: ~1 KB each without their history
_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")

PetitionsCommand: Any = Union[pm.COMMANDS]  # noqa: UP007


class PetitionsCommandIn(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    command: PetitionsCommand


class ItemPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of items as the caller may read them, each without its history (read one item for that)."""

    total: int
    items: list[TrackedItem]


class Dashboard(msgspec.Struct, frozen=True, kw_only=True):
    """Counts by status for each field, agency and kind (merged duplicates left out), and the items overdue now
    by agency: what the Standing Committee and the committees follow up."""

    by_field: dict[str, dict[str, int]]
    by_agency: dict[str, dict[str, int]]
    by_kind: dict[str, dict[str, int]]
    overdue_by_agency: dict[str, int]
    overdue: int
    total: int


class PublicSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The public page: numbers only, by field and by agency, with the council's names for them. No text of any
    petition, no voter's name, no area."""

    fields: list[Field]
    agencies: list[Agency]
    by_field: dict[str, dict[str, int]]
    by_agency: dict[str, dict[str, int]]
    overdue: int
    total: int


class RegisterOut(msgspec.Struct, frozen=True, kw_only=True):
    """What the pages need to name things and fill their pickers: the council's lists, its delegate groups, the
    voter meetings the caller may see (the office all of them; a delegate those of their group or where they
    were present; nobody else any), and the caller's own agency and groups."""

    council_id: str
    term_id: str
    fields: list[Field]
    agencies: list[Agency]  # addresses only for the office
    groups: list[DelegateGroup]
    meetings: list[VoterMeeting]  # newest first
    my_agency: str | None
    my_groups: list[str]
    no_resources_days: int
    needs_resources_days: int
    other_days: int = 60  # with the four above, every list and number of the rules: a new term's register
    remind_days: int = 7  # may open with them (the page's "giữ danh mục của nhiệm kỳ trước")


def _register_view(state: PetitionsState, actor: Actor) -> RegisterOut:
    office = not actor.roles.isdisjoint(OFFICE)
    pid = actor.person_id or ""
    mine = sorted(g.id for g in state.groups.values() if pid and pid in g.members)
    if office:
        meetings = list(state.meetings.values())
    elif pid and actor.has(Role.DELEGATE, Role.CHAIR):
        meetings = [m for m in state.meetings.values() if pid in state.meeting_people(m.id)]
    else:
        meetings = []
    meetings.sort(key=lambda m: (m.held_on, m.id), reverse=True)
    return RegisterOut(
        council_id=state.council_id,
        term_id=state.term_id,
        fields=state.rules.fields,
        agencies=state.rules.agencies
        if office
        else [msgspec.structs.replace(a, email="") for a in state.rules.agencies],
        groups=sorted(state.groups.values(), key=lambda g: g.id),
        meetings=meetings,
        my_agency=state.officials.get(pid) if Role.AGENCY in actor.roles else None,
        my_groups=mine,
        no_resources_days=state.rules.no_resources_days,
        needs_resources_days=state.rules.needs_resources_days,
        other_days=state.rules.other_days,
        remind_days=state.rules.remind_days,
    )


class Topic(msgspec.Struct, frozen=True, kw_only=True):
    """An open item offered as a questioning topic (chất vấn): why, and the link a question keeps to it."""

    item: TrackedItem
    reasons: list[str]  # "overdue", "not_resolved", "reopened"
    overdue_days: int
    link: str  # "petitions:<council>:<term>#<item>", the register and the item


class Topics(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    topics: list[Topic]


def _topics(state: PetitionsState, now: datetime, actor: Actor) -> list[Topic]:
    """What the council's follow-up has not settled, the longest overdue first: items past their deadline, those
    the agency could not resolve, and those voters raised again. Merged duplicates and resolved items are not."""
    today = council_date(now)
    out: list[tuple[int, int, str, Topic]] = []
    for item in state.items.values():
        reasons = []
        late = (today - item.due).days if item.due is not None and is_overdue(item, now) else 0
        if late:
            reasons.append("overdue")
        if item.status is Status.NOT_RESOLVED:
            reasons.append("not_resolved")
        if item.reopened and item.status not in (Status.RESOLVED, Status.MERGED):
            reasons.append("reopened")
        if not reasons:
            continue
        link = f"petitions:{state.council_id}:{state.term_id}#{item.id}"
        # The chair reads it as a delegate would: without the voters' names (for_viewer).
        topic = Topic(item=_bare(for_viewer(state, item, actor)), reasons=reasons, overdue_days=late, link=link)
        out.append((-late, -item.reopened, item.id, topic))
    return [t for *_, t in sorted(out, key=lambda x: x[:3])]


def _unknown_register(council_id: str, term_id: str) -> Exception:
    return from_refusal(DomainError(Code.UNKNOWN_PETITIONS, id=f"{council_id}:{term_id}").refusal)


async def _register(services: Services, council_id: str, term_id: str) -> PetitionsState:
    if not _ID.fullmatch(council_id) or not _ID.fullmatch(term_id):
        raise _unknown_register(council_id, term_id)  # no such stream can exist; the database is not asked
    state, _ = await services.engine.state("petitions", f"{council_id}:{term_id}")
    if state is None:
        raise _unknown_register(council_id, term_id)
    assert isinstance(state, PetitionsState)
    return state


async def _readable_item(
    services: Services, principal: Principal, council_id: str, term_id: str, item_id: str
) -> tuple[PetitionsState, TrackedItem]:
    """The register and one of its items as the caller may read it. Another agency's item is answered like one
    that does not exist, as the domain answers commands: whether it exists is not the caller's to learn."""
    require_council(principal, council_id)
    state = await _register(services, council_id, term_id)
    item = state.items.get(item_id)
    if item is None or not may_see(state, item, principal.actor):
        raise from_refusal(DomainError(Code.UNKNOWN_TRACKED_ITEM, id=item_id).refusal)
    return state, item


async def _search(
    services: Services, council_id: str, term_id: str, f: Filter, query: str | None, page: tuple[int, int] | None
) -> tuple[int, list[str]]:
    # A database gone away in between is answered 503 `unavailable` by the app's handlers (server/errors.py).
    async with services.db.engine.connect() as conn:
        return await petitions_index.search(conn, f"petitions:{council_id}:{term_id}", f, query, page)


def _bare(item: TrackedItem) -> TrackedItem:
    return msgspec.structs.replace(item, history=[])


def _page(items: list[TrackedItem], limit: int, offset: int) -> ItemPage:
    return ItemPage(total=len(items), items=[_bare(i) for i in items[offset : offset + limit]])


def _office_dashboard(state: PetitionsState, now: datetime) -> Dashboard:
    items = list(state.items.values())
    overdue = [i for i in items if is_overdue(i, now)]
    by_agency: dict[str, int] = {}
    for i in overdue:
        key = i.agency_id or ""
        by_agency[key] = by_agency.get(key, 0) + 1
    return Dashboard(
        by_field=counts(items, "field_id"),
        by_agency=counts(items, "agency_id"),
        by_kind=counts(items, "kind"),
        overdue_by_agency=by_agency,
        overdue=len(overdue),
        total=sum(1 for i in items if i.status is not Status.MERGED),
    )


_REGISTER_TEXT = {404: "No such council, register (`unknown_petitions`) or item (`unknown_tracked_item`)"}
LIST_READ = (*READ, 422)


class PetitionsController(Controller):
    path = "/api/councils/{council_id:str}/petitions/{term_id:str}"
    tags = ["petitions"]
    request_max_body_size = MAX_BODY
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @post(
        "/commands",
        summary="Run a petitions command (meetings, petitions, classify, merge, assign, answer, conclude, ...)",
        description="`open_petitions` opens the register; its council and term must be the path's. Who may run "
        "which command is decided in the domain (docs/PETITIONS.md).",
        responses=errors(*COMMAND, text=_REGISTER_TEXT),
    )
    async def command(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        data: JSONBody[PetitionsCommandIn],
    ) -> CommandOut:
        require_council(principal, council_id)
        cmd = data.command
        if isinstance(cmd, pm.OpenPetitions) and (cmd.council_id, cmd.term_id) != (council_id, term_id):
            raise protocol_error(400, "malformed", "open_petitions must name the path's council and term")
        if not _ID.fullmatch(council_id) or not _ID.fullmatch(term_id):
            raise _unknown_register(council_id, term_id)
        if not isinstance(cmd, pm.OpenPetitions):
            await _register(services, council_id, term_id)  # 404 before the engine keeps a runtime for it
        return await _submit(services, "petitions", f"{council_id}:{term_id}", principal, data.id, cmd)

    @get(
        "/register",
        summary="The register's lists, delegate groups and the voter meetings the caller may see",
        description="For the pages' names and pickers: fields, agencies (addresses only for the office), groups, "
        "the caller's agency and groups, and the voter meetings: all of them for the office, a delegate's own "
        "group's or those they attended, none for anyone else.",
        responses=errors(*READ, text=_REGISTER_TEXT),
    )
    async def register(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
    ) -> RegisterOut:
        require_council(principal, council_id)
        state = await _register(services, council_id, term_id)
        return _register_view(state, principal.actor)

    @get(
        "/items",
        summary="The items the caller may see, filtered, a page at a time",
        description="Filters combine: kind, field, agency, status, group, meeting, overdue now, and `q`, a text "
        "query over the item's text and area that ignores Vietnamese diacritics when it has none ('duong' finds "
        "'đường'). An agency official sees only what is assigned to their agency; a delegate the petitions of "
        "their own group's meetings and every commitment and conclusion.",
        responses=errors(*LIST_READ, text=_REGISTER_TEXT),
    )
    async def items(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        kind: FromQuery[ItemKind | None] = None,
        field: Annotated[str | None, QueryParameter(max_length=100)] = None,
        agency: Annotated[str | None, QueryParameter(max_length=100)] = None,
        status: FromQuery[Status | None] = None,
        group: FromQuery[ResourceGroup | None] = None,
        meeting: Annotated[str | None, QueryParameter(max_length=100)] = None,
        overdue: FromQuery[bool] = False,
        q: Annotated[str | None, QueryParameter(max_length=MAX_QUERY)] = None,
        limit: int = Parameter(ge=1, le=MAX_PAGE, default=100),
        offset: int = Parameter(ge=0, le=1_000_000, default=0),
    ) -> ItemPage:
        require_council(principal, council_id)
        state = await _register(services, council_id, term_id)
        f = Filter(
            kind=kind,
            field_id=field,
            agency_id=agency,
            status=status,
            group=group,
            meeting_id=meeting,
            overdue_at=datetime.now(UTC) if overdue else None,
        )
        actor = principal.actor
        query = q if q is not None and q.strip() else None
        if not actor.roles.isdisjoint(OFFICE) and (query is None or not has_diacritics(query)):
            # The office sees everything, so the database pages: one count and one page of ids.
            total, ids = await _search(services, council_id, term_id, f, query, (limit, offset))
            if f.meeting_id is None:
                return ItemPage(total=total, items=[_bare(state.items[i]) for i in ids if i in state.items])
        _, ids = await _search(services, council_id, term_id, f, query, None)
        found = []
        for item_id in ids:
            item = state.items.get(item_id)
            if item is None or not may_see(state, item, actor):
                continue
            if f.meeting_id is not None and f.meeting_id not in item.meeting_ids():
                continue
            if query is not None and has_diacritics(query) and not matches(f"{item.text}\n{item.area}", query):
                continue
            found.append(for_viewer(state, item, actor))
        return _page(found, limit, offset)

    @get(
        "/items/{item_id:str}",
        summary="One item with its answers, sources and history, as the caller may read it",
        responses=errors(*READ, text=_REGISTER_TEXT),
    )
    async def item(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        item_id: FromPath[str],
    ) -> TrackedItem:
        state, found = await _readable_item(services, principal, council_id, term_id, item_id)
        return for_viewer(state, found, principal.actor)

    @get(
        "/dashboard",
        summary="Counts by field, agency, kind and status, and what is overdue (office roles)",
        description="For the secretariat, the Standing Committee and committees, and the Front.",
        responses=errors(*READ, text=_REGISTER_TEXT),
    )
    async def dashboard(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
    ) -> Dashboard:
        require_council(principal, council_id)
        require_roles(principal, Role.SECRETARY, Role.STANDING, Role.FRONT)
        state = await _register(services, council_id, term_id)
        return _office_dashboard(state, datetime.now(UTC))

    @get(
        "/topics",
        summary="Open items offered as questioning topics: overdue, not resolved, raised again (staff, delegates)",
        description="For the chair's and the secretariat's choice of questioning topics before a session: each "
        "with its reasons, days overdue and the link a question keeps (`petitions:<council>:<term>#<item>`), the "
        "longest overdue first.",
        responses=errors(*LIST_READ, text=_REGISTER_TEXT),
    )
    async def topics(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        limit: int = Parameter(ge=1, le=MAX_PAGE, default=100),
        offset: int = Parameter(ge=0, le=1_000_000, default=0),
    ) -> Topics:
        require_council(principal, council_id)
        # Delegates too: a delegate registers a question from a topic, and the question keeps its link (issue 14).
        require_roles(principal, Role.SECRETARY, Role.STANDING, Role.FRONT, Role.CHAIR, Role.DELEGATE)
        state = await _register(services, council_id, term_id)
        found = _topics(state, datetime.now(UTC), principal.actor)
        return Topics(total=len(found), topics=found[offset : offset + limit])

    @get(
        "/report",
        summary="The summary report of voters' petitions before a session, as a PDF (office roles)",
        description="The Front's *Báo cáo tổng hợp ý kiến, kiến nghị của cử tri* for `session`: the voter meetings "
        "held before it, its petitions by field, the results for earlier petitions, and the list (no voter's "
        "name). Typeset like the record (Decree 30 layout, PDF/A-2b); the number is left for the Front.",
        responses=errors(*LIST_READ, 503, text=_REGISTER_TEXT),
        media_type="application/pdf",
    )
    async def report(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        session: Annotated[str, QueryParameter(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")],
    ) -> Response[bytes]:
        require_council(principal, council_id)
        require_roles(principal, Role.SECRETARY, Role.STANDING, Role.FRONT)
        state = await _register(services, council_id, term_id)
        council_state, _ = await services.engine.state("council", council_id)
        name = getattr(council_state, "name", council_id)
        try:
            pdf = await asyncio.to_thread(petitions_report.build_report_pdf, state, name, session, datetime.now(UTC))
        except FontMissing as e:  # a deployment fault: said plainly, not a 500
            vi, en = "Máy chủ chưa cài phông chữ để in báo cáo.", "The server has no font installed to print it."
            raise ApiError(503, "unavailable", vi, en) from e
        return Response(
            content=pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="bao-cao-kien-nghi-{session}.pdf"'},
        )

    @get(
        "/mine",
        summary="A delegate's own: the petitions of the meetings of their group or where they were present",
        description="With the agencies' answers, to report back to the voters. Other callers get 403.",
        responses=errors(*LIST_READ, text=_REGISTER_TEXT),
    )
    async def mine(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        limit: int = Parameter(ge=1, le=MAX_PAGE, default=100),
        offset: int = Parameter(ge=0, le=1_000_000, default=0),
    ) -> ItemPage:
        require_council(principal, council_id)
        pid = principal.actor.person_id
        if pid is None or not principal.actor.has(Role.DELEGATE, Role.CHAIR):
            raise protocol_error(403, "forbidden")
        state = await _register(services, council_id, term_id)
        own = [
            for_viewer(state, i, principal.actor)
            for _, i in sorted(state.items.items())
            if i.kind is ItemKind.PETITION and pid in state.delegates_of(i)
        ]
        return _page(own, limit, offset)

    @get(
        "/inbox",
        summary="An agency official's inbox: what is assigned to their agency now",
        description="Only for an official the register appoints (`appoint_official`); anyone else gets 403.",
        responses=errors(*LIST_READ, text=_REGISTER_TEXT),
    )
    async def inbox(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        status: FromQuery[Status | None] = None,
        overdue: FromQuery[bool] = False,
        limit: int = Parameter(ge=1, le=MAX_PAGE, default=100),
        offset: int = Parameter(ge=0, le=1_000_000, default=0),
    ) -> ItemPage:
        require_council(principal, council_id)
        require_roles(principal, Role.AGENCY)
        state = await _register(services, council_id, term_id)
        agency_id = state.officials.get(principal.actor.person_id or "")
        if agency_id is None:
            raise protocol_error(403, "forbidden")
        f = Filter(agency_id=agency_id, status=status, overdue_at=datetime.now(UTC) if overdue else None)
        # As an official only: an administrator who is also an official sees their agency's inbox, not everything.
        official = Actor(roles=frozenset({Role.AGENCY}), person_id=principal.actor.person_id)
        return _page(list(select(state, official, f)), limit, offset)


class CarryOverIn(msgspec.Struct, frozen=True, kw_only=True):
    from_term: str


class CarryOverOut(msgspec.Struct, frozen=True, kw_only=True):
    carried: list[str]  # item ids in this register, each `carried_from` the earlier term's item of the same id
    refused: list[petitions_import.RowError]  # row = the item's place in the earlier register, code and messages


class CarryOverPreview(msgspec.Struct, frozen=True, kw_only=True):
    """What `POST …/carry-over` would do now, for the page's confirm step: nothing is written."""

    from_term: str
    to_carry: int  # open items of the earlier term not yet in this register
    already: int  # open items carried before (running it again does not carry them twice)
    left_behind: int  # resolved, not resolved for good, or merged: they stay in the earlier register
    by_kind: dict[str, int]  # of `to_carry`
    by_status: dict[str, int]  # of `to_carry`, their status in the earlier register


_CARRY_DONE = (Status.RESOLVED, Status.NOT_RESOLVED, Status.MERGED)


def _open_items(old: PetitionsState) -> list[TrackedItem]:
    return [old.items[i] for i in sorted(old.items) if old.items[i].status not in _CARRY_DONE]


def _carry_preview(new: PetitionsState, old: PetitionsState) -> CarryOverPreview:
    open_items = _open_items(old)
    todo = [i for i in open_items if i.id not in new.items]
    return CarryOverPreview(
        from_term=old.term_id,
        to_carry=len(todo),
        already=len(open_items) - len(todo),
        left_behind=len(old.items) - len(open_items),
        by_kind=dict(Counter(i.kind.value for i in todo)),
        by_status=dict(Counter(i.status.value for i in todo)),
    )


async def _carry_registers(
    services: Services, principal: Principal, council_id: str, term_id: str, from_term: str
) -> tuple[PetitionsState, PetitionsState]:
    """This term's register and the earlier one, for the secretariat (the preview and the carry alike)."""
    require_council(principal, council_id)
    require_roles(principal, Role.SECRETARY)
    if from_term == term_id:
        raise protocol_error(400, "malformed", "from_term must be an earlier term, not this one")
    return await _register(services, council_id, term_id), await _register(services, council_id, from_term)


class CarryOverController(Controller):
    path = "/api/councils/{council_id:str}/petitions/{term_id:str}/carry-over"
    tags = ["petitions"]
    request_max_body_size = 4096
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @get(
        "/",
        summary="What carrying an earlier term's open items over would do now (nothing is written)",
        description="Counts for the confirm step: how many open items of `from_term` would be carried, by kind and "
        "status, how many were carried before, how many stay behind. The secretariat's.",
        responses=errors(*LIST_READ, text=_REGISTER_TEXT),
    )
    async def preview(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        from_term: Annotated[str, QueryParameter(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")],
    ) -> CarryOverPreview:
        return _carry_preview(*await _carry_registers(services, principal, council_id, term_id, from_term))

    @post(
        "/",
        status_code=200,
        summary="Carry the items still open at the end of an earlier term into this term's register",
        description="Every petition, commitment and conclusion of `from_term` that is not resolved, not resolved "
        "for good or merged is received again here under the same id, with its text, area, field and group and a "
        "link back (`carried_from`); the new term assigns it anew. Each is its own command, so running it again "
        "carries nothing twice. The secretariat's.",
        responses=errors(*COMMAND, text=_REGISTER_TEXT),
    )
    async def carry_over(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        data: JSONBody[CarryOverIn],
    ) -> CarryOverOut:
        _new, old = await _carry_registers(services, principal, council_id, term_id, data.from_term)
        open_items = _open_items(old)
        runtime = services.engine.runtime("petitions", f"{council_id}:{term_id}")
        cmds = [
            pm.CarryItem(
                item_id=i.id,
                kind=i.kind,
                text=i.text,
                area=i.area,
                field_id=i.field_id,
                group=i.group,
                carried_from=f"petitions:{council_id}:{data.from_term}#{i.id}",
            )
            for i in open_items
        ]
        # Submitted together: the engine commits them up to 256 to a transaction.
        futures = [runtime.submit(principal, f"carry:{data.from_term}:{c.item_id}", c) for c in cmds]
        carried: list[str] = []
        refused: list[petitions_import.RowError] = []
        for n, (cmd, reply) in enumerate(zip(cmds, await asyncio.gather(*futures), strict=True), 1):
            if reply.ok:
                carried.append(cmd.item_id)
            elif reply.error is not None:
                e = reply.error
                refused.append(
                    petitions_import.RowError(
                        row=n, code=e.code.value, message_vi=e.message_vi, message_en=e.message_en
                    )
                )
        return CarryOverOut(carried=carried, refused=refused)


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    hash: str
    recorded: list[str]  # petition ids, in the table's order
    refused: list[petitions_import.RowError]  # rows the register refused between the preview and the import


_IMPORT_TEXT = {
    409: "The file differs from the previewed one (`import_changed`), or a command's state conflict",
    422: "Not a table this importer reads (`bad_table`), or rows with errors at confirm (`import_has_errors`)",
    **_REGISTER_TEXT,
}


def _import_error(status: int, code: str, vi: str, en: str) -> ApiError:
    return ApiError(status, code, vi, en)


async def _import(
    services: Services,
    principal: Principal,
    request: Request[Any, Any, Any],
    council_id: str,
    term_id: str,
    fmt: str,
    confirm: str | None,
) -> petitions_import.Preview | ImportResult:
    require_council(principal, council_id)
    state = await _register(services, council_id, term_id)
    data = await request.body()
    try:
        preview, commands = petitions_import.plan(data, fmt, state, principal.actor, datetime.now(UTC))
    except petitions_import.TableError as e:
        raise _import_error(422, "bad_table", e.vi, e.en) from e
    if confirm is None:
        return preview
    if confirm != preview.hash:
        raise _import_error(
            409,
            "import_changed",
            "Tệp khác với tệp đã xem trước; hãy xem trước lại.",
            "The file is not the one previewed; preview it again.",
        )
    if preview.errors:
        raise _import_error(
            422,
            "import_has_errors",
            "Bảng còn dòng lỗi; sửa rồi xem trước lại.",
            "The table still has rows with errors; fix them and preview again.",
        )
    recorded: list[str] = []
    refused: list[petitions_import.RowError] = []
    for planned, cmd in zip(preview.petitions, commands, strict=True):
        if cmd is None:  # in the register already (a retried confirm)
            recorded.append(planned.petition_id)
            continue
        cid = f"import-{preview.hash[:32]}-{planned.row}"  # two confirms at once still record each row once
        try:
            out = await _submit(services, "petitions", f"{council_id}:{term_id}", principal, cid, cmd)
        except ApiError as e:
            b = e.body
            refused.append(
                petitions_import.RowError(
                    row=planned.row, code=b.code, message_vi=b.message_vi, message_en=b.message_en
                )
            )
            continue
        if out.ok:
            recorded.append(planned.petition_id)
    return ImportResult(hash=preview.hash, recorded=recorded, refused=refused)


class ImportController(Controller):
    path = "/api/councils/{council_id:str}/petitions/{term_id:str}/import"
    tags = ["petitions"]
    request_max_body_size = petitions_import.MAX_FILE
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @post(
        "/csv",
        status_code=200,
        summary="Preview, then import, a delegate group's summary table of petitions from CSV (UTF-8)",
        description="The body is the CSV file. Without `confirm`: the preview (what would be recorded, and each "
        "row's error in Vietnamese and English); nothing is written. With `confirm` = the preview's hash: the "
        "rows are recorded as `record_petition` commands, each checked by the domain as the caller. Columns: "
        "Mã buổi TXCT, Nội dung kiến nghị (required), Địa bàn, Cử tri kiến nghị, Mã kiến nghị.",
        responses=errors(*READ, 409, 413, 422, text=_IMPORT_TEXT),
    )
    async def csv(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        council_id: FromPath[str],
        term_id: FromPath[str],
        confirm: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> petitions_import.Preview | ImportResult:
        return await _import(services, principal, request, council_id, term_id, "csv", confirm)

    @post(
        "/xlsx",
        status_code=200,
        summary="Preview, then import, a delegate group's summary table of petitions from XLSX",
        description="As the CSV import; the body is the workbook, its first sheet is read.",
        responses=errors(*READ, 409, 413, 422, text=_IMPORT_TEXT),
    )
    async def xlsx(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        council_id: FromPath[str],
        term_id: FromPath[str],
        confirm: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> petitions_import.Preview | ImportResult:
        return await _import(services, principal, request, council_id, term_id, "xlsx", confirm)


PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))


@get(
    "/api/councils/{council_id:str}/petitions/{term_id:str}/summary",
    summary="Public: how many petitions by field and by agency are in each status",
    description="Numbers only, for the council's public page: no petition's text, no voter's name or area.",
    tags=["petitions"],
    dependencies={"principal": Provide(provide_optional_principal)},
    security=OPTIONAL_BEARER,
    responses=errors(*READ, text=_REGISTER_TEXT),
)
async def public_summary(
    services: NamedDependency[Services],
    principal: NamedDependency[Principal | None],
    council_id: FromPath[str],
    term_id: FromPath[str],
) -> PublicSummary:
    state = await _register(services, council_id, term_id)
    petitions = [i for i in state.items.values() if i.kind is ItemKind.PETITION]
    now = datetime.now(UTC)
    return PublicSummary(
        fields=state.rules.fields,
        agencies=[msgspec.structs.replace(a, email="") for a in state.rules.agencies],  # the office's contacts
        by_field=counts(petitions, "field_id"),
        by_agency=counts(petitions, "agency_id"),
        overdue=sum(1 for i in petitions if is_overdue(i, now)),
        total=sum(1 for i in petitions if i.status is not Status.MERGED),
    )


ROUTES: list[ControllerRouterHandler] = [PetitionsController, ImportController, CarryOverController, public_summary]
