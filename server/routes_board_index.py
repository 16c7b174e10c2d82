"""Every secret decision of a session and how it was counted (issue 13 §1–2): `GET /api/sessions/{id}/boards`.

One public place that says, for each secret round and confidence poll whose result is out, whether it was counted
verifiably (a bulletin board anyone can check: its path, SHA-256 and key ceremony), sealed on the server
(certified by the committee, not independently verifiable) or on paper (the committee counted by hand, the
secretariat entered the figures; the ballots are in the committee's sealed envelope). Named rounds are not listed:
their roll call is in the record.

Public like the per-round boards (server/routes_board.py): no token is read, and a decision appears only once its
result is published to everyone (a round's `RoundClosed`, a poll's `PollPublished`) — before that it is absent,
not refused, so the list never tells more than the hall already knows. A verifiable entry's digest is computed
from the very bytes the per-round route serves (its cache), so it equals that route's `x-content-sha256`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from meeting import polls, votes
from meeting.errors import Code, DomainError
from meeting.rules import BallotMode
from meeting.session import SessionState
from server import db
from server.errors import from_refusal
from server.openapi import errors
from server.routes_board import board_bytes
from server.services import Services

# The commands whose accepted audit row names who typed a paper count in (the events do not carry an actor).
PAPER_COMMANDS = {"vote_enter_paper_result": "round_id", "enter_paper_poll_result": "poll_id"}


class DecisionKind(StrEnum):
    VOTE = "vote"
    POLL = "poll"


class CountMode(StrEnum):
    VERIFIABLE = "verifiable"  # encrypted ballots, decrypted by the committee; a public board anyone can check
    SEALED = "sealed"  # counted by the server, counts sealed at rest, certified by the committee
    PAPER = "paper"  # counted by hand by the committee, figures entered by the secretariat


MODE_TEXT: dict[CountMode, tuple[str, str]] = {
    CountMode.VERIFIABLE: (
        "Có thể kiểm chứng: mỗi phiếu được mã hóa ngay trên máy tính bảng, Ban kiểm phiếu giải mã tổng số; "
        "bảng công khai có mọi phiếu và chứng minh, ai cũng tự kiểm tra được.",
        "Verifiable: each ballot was encrypted on the tablet and the counting committee decrypted only the total; "
        "the public board holds every ballot and proof, and anyone can check it.",
    ),
    CountMode.SEALED: (
        "Niêm phong trên máy chủ: máy chủ đếm phiếu kín và giữ số đếm đã mã hóa, Ban kiểm phiếu xác nhận kết quả. "
        "Không kiểm chứng độc lập được: kết quả dựa vào lòng tin vào máy chủ.",
        "Sealed on the server: the server counted the secret ballots and kept the counts encrypted, and the counting "
        "committee certified the result. It cannot be verified independently: it rests on trust in the server.",
    ),
    CountMode.PAPER: (
        "Kiểm phiếu giấy: Ban kiểm phiếu kiểm phiếu bằng tay, số phiếu được nhập vào hệ thống; các phiếu giấy "
        "được niêm phong trong phong bì của Ban kiểm phiếu.",
        "Paper ballots: the counting committee counted them by hand and the figures were entered into the system; "
        "the paper ballots are kept in the committee's sealed envelope.",
    ),
}


# A sealed round of a council that does not ask for certification (`Rules.secret_certification` off) has no
# committee: the sentence must not say one certified it.
SEALED_UNCERTIFIED = (
    "Niêm phong trên máy chủ: máy chủ đếm phiếu kín và giữ số đếm đã mã hóa; lượt này không có Ban kiểm phiếu xác "
    "nhận. Không kiểm chứng độc lập được: kết quả dựa vào lòng tin vào máy chủ.",
    "Sealed on the server: the server counted the secret ballots and kept the counts encrypted; no counting committee "
    "certified this round. It cannot be verified independently: it rests on trust in the server.",
)


def mode_text(mode: CountMode, certified: bool) -> tuple[str, str]:
    """What the mode means, in Vietnamese and English."""
    return SEALED_UNCERTIFIED if mode is CountMode.SEALED and not certified else MODE_TEXT[mode]


class Person(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str  # "" when the session's roster has no name for the id


class EnteredBy(msgspec.Struct, frozen=True, kw_only=True):
    """The account that entered a paper count, from the session's audit log (`kyhop audit verify` checks it)."""

    account_id: str
    name: str
    roles: list[str]


