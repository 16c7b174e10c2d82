// The tablet's in-page PDF reader on pdf.js (npm pdfjs-dist, served by this server from node_modules; no CDN):
// one page at a time, zoom, text search, the outline, quick switching between the current item's documents, and
// the chair's "follow me" — the chair's page opens by itself unless the delegate chose "tự xem" (reading on
// their own), with a button back to the chair's page.
//
// pdf.js (~1.7 MB with its worker) is imported only when a document is first opened, so the tablet page itself
// stays light. The reader reads the copy the Documents module already downloaded and checked (SHA-256), or the
// signed link when there is no checked copy yet.

import { fill, h } from "./ui.js";

const PDFJS = "/vendor/pdfjs-dist/build/pdf.min.mjs";
const WORKER = "/vendor/pdfjs-dist/build/pdf.worker.min.mjs";
const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];

let pdfjsModule = null;
async function pdfjs() {
  if (!pdfjsModule) {
    pdfjsModule = await import(PDFJS);
    pdfjsModule.GlobalWorkerOptions.workerSrc = WORKER;
  }
  return pdfjsModule;
}

export class Reader {
  /**
   * @param root the reader's element (hidden until a document is opened)
   * @param documents the Documents module (manifest, checked copies, titles)
   * @param getState the session state as the server sent it
   */
  constructor(root, documents, getState) {
    this.root = root;
    this.documents = documents;
    this.getState = getState;
    this.doc = null; // the manifest entry shown
    this.pdf = null;
    this.page = 1;
    this.zoom = null; // null: fit the page to the width of the screen
    this.following = true; // the chair's "follow me" moves this reader (off after "tự xem")
    this.hits = null; // the last search's results
    this.outline = null;
    this.rendering = Promise.resolve();
    this.loadToken = 0;
    // Add-ons (js/notes.js): {tools(reader) → nodes for the bar, panel(reader) → a side panel,
    // drawn(reader, pdfPage, viewport, box) after each page is drawn, opened(reader) when a document opens}.
    this.plugins = [];
  }

  get isOpen() {
    return !this.root.classList.contains("hidden");
  }

  /** The chair's pointer, when it points at a document this delegate has. */
  chairPointer() {
    const state = this.getState();
    const f = state && state.agenda.follow_me;
    return f && this.entry(f.document_id) ? f : null;
  }

  entry(documentId) {
    const m = this.documents.manifest;
    return (m && m.documents.find((d) => d.document_id === documentId)) || null;
  }

  /** The documents of the same agenda item as the one shown (for quick switching). */
  siblings() {
    const m = this.documents.manifest;
    if (!m || !this.doc) return [];
    return m.documents.filter((d) => d.item_id === this.doc.item_id && !d.withdrawn && (d.url || this.documents.local(d)));
  }

  async open(documentId, page = 1) {
    const d = this.entry(documentId);
    if (!d) return;
    this.root.classList.remove("hidden");
    document.body.classList.add("reading");
    const same = this.doc && this.doc.document_id === d.document_id && this.doc.version === d.version && this.pdf;
    this.doc = d;
    if (!same) {
      const token = ++this.loadToken;
      this.pdf = null;
      this.hits = null;
      this.outline = null;
      this.page = page;
      delete this.root.dataset.drawn; // nothing of this document is on screen yet
      this.render();
      const lib = await pdfjs();
      const source = this.documents.local(d) || d.url;
      const pdf = await lib.getDocument({ url: source, isEvalSupported: false }).promise;
      if (token !== this.loadToken) return; // another document was chosen meanwhile
      this.pdf = pdf;
      this.outline = (await pdf.getOutline()) || [];
    }
    for (const p of this.plugins) if (p.opened) p.opened(this); // each opening (notes: fetch the other devices')
    await this.go(page);
  }

  close() {
    this.root.classList.add("hidden");
    document.body.classList.remove("reading");
  }

  async go(page) {
    if (!this.pdf) return;
    this.page = Math.min(Math.max(1, page), this.pdf.numPages);
    this.render();
    await this.draw();
  }

  /** "Follow me" moved: open the chair's page, unless the delegate reads on their own. */
  follow() {
    const f = this.chairPointer();
    if (f && this.following) return this.open(f.document_id, f.page);
    this.render();
    return Promise.resolve();
  }

