"""Keeps docs/PROTOCOL.md honest: its examples decode into the protocol, its tables match the code.

Conventions in the document: every ```json block is preceded by an HTML comment naming what it holds —
`<!-- client -->` (client → server WebSocket messages), `<!-- server -->` (server → client), or one of the
`<!-- rest:... -->` tags below; `<!-- client:invalid -->` marks an example of a bad client message, which must
*not* decode, and `<!-- client:raw -->` a bad frame that is not JSON at all (any fence); the `server` block after
either is the answer a running server must give. A block may hold several JSON values one after the other (a
transcript). Every example must be what the code encodes, field for field (see
`test_every_example_is_what_the_code_encodes`).
The command, event, error and limit tables are found under their headings and compared with the code.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from clients.ballots import CommitteeMember, encrypt_poll, encrypt_vote
from meeting import agenda, council, documents, polls, questioning, script, session, speakers, verifiable, votes
from meeting.actors import DELEGATES, EVERYONE, STAFF, Actor, Audience, Context
from meeting.errors import MESSAGES, Code, Refusal
from meeting.hall import VacancyGrounds
from meeting.messages import Command, Routed
from meeting.protocol import ClientMessage, ErrorMessage, Result, ServerMessage, Snapshot
from meeting.rules import BallotMode
from server.auth import LoginResult
from server.config import Limits, Settings
from server.engine import CACHE_EVENTS
from server.errors import PROTOCOL_ERRORS, ErrorBody
from server.routes import MAX_BODY, CommandOut, SessionCommandIn, SessionController
from server.routes import schema as schema_route
from server.routes_accounts import MAX_BODY as ACCOUNTS_MAX_BODY
from server.routes_accounts import AuthController, LoginIn
from server.verifier import ServerCrypto
from server.ws import session_socket

DOC = Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md"

# What each tag's JSON values must decode into.
TAGS: dict[str, Any] = {
    "client": ClientMessage,
    "server": ServerMessage,
    "rest:login-request": LoginIn,
    "rest:login-response": LoginResult,
    "rest:command-request": SessionCommandIn,
    "rest:command-response": CommandOut,
    "rest:error": ErrorBody,
}


# --------------------------------------------------------------------------------------------------- parsing


@dataclass
class Block:
    tag: str | None
    line: int
    text: str


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def json_blocks(text: str) -> list[Block]:
    """Every ```json block with the tag of the HTML comment right before it (blank lines allowed between)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```json":
            start = i
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            m = re.fullmatch(r"<!--\s*(\S+)\s*-->", lines[j].strip()) if j >= 0 else None
            i += 1
            body: list[str] = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append(Block(m.group(1) if m else None, start + 1, "\n".join(body)))
        i += 1
    return blocks


def json_values(text: str) -> list[Any]:
    """All JSON values in `text`, one after the other (pretty-printed or one per line)."""
    decoder = json.JSONDecoder()
    out: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return out
        value, pos = decoder.raw_decode(text, pos)
        out.append(value)


def section(text: str, heading: str) -> str:
    """The text under a markdown heading, up to the next heading of any level."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    out: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        out.append(line)
    return "\n".join(out)


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first markdown table in `text`, as stripped cells."""
    rows: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            rows.append(line)
        elif rows:
            break
    assert len(rows) >= 3, "no table found"
    body = rows[2:]  # header and separator
    return [[c.strip() for c in re.split(r"(?<!\\)\|", r.strip()[1:-1])] for r in body]


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def keyed_rows(text: str, heading: str) -> dict[str, list[str]]:
    """Rows of the table under `heading`, keyed by the code span in their first cell."""
    out: dict[str, list[str]] = {}
    for cells in table_rows(section(text, heading)):
        spans = code_spans(cells[0])
        assert len(spans) == 1, f"first cell should be one `code`: {cells[0]!r}"
        assert spans[0] not in out, f"{spans[0]} is listed twice under {heading}"
        out[spans[0]] = cells
    return out


def tag_of(cls: type) -> str:
    tag = cls.__struct_config__.tag  # type: ignore[attr-defined]
    assert isinstance(tag, str)
    return tag


def field_names(cls: type) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(cls)]


