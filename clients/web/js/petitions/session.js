// The secretariat's "Trình kỳ họp" tab (issue 14 "into the session"): the Front's summary report of voters'
// petitions generated, previewed and published on a session's agenda item (POST …/report/attach), and what the
// earlier term left open carried into this term's register (POST …/carry-over) after a confirm step that says
// what will happen. Only renders what data.js returns.

import { confirmBox, day, fill, h } from "../ui.js";
import { KIND, STATUS } from "./data.js";

const REPORT_ID = (sessionId) => `bc-kien-nghi-${sessionId}`.slice(0, 100); // server/routes_petitions_answers.py
const SESSION_STATUS_VI = { prepared: "chuẩn bị", checkin_open: "đang điểm danh", in_progress: "đang họp", suspended: "tạm dừng" };

function errorText(err) {
  return err && err.message_vi ? [err.message_vi, h("br"), h("small", { lang: "en" }, err.message_en)] : [String(err)];
}

function say(box, kind, ...children) {
  fill(box, h("div", { class: `banner ${kind}`, role: kind === "bad" ? "alert" : "status" }, ...children));
}

/** The report card: session → agenda item → preview → attach, with the result or the refusal. */
export async function reportAttachCard(reg) {
  const card = h("section", { class: "card wide", id: "report-attach" }, h("h2", {}, "Đưa báo cáo tổng hợp kiến nghị vào chương trình kỳ họp"));
  let sessions;
  try {
    // A closed session takes no more documents: this term's sessions still to come or running are offered.
    sessions = (await reg.sessions()).filter((s) => s.status && s.status !== "closed" && (!s.term_id || s.term_id === reg.termId));
  } catch (err) {
    card.append(h("div", { class: "banner bad", role: "alert" }, ...errorText(err)));
    return card;
  }
  if (!sessions.length) {
    card.append(h("p", { class: "muted", id: "ra-none" }, "Nhiệm kỳ này chưa có kỳ họp nào đang chuẩn bị hoặc đang họp."));
    return card;
  }
  // The nearest to come first: the report is presented at the session it was made for.
  sessions.sort((a, b) => (a.opens_on || "").localeCompare(b.opens_on || "") || a.session_id.localeCompare(b.session_id));
  const sessionSel = h(
    "select",
    { id: "ra-session", name: "session" },
    // The date and status first: a long title is cut at the select's edge on a phone.
    sessions.map((s) => h("option", { value: s.session_id }, `${s.opens_on ? `${day(s.opens_on)} · ` : ""}${SESSION_STATUS_VI[s.status] || s.status_vi || s.status} · ${s.title}`)),
  );
  const itemSel = h("select", { id: "ra-item", name: "item", disabled: true }, h("option", { value: "" }, "Đang tải chương trình…"));
  const existing = h("p", { class: "muted", id: "ra-existing", role: "status" });
  const previewBox = h("div", { id: "ra-preview" });
  const result = h("div", { id: "ra-result" });
  const previewBtn = h("button", { type: "button", id: "ra-preview-btn" }, "Xem trước báo cáo (PDF)");
  const attachBtn = h("button", { type: "button", class: "primary", id: "ra-attach", disabled: true }, "Đưa vào chương trình");
  let url = null;

  const chosen = () => sessions.find((s) => s.session_id === sessionSel.value);
  const loadSession = async () => {
    fill(result);
    fill(previewBox);
    fill(existing);
    itemSel.disabled = true;
    attachBtn.disabled = true;
    fill(itemSel, h("option", { value: "" }, "Đang tải chương trình…"));
    const sid = sessionSel.value;
    try {
      const [items, manifest] = await Promise.all([reg.agenda(sid), reg.manifest(sid).catch(() => null)]);
      if (sid !== sessionSel.value) return; // another session was chosen meanwhile
      if (!items.length) {
        fill(itemSel, h("option", { value: "" }, "Chương trình kỳ họp chưa có nội dung nào"));
        return;
      }
      // The Front's report usually has its own item ("…ý kiến, kiến nghị của cử tri"): chosen first when there is one.
      const guess = items.find((i) => /kiến nghị|cử tri/i.test(i.title)) || items[0];
      fill(itemSel, [h("option", { value: "" }, "— chọn nội dung —"), ...items.map((i, n) => h("option", { value: i.id, selected: i.id === guess.id, dataset: { title: i.title } }, `${n + 1}. ${i.title}`))]);
      itemSel.disabled = false;
      attachBtn.disabled = false;
      const doc = manifest?.documents.find((d) => d.document_id === REPORT_ID(sid));
      if (doc) {
        const on = items.find((i) => i.id === doc.item_id);
        fill(existing, `Báo cáo đã có trong chương trình (phiên bản ${doc.version}${on ? `, nội dung «${on.title}»` : ""}); đưa vào lần nữa sẽ thành phiên bản ${doc.version + 1}.`);
      }
    } catch (err) {
      fill(itemSel, h("option", { value: "" }, "Không tải được chương trình"));
      say(result, "bad", ...errorText(err));
    }
  };
  sessionSel.addEventListener("change", loadSession);

  previewBtn.addEventListener("click", async () => {
    previewBtn.disabled = true;
    say(previewBox, "info", "Đang tạo báo cáo…");
    try {
      const blob = await reg.reportPdf(sessionSel.value);
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(blob);
      const name = `bao-cao-kien-nghi-${sessionSel.value}.pdf`;
      fill(
        previewBox,
        h(
          "p",
          { class: "row" },
          h("a", { class: "button", href: url, target: "_blank", rel: "noopener", id: "ra-open" }, "Mở báo cáo"),
          h("a", { class: "button", href: url, download: name, id: "ra-download" }, "Tải về"),
          h("span", { class: "muted" }, `${name} · ${Math.max(1, Math.round(blob.size / 1024))} KB`),
        ),
      );
    } catch (err) {
      say(previewBox, "bad", ...errorText(err));
    } finally {
      previewBtn.disabled = false;
    }
  });

  attachBtn.addEventListener("click", async () => {
    if (!itemSel.value) {
      say(result, "bad", "Vui lòng chọn nội dung trong chương trình kỳ họp.");
      itemSel.focus();
      return;
    }
    const session = chosen();
    const itemTitle = itemSel.selectedOptions[0]?.dataset.title || itemSel.value;
    attachBtn.disabled = true;
    say(result, "info", "Đang tạo và đưa báo cáo vào chương trình…");
    try {
      const out = await reg.attachReport(session.session_id, itemSel.value);
      // The title as the session's documents keep it (what the tablets list).
      const manifest = await reg.manifest(session.session_id).catch(() => null);
      const doc = manifest?.documents.find((d) => d.document_id === out.document_id);
      say(
        result,
        "ok",
        h("strong", {}, "Đã đưa báo cáo vào chương trình kỳ họp."),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Tài liệu"),
          h("dd", {}, `${doc ? doc.title : out.document_id} — phiên bản ${out.version}, ${out.pages} trang, công khai`),
          h("dt", {}, "Nội dung"),
          h("dd", {}, itemTitle),
          h("dt", {}, "Kỳ họp"),
          h("dd", {}, session.title),
        ),
        h("a", { href: `secretariat.html?session=${encodeURIComponent(session.session_id)}`, id: "ra-open-session" }, "Xem tài liệu của kỳ họp"),
      );
      result.querySelector(".banner").dataset.version = String(out.version);
      fill(existing, `Báo cáo đã có trong chương trình (phiên bản ${out.version}); đưa vào lần nữa sẽ thành phiên bản ${out.version + 1}.`);
    } catch (err) {
      say(result, "bad", ...errorText(err));
    } finally {
      attachBtn.disabled = false;
    }
  });

  card.append(
    h(
      "p",
      { class: "muted" },
      "Báo cáo tổng hợp ý kiến, kiến nghị của cử tri (PDF/A, thể thức Nghị định 30) được tạo từ sổ theo dõi và đưa vào tài liệu công khai của nội dung đã chọn; đại biểu nhận trên máy tính bảng.",
    ),
    h("div", { class: "filter-grid" }, h("div", { class: "control" }, h("label", { for: "ra-session" }, "Kỳ họp"), sessionSel), h("div", { class: "control" }, h("label", { for: "ra-item" }, "Nội dung trong chương trình"), itemSel)),
    existing,
    h("div", { class: "row" }, previewBtn, attachBtn),
    previewBox,
    result,
  );
  loadSession();
  return card;
}

