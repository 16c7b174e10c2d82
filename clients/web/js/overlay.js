// The broadcast overlay (1920×1080): a lower third over the video — the item, who has the floor and the countdown,
// a vote in progress (how many have voted, never a count) — and, when the chair announces a result, the result
// card, large, for RESULT_SECONDS. `?nen=trong-suot` makes the background transparent for a video mixer (OBS,
// vMix browser source). It renders the public feed only (feed.js), so it can show nothing the public may not see.

import { chosenSession, serverNow } from "./api.js";
import { PublicFeed } from "./feed.js";
import { RESULT_SECONDS, WAITING_DECRYPTION, announcedResult, itemKind, itemLabel, optionRows, progressText, resultSummary, speakerView, verdict } from "./publicviews.js";
import { $, countdown, fill, h, refreshCountdowns } from "./ui.js";

const params = new URLSearchParams(location.search);
const sessionId = chosenSession();
const transparent = ["trong-suot", "transparent"].includes(params.get("nen") || "");
const wanted = Number.parseInt(params.get("ket-qua") || "", 10);
const resultSeconds = Number.isFinite(wanted) ? Math.min(120, Math.max(5, wanted)) : RESULT_SECONDS;

document.body.classList.toggle("transparent", transparent);

const TAG = {
  prepared: "CHUẨN BỊ",
  checkin_open: "ĐIỂM DANH",
  in_progress: "ĐANG HỌP",
  suspended: "TẠM DỪNG",
  closed: "ĐÃ BẾ MẠC",
};

let shownResult = null; // the round id on the result card, so the card is not rebuilt every tick
let hideTimer = null;

function lower(tag, tagClass, kicker, headline, side = null, sub = null) {
  return [
    h("div", { class: `lt-tag ${tagClass}` }, tag),
    h(
      "div",
      { class: "lt-main" },
      h("div", { class: "lt-text" }, kicker ? h("p", { class: "lt-kicker" }, kicker) : null, h("h1", { class: "lt-headline" }, headline), sub ? h("p", { class: "lt-sub" }, sub) : null),
      side ? h("div", { class: "lt-side" }, side) : null,
    ),
  ];
}

function tally(feed) {
  const passed = feed.results.filter((r) => r.passed).length;
  return `${feed.results.length} nội dung đã biểu quyết · ${passed} thông qua`;
}

function lowerThird(feed) {
  const item = feed.current_item;
  const kicker = item ? `Nội dung ${item.number} · ${itemKind(item)}` : feed.title;
  switch (feed.status) {
    case "closed":
      return lower("ĐÃ BẾ MẠC", "closed", feed.title, "Kỳ họp đã bế mạc", h("p", { class: "lt-figure" }, tally(feed)));
    case "suspended":
      return lower("TẠM DỪNG", "suspended", "Kỳ họp tạm dừng", feed.suspension_reason || "Kỳ họp tạm dừng, sẽ tiếp tục sau", null, item ? `Đang xem xét: ${itemLabel(item)}` : null);
    case "prepared":
    case "checkin_open": {
      const side = feed.status === "checkin_open" ? h("p", { class: "lt-figure" }, `${feed.present}/${feed.total}`, h("small", {}, "đại biểu có mặt")) : null;
      return lower(TAG[feed.status], "prepare", feed.council_name, feed.title, side, feed.status === "prepared" ? "Kỳ họp đang chuẩn bị, chưa khai mạc." : "Đang điểm danh đại biểu, chuẩn bị khai mạc.");
    }
    default:
      break;
  }
  const vote = feed.votes[0];
  if (vote) {
    const counted = vote.status === "counted";
    const side = counted
      ? h("p", { class: "lt-figure small" }, vote.mode === "verifiable" ? WAITING_DECRYPTION : "Ban kiểm phiếu đang xác nhận")
      : vote.paper
        ? h("p", { class: "lt-figure small" }, "Phiếu giấy")
        : h(
            "div",
            { class: "lt-progress vote-progress", dataset: { round: vote.round_id } },
            h("p", { class: "lt-figure" }, `${vote.ballots_cast}/${vote.eligible}`, h("small", {}, "đại biểu đã biểu quyết")),
            vote.closes_at ? h("p", { class: "lt-clock" }, countdown(vote.closes_at, "countdown")) : null,
            h("span", { class: "visually-hidden" }, progressText(vote)),
          );
    return lower(counted ? "ĐANG KIỂM PHIẾU" : "ĐANG BIỂU QUYẾT", "voting", `${vote.secret ? "Bỏ phiếu kín" : "Biểu quyết công khai"}${item ? ` · Nội dung ${item.number}` : ""}`, vote.motion, side);
  }
  const headline = item ? item.title : feed.title;
  return lower(TAG.in_progress, "live", kicker, headline, speakerView(feed.speaker, "lt-speaker"));
}

