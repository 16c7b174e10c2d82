"""How the store keeps secret ballots: "who voted" and "what was chosen" as two unlinkable facts.

The domain emits, for each secret ballot, a public "delegate X voted" event and a SEALED event with the
anonymous choice. The store writes the first to the ordered event log (and to the one-ballot `voters` table)
and turns the second into increments of per-round counters — never a row per ballot, so no row order, id or
time can link it to a voter. These pure functions tell the store which counters exist, which to increment,
and how to rebuild sealed events from the counters when it reloads a session.

Counter rounds are namespaced ("vote:<round id>", "poll:<poll id>") because a vote and a poll may share an id.
"""

from __future__ import annotations

from typing import Any

from meeting import polls, votes
from meeting.messages import Event
from meeting.rules import BallotMode

# Command fields that hold a ballot's content; the audit log never stores them.
# An encrypted ballot ("ballot") reveals no choice, but the audit row names the account: kept out, so even a
# committee that colludes to decrypt single ballots from the board cannot join one to a delegate through it.
CHOICE_FIELDS = ("option", "marks", "ballot")


def _vote(round_id: str) -> str:
    return f"vote:{round_id}"


def _poll(poll_id: str) -> str:
    return f"poll:{poll_id}"


def ballot_marker(event: Event) -> tuple[str, str] | None:
    """(round, delegate) for the one-ballot table, from the event that records *that* a delegate voted."""
    match event:
        case votes.DelegateVoted():
            return _vote(event.round_id), event.delegate_id
        case polls.PollDelegateVoted():
            return _poll(event.poll_id), event.delegate_id
    return None


def counters_opened(event: Event) -> str | None:
    """The round whose sealed counters the store creates when a secret round opens."""
    match event:
        # A verifiable round has nothing to seal: its ballots are encrypted to the committee (meeting/verifiable.py).
        case votes.RoundOpened() if event.secret and not event.paper and event.mode is BallotMode.SEALED:
            return _vote(event.round_id)
        case polls.PollOpened():
            return _poll(event.poll_id)
    return None


def counters_closed(event: Event) -> str | None:
    """The round whose counters are dropped: its counts now live in the result event (for a certified secret round
    the committee's count, `RoundCounted`; its later `RoundClosed` drops nothing more)."""
    match event:
        case votes.RoundCounted() | votes.RoundClosed() | votes.RoundCancelled():
            return _vote(event.round_id)
        case polls.PollCounted() | polls.PollCancelled():
            return _poll(event.poll_id)
    return None


def increments(event: Event) -> tuple[str, list[str]] | None:
    match event:
        case votes.SecretBallot():
            return _vote(event.round_id), [event.option]
        case polls.SealedPollBallot():
            return _poll(event.poll_id), [f"{o}:{m.value}" for o, m in event.marks.items()]
    return None


def current_counts(state: Any, round_key: str) -> dict[str, int]:
    """Every counter of a round as the state holds it now (the store seals and writes them all at once)."""
    kind, ident = round_key.split(":", 1)
    if kind == "vote":
        return dict(state.votes.rounds[ident].tally)
    poll = state.polls.polls[ident]
    return {f"{o}:{m}": n for o, by_mark in poll.counts.items() for m, n in by_mark.items()}


def reset_sealed(state: Any) -> None:
    """Forget what sealed events added to rounds still collecting ballots, before re-adding from counters."""
    for r in state.votes.rounds.values():
        if r.secret and r.status is votes.RoundStatus.OPEN:
            r.tally = dict.fromkeys(r.tally, 0)
    for p in state.polls.polls.values():
        if p.status is polls.PollStatus.OPEN:
            p.counts = {o: dict.fromkeys(c, 0) for o, c in p.counts.items()}


def sealed_from_counts(round_key: str, counts: dict[str, int]) -> list[Event]:
    """Sealed events equivalent to the counters: the same totals, in an order that carries no information."""
    kind, ident = round_key.split(":", 1)
    out: list[Event] = []
    if kind == "vote":
        for option, n in sorted(counts.items()):
            out.extend(votes.SecretBallot(round_id=ident, option=option) for _ in range(n))
        return out
    # A poll ballot marks every official once, so every official's counters add up to the same number of
    # ballots; ballot j takes each official's j-th mark. Counting is per official, so the totals match.
    per_official: dict[str, list[polls.Mark]] = {}
    for key, n in sorted(counts.items()):
        official, mark = key.rsplit(":", 1)
        per_official.setdefault(official, []).extend([polls.Mark(mark)] * n)
    ballots = max((len(v) for v in per_official.values()), default=0)
    for j in range(ballots):
        marks = {o: ms[j] for o, ms in per_official.items() if j < len(ms)}
        out.append(polls.SealedPollBallot(poll_id=ident, marks=marks))
    return out
