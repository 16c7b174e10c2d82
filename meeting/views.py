"""What one person may see of a session: the state rebuilt from the events their audience admits.

A snapshot is never a redacted copy of the full state (a redaction rule forgotten is a leak); it is the
session replayed from exactly the events this actor may see, so a snapshot holds nothing that the events sent
to the same actor would not. It follows that a client that takes a snapshot at sequence k and then applies the
events after k that it receives ends with the same state as a fresh snapshot — the property the server tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from meeting import session
from meeting.actors import Actor, Audience
from meeting.messages import Event


def viewer_key(actor: Actor) -> tuple[frozenset[str], str | None]:
    """Actors with the same key see the same events."""
    return frozenset(actor.roles), actor.person_id


class View:
    """An actor's view, kept up to date incrementally by `advance`."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.state: session.SessionState | None = None
        self.seq = 0
        self.wire: tuple[bytes, int] | None = None  # the server's encoded snapshot cache (bytes, seq)

    def advance(self, events: Iterable[tuple[int, Audience, Event]]) -> None:
        for seq, audience, event in events:
            if seq <= self.seq:
                continue
            if audience.admits(self.actor):
                self.state = session.apply(self.state, event)
            self.seq = seq

    def snapshot(self) -> dict[str, Any]:
        if self.state is None:
            return {}
        return dict(msgspec.to_builtins(self.state, order="deterministic"))


def visible_state(events: Iterable[tuple[int, Audience, Event]], actor: Actor) -> session.SessionState | None:
    v = View(actor)
    v.advance(events)
    return v.state
