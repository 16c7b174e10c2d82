// The office's page: the Standing Committee's and the Front's dashboard, and for the secretariat the list with
// search and filters, classifying, assigning, concluding, merging, and the import of a group's summary table.

import { fill, h, showError, toast } from "../ui.js";
import { rows, GROUP, KIND, OUTCOMES, REASON, STATUS, STATUS_ORDER, canConclude, canManage } from "./data.js";
import { stackedBars, tiles } from "./charts.js";
import { actionForm, control, detailDialog, itemLine, pager } from "./items.js";
import { carryOverCard, reportAttachCard } from "./session.js";

const PAGE = 25;

export class OfficeScreen {
  constructor(reg, account, root) {
    this.reg = reg;
    this.account = account;
    this.root = root;
    this.filters = {};
    this.offset = 0;
  }

  tabs() {
    const list = [
      ["dashboard", "Tổng quan"],
      ["list", "Danh sách, tìm kiếm"],
      ["topics", "Gợi ý chất vấn"],
    ];
    if (canManage(this.account)) list.push(["import", "Nhập bảng tổng hợp"], ["session", "Trình kỳ họp"]);
    return list;
  }

  show(tab) {
    if (tab === "list") return this.list();
    if (tab === "import") return this.importer();
    if (tab === "topics") return this.topics();
    if (tab === "session") return this.intoSession();
    return this.dashboard();
  }

