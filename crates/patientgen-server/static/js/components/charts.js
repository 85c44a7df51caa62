// Small, dependency-free charts drawn with HTML elements (readable by screen
// readers, printable, no canvas needed for a few dozen bars).

import { el } from "./dom.js";

/**
 * A horizontal bar chart of counts, largest first (or in the given order).
 * @param {string} title
 * @param {Record<string, number> | Array<[string, number]>} counts
 * @param {{order?: string[], limit?: number, labels?: Record<string, string>, total?: number}} [options] `total`: shares of this number instead of the sum
 * @returns {HTMLElement}
 */
export function barChart(title, counts, options = {}) {
  /** @type {Array<[string, number]>} */
  let rows = Array.isArray(counts) ? counts.slice() : Object.entries(counts || {});
  if (options.order) {
    const order = options.order;
    rows.sort((a, b) => {
      const ia = order.indexOf(a[0]);
      const ib = order.indexOf(b[0]);
      return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || b[1] - a[1];
    });
  } else {
    rows.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }
  const total = options.total || rows.reduce((s, r) => s + r[1], 0);
  let rest = 0;
  if (options.limit && rows.length > options.limit) {
    rest = rows.slice(options.limit).reduce((s, r) => s + r[1], 0);
    rows = rows.slice(0, options.limit);
    rows.push(["Other", rest]);
  }
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const figure = el("figure", { className: "chart" }, [el("figcaption", {}, [title])]);
  const list = el("dl", { className: "bars" });
  for (const [name, n] of rows) {
    const share = total ? ((100 * n) / total).toFixed(1) : "0.0";
    const label = (options.labels && options.labels[name]) || name;
    list.append(
      el("dt", {}, [label]),
      el("dd", {}, [
        el("span", { className: "bar", style: `width:${((100 * n) / max).toFixed(1)}%` }),
        el("span", { className: "bar-value" }, [`${n.toLocaleString("en")} (${share} %)`]),
      ]),
    );
  }
  figure.append(list);
  return figure;
}

/**
 * Arrival-time percentiles per facility: `{facility: {triage|"all": {count,p50,p90,p99,max}}}`
 * (hours after injury), as a table with a range bar from p50 to p90.
 * @param {Record<string, Record<string, {count:number,p50:number,p90:number,p99:number,max:number}>>} arrival
 * @returns {HTMLElement}
 */
export function arrivalChart(arrival) {
  const facilities = Object.keys(arrival).sort();
  let max = 0;
  for (const f of facilities) for (const s of Object.values(arrival[f])) max = Math.max(max, s.p99 || 0);
  max = max || 1;
  const figure = el("figure", { className: "chart wide" }, [
    el("figcaption", {}, ["Arrival after injury (hours): median, 90th and 99th percentile"]),
  ]);
  const table = el("table", { className: "arrivals" });
  table.append(
    el("thead", {}, [
      el("tr", {}, ["Facility", "Triage", "Patients", "p50", "p90", "p99", "Max", ""].map((h) => el("th", { scope: "col" }, [h]))),
    ]),
  );
  const body = el("tbody");
  const fmt = (/** @type {number} */ h) => (Number.isFinite(h) ? h.toFixed(1) : "–");
  for (const f of facilities) {
    const triages = Object.keys(arrival[f]).sort((a, b) => (a === "all" ? -1 : b === "all" ? 1 : a.localeCompare(b)));
    for (const t of triages) {
      const s = arrival[f][t];
      const left = (100 * s.p50) / max;
      const width = Math.max(0.5, (100 * (Math.min(s.p90, max) - s.p50)) / max);
      body.append(
        el("tr", { className: t === "all" ? "all" : "" }, [
          el("th", { scope: "row" }, [t === "all" ? f : ""]),
          el("td", {}, [t === "all" ? "all" : t]),
          el("td", {}, [String(s.count)]),
          el("td", {}, [fmt(s.p50)]),
          el("td", {}, [fmt(s.p90)]),
          el("td", {}, [fmt(s.p99)]),
          el("td", {}, [fmt(s.max)]),
          el("td", { className: "range-cell" }, [
            el("span", { className: "range", style: `left:${left.toFixed(1)}%;width:${width.toFixed(1)}%` }),
          ]),
        ]),
      );
    }
  }
  table.append(body);
  figure.append(el("div", { className: "table-scroll" }, [table]));
  return figure;
}
