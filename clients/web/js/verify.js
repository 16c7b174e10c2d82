// The public verifier (issue 13; docs/BALLOT-CRYPTO.md §9): fetches a closed verifiable round's bulletin board from
// GET /api/sessions/{id}/rounds/{round}/board — or reads a board file the person chose or dropped — and runs every
// check in this browser (ballotcrypto/ on @noble/*), showing each stage in Vietnamese, the first failing check by
// name, the verified counts, and a lookup of a delegate's tracker. No sign-in: the board is public once announced.
import { shortTracker } from "./ballotcrypto/ballots.js";
import { STAGES, boardDigest, verifyBoard } from "./ballotcrypto/board.js";
import { MAX_BOARD_BYTES } from "./ballotcrypto/format.js";
import { chosenSession } from "./api.js";
import { $, MARK, fill, h } from "./ui.js";

const STAGE_LABEL = {
  format: "Định dạng tệp bảng công khai",
  ceremony: "Lễ tạo khóa của Ban kiểm phiếu (khóa, cam kết, khiếu nại, khóa chung)",
  round: "Mô tả lượt bỏ phiếu",
  ballots: "Chứng minh của từng phiếu đã mã hóa",
  spoiled: "Phiếu hủy để kiểm tra (thử thách Benaloh)",
  aggregate: "Tổng mã hóa của các phiếu",
  partials: "Phần giải mã của các thành viên Ban kiểm phiếu",
  result: "Kết quả công bố khớp với tổng đã giải mã",
};
const STATUS = { pending: "Chờ", running: "Đang kiểm tra…", ok: "Đạt", fail: "Không đạt" };
// Choice keys the server uses (meeting/rules.py, ui.js MARK); anything else is shown as it is.
const CHOICE = { yes: "Tán thành", no: "Không tán thành", abstain: "Không biểu quyết", ...MARK };

let run = 0; // the latest verification; a slower earlier one no longer draws
let current = null; // {board, ok} once a board has been read

function stageItems() {
  return STAGES.map(([key]) =>
    h(
      "li",
      { class: "stage pending", id: `stage-${key}`, dataset: { stage: key } },
      h("span", { class: "stage-name" }, STAGE_LABEL[key]),
      h("span", { class: "stage-status" }, STATUS.pending),
    ),
  );
}

function mark(key, status, note = "") {
  const li = $(`#stage-${key}`);
  if (!li) return;
  li.className = `stage ${status}`;
  fill(li.querySelector(".stage-status"), note ? `${STATUS[status]} — ${note}` : STATUS[status]);
}

function resultTable(board, counts) {
  const { round } = board;
  const poll = round.kind === "poll";
  return h(
    "table",
    { class: "verify-result" },
    h("caption", {}, poll ? "Kết quả lấy phiếu (đã kiểm chứng)" : "Kết quả biểu quyết (đã kiểm chứng)"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, poll ? "Người được lấy phiếu" : "Phương án"),
        poll ? round.questions[0].choices.map((c) => h("th", { scope: "col", class: "num" }, CHOICE[c] || c)) : null,
        poll ? h("th", { scope: "col", class: "num" }, "Không hợp lệ") : h("th", { scope: "col", class: "num" }, "Số phiếu"),
      ),
    ),
    h(
      "tbody",
      {},
      poll
        ? round.questions.map((q, i) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, q.id),
              counts[i].map((n) => h("td", { class: "num" }, n)),
              h("td", { class: "num" }, board.result.ballots - counts[i].reduce((a, b) => a + b, 0)),
            ),
          )
        : round.questions[0].choices.map((c, k) =>
            h("tr", {}, h("th", { scope: "row" }, CHOICE[c] || c), h("td", { class: "num" }, counts[0][k])),
          ),
    ),
  );
}

function boardInfo(board, digest, report) {
  const c = board.ceremony;
  const name = (j) => c.spec.members[j - 1] ?? `#${j}`;
  const decrypted = board.partials.map((p) => name(p.member));
  return [
    report.ok ? resultTable(board, report.counts) : null,
    h(
      "dl",
      { class: "verify-facts" },
      h("dt", {}, "Kỳ họp / lượt"),
      h("dd", {}, `${board.round.session_id} / ${board.round.round_id}`),
      h("dt", {}, "Số phiếu đã đếm"),
      h("dd", {}, `${board.ballots.length} phiếu mã hóa`, board.spoiled.length ? `, ${board.spoiled.length} phiếu hủy để kiểm tra` : ""),
      h("dt", {}, "Ban kiểm phiếu"),
      h("dd", {}, `${c.spec.members.length} thành viên, cần ${c.spec.threshold} người để giải mã: ${c.spec.members.join(", ")}`),
      c.disqualified.length ? h("dt", {}, "Bị loại trong lễ tạo khóa") : null,
      c.disqualified.length ? h("dd", {}, c.disqualified.map(name).join(", ")) : null,
      h("dt", {}, "Đã giải mã"),
      h("dd", {}, decrypted.join(", ") || "chưa ai"),
      h("dt", {}, "Dấu vân tay lễ tạo khóa"),
      h("dd", {}, h("code", {}, c.fingerprint.slice(0, 32).match(/.{8}/g).join(" "))),
      h("dt", {}, "SHA-256 của tệp"),
      h("dd", {}, h("code", { class: "digest" }, digest)),
    ),
  ];
}

