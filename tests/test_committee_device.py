"""`kyhop committee-device` (clients/committee_device.py) against a real server: seven members' devices make the
key of a ceremony of 7 (t = 4), each share sealed into its key file in the tablet's format; a verifiable round cast
with `encrypt_vote` is certified with --auto-decrypt and its result equals the choices. Restarted, the devices
reuse their key files for a later round (at most 3 of them with --decrypt-only 3, the 4th from another device) and
a confidence poll; a ceremony interrupted mid-way is said so and left alone; a wrong passphrase, a wrong password,
an unknown session or an unreachable server is one bilingual line and exit status 2.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest
import pytest_asyncio

from ballotcrypto import dkg, keystore
from ballotcrypto import records as rec
from ballotcrypto.group import base_mul
from clients.ballots import encrypt_poll, encrypt_vote
from clients.committee_device import (
    DeviceError,
    MemberDevice,
    Options,
    connect,
    fingerprint_groups,
    key_path,
    run,
)
from clients.sdk import SessionClient
from meeting import agenda, polls, script, verifiable, votes
from meeting.rules import BallotMode
from server.demo import DEMO_PASSWORD
from tests.e2e import ROOT, ServerProcess
from tests.test_web_tablet import _client, _in_session, _until

# One server, one open session and its voters for the whole module (the key files of the first test are the
# second's): module-scoped async fixtures need the tests on the module's event loop.
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
SESSION = script.SESSION_ID
CEREMONY = "bkp-thiet-bi"
USERS = [f"daibieu{i}" for i in range(30, 37)]
MEMBERS = [script.delegate_id(i) for i in range(30, 37)]
PASSPHRASE = "Mật khẩu Ban kiểm phiếu của máy tính"
OPTIONS = ("yes", "no", "abstain")
VOTERS = range(2, 12)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as srv:
        yield srv


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("committee-keys")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hall(server: ServerProcess) -> AsyncIterator[tuple[SessionClient, dict[int, SessionClient]]]:
    secretary, chair = await _in_session(server, list(range(1, 41)))
    voters = {i: await _client(server, f"daibieu{i:02d}") for i in VOTERS}
    yield chair, voters
    for c in [secretary, chair, *voters.values()]:
        await c.close()


def _opts(srv: ServerProcess, keys: Path, **kw: object) -> Options:
    base: dict[str, object] = {
        "server": srv.http,
        "session": SESSION,
        "keys": keys,
        "passphrase": PASSPHRASE,
        "auto_decrypt": True,
        "kdf_n": 2**14,  # the least a device accepts: the test's cost (the default 2^15 is ~1 s per file)
    }
    return Options(**{**base, **kw})  # type: ignore[arg-type]


class Running:
    """Devices running in the background of a test, stopped and closed at the end."""

    def __init__(self, devices: list[MemberDevice]) -> None:
        self.devices = devices
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(run(devices, self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)
        for d in self.devices:
            await d.client.close()


async def _vote(chair: SessionClient, voters: dict[int, SessionClient], round_id: str) -> dict[int, str]:
    opened = await chair.send(
        votes.OpenVote(
            round_id=round_id,
            item_id="nq-ngan-sach",
            motion=f"Bỏ phiếu kín kiểm chứng {round_id}",
            secret=True,
            mode=BallotMode.VERIFIABLE,
            ceremony_id=CEREMONY,
        )
    )
    choices = {i: OPTIONS[(i * 5 + len(round_id)) % 3] for i in voters}
    for i, c in voters.items():
        await c.wait_seq(opened.seqs[-1])
        assert c.state is not None
        await c.send(encrypt_vote(c.state, round_id, script.delegate_id(i), choices[i]))
    await _until(
        lambda: chair.state is not None and chair.state.votes.rounds[round_id].ballots_reported == len(voters), "cast"
    )
    closed = await chair.send(votes.CloseRound(round_id=round_id))
    await chair.wait_seq(closed.seqs[-1])
    return choices


def _counts(chair: SessionClient, round_id: str) -> dict[str, int]:
    assert chair.state is not None
    result = chair.state.votes.rounds[round_id].result
    assert result is not None
    return {o.key: o.count for o in result.options}


@MODULE_LOOP
async def test_seven_devices_make_the_key_then_certify_a_round(
    server: ServerProcess, keys: Path, hall: tuple[SessionClient, dict[int, SessionClient]]
) -> None:
    chair, voters = hall
    lines: list[str] = []
    devices = await connect(_opts(server, keys), USERS, DEMO_PASSWORD, say=lines.append)
    assert [d.person_id for d in devices] == MEMBERS
    running = Running(devices)
    try:
        await chair.send(verifiable.StartCeremony(ceremony_id=CEREMONY, members=MEMBERS))
        paths = [key_path(keys, CEREMONY, m) for m in MEMBERS]
        await _until(lambda: all(p.exists() for p in paths), "seven key files", 120)
        assert chair.state is not None
        cer = chair.state.ceremonies.by_id[CEREMONY]
        assert cer.keys is not None and cer.keys.threshold == 4 and cer.keys.disqualified == []
        # Each file is the tablet's format, opens with the passphrase, names its ceremony, member and the server's
        # keys, and holds the member's share of the key (s_j·G = V_j from the public transcript).
        out = dkg.outcome(
            rec.CeremonySpec(council_id=cer.spec.council_id, ceremony_id=CEREMONY, threshold=4, members=MEMBERS),
            [msgspec.convert(cer.messages[verifiable.Step.PUBLISH][m], rec.MemberPublication) for m in MEMBERS],
            [msgspec.convert(cer.messages[verifiable.Step.DEAL][m], rec.ShareBundle) for m in MEMBERS],
            [msgspec.convert(cer.messages[verifiable.Step.COMPLAIN][m], rec.ComplaintList) for m in MEMBERS],
        )
        for j, path in enumerate(paths, start=1):
            assert oct(path.stat().st_mode & 0o777) == "0o600"
            share = keystore.open(path.read_bytes(), PASSPHRASE)
            assert (share.ceremony_id, share.member) == (CEREMONY, j)
            assert (share.joint_key, share.fingerprint) == (cer.keys.joint_key, cer.keys.fingerprint)
            assert base_mul(share.scalar) == out.verification_keys[j]
            assert share.secret not in path.read_text(encoding="utf-8")
        said = [x for x in lines if fingerprint_groups(cer.keys.fingerprint) in x]
        assert len(said) == 7 and all(cer.keys.fingerprint[:4] + " " in x for x in said), lines

        choices = await _vote(chair, voters, "kin-thiet-bi-1")
        await _until(
            lambda: chair.state is not None and chair.state.votes.rounds["kin-thiet-bi-1"].result, "result", 60
        )
        assert _counts(chair, "kin-thiet-bi-1") == {o: Counter(choices.values())[o] for o in OPTIONS}
        assert chair.state is not None
        r = chair.state.votes.rounds["kin-thiet-bi-1"]
        # The devices take turns in one process: the 4th partial certifies, the others see the result and stop.
        assert sorted(r.certified_by) == MEMBERS[:4]
        assert not [x for x in lines if "từ chối" in x], lines
        sent = [x for x in lines if "Đã gửi phần giải mã kin-thiet-bi-1" in x]
        assert len(sent) == 4 and "1/4 cần thiết" in sent[0] and "3/4 cần thiết" in sent[2], sent
    finally:
        await running.close()


@MODULE_LOOP
async def test_restarted_devices_reuse_their_key_files(
    server: ServerProcess, keys: Path, hall: tuple[SessionClient, dict[int, SessionClient]]
) -> None:
    chair, voters = hall
    assert all(key_path(keys, CEREMONY, m).exists() for m in MEMBERS), "runs after the ceremony test"
    # A wrong passphrase: the keystore's sentence, and nothing left connected.
    with pytest.raises(DeviceError) as e:
        await connect(_opts(server, keys, passphrase="Không phải mật khẩu này"), USERS[:1], DEMO_PASSWORD)
    assert "Sai mật khẩu, hoặc tệp khóa đã bị sửa" in e.value.vi and "wrong passphrase" in e.value.en

    # Six stand-ins, at most 3 of them decrypting: the round waits for a 4th (in the demo, the person's tablet).
    lines: list[str] = []
    devices = await connect(_opts(server, keys, decrypt_only=3), USERS[1:], DEMO_PASSWORD, say=lines.append)
    assert all(CEREMONY in d.shares for d in devices)
    assert sum("Dùng lại khóa đã lưu" in x for x in lines) == 6
    running = Running(devices)
    last: Running | None = None
    try:
        choices = await _vote(chair, voters, "kin-thiet-bi-2")

        def partials() -> int:
            s = chair.state
            return len(s.votes.rounds["kin-thiet-bi-2"].partials) if s is not None else 0

        await _until(lambda: partials() == 3, "three partials", 60)
        await asyncio.sleep(1.0)  # nobody else of the six sends one
        assert chair.state is not None and partials() == 3 and chair.state.votes.rounds["kin-thiet-bi-2"].result is None
        assert any("--decrypt-only 3" in x for x in lines), lines
        # The 4th: another device, asked on its "terminal" (answer yes).
        asked: list[str] = []

        async def yes(question: str) -> bool:
            asked.append(question)
            return True

        one = await connect(_opts(server, keys, auto_decrypt=False), USERS[:1], DEMO_PASSWORD, ask=yes)
        last = Running(one)
        await _until(
            lambda: chair.state is not None and chair.state.votes.rounds["kin-thiet-bi-2"].result, "result", 60
        )
        assert _counts(chair, "kin-thiet-bi-2") == {o: Counter(choices.values())[o] for o in OPTIONS}
        assert asked == ["[daibieu30] Giải mã lượt kin-thiet-bi-2 (Bỏ phiếu kín kiểm chứng kin-thiet-bi-2)?"]

        # A verifiable confidence poll of the same ceremony, decrypted the same way (t − 1 + 1 again).
        poll = "ltn-thiet-bi"
        officials = [polls.Official(id=x.id, name=x.name, position=x.position) for x in script.RESPONDENTS[:2]]
        await chair.send(agenda.MoveToItem(item_id="tin-nhiem"))
        await chair.send(
            polls.CreatePoll(poll_id=poll, item_id="tin-nhiem", kind=polls.PollKind.RATING, officials=officials)
        )
        await chair.send(polls.AppointCommittee(poll_id=poll, members=MEMBERS))
        opened = await chair.send(polls.OpenPoll(poll_id=poll, mode=BallotMode.VERIFIABLE, ceremony_id=CEREMONY))
        levels = ("high", "trust", "low")
        marks = {i: {o.id: levels[(i + k) % 3] for k, o in enumerate(officials)} for i in voters}
        for i, c in voters.items():
            await c.wait_seq(opened.seqs[-1])
            assert c.state is not None
            await c.send(encrypt_poll(c.state, poll, script.delegate_id(i), marks[i]))
        closed = await chair.send(polls.ClosePoll(poll_id=poll))
        await chair.wait_seq(closed.seqs[-1])
        await _until(lambda: chair.state is not None and chair.state.polls.polls[poll].result, "poll result", 60)
        assert chair.state is not None
        result = chair.state.polls.polls[poll].result
        assert result is not None
        for o in result.officials:
            want = Counter(m[o.official_id] for m in marks.values())
            assert {k: v for k, v in o.counts.items() if k in levels} == {lv: want[lv] for lv in levels}
        assert len(asked) == 2 and "Giải mã phiếu tín nhiệm ltn-thiet-bi" in asked[1]
    finally:
        await running.close()
        if last is not None:
            await last.close()


@MODULE_LOOP
async def test_a_view_with_fewer_ballots_than_announced_is_not_decrypted(
    server: ServerProcess, keys: Path, hall: tuple[SessionClient, dict[int, SessionClient]]
) -> None:
    """As the tablet: a server handing one member a subset of the ballots (at worst one ballot as "the total")
    gets no partial decryption from it; the whole view is decrypted."""
    chair, voters = hall
    await chair.send(agenda.MoveToItem(item_id="nq-ngan-sach"))
    await _vote(chair, voters, "kin-thiet-bi-3")
    lines: list[str] = []
    [dev] = await connect(_opts(server, keys), USERS[:1], DEMO_PASSWORD, say=lines.append)
    try:
        state = dev.client.state
        assert state is not None
        r = state.votes.rounds["kin-thiet-bi-3"]
        assert len(r.ballots) == r.ballots_reported == len(voters)
        whole = list(r.ballots)
        r.ballots[:] = whole[:1]
        await dev.tick()
        assert any(f"thiết bị nhận 1 phiếu, ít hơn {len(voters)} phiếu" in x for x in lines), lines
        assert not any("từ chối" in x or "Đã gửi" in x for x in lines), lines  # nothing sent, not even refused
        assert chair.state is not None and chair.state.votes.rounds["kin-thiet-bi-3"].partials == {}
        r.ballots[:] = whole
        await dev.tick()
        await _until(lambda: chair.state is not None and chair.state.votes.rounds["kin-thiet-bi-3"].partials, "sent")
        assert list(chair.state.votes.rounds["kin-thiet-bi-3"].partials) == [MEMBERS[0]]
    finally:
        await dev.client.close()


@MODULE_LOOP
async def test_an_interrupted_ceremony_is_said_and_left_to_the_chair(
    server: ServerProcess, keys: Path, hall: tuple[SessionClient, dict[int, SessionClient]]
) -> None:
    chair, _ = hall
    again = "bkp-bi-gian-doan"
    await chair.send(verifiable.StartCeremony(ceremony_id=again, members=MEMBERS))
    first = Running(await connect(_opts(server, keys), USERS[:1], DEMO_PASSWORD, say=lambda _: None))

    def published() -> bool:
        s = chair.state
        return s is not None and MEMBERS[0] in s.ceremonies.by_id[again].messages[verifiable.Step.PUBLISH]

    try:
        await _until(published, "the first publication", 30)
    finally:
        await first.close()  # stopped after publishing: its DKG secrets are gone with it
    lines: list[str] = []
    second = Running(await connect(_opts(server, keys), USERS[:1], DEMO_PASSWORD, say=lines.append))
    try:
        await _until(lambda: any("bị gián đoạn" in x for x in lines), "the interruption said", 10)
    finally:
        await second.close()
    [said] = [x for x in lines if again in x]
    assert "Tạo lại" in said and "cannot resume" in said, said
    assert not key_path(keys, again, MEMBERS[0]).exists()
    # The chair restarts it: a device started now joins the new ceremony (and says again the old one cannot go on).
    await chair.send(verifiable.StartCeremony(ceremony_id="bkp-tao-lai", members=MEMBERS))
    lines.clear()
    third = Running(await connect(_opts(server, keys), USERS[:1], DEMO_PASSWORD, say=lines.append))
    try:
        await _until(lambda: any("bkp-tao-lai" in x for x in lines), "joining the new ceremony", 10)
        await asyncio.sleep(0.5)
    finally:
        await third.close()
    assert sorted(x for x in lines if "bkp-" in x and "Dùng lại" not in x) == [
        said,
        "[daibieu30] Tham gia tạo khóa bkp-tao-lai: thành viên 1/7 / joining the ceremony",
    ], lines


@MODULE_LOOP
async def test_bad_input_is_one_clear_line(server: ServerProcess, keys: Path) -> None:
    with pytest.raises(DeviceError) as e:
        await connect(_opts(server, keys), ["khong-ton-tai"], DEMO_PASSWORD)
    assert e.value.vi.startswith("khong-ton-tai: ")
    with pytest.raises(DeviceError, match="kỳ họp khong-co"):
        await connect(_opts(server, keys, session="khong-co"), USERS[:1], DEMO_PASSWORD)
    with pytest.raises(DeviceError, match="ít nhất 10 ký tự"):
        await connect(_opts(server, keys, passphrase="ngắn"), USERS[:1], DEMO_PASSWORD)
    with pytest.raises(DeviceError, match="Không kết nối được máy chủ"):
        await connect(_opts(server, keys, server="http://127.0.0.1:9"), USERS[:1], DEMO_PASSWORD)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "server.cli", "committee-device", *args]
    return subprocess.run(
        cmd, check=False, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


def test_the_command_exits_2_with_one_line_for_a_wrong_password(server: ServerProcess, tmp_path: Path) -> None:
    base = ["--server", server.http, "--session", SESSION, "--keys", str(tmp_path), "--password-env", "PW"]
    env = {"PW": "mat-khau-sai", "KYHOP_PASSPHRASE": PASSPHRASE}
    done = _cli(*base, "--user", "daibieu31", env=env)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("daibieu31: ") and " / daibieu31: " in line, line
    # An unknown user says the same (the server does not tell which usernames exist).
    other = _cli(*base, "--user", "khong-ton-tai", env=env)
    assert other.returncode == 2 and other.stderr.replace("khong-ton-tai", "daibieu31") == done.stderr
    # A missing passphrase variable and an unreachable server: one line each, status 2.
    done = _cli(*base, "--user", "daibieu31", env={"PW": DEMO_PASSWORD, "KYHOP_PASSPHRASE": ""})
    assert done.returncode == 2 and "KYHOP_PASSPHRASE" in done.stderr and len(done.stderr.splitlines()) == 1
    done = _cli("--demo", "--server", "http://127.0.0.1:9", "--user", "daibieu31", env={})
    assert done.returncode == 2 and done.stderr.startswith("Không kết nối được máy chủ http://127.0.0.1:9 / ")
