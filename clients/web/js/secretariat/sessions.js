// The council's sessions, each with where it stands (chuẩn bị / đang điểm danh / đang họp / tạm dừng / đã bế mạc).

import { api } from "../api.js";
import { $, act, fill, h } from "../ui.js";
import { slug } from "./util.js";

const PILL = { prepared: "", checkin_open: "warn", in_progress: "ok", suspended: "warn", closed: "bad" };

export async function loadSessions(councilId, currentId) {
  wireSessionForm(councilId);
  let sessions;
  try {
    sessions = await api("GET", `/api/councils/${encodeURIComponent(councilId)}/sessions`);
  } catch (err) {
    fill("#session-list", h("li", { class: "banner bad" }, err.message_vi || String(err)));
    return;
  }
  fill(
    "#session-list",
    sessions.length
      ? sessions.map((s) =>
          h(
            "li",
            { dataset: { session: s.session_id, status: s.status || "" }, class: s.session_id === currentId ? "this" : "" },
            s.session_id === currentId
              ? h("strong", { "aria-current": "page" }, s.title)
              : h("a", { href: `secretariat.html?session=${encodeURIComponent(s.session_id)}` }, s.title),
            " ",
            h("span", { class: `pill ${PILL[s.status] || ""}` }, s.status_vi || "không rõ"),
            s.opens_on ? h("small", {}, ` · khai mạc ${s.opens_on.split("-").reverse().join("/")}`) : null,
            s.session_id === currentId ? h("small", {}, " · đang xem") : null,
          ),
        )
      : h("li", { class: "muted" }, "Hội đồng chưa có kỳ họp nào."),
  );
  $("#sessions-card").classList.remove("hidden");
}

let wired = false;

/** "Chuẩn bị kỳ họp mới": POST /api/councils/{id}/sessions (the session copies today's roster), then its page. A
 * refusal (an id already used, no open term) shows the server's Vietnamese message; nothing else changes. */
function wireSessionForm(councilId) {
  if (wired) return;
  wired = true;
  const title = $("#session-new-title");
  const msg = $("#session-msg");
  const say = (text, field) => {
    fill(msg, h("p", { class: "banner bad" }, text));
    field?.focus();
  };
  title.addEventListener("input", () => {
    $("#session-new-id").placeholder = slug(title.value) || "tự tạo từ tên";
    fill(msg);
  });
  $("#session-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = title.value.trim();
    const opensOn = $("#session-new-date").value; // "YYYY-MM-DD" from the date picker, or "" if none/invalid
    if (!text) return say("Vui lòng nhập tên kỳ họp.", title);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(opensOn)) return say("Vui lòng chọn ngày khai mạc.", $("#session-new-date"));
    const id = $("#session-new-id").value.trim() || slug(text);
    if (!id) return say("Vui lòng nhập mã kỳ họp (chữ không dấu, số, dấu gạch).", $("#session-new-id"));
    fill(msg);
    await act($("#session-add"), async () => {
      try {
        await api("POST", `/api/councils/${encodeURIComponent(councilId)}/sessions`, {
          session_id: id,
          title: text,
          opens_on: opensOn,
          kind: $("#session-new-kind").value,
          place: $("#session-new-place").value.trim(),
        });
      } catch (err) {
        say(err.message_vi || String(err));
        return;
      }
      location.assign(`secretariat.html?session=${encodeURIComponent(id)}`);
    });
  });
}
