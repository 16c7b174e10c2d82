// The delegate's verifiable secret ballot on the tablet (issue 13 §1 "Casting"; docs/BALLOT-CRYPTO.md §6, §13.2).
//
// The choice is encrypted in this browser (js/ballotcrypto.js `encryptBallot`, with the context clients/ballots.py
// builds: council, session, round id, option keys — or officials and levels — joint key, fingerprint) and only the
// encrypted ballot goes to the server (`vote_cast_encrypted` / `poll_cast_encrypted`). Its short tracker is the
// receipt, kept on the device per account and round; once the result is published the tablet fetches the public
// board and looks for it. "Kiểm tra mã hóa" is the Benaloh challenge: a ballot encrypted as for casting, opened
// here with its nonces (spoil/audit) and thrown away; the ballot then cast is encrypted afresh.
//
// A ballot is encrypted once per cast: the command that carries it is kept on the device while in flight
// (js/offline.js) and goes again after a reload under the same command id with the same ballot — never a new
// encryption for the same command.

import { MARK, POLL_LEVELS, h } from "./ui.js";

// The crypto (@noble/*, ~250 KB) is loaded by the first verifiable round only: a tablet in a session of sealed
// ballots never fetches it.
let loading = null;
function bc() {
  loading = loading || import("./ballotcrypto.js");
  return loading;
}

const STORE = "kyhop.trackers"; // localStorage: one entry per account and session, {"round:id": [tracker hex…]}
// Lets "Đang mã hóa phiếu…" paint before the proofs block the page: a 3-option vote ballot takes ~31 ms, a
// 10-official poll ~317 ms on a CPU throttled 4× (make bench BENCH_ARGS="--only crypto-browser", medians).
const PAINT_MS = 30;

const paint = () => new Promise((resolve) => setTimeout(resolve, PAINT_MS));

export const isVerifiable = (x) => !!x && x.mode === "verifiable";

/** The round's context (js/ballotcontext.js, loaded with the crypto). */
let contextModule = null;
async function contextOf(state, kind, x) {
  contextModule = contextModule || import("./ballotcontext.js");
  return (await contextModule).sessionContext(state, kind, x);
}

/** A modal with three ways out: "ok" (cast), "check" (Benaloh), "cancel". */
function choiceBox(title, body, okLabel) {
  return new Promise((resolve) => {
    const dlg = h(
      "dialog",
      { class: "confirm secret-choice" },
      h("h2", {}, title),
      body,
      h(
        "p",
        { class: "muted" },
        "Phiếu được mã hóa ngay trên máy này trước khi gửi: máy chủ không biết bạn chọn gì. ",
        "«Kiểm tra mã hóa» tạo một phiếu thử, mở ra ngay trên máy để bạn thấy phiếu ghi đúng lựa chọn, rồi hủy phiếu đó (không gửi).",
      ),
      h(
        "div",
        { class: "row actions" },
        h("button", { class: "primary", value: "ok", onclick: () => dlg.close("ok") }, okLabel),
        h("button", { value: "check", class: "secret-check", onclick: () => dlg.close("check") }, "Kiểm tra mã hóa"),
        h("button", { value: "cancel", onclick: () => dlg.close("cancel") }, "Quay lại"),
      ),
    );
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue || "cancel");
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** A result dialog for the Benaloh check; resolves "ok" (cast now, freshly encrypted) or "cancel". */
function checkBox(okLabel) {
  const body = h("div", { class: "secret-check-body", role: "status" }, h("p", { class: "banner info" }, "Đang mã hóa phiếu thử…"));
  const ok = h("button", { class: "primary", value: "ok", disabled: true }, okLabel);
  const dlg = h(
    "dialog",
    { class: "confirm secret-check-result" },
    h("h2", {}, "Kiểm tra mã hóa (phiếu thử)"),
    body,
    h("div", { class: "row actions" }, ok, h("button", { value: "cancel", onclick: () => dlg.close("cancel") }, "Quay lại")),
  );
  ok.addEventListener("click", () => dlg.close("ok"));
  const done = new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue || "cancel");
      dlg.remove();
    });
  });
  document.body.append(dlg);
  dlg.showModal();
  return { dlg, body, ok, done };
}

