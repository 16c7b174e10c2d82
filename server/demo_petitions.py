"""The demo council's petitions register: a generated year of voter meetings and petitions (issue 14), so that
`make run` shows full dashboards, inboxes and a delegate's own page.

Deterministic: `random.Random(SEED)` drives every choice, so two seedings hold the same meetings, petitions,
agencies and outcomes (only the events' time stamps are the seeding's). The year is the demo's: the voter
meetings before and after the mid-year session (June, July 2026), themed meetings in September and those before
the year-end session `ky-hop-4` (November 2026). What happened to each petition is decided as of AS_OF, the day
before the demo session's papers go out: older petitions answered and mostly concluded, a share still waiting
past their deadline (the overdue the Standing Committee follows), the newest ones received, classified or just
assigned, and a few raised again at a later meeting and merged into the earlier one.

Scale: `meetings_per_round` meetings per delegate group in each of the 4 rounds, 6–12 petitions each. The full
demo (`kyhop serve --demo`, 3 per round) is 10 groups × 4 rounds × 3 = 120 meetings and ~1 100 petitions; the
browser tests use 1 (40 meetings, ~360 petitions).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from meeting import petitions_messages as pm
from meeting import script
from meeting.actors import Role
from meeting.messages import Command
from meeting.petitions_model import MeetingTiming, ResourceGroup, Status
from server.demo_petitions_text import (
    ANSWERS_NEEDS_RESOURCES,
    ANSWERS_NO_RESOURCES,
    CONCLUDE_NOTE,
    PETITIONS,
    PLACES,
    VOTER_NAMES,
)

SEED = 20261205
TERM = script.TERM_ID
AS_OF = date(2026, 12, 5)
GROUPS = 10  # Tổ đại biểu: 50 delegates in groups of 5, as a province elects them by constituency
FULL_SCALE = 3

# (username, display name, roles, person id, agency id or None): the accounts of the petitions' people.
ACCOUNTS: list[tuple[str, str, set[Role], str, str | None]] = [
    ("cb.soyt", "Cán bộ Sở Y tế", {Role.AGENCY}, "cb-so-yt", "so-yt"),
    ("cb.soxd", "Cán bộ Sở Xây dựng", {Role.AGENCY}, "cb-so-xd", "so-xd"),
    ("cb.sonnmt", "Cán bộ Sở Nông nghiệp và Môi trường", {Role.AGENCY}, "cb-so-nnmt", "so-nnmt"),
    ("cb.sogddt", "Cán bộ Sở Giáo dục và Đào tạo", {Role.AGENCY}, "cb-so-gddt", "so-gddt"),
    ("cb.ubndxa", "Cán bộ UBND cấp xã", {Role.AGENCY}, "cb-ubnd-xa", "ubnd-xa"),
    ("thuongtruc", "Thường trực HĐND tỉnh", {Role.STANDING}, "tt-hdnd", None),
    ("mttq", "Ủy ban MTTQ Việt Nam tỉnh", {Role.FRONT}, "mttq-tinh", None),
]

# (timing, session, first day, label) of each round of voter meetings in the year.
ROUNDS = [
    (MeetingTiming.BEFORE, "ky-hop-3", date(2026, 6, 8)),
    (MeetingTiming.AFTER, "ky-hop-3", date(2026, 7, 27)),
    (MeetingTiming.THEMED, "", date(2026, 9, 14)),
    (MeetingTiming.BEFORE, "ky-hop-4", date(2026, 11, 16)),
]


@dataclass
class Plan:
    """The commands, in order, and what the seeding counted (for the tests and the start-up log)."""

    commands: list[Command] = field(default_factory=list)
    meetings: int = 0
    petitions: int = 0
    merged: int = 0

    def add(self, cmd: Command) -> None:
        self.commands.append(cmd)


def group_members(g: int) -> list[str]:
    return [script.delegate_id(5 * g + k) for k in range(1, 6)]


def _later(rng: random.Random, start: date, days: int) -> date:
    return start + timedelta(days=rng.randint(0, days))


def plan(meetings_per_round: int = FULL_SCALE) -> Plan:
    rng = random.Random(SEED)
    p = Plan()
    p.add(pm.OpenPetitions(council_id=script.COUNCIL_ID, term_id=TERM))
    for g in range(GROUPS):
        place = PLACES[2 * g][0]
        p.add(
            pm.SetDelegateGroup(
                group_id=f"to-{g + 1:02d}", name=f"Tổ đại biểu số {g + 1} ({place})", members=group_members(g)
            )
        )
    for _, _, _, person, agency in ACCOUNTS:
        if agency is not None:
            p.add(pm.AppointOfficial(person_id=person, agency_id=agency))
    raised: dict[tuple[str, int, str], str] = {}  # (field, template, hamlet) -> the petition first raised there
    status_of: dict[str, str] = {}
    n = 0
    for r, (timing, session, start) in enumerate(ROUNDS):
        newest = r == len(ROUNDS) - 1
        for g in range(GROUPS):
            members = group_members(g)
            for k in range(meetings_per_round):
                commune, hamlets = PLACES[(2 * g + k) % len(PLACES)]
                held = _later(rng, start, 12)
                mid = f"txct-{held:%Y%m%d}-to{g + 1:02d}-{k + 1}"
                p.add(
                    pm.RecordVoterMeeting(
                        meeting_id=mid,
                        group_id=f"to-{g + 1:02d}",
                        timing=timing,
                        session_id=session,
                        place=commune[:1].upper() + commune[1:],
                        held_on=held,
                        delegates_present=sorted(rng.sample(members, rng.randint(2, 4))),
                        voters=rng.randint(60, 260),
                        front_organiser=f"Ủy ban MTTQ Việt Nam {commune}",
                    )
                )
                p.meetings += 1
                for _ in range(rng.randint(6, 12)):
                    field_id = rng.choice(list(PETITIONS))
                    agency_id, needs, texts = PETITIONS[field_id]
                    t = rng.randrange(len(texts))
                    hamlet = rng.choice(hamlets)
                    key = (field_id, t, hamlet)
                    first = raised.get(key)
                    if first is not None and rng.random() < 0.7:
                        continue  # the same words at the same place: most groups would not write it down twice
                    text = texts[t].format(thon=hamlet, xa=commune)
                    text = text[:1].upper() + text[1:]
                    n += 1
                    pid = f"kn-{n:05d}"
                    p.add(
                        pm.RecordPetition(
                            petition_id=pid,
                            meeting_id=mid,
                            text=text,
                            area=f"{hamlet}, {commune}",
                            petitioner=rng.choice(VOTER_NAMES) if rng.random() < 0.5 else "",
                        )
                    )
                    p.petitions += 1
                    if first is not None and status_of.get(first) not in (None, "merged"):
                        # Raised again: the secretariat folds it into the first, which keeps both meetings (and is
                        # reopened if it had been resolved: the voters say it was not).
                        p.add(pm.MergePetitions(item_id=first, duplicate_id=pid, note="Cử tri tiếp tục kiến nghị."))
                        p.merged += 1
                        status_of[pid] = "merged"
                        if status_of[first] in ("resolved", "not_resolved"):
                            status_of[first] = "classified"
                        continue
                    raised[key] = pid
                    roll = rng.random()
                    if newest and roll < 0.3:
                        status_of[pid] = "received"
                        continue
                    group = (
                        ResourceGroup.NEEDS_RESOURCES if needs and rng.random() < 0.7 else ResourceGroup.NO_RESOURCES
                    )
                    p.add(pm.ClassifyItem(item_id=pid, field_id=field_id, group=group))
                    status_of[pid] = "classified"
                    if newest and roll < 0.55:
                        continue
                    if agency_id != "ubnd-xa" and rng.random() < 0.15:
                        agency_id = "ubnd-xa"  # a matter the commune settles itself
                    assigned = held + timedelta(days=rng.randint(7, 15))
                    days = 90 if group is ResourceGroup.NEEDS_RESOURCES else 30
                    due = assigned + timedelta(days=days)
                    p.add(pm.AssignItem(item_id=pid, agency_id=agency_id, due=due))
                    status_of[pid] = "assigned"
                    if newest:
                        continue
                    answered_by = assigned + timedelta(days=rng.randint(10, days + 30))
                    if answered_by > AS_OF or rng.random() < 0.12:
                        continue  # not answered yet: overdue once the deadline is past
                    answers = (
                        ANSWERS_NEEDS_RESOURCES if group is ResourceGroup.NEEDS_RESOURCES else ANSWERS_NO_RESOURCES
                    )
                    agency_name = {
                        "so-yt": "Sở Y tế",
                        "so-xd": "Sở Xây dựng",
                        "so-nnmt": "Sở Nông nghiệp và Môi trường",
                        "so-gddt": "Sở Giáo dục và Đào tạo",
                        "so-nv": "Sở Nội vụ",
                        "ubnd-tinh": "UBND tỉnh",
                        "ubnd-xa": f"UBND {commune}",
                    }[agency_id]
                    p.add(pm.AnswerItem(item_id=pid, text=rng.choice(answers).format(agency=agency_name, xa=commune)))
                    status_of[pid] = "answered"
                    o = rng.random()
                    if group is ResourceGroup.NEEDS_RESOURCES:
                        outcome = Status.ROADMAP if o < 0.6 else Status.RESOLVED if o < 0.8 else Status.PARTLY_RESOLVED
                    else:
                        outcome = (
                            Status.RESOLVED if o < 0.75 else Status.PARTLY_RESOLVED if o < 0.88 else Status.NOT_RESOLVED
                        )
                    if o > 0.95:
                        continue  # answered, not yet checked by the Standing Committee
                    next_due = None
                    if outcome in (Status.ROADMAP, Status.PARTLY_RESOLVED):
                        next_due = AS_OF + timedelta(days=rng.choice([30, 90, 180, 365]))
                    p.add(
                        pm.ConcludeItem(
                            item_id=pid, outcome=outcome, note=CONCLUDE_NOTE[outcome.value], next_due=next_due
                        )
                    )
                    status_of[pid] = outcome.value
    _supervision(p)
    return p


def _supervision(p: Plan) -> None:
    """One thematic supervision with its conclusions, and commitments from the mid-year questioning."""
    p.add(
        pm.RecordSupervision(
            supervision_id="gs-dat-dai-2026",
            topic="Việc cấp giấy chứng nhận quyền sử dụng đất cho hộ gia đình, cá nhân giai đoạn 2021–2026",
            committee="Ban Kinh tế - Ngân sách",
            subjects=["Sở Nông nghiệp và Môi trường", "UBND phường Đông Hải", "UBND xã Tân Phú"],
            concluded_on=date(2026, 10, 20),
        )
    )
    for k, (text, agency, due) in enumerate(
        [
            ("Giải quyết dứt điểm hồ sơ cấp giấy chứng nhận tồn đọng trước năm 2025.", "so-nnmt", date(2026, 12, 31)),
            ("Công khai thủ tục, thời hạn giải quyết tại bộ phận một cửa cấp xã.", "ubnd-xa", date(2026, 11, 30)),
            ("Rà soát, xử lý trường hợp đo đạc chồng lấn với đất rừng phòng hộ.", "so-nnmt", date(2027, 3, 31)),
        ],
        1,
    ):
        p.add(
            pm.AddConclusion(
                item_id=f"kl-dat-dai-{k}", supervision_id="gs-dat-dai-2026", text=text, agency_id=agency, due=due
            )
        )
    for k, (text, respondent, agency, due) in enumerate(
        [
            (
                "Bố trí đủ bác sĩ cho các trạm y tế vùng khó khăn trong năm 2026.",
                "so-y-te",
                "so-yt",
                date(2026, 11, 30),
            ),
            (
                "Hoàn thành sửa chữa các tuyến đường liên thôn hư hỏng do bão trước Tết.",
                "so-xay-dung",
                "so-xd",
                date(2027, 1, 31),
            ),
        ],
        1,
    ):
        p.add(
            pm.TrackCommitment(
                item_id=f"ck-ky-hop-3-{k}",
                session_id="ky-hop-3",
                question_id=f"cv-{k}",
                respondent_id=respondent,
                text=text,
                agency_id=agency,
                due=due,
            )
        )
