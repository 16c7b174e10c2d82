"""Random sequences of session commands (valid and not) against the session machine.

Invariants after every step: a refused command changed nothing; attendance only ever holds seated
delegates; the session only reached IN_PROGRESS through a state that had quorum at that moment; a closed
session never changes; replaying the log from the start reproduces the live state; the agenda order lists
every item exactly once and exactly one item (or none) is current.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from meeting import agenda
from meeting import session as sess
from meeting.actors import Actor
from meeting.errors import DomainError
from meeting.hall import SessionStatus
from meeting.messages import Command, Routed
from meeting.rules import Level
from tests.factory import CHAIR, PUBLIC, SECRETARY, Clock, delegate, did, prepare

N = 15  # a commune council: quorum 10 of 15
actors = st.sampled_from([CHAIR, SECRETARY, PUBLIC, *[delegate(i) for i in range(1, N + 2)]])
delegate_ids = st.integers(min_value=1, max_value=N + 1).map(did)  # d016 is not on the roster


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.log: list[Routed] = []
        self.state, routed = sess.execute(None, prepare(N, level=Level.COMMUNE), self.clock.ctx(SECRETARY))
        self.log.extend(routed)
        self.closed_snapshot: object = None

    def _try(self, cmd: Command, actor: Actor) -> None:
        self.clock.tick()
        before = sess.snapshot(self.state)
        was_quorate = self.state.hall.quorum_met()
        status_before = self.state.hall.status
        try:
            routed = sess.decide(self.state, cmd, self.clock.ctx(actor))
        except DomainError as e:
            assert e.refusal.message_vi and e.refusal.message_en
            assert sess.snapshot(self.state) == before, "a refusal changed the state"
            return
        assert status_before is not SessionStatus.CLOSED
        for r in routed:
            self.state = sess.apply(self.state, r.event)
        self.log.extend(routed)
        if self.state.hall.status is SessionStatus.IN_PROGRESS and status_before is not SessionStatus.IN_PROGRESS:
            assert was_quorate
        if self.state.hall.status is SessionStatus.CLOSED and self.closed_snapshot is None:
            self.closed_snapshot = sess.snapshot(self.state)

    @rule(actor=actors)
    def open_check_in(self, actor: Actor) -> None:
        self._try(sess.OpenCheckIn(), actor)

    @rule(d=delegate_ids, actor=actors)
    def check_in(self, d: str, actor: Actor) -> None:
        self._try(sess.CheckIn(delegate_id=d), actor)

    @rule(i=st.integers(min_value=1, max_value=N))
    def check_in_self(self, i: int) -> None:
        self._try(sess.CheckIn(delegate_id=did(i)), delegate(i))

    @rule()
    def everyone_checks_in(self) -> None:
        # Reaching quorum one random check-in at a time is rare in 40 steps; this drives runs into IN_PROGRESS.
        for i in range(1, N + 1):
            if did(i) not in self.state.hall.present:
                self._try(sess.CheckIn(delegate_id=did(i)), delegate(i))

    @rule(d=delegate_ids, actor=actors)
    def check_out(self, d: str, actor: Actor) -> None:
        self._try(sess.CheckOut(delegate_id=d), actor)

    @rule(actor=actors)
    def open_session(self, actor: Actor) -> None:
        self._try(sess.OpenSession(), actor)

    @rule(actor=actors)
    def suspend(self, actor: Actor) -> None:
        self._try(sess.SuspendSession(reason="Giải lao"), actor)

    @rule(actor=actors)
    def resume(self, actor: Actor) -> None:
        self._try(sess.ResumeSession(), actor)

    @rule(actor=actors)
    def close(self, actor: Actor) -> None:
        self._try(sess.CloseSession(), actor)

    @rule(k=st.integers(min_value=1, max_value=4), actor=actors)
    def add_item(self, k: int, actor: Actor) -> None:
        self._try(agenda.AddItem(item_id=f"item-{k}", title=f"Nội dung {k}"), actor)

    @rule(k=st.integers(min_value=1, max_value=4), actor=actors)
    def move(self, k: int, actor: Actor) -> None:
        self._try(agenda.MoveToItem(item_id=f"item-{k}"), actor)

    @rule(data=st.data())
    def reorder(self, data: st.DataObject) -> None:
        order = data.draw(st.permutations(self.state.agenda.order))
        self._try(agenda.ReorderAgenda(order=list(order)), data.draw(actors))

    @invariant()
    def attendance_is_seated(self) -> None:
        assert self.state.hall.present <= set(self.state.hall.seated_ids())

    @invariant()
    def agenda_consistent(self) -> None:
        a = self.state.agenda
        assert sorted(a.order) == sorted(a.items) and len(set(a.order)) == len(a.order)
        current = [i for i in a.items.values() if i.status is agenda.ItemStatus.CURRENT]
        assert len(current) <= 1
        assert [i.id for i in current] == ([self.state.hall.current_item] if self.state.hall.current_item else [])

    @invariant()
    def closed_never_changes(self) -> None:
        if self.closed_snapshot is not None:
            assert sess.snapshot(self.state) == self.closed_snapshot

    @invariant()
    def replay_reproduces_state(self) -> None:
        assert sess.snapshot(sess.replay(r.event for r in self.log)) == sess.snapshot(self.state)


SessionMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestSession = SessionMachine.TestCase
