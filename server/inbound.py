"""What a client's text must be before it is decoded: bounded nesting, no control characters, printable ids.

One check for both transports. A WebSocket frame (server/ws.py) and a REST body (`CheckedRequest.json`, the one
place Litestar decodes a JSON body) are checked here before msgspec sees them; a path or query string is checked
before its route runs (`refuse_bad_path`). Whatever fails is `malformed` — HTTP 400, or an error message on the
socket — and nothing reaches the domain or the database.

Why these rules:
- **Nesting.** msgspec decodes recursively and raises `RecursionError` near Python's limit of 1000 frames: that
  was a 500 over REST and a 4500 close over the socket. The deepest message the protocol defines nests 5 levels
  (a command inside a command envelope, its lists of structs); MAX_DEPTH = 32 leaves room for the protocol to
  grow and is 30 times below the point where msgspec fails.
- **Characters.** PostgreSQL refuses U+0000 in text (one NUL in one command id failed a whole group-commit batch
  of honest ballots), and SQLite stores it silently, so the two databases would disagree. Besides NUL, the C0
  controls other than tab, line feed and carriage return, DEL and the C1 controls (U+007F–U+009F) have no place
  in a name, a motion or a question: they are invisible, and in logs and exports they can forge lines. Raw
  control characters and lone surrogates are already invalid JSON (msgspec refuses them); in JSON text the
  refused characters can only arrive as escapes (`\\u0000`, `\\b`, `\\f`) or as raw DEL/C1 characters, which is
  what the patterns below look for — on the raw text, so every string in a message is covered (ids, free text,
  keys, fields a struct ignores) without a walk over the decoded value. Vietnamese text, precomposed (NFC) or
  with combining marks (NFD, U+0300–U+0323), is untouched: none of it is a control character.
- **Ids.** A command id and an id in a URL path identify things and go into database keys: they may not contain
  any control character, tab and line breaks included.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from server.errors import protocol_error

MAX_DEPTH = 32

# Escapes of refused characters (`\\u0000`, `\\b`, ...). The pattern starts with a backslash, so the regex engine
# skips to each backslash at C speed; most messages have none at all.
_ESCAPE = r"\\(?:[bf]|u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F]))"
_ESCAPE_STR = re.compile(_ESCAPE)
_ESCAPE_BYTES = re.compile(_ESCAPE.encode())
# Raw DEL and C1 controls; in UTF-8, DEL is 0x7F and the C1 controls are C2 80 … C2 9F (0xC2 is a lead byte only).
_RAW_STR = re.compile(r"[\x7f-\x9f]")
_RAW_BYTES = re.compile(rb"\x7f|\xc2[\x80-\x9f]")
# Decoded text (query values, form fields): the same characters, and lone surrogates that a lenient decoder of a
# URL may leave behind (they cannot be encoded for the database).
TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
ID_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_ANY_ESCAPE_STR = re.compile(r"\\.", re.DOTALL)
_ANY_ESCAPE_BYTES = re.compile(rb"\\.", re.DOTALL)
_STRING_STR = re.compile(r'"[^"]*"')
_STRING_BYTES = re.compile(rb'"[^"]*"')
_NOT_BRACKET_STR = re.compile(r"[^\[\]{}]+")
_NOT_BRACKET_BYTES = re.compile(rb"[^\[\]{}]+")
_PAIR_STR = re.compile(r"\[\]|\{\}")
_PAIR_BYTES = re.compile(rb"\[\]|\{\}")


def too_deep(raw: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` deep (brackets inside strings do not
    count). A ballot has 4 brackets, so the usual message is answered by the two counts alone; otherwise the
    escapes, then the strings, then everything but brackets are cut out, and innermost pairs are removed once
    per level: `limit` passes at most, each at C speed."""
    if isinstance(raw, str):
        if raw.count("[") + raw.count("{") <= limit:
            return False
        brackets = _NOT_BRACKET_STR.sub("", _STRING_STR.sub("", _ANY_ESCAPE_STR.sub("", raw)))
        for _ in range(limit):
            inner = _PAIR_STR.sub("", brackets)
            if not inner or inner == brackets:  # empty: at most `limit` deep; unchanged: not JSON (msgspec says so)
                return False
            brackets = inner
        return True
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    bbrackets = _NOT_BRACKET_BYTES.sub(b"", _STRING_BYTES.sub(b"", _ANY_ESCAPE_BYTES.sub(b"", raw)))
    for _ in range(limit):
        binner = _PAIR_BYTES.sub(b"", bbrackets)
        if not binner or binner == bbrackets:
            return False
        bbrackets = binner
    return True


def _escaped(raw: str | bytes) -> bool:
    """Whether the JSON text holds an escape of a refused character. An escape is real when an even number of
    backslashes precedes its own (`\\\\u0000` is the harmless text "\\u0000")."""
    backslash: str | int = "\\" if isinstance(raw, str) else 0x5C
    pos = 0
    while True:
        m = _ESCAPE_STR.search(raw, pos) if isinstance(raw, str) else _ESCAPE_BYTES.search(raw, pos)
        if m is None:
            return False
        i = k = m.start()
        while k > 0 and raw[k - 1] == backslash:
            k -= 1
        if (i - k) % 2 == 0:
            return True
        pos = i + 1


def json_problem(raw: str | bytes) -> str | None:
    """Why a client's JSON text is refused before decoding, or None (the detail of a `malformed` error)."""
    if too_deep(raw):
        return f"nested deeper than {MAX_DEPTH} levels / lồng quá {MAX_DEPTH} cấp"
    raw_control = _RAW_STR.search(raw) if isinstance(raw, str) else _RAW_BYTES.search(raw)
    if raw_control is not None or _escaped(raw):
        return "control character (U+0000-U+001F except tab and line breaks, U+007F-U+009F) / ký tự điều khiển"
    return None


def id_problem(cid: str) -> str | None:
    """Why a command id is refused, or None: 1-100 characters, none of them a control character."""
    if not cid or len(cid) > 100:
        return "id must be 1-100 characters"
    if ID_FORBIDDEN.search(cid):
        return "id must not contain control characters"
    return None


class CheckedRequest(Request[Any, Any, Any]):
    """Litestar's request, with the body checked before it is decoded (every JSON body of every route)."""

    async def json(self) -> Any:
        body = await self.body()
        if body:
            problem = json_problem(body)
            if problem is not None:
                raise protocol_error(400, "malformed", problem)
        return await super().json()


async def refuse_bad_path(request: Request[Any, Any, Any]) -> None:
    """Before every HTTP route: an id in the path with a control character, or a query value with one, is
    `malformed` (on PostgreSQL it would otherwise fail the lookup as a database error, a 503)."""
    if ID_FORBIDDEN.search(request.scope["path"]):
        raise protocol_error(400, "malformed", "control character in the path / ký tự điều khiển trong đường dẫn")
    for _, value in request.query_params.multi_items():
        if TEXT_FORBIDDEN.search(value):
            raise protocol_error(400, "malformed", "control character in the query / ký tự điều khiển")
