// The agenda editor: add, edit, reorder (drag and drop, or the ↑/↓ buttons from the keyboard) and remove items.
// Edit and remove only before the session opens; reorder and add while it is not closed (meeting/agenda.py).

import { newId } from "../api.js";
import { $, ITEM_KIND, ITEM_STATUS, act, confirmBox, fill, h } from "../ui.js";
import { beforeOpening, slug } from "./util.js";

const KINDS = Object.entries(ITEM_KIND);

export class AgendaEditor {
  constructor(live) {
    this.live = live;
    this.dragged = null; // the item id being dragged
    this.focusAfter = null; // [item id, button class] to focus after the next render (keyboard reordering)
  }

  run(command, okText, button) {
    return act(button, () => this.live.run(command), okText);
  }

  move(state, id, delta, button) {
    const order = [...state.agenda.order];
    const i = order.indexOf(id);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= order.length) return;
    [order[i], order[j]] = [order[j], order[i]];
    this.focusAfter = [id, button.classList.contains("up") && j > 0 ? "up" : j < order.length - 1 ? "down" : "up"];
    this.run({ type: "reorder_agenda", order }, "Đã đổi thứ tự chương trình.", button);
  }

  /** Drop `id` before (or after) `target`. */
  dropOn(state, id, target, after) {
    if (!id || id === target) return;
    const order = state.agenda.order.filter((x) => x !== id);
    const at = order.indexOf(target) + (after ? 1 : 0);
    order.splice(at, 0, id);
    if (order.join("\n") === state.agenda.order.join("\n")) return;
    this.run({ type: "reorder_agenda", order }, "Đã đổi thứ tự chương trình.");
  }

  async edit(item) {
    const title = h("input", { id: "edit-title", value: item.title, maxlength: 500, required: true });
    const kind = h(
      "select",
      { id: "edit-kind" },
      KINDS.map(([v, label]) => h("option", { value: v, selected: v === item.kind }, label)),
    );
    const msg = h("div", { role: "alert" });
    const dlg = h(
      "dialog",
      { class: "sec-dialog", "aria-labelledby": "edit-heading" },
      h(
        "form",
        { method: "dialog", novalidate: true },
        h("h2", { id: "edit-heading" }, "Sửa nội dung chương trình"),
        h("label", { for: "edit-title" }, "Tên nội dung"),
        title,
        h("label", { for: "edit-kind" }, "Loại"),
        kind,
        msg,
        h(
          "div",
          { class: "row actions" },
          h("button", { class: "primary", value: "ok", id: "edit-save" }, "Lưu"),
          h("button", { value: "cancel", formnovalidate: true }, "Hủy"),
        ),
      ),
    );
    const form = dlg.querySelector("form");
    form.addEventListener("submit", (e) => {
      if (e.submitter && e.submitter.value === "ok" && !title.value.trim()) {
        e.preventDefault();
        fill(msg, h("p", { class: "banner bad" }, "Vui lòng nhập tên nội dung."));
        title.focus();
      }
    });
    document.body.append(dlg);
    const closed = new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue)));
    dlg.showModal();
    const answer = await closed;
    dlg.remove();
    if (answer !== "ok") return;
    const command = { type: "edit_item", item_id: item.id };
    if (title.value.trim() !== item.title) command.title = title.value.trim();
    if (kind.value !== item.kind) command.kind = kind.value;
    if (!command.title && !command.kind) return;
    await this.run(command, "Đã sửa nội dung chương trình.");
  }

  async remove(item, button) {
    if (!(await confirmBox("Xóa nội dung", `Xóa «${item.title}» khỏi chương trình kỳ họp?`, "Xóa", "Giữ lại"))) return;
    await this.run({ type: "remove_item", item_id: item.id }, `Đã xóa «${item.title}».`, button);
  }

  row(state, id, i, editable, reorderable) {
    const item = state.agenda.items[id];
    const n = state.agenda.order.length;
    const li = h(
      "li",
      {
        class: `sec-item ${item.status}`,
        dataset: { item: id },
        draggable: reorderable ? "true" : null,
      },
      reorderable ? h("span", { class: "grip", "aria-hidden": "true" }, "⠿") : null,
      h(
        "div",
        { class: "sec-item-text" },
        h("strong", {}, item.title),
        h("small", {}, ` ${ITEM_KIND[item.kind] || item.kind} · ${ITEM_STATUS[item.status] || item.status}`),
      ),
      h(
        "div",
        { class: "sec-item-actions" },
        reorderable
          ? [
              h(
                "button",
                { class: "up", type: "button", disabled: i === 0, "aria-label": `Đưa «${item.title}» lên`, onclick: (e) => this.move(state, id, -1, e.currentTarget) },
                "↑",
              ),
              h(
                "button",
                { class: "down", type: "button", disabled: i === n - 1, "aria-label": `Đưa «${item.title}» xuống`, onclick: (e) => this.move(state, id, 1, e.currentTarget) },
                "↓",
              ),
            ]
          : null,
        editable
          ? [
              h("button", { class: "edit", type: "button", "aria-label": `Sửa «${item.title}»`, onclick: () => this.edit(item) }, "Sửa"),
              h("button", { class: "remove danger", type: "button", "aria-label": `Xóa «${item.title}»`, onclick: (e) => this.remove(item, e.currentTarget) }, "Xóa"),
            ]
          : null,
      ),
    );
    if (reorderable) {
      li.addEventListener("dragstart", (e) => {
        this.dragged = id;
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/plain", id);
        li.classList.add("dragging");
      });
      li.addEventListener("dragend", () => {
        this.dragged = null;
        li.classList.remove("dragging");
      });
      li.addEventListener("dragover", (e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = "move";
        li.classList.add("drop-target");
      });
      li.addEventListener("dragleave", () => li.classList.remove("drop-target"));
      li.addEventListener("drop", (e) => {
        e.preventDefault();
        li.classList.remove("drop-target");
        const moving = e.dataTransfer.getData("text/plain") || this.dragged;
        const box = li.getBoundingClientRect();
        // Dropped on the lower half of a row: after it; the upper half: before it. Moving down onto the next
        // row means "after" it — what a person dragging an item down expects.
        const after = e.clientY > box.top + box.height / 2 || state.agenda.order.indexOf(moving) < state.agenda.order.indexOf(id);
        this.dropOn(state, moving, id, after);
      });
    }
    return li;
  }

  render(state) {
    const editable = beforeOpening(state);
    const reorderable = state.hall.status !== "closed";
    const order = state.agenda.order;
    fill(
      "#agenda-list",
      order.length
        ? order.map((id, i) => this.row(state, id, i, editable, reorderable))
        : h("li", { class: "muted" }, "Chương trình chưa có nội dung nào."),
    );
    fill(
      "#agenda-hint",
      editable
        ? "Kéo thả để đổi thứ tự, hoặc dùng nút ↑ ↓. Sửa và xóa được đến khi khai mạc kỳ họp."
        : reorderable
          ? "Kỳ họp đã khai mạc: chỉ còn đổi thứ tự và thêm nội dung; sửa hay xóa cần Hội đồng biểu quyết."
          : "Kỳ họp đã bế mạc.",
    );
    $("#item-form").classList.toggle("hidden", !reorderable);
    if (this.focusAfter) {
      const [id, cls] = this.focusAfter;
      const btn = $(`#agenda-list li[data-item="${CSS.escape(id)}"] button.${cls}`);
      if (btn && !btn.disabled) {
        btn.focus();
        this.focusAfter = null;
      }
    }
  }

  wire() {
    const title = $("#item-title");
    const msg = $("#item-msg");
    title.addEventListener("input", () => {
      $("#item-id").placeholder = slug(title.value) || "tự tạo từ tên";
      fill(msg);
    });
    $("#item-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = title.value.trim();
      if (!text) {
        fill(msg, h("p", { class: "banner bad" }, "Vui lòng nhập tên nội dung."));
        title.focus();
        return;
      }
      const id = $("#item-id").value.trim() || slug(text) || `nd-${newId().slice(0, 8)}`;
      await act(
        $("#item-add"),
        async () => {
          await this.live.run({ type: "add_item", item_id: id, title: text, kind: $("#item-kind").value });
          title.value = "";
          $("#item-id").value = "";
          $("#item-id").placeholder = "tự tạo từ tên";
        },
        "Đã thêm nội dung vào chương trình.",
      );
    });
  }
}
