// Opening a vote: the form (reset after every vote: a secret ballot never carries over to the next one), the
// counting committee picked by name, the chair's own validation in Vietnamese, and the summary the chair confirms
// before the round opens — the pass rule in words with the number of votes it needs in this hall.

import { newId } from "./api.js";
import { PASS_RULE, confirmBox, currentItem, fill, h } from "./ui.js";
import { attendanceLine, durationText, openRounds } from "./views.js";
import { desk, keyed, nameWithSeat, run, seatedDelegates } from "./chair-common.js";
import { MODE_WORDS, ceremonyById, ceremonyLabel, ceremonySelect, completedCeremonies, showCeremonyPanel } from "./chair-ceremony.js";

const $ = (id) => document.getElementById(id);

// meeting/rules.py PassRule.threshold, compared in integers as Threshold.minimum does: "more than half of 50" is
// exactly 26 and "two thirds of 50" exactly 34.
const THRESHOLD = {
  majority_of_all: { num: 1, den: 2, strict: true, base: "all" },
  two_thirds_of_all: { num: 2, den: 3, strict: false, base: "all" },
  majority_of_ballots: { num: 1, den: 2, strict: true, base: "ballots" },
};
// meeting/rules.py VoteKind.allowed_rules (Law 77/2015/QH13 art. 91(3), 102(3)).
const ALLOWED = {
  resolution: ["majority_of_all", "two_thirds_of_all"],
  removal: ["two_thirds_of_all"],
  procedural: ["majority_of_all", "two_thirds_of_all", "majority_of_ballots"],
};
const KIND = { resolution: "Thông qua nghị quyết", procedural: "Biểu quyết thủ tục (không thành nghị quyết)", removal: "Bãi nhiệm đại biểu" };
const MAX_DURATION = 86400; // meeting/votes.py MAX_DURATION_SECONDS

export function minimum(rule, base) {
  const t = THRESHOLD[rule];
  const q = Math.floor((t.num * base) / t.den);
  const r = (t.num * base) % t.den;
  return t.strict ? q + 1 : q + (r ? 1 : 0);
}

/** The pass rule in words with the number it needs in this hall: {text, needed}. */
export function ruleInWords(state, rule) {
  const a = attendanceLine(state);
  const first = state.hall.rules.options[0].label;
  if (THRESHOLD[rule].base === "all") {
    const needed = minimum(rule, a.total);
    return { needed, text: `${PASS_RULE[rule]}: cần ít nhất ${needed} phiếu «${first}» trên tổng số ${a.total} đại biểu` };
  }
  const needed = minimum(rule, a.present);
  return {
    needed,
    text: `${PASS_RULE[rule]}: nếu cả ${a.present} đại biểu có mặt bỏ phiếu, cần ít nhất ${needed} phiếu «${first}» (tính lại theo số phiếu thu về)`,
  };
}

// --- the counting committee, picked by name

let lastCommittee = []; // the committee of the last secret round: offered again, never ticked by itself

/**
 * A list of the seated delegates to tick, searchable by name, id or seat; the people on the ballot (`exclude`)
 * cannot be ticked. Returns {el, chosen(), set(ids), refresh(exclude)}.
 */
export function committeePicker(state, { exclude = [], min = 0, chosen = [], idPrefix = "cm" } = {}) {
  const count = h("p", { class: "committee-count", "aria-live": "polite" });
  const search = h("input", { type: "search", placeholder: "Tìm theo tên, mã hoặc ghế", "aria-label": "Tìm đại biểu cho Ban kiểm phiếu" });
  const list = h("div", { class: "committee-list", role: "group", tabindex: "0", "aria-label": "Thành viên Ban kiểm phiếu" });
  const boxes = new Map();
  const update = () => {
    const n = [...boxes.values()].filter((b) => b.checked && !b.disabled).length;
    count.textContent = `Đã chọn ${n} người · tối thiểu ${min} theo quy chế`;
    count.classList.toggle("short", n < min);
  };
  for (const d of seatedDelegates(state)) {
    const box = h("input", { type: "checkbox", value: d.id, id: `${idPrefix}-${d.id}`, onchange: update });
    boxes.set(d.id, box);
    list.append(h("label", { for: `${idPrefix}-${d.id}`, dataset: { delegate: d.id, search: `${d.name} ${d.id} ${d.seat || ""}`.toLowerCase() } }, box, h("span", { class: "who" }, nameWithSeat(d))));
  }
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const label of list.children) label.classList.toggle("hidden", !!q && !label.dataset.search.includes(q));
  });
  const api = {
    el: h("div", { class: "committee" }, search, list, count),
    chosen: () => [...boxes.values()].filter((b) => b.checked && !b.disabled).map((b) => b.value),
    set(ids) {
      for (const [id, b] of boxes) b.checked = ids.includes(id) && !b.disabled;
      update();
    },
    refresh(excluded) {
      for (const [id, b] of boxes) {
        const off = excluded.includes(id);
        b.disabled = off;
        if (off) b.checked = false;
        const label = b.closest("label");
        label.classList.toggle("off", off);
        const note = label.querySelector(".off-note");
        if (off && !note) label.append(h("small", { class: "off-note" }, " — có tên trong lá phiếu, không thể chọn"));
        if (!off && note) note.remove();
      }
      update();
    },
  };
  api.set(chosen);
  api.refresh(exclude);
  return api;
}

