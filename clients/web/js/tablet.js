// A delegate's tablet: check in, follow the session, ask for the floor, register questions, vote, see results.
// Respondents (người bị chất vấn) may open it too: they see the questions addressed to them and the floor.

import { chosenSession, hasRole, newId } from "./api.js";
import { DOCUMENT_EVENTS, Documents } from "./documents.js";
import { whatIsAsked } from "./alerts.js";
import { announcedBanner } from "./announced.js";
import { Live } from "./live.js";
import { Offline, keepOnly, openStore, registerWorker } from "./offline.js";
import { DocumentSync } from "./sync.js";
import { Reader } from "./reader.js";
import { TopicPicker, linkLabel } from "./topics.js";
import { NotesPanel } from "./notes.js";
import { renderRoleTasks, roleHeader } from "./roles.js";
import { CommitteeTasks } from "./committee.js";
import { chime, soundToggle } from "./sound.js";
import { SecretBallots, isVerifiable } from "./secretballot.js";
import {
  $,
  MARK,
  POLL_KIND,
  POLL_LEVELS,
  POLL_STATUS,
  QUESTION_STATUS,
  REQUEST_STATUS,
  act,
  confirmBox,
  currentItem,
  delegateName,
  fatal,
  fill,
  h,
  header,
  needSession,
  pollResultView,
  refreshCountdowns,
  resultView,
  requireAccount,
  respondentName,
  sessionHeader,
  toast,
} from "./ui.js";
import { agendaList, currentItemView, floorView, openRounds, pollProgress, pollProgressText, resultsList, voteProgress, voteProgressText } from "./views.js";

const sessionId = chosenSession();
let live = null;
let me = null; // the delegate (or respondent) id of the signed-in account
let account = null;
let isDelegate = false;
let documents = null;
let reader = null;
let followKey = "";
let alertKey = "";
let voteKey = "";
let secret = null; // verifiable secret ballots (js/secretballot.js)
let stateFromDevice = () => false; // the state shown was read from this device and not yet confirmed (offlineFirst)
let committee = null; // the counting committee member's key ceremony and decryption (js/committee.js)
let arrived = []; // documents published or replaced since this page opened and not yet opened: {id, replaced}

const RUNNING = ["checkin_open", "in_progress", "suspended"];

function renderCheckIn(state) {
  const hall = state.hall;
  const present = hall.present.includes(me);
  const canChange = RUNNING.includes(hall.status);
  fill(
    "#checkin-body",
    h("p", {}, "Đại biểu ", h("strong", {}, delegateName(state, me)), ` (${me})`),
    h(
      "p",
      { id: "checkin-status", class: `banner ${present ? "ok" : "warn"}`, dataset: { present: String(present) } },
      present ? "Đã điểm danh — có mặt" : "Chưa điểm danh",
    ),
    !canChange
      ? h("p", { class: "muted" }, hall.status === "prepared" ? "Văn phòng chưa mở điểm danh." : "Kỳ họp đã bế mạc.")
      : present
        ? h(
            "button",
            {
              onclick: (e) => act(e.target, () => live.run({ type: "check_out", delegate_id: me }), "Đã ghi nhận rời hội trường."),
            },
            "Rời hội trường",
          )
        : h(
            "button",
            {
              class: "primary big",
              id: "checkin-button",
              onclick: (e) => act(e.target, () => live.run({ type: "check_in", delegate_id: me }), "Đã điểm danh."),
            },
            "Điểm danh",
          ),
  );
}

