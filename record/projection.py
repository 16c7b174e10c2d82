"""The record as a projection of the session's events (pure: no I/O, no clock).

`project(events, resolutions, inputs)` replays the session's events (meeting/session.py `replay`, the same fold
as the engine and the per-viewer views) and reads the council's resolutions numbered in this session. From that
it builds `SessionRecord` (the data) and the documents: each resolution, the minutes, and a count record per
secret vote round and confidence poll. What the domain does not hold (articles, "Căn cứ" lines, recipients,
names of the chair and secretary, absence reasons) comes from the secretariat's `RecordInputs`.

Domain fields read (so a change in meeting/ shows here): SessionState.title/kind/place/term_id, Hall.council_id/
council_name/delegates/respondents/status; events SessionOpened.at, SessionClosed.at, Attendance.delegate_id/
present/at; Agenda.order/items (title, kind); Round.id/item_id/motion/secret/paper/normative/kind/committee/
certified_by/status/present_at_open/voted/opened_at/cancel_reason/cancelled_at/result; VoteResult.options/
ballots_collected/total_delegates/pass_rule/needed/passed/present_at_open/present_at_close/closed_at/
few_ballots_confirmed; Question.*, Commitment.text/due,
Questioning.turns (kind, speaker_id); Poll.id/item_id/kind/status/paper/committee/certified_by/published_at/
present_at_open/voted/result (PollResult.*, OfficialResult.*); Resolution.number/title/normative/adopted_on/
session_id/item_id/round_id/council_id/result.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import msgspec

from meeting import session as sess
from meeting.agenda import ItemKind
from meeting.errors import invalid
from meeting.hall import SessionStatus
from meeting.messages import Event
from meeting.polls import Poll, PollStatus
from meeting.questioning import TurnKind
from meeting.resolutions import Resolution
from meeting.rules import BallotMode, Base
from meeting.votes import Round, RoundStatus
from record import words
from record.inputs import DraftResolution, RecordInputs
from record.model import (
    AgendaLine,
    ArticleDoc,
    AttendanceEntry,
    CountRecordDoc,
    Header,
    LevelCount,
    MinutesDoc,
    OfficialLine,
    OptionLine,
    PollRecord,
    QuestionRecord,
    ResolutionDoc,
    ResolutionLine,
    Section,
    SessionRecord,
    Signature,
    VoteRecord,
)

KIND_VI = {
    ItemKind.RESOLUTION: "Dự thảo nghị quyết",
    ItemKind.REPORT: "Báo cáo",
    ItemKind.QUESTIONING: "Chất vấn",
    ItemKind.CONFIDENCE: "Tín nhiệm",
    ItemKind.OTHER: "Nội dung khác",
}


class Projection(msgspec.Struct, kw_only=True):
    """A session replayed, with the record built from it; the documents are made on demand."""

    state: sess.SessionState
    inputs: RecordInputs
    record: SessionRecord
    resolutions: list[Resolution]

    def resolution_doc(self, number: str) -> ResolutionDoc:
        res = next((r for r in self.resolutions if r.number == number), None)
        if res is None:
            raise invalid(f"không có nghị quyết số {number} của kỳ họp này", f"no resolution {number} in this session")
        return _resolution_doc(self, res)

    def resolution_docs(self) -> list[ResolutionDoc]:
        return [_resolution_doc(self, r) for r in self.resolutions]

    def minutes_doc(self) -> MinutesDoc:
        return _minutes_doc(self)

    def count_record_docs(self) -> list[CountRecordDoc]:
        return _count_record_docs(self)


def project(events: Iterable[Event], resolutions: Iterable[Resolution], inputs: RecordInputs) -> Projection:
    """`events`: the session's log in order (sealed ballots may be included or not: a closed round's result is in
    its `RoundClosed`). `resolutions`: the council's resolutions; those of other sessions are ignored."""
    log = list(events)
    if not log or not isinstance(log[0], sess.SessionPrepared):
        raise invalid("nhật ký kỳ họp trống", "the session's event log is empty")
    state = sess.replay(log)
    mine = sorted(
        (r for r in resolutions if r.session_id == state.hall.session_id and r.council_id == state.hall.council_id),
        key=lambda r: (r.normative, r.seq),
    )
    record = _session_record(state, log, mine, inputs)
    return Projection(state=state, inputs=inputs, record=record, resolutions=mine)


