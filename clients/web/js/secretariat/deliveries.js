// The delivery matrix (GET /api/sessions/{id}/documents/deliveries): seated delegate × document version, with a
// legend in plain text beside it (a tooltip is nothing on a touch screen) and each cell's meaning in words for
// screen readers.

import { api } from "../api.js";
import { $, fill, h } from "../ui.js";
import { ACCESS } from "./documents.js";

export const DELIVERY = {
  received: ["✓", "đã nhận (mã SHA-256 khớp)", "ok"],
  sent: ["↗", "đã gửi, chưa xác nhận", "warn"],
  failed: ["✗", "lỗi (tệp hỏng hoặc máy báo lỗi)", "bad"],
  not_sent: ["·", "chưa gửi", ""],
};

function legend() {
  return h(
    "ul",
    { class: "legend plain", "aria-label": "Chú giải" },
    Object.values(DELIVERY).map(([mark, label, cls]) =>
      h("li", {}, h("span", { class: `pill ${cls}`, "aria-hidden": "true" }, mark), " ", label),
    ),
  );
}

export class DeliveryMatrix {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.timer = null;
  }

  async load() {
    let matrix;
    try {
      matrix = await api("GET", `/api/sessions/${encodeURIComponent(this.sessionId)}/documents/deliveries`);
    } catch {
      $("#deliveries").classList.add("hidden"); // no documents service on this server, or not allowed
      return;
    }
    $("#deliveries").classList.remove("hidden");
    if (!matrix.columns.length) {
      fill("#delivery-matrix", h("p", { class: "muted" }, "Chưa có tài liệu nào được phát hành."));
      return;
    }
    const total = matrix.rows.length;
    fill(
      "#delivery-matrix",
      h(
        "p",
        { class: `banner ${matrix.complete ? "ok" : "warn"}` },
        matrix.complete ? "Mọi đại biểu đã nhận đủ tài liệu hiện hành." : "Còn đại biểu chưa nhận đủ tài liệu.",
      ),
      legend(),
      h(
        "div",
        { class: "matrix-scroll", tabindex: 0, role: "region", "aria-label": "Bảng tình trạng nhận tài liệu" },
        h(
          "table",
          { class: "matrix" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Đại biểu"),
              matrix.columns.map((c) =>
                h(
                  "th",
                  { class: "num", scope: "col" },
                  `${c.title} (bản ${c.version})`,
                  h("br"),
                  h("small", {}, `${ACCESS[c.access] || c.access} · ${c.received}/${total} đã nhận`),
                ),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            matrix.rows.map((r) =>
              h(
                "tr",
                { dataset: { delegate: r.delegate_id } },
                h("th", { scope: "row" }, `${r.delegate_id} ${r.name}`),
                r.statuses.map((st) => {
                  const [mark, label, cls] = DELIVERY[st] || [st, st, ""];
                  return h(
                    "td",
                    { class: "num", dataset: { status: st } },
                    h("span", { class: `pill ${cls}`, "aria-hidden": "true" }, mark),
                    h("span", { class: "visually-hidden" }, label),
                  );
                }),
              ),
            ),
          ),
        ),
      ),
    );
  }

  schedule() {
    if (this.timer) return;
    // Receipts from 85 tablets arrive in a burst: one re-read per 300 ms at most.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load();
    }, 300);
  }
}
