// The chair's console: attendance and quorum, the session's lifecycle, the agenda, speakers, questioning,
// votes (with the live count of ballots; per option only for named rounds) and the confidence polls.

import { api, chosenSession, newId } from "./api.js";
import { DOCUMENT_EVENTS } from "./documents.js";
import { Live } from "./live.js";
import {
  $,
  POLL_KIND,
  POLL_STATUS,
  QUESTION_STATUS,
  act,
  ask,
  confirmBox,
  countdown,
  currentItem,
  delegateName,
  fatal,
  fill,
  h,
  header,
  needSession,
  pollResultView,
  refreshCountdowns,
  requireAccount,
  respondentName,
  resultView,
  sessionHeader,
} from "./ui.js";
import { agendaList, attendanceLine, closedRounds, floorView, openRounds } from "./views.js";

const sessionId = chosenSession();
let live = null;
const run = (command, okText, button) => act(button, () => live.run(command), okText);

function renderAttendance(state) {
  const a = attendanceLine(state);
  const hall = state.hall;
  fill(
    "#quorum",
    h("div", { class: "big-number", id: "present-count" }, `${a.present}/${a.total}`),
    h("p", {}, `đại biểu có mặt · cần ít nhất ${a.needed} để khai mạc`),
    h("div", { class: "bar" }, h("span", { style: `width:${a.total ? (100 * a.present) / a.total : 0}%` })),
    h("p", { class: `banner ${a.met ? "ok" : "warn"}`, id: "quorum-status" }, a.met ? "Đủ số lượng tối thiểu" : `Chưa đủ: còn thiếu ${a.needed - a.present} đại biểu`),
  );
  const buttons = [];
  const btn = (label, command, cls = "", okText = "") =>
    h("button", { class: cls, onclick: (e) => run(command, okText, e.target) }, label);
  if (hall.status === "prepared") buttons.push(btn("Mở điểm danh", { type: "open_check_in" }, "primary", "Đã mở điểm danh."));
  if (hall.status === "checkin_open") buttons.push(btn("Khai mạc kỳ họp", { type: "open_session" }, "primary", "Đã khai mạc kỳ họp."));
  if (hall.status === "in_progress") {
    buttons.push(
      h(
        "button",
        {
          onclick: async (e) => {
            const reason = await ask("Tạm dừng kỳ họp", "Lý do (không bắt buộc)");
            if (reason !== null) run({ type: "suspend_session", reason }, "Đã tạm dừng.", e.target);
          },
        },
        "Tạm dừng",
      ),
    );
  }
  if (hall.status === "suspended") buttons.push(btn("Tiếp tục kỳ họp", { type: "resume_session" }, "primary", "Đã tiếp tục."));
  if (["in_progress", "suspended"].includes(hall.status)) {
    buttons.push(
      h(
        "button",
        {
          class: "danger",
          onclick: async (e) => {
            if (await confirmBox("Bế mạc kỳ họp", "Sau khi bế mạc, kỳ họp không nhận thêm thao tác nào.", "Bế mạc"))
              run({ type: "close_session" }, "Đã bế mạc kỳ họp.", e.target);
          },
        },
        "Bế mạc kỳ họp",
      ),
    );
  }
  fill("#lifecycle", buttons);
  fill(
    "#seats",
    Object.values(hall.delegates)
      .filter((d) => d.seated)
      .map((d) => h("div", { class: `seat ${hall.present.includes(d.id) ? "present" : ""}`, title: d.name }, d.id)),
  );
}

function renderAgenda(state) {
  const running = state.hall.status === "in_progress";
  fill(
    "#agenda-list",
    agendaList(state, (item) =>
      running && item.status !== "current"
        ? h("button", { onclick: (e) => run({ type: "move_to_item", item_id: item.id }, `Chuyển sang: ${item.title}`, e.target) }, "Chuyển sang")
        : null,
    ),
  );
  const f = state.agenda.follow_me;
  const title = f ? documentTitles[f.document_id] || f.document_id : "";
  fill("#follow-now", f ? h("p", { class: "banner info" }, `Đang chỉ: ${title}, trang ${f.page}`) : null);
}

