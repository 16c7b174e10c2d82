// The counting committee member's tablet (issue 13 §1; docs/BALLOT-CRYPTO.md §13.3): the key ceremony run by the
// device itself, the key share kept under the member's passphrase, and certification by decryption.
//
// "Tạo khóa Ban kiểm phiếu": when a ceremony names this person, the member chooses a passphrase; the device then
// publishes, deals once all have published, checks its shares once all have dealt, and finishes once every
// complaint list is in — keeping the share only if the server's joint key and fingerprint are the transcript's.
// "Giải mã kết quả": when a verifiable round or poll of that ceremony is closed for counting, the passphrase opens
// the share, the device checks and adds up the ballots itself and sends its partial decryption of the total.
//
// Rendering: each task is a block whose progress line is redrawn on every state change but whose form is rebuilt
// only when the task's phase changes — a passphrase half typed survives the other members' messages arriving.
import { ApiError } from "./api.js";
import { KeyStoreError, openKeyShare, sealKeyShare } from "./ballotcrypto/keystore.js";
import { VerifyFailure } from "./ballotcrypto/group.js";
import { CommitteeStore } from "./committee_store.js";
import { CeremonyDevice, MismatchError, STEPS, fingerprintGroups, memberIndex, newSeed, openSeed, sealSeed } from "./committee_dkg.js";
import { FewerBallots, decryptTargets, partialCommand } from "./committee_decrypt.js";
import { POLL_KIND, delegateName, fill, h } from "./ui.js";

const MIN_CHARS = 10; // keystore.js MIN_PASSPHRASE, counted after NFC (what the user sees as characters)
const STEP_DONE = { publish: "đã công bố", deal: "đã chia phần khóa", complain: "đã kiểm tra phần khóa" };
const STEP_HEAD = { publish: "Công bố", deal: "Chia khóa", complain: "Kiểm tra" };

const nfc = (s) => String(s).normalize("NFC");
const percent = (p) => `${Math.round(p * 100)}%`;

/** An error as the member reads it: Vietnamese first, English alongside. */
function say(err) {
  if (err instanceof KeyStoreError) return [err.vi, err.en];
  if (err instanceof ApiError) return [err.message_vi, err.message_en];
  if (err instanceof MismatchError || err instanceof FewerBallots) return [err.vi, err.message];
  if (err instanceof VerifyFailure) return ["Dữ liệu không qua được kiểm tra mật mã", err.message];
  return ["Đã xảy ra lỗi", String(err && err.message ? err.message : err)];
}

function errorBanner(err, prefix = "") {
  const [vi, en] = say(err);
  return h("p", { class: "banner bad task-error", role: "alert" }, h("strong", {}, prefix, vi), h("br"), h("small", {}, en));
}

// No minlength/required: the browser's own bubble would speak its language; the page says it in Vietnamese.
function passField(id, label, autocomplete) {
  return [h("label", { for: id }, label), h("input", { id, type: "password", autocomplete })];
}

/** One block in a card: a heading, a progress line redrawn always, an action part rebuilt on a new phase. */
class Task {
  constructor(card, key, dataset, title) {
    this.el = h("div", { class: "committee-task", dataset }, h("h3", {}, title), h("div", { class: "task-progress" }), h("div", { class: "task-action" }));
    this.phase = null;
    this.key = key;
    card.querySelector(".role-body").append(this.el);
  }

  progress(...children) {
    fill(this.el.querySelector(".task-progress"), ...children);
  }

  action(phase, build) {
    if (phase === this.phase) return;
    this.phase = phase;
    fill(this.el.querySelector(".task-action"), build());
  }
}

export class CommitteeTasks {
  constructor({ live, account, me }) {
    this.live = live;
    this.me = me;
    this.store = new CommitteeStore(account.username);
    this.local = new Map(); // ceremony id -> {seed, share} as kept on this device (undefined while being read)
    this.devices = new Map(); // ceremony id -> CeremonyDevice, while the ceremony runs on this page
    this.passphrases = new Map(); // ceremony id -> passphrase, only until the key share is sealed with it
    this.errors = new Map(); // task key -> the error that stopped it
    this.busy = new Set(); // task keys with work in flight
    this.notes = new Map(); // task key -> a progress note ("Đang khóa… 40%")
    this.tasks = new Map(); // task key -> Task
    this.volatile = new Set(); // ceremony ids this browser could not keep (no IndexedDB)
  }

  get state() {
    return this.live.state;
  }

  card(id, title) {
    let el = document.getElementById(id);
    if (!el) {
      el = h("section", { class: "card wide role-card committee-card", id }, h("h2", {}, title), h("div", { class: "role-body" }));
      document.querySelector("#app .grid").prepend(el);
    }
    return el;
  }