function counted(map, labels) {
  return Object.entries(map)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${(labels[k] || k).toLowerCase()}`)
    .join(", ");
}

/** The carry-over card: an earlier term → its counts → confirm → the outcome. */
export function carryOverCard(reg, { onDone = () => {} } = {}) {
  const card = h("section", { class: "card wide", id: "carry-over" }, h("h2", {}, "Chuyển kiến nghị chưa giải quyết từ nhiệm kỳ trước"));
  const terms = Object.values(reg.council?.terms || {})
    .filter((t) => t.id !== reg.termId)
    .sort((a, b) => (b.starts_on || "").localeCompare(a.starts_on || ""));
  const here = reg.council?.terms?.[reg.termId]?.name || reg.termId;
  if (!terms.length) {
    card.append(h("p", { class: "muted" }, `Hội đồng chưa có nhiệm kỳ nào trước ${here}: không có gì để chuyển.`));
    return card;
  }
  const result = h("div", { id: "carry-result" });
  const termSel = h("select", { id: "carry-term", name: "from_term" }, terms.map((t) => h("option", { value: t.id }, t.name || t.id)));
  const button = h("button", { type: "button", class: "primary", id: "carry-start" }, "Xem số lượng và chuyển…");
  button.addEventListener("click", async () => {
    button.disabled = true;
    fill(result);
    const from = termSel.value;
    const fromName = termSel.selectedOptions[0]?.textContent || from;
    try {
      const p = await reg.carryPreview(from);
      const toList = () => h("p", {}, h("button", { type: "button", class: "link", id: "carry-list", onclick: () => onDone() }, "Xem danh sách để phân loại, giao cơ quan"));
      if (!p.to_carry) {
        say(result, "info", `Không còn mục nào để chuyển: ${p.already} mục chưa giải quyết đã được chuyển trước đó, ${p.left_behind} mục đã giải quyết hoặc đã gộp ở lại sổ ${fromName}.`);
        if (p.already) result.append(toList());
        return;
      }
      const body = h(
        "div",
        { id: "carry-confirm" },
        h("p", {}, h("strong", { class: "big-number", dataset: { count: String(p.to_carry) } }, p.to_carry), ` mục chưa giải quyết của ${fromName} sẽ được tiếp nhận lại vào sổ ${here}, giữ mã, nội dung, địa bàn, lĩnh vực và nhóm, kèm liên kết về sổ cũ:`),
        h("ul", {}, h("li", {}, `theo loại: ${counted(p.by_kind, KIND)};`), h("li", {}, `theo trạng thái ở sổ cũ: ${counted(p.by_status, STATUS)}.`)),
        h("p", {}, "Cơ quan, thời hạn và các buổi tiếp xúc cử tri không chuyển theo: nhiệm kỳ mới phân công lại."),
        p.already ? h("p", { class: "muted" }, `${p.already} mục đã chuyển trước đó sẽ không chuyển lại.`) : null,
        h("p", { class: "muted" }, `${p.left_behind} mục đã giải quyết, không giải quyết được hoặc đã gộp ở lại sổ ${fromName}.`),
      );
      if (!(await confirmBox("Chuyển sang nhiệm kỳ mới?", body, `Chuyển ${p.to_carry} mục`, "Hủy"))) {
        say(result, "info", "Chưa chuyển gì.");
        return;
      }
      say(result, "info", `Đang chuyển ${p.to_carry} mục…`);
      const out = await reg.carryOver(from);
      fill(
        result,
        h(
          "div",
          { class: `banner ${out.refused.length ? "warn" : "ok"}`, role: "status", id: "carry-done", dataset: { carried: String(out.carried.length) } },
          h("strong", {}, `Đã chuyển ${out.carried.length} mục sang sổ ${here}.`),
          out.refused.length ? ` ${out.refused.length} mục bị từ chối (xem bảng dưới).` : " Các mục ở trạng thái «Đã tiếp nhận» hoặc «Đã phân loại», chờ giao cơ quan.",
        ),
        out.refused.length
          ? h(
              "table",
              { id: "carry-refused" },
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Thứ tự"), h("th", { scope: "col" }, "Lý do"))),
              h("tbody", {}, out.refused.map((e) => h("tr", {}, h("td", { class: "num" }, e.row), h("td", {}, e.message_vi, h("br"), h("small", { lang: "en" }, e.message_en))))),
            )
          : null,
        toList(),
      );
    } catch (err) {
      say(result, "bad", ...errorText(err));
    } finally {
      button.disabled = false;
    }
  });
  card.append(
    h("p", { class: "muted" }, `Mỗi nhiệm kỳ có sổ theo dõi riêng. Những kiến nghị, cam kết, kết luận giám sát chưa giải quyết xong của nhiệm kỳ trước được chuyển vào sổ ${here} để tiếp tục theo dõi; chạy lại không chuyển trùng.`),
    h("div", { class: "filter-grid" }, h("div", { class: "control" }, h("label", { for: "carry-term" }, "Từ nhiệm kỳ"), termSel)),
    h("div", { class: "row" }, button),
    result,
  );
  return card;
}