# --- the data -----------------------------------------------------------------------------------------------------
def _attendance(state: sess.SessionState, log: list[Event], inputs: RecordInputs) -> list[AttendanceEntry]:
    first_in: dict[str, datetime] = {}
    for e in log:
        if isinstance(e, sess.Attendance) and e.present and e.delegate_id not in first_in:
            first_in[e.delegate_id] = datetime.fromisoformat(e.at)
    out = []
    for d in state.hall.delegates.values():
        if not d.seated:
            continue
        present = d.id in first_in
        reason = "" if present else words.nfc(inputs.absence_reasons.get(d.id, ""))
        out.append(
            AttendanceEntry(
                delegate_id=d.id,
                name=words.nfc(d.name),
                present=present,
                checked_in_at=first_in.get(d.id),
                absence_reason=reason,
            )
        )
    return out


# How an electronic secret ballot was counted (meeting/rules.py BallotMode), as the minutes word it.
SECRET_MODE_VI = {
    BallotMode.VERIFIABLE: "có thể kiểm chứng (phiếu mã hóa, Ban kiểm phiếu giải mã tổng số)",
    BallotMode.SEALED: "niêm phong (máy chủ kiểm phiếu)",
}


def _vote(state: sess.SessionState, r: Round, numbers: dict[str, str]) -> VoteRecord:
    item = state.agenda.items.get(r.item_id)
    mode = ("Bỏ phiếu kín" if r.secret else "Biểu quyết công khai") + (", phiếu giấy" if r.paper else ", điện tử")
    if r.secret and not r.paper:
        mode += ", " + SECRET_MODE_VI[r.mode]  # issue 13 §2: the record says which mode counted the round
    res = r.result
    threshold = r.pass_rule.threshold
    if res is not None:
        options = [
            OptionLine(
                key=o.key,
                label=words.nfc(o.label),
                count=o.count,
                share_of_all=o.share_of_all,
                share_text=words.percent(o.share_of_all),
            )
            for o in res.options
        ]
        # "26/50" over all delegates; over ballots or those present the base is not a fixed number of seats.
        of = f"/{res.total_delegates}" if threshold.base is Base.ALL_DELEGATES else " phiếu"
        rule_vi = f"{threshold.describe_vi()} (cần ít nhất {res.needed}{of})"
        outcome = "Thông qua" if res.passed else "Không thông qua"
        number = numbers.get(r.id, "")
        if number:
            outcome += f" — Nghị quyết số {number}"
        return VoteRecord(
            round_id=r.id, item_id=r.item_id, item_title=words.nfc(item.title) if item else "",
            motion=words.nfc(r.motion), secret=r.secret, paper=r.paper, normative=r.normative,
            kind=r.kind.value, kind_vi=r.kind.label_vi, mode_vi=mode,
            status=r.status.value, options=options, total_delegates=res.total_delegates,
            ballots_collected=res.ballots_collected, present_at_open=len(res.present_at_open),
            present_at_close=len(res.present_at_close), pass_rule=res.pass_rule.value, pass_rule_vi=rule_vi,
            needed=res.needed, passed=res.passed, outcome_vi=outcome, opened_at=res.opened_at,
            closed_at=res.closed_at, resolution_number=number,
        )  # fmt: skip
    return VoteRecord(
        round_id=r.id, item_id=r.item_id, item_title=words.nfc(item.title) if item else "",
        motion=words.nfc(r.motion), secret=r.secret, paper=r.paper, normative=r.normative,
        kind=r.kind.value, kind_vi=r.kind.label_vi, mode_vi=mode, status=r.status.value, options=[],
        total_delegates=r.total_delegates, ballots_collected=0,
        present_at_open=len(r.present_at_open), present_at_close=0, pass_rule=r.pass_rule.value,
        pass_rule_vi=threshold.describe_vi(), needed=0, passed=False,
        outcome_vi=f"Đã hủy: {words.nfc(r.cancel_reason or '')}", opened_at=r.opened_at, closed_at=r.cancelled_at,
        resolution_number="",
    )  # fmt: skip


