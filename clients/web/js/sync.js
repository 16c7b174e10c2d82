// Every document copy the manifest offers this person, kept on the device and checked before it counts.
//
// Each copy is downloaded from its signed link, its SHA-256 computed with WebCrypto and compared with the
// manifest's; only a matching copy is stored (Cache API "kyhop-docs", one entry per version, under an address
// that is never fetched) and called "sẵn sàng ngoại tuyến". Its delivery receipt goes into an outbox in IndexedDB
// first and is sent from there, so a receipt whose network went away is sent once it is back. A mismatch is
// reported (the secretariat's delivery matrix shows it) and the copy is not kept.
//
// Versions: a replaced document keeps its old verified copy until the new one verifies (the reader falls back to
// it meanwhile); then the old one is deleted. A withdrawn document, or one no longer offered, is deleted.
// Storage: navigator.storage.persist() is asked once (so the browser does not evict the copies under pressure)
// and navigator.storage.estimate() before each download: a copy that does not fit (with a 5 % margin), or whose
// write the browser refuses (QuotaExceededError), is marked "không đủ bộ nhớ" and named on screen.

import { ApiError, api } from "./api.js";
import { h } from "./ui.js";

const CACHE = "kyhop-docs";
const STATES = {
  loading: ["đang tải", "info"],
  ready: ["sẵn sàng ngoại tuyến", "ok"],
  mismatch: ["lỗi kiểm tra: mã SHA-256 không khớp", "bad"],
  quota: ["không đủ bộ nhớ", "bad"],
  error: ["lỗi tải, sẽ thử lại", "warn"],
  waiting: ["chưa tải: đang ngoại tuyến", "warn"],
};

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function sizeText(n) {
  if (n < 1048576) return `${Math.max(1, Math.ceil(n / 1024))} KB`;
  return `${(n / 1048576).toFixed(n < 10485760 ? 1 : 0)} MB`;
}

export class DocumentSync {
  /**
   * @param db the IndexedDB store (js/offline.js openStore), or null: then nothing is kept on the device
   * @param owner account and session the copies belong to
   * @param documents the Documents module: its `copies` map gets an object URL per verified copy
   */
  constructor(db, owner, documents, base) {
    this.db = db;
    this.owner = owner;
    this.documents = documents;
    this.base = base; // /api/sessions/{id}/documents
    this.states = new Map(); // document id -> {state, version}
    this.kept = new Map(); // "doc:version" -> {document_id, version, sha256, size}
    this.reported = new Set(); // "doc:version" failures reported from this page
    this.tooBig = []; // titles that did not fit
    this.persisted = null;
    this.restored = Promise.resolve(); // the copies kept earlier, read back (restore); run() waits for them
    this.onProgress = () => {};
  }

  key(documentId, version) {
    return `${this.owner}:${documentId}:${version}`;
  }

  address(documentId, version) {
    return `/offline-copies/${encodeURIComponent(this.owner)}/${encodeURIComponent(documentId)}/v${version}`;
  }

  /** The copies verified earlier on this device, as object URLs the reader opens with no network. */
  async restore() {
    if (!this.db || !globalThis.caches) return;
    const cache = await caches.open(CACHE);
    for (const meta of (await this.db.getAll("copies")).filter((m) => m.owner === this.owner)) {
      const hit = await cache.match(this.address(meta.document_id, meta.version));
      if (!hit) {
        await this.db.delete("copies", this.key(meta.document_id, meta.version));
        continue;
      }
      const k = `${meta.document_id}:${meta.version}`;
      this.kept.set(k, meta);
      this.documents.copies.set(k, URL.createObjectURL(await hit.blob()));
    }
  }

  async keepManifest(manifest) {
    if (this.db) await this.db.put("manifests", manifest, this.owner).catch(() => {});
  }

  async savedManifest() {
    return this.db ? ((await this.db.get("manifests", this.owner)) ?? null) : null;
  }

  /** The documents this person can keep: not withdrawn, with a file (a secret document has none). */
  offered(manifest) {
    return manifest.documents.filter((d) => !d.withdrawn && d.url && d.sha256);
  }