function renderFollowMe(state) {
  const f = state.agenda.follow_me;
  fill(
    "#follow-me",
    f
      ? h(
          "div",
          { class: "banner info" },
          "Chủ tọa mời đại biểu xem tài liệu ",
          h("strong", {}, documents ? documents.title(f.document_id) : f.document_id),
          `, trang ${f.page}. `,
          reader && reader.entry(f.document_id)
            ? h("button", { class: "primary", id: "follow-open", onclick: () => reader.backToChair() }, `Xem trang ${f.page}`)
            : null,
          reader && !reader.following ? h("small", {}, " Bạn đang tự xem: tài liệu không tự chuyển theo chủ tọa.") : null,
        )
      : null,
  );
  // The chair moved the pointer: the reader follows (it opens by itself) unless the delegate chose "tự xem".
  // Not on a state read from the device (js/offline.js) before the server confirmed it: it says where the
  // chair's pointer was before the reload or the cut, not now — the server's state decides once it arrives.
  const key = f ? `${f.document_id}:${f.page}` : "";
  if (key !== followKey && reader && documents && documents.manifest && !stateFromDevice()) {
    followKey = key;
    if (f && reader.following) arrived = arrived.filter((a) => a.id !== f.document_id); // opened by following
    reader.follow();
  }
}

function attention(state) {
  return whatIsAsked(state, {
    me,
    isDelegate,
    sending: inFlight,
    arrived: arrived.filter((a) => reader && reader.entry(a.id)),
    title: (id) => documents.title(id),
    open: openDocument,
  });
}

/** Open a document in the reader; it no longer counts as arrived. */
function openDocument(id, page) {
  arrived = arrived.filter((a) => a.id !== id);
  const f = live.state && live.state.agenda.follow_me;
  if (f && f.document_id === id) reader.following = true;
  reader.open(id, page);
  render();
}

/** The banner (on top of everything, the reader too) and the panel it names first on the screen. */
function renderAlert(state) {
  const now = attention(state);
  for (const sel of ["#vote", "#poll", "#floor", "#documents"]) $(sel).classList.toggle("first", now.some((a) => a.panel === sel));
  const first = now[0];
  const key = now.map((a) => a.key).join(",");
  fill(
    "#alert",
    first
      ? [
          h("strong", {}, first.text),
          now.length > 1 ? h("small", {}, ` (và ${now.length - 1} việc khác)`) : null,
          h(
            "button",
            {
              id: "alert-go",
              onclick: () => {
                if (first.go) return first.go();
                if (reader) reader.close();
                const panel = $(first.panel);
                panel.scrollIntoView({ block: "start" });
                const target = panel.querySelector("button:not(:disabled), input");
                if (target) target.focus({ preventScroll: true });
              },
            },
            first.action,
          ),
        ]
      : null,
  );
  $("#alert").classList.toggle("hidden", !first);
  document.body.classList.toggle("alerting", !!first);
  document.body.style.setProperty("--alert-h", `${$("#alert").offsetHeight}px`); // the reader starts below it
  // A new call (not every redraw) brings the panel into view when the delegate is not reading.
  if (key !== alertKey) {
    // A sound (when the delegate turned it on) for a new ballot or floor call, not for a document or a re-render.
    const before = alertKey.split(",");
    if (now.some((a) => /^(vote|poll|speech|turn):/.test(a.key) && !before.includes(a.key))) chime();
    alertKey = key;
    // After this render has filled every panel (the panel's own content changes its place in the flow).
    if (first && !(reader && reader.isOpen)) requestAnimationFrame(() => $(first.panel).scrollIntoView({ block: "start" }));
  }
}

async function castBallot(round, option, button) {
  const ok = await confirmBox(
    "Xác nhận phiếu biểu quyết",
    h(
      "div",
      {},
      h("p", {}, "Nội dung: ", h("strong", {}, round.motion)),
      h("p", {}, "Bạn chọn: ", h("strong", { class: "choice" }, option.label)),
      h("p", { class: "banner warn" }, "Phiếu đã gửi là phiếu cuối cùng, không thể biểu quyết lại."),
    ),
    `Gửi phiếu: ${option.label}`,
  );
  if (!ok) return;
  // No timeout: while the network is down the ballot stays "đang gửi" and goes again, with the same command id,
  // after each reconnect; "đã ghi nhận" only when the server has answered.
  await act(null, () => live.run({ type: "vote_cast_ballot", round_id: round.id, delegate_id: me, option: option.key }, { timeoutMs: null }), "Phiếu đã được ghi nhận.");
}

