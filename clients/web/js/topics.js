// Questioning topics from the voters' petitions (issue 14): what the council's follow-up has not settled —
// overdue, not resolved, raised again — offered on the tablet's "Đăng ký chất vấn" form. A question registered
// from one keeps its link ("petitions:<council>:<term>#<item>"); the question list and the minutes show it.

import { ApiError, api } from "./api.js";
import { fill, h } from "./ui.js";

const REASON = { overdue: "quá hạn", not_resolved: "chưa giải quyết", reopened: "cử tri kiến nghị lại" };

export class TopicPicker {
  /** `select` is the form's <select>; `topicInput` the form's topic field, filled from the item chosen. */
  constructor(select, topicInput, wrap, note) {
    this.select = select;
    this.topicInput = topicInput;
    this.wrap = wrap;
    this.note = note;
    this.topics = new Map(); // link -> topic
    select.addEventListener("change", () => {
      const t = this.topics.get(select.value);
      if (t && !topicInput.value.trim()) topicInput.value = short(t.item.text, 200);
    });
  }

  /** Ask the register of this session's term; say so when it has nothing (or the council keeps none). */
  async load(state, token) {
    if (!state || !state.term_id) return;
    const path = `/api/councils/${encodeURIComponent(state.hall.council_id)}/petitions/${encodeURIComponent(state.term_id)}/topics?limit=100`;
    let found;
    try {
      found = await api("GET", path, undefined, { token });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== "unknown_petitions") throw err;
      found = { topics: [] }; // this council keeps no register for the term
    }
    this.topics = new Map(found.topics.map((t) => [t.link, t]));
    fill(
      this.select,
      h("option", { value: "" }, "— Không —"),
      found.topics.map((t) =>
        h("option", { value: t.link }, `${short(t.item.text, 90)} (${t.reasons.map((r) => REASON[r] || r).join(", ")}${t.overdue_days ? `, ${t.overdue_days} ngày` : ""})`),
      ),
    );
    this.wrap.classList.toggle("hidden", found.topics.length === 0);
    this.note.classList.toggle("hidden", found.topics.length > 0);
    this.note.textContent = found.topics.length ? "" : "Không có kiến nghị, cam kết nào chưa giải quyết trong nhiệm kỳ này.";
    if (found.topics.length) this.select.focus();
  }

  /** The link of the topic chosen, or null. */
  value() {
    return this.select.value || null;
  }

  reset() {
    this.select.value = "";
  }
}

/** "Kiến nghị cử tri kn-0012" for a link, as the question list shows it. */
export function linkLabel(link) {
  const item = (link || "").split("#")[1] || "";
  return `Từ kiến nghị, cam kết của cử tri: ${item}`;
}

function short(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
