// An agency official's page: what is assigned to their agency now, the overdue first, and the answer with its
// PDF (the same checks as a session document on the server). The register scopes it: another agency's item is
// not found.

import { fill, h, showError, toast } from "../ui.js";
import { STATUS, isOverdue } from "./data.js";
import { actionForm, control, detailDialog, itemLine } from "./items.js";

const MAX_PDF = 50 * 1024 * 1024; // server/routes_petitions_answers.py MAX_ANSWER_PDF

export class AgencyScreen {
  constructor(reg, account, root) {
    this.reg = reg;
    this.account = account;
    this.root = root;
    this.status = "";
    this.overdue = false;
  }

  tabs() {
    return [["inbox", "Kiến nghị được giao"]];
  }

  async show() {
    const agency = this.reg.agencyName(this.reg.info.my_agency);
    this.listBox = h("div", { id: "list-box" });
    const form = h(
      "form",
      {
        class: "filters row",
        onchange: () => {
          this.status = form.status.value;
          this.overdue = form.overdue.checked;
          this.refresh();
        },
        onsubmit: (e) => e.preventDefault(),
      },
      control("Trạng thái", "status", {
        options: [["", "Tất cả"], ...["assigned", "answered", "partly_resolved", "roadmap"].map((s) => [s, STATUS[s]])],
        value: this.status,
      }),
      h("label", { class: "inline check" }, h("input", { type: "checkbox", name: "overdue", checked: this.overdue }), "Chỉ những kiến nghị quá hạn"),
    );
    fill(this.root, h("section", { class: "card wide" }, h("h2", {}, `Hộp thư của ${agency}`), form, this.listBox));
    await this.refresh();
  }

  async refresh() {
    fill(this.listBox, h("p", { class: "muted", role: "status" }, "Đang tải…"));
    try {
      const page = await this.reg.inbox({ status: this.status, overdue: this.overdue, limit: 500 });
      // Overdue first, then the nearest deadline: what must be answered now is on top.
      const items = [...page.items].sort((a, b) => Number(isOverdue(b)) - Number(isOverdue(a)) || String(a.due).localeCompare(String(b.due)));
      const late = items.filter((i) => isOverdue(i)).length;
      fill(
        this.listBox,
        h("p", { role: "status" }, `${page.total} kiến nghị đang giao cho cơ quan`, late ? h("strong", { class: "bad-text" }, ` — ${late} quá hạn`) : ""),
        items.length ? h("ul", { class: "items", id: "items" }, items.map((i) => itemLine(this.reg, i, (id) => this.open(id)))) : h("p", { class: "muted", id: "items-empty" }, "Không có kiến nghị nào."),
      );
    } catch (err) {
      fill(this.listBox);
      showError(err);
    }
  }

  async open(id) {
    try {
      const item = await this.reg.item(id);
      const dlg = detailDialog(this.reg, item, {
        actions: (i, d) => this.actions(i, d),
        onLink: async (itemId, doc) => {
          try {
            location.href = await this.reg.answerLink(itemId, doc);
          } catch (err) {
            showError(err);
          }
        },
      });
      document.body.append(dlg);
      dlg.showModal();
    } catch (err) {
      showError(err);
    }
  }

  actions(item, dlg) {
    if (!["assigned", "answered", "partly_resolved", "roadmap"].includes(item.status)) return [];
    return [
      actionForm(
        item.answers.length ? "Trả lời bổ sung" : "Trả lời kiến nghị",
        [
          control("Nội dung trả lời", "text", { multiline: true, required: true }),
          control("Văn bản trả lời (PDF, không bắt buộc)", "file", { type: "file", accept: "application/pdf,.pdf" }),
        ],
        "Gửi trả lời",
        {
          name: "answer",
          check: (form) => {
            if (!form.text.value.trim()) return "Vui lòng nhập nội dung trả lời.";
            const f = form.file.files[0];
            if (f && !/\.pdf$/i.test(f.name) && f.type !== "application/pdf") return "Văn bản trả lời phải là tệp PDF.";
            if (f && f.size > MAX_PDF) return "Tệp PDF quá lớn (tối đa 50 MB).";
            return "";
          },
          submit: async (form) => {
            const f = form.file.files[0];
            const text = form.text.value.trim();
            if (f) await this.reg.answerWithDocument(item.id, text, f);
            else await this.reg.command({ type: "answer_item", item_id: item.id, text });
            toast("Đã gửi trả lời.", "ok");
            dlg.close();
            await this.refresh();
            await this.open(item.id);
          },
        },
      ),
    ];
  }
}
