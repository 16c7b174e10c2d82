// A delegate's personal notes and highlights: kept on this device (IndexedDB, npm `idb`) and, once the delegate
// chooses a notes passphrase, also on the server as AES-GCM ciphertext that only this delegate can decrypt.
//
// The key: PBKDF2-SHA-256 over the passphrase, 600 000 iterations (OWASP 2023's floor for PBKDF2-HMAC-SHA256),
// with a random 16-byte salt kept on the server (GET /api/notes/key) so that the delegate's second tablet derives
// the same key from the same passphrase. The server also keeps `check`, the text "kyhop-notes-v1" encrypted under
// the key: a device tells a mistyped passphrase from the right one without any note at stake. The derived key is
// non-extractable and kept in this device's IndexedDB (structured clone of a CryptoKey), so a reload does not ask
// again; "Quên khóa trên máy này" removes it.
//
// One blob per (account, session, document): {v: 1, notes: [...]}, the nonce fresh for every write (12 random
// bytes), and as AES-GCM additional data "<account>|<session>|<document>" — the server cannot move one document's
// blob under another document or another account without the decryption failing.
//
// Two devices: notes have ids and update times; a deletion is kept as a tombstone. A write names the server
// revision it replaces; on 409 `notes_conflict` the device fetches, merges (later update wins per note) and
// writes again.
//
// WebCrypto exists only in a secure context (https, or http on localhost): on a hall's plain-http LAN the notes
// stay on the device and the page says so.

import { ApiError, api } from "./api.js";

const IDB = "/vendor/idb/build/index.js"; // npm idb, served by this server (imported when notes are first used)

const ITERATIONS = 600_000;
const CHECK = "kyhop-notes-v1";
const enc = new TextEncoder();
const dec = new TextDecoder();

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export const cryptoAvailable = () => !!(globalThis.crypto && globalThis.crypto.subtle && globalThis.isSecureContext);

async function derive(passphrase, salt, iterations) {
  const material = await crypto.subtle.importKey("raw", enc.encode(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    { name: "AES-GCM", length: 256 },
    false, // non-extractable: the raw key never leaves WebCrypto, not even to this page's scripts
    ["encrypt", "decrypt"],
  );
}

async function seal(key, text, aad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const out = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(aad) }, key, enc.encode(text));
  return { iv: b64(iv), ciphertext: b64(out) };
}

async function open(key, iv, ciphertext, aad) {
  const out = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(iv), additionalData: enc.encode(aad) }, key, unb64(ciphertext));
  return dec.decode(out);
}

/** Later update wins per note id; tombstones (deleted) are kept so a deletion reaches the other device. */
export function merge(a, b) {
  const byId = new Map();
  for (const n of [...a, ...b]) {
    const had = byId.get(n.id);
    if (!had || String(n.updated_at) > String(had.updated_at)) byId.set(n.id, n);
  }
  return [...byId.values()].sort((x, y) => x.page - y.page || String(x.created_at).localeCompare(String(y.created_at)));
}

export class NotesStore {
  constructor(sessionId, account) {
    this.sessionId = sessionId;
    this.account = account; // {id, ...} of the signed-in account
    this.key = null; // the CryptoKey, once the passphrase was entered on this device
    this.db = null;
    this.onChange = () => {};
    this.queue = new Map(); // document id → the sending in progress
    this.onError = () => {}; // a refusal while sending in the background (not a lost network: that waits)
    // Back on the network: send what was written meanwhile.
    window.addEventListener("online", () => this.syncAll());
  }

  /** Send every document's notes of this session that the server has not got yet. */
  async syncAll() {
    if (!this.key) return;
    await this.ready();
    const prefix = `${this.account.id}|${this.sessionId}|`;
    for (const rec of await this.db.getAll("docs")) {
      if (rec.key.startsWith(prefix) && rec.dirty) await this.background(rec.document_id);
    }
  }

  background(documentId) {
    return this.sync(documentId).catch((err) => {
      if (err.code !== "network") this.onError(err);
    });
  }

  async ready() {
    if (this.db) return;
    const { openDB } = await import(IDB);
    this.db = await openDB("kyhop-notes", 1, {
      upgrade(db) {
        db.createObjectStore("docs", { keyPath: "key" });
        db.createObjectStore("keys", { keyPath: "account" });
      },
    });
    const k = await this.db.get("keys", this.account.id);
    this.key = k ? k.key : null;
  }

  docKey(documentId) {
    return `${this.account.id}|${this.sessionId}|${documentId}`;
  }

  async record(documentId) {
    await this.ready();
    return (await this.db.get("docs", this.docKey(documentId))) || { key: this.docKey(documentId), document_id: documentId, notes: [], revision: 0, dirty: false };
  }

  /** The notes of one document (tombstones left out). */
  async list(documentId) {
    return (await this.record(documentId)).notes.filter((n) => !n.deleted);
  }

  /** Add or change a note, then send the document's notes to the server if the delegate keeps them there. */
  async put(documentId, note) {
    const rec = await this.record(documentId);
    const now = new Date().toISOString();
    const full = { created_at: now, ...note, updated_at: now };
    rec.notes = merge(rec.notes, [full]);
    rec.dirty = true;
    await this.db.put("docs", rec);
    this.onChange(documentId);
    this.background(documentId); // offline: stays dirty, sent when the network is back or with the next change
    return full;
  }

