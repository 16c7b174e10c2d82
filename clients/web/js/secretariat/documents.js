// Session documents: upload by drag and drop or the file picker (a progress bar per file), per agenda item, with
// kind and access level; publish, replace (a new version), withdraw; register a state-secret document (no file).
// The server's refusal (not a PDF, encrypted, too large…) is shown beside the file it concerns.

import { $, act, fill, h, toast } from "../ui.js";
import { askText, shortId, size, slug } from "./util.js";
import { upload } from "./upload.js";

export const DOC_KIND = {
  submission: "Tờ trình",
  review_report: "Báo cáo thẩm tra",
  draft_resolution: "Dự thảo nghị quyết",
  other: "Tài liệu khác",
};
export const ACCESS = {
  public: "Công khai",
  delegates: "Chỉ đại biểu",
  restricted: "Hạn chế (bản đóng dấu tên từng người)",
  secret: "Mật (đọc tại phòng đọc)",
};
const FILE_ACCESS = ["delegates", "public", "restricted"]; // a secret document never has a file
const WHOLE = "__session__"; // the papers for the whole session (no agenda item)

function select(id, options, value) {
  return h(
    "select",
    { id },
    Object.entries(options).map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
  );
}

function errorText(err) {
  const out = [h("strong", {}, err.message_vi || String(err))];
  if (err.message_en) out.push(h("br"), h("small", {}, err.message_en));
  return out;
}

function isPdfName(file) {
  return /\.pdf$/i.test(file.name) || file.type === "application/pdf";
}

let rows = 0;

