// The public page of a council's petitions: how many by field and by agency are in each status, and how many are
// overdue. Numbers only, no sign-in: the server's summary holds no petition's text, area or voter's name.

import { errorBanner, fill, h } from "../ui.js";
import { stackedBars, tiles } from "./charts.js";
import { Register, rows } from "./data.js";

async function main() {
  const params = new URLSearchParams(location.search);
  const councilId = params.get("council") || "";
  const termId = params.get("term") || "";
  const view = document.getElementById("view");
  if (!councilId || !termId) {
    fill(view, h("div", { class: "card wide" }, h("h1", {}, "Chưa chọn Hội đồng"), h("p", {}, "Địa chỉ trang cần có ?council=<mã Hội đồng>&term=<mã nhiệm kỳ>.")));
    return;
  }
  const reg = new Register(councilId, termId);
  const s = await reg.summary();
  const fields = Object.fromEntries(s.fields.map((f) => [f.id, f.name]));
  const agencies = Object.fromEntries(s.agencies.map((a) => [a.id, a.name]));
  const sum = (st) => Object.values(s.by_field).reduce((n, c) => n + (c[st] || 0), 0);
  const done = sum("resolved");
  fill(
    view,
    h(
      "section",
      { class: "card wide" },
      h("h1", {}, "Kết quả giải quyết kiến nghị cử tri"),
      h("p", { class: "muted" }, "Số liệu cập nhật khi mở trang. Trang chỉ có số liệu tổng hợp, không có nội dung kiến nghị hay thông tin cá nhân của cử tri."),
      tiles([
        { key: "total", label: "Kiến nghị cử tri", value: s.total },
        { key: "done", label: "Đã giải quyết", value: done, tone: "ok" },
        { key: "rate", label: "Tỷ lệ đã giải quyết", value: s.total ? `${Math.round((100 * done) / s.total)}%` : "—" },
        { key: "overdue", label: "Quá hạn chưa giải quyết", value: s.overdue, tone: "bad" },
      ]),
    ),
    h("section", { class: "card" }, h("h2", {}, "Theo lĩnh vực"), stackedBars("Kiến nghị theo lĩnh vực và trạng thái", rows(s.by_field, (k) => fields[k] || "Chưa phân loại"), { id: "chart-field" })),
    h("section", { class: "card" }, h("h2", {}, "Theo cơ quan giải quyết"), stackedBars("Kiến nghị theo cơ quan và trạng thái", rows(s.by_agency, (k) => agencies[k] || "Chưa giao"), { id: "chart-agency" })),
  );
}

main().catch((err) => fill("#view", errorBanner(err)));
