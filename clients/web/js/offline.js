// The tablet offline first: what is kept on the device so a delegate loses nothing when the hall's network goes.
//
// - The app shell: the service worker (sw.js, registered here with the scope "/tablet").
// - The session: the last state the server showed this account, its sequence number and the socket's last event
//   number, in IndexedDB (npm idb). A tablet reopened with no network shows it, marked "ngoại tuyến — trạng thái
//   lúc HH:MM"; once back, hello carries that event number and the server sends only what was missed (no gap).
// - Ballots in flight: a command sent with no timeout (a ballot) is kept until the server answers it; after a
//   reload it is pending again under the SAME command id (live.js `adopt`), so the server, which answers a
//   repeated id with its first answer, never counts it twice.
// - Document copies and delivery receipts: js/sync.js.
//
// One store per account and session (`owner`): a shared device signed in by another delegate sees nothing of
// the first one's. Where IndexedDB is not available (a private window) the page works as before, online only.

import { h } from "./ui.js";

// npm idb (~4 KB), served by this server from node_modules like pdf.js (reader.js), imported where it is used.
const IDB = "/vendor/idb/build/index.js";

const DB_NAME = "kyhop-offline";
const DB_VERSION = 1;
// The session view is written at most every 250 ms: while 500 delegates vote the view changes ~4 times a
// second and each write of a ~100 KB state costs ~2 ms.
const SAVE_EVERY_MS = 250;

export async function openStore() {
  try {
    const { openDB } = await import(IDB);
    return await openDB(DB_NAME, DB_VERSION, {
      upgrade(db) {
        db.createObjectStore("sessions"); // owner -> {state, seq, lastSeq, at}
        db.createObjectStore("pending"); // command id -> {owner, id, command, at}
        db.createObjectStore("copies"); // owner:doc:version -> {owner, document_id, version, sha256, size, at}
        db.createObjectStore("manifests"); // owner -> the last manifest
        db.createObjectStore("outbox"); // owner:path -> {owner, path, body} (delivery receipts and failures)
      },
    });
  } catch {
    return null;
  }
}

/**
 * A shared device keeps only the signed-in account's things: another account's state, ballots, receipts and
 * document copies (a restricted copy carries that delegate's name) are deleted when this one opens the tablet.
 */
export async function keepOnly(db, account) {
  if (!db) return;
  const mine = (owner) => typeof owner === "string" && owner.startsWith(`${account}@`);
  try {
    for (const name of ["sessions", "manifests"]) {
      for (const key of await db.getAllKeys(name)) if (!mine(key)) await db.delete(name, key);
    }
    for (const name of ["pending", "outbox", "copies"]) {
      const tx = db.transaction(name, "readwrite");
      let cursor = await tx.store.openCursor();
      while (cursor) {
        if (!mine(cursor.value.owner)) await cursor.delete();
        cursor = await cursor.continue();
      }
      await tx.done;
    }
    if (globalThis.caches) {
      const cache = await caches.open("kyhop-docs");
      const prefix = `/offline-copies/${encodeURIComponent(`${account}@`)}`;
      for (const request of await cache.keys()) if (!new URL(request.url).pathname.startsWith(prefix)) await cache.delete(request);
    }
  } catch {
    // Tried again at the next opening.
  }
}

/**
 * The service worker that keeps the app shell; the tablet page works without it (e.g. over plain http).
 * A new build's worker takes over at once (sw.js skipWaiting): a page that was already controlled then reloads,
 * so it never runs modules of two builds (its ballots in flight are on the device and go again) — unless the
 * delegate is reading, who is told instead.
 */
export function registerWorker(onUpdate = () => {}) {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  const updating = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!updating) return; // the first install: this page's files are those the worker just cached
    if (document.body.classList.contains("reading")) onUpdate();
    else location.reload();
  });
  return navigator.serviceWorker.register("/sw.js", { scope: "/tablet" }).catch(() => null);
}