// --- the form

let picker = null;
let autoMotion = "";

function value(name) {
  const el = document.querySelector(`input[name="${name}"]:checked`);
  return el ? el.value : "";
}

/**
 * How this secret vote is counted: the council's `secret_mode` for an electronic secret vote (meeting/votes.py
 * `_mode`), "sealed" for a paper one (only an electronic ballot can be encrypted), null for a named vote.
 */
function secretMode(state) {
  if (value("vote-secret") !== "secret") return null;
  if (value("vote-paper") === "paper") return "sealed";
  return state.hall.rules.secret_mode === "verifiable" ? "verifiable" : "sealed";
}

/** A sealed secret vote's committee is ticked here; a verifiable vote's is its key ceremony's members. */
function needsCommittee(state) {
  return value("vote-secret") === "secret" && state.hall.rules.secret_certification && secretMode(state) !== "verifiable";
}

/** The completed ceremonies to open a verifiable vote with, or the way to the ceremony panel when there is none. */
function renderCeremonyChoice(state) {
  const done = completedCeremonies(state);
  keyed($("ceremony-choice"), [done.map((c) => [c.spec.ceremony_id, ceremonyLabel(state, c)])], () => {
    const before = $("vote-ceremony") ? $("vote-ceremony").value : "";
    fill(
      "#ceremony-choice",
      done.length
        ? ceremonySelect(state, done, { id: "vote-ceremony", label: "Khóa của Ban kiểm phiếu (các thành viên của khóa là Ban kiểm phiếu)", selected: before }).els
        : h(
            "p",
            { class: "banner warn", id: "vote-no-ceremony" },
            "Chưa có khóa Ban kiểm phiếu đã tạo xong: chưa thể mở bỏ phiếu kín kiểm chứng. ",
            h("button", { type: "button", onclick: showCeremonyPanel }, "Đến phần tạo khóa"),
          ),
      h("p", { class: "field-error", id: "vote-ceremony-error", "aria-live": "polite" }),
    );
  });
}

function setRules(state) {
  const kind = $("vote-kind").value;
  const select = $("vote-rule");
  const allowed = ALLOWED[kind];
  // A new kind starts from the council's rule (a removal's 2/3 must not stay on the resolution voted next).
  const before = select.dataset.kind === kind ? select.value : "";
  select.dataset.kind = kind;
  const preferred = allowed.includes(before) ? before : allowed.includes(state.hall.rules.default_pass_rule) ? state.hall.rules.default_pass_rule : allowed[0];
  fill(select, allowed.map((r) => h("option", { value: r, selected: r === preferred }, PASS_RULE[r])));
  select.value = preferred;
}

/** Show the fields this kind of vote needs; called on every change of the form and after a reset. */
function syncForm() {
  const state = desk.live.state;
  if (!state) return;
  const kind = $("vote-kind").value;
  $("subject-row").classList.toggle("hidden", kind !== "removal");
  $("vote-normative").disabled = kind !== "resolution";
  if (kind !== "resolution") $("vote-normative").checked = false;
  setRules(state);
  const wanted = needsCommittee(state);
  $("committee-box").classList.toggle("hidden", !wanted);
  const mode = secretMode(state);
  $("vote-mode").classList.toggle("hidden", !mode || value("vote-paper") === "paper");
  $("vote-mode").textContent = mode ? `Cách kiểm phiếu: ${MODE_WORDS[mode]}` : "";
  $("ceremony-choice").classList.toggle("hidden", mode !== "verifiable");
  if (picker) picker.refresh(kind === "removal" && $("vote-subject").value ? [$("vote-subject").value] : []);
}

function showError(id, text) {
  const field = $(id);
  const box = $(`${id}-error`);
  if (box) box.textContent = text;
  if (field) field.setAttribute("aria-invalid", text ? "true" : "false");
}

function clearErrors() {
  for (const id of ["vote-motion", "vote-subject", "vote-duration", "vote-ceremony"]) showError(id, "");
  const c = $("committee-error");
  if (c) c.textContent = "";
}

