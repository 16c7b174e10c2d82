// Who is holding this tablet, said in its header, and the tasks of the roles that are not "just" a delegate:
// a respondent (người trả lời chất vấn) sees their answer turn with its timer and the questions waiting for them;
// a member of the counting committee (Ban kiểm phiếu) sees the counts waiting for their certification.
// The tablet (js/tablet.js) calls roleHeader once and renderRoleTasks on every change of the state.

import { hasRole } from "./api.js";
import { POLL_KIND, act, countdown, fill, h, resultView, pollResultView } from "./ui.js";

/** The words for this account in the header: "Đại biểu", "Người trả lời chất vấn", "Đại biểu · Ban kiểm phiếu"… */
export function roleLabel(account) {
  const parts = [];
  if (hasRole(account, "delegate")) parts.push("Đại biểu");
  else if (hasRole(account, "respondent")) parts.push("Người trả lời chất vấn");
  if (hasRole(account, "committee")) parts.push("Ban kiểm phiếu");
  return parts.join(" · ") || "Đại biểu";
}

export function roleHeader(account) {
  const label = roleLabel(account);
  const el = document.querySelector(".topbar .page");
  if (el) el.textContent = label;
  document.title = `${label} — Kỳ họp`;
  document.body.dataset.role = hasRole(account, "delegate") ? "delegate" : hasRole(account, "respondent") ? "respondent" : "committee";
}

function card(id, title) {
  let el = document.getElementById(id);
  if (!el) {
    el = h("section", { class: "card wide role-card", id }, h("h2", {}, title), h("div", { class: "role-body" }));
    document.querySelector("#app .grid").prepend(el);
  }
  return el;
}

/** The respondent's own card: who they are, their answer turn and its time, the questions waiting for them. */
function renderRespondent(state, me) {
  const el = card("my-turn", "Lượt trả lời của bạn");
  const r = state.hall.respondents[me];
  const turn = state.questioning.floor;
  const mine = Object.values(state.questioning.questions).filter((q) => q.respondent_id === me);
  const waiting = mine.filter((q) => ["registered", "called", "answering"].includes(q.status));
  const answering = turn && turn.kind === "answer" && turn.speaker_id === me ? state.questioning.questions[turn.question_id] : null;
  fill(
    el.querySelector(".role-body"),
    h("p", { id: "respondent-who" }, h("strong", {}, r ? r.name : me), r ? ` — ${r.position}` : ""),
    answering
      ? h(
          "div",
          { class: "banner info answer-turn", id: "answer-turn", role: "status" },
          h("p", {}, h("strong", {}, "Chủ tọa mời bạn trả lời chất vấn"), answering.topic ? ` — chủ đề: ${answering.topic}` : ""),
          h("p", {}, answering.text),
          h("p", {}, "Thời gian còn lại: ", countdown(turn.ends_at, "countdown big")),
        )
      : turn && state.questioning.questions[turn.question_id] && state.questioning.questions[turn.question_id].respondent_id === me
        ? h("p", { class: "banner warn", id: "answer-next" }, "Đại biểu đang chất vấn bạn: chuẩn bị trả lời.")
        : h("p", { class: "muted", id: "answer-none" }, "Chưa đến lượt bạn trả lời."),
    h("p", {}, `Câu hỏi gửi tới bạn: ${mine.length}; chưa trả lời: ${waiting.length}.`),
  );
}

/** The counting committee's tasks: every count that waits for this member's certification. */
function renderCommittee(state, me, live) {
  const rounds = Object.values(state.votes.rounds).filter((r) => r.status === "counted" && r.committee.includes(me));
  const polls = Object.values(state.polls.polls).filter((p) => p.status === "counted" && p.committee.includes(me));
  const el = card("committee-tasks", "Việc của Ban kiểm phiếu");
  const certify = (type, field, id) => (e) => act(e.target, () => live.run({ type, [field]: id }), "Đã xác nhận kết quả.");
  fill(
    el.querySelector(".role-body"),
    !rounds.length && !polls.length ? h("p", { class: "muted", id: "committee-none" }, "Không có kết quả nào chờ Ban kiểm phiếu xác nhận.") : null,
    rounds.map((r) =>
      h(
        "div",
        { class: "committee-task", dataset: { round: r.id } },
        h("p", {}, h("strong", {}, r.motion), ` · ${r.certified_by.length}/${r.committee.length} thành viên đã xác nhận`),
        r.count ? resultView(r.count, r.mode) : null,
        r.certified_by.includes(me)
          ? h("p", { class: "banner ok" }, "Bạn đã xác nhận kết quả kiểm phiếu.")
          : h("button", { class: "primary", onclick: certify("vote_certify_round", "round_id", r.id) }, "Xác nhận kết quả kiểm phiếu"),
      ),
    ),
    polls.map((p) =>
      h(
        "div",
        { class: "committee-task", dataset: { poll: p.id } },
        h("p", {}, h("strong", {}, POLL_KIND[p.kind] || p.kind), ` · ${p.certified_by.length}/${p.committee.length} thành viên đã xác nhận`),
        p.result ? pollResultView(p.result) : null,
        p.certified_by.includes(me)
          ? h("p", { class: "banner ok" }, "Bạn đã xác nhận kết quả kiểm phiếu.")
          : h("button", { class: "primary", onclick: certify("certify_poll", "poll_id", p.id) }, "Xác nhận kết quả kiểm phiếu"),
      ),
    ),
  );
}

/**
 * The role cards. A delegate on the committee certifies in the ballot panels already; the committee card is for
 * an account that is on the committee without being a delegate (it has no ballot panel).
 */
export function renderRoleTasks(state, { me, account, live }) {
  if (!state || !me) return;
  if (hasRole(account, "respondent") && !hasRole(account, "delegate")) renderRespondent(state, me);
  if (hasRole(account, "committee") && !hasRole(account, "delegate")) renderCommittee(state, me, live);
}
