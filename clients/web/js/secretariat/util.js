// Small helpers the secretariat's panels share.

/** "Nghị quyết về giá đất" -> "nghi-quyet-ve-gia-dat" (ids are ASCII slugs). */
export function slug(text) {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
}

/** A short random suffix so two documents with the same title get different ids. */
export function shortId() {
  const b = new Uint8Array(3);
  globalThis.crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** "1,5 MB" */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toLocaleString("vi-VN", { maximumFractionDigits: 0 })} KB`;
  return `${(bytes / 1024 / 1024).toLocaleString("vi-VN", { maximumFractionDigits: 1 })} MB`;
}

/** Whether the agenda may still be edited item by item: before the session opens (meeting/agenda.py). */
export const beforeOpening = (state) => ["prepared", "checkin_open"].includes(state.hall.status);

let dialogs = 0;
/**
 * A modal question with one labelled text field (ui.js `ask` has no label tied to its field). Resolves with the
 * text, or null when cancelled; `required` refuses an empty answer with a Vietnamese message.
 */
export async function askText(h, title, label, { value = "", required = false, okLabel = "Đồng ý" } = {}) {
  dialogs += 1;
  const id = `ask-${dialogs}`;
  const input = h("input", { id, value, maxlength: 500 });
  const msg = h("div", { role: "alert" });
  const dlg = h(
    "dialog",
    { class: "sec-dialog", "aria-labelledby": `${id}-h` },
    h(
      "form",
      { method: "dialog", novalidate: true },
      h("h2", { id: `${id}-h` }, title),
      h("label", { for: id }, label),
      input,
      msg,
      h("div", { class: "row actions" }, h("button", { class: "primary", value: "ok" }, okLabel), h("button", { value: "cancel" }, "Hủy")),
    ),
  );
  dlg.querySelector("form").addEventListener("submit", (e) => {
    if (required && e.submitter && e.submitter.value === "ok" && !input.value.trim()) {
      e.preventDefault();
      msg.replaceChildren(h("p", { class: "banner bad" }, "Vui lòng nhập nội dung."));
      input.focus();
    }
  });
  document.body.append(dlg);
  const closed = new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue)));
  dlg.showModal();
  const answer = await closed;
  dlg.remove();
  return answer === "ok" ? input.value.trim() : null;
}
