// Small DOM helpers and the Vietnamese labels every page shares.

import { ApiError, forget, hasRole, login, logout, saved, serverNow } from "./api.js";

/** h("div", {class: "x", onclick: fn}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function fill(el, ...children) {
  if (typeof el === "string") el = $(el);
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// --- labels (the same words as meeting/*.py label_vi)
export const SESSION_STATUS = {
  prepared: "chuẩn bị",
  checkin_open: "đang điểm danh",
  in_progress: "đang họp",
  suspended: "tạm dừng",
  closed: "đã bế mạc",
};
export const ITEM_KIND = {
  resolution: "Dự thảo nghị quyết",
  report: "Báo cáo",
  questioning: "Chất vấn",
  confidence: "Tín nhiệm",
  other: "Nội dung khác",
};
export const ITEM_STATUS = { pending: "chưa xem xét", current: "đang xem xét", done: "đã xong" };
export const ROUND_STATUS = { open: "đang biểu quyết", closed: "đã kết thúc", cancelled: "đã hủy" };
export const QUESTION_STATUS = {
  registered: "đã đăng ký",
  called: "đang chất vấn",
  answering: "đang trả lời",
  answered: "đã trả lời",
  withdrawn: "đã rút",
};
export const TURN_KIND = { question: "Đại biểu chất vấn", answer: "Trả lời chất vấn", rebuttal: "Tranh luận" };
export const REQUEST_STATUS = { pending: "đang chờ", speaking: "đang phát biểu", done: "đã phát biểu", withdrawn: "đã rút" };
export const PASS_RULE = {
  majority_of_all: "quá nửa tổng số đại biểu",
  two_thirds_of_all: "ít nhất 2/3 tổng số đại biểu",
  majority_of_ballots: "quá nửa tổng số phiếu thu về",
};
export const POLL_BASE = {
  ballots_collected: "tổng số phiếu thu về",
  all_delegates: "tổng số đại biểu",
  present: "số đại biểu có mặt",
};
export const POLL_KIND = { rating: "Lấy phiếu tín nhiệm", confidence_vote: "Bỏ phiếu tín nhiệm" };
export const POLL_STATUS = {
  draft: "đang chuẩn bị",
  open: "đang bỏ phiếu",
  counted: "đã kiểm phiếu, chờ xác nhận",
  certified: "đã công bố kết quả",
  cancelled: "đã hủy",
};
export const MARK = {
  high: "Tín nhiệm cao",
  trust: "Tín nhiệm",
  low: "Tín nhiệm thấp",
  no_trust: "Không tín nhiệm",
  invalid: "Không hợp lệ",
};
export const POLL_LEVELS = { rating: ["high", "trust", "low"], confidence_vote: ["trust", "no_trust"] };
export const ROLE = {
  admin: "Quản trị",
  secretary: "Văn phòng",
  chair: "Chủ tọa",
  delegate: "Đại biểu",
  respondent: "Người trả lời chất vấn",
  committee: "Ban kiểm phiếu",
  standing: "Thường trực HĐND",
  front: "Mặt trận Tổ quốc",
  agency: "Cơ quan giải quyết kiến nghị",
};

export function statusPill(status) {
  const cls = { in_progress: "ok", checkin_open: "warn", suspended: "warn", closed: "bad" }[status] || "";
  return h("span", { class: `pill ${cls}` }, SESSION_STATUS[status] || status);
}

// --- numbers and times
const pct = new Intl.NumberFormat("vi-VN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const percent = (x) => `${pct.format(x)}%`;
export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
export function day(iso) {
  if (!iso) return "";
  const [y, m, d] = String(iso).slice(0, 10).split("-");
  return `${d}/${m}/${y}`;
}

function mmss(totalSeconds) {
  const s = Math.abs(Math.trunc(totalSeconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A countdown to `endsAt` (the event's ends_at): every screen computes it from the same server times. */
export function countdown(endsAt, cls = "countdown") {
  return h("span", { class: cls, dataset: { ends: endsAt } }, "");
}

function tick() {
  const now = serverNow();
  for (const el of document.querySelectorAll("[data-ends]")) {
    const left = (Date.parse(el.dataset.ends) - now) / 1000;
    const over = left < 0;
    el.textContent = over ? `+${mmss(-left)}` : mmss(Math.ceil(left));
    el.classList.toggle("overrun", over);
    el.title = over ? "Quá thời gian" : "Thời gian còn lại";
  }
}
setInterval(tick, 250);
export const refreshCountdowns = tick;

