// The public feed (docs/FEED.md) for the pages without sign-in: the broadcast overlay and the public phone page.
//
// These pages are clients of the same machine feed broadcasters use, not of the WebSocket: the feed is the
// session's public picture already projected by the server (meeting/public_feed.py — one place that decides what
// the public may see), so the pages hold no rule about secrecy, and the feed is proven by its own pages.
//
// Delivery: GET …/feed first (the picture, and the one clear answer for an unknown session: 404 stops here,
// once — no "reconnecting" after "not found"), then an EventSource on …/feed/stream. The browser reconnects an
// EventSource by itself and sends the last id it received (Last-Event-ID = the sequence number), so the server
// sends only a newer picture. If the stream is refused (the browser then gives up), the snapshot is read again to
// learn why, and the stream is reopened with back-off unless the session is gone.

import { ApiError, api } from "./api.js";

const FATAL = new Set(["unknown_session", "not_found", "malformed"]);

export class PublicFeed {
  constructor(sessionId, { onChange = () => {}, onStatus = () => {}, onFatal = () => {} } = {}) {
    this.sessionId = sessionId;
    this.onChange = onChange;
    this.onStatus = onStatus;
    this.onFatal = onFatal;
    this.feed = null; // the newest picture
    this.duplicates = 0; // pictures received that were not newer than the one held: must stay 0 (tests)
    this.source = null;
    this.stopped = false;
    this.backoff = 1000;
  }

  get base() {
    return `/api/public/sessions/${encodeURIComponent(this.sessionId)}/feed`;
  }

  async start() {
    this.stopped = false;
    if (await this._snapshot()) this._open();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.source) this.source.close();
    this.source = null;
  }

  /** Read the picture once; false when the stream must not be opened (the session does not exist). */
  async _snapshot() {
    try {
      this._accept(await api("GET", this.base, undefined, { token: null }));
      return true;
    } catch (err) {
      if (err instanceof ApiError && FATAL.has(err.code)) {
        this.stop();
        this.onStatus("gone");
        this.onFatal(err);
        return false;
      }
      this.onStatus("offline");
      this._later();
      return false;
    }
  }

  _later() {
    const wait = this.backoff * (0.5 + Math.random());
    this.backoff = Math.min(this.backoff * 2, 15000);
    setTimeout(() => {
      if (!this.stopped) this.start();
    }, wait);
  }

  _open() {
    const source = new EventSource(`${this.base}/stream`);
    this.source = source;
    source.addEventListener("open", () => {
      this.backoff = 1000;
      this.onStatus("live");
    });
    source.addEventListener("feed", (e) => {
      let feed;
      try {
        feed = JSON.parse(e.data);
      } catch {
        return;
      }
      this._accept(feed);
    });
    source.addEventListener("error", () => {
      if (this.stopped || this.source !== source) return;
      this.onStatus("offline");
      if (source.readyState === EventSource.CLOSED) {
        // Refused (not a network drop, which the browser retries itself): find out why, then try again.
        this.source = null;
        this._later();
      }
    });
  }

  _accept(feed) {
    if (this.feed && feed.seq < this.feed.seq) {
      this.duplicates += 1;
      return;
    }
    if (this.feed && feed.seq === this.feed.seq) return; // the same picture (the stream's first one after a read)
    this.feed = feed;
    this.onChange(feed);
  }
}
