"""Base classes for every command and event, and the envelope that says who may see an event.

Every command and event is a frozen msgspec struct tagged with a snake_case `type`, so a tagged union of
them decodes straight from the wire and a JSON Schema can be exported for client authors.
"""

from __future__ import annotations

import msgspec

from meeting.actors import Audience


class Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Something a person asks for. It may be refused."""


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Something that happened. Applying it cannot fail."""


class Routed(msgspec.Struct, frozen=True, kw_only=True):
    """An event with the audience the domain allows to see it."""

    event: Event
    audience: Audience