/** The ballot of this round or poll that was sent and not yet answered, if any. */
function inFlight(type, field, id) {
  const p = live.pendingCommands().find((c) => c.command.type === type && c.command[field] === id);
  return p ? p.command : null;
}

function sendingBanner(what) {
  return h(
    "p",
    { class: "banner warn sending", role: "status" },
    h("strong", {}, `Đang gửi ${what}…`),
    " ",
    live.online ? "Chờ máy chủ ghi nhận." : "Mất kết nối: phiếu sẽ tự gửi lại khi có mạng — không cần bấm lại, đừng đóng trang này.",
  );
}

// A member of a secret round's counting committee sees its count and certifies it (vote_certify_round); the
// result is announced once more than half of the committee has certified.
function certifyView(r) {
  const done = r.certified_by.includes(me);
  return h(
    "div",
    { class: "ballot counted", dataset: { round: r.id } },
    h("p", {}, h("strong", {}, r.motion)),
    h("p", {}, h("span", { class: "pill warn" }, "chờ Ban kiểm phiếu xác nhận"), ` ${r.certified_by.length}/${r.committee.length} thành viên đã xác nhận`),
    r.count ? resultView(r.count, r.mode) : null,
    done
      ? h("p", { class: "banner ok" }, "Bạn đã xác nhận kết quả kiểm phiếu.")
      : h(
          "button",
          { class: "primary", onclick: (e) => act(e.target, () => live.run({ type: "vote_certify_round", round_id: r.id }), "Đã xác nhận kết quả.") },
          "Ban kiểm phiếu: xác nhận kết quả",
        ),
  );
}

/** Why this delegate cannot vote in an open round, or null. */
function ballotBlocked(state, r) {
  if (r.paper) return "Lượt này bỏ phiếu giấy.";
  if (!r.eligible.includes(me)) return "Bạn không có quyền biểu quyết trong lượt này.";
  if (state.hall.rules.presence_required && !state.hall.present.includes(me)) return "Bạn cần điểm danh trước khi biểu quyết.";
  return null;
}