function resultCard(r) {
  return [
    h("p", { class: "rc-kicker" }, "KẾT QUẢ BIỂU QUYẾT"),
    h("h2", { class: "rc-motion" }, r.motion),
    h(
      "div",
      { class: "rc-body" },
      h(
        "table",
        { class: "rc-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Phương án"), h("th", { class: "num" }, "Số phiếu"), h("th", { class: "num" }, "Tỷ lệ / tổng số đại biểu"))),
        h("tbody", {}, optionRows(r)),
      ),
      h("div", { class: "rc-verdict" }, verdict(r)),
    ),
    h("p", { class: "rc-summary" }, resultSummary(r)),
    // On air a link cannot be clicked: the address, where viewers check the count themselves.
    r.mode === "verifiable" ? h("p", { class: "rc-summary rc-verify" }, `Kiểm chứng công khai: ${location.host}/verify.html?session=${encodeURIComponent(sessionId)}&round=${encodeURIComponent(r.round_id)}`) : null,
  ];
}

function closedResults(feed) {
  const rows = feed.results.slice(-6);
  return [
    h("p", { class: "rc-kicker" }, "KỲ HỌP ĐÃ BẾ MẠC · KẾT QUẢ BIỂU QUYẾT"),
    h("h2", { class: "rc-motion" }, feed.title),
    h(
      "ol",
      { class: "rc-list" },
      rows.map((r) =>
        h(
          "li",
          { dataset: { round: r.round_id } },
          h("span", { class: "rc-list-motion" }, r.motion),
          " ",
          r.options[0] ? h("span", { class: "rc-list-count" }, `${r.options[0].count}/${r.total_delegates} ${r.options[0].label.toLowerCase()}`) : null,
          " ",
          verdict(r),
        ),
      ),
    ),
  ];
}

function renderResult(feed) {
  const card = $("#result");
  if (feed.status === "closed" && feed.results.length) {
    if (shownResult !== "closed") fill(card, closedResults(feed));
    shownResult = "closed";
    card.classList.remove("hidden");
    card.dataset.round = "";
    return;
  }
  const r = announcedResult(feed, serverNow(), resultSeconds);
  clearTimeout(hideTimer);
  if (!r) {
    shownResult = null;
    card.classList.add("hidden");
    card.dataset.round = "";
    return;
  }
  if (shownResult !== r.round_id) fill(card, resultCard(r));
  shownResult = r.round_id;
  card.dataset.round = r.round_id;
  card.classList.remove("hidden");
  // Take it down when its time is up even if nothing else happens (re-checked then, against the server clock).
  const left = Date.parse(r.announced_at) + resultSeconds * 1000 - serverNow();
  hideTimer = setTimeout(() => renderResult(feed), Math.max(250, left + 50));
}

function render(feed) {
  fill("#bug-council", feed.council_name);
  fill("#bug-title", feed.title);
  fill("#bug-state", TAG[feed.status] || feed.status);
  $("#stage").dataset.status = feed.status;
  fill("#lower", lowerThird(feed));
  renderResult(feed);
  refreshCountdowns();
}

function gone(err) {
  $("#stage").dataset.status = "unknown";
  fill("#bug-title", "Không tìm thấy kỳ họp");
  fill("#bug-state", "");
  $("#result").classList.add("hidden");
  fill("#lower", lower("KHÔNG TÌM THẤY", "closed", sessionId ? `Mã kỳ họp: ${sessionId}` : "", err.message_vi || "Không tìm thấy kỳ họp.", null, err.message_en || null));
}

function status(s) {
  const conn = $("#conn");
  conn.className = `conn ${s}`;
  conn.textContent = s === "live" ? "Trực tuyến" : s === "gone" ? "" : "Mất kết nối, đang kết nối lại…";
}

if (!sessionId) {
  gone({ message_vi: "Chưa chọn kỳ họp: thêm ?session=<mã kỳ họp> vào địa chỉ.", message_en: "No session: add ?session=<id> to the address." });
} else {
  const feed = new PublicFeed(sessionId, { onChange: render, onStatus: status, onFatal: gone });
  window.kyhop = feed; // for the browser tests and for debugging
  feed.start();
}