def _questions(state: sess.SessionState) -> list[QuestionRecord]:
    hall, q = state.hall, state.questioning
    rebuttals: dict[str, list[str]] = {}
    for t in q.turns:
        if t.kind is TurnKind.REBUTTAL:
            d = hall.delegates.get(t.speaker_id)
            rebuttals.setdefault(t.question_id, []).append(words.nfc(d.name) if d else t.speaker_id)
    out = []
    for question in q.questions.values():
        asker = hall.delegates.get(question.delegate_id)
        resp = hall.respondents.get(question.respondent_id)
        c = question.commitment
        out.append(
            QuestionRecord(
                question_id=question.id, topic=words.nfc(question.group or question.topic),
                delegate_id=question.delegate_id, delegate_name=words.nfc(asker.name) if asker else "",
                respondent_id=question.respondent_id, respondent_name=words.nfc(resp.name) if resp else "",
                respondent_position=words.nfc(resp.position) if resp else "", text=words.nfc(question.text),
                status=question.status.value, status_vi=question.status.label_vi,
                answer=words.nfc(question.answer or ""), commitment=words.nfc(c.text) if c else "",
                commitment_due=c.due if c else None, rebuttals=rebuttals.get(question.id, []),
                link=question.link,
            )
        )  # fmt: skip
    return out


def _names(state: sess.SessionState, ids: Iterable[str]) -> list[str]:
    return [words.nfc(state.hall.delegates[i].name) if i in state.hall.delegates else i for i in ids]


def _poll(state: sess.SessionState, p: Poll) -> PollRecord:
    res = p.result
    officials = []
    base_vi = ""
    if res is not None:
        base_vi = "tổng số phiếu thu về" if res.base.value == "ballots_collected" else "tổng số đại biểu"
        base_vi += f" ({res.base_size})"
        for o in res.officials:
            levels = [
                LevelCount(
                    level=k, label=p.kind.levels[i].label_vi, count=n, percentage=o.percentages.get(k, 0.0),
                    percentage_text=words.percent(o.percentages.get(k, 0.0)),
                )
                for i, (k, n) in enumerate(o.counts.items())
            ]  # fmt: skip
            officials.append(
                OfficialLine(
                    official_id=o.official_id, name=words.nfc(o.name), position=words.nfc(o.position),
                    levels=levels, invalid=o.invalid, valid=res.ballots_collected - o.invalid,
                    consequence=o.consequence.value, consequence_vi=words.nfc(o.consequence_vi),
                )
            )  # fmt: skip
    return PollRecord(
        poll_id=p.id, item_id=p.item_id, kind=p.kind.value, kind_vi=p.kind.label_vi, status=p.status.value,
        status_vi=p.status.label_vi, paper=p.paper, total_delegates=res.total_delegates if res else state.hall.total,
        ballots_collected=res.ballots_collected if res else 0, base_vi=base_vi, officials=officials,
        mode_vi="phiếu giấy" if p.paper else f"điện tử, {SECRET_MODE_VI[p.mode]}",
        committee=_names(state, p.committee), certified_by=_names(state, p.certified_by), published_at=p.published_at,
    )  # fmt: skip


