"""Identifiers chosen by people (council, term, session, item, delegate ids): short and URL-safe.

They appear in URLs (/api/sessions/{id}, /ws/sessions/{id}) and in database keys sized 100 characters, so an id
is 1–100 characters of ASCII letters, digits, dot, underscore and hyphen.
"""

from __future__ import annotations

import re

from meeting.errors import DomainError, invalid

MAX_ID = 100
_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def check_id(value: str, what_vi: str, what_en: str) -> str:
    if not _ID.fullmatch(value):
        raise bad_id(what_vi, what_en)
    return value


def bad_id(what_vi: str, what_en: str) -> DomainError:
    return invalid(
        f"{what_vi} phải dài 1–{MAX_ID} ký tự, chỉ gồm chữ cái không dấu, chữ số và . _ -",
        f"{what_en} must be 1–{MAX_ID} characters of ASCII letters, digits and . _ -",
    )