class BoardRef(msgspec.Struct, frozen=True, kw_only=True):
    path: str  # the per-round route; `kyhop verify-round` or verify.html checks what it serves
    sha256: str  # of the bytes that route serves (its `x-content-sha256`)
    ceremony_id: str
    fingerprint: str  # the key ceremony's, hex (docs/BALLOT-CRYPTO.md §5)


class SecretDecision(msgspec.Struct, frozen=True, kw_only=True):
    kind: DecisionKind
    id: str
    title: str  # a round's motion; a poll's kind and the officials on its ballot
    item_id: str
    item_title: str
    mode: CountMode
    mode_vi: str
    mode_en: str
    opened_at: datetime | None  # None: a paper poll entered without being opened electronically
    closed_at: datetime | None
    ballots: int  # cast (electronic) or entered (paper)
    ballots_entered: bool  # True: `ballots` is the committee's figure for a paper count
    total_delegates: int
    options: list[votes.OptionCount] = []  # a round's counts as published
    passed: bool | None = None  # a round only
    officials: list[polls.OfficialResult] = []  # a poll's counts as published
    certified_by: list[Person] = []
    board: BoardRef | None = None  # verifiable only
    entered_by: EnteredBy | None = None  # paper only, when the audit log names the account


class SessionBoards(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    title: str
    council_name: str
    decisions: list[SecretDecision]


def _people(state: SessionState, ids: list[str]) -> list[Person]:
    delegates = state.hall.delegates
    return [Person(id=i, name=delegates[i].name if i in delegates else "") for i in ids]


def _item_title(state: SessionState, item_id: str) -> str:
    item = state.agenda.items.get(item_id)
    return item.title if item is not None else ""


def _mode(mode: BallotMode, paper: bool) -> CountMode:
    if paper:
        return CountMode.PAPER
    return CountMode.VERIFIABLE if mode is BallotMode.VERIFIABLE else CountMode.SEALED


def _published(state: SessionState) -> list[tuple[DecisionKind, Any]]:
    """Secret rounds with a result and polls whose result is published, in the order they were held."""
    found: list[tuple[Any, DecisionKind, Any]] = []
    for r in state.votes.rounds.values():
        if r.secret and r.status is votes.RoundStatus.CLOSED and r.result is not None:
            found.append((r.opened_at, DecisionKind.VOTE, r))
    for p in state.polls.polls.values():
        if p.status is polls.PollStatus.CERTIFIED and p.result is not None:
            found.append((p.opened_at or p.closed_at, DecisionKind.POLL, p))
    found.sort(key=lambda f: (f[0], f[2].id))
    return [(k, x) for _, k, x in found]


async def _entered_by(services: Services, session_id: str) -> dict[tuple[str, str], EnteredBy]:
    """(command, round or poll id) -> the account whose paper count was accepted, from the session's audit chain
    (its actor is "<account id> <roles>"); the account's display name from the accounts table."""
    a, acc = db.audit.c, db.accounts.c
    async with services.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(a.actor, a.command, a.detail).where(
                    a.chain == f"session:{session_id}", a.command.in_(PAPER_COMMANDS), a.outcome.like("accepted%")
                )
            )
        ).all()
        ids = {str(actor).partition(" ")[0] for actor, _, _ in rows}
        names = dict((await conn.execute(sa.select(acc.id, acc.display_name).where(acc.id.in_(ids)))).all())
        await conn.rollback()
    out: dict[tuple[str, str], EnteredBy] = {}
    for actor, command, detail in rows:
        account_id, _, roles = str(actor).partition(" ")
        ident = str(msgspec.json.decode(detail).get(PAPER_COMMANDS[command], ""))
        name = str(names.get(account_id) or "")
        role_list = sorted(filter(None, roles.split(",")))
        out[(command, ident)] = EnteredBy(account_id=account_id, name=name, roles=role_list)
    return out