function renderVote(state) {
  const hall = state.hall;
  const open = openRounds(state);
  // A verifiable round's committee certifies by decrypting (its own pages), not with vote_certify_round.
  const counting = Object.values(state.votes.rounds).filter((r) => r.status === "counted" && r.committee.includes(me) && !isVerifiable(r));
  // Redraw the ballot only when something on it changes, never for the progress count alone: while 500
  // delegates vote the count changes up to 25 times a second, and a button replaced between a finger's touch
  // and its release loses the tap (seen in the browser test as a confirm dialog that never opened).
  const key = JSON.stringify([
    live.online,
    counting.map((r) => [r.id, r.certified_by, !!r.count]),
    secret.countingKey(state),
    open.map((r) => [
      isVerifiable(r) ? secret.key("round", r) : null,
      r.id,
      r.motion,
      r.secret,
      r.paper,
      r.options,
      r.voted.includes(me),
      r.choices ? r.choices[me] : null,
      r.receipts,
      r.eligible.includes(me),
      hall.rules.presence_required && !hall.present.includes(me),
      inFlight("vote_cast_ballot", "round_id", r.id),
    ]),
  ]);
  if (key === voteKey) {
    for (const r of open) {
      const el = document.querySelector(`.vote-progress[data-round="${CSS.escape(r.id)}"]`);
      if (el) el.textContent = voteProgressText(r);
    }
    return;
  }
  voteKey = key;
  const verifying = secret.countingCards(state);
  if (!open.length && !counting.length && !verifying.length) {
    fill("#vote-body", h("div", { class: "muted" }, "Không có lượt biểu quyết nào đang mở."));
    return;
  }
  fill(
    "#vote-body",
    counting.map(certifyView),
    verifying,
    open.map((r) => {
      const voted = r.voted.includes(me);
      const receipt = r.receipts[0];
      const head = [
        h("p", {}, h("strong", {}, r.motion)),
        h("p", {}, h("span", { class: "pill warn" }, "đang biểu quyết"), " ", r.secret ? "Bỏ phiếu kín" : "Biểu quyết công khai (ghi danh)"),
        voteProgress(r),
      ];
      if (isVerifiable(r)) return secret.voteCard(state, r, head, ballotBlocked(state, r));
      if (voted) {
        const mine = r.secret ? null : r.options.find((o) => o.key === r.choices[me]);
        return h(
          "div",
          { class: "ballot done", dataset: { round: r.id } },
          head,
          h("p", { class: "banner ok", role: "status" }, "Đã ghi nhận phiếu của bạn", mine ? `: ${mine.label}` : "", "."),
          receipt ? h("p", {}, "Mã biên nhận phiếu: ", h("span", { class: "receipt" }, receipt)) : null,
          h("small", {}, "Sau khi kết thúc, mã biên nhận của bạn có trong danh sách công bố nếu phiếu đã được kiểm."),
        );
      }
      const sending = inFlight("vote_cast_ballot", "round_id", r.id);
      if (sending) {
        const chosen = r.options.find((o) => o.key === sending.option);
        return h(
          "div",
          { class: "ballot sending", dataset: { round: r.id } },
          head,
          sendingBanner(`phiếu: ${chosen ? chosen.label : sending.option}`),
          r.options.map((o) =>
            h(
              "button",
              { class: `big ${o.key === sending.option ? "chosen" : ""}`, disabled: true, "aria-pressed": String(o.key === sending.option), dataset: { option: o.key } },
              o.key === sending.option ? `${o.label} — đang gửi` : o.label,
            ),
          ),
        );
      }
      const reason = ballotBlocked(state, r);
      return h(
        "div",
        { class: "ballot", dataset: { round: r.id } },
        head,
        reason
          ? h("p", { class: "banner warn" }, reason)
          : r.options.map((o, i) =>
              h(
                "button",
                {
                  class: `big ${i === 0 ? "ok" : ""}`,
                  dataset: { option: o.key },
                  onclick: (e) => castBallot(r, o, e.target),
                },
                o.label,
              ),
            ),
      );
    }),
  );
}

async function castPoll(poll, form, button) {
  const marks = {};
  for (const o of poll.officials) {
    const picked = form.querySelector(`input[name="m-${o.id}"]:checked`);
    marks[o.id] = picked ? [picked.value] : [];
  }
  const blank = poll.officials.filter((o) => !marks[o.id].length).length;
  const summary = h(
    "div",
    {},
    h("ul", {}, poll.officials.map((o) => h("li", {}, `${o.name}: `, h("strong", {}, marks[o.id].length ? MARK[marks[o.id][0]] : "không đánh dấu (không hợp lệ)")))),
    blank ? h("p", { class: "banner warn" }, `${blank} người chưa được đánh dấu: phiếu không hợp lệ đối với người đó.`) : null,
    h("p", { class: "banner warn" }, "Phiếu đã gửi là phiếu cuối cùng, không thể sửa."),
  );
  if (isVerifiable(poll)) return secret.castPoll(live.state, poll, marks, summary);
  const ok = await confirmBox("Xác nhận phiếu tín nhiệm", summary, "Gửi phiếu");
  if (!ok) return;
  await act(null, () => live.run({ type: "cast_poll_ballot", poll_id: poll.id, delegate_id: me, marks }, { timeoutMs: null }), "Phiếu tín nhiệm đã được ghi nhận.");
}

