// The session's secret decisions and how each was counted (issue 13 §1–2), on verify.html?session=ID with no round
// or poll: GET /api/sessions/{id}/boards lists every secret round and confidence poll whose result is published,
// each marked verifiable (with "Kiểm chứng", which runs verify.js's own check of that board in this page), sealed on
// the server (not independently verifiable) or counted on paper (the committee's figures, entered by the
// secretariat). verify.js keeps the single-board flow; this module only fills its form and submits it.
import { $, MARK, fill, h } from "./ui.js";

const MODE = {
  verifiable: { label: "Có thể kiểm chứng — bảng công khai", pill: "ok" },
  sealed: { label: "Niêm phong trên máy chủ — không kiểm chứng độc lập được", pill: "warn" },
  paper: { label: "Kiểm phiếu giấy — Ban kiểm phiếu nhập số", pill: "info" },
};
// The council meets in Vietnam: times are shown there, whatever the reader's own time zone.
const TIME = new Intl.DateTimeFormat("vi-VN", { dateStyle: "short", timeStyle: "short", timeZone: "Asia/Ho_Chi_Minh" });

const when = (iso) => (iso ? TIME.format(new Date(iso)) : "—");
const people = (list) => list.map((p) => (p.name ? `${p.name} (${p.id})` : p.id)).join(", ");

function counts(d) {
  if (d.kind === "vote") {
    return h(
      "p",
      { class: "decision-counts" },
      d.options.flatMap((o, i) => [i ? " · " : "", `${o.label}: `, h("strong", {}, o.count)]),
      d.passed === null ? null : h("span", { class: `pill ${d.passed ? "ok" : "bad"}` }, d.passed ? "Thông qua" : "Không thông qua"),
    );
  }
  return h(
    "ul",
    { class: "decision-officials" },
    d.officials.map((o) =>
      h(
        "li",
        {},
        h("strong", {}, o.name),
        `: `,
        Object.entries(o.counts).map(([level, n], i) => `${i ? " · " : ""}${MARK[level] || level} ${n}`),
        o.invalid ? ` · không hợp lệ ${o.invalid}` : "",
      ),
    ),
  );
}

function verifyBoard(d) {
  // verify.js's form does the fetching and the checking: the same flow as ?session=…&round=….
  $("#session-id").value = new URLSearchParams(location.search).get("session");
  $("#board-kind").value = d.kind === "poll" ? "polls" : "rounds";
  $("#round-id").value = d.id;
  $("#fetch-form").requestSubmit();
  $("#report").scrollIntoView({ block: "start" });
}

function entry(d) {
  const mode = MODE[d.mode];
  const what = d.kind === "poll" ? "Lấy phiếu tín nhiệm" : "Biểu quyết kín";
  const facts = [
    ["Nội dung", d.item_title ? `${d.item_title} (${d.item_id})` : d.item_id],
    // A paper poll entered without being opened on the tablets has only the time its figures were entered.
    ["Thời gian", d.opened_at ? `${when(d.opened_at)} – ${when(d.closed_at)}` : `nhập kết quả lúc ${when(d.closed_at)}`],
    ["Số phiếu", d.ballots_entered ? `${d.ballots} phiếu giấy (số do Ban kiểm phiếu nhập)` : `${d.ballots} phiếu đã bỏ`],
    ["Ban kiểm phiếu xác nhận", d.certified_by.length ? people(d.certified_by) : "không có"],
  ];
  if (d.entered_by) facts.push(["Người nhập số", d.entered_by.name || d.entered_by.account_id]);
  if (d.board) {
    facts.push(["Lễ tạo khóa", `${d.board.ceremony_id} — dấu vân tay ${d.board.fingerprint.slice(0, 16)}…`]);
    facts.push(["SHA-256 bảng công khai", h("code", { class: "digest" }, d.board.sha256)]);
  }
  return h(
    "li",
    { class: `decision ${d.mode}`, id: `decision-${d.kind}-${d.id}`, dataset: { mode: d.mode, kind: d.kind } },
    h("h3", {}, h("span", { class: "decision-what" }, `${what} · ${d.id}`), h("span", { class: "decision-title" }, d.title)),
    h("p", {}, h("span", { class: `pill ${mode.pill} decision-mode` }, mode.label)),
    counts(d),
    h("dl", { class: "verify-facts" }, facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("p", { class: "decision-explain" }, d.mode_vi),
    h("p", { class: "decision-explain muted", lang: "en" }, d.mode_en),
    d.board
      ? h(
          "p",
          {},
          h("button", { class: "primary verify-this", type: "button", onclick: () => verifyBoard(d) }, "Kiểm chứng"),
          " ",
          h("a", { href: d.board.path, download: `board-${d.id}.json` }, "Tải bảng công khai (JSON)"),
        )
      : null,
  );
}

async function show(sessionId) {
  const section = $("#session-boards");
  section.classList.remove("hidden");
  fill("#session-boards-list", h("p", { class: "banner info" }, "Đang tải danh sách…"));
  let res;
  try {
    res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/boards`, { headers: { accept: "application/json" } });
  } catch {
    fill("#session-boards-list", h("p", { class: "banner bad" }, "Không kết nối được máy chủ. Hãy thử lại."));
    return;
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    fill(
      "#session-boards-list",
      h(
        "div",
        { class: "banner bad", id: "session-boards-error" },
        h("strong", {}, body.message_vi || `Máy chủ trả lời lỗi ${res.status}.`),
        body.message_en ? h("p", { lang: "en" }, body.message_en) : null,
      ),
    );
    return;
  }
  fill("#session-boards-title", `Các lượt bỏ phiếu kín của kỳ họp: ${body.title}`);
  fill(
    "#session-boards-list",
    body.decisions.length
      ? h("ol", { class: "decisions" }, body.decisions.map(entry))
      : h("p", { class: "banner info", id: "session-boards-empty" }, "Kỳ họp này chưa có lượt bỏ phiếu kín hay cuộc lấy phiếu tín nhiệm nào đã công bố kết quả."),
  );
}

const params = new URLSearchParams(location.search);
if (params.get("session") && !params.get("round") && !params.get("poll")) show(params.get("session"));
