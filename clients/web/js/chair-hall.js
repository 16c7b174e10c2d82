// The hall pane: attendance and quorum, the session's lifecycle, the chair's own check-in (the chair is a
// delegate), the seat map with names and seats, and the agenda with "follow me".

import { api } from "./api.js";
import { ask, confirmBox, fill, h } from "./ui.js";
import { agendaList, attendanceLine } from "./views.js";
import { desk, keyed, nameWithSeat, run, seatedDelegates } from "./chair-common.js";

const RUNNING = ["checkin_open", "in_progress", "suspended"];

function lifecycleButtons(hall) {
  const buttons = [];
  const btn = (label, command, cls = "", okText = "") => h("button", { class: cls, onclick: (e) => run(command, okText, e.currentTarget) }, label);
  if (hall.status === "prepared") buttons.push(btn("Mở điểm danh", { type: "open_check_in" }, "primary", "Đã mở điểm danh."));
  if (hall.status === "checkin_open") buttons.push(btn("Khai mạc kỳ họp", { type: "open_session" }, "primary", "Đã khai mạc kỳ họp."));
  if (hall.status === "in_progress") {
    buttons.push(
      h(
        "button",
        {
          onclick: async (e) => {
            const button = e.currentTarget;
            const reason = await ask("Tạm dừng kỳ họp", "Lý do (không bắt buộc; hiển thị cho đại biểu và công chúng)");
            if (reason !== null) run({ type: "suspend_session", reason }, "Đã tạm dừng.", button);
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
            const button = e.currentTarget;
            if (await confirmBox("Bế mạc kỳ họp", "Sau khi bế mạc, kỳ họp không nhận thêm thao tác nào.", "Bế mạc"))
              run({ type: "close_session" }, "Đã bế mạc kỳ họp.", button);
          },
        },
        "Bế mạc kỳ họp",
      ),
    );
  }
  return buttons;
}

/** The chair checks in (and out) as the delegate they are. */
function meView(state) {
  const me = desk.me;
  const d = me && state.hall.delegates[me];
  if (!d) return null;
  const present = state.hall.present.includes(me);
  const canChange = RUNNING.includes(state.hall.status);
  return h(
    "div",
    { class: `banner ${present ? "ok" : "warn"}`, id: "me-status", dataset: { present: String(present) } },
    h("span", {}, h("strong", {}, "Chủ tọa (đại biểu): "), nameWithSeat(d), " — ", present ? "đã điểm danh, có mặt" : "chưa điểm danh"),
    canChange
      ? h(
          "div",
          { class: "row" },
          present
            ? h("button", { id: "me-checkout", onclick: (e) => run({ type: "check_out", delegate_id: me }, "Đã ghi nhận chủ tọa rời hội trường.", e.currentTarget) }, "Rời hội trường")
            : h("button", { class: "primary", id: "me-checkin", onclick: (e) => run({ type: "check_in", delegate_id: me }, "Chủ tọa đã điểm danh.", e.currentTarget) }, "Chủ tọa điểm danh"),
        )
      : null,
  );
}

