"""The realtime protocol: every message on a session's WebSocket, client → server and server → client.

Messages are msgspec structs tagged by `type`. A command inside a `command` message is any session command of
the domain (also tagged by `type`); an event inside an `event` message is any session event. `schema()` exports
a JSON Schema of all of it for client authors (`kyhop schema`, `GET /api/schema`).

Flow: the client sends `hello` (token, last sequence number seen); the server answers `welcome` and then
either the events after that number or a `snapshot` followed by later events; from then on `event` messages
arrive in sequence order, and every `command` gets exactly one `result` with the same client-made id.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from meeting import session
from meeting.errors import Refusal

# Unions built from the registry, so a new sub-machine's commands and events join the protocol by themselves.
SessionCommand: Any = Union[session.ALL_COMMANDS]  # noqa: UP007
SessionEvent: Any = Union[session.ALL_EVENTS]  # noqa: UP007


# --- client → server
class Hello(msgspec.Struct, frozen=True, kw_only=True, tag="hello"):
    token: str | None = None  # None: the anonymous public
    last_seq: int | None = None  # None: send a snapshot


class SendCommand(msgspec.Struct, frozen=True, kw_only=True, tag="command"):
    id: str  # made by the client, unique per account; a retry with the same id gets the first answer
    command: SessionCommand


ClientMessage = Hello | SendCommand


# --- server → client
class Welcome(msgspec.Struct, frozen=True, kw_only=True, tag="welcome"):
    session_id: str
    seq: int  # the newest sequence number at the time of welcome
    roles: list[str]
    person_id: str | None
    resumed: bool  # True: the events after last_seq follow; False: a snapshot follows


class EventMessage(msgspec.Struct, frozen=True, kw_only=True, tag="event"):
    seq: int
    event: SessionEvent


class Snapshot(msgspec.Struct, frozen=True, kw_only=True, tag="snapshot"):
    seq: int  # the state after this sequence number; events with larger numbers follow
    state: dict[str, Any]  # meeting.views.view(state, actor): what this actor may see


class Result(msgspec.Struct, frozen=True, kw_only=True, tag="result"):
    id: str
    ok: bool
    seqs: list[int] = []  # the sequence numbers of the events this command produced (visible or not)
    error: Refusal | None = None
    replayed: bool = False  # True when this is the stored answer to an earlier command with the same id


class ErrorMessage(msgspec.Struct, frozen=True, kw_only=True, tag="error"):
    """A message that could not be taken at all (malformed, too large, too fast, not signed in)."""

    code: str
    message_vi: str
    message_en: str
    id: str | None = None


ServerMessage = Welcome | EventMessage | Snapshot | Result | ErrorMessage


def schema() -> dict[str, Any]:
    (client, server), components = msgspec.json.schema_components([ClientMessage, ServerMessage])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Kỳ họp realtime protocol",
        "client_to_server": client,
        "server_to_client": server,
        "$defs": components,
    }