def message_pattern(template: str) -> re.Pattern[str]:
    """A regex for a message made from a MESSAGES template (each {placeholder} matches any text)."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.DOTALL)


# ------------------------------------------------------------------------------------------------- examples


def test_every_json_block_is_tagged_and_decodes() -> None:
    blocks = json_blocks(_text())
    counts = dict.fromkeys(TAGS, 0)
    for b in blocks:
        values = json_values(b.text)
        assert values, f"line {b.line}: empty block"
        if b.tag == "client:invalid":
            for v in values:
                with pytest.raises(msgspec.ValidationError):
                    msgspec.json.decode(json.dumps(v, ensure_ascii=False), type=ClientMessage)
            continue
        assert b.tag in TAGS, f"line {b.line}: a json block needs one of {sorted(TAGS)} before it, got {b.tag!r}"
        for v in values:
            try:
                msgspec.json.decode(json.dumps(v, ensure_ascii=False), type=TAGS[b.tag])
            except msgspec.ValidationError as e:
                pytest.fail(f"line {b.line}: {b.tag} value does not decode: {e}\n{v}")
            counts[b.tag] += 1
    # The worked examples the brief asks for are there (not a vacuous pass on an emptied document).
    assert counts["client"] >= 8 and counts["server"] >= 20, counts
    assert all(n >= 1 for n in counts.values()), counts


def _server_messages() -> list[Any]:
    out = []
    for b in json_blocks(_text()):
        if b.tag == "server":
            out += [msgspec.json.decode(json.dumps(v), type=ServerMessage) for v in json_values(b.text)]
    return out


def test_snapshot_examples_are_session_states() -> None:
    snapshots = [m for m in _server_messages() if isinstance(m, Snapshot)]
    assert snapshots
    for s in snapshots:
        # What clients/sdk.py does with a snapshot: the state must be a whole SessionState.
        state = msgspec.convert(s.state, session.SessionState)
        assert state.hall.session_id


def _check_refusal(r: Refusal | ErrorBody) -> None:
    assert r.message_vi and r.message_en
    vi, en = MESSAGES[Code(r.code)]
    assert message_pattern(vi).fullmatch(r.message_vi), (r.code, r.message_vi)
    assert message_pattern(en).fullmatch(r.message_en), (r.code, r.message_en)


def test_example_errors_are_the_codes_real_messages() -> None:
    seen = 0
    for m in _server_messages():
        if isinstance(m, ErrorMessage):
            vi, en = PROTOCOL_ERRORS[m.code]
            assert m.message_vi == vi and m.message_en.startswith(en), m
            seen += 1
        elif isinstance(m, Result) and m.error is not None:
            assert not m.ok
            _check_refusal(m.error)
            seen += 1
    for b in json_blocks(_text()):
        if b.tag == "rest:error":
            for v in json_values(b.text):
                body = msgspec.json.decode(json.dumps(v), type=ErrorBody)
                if body.code in PROTOCOL_ERRORS:
                    assert (body.message_vi, body.message_en) == PROTOCOL_ERRORS[body.code]
                else:
                    _check_refusal(body)
                seen += 1
    assert seen >= 5


def test_example_sequence_numbers_only_grow_within_a_block() -> None:
    for b in json_blocks(_text()):
        if b.tag != "server":
            continue
        seqs = [v["seq"] for v in json_values(b.text) if v.get("type") == "event"]
        assert seqs == sorted(set(seqs)), f"line {b.line}: events out of order {seqs}"


# --------------------------------------------------------------------------------------------------- tables


def test_command_table_lists_every_command_with_its_fields() -> None:
    rows = keyed_rows(_text(), "### Every command")
    tags = {tag_of(c): c for c in session.ALL_COMMANDS}
    assert set(rows) == set(tags), (
        f"undocumented commands: {sorted(set(tags) - set(rows))}; no such command: {sorted(set(rows) - set(tags))}"
    )
    for tag, cells in rows.items():
        assert len(cells) == 4, f"{tag}: | command | who | when | fields |"
        assert cells[1] and cells[2], f"{tag}: say who may send it and when"
        documented = [] if cells[3] == "—" else code_spans(cells[3])
        assert documented == field_names(tags[tag]), f"{tag}: fields {documented} != {field_names(tags[tag])}"


def test_event_table_lists_every_event_with_its_fields() -> None:
    rows = keyed_rows(_text(), "### Every event")
    tags = {tag_of(e): e for e in session.ALL_EVENTS}
    assert set(rows) == set(tags), (
        f"undocumented events: {sorted(set(tags) - set(rows))}; no such event: {sorted(set(rows) - set(tags))}"
    )
    for tag, cells in rows.items():
        assert len(cells) == 4, f"{tag}: | event | audience | meaning | fields |"
        assert cells[2], f"{tag}: say what it means"
        documented = [] if cells[3] == "—" else code_spans(cells[3])
        assert documented == field_names(tags[tag]), f"{tag}: fields {documented} != {field_names(tags[tag])}"


def describe(a: Audience) -> str:
    """The name the document's audience table gives to an audience."""
    if a.sealed:
        return "sealed"
    if a.members and a.roles == STAFF.roles and a.delegate_id is None:
        return "staff + the counting committee"
    if a.members:
        raise AssertionError(f"an audience the document does not name: {a}")
    if a.delegate_id is not None:
        if not a.roles:
            return "the delegate"
        if a.roles == STAFF.roles:
            return "staff + the delegate"
        raise AssertionError(f"an audience the document does not name: {a}")
    names = {EVERYONE.roles: "everyone", DELEGATES.roles: "hall", STAFF.roles: "staff"}
    if a.roles in names:
        return names[a.roles]
    raise AssertionError(f"an audience the document does not name: {a}")


