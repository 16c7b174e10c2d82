// The petitions pages' one client of the server (docs/PETITIONS.md "Through the API"): the register's names,
// the lists each role reads, the commands, the import and the answer with its PDF. Screens render what these
// return and never call fetch themselves. Labels are the domain's (meeting/petitions_model.py label_vi).

import { ApiError, NETWORK_ERROR, api, newId, saved, serverNow } from "../api.js";

export const STATUS = {
  received: "Đã tiếp nhận",
  classified: "Đã phân loại",
  assigned: "Đã chuyển cơ quan giải quyết",
  answered: "Đã trả lời",
  resolved: "Đã giải quyết",
  partly_resolved: "Giải quyết một phần",
  roadmap: "Đưa vào kế hoạch, lộ trình",
  not_resolved: "Không giải quyết được",
  merged: "Đã gộp vào kiến nghị khác",
};
// The order of the dashboards' bars and legends: from just received to done.
export const STATUS_ORDER = ["received", "classified", "assigned", "answered", "partly_resolved", "roadmap", "resolved", "not_resolved"];
export const OUTCOMES = ["resolved", "partly_resolved", "roadmap", "not_resolved"];
const RUNNING = new Set(["assigned", "answered", "partly_resolved", "roadmap"]);
export const KIND = { petition: "Kiến nghị cử tri", commitment: "Cam kết khi trả lời chất vấn", conclusion: "Kết luận giám sát" };
export const GROUP = { no_resources: "Không cần nguồn lực — giải quyết dứt điểm", needs_resources: "Cần nguồn lực — kế hoạch, lộ trình" };
export const REASON = { overdue: "Quá hạn", not_resolved: "Không giải quyết được", reopened: "Cử tri tiếp tục kiến nghị" };
export const TIMING = { before: "Trước kỳ họp", after: "Sau kỳ họp", themed: "Chuyên đề" };

const OFFICE = ["admin", "secretary", "standing", "front"];

/** Which page a signed-in account gets: the office's, an agency's inbox or a delegate's own. */
export function viewOf(account) {
  const roles = account?.roles || [];
  if (roles.some((r) => OFFICE.includes(r))) return "office";
  if (roles.includes("agency")) return "agency";
  if (roles.includes("delegate") || roles.includes("chair")) return "delegate";
  return null;
}

/** Only the secretariat (and an administrator) classifies, merges and assigns. */
export const canManage = (account) => (account?.roles || []).some((r) => r === "secretary" || r === "admin");
/** The secretariat and the Standing Committee record an outcome. */
export const canConclude = (account) => (account?.roles || []).some((r) => ["secretary", "admin", "standing"].includes(r));