let pollKey = "";
function renderPolls(state) {
  const polls = Object.values(state.polls.polls).filter((p) => p.status !== "draft" && p.status !== "cancelled");
  $("#poll").classList.toggle("hidden", !polls.length);
  // The ballot form holds the delegate's ticks: redraw it only when something about the polls changes.
  const key = JSON.stringify([
    live.online,
    polls.map((p) => [
      p.id,
      p.status,
      p.voted.includes(me),
      p.certified_by.length,
      p.receipts,
      !!p.result,
      !!inFlight("cast_poll_ballot", "poll_id", p.id),
      isVerifiable(p) ? secret.key("poll", p) : null,
    ]),
  ]);
  if (key === pollKey) {
    // Only the announced count changed (every 250 ms at most while ballots arrive): update it in place.
    for (const p of polls) {
      const el = document.querySelector(`.poll-progress[data-poll="${CSS.escape(p.id)}"]`);
      if (el) el.textContent = pollProgressText(p);
    }
    return;
  }
  pollKey = key;
  fill(
    "#poll-body",
    polls.map((p) => {
      const parts = [h("p", {}, h("strong", {}, POLL_KIND[p.kind] || p.kind), " ", h("span", { class: "pill" }, POLL_STATUS[p.status] || p.status))];
      if (p.status === "open") parts.push(pollProgress(p));
      const verifiable = isVerifiable(p);
      const receipt = verifiable ? null : p.receipts[0]; // a verifiable poll's receipt is its tracker (below)
      if (p.status === "open" && !p.voted.includes(me) && (inFlight("cast_poll_ballot", "poll_id", p.id) || inFlight("poll_cast_encrypted", "poll_id", p.id))) {
        parts.push(sendingBanner("phiếu tín nhiệm"));
      } else if (p.status === "open" && !p.voted.includes(me) && p.eligible.includes(me) && !secret.encrypting("poll", p.id)) {
        const levels = POLL_LEVELS[p.kind];
        const form = h(
          "form",
          { class: "poll-ballot" },
          h(
            "table",
            {},
            h("thead", {}, h("tr", {}, h("th", {}, "Họ tên, chức vụ"), levels.map((l) => h("th", {}, MARK[l])))),
            h(
              "tbody",
              {},
              p.officials.map((o) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, h("strong", {}, o.name), h("br"), h("small", {}, o.position)),
                  // The whole cell is the touch target (a label ≥ 44 px around the radio), with the level's
                  // name shown beside the radio where a phone lays each official out as a card.
                  levels.map((l) =>
                    h(
                      "td",
                      {},
                      h("label", { class: "mark" }, h("input", { type: "radio", name: `m-${o.id}`, value: l, "aria-label": `${o.name}: ${MARK[l]}` }), h("span", { class: "mark-label", "aria-hidden": "true" }, MARK[l])),
                    ),
                  ),
                ),
              ),
            ),
          ),
        );
        const send = h("button", { class: "primary", type: "button" }, "Gửi phiếu tín nhiệm");
        send.addEventListener("click", () => castPoll(p, form, send));
        parts.push(form, h("div", { class: "actions" }, send));
      } else if (p.voted.includes(me)) {
        parts.push(h("p", { class: "banner ok", role: "status" }, "Đã ghi nhận phiếu tín nhiệm của bạn."));
        if (receipt) parts.push(h("p", {}, "Mã biên nhận: ", h("span", { class: "receipt" }, receipt)));
      }
      if (receipt && (p.published_receipts || []).includes(receipt)) {
        parts.push(h("p", { class: "banner ok" }, "Mã biên nhận của bạn có trong danh sách phiếu đã kiểm."));
      }
      if (p.status === "counted" && p.committee.includes(me) && !verifiable) {
        if (p.result) parts.push(pollResultView(p.result));
        if (p.certified_by.includes(me)) parts.push(h("p", { class: "banner ok" }, "Bạn đã xác nhận kết quả kiểm phiếu."));
        else
          parts.push(
            h(
              "button",
              { class: "primary", onclick: (e) => act(e.target, () => live.run({ type: "certify_poll", poll_id: p.id }), "Đã xác nhận kết quả.") },
              "Ban kiểm phiếu: xác nhận kết quả",
            ),
          );
      }
      if (verifiable) parts.push(...secret.pollParts(live.state, p));
      const published = p.status === "certified" ? p.result : null;
      if (published) parts.push(pollResultView(published));
      return h("div", { class: "poll", dataset: { poll: p.id } }, parts);
    }),
  );
}