async function verify(data, origin) {
  const mine = ++run;
  current = null;
  $("#report").classList.remove("hidden");
  $("#tracker").classList.add("hidden");
  fill("#tracker-result");
  fill("#verdict", h("div", { class: "banner info" }, `Đang kiểm tra ${origin}…`));
  fill("#stages", stageItems());
  fill("#board-info");
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = boardDigest(bytes);
  const started = performance.now();
  const report = await verifyBoard(bytes, (stage, status, info = {}) => {
    if (mine !== run) return;
    let note = "";
    if (stage === "ballots" && info.total !== undefined) note = `${info.done}/${info.total} phiếu`;
    if (stage === "spoiled" && info.total !== undefined) note = info.total ? `${info.total} phiếu` : "không có phiếu hủy";
    mark(stage, status, note);
  });
  if (mine !== run) return;
  const seconds = ((performance.now() - started) / 1000).toLocaleString("vi-VN", { maximumFractionDigits: 1 });
  if (report.ok) {
    fill(
      "#verdict",
      h(
        "div",
        { class: "banner ok", id: "verdict-ok" },
        h("strong", {}, "Đã kiểm tra toàn bộ bảng công khai: kết quả đúng với các phiếu đã bỏ."),
        h("p", {}, `Mọi chứng minh đều hợp lệ (${seconds} giây, ngay trên máy này).`),
      ),
    );
  } else {
    const f = report.failure;
    mark(f.stage, "fail");
    for (const [key] of STAGES.slice(STAGES.findIndex(([k]) => k === f.stage) + 1)) mark(key, "pending", "không kiểm tra tiếp");
    fill(
      "#verdict",
      h(
        "div",
        { class: "banner bad", id: "verdict-bad", dataset: { check: f.check } },
        h("strong", {}, `Bảng công khai KHÔNG hợp lệ: ${f.vi}.`),
        h("p", {}, `Lần kiểm tra không đạt: `, h("code", {}, f.check), ` — ${f.subject}: ${f.detail}`),
        h("p", { lang: "en" }, `The board does not verify: ${f.en}.`),
      ),
    );
  }
  $("#verdict").scrollIntoView({ block: "nearest" }); // on a phone the verdict is below the form
  const board = report.ok ? report.board : tryParse(bytes);
  if (board) {
    current = { board, ok: report.ok };
    fill("#board-info", boardInfo(board, digest, report));
    $("#tracker").classList.remove("hidden");
  }
}

function tryParse(bytes) {
  try {
    const b = JSON.parse(new TextDecoder().decode(bytes));
    return b && Array.isArray(b.ballots) && b.ceremony?.spec && b.round ? b : null;
  } catch {
    return null;
  }
}

// --- fetching a board ---------------------------------------------------------------------------------------------------
function fieldError(id, text) {
  fill(`#${id}-error`, text);
  $(`#${id}-id`)?.setAttribute("aria-invalid", text ? "true" : "false");
}

