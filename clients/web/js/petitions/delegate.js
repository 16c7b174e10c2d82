// A delegate's own page: the voter meetings of their group (or where they were present) and what became of each
// petition raised there, with the agencies' answers, to report back to the voters.

import { day, fill, h, showError } from "../ui.js";
import { STATUS, TIMING } from "./data.js";
import { detailDialog, dueText, statusPill } from "./items.js";

export class DelegateScreen {
  constructor(reg, account, root) {
    this.reg = reg;
    this.account = account;
    this.root = root;
  }

  tabs() {
    return [["mine", "Kiến nghị của cử tri nơi tôi tiếp xúc"]];
  }

  async show() {
    fill(this.root, h("p", { class: "muted", role: "status" }, "Đang tải…"));
    let page;
    try {
      page = await this.reg.mine();
    } catch (err) {
      fill(this.root);
      showError(err);
      return;
    }
    const byMeeting = new Map();
    for (const item of page.items) {
      for (const s of item.sources) {
        if (!byMeeting.has(s.meeting_id)) byMeeting.set(s.meeting_id, []);
        byMeeting.get(s.meeting_id).push(item);
      }
    }
    const groups = this.reg.info.my_groups.map((g) => this.reg.groups[g]?.name || g);
    const answered = page.items.filter((i) => i.answers.length).length;
    const meetings = this.reg.info.meetings;
    fill(
      this.root,
      h(
        "section",
        { class: "card wide", id: "mine-summary" },
        h("h2", {}, groups.length ? groups.join(", ") : "Các buổi tiếp xúc cử tri"),
        h("p", {}, `${meetings.length} buổi tiếp xúc cử tri · ${page.total} kiến nghị · ${answered} đã có trả lời`),
      ),
      meetings.length
        ? meetings.map((m) => this.meetingCard(m, byMeeting.get(m.id) || []))
        : h("section", { class: "card wide" }, h("p", { class: "muted" }, "Chưa có buổi tiếp xúc cử tri nào của Tổ.")),
    );
  }

  meetingCard(m, items) {
    const present = m.delegates_present.map((d) => this.reg.person(d)).join(", ");
    return h(
      "section",
      { class: "card wide meeting", dataset: { meeting: m.id } },
      h("h2", {}, `${day(m.held_on)} — ${m.place}`),
      h("p", { class: "muted" }, `${TIMING[m.timing]}${m.session_id ? ` ${m.session_id}` : ""} · ${m.voters} cử tri · đại biểu dự: ${present}`),
      items.length
        ? h(
            "ol",
            { class: "mine-items" },
            items.map((i) =>
              h(
                "li",
                { dataset: { item: i.id } },
                h("div", { class: "item-head" }, h("button", { class: "link", onclick: () => this.open(i.id), "aria-label": `Mở ${i.id}` }, i.id), statusPill(i), dueText(i)),
                h("p", {}, i.text),
                i.answers.length
                  ? h("blockquote", { class: "answer" }, h("strong", {}, `${this.reg.agencyName(i.answers.at(-1).agency_id)} trả lời: `), i.answers.at(-1).text)
                  : h(
                      "p",
                      { class: "muted" },
                      i.merged_into ? `Trùng với kiến nghị ${i.merged_into}, theo dõi ở đó.` : i.agency_id ? `Đang chờ ${this.reg.agencyName(i.agency_id)} trả lời.` : `${STATUS[i.status]}.`,
                    ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "Không có kiến nghị."),
    );
  }

  async open(id) {
    try {
      const item = await this.reg.item(id);
      const dlg = detailDialog(this.reg, item, {
        onLink: async (itemId, doc) => {
          try {
            location.href = await this.reg.answerLink(itemId, doc);
          } catch (err) {
            showError(err);
          }
        },
      });
      document.body.append(dlg);
      dlg.showModal();
    } catch (err) {
      showError(err);
    }
  }
}
