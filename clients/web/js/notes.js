// The reader's notes panel (an add-on of js/reader.js): a note on the page shown, a highlight of text selected in
// the page's text layer (pdf.js TextLayer), a rectangle drawn over the page; the document's notes listed by page;
// and the choice to keep them, encrypted, on the server too (js/notes_store.js says how, docs/SECURITY.md why).
//
// Positions are kept as fractions of the page (0–1), so a highlight sits on the same words at any zoom and on a
// tablet of any size.

import { newId } from "./api.js";
import { NotesStore, cryptoAvailable } from "./notes_store.js";
import { confirmBox, errorBanner, fill, h, showError, toast } from "./ui.js";

const PDFJS = "/vendor/pdfjs-dist/build/pdf.min.mjs";
const KIND = { note: "Ghi chú", highlight: "Tô sáng", rect: "Khoanh vùng" };
const MAX_TEXT = 2000;
const MIN_PASSPHRASE = 8;

const round4 = (x) => Math.round(x * 10000) / 10000;

export class NotesPanel {
  constructor(sessionId, account) {
    this.store = new NotesStore(sessionId, account);
    this.store.onChange = () => this.refresh();
    this.store.onError = showError;
    this.pending = false; // this document's notes have changes the server has not got yet
    this.open = false;
    this.notes = []; // of the document shown
    this.reader = null;
    this.box = null; // the reader's page box, once a page is drawn
    this.drawing = false;
    this.lastRange = null; // the last selection inside the text layer (a tap on a button may clear the live one)
    document.addEventListener("selectionchange", () => {
      const sel = document.getSelection();
      if (sel && sel.rangeCount && !sel.isCollapsed && this.box && this.box.contains(sel.anchorNode)) this.lastRange = sel.getRangeAt(0).cloneRange();
    });
    this.toggle = h("button", { id: "reader-notes-toggle", "aria-controls": "reader-notes", "aria-expanded": "false", onclick: () => this.setOpen(!this.open) }, "Ghi chú");
    this.text = h("textarea", { id: "notes-text", maxlength: String(MAX_TEXT), rows: "3", placeholder: "Viết ghi chú…" });
    this.text.addEventListener("invalid", () => {
      if (this.text.validity.tooLong) this.text.setCustomValidity(`Tối đa ${MAX_TEXT} ký tự. (At most ${MAX_TEXT} characters.)`);
    });
    this.text.addEventListener("input", () => this.text.setCustomValidity(""));
    this.label = h("label", { for: "notes-text" }, "Ghi chú");
    this.rectButton = h("button", { id: "notes-rect", type: "button", "aria-pressed": "false", onclick: () => this.setDrawing(!this.drawing) }, "Khoanh vùng");
    this.status = h("div", { class: "notes-sync", id: "notes-sync" });
    this.list = h("ul", { class: "plain notes-list", id: "notes-list" });
    this.said = h("p", { class: "notes-said", role: "status", "aria-live": "polite" });
    this.panelEl = h(
      "aside",
      { class: "reader-notes hidden", id: "reader-notes", "aria-label": "Ghi chú của tôi" },
      h("h3", {}, "Ghi chú của tôi"),
      this.status,
      this.label,
      this.text,
      h(
        "div",
        { class: "row notes-actions" },
        h("button", { class: "primary", id: "notes-add", type: "button", onclick: () => this.addNote() }, "Lưu ghi chú"),
        h("button", { id: "notes-highlight", type: "button", onclick: () => this.addHighlight() }, "Tô sáng đoạn đã chọn"),
        this.rectButton,
      ),
      this.said,
      this.list,
    );
  }

  // --- reader hooks -------------------------------------------------------------------------------------------
  tools(reader) {
    this.reader = reader;
    this.toggle.textContent = this.notes.length ? `Ghi chú (${this.notes.length})` : "Ghi chú";
    return this.toggle;
  }

  panel(reader) {
    this.reader = reader;
    this.label.textContent = `Ghi chú cho trang ${reader.page}`;
    return this.panelEl;
  }

