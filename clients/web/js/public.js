// The public's phone page (390×844 first): the same public picture as the broadcast overlay — the item, who has
// the floor and the countdown, a vote in progress (how many have voted, never a count: the feed has none), the
// results with a named vote's roll call — and the session's state said plainly: "chuẩn bị" before the opening, the
// reason of a suspension, "Kỳ họp đã bế mạc" with its results, and an unknown session once. No sign-in; it reads
// the public feed (feed.js, docs/FEED.md).

import { chosenSession } from "./api.js";
import { PublicFeed } from "./feed.js";
import { STATUS_LINE, itemKind, rollCall, speakerView, verifyLink, voteNow } from "./publicviews.js";
import { publicRecord } from "./record.js";
import { $, ITEM_STATUS, fill, h, needSession, pollResultView, refreshCountdowns, resultView, statusPill } from "./ui.js";

const sessionId = chosenSession();
let recordShown = false; // the adopted resolutions and the minutes, listed once the session has closed

function stateBanner(feed) {
  switch (feed.status) {
    case "prepared":
      return h("div", { class: "banner info state-banner", dataset: { status: feed.status } }, h("strong", {}, "Kỳ họp đang chuẩn bị"), h("p", {}, "Chưa khai mạc. Trang này tự cập nhật khi kỳ họp bắt đầu."));
    case "checkin_open":
      return h("div", { class: "banner info state-banner", dataset: { status: feed.status } }, h("strong", {}, "Đang điểm danh, chuẩn bị khai mạc"), h("p", {}, `Đại biểu có mặt: ${feed.present}/${feed.total}`));
    case "suspended":
      return h(
        "div",
        { class: "banner warn state-banner", dataset: { status: feed.status } },
        h("strong", {}, "Kỳ họp tạm dừng"),
        h("p", { class: "suspension-reason" }, feed.suspension_reason ? `Lý do: ${feed.suspension_reason}` : "Kỳ họp sẽ tiếp tục sau."),
      );
    case "closed":
      return h(
        "div",
        { class: "banner closed state-banner", dataset: { status: feed.status } },
        h("strong", {}, "Kỳ họp đã bế mạc"),
        h("p", {}, `${feed.results.length} nội dung đã biểu quyết, ${feed.results.filter((r) => r.passed).length} được thông qua. Kết quả ở dưới.`),
      );
    default:
      return null;
  }
}

function render(feed) {
  fill("#council", feed.council_name);
  fill("#session-title", feed.title);
  fill("#session-state", statusPill(feed.status), " ", STATUS_LINE[feed.status] || "");
  $("#app").dataset.status = feed.status;
  fill("#state-banner", stateBanner(feed));

  const closed = feed.status === "closed";
  const before = feed.status === "prepared" || feed.status === "checkin_open";
  // Before the opening and after the close there is no item under discussion, no floor and no vote to show.
  for (const id of ["#now", "#floor", "#voting"]) $(id).classList.toggle("hidden", closed || before);

  const item = feed.current_item;
  fill("#now-item", item ? h("span", {}, item.title, " ", h("span", { class: "pill" }, itemKind(item))) : h("span", { class: "muted" }, "Chưa bắt đầu nội dung nào."));
  fill("#attendance", h("span", { class: "muted" }, `Đại biểu có mặt: ${feed.present}/${feed.total}`));
  fill("#floor-body", feed.speaker ? speakerView(feed.speaker, "speaker pub-speaker") : h("span", { class: "muted" }, "Chưa có ai phát biểu."));
  fill("#voting-body", feed.votes.length ? feed.votes.map((v) => voteNow(v)) : h("div", { class: "muted" }, "Không có lượt biểu quyết nào đang mở."));

  const results = [...feed.results].reverse(); // the newest first: on a phone the latest is what one looks for
  fill(
    "#results-body",
    results.length
      ? results.map((r) => {
          const card = resultView(r);
          if (r.announced_at) card.classList.add("announced");
          const roll = rollCall(r);
          if (roll) card.append(roll);
          const link = verifyLink(sessionId, r);
          if (link) card.append(link);
          return card;
        })
      : h("span", { class: "muted" }, "Chưa có kết quả."),
  );
  $("#polls").classList.toggle("hidden", feed.polls.length === 0);
  fill("#polls-body", feed.polls.map((p) => pollResultView(p)));
  fill(
    "#agenda-list",
    feed.agenda.map((it) => h("li", { class: it.status, dataset: { item: it.id } }, it.title, " ", h("small", {}, `${itemKind(it)} · ${ITEM_STATUS[it.status] || it.status}`))),
  );
  if (closed && !recordShown) {
    recordShown = true;
    publicRecord(sessionId)
      .then((list) => {
        fill("#record-body", list);
        $("#record").classList.remove("hidden");
      })
      .catch(() => {
        recordShown = false; // not ready yet (e.g. the settings are missing): try again on the next change
      });
  }
  refreshCountdowns();
}

function gone(err) {
  $("#app").dataset.status = "unknown";
  fill("#session-title", "Không tìm thấy kỳ họp");
  fill("#session-state", "");
  fill("#state-banner", h("div", { class: "banner bad state-banner", role: "alert" }, err.message_vi, h("br"), h("small", {}, err.message_en), h("p", {}, h("a", { href: "index.html" }, "Về trang đầu"))));
  for (const id of ["#now", "#floor", "#voting", "#results", "#agenda"]) $(id).classList.add("hidden");
}

function status(s) {
  const conn = $("#conn");
  conn.className = `conn ${s}`;
  conn.textContent = s === "live" ? "Trực tuyến" : s === "gone" ? "Không có kỳ họp" : "Mất kết nối, đang kết nối lại…";
}

if (needSession(sessionId)) {
  const feed = new PublicFeed(sessionId, { onChange: render, onStatus: status, onFatal: gone });
  window.kyhop = feed; // for the browser tests and for debugging
  $("#app").dataset.session = sessionId;
  feed.start();
}
