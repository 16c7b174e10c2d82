"""The record as a projection of the demo session's events (record/projection.py): every number and name in the
minutes, the resolutions and the count records comes from the domain's state, the rest from the secretariat."""

from __future__ import annotations

import asyncio
import unicodedata

import msgspec
import pytest

from meeting import agenda, script, votes
from meeting import session as sess
from meeting.agenda import ItemKind
from meeting.errors import Code, DomainError
from meeting.rules import BallotMode
from record import words
from record.inputs import demo_inputs
from record.projection import project
from server.simulate import MemoryRunner
from tests.record_session import AUDIT_HEADS, demo_events, demo_projection, demo_resolutions


def test_attendance_has_every_seated_delegate_with_the_absentees_reasons() -> None:
    rec = demo_projection().record
    assert rec.total_delegates == 50 and rec.present_count == 46
    absent = {a.delegate_id: a.absence_reason for a in rec.attendance if not a.present}
    # The script checks in delegates 1-46; the secretariat knows why three of the four others were away.
    assert absent == {"db047": "công tác", "db048": "ốm", "db049": "việc gia đình", "db050": ""}
    first = rec.attendance[0]
    assert first.present and first.checked_in_at is not None and first.name == "Trần Minh Hạnh"


def test_every_vote_keeps_the_domain_counts_shares_of_all_and_the_rule_in_words() -> None:
    pr = demo_projection()
    rounds = pr.state.votes.rounds
    assert [v.round_id for v in pr.record.votes] == ["bq-1", "bq-2"]
    for v in pr.record.votes:
        result = rounds[v.round_id].result
        assert result is not None
        assert [(o.key, o.count, o.share_of_all) for o in v.options] == [
            (o.key, o.count, o.share_of_all) for o in result.options
        ]
        assert v.total_delegates == 50 and v.needed == 26 and v.passed == result.passed
        assert v.pass_rule_vi == "quá nửa tổng số đại biểu (cần ít nhất 26/50)"
    bq1, bq2 = pr.record.votes
    assert bq1.mode_vi == "Biểu quyết công khai, điện tử"
    # The demo's secret vote is verifiable (issue 13 §2), and the record says so.
    assert bq2.mode_vi == "Bỏ phiếu kín, điện tử, có thể kiểm chứng (phiếu mã hóa, Ban kiểm phiếu giải mã tổng số)"
    assert pr.record.polls[0].mode_vi.startswith("điện tử, có thể kiểm chứng")
    assert [o.share_text for o in bq1.options] == ["78,00%", "8,00%", "6,00%"]
    assert bq1.outcome_vi == "Thông qua — Nghị quyết số 01/2026/NQ-HĐND"
    assert bq2.outcome_vi == "Thông qua — Nghị quyết số 01/NQ-HĐND"


def test_questioning_record_names_the_respondent_the_answer_the_commitment_and_the_rebuttals() -> None:
    q1, q2 = demo_projection().record.questions
    assert (q1.delegate_name, q1.respondent_name, q1.respondent_position) == (
        "Vũ Thị Hạnh",
        "Lý Thị Mai",
        "Giám đốc Sở Y tế",
    )
    assert q1.answer.startswith("Sở Y tế nhận trách nhiệm")
    assert q1.commitment.startswith("Bảo đảm đủ thuốc") and q1.commitment_due is not None
    assert q1.rebuttals == ["Vũ Thị Hạnh"]  # the questioner first; delegate 20 asked but was not called
    assert q2.answer == "" and q2.status_vi == "đã đăng ký"


def test_poll_record_has_the_certified_counts_committee_and_consequences() -> None:
    pr = demo_projection()
    (poll,) = pr.record.polls
    domain = pr.state.polls.polls["ltn-1"]
    assert domain.result is not None
    assert poll.status == "certified" and poll.ballots_collected == 46
    assert len(poll.committee) == 7 and len(poll.certified_by) == 4
    for line, o in zip(poll.officials, domain.result.officials, strict=True):
        assert [lv.count for lv in line.levels] == list(o.counts.values())
        assert line.consequence_vi == o.consequence_vi and line.valid == 46 - o.invalid
    assert [lv.label for lv in poll.officials[0].levels] == ["Tín nhiệm cao", "Tín nhiệm", "Tín nhiệm thấp"]


