// The vote while it runs and after: the live count (per option only for named rounds), who has not voted yet
// (names, named rounds), the chair's own ballot, close and cancel; then the result and its announcement
// (`vote_announce_result`, which the tablets and the public screens put up large); and the confidence polls.

import { POLL_KIND, POLL_STATUS, ask, clock, confirmBox, countdown, delegateName, fill, h, pollResultView, resultView } from "./ui.js";
import { closedRounds, openRounds } from "./views.js";
import { desk, keyed, nameWithSeat, run } from "./chair-common.js";
import { committeePicker } from "./chair-voteform.js";
import { MODE_WORDS, decryptionProgress, pollOpenControls, verifyLink } from "./chair-ceremony.js";

const $ = (id) => document.getElementById(id);

function pendingBallot(roundId) {
  const p = desk.live.pendingCommands().find((c) => c.command.type === "vote_cast_ballot" && c.command.round_id === roundId);
  return p ? p.command : null;
}

async function castBallot(r, option) {
  const ok = await confirmBox(
    "Phiếu của chủ tọa",
    h(
      "div",
      {},
      h("p", {}, "Nội dung: ", h("strong", {}, r.motion)),
      h("p", {}, "Chủ tọa chọn: ", h("strong", { class: "choice" }, option.label)),
      h("p", { class: "banner warn" }, "Phiếu đã gửi là phiếu cuối cùng, không thể biểu quyết lại."),
    ),
    `Gửi phiếu: ${option.label}`,
  );
  if (!ok) return;
  // As on the tablet: no timeout, the ballot goes again with the same command id after a reconnect.
  await run({ type: "vote_cast_ballot", round_id: r.id, delegate_id: desk.me, option: option.key }, "Phiếu của chủ tọa đã được ghi nhận.");
}

/** The chair votes as the delegate they are: confirm, "đang gửi", "đã ghi nhận". */
function myBallot(state, r) {
  const me = desk.me;
  if (!me || !state.hall.delegates[me] || r.paper) return null;
  const wrap = (...c) => h("div", { class: "my-ballot", dataset: { round: r.id } }, h("strong", {}, "Phiếu của chủ tọa: "), ...c);
  if (r.voted.includes(me)) {
    const mine = r.secret ? null : r.options.find((o) => o.key === r.choices[me]);
    return wrap(h("span", { class: "ok-text", role: "status", id: "my-ballot-done" }, "đã ghi nhận", mine ? ` — ${mine.label}` : "", "."));
  }
  const sending = pendingBallot(r.id);
  if (sending) {
    const chosen = r.options.find((o) => o.key === sending.option);
    return wrap(h("span", { role: "status" }, `đang gửi: ${chosen ? chosen.label : sending.option}… `, desk.live.online ? "chờ máy chủ ghi nhận." : "mất kết nối, sẽ tự gửi lại."));
  }
  if (!r.eligible.includes(me)) return wrap("chủ tọa không có quyền biểu quyết trong lượt này.");
  // A verifiable round's ballot is encrypted on the device (meeting/verifiable.py): not from this console.
  if (r.mode === "verifiable") return wrap("lượt bỏ phiếu kiểm chứng: chủ tọa bỏ phiếu trên máy tính bảng của mình.");
  if (state.hall.rules.presence_required && !state.hall.present.includes(me))
    return wrap("chủ tọa cần điểm danh trước khi biểu quyết. ", h("button", { onclick: (e) => run({ type: "check_in", delegate_id: me }, "Chủ tọa đã điểm danh.", e.currentTarget) }, "Chủ tọa điểm danh"));
  return wrap(h("div", { class: "row" }, r.options.map((o) => h("button", { dataset: { option: o.key }, onclick: () => castBallot(r, o) }, o.label))));
}

