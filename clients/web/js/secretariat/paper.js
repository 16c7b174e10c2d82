// Paper results (kết quả kiểm phiếu giấy): for a round the chair opened as a paper ballot, the secretariat types
// the count per option and the ballots collected (vote_enter_paper_result, meeting/votes.py). The sums are checked
// here in Vietnamese before the server checks them again.

import { $, act, confirmBox, fill, h } from "../ui.js";

export class PaperResults {
  constructor(live) {
    this.live = live;
    this.key = "";
  }

  form(r) {
    const inputs = r.options.map((o) => {
      const id = `paper-${r.id}-${o.key}`;
      const input = h("input", { id, inputmode: "numeric", maxlength: 4, dataset: { option: o.key }, autocomplete: "off" });
      return [o, input, h("div", {}, h("label", { for: id }, o.label), input)];
    });
    const totalId = `paper-${r.id}-total`;
    const total = h("input", { id: totalId, inputmode: "numeric", maxlength: 4, autocomplete: "off" });
    const msg = h("div", { role: "alert" });
    const save = h("button", { class: "primary", type: "submit" }, "Ghi kết quả kiểm phiếu");
    const form = h(
      "form",
      { class: "paper-form", novalidate: true, dataset: { round: r.id } },
      h("h3", {}, r.motion),
      h("p", { class: "muted" }, `Phiếu giấy${r.secret ? " kín" : ""} · ${r.total_delegates} đại biểu của Hội đồng`),
      h("div", { class: "paper-fields" }, inputs.map((x) => x[2]), h("div", {}, h("label", { for: totalId }, "Tổng số phiếu thu về"), total)),
      msg,
      h("div", { class: "actions" }, save),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const problems = [];
      const counts = {};
      for (const [o, input] of inputs) {
        const v = input.value.trim();
        if (!/^\d+$/.test(v)) problems.push(`Nhập số phiếu «${o.label}» (số nguyên, 0 nếu không có).`);
        counts[o.key] = Number(v);
      }
      const collected = total.value.trim();
      if (!/^\d+$/.test(collected)) problems.push("Nhập tổng số phiếu thu về.");
      const sum = Object.values(counts).reduce((a, b) => a + b, 0);
      if (!problems.length && sum !== Number(collected)) problems.push(`Tổng các phương án (${sum}) phải bằng số phiếu thu về (${collected}).`);
      if (!problems.length && Number(collected) > r.total_delegates) problems.push(`Số phiếu thu về nhiều hơn tổng số đại biểu (${r.total_delegates}).`);
      if (problems.length) {
        fill(msg, h("div", { class: "banner bad" }, problems.map((p) => h("div", {}, p))));
        return;
      }
      fill(msg);
      const lines = r.options.map((o) => `${o.label}: ${counts[o.key]}`).join(" · ");
      if (!(await confirmBox("Ghi kết quả kiểm phiếu", `${r.motion} — ${lines} · thu về ${collected} phiếu.`, "Ghi kết quả"))) return;
      await act(save, () => this.live.run({ type: "vote_enter_paper_result", round_id: r.id, counts, ballots_collected: Number(collected) }), "Đã ghi kết quả kiểm phiếu giấy.");
    });
    return form;
  }

  render(state) {
    const rounds = Object.values(state.votes.rounds).filter((r) => r.paper && r.status === "open");
    const key = rounds.map((r) => r.id).join(",");
    $("#paper").classList.toggle("hidden", !rounds.length);
    if (key === this.key) return; // the fields hold what the secretariat is typing
    this.key = key;
    fill("#paper-rounds", rounds.map((r) => this.form(r)));
  }
}