  readAlone() {
    this.following = false;
    this.render();
  }

  backToChair() {
    this.following = true;
    return this.follow();
  }

  async search(text) {
    const needle = text.trim().toLocaleLowerCase("vi");
    if (!this.pdf || !needle) {
      this.hits = null;
      this.render();
      return;
    }
    const hits = [];
    for (let n = 1; n <= this.pdf.numPages; n++) {
      const content = await (await this.pdf.getPage(n)).getTextContent();
      const pageText = content.items.map((i) => i.str).join(" ");
      const at = pageText.toLocaleLowerCase("vi").indexOf(needle);
      if (at >= 0) hits.push({ page: n, excerpt: pageText.slice(Math.max(0, at - 40), at + needle.length + 60) });
    }
    this.hits = { text: text.trim(), list: hits };
    this.render();
  }

  async outlineTarget(entry) {
    let dest = entry.dest;
    if (typeof dest === "string") dest = await this.pdf.getDestination(dest);
    if (!Array.isArray(dest)) return null;
    return (await this.pdf.getPageIndex(dest[0])) + 1;
  }

  draw() {
    // One drawing at a time: a quick series of taps ends on the last page asked for.
    this.rendering = this.rendering.then(async () => {
      if (!this.pdf) return;
      const canvas = this.root.querySelector("canvas.reader-page");
      if (!canvas) return;
      const pdfPage = await this.pdf.getPage(this.page);
      const base = pdfPage.getViewport({ scale: 1 });
      const wrap = canvas.closest(".reader-canvas");
      const scale = this.zoom || Math.max(0.3, (wrap.clientWidth - 8) / base.width);
      const dpr = window.devicePixelRatio || 1;
      const viewport = pdfPage.getViewport({ scale: scale * dpr });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = `${Math.floor(viewport.width / dpr)}px`;
      canvas.style.height = `${Math.floor(viewport.height / dpr)}px`;
      await pdfPage.render({ canvas, viewport }).promise;
      for (const p of this.plugins) if (p.drawn) await p.drawn(this, pdfPage, pdfPage.getViewport({ scale }), canvas.parentElement);
      this.root.dataset.drawn = String(this.page);
    });
    return this.rendering;
  }

