// The secretariat (Văn phòng): the council's sessions with their state, the agenda editor, the session's
// documents (secretariat/*.js), attendance, the council's numbered resolutions, answers and commitments from
// questioning, the list of officials for a confidence poll, the delivery matrix and the record.

import { api, chosenSession, newId } from "./api.js";
import { Live } from "./live.js";
import {
  $,
  POLL_KIND,
  POLL_STATUS,
  act,
  ask,
  confirmBox,
  day,
  delegateName,
  fatal,
  fill,
  h,
  header,
  needSession,
  percent,
  refreshCountdowns,
  requireAccount,
  respondentName,
  sessionHeader,
  showError,
} from "./ui.js";
import { RecordPanel } from "./record.js";
import { attendanceLine, closedRounds } from "./views.js";
import { AgendaEditor } from "./secretariat/agenda.js";
import { DeliveryMatrix } from "./secretariat/deliveries.js";
import { DocumentsPanel } from "./secretariat/documents.js";
import { DevicesPanel } from "./secretariat/devices.js";
import { PaperResults } from "./secretariat/paper.js";
import { RosterPanel } from "./secretariat/roster.js";
import { RulesPanel } from "./secretariat/rules.js";
import { loadSessions } from "./secretariat/sessions.js";

export { slug } from "./secretariat/util.js";

const sessionId = chosenSession();
let live = null;
let record = null; // the "Hồ sơ kỳ họp" panel (record.js)
let agendaEditor = null; // the agenda editor (secretariat/agenda.js)
let paper = null; // paper ballot results (secretariat/paper.js)
const documents = new DocumentsPanel(sessionId); // upload, replace, withdraw, secret (secretariat/documents.js)
const deliveries = new DeliveryMatrix(sessionId); // the delivery matrix with its legend
let rulesPanel = null; // the council's rules, "Quy chế" (secretariat/rules.js)
let resolutions = null; // the council's resolutions (GET /api/councils/{id}/resolutions), null until loaded
const run = (command, okText, button) => act(button, () => live.run(command), okText);

async function loadResolutions() {
  const state = live && live.state;
  if (!state) return;
  try {
    resolutions = await api("GET", `/api/councils/${encodeURIComponent(state.hall.council_id)}/resolutions`);
    renderResolutions(state);
  } catch (err) {
    fill("#resolution-list", h("div", { class: "banner bad" }, err.message_vi || String(err)));
  }
}

function renderResolutions(state) {
  if (resolutions === null) return;
  const numbered = new Set(resolutions.map((r) => r.round_id));
  // A procedural round is never a resolution (Law 77/2015/QH13 art. 91(3)): nothing to number.
  const waiting = closedRounds(state).filter((r) => r.result.passed && r.result.kind !== "procedural" && !numbered.has(r.id));
  fill(
    "#to-number",
    waiting.map((r) => {
      const item = state.agenda.items[r.item_id];
      return h(
        "div",
        { class: "banner info", dataset: { round: r.id } },
        "Đã thông qua, chưa có số: ",
        h("strong", {}, r.motion),
        " ",
        h(
          "button",
          {
            class: "primary",
            onclick: async (e) => {
              const title = await ask("Ghi số nghị quyết", "Trích yếu nghị quyết", item ? item.title : r.motion);
              if (!title) return;
              await act(
                e.target,
                async () => {
                  await api("POST", `/api/councils/${encodeURIComponent(state.hall.council_id)}/commands`, {
                    id: newId(),
                    command: {
                      type: "number_resolution",
                      session_id: sessionId,
                      title,
                      result: r.result,
                    },
                  });
                  await loadResolutions();
                },
                "Đã ghi số nghị quyết.",
              );
            },
          },
          "Ghi số nghị quyết",
        ),
      );
    }),
  );
  fill(
    "#resolution-list",
    resolutions.length
      ? h(
          "table",
          {},
          h(
            "thead",
            {},
            h("tr", {}, h("th", {}, "Số"), h("th", {}, "Trích yếu"), h("th", {}, "Ngày thông qua"), h("th", { class: "num" }, "Tán thành"), h("th", {}, "Kỳ họp")),
          ),
          h(
            "tbody",
            {},
            resolutions.map((r) => {
              const first = r.result.options[0];
              return h(
                "tr",
                { dataset: { number: r.number } },
                h("td", {}, h("strong", {}, r.number)),
                h("td", {}, r.title, r.normative ? h("small", {}, " (quy phạm pháp luật)") : null),
                h("td", {}, day(r.adopted_on)),
                h("td", { class: "num" }, `${first.count}/${r.result.total_delegates} (${percent(first.share_of_all)})`),
                h("td", {}, r.session_id === sessionId ? "kỳ họp này" : r.session_id),
              );
            }),
          ),
        )
      : h("div", { class: "muted" }, "Hội đồng chưa có nghị quyết nào được ghi số."),
  );
}

