// "Hồ sơ kỳ họp": the secretariat edits what the record needs (the council's settings, the session's settings, each
// draft resolution's text) and, once the session has closed, builds, previews and downloads every document and the
// archive (server/routes_record.py). Downloads go through fetch() with the sign-in token, then a blob URL: a plain
// link would reach the server without the token.

import { ApiError, NETWORK_ERROR, api, saved } from "./api.js";
import { $, act, fill, h } from "./ui.js";

const lines = (text) =>
  text
    .split("\n")
    .map((x) => x.trim())
    .filter(Boolean);
const unlines = (list) => (list || []).join("\n");

/** Articles as the secretariat types them: blocks separated by an empty line, the first line the heading. */
export function parseArticles(text) {
  return text
    .split(/\n\s*\n/)
    .map((block) => lines(block))
    .filter((b) => b.length)
    .map(([heading, ...paragraphs]) => ({ heading, paragraphs }));
}
const articlesText = (articles) => (articles || []).map((a) => [a.heading, ...a.paragraphs].join("\n")).join("\n\n");

function field(id, label, value, { area = false, hint = "" } = {}) {
  const input = area ? h("textarea", { id, rows: 4 }, value || "") : h("input", { id, value: value || "" });
  return h("div", { class: "field" }, h("label", { for: id }, label, hint ? h("small", {}, ` — ${hint}`) : null), input);
}
const val = (id) => $(`#${id}`).value.trim();

async function fetchFile(url) {
  let r;
  try {
    r = await fetch(url, { headers: { authorization: `Bearer ${saved()?.token || ""}` } });
  } catch {
    throw NETWORK_ERROR();
  }
  if (!r.ok) {
    let body = null;
    try {
      body = await r.json();
    } catch {
      body = null;
    }
    throw ApiError.from(body, r.status);
  }
  return r.blob();
}