class Scenario:
    """A session driven through the domain so that every event type is produced at least once."""

    def __init__(self, n: int = 20) -> None:
        self.now = datetime(2026, 12, 9, 1, 30, tzinfo=UTC)
        self.crypto = ServerCrypto()  # the verifiable-ballot hook the server passes (server/verifier.py)
        c: council.CouncilState | None = None
        for actor, cmd in script.council_setup(n):
            c, _ = council.execute(c, cmd, self._ctx(actor))
        assert c is not None
        self.routed: list[Routed] = []
        self.state: session.SessionState | None = None
        self.devices: list[tuple[Actor, CommitteeMember]] = []  # the ceremony's members (verifiable_round)
        prepare = council.prepare_session(c, session_id="s", title="Kỳ họp thử", opens_on=date(2026, 12, 9))
        self.run(script.SECRETARY, prepare)

    def _ctx(self, actor: Actor) -> Context:
        self.now += timedelta(seconds=10)
        return Context(actor=actor, now=self.now, nonce=secrets.token_urlsafe(18), crypto=self.crypto)

    def run(self, actor: Actor, cmd: Command) -> None:
        self.state, routed = session.execute(self.state, cmd, self._ctx(actor))
        self.routed.extend(routed)


def verifiable_round(s: Scenario, committee: list[str]) -> None:
    """A key ceremony of the committee and a verifiable secret round decrypted by 4 of its 7 members."""
    s.run(script.CHAIR, verifiable.StartCeremony(ceremony_id="bkp-1", members=committee))
    assert s.state is not None
    devices = [CommitteeMember(s.state, "bkp-1", m) for m in committee]
    actors = [script.delegate_actor(int(m[-3:])) for m in committee]
    for actor, dev in zip(actors, devices, strict=True):
        s.run(actor, dev.publish())
    for step in (CommitteeMember.deal, CommitteeMember.complain):
        for actor, dev in zip(actors, devices, strict=True):
            s.run(actor, step(dev, s.state))
    for dev in devices:
        dev.finish(s.state)
    open_cmd = votes.OpenVote(
        round_id="bq-5",
        item_id="nq-ngan-sach",
        motion="Kín",
        secret=True,
        mode=BallotMode.VERIFIABLE,
        ceremony_id="bkp-1",
    )
    s.run(script.CHAIR, open_cmd)
    for i in (1, 2, 3):
        ballot = encrypt_vote(s.state, "bq-5", script.delegate_id(i), "yes")
        s.run(script.delegate_actor(i), ballot)
    s.run(script.CHAIR, votes.CloseRound(round_id="bq-5", confirm_few_ballots=True))
    for actor, dev in list(zip(actors, devices, strict=True))[:4]:
        s.run(actor, dev.decrypt(s.state, "bq-5"))
    s.devices = list(zip(actors, devices, strict=True))


