"""Resolution numbers (số nghị quyết) and the record of an adopted resolution.

Decree 30/2020/NĐ-CP (Appendix I) writes a document's number in Arabic digits from 01, then for a normative
legal document (văn bản quy phạm pháp luật, QPPL) the year of issue, then the type and issuer code:
`06/2026/NQ-HĐND`. Other resolutions carry no year: `12/NQ-HĐND`. The two kinds are counted separately, and
each sequence restarts every calendar year (or every term, if the council says so).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import msgspec

from meeting.rules import Numbering
from meeting.votes import VoteResult

# The council's calendar: Vietnam has kept UTC+7 with no daylight saving since 1975, so a fixed offset is exact
# and needs no time-zone database (meeting/ reads no files). A round closed at 23:30 on 31 December local time
# (16:30 UTC) belongs to that year; one closed at 00:30 on 1 January (17:30 UTC the day before) to the next.
COUNCIL_TZ = timezone(timedelta(hours=7), "ICT")


def adoption_date(closed_at: datetime) -> date:
    """The day a resolution was adopted: when its round closed, on the council's calendar (naive times are UTC)."""
    aware = closed_at if closed_at.tzinfo is not None else closed_at.replace(tzinfo=UTC)
    return aware.astimezone(COUNCIL_TZ).date()


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    number: str  # "06/2026/NQ-HĐND"
    seq: int
    sequence: str  # which counter the number came from, e.g. "normative/year:2026"
    normative: bool
    title: str
    council_id: str
    term_id: str
    session_id: str
    item_id: str
    round_id: str
    adopted_on: date
    result: VoteResult


def sequence_key(*, normative: bool, numbering: Numbering, year: int, term_id: str) -> str:
    kind = "normative" if normative else "ordinary"
    period = f"year:{year}" if numbering is Numbering.PER_YEAR else f"term:{term_id}"
    return f"{kind}/{period}"


def format_number(seq: int, normative: bool, year: int, issuer_code: str) -> str:
    # "bắt đầu từ số 01": at least two digits.
    n = f"{seq:02d}"
    return f"{n}/{year}/NQ-{issuer_code}" if normative else f"{n}/NQ-{issuer_code}"