  task(card, key, dataset, title) {
    if (!this.tasks.has(key)) this.tasks.set(key, new Task(card, key, dataset, title));
    return this.tasks.get(key);
  }

  /** Called on every change of the state (js/tablet.js render). */
  render(state = this.state) {
    if (!state || !this.me) return;
    const mine = Object.values(state.ceremonies.by_id).filter((c) => c.spec.members.includes(this.me));
    const targets = decryptTargets(state, this.me);
    const seen = new Set();
    if (mine.length) {
      const card = this.card("committee-keys", "Tạo khóa Ban kiểm phiếu");
      for (const cer of mine) {
        const key = `ceremony:${cer.spec.ceremony_id}`;
        seen.add(key);
        this.renderCeremony(this.task(card, key, { ceremony: cer.spec.ceremony_id }, `Phiên tạo khóa ${cer.spec.ceremony_id}`), cer);
      }
    }
    if (targets.length) {
      const card = this.card("committee-decrypt", "Giải mã kết quả");
      for (const t of targets) {
        const key = `${t.kind}:${t.id}`;
        seen.add(key);
        const title = t.kind === "round" ? t.title : POLL_KIND[t.item.kind] || t.item.kind;
        this.renderTarget(this.task(card, key, { [t.kind]: t.id }, title), t);
      }
    }
    for (const [key, task] of this.tasks) {
      if (!seen.has(key)) {
        task.el.remove();
        this.tasks.delete(key);
      }
    }
    for (const id of ["committee-keys", "committee-decrypt"]) {
      const el = document.getElementById(id);
      if (el && !el.querySelector(".committee-task")) el.remove();
    }
  }

  // --- the ceremony ------------------------------------------------------------------------------------------------

  kept(cid) {
    if (!this.local.has(cid)) {
      this.local.set(cid, undefined);
      Promise.all([this.store.get("dkg", cid), this.store.get("shares", cid)]).then(([seed, share]) => {
        this.local.set(cid, { seed, share });
        this.render();
      });
    }
    return this.local.get(cid);
  }