def _session_record(
    state: sess.SessionState, log: list[Event], resolutions: list[Resolution], inputs: RecordInputs
) -> SessionRecord:
    opened = next((datetime.fromisoformat(e.at) for e in log if isinstance(e, sess.SessionOpened)), None)
    closed = next((datetime.fromisoformat(e.at) for e in log if isinstance(e, sess.SessionClosed)), None)
    attendance = _attendance(state, log, inputs)
    numbers = {r.round_id: r.number for r in resolutions}
    agenda = [
        AgendaLine(
            position=i + 1, item_id=item_id, title=words.nfc(state.agenda.items[item_id].title),
            kind=state.agenda.items[item_id].kind.value, kind_vi=KIND_VI[state.agenda.items[item_id].kind],
        )
        for i, item_id in enumerate(state.agenda.order)
    ]  # fmt: skip
    rounds = [r for r in state.votes.rounds.values() if r.status is not RoundStatus.OPEN]
    return SessionRecord(
        council_id=state.hall.council_id, council_name=words.nfc(state.hall.council_name),
        session_id=state.hall.session_id, title=words.nfc(state.title), kind=state.kind.value,
        place=words.nfc(state.place), term_id=state.term_id, opened_at=opened, closed_at=closed,
        total_delegates=state.hall.total, present_count=sum(1 for a in attendance if a.present),
        attendance=attendance, agenda=agenda, votes=[_vote(state, r, numbers) for r in rounds],
        questions=_questions(state), polls=[_poll(state, p) for p in state.polls.polls.values()],
        resolutions=[
            ResolutionLine(
                number=r.number, title=words.nfc(r.title), normative=r.normative, adopted_on=r.adopted_on,
                item_id=r.item_id, round_id=r.round_id,
            )
            for r in resolutions
        ],
        audit_heads=dict(sorted(inputs.audit_heads.items())),
    )  # fmt: skip


# --- the documents ------------------------------------------------------------------------------------------------
def _header(inputs: RecordInputs, number: str, on: date) -> Header:
    p = inputs.profile
    return Header(
        body_lines=[words.nfc(x).upper() for x in p.body_lines],
        motto=list(words.MOTTO),
        number=f"Số: {words.nfc(number)}" if number else "",
        place_date=words.place_date(p.place_name, on),
    )


def _issuer(inputs: RecordInputs) -> list[str]:
    p = inputs.profile
    return [
        words.nfc(p.council_name).upper(),
        f"{words.nfc(p.term_label)}, kỳ họp {words.nfc(p.session_ordinal)}".upper(),
    ]


def _resolution_doc(pr: Projection, res: Resolution) -> ResolutionDoc:
    inputs = pr.inputs
    draft: DraftResolution | None = inputs.draft(res.item_id)
    if draft is None or not draft.articles:
        raise invalid(
            f"nội dung mục {res.item_id} chưa có dự thảo nghị quyết (các điều) để in nghị quyết số {res.number}",
            f"agenda item {res.item_id} has no draft resolution text (articles) to print resolution {res.number}",
        )
    p = inputs.profile
    vote = next(v for v in pr.record.votes if v.round_id == res.round_id)
    articles = [
        ArticleDoc(label=f"Điều {i}.", heading=words.nfc(a.heading), paragraphs=[words.nfc(x) for x in a.paragraphs])
        for i, a in enumerate(draft.articles, start=1)
    ]
    adoption = (
        f"Nghị quyết này đã được {words.nfc(p.council_name)} {words.nfc(p.term_label)}, kỳ họp "
        f"{words.nfc(p.session_ordinal)} thông qua {words.long_date(res.adopted_on)}."
    )
    last = articles[-1]
    articles[-1] = ArticleDoc(label=last.label, heading=last.heading, paragraphs=[*last.paragraphs, adoption])
    recipients = draft.recipients or p.recipients
    return ResolutionDoc(
        header=_header(inputs, res.number, res.adopted_on),
        doc_type="NGHỊ QUYẾT",
        summary=words.nfc(draft.summary) if draft.summary else words.summary_of(res.title),
        issuer=_issuer(inputs),
        bases=[words.nfc(x) for x in (*p.bases, *draft.bases, *draft.considering)],
        decides="QUYẾT NGHỊ:",
        articles=articles,
        recipients_title="Nơi nhận:",
        recipients=[f"- {words.nfc(x)}" for x in recipients],
        signature=Signature(on_behalf="TM. HỘI ĐỒNG NHÂN DÂN", title=words.nfc(p.chair_title).upper(),
                            name=words.nfc(p.chair_name)),
        created=res.result.closed_at,
        council_id=res.council_id,
        number=res.number,
        normative=res.normative,
        adopted_on=res.adopted_on,
        vote=vote,
    )  # fmt: skip