function renderRequests(state) {
  const mine = Object.values(state.speakers.requests).filter((r) => r.delegate_id === me);
  fill(
    "#my-requests",
    mine.map((r) => {
      const queue = state.speakers.order[r.item_id] || [];
      const pos = queue.indexOf(r.id);
      return h(
        "li",
        {},
        h("span", { class: "pill" }, REQUEST_STATUS[r.status] || r.status),
        " ",
        r.topic || "(không ghi nội dung)",
        " ",
        h("small", {}, state.agenda.items[r.item_id] ? state.agenda.items[r.item_id].title : r.item_id),
        pos >= 0 ? h("small", {}, ` · thứ tự ${pos + 1}/${queue.length}`) : null,
        r.status === "pending"
          ? [
              " ",
              h(
                "button",
                { onclick: (e) => act(e.target, () => live.run({ type: "withdraw_speaking_request", request_id: r.id }), "Đã rút đăng ký.") },
                "Rút",
              ),
            ]
          : null,
      );
    }),
  );
}

let respondentsKey = "";
function renderRespondentChoices(state) {
  const key = Object.keys(state.hall.respondents).join(",");
  if (key === respondentsKey) return;
  respondentsKey = key;
  const select = $("#q-respondent");
  const chosen = select.value;
  fill(
    select,
    Object.values(state.hall.respondents).map((r) => h("option", { value: r.id, selected: r.id === chosen }, `${r.name} — ${r.position}`)),
  );
}

function renderQuestions(state) {
  let questions = Object.values(state.questioning.questions);
  if (!isDelegate) questions = questions.filter((q) => q.respondent_id === me);
  const order = state.questioning.order;
  questions.sort((a, b) => {
    const ia = order.indexOf(a.id);
    const ib = order.indexOf(b.id);
    return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || String(a.registered_at).localeCompare(String(b.registered_at));
  });
  fill(
    "#question-list",
    questions.length
      ? questions.map((q) => {
          const mineQ = q.delegate_id === me;
          const canRebut =
            isDelegate && ["answering", "answered"].includes(q.status) && !q.rebuttal_queue.includes(me) && !q.rebutted.includes(me);
          const pos = order.indexOf(q.id);
          return h(
            "li",
            { dataset: { question: q.id } },
            h("span", { class: "pill" }, QUESTION_STATUS[q.status] || q.status),
            pos >= 0 ? h("small", {}, ` thứ tự ${pos + 1}`) : null,
            " ",
            h("strong", {}, q.group || q.topic),
            h("br"),
            h("small", {}, `Đại biểu ${delegateName(state, q.delegate_id)}${mineQ ? " (bạn)" : ""} hỏi ${respondentName(state, q.respondent_id)}`),
            h("p", {}, q.text),
            q.link ? h("small", { class: "question-link" }, linkLabel(q.link)) : null,
            q.answer ? h("p", { class: "banner info" }, "Trả lời: ", q.answer) : null,
            q.commitment ? h("p", { class: "banner ok" }, "Cam kết: ", q.commitment.text) : null,
            q.rebuttal_queue.length ? h("small", {}, `Đăng ký tranh luận: ${q.rebuttal_queue.map((d) => delegateName(state, d)).join(", ")}`) : null,
            h(
              "div",
              { class: "row" },
              mineQ && q.status === "registered"
                ? h("button", { onclick: (e) => act(e.target, () => live.run({ type: "withdraw_question", question_id: q.id }), "Đã rút câu hỏi.") }, "Rút câu hỏi")
                : null,
              canRebut
                ? h(
                    "button",
                    { onclick: (e) => act(e.target, () => live.run({ type: "request_rebuttal", question_id: q.id, delegate_id: me }), "Đã đăng ký tranh luận.") },
                    "Đăng ký tranh luận",
                  )
                : null,
            ),
          );
        })
      : h("li", { class: "muted" }, isDelegate ? "Chưa có câu hỏi nào." : "Chưa có câu hỏi nào gửi tới bạn."),
  );
}