// --- messages
export function toast(text, kind = "", detail = "") {
  let box = $("#toasts");
  if (!box) {
    box = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const t = h("div", { class: `toast ${kind}` }, text, detail ? h("small", {}, detail) : null);
  box.append(t);
  setTimeout(() => t.remove(), kind === "bad" ? 9000 : 4000);
}

/** A server error: the Vietnamese message, the English one underneath. */
export function showError(err) {
  if (err instanceof ApiError) toast(err.message_vi, "bad", err.message_en);
  else toast("Đã xảy ra lỗi không mong muốn.", "bad", String(err && err.message ? err.message : err));
}

/** Run an async action from a button: disabled while it runs, errors shown in Vietnamese. */
export async function act(button, fn, okText = "") {
  if (button) button.disabled = true;
  try {
    const out = await fn();
    if (okText) toast(okText, "ok");
    return out;
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** A modal yes/no question; resolves true only on the confirm button. */
export function confirmBox(title, body, okLabel = "Xác nhận", cancelLabel = "Quay lại") {
  return new Promise((resolve) => {
    const dlg = h(
      "dialog",
      { class: "confirm" },
      h("h2", {}, title),
      typeof body === "string" ? h("p", {}, body) : body,
      h(
        "div",
        { class: "row actions" },
        h("button", { class: "primary", value: "ok", onclick: () => dlg.close("ok") }, okLabel),
        h("button", { value: "cancel", onclick: () => dlg.close("cancel") }, cancelLabel),
      ),
    );
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "ok");
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function ask(title, label, value = "") {
  return new Promise((resolve) => {
    const input = h("input", { value });
    const dlg = h(
      "dialog",
      {},
      h("h2", {}, title),
      h("label", {}, label),
      input,
      h(
        "div",
        { class: "row actions" },
        h("button", { class: "primary", onclick: () => dlg.close("ok") }, "Đồng ý"),
        h("button", { onclick: () => dlg.close("cancel") }, "Hủy"),
      ),
    );
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "ok" ? input.value : null);
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

// --- the session's people
export function delegateName(state, id) {
  const d = state && state.hall.delegates[id];
  return d ? d.name : id;
}
export function respondentName(state, id) {
  const r = state && state.hall.respondents[id];
  return r ? `${r.name} — ${r.position}` : id;
}
export function speakerName(state, id) {
  if (!state) return id;
  if (state.hall.delegates[id]) return `Đại biểu ${state.hall.delegates[id].name}`;
  if (state.hall.respondents[id]) return respondentName(state, id);
  return id;
}
export function currentItem(state) {
  const id = state && state.hall.current_item;
  return id ? state.agenda.items[id] : null;
}

// --- results
/** A vote result: each option's count and share of ALL delegates, and the verdict. */
/** How a round was held; an electronic secret round says how it was counted when its `mode` is known (issue 13 §2:
 * a result event carries no mode, the round and the public feed do). */
export function howHeld(result, mode = result.mode) {
  if (!result.secret) return `Biểu quyết công khai${result.paper ? " (phiếu giấy)" : ""}`;
  if (result.paper) return "Bỏ phiếu kín (phiếu giấy)";
  if (mode === "verifiable") return "Bỏ phiếu kín, kiểm chứng được";
  return mode === "sealed" ? "Bỏ phiếu kín, niêm phong" : "Bỏ phiếu kín";
}

export function resultView(result, mode = result.mode) {
  const passed = result.passed;
  return h(
    "div",
    { class: "result", dataset: { round: result.round_id } },
    h("p", {}, h("strong", {}, result.motion)),
    h(
      "p",
      { class: "muted" },
      `${howHeld(result, mode)} · ` +
        `${result.ballots_collected}/${result.total_delegates} đại biểu tham gia · cần ${result.needed} phiếu tán thành ` +
        `(${PASS_RULE[result.pass_rule] || result.pass_rule})`,
    ),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", {}, "Phương án"), h("th", { class: "num" }, "Số phiếu"), h("th", { class: "num" }, "Tỷ lệ / tổng số ĐB"))),
      h(
        "tbody",
        {},
        result.options.map((o) =>
          h(
            "tr",
            {},
            h("td", {}, o.label, h("div", { class: "bar" }, h("span", { style: `width:${Math.min(100, o.share_of_all)}%` }))),
            h("td", { class: "num" }, String(o.count)),
            h("td", { class: "num" }, percent(o.share_of_all)),
          ),
        ),
      ),
    ),
    h("p", {}, h("span", { class: `verdict ${passed ? "passed" : "failed"}` }, passed ? "THÔNG QUA" : "KHÔNG THÔNG QUA")),
  );
}

/** A published confidence poll result, per official. */
export function pollResultView(result) {
  const levels = POLL_LEVELS[result.kind] || [];
  return h(
    "div",
    { class: "poll-result", dataset: { poll: result.poll_id } },
    h("p", {}, h("strong", {}, result.kind_vi || POLL_KIND[result.kind]), ` · ${result.ballots_collected} phiếu thu về / ${result.total_delegates} đại biểu`),
    h("p", { class: "muted" }, `Tỷ lệ tính trên ${POLL_BASE[result.base] || result.base} (${result.base_size}).`),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", {}, "Người được lấy phiếu"), levels.map((l) => h("th", { class: "num" }, MARK[l])), h("th", {}, "Hệ quả"))),
      h(
        "tbody",
        {},
        result.officials.map((o) =>
          h(
            "tr",
            {},
            h("td", {}, h("strong", {}, o.name), h("br"), h("small", {}, o.position)),
            levels.map((l) => h("td", { class: "num" }, `${o.counts[l] ?? 0}`, h("br"), h("small", {}, percent(o.percentages[l] ?? 0)))),
            h("td", {}, o.consequence_vi),
          ),
        ),
      ),
    ),
  );
}

// --- page frame: header, sign-in
export function header({ page, live }) {
  const s = saved();
  const who = $("#who");
  if (who) {
    fill(
      who,
      s ? `${s.account.display_name} (${s.account.roles.map((r) => ROLE[r] || r).join(", ")})` : "",
      s
        ? h(
            "button",
            {
              onclick: async () => {
                await logout();
                location.href = "index.html";
              },
            },
            "Đăng xuất",
          )
        : null,
    );
  }
  document.title = `${page} — Kỳ họp`;
  if (live) {
    const conn = $("#conn");
    live.onStatus = (status) => {
      if (!conn) return;
      conn.className = `conn ${status}`;
      conn.textContent = status === "live" ? "Trực tuyến" : "Mất kết nối, đang kết nối lại…";
    };
  }
}

export function sessionHeader(state) {
  const el = $("#session-title");
  if (!el) return;
  if (!state) {
    fill(el, "Đang tải kỳ họp…");
    return;
  }
  fill(el, h("strong", {}, state.title), " · ", state.hall.council_name, " ", statusPill(state.hall.status));
}

/**
 * Make sure an account with one of `roles` is signed in on this device; otherwise show a sign-in form in
 * `#signin` and wait for it. Resolves with {token, account}.
 */
export function requireAccount(roles, roleText, suggested = "") {
  const s = saved();
  if (s && hasRole(s.account, ...roles)) return Promise.resolve(s);
  return new Promise((resolve) => {
    const box = $("#signin");
    const main = $("#app");
    if (main) main.classList.add("hidden");
    const user = h("input", { name: "username", autocomplete: "username", value: suggested, required: true });
    const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
    const msg = h("div");
    const form = h(
      "form",
      {
        class: "card",
        onsubmit: async (e) => {
          e.preventDefault();
          fill(msg);
          try {
            const account = await login(user.value.trim(), pass.value);
            if (!hasRole(account, ...roles)) {
              forget();
              fill(msg, h("div", { class: "banner bad" }, `Tài khoản này không có quyền ${roleText}.`));
              return;
            }
            box.classList.add("hidden");
            if (main) main.classList.remove("hidden");
            resolve(saved());
          } catch (err) {
            fill(msg, errorBanner(err));
          }
        },
      },
      h("h2", {}, `Đăng nhập — ${roleText}`),
      s ? h("p", { class: "banner warn" }, `Tài khoản ${s.account.username} không có quyền ${roleText}; vui lòng đăng nhập tài khoản khác.`) : null,
      h("label", {}, "Tên đăng nhập"),
      user,
      h("label", {}, "Mật khẩu"),
      pass,
      msg,
      h("div", { class: "actions row" }, h("button", { class: "primary", type: "submit" }, "Đăng nhập"), h("a", { href: "index.html" }, "Về trang đầu")),
    );
    fill(box, form);
    box.classList.remove("hidden");
  });
}

export function errorBanner(err) {
  if (err instanceof ApiError) return h("div", { class: "banner bad" }, err.message_vi, h("br"), h("small", {}, err.message_en));
  return h("div", { class: "banner bad" }, String(err));
}

/** When the socket says the sign-in is no longer valid: back to the sign-in form. */
export function fatal(err) {
  showError(err);
  if (err.code === "unauthenticated") {
    forget();
    setTimeout(() => location.reload(), 2500);
  }
}

export function needSession(sessionId) {
  if (sessionId) return true;
  fill(
    "#app",
    h("div", { class: "card" }, h("h2", {}, "Chưa chọn kỳ họp"), h("p", {}, "Vui lòng chọn kỳ họp ở "), h("a", { href: "index.html" }, "trang đầu"), "."),
  );
  return false;
}
