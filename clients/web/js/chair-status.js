// The status strip: the state of each part of the session, always in view whatever the panes show.

import { SESSION_STATUS, TURN_KIND, countdown, currentItem, delegateName, fill, h, speakerName } from "./ui.js";
import { attendanceLine, closedRounds, openRounds } from "./views.js";

function cell(id, cls, label, ...value) {
  const el = document.getElementById(id);
  el.className = `st${cls ? ` is-${cls}` : ""}`;
  fill(el, h("span", { class: "label" }, label), h("span", { class: "value" }, ...value));
}

export function renderStatus(state) {
  const hall = state.hall;
  const a = attendanceLine(state);
  const running = hall.status === "in_progress";
  cell(
    "st-session",
    running && a.met ? "ok" : "warn",
    "Kỳ họp",
    `${SESSION_STATUS[hall.status] || hall.status} · có mặt ${a.present}/${a.total}`,
    a.met ? "" : ` (cần ${a.needed})`,
  );
  const item = currentItem(state);
  cell("st-item", item ? "" : "warn", "Nội dung đang xem xét", item ? item.title : "Chưa bắt đầu nội dung nào");

  const speech = state.speakers.current;
  const turn = state.questioning.floor;
  // The countdown first: a long name is cut at the end of the line, the time left never is.
  if (speech) cell("st-floor", "live", "Đang phát biểu", countdown(speech.ends_at), ` ${delegateName(state, speech.delegate_id)}`);
  else if (turn) cell("st-floor", "live", TURN_KIND[turn.kind] || "Chất vấn", countdown(turn.ends_at), ` ${speakerName(state, turn.speaker_id)}`);
  else cell("st-floor", "", "Phát biểu", "Không có ai đang phát biểu");

  const open = openRounds(state);
  const counting = Object.values(state.votes.rounds).filter((r) => r.status === "counted");
  const unannounced = closedRounds(state).filter((r) => !r.announced_at);
  if (open.length) {
    const r = open[0];
    cell(
      "st-vote",
      "live",
      r.secret ? (r.mode === "verifiable" ? "Đang bỏ phiếu kín kiểm chứng" : "Đang bỏ phiếu kín") : "Đang biểu quyết (ghi danh)",
      r.paper ? "Phiếu giấy · " : `${r.voted.length}/${r.eligible.length} đã bỏ phiếu · `,
      r.closes_at ? [countdown(r.closes_at), " · "] : null,
      r.motion,
    );
  } else if (counting.length) {
    const r = counting[0];
    // A verifiable round's committee certifies by decrypting (meeting/verifiable.py): k of t, not k of n.
    const label = r.mode === "verifiable" ? `Chờ Ban kiểm phiếu giải mã (${Object.keys(r.partials || {}).length} đã giải mã)` : "Chờ Ban kiểm phiếu xác nhận";
    cell("st-vote", "warn", label, r.motion);
  }
  else if (unannounced.length) cell("st-vote", "warn", "Kết quả chờ công bố", unannounced[0].motion);
  else {
    const announced = closedRounds(state).filter((r) => r.announced_at).sort((a, b) => String(b.announced_at).localeCompare(String(a.announced_at)))[0];
    if (announced) cell("st-vote", "ok", "Đã công bố kết quả", announced.result.passed ? "THÔNG QUA · " : "KHÔNG THÔNG QUA · ", announced.motion);
    else cell("st-vote", "", "Biểu quyết", "Không có lượt nào đang mở");
  }
}
