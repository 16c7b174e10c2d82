// The floor: who speaks (with the countdown), the speakers' queue, a direct invitation, and questioning turns.

import { QUESTION_STATUS, countdown, delegateName, fill, h, respondentName } from "./ui.js";
import { durationText, floorView } from "./views.js";
import { desk, keyed, nameWithSeat, run } from "./chair-common.js";

const $ = (id) => document.getElementById(id);

function speechSeconds() {
  const v = $("speech-seconds").value;
  return v ? Number(v) : null;
}

export function renderSpeakers(state) {
  const sp = state.speakers;
  keyed($("speech-now"), [sp.current], () =>
    fill(
      "#speech-now",
      sp.current
        ? h(
            "div",
            { class: "banner info" },
            h("strong", {}, `Đại biểu ${delegateName(state, sp.current.delegate_id)}`),
            " đang phát biểu · còn ",
            countdown(sp.current.ends_at),
            h("div", { class: "muted" }, `Thời lượng ${durationText(sp.current.seconds)}`),
            h("button", { class: "danger", onclick: (e) => run({ type: "end_speech" }, "Đã kết thúc phát biểu.", e.currentTarget) }, "Kết thúc phát biểu"),
          )
        : h("p", { class: "muted" }, "Không có ai đang phát biểu."),
    ),
  );
  const item = state.hall.current_item;
  const queue = item ? sp.order[item] || [] : [];
  const move = (i, d, button) => {
    const order = [...queue];
    [order[i], order[i + d]] = [order[i + d], order[i]];
    run({ type: "order_speakers", item_id: item, order }, "", button);
  };
  keyed($("speaker-queue"), [queue, queue.map((rid) => sp.requests[rid]), !!sp.current], () =>
    fill(
      "#speaker-queue",
      queue.length
        ? queue.map((rid, i) => {
            const r = sp.requests[rid];
            const name = delegateName(state, r.delegate_id);
            return h(
              "li",
              { dataset: { request: rid } },
              `${i + 1}. Đại biểu ${name}`,
              r.topic ? h("small", {}, ` — ${r.topic}`) : null,
              h(
                "div",
                { class: "row" },
                h("button", { class: "primary", disabled: !!sp.current, onclick: (e) => run({ type: "start_speech", request_id: rid, seconds: speechSeconds() }, "", e.currentTarget) }, "Mời phát biểu"),
                h("button", { disabled: i === 0, "aria-label": `Đưa ${name} lên trước`, onclick: (e) => move(i, -1, e.currentTarget) }, "↑"),
                h("button", { disabled: i === queue.length - 1, "aria-label": `Đưa ${name} xuống sau`, onclick: (e) => move(i, 1, e.currentTarget) }, "↓"),
                h("button", { onclick: (e) => run({ type: "withdraw_speaking_request", request_id: rid }, "Đã rút đăng ký.", e.currentTarget) }, "Rút"),
              ),
            );
          })
        : h("li", { class: "muted" }, "Chưa có đại biểu đăng ký."),
    ),
  );
  // The select keeps the chair's choice: redraw it only when attendance changes.
  const present = state.hall.present.filter((id) => state.hall.delegates[id]).sort();
  keyed($("direct-delegate"), present, () => {
    const select = $("direct-delegate");
    const chosen = select.value;
    fill(select, present.map((id) => h("option", { value: id, selected: id === chosen }, nameWithSeat(state.hall.delegates[id]))));
  });
}

export function renderQuestioning(state) {
  const qs = state.questioning;
  const turn = qs.floor;
  keyed($("turn-now"), [turn, turn && qs.questions[turn.question_id]], () =>
    fill(
      "#turn-now",
      turn
        ? h(
            "div",
            { class: "banner info" },
            floorView(state),
            h("button", { class: "danger", onclick: (e) => run({ type: "end_question_turn" }, "Đã kết thúc lượt.", e.currentTarget) }, "Kết thúc lượt"),
          )
        : h("p", { class: "muted" }, "Không có lượt chất vấn nào đang diễn ra."),
    ),
  );
  const busy = !!turn || !!state.speakers.current;
  const questions = Object.values(qs.questions).filter((q) => q.status !== "withdrawn");
  const rank = (q) => (qs.order.includes(q.id) ? qs.order.indexOf(q.id) : 1e6 + Date.parse(q.registered_at) / 1e9);
  questions.sort((a, b) => rank(a) - rank(b));
  keyed($("chair-questions"), [questions, busy], () =>
    fill(
      "#chair-questions",
      questions.length
        ? questions.map((q) =>
            h(
              "li",
              { dataset: { question: q.id } },
              h("span", { class: "pill" }, QUESTION_STATUS[q.status] || q.status),
              " ",
              h("strong", {}, q.group || q.topic),
              h("br"),
              h("small", {}, `Đại biểu ${delegateName(state, q.delegate_id)} → ${respondentName(state, q.respondent_id)}`),
              h("p", {}, q.text),
              h(
                "div",
                { class: "row" },
                q.status === "registered"
                  ? h("button", { class: "primary", disabled: busy, onclick: (e) => run({ type: "call_question", question_id: q.id }, "", e.currentTarget) }, "Mời chất vấn")
                  : null,
                ["called", "answering", "answered"].includes(q.status)
                  ? h("button", { disabled: busy, onclick: (e) => run({ type: "call_answer", question_id: q.id }, "", e.currentTarget) }, "Mời trả lời")
                  : null,
                q.rebuttal_queue.map((d) =>
                  h("button", { disabled: busy, onclick: (e) => run({ type: "call_rebuttal", question_id: q.id, delegate_id: d }, "", e.currentTarget) }, `Mời tranh luận: ${delegateName(state, d)}`),
                ),
              ),
            ),
          )
        : h("li", { class: "muted" }, "Chưa có câu hỏi chất vấn."),
    ),
  );
}

export function wireFloor() {
  $("direct-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const who = $("direct-delegate").value;
    if (!who) return;
    run({ type: "start_speech", delegate_id: who, seconds: speechSeconds() }, "", e.submitter || null);
  });
  $("group-topics").addEventListener("click", (e) => {
    const qs = desk.live.state.questioning;
    const groups = new Map();
    for (const id of qs.order) {
      const q = qs.questions[id];
      if (!q || q.status !== "registered") continue;
      if (!groups.has(q.topic)) groups.set(q.topic, []);
      groups.get(q.topic).push(id);
    }
    run({ type: "group_questions", groups: [...groups].map(([topic, ids]) => ({ topic, question_ids: ids })) }, "Đã nhóm câu hỏi theo chủ đề.", e.currentTarget);
  });
}
