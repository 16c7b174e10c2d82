"""The seating plan (issue 12 §1): a delegate may be seated with a seat label, which the session's roster carries
to the chair's seat map; a label is short, and one seat holds one seated delegate."""

from __future__ import annotations

from datetime import date

import msgspec

from meeting import council, script
from meeting.errors import Code
from meeting.hall import VacancyGrounds
from tests.factory import SECRETARY, did
from tests.test_outcomes import Council


def test_a_seat_label_is_kept_and_reaches_the_session_roster() -> None:
    c = Council(n=0)
    ev = c.run(SECRETARY, council.SeatDelegate(delegate_id=did(1), name="Nguyễn Văn An", seat="  B-12 "))[0]
    assert isinstance(ev, council.DelegateSeated) and ev.seat == "B-12"  # trimmed
    c.run(SECRETARY, council.SeatDelegate(delegate_id=did(2), name="Trần Thị Bình"))  # no seating plan: None
    assert (c.s.delegates[did(1)].seat, c.s.delegates[did(2)].seat) == ("B-12", None)
    prepare = council.prepare_session(c.s, session_id="s", title="Kỳ họp", opens_on=date(2026, 12, 9))
    assert {d.id: d.seat for d in prepare.delegates} == {did(1): "B-12", did(2): None}
    # The snapshot a page reads carries it (and a roster without seats decodes as before: no plan).
    assert msgspec.to_builtins(prepare.delegates[0])["seat"] == "B-12"
    old = msgspec.json.decode(b'{"id": "db009", "name": "X", "seated": true}', type=type(prepare.delegates[0]))
    assert old.seat is None


def test_a_seat_is_refused_when_empty_too_long_or_taken_and_nothing_changes() -> None:
    c = Council(n=0)
    c.run(SECRETARY, council.SeatDelegate(delegate_id=did(1), name="Nguyễn Văn An", seat="A-01"))
    for seat in ("   ", "x" * (council.MAX_SEAT + 1)):
        e = c.refuse(SECRETARY, council.SeatDelegate(delegate_id=did(2), name="B", seat=seat), Code.INVALID)
        assert "ghế" in e.refusal.message_vi and "seat" in e.refusal.message_en
    e = c.refuse(SECRETARY, council.SeatDelegate(delegate_id=did(2), name="B", seat="A-01"), Code.INVALID)
    assert did(1) in e.refusal.message_vi and "A-01" in e.refusal.message_en
    assert did(2) not in c.s.delegates


def test_a_vacated_seat_can_be_given_again() -> None:
    c = Council(n=0)
    c.run(SECRETARY, council.SeatDelegate(delegate_id=did(1), name="Nguyễn Văn An", seat="A-01"))
    c.run(
        SECRETARY,
        council.VacateSeat(
            delegate_id=did(1), reason="Từ trần", grounds=VacancyGrounds.DEATH, decision="Trích lục khai tử số 1"
        ),
    )
    assert c.s.delegates[did(1)].seat is None
    c.run(SECRETARY, council.SeatDelegate(delegate_id=did(2), name="Trần Thị Bình", seat="A-01"))
    assert c.s.delegates[did(2)].seat == "A-01"


def test_the_demo_hall_has_a_seating_plan() -> None:
    seats = [
        seat for _, cmd in script.council_setup(50) if isinstance(cmd, council.SeatDelegate) for seat in [cmd.seat]
    ]
    assert seats[0] == "A-01" and seats[9] == "A-10" and seats[10] == "B-01" and seats[-1] == "E-10"
    assert len(set(seats)) == 50
