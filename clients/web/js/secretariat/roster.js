// Roster and accounts: import the council's delegates from an XLSX or CSV file (preview with row-level errors,
// nothing written until confirmed: POST /api/councils/{id}/roster/import/{fmt}), and create accounts.

import { ApiError, NETWORK_ERROR, api, saved } from "../api.js";
import { $, ROLE, act, errorBanner, fill, h } from "../ui.js";

// The roles the secretariat may grant (server/routes_accounts.py SECRETARY_GRANTABLE), the common ones first.
const GRANTABLE = ["delegate", "chair", "secretary", "respondent", "committee"];

async function postFile(path, file) {
  const headers = { accept: "application/json", "content-type": "application/octet-stream" };
  const token = saved()?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body: file });
  } catch {
    throw NETWORK_ERROR();
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw ApiError.from(data, response.status);
  return data;
}

function formatOf(file) {
  if (/\.xlsx$/i.test(file.name)) return "xlsx";
  if (/\.csv$/i.test(file.name)) return "csv";
  return null;
}

export class RosterPanel {
  constructor(councilId) {
    this.councilId = councilId;
    this.file = null;
    this.preview = null;
  }

  path(fmt, confirm = null) {
    const q = confirm ? `?confirm=${encodeURIComponent(confirm)}` : "";
    return `/api/councils/${encodeURIComponent(this.councilId)}/roster/import/${fmt}${q}`;
  }

  async choose(file) {
    this.file = file;
    this.preview = null;
    const out = $("#roster-preview");
    const fmt = formatOf(file);
    if (!fmt) {
      fill(out, h("p", { class: "banner bad" }, `Tệp «${file.name}» không phải bảng tính XLSX hay CSV.`, h("br"), h("small", {}, "Choose an .xlsx or .csv file.")));
      return;
    }
    fill(out, h("p", { class: "muted" }, `Đang đọc «${file.name}»…`));
    try {
      this.preview = await postFile(this.path(fmt), file);
    } catch (err) {
      fill(out, h("div", { dataset: { state: "refused" } }, errorBanner(err), h("p", { class: "muted" }, "Chưa ghi gì vào danh sách đại biểu.")));
      return;
    }
    this.renderPreview(fmt);
  }