async function fetchBoard(sessionId, roundId, kind = "rounds") {
  // A vote round's board, or a verifiable confidence poll's (GET /api/sessions/{id}/polls/{poll}/board).
  const url = `/api/sessions/${encodeURIComponent(sessionId)}/${kind}/${encodeURIComponent(roundId)}/board`;
  $("#report").classList.remove("hidden");
  fill("#stages");
  fill("#board-info");
  fill("#verdict", h("div", { class: "banner info" }, "Đang tải bảng công khai…"));
  let res;
  try {
    res = await fetch(url, { headers: { accept: "application/json" } });
  } catch {
    fill("#verdict", h("div", { class: "banner bad" }, "Không kết nối được máy chủ. Hãy thử lại, hoặc chọn tệp bảng công khai đã tải về."));
    return;
  }
  if (!res.ok) {
    let body = {};
    try {
      body = await res.json();
    } catch {
      // not JSON: the status says enough
    }
    fill(
      "#verdict",
      h(
        "div",
        { class: "banner bad", id: "fetch-error" },
        h("strong", {}, body.message_vi || `Máy chủ trả lời lỗi ${res.status}.`),
        body.message_en ? h("p", { lang: "en" }, body.message_en) : null,
      ),
    );
    return;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  await verify(bytes, kind === "polls" ? `cuộc lấy phiếu ${roundId}` : `lượt ${roundId}`);
}

function onFetch(event) {
  event.preventDefault();
  const sessionId = $("#session-id").value.trim();
  const roundId = $("#round-id").value.trim();
  fieldError("session", sessionId ? "" : "Hãy nhập mã kỳ họp.");
  fieldError("round", roundId ? "" : "Hãy nhập mã lượt biểu quyết.");
  if (!sessionId || !roundId) {
    (sessionId ? $("#round-id") : $("#session-id")).focus();
    return;
  }
  const kind = $("#board-kind").value === "polls" ? "polls" : "rounds";
  const params = new URLSearchParams({ session: sessionId, [kind === "polls" ? "poll" : "round"]: roundId });
  history.replaceState(null, "", `?${params}`);
  fetchBoard(sessionId, roundId, kind);
}

async function readFile(file) {
  if (!file) return;
  if (file.size > MAX_BOARD_BYTES) {
    $("#report").classList.remove("hidden");
    fill("#verdict", h("div", { class: "banner bad" }, `Tệp quá lớn (hơn ${MAX_BOARD_BYTES / 1024 / 1024} MB), không phải bảng công khai.`));
    return;
  }
  fill("#file-name", file.name);
  await verify(new Uint8Array(await file.arrayBuffer()), `tệp ${file.name}`);
}

// --- tracker lookup -----------------------------------------------------------------------------------------------------
function onTracker(event) {
  event.preventDefault();
  const raw = $("#tracker-code").value;
  const code = raw.toUpperCase().replace(/[\s-]/g, "");
  const full = /^[0-9A-F]{64}$/.test(code) ? code.toLowerCase() : null;
  const short = /^[A-Z2-7]{16}$/.test(code) ? code.match(/.{4}/g).join("-") : null;
  if (!full && !short) {
    $("#tracker-code").setAttribute("aria-invalid", "true");
    fill(
      "#tracker-error",
      raw.trim() ? "Mã theo dõi gồm 16 ký tự (chữ A–Z và số 2–7), ví dụ ABCD-EFGH-IJKL-MNOP." : "Hãy nhập mã theo dõi.",
    );
    $("#tracker-code").focus();
    return;
  }
  $("#tracker-code").setAttribute("aria-invalid", "false");
  fill("#tracker-error");
  const { board, ok } = current;
  const matches = (t) => (full ? t === full : shortTracker(t) === short);
  const index = board.ballots.findIndex((b) => matches(b.tracker));
  const spoiled = board.spoiled.find((s) => matches(s.ballot.tracker));
  const shown = short || shortTracker(full);
  let out;
  if (index >= 0 && ok) {
    out = h("div", { class: "banner ok", id: "tracker-found" }, `Phiếu ${shown} có trên bảng công khai (phiếu thứ ${index + 1}/${board.ballots.length}) và đã được đếm vào kết quả đã kiểm chứng.`);
  } else if (index >= 0) {
    out = h("div", { class: "banner warn", id: "tracker-found" }, `Phiếu ${shown} có trên bảng công khai, nhưng bảng này không qua được kiểm tra nên kết quả không được kiểm chứng.`);
  } else if (spoiled) {
    // Benaloh: the board opened it from its published nonces; the delegate compares with what they chose.
    const chosen = board.round.questions.map((q, qi) => {
      const k = spoiled.choices[qi].indexOf(1);
      const what = k < 0 ? "không chọn" : CHOICE[q.choices[k]] || q.choices[k];
      return board.round.kind === "poll" ? `${q.id}: ${what}` : what;
    });
    out = h(
      "div",
      { class: "banner warn", id: "tracker-spoiled" },
      h("p", {}, `Phiếu ${shown} là phiếu đã hủy để kiểm tra: phiếu này không được đếm. Phiếu bạn bỏ sau đó có mã theo dõi khác.`),
      h("p", {}, ok ? "Phiếu này đã được mở ra và ghi: " : "Bảng không qua được kiểm tra; phiếu này ghi: ", h("strong", { class: "spoiled-choice" }, chosen.join("; ")), ". Hãy so sánh với lựa chọn bạn đã bấm."),
    );
  } else {
    out = h(
      "div",
      { class: "banner bad", id: "tracker-missing" },
      h("strong", {}, `Không tìm thấy phiếu ${shown} trên bảng công khai.`),
      h("p", {}, "Nếu đây đúng là mã máy tính bảng của bạn đã hiển thị khi bỏ phiếu, hãy báo ngay cho Ban kiểm phiếu: một phiếu đã được máy chủ ghi nhận phải có trên bảng."),
    );
  }
  fill("#tracker-result", out);
  out.scrollIntoView({ block: "nearest" });
}

// --- start --------------------------------------------------------------------------------------------------------------
function start() {
  const params = new URLSearchParams(location.search);
  const sessionId = params.get("session") || chosenSession() || "";
  const kind = params.get("poll") ? "polls" : "rounds";
  const roundId = params.get("poll") || params.get("round") || "";
  $("#session-id").value = sessionId;
  $("#round-id").value = roundId;
  $("#board-kind").value = kind;
  $("#fetch-form").addEventListener("submit", onFetch);
  $("#tracker-form").addEventListener("submit", onTracker);
  $("#board-file").addEventListener("change", (e) => readFile(e.target.files[0]));
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    readFile(e.dataTransfer.files[0]);
  });
  if (sessionId && roundId) fetchBoard(sessionId, roundId, kind);
}

start();
