// The counting committee's key ceremony as the chair runs it (issue 13 §1, docs/BALLOT-CRYPTO.md §5): the chair
// picks the members by name and the decryption threshold, starts `ceremony_start`, and follows each member's
// three steps (công bố, chia khóa, khiếu nại) from the public `ceremony_message` events the state keeps. On
// completion the console shows the fingerprint's first 32 hex characters, which every member's device also shows:
// the members compare them aloud and the secretariat writes them in the minutes (a server that gave two members
// different transcripts is caught there). A ceremony where a member never publishes stalls for ever (no step has
// a deadline), so "Tạo lại" starts a new one with the same members; the old one is simply never used.

import { newId, serverNow } from "./api.js";
import { fill, h } from "./ui.js";
import { desk, keyed, nameWithSeat, run } from "./chair-common.js";
import { committeePicker } from "./chair-voteform.js";

const $ = (id) => document.getElementById(id);

const STEPS = [
  ["publish", "Công bố"],
  ["deal", "Chia khóa"],
  ["complain", "Khiếu nại"],
];

export const MODE_WORDS = {
  verifiable: "Phiếu kín kiểm chứng — máy tính bảng mã hóa, Ban kiểm phiếu giải mã",
  sealed: "Phiếu kín niêm phong",
};

/** The default threshold: a majority of the members, ⌊n/2⌋ + 1 (4 of 7, 2 of 3) — meeting/verifiable.py. */
export const majority = (n) => Math.floor(n / 2) + 1;

/** Every ceremony of the session, oldest first. */
export function ceremonies(state) {
  const byId = (state.ceremonies && state.ceremonies.by_id) || {};
  // By start time, then id: a ceremony from a log written before `started_at` existed has none and sorts first,
  // by id as before. (Parsed, not compared as text: RFC 3339 drops ".000000" when the microseconds are 0.)
  const at = (c) => (c.started_at ? Date.parse(c.started_at) : 0);
  return Object.values(byId).sort((a, b) => at(a) - at(b) || a.spec.ceremony_id.localeCompare(b.spec.ceremony_id));
}

/** The completed ceremonies, newest first: what a verifiable vote or poll can be opened with. */
export function completedCeremonies(state) {
  return ceremonies(state)
    .filter((c) => c.keys)
    .reverse();
}

export function ceremonyById(state, id) {
  return (state.ceremonies && state.ceremonies.by_id && state.ceremonies.by_id[id]) || null;
}

/** "3f9a 0c21 …": the first 32 hex characters in groups of 4, the part the members read out and compare. */
export function fingerprintShort(fp) {
  return (fp || "").slice(0, 32).replace(/(.{4})(?=.)/g, "$1 ");
}

function name(state, id) {
  const d = state.hall.delegates[id];
  return d ? nameWithSeat(d) : id;
}

/**
 * "bkp-20261209-093112345-4f2a": sortable by start time to the millisecond on the server's clock (a "Tạo lại" in
 * the same minute must sort after the ceremony it replaces), unique by its random tail; far under the 100-character
 * id limit. The state keeps ceremonies by id with no start time, so the id carries the order.
 */
function newCeremonyId() {
  const t = new Date(serverNow()).toISOString().replace(/[-:.]/g, "").slice(0, 18).replace("T", "-");
  return `bkp-${t}-${newId().slice(0, 4)}`;
}

/** A one-line description of a completed ceremony, for the vote form's and the polls' pickers. */
export function ceremonyLabel(state, c) {
  const names = c.spec.members.map((m) => (state.hall.delegates[m] ? state.hall.delegates[m].name : m));
  return `Giải mã khi đủ ${c.spec.threshold}/${c.spec.members.length}: ${names.join(", ")} (vân tay ${fingerprintShort(c.keys.fingerprint).slice(0, 9)})`;
}

/**
 * A select of completed ceremonies (short labels: a select cuts long ones) with the chosen one's members in full
 * under it, kept in step. Returns {els, select}.
 */
export function ceremonySelect(state, list, { id, label, selected = "" }) {
  const members = h("p", { class: "muted ceremony-members", id: `${id}-members`, "aria-live": "polite" });
  const short = (c) => `Giải mã khi đủ ${c.spec.threshold}/${c.spec.members.length} · vân tay ${fingerprintShort(c.keys.fingerprint).slice(0, 9)}`;
  const select = h(
    "select",
    { id, "aria-describedby": `${id}-members` },
    list.map((c) => h("option", { value: c.spec.ceremony_id, selected: c.spec.ceremony_id === selected }, short(c))),
  );
  const show = () => {
    const c = list.find((x) => x.spec.ceremony_id === select.value);
    members.textContent = c ? `Ban kiểm phiếu: ${c.spec.members.map((m) => name(state, m)).join(", ")}.` : "";
  };
  select.addEventListener("change", show);
  show();
  return { select, els: [h("label", { for: id }, label), select, members] };
}