  renderPreview(fmt) {
    const p = this.preview;
    const fresh = p.delegates.filter((d) => !d.seated_already);
    const ok = p.errors.length === 0 && fresh.length > 0;
    const confirm = h("button", { class: "primary", type: "button", id: "roster-confirm" }, `Ghi ${fresh.length} đại biểu vào danh sách`);
    confirm.addEventListener("click", () => this.confirm(fmt, confirm));
    fill(
      "#roster-preview",
      h(
        "div",
        { dataset: { state: p.errors.length ? "errors" : "ready" } },
        h(
          "p",
          { class: `banner ${p.errors.length ? "bad" : "info"}` },
          p.errors.length
            ? `${p.errors.length} dòng lỗi trong ${p.rows} dòng. Sửa tệp rồi chọn lại; chưa ghi gì vào danh sách.`
            : `${p.rows} dòng đọc được; ${fresh.length} đại biểu mới${fresh.length < p.delegates.length ? `, ${p.delegates.length - fresh.length} đã có trong danh sách` : ""}. Kiểm tra rồi bấm ghi.`,
        ),
        p.errors.length
          ? h(
              "table",
              { class: "roster-errors" },
              h("caption", {}, "Các dòng lỗi"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Dòng"), h("th", { scope: "col" }, "Lỗi"))),
              h(
                "tbody",
                {},
                p.errors.map((e) => h("tr", { dataset: { row: e.row } }, h("td", {}, e.row), h("td", {}, e.message_vi, h("br"), h("small", {}, e.message_en)))),
              ),
            )
          : null,
        p.delegates.length
          ? h(
              "table",
              { class: "roster-rows" },
              h("caption", {}, "Đại biểu sẽ được ghi"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Dòng"), h("th", { scope: "col" }, "Mã"), h("th", { scope: "col" }, "Họ và tên"))),
              h(
                "tbody",
                {},
                p.delegates.map((d) =>
                  h(
                    "tr",
                    { dataset: { delegate: d.delegate_id } },
                    h("td", {}, d.row),
                    h("td", {}, d.delegate_id),
                    h("td", {}, d.name, d.seated_already ? h("small", {}, " (đã có)") : null),
                  ),
                ),
              ),
            )
          : null,
        ok ? h("div", { class: "actions" }, confirm) : null,
      ),
    );
  }

  async confirm(fmt, button) {
    await act(button, async () => {
      const out = await postFile(this.path(fmt, this.preview.hash), this.file);
      fill(
        "#roster-preview",
        h(
          "div",
          { dataset: { state: "done" } },
          h("p", { class: `banner ${out.refused.length ? "warn" : "ok"}` }, `Đã ghi ${out.seated.length} đại biểu vào danh sách của Hội đồng.`),
          out.refused.map((e) => h("p", { class: "banner bad" }, `Dòng ${e.row}: ${e.message_vi}`)),
          h("p", { class: "muted" }, "Các kỳ họp chuẩn bị từ nay có danh sách mới; kỳ họp đã chuẩn bị giữ danh sách lúc chuẩn bị."),
        ),
      );
      this.loadDelegates();
    });
  }

  async loadDelegates() {
    try {
      const c = await api("GET", `/api/councils/${encodeURIComponent(this.councilId)}`);
      const seated = Object.values(c.delegates).filter((d) => d.seated);
      $("#roster-count").textContent = `Hội đồng có ${seated.length} đại biểu đang giữ ghế.`;
      const sel = $("#account-person");
      const current = sel.value;
      fill(sel, h("option", { value: "" }, "— không gắn với đại biểu —"), seated.map((d) => h("option", { value: d.id, selected: d.id === current }, `${d.id} · ${d.name}`)));
    } catch (err) {
      fill("#roster-count", errorBanner(err));
    }
  }

  async createAccount(e) {
    e.preventDefault();
    const msg = $("#account-msg");
    const username = $("#account-username").value.trim().toLowerCase();
    const display = $("#account-name").value.trim();
    const role = $("#account-role").value;
    const person = $("#account-person").value;
    const password = $("#account-password").value;
    const problems = [];
    if (!/^[a-z0-9._-]{3,64}$/.test(username)) problems.push("Tên đăng nhập gồm 3–64 ký tự a–z, 0–9, dấu chấm, gạch dưới hoặc gạch ngang.");
    if (!display) problems.push("Vui lòng nhập họ và tên hiển thị.");
    if (role === "delegate" && !person) problems.push("Tài khoản đại biểu phải gắn với một đại biểu trong danh sách.");
    if (password.length < 8) problems.push("Mật khẩu phải có ít nhất 8 ký tự.");
    if (problems.length) {
      fill(msg, h("div", { class: "banner bad" }, problems.map((p) => h("div", {}, p))));
      return;
    }
    await act($("#account-add"), async () => {
      try {
        const out = await api("POST", `/api/councils/${encodeURIComponent(this.councilId)}/accounts`, {
          username,
          password,
          display_name: display,
          roles: [role],
          person_id: person || null,
        });
        fill(msg, h("p", { class: "banner ok" }, `Đã tạo tài khoản ${out.username} (${ROLE[role] || role}).`));
        $("#account-password").value = "";
      } catch (err) {
        fill(msg, errorBanner(err));
        throw err;
      }
    });
  }

  wire() {
    const input = $("#roster-file");
    input.addEventListener("change", () => {
      if (input.files[0]) this.choose(input.files[0]);
      input.value = "";
    });
    $("#roster-choose").addEventListener("click", () => input.click());
    const zone = $("#roster-drop");
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      e.stopPropagation();
      zone.classList.remove("over");
      if (e.dataTransfer.files[0]) this.choose(e.dataTransfer.files[0]);
    });
    fill("#account-role", GRANTABLE.map((r) => h("option", { value: r }, ROLE[r] || r)));
    $("#account-form").addEventListener("submit", (e) => this.createAccount(e));
    this.loadDelegates();
  }
}