def _require_closed(state: sess.SessionState) -> None:
    if state.hall.status is not SessionStatus.CLOSED:
        raise invalid(
            "kỳ họp chưa bế mạc: biên bản chỉ lập sau khi bế mạc", "the session is still open: minutes follow its close"
        )


def _vote_lines(v: VoteRecord, n: int) -> list[str]:
    head = f"{n}. {v.motion} ({v.kind_vi}; {v.mode_vi})."
    if v.status == RoundStatus.CANCELLED.value:
        return [head, f"Kết quả: {v.outcome_vi}."]
    counts = "; ".join(f"{o.label}: {o.count} ({o.share_text})" for o in v.options)
    return [
        head,
        f"{counts}; số phiếu thu về: {v.ballots_collected}/{v.total_delegates} đại biểu.",
        f"Quy định: {v.pass_rule_vi}. Kết quả: {v.outcome_vi}.",
    ]


def _poll_table(poll: PollRecord) -> tuple[list[str], list[list[str]]]:
    labels = [lv.label for lv in poll.officials[0].levels] if poll.officials else []
    head = ["TT", "Họ và tên, chức vụ", *labels, "Không hợp lệ"]
    rows = [
        [str(i), f"{o.name}, {o.position}", *(f"{lv.count} ({lv.percentage_text})" for lv in o.levels), str(o.invalid)]
        for i, o in enumerate(poll.officials, start=1)
    ]
    return head, rows