async function openFile(url, name, download) {
  const blob = await fetchFile(url);
  const href = URL.createObjectURL(blob);
  if (download) {
    const a = h("a", { href, download: name });
    document.body.append(a);
    a.click();
    a.remove();
  } else {
    window.open(href, "_blank", "noopener");
  }
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

function fileRow(label, url, name) {
  return h(
    "li",
    { class: "record-file", dataset: { part: name } },
    h("span", {}, label),
    h(
      "span",
      { class: "row" },
      h("button", { type: "button", onclick: (e) => act(e.target, () => openFile(url, name, false)) }, "Xem"),
      h("button", { type: "button", class: "primary", onclick: (e) => act(e.target, () => openFile(url, name, true)) }, "Tải về"),
    ),
  );
}

export class RecordPanel {
  constructor(sessionId, councilId) {
    this.sessionId = sessionId;
    this.councilId = councilId;
    this.base = `/api/sessions/${encodeURIComponent(sessionId)}/record`;
    this.loaded = false;
    this.closed = null;
  }

  /** Called on every state change; loads the forms once, and the documents when the session closes. */
  render(state) {
    if (!this.loaded) {
      this.loaded = true;
      this.loadForms(state);
    }
    const closed = state.hall.status === "closed";
    if (closed !== this.closed) {
      this.closed = closed;
      this.renderDocuments();
    }
  }

  async loadForms(state) {
    const settings = await api("GET", `/api/councils/${encodeURIComponent(this.councilId)}/record-settings`).catch(() => null);
    const session = await api("GET", `${this.base}/settings`).catch(() => ({}));
    const drafts = await api("GET", `${this.base}/drafts`).catch(() => ({}));
    const c = settings || {};
    fill(
      "#record-council",
      h("h3", {}, "Thiết lập của Hội đồng"),
      field("rc-body", "Cơ quan ban hành", unlines(c.body_lines), { area: true, hint: "mỗi dòng một dòng in" }),
      field("rc-council", "Tên Hội đồng trong văn bản", c.council_name),
      field("rc-place", "Địa danh ghi trước ngày tháng", c.place_name),
      field("rc-term", "Khóa", c.term_label, { hint: "ví dụ: khóa XI" }),
      field("rc-chair", "Chủ tịch (người ký)", c.chair_name),
      field("rc-bases", "Căn cứ", unlines(c.bases), { area: true, hint: "mỗi dòng một căn cứ" }),
      field("rc-recipients", "Nơi nhận", unlines(c.recipients), { area: true, hint: "mỗi dòng một nơi" }),
      h("div", { class: "actions" }, h("button", { class: "primary", type: "button", id: "rc-save", onclick: (e) => this.saveCouncil(e.target, c) }, "Lưu thiết lập Hội đồng")),
    );
    fill(
      "#record-session",
      h("h3", {}, "Thiết lập của kỳ họp"),
      field("rs-ordinal", "Kỳ họp thứ", session.session_ordinal, { hint: "ví dụ: thứ Tư" }),
      field("rs-secretary", "Thư ký kỳ họp", session.secretary_name),
      field("rs-number", "Số biên bản", session.minutes_number, { hint: "ví dụ: 01/BB-HĐND" }),
      h("div", { class: "actions" }, h("button", { class: "primary", type: "button", id: "rs-save", onclick: (e) => this.saveSession(e.target, session) }, "Lưu thiết lập kỳ họp")),
    );
    const items = state.agenda.order.map((id) => state.agenda.items[id]).filter((i) => i.kind === "resolution");
    fill(
      "#record-drafts",
      h("h3", {}, "Dự thảo nghị quyết"),
      items.length
        ? items.map((item) => this.draftForm(item, drafts[item.id] || {}))
        : h("p", { class: "muted" }, "Chương trình chưa có dự thảo nghị quyết."),
    );
  }

  draftForm(item, d) {
    const p = `rd-${item.id}`;
    return h(
      "details",
      { class: "draft", dataset: { item: item.id }, open: !(d.articles || []).length },
      h("summary", {}, item.title, (d.articles || []).length ? h("small", {}, ` · ${d.articles.length} điều`) : h("small", { class: "warn-text" }, " · chưa có nội dung")),
      field(`${p}-summary`, "Trích yếu", d.summary, { hint: "để trống: theo tên nội dung" }),
      field(`${p}-bases`, "Căn cứ riêng", unlines(d.bases), { area: true }),
      field(`${p}-considering`, "Xét", unlines(d.considering), { area: true }),
      field(`${p}-articles`, "Các điều", articlesText(d.articles), { area: true, hint: "mỗi điều một đoạn, cách nhau một dòng trống; dòng đầu là tên điều" }),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            class: "primary",
            type: "button",
            onclick: (e) =>
              act(
                e.target,
                async () => {
                  const body = {
                    summary: val(`${p}-summary`),
                    bases: lines($(`#${p}-bases`).value),
                    considering: lines($(`#${p}-considering`).value),
                    articles: parseArticles($(`#${p}-articles`).value),
                    recipients: d.recipients || [],
                  };
                  await api("PUT", `${this.base}/drafts/${encodeURIComponent(item.id)}`, body);
                  this.renderDocuments(); // the documents change with the text
                },
                "Đã lưu dự thảo nghị quyết.",
              ),
          },
          "Lưu dự thảo",
        ),
      ),
    );
  }

  saveCouncil(button, old) {
    return act(
      button,
      async () => {
        await api("PUT", `/api/councils/${encodeURIComponent(this.councilId)}/record-settings`, {
          body_lines: lines($("#rc-body").value),
          council_name: val("rc-council"),
          place_name: val("rc-place"),
          term_label: val("rc-term"),
          chair_name: val("rc-chair"),
          chair_title: old.chair_title || "CHỦ TỊCH",
          bases: lines($("#rc-bases").value),
          recipients: lines($("#rc-recipients").value),
        });
        this.renderDocuments();
      },
      "Đã lưu thiết lập của Hội đồng.",
    );
  }

  saveSession(button, old) {
    return act(
      button,
      async () => {
        await api("PUT", `${this.base}/settings`, {
          ...old,
          session_ordinal: val("rs-ordinal"),
          secretary_name: val("rs-secretary"),
          minutes_number: val("rs-number"),
        });
        this.renderDocuments();
      },
      "Đã lưu thiết lập của kỳ họp.",
    );
  }

  async renderDocuments() {
    if (!this.closed) {
      fill("#record-files", h("p", { class: "banner info" }, "Hồ sơ (nghị quyết, biên bản, biên bản kiểm phiếu, tệp lưu trữ) được lập sau khi bế mạc kỳ họp."));
      return;
    }
    let index;
    try {
      index = await api("GET", this.base);
    } catch (err) {
      fill("#record-files", h("p", { class: "banner bad" }, err.message_vi, h("small", {}, ` (${err.message_en})`)));
      return;
    }
    const files = this.base + "/files/";
    fill(
      "#record-files",
      index.missing_drafts.length
        ? h("p", { class: "banner warn" }, `Còn thiếu nội dung dự thảo của: ${index.missing_drafts.join(", ")}.`)
        : null,
      h(
        "div",
        { class: "actions" },
        h("button", { class: "primary", type: "button", id: "record-build", onclick: (e) => this.build(e.target) }, "Lập hồ sơ"),
        h("button", { type: "button", id: "record-archive", onclick: (e) => act(e.target, () => openFile(`${this.base}/archive`, `ho-so-${this.sessionId}.zip`, true)) }, "Tải tệp lưu trữ (.zip)"),
      ),
      h("div", { id: "record-built" }),
      h(
        "ul",
        { class: "plain record-list" },
        index.resolutions.map((r) =>
          fileRow(
            h("span", {}, h("strong", {}, `Nghị quyết số ${r.number}`), ` — ${r.title}`, r.has_draft ? "" : h("small", { class: "warn-text" }, " (chưa có nội dung)")),
            r.pdf,
            `nghi-quyet-${r.ref}.pdf`,
          ),
        ),
        fileRow(h("strong", {}, "Biên bản kỳ họp"), `${files}pdf/bien-ban-ky-hop.pdf`, "bien-ban-ky-hop.pdf"),
        index.count_records.map((c) => fileRow(h("span", {}, h("strong", {}, "Biên bản kiểm phiếu"), ` — ${c.summary}`), c.pdf, `bien-ban-kiem-phieu-${c.subject_id}.pdf`)),
        index.resolutions.map((r) => fileRow(`Nghị quyết số ${r.number} (Akoma Ntoso XML)`, r.akn, `nghi-quyet-${r.ref}.xml`)),
        fileRow("Biên bản kỳ họp (Akoma Ntoso XML)", `${files}akn/bien-ban-ky-hop.xml`, "bien-ban-ky-hop.xml"),
        fileRow("Dữ liệu kỳ họp (JSON)", `${files}data/ky-hop.json`, "ky-hop.json"),
        fileRow("Kết quả biểu quyết (CSV)", `${files}data/bieu-quyet.csv`, "bieu-quyet.csv"),
        fileRow("Điểm danh (CSV)", `${files}data/diem-danh.csv`, "diem-danh.csv"),
      ),
    );
  }

  build(button) {
    return act(
      button,
      async () => {
        const out = await api("POST", `${this.base}/build`);
        fill(
          "#record-built",
          h(
            "div",
            { class: "banner ok" },
            `Đã lập hồ sơ: ${out.parts.length} tệp. Dấu vân tay (SHA-256 của SHA256SUMS): `,
            h("code", { class: "receipt" }, out.fingerprint),
          ),
        );
      },
      "Đã lập hồ sơ kỳ họp.",
    );
  }
}

// --- the public page: the adopted resolutions and the minutes, once the session has closed ---
export async function publicRecord(sessionId) {
  const out = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/public-record`, undefined, { token: null });
  return h(
    "ul",
    { class: "plain record-list", id: "record-list" },
    out.resolutions.map((r) =>
      h("li", {}, h("a", { class: "button", href: r.pdf, target: "_blank", rel: "noopener" }, `Nghị quyết số ${r.number}`), h("span", {}, ` ${r.title}`)),
    ),
    h("li", {}, h("a", { class: "button", href: out.minutes_pdf, target: "_blank", rel: "noopener" }, "Biên bản kỳ họp"), h("span", {}, ` ${out.title}`)),
  );
}