let delegatesKey = "";
function renderSpeakers(state) {
  const sp = state.speakers;
  fill(
    "#speech-now",
    sp.current
      ? h(
          "div",
          { class: "banner info" },
          h("strong", {}, `Đại biểu ${delegateName(state, sp.current.delegate_id)}`),
          " đang phát biểu · ",
          countdown(sp.current.ends_at),
          " ",
          h("button", { class: "danger", onclick: (e) => run({ type: "end_speech" }, "Đã kết thúc phát biểu.", e.target) }, "Kết thúc"),
        )
      : h("p", { class: "muted" }, "Không có ai đang phát biểu."),
  );
  const item = state.hall.current_item;
  const queue = item ? sp.order[item] || [] : [];
  const seconds = () => {
    const v = $("#speech-seconds").value;
    return v ? Number(v) : null;
  };
  const move = (i, d, button) => {
    const order = [...queue];
    [order[i], order[i + d]] = [order[i + d], order[i]];
    run({ type: "order_speakers", item_id: item, order }, "", button);
  };
  fill(
    "#speaker-queue",
    queue.length
      ? queue.map((rid, i) => {
          const r = sp.requests[rid];
          return h(
            "li",
            { dataset: { request: rid } },
            `${i + 1}. Đại biểu ${delegateName(state, r.delegate_id)}`,
            r.topic ? h("small", {}, ` — ${r.topic}`) : null,
            h(
              "div",
              { class: "row" },
              h("button", { class: "primary", disabled: !!sp.current, onclick: (e) => run({ type: "start_speech", request_id: rid, seconds: seconds() }, "", e.target) }, "Mời phát biểu"),
              h("button", { disabled: i === 0, title: "Lên", onclick: (e) => move(i, -1, e.target) }, "↑"),
              h("button", { disabled: i === queue.length - 1, title: "Xuống", onclick: (e) => move(i, 1, e.target) }, "↓"),
              h("button", { onclick: (e) => run({ type: "withdraw_speaking_request", request_id: rid }, "Đã rút đăng ký.", e.target) }, "Rút"),
            ),
          );
        })
      : h("li", { class: "muted" }, "Chưa có đại biểu đăng ký."),
  );
  // The select keeps the chair's choice: redraw it only when attendance changes.
  const present = state.hall.present.filter((id) => state.hall.delegates[id]);
  const key = present.join(",");
  if (key !== delegatesKey) {
    delegatesKey = key;
    const select = $("#direct-delegate");
    const chosen = select.value;
    fill(select, present.sort().map((id) => h("option", { value: id, selected: id === chosen }, `${id} — ${delegateName(state, id)}`)));
  }
}

function renderQuestioning(state) {
  const qs = state.questioning;
  const turn = qs.floor;
  fill(
    "#turn-now",
    turn
      ? h(
          "div",
          { class: "banner info" },
          floorView(state),
          h("button", { class: "danger", onclick: (e) => run({ type: "end_question_turn" }, "Đã kết thúc lượt.", e.target) }, "Kết thúc lượt"),
        )
      : h("p", { class: "muted" }, "Không có lượt chất vấn nào đang diễn ra."),
  );
  const busy = !!turn || !!state.speakers.current;
  const questions = Object.values(qs.questions).filter((q) => q.status !== "withdrawn");
  const rank = (q) => (qs.order.includes(q.id) ? qs.order.indexOf(q.id) : 1e6 + Date.parse(q.registered_at) / 1e9);
  questions.sort((a, b) => rank(a) - rank(b));
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
                ? h("button", { class: "primary", disabled: busy, onclick: (e) => run({ type: "call_question", question_id: q.id }, "", e.target) }, "Mời chất vấn")
                : null,
              ["called", "answering", "answered"].includes(q.status)
                ? h("button", { disabled: busy, onclick: (e) => run({ type: "call_answer", question_id: q.id }, "", e.target) }, "Mời trả lời")
                : null,
              q.rebuttal_queue.map((d) =>
                h(
                  "button",
                  { disabled: busy, onclick: (e) => run({ type: "call_rebuttal", question_id: q.id, delegate_id: d }, "", e.target) },
                  `Mời tranh luận: ${delegateName(state, d)}`,
                ),
              ),
            ),
          ),
        )
      : h("li", { class: "muted" }, "Chưa có câu hỏi chất vấn."),
  );
}