def _minutes_doc(pr: Projection) -> MinutesDoc:
    _require_closed(pr.state)
    rec, p = pr.record, pr.inputs.profile
    assert rec.closed_at is not None
    absent = [a for a in rec.attendance if not a.present]
    sections = [
        Section(
            title="I. THỜI GIAN, ĐỊA ĐIỂM",
            lines=[
                f"Khai mạc: {words.clock(rec.opened_at)}." if rec.opened_at else "Khai mạc: không ghi nhận.",
                f"Bế mạc: {words.clock(rec.closed_at)}.",
                f"Địa điểm: {rec.place}." if rec.place else "Địa điểm: không ghi nhận.",
            ],
        ),
        Section(
            title="II. THÀNH PHẦN",
            lines=[
                f"Chủ tọa: {words.nfc(p.chair_name)}, {words.sentence_start(p.chair_title.lower())} "
                f"{words.nfc(p.council_name)}.",
                f"Thư ký kỳ họp: {words.nfc(p.secretary_name) or 'không ghi nhận'}.",
                f"Tổng số đại biểu: {rec.total_delegates}; có mặt: {rec.present_count}; vắng mặt: {len(absent)}.",
            ],
            table_head=["TT", "Họ và tên đại biểu", "Điểm danh", "Ghi chú"],
            table_rows=[
                [
                    str(i),
                    a.name,
                    words.short_time(a.checked_in_at) if a.checked_in_at else "Vắng mặt",
                    a.absence_reason and f"Lý do: {a.absence_reason}",
                ]
                for i, a in enumerate(rec.attendance, start=1)
            ],
        ),
        Section(
            title="III. CHƯƠNG TRÌNH KỲ HỌP",
            table_head=["TT", "Nội dung", "Loại"],
            table_rows=[[str(a.position), a.title, a.kind_vi] for a in rec.agenda],
        ),
        Section(
            title="IV. KẾT QUẢ BIỂU QUYẾT",
            lines=[x for i, v in enumerate(rec.votes, start=1) for x in _vote_lines(v, i)]
            or ["Không có lượt biểu quyết."],
        ),
        Section(title="V. CHẤT VẤN VÀ TRẢ LỜI CHẤT VẤN", lines=_question_lines(rec) or ["Không có câu hỏi chất vấn."]),
    ]
    for poll in rec.polls:
        head, rows = _poll_table(poll)
        collected = f"{poll.ballots_collected}/{poll.total_delegates}"
        lines = [f"{poll.kind_vi} ({poll.status_vi}; {poll.mode_vi}); số phiếu thu về: {collected}."]
        lines += [f"{o.name}: {o.consequence_vi}." for o in poll.officials]
        sections.append(Section(title=f"VI. {poll.kind_vi.upper()}", lines=lines, table_head=head, table_rows=rows))
    sections.append(
        Section(
            title="VII. NGHỊ QUYẾT ĐÃ THÔNG QUA",
            lines=[] if rec.resolutions else ["Không có nghị quyết."],
            table_head=["TT", "Số", "Trích yếu", "Ngày thông qua"] if rec.resolutions else [],
            table_wide=2,
            table_rows=[
                [str(i), r.number, words.summary_of(r.title), f"{r.adopted_on:%d/%m/%Y}"]
                for i, r in enumerate(rec.resolutions, start=1)
            ],
        )
    )
    # The chain's name and its head on lines of their own: a 64-digit hash does not fit beside a long name.
    heads = [x for chain, h in rec.audit_heads.items() for x in (f"{chain}:", h)]
    sections.append(
        Section(
            title="VIII. MÃ BĂM CUỐI CỦA NHẬT KÝ KIỂM TOÁN",
            lines=heads or ["Chưa đối chiếu nhật ký kiểm toán."],
        )
    )
    return MinutesDoc(
        header=_header(pr.inputs, pr.inputs.minutes_number, words.local(rec.closed_at).date()),
        doc_type="BIÊN BẢN",
        summary=words.sentence_start(rec.title),
        sections=sections,
        signatures=[
            Signature(on_behalf="", title="THƯ KÝ KỲ HỌP", name=words.nfc(p.secretary_name)),
            Signature(on_behalf="", title="CHỦ TỌA", name=words.nfc(p.chair_name)),
        ],
        created=rec.closed_at,
        record=rec,
    )


def _question_lines(rec: SessionRecord) -> list[str]:
    out = []
    for i, q in enumerate(rec.questions, start=1):
        out.append(
            f"{i}. Đại biểu {q.delegate_name} chất vấn {q.respondent_name}, {q.respondent_position} "
            f"(nhóm vấn đề: {q.topic}): {q.text}"
        )
        if q.link:
            out.append(f"Nguồn: kiến nghị, cam kết của cử tri mục {q.link.split('#', 1)[-1]} ({q.link}).")
        out.append(f"Trả lời: {q.answer}" if q.answer else f"Trả lời: chưa ghi nhận ({q.status_vi}).")
        if q.commitment:
            due = f" (thời hạn: {q.commitment_due:%d/%m/%Y})" if q.commitment_due else ""
            out.append(f"Cam kết{due}: {q.commitment}")
        if q.rebuttals:
            out.append(f"Tranh luận: {', '.join(q.rebuttals)}.")
    return out


def _count_record_docs(pr: Projection) -> list[CountRecordDoc]:
    docs = [_vote_count_record(pr, v) for v in pr.record.votes if v.secret and v.status == RoundStatus.CLOSED.value]
    docs += [_poll_count_record(pr, p) for p in pr.record.polls if p.officials]
    return docs


def _committee_section(names: list[str]) -> Section:
    return Section(
        title="I. BAN KIỂM PHIẾU",
        lines=[f"{i}. {n}" for i, n in enumerate(names, start=1)] or ["Chưa ghi nhận thành viên Ban kiểm phiếu."],
    )