  setZoom(step) {
    const now = this.zoom || 1;
    const i = ZOOMS.findIndex((z) => z >= now);
    const next = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, (i < 0 ? ZOOMS.length - 1 : i) + step))];
    this.zoom = next;
    this.render();
    this.draw();
  }

  fitWidth() {
    this.zoom = null;
    this.render();
    this.draw();
  }

  /** Redraw the reader's controls from its state (the page canvas is kept and drawn by draw()). */
  render() {
    if (!this.doc) return;
    const d = this.doc;
    const pages = this.pdf ? this.pdf.numPages : d.pages || 0;
    const f = this.chairPointer();
    const onChairPage = f && f.document_id === d.document_id && f.page === this.page;
    this.root.dataset.document = d.document_id;
    this.root.dataset.page = String(this.page);
    this.root.dataset.following = String(this.following);
    let canvas = this.root.querySelector("canvas.reader-page");
    if (!canvas) canvas = h("canvas", { class: "reader-page", role: "img" });
    // The page box holds the canvas and what add-ons lay over it (text layer, highlights); kept across renders.
    const box = canvas.parentElement && canvas.parentElement.classList.contains("reader-pagebox") ? canvas.parentElement : h("div", { class: "reader-pagebox" }, canvas);
    canvas.setAttribute("aria-label", `${d.title}, trang ${this.page}/${pages}`);

    const searchInput = h("input", { id: "reader-search", type: "search", placeholder: "Tìm trong tài liệu", "aria-label": "Tìm trong tài liệu", value: this.hits ? this.hits.text : "" });
    const searchForm = h(
      "form",
      { class: "reader-search", role: "search" },
      searchInput,
      h("button", { type: "submit" }, "Tìm"),
    );
    searchForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this.search(searchInput.value);
    });

    fill(
      this.root,
      h(
        "div",
        { class: "reader-bar" },
        h("button", { id: "reader-close", onclick: () => this.close() }, "← Đóng tài liệu"),
        h("strong", { class: "reader-title" }, d.title),
        f
          ? this.following
            ? h("span", { class: "pill ok", id: "reader-following" }, "Đang theo chủ tọa")
            : h("span", { class: "pill warn", id: "reader-alone" }, "Tự xem")
          : null,
        f && this.following ? h("button", { id: "reader-alone-button", onclick: () => this.readAlone() }, "Tự xem") : null,
        f && (!this.following || !onChairPage)
          ? h("button", { class: "primary", id: "reader-back", onclick: () => this.backToChair() }, `Về trang chủ tọa (trang ${f.page})`)
          : null,
        this.plugins.map((p) => (p.tools ? p.tools(this) : null)),
      ),
      this.siblings().length > 1
        ? h(
            "nav",
            { class: "reader-docs", "aria-label": "Tài liệu cùng nội dung" },
            this.siblings().map((s) =>
              h(
                "button",
                { class: s.document_id === d.document_id ? "current" : "", "aria-current": s.document_id === d.document_id ? "true" : null, dataset: { document: s.document_id }, onclick: () => this.open(s.document_id, 1) },
                s.title,
              ),
            ),
          )
        : null,
      h(
        "div",
        { class: "reader-tools" },
        h("button", { id: "reader-prev", "aria-label": "Trang trước", disabled: this.page <= 1, onclick: () => this.go(this.page - 1) }, "‹ Trước"),
        h("span", { id: "reader-page-num", "aria-live": "polite" }, `Trang ${this.page}/${pages || "…"}`),
        h("button", { id: "reader-next", "aria-label": "Trang sau", disabled: !pages || this.page >= pages, onclick: () => this.go(this.page + 1) }, "Sau ›"),
        h("button", { id: "reader-zoom-out", "aria-label": "Thu nhỏ", onclick: () => this.setZoom(-1) }, "−"),
        h("span", { id: "reader-zoom" }, this.zoom ? `${Math.round(this.zoom * 100)}%` : "Vừa khung"),
        h("button", { id: "reader-zoom-in", "aria-label": "Phóng to", onclick: () => this.setZoom(1) }, "+"),
        this.zoom ? h("button", { id: "reader-fit", onclick: () => this.fitWidth() }, "Vừa khung") : null,
        searchForm,
      ),
      this.hits
        ? h(
            "div",
            { class: "reader-hits", id: "reader-hits" },
            this.hits.list.length
              ? h(
                  "ul",
                  { class: "plain" },
                  this.hits.list.map((x) =>
                    h("li", {}, h("button", { dataset: { page: String(x.page) }, onclick: () => this.go(x.page) }, `Trang ${x.page}`), " ", h("small", {}, `…${x.excerpt}…`)),
                  ),
                )
              : h("p", { class: "muted" }, `Không tìm thấy “${this.hits.text}”.`),
          )
        : null,
      h(
        "div",
        { class: "reader-body" },
        this.outline && this.outline.length
          ? h(
              "nav",
              { class: "reader-outline", "aria-label": "Mục lục" },
              h("h3", {}, "Mục lục"),
              h(
                "ul",
                { class: "plain" },
                this.outline.map((o) =>
                  h(
                    "li",
                    {},
                    h(
                      "button",
                      {
                        class: "link",
                        onclick: async () => {
                          const n = await this.outlineTarget(o);
                          if (n) this.go(n);
                        },
                      },
                      o.title,
                    ),
                  ),
                ),
              ),
            )
          : null,
        // Focusable, so the page can be scrolled from a keyboard when zoomed; ← and → turn pages.
        h(
          "div",
          {
            class: "reader-canvas",
            tabindex: "0",
            "aria-label": "Trang tài liệu (phím ← → để chuyển trang)",
            onkeydown: (e) => {
              if (e.key === "ArrowRight") this.go(this.page + 1);
              else if (e.key === "ArrowLeft") this.go(this.page - 1);
            },
          },
          this.pdf ? box : h("p", { class: "muted" }, "Đang mở tài liệu…"),
        ),
        this.plugins.map((p) => (p.panel ? p.panel(this) : null)),
      ),
    );
    const current = this.root.querySelector(".reader-docs .current");
    if (current) current.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
}