/** For each closed round I voted in: is my receipt in the list published when it closed? */
function myReceipts(state) {
  return Object.values(state.votes.rounds)
    .filter((r) => r.status === "closed" && r.receipts.length)
    .map((r) => {
      if (isVerifiable(r)) return h("div", { class: "my-receipt", dataset: { round: r.id } }, h("small", {}, r.motion), secret.boardCheck("round", r));
      const ok = (r.published_receipts || []).includes(r.receipts[0]);
      return h(
        "p",
        { class: `banner ${ok ? "ok" : "bad"} my-receipt`, dataset: { round: r.id } },
        ok ? "Phiếu của bạn đã được kiểm: " : "Không thấy mã biên nhận của bạn trong danh sách đã kiểm: ",
        h("span", { class: "receipt" }, r.receipts[0]),
        h("br"),
        h("small", {}, r.motion),
      );
    });
}

function render() {
  const state = live.state;
  sessionHeader(state);
  if (!state) return;
  if (isDelegate) {
    renderCheckIn(state);
    renderVote(state);
    renderPolls(state);
    renderRequests(state);
    renderRespondentChoices(state);
  }
  fill("#now-item", currentItemView(state));
  fill("#announced", announcedBanner(state));
  if (documents) {
    if (!documents.tried) documents.load();
    else documents.render();
  }
  renderFollowMe(state);
  renderAlert(state);
  fill("#floor-body", floorView(state));
  renderQuestions(state);
  fill("#results-body", isDelegate ? myReceipts(state) : null, resultsList(state));
  fill("#agenda-list", agendaList(state));
  renderRoleTasks(state, { me, account, live });
  if (committee) committee.render(state);
  refreshCountdowns();
}

function onEvent(event) {
  if (documents && DOCUMENT_EVENTS.has(event.type)) setTimeout(() => documents.load(), 100);
  if (event.type === "document_published" || event.type === "document_replaced") {
    arrived = [...arrived.filter((a) => a.id !== event.document_id), { id: event.document_id, replaced: event.type === "document_replaced" }];
  }
  if (event.type === "document_withdrawn") arrived = arrived.filter((a) => a.id !== event.document_id);
  if (event.type === "follow_me_set") {
    toast(`Chủ tọa mời xem tài liệu ${documents ? documents.title(event.document_id) : event.document_id}, trang ${event.page}.`);
  }
}

// The browser's own validation bubbles speak the browser's language (often English): say it in Vietnamese first.
function vietnameseValidation(form) {
  for (const el of form.querySelectorAll("input, select, textarea")) {
    el.addEventListener("invalid", () => {
      if (el.validity.valueMissing) el.setCustomValidity("Vui lòng điền mục này. (Please fill in this field.)");
      else if (el.validity.tooLong) el.setCustomValidity(`Tối đa ${el.maxLength} ký tự. (At most ${el.maxLength} characters.)`);
    });
    el.addEventListener("input", () => el.setCustomValidity(""));
    el.addEventListener("change", () => el.setCustomValidity(""));
  }
}

let topics = null; // the questioning topics from the petitions register (js/topics.js)