// --- starting a ceremony

/**
 * The dialog: the committee ticked by name, the threshold (default a majority, kept in 1…n), the rule's minimum.
 * Bad input is refused inside the dialog, which stays open, and nothing is sent.
 */
export function startDialog(state, chosen = [], threshold = null) {
  const min = state.hall.rules.committee_min;
  const picker = committeePicker(state, { min, chosen, idPrefix: "cer" });
  const input = h("input", { type: "number", id: "ceremony-threshold", min: "1", class: "narrow", "aria-describedby": "ceremony-threshold-note" });
  const note = h("p", { class: "muted", id: "ceremony-threshold-note" });
  const error = h("p", { class: "field-error", id: "ceremony-error", "aria-live": "polite" });
  let edited = threshold !== null;
  const sync = () => {
    const n = picker.chosen().length;
    input.max = String(Math.max(1, n));
    if (!edited) input.value = n ? String(majority(n)) : "";
    note.textContent = n
      ? `Cần ${input.value || "?"} trong ${n} thành viên giải mã thì mới có kết quả. Mặc định quá nửa: ${majority(n)}/${n}.`
      : "Mặc định quá nửa số thành viên (4 của 7).";
  };
  input.value = threshold === null ? "" : String(threshold);
  input.addEventListener("input", () => {
    edited = true;
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    sync();
  });
  picker.el.addEventListener("change", () => {
    error.textContent = "";
    sync();
  });
  sync();
  const dlg = h(
    "dialog",
    { class: "confirm ceremony-dialog", "aria-labelledby": "h-ceremony-new" },
    h("h2", { id: "h-ceremony-new" }, "Tạo khóa cho Ban kiểm phiếu"),
    h("p", { class: "muted" }, `Chọn thành viên Ban kiểm phiếu theo tên (quy chế: tối thiểu ${min} người). Máy tính bảng của từng thành viên cùng tạo khóa; không ai giữ cả khóa.`),
    picker.el,
    h("div", { class: "row" }, h("label", { class: "inline", for: "ceremony-threshold" }, "Số thành viên cần để giải mã"), input),
    note,
    error,
    h(
      "div",
      { class: "row actions" },
      h("button", { type: "button", class: "primary", id: "ceremony-start" }, "Bắt đầu tạo khóa"),
      h("button", { type: "button", onclick: () => dlg.close("cancel") }, "Quay lại"),
    ),
  );
  dlg.querySelector("#ceremony-start").addEventListener("click", (e) => {
    const members = picker.chosen();
    const t = Number(input.value);
    if (members.length < min) {
      error.textContent = `Ban kiểm phiếu cần ít nhất ${min} thành viên, mới chọn ${members.length}. (The committee needs at least ${min} members.)`;
      return;
    }
    if (!Number.isInteger(t) || t < 1 || t > members.length) {
      error.textContent = `Số thành viên cần để giải mã phải từ 1 đến ${members.length}. (The threshold must be 1 to ${members.length}.)`;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    const command = { type: "ceremony_start", ceremony_id: newCeremonyId(), members, threshold: t };
    const button = e.currentTarget;
    run(command, "Đã bắt đầu tạo khóa; các thành viên thực hiện trên máy tính bảng.", button).then((out) => {
      if (out) dlg.close("ok");
    });
  });
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

// --- the panel

function stepCell(c, member, step) {
  const done = !!(c.messages[step] && c.messages[step][member]);
  return h("td", { class: done ? "ok-text" : "muted", dataset: { step, done: String(done) } }, done ? "✓ đã gửi" : "chờ");
}

/** Who complained about whose share (a share that did not open): named, so the minutes can record it. */
function complaints(state, c) {
  const out = [];
  for (const [member, msg] of Object.entries(c.messages.complain || {})) {
    for (const k of (msg && msg.complaints) || []) {
      const dealer = c.spec.members[k.dealer - 1];
      if (dealer) out.push(`${name(state, member)} khiếu nại phần khóa của ${name(state, dealer)}`);
    }
  }
  return out;
}

function wrapSteps(c, table) {
  return c.keys ? h("details", { class: "ceremony-details" }, h("summary", {}, "Các bước của từng thành viên"), table) : table;
}

function ceremonyCard(state, c) {
  const n = c.spec.members.length;
  const disq = c.keys ? c.keys.disqualified.map((i) => c.spec.members[i - 1]).filter(Boolean) : [];
  const sent = STEPS.map(([s]) => Object.keys(c.messages[s] || {}).length);
  // The step under way: the first one not every member has sent (each waits for the one before, §5).
  const at = sent[0] < n ? 0 : sent[1] < n ? 1 : 2;
  const stage = STEPS[at][1].toLowerCase();
  const waiting = c.keys ? [] : c.spec.members.filter((m) => !(c.messages[STEPS[at][0]] || {})[m]);
  const said = complaints(state, c);
  return h(
    "div",
    { class: "card ceremony-card", dataset: { ceremony: c.spec.ceremony_id, done: String(!!c.keys) } },
    h(
      "p",
      {},
      h("span", { class: c.keys ? "pill ok" : "pill warn" }, c.keys ? "khóa đã tạo xong" : `đang tạo khóa: bước ${stage}`),
      ` Giải mã khi đủ ${c.spec.threshold}/${n} thành viên`,
      // A disqualified member holds no share: the threshold must be met by the others (docs/BALLOT-CRYPTO.md §5).
      disq.length ? ` (còn ${n - disq.length} người có thể giải mã)` : "",
    ),
    // Once complete, the steps fold away: the fingerprint is what the chair reads out then.
    wrapSteps(
      c,
      h(
        "table",
        { class: "ceremony-steps" },
        h("caption", { class: "sr-only" }, "Tiến độ tạo khóa của từng thành viên"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Thành viên"), STEPS.map(([, label]) => h("th", { scope: "col" }, label)))),
        h(
          "tbody",
          {},
          c.spec.members.map((m) =>
            h(
              "tr",
              { dataset: { member: m }, class: disq.includes(m) ? "disqualified" : "" },
              h("th", { scope: "row" }, name(state, m), disq.includes(m) ? h("strong", { class: "bad-text" }, " — bị loại") : null),
              STEPS.map(([s]) => stepCell(c, m, s)),
            ),
          ),
        ),
      ),
    ),
    waiting.length ? h("p", { class: "muted ceremony-waiting" }, `Đang chờ (${waiting.length}): ${waiting.map((m) => name(state, m)).join(", ")}.`) : null,
    said.length ? h("ul", { class: "plain ceremony-complaints" }, said.map((s) => h("li", {}, s))) : null,
    disq.length
      ? h("p", { class: "banner warn", id: "ceremony-disqualified" }, `Bị loại khỏi việc giải mã: ${disq.map((m) => name(state, m)).join(", ")} (phần khóa đã chia không hợp lệ).`)
      : null,
    c.keys
      ? h(
          "div",
          { class: "fingerprint" },
          h("span", { class: "muted" }, "Dấu vân tay khóa — để các thành viên so và ghi biên bản:"),
          h("code", { class: "fp", id: "ceremony-fingerprint", dataset: { fingerprint: c.keys.fingerprint } }, fingerprintShort(c.keys.fingerprint)),
        )
      : null,
  );
}

let seenNewest = null; // the newest ceremony id last drawn (null before the first draw)

export function renderCeremonies(state) {
  const box = $("ceremony-panel");
  if (!box) return;
  const all = ceremonies(state);
  const verifiable = state.hall.rules.secret_mode === "verifiable";
  box.classList.toggle("hidden", !verifiable && all.length === 0);
  const latest = all.length ? all[all.length - 1] : null;
  const names = latest ? latest.spec.members.map((m) => [m, state.hall.delegates[m] && state.hall.delegates[m].name]) : [];
  keyed($("ceremony-body"), [verifiable, all.map((c) => [c.spec.ceremony_id, !!c.keys]), latest && [latest.messages, latest.keys], names, state.hall.rules.committee_min], () => {
    const older = all.filter((c) => c !== latest && c.keys);
    fill(
      "#ceremony-body",
      latest
        ? ceremonyCard(state, latest)
        : h("p", { class: "muted", id: "ceremony-none" }, `Bỏ phiếu kín kiểm chứng cần Ban kiểm phiếu tạo khóa trước (tối thiểu ${state.hall.rules.committee_min} thành viên).`),
      older.length ? h("p", { class: "muted" }, `Khóa đã tạo trước đó: ${older.length} (chọn khi mở biểu quyết).`) : null,
      h(
        "div",
        { class: "row" },
        h(
          "button",
          {
            type: "button",
            id: latest ? "ceremony-again" : "ceremony-new",
            class: latest ? "" : "primary",
            onclick: () => startDialog(desk.live.state, latest ? latest.spec.members : [], latest ? latest.spec.threshold : null),
          },
          latest ? "Tạo lại…" : "Tạo khóa Ban kiểm phiếu…",
        ),
        latest && !latest.keys ? h("span", { class: "muted" }, "Tạo lại khi một thành viên không thể tiếp tục.") : null,
      ),
    );
  });
  // A ceremony just started: bring its progress into view.
  const newest = latest ? latest.spec.ceremony_id : "";
  if (seenNewest !== null && newest && newest !== seenNewest) box.scrollIntoView({ block: "nearest" });
  seenNewest = newest;
}

/** Bring the ceremony panel into view (the vote form's link when no ceremony is complete). */
export function showCeremonyPanel() {
  const box = $("ceremony-panel");
  if (!box) return;
  box.classList.remove("hidden");
  box.scrollIntoView({ block: "nearest" });
  const button = box.querySelector("button");
  if (button) button.focus();
}

// --- a verifiable round or poll after it closed: the committee decrypts, anyone verifies

/** "Kiểm chứng": the public verifier (verify.html) on this round's or poll's bulletin board. */
export function verifyLink(kind, id) {
  const params = new URLSearchParams({ session: desk.live.sessionId, [kind]: id });
  return h("a", { class: "verify-link", href: `verify.html?${params}`, target: "_blank", rel: "noopener", dataset: { verify: id } }, "Kiểm chứng");
}

/** "Chờ Ban kiểm phiếu giải mã: 2/4 cần thiết", and who has decrypted, by name (r.partials: member id → partial). */
export function decryptionProgress(state, target) {
  const c = ceremonyById(state, target.ceremony_id);
  const needed = c ? c.spec.threshold : "?";
  const done = Object.keys(target.partials || {});
  const order = c ? c.spec.members : done;
  const who = order.filter((m) => done.includes(m));
  return [
    h("p", { class: "partials-line", dataset: { accepted: String(done.length), needed: String(needed) } }, h("strong", {}, `Chờ Ban kiểm phiếu giải mã: ${done.length}/${needed} cần thiết`), "; kết quả có khi đủ."),
    h("p", { class: "muted partials-who" }, who.length ? `Đã giải mã: ${who.map((m) => name(state, m)).join(", ")}.` : "Chưa thành viên nào giải mã."),
  ];
}

/**
 * A draft poll in a council that counts secret ballots verifiably: the chair picks a completed ceremony; its
 * members become the poll's committee (`appoint_poll_committee`, unless they already are) and the poll opens
 * with it (`open_poll` mode + ceremony_id; meeting/polls.py requires committee = the ceremony's members). A
 * ceremony whose member is on the ballot cannot count it (`committee_on_ballot`): not offered.
 */
export function pollOpenControls(state, p) {
  const onBallot = new Set(p.officials.map((o) => o.delegate_id).filter(Boolean));
  const usable = completedCeremonies(state).filter((c) => !c.spec.members.some((m) => onBallot.has(m)));
  if (!usable.length) {
    return h(
      "p",
      { class: "banner warn", dataset: { noCeremony: p.id } },
      "Chưa có khóa Ban kiểm phiếu đã tạo xong (không ai có tên trong phiếu): chưa thể bắt đầu bỏ phiếu kiểm chứng. ",
      h("button", { type: "button", onclick: showCeremonyPanel }, "Đến phần tạo khóa"),
    );
  }
  const same = usable.find((c) => [...c.spec.members].sort().join() === [...p.committee].sort().join());
  const { select, els } = ceremonySelect(state, usable, { id: `poll-ceremony-${p.id}`, label: "Khóa của Ban kiểm phiếu", selected: same ? same.spec.ceremony_id : "" });
  const open = async (e) => {
    const button = e.currentTarget;
    const c = ceremonyById(desk.live.state, select.value);
    const members = c.spec.members;
    if ([...members].sort().join() !== [...p.committee].sort().join()) {
      const ok = await run({ type: "appoint_poll_committee", poll_id: p.id, members }, "", button);
      if (!ok) return;
    }
    await run({ type: "open_poll", poll_id: p.id, mode: "verifiable", ceremony_id: c.spec.ceremony_id }, "Đã bắt đầu bỏ phiếu kiểm chứng.", button);
  };
  return h(
    "div",
    { class: "poll-verifiable" },
    h("p", { class: "muted" }, `Cách kiểm phiếu: ${MODE_WORDS.verifiable}. Ban kiểm phiếu là các thành viên của khóa được chọn.`),
    els,
    h("div", { class: "row" }, h("button", { class: "primary", dataset: { openPoll: p.id }, onclick: open }, "Bắt đầu bỏ phiếu")),
  );
}