def scenario_audiences() -> dict[str, set[str]]:
    s = Scenario()
    sec, chair, d, did = script.SECRETARY, script.CHAIR, script.delegate_actor, script.delegate_id
    for item_id, title, kind in script.ITEMS:
        s.run(sec, agenda.AddItem(item_id=item_id, title=title, kind=kind))
    s.run(chair, agenda.ReorderAgenda(order=[i[0] for i in script.ITEMS]))
    s.run(sec, agenda.AddItem(item_id="tam", title="Tạm"))
    s.run(sec, agenda.EditItem(item_id="tam", title="Tạm thời"))
    s.run(sec, agenda.RemoveItem(item_id="tam"))
    s.run(sec, session.OpenCheckIn())
    for i in range(1, 17):
        s.run(d(i), session.CheckIn(delegate_id=did(i)))
    s.run(d(16), session.CheckOut(delegate_id=did(16)))
    s.run(chair, session.OpenSession())
    s.run(chair, agenda.MoveToItem(item_id="nq-ngan-sach"))
    s.run(chair, agenda.SetFollowMe(document_id="du-thao", page=3))
    s.run(chair, agenda.ClearFollowMe())
    v1, v2 = "ab" * 32, "cd" * 32
    s.run(
        sec,
        documents.PublishDocument(
            document_id="ttr-1",
            item_id="nq-ngan-sach",
            kind=documents.DocumentKind.SUBMISSION,
            title="Tờ trình",
            access=documents.Access.DELEGATES,
            size=10,
            sha256=v1,
            pages=1,
        ),
    )
    s.run(sec, documents.ReplaceDocument(document_id="ttr-1", version=2, size=11, sha256=v2, pages=1))
    s.run(
        sec,
        documents.RecordCopiesSent(
            delegate_id=did(2), copies=[documents.SentCopy(document_id="ttr-1", version=2, sha256=v2)]
        ),
    )
    s.run(d(2), documents.AcknowledgeDelivery(document_id="ttr-1", version=2, delegate_id=did(2), sha256=v2))
    s.run(d(3), documents.ReportDeliveryFailure(document_id="ttr-1", version=2, delegate_id=did(3), reason="x"))
    s.run(sec, documents.WithdrawDocument(document_id="ttr-1"))
    s.run(d(5), speakers.RequestToSpeak(request_id="r1", delegate_id=did(5)))
    s.run(d(6), speakers.RequestToSpeak(request_id="r2", delegate_id=did(6)))
    s.run(d(6), speakers.WithdrawRequest(request_id="r2"))
    s.run(chair, speakers.OrderSpeakers(item_id="nq-ngan-sach", order=["r1"]))
    s.run(chair, speakers.StartSpeech(request_id="r1"))
    s.run(chair, speakers.EndSpeech())
    committee = [did(i) for i in range(9, 16)]
    for round_id, secret in (("bq-1", False), ("bq-2", True)):
        s.run(
            chair,
            votes.OpenVote(
                round_id=round_id,
                item_id="nq-ngan-sach",
                motion="Thông qua",
                secret=secret,
                committee=committee if secret else [],
                mode=BallotMode.SEALED if secret else None,  # the sealed events; the verifiable ones below
            ),
        )
        for i in (1, 2, 3):
            s.run(d(i), votes.CastBallot(round_id=round_id, delegate_id=did(i), option="yes"))
        s.run(chair, votes.ReportProgress(round_id=round_id))
        # 3 ballots in a secret round: the chair confirms that so few may be announced (few_ballots otherwise).
        s.run(chair, votes.CloseRound(round_id=round_id, confirm_few_ballots=secret))
    for i in range(9, 13):
        s.run(d(i), votes.CertifyRound(round_id="bq-2"))
    s.run(chair, votes.AnnounceResult(round_id="bq-2"))
    s.run(chair, votes.OpenVote(round_id="bq-3", item_id="nq-ngan-sach", motion="Giấy", paper=True))
    s.run(sec, votes.EnterPaperResult(round_id="bq-3", counts={"yes": 12, "no": 2, "abstain": 1}, ballots_collected=15))
    s.run(chair, votes.OpenVote(round_id="bq-4", item_id="nq-ngan-sach", motion="Hủy"))
    s.run(chair, votes.CancelRound(round_id="bq-4", reason="Nhầm nội dung"))
    verifiable_round(s, committee)

    s.run(chair, agenda.MoveToItem(item_id="chat-van"))
    for question_id, i in (("q1", 7), ("q2", 8)):
        s.run(
            d(i),
            questioning.RegisterQuestion(
                question_id=question_id, delegate_id=did(i), respondent_id="so-y-te", topic="Y tế", text="Vì sao?"
            ),
        )
    s.run(d(8), questioning.WithdrawQuestion(question_id="q2"))
    s.run(chair, questioning.GroupQuestions(groups=[questioning.QuestionGroup(topic="Y tế", question_ids=["q1"])]))
    s.run(chair, questioning.CallQuestion(question_id="q1"))
    s.run(chair, questioning.EndTurn())
    s.run(chair, questioning.CallAnswer(question_id="q1"))
    s.run(chair, questioning.EndTurn())
    s.run(d(7), questioning.RequestRebuttal(question_id="q1", delegate_id=did(7)))
    s.run(chair, questioning.CallRebuttal(question_id="q1", delegate_id=did(7)))
    s.run(chair, questioning.EndTurn())
    s.run(
        sec,
        questioning.RecordAnswer(
            question_id="q1", summary="Đã bổ sung.", commitment="Đủ thuốc.", due=date(2027, 3, 31)
        ),
    )
    s.run(sec, questioning.UpdateCommitment(question_id="q1", status=questioning.CommitmentStatus.FULFILLED))

    s.run(chair, agenda.MoveToItem(item_id="tin-nhiem"))
    officials = [polls.Official(id=r.id, name=r.name, position=r.position) for r in script.RESPONDENTS[:2]]
    for poll_id, poll_kind in (("p1", polls.PollKind.RATING), ("p2", polls.PollKind.CONFIDENCE_VOTE)):
        s.run(sec, polls.CreatePoll(poll_id=poll_id, item_id="tin-nhiem", kind=poll_kind, officials=officials))
        s.run(chair, polls.AppointCommittee(poll_id=poll_id, members=committee))
    s.run(chair, polls.OpenPoll(poll_id="p1", mode=BallotMode.SEALED))
    for i in (1, 2, 3):
        marks = {o.id: ["trust"] for o in officials}
        s.run(d(i), polls.CastPollBallot(poll_id="p1", delegate_id=did(i), marks=marks))
    s.run(chair, polls.ReportPollProgress(poll_id="p1"))
    s.run(chair, polls.ClosePoll(poll_id="p1"))
    paper = {o.id: {"trust": 12, "no_trust": 3} for o in officials}
    s.run(sec, polls.EnterPaperPollResult(poll_id="p2", ballots_collected=15, counts=paper))
    for poll_id in ("p1", "p2"):
        for i in range(9, 13):
            s.run(d(i), polls.CertifyPoll(poll_id=poll_id))
    s.run(sec, polls.CreatePoll(poll_id="p3", item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials))
    s.run(chair, polls.CancelPoll(poll_id="p3", reason="Hoãn"))
    # A verifiable poll on the ceremony of verifiable_round: encrypted ballots, decrypted by 4 of 7.
    s.run(sec, polls.CreatePoll(poll_id="p4", item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials))
    s.run(chair, polls.AppointCommittee(poll_id="p4", members=committee))
    s.run(chair, polls.OpenPoll(poll_id="p4", mode=BallotMode.VERIFIABLE, ceremony_id="bkp-1"))
    for i in (1, 2, 3):
        assert s.state is not None
        s.run(d(i), encrypt_poll(s.state, "p4", did(i), {o.id: "trust" for o in officials}))
    s.run(chair, polls.ClosePoll(poll_id="p4"))
    assert s.state is not None
    for actor, dev in s.devices[:4]:  # the members' devices from verifiable_round's ceremony
        s.run(actor, dev.decrypt_poll(s.state, "p4"))

    s.run(
        sec,
        session.RecordVacancy(
            delegate_id=did(20), reason="Qua đời", grounds=VacancyGrounds.DEATH, decision="Trích lục khai tử số 12"
        ),
    )
    s.run(chair, session.SuspendSession(reason="Nghỉ giải lao"))
    s.run(chair, session.ResumeSession())
    s.run(chair, session.CloseSession())

    out: dict[str, set[str]] = {}
    for r in s.routed:
        out.setdefault(tag_of(type(r.event)), set()).add(describe(r.audience))
    return out