  async remove(documentId, id) {
    const rec = await this.record(documentId);
    const had = rec.notes.find((n) => n.id === id);
    if (!had) return;
    await this.put(documentId, { ...had, deleted: true, text: "", quote: "", rects: [] });
  }

  // --- the server copy -----------------------------------------------------------------------------------------
  get syncing() {
    return !!this.key;
  }

  /**
   * Enter the notes passphrase on this device: creates the key record on first use, else checks the passphrase.
   * `replace`: a new passphrase instead of a forgotten one — the server deletes what the old key encrypted, and
   * this device's notes are sent again under the new key.
   */
  async unlock(passphrase, replace = false) {
    await this.ready();
    if (!cryptoAvailable()) throw new ApiError("insecure", "Trình duyệt chỉ mã hóa được qua https.", "Encryption needs https.");
    const { key: record } = await api("GET", "/api/notes/key");
    let key;
    if (record && !replace) {
      key = await derive(passphrase, unb64(record.salt), record.iterations);
      try {
        if ((await open(key, record.check_iv, record.check, this.account.id)) !== CHECK) throw new Error("check");
      } catch {
        throw new ApiError("wrong_passphrase", "Cụm mật khẩu ghi chú không đúng.", "Wrong notes passphrase.");
      }
    } else {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      key = await derive(passphrase, salt, ITERATIONS);
      const check = await seal(key, CHECK, this.account.id);
      await api("PUT", "/api/notes/key", { salt: b64(salt), iterations: ITERATIONS, check_iv: check.iv, check: check.ciphertext, replace: !!record });
      if (record) {
        // The server has no blob any more: every note of this account on this device goes again, from revision 0.
        const prefix = `${this.account.id}|`;
        for (const rec of await this.db.getAll("docs")) {
          if (!rec.key.startsWith(prefix)) continue;
          await this.db.put("docs", { ...rec, revision: 0, dirty: true });
        }
      }
    }
    this.key = key;
    await this.db.put("keys", { account: this.account.id, key });
    this.onChange(null);
    this.syncAll();
  }

  /** Stop keeping notes on the server from this device (the server copy stays for the other devices). */
  async lock() {
    await this.ready();
    await this.db.delete("keys", this.account.id);
    this.key = null;
    this.onChange(null);
  }

  /** Fetch the server's copy of one document's notes and merge it into this device's. */
  async pull(documentId) {
    if (!this.key) return;
    const rec = await this.record(documentId);
    // The list first (sizes and revisions, no content): the blob is fetched only when there is a newer one.
    const listed = (await api("GET", `/api/sessions/${encodeURIComponent(this.sessionId)}/notes`)).find((m) => m.document_id === documentId);
    const remote = listed && listed.revision !== rec.revision ? await api("GET", this.blobPath(documentId)) : null;
    if (remote) {
      const body = JSON.parse(await open(this.key, remote.iv, remote.ciphertext, this.docKey(documentId)));
      const merged = merge(rec.notes, body.notes);
      rec.dirty = rec.dirty || merged.length !== body.notes.length || merged.some((n, i) => n.updated_at !== body.notes[i].updated_at);
      rec.notes = merged;
      rec.revision = remote.revision;
    }
    await this.db.put("docs", rec);
    this.onChange(documentId);
    if (rec.dirty) await this.sync(documentId);
  }

  /** Send this device's notes on one document; one sending at a time per document (two would race each other
   * into a conflict of this device with itself). */
  sync(documentId) {
    const before = this.queue.get(documentId) || Promise.resolve();
    const next = before.catch(() => {}).then(() => this.send(documentId));
    this.queue.set(documentId, next);
    return next;
  }

  /** (a stale revision — another device wrote since: pull, merge, send again — at most 3 times) */
  async send(documentId) {
    if (!this.key) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const rec = await this.record(documentId);
      if (!rec.dirty) return;
      const sealed = await seal(this.key, JSON.stringify({ v: 1, notes: rec.notes }), this.docKey(documentId));
      try {
        const out = await api("PUT", this.blobPath(documentId), { ...sealed, revision: rec.revision });
        const now = await this.record(documentId);
        now.revision = out.revision;
        now.dirty = now.notes.length !== rec.notes.length || now.notes.some((n, i) => n.updated_at !== rec.notes[i].updated_at);
        await this.db.put("docs", now);
        this.onChange(documentId);
        if (!now.dirty) return;
      } catch (err) {
        if (err.code !== "notes_conflict") throw err;
        const fresh = await this.record(documentId);
        fresh.dirty = true;
        await this.db.put("docs", fresh);
        await this.pullOnly(documentId);
      }
    }
  }

  blobPath(documentId) {
    return `/api/sessions/${encodeURIComponent(this.sessionId)}/notes/${encodeURIComponent(documentId)}`;
  }

  async pullOnly(documentId) {
    const rec = await this.record(documentId);
    const remote = await api("GET", this.blobPath(documentId));
    const body = JSON.parse(await open(this.key, remote.iv, remote.ciphertext, this.docKey(documentId)));
    rec.notes = merge(rec.notes, body.notes);
    rec.revision = remote.revision;
    rec.dirty = true;
    await this.db.put("docs", rec);
  }
}