def test_resolution_doc_takes_the_number_date_and_text_in_the_state_layout() -> None:
    doc = demo_projection().resolution_doc("01/2026/NQ-HĐND")
    assert doc.header.body_lines == ["HỘI ĐỒNG NHÂN DÂN", "TỈNH MINH HÒA"]
    assert doc.header.number == "Số: 01/2026/NQ-HĐND"
    assert doc.header.place_date == "Minh Hòa, ngày 09 tháng 12 năm 2026"
    assert doc.issuer == ["HỘI ĐỒNG NHÂN DÂN TỈNH MINH HÒA", "KHÓA XI, KỲ HỌP THỨ TƯ"]
    assert doc.bases[0].startswith("Căn cứ Luật Tổ chức chính quyền địa phương")
    assert doc.bases[-1] == "ý kiến thảo luận của đại biểu Hội đồng nhân dân tỉnh tại kỳ họp."
    assert [a.label for a in doc.articles] == ["Điều 1.", "Điều 2.", "Điều 3."]
    assert doc.articles[-1].paragraphs[-1] == (
        "Nghị quyết này đã được Hội đồng nhân dân tỉnh Minh Hòa khóa XI, kỳ họp thứ Tư thông qua ngày 09 tháng 12 "
        "năm 2026."
    )
    assert doc.recipients[-1] == "- Lưu: VT, TH."
    assert (doc.signature.on_behalf, doc.signature.title, doc.signature.name) == (
        "TM. HỘI ĐỒNG NHÂN DÂN",
        "CHỦ TỊCH",
        "Nguyễn Minh Bình",
    )
    assert doc.vote.round_id == "bq-1" and doc.created == doc.vote.closed_at