def test_event_audiences_are_the_ones_the_domain_gives() -> None:
    rows = keyed_rows(_text(), "### Every event")
    actual = scenario_audiences()
    missing = sorted(tag_of(e) for e in session.ALL_EVENTS if tag_of(e) not in actual)
    assert not missing, f"extend scenario_audiences() in this test so that it produces {missing}"
    for tag, audiences in actual.items():
        assert len(audiences) == 1, f"{tag} goes to several audiences {audiences}: document each case"
        assert rows[tag][1] == next(iter(audiences)), f"{tag}: documented {rows[tag][1]!r}, code says {audiences}"
    named = {cells[0] for cells in table_rows(section(_text(), "### Audiences"))}
    used = {a for audiences in actual.values() for a in audiences}
    assert used <= named, f"audiences used but not explained: {used - named}"


def test_refusal_codes_are_all_listed_with_their_messages() -> None:
    rows = keyed_rows(_text(), "## 5. Errors")  # the first table there is the protocol errors
    assert set(rows) == set(PROTOCOL_ERRORS), sorted(set(rows) ^ set(PROTOCOL_ERRORS))
    for code, (vi, en) in PROTOCOL_ERRORS.items():
        assert rows[code][1:3] == [vi, en], code
    text = _text()
    refusals: dict[str, list[str]] = {}
    tables = section(text, "## 5. Errors").split("**Command refusals**", 1)[1]
    for cells in table_rows(tables):
        refusals[code_spans(cells[0])[0]] = cells
    assert set(refusals) == {c.value for c in Code}, sorted(set(refusals) ^ {c.value for c in Code})
    for code, (vi, en) in MESSAGES.items():
        assert refusals[code.value][1:] == [vi, en], code


