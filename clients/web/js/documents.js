// The tablet's documents: the manifest (what this delegate may read, with short-lived signed links), each copy
// downloaded and checked against its SHA-256, the check acknowledged so the secretariat's delivery matrix shows
// it, and the chair's "follow me" page opened from the local copy. A server without the documents routes
// (404) simply shows no documents card.

import { api } from "./api.js";
import { fill, h } from "./ui.js";

export const DOCUMENT_EVENTS = new Set(["document_published", "document_replaced", "document_withdrawn"]);
const KIND = {
  submission: "Tờ trình",
  review_report: "Báo cáo thẩm tra",
  draft_resolution: "Dự thảo nghị quyết",
  other: "Tài liệu",
};
const ACCESS = { public: "công khai", delegates: "chỉ đại biểu", restricted: "bản cấp riêng", secret: "mật" };

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Documents {
  constructor(sessionId, container, card, getState, onOpen = null) {
    this.sessionId = sessionId;
    this.onOpen = onOpen; // (documentId, page) -> the in-page reader; without it a link opens the file
    this.getState = getState;
    this.tried = false;
    this.container = container;
    this.card = card;
    this.manifest = null;
    this.copies = new Map(); // "doc:version" -> object URL of the checked local copy
    this.sync = null; // js/sync.js (the tablet): copies kept on the device, the manifest when offline
    this.busy = false;
    this.again = false;
  }

  get base() {
    return `/api/sessions/${encodeURIComponent(this.sessionId)}/documents`;
  }

  async load() {
    this.tried = true;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      try {
        this.manifest = await api("GET", `${this.base}/manifest`);
      } catch (err) {
        const kept = this.sync && (await this.sync.savedManifest()); // offline: the last one, with its copies
        if (!kept) throw err;
        this.manifest = kept;
      }
      this.card.classList.toggle("hidden", !this.manifest.documents.length);
      this.render();
      if (this.onLoaded) this.onLoaded(); // the page may name a document that just arrived
      if (this.sync) await this.sync.run(this.manifest);
      else for (const d of this.manifest.documents) await this.fetchCopy(d);
      this.render();
    } catch {
      this.card.classList.add("hidden"); // no documents service here, or none for this account
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.load();
      }
    }
  }

  title(documentId) {
    const d = this.manifest && this.manifest.documents.find((x) => x.document_id === documentId);
    return d ? d.title : documentId;
  }

  /** The object URL of this version's checked local copy, if there is one. */
  local(d) {
    const older = this.sync && this.sync.older(d); // a replaced version, kept until the new one verifies
    return this.copies.get(`${d.document_id}:${d.version}`) || (older && older.url) || null;
  }

  /** Download one copy, check its SHA-256, acknowledge (or report the failure) once. */
  async fetchCopy(d) {
    const key = `${d.document_id}:${d.version}`;
    if (!d.url || !d.sha256 || this.copies.has(key)) return;
    // crypto.subtle exists only in a secure context (https, or localhost); elsewhere the link is used as is.
    if (!globalThis.crypto || !crypto.subtle) return;
    const path = `${this.base}/${encodeURIComponent(d.document_id)}/versions/${d.version}`;
    try {
      const response = await fetch(d.url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const buffer = await response.arrayBuffer();
      const got = await sha256Hex(buffer);
      if (got !== d.sha256.toLowerCase()) throw new Error("SHA-256 không khớp / mismatch");
      this.copies.set(key, URL.createObjectURL(new Blob([buffer], { type: "application/pdf" })));
      if (d.delivery !== "received") await api("POST", `${path}/receipt`, { sha256: got, id: `ack:${key}:${got.slice(0, 16)}` });
    } catch (err) {
      if (d.delivery !== "failed") {
        try {
          await api("POST", `${path}/failure`, { reason: String(err && err.message ? err.message : err).slice(0, 200) });
        } catch {
          // Reported next time.
        }
      }
    }
  }

  render() {
    const state = this.getState();
    if (!this.manifest || !state) return;
    const current = state.hall.current_item;
    const follow = state.agenda.follow_me;
    const docs = [...this.manifest.documents].sort((a, b) => (b.item_id === current) - (a.item_id === current));
    fill(
      this.container,
      this.sync ? this.sync.summary() : null,
      docs.map((d) => {
        const local = this.local(d);
        const href = local || d.url;
        const followed = follow && follow.document_id === d.document_id;
        const item = d.item_id && state.agenda.items[d.item_id];
        return h(
          "div",
          { class: `banner ${followed ? "warn" : d.item_id === current ? "info" : ""}`, dataset: { document: d.document_id } },
          h("strong", {}, d.title),
          " ",
          h("small", {}, `${KIND[d.kind] || d.kind} · ${ACCESS[d.access] || d.access} · bản ${d.version}${d.pages ? ` · ${d.pages} trang` : ""}`),
          item ? h("div", {}, h("small", {}, item.title)) : null,
          h(
            "div",
            { class: "row" },
            href && this.onOpen
              ? h(
                  "button",
                  { class: followed ? "primary" : "", dataset: { open: d.document_id }, onclick: () => this.onOpen(d.document_id, followed ? follow.page : 1) },
                  followed ? `Đọc trang ${follow.page}` : "Đọc tài liệu",
                )
              : null,
            href ? h("a", { class: "button", href: followed ? `${href}#page=${follow.page}` : href, target: "_blank", rel: "noopener" }, this.onOpen ? "Tải về" : followed ? `Mở trang ${follow.page}` : "Mở tài liệu") : h("small", {}, d.note_vi || "Không có bản điện tử."),
            this.sync ? this.sync.badge(d) : local ? h("span", { class: "pill ok" }, "đã tải, mã SHA-256 khớp") : null,
            d.stamped ? h("span", { class: "pill" }, "bản đóng dấu tên đại biểu") : null,
          ),
        );
      }),
    );
  }
}
