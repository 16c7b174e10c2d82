// Dashboards' charts as plain SVG and HTML: one stacked bar per field or agency, each bar an image with its
// numbers spoken in its label, a legend, and the same numbers as a table for screen readers and for copying.

import { h } from "../ui.js";
import { STATUS, STATUS_ORDER } from "./data.js";

const SVG = "http://www.w3.org/2000/svg";

// Status colours with at least 3:1 against white (WCAG 1.4.11 for graphics), told apart by lightness too.
export const COLOUR = {
  received: "#8a5a00",
  classified: "#b07d12",
  assigned: "#1b5fa8",
  answered: "#5a7fc0",
  partly_resolved: "#7b4aa0",
  roadmap: "#00778a",
  resolved: "#1d7a3a",
  not_resolved: "#b3261e",
};

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function spoken(row) {
  const parts = STATUS_ORDER.filter((s) => row.counts[s]).map((s) => `${row.counts[s]} ${STATUS[s].toLowerCase()}`);
  return `${row.name}: ${row.total} — ${parts.join(", ")}`;
}

function bar(row, max) {
  const width = 100;
  const img = svg("svg", { viewBox: `0 0 ${width} 10`, preserveAspectRatio: "none", role: "img", "aria-label": spoken(row), class: "bar" });
  let x = 0;
  for (const s of STATUS_ORDER) {
    const n = row.counts[s] || 0;
    if (!n) continue;
    const w = (n / max) * width;
    const rect = svg("rect", { x, y: 0, width: w, height: 10, fill: COLOUR[s] });
    rect.append(Object.assign(svg("title"), { textContent: `${STATUS[s]}: ${n}` }));
    img.append(rect);
    x += w;
  }
  return img;
}

export function legend(statuses = STATUS_ORDER) {
  return h(
    "ul",
    { class: "legend", "aria-label": "Chú giải màu" },
    statuses.map((s) => h("li", {}, h("span", { class: "swatch", style: `background:${COLOUR[s]}`, "aria-hidden": "true" }), STATUS[s])),
  );
}

/** A stacked bar per row ({key, name, counts, total}); `onPick(row)` makes each row's name a filter link. */
export function stackedBars(title, rowsList, { onPick = null, id = "" } = {}) {
  const max = Math.max(1, ...rowsList.map((r) => r.total));
  const statuses = STATUS_ORDER.filter((s) => rowsList.some((r) => r.counts[s]));
  return h(
    "figure",
    { class: "chart", id: id || null },
    h("figcaption", {}, title),
    h(
      "ul",
      { class: "bars" },
      rowsList.map((r) =>
        h(
          "li",
          { dataset: { key: r.key } },
          onPick ? h("button", { class: "link", onclick: () => onPick(r), title: `Xem danh sách: ${r.name}` }, r.name) : h("span", { class: "name" }, r.name),
          bar(r, max),
          h("span", { class: "num" }, r.total),
        ),
      ),
    ),
    legend(statuses),
    h(
      "details",
      {},
      h("summary", {}, "Xem dạng bảng số liệu"),
      h(
        "div",
        { class: "table-scroll" },
        h(
          "table",
          {},
          h("caption", { class: "sr-only" }, title),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), statuses.map((s) => h("th", { scope: "col", class: "num" }, STATUS[s])), h("th", { scope: "col", class: "num" }, "Tổng"))),
          h(
            "tbody",
            {},
            rowsList.map((r) => h("tr", {}, h("th", { scope: "row" }, r.name), statuses.map((s) => h("td", { class: "num" }, r.counts[s] || 0)), h("td", { class: "num" }, r.total))),
          ),
        ),
      ),
    ),
  );
}

/** Big numbers in a row: [{label, value, tone}] */
export function tiles(list) {
  return h(
    "ul",
    { class: "tiles" },
    list.map((t) => h("li", { class: `tile ${t.tone || ""}`, dataset: { tile: t.key || "" } }, h("span", { class: "big-number" }, t.value), h("span", {}, t.label))),
  );
}