def test_limits_match_the_defaults() -> None:
    text = _text()
    rows = keyed_rows(text, "## 6. Limits")
    limits = Limits()
    assert set(rows) == set(field_names(Limits)), sorted(set(rows) ^ set(field_names(Limits)))
    for name, cells in rows.items():
        m = re.match(r"\s*([0-9][0-9.]*)", cells[1])
        assert m, f"{name}: no number in {cells[1]!r}"
        assert float(m.group(1)) == float(getattr(limits, name)), (
            f"{name}: doc {m.group(1)}, code {getattr(limits, name)}"
        )
    assert f"{2 * limits.max_message_bytes} bytes (128 KiB)" in text  # uvicorn's frame limit in `kyhop serve`
    assert limits.max_message_bytes == 64 * 1024 and "64 KiB" in text
    ttl = next(f.default for f in msgspec.structs.fields(Settings) if f.name == "token_ttl_seconds")
    assert ttl == 30 * 24 * 3600 and f"= {ttl} s" in text and "30 days" in text
    assert f"({MAX_BODY} bytes)" in text and MAX_BODY == 256 * 1024
    assert ACCOUNTS_MAX_BODY == 16 * 1024 and "16 KiB for" in text
    assert f"({CACHE_EVENTS:,} events per session)".replace(",", " ") in text


def test_documented_endpoints_exist() -> None:
    text = _text()
    assert session_socket.paths == {"/ws/sessions/{session_id:str}"} and "/ws/sessions/{session_id}" in text
    assert schema_route.paths == {"/api/schema"} and "GET /api/schema" in text
    assert f"POST {AuthController.path}/login" in text
    assert f"POST {SessionController.path}/{{session_id}}/commands" in text


# ------------------------------------------------------------------- examples, field for field (issue 9 §4)

# Messages a client writes may leave out fields that have defaults; what the server sends has every field.
CLIENT_TAGS = {"client", "rest:login-request", "rest:command-request"}


