"""A counting-committee member's device on a laptop or a council's own machine: `kyhop committee-device` (issue 13).

The tablet's committee card (clients/web/js/committee*.js, docs/BALLOT-CRYPTO.md §13.3) in Python, one process for
one or more members: it signs each in, follows the session with `clients.sdk.SessionClient` and, for each member,
- runs the key ceremony `ceremony_started` names them in with `clients.ballots.CommitteeMember`, each step as soon
  as the state allows it (publish; deal once all n have published; complain once all n have dealt; finish once
  every complaint list and the server's keys are in — kept only if they are the transcript's), then seals the share
  under the member's passphrase into `<keys>/<ceremony>-<person>.json`, the tablet's backup file format
  (`ballotcrypto/keystore.py`, §13.1: a member restores a tablet from it), and prints the fingerprint's first 32
  hex characters in groups of 4 to compare aloud;
- when a verifiable round or poll of a ceremony it holds a share of is closed for counting, checks every ballot,
  adds them up and sends its partial decryption of that total (`CommitteeMember.decrypt` / `decrypt_poll`) —
  at once with `auto_decrypt`, else after asking on the terminal.

After a restart a share found in the keys directory is opened with the passphrase and used. A ceremony this
device had started but not finished cannot go on: the DKG's secrets (the communication key, the polynomial) were
only in the stopped process's memory — it says so and the chair restarts the ceremony (**Tạo lại**). The tablet
survives a reload by sealing a seed first (§13.3); this device keeps nothing until the share exists.

Bad input (an unknown user, a wrong password or passphrase, an unreachable server) is one bilingual line and exit
status 2 (`DeviceError`), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import websockets

from ballotcrypto import keystore
from ballotcrypto.dkg import KeyShare
from ballotcrypto.errors import CeremonyError, VerifyFailure
from clients.ballots import CommitteeMember, NotReady
from clients.sdk import ClientError, SessionClient, sign_in
from meeting import polls, verifiable, votes
from meeting.messages import Command
from meeting.rules import BallotMode
from meeting.session import SessionState

# The demo's passphrase for every stand-in member (`--demo`, `make demo-committee`): ≥ 10 characters as any other.
DEMO_PASSPHRASE = "Ban kiểm phiếu mẫu 2026"
STEPS = (verifiable.Step.PUBLISH, verifiable.Step.DEAL, verifiable.Step.COMPLAIN)
# Between events the device looks at the state again after this long anyway (a reconnect's snapshot has no event).
IDLE_S = 1.0

Say = Callable[[str], None]
Ask = Callable[[str], Awaitable[bool]]


class DeviceError(Exception):
    """Bad input or an unreachable server: one line, Vietnamese first, English after; the command exits 2."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


def fingerprint_groups(hex_text: str) -> str:
    """ "3f2a 9c01 …": the fingerprint's first 32 hex characters in groups of 4, read aloud (§5), as the tablet."""
    return " ".join(hex_text[i : i + 4] for i in range(0, 32, 4))