  progress() {
    const m = this.documents.manifest;
    if (!m) return { ready: 0, total: 0 };
    const offered = this.offered(m);
    return { ready: offered.filter((d) => this.kept.has(`${d.document_id}:${d.version}`)).length, total: offered.length };
  }

  state(d) {
    if (this.kept.has(`${d.document_id}:${d.version}`)) return "ready";
    const s = this.states.get(d.document_id);
    return s && s.version === d.version ? s.state : navigator.onLine ? "loading" : "waiting";
  }

  /** An older verified version of this document, kept while the current one is not verified yet. */
  older(d) {
    const versions = [...this.kept.values()].filter((m) => m.document_id === d.document_id && m.version < d.version);
    if (!versions.length) return null;
    const v = Math.max(...versions.map((m) => m.version));
    return { version: v, url: this.documents.copies.get(`${d.document_id}:${v}`) };
  }

  setState(d, state) {
    this.states.set(d.document_id, { state, version: d.version });
    this.onProgress();
  }

  /** Bring the device in line with the manifest: fetch and verify what is missing, delete what is gone. */
  async run(manifest) {
    await this.restored;
    await this.keepManifest(manifest);
    if (this.persisted === null && navigator.storage && navigator.storage.persist) {
      this.persisted = await navigator.storage.persist().catch(() => false);
    }
    this.tooBig = [];
    const offered = this.offered(manifest);
    const current = new Set(offered.map((d) => `${d.document_id}:${d.version}`));
    // Withdrawn, or no longer offered to this person: deleted now. A replaced one: deleted below, once the new
    // version has verified.
    const live = new Set(offered.map((d) => d.document_id));
    for (const meta of [...this.kept.values()]) {
      if (!live.has(meta.document_id)) await this.remove(meta.document_id, meta.version);
    }
    for (const d of offered) {
      if (!current.has(`${d.document_id}:${d.version}`)) continue;
      if (!this.kept.has(`${d.document_id}:${d.version}`)) await this.fetchCopy(d);
      if (this.kept.has(`${d.document_id}:${d.version}`)) {
        for (const meta of [...this.kept.values()]) {
          if (meta.document_id === d.document_id && meta.version !== d.version) await this.remove(meta.document_id, meta.version);
        }
        if (d.delivery && d.delivery !== "received") {
          await this.queue(d, "receipt", { sha256: d.sha256.toLowerCase(), id: `ack:${d.document_id}:${d.version}:${d.sha256.slice(0, 16)}` });
          await this.flush(); // at once, so the secretariat's matrix fills in as the copies arrive
        }
      }
    }
    await this.flush();
    this.onProgress();
  }

  async remove(documentId, version) {
    const k = `${documentId}:${version}`;
    this.kept.delete(k);
    const url = this.documents.copies.get(k);
    if (url) URL.revokeObjectURL(url);
    this.documents.copies.delete(k);
    if (globalThis.caches) await (await caches.open(CACHE)).delete(this.address(documentId, version));
    if (this.db) await this.db.delete("copies", this.key(documentId, version));
  }

  async fits(size) {
    if (!navigator.storage || !navigator.storage.estimate) return true;
    const { usage = 0, quota = Infinity } = await navigator.storage.estimate();
    return usage + size <= quota * 0.95;
  }

