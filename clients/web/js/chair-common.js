// What the chair console's modules share: the live session, the chair's own delegate id, and a way to redraw a
// part only when what it shows has changed.
//
// Why keyed redraws: while a vote runs, the server announces the count up to 4 times a second (and staff see every
// `vote_delegate_voted`); a button rebuilt between a mouse press and its release loses the click (measured on the
// tablet, see tablet.js renderVote). Each part names what it shows as a key and is rebuilt only when that changes.

import { act } from "./ui.js";

export const desk = {
  live: null, // the one protocol client (live.js)
  me: null, // the chair's own delegate id (the chair is a delegate of the council), or null
};

/** Run a session command from a button: disabled meanwhile, the server's refusal shown in Vietnamese. */
export function run(command, okText = "", button = null) {
  return act(button, () => desk.live.run(command), okText);
}

const keys = new WeakMap();

/** Call `build()` (which fills `el`) only when `key` differs from the last one drawn into `el`. */
export function keyed(el, key, build) {
  const text = typeof key === "string" ? key : JSON.stringify(key);
  if (keys.get(el) === text) return false;
  keys.set(el, text);
  build();
  return true;
}

/** The seated delegates, in seat order when the council has a seating plan, else by id. */
export function seatedDelegates(state) {
  return Object.values(state.hall.delegates)
    .filter((d) => d.seated)
    .sort((a, b) => String(a.seat || a.id).localeCompare(String(b.seat || b.id), "vi", { numeric: true }));
}

/** "Nguyễn Văn An (ghế A-01)" — the seat only when the council sets a seating plan. */
export function nameWithSeat(d) {
  return d.seat ? `${d.name} (ghế ${d.seat})` : d.name;
}
