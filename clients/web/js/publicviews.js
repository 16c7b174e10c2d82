// Pieces of the public picture (the feed, docs/FEED.md) that the broadcast overlay and the phone page show the
// same way. They render only what the feed holds: for a round not yet closed that is how many have voted,
// never any option's count (the feed has none to show).

import { ITEM_KIND, countdown, h, howHeld, percent } from "./ui.js";

// How long the overlay keeps an announced result up large, in seconds, unless something newer happens first
// (a vote opens, someone gets the floor, the chair moves on). 20 s: long enough to read three options and the
// verdict aloud twice on air, short enough not to hide the next speaker. `?ket-qua=<5..120>` changes it.
export const RESULT_SECONDS = 20;

export const STATUS_LINE = {
  prepared: "Kỳ họp đang chuẩn bị, chưa khai mạc",
  checkin_open: "Đang điểm danh đại biểu, chuẩn bị khai mạc",
  in_progress: "Đang họp",
  suspended: "Kỳ họp tạm dừng",
  closed: "Kỳ họp đã bế mạc",
};

export function itemLabel(item) {
  if (!item) return "";
  return `${item.number}. ${item.title}`;
}

export function itemKind(item) {
  return ITEM_KIND[item.kind] || item.kind;
}

/** Who has the floor, with the countdown to the event's `ends_at` (ui.js ticks every [data-ends]). */
export function speakerView(sp, cls = "speaker") {
  if (!sp) return null;
  return h(
    "div",
    { class: cls, dataset: { kind: sp.kind } },
    h("div", { class: "speaker-who" }, h("span", { class: "speaker-kind" }, sp.kind_vi), h("strong", { class: "speaker-name" }, sp.name), sp.position ? h("span", { class: "speaker-position" }, sp.position) : null),
    h("div", { class: "speaker-time", role: "timer", "aria-label": "Thời gian còn lại" }, countdown(sp.ends_at, "countdown")),
  );
}

// A verifiable round (feed `mode`, docs/FEED.md): after balloting nobody holds the count until the committee's
// members have decrypted it; then anyone can check the result on the round's public bulletin board.
export const WAITING_DECRYPTION = "Đang chờ Ban kiểm phiếu giải mã";

/** "Kiểm chứng công khai": the public verifier (verify.html) on this session's round, or poll (`kind` "poll"). */
export function verifyLink(sessionId, result, kind = "round") {
  const id = kind === "poll" ? result.poll_id : result.round_id;
  if (kind === "round" && (!result.secret || result.paper)) return null;
  if (kind === "round" && result.mode !== "verifiable")
    return h("p", { class: "verify-public muted" }, "Bỏ phiếu kín niêm phong: máy chủ kiểm phiếu, không có bảng công khai để kiểm chứng.");
  const params = new URLSearchParams({ session: sessionId, [kind]: id });
  return h("p", { class: "verify-public" }, h("a", { href: `verify.html?${params}`, dataset: { verify: id } }, "Kiểm chứng công khai"), " — ai cũng kiểm tra được kết quả từ bảng phiếu mã hóa.");
}

export function progressText(v) {
  return `Đã biểu quyết: ${v.ballots_cast}/${v.eligible} đại biểu`;
}

/** A round in progress: the motion and how many have voted (or that the count awaits the committee). */
export function voteNow(v, cls = "banner warn voting-now") {
  return h(
    "div",
    { class: cls, dataset: { round: v.round_id } },
    h("strong", { class: "voting-label" }, v.status === "counted" ? "ĐANG KIỂM PHIẾU" : "ĐANG BIỂU QUYẾT"),
    v.secret ? " (bỏ phiếu kín)" : " (biểu quyết công khai)",
    h("p", { class: "motion" }, v.motion),
    v.status === "counted"
      ? h("p", { class: "vote-progress", dataset: { round: v.round_id } }, v.mode === "verifiable" ? `${WAITING_DECRYPTION}.` : "Ban kiểm phiếu đang xác nhận kết quả.")
      : v.paper
        ? h("p", { class: "vote-progress", dataset: { round: v.round_id } }, "Biểu quyết bằng phiếu giấy.")
        : h("p", { class: "vote-progress", dataset: { round: v.round_id } }, progressText(v)),
    v.status === "open" && v.closes_at ? h("p", {}, "Thời gian còn lại: ", countdown(v.closes_at, "")) : null,
  );
}

export function verdict(result) {
  return h("span", { class: `verdict ${result.passed ? "passed" : "failed"}` }, result.passed ? "THÔNG QUA" : "KHÔNG THÔNG QUA");
}

export function resultSummary(result) {
  return (
    `${howHeld(result)} · ` +
    `${result.ballots_collected}/${result.total_delegates} đại biểu tham gia · cần ${result.needed} phiếu ` +
    `${result.options[0] ? result.options[0].label.toLowerCase() : ""} (${result.pass_rule_vi})`
  );
}

/** A named round's roll call, by name (public record); nothing for a secret round (the feed has none). */
export function rollCall(result) {
  if (!result.choices || result.choices.length === 0) return null;
  const byOption = result.options.map((o) => ({ o, names: result.choices.filter((c) => c.option === o.key).map((c) => c.name) }));
  return h(
    "details",
    { class: "roll-call" },
    h("summary", {}, `Danh sách biểu quyết công khai (${result.choices.length} đại biểu)`),
    byOption.map(({ o, names }) => h("div", { class: "roll-option" }, h("strong", {}, `${o.label} (${names.length})`), h("p", {}, names.length ? names.join(", ") : "—"))),
  );
}

/** The result the chair announced last, while the overlay should keep it up large (null otherwise). */
export function announcedResult(feed, now, seconds = RESULT_SECONDS) {
  let latest = null;
  for (const r of feed.results) {
    if (r.announced_at && (!latest || r.announced_at > latest.announced_at)) latest = r;
  }
  if (!latest || feed.status !== "in_progress") return null; // a suspension or the close says more than the card
  const at = Date.parse(latest.announced_at);
  if (now - at > seconds * 1000) return null;
  // Something newer replaces it: a vote opened, someone got the floor, or the chair moved to another item.
  if (feed.votes.some((v) => Date.parse(v.opened_at) > at)) return null;
  if (feed.speaker && Date.parse(feed.speaker.started_at) > at) return null;
  if (feed.current_item && feed.current_item.id !== latest.item_id) return null;
  return latest;
}

export function optionRows(result) {
  return result.options.map((o) =>
    h(
      "tr",
      {},
      h("td", {}, o.label, h("div", { class: "bar", "aria-hidden": "true" }, h("span", { style: `width:${Math.min(100, o.share_of_all)}%` }))),
      h("td", { class: "num" }, String(o.count)),
      h("td", { class: "num" }, percent(o.share_of_all)),
    ),
  );
}