const sameChoices = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export class SecretBallots {
  /**
   * @param live the page's protocol client (js/live.js)
   * @param owner account and session ("username@session"): whose trackers these are
   * @param me the delegate id
   * @param render redraws the page (after a local step: encrypting, a board fetched)
   */
  constructor({ live, owner, sessionId, me, render, act }) {
    this.live = live;
    this.owner = owner;
    this.sessionId = sessionId;
    this.me = me;
    this.render = render;
    this.act = act;
    this.version = 0; // bumped on every local change: part of the tablet's redraw keys
    this.busy = new Map(); // "round:id" -> "encrypting" | error text
    this.boards = new Map(); // "round:id" -> {status: "loading" | "found" | "missing" | "error", detail}
    this.lastCheck = null; // the last Benaloh check on this page: {tracker, ok, text} (tests, debugging)
    this.c = null; // js/ballotcrypto.js once loaded
    this.forgetOthers();
  }

  /** A shared device keeps only the signed-in account's trackers (as js/offline.js keepOnly does its state). */
  forgetOthers() {
    const mine = `${STORE}.${this.owner.slice(0, this.owner.lastIndexOf("@"))}@`;
    try {
      for (const k of Object.keys(localStorage)) if (k.startsWith(`${STORE}.`) && !k.startsWith(mine)) localStorage.removeItem(k);
    } catch {
      // No storage: nothing kept.
    }
  }

  /** The crypto if loaded; else starts loading it and redraws once it is there. */
  ready() {
    if (!this.c) {
      bc().then(
        (c) => {
          if (this.c) return;
          this.c = c;
          this.changed();
        },
        () => {}, // not served (offline before it was ever loaded): the receipt shows the full tracker
      );
    }
    return this.c;
  }

  short(tracker) {
    const c = this.ready();
    return c ? c.shortTracker(tracker) : tracker;
  }

  changed() {
    this.version += 1;
    this.render();
  }

  // --- trackers kept on the device ------------------------------------------------------------------------------------
  kept() {
    try {
      return JSON.parse(localStorage.getItem(`${STORE}.${this.owner}`) || "{}");
    } catch {
      return {};
    }
  }

  /** Every tracker encrypted and sent for this round from this device, oldest first. */
  trackers(kind, id) {
    return this.kept()[`${kind}:${id}`] || [];
  }

  remember(kind, id, tracker) {
    const all = this.kept();
    const k = `${kind}:${id}`;
    all[k] = [...(all[k] || []).filter((t) => t !== tracker), tracker];
    try {
      localStorage.setItem(`${STORE}.${this.owner}`, JSON.stringify(all));
    } catch {
      // Full or private: the receipt from the server (the round's `receipts`) still shows it.
    }
  }

  /**
   * This delegate's tracker for the round: the ballot in flight; else the server's receipt if this device sent
   * it (or kept nothing); else the last one this device sent — its own record is what it looks for on the board.
   */
  trackerOf(kind, x) {
    const sent = this.inFlight(kind, x.id);
    if (sent) return sent.ballot.tracker;
    const kept = this.trackers(kind, x.id);
    const receipt = x.receipts[0] || null;
    if (receipt && (!kept.length || kept.includes(receipt))) return receipt;
    if (kept.length && (receipt || x.voted.includes(this.me))) return kept[kept.length - 1];
    return receipt;
  }

  /** The server's receipt is no ballot this device encrypted (it kept some): say so, loudly. */
  mismatch(kind, x) {
    const kept = this.trackers(kind, x.id);
    const receipt = x.receipts[0];
    if (!receipt || !kept.length || kept.includes(receipt)) return null;
    return h(
      "div",
      { class: "banner bad receipt-mismatch", role: "alert" },
      h("strong", {}, "Mã biên nhận máy chủ gửi về không phải mã của phiếu máy này đã mã hóa — báo ngay Ban kiểm phiếu."),
      h("p", { lang: "en" }, "The server's receipt is not the tracker of the ballot this tablet encrypted — tell the counting committee now."),
    );
  }

  inFlight(kind, id) {
    const [type, field] = kind === "round" ? ["vote_cast_encrypted", "round_id"] : ["poll_cast_encrypted", "poll_id"];
    const p = this.live.pendingCommands().find((c) => c.command.type === type && c.command[field] === id);
    return p ? p.command : null;
  }

  // --- casting --------------------------------------------------------------------------------------------------------
  /**
   * The whole path from a tap to a cast ballot: the choice dialog (cast / check / back); a check encrypts, opens
   * and throws away a test ballot, then offers to cast; a cast encrypts afresh and sends.
   * @param choices the boxes (voteChoices / pollChoices), computed by `choicesOf(c, ctx)`
   * @param describe (boxes) -> what a ballot with these boxes says, one line per question
   */
  async cast(state, kind, x, { title, body, okLabel, choicesOf, describe }) {
    const answer = await choiceBox(title, body, okLabel);
    if (answer === "cancel") return;
    if (answer === "check" && (await this.challenge(state, kind, x, choicesOf, describe, okLabel)) !== "ok") return;
    await this.send(state, kind, x, choicesOf);
  }

  async challenge(state, kind, x, choicesOf, describe, okLabel) {
    const box = checkBox(`${okLabel} (phiếu mới)`);
    await paint();
    let result;
    try {
      const c = await bc();
      const ctx = await contextOf(state, kind, x);
      const choices = choicesOf(c, ctx);
      const { ballot, nonces } = c.encryptBallot(ctx, choices);
      this.c = c;
      // Opened from what would be published ({ballot, choices, nonces}), as anyone could open it.
      const opened = c.audit(ctx, JSON.parse(JSON.stringify(c.spoil(ballot, choices, nonces))));
      const ok = sameChoices(opened, choices);
      const lines = describe(opened);
      result = { tracker: c.shortTracker(ballot.tracker), ok, lines, text: lines.join("; ") };
    } catch (e) {
      result = { tracker: null, ok: false, lines: [], text: "", error: String(e && e.message ? e.message : e) };
    }
    this.lastCheck = result;
    box.body.replaceChildren(
      result.tracker ? h("p", {}, "Mã phiếu thử: ", h("strong", { class: "tracker" }, result.tracker)) : null,
      result.ok
        ? h(
            "div",
            { class: "banner ok check-ok" },
            "Phiếu thử được mã hóa đúng lựa chọn: ",
            result.lines.length === 1 ? h("strong", {}, result.lines[0]) : h("ul", {}, result.lines.map((l) => h("li", {}, h("strong", {}, l)))),
          )
        : h(
            "div",
            { class: "banner bad check-bad" },
            h("strong", {}, "Phiếu thử KHÔNG khớp lựa chọn của bạn", result.text ? ` (phiếu ghi: ${result.text})` : "", ". Đừng bỏ phiếu trên máy này — báo ngay Ban kiểm phiếu."),
            h("p", { lang: "en" }, "The test ballot does not open to your choice. Do not vote on this device; tell the counting committee now.", result.error ? ` (${result.error})` : ""),
          ),
      h(
        "p",
        { class: "muted" },
        "Phiếu thử này đã bị hủy: không gửi đi, không được đếm. Khi bạn bỏ phiếu thật, lựa chọn được mã hóa lại với số ngẫu nhiên mới, nên mã phiếu sẽ khác mã phiếu thử.",
      ),
    );
    box.ok.disabled = !result.ok;
    box.ok.focus();
    return box.done;
  }

  async send(state, kind, x, choicesOf) {
    const k = `${kind}:${x.id}`;
    this.busy.set(k, "encrypting");
    this.changed();
    await paint();
    let command;
    try {
      const c = await bc();
      const ctx = await contextOf(state, kind, x);
      const { ballot } = c.encryptBallot(ctx, choicesOf(c, ctx));
      command =
        kind === "round"
          ? { type: "vote_cast_encrypted", round_id: x.id, delegate_id: this.me, ballot }
          : { type: "poll_cast_encrypted", poll_id: x.id, delegate_id: this.me, ballot };
      // Kept before it leaves: a reload right after the send still knows which tracker to look for.
      this.remember(kind, x.id, ballot.tracker);
    } catch (e) {
      this.busy.set(k, `Không mã hóa được phiếu (could not encrypt the ballot): ${e && e.message ? e.message : e}`);
      this.changed();
      return;
    }
    // Pending (and kept on the device) from here: the card shows it "đang gửi" with its tracker.
    const answer = this.live.run(command, { timeoutMs: null });
    this.busy.delete(k);
    this.changed();
    await this.act(null, () => answer, kind === "round" ? "Phiếu đã được ghi nhận." : "Phiếu tín nhiệm đã được ghi nhận.");
  }

  /** Redraw key of a round or poll: what this module shows of it. */
  key(kind, x) {
    // Only this round's or poll's own things: a poll's form holds the delegate's ticks until it is redrawn.
    const k = `${kind}:${x.id}`;
    const tracker = this.trackerOf(kind, x);
    const board = this.boards.get(k);
    const status = board ? board.status : null;
    return [x.mode, x.status, this.busy.get(k) || null, status, !!this.inFlight(kind, x.id), tracker, x.receipts[0], !!tracker && !!this.c];
  }

  encrypting(kind, id) {
    return this.busy.get(`${kind}:${id}`) === "encrypting";
  }

  // --- what the cards show --------------------------------------------------------------------------------------------
  /** "Đang mã hóa phiếu…", or the encryption's failure, while nothing is in flight yet. */
  busyView(kind, id) {
    const b = this.busy.get(`${kind}:${id}`);
    if (!b) return null;
    return b === "encrypting"
      ? h("p", { class: "banner info encrypting", role: "status" }, h("strong", {}, "Đang mã hóa phiếu…"), " Vui lòng chờ, không đóng trang.")
      : h("p", { class: "banner bad", role: "alert" }, b);
  }

  receiptView(tracker, short) {
    return h(
      "div",
      { class: "tracker-receipt", dataset: { tracker } },
      h("p", {}, "Mã phiếu của bạn: ", h("strong", { class: "tracker" }, short)),
      h(
        "small",
        {},
        "Mã này không cho biết bạn chọn gì. Ghi lại hoặc chụp màn hình: khi có kết quả, máy sẽ tìm mã này trên bảng công khai để chắc chắn phiếu của bạn đã được đếm; bất kỳ ai cũng có thể kiểm chứng tại trang Kiểm chứng.",
      ),
    );
  }

  /** The receipt with the short tracker (a list of elements: the children of a card). */
  receipt(kind, x) {
    const t = this.trackerOf(kind, x);
    return t ? [this.mismatch(kind, x), this.receiptView(t, this.short(t))] : [];
  }

  /** An open verifiable round: the options (tap → choice dialog), or where the ballot is. */
  voteCard(state, r, head, reason) {
    this.ready(); // loaded while the delegate reads the motion, not after the tap (no redraw: not in the key)
    const voted = r.voted.includes(this.me);
    const sending = this.inFlight("round", r.id);
    const busy = this.busy.get(`round:${r.id}`);
    const note = h("p", { class: "muted" }, "Bỏ phiếu kín có thể kiểm chứng: phiếu được mã hóa trên máy này.");
    if (voted || sending) {
      const cls = voted ? "ballot done verifiable" : "ballot sending verifiable";
      return h(
        "div",
        { class: cls, dataset: { round: r.id } },
        head,
        voted
          ? h("p", { class: "banner ok", role: "status" }, "Đã ghi nhận phiếu (đã mã hóa) của bạn.")
          : h("p", { class: "banner warn sending", role: "status" }, h("strong", {}, "Đang gửi phiếu đã mã hóa…"), " ", this.live.online ? "Chờ máy chủ ghi nhận." : "Mất kết nối: phiếu sẽ tự gửi lại khi có mạng — không cần bấm lại, đừng đóng trang này."),
        this.receipt("round", r),
      );
    }
    return h(
      "div",
      { class: "ballot verifiable", dataset: { round: r.id } },
      head,
      note,
      this.busyView("round", r.id),
      reason
        ? h("p", { class: "banner warn" }, reason)
        : r.options.map((o, i) =>
            h(
              "button",
              {
                class: `big ${i === 0 ? "ok" : ""}`,
                dataset: { option: o.key },
                disabled: busy === "encrypting",
                onclick: () => this.castVote(state, r, o),
              },
              o.label,
            ),
          ),
    );
  }

  castVote(state, r, option) {
    const label = (key) => (r.options.find((o) => o.key === key) || { label: key }).label;
    return this.cast(state, "round", r, {
      title: "Xác nhận phiếu biểu quyết",
      body: h(
        "div",
        {},
        h("p", {}, "Nội dung: ", h("strong", {}, r.motion)),
        h("p", {}, "Bạn chọn: ", h("strong", { class: "choice" }, option.label)),
        h("p", { class: "banner warn" }, "Phiếu đã gửi là phiếu cuối cùng, không thể biểu quyết lại."),
      ),
      okLabel: `Gửi phiếu: ${option.label}`,
      choicesOf: (c, ctx) => c.voteChoices(ctx.spec, option.key),
      describe: (boxes) => {
        const k = boxes[0].indexOf(1);
        return [k < 0 ? "không chọn" : label(r.options[k].key)];
      },
    });
  }

  /** A verifiable confidence poll: `marks` official id -> [level] or [] (as the tablet's form gives them). */
  castPoll(state, p, marks, body) {
    const levels = Object.fromEntries(p.officials.map((o) => [o.id, marks[o.id] && marks[o.id].length ? marks[o.id][0] : null]));
    return this.cast(state, "poll", p, {
      title: "Xác nhận phiếu tín nhiệm",
      body,
      okLabel: "Gửi phiếu",
      choicesOf: (c, ctx) => c.pollChoices(ctx.spec, levels),
      describe: (boxes) =>
        p.officials.map((o, i) => {
          const k = boxes[i].indexOf(1);
          return `${o.name}: ${k < 0 ? "không đánh dấu" : MARK[POLL_LEVELS[p.kind][k]] || POLL_LEVELS[p.kind][k]}`;
        }),
    });
  }

  /** A verifiable poll's extra lines: encrypting, the receipt, waiting for the committee, the board check. */
  pollParts(state, p) {
    this.ready();
    const parts = [this.busyView("poll", p.id)];
    if (p.voted.includes(this.me) || this.inFlight("poll", p.id)) parts.push(...this.receipt("poll", p));
    if (p.status === "counted") parts.push(waitingView());
    if (p.status === "certified") parts.push(this.boardCheck("poll", p));
    return parts;
  }

  /** Closed verifiable rounds waiting for the committee's partial decryptions. */
  countingCards(state) {
    return Object.values(state.votes.rounds)
      .filter((r) => isVerifiable(r) && r.status === "counted")
      .map((r) =>
        h(
          "div",
          { class: "ballot counting verifiable", dataset: { round: r.id } },
          h("p", {}, h("strong", {}, r.motion)),
          waitingView(),
          r.voted.includes(this.me) ? this.receipt("round", r) : null,
        ),
      );
  }

  countingKey(state) {
    return Object.values(state.votes.rounds)
      .filter((r) => isVerifiable(r) && r.status === "counted")
      .map((r) => [r.id, this.trackerOf("round", r), !!this.c]);
  }

  // --- after the result: is my ballot on the board? --------------------------------------------------------------------
  boardUrl(kind, id) {
    const s = encodeURIComponent(this.sessionId);
    return `/api/sessions/${s}/${kind === "round" ? "rounds" : "polls"}/${encodeURIComponent(id)}/board`;
  }

  verifyLink(kind, id) {
    const params = new URLSearchParams({ session: this.sessionId, [kind === "round" ? "round" : "poll"]: id });
    return h("a", { class: "verify-link", href: `verify.html?${params}`, target: "_blank", rel: "noopener" }, "Kiểm chứng");
  }

  async fetchBoard(kind, x, tracker) {
    const k = `${kind}:${x.id}`;
    let out;
    try {
      const res = await fetch(this.boardUrl(kind, x.id));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const board = await res.json();
      const found = board.ballots.some((b) => b.tracker === tracker);
      // Counted: the board's result adds up exactly its ballots (the verifier page checks every proof and sum).
      out = { status: found && board.result.ballots === board.ballots.length ? "found" : "missing", tracker };
    } catch (e) {
      out = { status: "error", tracker, detail: String(e && e.message ? e.message : e) };
    }
    this.boards.set(k, out);
    this.changed();
  }

  /** "On the board and counted ✓" or a loud warning, with the link to the public verifier. */
  boardCheck(kind, x) {
    const tracker = this.trackerOf(kind, x);
    const link = this.verifyLink(kind, x.id);
    if (!tracker) return h("p", { class: "board-check muted" }, "Kết quả có thể kiểm chứng: ", link);
    const k = `${kind}:${x.id}`;
    let b = this.boards.get(k);
    if (!b || (b.status === "error" && !b.retried && this.live.online)) {
      if (b) b.retried = true; // one more try once online; the link stays for the rest
      else this.boards.set(k, { status: "loading" });
      this.fetchBoard(kind, x, tracker);
      b = this.boards.get(k);
    }
    const short = this.short(tracker);
    const data = { dataset: { [kind]: x.id, board: b.status } };
    if (b.status === "found") {
      return h(
        "div",
        { class: "banner ok board-check", ...data },
        h("strong", {}, "Phiếu của bạn có trên bảng công khai và đã được đếm ✓"),
        h("small", { lang: "en" }, " Your ballot is on the public board and was counted."),
        h("br"),
        "Mã phiếu: ",
        h("span", { class: "tracker" }, short),
        " · ",
        link,
      );
    }
    if (b.status === "missing") {
      return h(
        "div",
        { class: "banner bad board-check", role: "alert", ...data },
        h("strong", {}, "Không thấy phiếu của bạn — báo ngay Ban kiểm phiếu"),
        h("p", { lang: "en" }, "Your ballot is not on the public board — tell the counting committee now."),
        "Mã phiếu: ",
        h("span", { class: "tracker" }, short),
        " · ",
        link,
      );
    }
    return h(
      "div",
      { class: "banner info board-check", ...data },
      b.status === "loading" ? "Đang tìm phiếu của bạn trên bảng công khai…" : `Chưa tải được bảng công khai (${b.detail}); thử lại bằng liên kết: `,
      " ",
      link,
    );
  }
}

function waitingView() {
  return h(
    "p",
    { class: "banner info waiting-decryption", role: "status" },
    h("strong", {}, "Đang chờ Ban kiểm phiếu giải mã"),
    " — đã khóa hòm phiếu; kết quả có khi đủ số thành viên Ban kiểm phiếu giải mã tổng số phiếu (không ai giải mã từng phiếu).",
  );
}