function renderAttendance(state) {
  const a = attendanceLine(state);
  const hall = state.hall;
  fill(
    "#attendance-summary",
    h("div", { class: "big-number" }, `${a.present}/${a.total}`),
    h("p", { class: `banner ${a.met ? "ok" : "warn"}` }, a.met ? `Đủ số lượng tối thiểu (cần ${a.needed})` : `Cần ít nhất ${a.needed} đại biểu có mặt`),
  );
  fill(
    "#attendance-actions",
    hall.status === "prepared"
      ? h("button", { class: "primary", onclick: (e) => run({ type: "open_check_in" }, "Đã mở điểm danh.", e.target) }, "Mở điểm danh")
      : null,
  );
  const canRecord = ["checkin_open", "in_progress", "suspended"].includes(hall.status);
  fill(
    "#attendance-list",
    Object.values(hall.delegates)
      .filter((d) => d.seated)
      .map((d) => {
        const present = hall.present.includes(d.id);
        return h(
          "tr",
          { dataset: { delegate: d.id } },
          h("td", {}, d.id),
          h("td", {}, d.name),
          h("td", {}, h("span", { class: `pill ${present ? "ok" : ""}` }, present ? "có mặt" : "vắng")),
          h(
            "td",
            {},
            canRecord
              ? h(
                  "button",
                  {
                    onclick: (e) =>
                      run({ type: present ? "check_out" : "check_in", delegate_id: d.id }, present ? `Đã ghi ${d.name} rời hội trường.` : `Đã điểm danh hộ ${d.name}.`, e.target),
                  },
                  present ? "Ghi rời" : "Điểm danh hộ",
                )
              : null,
          ),
        );
      }),
  );
}

function answerButton(q) {
  return h(
    "button",
    {
      onclick: async (e) => {
        const summary = await ask("Ghi nhận trả lời", "Tóm tắt nội dung trả lời", q.answer || "");
        if (!summary) return;
        const commitment = await ask("Cam kết (không bắt buộc)", "Nội dung cam kết", q.commitment ? q.commitment.text : "");
        const command = { type: "record_answer", question_id: q.id, summary, commitment: commitment || null, due: null };
        run(command, "Đã ghi nhận trả lời.", e.target);
      },
    },
    q.answer ? "Sửa ghi nhận" : "Ghi nhận trả lời",
  );
}

function renderAnswers(state) {
  const qs = Object.values(state.questioning.questions).filter((q) => ["answering", "answered"].includes(q.status));
  const recording = ["in_progress", "suspended"].includes(state.hall.status);
  fill(
    "#answer-list",
    qs.length
      ? qs.map((q) =>
          h(
            "li",
            { dataset: { question: q.id } },
            h("strong", {}, q.topic),
            h("small", {}, ` · Đại biểu ${delegateName(state, q.delegate_id)} hỏi ${respondentName(state, q.respondent_id)}`),
            h("p", {}, q.text),
            q.answer ? h("p", { class: "banner info" }, "Trả lời: ", q.answer) : null,
            q.commitment ? h("p", { class: "banner ok" }, `Cam kết: ${q.commitment.text}`, q.commitment.due ? ` (hạn ${day(q.commitment.due)})` : "") : null,
            recording ? answerButton(q) : null,
          ),
        )
      : h("li", { class: "muted" }, "Chưa có câu hỏi nào đã được trả lời."),
  );
}