function closeButton(state, r) {
  if (r.paper) return h("p", { class: "muted" }, "Phiếu giấy: Văn phòng nhập kết quả kiểm phiếu.");
  return h(
    "button",
    {
      class: "primary",
      dataset: { close: r.id },
      onclick: async (e) => {
        const button = e.currentTarget;
        const cast = r.voted.length;
        // Issue 9 §4: a secret round with few ballots may reveal them; the chair confirms knowingly.
        const few = r.secret && cast < state.hall.rules.secret_min_ballots;
        const question = few
          ? `Chỉ có ${cast} phiếu (ít hơn ${state.hall.rules.secret_min_ballots}): công bố kết quả có thể làm lộ lựa chọn của người đã bỏ phiếu. Vẫn kết thúc?`
          : `Kết thúc lượt biểu quyết với ${cast} phiếu đã bỏ?`;
        if (await confirmBox("Kết thúc biểu quyết", question, r.committee.length ? "Kết thúc, chuyển Ban kiểm phiếu" : "Kết thúc biểu quyết"))
          run({ type: "vote_close_round", round_id: r.id, confirm_few_ballots: few }, "Đã kết thúc biểu quyết.", button);
      },
    },
    "Kết thúc biểu quyết",
  );
}

/** The parts of an open round that change with every ballot, filled in place. */
function liveParts(state, r, card) {
  const present = r.present_at_open.length;
  const what = r.mode === "verifiable" ? "phiếu đã bỏ (đã mã hóa)" : "đại biểu đã bỏ phiếu";
  fill(card.querySelector(".count-line"), h("span", { class: "big-number ballots-cast" }, String(r.voted.length)), h("span", {}, `${what} / ${r.eligible.length} đại biểu (${present} có mặt khi mở)`));
  if (!r.secret && !r.paper) {
    fill(
      card.querySelector(".tally"),
      h("div", { class: "tally-row" }, r.options.map((o) => h("div", { class: "opt" }, h("b", { dataset: { option: o.key } }, String(r.tally[o.key] || 0)), h("span", {}, o.label)))),
    );
    const missing = r.eligible.filter((id) => !r.voted.includes(id));
    const here = missing.filter((id) => state.hall.present.includes(id));
    const away = missing.filter((id) => !state.hall.present.includes(id));
    const names = [];
    here.forEach((id, i) => names.push(i ? ", " : "", h("span", { dataset: { delegate: id } }, nameWithSeat(state.hall.delegates[id]))));
    if (away.length) names.push(here.length ? "; " : "", h("span", { class: "absent" }, `vắng mặt: ${away.map((id) => delegateName(state, id)).join(", ")}`));
    fill(card.querySelector(".not-voted"), missing.length ? [h("strong", {}, `Chưa biểu quyết (${missing.length}): `), ...names] : h("strong", {}, "Tất cả đại biểu đã biểu quyết."));
  }
}

let lastShown = "";
let lastResult = "";

