// The session as this account sees it: the one place a page's screens read from (they only render it).
//
// It holds what the server sent — a snapshot, or the server's own view re-read after events (see live.js for
// why events are not re-applied in JavaScript) — with the sequence number it is at, and never goes back in time:
// a view older than the one held is ignored. live.js (the protocol) is the only writer; a later offline cache
// (the service worker step of issue 11) can seed it from the last view stored on the device.

export class SessionState {
  constructor() {
    this.state = null; // the session as the server last showed it to this account, or null before the first
    this.seq = -1; // the sequence number `state` is at
  }

  /** Take a view at `seq`; false (and nothing changes) when it is older than the one held. */
  accept(state, seq) {
    if (seq < this.seq) return false;
    this.state = state && Object.keys(state).length ? state : null;
    this.seq = seq;
    return true;
  }
}