export class DocumentsPanel {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.sections = new Map(); // item id (or WHOLE) -> {el, list, queue}
    this.docStatus = new Map(); // document id -> the element that shows its replace progress/message
    this.state = null;
  }

  path(suffix = "") {
    return `/api/sessions/${encodeURIComponent(this.sessionId)}/documents${suffix}`;
  }

  // --- staging one file: title, kind, access, then "Phát hành" uploads it with a progress bar
  stage(itemId, file) {
    rows += 1;
    const n = rows;
    const base = file.name.replace(/\.pdf$/i, "");
    const title = h("input", { id: `q${n}-title`, value: base, maxlength: 500 });
    const kind = select(`q${n}-kind`, DOC_KIND, itemId === WHOLE ? "other" : "submission");
    const access = select(`q${n}-access`, Object.fromEntries(FILE_ACCESS.map((a) => [a, ACCESS[a]])), "delegates");
    const bar = h("progress", { max: 1, value: 0, "aria-label": `Tiến độ tải lên ${file.name}` });
    const msg = h("div", { class: "q-msg", role: "status" });
    const publish = h("button", { class: "primary publish", type: "button" }, "Phát hành");
    const drop = h("button", { class: "drop", type: "button", "aria-label": `Bỏ tệp ${file.name}` }, "Bỏ");
    const li = h(
      "li",
      { class: "queued", dataset: { file: file.name, state: "ready" } },
      h("div", { class: "q-file" }, h("strong", {}, file.name), h("small", {}, ` ${size(file.size)}`)),
      h(
        "div",
        { class: "q-fields" },
        h("div", {}, h("label", { for: title.id }, "Tên tài liệu"), title),
        h("div", {}, h("label", { for: kind.id }, "Loại"), kind),
        h("div", {}, h("label", { for: access.id }, "Mức truy cập"), access),
      ),
      h("div", { class: "q-bar" }, bar, h("span", { class: "q-pct" }, "")),
      msg,
      h("div", { class: "row actions" }, publish, drop),
    );
    if (!isPdfName(file)) {
      // Said at once, but the server still decides (it checks the bytes, not the name).
      fill(msg, h("p", { class: "banner warn" }, "Tệp này có vẻ không phải PDF; máy chủ sẽ kiểm tra khi phát hành."));
    }
    drop.addEventListener("click", () => li.remove());
    publish.addEventListener("click", () => this.publish(itemId, file, li, { title, kind, access, bar, msg, publish, drop }));
    return li;
  }

  async publish(itemId, file, li, f) {
    const title = f.title.value.trim();
    if (!title) {
      fill(f.msg, h("p", { class: "banner bad" }, "Vui lòng nhập tên tài liệu."));
      f.title.focus();
      return;
    }
    const fields = {
      document_id: `${slug(title).slice(0, 40) || "tai-lieu"}-${shortId()}`,
      item_id: itemId === WHOLE ? "" : itemId,
      kind: f.kind.value,
      title,
      access: f.access.value,
    };
    li.dataset.state = "uploading";
    f.publish.disabled = f.drop.disabled = true;
    fill(f.msg);
    const pct = li.querySelector(".q-pct");
    const progress = (x) => {
      f.bar.value = x;
      pct.textContent = `${Math.round(x * 100)}%`;
    };
    try {
      const out = await upload(this.path(), fields, file, progress);
      li.dataset.state = "done";
      li.dataset.document = out.document_id;
      const warn = out.warnings && out.warnings.length;
      fill(
        f.msg,
        h(
          "p",
          { class: `banner ${warn ? "warn" : "ok"}` },
          `Đã phát hành: ${out.pages} trang.`,
          warn ? [" ", out.warnings.map((w) => w.message_vi).join(" ")] : null,
        ),
      );
      f.drop.textContent = "Đóng";
      f.drop.setAttribute("aria-label", `Đóng thông báo về ${file.name}`);
      f.drop.disabled = false;
      f.title.disabled = f.kind.disabled = f.access.disabled = true;
      f.publish.remove();
    } catch (err) {
      li.dataset.state = "refused";
      progress(0);
      fill(f.msg, h("p", { class: "banner bad" }, errorText(err)));
      f.publish.disabled = f.drop.disabled = false;
      f.publish.textContent = "Thử lại";
    }
  }

  // --- a new version of a document
  async replace(doc, file) {
    const status = this.statusOf(doc.id);
    const bar = h("progress", { max: 1, value: 0, "aria-label": `Tiến độ tải bản mới của ${doc.title}` });
    fill(status, h("span", {}, `Đang tải bản mới: ${file.name} `), bar);
    status.dataset.state = "uploading";
    try {
      const out = await upload(this.path(`/${encodeURIComponent(doc.id)}/versions`), {}, file, (x) => {
        bar.value = x;
      });
      status.dataset.state = "done";
      fill(status, h("p", { class: "banner ok" }, `Đã thay bằng bản ${out.version} (${out.pages} trang).`));
    } catch (err) {
      status.dataset.state = "refused";
      fill(status, h("p", { class: "banner bad" }, errorText(err)));
    }
  }

  async withdraw(doc, button) {
    const reason = await askText(h, "Thu hồi tài liệu", `Lý do thu hồi «${doc.title}» (không bắt buộc)`, { okLabel: "Thu hồi" });
    if (reason === null) return;
    await act(button, () => this.live.run({ type: "withdraw_document", document_id: doc.id, reason }), `Đã thu hồi «${doc.title}».`);
  }

  async registerSecret(e) {
    e.preventDefault();
    const title = $("#secret-title").value.trim();
    const msg = $("#secret-msg");
    if (!title) {
      fill(msg, h("p", { class: "banner bad" }, "Vui lòng nhập tên tài liệu mật."));
      $("#secret-title").focus();
      return;
    }
    const pagesText = $("#secret-pages").value.trim();
    if (pagesText && !/^\d{1,5}$/.test(pagesText)) {
      fill(msg, h("p", { class: "banner bad" }, "Số trang phải là số nguyên dương."));
      $("#secret-pages").focus();
      return;
    }
    const item = $("#secret-item").value;
    const fields = {
      document_id: `${slug(title).slice(0, 40) || "mat"}-${shortId()}`,
      item_id: item === WHOLE ? "" : item,
      kind: $("#secret-kind").value,
      title,
      access: "secret",
      pages: pagesText,
      note: $("#secret-note").value.trim(),
    };
    await act(
      $("#secret-add"),
      async () => {
        try {
          await upload(this.path(), fields, null);
        } catch (err) {
          fill(msg, h("p", { class: "banner bad" }, errorText(err)));
          throw err;
        }
        fill(msg);
        $("#secret-title").value = "";
        $("#secret-pages").value = "";
      },
      "Đã đăng ký tài liệu mật (không có tệp).",
    );
  }

  statusOf(docId) {
    let el = this.docStatus.get(docId);
    if (!el) {
      el = h("div", { class: "doc-status", role: "status" });
      this.docStatus.set(docId, el);
    }
    return el;
  }

  docRow(doc) {
    const v = doc.versions[doc.versions.length - 1];
    const secret = doc.access === "secret";
    const picker = h("input", { type: "file", accept: ".pdf,application/pdf", class: "visually-hidden", tabindex: -1, "aria-hidden": "true" });
    picker.addEventListener("change", () => {
      if (picker.files[0]) this.replace(doc, picker.files[0]);
      picker.value = "";
    });
    const li = h(
      "li",
      { class: `doc ${doc.withdrawn ? "withdrawn" : ""}`, dataset: { document: doc.id, version: v.version } },
      h(
        "div",
        { class: "doc-text" },
        h("strong", {}, doc.title),
        h(
          "small",
          {},
          ` ${DOC_KIND[doc.kind] || doc.kind} · ${ACCESS[doc.access] || doc.access} · bản ${v.version}`,
          secret ? (v.pages ? ` · ${v.pages} trang (bản giấy)` : " · bản giấy") : ` · ${v.pages} trang · ${size(v.size)}`,
        ),
        doc.withdrawn ? h("span", { class: "pill bad" }, "đã thu hồi") : null,
        secret && doc.note ? h("small", { class: "doc-note" }, ` ${doc.note}`) : null,
      ),
      doc.withdrawn
        ? null
        : h(
            "div",
            { class: "doc-actions" },
            secret
              ? null
              : h("button", { type: "button", class: "replace", "aria-label": `Thay bản mới cho «${doc.title}»`, onclick: () => picker.click() }, "Thay bản mới"),
            h("button", { type: "button", class: "withdraw danger", "aria-label": `Thu hồi «${doc.title}»`, onclick: (e) => this.withdraw(doc, e.currentTarget) }, "Thu hồi"),
            secret ? null : picker,
          ),
      this.statusOf(doc.id),
    );
    if (!doc.withdrawn && !secret) {
      // A file dropped on a document's row is its new version.
      li.addEventListener("dragover", (e) => {
        if (![...e.dataTransfer.types].includes("Files")) return;
        e.preventDefault();
        li.classList.add("drop-target");
      });
      li.addEventListener("dragleave", () => li.classList.remove("drop-target"));
      li.addEventListener("drop", (e) => {
        if (!e.dataTransfer.files.length) return;
        e.preventDefault();
        e.stopPropagation();
        li.classList.remove("drop-target");
        this.replace(doc, e.dataTransfer.files[0]);
      });
    }
    return li;
  }

  section(key, title) {
    let s = this.sections.get(key);
    if (!s) {
      const heading = h("h3", {});
      const list = h("ul", { class: "doc-list plain" });
      const queue = h("ul", { class: "doc-queue plain" });
      const picker = h("input", {
        type: "file",
        multiple: true,
        accept: ".pdf,application/pdf",
        class: "visually-hidden",
        tabindex: -1,
        "aria-hidden": "true",
      });
      const addFiles = (files) => {
        for (const f of files) queue.append(this.stage(key, f));
        const first = queue.querySelector("li[data-state='ready'] input");
        if (first) first.focus();
      };
      picker.addEventListener("change", () => {
        addFiles([...picker.files]);
        picker.value = "";
      });
      const choose = h("button", { type: "button", class: "choose" }, "Chọn tệp PDF…");
      choose.addEventListener("click", () => picker.click());
      const zone = h(
        "div",
        { class: "dropzone", dataset: { dropItem: key } },
        h("span", {}, "Kéo thả tệp PDF vào đây, hoặc "),
        choose,
        picker,
      );
      zone.addEventListener("dragover", (e) => {
        e.preventDefault();
        zone.classList.add("over");
      });
      zone.addEventListener("dragleave", () => zone.classList.remove("over"));
      zone.addEventListener("drop", (e) => {
        e.preventDefault();
        e.stopPropagation(); // handled here: not the page's "drop it on an item" hint
        zone.classList.remove("over");
        addFiles([...e.dataTransfer.files]);
      });
      const el = h("section", { class: "doc-item", dataset: { docItem: key } }, heading, list, zone, queue);
      s = { el, heading, list, choose };
      this.sections.set(key, s);
    }
    s.heading.textContent = title;
    s.choose.setAttribute("aria-label", `Chọn tệp PDF cho «${title}»`);
    return s;
  }

  render(state, live) {
    this.live = live;
    this.state = state;
    const docs = state.documents ? state.documents.order.map((id) => state.documents.documents[id]).filter(Boolean) : [];
    const keys = [WHOLE, ...state.agenda.order];
    const titles = { [WHOLE]: "Tài liệu chung của kỳ họp" };
    for (const id of state.agenda.order) titles[id] = state.agenda.items[id].title;
    const container = $("#doc-items");
    const wanted = keys.map((k) => {
      const s = this.section(k, titles[k]);
      const mine = docs.filter((d) => (d.item_id || WHOLE) === k);
      fill(s.list, mine.length ? mine.map((d) => this.docRow(d)) : h("li", { class: "muted" }, "Chưa có tài liệu."));
      return s.el;
    });
    for (const [k, s] of this.sections) if (!keys.includes(k)) s.el.remove();
    // Re-append in agenda order: a moved node keeps its staged files and any upload in flight.
    wanted.forEach((el, i) => {
      if (container.children[i] !== el) container.insertBefore(el, container.children[i] || null);
    });
    // the secret form's item list
    const sel = $("#secret-item");
    const current = sel.value;
    fill(sel, keys.map((k) => h("option", { value: k, selected: k === current }, titles[k])));
    $("#documents").classList.toggle("closed", state.hall.status === "closed");
  }

  wire() {
    fill("#secret-kind", Object.entries(DOC_KIND).map(([v, label]) => h("option", { value: v }, label)));
    $("#secret-form").addEventListener("submit", (e) => this.registerSecret(e));
    // A file dropped anywhere else on the page must not navigate away from it.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) toast("Hãy thả tệp vào ô của một nội dung chương trình.", "warn");
    });
  }
}