/** The command the form describes, or null after showing what is wrong (in Vietnamese) — nothing is sent. */
function readForm(state) {
  clearErrors();
  const item = currentItem(state);
  const motion = $("vote-motion").value.trim();
  const kind = $("vote-kind").value;
  const duration = $("vote-duration").value.trim();
  let first = null;
  const bad = (id, text) => {
    showError(id, text);
    first = first || $(id);
  };
  if (!motion) bad("vote-motion", "Vui lòng nhập nội dung biểu quyết. (The motion is empty.)");
  else if (motion.length > 2000) bad("vote-motion", "Nội dung biểu quyết tối đa 2000 ký tự. (At most 2000 characters.)");
  if (duration && !(Number.isInteger(Number(duration)) && Number(duration) >= 1 && Number(duration) <= MAX_DURATION))
    bad("vote-duration", `Thời gian phải là số giây từ 1 đến ${MAX_DURATION}. (1 to ${MAX_DURATION} seconds.)`);
  const subject = kind === "removal" ? $("vote-subject").value : null;
  if (kind === "removal" && !subject) bad("vote-subject", "Vui lòng chọn đại biểu bị bãi nhiệm. (Choose the delegate.)");
  const secret = value("vote-secret") === "secret";
  let committee = [];
  if (needsCommittee(state)) {
    committee = picker.chosen();
    const min = state.hall.rules.committee_min;
    if (committee.length < min) {
      $("committee-error").textContent = `Ban kiểm phiếu cần ít nhất ${min} thành viên, mới chọn ${committee.length}. (The counting committee needs at least ${min} members.)`;
      first = first || picker.el.querySelector("input[type=search]");
    }
  }
  const mode = secretMode(state);
  const ceremony = mode === "verifiable" && $("vote-ceremony") ? $("vote-ceremony").value : null;
  if (mode === "verifiable" && !ceremony) {
    $("vote-ceremony-error").textContent =
      "Chưa có khóa Ban kiểm phiếu đã tạo xong: tạo khóa trước khi mở bỏ phiếu kín kiểm chứng. (No completed key ceremony: a verifiable vote cannot open.)";
    first = first || $("vote-no-ceremony").querySelector("button");
  }
  if (first) {
    first.focus();
    return null;
  }
  return {
    type: "vote_open",
    round_id: `bq-${newId().slice(0, 8)}`,
    item_id: item.id,
    motion,
    secret,
    paper: value("vote-paper") === "paper",
    normative: kind === "resolution" && $("vote-normative").checked,
    pass_rule: $("vote-rule").value,
    duration_seconds: duration ? Number(duration) : null,
    kind,
    subject_id: subject,
    committee,
    // Sent explicitly: the round is counted the way the chair read on the form, even if the rules change.
    ...(mode && value("vote-paper") !== "paper" ? { mode, ceremony_id: ceremony } : {}),
  };
}

function summary(state, c) {
  const rule = ruleInWords(state, c.pass_rule);
  const a = attendanceLine(state);
  const name = (id) => nameWithSeat(state.hall.delegates[id]);
  const row = (dt, dd, attrs = {}) => [h("dt", {}, dt), h("dd", attrs, dd)];
  return h(
    "div",
    { class: "vote-summary" },
    h(
      "dl",
      { class: "summary" },
      row("Nội dung", c.motion, { id: "sum-motion" }),
      row("Loại", `${KIND[c.kind]}${c.normative ? " (văn bản quy phạm pháp luật)" : ""}`),
      c.subject_id ? row("Đại biểu bị bãi nhiệm", name(c.subject_id)) : null,
      row("Cách biểu quyết", c.secret ? "Bỏ phiếu kín" : "Công khai, ghi danh từng đại biểu", { id: "sum-secret" }),
      row("Hình thức", c.paper ? "Phiếu giấy (Văn phòng nhập kết quả kiểm phiếu)" : "Điện tử, trên máy tính bảng", { id: "sum-paper" }),
      row("Điều kiện thông qua", rule.text, { id: "sum-rule" }),
      row("Số phiếu cần", String(rule.needed), { class: "needed", id: "sum-needed", dataset: { needed: String(rule.needed) } }),
      row("Phương án", state.hall.rules.options.map((o) => o.label).join(" · ")),
      row("Thời gian", c.duration_seconds ? durationText(c.duration_seconds) : "Không hẹn giờ: chủ tọa kết thúc"),
      c.mode ? row("Kiểm phiếu", MODE_WORDS[c.mode], { id: "sum-mode" }) : null,
      c.committee.length ? row("Ban kiểm phiếu", c.committee.map(name).join(", "), { id: "sum-committee" }) : null,
      c.ceremony_id ? row("Ban kiểm phiếu", ceremonyLabel(state, ceremonyById(state, c.ceremony_id)), { id: "sum-committee" }) : null,
      row("Có mặt", `${a.present}/${a.total} đại biểu`),
    ),
    c.secret && c.paper
      ? null
      : h(
          "p",
          { class: "muted" },
          c.mode === "verifiable"
            ? "Phiếu được mã hóa trên máy tính bảng; máy chủ không biết lựa chọn. Kết quả có khi đủ số thành viên Ban kiểm phiếu giải mã, ai cũng kiểm chứng được."
            : c.secret
              ? "Không ai thấy phiếu của từng người; chỉ hiển thị số phiếu đã bỏ."
              : "Lựa chọn của từng đại biểu được ghi vào biên bản.",
        ),
  );
}

