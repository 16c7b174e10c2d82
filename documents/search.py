"""Full-text search over a session's documents, optionally blind to Vietnamese diacritics.

Vietnamese letters carry tone marks and vowel marks (ả, ế, ợ...) that a delegate typing on a tablet without a
Vietnamese keyboard leaves out: "nghi quyet" must find "nghị quyết". Unicode NFD splits most of them into a base
letter and combining marks, which we drop; đ/Đ are letters in their own right (U+0111/U+0110, "d with stroke")
that NFD does not decompose, so they are mapped to d/D by hand.

Folding maps every character to exactly one character (a letter whose folded form would be longer, like "ß" →
"ss", is left as it is), so a position in the folded text is the same position in the original and a hit is shown
as a snippet of the original, with its marks. The tables are built lazily per character and applied with
`str.translate`, which keeps a page of text at C speed. Whitespace in the query matches any run of whitespace in
the text: PDF text extraction breaks lines in the middle of a phrase, and "dự toán ngân sách" must still match
"dự toán\\nngân sách".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import msgspec

MAX_QUERY = 200
SNIPPET_CONTEXT = 60  # characters of original text on each side of a hit
_STROKES = {"đ": "d", "Đ": "D"}


class _FoldTable(dict[int, str]):
    """code point → its folded character, computed on first use (for str.translate)."""

    def __init__(self, keep_marks: bool) -> None:
        super().__init__()
        self.keep_marks = keep_marks

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if self.keep_marks:
            folded = ch.casefold()
        else:
            base = _STROKES.get(ch, ch)
            folded = "".join(c for c in unicodedata.normalize("NFD", base) if not unicodedata.combining(c)).casefold()
        if len(folded) != 1:  # "ß" → "ss", a lone combining mark → "": keep one character for one character
            folded = ch.lower() if len(ch.lower()) == 1 else ch
        self[code] = folded
        return folded


_PLAIN = _FoldTable(keep_marks=False)
_MARKED = _FoldTable(keep_marks=True)


def fold(text: str, *, keep_marks: bool = False) -> str:
    """Lower case, without diacritics unless `keep_marks`: "Nghị Quyết ĐỊA PHƯƠNG" → "nghi quyet dia phuong"."""
    return unicodedata.normalize("NFC", text).translate(_MARKED if keep_marks else _PLAIN)


def has_diacritics(text: str) -> bool:
    return fold(text) != fold(text, keep_marks=True)


def pattern(query: str, *, ignore_diacritics: bool) -> re.Pattern[str] | None:
    """The folded query as a regular expression over folded text; None for an empty query."""
    words = fold(query[:MAX_QUERY], keep_marks=not ignore_diacritics).split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    page: int  # 1-based
    snippet: str  # the original text around the hit, with its diacritics


class TextIndex:
    """The text of one document version, page by page, folded both ways once."""

    def __init__(self, pages: Sequence[str]) -> None:
        self.pages = [unicodedata.normalize("NFC", p) for p in pages]
        self._plain = [p.translate(_PLAIN) for p in self.pages]
        self._marked = [p.translate(_MARKED) for p in self.pages]

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.pages)

    def search(self, query: str, *, ignore_diacritics: bool | None = None, limit: int = 20) -> list[Hit]:
        """Hits for `query`, at most `limit`, in page order.

        `ignore_diacritics`: True matches "nghi quyet" to "nghị quyết"; False matches marks exactly (case is
        ignored either way); None (the default) ignores them unless the query itself has any.
        """
        if ignore_diacritics is None:
            ignore_diacritics = not has_diacritics(query)
        rx = pattern(query, ignore_diacritics=ignore_diacritics)
        if rx is None or limit < 1:
            return []
        folded = self._plain if ignore_diacritics else self._marked
        hits: list[Hit] = []
        for number, (text, original) in enumerate(zip(folded, self.pages, strict=True), start=1):
            for m in rx.finditer(text):
                hits.append(Hit(page=number, snippet=_snippet(original, m.start(), m.end())))
                if len(hits) >= limit:
                    return hits
        return hits


def _snippet(text: str, start: int, end: int) -> str:
    a = max(0, start - SNIPPET_CONTEXT)
    b = min(len(text), end + SNIPPET_CONTEXT)
    body = " ".join(text[a:b].split())
    return ("…" if a > 0 else "") + body + ("…" if b < len(text) else "")


def matches(text: str, query: str, *, ignore_diacritics: bool | None = None) -> bool:
    """Whether `query` occurs in a short text (a title), under the same rules as `TextIndex.search`."""
    if ignore_diacritics is None:
        ignore_diacritics = not has_diacritics(query)
    rx = pattern(query, ignore_diacritics=ignore_diacritics)
    return rx is not None and rx.search(fold(text, keep_marks=not ignore_diacritics)) is not None