def key_path(keys: Path, ceremony_id: str, person_id: str) -> Path:
    """`<ceremony>-<person>.json`; characters a file name cannot safely hold become "_" (the file says its own
    ceremony and member, checked on opening)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{ceremony_id}-{person_id}")
    return keys / f"{safe}.json"


@dataclass
class Options:
    server: str  # http(s)://host:port
    session: str
    keys: Path
    passphrase: str
    auto_decrypt: bool = False
    decrypt_only: int | None = None  # at most this many of this process's members decrypt each round or poll
    kdf_n: int = keystore.N  # scrypt's N for new key files (tests use 2^14, the least a device accepts)

    @property
    def ws(self) -> str:
        return re.sub(r"^http", "ws", self.server.rstrip("/"))


async def ask_terminal(question: str) -> bool:
    """`question [c/k]` on the terminal: c (có) decrypts, anything else (or end of input) does not."""
    try:
        answer = await asyncio.to_thread(input, f"{question} [c/k] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"c", "có", "co", "y", "yes"}


@dataclass
class _Target:
    kind: str  # "round" | "poll"
    id: str
    title: str
    ceremony_id: str
    status_counted: bool
    partials: dict[str, object]
    announced: int
    ballots: int
    done: bool


def _targets(state: SessionState) -> list[_Target]:
    out = [
        _Target(
            "round",
            r.id,
            r.motion,
            r.ceremony_id or "",
            r.status is votes.RoundStatus.COUNTED,
            dict(r.partials),
            r.ballots_reported,
            len(r.ballots),
            r.result is not None,
        )
        for r in state.votes.rounds.values()
        if r.mode is BallotMode.VERIFIABLE
    ]
    out += [
        _Target(
            "poll",
            p.id,
            p.id,
            p.ceremony_id or "",
            p.status is polls.PollStatus.COUNTED,
            dict(p.partials),
            p.ballots_reported,
            len(p.ballots),
            p.result is not None,
        )
        for p in state.polls.polls.values()
        if p.mode is BallotMode.VERIFIABLE
    ]
    return out


@dataclass
class Process:
    """What the members' devices of one process share: how many partials each round got from here (for
    --decrypt-only) and the lines said once for all of them."""

    sent: dict[tuple[str, str], int] = field(default_factory=dict)
    told: set[str] = field(default_factory=set)


@dataclass
class MemberDevice:
    """One member's device: its ceremonies in progress, the shares it holds, what it has already said."""

    username: str
    person_id: str
    client: SessionClient
    opts: Options
    say: Say
    ask: Ask
    process: Process
    devices: dict[str, CommitteeMember] = field(default_factory=dict)
    sent: dict[str, set[verifiable.Step]] = field(default_factory=dict)
    shares: dict[str, KeyShare] = field(default_factory=dict)
    given_up: set[str] = field(default_factory=set)  # ceremonies or targets this device will not act on again
    told: set[str] = field(default_factory=set)

    def _say(self, line: str) -> None:
        self.say(f"[{self.username}] {line}")

    def _once(self, key: str, line: str) -> None:
        if key not in self.told:
            self.told.add(key)
            self._say(line)

    async def _send(self, cmd: Command, what: str, *, late_ok: bool = False) -> bool | None:
        """True: done; False: refused (said why); None: no answer in time, or the connection closed — maybe done."""
        try:
            result = await self.client.send(cmd)
        except ClientError as e:
            if late_ok and e.code in {"round_not_counted", "already_certified"}:
                # Another device's partial completed the count first (a tablet and this process at once), or this
                # one was accepted before a connection dropped and is sent again.
                self._say(f"{what}: đã đủ phần giải mã hoặc đã gửi trước đó / already certified, or already sent")
                return False
            self._say(f"{what}: máy chủ từ chối / refused — {e.message_vi} / {e.message_en}")
            return False
        except (TimeoutError, ConnectionError) as e:
            self._say(f"{what}: máy chủ không trả lời / no answer from the server ({type(e).__name__})")
            return None
        if result.seqs:
            # The events the command caused come on the socket beside its result, not necessarily first.
            with contextlib.suppress(TimeoutError):
                await self.client.wait_seq(result.seqs[-1], timeout=5)
        return True

    # --- shares on disk -------------------------------------------------------------------------------------------
    async def load_shares(self) -> None:
        """Every key file of this member for a ceremony in the session, opened with the passphrase (a wrong one is
        a DeviceError: better stop than sit through the count unable to decrypt)."""
        state = self.client.state
        if state is None:
            return
        for cid, c in state.ceremonies.by_id.items():
            path = key_path(self.opts.keys, cid, self.person_id)
            if self.person_id not in c.spec.members or cid in self.shares or not path.exists():
                continue
            try:
                share = await asyncio.to_thread(keystore.open, path.read_bytes(), self.opts.passphrase)
            except keystore.KeyStoreError as e:
                raise DeviceError(f"{path}: {e.vi}", f"{path}: {e.en}") from None
            index = c.spec.members.index(self.person_id) + 1
            keys = c.keys
            if (share.ceremony_id, share.member) != (cid, index) or (
                keys is not None and (share.joint_key, share.fingerprint) != (keys.joint_key, keys.fingerprint)
            ):
                self._once(
                    f"mismatch:{cid}",
                    f"{path}: tệp khóa KHÔNG khớp phiên tạo khóa {cid} trên máy chủ — không dùng, báo Chủ tọa / "
                    f"the key file does not match ceremony {cid} on the server: not used, tell the chair",
                )
                self.given_up.add(cid)
                continue
            self.shares[cid] = share
            self._say(
                f"Dùng lại khóa đã lưu của phiên {cid} (thành viên {index}) / reusing the saved share — "
                f"dấu vân tay / fingerprint {fingerprint_groups(share.fingerprint)}"
            )

    async def _keep(self, cid: str, share: KeyShare) -> None:
        path = key_path(self.opts.keys, cid, self.person_id)
        file = await asyncio.to_thread(keystore.seal, share, self.opts.passphrase, n=self.opts.kdf_n)
        self.opts.keys.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        # Written whole then renamed: a crash never leaves half a key file; 0600 as any secret on disk.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(keystore.dumps(file))
        tmp.replace(path)
        self.shares[cid] = share
        self._say(
            f"Đã tạo khóa phiên {cid} (thành viên {share.member}) — dấu vân tay / fingerprint "
            f"{fingerprint_groups(share.fingerprint)} — lưu tại / saved to {path}"
        )

    # --- the ceremony ---------------------------------------------------------------------------------------------
    async def _ceremony(self, state: SessionState, cid: str) -> None:
        c = state.ceremonies.by_id[cid]
        mine = {s for s in STEPS if self.person_id in c.messages[s]}
        dev = self.devices.get(cid)
        if dev is None:
            if c.keys is not None:
                self._once(
                    f"lost:{cid}",
                    f"Phiên tạo khóa {cid} đã xong nhưng không có tệp khóa trong {self.opts.keys}: thiết bị này "
                    f"không giải mã được lượt dùng khóa đó / ceremony {cid} is complete but this member's key "
                    f"file is not in {self.opts.keys}: this device cannot decrypt its rounds",
                )
                self.given_up.add(cid)
                return
            if mine:
                self._once(
                    f"interrupted:{cid}",
                    f"Phiên tạo khóa {cid} bị gián đoạn giữa chừng: bí mật tạo khóa chỉ nằm trong bộ nhớ của lần "
                    f"chạy trước, không tiếp tục được — đề nghị Chủ tọa tạo lại phiên (Tạo lại) / ceremony {cid} "
                    f"was interrupted mid-way: its secrets were only in the previous run's memory and cannot "
                    f"resume — ask the chair to restart it",
                )
                self.given_up.add(cid)
                return
            dev = self.devices[cid] = CommitteeMember(state, cid, self.person_id)
            self.sent[cid] = set()
            self._say(f"Tham gia tạo khóa {cid}: thành viên {dev.index}/{len(c.spec.members)} / joining the ceremony")
        sent = self.sent[cid]
        for step in STEPS:
            if step in sent:
                continue
            try:
                cmd = (
                    dev.publish()
                    if step is verifiable.Step.PUBLISH
                    else dev.deal(state)
                    if step is verifiable.Step.DEAL
                    else dev.complain(state)
                )
            except NotReady:
                return
            except VerifyFailure as e:
                self._say(
                    f"Phiên {cid}: {e.message_vi} ({e.subject}) — không tiếp tục, báo Chủ tọa / {e.message_en} "
                    f"({e.subject}): stopped, tell the chair"
                )
                self.given_up.add(cid)
                return
            if not await self._send(cmd, f"{cid} {step.value}"):
                # Refused (the ceremony moved on without this device), or unanswered: sent twice, a step would be
                # refused, and the DKG cannot take it back — the chair restarts the ceremony, as for a stuck member.
                self.given_up.add(cid)
                return
            sent.add(step)
            return  # the next step needs the others' messages: look again on the next event
        if c.keys is None:
            return
        try:
            dev.finish(state)
        except NotReady:
            return
        except (ValueError, CeremonyError) as e:
            disqualified = dev.index in c.keys.disqualified
            self._say(
                f"Phiên {cid}: thành viên {dev.index} bị loại, không giữ khóa / disqualified, holds no share"
                if disqualified
                else f"Phiên {cid}: khóa chung hoặc dấu vân tay máy chủ công bố KHÁC với biên bản — không giữ khóa, "
                f"báo ngay Chủ tọa / the server's joint key or fingerprint is not the transcript's: nothing kept ({e})"
            )
            self.given_up.add(cid)
            return
        assert dev.share is not None
        await self._keep(cid, dev.share)
        del self.devices[cid]  # the DKG state is no longer needed; the share is on disk and in self.shares

    # --- certification --------------------------------------------------------------------------------------------
    async def _decrypt(self, state: SessionState, t: _Target) -> None:
        key = f"{t.kind}:{t.id}"
        share = self.shares[t.ceremony_id]
        keys = state.ceremonies.by_id[t.ceremony_id].keys
        if keys is not None and share.member in keys.disqualified:
            self._once(f"dq:{key}", f"{t.id}: thành viên bị loại không giải mã / a disqualified member cannot decrypt")
            return
        if t.ballots < t.announced:
            # As the tablet: a view holding fewer ballots than the hall was told would have this member decrypt a
            # subset — at worst one ballot passed off as the total.
            self._once(
                f"few:{key}",
                f"{t.id}: thiết bị nhận {t.ballots} phiếu, ít hơn {t.announced} phiếu đã công bố: không giải mã, "
                f"báo Chủ tọa / the view holds {t.ballots} ballots, {t.announced} were announced: not decrypted",
            )
            return
        sent_here = self.process.sent.get((t.kind, t.id), 0)
        if keys is not None and sent_here >= keys.threshold:
            # t partials already accepted from this process: the result is out, this member's view just lags.
            return
        quota = self.opts.decrypt_only
        if quota is not None and sent_here >= quota:
            if key not in self.process.told:
                self.process.told.add(key)
                self.say(
                    f"{t.id}: {sent_here} thành viên ở đây đã giải mã; phần còn lại để các thiết bị khác, như máy tính "
                    f"bảng (--decrypt-only {quota}) / {sent_here} partials from here, the rest is left to other devices"
                )
            return
        name = "lượt" if t.kind == "round" else "phiếu tín nhiệm"
        if not self.opts.auto_decrypt and not await self.ask(f"[{self.username}] Giải mã {name} {t.id} ({t.title})?"):
            self.given_up.add(key)
            self._say(f"{t.id}: không giải mã / not decrypted")
            return
        dev = CommitteeMember(state, t.ceremony_id, self.person_id)
        dev.share = share
        try:
            # Every ballot's proofs are checked (~1.6 ms each for a vote, ~19 ms for a 10-official poll): off the
            # event loop, so the socket's pings are answered meanwhile.
            cmd: Command = await asyncio.to_thread(dev.decrypt if t.kind == "round" else dev.decrypt_poll, state, t.id)
        except VerifyFailure as e:
            self._say(f"{t.id}: {e.message_vi} ({e.subject}) — không giải mã / {e.message_en}: not decrypted")
            self.given_up.add(key)
            return
        except (NotReady, ValueError) as e:
            self._say(f"{t.id}: không giải mã được / cannot decrypt: {e}")
            self.given_up.add(key)
            return
        done = await self._send(cmd, f"{t.id}", late_ok=True)
        if done is None:
            return  # unanswered: tried again on a later tick (a partial sent twice is refused as already given)
        if done:
            self.process.sent[(t.kind, t.id)] = sent_here + 1
            now = self.client.state
            k = len(next((x.partials for x in _targets(now) if (x.kind, x.id) == (t.kind, t.id)), {})) if now else 0
            need = keys.threshold if keys is not None else "?"
            self._say(f"Đã gửi phần giải mã {t.id} — {k}/{need} cần thiết / partial decryption sent: {k} of {need}")
        self.given_up.add(key)

    async def tick(self) -> None:
        """Do whatever the session's state now allows this member's device to do."""
        state = self.client.state
        if state is None:
            return
        # Every ceremony naming this member, as the tablet: a snapshot does not say which one the chair started
        # last, so an abandoned one this device never took part in is joined too (a spare key nobody uses).
        for cid, c in list(state.ceremonies.by_id.items()):
            if self.person_id in c.spec.members and cid not in self.shares and cid not in self.given_up:
                await self._ceremony(state, cid)
        state = self.client.state
        assert state is not None
        for t in _targets(state):
            key = f"{t.kind}:{t.id}"
            if (
                t.status_counted
                and not t.done
                and t.ceremony_id in self.shares
                and self.person_id not in t.partials
                and key not in self.given_up
            ):
                await self._decrypt(state, t)


