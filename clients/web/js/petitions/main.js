// The petitions page (issue 14 §2): one page, one screen per role — the office's dashboard, list and import,
// an agency's inbox, a delegate's own meetings. The register is the council's current term's unless ?term= says.

import { api } from "../api.js";
import { $, errorBanner, fill, h, header, requireAccount } from "../ui.js";
import { AgencyScreen } from "./agency.js";
import { Register, viewOf } from "./data.js";
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
  try {
    const council = await api("GET", `/api/councils/${encodeURIComponent(councilId)}`);
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
    fill(view, err.code === "unknown_petitions" ? h("div", { class: "banner warn" }, "Hội đồng chưa mở sổ theo dõi kiến nghị cử tri cho nhiệm kỳ này.") : errorBanner(err));
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

main().catch((err) => fill("#view", errorBanner(err)));
