// The livestream summary: no sign-in, the public view of the session. While a vote is open it shows how many have
// voted ("Đã biểu quyết: 40/50 đại biểu", the server's coalesced announcement), never who voted or the count of
// any option; the server does not send those to the public at all (a secret ballot's choices reach nobody).

import { chosenSession } from "./api.js";
import { publicRecord } from "./record.js";
import { Live } from "./live.js";
import { $, POLL_STATUS, countdown, fill, h, header, needSession, pollResultView, refreshCountdowns, sessionHeader } from "./ui.js";
import { agendaList, attendanceLine, currentItemView, floorView, openRounds, pollProgress, resultsList, voteProgress } from "./views.js";

const sessionId = chosenSession();
const called = {}; // question id -> its question_called event (the public does not see the questions)
let recordShown = false; // the adopted resolutions and the minutes, listed once the session has closed

function render(live) {
  const state = live.state;
  sessionHeader(state);
  if (!state) return;
  fill("#now-item", currentItemView(state));
  const a = attendanceLine(state);
  fill("#attendance", h("span", { class: "muted" }, `Đại biểu có mặt: ${a.present}/${a.total}`));
  fill("#floor-body", floorView(state, called));

  const open = openRounds(state);
  fill(
    "#voting-body",
    open.length
      ? open.map((r) =>
          h(
            "div",
            { class: "banner warn voting-now" },
            h("strong", {}, "ĐANG BIỂU QUYẾT"),
            r.secret ? " (bỏ phiếu kín)" : "",
            h("p", {}, r.motion),
            voteProgress(r),
            r.closes_at ? h("p", {}, "Thời gian còn lại: ", countdown(r.closes_at, "")) : null,
          ),
        )
      : h("div", { class: "muted" }, "Không có lượt biểu quyết nào đang mở."),
  );
  fill("#results-body", resultsList(state));

  const polls = Object.values(state.polls.polls).filter((p) => p.status !== "draft");
  fill(
    "#polls-body",
    polls.length
      ? polls.map((p) => {
          const result = p.status === "certified" ? p.result : null;
          return h(
            "div",
            { class: "poll" },
            h("p", {}, h("span", { class: "pill" }, POLL_STATUS[p.status] || p.status)),
            p.status === "open" ? pollProgress(p) : null,
            result ? pollResultView(result) : null,
          );
        })
      : h("div", { class: "muted" }, "Chưa có kết quả được công bố."),
  );
  fill("#agenda-list", agendaList(state));
  if (state.hall.status === "closed" && !recordShown) {
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

if (needSession(sessionId)) {
  const live = new Live(sessionId, {
    token: null,
    onChange: () => render(live),
    onEvent: (event) => {
      if (event.type === "question_called") called[event.question_id] = event;
    },
    onFatal: (err) => fill("#session-title", h("span", {}, err.message_vi)),
  });
  header({ page: "Trực tiếp kỳ họp", live });
  live.start();
  window.kyhop = live; // for the browser tests and for debugging
  $("#app").dataset.session = sessionId;
}