let pollKey = "";
function renderPollSetup(state) {
  const items = state.agenda.order.map((id) => state.agenda.items[id]).filter((i) => i.kind === "confidence");
  const polls = Object.values(state.polls.polls);
  const key = JSON.stringify([items.map((i) => i.id), polls.map((p) => [p.id, p.status]), Object.keys(state.hall.respondents)]);
  if (key === pollKey) return; // the checkboxes hold the secretariat's choice
  pollKey = key;
  const free = items.filter((i) => !polls.some((p) => p.item_id === i.id && p.status !== "cancelled"));
  fill(
    "#poll-setup",
    polls.map((p) =>
      h("p", {}, `${POLL_KIND[p.kind] || p.kind} (${p.id}): ${p.officials.length} người trong phiếu · `, h("span", { class: "pill" }, POLL_STATUS[p.status] || p.status)),
    ),
    free.length
      ? free.map((item) => {
          const boxes = Object.values(state.hall.respondents).map((r) =>
            h("label", { class: "inline" }, h("input", { type: "checkbox", value: r.id, checked: true }), `${r.name} — ${r.position}`),
          );
          const kind = h(
            "select",
            { "aria-label": `Hình thức phiếu cho «${item.title}»` },
            h("option", { value: "rating" }, "Lấy phiếu tín nhiệm (tín nhiệm cao / tín nhiệm / tín nhiệm thấp)"),
            h("option", { value: "confidence_vote" }, "Bỏ phiếu tín nhiệm (tín nhiệm / không tín nhiệm)"),
          );
          const create = h("button", { class: "primary", type: "button" }, "Lập phiếu");
          create.addEventListener("click", async () => {
            const officials = boxes
              .map((b) => b.querySelector("input"))
              .filter((i) => i.checked)
              .map((i) => {
                const r = state.hall.respondents[i.value];
                return { id: r.id, name: r.name, position: r.position, delegate_id: null };
              });
            if (!(await confirmBox("Lập phiếu tín nhiệm", `${officials.length} người trong phiếu cho nội dung «${item.title}».`, "Lập phiếu"))) return;
            run({ type: "create_poll", poll_id: `ltn-${newId().slice(0, 8)}`, item_id: item.id, kind: kind.value, officials }, "Đã lập phiếu tín nhiệm.", create);
          });
          return h("div", { class: "card" }, h("h3", {}, item.title), kind, h("div", {}, boxes), h("div", { class: "actions" }, create));
        })
      : polls.length
        ? null
        : h("p", { class: "muted" }, "Chương trình không có nội dung tín nhiệm."),
  );
}

const DOCUMENT_EVENTS = new Set([
  "document_published",
  "document_replaced",
  "document_withdrawn",
  "copies_sent",
  "delivery_received",
  "delivery_failed",
]);
// Events after which the council's session list (with each session's state) is read again.
const STATUS_EVENTS = new Set(["check_in_opened", "session_opened", "session_suspended", "session_resumed", "session_closed"]);

let firstState = true;
function render() {
  const state = live.state;
  sessionHeader(state);
  if (!state) return;
  agendaEditor.render(state);
  paper.render(state);
  documents.render(state, live);
  renderAttendance(state);
  renderResolutions(state);
  renderAnswers(state);
  renderPollSetup(state);
  if (!record) record = new RecordPanel(sessionId, state.hall.council_id);
  record.render(state);
  refreshCountdowns();
  if (firstState) {
    firstState = false;
    loadResolutions();
    deliveries.load();
    loadSessions(state.hall.council_id, sessionId);
    new RosterPanel(state.hall.council_id).wire();
    new DevicesPanel(state.hall.council_id, sessionId).wire();
    rulesPanel = new RulesPanel(state.hall.council_id);
    rulesPanel.load();
  }
  rulesPanel.session(state);
}

async function main() {
  if (!needSession(sessionId)) return;
  const { token } = await requireAccount(["secretary", "admin"], "Văn phòng", "vanphong");
  live = new Live(sessionId, {
    token,
    onChange: render,
    onFatal: fatal,
    onEvent: (ev) => {
      if (ev.type === "vote_round_closed") setTimeout(loadResolutions, 200);
      if (DOCUMENT_EVENTS.has(ev.type)) deliveries.schedule();
      if (STATUS_EVENTS.has(ev.type) && live.state) loadSessions(live.state.hall.council_id, sessionId);
    },
  });
  header({ page: "Văn phòng", live });
  agendaEditor = new AgendaEditor(live);
  paper = new PaperResults(live);
  agendaEditor.wire();
  documents.wire();
  live.start();
  window.kyhop = live;
}

main().catch(showError);
