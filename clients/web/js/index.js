// The start page: choose a role, sign in, pick the session, go to that role's page.

import { api, chosenSession, forget, hasRole, login, logout, rememberSession, saved } from "./api.js";
import { $, ROLE, errorBanner, fill, h } from "./ui.js";
import { redeemFromAddress } from "./device.js";

// Which accounts may open which page (the server checks every command anyway; this only routes).
const ALLOWED = {
  // The tablet page serves delegates, respondents and counting-committee members alike (each gets their own
  // header and tasks there): whichever of those buttons was chosen, such an account is let through.
  delegate: ["delegate", "respondent", "committee"],
  respondent: ["respondent", "delegate", "committee"],
  chair: ["chair"],
  secretary: ["secretary", "admin"],
  petitions: ["secretary", "admin", "standing", "front", "agency", "delegate", "chair"],
  public: [],
};

let role = null;
let page = null;

function choose(button) {
  for (const b of document.querySelectorAll(".role")) b.classList.toggle("selected", b === button);
  role = button.dataset.role;
  page = button.dataset.page;
  if (role === "public") {
    $("#step-signin").classList.add("hidden");
    showSessions(null);
    return;
  }
  const s = saved();
  if (s && hasRole(s.account, ...ALLOWED[role])) {
    if (role === "petitions") {
      location.href = page; // between sessions: no session to choose
      return;
    }
    $("#step-signin").classList.add("hidden");
    showSessions(s.account);
    return;
  }
  $("#step-session").classList.add("hidden");
  $("#step-signin").classList.remove("hidden");
  $("#username").value = button.dataset.user || "";
  fill("#signin-msg");
  $("#password").focus();
}

async function loadSessions(councilId) {
  const list = $("#sessions");
  fill(list, h("li", { class: "muted" }, "Đang tải…"));
  try {
    const sessions = await api("GET", `/api/councils/${encodeURIComponent(councilId)}/sessions`);
    fill(
      list,
      sessions.length
        ? sessions.map((s) =>
            h(
              "li",
              {},
              h("button", { class: "primary", onclick: () => go(s.session_id), dataset: { session: s.session_id } }, s.title),
              " ",
              s.status_vi ? [h("span", { class: "pill" }, s.status_vi), " "] : null,
              h("small", {}, s.session_id),
            ),
          )
        : h("li", { class: "muted" }, "Hội đồng chưa có kỳ họp nào."),
    );
  } catch (err) {
    fill(list, h("li", {}, errorBanner(err)));
  }
}

function showSessions(account) {
  const step = $("#step-session");
  step.classList.remove("hidden");
  $("#session-id").value = chosenSession() || "";
  fill("#sessions");
  $("#council-pick").classList.add("hidden");
  if (!account) return; // the public cannot list a council's sessions: type the id
  if (account.council_id) loadSessions(account.council_id);
  else $("#council-pick").classList.remove("hidden"); // an administrator of every council
}

function go(sessionId) {
  if (!sessionId) return;
  rememberSession(sessionId);
  location.href = `${page}?session=${encodeURIComponent(sessionId)}`;
}

function renderWho() {
  const s = saved();
  fill(
    "#who",
    s ? `Đang đăng nhập: ${s.account.display_name} (${s.account.roles.map((r) => ROLE[r] || r).join(", ")}) ` : "",
    s
      ? h(
          "button",
          {
            onclick: async () => {
              await logout();
              location.reload();
            },
          },
          "Đăng xuất",
        )
      : null,
  );
}

for (const b of document.querySelectorAll(".role")) b.addEventListener("click", () => choose(b));

$("#signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  fill("#signin-msg");
  try {
    const account = await login($("#username").value.trim(), $("#password").value);
    if (!hasRole(account, ...ALLOWED[role])) {
      forget();
      fill("#signin-msg", h("div", { class: "banner bad" }, "Tài khoản này không có quyền dùng trang đã chọn."));
      return;
    }
    if (role === "petitions") {
      location.href = page;
      return;
    }
    renderWho();
    $("#step-signin").classList.add("hidden");
    showSessions(account);
  } catch (err) {
    fill("#signin-msg", errorBanner(err));
  }
});

$("#council-load").addEventListener("click", () => loadSessions($("#council").value.trim()));
$("#session-go").addEventListener("click", () => go($("#session-id").value.trim()));
$("#session-id").addEventListener("keydown", (e) => {
  if (e.key === "Enter") go($("#session-id").value.trim());
});

renderWho();

// A tablet opened from a device sign-in QR code (/?code=…): signed in without a password, then on its way.
redeemFromAddress().then(
  (done) => {
    if (!done) return;
    if (done.next) {
      location.replace(done.next);
      return;
    }
    renderWho();
    fill("#signin-msg", h("div", { class: "banner ok", id: "device-signed-in" }, `Thiết bị đã đăng nhập: ${done.account.display_name}. Chọn vai trò và kỳ họp.`));
  },
  (err) => {
    $("#step-signin").classList.remove("hidden");
    fill("#signin-msg", h("div", { id: "device-refused" }, errorBanner(err)));
  },
);
