"""server/inbound.py on its own: which JSON texts are refused before decoding, as str (WebSocket) and bytes (REST)."""

from __future__ import annotations

import pytest

from server.inbound import MAX_DEPTH, id_problem, json_problem, too_deep

CASES = {
    '"a\\u0000b"': True,  # an escaped NUL
    '"a\\\\u0000b"': False,  # the text \u0000: an escaped backslash, then "u0000"
    '"a\\\\\\u0000b"': True,  # an escaped backslash, then an escaped NUL
    '"\\b"': True,
    '"\\\\b"': False,
    '"\\f"': True,
    '"\\n\\t\\r"': False,  # line breaks and tabs are text
    '"\\u0009\\u000A\\u000d"': False,
    '"\\u001F"': True,
    '"\\u007f"': True,
    '"\\u009f"': True,
    '"\\u00a0"': False,  # no-break space: printable
    '"a\x7fb"': True,  # raw DEL
    '"a\x85b"': True,  # raw C1 (NEL)
    '"Nghị quyết"': False,
    '"Nghi\u0323 quyê\u0301t"': False,  # NFD: combining marks
}


@pytest.mark.parametrize("text, refused", CASES.items())
def test_characters(text: str, refused: bool) -> None:
    assert (json_problem(text) is not None) is refused
    assert (json_problem(text.encode()) is not None) is refused


@pytest.mark.parametrize("kind", [str, bytes])
def test_depth_limit(kind: type) -> None:
    def j(text: str) -> str | bytes:
        return text if kind is str else text.encode()

    assert not too_deep(j("[" * MAX_DEPTH + "]" * MAX_DEPTH))
    assert too_deep(j("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)))
    assert too_deep(j('{"a":' * 40 + "1" + "}" * 40))
    assert not too_deep(j('["' + "[" * 100 + '"]'))  # brackets in a string are text
    assert not too_deep(j('["\\"' + "{" * 100 + '"]'))  # also after an escaped quote
    assert not too_deep(j("[" * 40))  # unbalanced: not JSON, left to msgspec to say so
    assert "nested" in (json_problem(j("[" * 5000 + "]" * 5000)) or "")


def test_ids() -> None:
    assert id_problem("7f3c2a9e-lệnh-1") is None
    for bad in ("", "x" * 101, "a\tb", "a\nb", "a\x00b", "a\x85b"):
        assert id_problem(bad) is not None, repr(bad)