/** Today on the council's calendar (UTC+7) as YYYY-MM-DD, from the server's clock. */
export function councilToday() {
  return new Date(serverNow() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/** Overdue is a question asked with a time (meeting/petitions_model.py is_overdue), not a status. */
export function isOverdue(item, today = councilToday()) {
  return !!item.due && RUNNING.has(item.status) && today > item.due;
}

export function daysLeft(item, today = councilToday()) {
  if (!item.due) return null;
  return Math.round((Date.parse(item.due) - Date.parse(today)) / 86400000);
}

export class Register {
  constructor(councilId, termId) {
    this.councilId = councilId;
    this.termId = termId;
    this.base = `/api/councils/${encodeURIComponent(councilId)}/petitions/${encodeURIComponent(termId)}`;
    this.info = null; // GET /register
    this.names = { people: {} };
  }

  async load() {
    this.info = await api("GET", `${this.base}/register`);
    this.fields = Object.fromEntries(this.info.fields.map((f) => [f.id, f.name]));
    this.agencies = Object.fromEntries(this.info.agencies.map((a) => [a.id, a.name]));
    this.groups = Object.fromEntries(this.info.groups.map((g) => [g.id, g]));
    this.meetings = Object.fromEntries(this.info.meetings.map((m) => [m.id, m]));
    return this.info;
  }

  /** Delegates' names from the council's roster (the register keeps ids only). */
  async loadPeople() {
    try {
      const c = await api("GET", `/api/councils/${encodeURIComponent(this.councilId)}`);
      this.council = c; // its terms, for the carry-over
      for (const d of Object.values(c.delegates || {})) this.names.people[d.delegate_id || d.id] = d.name;
    } catch {
      // Names are a courtesy: ids are shown instead.
    }
  }

  person(id) {
    return this.names.people[id] || id;
  }

  fieldName(id) {
    return id ? this.fields[id] || id : "Chưa phân loại";
  }

  agencyName(id) {
    return id ? this.agencies[id] || id : "Chưa giao";
  }

  /** GET /items: filters {kind, field, agency, status, group, meeting, overdue, q}, a page. */
  items(filters = {}, { limit = 50, offset = 0 } = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, String(v));
    q.set("limit", String(limit));
    q.set("offset", String(offset));
    return api("GET", `${this.base}/items?${q}`);
  }

  item(id) {
    return api("GET", `${this.base}/items/${encodeURIComponent(id)}`);
  }

  dashboard() {
    return api("GET", `${this.base}/dashboard`);
  }

  inbox({ status = "", overdue = false, limit = 100, offset = 0 } = {}) {
    const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
    if (status) q.set("status", status);
    if (overdue) q.set("overdue", "true");
    return api("GET", `${this.base}/inbox?${q}`);
  }

  /** Open items offered as questioning topics (office roles and the chair). */
  topics({ limit = 100, offset = 0 } = {}) {
    return api("GET", `${this.base}/topics?limit=${limit}&offset=${offset}`);
  }

  mine({ limit = 500, offset = 0 } = {}) {
    return api("GET", `${this.base}/mine?limit=${limit}&offset=${offset}`);
  }

  /** One command to the register ({type, ...}); the command id is made here so a retry is answered once. */
  command(command, id = newId()) {
    return api("POST", `${this.base}/commands`, { id, command });
  }

  /** The import: without `confirm` the preview (nothing written), with the preview's hash the recording. */
  async importTable(file, confirm = "") {
    const fmt = /\.xlsx$/i.test(file.name) ? "xlsx" : "csv";
    const path = `${this.base}/import/${fmt}${confirm ? `?confirm=${encodeURIComponent(confirm)}` : ""}`;
    return raw("POST", path, file, { "content-type": fmt === "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv" });
  }

  /** An agency's answer with its PDF: multipart, text first, the file last (server/routes_petitions_answers.py). */
  answerWithDocument(itemId, text, file) {
    const form = new FormData();
    form.append("id", newId());
    form.append("text", text);
    form.append("file", file, file.name);
    return raw("POST", `${this.base}/items/${encodeURIComponent(itemId)}/answer-document/`, form);
  }

  async answerLink(itemId, documentId) {
    const out = await api("GET", `${this.base}/items/${encodeURIComponent(itemId)}/answer-document/${encodeURIComponent(documentId)}`);
    return out.url;
  }

  /** The Front's summary report before `session`, as a PDF Blob (the route needs the token, so not a link). */
  async reportPdf(session) {
    const auth = saved()?.token;
    let response;
    try {
      response = await fetch(`${this.base}/report?session=${encodeURIComponent(session)}`, { headers: { authorization: `Bearer ${auth}` } });
    } catch {
      throw NETWORK_ERROR();
    }
    if (!response.ok) {
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      throw ApiError.from(data, response.status);
    }
    return response.blob();
  }

  /** The sessions and questions that raised an item (GET …/items/{id}/citations), for whoever may read it. */
  citations(id) {
    return api("GET", `${this.base}/items/${encodeURIComponent(id)}/citations`);
  }

  /** The council's sessions (as the secretariat's page lists them) and one session's agenda, for the report. */
  sessions() {
    return api("GET", `/api/councils/${encodeURIComponent(this.councilId)}/sessions`);
  }

  async agenda(sessionId) {
    const s = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}`);
    const agenda = s.state?.agenda || { items: {}, order: [] };
    return agenda.order.map((id) => agenda.items[id]).filter(Boolean);
  }

  /** The session's documents as the caller sees them (the report once attached). */
  manifest(sessionId) {
    return api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/documents/manifest`);
  }

  /** Generate the summary report before `sessionId` and publish it on the agenda item (the secretariat's). */
  attachReport(sessionId, itemId) {
    return api("POST", `${this.base}/report/attach/`, { session_id: sessionId, item_id: itemId });
  }

  /** Carrying an earlier term's open items into this register: the counts first (nothing written), then the run. */
  carryPreview(fromTerm) {
    return api("GET", `${this.base}/carry-over/?from_term=${encodeURIComponent(fromTerm)}`);
  }

  carryOver(fromTerm) {
    return api("POST", `${this.base}/carry-over/`, { from_term: fromTerm });
  }

  /** Public, no sign-in: counts by field and agency. */
  summary() {
    return api("GET", `${this.base}/summary`, undefined, { token: null });
  }
}

async function raw(method, path, body, headers = {}) {
  const auth = saved()?.token;
  const h = { accept: "application/json", ...headers };
  if (auth) h.authorization = `Bearer ${auth}`;
  let response;
  try {
    response = await fetch(path, { method, headers: h, body });
  } catch {
    throw NETWORK_ERROR();
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw ApiError.from(data, response.status);
  return data;
}

/** Counts {key: {status: n}} as rows sorted by total, each with its total. */
export function rows(byKey, name) {
  return Object.entries(byKey || {})
    .map(([key, counts]) => ({ key, name: name(key), counts, total: Object.values(counts).reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name, "vi"));
}
