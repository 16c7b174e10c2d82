// "Chất vấn tại kỳ họp": on an item's detail view, the sessions and questions that raised it
// (GET …/items/{id}/citations) — session, delegate, respondent, when, status, the answer and the commitment —
// each with a link to the session's page for the viewer's role. Fills itself in once the server answers.

import { hasRole, saved } from "../api.js";
import { clock, day, fill, h } from "../ui.js";

const COMMITMENT_VI = { pending: "đang thực hiện", fulfilled: "đã thực hiện", overdue: "quá hạn", withdrawn: "không còn theo dõi" };
const TONE = { answered: "ok", withdrawn: "bad", called: "warn", answering: "warn" };

/** The page a session opens on for this viewer: the secretariat's, a delegate's tablet, else the public page. */
function sessionPage(sessionId) {
  const account = saved()?.account;
  const id = encodeURIComponent(sessionId);
  if (hasRole(account, "admin", "secretary")) return `secretariat.html?session=${id}`;
  if (hasRole(account, "delegate", "chair")) return `tablet.html?session=${id}`;
  return `public.html?session=${id}`;
}

function citationView(c) {
  return h(
    "li",
    { class: "citation", dataset: { session: c.session_id, question: c.question_id } },
    h(
      "p",
      { class: "item-head" },
      h("a", { href: sessionPage(c.session_id) }, c.session_title),
      h("span", { class: "muted" }, ` · ${day(c.opens_on)}`),
      h("span", { class: `pill ${TONE[c.status] || ""}`, dataset: { status: c.status } }, c.status_vi),
      c.origin ? h("span", { class: "pill" }, "Câu hỏi dẫn đến cam kết") : null,
    ),
    h(
      "p",
      {},
      `Đại biểu ${c.delegate_name} chất vấn ${c.respondent_name}${c.respondent_position ? `, ${c.respondent_position}` : ""}`,
      h("span", { class: "muted" }, ` — đăng ký ${clock(c.registered_at)} ngày ${day(c.registered_at)}`),
    ),
    h("p", { class: "muted" }, `Nhóm vấn đề: ${c.topic}`),
    c.answer ? h("blockquote", { class: "answer" }, h("strong", {}, "Trả lời: "), c.answer) : null,
    c.commitment
      ? h(
          "p",
          {},
          h("strong", {}, "Cam kết: "),
          c.commitment.text,
          c.commitment.due ? ` (hạn ${day(c.commitment.due)})` : "",
          h("span", { class: "muted" }, ` — ${COMMITMENT_VI[c.commitment.status] || c.commitment.status}`),
        )
      : null,
  );
}

/** The section, empty until loaded; a refusal is said in Vietnamese and English. */
export function citationsSection(reg, item) {
  const box = h("div", { class: "citations-box", "aria-live": "polite" }, h("p", { class: "muted" }, "Đang tìm các kỳ họp đã chất vấn…"));
  const section = h("section", { class: "citations", id: "citations", dataset: { item: item.id } }, h("h3", {}, "Chất vấn tại kỳ họp"), box);
  reg
    .citations(item.id)
    .then((out) => {
      section.dataset.count = String(out.citations.length);
      fill(
        box,
        out.citations.length
          ? h("ul", { class: "citation-list" }, out.citations.map(citationView))
          : h("p", { class: "muted" }, `Chưa có câu hỏi chất vấn nào nêu ${item.kind === "petition" ? "kiến nghị" : "mục"} này (đã xem ${out.sessions_scanned} kỳ họp).`),
      );
    })
    .catch((err) => {
      section.dataset.count = "error";
      fill(box, h("p", { class: "form-msg", role: "alert" }, err.message_vi ? `${err.message_vi} (${err.message_en})` : String(err)));
    });
  return section;
}