function hhmm(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

export class Offline {
  constructor(db, owner, live) {
    this.db = db;
    this.owner = owner;
    this.live = live;
    this.savedAt = null; // when the state shown was received from the server (ms)
    this.fromDevice = false; // the state shown was read from this device, not yet confirmed by the server
    this.seqs = []; // every event sequence number received since this page opened (for tests and debugging)
    this.saveTimer = null;
    this.banner = h("p", { id: "offline-state", class: "banner warn offline-state hidden", role: "status" });
    // Opened with a stored state: the first connection usually answers within ~0.3 s, so the banner waits for
    // it (or for 1.5 s) rather than flashing "ngoại tuyến" on every reload of a tablet that is online.
    this.connecting = true;
    this.wasLive = false; // this page has been live before: a "live" now is a reconnect
    setTimeout(() => {
      this.connecting = false;
      this.show();
    }, 1500);
  }

  /** Seed the page from the device: the last state and event number, and the ballots still in flight. */
  async restore() {
    if (!this.db) return;
    const saved = await this.db.get("sessions", this.owner);
    if (saved && saved.state) {
      this.live.store.accept(saved.state, saved.seq);
      this.live.lastSeq = saved.lastSeq;
      this.savedAt = saved.at;
      this.fromDevice = true;
    }
    const pending = (await this.db.getAll("pending")).filter((p) => p.owner === this.owner);
    pending.sort((a, b) => a.at - b.at);
    for (const answer of this.live.adopt(pending)) {
      // Nobody awaits these any more: a refusal (e.g. the round closed meanwhile) is said once on screen.
      answer.then(
        (result) => result && !result.ok && this.onRefused && this.onRefused(result.error || {}),
        () => {},
      );
    }
  }

  /** Hook into the page's live session: save what arrives, keep the pending ballots, show the offline state. */
  attach() {
    const live = this.live;
    const { onChange, onEvent, onPending, onStatus } = live;
    live.onChange = (state, seq) => {
      this.savedAt = Date.now();
      this.fromDevice = false;
      this.scheduleSave();
      onChange(state, seq);
      this.show();
    };
    live.onEvent = (event, seq) => {
      this.seqs.push(seq);
      this.scheduleSave();
      onEvent(event, seq);
    };
    live.onPending = () => {
      this.savePending();
      onPending();
    };
    live.onStatus = (status) => {
      onStatus(status);
      this.connecting = false;
      if (status === "live" && this.onBack) this.onBack(this.wasLive);
      if (status === "live") this.wasLive = true;
      this.show();
    };
    window.addEventListener("pagehide", () => this.saveNow());
    return this;
  }

  scheduleSave() {
    if (this.saveTimer || !this.db) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.saveNow();
    }, SAVE_EVERY_MS);
  }

  async saveNow() {
    const live = this.live;
    if (!this.db || !live.state || this.fromDevice) return;
    try {
      await this.db.put("sessions", { state: live.state, seq: live.store.seq, lastSeq: live.lastSeq, at: this.savedAt || Date.now() }, this.owner);
    } catch {
      // Full or closed: the page still works online; the next change tries again.
    }
  }

  /** Keep exactly the durable commands (ballots) in flight; an answered one leaves the device. */
  async savePending() {
    if (!this.db) return;
    const now = this.live.pendingCommands().filter((c) => c.durable);
    try {
      const tx = this.db.transaction("pending", "readwrite");
      const keep = new Set(now.map((c) => c.id));
      for (const p of await tx.store.getAll()) if (p.owner === this.owner && !keep.has(p.id)) await tx.store.delete(p.id);
      for (const c of now) if (!(await tx.store.get(c.id))) await tx.store.put({ owner: this.owner, id: c.id, command: c.command, at: Date.now() }, c.id);
      await tx.done;
    } catch {
      // Not kept: the ballot still goes while this page stays open.
    }
  }

  /** The session record kept on the device (for tests and debugging). */
  async stored() {
    return this.db ? ((await this.db.get("sessions", this.owner)) ?? null) : null;
  }

  /** The ballots kept on the device (for tests and debugging). */
  async storedPending() {
    return this.db ? (await this.db.getAll("pending")).filter((p) => p.owner === this.owner) : [];
  }

  /** "Ngoại tuyến — trạng thái lúc HH:MM" while what is shown is not live from the server. */
  show() {
    const live = this.live;
    const stale = !!live.state && !live.online && !this.connecting;
    const appearing = stale && this.banner.classList.contains("hidden");
    this.banner.classList.toggle("hidden", !stale);
    this.banner.dataset.stale = String(stale);
    document.body.classList.toggle("stale", stale);
    if (!stale) return;
    const at = this.savedAt ? hhmm(this.savedAt) : "—";
    this.banner.replaceChildren(
      h("strong", {}, `Ngoại tuyến — trạng thái lúc ${at}`),
      " ",
      h("span", {}, "Đang hiển thị trạng thái lưu trên máy; tài liệu đã tải vẫn đọc được. Khi có mạng lại, máy tự cập nhật phần còn thiếu."),
    );
    document.body.style.setProperty("--stale-h", `${this.banner.offsetHeight}px`); // panels scroll in below it
    // The browser keeps what was in view where it was (scroll anchoring), so the banner would now cover its top:
    // move the view up by the banner's height.
    if (appearing && window.scrollY > 0 && !document.body.classList.contains("reading")) {
      window.scrollBy(0, -(this.banner.offsetHeight + 16));
    }
  }
}
