// One tracked item as every role sees it: a line in a list and the detail dialog with its sources, answers and
// history. The actions in the dialog are given by the page (the secretariat's, the Standing Committee's, an
// agency's), so this module only renders.

import { day, h } from "../ui.js";
import { citationsSection } from "./citations.js";
import { GROUP, KIND, STATUS, TIMING, daysLeft, isOverdue } from "./data.js";

const TONE = { resolved: "ok", not_resolved: "bad", received: "warn", classified: "warn" };

export function statusPill(item) {
  return h("span", { class: `pill ${TONE[item.status] || ""}`, dataset: { status: item.status } }, STATUS[item.status] || item.status);
}

export function dueText(item) {
  if (!item.due) return null;
  const left = daysLeft(item);
  if (isOverdue(item)) return h("span", { class: "pill bad overdue" }, `Quá hạn ${-left} ngày (hạn ${day(item.due)})`);
  if (left !== null && left >= 0 && left <= 7 && ["assigned", "answered"].includes(item.status)) {
    return h("span", { class: "pill warn" }, left === 0 ? `Hạn hôm nay (${day(item.due)})` : `Còn ${left} ngày (hạn ${day(item.due)})`);
  }
  return h("span", { class: "muted" }, `Hạn ${day(item.due)}`);
}

/** A line of a list: id, status, deadline, text, where it came from and who answers it. */
export function itemLine(reg, item, open) {
  const meetings = (item.sources || []).map((s) => reg.meetings[s.meeting_id]).filter(Boolean);
  return h(
    "li",
    { class: `item${isOverdue(item) ? " is-overdue" : ""}`, dataset: { item: item.id } },
    h(
      "div",
      { class: "item-head" },
      h("button", { class: "link item-open", onclick: () => open(item.id), "aria-label": `Mở ${item.id}` }, item.id),
      statusPill(item),
      dueText(item),
      item.kind !== "petition" ? h("span", { class: "pill" }, KIND[item.kind]) : null,
    ),
    h("p", { class: "item-text" }, item.text),
    h(
      "p",
      { class: "item-meta muted" },
      [
        reg.fieldName(item.field_id),
        reg.agencyName(item.agency_id),
        item.area || (meetings[0] ? meetings[0].place : ""),
        (item.sources || []).length > 1 ? `${item.sources.length} lần kiến nghị` : "",
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  );
}

export function pager(page, { limit, offset }, go) {
  const from = page.total ? offset + 1 : 0;
  const to = Math.min(offset + limit, page.total);
  return h(
    "div",
    { class: "row pager" },
    h("span", { class: "muted", role: "status" }, `${from}–${to} trên ${page.total}`),
    h("button", { disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit)) }, "‹ Trang trước"),
    h("button", { disabled: to >= page.total, onclick: () => go(offset + limit) }, "Trang sau ›"),
  );
}

function meetingLine(reg, source) {
  const m = reg.meetings[source.meeting_id];
  const what = `${day(m.held_on)} — ${m.place} (${TIMING[m.timing] || m.timing}${m.session_id ? ` ${m.session_id}` : ""})`;
  return h("li", {}, what, source.petitioner ? h("span", { class: "muted" }, ` · cử tri ${source.petitioner}`) : null);
}

function answerView(reg, item, a, onLink) {
  return h(
    "li",
    { class: "answer" },
    h("p", {}, h("strong", {}, reg.agencyName(a.agency_id)), h("span", { class: "muted" }, ` · ${day(a.stamp.at)}`)),
    h("p", {}, a.text),
    a.document_id ? h("button", { class: "link", onclick: () => onLink(item.id, a.document_id), dataset: { document: a.document_id } }, "Tải văn bản trả lời (PDF)") : null,
  );
}

