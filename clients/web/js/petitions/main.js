// The petitions page (issue 14 §2): one page, one screen per role — the office's dashboard, list and import,
// an agency's inbox, a delegate's own meetings. The register is the council's current term's unless ?term= says.

import { api } from "../api.js";
import { $, errorBanner, fill, h, header, requireAccount } from "../ui.js";
import { AgencyScreen } from "./agency.js";
import { Register, canManage, viewOf } from "./data.js";
import { DelegateScreen } from "./delegate.js";
import { OfficeScreen } from "./office.js";

const ROLES = ["admin", "secretary", "standing", "front", "agency", "delegate", "chair"];
const SCREENS = { office: OfficeScreen, agency: AgencyScreen, delegate: DelegateScreen };

async function main() {
  const { account } = await requireAccount(ROLES, "theo dõi kiến nghị cử tri");
  header({ page: "Kiến nghị cử tri" });
  const params = new URLSearchParams(location.search);
  const councilId = account.council_id || params.get("council") || "";
  const view = $("#view");
  if (!councilId) {
    fill(view, h("div", { class: "banner warn" }, "Chọn Hội đồng: thêm ?council=<mã Hội đồng> vào địa chỉ trang."));
    return;
  }
  let termId = params.get("term");
  let council = null;
  try {
    council = await api("GET", `/api/councils/${encodeURIComponent(councilId)}`);
    fill("#council-title", council.name);
    termId = termId || council.current_term;
  } catch (err) {
    fill(view, errorBanner(err));
    return;
  }
  if (!termId) {
    fill(view, h("div", { class: "banner warn" }, "Hội đồng chưa có nhiệm kỳ nào."));
    return;
  }
  const reg = new Register(councilId, termId);
  try {
    await Promise.all([reg.load(), reg.loadPeople()]);
  } catch (err) {
    fill(view, err.code === "unknown_petitions" ? notOpened(reg, account, council) : errorBanner(err));
    return;
  }
  const Screen = SCREENS[viewOf(account)];
  const screen = new Screen(reg, account, view);
  const tabs = screen.tabs();
  const nav = $("#tabs");
  const goto = (tab) => {
    const known = tabs.some(([t]) => t === tab) ? tab : tabs[0][0];
    if (location.hash !== `#${known}`) history.replaceState(null, "", `#${known}`);
    for (const b of nav.querySelectorAll("button")) b.setAttribute("aria-current", b.dataset.tab === known ? "page" : "false");
    document.body.dataset.tab = known;
    screen.show(known);
  };
  screen.goto = goto;
  fill(nav, tabs.length > 1 ? tabs.map(([t, label]) => h("button", { dataset: { tab: t }, onclick: () => goto(t) }, label)) : h("h1", { class: "tab-title" }, tabs[0][1]));
  window.addEventListener("hashchange", () => goto(location.hash.slice(1)));
  goto(location.hash.slice(1));
}

/** A new term's register is opened by the secretariat, then the page reloads: its "Trình kỳ họp" tab carries over
 * what the earlier term left open. The council's lists (fields, agencies with their e-mail addresses, deadlines)
 * are kept from the latest earlier term that has a register, unless the secretariat asks for the level's defaults:
 * a carried item keeps its field, which the new register must know, and nobody wants to type the agencies again. */
async function earlierRules(councilId, council, termId) {
  const terms = Object.values(council?.terms || {})
    .filter((t) => t.id !== termId)
    .sort((a, b) => (b.starts_on || "").localeCompare(a.starts_on || ""));
  for (const t of terms) {
    try {
      const info = await api("GET", `/api/councils/${encodeURIComponent(councilId)}/petitions/${encodeURIComponent(t.id)}/register`);
      const { fields, agencies, no_resources_days, needs_resources_days, other_days, remind_days } = info;
      return { term: t, rules: { fields, agencies, no_resources_days, needs_resources_days, other_days, remind_days } };
    } catch (err) {
      if (err.code !== "unknown_petitions") throw err;
    }
  }
  return null;
}

function notOpened(reg, account, council) {
  const termName = council?.terms?.[reg.termId]?.name || reg.termId;
  const banner = h("div", { class: "banner warn", id: "not-opened" }, `Hội đồng chưa mở sổ theo dõi kiến nghị cử tri cho ${termName}.`);
  if (!canManage(account)) return banner;
  const msg = h("p", { class: "form-msg", role: "alert" });
  const keep = h("input", { type: "checkbox", id: "keep-rules", checked: true });
  const keepText = h("span", { id: "keep-rules-text" });
  const keepRow = h("label", { class: "check hidden", id: "keep-rules-row" }, keep, keepText);
  const about = h("p", { id: "open-about" }, "Sổ mới dùng danh mục lĩnh vực, cơ quan và thời hạn mặc định của cấp Hội đồng; sau khi mở có thể chuyển các kiến nghị chưa giải quyết từ nhiệm kỳ trước (mục «Trình kỳ họp»).");
  const button = h("button", { type: "button", class: "primary", id: "open-register" }, "Mở sổ theo dõi cho nhiệm kỳ này");
  let earlier = null;
  button.disabled = true;
  earlierRules(reg.councilId, council, reg.termId)
    .then((found) => {
      earlier = found;
      if (found) {
        keepText.textContent = ` Giữ danh mục lĩnh vực (${found.rules.fields.length}), cơ quan (${found.rules.agencies.length}) và thời hạn của ${found.term.name || found.term.id}`;
        keepRow.classList.remove("hidden");
        about.textContent = "Sau khi mở có thể chuyển các kiến nghị chưa giải quyết từ nhiệm kỳ trước (mục «Trình kỳ họp»).";
      }
    })
    .catch((err) => {
      msg.textContent = `Không đọc được sổ của nhiệm kỳ trước: ${err.message_vi || err} — sổ mới sẽ dùng danh mục mặc định.`;
    })
    .finally(() => {
      button.disabled = false;
    });
  button.addEventListener("click", async () => {
    button.disabled = true;
    const cmd = { type: "open_petitions", council_id: reg.councilId, term_id: reg.termId, level: council?.level || "province" };
    if (earlier && keep.checked) cmd.rules = earlier.rules;
    try {
      await reg.command(cmd);
      location.hash = "#session";
      location.reload();
    } catch (err) {
      msg.textContent = err.message_vi ? `${err.message_vi} (${err.message_en})` : String(err);
      button.disabled = false;
    }
  });
  return h("section", { class: "card wide" }, banner, about, keepRow, msg, h("div", { class: "row" }, button));
}

main().catch((err) => fill("#view", errorBanner(err)));