def _committee_signature(names: list[str]) -> list[Signature]:
    # The domain does not name the committee's head yet: the first member listed signs for it.
    return [Signature(on_behalf="TM. BAN KIỂM PHIẾU", title="TRƯỞNG BAN", name=names[0] if names else "")]


def _counts_lines(total: int, issued: int, collected: int, valid: int, invalid_n: int) -> list[str]:
    return [
        f"Tổng số đại biểu: {total}.",
        f"Số phiếu phát ra: {issued}.",
        f"Số phiếu thu vào: {collected}.",
        f"Số phiếu hợp lệ: {valid}.",
        f"Số phiếu không hợp lệ: {invalid_n}.",
    ]


def _how_counted(
    state: sess.SessionState, paper: bool, mode: BallotMode, ceremony_id: str | None, fingerprint: str, subject: str
) -> list[str]:
    """How the ballots were counted, in the committee's own record (issue 13 §2). For a verifiable ballot the key's
    fingerprint, which the members compared on their devices, is written here (docs/BALLOT-CRYPTO.md §5: a server
    that showed two members different transcripts is caught by it), with where anyone can check the count.
    `subject`: "round=<id>" or "poll=<id>", as verify.html takes it."""
    if paper:
        return ["Hình thức: phiếu giấy; Ban kiểm phiếu kiểm phiếu và nhập kết quả vào hệ thống."]
    if mode is not BallotMode.VERIFIABLE or ceremony_id is None:
        return ["Hình thức: bỏ phiếu điện tử, niêm phong; máy chủ kiểm phiếu, Ban kiểm phiếu xác nhận kết quả."]
    c = state.ceremonies.by_id.get(ceremony_id)
    keys = c.keys if c is not None else None
    need = f"{keys.threshold}/{len(keys.members)}" if keys is not None else "đủ số"
    return [
        "Hình thức: bỏ phiếu điện tử có thể kiểm chứng; mỗi phiếu được mã hóa trên máy tính bảng của đại biểu, máy "
        f"chủ chỉ cộng các phiếu đã mã hóa; kết quả có được khi {need} thành viên Ban kiểm phiếu giải mã tổng số.",
        f"Khóa của Ban kiểm phiếu: phiên {ceremony_id}, dấu vân tay "
        f"{' '.join(fingerprint[i : i + 4] for i in range(0, 32, 4))} (các thành viên đã đối chiếu trên thiết bị).",
        f"Bảng công khai các phiếu mã hóa: verify.html?session={state.hall.session_id}&{subject} trên máy chủ của "
        "Hội đồng; ai cũng kiểm chứng được kết quả từ bảng này.",
    ]