/** The dialog with one item; `actions(item, dialog)` returns the forms the viewer may use on it. */
export function detailDialog(reg, item, { actions = () => [], onLink }) {
  const facts = [
    ["Loại", KIND[item.kind]],
    ["Trạng thái", statusPill(item)],
    ["Lĩnh vực", reg.fieldName(item.field_id)],
    item.group ? ["Nhóm", GROUP[item.group]] : null,
    ["Cơ quan giải quyết", reg.agencyName(item.agency_id)],
    item.due ? ["Thời hạn", dueText(item)] : null,
    item.area ? ["Địa bàn", item.area] : null,
    item.merged_into ? ["Đã gộp vào kiến nghị", item.merged_into] : null,
    item.merged_from?.length ? ["Đã gộp từ", item.merged_from.join(", ")] : null,
    item.reopened ? ["Mở lại", `${item.reopened} lần`] : null,
    item.link ? ["Chất vấn", `${item.link.session_id} · câu hỏi ${item.link.question_id}`] : null,
  ].filter(Boolean);
  const actionsBox = h("div", { class: "detail-actions" });
  const dlg = h(
    "dialog",
    { class: "detail", "aria-labelledby": "detail-title", dataset: { item: item.id } },
    h("div", { class: "detail-head" }, h("h2", { id: "detail-title" }, `${KIND[item.kind]} ${item.id}`), h("button", { class: "close", onclick: () => dlg.close(), "aria-label": "Đóng" }, "✕")),
    h("p", { class: "detail-text" }, item.text),
    h("dl", { class: "facts" }, facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    // An agency is not shown the meetings (nor the voters' names): the area says where.
    item.sources?.some((s) => reg.meetings[s.meeting_id])
      ? [h("h3", {}, "Nguồn: buổi tiếp xúc cử tri"), h("ul", { class: "plain" }, item.sources.filter((s) => reg.meetings[s.meeting_id]).map((s) => meetingLine(reg, s)))]
      : null,
    h("h3", {}, "Trả lời của cơ quan"),
    item.answers?.length ? h("ul", { class: "plain answers" }, item.answers.map((a) => answerView(reg, item, a, onLink))) : h("p", { class: "muted" }, "Chưa có trả lời."),
    citationsSection(reg, item),
    actionsBox,
    item.history?.length
      ? h(
          "details",
          { class: "history" },
          h("summary", {}, `Quá trình xử lý (${item.history.length} bước)`),
          h(
            "ol",
            {},
            item.history.map((t) => h("li", {}, h("strong", {}, STATUS[t.status] || t.status), ` · ${day(t.stamp.at)}`, t.stamp.note ? h("span", { class: "muted" }, ` — ${t.stamp.note}`) : null)),
          ),
        )
      : null,
  );
  actionsBox.append(...actions(item, dlg).filter(Boolean));
  dlg.addEventListener("close", () => dlg.remove());
  return dlg;
}

/** A small form with Vietnamese validation: `check(form)` returns a message or "" before `submit` runs. */
export function actionForm(title, fields, submitLabel, { check = () => "", submit, name = "" }) {
  const msg = h("p", { class: "form-msg", role: "alert" });
  const form = h(
    "form",
    {
      class: "action",
      novalidate: true,
      dataset: { action: name },
      onsubmit: async (e) => {
        e.preventDefault();
        const problem = check(form);
        msg.textContent = problem;
        if (problem) return;
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        try {
          await submit(form);
        } catch (err) {
          msg.textContent = err.message_vi ? `${err.message_vi} (${err.message_en})` : String(err);
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h3", {}, title),
    fields,
    msg,
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, submitLabel)),
  );
  return form;
}

let fieldSeq = 0;
/** A labelled control: select from [value, text] pairs, or an input/textarea. */
export function control(label, name, { options = null, type = "text", value = "", multiline = false, required = false, accept = "" } = {}) {
  const id = `f-${name}-${++fieldSeq}`;
  let el;
  if (options) el = h("select", { id, name }, options.map(([v, t]) => h("option", { value: v, selected: v === value }, t)));
  else if (multiline) el = h("textarea", { id, name }, value);
  else el = h("input", { id, name, type, value: type === "file" ? null : value, accept: accept || null });
  if (required) el.setAttribute("aria-required", "true");
  if (type === "file") {
    // The browser's own button says "Choose File" in its UI language: a Vietnamese one stands in for it, the
    // input itself stays focusable (and is what the label and the keyboard reach).
    const chosen = h("span", { class: "file-name", "aria-live": "polite" }, "Chưa chọn tệp");
    el.className = "file-input";
    el.setAttribute("aria-label", label);
    el.addEventListener("change", () => {
      chosen.textContent = el.files.length ? el.files[0].name : "Chưa chọn tệp";
    });
    return h("div", { class: "control file" }, h("span", { class: "label-text" }, label, required ? " *" : ""), el, h("label", { for: id, class: "button file-button" }, "Chọn tệp…"), chosen);
  }
  return h("div", { class: "control" }, h("label", { for: id }, label, required ? " *" : ""), el);
}
