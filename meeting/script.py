"""A whole council session as a script: the demo prints it, the tests run it through the domain and the server.

The script talks to a `Runner`, so the same steps run in memory (`kyhop simulate`, domain tests) or through a
real server over WebSockets (end-to-end tests). Names and titles are made up for the demo.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from clients.ballots import CommitteeMember, encrypt_poll, encrypt_vote
from meeting import agenda, council, polls, questioning, speakers, verifiable, votes
from meeting import session as sess
from meeting.actors import Actor, Role
from meeting.hall import Respondent
from meeting.messages import Command
from meeting.rules import Level, Rules
from meeting.session import SessionState
from meeting.votes import VoteResult

COUNCIL_ID = "hdnd-minh-hoa"
COUNCIL_NAME = "Hội đồng nhân dân tỉnh Minh Hòa"
TERM_ID = "khoa-xi"
SESSION_ID = "ky-hop-4"
SESSION_TITLE = "Kỳ họp thứ Tư, Hội đồng nhân dân tỉnh Minh Hòa khóa XI"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Thu", "Quốc", "Kim"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương", "Khánh", "Lan", "Long"]

RESPONDENTS = [
    Respondent(id="ub-chu-tich", name="Trương Quang Định", position="Chủ tịch Ủy ban nhân dân tỉnh"),
    Respondent(id="so-y-te", name="Lý Thị Mai", position="Giám đốc Sở Y tế"),
    Respondent(id="so-nong-nghiep", name="Đinh Văn Tùng", position="Giám đốc Sở Nông nghiệp và Môi trường"),
    Respondent(id="toa-an", name="Mạc Thị Yến", position="Chánh án Tòa án nhân dân tỉnh"),
]

ITEMS = [
    ("nq-ngan-sach", "Nghị quyết về dự toán ngân sách địa phương năm 2027", agenda.ItemKind.RESOLUTION),
    ("nq-dau-tu-cong", "Nghị quyết điều chỉnh kế hoạch đầu tư công trung hạn 2026–2030", agenda.ItemKind.RESOLUTION),
    ("chat-van", "Phiên chất vấn và trả lời chất vấn", agenda.ItemKind.QUESTIONING),
    ("tin-nhiem", "Lấy phiếu tín nhiệm đối với người giữ chức vụ do HĐND tỉnh bầu", agenda.ItemKind.CONFIDENCE),
]


def delegate_id(i: int) -> str:
    return f"db{i:03d}"


def delegate_name(i: int) -> str:
    return f"{FAMILY[i % len(FAMILY)]} {MIDDLE[(i * 3) % len(MIDDLE)]} {GIVEN[(i * 7) % len(GIVEN)]}"


def seat_label(i: int) -> str:
    """The demo hall's seating plan: rows A, B, C… of 10 seats ("A-01" is the chair's, at the front)."""
    row, col = divmod(i - 1, 10)
    return f"{chr(ord('A') + row)}-{col + 1:02d}"


def delegate_actor(i: int) -> Actor:
    roles = {Role.DELEGATE, Role.CHAIR} if i == 1 else {Role.DELEGATE}
    return Actor(roles=frozenset(roles), person_id=delegate_id(i))


# The counting committee (Ban kiểm phiếu) the council elects: 7 members, the province minimum (Guidance
# 883/HD-UBTVQH14); it certifies the secret vote and the confidence poll. More than half (4) publishes a count.
COMMITTEE = [delegate_id(i) for i in range(30, 37)]


def committee_actor(member: str) -> Actor:
    return Actor(roles=frozenset({Role.DELEGATE, Role.COMMITTEE}), person_id=member)


CEREMONY_ID = "bkp-khoa-xi"


async def key_ceremony(r: Runner) -> dict[str, CommitteeMember]:
    """The committee's key ceremony (docs/BALLOT-CRYPTO.md §5): each member's device publishes, deals and checks
    in turn; every device ends with its share and the same fingerprint. The secret vote and the confidence poll
    below are verifiable (the council's default, issue 13 §2): tablets encrypt, 4 of the 7 members decrypt."""
    await r.session(CHAIR, verifiable.StartCeremony(ceremony_id=CEREMONY_ID, members=COMMITTEE))
    first = await r.state(committee_actor(COMMITTEE[0]))
    devices = {m: CommitteeMember(first, CEREMONY_ID, m) for m in COMMITTEE}
    for m, d in devices.items():
        await r.session(committee_actor(m), d.publish())
    for step in (CommitteeMember.deal, CommitteeMember.complain):
        states = {m: await r.state(committee_actor(m)) for m in COMMITTEE}
        for m, d in devices.items():
            await r.session(committee_actor(m), step(d, states[m]))
    fingerprints = {d.finish(await r.state(committee_actor(m))) for m, d in devices.items()}
    assert len(fingerprints) == 1, fingerprints  # one transcript for every device
    return devices


SECRETARY = Actor(roles=frozenset({Role.SECRETARY}), person_id=None)
ADMIN = Actor(roles=frozenset({Role.ADMIN}), person_id=None)
CHAIR = delegate_actor(1)


class Runner(Protocol):
    async def session(self, actor: Actor, command: Command) -> None: ...
    async def council(self, actor: Actor, command: Command) -> None: ...
    async def result(self, round_id: str) -> VoteResult: ...
    def say(self, text: str) -> None: ...

    async def state(self, actor: Actor) -> SessionState:
        """The session as `actor`'s device holds it, once it has every command sent so far. The script asks only
        after a command whose last event that device sees (a ceremony step, a round opened or closed), and
        computes every encrypted ballot or partial decryption of a step before sending any of them."""
        ...


def council_setup(n: int, rules: Rules | None = None) -> list[tuple[Actor, Command]]:
    """Council, term, delegates and respondents (REST commands on the council in the server). `rules` None: a
    province's defaults (verifiable secret ballots)."""
    create = council.CreateCouncil(council_id=COUNCIL_ID, name=COUNCIL_NAME, level=Level.PROVINCE, rules=rules)
    steps: list[tuple[Actor, Command]] = [
        (ADMIN, create),
        (SECRETARY, council.OpenTerm(term_id=TERM_ID, name="Khóa XI, nhiệm kỳ 2026–2031", starts_on=date(2026, 3, 15))),
    ]
    steps += [
        (SECRETARY, council.SeatDelegate(delegate_id=delegate_id(i), name=delegate_name(i), seat=seat_label(i)))
        for i in range(1, n + 1)
    ]
    steps += [
        (SECRETARY, council.AddRespondent(respondent_id=r.id, name=r.name, position=r.position)) for r in RESPONDENTS
    ]
    return steps


def _share(i: int, n: int, yes: float, no: float) -> str:
    """A deterministic choice: the first `yes` fraction of voters say yes, then `no`, the rest abstain."""
    if i <= n * yes:
        return "yes"
    if i <= n * (yes + no):
        return "no"
    return "abstain"


async def run(r: Runner, n: int = 50, present: int = 46, *, add_items: bool = True) -> None:
    """The session from check-in to numbered resolutions and a certified confidence poll.

    `add_items=False` when the agenda is already there (the server's demo seeding adds it).
    """
    if add_items:
        for item_id, title, kind in ITEMS:
            await r.session(SECRETARY, agenda.AddItem(item_id=item_id, title=title, kind=kind))
    r.say(f"Chương trình kỳ họp có {len(ITEMS)} nội dung.")

    await r.session(SECRETARY, sess.OpenCheckIn())
    for i in range(1, present + 1):
        await r.session(delegate_actor(i), sess.CheckIn(delegate_id=delegate_id(i)))
    r.say(f"Điểm danh: {present}/{n} đại biểu có mặt (cần ít nhất {-(-2 * n // 3)} để khai mạc).")
    await r.session(CHAIR, sess.OpenSession())
    r.say("Chủ tọa khai mạc kỳ họp.")

    # --- item 1: discussion and a named vote on a normative resolution
    await r.session(CHAIR, agenda.MoveToItem(item_id="nq-ngan-sach"))
    await r.session(CHAIR, agenda.SetFollowMe(document_id="du-thao-ngan-sach", page=3))
    for k, i in enumerate((5, 12, 23)):
        await r.session(delegate_actor(i), speakers.RequestToSpeak(request_id=f"ps-{k}", delegate_id=delegate_id(i)))
    await r.session(CHAIR, speakers.OrderSpeakers(item_id="nq-ngan-sach", order=["ps-2", "ps-0", "ps-1"]))
    for request in ("ps-2", "ps-0", "ps-1"):
        await r.session(CHAIR, speakers.StartSpeech(request_id=request))
        await r.session(CHAIR, speakers.EndSpeech())
    r.say("Thảo luận: 3 đại biểu phát biểu theo thứ tự chủ tọa sắp xếp.")
    await r.session(
        CHAIR,
        votes.OpenVote(round_id="bq-1", item_id="nq-ngan-sach", motion=ITEMS[0][1], normative=True),
    )
    for i in range(1, present + 1):
        option = _share(i, present, 0.85, 0.1)
        await r.session(delegate_actor(i), votes.CastBallot(round_id="bq-1", delegate_id=delegate_id(i), option=option))
    await r.session(CHAIR, votes.CloseRound(round_id="bq-1"))
    res = await r.result("bq-1")
    _announce(r, res)
    await r.council(
        SECRETARY,
        council.NumberResolution(session_id=SESSION_ID, title=ITEMS[0][1], result=res),
    )

    # --- item 2: a verifiable secret vote: the tablets encrypt, the result exists once 4 of the 7 members of the
    # counting committee have decrypted the total (that is their certification)
    await r.session(CHAIR, agenda.MoveToItem(item_id="nq-dau-tu-cong"))
    devices = await key_ceremony(r)
    r.say("Ban kiểm phiếu (7 thành viên) tạo khóa chung trên máy tính bảng của mình; máy chủ không giữ khóa mở phiếu.")
    await r.session(
        CHAIR,
        votes.OpenVote(
            round_id="bq-2",
            item_id="nq-dau-tu-cong",
            motion=ITEMS[1][1],
            secret=True,
            committee=COMMITTEE,
            ceremony_id=CEREMONY_ID,
        ),
    )
    casts = [
        encrypt_vote(await r.state(delegate_actor(i)), "bq-2", delegate_id(i), _share(i, present, 0.6, 0.3))
        for i in range(1, present + 1)
    ]
    for i, cast in enumerate(casts, start=1):
        await r.session(delegate_actor(i), cast)
    await r.session(CHAIR, votes.CloseRound(round_id="bq-2"))
    partials = [(m, devices[m].decrypt(await r.state(committee_actor(m)), "bq-2")) for m in COMMITTEE[:4]]
    for m, partial in partials:
        await r.session(committee_actor(m), partial)
    res = await r.result("bq-2")
    _announce(r, res)
    await r.council(
        SECRETARY,
        council.NumberResolution(session_id=SESSION_ID, title=ITEMS[1][1], result=res),
    )

    # --- item 3: questioning with a rebuttal, the questioner first
    await r.session(CHAIR, agenda.MoveToItem(item_id="chat-van"))
    await r.session(
        delegate_actor(7),
        questioning.RegisterQuestion(
            question_id="cv-1",
            delegate_id=delegate_id(7),
            respondent_id="so-y-te",
            topic="Y tế",
            text="Giải pháp khắc phục tình trạng thiếu thuốc, vật tư y tế tại các trạm y tế xã?",
        ),
    )
    await r.session(
        delegate_actor(15),
        questioning.RegisterQuestion(
            question_id="cv-2",
            delegate_id=delegate_id(15),
            respondent_id="so-nong-nghiep",
            topic="Môi trường",
            text="Tiến độ xử lý ô nhiễm tại các làng nghề và trách nhiệm của Sở?",
        ),
    )
    await r.session(
        CHAIR,
        questioning.GroupQuestions(
            groups=[
                questioning.QuestionGroup(topic="Y tế", question_ids=["cv-1"]),
                questioning.QuestionGroup(topic="Môi trường", question_ids=["cv-2"]),
            ]
        ),
    )
    await r.session(CHAIR, questioning.CallQuestion(question_id="cv-1"))
    await r.session(CHAIR, questioning.EndTurn())
    await r.session(CHAIR, questioning.CallAnswer(question_id="cv-1"))
    await r.session(CHAIR, questioning.EndTurn())
    await r.session(delegate_actor(20), questioning.RequestRebuttal(question_id="cv-1", delegate_id=delegate_id(20)))
    await r.session(delegate_actor(7), questioning.RequestRebuttal(question_id="cv-1", delegate_id=delegate_id(7)))
    await r.session(CHAIR, questioning.CallRebuttal(question_id="cv-1", delegate_id=delegate_id(7)))
    await r.session(CHAIR, questioning.EndTurn())
    await r.session(
        SECRETARY,
        questioning.RecordAnswer(
            question_id="cv-1",
            summary="Sở Y tế nhận trách nhiệm, đã đấu thầu tập trung bổ sung thuốc.",
            commitment="Bảo đảm đủ thuốc thiết yếu tại 100% trạm y tế xã trong quý I/2027.",
            due=date(2027, 3, 31),
        ),
    )
    r.say("Chất vấn: đại biểu hỏi, Giám đốc Sở Y tế trả lời, người chất vấn tranh luận trước; cam kết được ghi lại.")

    # --- item 4: a confidence poll certified by the counting committee
    await r.session(CHAIR, agenda.MoveToItem(item_id="tin-nhiem"))
    officials = [polls.Official(id=x.id, name=x.name, position=x.position, delegate_id=None) for x in RESPONDENTS[:3]]
    await r.session(
        SECRETARY,
        polls.CreatePoll(poll_id="ltn-1", item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials),
    )
    await r.session(CHAIR, polls.AppointCommittee(poll_id="ltn-1", members=COMMITTEE))
    # Verifiable on the same committee's key: the ceremony is held once for the session.
    await r.session(CHAIR, polls.OpenPoll(poll_id="ltn-1", ceremony_id=CEREMONY_ID))
    poll_casts = []
    for i in range(1, present + 1):
        marks: dict[str, str | None] = {}
        for k, o in enumerate(officials):
            level = (polls.Mark.HIGH, polls.Mark.TRUST, polls.Mark.LOW)[(i + k) % 3 if k else (0 if i % 5 else 2)]
            marks[o.id] = level.value
        poll_casts.append(encrypt_poll(await r.state(delegate_actor(i)), "ltn-1", delegate_id(i), marks))
    for i, poll_cast in enumerate(poll_casts, start=1):
        await r.session(delegate_actor(i), poll_cast)
    await r.session(CHAIR, polls.ClosePoll(poll_id="ltn-1"))
    poll_partials = [(m, devices[m].decrypt_poll(await r.state(committee_actor(m)), "ltn-1")) for m in COMMITTEE[:4]]
    for m, poll_partial in poll_partials:
        await r.session(committee_actor(m), poll_partial)
    r.say("Lấy phiếu tín nhiệm: 4 trong 7 thành viên Ban kiểm phiếu giải mã tổng số phiếu, kết quả được công bố.")

    await r.session(CHAIR, sess.CloseSession())
    r.say("Chủ tọa bế mạc kỳ họp.")


def _announce(r: Runner, res: VoteResult) -> None:
    parts = ", ".join(f"{o.label} {o.count} ({o.share_of_all:.2f}%)" for o in res.options)
    verdict = "THÔNG QUA" if res.passed else "KHÔNG THÔNG QUA"
    kind = "bỏ phiếu kín" if res.secret else "biểu quyết công khai"
    r.say(f"Kết quả {kind} «{res.motion}»: {parts} — cần {res.needed}/{res.total_delegates}: {verdict}.")
