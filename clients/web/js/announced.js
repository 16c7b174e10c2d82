// The result the chair announced (`vote_round_result_announced`), put up large on the delegates' tablets until the
// next vote opens — the act "Chủ tọa công bố kết quả biểu quyết", not merely the count being known.

import { h } from "./ui.js";

/** The latest announced round while no vote is open, as a banner; null otherwise. */
export function announcedBanner(state) {
  const rounds = Object.values(state.votes.rounds);
  if (rounds.some((r) => r.status === "open")) return null;
  const last = rounds.filter((r) => r.announced_at && r.result).sort((a, b) => String(b.announced_at).localeCompare(String(a.announced_at)))[0];
  if (!last) return null;
  const res = last.result;
  const first = res.options[0];
  return h(
    "div",
    { class: `banner ${res.passed ? "ok" : "bad"} announced-result`, role: "status", style: "font-size: 1.2rem", dataset: { round: last.id } },
    h("strong", {}, "Chủ tọa đã công bố kết quả: "),
    `«${res.motion}» — `,
    h("strong", {}, res.passed ? "THÔNG QUA" : "KHÔNG THÔNG QUA"),
    ` (${first.count}/${res.total_delegates} đại biểu ${first.label.toLowerCase()}, cần ${res.needed}).`,
  );
}