function announce(result) {
  confirmBox("Công bố kết quả biểu quyết", resultView(result), "Đóng", "Quay lại");
}

let autoMotion = "";
let ruleSet = false;
function renderVotes(state) {
  if (!ruleSet) {
    $("#vote-rule").value = state.hall.rules.default_pass_rule; // the council's own rule unless the chair picks
    ruleSet = true;
  }
  const open = openRounds(state);
  const counting = Object.values(state.votes.rounds).filter((r) => r.status === "counted");
  fill(
    "#open-rounds",
    counting.map((r) =>
      h(
        "div",
        { class: "card counted-round", dataset: { round: r.id } },
        h("p", {}, h("span", { class: "pill warn" }, "chờ Ban kiểm phiếu xác nhận"), " ", h("strong", {}, r.motion)),
        h("p", {}, `${r.certified_by.length}/${r.committee.length} thành viên đã xác nhận; kết quả được công bố khi quá nửa xác nhận.`),
      ),
    ),
    open.map((r) => {
      const present = r.present_at_open.length;
      const named = !r.secret;
      return h(
        "div",
        { class: "card open-round", dataset: { round: r.id } },
        h("p", {}, h("span", { class: "pill warn" }, "đang biểu quyết"), " ", r.secret ? "Bỏ phiếu kín" : "Biểu quyết công khai", r.closes_at ? [" · còn ", countdown(r.closes_at, "")] : null),
        h("p", {}, h("strong", {}, r.motion)),
        h("div", { class: "big-number ballots-cast" }, `${r.voted.length}`),
        h("p", {}, `phiếu đã bỏ / ${r.eligible.length} đại biểu có quyền biểu quyết (${present} có mặt khi mở)`),
        named
          ? h(
              "table",
              {},
              h("tbody", {}, r.options.map((o) => h("tr", {}, h("td", {}, o.label), h("td", { class: "num" }, String(r.tally[o.key] || 0))))),
            )
          : h("p", { class: "muted" }, "Bỏ phiếu kín: chỉ hiển thị số phiếu đã bỏ, không hiển thị phương án."),
        h(
          "div",
          { class: "row" },
          h(
            "button",
            {
              class: "primary",
              onclick: async (e) => {
                // Issue 9 §4: a secret round with few ballots may reveal them; the chair confirms knowingly.
                const few = r.secret && r.voted.length < state.hall.rules.secret_min_ballots;
                const question = few
                  ? `Chỉ có ${r.voted.length} phiếu (ít hơn ${state.hall.rules.secret_min_ballots}): công bố kết quả có thể làm lộ lựa chọn của người đã bỏ phiếu. Vẫn kết thúc?`
                  : `Kết thúc lượt biểu quyết với ${r.voted.length} phiếu đã bỏ?`;
                if (await confirmBox("Kết thúc biểu quyết", question, r.committee.length ? "Kết thúc, chuyển Ban kiểm phiếu" : "Kết thúc và công bố"))
                  run({ type: "vote_close_round", round_id: r.id, confirm_few_ballots: few }, "Đã kết thúc biểu quyết.", e.target);
              },
            },
            "Kết thúc biểu quyết",
          ),
          h(
            "button",
            {
              class: "danger",
              onclick: async (e) => {
                const reason = await ask("Hủy lượt biểu quyết", "Lý do hủy (ghi vào biên bản)");
                if (reason) run({ type: "vote_cancel_round", round_id: r.id, reason }, "Đã hủy lượt biểu quyết.", e.target);
              },
            },
            "Hủy lượt",
          ),
        ),
      );
    }),
  );
  const item = currentItem(state);
  $("#vote-form").classList.toggle("hidden", !item || state.hall.status !== "in_progress" || open.some((r) => r.item_id === item.id));
  const motion = $("#vote-motion");
  const suggestion = item ? `Biểu quyết thông qua ${item.title}` : "";
  if (!motion.value || motion.value === autoMotion) {
    motion.value = suggestion;
    autoMotion = suggestion;
  }
  const rounds = closedRounds(state);
  fill(
    "#results-body",
    rounds.length
      ? rounds.map((r) =>
          h("div", { class: "card result-card" }, resultView(r.result), h("button", { class: "primary", onclick: () => announce(r.result) }, "Công bố kết quả")),
        )
      : h("div", { class: "muted" }, "Chưa có kết quả."),
  );
}