  /** Download one copy, check its SHA-256, keep it only if it matches. */
  async fetchCopy(d) {
    // crypto.subtle exists only in a secure context (https, or localhost); elsewhere the link is used as is.
    if (!globalThis.crypto || !crypto.subtle) return;
    if (!(await this.fits(d.size || 0))) {
      this.tooBig.push(d);
      this.setState(d, "quota");
      return;
    }
    this.setState(d, "loading");
    let buffer;
    try {
      const response = await fetch(d.url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      buffer = await response.arrayBuffer();
    } catch {
      this.setState(d, navigator.onLine ? "error" : "waiting");
      return;
    }
    const got = await sha256Hex(buffer);
    if (got !== d.sha256.toLowerCase()) {
      this.setState(d, "mismatch");
      const k = `${d.document_id}:${d.version}`;
      if (d.delivery && d.delivery !== "failed" && !this.reported.has(k)) {
        this.reported.add(k);
        await this.queue(d, "failure", { reason: `SHA-256 không khớp / mismatch: ${got.slice(0, 16)}…` });
        await this.flush();
      }
      return;
    }
    try {
      if (globalThis.caches && this.db) {
        const cache = await caches.open(CACHE);
        await cache.put(this.address(d.document_id, d.version), new Response(buffer, { headers: { "content-type": "application/pdf" } }));
        const meta = { owner: this.owner, document_id: d.document_id, version: d.version, sha256: got, size: buffer.byteLength, at: Date.now() };
        await this.db.put("copies", meta, this.key(d.document_id, d.version));
        this.kept.set(`${d.document_id}:${d.version}`, meta);
      }
    } catch (err) {
      if (err && err.name === "QuotaExceededError") {
        this.tooBig.push(d);
        this.setState(d, "quota");
        return;
      }
    }
    // Readable in this page even where nothing can be kept (no IndexedDB): verified, so it may be shown.
    this.documents.copies.set(`${d.document_id}:${d.version}`, URL.createObjectURL(new Blob([buffer], { type: "application/pdf" })));
    this.setState(d, this.kept.has(`${d.document_id}:${d.version}`) ? "ready" : "loading");
  }

  /** A receipt or a failure report, kept on the device until the server has it. */
  async queue(d, what, body) {
    const path = `${this.base}/${encodeURIComponent(d.document_id)}/versions/${d.version}/${what}`;
    if (this.db) await this.db.put("outbox", { owner: this.owner, path, body }, `${this.owner}:${path}`).catch(() => {});
    else await api("POST", path, body).catch(() => {});
  }

  /** Send what the outbox holds; stop at the first network failure (the next return tries again). */
  async flush() {
    if (!this.db) return;
    for (const item of (await this.db.getAll("outbox")).filter((o) => o.owner === this.owner)) {
      try {
        await api("POST", item.path, item.body);
      } catch (err) {
        // Not reached, or the server is busy: kept. Refused (e.g. withdrawn meanwhile): retrying cannot help.
        if (!(err instanceof ApiError) || err.code === "network" || err.status >= 500) return;
      }
      await this.db.delete("outbox", `${this.owner}:${item.path}`);
    }
  }

  async outboxSize() {
    return this.db ? (await this.db.getAll("outbox")).filter((o) => o.owner === this.owner).length : 0;
  }

  /** "12/14 tài liệu sẵn sàng ngoại tuyến", and what did not fit. */
  summary() {
    const { ready, total } = this.progress();
    if (!total) return null;
    const big = this.tooBig.filter((d) => !this.kept.has(`${d.document_id}:${d.version}`));
    return h(
      "div",
      { class: "sync-summary", id: "sync-progress", role: "status", dataset: { ready: String(ready), total: String(total) } },
      h("span", { class: `pill ${ready === total ? "ok" : "warn"}` }, `${ready}/${total} tài liệu sẵn sàng ngoại tuyến`),
      big.length
        ? h(
            "p",
            { class: "banner bad", id: "sync-quota" },
            `Không đủ bộ nhớ trên máy cho ${big.length} tài liệu: `,
            big.map((d) => `${d.title} (${sizeText(d.size || 0)})`).join("; "),
            ". Hãy giải phóng bộ nhớ trên máy; các tài liệu này vẫn đọc được khi có mạng.",
          )
        : null,
    );
  }

  /** The state of one document, as a pill (and the older version shown meanwhile). */
  badge(d) {
    if (d.withdrawn || !d.url || !d.sha256) return null;
    const state = this.state(d);
    const [text, tone] = STATES[state];
    const old = state !== "ready" ? this.older(d) : null;
    return [
      h("span", { class: `pill ${tone} sync-state`, dataset: { sync: state } }, text),
      old ? h("small", { class: "sync-older" }, ` Đang giữ bản ${old.version} cho đến khi bản ${d.version} tải xong và khớp mã.`) : null,
    ];
  }
}