  renderCeremony(task, cer) {
    const cid = cer.spec.ceremony_id;
    const names = cer.spec.members;
    const n = names.length;
    const count = (step) => Object.keys(cer.messages[step] || {}).length;
    task.progress(
      h("p", { class: "ceremony-counts" }, STEPS.map((s) => h("span", { class: "pill", dataset: { step: s } }, `${count(s)}/${n} thành viên ${STEP_DONE[s]}`)), ` · cần ${cer.spec.threshold}/${n} để giải mã`),
      cer.keys
        ? null
        : h(
            "table",
            { class: "ceremony-members" },
            h("thead", {}, h("tr", {}, h("th", {}, "Thành viên"), STEPS.map((s) => h("th", {}, STEP_HEAD[s])))),
            h(
              "tbody",
              {},
              names.map((m) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, delegateName(this.state, m), m === this.me ? " (bạn)" : ""),
                  STEPS.map((s) => h("td", {}, m in (cer.messages[s] || {}) ? "✓" : "…")),
                ),
              ),
            ),
          ),
      this.notes.get(`ceremony:${cid}`) ? h("p", { class: "muted task-note", role: "status" }, this.notes.get(`ceremony:${cid}`)) : null,
      this.volatile.has(cid)
        ? h("p", { class: "banner warn" }, "Trình duyệt này không cho lưu dữ liệu: đừng tải lại trang, và tải tệp sao lưu khóa ngay khi xong.")
        : null,
    );
    const local = this.kept(cid);
    const err = this.errors.get(`ceremony:${cid}`);
    const index = memberIndex(cer.spec, this.me);
    if (local === undefined) return task.action("loading", () => h("p", { class: "muted" }, "Đang đọc dữ liệu trên máy…"));
    if (err) return task.action(`error:${say(err).join()}`, () => errorBanner(err, "Phiên tạo khóa dừng trên thiết bị này: "));
    if (local.share) return task.action("done", () => this.doneView(cer, local.share));
    if (cer.keys && cer.keys.disqualified.includes(index) && !this.devices.has(cid)) {
      return task.action("disqualified", () => h("p", { class: "banner bad" }, "Bạn đã bị loại khỏi phiên tạo khóa này: thiết bị không giữ phần khóa nào và không thể giải mã."));
    }
    if (this.devices.has(cid)) {
      task.action("running", () => h("p", { class: "banner info", role: "status" }, "Thiết bị đang tự thực hiện các bước khi đủ điều kiện — giữ trang này mở."));
      this.advance(cer);
      return;
    }
    // A seed kept: the ceremony resumes here (a reload mid-ceremony, or before the device finished after the last step).
    if (local.seed) return task.action("unlock", () => this.unlockView(cer, local.seed));
    if (cer.keys) return task.action("restore", () => this.restoreView(cer, "Thiết bị này không giữ phần khóa của bạn."));
    if (this.me in (cer.messages.publish || {})) {
      return task.action("lost", () =>
        h("p", { class: "banner bad" }, "Bạn đã công bố từ một thiết bị khác (hoặc dữ liệu trên máy đã bị xóa): thiết bị này không thể tiếp tục. Báo Chủ tọa để tạo lại phiên tạo khóa."),
      );
    }
    task.action("choose", () => this.chooseView(cer));
  }

  chooseView(cer) {
    const cid = cer.spec.ceremony_id;
    const form = h(
      "form",
      { class: "passphrase-form", dataset: { form: "choose" } },
      h("p", {}, "Chọn mật khẩu cho phần khóa của bạn (ít nhất 10 ký tự, có thể gõ tiếng Việt có dấu). Mật khẩu không gửi lên máy chủ và không ai khôi phục được: quên mật khẩu thì phần khóa này không dùng được nữa."),
      passField(`pp-${cid}`, "Mật khẩu", "new-password"),
      passField(`pp2-${cid}`, "Nhập lại mật khẩu", "new-password"),
      h("p", { class: "form-error banner bad hidden", role: "alert" }),
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Bắt đầu tạo khóa")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const [a, b] = [...form.querySelectorAll("input")].map((i) => nfc(i.value));
      const bad = form.querySelector(".form-error");
      const problem =
        [...a].length < MIN_CHARS
          ? `Mật khẩu phải có ít nhất ${MIN_CHARS} ký tự (the passphrase needs at least ${MIN_CHARS} characters)`
          : a !== b
            ? "Hai lần nhập mật khẩu không giống nhau (the two entries differ)"
            : null;
      fill(bad, problem);
      bad.classList.toggle("hidden", !problem);
      if (problem) return;
      form.querySelector("button").disabled = true;
      await this.start(cer, a);
    });
    return form;
  }

  note(key, text) {
    this.notes.set(key, text);
    this.render();
  }

  async start(cer, passphrase) {
    const cid = cer.spec.ceremony_id;
    const key = `ceremony:${cid}`;
    try {
      const seed = newSeed();
      const record = await sealSeed(cer.spec, this.me, seed, passphrase, { onProgress: (p) => this.note(key, `Đang khóa bằng mật khẩu… ${percent(p)}`) });
      // Kept before anything is sent: a reload right after publishing can go on from the same secrets.
      const kept = await this.store.put("dkg", cid, record);
      this.local.set(cid, { seed: record, share: null });
      this.passphrases.set(cid, passphrase);
      this.devices.set(cid, new CeremonyDevice(cer.spec, this.me, seed));
      this.notes.delete(key);
      if (!kept) this.volatile.add(cid); // no IndexedDB (a private window): only this page holds the secrets
    } catch (err) {
      this.errors.set(key, err);
    }
    this.render();
  }

  unlockView(cer, record) {
    const cid = cer.spec.ceremony_id;
    const form = h(
      "form",
      { class: "passphrase-form", dataset: { form: "unlock" } },
      h("p", {}, "Phiên tạo khóa đang dở trên thiết bị này. Nhập mật khẩu đã chọn để tiếp tục."),
      passField(`pu-${cid}`, "Mật khẩu", "current-password"),
      h("div", { class: "form-error" }),
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Tiếp tục tạo khóa")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = form.querySelector("button");
      const passphrase = nfc(form.querySelector("input").value);
      button.disabled = true;
      fill(form.querySelector(".form-error"), h("p", { class: "muted", role: "status" }, "Đang mở khóa…"));
      try {
        const seed = await openSeed(record, passphrase);
        this.passphrases.set(cid, passphrase);
        this.devices.set(cid, new CeremonyDevice(cer.spec, this.me, seed));
        this.render();
      } catch (err) {
        fill(form.querySelector(".form-error"), errorBanner(err));
        button.disabled = false;
      }
    });
    return form;
  }

  /** Send what the state allows next; finish when every complaint list and the server's keys are in. */
  async advance(cer) {
    const cid = cer.spec.ceremony_id;
    const key = `ceremony:${cid}`;
    if (this.busy.has(key)) return;
    this.busy.add(key);
    const device = this.devices.get(cid);
    let changed = false; // redraw only then: render() calls advance(), which would otherwise recurse without end
    try {
      for (;;) {
        const now = this.state.ceremonies.by_id[cid];
        const cmd = device.next(now);
        if (!cmd) break;
        this.note(key, `Đang gửi bước ${STEP_HEAD[cmd.step].toLowerCase()}…`);
        try {
          // No timeout: kept and sent again with the same id after a reconnect (answered once by the server).
          await this.live.run(cmd, { timeoutMs: null });
        } catch (err) {
          // Sent before a reload whose answer was lost: the server has it, which is all that matters.
          if (!(err instanceof ApiError && err.code === "ceremony_step" && /already sent/.test(err.message_en || ""))) throw err;
        }
        this.notes.delete(key);
        changed = true;
      }
      const now = this.state.ceremonies.by_id[cid];
      if (device.ready(now)) {
        changed = true;
        await this.finish(now, device);
      }
    } catch (err) {
      changed = true;
      this.errors.set(key, err);
      this.devices.delete(cid);
      this.passphrases.delete(cid);
    } finally {
      this.busy.delete(key);
    }
    if (changed) this.render();
  }

  async finish(cer, device) {
    const cid = cer.spec.ceremony_id;
    const key = `ceremony:${cid}`;
    let share;
    try {
      share = device.finish(cer);
    } catch (err) {
      if (/disqualified/.test(err.message)) {
        this.devices.delete(cid);
        await this.store.delete("dkg", cid);
        this.local.set(cid, { seed: null, share: null });
        return;
      }
      throw err;
    }
    const file = await sealKeyShare(share, this.passphrases.get(cid), { onProgress: (p) => this.note(key, `Đang khóa phần khóa bằng mật khẩu… ${percent(p)}`) });
    await this.store.put("shares", cid, file);
    await this.store.delete("dkg", cid); // the seed decrypts nothing now, but the share is what is kept
    this.local.set(cid, { seed: null, share: file });
    this.devices.delete(cid);
    this.passphrases.delete(cid);
    this.notes.delete(key);
  }

  doneView(cer, file) {
    const fp = fingerprintGroups(file.fingerprint);
    return h(
      "div",
      { class: "ceremony-done" },
      h("p", { class: "banner ok", role: "status" }, "Đã tạo xong khóa: phần khóa của bạn được giữ trên thiết bị này, khóa bằng mật khẩu của bạn."),
      h("p", {}, "Dấu vân tay khóa chung (ghi vào biên bản):"),
      h("p", { class: "fingerprint", "aria-label": `Dấu vân tay ${fp}` }, fp),
      h("p", { class: "muted" }, "Đọc to để so với các thành viên khác. Nếu có người đọc khác, dừng lại và báo Chủ tọa."),
      h(
        "div",
        { class: "actions" },
        h("button", { class: "primary", type: "button", id: `backup-${cer.spec.ceremony_id}`, onclick: () => this.download(file) }, "Tải tệp sao lưu khóa"),
      ),
      h("small", {}, "Cất tệp sao lưu ngoài máy tính bảng (USB, máy tính cá nhân): nó mở được bằng chính mật khẩu của bạn trên thiết bị khác."),
    );
  }

  download(file) {
    const blob = new Blob([JSON.stringify(file, null, 2)], { type: "application/json" });
    const a = h("a", { href: URL.createObjectURL(blob), download: `khoa-ban-kiem-phieu-${file.ceremony_id}-thanh-vien-${file.member}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  restoreView(cer, why, where = "") {
    const cid = cer.spec.ceremony_id;
    const id = `restore-${cid}${where}`; // the ceremony's card and a decryption task may both offer it
    const input = h("input", { type: "file", id, accept: ".json,application/json" });
    const out = h("div", { class: "form-error" });
    input.addEventListener("change", async () => {
      try {
        const file = JSON.parse(await input.files[0].text());
        this.checkBackup(cer, file);
        await this.store.put("shares", cid, file);
        this.local.set(cid, { seed: null, share: file });
        this.render();
      } catch (err) {
        fill(out, errorBanner(err instanceof SyntaxError ? new KeyStoreError("Tệp khóa không đúng định dạng", "the key file is not in the expected format") : err));
      }
    });
    return h(
      "div",
      { class: "restore" },
      h("p", { class: "banner warn" }, why, " Nếu có tệp sao lưu khóa, khôi phục để giải mã trên thiết bị này."),
      h("label", { for: id }, "Khôi phục từ tệp sao lưu"),
      input,
      out,
    );
  }

  /** The backup belongs to this ceremony, this member and the keys the server announced (its secret: at use). */
  checkBackup(cer, file) {
    const index = memberIndex(cer.spec, this.me);
    if (!file || file.version !== "kyhop-keyshare-v1") throw new KeyStoreError("Tệp khóa không đúng định dạng", "the key file is not in the expected format");
    if (file.ceremony_id !== cer.spec.ceremony_id) {
      throw new KeyStoreError(`Tệp sao lưu của phiên tạo khóa ${file.ceremony_id}, không phải ${cer.spec.ceremony_id}`, "the backup is of another ceremony");
    }
    if (file.member !== index) throw new KeyStoreError("Tệp sao lưu là của thành viên khác, không phải tài khoản này", "the backup is another member's");
    if (file.joint_key !== cer.keys.joint_key || file.fingerprint !== cer.keys.fingerprint) {
      throw new KeyStoreError("Khóa trong tệp sao lưu khác khóa chung của phiên", "the backup's joint key is not the ceremony's");
    }
  }

  // --- certification -----------------------------------------------------------------------------------------------

  renderTarget(task, t) {
    const key = `${t.kind}:${t.id}`;
    const cer = this.state.ceremonies.by_id[t.item.ceremony_id];
    const needed = cer.keys.threshold;
    const sent = Object.keys(t.item.partials || {});
    task.progress(
      h("p", {}, h("span", { class: "pill warn" }, "chờ Ban kiểm phiếu giải mã"), ` ${t.item.ballots.length} phiếu · ${sent.length}/${needed} phần giải mã cần thiết đã gửi`),
      this.notes.get(key) ? h("p", { class: "muted task-note", role: "status" }, this.notes.get(key)) : null,
    );
    const local = this.kept(cer.spec.ceremony_id);
    const index = memberIndex(cer.spec, this.me);
    const err = this.errors.get(key);
    // Redrawn as more partials arrive: the count in the banner is the server's.
    if (sent.includes(this.me)) {
      return task.action(`sent:${sent.length}`, () => h("p", { class: "banner ok decrypt-sent", role: "status" }, `Đã gửi phần giải mã — ${sent.length}/${needed} cần thiết`));
    }
    if (cer.keys.disqualified.includes(index)) {
      return task.action("disqualified", () => h("p", { class: "banner bad" }, "Bạn đã bị loại khỏi phiên tạo khóa: không thể giải mã lượt này."));
    }
    if (local === undefined) return task.action("loading", () => h("p", { class: "muted" }, "Đang đọc dữ liệu trên máy…"));
    if (!local.share) return task.action("noshare", () => this.restoreView(cer, "Thiết bị này không giữ phần khóa của bạn để giải mã.", `-${t.kind}-${t.id}`));
    if (this.busy.has(key)) return;
    task.action(`ask:${err ? say(err).join() : ""}`, () => this.decryptView(t, local.share, err));
  }

  decryptView(t, file, err) {
    const key = `${t.kind}:${t.id}`;
    const form = h(
      "form",
      { class: "passphrase-form", dataset: { form: "decrypt" } },
      h("p", {}, "Nhập mật khẩu phần khóa: thiết bị kiểm tra từng phiếu, cộng lại và giải mã phần của bạn trong tổng số."),
      passField(`pd-${key}`, "Mật khẩu", "current-password"),
      err ? errorBanner(err) : null,
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Giải mã kết quả")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      form.querySelector("button").disabled = true;
      await this.decrypt(t, file, nfc(form.querySelector("input").value));
    });
    return form;
  }

  async decrypt(t, file, passphrase) {
    const key = `${t.kind}:${t.id}`;
    this.busy.add(key);
    this.errors.delete(key);
    try {
      const share = await openKeyShare(file, passphrase, { onProgress: (p) => this.note(key, `Đang mở khóa… ${percent(p)}`) });
      const fresh = decryptTargets(this.state, this.me).find((x) => x.kind === t.kind && x.id === t.id) || t;
      const cmd = await partialCommand(this.state, fresh, share, (done, all) => this.note(key, `${done}/${all} phiếu đã kiểm tra`));
      this.note(key, `${fresh.item.ballots.length}/${fresh.item.ballots.length} phiếu đã kiểm tra · đang gửi phần giải mã…`);
      await this.live.run(cmd, { timeoutMs: null });
      this.notes.set(key, `${fresh.item.ballots.length}/${fresh.item.ballots.length} phiếu đã kiểm tra`);
    } catch (err) {
      this.errors.set(key, err);
      this.notes.delete(key);
    } finally {
      this.busy.delete(key);
    }
    const task = this.tasks.get(key);
    if (task) task.phase = null; // rebuilt: the form again (with the error) or the "sent" banner
    this.render();
  }
}