function renderPolls(state) {
  const polls = Object.values(state.polls.polls);
  fill(
    "#polls-body",
    polls.length
      ? polls.map((p) => {
          const parts = [
            h("p", {}, h("strong", {}, POLL_KIND[p.kind]), " ", h("span", { class: "pill" }, POLL_STATUS[p.status] || p.status), ` · ${p.officials.length} người trong phiếu`),
          ];
          if (p.status === "draft") {
            parts.push(
              h("p", {}, p.committee.length ? `Ban kiểm phiếu: ${p.committee.map((d) => delegateName(state, d)).join(", ")}` : "Chưa có Ban kiểm phiếu."),
              h(
                "div",
                { class: "row" },
                h(
                  "button",
                  {
                    onclick: async (e) => {
                      const text = await ask("Ban kiểm phiếu", "Mã đại biểu, cách nhau bởi dấu phẩy (ví dụ db030, db031, …)", p.committee.join(", "));
                      if (text) run({ type: "appoint_poll_committee", poll_id: p.id, members: text.split(/[\s,;]+/).filter(Boolean) }, "Đã ghi Ban kiểm phiếu.", e.target);
                    },
                  },
                  "Ghi Ban kiểm phiếu",
                ),
                h("button", { class: "primary", onclick: (e) => run({ type: "open_poll", poll_id: p.id }, "Đã bắt đầu bỏ phiếu.", e.target) }, "Bắt đầu bỏ phiếu"),
              ),
            );
          }
          if (p.status === "open") {
            parts.push(
              h("div", { class: "big-number" }, String(p.voted.length)),
              h("p", {}, `phiếu đã bỏ / ${p.eligible.length} đại biểu`),
              h("button", { class: "primary", onclick: (e) => run({ type: "close_poll", poll_id: p.id }, "Đã kết thúc bỏ phiếu; chuyển Ban kiểm phiếu.", e.target) }, "Kết thúc bỏ phiếu"),
            );
          }
          if (p.status === "counted") parts.push(h("p", {}, `Chờ Ban kiểm phiếu xác nhận: ${p.certified_by.length}/${p.committee.length} thành viên đã xác nhận.`));
          const result = p.status === "certified" ? p.result : null;
          if (result) parts.push(pollResultView(result));
          if (["draft", "open"].includes(p.status)) {
            parts.push(
              h(
                "button",
                {
                  class: "danger",
                  onclick: async (e) => {
                    const reason = await ask("Hủy cuộc lấy phiếu", "Lý do hủy");
                    if (reason) run({ type: "cancel_poll", poll_id: p.id, reason }, "Đã hủy.", e.target);
                  },
                },
                "Hủy",
              ),
            );
          }
          return h("div", { class: "card", dataset: { poll: p.id } }, parts);
        })
      : h("div", { class: "muted" }, "Chưa có cuộc lấy phiếu nào (Văn phòng lập danh sách)."),
  );
}