export function renderRounds(state) {
  const open = openRounds(state);
  const counting = Object.values(state.votes.rounds).filter((r) => r.status === "counted");
  const box = $("open-rounds");
  const me = desk.me;
  keyed(
    box,
    [
      desk.live.online,
      counting.map((r) => [r.id, r.certified_by.length, Object.keys(r.partials || {})]),
      open.map((r) => [r.id, r.motion, r.closes_at, r.voted.includes(me), state.hall.present.includes(me), pendingBallot(r.id)]),
    ],
    () =>
      fill(
        box,
        counting.map((r) =>
          h(
            "div",
            { class: "round-card counted-round", dataset: { round: r.id } },
            h("p", {}, h("span", { class: "pill warn" }, r.mode === "verifiable" ? "chờ Ban kiểm phiếu giải mã" : "chờ Ban kiểm phiếu xác nhận"), " ", h("strong", {}, r.motion)),
            r.mode === "verifiable"
              ? [h("p", {}, `${r.voted.length} phiếu đã bỏ (đã mã hóa); không ai, kể cả máy chủ, biết kết quả trước khi giải mã.`), ...decryptionProgress(state, r)]
              : h("p", {}, `${r.certified_by.length}/${r.committee.length} thành viên đã xác nhận; kết quả có khi quá nửa xác nhận.`),
          ),
        ),
        open.map((r) =>
          h(
            "div",
            { class: "round-card open-round", dataset: { round: r.id } },
            h(
              "p",
              {},
              h("span", { class: "pill warn" }, "đang biểu quyết"),
              " ",
              r.secret ? (r.mode === "verifiable" ? MODE_WORDS.verifiable : "Bỏ phiếu kín") : "Công khai (ghi danh)",
              r.paper ? " · phiếu giấy" : "",
              r.closes_at ? [" · còn ", countdown(r.closes_at, "")] : null,
            ),
            h("p", {}, h("strong", {}, r.motion)),
            h("div", { class: "count-line" }),
            r.secret ? h("p", { class: "muted" }, "Bỏ phiếu kín: chỉ hiển thị số phiếu đã bỏ.") : h("div", { class: "tally" }),
            r.secret || r.paper ? null : h("div", { class: "not-voted", tabindex: "0", role: "region", "aria-label": "Đại biểu chưa biểu quyết" }),
            myBallot(state, r),
            h(
              "div",
              { class: "row" },
              closeButton(state, r),
              h(
                "button",
                {
                  class: "danger",
                  onclick: async (e) => {
                    const button = e.currentTarget;
                    const reason = await ask("Hủy lượt biểu quyết", "Lý do hủy (ghi vào biên bản)");
                    if (reason) run({ type: "vote_cancel_round", round_id: r.id, reason }, "Đã hủy lượt biểu quyết.", button);
                  },
                },
                "Hủy lượt",
              ),
            ),
          ),
        ),
      ),
  );
  // A round that just opened (or went to its committee) is shown from its top, whatever the pane was scrolled to.
  const shown = [...open, ...counting].map((r) => `${r.id}:${r.status}`).join(",");
  if (shown && shown !== lastShown) $("pane-votes").scrollTop = 0;
  lastShown = shown;
  for (const r of open) {
    const card = box.querySelector(`.open-round[data-round="${CSS.escape(r.id)}"]`);
    if (card) liveParts(state, r, card);
  }
}

async function announce(r, button) {
  const ok = await confirmBox(
    "Công bố kết quả biểu quyết",
    h("div", {}, resultView(r.result, r.mode), h("p", { class: "muted" }, "Kết quả sẽ hiện lớn trên máy tính bảng của đại biểu và màn hình công khai.")),
    "Công bố kết quả",
  );
  if (ok) await run({ type: "vote_announce_result", round_id: r.id }, "Chủ tọa đã công bố kết quả.", button);
}

export function renderResults(state) {
  const rounds = closedRounds(state);
  const cancelled = Object.values(state.votes.rounds).filter((r) => r.status === "cancelled");
  // A new result comes first in the list: bring it into view for the chair to announce.
  const newest = rounds.length ? rounds[0].id : "";
  if (newest && newest !== lastResult) $("pane-results").scrollTop = 0;
  lastResult = newest;
  keyed($("results-body"), [rounds.map((r) => [r.id, r.announced_at]), cancelled.map((r) => r.id)], () =>
    fill(
      "#results-body",
      rounds.length || cancelled.length
        ? [
            ...rounds.map((r) =>
              h(
                "div",
                { class: "card result-card", dataset: { round: r.id } },
                resultView(r.result, r.mode),
                r.mode === "verifiable" ? h("p", {}, "Phiếu kín kiểm chứng: ai cũng kiểm tra được kết quả từ bảng phiếu công khai. ", verifyLink("round", r.id)) : null,
                r.announced_at
                  ? h("p", { class: "banner ok announced", dataset: { announced: r.id } }, `Chủ tọa đã công bố kết quả lúc ${clock(r.announced_at)}.`)
                  : h("button", { class: "primary", dataset: { announce: r.id }, onclick: (e) => announce(r, e.currentTarget) }, "Công bố kết quả"),
              ),
            ),
            ...cancelled.map((r) => h("p", { class: "banner warn" }, `Lượt «${r.motion}» đã hủy: ${r.cancel_reason || ""}`)),
          ]
        : h("div", { class: "muted" }, "Chưa có kết quả."),
    ),
  );
}

