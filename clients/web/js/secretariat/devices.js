// Device sign-in QR codes: the secretariat picks a hall account, gets a one-time code (10 minutes) as a QR code
// on a printable card, and can revoke a device later (server/device_signin.py).

import { api } from "../api.js";
import { $, ROLE, act, clock, errorBanner, fill, h } from "../ui.js";

const HALL = ["delegate", "chair", "respondent", "committee"]; // server/device_signin.py DEVICE_ROLES

const time = (s) => (s ? clock(new Date(s * 1000).toISOString()) : "");

export class DevicesPanel {
  constructor(councilId, sessionId) {
    this.councilId = councilId;
    this.sessionId = sessionId;
  }

  path(suffix = "") {
    return `/api/councils/${encodeURIComponent(this.councilId)}/devices${suffix}`;
  }

  async loadAccounts() {
    try {
      const accounts = await api("GET", `/api/councils/${encodeURIComponent(this.councilId)}/accounts`);
      const hall = accounts.filter((a) => a.active && a.roles.length && a.roles.every((r) => HALL.includes(r)));
      const sel = $("#device-account");
      const current = sel.value;
      fill(
        sel,
        hall.map((a) =>
          h("option", { value: a.id, selected: a.id === current }, `${a.display_name} · ${a.username} (${a.roles.map((r) => ROLE[r] || r).join(", ")})`),
        ),
      );
    } catch (err) {
      fill("#device-msg", errorBanner(err));
    }
  }

  async loadList() {
    let rows;
    try {
      rows = await api("GET", this.path());
    } catch (err) {
      fill("#device-list", h("li", {}, errorBanner(err)));
      return;
    }
    const now = Date.now() / 1000;
    fill(
      "#device-list",
      rows.length
        ? rows.map((d) => {
            const state = d.revoked_at ? "đã thu hồi" : d.used_at ? `đã đăng nhập lúc ${time(d.used_at)}` : d.expires_at < now ? "hết hạn, chưa dùng" : `chờ quét, hết hạn lúc ${time(d.expires_at)}`;
            return h(
              "li",
              { dataset: { device: d.id } },
              h("span", {}, h("strong", {}, d.display_name), ` · ${d.label || d.username} · `, h("span", { class: `pill ${d.revoked_at ? "bad" : d.used_at ? "ok" : ""}` }, state)),
              d.revoked_at
                ? null
                : h(
                    "button",
                    {
                      type: "button",
                      class: "danger revoke",
                      "aria-label": `Thu hồi thiết bị của ${d.display_name}`,
                      onclick: (e) => act(e.currentTarget, async () => {
                        await api("POST", this.path(`/${encodeURIComponent(d.id)}/revoke`));
                        await this.loadList();
                      }, "Đã thu hồi thiết bị."),
                    },
                    "Thu hồi",
                  ),
            );
          })
        : h("li", { class: "muted" }, "Chưa cấp mã cho thiết bị nào."),
    );
  }

  async make(e) {
    e.preventDefault();
    const account = $("#device-account").value;
    if (!account) {
      fill("#device-msg", h("p", { class: "banner bad" }, "Vui lòng chọn tài khoản cho thiết bị."));
      return;
    }
    await act($("#device-make"), async () => {
      let out;
      try {
        out = await api("POST", this.path(), { account_id: account, label: $("#device-label").value.trim(), session_id: this.sessionId });
      } catch (err) {
        fill("#device-msg", errorBanner(err));
        throw err;
      }
      fill("#device-msg");
      const link = `${location.origin}${out.path}`;
      // The SVG is drawn by this server (segno); as an <img> it can never run anything.
      const img = h("img", { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(out.svg)}`, alt: `Mã QR đăng nhập cho ${out.device.display_name}`, width: 240, height: 240 });
      fill(
        "#device-print",
        h(
          "div",
          { class: "device-card", dataset: { device: out.device.id } },
          h("h3", {}, "Đăng nhập thiết bị — Kỳ họp"),
          img,
          h("p", {}, h("strong", {}, out.device.display_name), out.device.label ? ` · ${out.device.label}` : ""),
          h("p", {}, `Quét mã bằng máy tính bảng trước ${time(out.device.expires_at)}. Mã chỉ dùng được một lần.`),
          h("p", { class: "device-link" }, h("a", { href: link, id: "device-link" }, link)),
          h("div", { class: "actions no-print" }, h("button", { type: "button", class: "primary", onclick: () => window.print() }, "In mã này")),
        ),
      );
      await this.loadList();
    });
  }

  wire() {
    $("#device-form").addEventListener("submit", (e) => this.make(e));
    this.loadAccounts();
    this.loadList();
  }
}
