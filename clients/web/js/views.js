// Pieces of the session that several pages show the same way.

import {
  ITEM_KIND,
  ITEM_STATUS,
  TURN_KIND,
  countdown,
  currentItem,
  delegateName,
  h,
  respondentName,
  resultView,
  speakerName,
} from "./ui.js";

export function agendaList(state, action = null) {
  return state.agenda.order.map((id, i) => {
    const item = state.agenda.items[id];
    return h(
      "li",
      { class: item.status, dataset: { item: id } },
      item.title,
      " ",
      h("small", {}, `${ITEM_KIND[item.kind] || item.kind} · ${ITEM_STATUS[item.status] || item.status}`),
      action ? [" ", action(item, i)] : null,
    );
  });
}

export function currentItemView(state) {
  const item = currentItem(state);
  if (!item) return h("span", { class: "muted" }, "Chưa bắt đầu nội dung nào.");
  return h("span", {}, item.title, " ", h("span", { class: "pill" }, ITEM_KIND[item.kind] || item.kind));
}

export function attendanceLine(state) {
  const hall = state.hall;
  const total = Object.values(hall.delegates).filter((d) => d.seated).length;
  const present = hall.present.filter((id) => hall.delegates[id] && hall.delegates[id].seated).length;
  const q = hall.rules.quorum;
  const needed = q.strict ? Math.floor((q.num * total) / q.den) + 1 : Math.ceil((q.num * total) / q.den);
  return { total, present, needed, met: present >= needed };
}

/**
 * Who holds the floor: a speech, or a questioning turn (question, answer, rebuttal), with its countdown.
 * `called` maps question ids to the `question_called` events seen (topic, respondent), for screens that do not
 * see the questions themselves (the public).
 */
export function floorView(state, called = {}) {
  const speech = state.speakers.current;
  if (speech) {
    return h(
      "div",
      { class: "floor" },
      h("div", { class: "speaker-name" }, `Đại biểu ${delegateName(state, speech.delegate_id)}`),
      h("div", { class: "muted" }, "đang phát biểu"),
      countdown(speech.ends_at),
      h("div", { class: "muted" }, `Thời lượng ${durationText(speech.seconds)}`),
    );
  }
  const turn = state.questioning.floor;
  if (turn) {
    const q = state.questioning.questions[turn.question_id];
    const seen = called[turn.question_id] || {};
    const topic = (q && q.topic) || seen.topic;
    const respondent = (q && q.respondent_id) || seen.respondent_id;
    return h(
      "div",
      { class: "floor" },
      h("div", { class: "pill" }, TURN_KIND[turn.kind] || turn.kind),
      h("div", { class: "speaker-name" }, speakerName(state, turn.speaker_id)),
      topic ? h("div", {}, `Chủ đề: ${topic}`) : null,
      respondent && turn.kind !== "answer" ? h("div", { class: "muted" }, `Người bị chất vấn: ${respondentName(state, respondent)}`) : null,
      q && turn.kind === "question" ? h("p", {}, q.text) : null,
      countdown(turn.ends_at),
    );
  }
  return h("div", { class: "muted" }, "Chưa có ai phát biểu.");
}

/** A length of time in words: "45 giây", "5 phút", "1 phút 30 giây" — a 45-second speech never reads "0 phút". */
export function durationText(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (!m) return `${rest} giây`;
  return rest ? `${m} phút ${rest} giây` : `${m} phút`;
}

export function openRounds(state) {
  return Object.values(state.votes.rounds).filter((r) => r.status === "open");
}

export function closedRounds(state) {
  return Object.values(state.votes.rounds)
    .filter((r) => r.status === "closed" && r.result)
    .sort((a, b) => String(b.result.closed_at).localeCompare(String(a.result.closed_at)));
}

export function resultsList(state) {
  const rounds = closedRounds(state);
  const cancelled = Object.values(state.votes.rounds).filter((r) => r.status === "cancelled");
  if (!rounds.length && !cancelled.length) return h("div", { class: "muted" }, "Chưa có kết quả.");
  return h(
    "div",
    {},
    rounds.map((r) => h("div", { class: "card result-card" }, resultView(r.result, r.mode))),
    cancelled.map((r) => h("p", { class: "banner warn" }, `Lượt biểu quyết «${r.motion}» đã hủy: ${r.cancel_reason || ""}`)),
  );
}

// How many have voted so far, as the server announces it to everyone (`vote_round_progress` / `poll_progress`, at
// most every 250 ms while ballots arrive): a number, never who or what. Paper rounds have no electronic count.
export function voteProgressText(r) {
  return `Đã biểu quyết: ${r.ballots_reported}/${r.eligible.length} đại biểu`;
}

export function voteProgress(r) {
  if (r.paper) return null;
  return h("p", { class: "vote-progress", dataset: { round: r.id } }, voteProgressText(r));
}

export function pollProgressText(p) {
  return `Đã bỏ phiếu: ${p.ballots_reported}/${p.eligible.length} đại biểu`;
}

export function pollProgress(p) {
  return h("p", { class: "poll-progress", dataset: { poll: p.id } }, pollProgressText(p));
}