function wireForms() {
  topics = new TopicPicker($("#q-source"), $("#q-topic"), $("#q-source-wrap"), $("#q-source-note"));
  // Asked for when wanted, not by every tablet at start (a register's topics run to a hundred items).
  $("#q-source-load").addEventListener("click", (e) => act(e.target, () => topics.load(live.state, live.token)));
  vietnameseValidation($("#speak-form"));
  vietnameseValidation($("#question-form"));
  $("#speak-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const item = currentItem(live.state);
    await act($("#speak-send"), async () => {
      await live.run({
        type: "request_to_speak",
        request_id: newId(),
        delegate_id: me,
        item_id: item ? item.id : null,
        topic: $("#speak-topic").value.trim(),
      });
      $("#speak-topic").value = "";
    }, "Đã đăng ký phát biểu.");
  });
  $("#question-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    await act($("#q-send"), async () => {
      await live.run({
        type: "register_question",
        question_id: newId(),
        delegate_id: me,
        respondent_id: $("#q-respondent").value,
        topic: $("#q-topic").value.trim(),
        text: $("#q-text").value.trim(),
        attachments: [],
        link: topics.value(),
      });
      $("#q-topic").value = "";
      $("#q-text").value = "";
      topics.reset();
    }, "Đã gửi câu hỏi chất vấn.");
  });
}

async function main() {
  if (!needSession(sessionId)) return;
  const signedIn = await requireAccount(["delegate", "respondent", "committee"], "đại biểu", "daibieu02");
  const token = signedIn.token;
  account = signedIn.account;
  me = account.person_id;
  isDelegate = hasRole(account, "delegate");
  for (const el of document.querySelectorAll(".delegate-only")) el.classList.toggle("hidden", !isDelegate);
  if (!isDelegate) $("#poll").classList.add("hidden");
  documents = new Documents(sessionId, $("#document-list"), $("#documents"), () => live.state, openDocument);
  documents.onLoaded = () => render();
  reader = new Reader($("#reader"), documents, () => live.state);
  reader.plugins.push(new NotesPanel(sessionId, account));
  live = new Live(sessionId, { token, onChange: render, onEvent, onFatal: fatal, onPending: render });
  committee = new CommitteeTasks({ live, account, me });
  secret = new SecretBallots({ live, owner: `${account.username}@${sessionId}`, sessionId, me, render, act });
  window.kyhopSecret = secret; // for tests and debugging
  header({ page: "Máy tính bảng đại biểu", live });
  roleHeader(account);
  $("#conn").after(soundToggle());
  const showStatus = live.onStatus;
  live.onStatus = (status) => {
    showStatus(status);
    render(); // a ballot in flight says whether it waits for the network
  };
  await offlineFirst(account);
  wireForms();
  live.start();
  window.kyhop = live;
}

/** The shell, the last state, ballots in flight and the document copies kept on the device (issue 11 §1). */
async function offlineFirst(account) {
  registerWorker(() => toast("Đã có phiên bản mới của ứng dụng: tải lại trang sau khi đọc xong."));
  const db = await openStore();
  const owner = `${account.username}@${sessionId}`;
  documents.sync = new DocumentSync(db, owner, documents, documents.base);
  documents.sync.onProgress = () => documents.render();
  const offline = new Offline(db, owner, live);
  $("#app").prepend(offline.banner);
  offline.onRefused = (e) => toast(`Phiếu gửi trước khi tải lại trang không được ghi nhận: ${e.message_vi || e.code}`);
  // Connected (again): a fresh manifest (new links, what changed meanwhile) and the receipts kept are sent —
  // spread over 2 s after a reconnect, when a whole hall comes back at once with its access point.
  offline.onBack = (again) => documents.tried && setTimeout(() => documents.load(), again ? Math.random() * 2000 : 0);
  await offline.restore(); // this account's last state and ballots only
  stateFromDevice = () => offline.fromDevice;
  offline.attach();
  offline.show(); // before the first render, which scrolls a panel in below the banners
  // The copies are read after the state is on screen (8 copies: ~100 ms on a loaded tablet); the documents'
  // sync waits for them. Another account's things leave the device first.
  documents.sync.restored = keepOnly(db, account.username)
    .then(() => documents.sync.restore())
    .catch(() => {}); // unreadable: the copies are fetched again
  if (live.state) render();
  window.kyhopOffline = offline; // for tests and debugging, like window.kyhop
  window.kyhopSync = documents.sync;
}

main();
