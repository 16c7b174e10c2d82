"""STUB — replaced by the real module."""

from __future__ import annotations

import msgspec

from meeting.actors import Context
from meeting.hall import Hall
from meeting.messages import Command, Event, Routed


class Votes(msgspec.Struct, kw_only=True):
    pass


COMMANDS: tuple[type[Command], ...] = ()
EVENTS: tuple[type[Event], ...] = ()


def decide(hall: Hall, state: Votes, cmd: Command, ctx: Context) -> list[Routed]:
    raise AssertionError(cmd)


def apply(state: Votes, event: Event) -> None:
    raise AssertionError(event)


def busy(state: Votes) -> bool:
    return False