async function pickPollCommittee(state, p, button) {
  const picker = committeePicker(state, { min: state.hall.rules.committee_min, chosen: p.committee, exclude: p.officials.map((o) => o.delegate_id).filter(Boolean), idPrefix: `pc-${p.id}` });
  const ok = await confirmBox("Ban kiểm phiếu", h("div", {}, h("p", { class: "muted" }, "Chọn thành viên Ban kiểm phiếu theo tên."), picker.el), "Ghi Ban kiểm phiếu", "Quay lại");
  if (!ok) return;
  const members = picker.chosen();
  if (members.length < state.hall.rules.committee_min) {
    await confirmBox("Ban kiểm phiếu chưa đủ", `Cần ít nhất ${state.hall.rules.committee_min} thành viên, mới chọn ${members.length}. Chưa ghi gì.`, "Đã hiểu", "Đóng");
    return;
  }
  run({ type: "appoint_poll_committee", poll_id: p.id, members }, "Đã ghi Ban kiểm phiếu.", button);
}

export function renderPolls(state) {
  const polls = Object.values(state.polls.polls);
  keyed($("polls-body"), [polls, state.hall.present.length, state.hall.rules.secret_mode, Object.keys((state.ceremonies && state.ceremonies.by_id) || {}).length, Object.values((state.ceremonies && state.ceremonies.by_id) || {}).filter((c) => c.keys).length], () =>
    fill(
      "#polls-body",
      polls.length
        ? polls.map((p) => {
            const parts = [h("p", {}, h("strong", {}, POLL_KIND[p.kind]), " ", h("span", { class: "pill" }, POLL_STATUS[p.status] || p.status), ` · ${p.officials.length} người trong phiếu`)];
            if (p.status === "draft" && state.hall.rules.secret_mode === "verifiable") {
              parts.push(pollOpenControls(state, p));
            } else if (p.status === "draft") {
              parts.push(
                h("p", {}, p.committee.length ? `Ban kiểm phiếu: ${p.committee.map((d) => delegateName(state, d)).join(", ")}` : "Chưa có Ban kiểm phiếu."),
                h(
                  "div",
                  { class: "row" },
                  h("button", { onclick: (e) => pickPollCommittee(state, p, e.currentTarget) }, "Chọn Ban kiểm phiếu"),
                  h("button", { class: "primary", onclick: (e) => run({ type: "open_poll", poll_id: p.id }, "Đã bắt đầu bỏ phiếu.", e.currentTarget) }, "Bắt đầu bỏ phiếu"),
                ),
              );
            }
            if (p.status === "open") {
              parts.push(
                h("p", {}, h("span", { class: "big-number" }, String(p.voted.length)), ` phiếu đã bỏ / ${p.eligible.length} đại biểu`),
                h("button", { class: "primary", onclick: (e) => run({ type: "close_poll", poll_id: p.id }, "Đã kết thúc bỏ phiếu; chuyển Ban kiểm phiếu.", e.currentTarget) }, "Kết thúc bỏ phiếu"),
              );
            }
            if (p.status === "counted" && p.mode === "verifiable") parts.push(...decryptionProgress(state, p));
            else if (p.status === "counted") parts.push(h("p", {}, `Chờ Ban kiểm phiếu xác nhận: ${p.certified_by.length}/${p.committee.length} thành viên đã xác nhận.`));
            if (p.status === "certified" && p.result) parts.push(pollResultView(p.result));
            if (p.status === "certified" && p.mode === "verifiable") parts.push(h("p", {}, verifyLink("poll", p.id)));
            if (["draft", "open"].includes(p.status)) {
              parts.push(
                h(
                  "button",
                  {
                    class: "danger",
                    onclick: async (e) => {
                      const button = e.currentTarget;
                      const reason = await ask("Hủy cuộc lấy phiếu", "Lý do hủy");
                      if (reason) run({ type: "cancel_poll", poll_id: p.id, reason }, "Đã hủy.", button);
                    },
                  },
                  "Hủy",
                ),
              );
            }
            return h("div", { class: "card", dataset: { poll: p.id } }, parts);
          })
        : h("div", { class: "muted" }, "Chưa có cuộc lấy phiếu nào (Văn phòng lập danh sách)."),
    ),
  );
}
