// The council's sessions, each with where it stands (chuẩn bị / đang điểm danh / đang họp / tạm dừng / đã bế mạc).

import { api } from "../api.js";
import { $, fill, h } from "../ui.js";

const PILL = { prepared: "", checkin_open: "warn", in_progress: "ok", suspended: "warn", closed: "bad" };

export async function loadSessions(councilId, currentId) {
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
