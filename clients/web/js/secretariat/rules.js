// The council's rules ("Quy chế", issue 13 §2): how secret votes and confidence polls are counted, and the simple
// numbers around them. Read from GET /api/councils/{id}; saved with the council command `change_rules` (the
// secretariat's or an administrator's, meeting/council.py), which takes the whole Rules object: the fields this
// panel does not show are sent back as they were read. A session keeps the rules it was prepared with, so a change
// applies to the sessions prepared afterwards — the panel says which mode the session on screen uses.

import { api, newId } from "../api.js";
import { $, act, fill, h } from "../ui.js";

// The two modes (meeting/rules.py BallotMode), each with its trade-off in one sentence.
export const SECRET_MODES = [
  {
    value: "verifiable",
    label: "Kiểm chứng (khuyến nghị)",
    why: "Máy tính bảng mã hóa từng phiếu và chỉ khi đủ số thành viên Ban kiểm phiếu giải mã tổng số mới có kết quả, nên cả người quản trị máy chủ cũng không biết ai chọn gì, và ai cũng tự kiểm tra được kết quả trên bảng công khai.",
  },
  {
    value: "sealed",
    label: "Niêm phong — khi Ban kiểm phiếu không có máy tính bảng",
    why: "Máy chủ tự đếm phiếu dưới khóa của mình, không cần Ban kiểm phiếu thao tác trên máy, nhưng bí mật của lá phiếu dựa vào việc giữ kín khóa và dữ liệu máy chủ.",
  },
];

export const MODE_VI = { verifiable: "kiểm chứng", sealed: "niêm phong" };

const MAX_COMMITTEE = 1000; // meeting/council.py MAX_DELEGATES
const MAX_MIN_BALLOTS = 1000; // meeting/council.py _check_rules

function wholeNumber(text, lo, hi) {
  const v = text.trim();
  if (!/^\d{1,4}$/.test(v)) return null;
  const n = Number(v);
  return n >= lo && n <= hi ? n : null;
}

export class RulesPanel {
  constructor(councilId) {
    this.councilId = councilId;
    this.rules = null; // the council's Rules as read
    this.sessionMode = null; // the mode of the session on screen (its prepared copy)
  }

  /** Read the council's rules and draw the form. */
  async load() {
    try {
      const c = await api("GET", `/api/councils/${encodeURIComponent(this.councilId)}`);
      this.rules = c.rules;
    } catch (err) {
      fill("#rules-body", h("p", { class: "banner bad" }, err.message_vi || String(err)));
      return;
    }
    this.draw();
  }

  /** The session's own copy of the rules (live state), shown beside the council's. */
  session(state) {
    const mode = state && state.hall.rules ? state.hall.rules.secret_mode : null;
    if (mode === this.sessionMode) return;
    this.sessionMode = mode;
    if (this.rules) this.draw();
  }

  draw() {
    const r = this.rules;
    const modes = SECRET_MODES.map((m) =>
      h(
        "label",
        { class: "mode-choice", dataset: { mode: m.value } },
        h("input", { type: "radio", name: "rules-secret-mode", value: m.value, checked: r.secret_mode === m.value }),
        h("span", {}, h("strong", {}, m.label), h("small", {}, m.why)),
      ),
    );
    const committee = h("input", { id: "rules-committee-min", inputmode: "numeric", maxlength: 4, value: String(r.committee_min), autocomplete: "off" });
    const minBallots = h("input", { id: "rules-min-ballots", inputmode: "numeric", maxlength: 4, value: String(r.secret_min_ballots), autocomplete: "off" });
    const certify = h("input", { id: "rules-certification", type: "checkbox", checked: r.secret_certification });
    const msg = h("div", { id: "rules-msg", role: "alert" });
    const save = h("button", { class: "primary", type: "submit", id: "rules-save" }, "Lưu quy chế");
    const here = this.sessionMode
      ? h(
          "p",
          { class: `banner ${this.sessionMode === r.secret_mode ? "info" : "warn"}`, id: "rules-session-mode" },
          `Kỳ họp đang xem bỏ phiếu kín theo cách ${MODE_VI[this.sessionMode] || this.sessionMode} (quy chế lúc chuẩn bị kỳ họp).`,
          this.sessionMode === r.secret_mode ? "" : " Thay đổi của Hội đồng áp dụng từ kỳ họp chuẩn bị sau.",
        )
      : null;
    const form = h(
      "form",
      { id: "rules-form", novalidate: true },
      h("fieldset", {}, h("legend", {}, "Cách bỏ phiếu kín và lấy phiếu tín nhiệm điện tử"), modes),
      h(
        "div",
        { class: "rules-fields" },
        h("div", {}, h("label", { for: "rules-committee-min" }, "Số thành viên Ban kiểm phiếu tối thiểu"), committee),
        h("div", {}, h("label", { for: "rules-min-ballots" }, "Cảnh báo khi lượt bỏ phiếu kín có ít hơn (phiếu)"), minBallots),
      ),
      h("label", { class: "inline" }, certify, " Ban kiểm phiếu xác nhận kết quả bỏ phiếu kín trước khi công bố"),
      msg,
      h("div", { class: "actions" }, save),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const problems = [];
      const mode = form.querySelector('input[name="rules-secret-mode"]:checked');
      const cm = wholeNumber(committee.value, 1, MAX_COMMITTEE);
      const mb = wholeNumber(minBallots.value, 0, MAX_MIN_BALLOTS);
      if (!mode) problems.push("Chọn cách bỏ phiếu kín.");
      if (cm === null) problems.push(`Số thành viên Ban kiểm phiếu tối thiểu phải là số nguyên từ 1 đến ${MAX_COMMITTEE}.`);
      if (mb === null) problems.push(`Số phiếu tối thiểu phải là số nguyên từ 0 đến ${MAX_MIN_BALLOTS}.`);
      if (problems.length) {
        fill(msg, h("div", { class: "banner bad" }, problems.map((p) => h("div", {}, p))));
        return;
      }
      fill(msg);
      const rules = { ...this.rules, secret_mode: mode.value, committee_min: cm, secret_min_ballots: mb, secret_certification: certify.checked };
      await act(save, async () => {
        try {
          await api("POST", `/api/councils/${encodeURIComponent(this.councilId)}/commands`, { id: newId(), command: { type: "change_rules", rules } });
        } catch (err) {
          fill(msg, h("div", { class: "banner bad" }, err.message_vi || String(err)));
          return;
        }
        this.rules = rules;
        this.draw();
        fill("#rules-msg", h("div", { class: "banner ok" }, `Đã lưu quy chế: bỏ phiếu kín ${MODE_VI[rules.secret_mode]}, áp dụng cho các kỳ họp chuẩn bị từ nay.`));
      });
    });
    fill("#rules-body", here, form);
    $("#rules").classList.remove("hidden");
  }
}
