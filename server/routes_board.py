"""The bulletin board of a verifiable secret round (issue 13): `GET /api/sessions/{id}/rounds/{round}/board`.

Public once the result is announced (anyone may check a count: docs/BALLOT-CRYPTO.md §8–9), refused before —
the ballots and partial decryptions of a round still counting are for staff and the committee. Built from the
session log alone (the ceremony transcript, the ballots, the accepted partials), every record checked again as
it is built (~1.5 ms per ballot), then kept: a closed round's board never changes.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from meeting import polls, verifiable, verifiable_polls, votes
from meeting.errors import Code, DomainError
from meeting.rules import BallotMode
from meeting.session import SessionState
from server import verifier
from server.errors import from_refusal
from server.openapi import errors
from server.services import Services

# A session holds a few dozen rounds; a 125-ballot board is ~0.5 MB: 64 boards stay well under 50 MB.
MAX_CACHED_BOARDS = 64
_boards: OrderedDict[tuple[str, str], bytes] = OrderedDict()  # (session, "round:<id>" | "poll:<id>")


def _refuse(code: Code, **params: str) -> Exception:
    return from_refusal(DomainError(code, **params).refusal)


def board_of(state: SessionState, round_id: str) -> bytes:
    """The board JSON of a closed verifiable round of `state` (raises the refusal the route sends)."""
    r = state.votes.rounds.get(round_id)
    if r is None:
        raise _refuse(Code.UNKNOWN_ROUND, id=round_id[: votes.MAX_ID])
    if r.mode is not BallotMode.VERIFIABLE:
        raise _refuse(
            Code.WRONG_BALLOT_MODE,
            id=r.id,
            expected_vi="không phải lượt bỏ phiếu kín có thể kiểm chứng, không có bảng công khai",
            expected_en="is not a verifiable secret round and has no bulletin board",
        )
    if r.result is None:
        raise _refuse(Code.BOARD_NOT_PUBLISHED, id=r.id)
    c = state.ceremonies.by_id[r.ceremony_id or ""]
    partials = [r.partials[m] for m in r.certified_by]
    return verifier.build_board(c.transcript(), verifiable.round_crypto(state.hall, r), r.ballots, partials)


def poll_board_of(state: SessionState, poll_id: str) -> bytes:
    """The board JSON of a verifiable confidence poll whose result is published (as `board_of`)."""
    poll = state.polls.polls.get(poll_id)
    if poll is None:
        raise _refuse(Code.UNKNOWN_POLL, id=poll_id[: votes.MAX_ID])
    if poll.mode is not BallotMode.VERIFIABLE:
        raise from_refusal(polls.wrong_mode(poll).refusal)
    if poll.status is not polls.PollStatus.CERTIFIED:
        raise _refuse(Code.BOARD_NOT_PUBLISHED, id=poll.id)
    c = state.ceremonies.by_id[poll.ceremony_id or ""]
    partials = [poll.partials[m] for m in poll.certified_by]
    rnd = verifiable_polls.poll_crypto(state.hall, poll)
    return verifier.build_board(c.transcript(), rnd, poll.ballots, partials)


async def board_bytes(
    services: Services, session_id: str, kind: str, ident: str, state: SessionState | None = None
) -> bytes:
    """A board's JSON from the cache, built once (kind "round" or "poll"); the session index
    (server/routes_board_index.py) takes its digest from the same bytes, so it equals `x-content-sha256`."""
    key = (session_id, f"{kind}:{ident}")
    data = _boards.get(key)
    if data is None:
        if state is None:
            state, _ = await services.engine.state("session", session_id)
        if state is None:
            raise _refuse(Code.UNKNOWN_SESSION, id=session_id[: votes.MAX_ID])
        build = board_of if kind == "round" else poll_board_of
        data = await asyncio.to_thread(build, state, ident)
        _boards[key] = data
        while len(_boards) > MAX_CACHED_BOARDS:
            _boards.popitem(last=False)
    return data


async def _cached(services: Services, session_id: str, kind: str, ident: str) -> Response[bytes]:
    data = await board_bytes(services, session_id, kind, ident)
    return Response(
        content=data,
        media_type="application/json",
        headers={
            "content-disposition": f'inline; filename="board-{session_id}-{ident}.json"',
            "x-content-sha256": hashlib.sha256(data).hexdigest(),
        },
    )


class BoardController(Controller):
    path = "/api/sessions"
    tags = ["sessions"]

    @get(
        "/{session_id:str}/rounds/{round_id:str}/board",
        summary="The bulletin board of a verifiable secret round (public once its result is announced)",
        description="The JSON of docs/BALLOT-CRYPTO.md §8: check it offline with `kyhop verify-round FILE`. "
        "404: no such session or round; 409: not a verifiable round, or its result is not announced yet.",
        responses=errors(400, 404, 409, 503),
        media_type="application/json",
    )
    async def board(
        self, services: NamedDependency[Services], session_id: FromPath[str], round_id: FromPath[str]
    ) -> Response[bytes]:
        return await _cached(services, session_id, "round", round_id)

    @get(
        "/{session_id:str}/polls/{poll_id:str}/board",
        summary="The bulletin board of a verifiable confidence poll (public once its result is published)",
        description="The JSON of docs/BALLOT-CRYPTO.md §8 (one question per official): check it offline with "
        "`kyhop verify-round FILE`. 404: no such session or poll; 409: not a verifiable poll, or its result is "
        "not published yet.",
        responses=errors(400, 404, 409, 503),
        media_type="application/json",
    )
    async def poll_board(
        self, services: NamedDependency[Services], session_id: FromPath[str], poll_id: FromPath[str]
    ) -> Response[bytes]:
        return await _cached(services, session_id, "poll", poll_id)