/** Back to a fresh form after a vote opened: nothing of the last vote carries over (issue 12: "secret" stayed on). */
export function resetForm() {
  $("vote-form").reset();
  delete $("vote-rule").dataset.kind; // back to the council's default rule
  clearErrors();
  autoMotion = "";
  $("vote-motion").value = "";
  if (picker) picker.set([]);
  renderVoteForm(desk.live.state, true);
  syncForm();
}

export function renderVoteForm(state, force = false) {
  const item = currentItem(state);
  const open = openRounds(state);
  const running = state.hall.status === "in_progress";
  const busy = item && open.some((r) => r.item_id === item.id);
  const off = !item || !running || busy;
  $("vote-form").classList.toggle("hidden", off);
  fill(
    "#vote-form-off",
    !running ? "Mở biểu quyết khi kỳ họp đang họp." : !item ? "Chọn một nội dung trong chương trình để biểu quyết." : busy ? "Đang có lượt biểu quyết cho nội dung này." : null,
  );
  // The roster can change (a seat vacated): the subject list and the committee picker follow it.
  const seated = seatedDelegates(state);
  keyed($("vote-subject"), seated.map((d) => [d.id, d.name, d.seat]), () => {
    const chosen = $("vote-subject").value;
    fill("#vote-subject", h("option", { value: "" }, "— chọn đại biểu —"), seated.map((d) => h("option", { value: d.id, selected: d.id === chosen }, nameWithSeat(d))));
  });
  keyed($("committee-box"), [seated.map((d) => [d.id, d.name, d.seat]), state.hall.rules.committee_min], () => {
    const before = picker ? picker.chosen() : [];
    picker = committeePicker(state, { min: state.hall.rules.committee_min, chosen: before });
    fill(
      "#committee-box",
      h("h3", {}, "Ban kiểm phiếu"),
      h("p", { class: "muted" }, `Chọn theo tên; tối thiểu ${state.hall.rules.committee_min} người; người có tên trong lá phiếu không thể chọn.`),
      h("button", { type: "button", id: "committee-again", class: lastCommittee.length ? "" : "hidden", onclick: () => picker.set(lastCommittee) }, "Dùng lại Ban kiểm phiếu lượt trước"),
      picker.el,
      h("p", { class: "field-error", id: "committee-error", "aria-live": "polite" }),
    );
    syncForm();
  });
  renderCeremonyChoice(state);
  syncMode(state);
  const again = $("committee-again");
  if (again) {
    again.classList.toggle("hidden", !lastCommittee.length);
    again.textContent = `Dùng lại Ban kiểm phiếu lượt trước (${lastCommittee.length} người)`;
  }
  const motion = $("vote-motion");
  // A draft resolution suggests its own motion; for other items the chair words it.
  const suggestion = item && item.kind === "resolution" ? `Biểu quyết thông qua ${item.title}` : "";
  if (force || !motion.value || motion.value === autoMotion) {
    if (document.activeElement !== motion || force) {
      motion.value = suggestion;
      autoMotion = suggestion;
    }
  }
}

// The council's rules can change while the form is shown (the secretariat's setting): the mode line follows.
let lastMode = "";
function syncMode(state) {
  const key = `${state.hall.rules.secret_mode}:${state.hall.rules.secret_certification}`;
  if (key !== lastMode) {
    lastMode = key;
    syncForm();
  }
}

export function wireVoteForm() {
  const form = $("vote-form");
  form.addEventListener("change", (e) => {
    if (e.target.closest(".committee")) {
      const c = $("committee-error");
      if (c) c.textContent = ""; // the chair is changing the committee: the old complaint no longer holds
      return;
    }
    syncForm();
  });
  $("vote-motion").addEventListener("input", () => showError("vote-motion", ""));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const state = desk.live.state;
    if (!state || !currentItem(state)) return;
    const command = readForm(state);
    if (!command) return;
    const ok = await confirmBox("Xác nhận mở biểu quyết", summary(state, command), command.secret ? "Mở bỏ phiếu kín" : "Mở biểu quyết", "Quay lại sửa");
    if (!ok) return;
    const out = await run(command, command.secret ? "Đã mở bỏ phiếu kín." : "Đã mở biểu quyết.", $("vote-open"));
    if (out) {
      if (command.committee.length) lastCommittee = command.committee;
      resetForm();
    }
  });
  syncForm();
}
