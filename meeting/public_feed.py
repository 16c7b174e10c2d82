"""The public feed: what a broadcaster's overlay, the council's website and the public phone page show.

A projection of the PUBLIC audience's view of the session (meeting/views.py `visible_state` with the public
actor), so it can hold nothing the public WebSocket would not send: no per-option count of a round before its
result is announced (the public never receives `SecretBallot`, `BallotCast` or `RoundCounted`), no link between
a delegate and a choice in a secret round (no event carries one to anybody). The one thing added from outside
that view is the named roll call of a CLOSED named round (`named_record`): how each delegate voted in a named
vote is public record (it is in the minutes), but the public view never receives the individual `BallotCast`
events, so the server passes it in. The projection itself drops it for any round the public knows as secret,
still open, cancelled or counted on paper — a mistake in the caller cannot publish a secret choice.

Sans-I/O: the time (`now`, so clients can correct their clock for the countdowns) comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import msgspec

from meeting.agenda import ItemStatus
from meeting.hall import SessionStatus
from meeting.polls import PollResult, PollStatus
from meeting.questioning import TurnKind
from meeting.rules import BallotMode, PassRule
from meeting.session import SessionState
from meeting.votes import Round, RoundStatus

FEED_VERSION = 1

PASS_RULE_VI = {
    PassRule.MAJORITY_OF_ALL: "quá nửa tổng số đại biểu",
    PassRule.TWO_THIRDS_OF_ALL: "ít nhất 2/3 tổng số đại biểu",
    PassRule.MAJORITY_OF_BALLOTS: "quá nửa tổng số phiếu thu về",
}
TURN_VI = {
    TurnKind.QUESTION: "Chất vấn",
    TurnKind.ANSWER: "Trả lời chất vấn",
    TurnKind.REBUTTAL: "Tranh luận",
}


class FeedItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    kind: str  # resolution, report, questioning, confidence, other
    status: str  # pending, current, done
    number: int  # 1-based place in the agenda


class FeedSpeaker(msgspec.Struct, frozen=True, kw_only=True):
    """Who has the floor: a speech (`kind` "speech") or a questioning turn (question, answer, rebuttal)."""

    kind: str
    kind_vi: str  # "Phát biểu", "Chất vấn", "Trả lời chất vấn", "Tranh luận"
    name: str
    position: str  # a respondent's office (e.g. "Giám đốc Sở Y tế"); "" for a delegate
    seconds: int
    started_at: datetime
    ends_at: datetime  # the countdown's end: clients count down to it (corrected by `Feed.now`)


class FeedVote(msgspec.Struct, frozen=True, kw_only=True):
    """A round being voted on or counted. Only how many have voted — never any option's count."""

    round_id: str
    item_id: str
    motion: str
    secret: bool
    paper: bool
    status: str  # open (đang biểu quyết) or counted (kiểm phiếu, chờ Ban kiểm phiếu xác nhận)
    ballots_cast: int
    eligible: int
    opened_at: datetime
    closes_at: datetime | None


