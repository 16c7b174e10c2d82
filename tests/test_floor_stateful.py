"""A random walk through the floor (speakers' list and questioning) in a running session.

Valid and invalid commands are mixed; after every step the invariants below must hold: one turn at most on
each module's floor, every queue lists exactly its pending ids once, the questioner heads their question's
rebuttal queue, replaying the log (through JSON, as the store will) gives the live state, the public's
partial replay shows the same floor, and a refused command changes nothing.
"""

from __future__ import annotations

import operator
from datetime import date
from functools import reduce
from typing import Any

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from meeting import agenda, questioning, speakers
from meeting import session as sess
from meeting.actors import Actor
from meeting.errors import DomainError
from meeting.hall import SessionStatus
from meeting.messages import Command
from meeting.questioning import QuestionStatus, TurnKind
from meeting.speakers import RequestStatus
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Hall, delegate, did, running

N = 8  # quorum 6 of 8; d008 stays absent
PRESENT = 7
REQUEST_IDS = [f"req{k}" for k in range(8)]
QUESTION_IDS = [f"q{k}" for k in range(5)]
DELEGATE_IDS = [did(i) for i in range(1, N + 1)] + ["d999"]
RESPONDENT_IDS = ["r01", "r02", "r99"]
ITEMS = [None, None, None, "item-1", "item-2", "item-9"]
ASKED = (QuestionStatus.CALLED, QuestionStatus.ANSWERING, QuestionStatus.ANSWERED)
ANSWERED = (QuestionStatus.ANSWERING, QuestionStatus.ANSWERED)

# The events this walk can produce, decoded from JSON by their tags as the event store will.
_EVENTS: Any = msgspec.json.Decoder(
    list[reduce(operator.or_, (*sess.EVENTS, *agenda.EVENTS, *speakers.EVENTS, *questioning.EVENTS))]  # type: ignore[misc]
)

delegates_i = st.integers(min_value=1, max_value=N)
others = st.sampled_from([CHAIR, SECRETARY, PUBLIC, RESPONDENT])


@st.composite
def acting(draw: st.DrawFn) -> tuple[Actor, str]:
    """Mostly a delegate acting as themself; sometimes someone else, or a delegate naming another."""
    i = draw(delegates_i)
    kind = draw(st.integers(0, 9))
    if kind < 7:
        return delegate(i), did(i)
    if kind < 9:
        return delegate(i), draw(st.sampled_from(DELEGATE_IDS))
    return draw(others), did(i)


def mostly(actor: Actor, *strangers: Actor) -> st.SearchStrategy[Actor]:
    """`actor` four times in five, else one of `strangers` (who should be refused)."""
    return st.integers(0, 4 * len(strangers)).map(lambda k: strangers[k - 1] if 0 < k <= len(strangers) else actor)


chair_mostly = mostly(CHAIR, SECRETARY, delegate(2), PUBLIC)
secretary_mostly = mostly(SECRETARY, CHAIR, delegate(3), RESPONDENT)