  async opened(reader) {
    this.reader = reader;
    this.notes = await this.store.list(reader.doc.document_id);
    this.refresh();
    if (this.store.syncing) this.store.pull(reader.doc.document_id).catch(showError);
  }

  /** After the reader drew a page: its text layer (for selecting text) and this page's marks. */
  async drawn(reader, pdfPage, viewport, box) {
    this.box = box;
    const { TextLayer } = await import(PDFJS);
    let layer = box.querySelector(".textLayer");
    if (layer) layer.remove();
    layer = h("div", { class: "textLayer" });
    layer.style.setProperty("--total-scale-factor", String(viewport.scale));
    box.append(layer);
    await new TextLayer({ textContentSource: pdfPage.streamTextContent(), container: layer, viewport }).render();
    this.drawMarks();
  }

  // --- state ----------------------------------------------------------------------------------------------------
  async refresh() {
    const r = this.reader;
    if (!r || !r.doc) return;
    const rec = await this.store.record(r.doc.document_id);
    this.notes = rec.notes.filter((n) => !n.deleted);
    this.pending = rec.dirty;
    this.toggle.textContent = this.notes.length ? `Ghi chú (${this.notes.length})` : "Ghi chú";
    this.renderStatus();
    this.renderList();
    this.drawMarks();
  }

  setOpen(open) {
    this.open = open;
    this.toggle.setAttribute("aria-expanded", String(open));
    this.panelEl.classList.toggle("hidden", !open);
    if (!open) this.setDrawing(false);
    this.refresh();
    // The page area changed width: fit the page to it again (the reader fits to the width unless zoomed).
    if (this.reader && this.reader.pdf) this.reader.draw();
  }

  setDrawing(on) {
    this.drawing = on;
    this.rectButton.setAttribute("aria-pressed", String(on));
    this.rectButton.textContent = on ? "Đang khoanh vùng: kéo trên trang" : "Khoanh vùng";
    this.drawMarks();
  }

  // --- adding -----------------------------------------------------------------------------------------------------
  async save(note) {
    const r = this.reader;
    try {
      await this.store.put(r.doc.document_id, { id: newId(), page: r.page, ...note });
      this.text.value = "";
      fill(this.said, "Đã lưu ghi chú."); // said in the panel, not a toast over the list it just grew

    } catch (err) {
      showError(err);
    }
  }

  addNote() {
    const text = this.text.value.trim();
    if (!text) {
      this.text.setCustomValidity("Vui lòng viết nội dung ghi chú. (Please write the note.)");
      this.text.reportValidity();
      return;
    }
    if (!this.text.reportValidity()) return;
    this.save({ kind: "note", text });
  }

  addHighlight() {
    const sel = document.getSelection();
    const live = sel && sel.rangeCount && !sel.isCollapsed && this.box && this.box.contains(sel.anchorNode) ? sel.getRangeAt(0) : null;
    const range = live || this.lastRange;
    if (!range || !this.box || !range.toString().trim()) {
      toast("Hãy chọn (bôi đen) một đoạn chữ trên trang trước.", "bad", "Select some text on the page first.");
      return;
    }
    const frame = this.box.getBoundingClientRect();
    const rects = [...range.getClientRects()]
      .filter((c) => c.width > 1 && c.height > 1)
      .map((c) => ({ x: round4((c.left - frame.left) / frame.width), y: round4((c.top - frame.top) / frame.height), w: round4(c.width / frame.width), h: round4(c.height / frame.height) }));
    const quote = range.toString().replace(/\s+/g, " ").trim().slice(0, 1000);
    this.lastRange = null;
    if (sel) sel.removeAllRanges();
    this.save({ kind: "highlight", quote, rects, text: this.text.value.trim() });
  }