def _differences(doc: Any, code: Any, path: str = "$", *, partial: bool) -> list[str]:
    """Where a documented JSON value and the code's encoding of it differ (`partial`: the code may have more)."""
    if isinstance(doc, dict) and isinstance(code, dict):
        out = [f"{path}.{k}: no such field" for k in doc.keys() - code.keys()]
        if not partial:
            out += [f"{path}.{k}: sent by the server, missing from the example" for k in code.keys() - doc.keys()]
        for k in doc.keys() & code.keys():
            out += _differences(doc[k], code[k], f"{path}.{k}", partial=partial)
        return out
    if isinstance(doc, list) and isinstance(code, list) and len(doc) == len(code):
        return [
            d
            for i, (a, b) in enumerate(zip(doc, code, strict=True))
            for d in _differences(a, b, f"{path}[{i}]", partial=partial)
        ]
    if doc != code or type(doc) is not type(code):
        return [f"{path}: example {doc!r}, the code encodes {code!r}"]
    return []


def test_every_example_is_what_the_code_encodes() -> None:
    """Decoding an example and encoding it again gives the example back: no field the types do not have, none
    renamed, no value the server would write differently — and, for what the server sends, no field left out.
    A snapshot's state is checked the same way against `meeting.session.SessionState`."""
    checked = 0
    for b in json_blocks(_text()):
        if b.tag not in TAGS:
            continue
        for v in json_values(b.text):
            decoded = msgspec.json.decode(json.dumps(v), type=TAGS[b.tag])
            again = json.loads(msgspec.json.encode(decoded))
            partial = b.tag in CLIENT_TAGS
            wrong = _differences(v, again, partial=partial)
            if isinstance(decoded, Snapshot):
                state = json.loads(msgspec.json.encode(msgspec.convert(decoded.state, session.SessionState)))
                wrong += _differences(v["state"], state, "$.state", partial=False)
            assert not wrong, f"line {b.line} ({b.tag}): " + "; ".join(wrong)
            checked += 1
    assert checked >= 30, checked


def test_the_listed_state_fields_are_the_snapshot_structs() -> None:
    text = " ".join(section(_text(), "## 2. The handshake").split())
    m = re.search(r"serialised as `meeting\.session\.SessionState` \(([^)]*)\)", text)
    assert m, "§2 no longer lists the state's fields"
    assert code_spans(m.group(1)) == field_names(session.SessionState)


@dataclass
class Tagged:
    tag: str | None
    line: int
    text: str


def tagged_blocks(text: str) -> list[Tagged]:
    """Every fenced block of any language, with the tag of the HTML comment before it (see json_blocks)."""
    lines = text.splitlines()
    out: list[Tagged] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```") and lines[i].strip() != "```":
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            m = re.fullmatch(r"<!--\s*(\S+)\s*-->", lines[j].strip()) if j >= 0 else None
            start, body = i, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            out.append(Tagged(m.group(1) if m else None, start + 1, "\n".join(body)))
        i += 1
    return out


def bad_frames() -> list[tuple[int, str, dict[str, Any]]]:
    """(line, frame, the server's documented answer): each `client:invalid` or `client:raw` block and the
    `server` block right after it."""
    blocks = tagged_blocks(_text())
    out = []
    for b, after in itertools.pairwise(blocks):
        if b.tag in ("client:invalid", "client:raw"):
            assert after.tag == "server", f"line {b.line}: a bad frame's answer follows it in a server block"
            (answer,) = json_values(after.text)
            out.append((b.line, b.text.strip(), answer))
    return out


def test_bad_frames_get_the_documented_answer_from_a_running_server() -> None:
    """§8.9's bad frames sent to a real server after the hello: its answers are the documented ones, byte for
    byte once decoded (the unknown command's `id` included), and the socket stays open."""
    from websockets.sync.client import connect

    from tests.e2e import ServerProcess

    frames = bad_frames()
    assert len(frames) >= 2, frames
    with ServerProcess() as srv, connect(f"{srv.ws}/ws/sessions/{script.SESSION_ID}", compression=None) as ws:
        ws.send(json.dumps({"type": "hello"}))
        assert json.loads(ws.recv(10))["type"] == "welcome"
        assert json.loads(ws.recv(10))["type"] == "snapshot"
        for line, frame, documented in frames:
            ws.send(frame)
            answer = json.loads(ws.recv(10))
            assert answer == documented, f"line {line}: the server answers {answer}"
        ws.send(json.dumps({"type": "hello"}))  # still open: a second hello is answered, not a closed socket
        assert json.loads(ws.recv(10))["code"] == "malformed"
