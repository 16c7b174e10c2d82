"""REST for the secretariat and administration: councils, rosters, rules, sessions, agenda, and every command.

A REST command and a WebSocket command are the same msgspec struct and go through the same engine, so they
are refused or accepted by the same rules. Reading routes return what the caller may see (a public caller
sees the public view).
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any, Union

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter

from meeting import council, protocol
from meeting import session as sess
from meeting.actors import Actor, Role
from meeting.errors import Code, DomainError
from meeting.hall import SessionStatus
from meeting.resolutions import Resolution
from meeting.rules import Level
from server.auth import Principal, provide_optional_principal, provide_principal, require_council, require_roles
from server.engine import Reply, Unavailable
from server.errors import from_refusal, protocol_error
from server.inbound import id_problem
from server.openapi import BEARER, BODY, OPTIONAL_BEARER, errors
from server.services import Services

log = logging.getLogger("kyhop.routes")

MAX_BODY = 256 * 1024  # a roster of 1000 delegates is ~80 KB

CouncilCommand: Any = Union[council.COMMANDS]  # noqa: UP007


class SessionCommandIn(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    command: protocol.SessionCommand


class CouncilCommandIn(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    command: CouncilCommand


class NewCouncil(msgspec.Struct, frozen=True, kw_only=True):
    council_id: str
    name: str
    level: str = "province"


class NewSession(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    title: str
    opens_on: date
    kind: sess.SessionKind = sess.SessionKind.REGULAR
    place: str = ""


class CommandOut(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    seqs: list[int]
    replayed: bool


class SessionSummary(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    title: str
    # Where each session stands, so that a list says which one is open and which closed (issue 12 §2).
    status: SessionStatus | None = None
    status_vi: str = ""
    opens_on: str = ""
    term_id: str = ""  # the council's term it belongs to (the petitions pages offer this term's sessions)


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    state: dict[str, Any]


class EventsOut(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    events: list[protocol.EventMessage]


# What a command can end in besides success: a refusal's status (server/errors.py `refusal_status`: 403, 404,
# 409, 422), a body that is not a command (400, 413), no token (401), no database (503).
COMMAND = (*BODY, 401, 403, 404, 409, 422, 503)
# What a read of a council or session answers besides 200: a bad path (400), a bad token (401), another council's
# (403), an unknown id (404), no database (503).
READ = (400, 401, 403, 404, 503)


def _ok(reply: Reply) -> CommandOut:
    if not reply.ok:
        assert reply.error is not None
        raise from_refusal(reply.error)
    return CommandOut(ok=True, seqs=reply.seqs, replayed=reply.replayed)


async def _submit(services: Services, kind: str, ident: str, p: Principal, cid: str, cmd: Any) -> CommandOut:
    problem = id_problem(cid)
    if problem is not None:
        raise protocol_error(400, "malformed", problem)
    try:
        reply = await services.engine.runtime(kind, ident).submit(p, cid, cmd)
    except Unavailable as e:
        raise protocol_error(503, "unavailable") from e
    return _ok(reply)


async def _council_state(services: Services, council_id: str) -> council.CouncilState:
    state, _ = await services.engine.state("council", council_id)
    if state is None:
        raise from_refusal(DomainError(Code.UNKNOWN_COUNCIL, id=council_id).refusal)
    assert isinstance(state, council.CouncilState)
    return state


async def _session_council(services: Services, session_id: str) -> str:
    state, _ = await services.engine.state("session", session_id)
    if state is None:
        raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id).refusal)
    council_id: str = state.hall.council_id
    return council_id


async def _with_recorded_result(
    services: Services, council_id: str, cmd: council.NumberResolution
) -> council.NumberResolution:
    """A resolution is numbered from the result the session recorded, never from what the client sent: the
    round is looked up in its session, which must belong to this council and have closed."""
    state, _ = await services.engine.state("session", cmd.session_id)
    if state is None or state.hall.council_id != council_id:
        raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=cmd.session_id).refusal)
    rnd = state.votes.rounds.get(cmd.result.round_id)
    if rnd is None:
        raise from_refusal(DomainError(Code.UNKNOWN_ROUND, id=cmd.result.round_id).refusal)
    if rnd.result is None:
        raise from_refusal(DomainError(Code.ROUND_NOT_OPEN, id=rnd.id).refusal)
    return msgspec.structs.replace(cmd, result=rnd.result)


async def _with_removal_result(services: Services, council_id: str, cmd: council.VacateSeat) -> council.VacateSeat:
    """A removal rests on the result its session recorded for `round_id`, never on one the client sends."""
    if cmd.session_id is None or cmd.round_id is None:
        return msgspec.structs.replace(cmd, result=None)  # the domain refuses a removal without a result
    state, _ = await services.engine.state("session", cmd.session_id)
    if state is None or state.hall.council_id != council_id:
        raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=cmd.session_id).refusal)
    rnd = state.votes.rounds.get(cmd.round_id)
    if rnd is None:
        raise from_refusal(DomainError(Code.UNKNOWN_ROUND, id=cmd.round_id).refusal)
    if rnd.result is None:
        raise from_refusal(DomainError(Code.ROUND_NOT_OPEN, id=rnd.id).refusal)
    return msgspec.structs.replace(cmd, result=rnd.result)


async def _vacancy_to_sessions(
    services: Services, principal: Principal, council_id: str, cmd: council.VacateSeat
) -> None:
    """The council and each session are separate streams: after the council vacated a seat, every session of the
    council not yet closed records the vacancy (`record_vacancy`, same grounds), so its quorum, "all delegates"
    and eligibility follow. A session that refuses (already knows it) or is unavailable is logged; the
    secretariat can send `record_vacancy` itself."""
    for session_id, _ in await services.engine.streams_of(council_id, "session"):
        state, _ = await services.engine.state("session", session_id)
        if state is None or state.hall.status is SessionStatus.CLOSED or not state.hall.seated(cmd.delegate_id):
            continue
        record = sess.RecordVacancy(
            delegate_id=cmd.delegate_id,
            reason=cmd.reason,
            grounds=cmd.grounds,
            decision=cmd.decision,
            session_id=cmd.session_id if cmd.result is not None else None,
            round_id=cmd.round_id if cmd.result is not None else None,
        )
        try:
            reply = await services.engine.runtime("session", session_id).submit(
                principal, f"vacancy-{uuid.uuid4()}", record
            )
        except Unavailable:
            reply = None
        if reply is None or not reply.ok:
            log.warning("vacancy of %s not recorded in session %s: %s", cmd.delegate_id, session_id, reply)


class CouncilController(Controller):
    path = "/api/councils"
    tags = ["councils"]
    security = BEARER
    dependencies = {"principal": Provide(provide_principal)}
    request_max_body_size = MAX_BODY

    @post("/", summary="Create a council (admin)", status_code=201, responses=errors(*BODY, 401, 403, 409, 422, 503))
    async def create(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], data: JSONBody[NewCouncil]
    ) -> CommandOut:
        require_roles(principal, Role.ADMIN)
        try:
            level = Level(data.level)
        except ValueError as e:
            raise protocol_error(400, "malformed", "level must be province or commune") from e
        cmd = council.CreateCouncil(council_id=data.council_id, name=data.name, level=level)
        # A fresh id per request: a corrected retry after a refusal must be decided anew, not replayed.
        return await _submit(services, "council", data.council_id, principal, f"create-{uuid.uuid4()}", cmd)

    @get(
        "/{council_id:str}",
        summary="The council: rules, terms, roster, respondents, resolutions",
        responses=errors(*READ),
    )
    async def read(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], council_id: FromPath[str]
    ) -> dict[str, Any]:
        require_council(principal, council_id)
        state = await _council_state(services, council_id)
        out: dict[str, Any] = msgspec.to_builtins(state, order="deterministic")
        return out

    @post(
        "/{council_id:str}/commands",
        summary="Run a council command (roster, rules, terms, resolutions)",
        responses=errors(*COMMAND),
    )
    async def command(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        data: JSONBody[CouncilCommandIn],
    ) -> CommandOut:
        require_council(principal, council_id)
        cmd = data.command
        if isinstance(cmd, council.CreateCouncil):
            raise protocol_error(400, "malformed", "use POST /api/councils")
        if isinstance(cmd, council.NumberResolution):
            cmd = await _with_recorded_result(services, council_id, cmd)
        if isinstance(cmd, council.VacateSeat):
            cmd = await _with_removal_result(services, council_id, cmd)
        out = await _submit(services, "council", council_id, principal, data.id, cmd)
        if isinstance(cmd, council.VacateSeat) and not out.replayed:
            await _vacancy_to_sessions(services, principal, council_id, cmd)
        return out

    @get(
        "/{council_id:str}/resolutions",
        summary="Resolutions adopted by the council, by number",
        responses=errors(*READ),
    )
    async def resolutions(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], council_id: FromPath[str]
    ) -> list[Resolution]:
        require_council(principal, council_id)
        state = await _council_state(services, council_id)
        return sorted(state.resolutions.values(), key=lambda r: (r.adopted_on, r.sequence, r.seq))

    @get("/{council_id:str}/sessions", summary="The council's sessions", responses=errors(*READ))
    async def sessions(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal], council_id: FromPath[str]
    ) -> list[SessionSummary]:
        require_council(principal, council_id)
        await _council_state(services, council_id)  # 404 for a council that does not exist
        rows = await services.engine.streams_of(council_id, "session")
        out = []
        # A council holds a handful of sessions a year (4-8 with the extraordinary ones): one state read each.
        for i, t in rows:
            state, _ = await services.engine.state("session", i)
            if state is None:
                out.append(SessionSummary(session_id=i, title=t))
                continue
            status = state.hall.status
            opens = state.opens_on.isoformat()
            out.append(
                SessionSummary(
                    session_id=i,
                    title=t,
                    status=status,
                    status_vi=status.label_vi,
                    opens_on=opens,
                    term_id=state.term_id,
                )
            )
        return out

    @post(
        "/{council_id:str}/sessions",
        summary="Prepare a session from the council's roster and rules",
        status_code=201,
        responses=errors(*COMMAND),
    )
    async def prepare(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        data: JSONBody[NewSession],
    ) -> CommandOut:
        require_council(principal, council_id)
        require_roles(principal, Role.SECRETARY)
        state = await _council_state(services, council_id)
        try:
            cmd = council.prepare_session(
                state,
                session_id=data.session_id,
                title=data.title,
                opens_on=data.opens_on,
                kind=data.kind,
                place=data.place,
            )
        except DomainError as e:
            raise from_refusal(e.refusal) from e
        return await _submit(services, "session", data.session_id, principal, f"prepare-{uuid.uuid4()}", cmd)


PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))


class SessionController(Controller):
    path = "/api/sessions"
    tags = ["sessions"]
    request_max_body_size = MAX_BODY

    @get(
        "/{session_id:str}",
        summary="The session as the caller may see it (anonymous: the public view)",
        dependencies={"principal": Provide(provide_optional_principal)},
        security=OPTIONAL_BEARER,
        responses=errors(*READ),
    )
    async def read(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal | None],
        session_id: FromPath[str],
    ) -> SessionView:
        council_id = await _session_council(services, session_id)
        actor = PUBLIC
        if principal is not None:
            require_council(principal, council_id)
            actor = principal.actor
        view, seq = await services.engine.runtime("session", session_id).view_for(actor)
        return SessionView(seq=seq, state=view)

    @get(
        "/{session_id:str}/events",
        summary="The events after a sequence number that the caller may see",
        dependencies={"principal": Provide(provide_optional_principal)},
        security=OPTIONAL_BEARER,
        responses=errors(*READ, 409, text={409: "Too far behind: read the snapshot (`malformed`)"}),
    )
    async def events(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal | None],
        session_id: FromPath[str],
        after: int = Parameter(ge=0, default=0),
        limit: int = Parameter(ge=1, le=5000, default=1000),
    ) -> EventsOut:
        council_id = await _session_council(services, session_id)
        actor = PUBLIC
        if principal is not None:
            require_council(principal, council_id)
            actor = principal.actor
        rt = services.engine.runtime("session", session_id)
        await rt.refresh()
        cached = rt.events_after(after)
        if cached is None:
            raise protocol_error(409, "malformed", "too far behind: read the snapshot (GET /api/sessions/{id})")
        out = [protocol.EventMessage(seq=c.seq, event=c.event) for c in cached if c.audience.admits(actor)][:limit]
        return EventsOut(seq=rt.seq, events=out)

    @post(
        "/{session_id:str}/commands",
        summary="Run a session command; the same commands as over the WebSocket",
        dependencies={"principal": Provide(provide_principal)},
        security=BEARER,
        responses=errors(*COMMAND),
    )
    async def command(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
        data: JSONBody[SessionCommandIn],
    ) -> CommandOut:
        council_id = await _session_council(services, session_id)
        require_council(principal, council_id)
        return await _submit(services, "session", session_id, principal, data.id, data.command)


@get("/api/health", summary="Liveness", tags=["meta"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/api/schema", summary="JSON Schema of the realtime protocol", tags=["meta"])
async def schema() -> dict[str, Any]:
    return protocol.schema()