export function renderHall(state) {
  const hall = state.hall;
  const a = attendanceLine(state);
  fill(
    "#quorum",
    h(
      "div",
      { class: "row" },
      h("span", { class: "big-number", id: "present-count" }, `${a.present}/${a.total}`),
      h("span", {}, `đại biểu có mặt · cần ít nhất ${a.needed} để khai mạc và biểu quyết`),
    ),
    h("div", { class: "bar" }, h("span", { style: `width:${a.total ? (100 * a.present) / a.total : 0}%` })),
    h("p", { class: `banner ${a.met ? "ok" : "warn"}`, id: "quorum-status" }, a.met ? "Đủ số lượng tối thiểu" : `Chưa đủ: còn thiếu ${a.needed - a.present} đại biểu`),
  );
  const meDelegate = desk.me && hall.delegates[desk.me];
  keyed(document.getElementById("lifecycle"), [hall.status], () => fill("#lifecycle", lifecycleButtons(hall)));
  keyed(document.getElementById("me-delegate"), [hall.status, hall.present.includes(desk.me), !!meDelegate], () => fill("#me-delegate", meView(state)));
  const seated = seatedDelegates(state);
  const plan = seated.some((d) => d.seat);
  fill("#seat-map-open", `Sơ đồ chỗ ngồi (${a.present}/${a.total} có mặt)`);
  fill("#seat-legend", `Xanh, dấu ✓: có mặt · xám: vắng. ${plan ? "Theo sơ đồ chỗ ngồi của Hội đồng." : "Hội đồng chưa xếp chỗ ngồi: xếp theo mã đại biểu."}`);
  keyed(document.getElementById("seats"), [seated.map((d) => [d.id, d.name, d.seat]), hall.present], () =>
    fill(
      "#seats",
      seated.map((d) => {
        const present = hall.present.includes(d.id);
        return h(
          "div",
          { class: `seat ${present ? "present" : ""}`, dataset: { delegate: d.id }, title: present ? "có mặt" : "vắng" },
          h("span", { class: "seat-no" }, d.seat ? `Ghế ${d.seat}` : d.id, present ? h("span", { "aria-hidden": "true" }, " ✓") : null),
          d.name,
          h("span", { class: "sr-only" }, present ? " — có mặt" : " — vắng"),
        );
      }),
    ),
  );
}

let documentTitles = {};
let shownItem = null;

export function renderAgenda(state) {
  const running = state.hall.status === "in_progress";
  keyed(document.getElementById("agenda-list"), [state.agenda.order, state.agenda.items, running], () =>
    fill(
      "#agenda-list",
      agendaList(state, (item) =>
        running && item.status !== "current"
          ? h("button", { dataset: { move: item.id }, onclick: (e) => run({ type: "move_to_item", item_id: item.id }, `Chuyển sang: ${item.title}`, e.currentTarget) }, "Chuyển sang")
          : null,
      ),
    ),
  );
  // The item now under consideration is brought into the pane's view when it changes (the pane scrolls, the
  // page never does: scrollIntoView would also move the page's own hidden scroll).
  if (state.hall.current_item !== shownItem) {
    shownItem = state.hall.current_item;
    const li = shownItem && document.querySelector(`#agenda-list li[data-item="${CSS.escape(shownItem)}"]`);
    const pane = document.getElementById("pane-agenda");
    if (li) pane.scrollTop += li.getBoundingClientRect().top - pane.getBoundingClientRect().top - 48;
  }
  const f = state.agenda.follow_me;
  const title = f ? documentTitles[f.document_id] || f.document_id : "";
  fill("#follow-now", f ? h("p", { class: "banner info" }, `Đang chỉ: ${title}, trang ${f.page}`) : null);
}

/** The documents the chair may point every tablet to ("follow me"), from the manifest when the server has it. */
export async function loadDocuments(sessionId) {
  try {
    const manifest = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/documents/manifest`);
    documentTitles = Object.fromEntries(manifest.documents.map((d) => [d.document_id, d.title]));
    fill("#doc-ids", manifest.documents.filter((d) => d.access !== "secret").map((d) => h("option", { value: d.document_id }, d.title)));
    if (desk.live.state) renderAgenda(desk.live.state);
  } catch {
    // No documents service: the chair types the document id.
  }
}

export function wireHall() {
  const seatMap = document.getElementById("seat-map");
  document.getElementById("seat-map-open").addEventListener("click", () => seatMap.showModal());
  document.getElementById("seat-map-close").addEventListener("click", () => seatMap.close());
  document.getElementById("follow-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const doc = document.getElementById("follow-doc").value.trim();
    if (!doc) {
      document.getElementById("follow-doc").focus();
      return;
    }
    run({ type: "set_follow_me", document_id: doc, page: Number(document.getElementById("follow-page").value) || 1 }, "Đã chỉ trang cho mọi máy tính bảng.");
  });
  document.getElementById("follow-clear").addEventListener("click", (e) => run({ type: "clear_follow_me" }, "Đã bỏ chỉ trang.", e.currentTarget));
}