  // --- dashboard -------------------------------------------------------------------------------------------------
  async dashboard() {
    fill(this.root, h("p", { class: "muted" }, "Đang tải số liệu…"));
    const d = await this.reg.dashboard();
    const sum = (status) => Object.values(d.by_kind).reduce((n, c) => n + (c[status] || 0), 0);
    const pick = (key) => (row) => {
      this.filters = { [key]: row.key || "" };
      this.offset = 0;
      this.goto("list");
    };
    const overdueRows = Object.entries(d.overdue_by_agency)
      .map(([k, n]) => ({ key: k, name: this.reg.agencyName(k), counts: { not_resolved: n }, total: n }))
      .sort((a, b) => b.total - a.total);
    fill(
      this.root,
      h(
        "section",
        { class: "card wide", id: "dash-totals" },
        h("h2", {}, "Tình hình giải quyết"),
        tiles([
          { key: "total", label: "Tổng số kiến nghị, cam kết, kết luận", value: d.total },
          { key: "waiting", label: "Chờ phân loại, chuyển cơ quan", value: sum("received") + sum("classified"), tone: "warn" },
          { key: "assigned", label: "Đang chờ trả lời", value: sum("assigned") },
          { key: "answered", label: "Đã trả lời, chờ đánh giá", value: sum("answered") },
          { key: "done", label: "Đã giải quyết", value: sum("resolved"), tone: "ok" },
          { key: "overdue", label: "Quá hạn", value: d.overdue, tone: "bad" },
        ]),
      ),
      h(
        "section",
        { class: "card", id: "dash-overdue" },
        h("h2", {}, "Quá hạn theo cơ quan"),
        overdueRows.length
          ? h(
              "ol",
              { class: "overdue-list" },
              overdueRows.map((r) =>
                h(
                  "li",
                  {},
                  h(
                    "button",
                    {
                      class: "link",
                      onclick: () => {
                        this.filters = { agency: r.key, overdue: true };
                        this.offset = 0;
                        this.goto("list");
                      },
                    },
                    r.name,
                  ),
                  h("span", { class: "pill bad" }, `${r.total} quá hạn`),
                ),
              ),
            )
          : h("p", { class: "muted" }, "Không có kiến nghị nào quá hạn."),
        h("h3", {}, "Theo loại"),
        h(
          "table",
          { class: "kinds" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Loại"), h("th", { scope: "col", class: "num" }, "Tổng"), h("th", { scope: "col", class: "num" }, "Đã giải quyết"))),
          h(
            "tbody",
            {},
            rows(d.by_kind, (k) => KIND[k] || k).map((r) => h("tr", {}, h("th", { scope: "row" }, r.name), h("td", { class: "num" }, r.total), h("td", { class: "num" }, r.counts.resolved || 0))),
          ),
        ),
      ),
      h("section", { class: "card" }, h("h2", {}, "Theo lĩnh vực"), stackedBars("Số kiến nghị theo lĩnh vực và trạng thái", rows(d.by_field, (k) => this.reg.fieldName(k || null)), { onPick: pick("field"), id: "chart-field" })),
      this.reportCard(),
      h(
        "section",
        { class: "card wide" },
        h("h2", {}, "Theo cơ quan giải quyết"),
        stackedBars("Số kiến nghị theo cơ quan và trạng thái", rows(d.by_agency, (k) => this.reg.agencyName(k || null)), { onPick: pick("agency"), id: "chart-agency" }),
      ),
    );
  }

  /** The Front's summary report for a session: the sessions the voter meetings came before, newest first. */
  reportCard() {
    const sessions = [...new Set(this.reg.info.meetings.filter((m) => m.timing === "before" && m.session_id).map((m) => m.session_id))];
    if (!sessions.length) return null;
    const form = actionForm(
      "Báo cáo tổng hợp kiến nghị cử tri (PDF)",
      [control("Trước kỳ họp", "session", { options: sessions.map((x) => [x, x]), value: sessions[0] })],
      "Tạo báo cáo",
      {
        name: "report",
        submit: async (f) => {
          const blob = await this.reg.reportPdf(f.session.value);
          const a = h("a", { href: URL.createObjectURL(blob), download: `bao-cao-kien-nghi-${f.session.value}.pdf` });
          document.body.append(a);
          a.click();
          a.remove();
        },
      },
    );
    const attach = canManage(this.account) ? h("p", {}, h("button", { type: "button", class: "link", id: "to-attach", onclick: () => this.goto("session") }, "Đưa báo cáo vào chương trình kỳ họp →")) : null;
    return h("section", { class: "card", id: "report" }, h("h2", {}, "Báo cáo trình kỳ họp"), form, attach);
  }

  // --- list, search, filters -------------------------------------------------------------------------------------
  filterForm() {
    const reg = this.reg;
    const f = this.filters;
    const opt = (pairs, all) => [["", all], ...pairs];
    const form = h(
      "form",
      {
        class: "filters",
        role: "search",
        onsubmit: (e) => {
          e.preventDefault();
          const data = new FormData(form);
          this.filters = Object.fromEntries([...data.entries()].filter(([, v]) => v !== ""));
          if (this.filters.overdue) this.filters.overdue = true;
          this.offset = 0;
          this.refreshList();
        },
      },
      h("div", { class: "search-line" }, control("Tìm trong nội dung, địa bàn (có dấu hoặc không dấu)", "q", { type: "search", value: f.q || "" }), h("button", { class: "primary", type: "submit" }, "Tìm")),
      h(
        "div",
        { class: "filter-grid" },
        control("Lĩnh vực", "field", { options: opt(reg.info.fields.map((x) => [x.id, x.name]), "Tất cả lĩnh vực"), value: f.field || "" }),
        control("Cơ quan", "agency", { options: opt(reg.info.agencies.map((x) => [x.id, x.name]), "Tất cả cơ quan"), value: f.agency || "" }),
        control("Trạng thái", "status", { options: opt([...STATUS_ORDER, "merged"].map((s) => [s, STATUS[s]]), "Tất cả trạng thái"), value: f.status || "" }),
        control("Loại", "kind", { options: opt(Object.entries(KIND), "Tất cả các loại"), value: f.kind || "" }),
        control("Nhóm", "group", { options: opt(Object.entries(GROUP), "Tất cả các nhóm"), value: f.group || "" }),
        h("label", { class: "inline check" }, h("input", { type: "checkbox", name: "overdue", value: "true", checked: !!f.overdue }), "Chỉ những kiến nghị quá hạn"),
      ),
    );
    return form;
  }

  async list() {
    this.listBox = h("div", { id: "list-box" });
    fill(this.root, h("section", { class: "card wide" }, h("h2", {}, "Danh sách kiến nghị, cam kết, kết luận"), this.filterForm(), this.listBox));
    await this.refreshList();
  }

  async refreshList() {
    fill(this.listBox, h("p", { class: "muted", role: "status" }, "Đang tìm…"));
    try {
      const page = await this.reg.items(this.filters, { limit: PAGE, offset: this.offset });
      const go = (offset) => {
        this.offset = offset;
        this.refreshList();
      };
      fill(
        this.listBox,
        page.items.length ? h("ul", { class: "items", id: "items" }, page.items.map((i) => itemLine(this.reg, i, (id) => this.open(id)))) : h("p", { class: "muted", id: "items-empty" }, "Không có kết quả phù hợp."),
        pager(page, { limit: PAGE, offset: this.offset }, go),
      );
    } catch (err) {
      fill(this.listBox);
      showError(err);
    }
  }

  async open(id) {
    try {
      const item = await this.reg.item(id);
      const dlg = detailDialog(this.reg, item, { actions: (i, d) => this.actions(i, d), onLink: (i, d) => this.download(i, d) });
      document.body.append(dlg);
      dlg.showModal();
    } catch (err) {
      showError(err);
    }
  }

  async download(itemId, documentId) {
    try {
      location.href = await this.reg.answerLink(itemId, documentId);
    } catch (err) {
      showError(err);
    }
  }

  /** After a command: the dialog shows the item as it is now and the list behind it is refreshed. */
  async done(dlg, id, text) {
    toast(text, "ok");
    dlg.close();
    await this.open(id);
    if (this.listBox) this.refreshList();
  }

  actions(item, dlg) {
    const reg = this.reg;
    const out = [];
    const manage = canManage(this.account);
    const run = (cmd, text) => async () => {
      await reg.command(cmd);
      await this.done(dlg, item.id, text);
    };
    if (manage && ["received", "classified"].includes(item.status)) {
      out.push(
        actionForm(
          "Phân loại",
          [
            control("Lĩnh vực", "field_id", { options: [["", "— chọn lĩnh vực —"], ...reg.info.fields.map((f) => [f.id, f.name])], value: item.field_id || "", required: true }),
            item.kind === "petition" ? control("Nhóm", "group", { options: [["", "— chọn nhóm —"], ...Object.entries(GROUP)], value: item.group || "", required: true }) : null,
          ],
          "Lưu phân loại",
          {
            name: "classify",
            check: (form) => (!form.field_id.value ? "Vui lòng chọn lĩnh vực." : form.group && !form.group.value ? "Vui lòng chọn nhóm kiến nghị." : ""),
            submit: (form) =>
              run({ type: "classify_item", item_id: item.id, field_id: form.field_id.value, group: form.group ? form.group.value : null }, "Đã phân loại.")(),
          },
        ),
      );
    }
    const assignable = item.status === "classified" || item.status === "assigned" || (item.kind !== "petition" && item.status === "received");
    if (manage && assignable) {
      const moving = item.status === "assigned";
      out.push(
        actionForm(
          moving ? "Chuyển sang cơ quan khác" : "Chuyển cơ quan giải quyết",
          [
            control("Cơ quan", "agency_id", { options: [["", "— chọn cơ quan —"], ...reg.info.agencies.map((a) => [a.id, a.name])], value: "", required: true }),
            control("Thời hạn (để trống: theo quy định của Hội đồng)", "due", { type: "date" }),
            moving ? control("Lý do chuyển", "note", { required: true }) : null,
          ],
          moving ? "Chuyển" : "Giao cơ quan",
          {
            name: "assign",
            check: (form) => (!form.agency_id.value ? "Vui lòng chọn cơ quan giải quyết." : moving && !form.note.value.trim() ? "Vui lòng nêu lý do chuyển cơ quan." : ""),
            submit: (form) =>
              run(
                { type: "assign_item", item_id: item.id, agency_id: form.agency_id.value, due: form.due.value || null, note: form.note ? form.note.value.trim() : "" },
                `Đã giao ${reg.agencyName(form.agency_id.value)}.`,
              )(),
          },
        ),
      );
    }
    if (canConclude(this.account) && ["assigned", "answered", "partly_resolved", "roadmap"].includes(item.status)) {
      out.push(
        actionForm(
          "Đánh giá kết quả giải quyết",
          [
            control("Kết quả", "outcome", { options: [["", "— chọn kết quả —"], ...OUTCOMES.map((s) => [s, STATUS[s]])], required: true }),
            control("Nhận xét, lý do", "note", { multiline: true, required: true }),
            control("Thời hạn mới (bắt buộc khi đưa vào lộ trình)", "next_due", { type: "date" }),
          ],
          "Ghi kết quả",
          {
            name: "conclude",
            check: (form) =>
              !form.outcome.value
                ? "Vui lòng chọn kết quả."
                : !form.note.value.trim()
                  ? "Vui lòng nhập nhận xét, lý do."
                  : form.outcome.value === "roadmap" && !form.next_due.value
                    ? "Đưa vào lộ trình cần có thời hạn mới."
                    : ["resolved", "not_resolved"].includes(form.outcome.value) && form.next_due.value
                      ? "Kết quả này không có thời hạn mới; hãy để trống."
                      : "",
            submit: (form) =>
              run(
                { type: "conclude_item", item_id: item.id, outcome: form.outcome.value, note: form.note.value.trim(), next_due: form.next_due.value || null },
                "Đã ghi kết quả.",
              )(),
          },
        ),
      );
    }
    if (manage && item.kind === "petition" && !["merged"].includes(item.status)) {
      out.push(
        actionForm("Gộp kiến nghị trùng vào kiến nghị này", [control("Mã kiến nghị trùng", "duplicate_id", { required: true }), control("Ghi chú", "note")], "Gộp", {
          name: "merge",
          check: (form) => (!form.duplicate_id.value.trim() ? "Vui lòng nhập mã kiến nghị trùng." : form.duplicate_id.value.trim() === item.id ? "Không thể gộp một kiến nghị vào chính nó." : ""),
          submit: (form) => run({ type: "merge_petitions", item_id: item.id, duplicate_id: form.duplicate_id.value.trim(), note: form.note.value.trim() }, "Đã gộp kiến nghị.")(),
        }),
      );
    }
    if (canConclude(this.account) && ["resolved", "partly_resolved", "roadmap", "not_resolved"].includes(item.status)) {
      out.push(
        actionForm("Mở lại (cử tri tiếp tục kiến nghị)", [control("Lý do", "note", { required: true })], "Mở lại", {
          name: "reopen",
          check: (form) => (!form.note.value.trim() ? "Vui lòng nêu lý do mở lại." : ""),
          submit: (form) => run({ type: "reopen_item", item_id: item.id, note: form.note.value.trim() }, "Đã mở lại.")(),
        }),
      );
    }
    return out;
  }

  // --- questioning topics --------------------------------------------------------------------------------------
  async topics() {
    fill(this.root, h("p", { class: "muted", role: "status" }, "Đang tải…"));
    try {
      const out = await this.reg.topics({ limit: 100 });
      fill(
        this.root,
        h(
          "section",
          { class: "card wide", id: "topics" },
          h("h2", {}, "Gợi ý nội dung chất vấn"),
          h(
            "p",
            { class: "muted" },
            `${out.total} kiến nghị, cam kết, kết luận chưa được giải quyết dứt điểm: quá hạn (lâu nhất trước), không giải quyết được, hoặc cử tri tiếp tục kiến nghị. Mã liên kết ghi kèm câu hỏi chất vấn để theo dõi.`,
          ),
          h(
            "ul",
            { class: "items", id: "items" },
            out.topics.map((t) => {
              const line = itemLine(this.reg, t.item, (id) => this.open(id));
              // Overdue already shows as the deadline's red label; the other reasons get their own.
              line.querySelector(".item-head").append(...t.reasons.filter((r) => r !== "overdue").map((r) => h("span", { class: "pill warn", dataset: { reason: r } }, REASON[r])));
              line.append(h("p", { class: "item-meta" }, "Liên kết: ", h("code", {}, t.link)));
              return line;
            }),
          ),
        ),
      );
    } catch (err) {
      fill(this.root);
      showError(err);
    }
  }

  // --- into the session: the report on the agenda, the carry-over (js/petitions/session.js) -----------------------
  async intoSession() {
    const carry = carryOverCard(this.reg, {
      onDone: () => {
        this.filters = {};
        this.offset = 0;
        this.goto("list");
      },
    });
    fill(this.root, h("p", { class: "muted", role: "status" }, "Đang tải…"));
    fill(this.root, await reportAttachCard(this.reg), carry);
  }

  // --- import ----------------------------------------------------------------------------------------------------
  importer() {
    const result = h("div", { id: "import-result" });
    let file = null;
    const form = actionForm(
      "Chọn tệp",
      [
        h(
          "p",
          { class: "muted" },
          "Bảng tổng hợp kiến nghị của Tổ đại biểu (CSV UTF-8 hoặc XLSX, tối đa 2 MB, 2 000 dòng). Cột bắt buộc: ",
          h("strong", {}, "Mã buổi TXCT"),
          ", ",
          h("strong", {}, "Nội dung kiến nghị"),
          "; cột không bắt buộc: Địa bàn, Cử tri kiến nghị, Mã kiến nghị.",
        ),
        control("Tệp bảng tổng hợp", "file", { type: "file", accept: ".csv,.xlsx,text/csv", required: true }),
      ],
      "Xem trước",
      {
        name: "import",
        check: (f) => (!f.file.files.length ? "Vui lòng chọn tệp CSV hoặc XLSX." : !/\.(csv|xlsx)$/i.test(f.file.files[0].name) ? "Chỉ nhận tệp .csv hoặc .xlsx." : ""),
        submit: async (f) => {
          file = f.file.files[0];
          const preview = await this.reg.importTable(file);
          this.preview(result, file, preview);
        },
      },
    );
    fill(this.root, h("section", { class: "card wide", id: "import" }, h("h2", {}, "Nhập bảng tổng hợp kiến nghị"), form, result));
  }

  preview(box, file, p) {
    const reg = this.reg;
    const confirm = h(
      "button",
      {
        class: "primary",
        id: "import-confirm",
        disabled: p.errors.length > 0 || p.petitions.length === 0,
        onclick: async () => {
          confirm.disabled = true;
          try {
            const out = await reg.importTable(file, p.hash);
            fill(
              box,
              h("div", { class: "banner ok", role: "status", id: "import-done" }, `Đã ghi ${out.recorded.length} kiến nghị vào sổ.`, out.refused.length ? ` ${out.refused.length} dòng bị từ chối.` : ""),
              out.refused.length ? errorsTable(out.refused) : null,
            );
          } catch (err) {
            confirm.disabled = false;
            showError(err);
          }
        },
      },
      `Ghi ${p.petitions.length} kiến nghị vào sổ`,
    );
    fill(
      box,
      h("h3", {}, `Xem trước: ${p.rows} dòng — ${p.petitions.length} kiến nghị hợp lệ, ${p.errors.length} dòng lỗi`),
      p.errors.length ? [h("div", { class: "banner bad", role: "alert" }, "Bảng còn dòng lỗi: sửa tệp rồi xem trước lại. Chưa có gì được ghi."), errorsTable(p.errors)] : null,
      p.petitions.length
        ? h(
            "div",
            { class: "table-scroll" },
            h(
              "table",
              { id: "import-rows" },
              h("thead", {}, h("tr", {}, ["Dòng", "Mã", "Buổi TXCT", "Nội dung", "Địa bàn"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                p.petitions.map((r) => h("tr", {}, h("td", { class: "num" }, r.row), h("td", {}, r.petition_id), h("td", {}, reg.meetings[r.meeting_id]?.place || r.meeting_id), h("td", {}, r.text), h("td", {}, r.area))),
              ),
            ),
          )
        : null,
      h("div", { class: "row" }, confirm),
    );
  }
}

function errorsTable(errors) {
  return h(
    "table",
    { id: "import-errors" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Dòng"), h("th", { scope: "col" }, "Lỗi"))),
    h("tbody", {}, errors.map((e) => h("tr", {}, h("td", { class: "num" }, e.row), h("td", {}, e.message_vi, h("br"), h("small", {}, e.message_en))))),
  );
}