def _vote_count_record(pr: Projection, v: VoteRecord) -> CountRecordDoc:
    rnd = pr.state.votes.rounds[v.round_id]
    assert rnd.result is not None and v.closed_at is not None
    # The round's own counting committee (the domain names one for every secret round since certification,
    # issue 10 §1); the record inputs' list only for rounds from logs written before that.
    committee = _names(pr.state, rnd.committee or pr.inputs.vote_committee)
    certified_by = _names(pr.state, rnd.certified_by)
    if certified_by:
        certified = (
            f"Kết quả đã được {len(certified_by)}/{len(committee)} thành viên Ban kiểm phiếu xác nhận "
            f"({', '.join(certified_by)}) trước khi công bố."
        )
    else:
        certified = "Kết quả không qua bước xác nhận của Ban kiểm phiếu trên hệ thống."
    conclusion = [f"Quy định: {v.pass_rule_vi}.", f"Kết quả: {v.outcome_vi}."]
    if rnd.result.few_ballots_confirmed:
        conclusion.append(
            "Chủ tọa đã xác nhận kết thúc lượt bỏ phiếu khi số phiếu thu về ít hơn mức tối thiểu "
            "để giữ bí mật phiếu bầu; kết quả có thể cho biết cách bỏ phiếu của từng người."
        )
    # Electronic: a ballot goes to every delegate present when the round opened or who voted after checking in
    # later. Paper: the domain knows only who was present at the opening. The system's ballot form cannot be
    # spoiled, and a paper count records no invalid ballots yet, so every ballot collected counts as valid.
    issued = len(set(rnd.result.present_at_open) | set(rnd.result.voted))
    sections = [
        _committee_section(committee),
        Section(
            title="II. KẾT QUẢ KIỂM PHIẾU",
            lines=_counts_lines(v.total_delegates, issued, v.ballots_collected, v.ballots_collected, 0),
            table_head=["Phương án", "Số phiếu", "Tỷ lệ so với tổng số đại biểu"],
            table_rows=[[o.label, str(o.count), o.share_text] for o in v.options],
            table_wide=0,
        ),
        Section(title="III. KẾT LUẬN", lines=conclusion),
        Section(
            title="IV. XÁC NHẬN",
            lines=[
                certified,
                *_how_counted(pr.state, rnd.paper, rnd.mode, rnd.ceremony_id, rnd.fingerprint, f"round={rnd.id}"),
            ],
        ),
    ]
    return CountRecordDoc(
        header=_header(pr.inputs, "", words.local(v.closed_at).date()),
        doc_type="BIÊN BẢN KIỂM PHIẾU",
        summary=f"Bỏ phiếu kín: {v.motion}",
        subject_id=v.round_id,
        sections=sections,
        signatures=_committee_signature(committee),
        created=v.closed_at,
        committee=committee,
        ballots_issued=issued,
        ballots_collected=v.ballots_collected,
        ballots_valid=v.ballots_collected,
        ballots_invalid=0,
    )


def _poll_count_record(pr: Projection, poll: PollRecord) -> CountRecordDoc:
    p = pr.state.polls.polls[poll.poll_id]
    at = p.published_at or p.closed_at
    assert at is not None
    issued = len(p.present_at_open | p.voted)
    head, rows = _poll_table(poll)
    if p.status is PollStatus.CERTIFIED:
        certified = (
            f"Kết quả đã được {len(poll.certified_by)}/{len(poll.committee)} thành viên Ban kiểm phiếu xác nhận "
            f"({', '.join(poll.certified_by)}) và công bố lúc {words.short_time(at)}."
        )
    else:
        certified = f"Kết quả chưa được Ban kiểm phiếu xác nhận ({poll.status_vi})."
    sections = [
        _committee_section(poll.committee),
        Section(
            title="II. KẾT QUẢ KIỂM PHIẾU",
            lines=[
                *_counts_lines(poll.total_delegates, issued, poll.ballots_collected, poll.ballots_collected, 0),
                f"Tỷ lệ tính trên {poll.base_vi}. Phiếu không hợp lệ đối với từng người ghi ở cột “Không hợp lệ”.",
            ],
            table_head=head,
            table_rows=rows,
        ),
        Section(title="III. KẾT LUẬN", lines=[f"{o.name}: {o.consequence_vi}." for o in poll.officials]),
        Section(
            title="IV. XÁC NHẬN",
            lines=[certified, *_how_counted(pr.state, p.paper, p.mode, p.ceremony_id, p.fingerprint, f"poll={p.id}")],
        ),
    ]
    return CountRecordDoc(
        header=_header(pr.inputs, "", words.local(at).date()),
        doc_type="BIÊN BẢN KIỂM PHIẾU",
        summary=f"{poll.kind_vi} đối với người giữ chức vụ do Hội đồng nhân dân bầu",
        subject_id=poll.poll_id,
        sections=sections,
        signatures=_committee_signature(poll.committee),
        created=at,
        committee=poll.committee,
        ballots_issued=issued,
        ballots_collected=poll.ballots_collected,
        ballots_valid=poll.ballots_collected,
        ballots_invalid=0,
    )
