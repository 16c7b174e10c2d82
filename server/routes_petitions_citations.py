"""Where a petition was raised in a session (issue 14 "the questioning record links back").

A delegate registers a question from an unresolved item with its link kept (`Question.link` =
"petitions:<council>:<term>#<item>", meeting/questioning.py); the minutes print it. This is the other direction:
`GET …/items/{item}/citations` lists, for whoever may read the item (`may_see`, as `GET …/items/{item}`), the
sessions and questions that cite it — session title, delegate, respondent, when it was registered, its status,
the answer and the commitment recorded — and, for a commitment, the question whose answer made it.

Scanned, not indexed. A council holds 2 regular sessions a year and 2–6 thematic or extraordinary ones: 20–40 in
a five-year term (the brief's province: ~10); a questioning sitting takes 10–40 questions, a few hundred at most
are registered. The route reads the council's session states, as `GET /api/councils/{id}/sessions` already does
(one state each, kept in the worker after the first read, each read checking the log for newer events: one
query), keeps those of the register's term (and of the term an item was carried from), and compares every
question's link. Measured on this 2-core machine under load: the comparison over 40 sessions × 300 questions
(12 000) 0.8 ms median; the whole route on the demo's one session 7 ms median against 2.8 ms for
`GET …/items/{item}` (SQLite), so ~4 ms a session, ~40 ms for a term of 10, ~160 ms for 40. An index (a
projection table written with the session's events, like `petition_items`) is the next step if councils keep
many terms' sessions on one host.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from meeting import questioning as qn
from meeting.actors import DELEGATES, Actor
from meeting.petitions_model import PetitionsState, TrackedItem
from meeting.session import SessionState
from server.auth import Principal, provide_principal
from server.openapi import BEARER, errors
from server.routes import READ
from server.routes_petitions import _REGISTER_TEXT, _readable_item
from server.services import Services

# Asked on the floor (called, answered): what the public heard. A question only registered, or withdrawn before
# it was called, went to the hall alone (QuestionRegistered's audience is DELEGATES), so the Standing Committee,
# the Front and an agency's official are not shown it here either.
_ON_THE_FLOOR = (qn.QuestionStatus.CALLED, qn.QuestionStatus.ANSWERING, qn.QuestionStatus.ANSWERED)


class CitedCommitment(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    due: date | None
    status: qn.CommitmentStatus


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    """One question of one session that raised the item (or, `origin`, whose answer made the commitment)."""

    session_id: str
    session_title: str
    opens_on: date
    question_id: str
    delegate_id: str
    delegate_name: str
    respondent_name: str
    respondent_position: str
    topic: str
    registered_at: datetime
    status: qn.QuestionStatus
    status_vi: str
    answer: str | None
    commitment: CitedCommitment | None
    link: str  # the link the question keeps ("" for the origin of a commitment)
    origin: bool = False


class Citations(msgspec.Struct, frozen=True, kw_only=True):
    item_id: str
    links: list[str]  # the links looked for: this register's, and the earlier term's when carried over
    sessions_scanned: int
    citations: list[Citation]


def item_links(state: PetitionsState, item: TrackedItem) -> list[str]:
    own = f"petitions:{state.council_id}:{state.term_id}#{item.id}"
    return [own, item.carried_from] if item.carried_from else [own]


def _term_of(link: str) -> str:
    return link.removeprefix("petitions:").split(":", 1)[-1].split("#", 1)[0]


def citations_in(
    sessions: list[SessionState], item: TrackedItem, links: list[str], actor: Actor
) -> tuple[int, list[Citation]]:
    """The questions of `sessions` that cite one of `links`, as `actor` may know of them, oldest first; and how
    many sessions were of the terms looked in."""
    terms = {_term_of(link) for link in links}
    wanted = set(links)
    in_hall = DELEGATES.admits(actor)
    origin = (item.link.session_id, item.link.question_id) if item.link is not None else None
    scanned = 0
    out: list[Citation] = []
    for s in sessions:
        if s.term_id not in terms and (origin is None or origin[0] != s.hall.session_id):
            continue
        scanned += 1
        for q in s.questioning.questions.values():
            is_origin = origin == (s.hall.session_id, q.id)
            if not is_origin and q.link not in wanted:
                continue
            if not in_hall and q.status not in _ON_THE_FLOOR:
                continue
            d = s.hall.delegates.get(q.delegate_id)
            r = s.hall.respondents.get(q.respondent_id)
            c = q.commitment
            out.append(
                Citation(
                    session_id=s.hall.session_id,
                    session_title=s.title,
                    opens_on=s.opens_on,
                    question_id=q.id,
                    delegate_id=q.delegate_id,
                    delegate_name=d.name if d is not None else q.delegate_id,
                    respondent_name=r.name if r is not None else q.respondent_id,
                    respondent_position=r.position if r is not None else "",
                    topic=q.topic,
                    registered_at=q.registered_at,
                    status=q.status,
                    status_vi=q.status.label_vi,
                    answer=q.answer,
                    commitment=None if c is None else CitedCommitment(text=c.text, due=c.due, status=c.status),
                    link="" if is_origin else (q.link or ""),
                    origin=is_origin,
                )
            )
    out.sort(key=lambda c: (c.opens_on, c.session_id, c.registered_at, c.question_id))
    return scanned, out


class PetitionCitationsController(Controller):
    path = "/api/councils/{council_id:str}/petitions/{term_id:str}/items/{item_id:str}/citations"
    tags = ["petitions"]
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @get(
        "/",
        summary="The sessions and questions that raised an item (whoever may read the item)",
        description="Questions registered with the item's link (`petitions:<council>:<term>#<item>`, or the "
        "earlier term's for an item carried over), oldest first, with the session, delegate, respondent, status, "
        "answer and commitment; for a commitment also the question it came from (`origin`). Those outside the "
        "hall (Standing Committee, Front, an agency) see only questions that were put on the floor.",
        responses=errors(*READ, text=_REGISTER_TEXT),
    )
    async def citations(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        council_id: FromPath[str],
        term_id: FromPath[str],
        item_id: FromPath[str],
    ) -> Citations:
        state, item = await _readable_item(services, principal, council_id, term_id, item_id)
        sessions: list[SessionState] = []
        for session_id, _ in await services.engine.streams_of(council_id, "session"):
            s, _seq = await services.engine.state("session", session_id)
            if isinstance(s, SessionState):
                sessions.append(s)
        links = item_links(state, item)
        scanned, found = citations_in(sessions, item, links, principal.actor)
        return Citations(item_id=item.id, links=links, sessions_scanned=scanned, citations=found)


ROUTES = [PetitionCitationsController]