def _passphrase_ok(passphrase: str) -> None:
    if len(unicodedata.normalize("NFC", passphrase)) < keystore.MIN_PASSPHRASE:
        n = keystore.MIN_PASSPHRASE
        raise DeviceError(
            f"Mật khẩu khóa phải có ít nhất {n} ký tự", f"the key passphrase needs at least {n} characters"
        )


async def connect(
    opts: Options,
    users: list[str],
    password: str,
    *,
    say: Say = print,
    ask: Ask = ask_terminal,
) -> list[MemberDevice]:
    """Sign every member in, connect each to the session and open the key files it already has. DeviceError (and
    nothing left open) on a wrong password, an unknown session, an unreachable server or a wrong passphrase."""
    _passphrase_ok(opts.passphrase)
    shared = Process()
    out: list[MemberDevice] = []
    try:
        for user in users:
            try:
                token = await sign_in(opts.server.rstrip("/"), user, password)
            except ClientError as e:
                raise DeviceError(f"{user}: {e.message_vi}", f"{user}: {e.message_en}") from None
            except (OSError, ValueError) as e:
                raise DeviceError(
                    f"Không kết nối được máy chủ {opts.server}", f"cannot reach the server {opts.server}: {e}"
                ) from None
            client = SessionClient(opts.ws, opts.session, token)
            try:
                await client.connect()
                await asyncio.wait_for(client.ready(), 30)
            except ClientError as e:
                await client.close()
                raise DeviceError(
                    f"{user}, kỳ họp {opts.session}: {e.message_vi}", f"{user}, session {opts.session}: {e.message_en}"
                ) from None
            except (OSError, TimeoutError, websockets.WebSocketException) as e:
                await client.close()
                raise DeviceError(
                    f"Không kết nối được máy chủ {opts.ws}", f"cannot reach the server {opts.ws}: {e}"
                ) from None
            person = client.welcome.person_id if client.welcome is not None else None
            if person is None:
                await client.close()
                raise DeviceError(
                    f"Tài khoản {user} không phải đại biểu: không thể ở Ban kiểm phiếu",
                    f"the account {user} is not a delegate's: it cannot be on the counting committee",
                )
            dev = MemberDevice(user, person, client, opts, say, ask, shared)
            out.append(dev)
            await dev.load_shares()
    except BaseException:
        for d in out:
            await d.client.close()
        raise
    return out