class Floor(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.h: Hall = running(N, present=PRESENT)

    def run(self, cmd: Command, actor: Actor) -> None:
        before, logged = sess.snapshot(self.h.s), len(self.h.log)
        try:
            self.h.accept(cmd, actor)
        except DomainError as e:
            assert e.refusal.message_vi and e.refusal.message_en
            assert sess.snapshot(self.h.s) == before, cmd
            assert len(self.h.log) == logged

    @property
    def sp(self) -> speakers.Speakers:
        return self.h.s.speakers

    @property
    def qn(self) -> questioning.Questioning:
        return self.h.s.questioning

    @initialize(questions=st.integers(0, 3), requests=st.integers(0, 3))
    def start(self, questions: int, requests: int) -> None:
        # Some material on the floor from the start, so that short walks reach calls, answers and rebuttals.
        assert self.h.s.hall.status is SessionStatus.IN_PROGRESS
        for k in range(questions):
            i = k + 2
            cmd = questioning.RegisterQuestion(
                question_id=QUESTION_IDS[k], delegate_id=did(i), respondent_id="r01", topic="Chủ đề", text="Vì sao?"
            )
            self.h.accept(cmd, delegate(i))
        for k in range(requests):
            i = k + 3
            self.h.accept(speakers.RequestToSpeak(request_id=REQUEST_IDS[k], delegate_id=did(i)), delegate(i))

    def pick(self, data: st.DataObject, known: list[str], pool: list[str]) -> str:
        """Mostly an id the state can use now, sometimes any id from the pool (unknown, stale or spent)."""
        if known and data.draw(st.integers(0, 3)) > 0:
            return data.draw(st.sampled_from(sorted(known)))
        return data.draw(st.sampled_from(pool))

    def questions_in(self, *statuses: QuestionStatus) -> list[str]:
        return [q.id for q in self.qn.questions.values() if q.status in statuses]

    # --- the session around the floor
    @rule(seconds=st.sampled_from([1, 30, 400]))
    def time_passes(self, seconds: int) -> None:
        self.h.clock.tick(seconds)

    @rule(item=st.sampled_from(["item-1", "item-2"]))
    def move(self, item: str) -> None:
        self.run(agenda.MoveToItem(item_id=item), CHAIR)

    @rule(toggle=st.integers(0, 4))
    def suspend_or_resume(self, toggle: int) -> None:
        # Breaks are rare: most of the walk is spent in a running session, where the floor commands act.
        if self.h.s.hall.status is SessionStatus.SUSPENDED:
            self.run(sess.ResumeSession(), CHAIR)
        elif toggle == 0:
            self.run(sess.SuspendSession(), CHAIR)

    @rule(i=delegates_i, leave=st.integers(0, 3))
    def attendance(self, i: int, leave: int) -> None:
        present = did(i) in self.h.s.hall.present
        cmd = sess.CheckOut(delegate_id=did(i)) if present and leave == 0 else sess.CheckIn(delegate_id=did(i))
        self.run(cmd, delegate(i))

    # --- speakers
    def pending_requests(self) -> list[str]:
        return [r.id for r in self.sp.requests.values() if r.status is RequestStatus.PENDING]

    @rule(data=st.data(), who=acting(), item=st.sampled_from(ITEMS))
    def request_to_speak(self, data: st.DataObject, who: tuple[Actor, str], item: str | None) -> None:
        actor, delegate_id = who
        rid = self.pick(data, [r for r in REQUEST_IDS if r not in self.sp.requests], REQUEST_IDS)
        self.run(speakers.RequestToSpeak(request_id=rid, delegate_id=delegate_id, item_id=item), actor)

    @rule(data=st.data(), who=st.sampled_from(["owner", "owner", "chair", "other", "public"]))
    def withdraw_request(self, data: st.DataObject, who: str) -> None:
        rid = self.pick(data, self.pending_requests(), REQUEST_IDS)
        req = self.sp.requests.get(rid)
        owner = delegate(int(req.delegate_id[1:])) if req is not None else delegate(2)
        actor = {"owner": owner, "chair": CHAIR, "other": delegate(5), "public": PUBLIC}[who]
        self.run(speakers.WithdrawRequest(request_id=rid), actor)

    @rule(data=st.data(), actor=chair_mostly)
    def order_speakers(self, data: st.DataObject, actor: Actor) -> None:
        item = self.pick(data, list(self.sp.order), ["item-1", "item-2", "item-9"])
        pending = self.sp.order.get(item, [])
        order = data.draw(st.permutations(pending)) if pending else []
        if data.draw(st.integers(0, 4)) == 0:  # spoil it: drop one, repeat one or add a stranger
            order = data.draw(st.sampled_from([order[1:], [*order, *order[:1]], [*order, REQUEST_IDS[-1]]]))
        self.run(speakers.OrderSpeakers(item_id=item, order=list(order)), actor)

    @rule(
        data=st.data(),
        mode=st.sampled_from(["request", "request", "delegate", "delegate", "both", "neither"]),
        seconds=st.sampled_from([None, None, None, 0, 1, 300, 3601]),
        actor=chair_mostly,
    )
    def start_speech(self, data: st.DataObject, mode: str, seconds: int | None, actor: Actor) -> None:
        rid = self.pick(data, self.pending_requests(), REQUEST_IDS) if mode in ("request", "both") else None
        delegate_id = (
            self.pick(data, sorted(self.h.s.hall.present), DELEGATE_IDS) if mode in ("delegate", "both") else None
        )
        self.run(speakers.StartSpeech(request_id=rid, delegate_id=delegate_id, seconds=seconds), actor)

    @rule(who=st.sampled_from(["chair", "chair", "speaker", "speaker", "other", "public"]))
    def end_speech(self, who: str) -> None:
        current = self.sp.current
        speaker = delegate(int(current.delegate_id[1:])) if current is not None else delegate(2)
        actor = {"chair": CHAIR, "speaker": speaker, "other": delegate(4), "public": PUBLIC}[who]
        self.run(speakers.EndSpeech(), actor)

    # --- questioning
    @rule(
        data=st.data(),
        who=acting(),
        respondent=st.sampled_from([*RESPONDENT_IDS, "r01", "r02"]),
        text=st.sampled_from(["Vì sao?", "Vì sao?", "Vì sao?", "", "x" * 2001]),
    )
    def register_question(self, data: st.DataObject, who: tuple[Actor, str], respondent: str, text: str) -> None:
        actor, delegate_id = who
        qid = self.pick(data, [q for q in QUESTION_IDS if q not in self.qn.questions], QUESTION_IDS)
        cmd = questioning.RegisterQuestion(
            question_id=qid, delegate_id=delegate_id, respondent_id=respondent, topic="Chủ đề", text=text
        )
        self.run(cmd, actor)

    @rule(data=st.data(), author=st.integers(0, 3))
    def withdraw_question(self, data: st.DataObject, author: int) -> None:
        qid = self.pick(data, self.questions_in(QuestionStatus.REGISTERED), QUESTION_IDS)
        question = self.qn.questions.get(qid)
        actor = delegate(int(question.delegate_id[1:])) if question is not None and author else delegate(5)
        self.run(questioning.WithdrawQuestion(question_id=qid), actor)

    @rule(data=st.data(), actor=chair_mostly)
    def group_questions(self, data: st.DataObject, actor: Actor) -> None:
        registered = self.questions_in(QuestionStatus.REGISTERED)
        ids = data.draw(st.permutations(registered))[: data.draw(st.integers(0, len(registered)))]
        if data.draw(st.integers(0, 4)) == 0:  # spoil it: an unknown, called or repeated question
            ids = [*ids, data.draw(st.sampled_from(QUESTION_IDS))]
        cut = data.draw(st.integers(0, len(ids)))
        groups = [questioning.QuestionGroup(topic=t, question_ids=g) for t, g in (("A", ids[:cut]), ("B", ids[cut:]))]
        self.run(questioning.GroupQuestions(groups=[g for g in groups if g.question_ids] or groups), actor)

    @rule(data=st.data(), actor=chair_mostly)
    def call_question(self, data: st.DataObject, actor: Actor) -> None:
        qid = self.pick(data, self.questions_in(QuestionStatus.REGISTERED), QUESTION_IDS)
        self.run(questioning.CallQuestion(question_id=qid), actor)

    @rule(data=st.data(), actor=chair_mostly)
    def call_answer(self, data: st.DataObject, actor: Actor) -> None:
        qid = self.pick(data, self.questions_in(*ASKED), QUESTION_IDS)
        self.run(questioning.CallAnswer(question_id=qid), actor)

    @rule(data=st.data(), who=acting())
    def request_rebuttal(self, data: st.DataObject, who: tuple[Actor, str]) -> None:
        actor, delegate_id = who
        qid = self.pick(data, self.questions_in(*ANSWERED), QUESTION_IDS)
        question = self.qn.questions.get(qid)
        if question is not None and data.draw(st.integers(0, 3)) == 0:  # the questioner, possibly late
            actor, delegate_id = delegate(int(question.delegate_id[1:])), question.delegate_id
        self.run(questioning.RequestRebuttal(question_id=qid, delegate_id=delegate_id), actor)

    @rule(data=st.data(), actor=chair_mostly)
    def call_rebuttal(self, data: st.DataObject, actor: Actor) -> None:
        queued = [q.id for q in self.qn.questions.values() if q.rebuttal_queue]
        qid = self.pick(data, queued, QUESTION_IDS)
        question = self.qn.questions.get(qid)
        delegate_id = self.pick(data, question.rebuttal_queue if question is not None else [], DELEGATE_IDS)
        self.run(questioning.CallRebuttal(question_id=qid, delegate_id=delegate_id), actor)

    @rule(actor=st.sampled_from([CHAIR, CHAIR, CHAIR, delegate(2), SECRETARY]))
    def end_turn(self, actor: Actor) -> None:
        self.run(questioning.EndTurn(), actor)

    @rule(
        data=st.data(),
        commitment=st.sampled_from([None, "Cam kết", "Cam kết", ""]),
        due=st.sampled_from([None, date(2027, 1, 1), date(2020, 1, 1)]),
        actor=secretary_mostly,
    )
    def record_answer(self, data: st.DataObject, commitment: str | None, due: date | None, actor: Actor) -> None:
        qid = self.pick(data, self.questions_in(*ANSWERED), QUESTION_IDS)
        self.run(questioning.RecordAnswer(question_id=qid, summary="Tóm tắt", commitment=commitment, due=due), actor)

    @rule(data=st.data(), status=st.sampled_from(list(questioning.CommitmentStatus)), actor=secretary_mostly)
    def update_commitment(self, data: st.DataObject, status: questioning.CommitmentStatus, actor: Actor) -> None:
        committed = [q.id for q in self.qn.questions.values() if q.commitment is not None]
        qid = self.pick(data, committed, QUESTION_IDS)
        self.run(questioning.UpdateCommitment(question_id=qid, status=status, note="ghi chú"), actor)

    # --- the usual next step, so that short walks also reach answers, rebuttals, records and follow-up
    @rule(data=st.data())
    def next_speech_step(self, data: st.DataObject) -> None:
        if self.sp.current is not None:
            self.run(speakers.EndSpeech(), CHAIR)
            return
        queue = self.sp.order.get(self.h.s.hall.current_item or "", [])
        if queue:
            self.run(speakers.StartSpeech(request_id=data.draw(st.sampled_from(queue))), CHAIR)
        else:
            self.run(speakers.StartSpeech(delegate_id=did(data.draw(st.integers(1, PRESENT)))), CHAIR)

    @rule(data=st.data(), steps=st.integers(1, 6))
    def next_question_steps(self, data: st.DataObject, steps: int) -> None:
        for _ in range(steps):
            self.next_question_step(data)

    def next_question_step(self, data: st.DataObject) -> None:
        if self.qn.floor is not None:
            self.run(questioning.EndTurn(), CHAIR)
            return
        live = self.questions_in(QuestionStatus.REGISTERED, *ASKED)
        if not live:
            return
        q = self.qn.questions[data.draw(st.sampled_from(sorted(live)))]
        step = data.draw(st.integers(0, 4))
        if q.status is QuestionStatus.REGISTERED:
            self.run(questioning.CallQuestion(question_id=q.id), CHAIR)
        elif q.status is QuestionStatus.CALLED or step == 4:
            self.run(questioning.CallAnswer(question_id=q.id), CHAIR)
        elif step == 0:
            record = questioning.RecordAnswer(question_id=q.id, summary="Tóm tắt", commitment="Cam kết")
            self.run(record, SECRETARY)
        elif step == 1 and q.commitment is not None:
            status = data.draw(st.sampled_from(list(questioning.CommitmentStatus)))
            self.run(questioning.UpdateCommitment(question_id=q.id, status=status), SECRETARY)
        elif step == 2 and q.rebuttal_queue:
            self.run(questioning.CallRebuttal(question_id=q.id, delegate_id=q.rebuttal_queue[0]), CHAIR)
        else:
            i = data.draw(st.integers(1, N))
            self.run(questioning.RequestRebuttal(question_id=q.id, delegate_id=did(i)), delegate(i))

    # --- invariants
    @invariant()
    def one_speech_at_most(self) -> None:
        speaking = [r for r in self.sp.requests.values() if r.status is RequestStatus.SPEAKING]
        assert len(speaking) <= 1
        current = self.sp.current
        assert speakers.busy(self.sp) == (current is not None)
        assert all(s.ended_at is not None for s in self.sp.speeches)
        if speaking:
            assert current is not None
            assert current.request_id == speaking[0].id
            assert current.delegate_id == speaking[0].delegate_id
        elif current is not None:
            assert current.request_id is None

    @invariant()
    def speaker_queues_list_each_pending_request_once(self) -> None:
        pending: dict[str, set[str]] = {}
        for r in self.sp.requests.values():
            if r.status is RequestStatus.PENDING:
                pending.setdefault(r.item_id, set()).add(r.id)
        assert {item: set(ids) for item, ids in self.sp.order.items()} == pending
        for ids in self.sp.order.values():
            assert ids
            assert len(ids) == len(set(ids))
        for item, ids in pending.items():
            delegates = [self.sp.requests[rid].delegate_id for rid in ids]
            assert len(delegates) == len(set(delegates)), item  # one pending request per delegate per item

    @invariant()
    def one_questioning_turn_at_most(self) -> None:
        floor = self.qn.floor
        assert questioning.busy(self.qn) == (floor is not None)
        assert all(t.ended_at is not None for t in self.qn.turns)
        if floor is None:
            return
        status = self.qn.questions[floor.question_id].status
        expected = {
            TurnKind.QUESTION: {QuestionStatus.CALLED},
            TurnKind.ANSWER: {QuestionStatus.ANSWERING},
            TurnKind.REBUTTAL: {QuestionStatus.ANSWERING, QuestionStatus.ANSWERED},
        }[floor.kind]
        assert status in expected

    @invariant()
    def question_order_lists_each_registered_question_once(self) -> None:
        registered = {q.id for q in self.qn.questions.values() if q.status is QuestionStatus.REGISTERED}
        assert len(self.qn.order) == len(set(self.qn.order))
        assert set(self.qn.order) == registered

    @invariant()
    def rebuttal_queues(self) -> None:
        for q in self.qn.questions.values():
            queue = q.rebuttal_queue
            assert len(queue) == len(set(queue))
            assert len(q.rebutted) == len(set(q.rebutted))
            assert not set(queue) & set(q.rebutted)
            if q.delegate_id in queue:
                assert queue[0] == q.delegate_id
            if queue or q.rebutted:
                assert q.status in (QuestionStatus.ANSWERING, QuestionStatus.ANSWERED)
            if q.commitment is not None:
                assert q.answer is not None

    @invariant()
    def the_public_view_shows_the_live_speaker_and_turn(self) -> None:
        # The livestream replays only what the public may see: no requests or questions, but the same floor.
        public = sess.replay(r.event for r in self.h.log if r.audience.admits(PUBLIC))
        assert public.speakers.current == self.sp.current
        assert public.speakers.speeches == self.sp.speeches
        assert public.questioning.floor == self.qn.floor
        assert public.questioning.turns == self.qn.turns
        assert not public.speakers.requests
        assert not public.questioning.questions

    @invariant()
    def replay_through_json_gives_the_live_state(self) -> None:
        wire = msgspec.json.encode([r.event for r in self.h.log])
        replayed = sess.replay(_EVENTS.decode(wire))
        assert sess.snapshot(replayed) == sess.snapshot(self.h.s)


Floor.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_floor = Floor.TestCase
