// The protocol: one session over the WebSocket, kept current for one page (the state itself is in state.js).
//
// How the page's model stays correct: the socket gives the snapshot (the session as this account may see it)
// and then every event in sequence order. Rather than porting the domain's `apply` for ~50 event types to
// JavaScript (a second implementation that would drift from meeting/*.py), each event (or burst of events)
// makes the page re-read GET /api/sessions/{id}, which is the server's own view for this account (the same
// thing a fresh snapshot holds). A re-read is accepted only if its sequence number is not older than what the
// page already shows, so the view never goes back in time. The events themselves still reach the page
// (`onEvent`) for what they carry beyond the state, e.g. the topic of a question called on the public screen.
//
// Delivery: hello carries the last sequence number seen, so after a network drop the server sends only what
// was missed (or a fresh snapshot); the socket reconnects by itself with jittered exponential back-off.
// Commands carry a client-made id and stay pending until their result arrives: after a reconnect they are sent
// again with the same id, and the server answers a repeat without doing it twice (a ballot is never cast twice).

import { ApiError, NETWORK_ERROR, api, newId } from "./api.js";
import { SessionState } from "./state.js";

// Errors on hello after which retrying cannot help: the page must sign in again or pick another session.
const FATAL = new Set(["unauthenticated", "wrong_council", "not_found", "forbidden"]);

export class Live {
  constructor(sessionId, { token = null, onChange = () => {}, onEvent = () => {}, onStatus = () => {}, onFatal = () => {}, onPending = () => {} } = {}) {
    this.sessionId = sessionId;
    this.token = token;
    this.onChange = onChange;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onFatal = onFatal;
    this.onPending = onPending; // a command became pending or was answered: screens show what is in flight
    this.store = new SessionState(); // the session as this account sees it (same shape as the server's snapshot)
    this.lastSeq = null; // the last event sequence number received over the socket (resume point)
    this.welcome = null;
    this.readyWs = null; // the socket whose hello was answered: commands go only there
    this.duplicates = 0; // must stay 0; shown nowhere, kept for tests and debugging
    this.pending = new Map(); // command id -> {command, text, resolve, reject, timer}
    this.ws = null;
    this.backoff = 250;
    this.stopped = false;
    this.refreshing = false;
    this.refreshAgain = false;
    this.refreshTimer = null;
  }

