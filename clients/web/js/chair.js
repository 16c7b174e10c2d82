// The chair's console on one screen (issue 12 §1): a status strip that always shows the session, the current item,
// who has the floor and the vote; under it the hall and agenda, the floor (speakers, questioning) and the vote
// with its results, each pane scrolling inside itself. The modules only render the state live.js keeps.

import { chosenSession, hasRole } from "./api.js";
import { DOCUMENT_EVENTS } from "./documents.js";
import { Live } from "./live.js";
import { fatal, header, needSession, refreshCountdowns, requireAccount, sessionHeader } from "./ui.js";
import { desk } from "./chair-common.js";
import { loadDocuments, renderAgenda, renderHall, wireHall } from "./chair-hall.js";
import { renderQuestioning, renderSpeakers, wireFloor } from "./chair-floor.js";
import { renderCeremonies } from "./chair-ceremony.js";
import { renderPolls, renderResults, renderRounds } from "./chair-rounds.js";
import { renderStatus } from "./chair-status.js";
import { renderVoteForm, wireVoteForm } from "./chair-voteform.js";

const sessionId = chosenSession();

// Alt+digit brings a pane into view and gives it the keyboard (the list is shown at the bottom of the screen).
const PANES = ["pane-hall", "pane-agenda", "pane-speakers", "pane-questioning", "pane-votes", "pane-results"];

function focusPane(id) {
  const pane = document.getElementById(id);
  if (!pane) return;
  pane.scrollIntoView({ block: "nearest" });
  pane.focus({ preventScroll: true });
}

function render() {
  const state = desk.live.state;
  sessionHeader(state);
  if (!state) return;
  renderStatus(state);
  renderHall(state);
  renderAgenda(state);
  renderSpeakers(state);
  renderQuestioning(state);
  renderRounds(state);
  renderCeremonies(state);
  renderVoteForm(state);
  renderResults(state);
  renderPolls(state);
  refreshCountdowns();
  document.body.dataset.rendered = String(desk.live.store.seq);
}

function wireKeys() {
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    const n = Number(e.key);
    if (n >= 1 && n <= PANES.length) {
      e.preventDefault();
      focusPane(PANES[n - 1]);
    }
  });
  for (const st of document.querySelectorAll(".status-strip .st")) st.addEventListener("click", () => focusPane(st.dataset.pane));
}

async function main() {
  if (!needSession(sessionId)) return;
  const { token, account } = await requireAccount(["chair"], "chủ tọa", "chutoa");
  desk.me = hasRole(account, "delegate") ? account.person_id : null; // the chair is a delegate of the council
  desk.live = new Live(sessionId, {
    token,
    onChange: render,
    onFatal: fatal,
    onPending: render, // the chair's own ballot: "đang gửi" until the server answers
    onEvent: (ev) => {
      if (DOCUMENT_EVENTS.has(ev.type)) loadDocuments(sessionId);
    },
  });
  header({ page: "Bàn điều hành của chủ tọa", live: desk.live });
  wireHall();
  wireFloor();
  wireVoteForm();
  wireKeys();
  desk.live.start();
  loadDocuments(sessionId);
  window.kyhop = desk.live;
}

main();