class FeedOption(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str
    count: int
    share_of_all: float  # percent of all delegates, 2 decimals, for display


class FeedChoice(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a named round's roll call (never present for a secret round)."""

    delegate_id: str
    name: str
    option: str
    label: str


class FeedResult(msgspec.Struct, frozen=True, kw_only=True):
    round_id: str
    item_id: str
    motion: str
    secret: bool
    paper: bool
    passed: bool
    options: list[FeedOption]
    ballots_collected: int
    total_delegates: int
    needed: int  # the count of the first option needed to pass
    pass_rule: str
    pass_rule_vi: str
    closed_at: datetime
    announced_at: datetime | None  # when the chair announced it (the overlay puts it up large then)
    choices: list[FeedChoice]  # a named round's roll call, by name; always empty for a secret round
    # Issue 13 §2, the board says which mode counted a round: true for an electronic secret round counted
    # verifiably (its bulletin board: GET /api/sessions/{id}/rounds/{round}/board, checked by verify.html); a
    # secret, electronic round with false was sealed (the server counted).
    verifiable: bool = False


class Feed(msgspec.Struct, frozen=True, kw_only=True):
    """The public feed's one message: the whole picture at sequence number `seq` (a later one replaces it)."""

    version: int
    session_id: str
    seq: int  # the session's event sequence number this picture is at (the SSE `id`)
    now: datetime  # the server's clock when this picture was made (the JSON snapshot: when it was answered)
    title: str
    council_name: str
    place: str
    opens_on: date
    status: str  # prepared, checkin_open, in_progress, suspended, closed
    status_vi: str  # chuẩn bị, đang điểm danh, đang họp, tạm dừng, đã bế mạc
    suspension_reason: str
    present: int
    total: int
    current_item: FeedItem | None
    speaker: FeedSpeaker | None
    votes: list[FeedVote]
    results: list[FeedResult]  # closed rounds, oldest first
    polls: list[PollResult]  # confidence polls whose result the counting committee certified (published)
    agenda: list[FeedItem]


def _result(state: SessionState, r: Round, named: Mapping[str, str] | None) -> FeedResult | None:
    res = r.result
    if res is None or r.status is not RoundStatus.CLOSED:
        return None
    labels = {o.key: o.label for o in r.options}
    choices: list[FeedChoice] = []
    if named and not r.secret and not res.secret and not r.paper:
        delegates = state.hall.delegates
        for did in sorted(named, key=lambda d: (delegates[d].name if d in delegates else d, d)):
            opt = named[did]
            d = delegates.get(did)
            choices.append(
                FeedChoice(delegate_id=did, name=d.name if d else did, option=opt, label=labels.get(opt, opt))
            )
    return FeedResult(
        round_id=r.id,
        item_id=r.item_id,
        motion=res.motion,
        secret=res.secret,
        paper=res.paper,
        passed=res.passed,
        options=[FeedOption(key=o.key, label=o.label, count=o.count, share_of_all=o.share_of_all) for o in res.options],
        ballots_collected=res.ballots_collected,
        total_delegates=res.total_delegates,
        needed=res.needed,
        pass_rule=res.pass_rule.value,
        pass_rule_vi=PASS_RULE_VI.get(res.pass_rule, res.pass_rule.value),
        closed_at=res.closed_at,
        announced_at=r.announced_at,
        choices=choices,
        verifiable=r.secret and not r.paper and r.mode is BallotMode.VERIFIABLE,
    )


def _speaker(state: SessionState) -> FeedSpeaker | None:
    hall = state.hall
    speech = state.speakers.current
    if speech is not None and speech.ended_at is None:
        d = hall.delegates.get(speech.delegate_id)
        return FeedSpeaker(
            kind="speech",
            kind_vi="Phát biểu",
            name=d.name if d else "",
            position="",
            seconds=speech.seconds,
            started_at=speech.started_at,
            ends_at=speech.ends_at,
        )
    turn = state.questioning.floor
    if turn is not None and turn.ended_at is None:
        if turn.kind is TurnKind.ANSWER:
            resp = hall.respondents.get(turn.speaker_id)
            name, position = (resp.name, resp.position) if resp else ("", "")
        else:
            d = hall.delegates.get(turn.speaker_id)
            name, position = (d.name if d else ""), ""
        return FeedSpeaker(
            kind=turn.kind.value,
            kind_vi=TURN_VI[turn.kind],
            name=name,
            position=position,
            seconds=turn.seconds,
            started_at=turn.started_at,
            ends_at=turn.ends_at,
        )
    return None


def project(
    state: SessionState,
    seq: int,
    now: datetime,
    named_record: Mapping[str, Mapping[str, str]] | None = None,
) -> Feed:
    """The feed from the PUBLIC view `state` at `seq`, plus the roll calls of closed named rounds
    (`named_record`: round id → delegate id → option key)."""
    hall = state.hall
    agenda = [
        FeedItem(id=it.id, title=it.title, kind=it.kind.value, status=it.status.value, number=n)
        for n, it in enumerate((state.agenda.items[i] for i in state.agenda.order if i in state.agenda.items), 1)
    ]
    current = next((it for it in agenda if it.id == hall.current_item), None)
    if current is None:
        current = next((it for it in agenda if it.status == ItemStatus.CURRENT.value), None)
    votes: list[FeedVote] = []
    results: list[FeedResult] = []
    named_record = named_record or {}
    for r in state.votes.rounds.values():
        if r.status in (RoundStatus.OPEN, RoundStatus.COUNTED):
            votes.append(
                FeedVote(
                    round_id=r.id,
                    item_id=r.item_id,
                    motion=r.motion,
                    secret=r.secret,
                    paper=r.paper,
                    status=r.status.value,
                    ballots_cast=r.ballots_reported,
                    eligible=len(r.eligible),
                    opened_at=r.opened_at,
                    closes_at=r.closes_at,
                )
            )
        else:
            res = _result(state, r, named_record.get(r.id))
            if res is not None:
                results.append(res)
    results.sort(key=lambda x: x.closed_at)
    closed = hall.status is SessionStatus.CLOSED
    return Feed(
        version=FEED_VERSION,
        session_id=hall.session_id,
        seq=seq,
        now=now,
        title=state.title,
        council_name=hall.council_name,
        place=state.place,
        opens_on=state.opens_on,
        status=hall.status.value,
        status_vi=hall.status.label_vi,
        suspension_reason=hall.suspension_reason if hall.status is SessionStatus.SUSPENDED else "",
        present=len(hall.present_seated()),
        total=hall.total,
        # A closed session has no item under discussion (the last one stays "current" in the agenda).
        current_item=None if closed else current,
        speaker=None if closed else _speaker(state),
        votes=votes,
        results=results,
        polls=[
            p.result for p in state.polls.polls.values() if p.status is PollStatus.CERTIFIED and p.result is not None
        ],
        agenda=agenda,
    )