def test_dates_follow_decree_30_leading_zeros() -> None:
    from datetime import date

    assert words.long_date(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert words.long_date(date(2026, 3, 15)) == "ngày 15 tháng 3 năm 2026"
    assert words.summary_of("Nghị quyết về dự toán") == "Về dự toán"


def test_decomposed_input_is_printed_composed() -> None:
    base = demo_inputs()
    nfd = unicodedata.normalize("NFD", "Nguyễn Minh Bình")
    inputs = msgspec.structs.replace(base, profile=msgspec.structs.replace(base.profile, chair_name=nfd))
    doc = demo_projection(inputs).resolution_doc("01/2026/NQ-HĐND")
    assert doc.signature.name == "Nguyễn Minh Bình" and unicodedata.is_normalized("NFC", doc.signature.name)


def test_minutes_list_every_part_and_the_audit_heads() -> None:
    doc = demo_projection().minutes_doc()
    titles = [s.title for s in doc.sections]
    assert titles[0] == "I. THỜI GIAN, ĐỊA ĐIỂM" and titles[-1] == "VIII. MÃ BĂM CUỐI CỦA NHẬT KÝ KIỂM TOÁN"
    assert doc.sections[-1].lines == [x for k, v in sorted(AUDIT_HEADS.items()) for x in (f"{k}:", v)]
    assert len(doc.sections[1].table_rows) == 50
    assert doc.sections[1].table_rows[46] == ["47", script.delegate_name(47), "Vắng mặt", "Lý do: công tác"]
    assert [s.title for s in doc.sections if s.title.startswith("VII.")] == ["VII. NGHỊ QUYẾT ĐÃ THÔNG QUA"]


def test_a_count_record_per_secret_round_and_poll() -> None:
    docs = demo_projection().count_record_docs()
    assert [d.subject_id for d in docs] == ["bq-2", "ltn-1"]
    vote, poll = docs
    assert (vote.ballots_issued, vote.ballots_collected, vote.ballots_valid, vote.ballots_invalid) == (46, 46, 46, 0)
    assert len(vote.committee) == 7 and vote.signatures[0].name == vote.committee[0]
    # The round's own committee (the domain's, not the record inputs') and who of it certified the result.
    assert vote.sections[-1].title == "IV. XÁC NHẬN"
    assert vote.sections[-1].lines[0].startswith("Kết quả đã được 4/7 thành viên Ban kiểm phiếu xác nhận")
    assert poll.sections[-1].lines[0].startswith("Kết quả đã được 4/7 thành viên Ban kiểm phiếu xác nhận")


def test_a_verifiable_count_record_carries_the_fingerprint_the_members_compared_and_where_to_check() -> None:
    """docs/BALLOT-CRYPTO.md §5: the fingerprint is written into the committee's record; the scripted session's
    secret vote and poll are verifiable (the default), one sealed by choice says so."""
    pr = demo_projection()
    vote, poll = pr.count_record_docs()
    rnd = pr.state.votes.rounds["bq-2"]
    assert rnd.mode is BallotMode.VERIFIABLE and rnd.ceremony_id is not None
    fp = " ".join(rnd.fingerprint[i : i + 4] for i in range(0, 32, 4))
    how, key, board = vote.sections[-1].lines[1:]
    assert "có thể kiểm chứng" in how and "4/7 thành viên Ban kiểm phiếu giải mã tổng số" in how
    assert key == f"Khóa của Ban kiểm phiếu: phiên {rnd.ceremony_id}, dấu vân tay {fp} " + (
        "(các thành viên đã đối chiếu trên thiết bị)."
    )
    assert f"verify.html?session={pr.state.hall.session_id}&round=bq-2" in board
    assert f"&poll={poll.subject_id}" in poll.sections[-1].lines[-1]
    # The same round had it been sealed: one line, no key, no board.
    rnd.mode = BallotMode.SEALED
    sealed = next(d for d in pr.count_record_docs() if d.subject_id == "bq-2")
    assert sealed.sections[-1].lines[1:] == [
        "Hình thức: bỏ phiếu điện tử, niêm phong; máy chủ kiểm phiếu, Ban kiểm phiếu xác nhận kết quả."
    ]


def test_the_record_of_an_unfinished_session_is_refused_clearly() -> None:
    events = demo_events()
    closed_at = next(i for i, e in enumerate(events) if type(e).__name__ == "SessionClosed")
    pr = project(events[:closed_at], demo_resolutions(), demo_inputs())
    with pytest.raises(DomainError) as err:
        pr.minutes_doc()
    assert err.value.code is Code.INVALID and "chưa bế mạc" in err.value.refusal.message_vi
    with pytest.raises(DomainError):
        project([], [], demo_inputs())


def test_a_resolution_without_draft_text_is_refused_clearly() -> None:
    inputs = msgspec.structs.replace(demo_inputs(), drafts=[])
    pr = demo_projection(inputs)
    with pytest.raises(DomainError) as err:
        pr.resolution_doc("01/2026/NQ-HĐND")
    assert "nq-ngan-sach" in err.value.refusal.message_vi and "draft" in err.value.refusal.message_en
    with pytest.raises(DomainError):
        pr.resolution_doc("99/NQ-HĐND")


def test_resolutions_of_other_sessions_are_left_out() -> None:
    other = [msgspec.structs.replace(r, session_id="ky-hop-khac") for r in demo_resolutions()]
    pr = project(demo_events(), other, demo_inputs())
    assert pr.record.resolutions == [] and pr.resolutions == []


def _cancelled_session() -> MemoryRunner:
    m = MemoryRunner(15, out=lambda _: None)
    chair, sec = script.CHAIR, script.SECRETARY

    async def run() -> None:
        await m.session_cmd(sec, agenda.AddItem(item_id="nq-1", title="Nghị quyết về phí", kind=ItemKind.RESOLUTION))
        await m.session_cmd(sec, sess.OpenCheckIn())
        for i in range(1, 13):
            await m.session_cmd(script.delegate_actor(i), sess.CheckIn(delegate_id=script.delegate_id(i)))
        await m.session_cmd(chair, sess.OpenSession())
        await m.session_cmd(chair, agenda.MoveToItem(item_id="nq-1"))
        await m.session_cmd(chair, votes.OpenVote(round_id="bq-x", item_id="nq-1", motion="Thông qua mức phí"))
        await m.session_cmd(chair, votes.CancelRound(round_id="bq-x", reason="Sai sót trong dự thảo"))
        await m.session_cmd(chair, sess.CloseSession())

    asyncio.run(run())
    return m


def test_cancelled_round_is_on_the_record_with_its_reason() -> None:
    m = _cancelled_session()
    pr = project([r.event for r in m.log], [], demo_inputs())
    (v,) = pr.record.votes
    assert (v.status, v.options, v.passed) == ("cancelled", [], False)
    assert v.outcome_vi == "Đã hủy: Sai sót trong dự thảo"
    minutes = pr.minutes_doc()
    assert "Kết quả: Đã hủy: Sai sót trong dự thảo." in minutes.sections[3].lines
    assert pr.count_record_docs() == []  # a cancelled round has nothing to count
    assert pr.record.present_count == 12 and pr.record.total_delegates == 15


def test_a_question_raised_from_a_petition_links_back_to_the_register() -> None:
    """Issue 14: the minutes say which voters' petition a question was raised from, with its link."""
    import msgspec

    from meeting.questioning import QuestionRegistered
    from record import projection as proj
    from record.inputs import demo_inputs
    from tests.record_session import AUDIT_HEADS, demo_events, demo_resolutions

    link = "petitions:hdnd-minh-hoa:k2021#kn-0042"
    events = [
        msgspec.structs.replace(e, link=link) if isinstance(e, QuestionRegistered) and e.question_id == "cv-2" else e
        for e in demo_events()
    ]
    assert any(isinstance(e, QuestionRegistered) and e.link == link for e in events), "the demo's second question"
    base = demo_inputs()
    inputs = proj.RecordInputs(
        profile=base.profile,
        drafts=base.drafts,
        absence_reasons=base.absence_reasons,
        vote_committee=base.vote_committee,
        minutes_number=base.minutes_number,
        audit_heads=AUDIT_HEADS,
    )
    pr = proj.project(events, demo_resolutions(), inputs)
    q1, q2 = pr.record.questions
    assert q1.link is None and q2.link == link
    lines = proj._question_lines(pr.record)
    assert f"Nguồn: kiến nghị, cam kết của cử tri mục kn-0042 ({link})." in lines
