"""The two loops every aggregate shares: decide-then-apply, and replay from the first event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from meeting.actors import Context
from meeting.messages import Command, Event, Routed

S = TypeVar("S")


def execute(
    decide: Callable[[S | None, Command, Context], list[Routed]],
    apply: Callable[[S | None, Event], S],
    state: S | None,
    cmd: Command,
    ctx: Context,
) -> tuple[S, list[Routed]]:
    """Decide and apply in one step (tests, the demo, replays). Raises `DomainError` on a refusal."""
    routed = decide(state, cmd, ctx)
    for r in routed:
        state = apply(state, r.event)
    if state is None:
        raise AssertionError("a command on a missing aggregate produced no creating event")
    return state, routed


def replay(apply: Callable[[S | None, Event], S], events: Iterable[Event]) -> S:
    state: S | None = None
    for e in events:
        state = apply(state, e)
    if state is None:
        raise ValueError("no events")
    return state
