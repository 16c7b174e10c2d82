"""The documents sub-machine (meeting/documents.py): publication by access level, versions, withdrawal, delivery
receipts, the delivery matrix, and who may see and download what. Pure domain, no I/O."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from meeting import agenda
from meeting import documents as docs
from meeting import session as sess
from meeting.actors import DELEGATES, EVERYONE, Actor, Role, staff_and
from meeting.errors import Code, DomainError
from meeting.messages import Command, Routed
from meeting.views import visible_state
from tests.factory import CHAIR, PUBLIC, RESPONDENT, SECRETARY, Clock, Hall, delegate, did, prepare

ADMIN = Actor(roles=frozenset({Role.ADMIN}))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hall(n: int = 10) -> Hall:
    h = Hall(n)
    h.accept(agenda.AddItem(item_id="nq-1", title="Nghị quyết về dự toán ngân sách"), SECRETARY)
    return h


def publish(doc_id: str = "ttr-1", access: docs.Access = docs.Access.DELEGATES, **kw: object) -> docs.PublishDocument:
    fields: dict[str, object] = {
        "document_id": doc_id,
        "item_id": "nq-1",
        "kind": docs.DocumentKind.SUBMISSION,
        "title": "Tờ trình về dự toán ngân sách năm 2027",
        "access": access,
    }
    if access is not docs.Access.SECRET:
        fields.update(size=1234, sha256=sha(doc_id), pages=3)
    fields.update(kw)
    return docs.PublishDocument(**fields)  # type: ignore[arg-type]


def events(h: Hall) -> list[tuple[int, object, object]]:
    return [(i, r.audience, r.event) for i, r in enumerate(h.log, start=1)]


def view(h: Hall, actor: Actor) -> sess.SessionState:
    st = visible_state(events(h), actor)  # type: ignore[arg-type]
    assert st is not None
    return st


# --- publication and access levels -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("access", "audience"),
    [
        (docs.Access.PUBLIC, EVERYONE),
        (docs.Access.DELEGATES, DELEGATES),
        (docs.Access.RESTRICTED, DELEGATES),
        (docs.Access.SECRET, DELEGATES),
    ],
)
def test_publication_is_told_to_whoever_may_see_it(access: docs.Access, audience: object) -> None:
    h = hall()
    (routed,) = h.accept(publish(access=access), SECRETARY)
    assert routed.audience == audience
    assert isinstance(routed.event, docs.DocumentPublished)
    doc = h.s.documents.documents["ttr-1"]
    assert doc.access is access and doc.current.version == 1 and h.s.documents.order == ["ttr-1"]
    public_sees = "ttr-1" in view(h, PUBLIC).documents.documents
    assert public_sees is (access is docs.Access.PUBLIC)
    # Everyone in the hall sees the listing, the secret one included (title and existence are not secret).
    for actor in (delegate(3), RESPONDENT, CHAIR, SECRETARY):
        assert view(h, actor).documents.documents["ttr-1"].title == doc.title


def test_secret_document_has_no_file_and_nobody_may_download_it() -> None:
    h = hall()
    h.refuse(publish(access=docs.Access.SECRET, size=10, sha256=sha("x"), pages=2), SECRETARY, Code.INVALID)
    h.refuse(publish(access=docs.Access.SECRET, active_content=["javascript"]), SECRETARY, Code.INVALID)
    (routed,) = h.accept(publish(access=docs.Access.SECRET, pages=14, note="Phòng đọc tầng 2"), SECRETARY)
    ev = routed.event
    assert isinstance(ev, docs.DocumentPublished)
    assert ev.size == 0 and ev.sha256 == "" and ev.pages == 14 and ev.note == "Phòng đọc tầng 2"
    doc = h.s.documents.documents["ttr-1"]
    for actor in (ADMIN, SECRETARY, CHAIR, delegate(2), RESPONDENT, PUBLIC):
        assert not docs.may_download(h.s.hall, doc, actor)
    # No delivery can be recorded or acknowledged for it.
    copies = [docs.SentCopy(document_id="ttr-1", version=1, sha256=sha("x"))]
    h.refuse(docs.RecordCopiesSent(delegate_id=did(2), copies=copies), SECRETARY, Code.SECRET_DOCUMENT)
    ack = docs.AcknowledgeDelivery(document_id="ttr-1", version=1, delegate_id=did(2), sha256=sha("x"))
    h.refuse(ack, delegate(2), Code.SECRET_DOCUMENT)
    assert docs.delivery_matrix(h.s.hall, h.s.documents).columns == []


def test_who_may_download() -> None:
    h = hall()
    for access in docs.Access:
        h.accept(publish(f"d-{access.value}", access=access), SECRETARY)
    s = h.s
    got = {
        access: [
            docs.may_download(s.hall, s.documents.documents[f"d-{access.value}"], a)
            for a in (PUBLIC, RESPONDENT, delegate(2), CHAIR, SECRETARY, ADMIN)
        ]
        for access in docs.Access
    }
    assert got[docs.Access.PUBLIC] == [True] * 6
    assert got[docs.Access.DELEGATES] == [False, False, True, True, True, True]
    assert got[docs.Access.RESTRICTED] == [False, False, True, True, True, True]
    assert got[docs.Access.SECRET] == [False] * 6
    # Someone who is not on the roster, with the delegate role, may not.
    stranger = Actor(roles=frozenset({Role.DELEGATE}), person_id="d999")
    assert not docs.may_download(s.hall, s.documents.documents["d-delegates"], stranger)


@pytest.mark.parametrize(
    ("cmd", "actor", "code"),
    [
        (publish(), delegate(2), Code.FORBIDDEN),
        (publish(), CHAIR, Code.FORBIDDEN),
        (publish(item_id="nope"), SECRETARY, Code.UNKNOWN_ITEM),
        (publish("Ttr có dấu"), SECRETARY, Code.INVALID),
        (publish("../etc"), SECRETARY, Code.INVALID),
        (publish(sha256="abc"), SECRETARY, Code.INVALID),
        (publish(sha256=sha("x").upper()), SECRETARY, Code.INVALID),
        (publish(size=0), SECRETARY, Code.INVALID),
        (publish(pages=0), SECRETARY, Code.INVALID),
        (publish(title="   "), SECRETARY, Code.INVALID),
        (publish(title="x" * 501), SECRETARY, Code.INVALID),
        (publish(version=2), SECRETARY, Code.WRONG_DOCUMENT_VERSION),
        (publish(active_content=["macro"]), SECRETARY, Code.INVALID),
    ],
)
def test_publication_refusals(cmd: Command, actor: Actor, code: Code) -> None:
    hall().refuse(cmd, actor, code)


def test_duplicate_id_and_session_documents() -> None:
    h = hall()
    h.accept(publish(), SECRETARY)
    h.refuse(publish(), SECRETARY, Code.DUPLICATE_ID)
    h.accept(publish("chuong-trinh", item_id=None, kind=docs.DocumentKind.OTHER), ADMIN)  # a paper for the session
    assert h.s.documents.documents["chuong-trinh"].item_id is None


def test_closed_session_takes_no_documents() -> None:
    h = hall(3)
    h.open()
    h.accept(sess.CloseSession(), CHAIR)
    h.refuse(publish(), SECRETARY, Code.WRONG_SESSION_STATE)


# --- versions and withdrawal -------------------------------------------------------------------------------------
def test_replacing_keeps_the_old_version_on_record() -> None:
    h = hall()
    h.accept(publish(), SECRETARY)
    new = docs.ReplaceDocument(document_id="ttr-1", version=2, size=999, sha256=sha("v2"), pages=4)
    h.refuse(
        docs.ReplaceDocument(document_id="ttr-1", version=3, size=1, sha256=sha("v3"), pages=1),
        SECRETARY,
        Code.WRONG_DOCUMENT_VERSION,
    )
    h.refuse(new, delegate(2), Code.FORBIDDEN)
    h.refuse(
        docs.ReplaceDocument(document_id="nope", version=2, size=1, sha256=sha("v"), pages=1),
        SECRETARY,
        Code.UNKNOWN_DOCUMENT,
    )
    (routed,) = h.accept(new, SECRETARY)
    assert routed.audience == DELEGATES
    ev = routed.event
    assert isinstance(ev, docs.DocumentReplaced) and ev.previous_version == 1 and ev.version == 2
    doc = h.s.documents.documents["ttr-1"]
    assert [v.version for v in doc.versions] == [1, 2]
    assert doc.version(1) is not None and doc.version(1).sha256 == sha("ttr-1")  # type: ignore[union-attr]
    assert doc.current.sha256 == sha("v2") and doc.title == "Tờ trình về dự toán ngân sách năm 2027"
    h.accept(
        docs.ReplaceDocument(document_id="ttr-1", version=3, size=5, sha256=sha("v3"), pages=1, title="Tờ trình (sửa)"),
        SECRETARY,
    )
    assert h.s.documents.documents["ttr-1"].title == "Tờ trình (sửa)"
    # Delegates' tablets are told of each version (their view has all three).
    assert [v.version for v in view(h, delegate(4)).documents.documents["ttr-1"].versions] == [1, 2, 3]


def test_withdrawal() -> None:
    h = hall()
    h.accept(publish(access=docs.Access.PUBLIC), SECRETARY)
    h.refuse(docs.WithdrawDocument(document_id="ttr-1"), CHAIR, Code.FORBIDDEN)
    (routed,) = h.accept(docs.WithdrawDocument(document_id="ttr-1", reason="Trình lại"), SECRETARY)
    assert routed.audience == EVERYONE
    doc = h.s.documents.documents["ttr-1"]
    assert doc.withdrawn and doc.withdraw_reason == "Trình lại" and len(doc.versions) == 1
    h.refuse(docs.WithdrawDocument(document_id="ttr-1"), SECRETARY, Code.DOCUMENT_WITHDRAWN)
    h.refuse(
        docs.ReplaceDocument(document_id="ttr-1", version=2, size=1, sha256=sha("v2"), pages=1),
        SECRETARY,
        Code.DOCUMENT_WITHDRAWN,
    )
    ack = docs.AcknowledgeDelivery(document_id="ttr-1", version=1, delegate_id=did(2), sha256=sha("ttr-1"))
    h.refuse(ack, delegate(2), Code.DOCUMENT_WITHDRAWN)
    assert not docs.may_download(h.s.hall, doc, PUBLIC)
    assert docs.delivery_matrix(h.s.hall, h.s.documents).columns == []


def test_secret_document_replaced_by_declaration_only() -> None:
    h = hall()
    h.accept(publish(access=docs.Access.SECRET, pages=10), SECRETARY)
    h.refuse(
        docs.ReplaceDocument(document_id="ttr-1", version=2, size=5, sha256=sha("m"), pages=11), SECRETARY, Code.INVALID
    )
    h.accept(docs.ReplaceDocument(document_id="ttr-1", version=2, pages=11), SECRETARY)
    assert h.s.documents.documents["ttr-1"].current.pages == 11


# --- delivery ----------------------------------------------------------------------------------------------------
def sent(doc_id: str, version: int, digest: str) -> list[docs.SentCopy]:
    return [docs.SentCopy(document_id=doc_id, version=version, sha256=digest)]


def status(h: Hall, doc_id: str, version: int, i: int) -> docs.DeliveryStatus:
    d = h.s.documents.documents[doc_id].version(version).deliveries.get(did(i))  # type: ignore[union-attr]
    return d.status if d is not None else docs.DeliveryStatus.NOT_SENT


def test_delivery_not_sent_sent_received_failed() -> None:
    h = hall()
    h.accept(publish(), SECRETARY)
    good = sha("ttr-1")
    assert status(h, "ttr-1", 1, 2) is docs.DeliveryStatus.NOT_SENT
    h.refuse(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 1, good)), delegate(2), Code.FORBIDDEN)
    h.refuse(docs.RecordCopiesSent(delegate_id="d999", copies=sent("ttr-1", 1, good)), SECRETARY, Code.UNKNOWN_DELEGATE)
    h.refuse(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 1, sha("other"))), SECRETARY, Code.INVALID)
    h.refuse(
        docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 7, good)),
        SECRETARY,
        Code.UNKNOWN_DOCUMENT_VERSION,
    )
    (routed,) = h.accept(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 1, good)), SECRETARY)
    assert routed.audience == staff_and(did(2))
    assert status(h, "ttr-1", 1, 2) is docs.DeliveryStatus.SENT
    # Handing out the same link again records nothing new.
    assert h.accept(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 1, good)), SECRETARY) == []

    ack = docs.AcknowledgeDelivery(document_id="ttr-1", version=1, delegate_id=did(2), sha256=good)
    h.refuse(ack, delegate(3), Code.NOT_YOURSELF)
    h.refuse(ack, SECRETARY, Code.NOT_A_DELEGATE)
    h.refuse(
        docs.AcknowledgeDelivery(document_id="nope", version=1, delegate_id=did(2), sha256=good),
        delegate(2),
        Code.UNKNOWN_DOCUMENT,
    )
    h.accept(ack, delegate(2))
    assert status(h, "ttr-1", 1, 2) is docs.DeliveryStatus.RECEIVED
    assert h.accept(ack, delegate(2)) == []  # acknowledged again: nothing new

    # A wrong hash is recorded as a failure, not refused: the secretariat must see it.
    bad = docs.AcknowledgeDelivery(document_id="ttr-1", version=1, delegate_id=did(3), sha256=sha("corrupt"))
    (routed,) = h.accept(bad, delegate(3))
    assert isinstance(routed.event, docs.DeliveryFailed) and routed.event.reason == docs.SHA256_MISMATCH
    assert status(h, "ttr-1", 1, 3) is docs.DeliveryStatus.FAILED
    # The next manifest sends it again; then it arrives.
    h.accept(docs.RecordCopiesSent(delegate_id=did(3), copies=sent("ttr-1", 1, good)), SECRETARY)
    assert status(h, "ttr-1", 1, 3) is docs.DeliveryStatus.SENT
    h.accept(
        docs.AcknowledgeDelivery(document_id="ttr-1", version=1, delegate_id=did(3), sha256=good.upper()), delegate(3)
    )
    assert status(h, "ttr-1", 1, 3) is docs.DeliveryStatus.RECEIVED

    h.accept(
        docs.ReportDeliveryFailure(document_id="ttr-1", version=1, delegate_id=did(4), reason="hết bộ nhớ"), delegate(4)
    )
    assert status(h, "ttr-1", 1, 4) is docs.DeliveryStatus.FAILED

    # Each delegate sees their own deliveries only; staff see all.
    mine = view(h, delegate(2)).documents.documents["ttr-1"].current.deliveries
    assert set(mine) == {did(2)}
    assert set(view(h, CHAIR).documents.documents["ttr-1"].current.deliveries) == {did(2), did(3), did(4)}
    assert view(h, RESPONDENT).documents.documents["ttr-1"].current.deliveries == {}


def test_restricted_copy_hash_is_the_stamped_copy() -> None:
    h = hall()
    h.accept(publish(access=docs.Access.RESTRICTED), SECRETARY)
    stamped = sha("stamped for d002")
    ack = docs.AcknowledgeDelivery(document_id="ttr-1", version=1, delegate_id=did(2), sha256=stamped)
    h.refuse(ack, delegate(2), Code.DOCUMENT_NOT_SENT)
    h.accept(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 1, stamped)), SECRETARY)
    # Two workers raced to stamp: the second record keeps the first copy's hash.
    assert h.accept(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 1, sha("late"))), SECRETARY) == []
    assert h.s.documents.documents["ttr-1"].current.deliveries[did(2)].sha256 == stamped
    # The original's hash is not the delegate's copy.
    wrong = docs.AcknowledgeDelivery(document_id="ttr-1", version=1, delegate_id=did(2), sha256=sha("ttr-1"))
    (routed,) = h.accept(wrong, delegate(2))
    assert isinstance(routed.event, docs.DeliveryFailed)
    h.accept(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("ttr-1", 1, stamped)), SECRETARY)
    h.accept(ack, delegate(2))
    assert status(h, "ttr-1", 1, 2) is docs.DeliveryStatus.RECEIVED


def test_delivery_matrix() -> None:
    h = hall(4)
    h.accept(publish("a", access=docs.Access.PUBLIC), SECRETARY)
    h.accept(publish("b"), SECRETARY)
    h.accept(publish("m", access=docs.Access.SECRET), SECRETARY)
    h.accept(publish("w"), SECRETARY)
    h.accept(docs.WithdrawDocument(document_id="w"), SECRETARY)
    for i in (1, 2, 3, 4):
        h.accept(docs.RecordCopiesSent(delegate_id=did(i), copies=sent("a", 1, sha("a"))), SECRETARY)
        h.accept(
            docs.AcknowledgeDelivery(document_id="a", version=1, delegate_id=did(i), sha256=sha("a")),
            delegate(i) if i > 1 else CHAIR,
        )
    h.accept(docs.RecordCopiesSent(delegate_id=did(2), copies=sent("b", 1, sha("b"))), SECRETARY)
    h.accept(docs.AcknowledgeDelivery(document_id="b", version=1, delegate_id=did(3), sha256=sha("x")), delegate(3))
    m = docs.delivery_matrix(h.s.hall, h.s.documents)
    assert [(c.document_id, c.version) for c in m.columns] == [("a", 1), ("b", 1)]
    assert (m.columns[0].received, m.columns[0].not_sent) == (4, 0)
    b = m.columns[1]
    assert (b.not_sent, b.sent, b.received, b.failed) == (2, 1, 0, 1)
    assert [r.delegate_id for r in m.rows] == [did(1), did(2), did(3), did(4)]
    assert m.rows[1].statuses == [docs.DeliveryStatus.RECEIVED, docs.DeliveryStatus.SENT]
    assert m.rows[2].missing == 1 and not m.complete
    for i in (1, 2, 3, 4):
        h.accept(docs.RecordCopiesSent(delegate_id=did(i), copies=sent("b", 1, sha("b"))), SECRETARY)
        h.accept(
            docs.AcknowledgeDelivery(document_id="b", version=1, delegate_id=did(i), sha256=sha("b")),
            delegate(i) if i > 1 else CHAIR,
        )
    assert docs.delivery_matrix(h.s.hall, h.s.documents).complete
    # A new version: nobody has it yet, the old one stays in the full matrix.
    h.accept(docs.ReplaceDocument(document_id="b", version=2, size=9, sha256=sha("b2"), pages=1), SECRETARY)
    m = docs.delivery_matrix(h.s.hall, h.s.documents)
    assert not m.complete and m.columns[1].version == 2 and m.columns[1].not_sent == 4
    full = docs.delivery_matrix(h.s.hall, h.s.documents, all_versions=True)
    assert [(c.document_id, c.version, c.current) for c in full.columns] == [
        ("a", 1, True),
        ("b", 1, False),
        ("b", 2, True),
    ]
    assert full.columns[1].received == 4
    assert h.replayed() == h.s


# --- random sequences ----------------------------------------------------------------------------------------------
N = 5
DOC_IDS = ["a", "b", "c"]
# Mostly the right person, sometimes anyone: enough accepted commands to reach every status, and refusals too.
staff = st.sampled_from([SECRETARY] * 6 + [ADMIN, CHAIR, PUBLIC, RESPONDENT, delegate(2)])
doc_ids = st.sampled_from([*DOC_IDS, *DOC_IDS, "zz"])
numbers = st.integers(min_value=1, max_value=N + 1)  # d006 is not on the roster
steps = st.sampled_from([1, 1, 1, 0, 2])  # the next version, or a wrong one
hashes = st.sampled_from([sha(f"h{i}") for i in range(3)])
right = st.sampled_from([True, True, True, False])


class DocumentsMachine(RuleBasedStateMachine):
    """Invariants: a refusal changes nothing; replay gives the live state; secret documents never carry a file or a
    delivery; versions are 1..n; every seated delegate is counted once per matrix column; a delegate's view holds
    no other delegate's deliveries; "received" always matches the copy that was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.log: list[Routed] = []
        self.state, routed = sess.execute(None, prepare(N), self.clock.ctx(SECRETARY))
        self.log.extend(routed)
        self.acks: dict[tuple[str, int, str], str] = {}
        self.accepted: set[str] = set()
        self._do(agenda.AddItem(item_id="nq-1", title="Nghị quyết"), SECRETARY)

    def _do(self, cmd: Command, actor: Actor) -> None:
        self.clock.tick()
        before = sess.snapshot(self.state)
        try:
            routed = sess.decide(self.state, cmd, self.clock.ctx(actor))
        except DomainError as e:
            assert e.refusal.message_vi and e.refusal.message_en
            assert sess.snapshot(self.state) == before
            return
        for r in routed:
            self.state = sess.apply(self.state, r.event)
            self.accepted.add(type(r.event).__name__)
        self.log.extend(routed)
        if isinstance(cmd, docs.AcknowledgeDelivery) and routed:
            self.acks[(cmd.document_id, cmd.version, cmd.delegate_id)] = cmd.sha256

    def _version(self, doc: str, step: int) -> tuple[int, docs.Version | None]:
        d = self.state.documents.documents.get(doc)
        if d is None:
            return step, None
        n = len(d.versions) - 1 + step if step else len(d.versions)
        return n, d.version(n)

    @initialize(access=st.sampled_from(list(docs.Access)))
    def publish_first(self, access: docs.Access) -> None:
        self.publish("a", docs.Access.DELEGATES, sha("a"), SECRETARY, True)
        self.publish("b", access, sha("b"), SECRETARY, True)

    @rule(doc=doc_ids, access=st.sampled_from(list(docs.Access)), digest=hashes, actor=staff, ok=right)
    def publish(self, doc: str, access: docs.Access, digest: str, actor: Actor, ok: bool) -> None:
        secret = access is docs.Access.SECRET
        file = not secret if ok else secret  # a wrong one: a secret document with a file, or a file without a hash
        cmd = docs.PublishDocument(
            document_id=doc,
            item_id="nq-1",
            kind=docs.DocumentKind.OTHER,
            title=f"Tài liệu {doc}",
            access=access,
            size=10 if file else 0,
            sha256=digest if file else "",
            pages=1,
        )
        self._do(cmd, actor)

    @rule(doc=doc_ids, step=steps, digest=hashes, actor=staff)
    def replace(self, doc: str, step: int, digest: str, actor: Actor) -> None:
        n, _ = self._version(doc, 2 if step == 2 else 1 if step else 0)
        d = self.state.documents.documents.get(doc)
        file = d is not None and d.access is not docs.Access.SECRET
        cmd = docs.ReplaceDocument(
            document_id=doc, version=n, size=10 if file else 0, sha256=digest if file else "", pages=1
        )
        self._do(cmd, actor)

    @rule(doc=doc_ids, actor=staff)
    def withdraw(self, doc: str, actor: Actor) -> None:
        if doc == "a":
            return  # keep one document distributable for most of the run
        self._do(docs.WithdrawDocument(document_id=doc), actor)

    @rule(i=numbers, doc=doc_ids, step=steps, digest=hashes, actor=staff, ok=right)
    def record_sent(self, i: int, doc: str, step: int, digest: str, actor: Actor, ok: bool) -> None:
        n, v = self._version(doc, 0 if step == 1 else step)
        if ok and v is not None and self.state.documents.documents[doc].access is not docs.Access.RESTRICTED:
            digest = v.sha256
        copies = [docs.SentCopy(document_id=doc, version=n, sha256=digest)]
        self._do(docs.RecordCopiesSent(delegate_id=did(i), copies=copies), actor)

    @rule(i=numbers, doc=doc_ids, step=steps, digest=hashes, own=right, ok=right)
    def acknowledge(self, i: int, doc: str, step: int, digest: str, own: bool, ok: bool) -> None:
        n, v = self._version(doc, 0 if step == 1 else step)
        if ok and v is not None:
            got = v.deliveries.get(did(i))
            digest = got.sha256 if got is not None else v.sha256
        actor = delegate(i) if own else delegate(i % N + 1)
        self._do(docs.AcknowledgeDelivery(document_id=doc, version=n, delegate_id=did(i), sha256=digest), actor)

    @rule(i=numbers, doc=doc_ids)
    def fail(self, i: int, doc: str) -> None:
        n, _ = self._version(doc, 0)
        self._do(docs.ReportDeliveryFailure(document_id=doc, version=n, delegate_id=did(i)), delegate(i))

    @invariant()
    def replay_matches(self) -> None:
        assert sess.snapshot(sess.replay(r.event for r in self.log)) == sess.snapshot(self.state)

    @invariant()
    def documents_are_consistent(self) -> None:
        state = self.state
        for doc in state.documents.documents.values():
            assert [v.version for v in doc.versions] == list(range(1, len(doc.versions) + 1))
            for v in doc.versions:
                if doc.access is docs.Access.SECRET:
                    assert v.size == 0 and v.sha256 == "" and v.deliveries == {}
                for who, d in v.deliveries.items():
                    assert state.hall.seated(who)
                    if doc.access is not docs.Access.RESTRICTED:
                        assert d.sha256 == v.sha256
                    if d.status is docs.DeliveryStatus.RECEIVED:
                        assert self.acks[(doc.id, v.version, who)].lower() == d.sha256
        m = docs.delivery_matrix(state.hall, state.documents, all_versions=True)
        for c in m.columns:
            assert c.not_sent + c.sent + c.received + c.failed == state.hall.total
        assert m.complete == all(r.missing == 0 for r in m.rows)

    @invariant()
    def views_hold_own_deliveries_only(self) -> None:
        evs = [(k, r.audience, r.event) for k, r in enumerate(self.log, start=1)]
        for i in (1, 2):
            mine = visible_state(evs, delegate(i))
            assert mine is not None
            for doc in mine.documents.documents.values():
                for v in doc.versions:
                    assert set(v.deliveries) <= {did(i)}
        public = visible_state(evs, PUBLIC)
        assert public is not None
        assert all(d.access is docs.Access.PUBLIC for d in public.documents.documents.values())


TestDocumentsMachine = DocumentsMachine.TestCase
TestDocumentsMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