function render() {
  const state = live.state;
  sessionHeader(state);
  if (!state) return;
  renderAttendance(state);
  renderAgenda(state);
  renderSpeakers(state);
  renderQuestioning(state);
  renderVotes(state);
  renderPolls(state);
  refreshCountdowns();
}

// The documents the chair may point every tablet to ("follow me"), from the manifest when the server has it.
let documentTitles = {};
async function loadDocuments() {
  try {
    const manifest = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/documents/manifest`);
    documentTitles = Object.fromEntries(manifest.documents.map((d) => [d.document_id, d.title]));
    fill("#doc-ids", manifest.documents.filter((d) => d.access !== "secret").map((d) => h("option", { value: d.document_id }, d.title)));
    if (live.state) renderAgenda(live.state);
  } catch {
    // No documents service: the chair types the document id.
  }
}

function wireForms() {
  $("#follow-form").addEventListener("submit", (e) => {
    e.preventDefault();
    run({ type: "set_follow_me", document_id: $("#follow-doc").value.trim(), page: Number($("#follow-page").value) }, "Đã chỉ trang cho mọi máy tính bảng.");
  });
  $("#follow-clear").addEventListener("click", (e) => run({ type: "clear_follow_me" }, "Đã bỏ chỉ trang.", e.target));
  $("#direct-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("#speech-seconds").value;
    run({ type: "start_speech", delegate_id: $("#direct-delegate").value, seconds: v ? Number(v) : null }, "");
  });
  $("#group-topics").addEventListener("click", (e) => {
    const qs = live.state.questioning;
    const groups = new Map();
    for (const id of qs.order) {
      const q = qs.questions[id];
      if (!q || q.status !== "registered") continue;
      if (!groups.has(q.topic)) groups.set(q.topic, []);
      groups.get(q.topic).push(id);
    }
    run(
      { type: "group_questions", groups: [...groups].map(([topic, ids]) => ({ topic, question_ids: ids })) },
      "Đã nhóm câu hỏi theo chủ đề.",
      e.target,
    );
  });
  $("#vote-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const item = currentItem(live.state);
    if (!item) return;
    const duration = $("#vote-duration").value;
    const command = {
      type: "vote_open",
      round_id: `bq-${newId().slice(0, 8)}`,
      item_id: item.id,
      motion: $("#vote-motion").value.trim(),
      secret: $("#vote-secret").checked,
      normative: $("#vote-normative").checked,
      pass_rule: $("#vote-rule").value,
      duration_seconds: duration ? Number(duration) : null,
      kind: $("#vote-kind").value,
    };
    if (command.kind === "removal") {
      command.subject_id = $("#vote-subject").value.trim();
      command.pass_rule = "two_thirds_of_all"; // the only rule the law allows for a removal
      command.normative = false;
    }
    if (command.secret && live.state.hall.rules.secret_certification)
      command.committee = $("#vote-committee").value.split(/[\s,;]+/).filter(Boolean);
    await run(command, command.secret ? "Đã mở bỏ phiếu kín." : "Đã mở biểu quyết.", $("#vote-open"));
  });
}

async function main() {
  if (!needSession(sessionId)) return;
  const { token } = await requireAccount(["chair"], "chủ tọa", "chutoa");
  live = new Live(sessionId, {
    token,
    onChange: render,
    onFatal: fatal,
    onEvent: (ev) => {
      if (DOCUMENT_EVENTS.has(ev.type)) loadDocuments();
    },
  });
  header({ page: "Bàn điều hành của chủ tọa", live });
  wireForms();
  live.start();
  loadDocuments();
  window.kyhop = live;
}

main();