  // --- the marks over the page ----------------------------------------------------------------------------------
  drawMarks() {
    const box = this.box;
    const r = this.reader;
    if (!box || !r || !r.doc) return;
    let marks = box.querySelector(".notes-marks");
    if (!marks) {
      marks = h("div", { class: "notes-marks", "aria-hidden": "true" });
      box.append(marks);
    }
    const here = this.notes.filter((n) => n.page === r.page);
    const pct = (v) => `${(v * 100).toFixed(2)}%`;
    const place = (el, q) => Object.assign(el.style, { left: pct(q.x), top: pct(q.y), width: pct(q.w), height: pct(q.h) });
    fill(
      marks,
      here.flatMap((n) => {
        const boxes = n.kind === "highlight" ? n.rects : n.kind === "rect" ? [n.rect] : [];
        return boxes.map((q) => {
          const el = h("div", { class: n.kind === "highlight" ? "mark-hl" : "mark-rect", dataset: { note: n.id } });
          place(el, q);
          return el;
        });
      }),
    );
    let pad = box.querySelector(".notes-draw");
    if (this.drawing && !pad) {
      pad = h("div", { class: "notes-draw", id: "notes-draw" });
      this.wireDrawing(pad);
      box.append(pad);
    } else if (!this.drawing && pad) pad.remove();
  }

  wireDrawing(pad) {
    let start = null;
    let preview = null;
    const at = (e) => {
      const f = pad.getBoundingClientRect();
      return { x: Math.min(1, Math.max(0, (e.clientX - f.left) / f.width)), y: Math.min(1, Math.max(0, (e.clientY - f.top) / f.height)) };
    };
    const rectOf = (a, b) => ({ x: round4(Math.min(a.x, b.x)), y: round4(Math.min(a.y, b.y)), w: round4(Math.abs(a.x - b.x)), h: round4(Math.abs(a.y - b.y)) });
    pad.addEventListener("pointerdown", (e) => {
      start = at(e);
      pad.setPointerCapture(e.pointerId);
      preview = h("div", { class: "mark-rect preview" });
      pad.append(preview);
    });
    pad.addEventListener("pointermove", (e) => {
      if (!start) return;
      const q = rectOf(start, at(e));
      Object.assign(preview.style, { left: `${q.x * 100}%`, top: `${q.y * 100}%`, width: `${q.w * 100}%`, height: `${q.h * 100}%` });
    });
    pad.addEventListener("pointerup", (e) => {
      if (!start) return;
      const q = rectOf(start, at(e));
      start = null;
      preview.remove();
      if (q.w < 0.01 || q.h < 0.01) return; // a tap, not a drag
      this.setDrawing(false);
      this.save({ kind: "rect", rect: q, text: this.text.value.trim() });
    });
  }

  // --- the panel ------------------------------------------------------------------------------------------------
  renderStatus() {
    if (this.store.syncing) {
      fill(
        this.status,
        h("p", { class: "banner ok" }, "Lưu cả trên máy chủ, đã mã hóa: chỉ bạn đọc được."),
        this.pending ? h("p", { class: "banner warn", id: "notes-pending" }, "Có ghi chú chưa gửi lên máy chủ: sẽ tự gửi khi có mạng.") : null,
        h("button", { type: "button", id: "notes-lock", onclick: () => this.store.lock().catch(showError) }, "Thôi đồng bộ trên máy này"),
      );
    } else if (!cryptoAvailable()) {
      fill(this.status, h("p", { class: "banner warn" }, "Chỉ lưu trên máy này (cần kết nối https để mã hóa và lưu lên máy chủ)."));
    } else {
      fill(
        this.status,
        h("p", { class: "muted" }, "Chỉ lưu trên máy này."),
        h("button", { type: "button", id: "notes-sync-on", onclick: () => this.askPassphrase() }, "Lưu cả trên máy chủ (mã hóa)…"),
      );
    }
  }

