"""STUB — replaced by the real module."""

from __future__ import annotations

import msgspec

from meeting.actors import Context
from meeting.hall import Hall
from meeting.messages import Command, Event, Routed


class Questioning(msgspec.Struct, kw_only=True):
    pass


COMMANDS: tuple[type[Command], ...] = ()
EVENTS: tuple[type[Event], ...] = ()


def decide(hall: Hall, state: Questioning, cmd: Command, ctx: Context) -> list[Routed]:
    raise AssertionError(cmd)


def apply(state: Questioning, event: Event) -> None:
    raise AssertionError(event)


def busy(state: Questioning) -> bool:
    return False