  get url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/ws/sessions/${encodeURIComponent(this.sessionId)}`;
  }

  /** The session as this account sees it (null before the first snapshot). */
  get state() {
    return this.store.state;
  }

  /** True while commands go straight to the server (the socket is open and its hello answered). */
  get online() {
    return !!this.ws && this.ws === this.readyWs && this.ws.readyState === WebSocket.OPEN;
  }

  /** The commands sent and not yet answered, oldest first (e.g. a ballot "đang gửi"). */
  pendingCommands() {
    return [...this.pending.entries()].map(([id, p]) => ({ id, command: p.command, durable: !!p.durable }));
  }

  /**
   * Commands sent before the page was reloaded and never answered (kept on the device by js/offline.js): pending
   * again under their own ids, so they go with the next hello and the server answers each once, never doing it
   * twice. Returns one promise per command, resolved with the server's result like send().
   */
  adopt(saved) {
    const answers = saved
      .filter(({ id }) => !this.pending.has(id))
      .map(
        ({ id, command }) =>
          new Promise((resolve, reject) => {
            const text = JSON.stringify({ type: "command", id, command });
            this.pending.set(id, { command, text, resolve, reject, timer: null, durable: true });
            if (this.online) this.ws.send(text);
          }),
      );
    if (answers.length) this.onPending();
    return answers;
  }

  start() {
    this.stopped = false;
    this._open();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }

  _open() {
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this._retry();
      return;
    }
    this.ws = ws;
    let welcomed = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", token: this.token, last_seq: this.lastSeq }));
    };
    ws.onmessage = (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg.type === "welcome") welcomed = true;
      if (msg.type === "error" && !welcomed && FATAL.has(msg.code)) {
        this.stopped = true;
        this.onStatus("offline");
        this.onFatal(ApiError.from(msg));
        return;
      }
      this._handle(msg);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      this.onStatus("offline");
      if (!this.stopped) this._retry();
    };
  }

  _retry() {
    const wait = this.backoff * (0.5 + Math.random());
    this.backoff = Math.min(this.backoff * 2, 10000);
    setTimeout(() => {
      if (!this.stopped) this._open();
    }, wait);
  }

  _handle(msg) {
    switch (msg.type) {
      case "welcome":
        this.welcome = msg;
        this.readyWs = this.ws;
        this.backoff = 250;
        this.onStatus("live");
        for (const p of this.pending.values()) this.ws.send(p.text); // same ids: answered, never done twice
        if (msg.resumed) this.refresh(); // the state may be older than the resume point
        break;
      case "snapshot":
        this.lastSeq = msg.seq;
        this._accept(msg.state, msg.seq);
        break;
      case "event":
        if (this.lastSeq !== null && msg.seq <= this.lastSeq) {
          this.duplicates += 1;
          return;
        }
        this.lastSeq = msg.seq;
        this.onEvent(msg.event, msg.seq);
        this._scheduleRefresh();
        break;
      case "result": {
        const p = this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          clearTimeout(p.timer);
          p.resolve(msg);
          this.onPending();
        }
        break;
      }
      case "error": {
        const p = msg.id ? this.pending.get(msg.id) : null;
        // "unavailable": not carried out; it stays pending and goes again with the same id.
        if (p && msg.code === "unavailable") {
          setTimeout(() => this.ws && this.ws.readyState === WebSocket.OPEN && this.ws.send(p.text), 1000);
        } else if (p) {
          this.pending.delete(msg.id);
          clearTimeout(p.timer);
          p.reject(ApiError.from(msg));
          this.onPending();
        }
        break;
      }
      default:
        break;
    }
  }

  _accept(state, seq) {
    if (this.store.accept(state, seq)) this.onChange(this.store.state, seq);
  }

  _scheduleRefresh() {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, 40); // a burst of events (e.g. a ballot's three) costs one read
  }

  /** Re-read the session as this account sees it; at most one read in flight, plus one queued. */
  async refresh() {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    try {
      const view = await api("GET", `/api/sessions/${encodeURIComponent(this.sessionId)}`, undefined, {
        token: this.token,
      });
      this._accept(view.state, view.seq);
    } catch (err) {
      if (err instanceof ApiError && FATAL.has(err.code)) {
        this.stop();
        this.onFatal(err);
      }
    } finally {
      this.refreshing = false;
      if (this.refreshAgain) {
        this.refreshAgain = false;
        this.refresh();
      }
    }
  }

  /**
   * Send a session command; resolves with the server's result ({ok, error:{code, message_vi, message_en}}).
   * `timeoutMs: null` keeps it pending until the server answers, however long the network is down (a ballot:
   * it goes again with the same id after every reconnect, and the server never counts it twice).
   */
  send(command, { timeoutMs = 30000 } = {}) {
    const id = newId();
    const text = JSON.stringify({ type: "command", id, command });
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === null
          ? null
          : setTimeout(() => {
              this.pending.delete(id);
              reject(NETWORK_ERROR());
              this.onPending();
            }, timeoutMs);
      // durable: kept until answered, across a reload too (js/offline.js keeps it on the device)
      this.pending.set(id, { command, text, resolve, reject, timer, durable: timeoutMs === null });
      this.onPending();
      if (this.online) this.ws.send(text);
    });
  }

  /** Like send, but throws ApiError when the command is refused. */
  async run(command, options = {}) {
    const result = await this.send(command, options);
    if (!result.ok) throw ApiError.from(result.error || {});
    return result;
  }
}