  renderList() {
    const r = this.reader;
    fill(
      this.list,
      this.notes.length
        ? this.notes.map((n) =>
            h(
              "li",
              { class: n.page === r.page ? "here" : "", dataset: { note: n.id, kind: n.kind, page: String(n.page) } },
              h("button", { class: "link", type: "button", onclick: () => r.go(n.page) }, `Trang ${n.page}`),
              " ",
              h("span", { class: `pill ${n.kind === "highlight" ? "hl" : ""}` }, KIND[n.kind] || n.kind),
              n.quote ? h("q", {}, n.quote) : null,
              n.text ? h("p", { class: "note-text" }, n.text) : null,
              h(
                "button",
                { type: "button", class: "note-delete", "aria-label": `Xóa ${(KIND[n.kind] || "ghi chú").toLowerCase()} trang ${n.page}`, onclick: () => this.store.remove(r.doc.document_id, n.id).catch(showError) },
                "Xóa",
              ),
            ),
          )
        : h("li", { class: "muted" }, "Chưa có ghi chú nào trong tài liệu này."),
    );
  }

  /** After a wrong passphrase: the way out for a forgotten one (the server's notes are lost, this device's kept). */
  replaceButton(pass, dlg) {
    return h(
      "button",
      {
        type: "button",
        id: "notes-replace",
        onclick: async () => {
          const ok = await confirmBox(
            "Đặt cụm mật khẩu mới?",
            "Ghi chú đã lưu trên máy chủ bằng cụm mật khẩu cũ sẽ bị xóa. Ghi chú trên máy này được giữ lại và lưu lên máy chủ bằng cụm mật khẩu mới. Máy khác của bạn cần nhập cụm mới.",
            "Đặt cụm mới",
          );
          if (!ok) return;
          try {
            await this.store.unlock(pass.value, true);
            dlg.close();
            if (this.reader && this.reader.doc) await this.store.pull(this.reader.doc.document_id);
          } catch (err) {
            showError(err);
          }
        },
      },
      "Quên cụm cũ? Đặt cụm mới",
    );
  }

  askPassphrase() {
    const pass = h("input", { id: "notes-passphrase", type: "password", autocomplete: "off", minlength: String(MIN_PASSPHRASE), required: true });
    const msg = h("div", { "aria-live": "polite" });
    const send = h("button", { class: "primary", type: "submit", id: "notes-passphrase-ok" }, "Dùng cụm mật khẩu này");
    pass.addEventListener("invalid", () =>
      pass.setCustomValidity(`Cụm mật khẩu cần ít nhất ${MIN_PASSPHRASE} ký tự. (At least ${MIN_PASSPHRASE} characters.)`),
    );
    pass.addEventListener("input", () => pass.setCustomValidity(""));
    const dlg = h(
      "dialog",
      { class: "notes-passphrase", "aria-labelledby": "notes-passphrase-title" },
      h(
        "form",
        {
          onsubmit: async (e) => {
            e.preventDefault();
            send.disabled = true;
            fill(msg, h("p", { class: "muted" }, "Đang tạo khóa…"));
            try {
              await this.store.unlock(pass.value);
              dlg.close();
              toast("Ghi chú sẽ được lưu cả trên máy chủ, đã mã hóa.", "ok");
              if (this.reader && this.reader.doc) await this.store.pull(this.reader.doc.document_id);
            } catch (err) {
              fill(msg, errorBanner(err), err.code === "wrong_passphrase" ? this.replaceButton(pass, dlg) : null);
            } finally {
              send.disabled = false;
            }
          },
        },
        h("h2", { id: "notes-passphrase-title" }, "Cụm mật khẩu ghi chú"),
        h(
          "p",
          {},
          "Ghi chú được mã hóa ngay trên máy này bằng khóa tạo từ cụm mật khẩu bạn chọn. Máy chủ, Văn phòng và người quản trị cơ sở dữ liệu không đọc được. Trên máy thứ hai, nhập cùng cụm mật khẩu để xem lại ghi chú.",
        ),
        h("p", { class: "banner warn" }, "Quên cụm mật khẩu thì không ai khôi phục được ghi chú trên máy chủ."),
        h("label", { for: "notes-passphrase" }, "Cụm mật khẩu (ít nhất 8 ký tự)"),
        pass,
        msg,
        h("div", { class: "row actions" }, send, h("button", { type: "button", onclick: () => dlg.close() }, "Hủy")),
      ),
    );
    dlg.addEventListener("close", () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();
    pass.focus();
  }
}