def _board_path(session_id: str, kind: DecisionKind, ident: str) -> str:
    return f"/api/sessions/{session_id}/{'rounds' if kind is DecisionKind.VOTE else 'polls'}/{ident}/board"


async def _board(services: Services, state: SessionState, kind: DecisionKind, x: Any) -> BoardRef:
    sid = state.hall.session_id
    data = await board_bytes(services, sid, "round" if kind is DecisionKind.VOTE else "poll", x.id, state)
    return BoardRef(
        path=_board_path(sid, kind, x.id),
        sha256=hashlib.sha256(data).hexdigest(),
        ceremony_id=x.ceremony_id or "",
        fingerprint=x.fingerprint,
    )


async def session_boards(services: Services, session_id: str) -> SessionBoards:
    state, _ = await services.engine.state("session", session_id)
    if not isinstance(state, SessionState):
        raise from_refusal(DomainError(Code.UNKNOWN_SESSION, id=session_id[: votes.MAX_ID]).refusal)
    found = _published(state)
    paper = any(x.paper for _, x in found)
    entered = await _entered_by(services, session_id) if paper else {}
    out: list[SecretDecision] = []
    for kind, x in found:
        mode = _mode(x.mode, x.paper)
        vi, en = mode_text(mode, bool(x.certified_by))
        board = await _board(services, state, kind, x) if mode is CountMode.VERIFIABLE else None
        if kind is DecisionKind.VOTE:
            r: votes.Round = x
            res = r.result
            assert res is not None
            out.append(
                SecretDecision(
                    kind=kind,
                    id=r.id,
                    title=r.motion,
                    item_id=r.item_id,
                    item_title=_item_title(state, r.item_id),
                    mode=mode,
                    mode_vi=vi,
                    mode_en=en,
                    opened_at=r.opened_at,
                    closed_at=res.closed_at,
                    ballots=res.ballots_collected,
                    ballots_entered=r.paper,
                    total_delegates=res.total_delegates,
                    options=list(res.options),
                    passed=res.passed,
                    certified_by=_people(state, r.certified_by),
                    board=board,
                    entered_by=entered.get(("vote_enter_paper_result", r.id)) if r.paper else None,
                )
            )
        else:
            p: polls.Poll = x
            pres = p.result
            assert pres is not None
            names = ", ".join(o.name for o in p.officials)
            out.append(
                SecretDecision(
                    kind=kind,
                    id=p.id,
                    title=f"{pres.kind_vi}: {names}",
                    item_id=p.item_id,
                    item_title=_item_title(state, p.item_id),
                    mode=mode,
                    mode_vi=vi,
                    mode_en=en,
                    opened_at=p.opened_at,
                    closed_at=p.closed_at,
                    ballots=pres.ballots_collected,
                    ballots_entered=p.paper,
                    total_delegates=pres.total_delegates,
                    officials=list(pres.officials),
                    certified_by=_people(state, p.certified_by),
                    board=board,
                    entered_by=entered.get(("enter_paper_poll_result", p.id)) if p.paper else None,
                )
            )
    return SessionBoards(
        session_id=state.hall.session_id, title=state.title, council_name=state.hall.council_name, decisions=out
    )


class BoardIndexController(Controller):
    path = "/api/sessions"
    tags = ["sessions"]

    @get(
        "/{session_id:str}/boards",
        summary="Every secret round and confidence poll of a session with a published result, and how each was "
        "counted (public)",
        description="Mode `verifiable` (with the bulletin board's path, its SHA-256 — the per-round route's "
        "`x-content-sha256` — and the key ceremony), `sealed` (server-sealed, certified by the committee, not "
        "independently verifiable) or `paper` (counted by hand, entered by the named account). A decision whose "
        "result is not published yet is absent; named rounds are never listed. 404: no such session.",
        responses=errors(400, 404, 503),
    )
    async def boards(self, services: NamedDependency[Services], session_id: FromPath[str]) -> SessionBoards:
        return await session_boards(services, session_id)