async def run(devices: list[MemberDevice], stop: asyncio.Event | None = None) -> None:
    """Act on every event until `stop` is set (or forever)."""
    wake = asyncio.Event()
    for d in devices:
        d.client.on_event = lambda _seq, _ev: wake.set()
    stop = stop or asyncio.Event()
    while not stop.is_set():
        wake.clear()
        for d in devices:
            try:
                await d.tick()
            except Exception as e:  # a bug or a state this device does not expect: said once, the others go on
                d._once(f"error:{e!r}", f"Lỗi, bỏ qua / error, skipped: {e!r}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), IDLE_S)


def _env(name: str, what_vi: str, what_en: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise DeviceError(f"Biến môi trường {name} ({what_vi}) chưa đặt", f"the variable {name} ({what_en}) is not set")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server", default="http://127.0.0.1:8000", help="địa chỉ máy chủ / the server (default %(default)s)"
    )
    p.add_argument("--session", help="mã kỳ họp / the session id (--demo: the demo session)")
    p.add_argument(
        "--user",
        action="append",
        required=True,
        help="tài khoản thành viên, lặp lại được / a member's account, repeatable (--user daibieu31 --user daibieu32)",
    )
    p.add_argument("--password-env", metavar="VAR", help="biến chứa mật khẩu đăng nhập / variable with the password")
    p.add_argument("--passphrase-env", metavar="VAR", help="biến chứa mật khẩu khóa / variable with the key passphrase")
    p.add_argument(
        "--keys",
        type=Path,
        default=Path("var/committee-keys"),
        help="thư mục tệp khóa / the key files' directory (default %(default)s)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help=f"mật khẩu mẫu, mật khẩu khóa mẫu «{DEMO_PASSPHRASE}» / the demo password and key passphrase",
    )
    p.add_argument(
        "--auto-decrypt", action="store_true", help="giải mã không hỏi / decrypt without asking on the terminal"
    )
    p.add_argument(
        "--decrypt-only",
        type=int,
        metavar="N",
        help="nhiều nhất N thành viên của lệnh này giải mã mỗi lượt / at most N of these members decrypt each round",
    )


def options_from(args: argparse.Namespace, *, demo_session: str) -> tuple[Options, str]:
    """(options, the sign-in password) from the parsed arguments; DeviceError for what is missing."""
    if args.demo:
        password = os.environ.get(args.password_env, "") if args.password_env else ""
        passphrase = os.environ.get(args.passphrase_env, "") if args.passphrase_env else ""
        passphrase = passphrase or DEMO_PASSPHRASE
        session = args.session or demo_session
    else:
        password = _env(args.password_env or "KYHOP_PASSWORD", "mật khẩu đăng nhập", "the sign-in password")
        passphrase = _env(args.passphrase_env or "KYHOP_PASSPHRASE", "mật khẩu khóa", "the key passphrase")
        if not args.session:
            raise DeviceError("Thiếu --session (mã kỳ họp)", "--session (the session id) is missing")
        session = args.session
    if args.decrypt_only is not None and args.decrypt_only < 0:
        raise DeviceError("--decrypt-only phải ≥ 0", "--decrypt-only must be ≥ 0")
    opts = Options(
        server=args.server,
        session=session,
        keys=args.keys,
        passphrase=passphrase,
        auto_decrypt=args.auto_decrypt,
        decrypt_only=args.decrypt_only,
    )
    return opts, password


def main(args: argparse.Namespace, *, demo_password: str, demo_session: str) -> int:
    """`kyhop committee-device`: 0 when stopped with Ctrl-C, 2 on bad input (one line on stderr)."""

    async def go() -> None:
        opts, password = options_from(args, demo_session=demo_session)
        devices = await connect(opts, list(args.user), password or demo_password, say=_say)
        print(
            f"Đang theo dõi kỳ họp {opts.session} cho {', '.join(args.user)}; khóa lưu tại {opts.keys}. "
            f"Ctrl-C để dừng / following the session; Ctrl-C stops",
            flush=True,
        )
        stop = asyncio.Event()
        # Ctrl-C or a TERM stops the devices cleanly; installed here as a background job's SIGINT is ignored.
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            await run(devices, stop)
            print("Đã dừng / stopped", file=sys.stderr)
        finally:
            for d in devices:
                await d.client.close()

    try:
        asyncio.run(go())
    except DeviceError as e:
        print(f"{e.vi} / {e.en}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Đã dừng / stopped", file=sys.stderr)
    return 0


def _say(line: str) -> None:
    print(line, flush=True)
