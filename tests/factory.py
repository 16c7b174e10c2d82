"""Builders shared by the domain tests: a council of N delegates, actors, a clock, and two assertions.

`accept` runs a command and applies its events; `refuse` checks a command is refused with the expected
code and that the state is exactly what it was (a refusal changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from meeting import session as sess
from meeting.actors import Actor, Context, Role
from meeting.errors import Code, DomainError
from meeting.hall import Delegate, Respondent
from meeting.messages import Command, Routed
from meeting.rules import Level, Rules, rules_for

T0 = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)

SECRETARY = Actor(roles=frozenset({Role.SECRETARY}), person_id="vp01")
PUBLIC = Actor(roles=frozenset({Role.PUBLIC}))
RESPONDENT = Actor(roles=frozenset({Role.RESPONDENT}), person_id="r01")


def did(i: int) -> str:
    """Delegate ids d001, d002, ... ; d001 is the chair."""
    return f"d{i:03d}"


def delegate(i: int) -> Actor:
    return Actor(roles=frozenset({Role.DELEGATE}), person_id=did(i))


CHAIR = Actor(roles=frozenset({Role.CHAIR, Role.DELEGATE}), person_id=did(1))


def respondents() -> list[Respondent]:
    return [
        Respondent(id="r01", name="Nguyễn Văn An", position="Chủ tịch UBND tỉnh"),
        Respondent(id="r02", name="Trần Thị Bình", position="Giám đốc Sở Y tế"),
        Respondent(id="r03", name="Lê Hoàng Cường", position="Giám đốc Sở Tài nguyên và Môi trường"),
        Respondent(id="r04", name="Phạm Thu Dung", position="Chánh án Tòa án nhân dân tỉnh"),
    ]


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.n = 0

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def ctx(self, actor: Actor) -> Context:
        self.n += 1
        return Context(actor=actor, now=self.now, nonce=f"nonce-{self.n:012d}")  # >= 16 chars, like a receipt


def prepare(n: int = 50, *, level: Level = Level.PROVINCE, rules: Rules | None = None) -> sess.PrepareSession:
    return sess.PrepareSession(
        session_id="s1",
        council_id="hdnd-demo",
        council_name="Hội đồng nhân dân tỉnh Minh Hòa",
        level=level,
        term_id="2026-2031",
        title="Kỳ họp thứ Tư, HĐND tỉnh khóa XI",
        opens_on=date(2026, 12, 8),
        rules=rules or rules_for(level),
        delegates=[Delegate(id=did(i), name=f"Đại biểu số {i}") for i in range(1, n + 1)],
        respondents=respondents(),
    )


class Hall:
    """A session under test with a clock; `accept`/`refuse` keep the event log for replay checks."""

    def __init__(self, n: int = 50, *, level: Level = Level.PROVINCE, rules: Rules | None = None) -> None:
        self.clock = Clock()
        self.log: list[Routed] = []
        self.state: sess.SessionState | None = None
        self.accept(prepare(n, level=level, rules=rules), SECRETARY)

    @property
    def s(self) -> sess.SessionState:
        assert self.state is not None
        return self.state

    def accept(self, cmd: Command, actor: Actor) -> list[Routed]:
        self.clock.tick()
        self.state, routed = sess.execute(self.state, cmd, self.clock.ctx(actor))
        self.log.extend(routed)
        return routed

    def refuse(self, cmd: Command, actor: Actor, code: Code) -> DomainError:
        before = sess.snapshot(self.s)
        self.clock.tick()
        try:
            sess.decide(self.state, cmd, self.clock.ctx(actor))
        except DomainError as e:
            assert e.code == code, (e.code, code, e.refusal.message_en)
            assert e.refusal.message_vi and e.refusal.message_en
            assert sess.snapshot(self.s) == before
            return e
        raise AssertionError(f"{cmd!r} was accepted, expected {code}")

    def replayed(self) -> sess.SessionState:
        return sess.replay(r.event for r in self.log)

    # --- common set-ups
    def open_check_in(self) -> Hall:
        self.accept(sess.OpenCheckIn(), SECRETARY)
        return self

    def check_in(self, *numbers: int) -> Hall:
        for i in numbers:
            self.accept(sess.CheckIn(delegate_id=did(i)), delegate(i))
        return self

    def open(self, present: int | None = None) -> Hall:
        """Check-in open, the first `present` delegates (default: all) checked in, session opened."""
        n = self.s.hall.total
        self.open_check_in().check_in(*range(1, (n if present is None else present) + 1))
        self.accept(sess.OpenSession(), CHAIR)
        return self


def running(
    n: int = 50,
    present: int | None = None,
    *,
    level: Level = Level.PROVINCE,
    rules: Rules | None = None,
    items: int = 2,
) -> Hall:
    """An opened session with `items` agenda items (resolution drafts), the first one current."""
    from meeting import agenda

    h = Hall(n, level=level, rules=rules)
    for k in range(1, items + 1):
        h.accept(agenda.AddItem(item_id=f"item-{k}", title=f"Dự thảo Nghị quyết số {k}"), SECRETARY)
    h.open(present)
    if items:
        h.accept(agenda.MoveToItem(item_id="item-1"), CHAIR)
    return h


@dataclass(frozen=True)
class Who:
    """Who sends a command to the engine (server/engine.py `Principalish`): an account and its actor."""

    account_id: str
    actor: Actor
