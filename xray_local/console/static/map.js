// The service map: nodes left to right by depth, a ring per node with its outcome shares, edges
// with their own statistics, a side panel with a node's statistics and response-time histogram.
"use strict";
(function () {
  const XC = window.XC, XL = window.XL;
  const svgEl = document.getElementById("map-svg");
  const empty = document.getElementById("map-empty");
  const panel = document.getElementById("node-panel");
  const OUTCOMES = ["ok", "error", "throttle", "fault"];
  const COL = 260, ROW = 165, R = 38, RING = 8, PAD = 40;
  let selectedKey = null;
  let lastData = null;
  let logsFor = null;

  function keyOf(node) { return node.name + "|" + (node.type || ""); }

  function worst(stats) {
    if (stats.fault) return "fault";
    if (stats.throttle) return "throttle";
    if (stats.error) return "error";
    return "ok";
  }

  function kindLabel(node) {
    if (node.client) return "client";
    if (node.type) return node.type;
    return "service";
  }

  function truncate(text, max) { return text.length > max ? text.slice(0, max - 1) + "…" : text; }

  function ring(group, cx, cy, stats) {
    const r = R - RING / 2;
    const c = 2 * Math.PI * r;
    XC.svg("circle", { cx, cy, r, class: "ring-bg", "stroke-width": RING }, group);
    if (!stats.total) return;
    let offset = 0;
    for (const outcome of OUTCOMES) {
      const count = stats[outcome];
      if (!count) continue;
      const len = c * count / stats.total;
      XC.svg("circle", {
        cx, cy, r, class: "seg " + outcome, "stroke-width": RING,
        "stroke-dasharray": len + " " + (c - len), "stroke-dashoffset": -offset,
        transform: "rotate(-90 " + cx + " " + cy + ")",
      }, group);
      offset += len;
    }
  }

  function layout(data) {
    const perColumn = {};
    for (const n of data.nodes) perColumn[n.depth] = Math.max(perColumn[n.depth] || 0, n.row + 1);
    const rows = Math.max(1, data.rows);
    const pos = {};
    for (const n of data.nodes) {
      const shift = (rows - perColumn[n.depth]) * ROW / 2;
      pos[n.id] = { x: PAD + COL / 2 + n.depth * COL, y: PAD + (n.row + 0.5) * ROW + shift - 10 };
    }
    return { pos, width: PAD * 2 + Math.max(1, data.columns) * COL, height: PAD * 2 + rows * ROW };
  }

  function draw(data) {
    XC.clear(svgEl);
    empty.hidden = data.nodes.length > 0;
    if (!data.nodes.length) { svgEl.setAttribute("width", 0); svgEl.setAttribute("height", 0); return; }
    const { pos, width, height } = layout(data);
    svgEl.setAttribute("width", width);
    svgEl.setAttribute("height", height);
    svgEl.setAttribute("viewBox", "0 0 " + width + " " + height);
    const defs = XC.svg("defs", {}, svgEl);
    const marker = XC.svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    XC.svg("path", { d: "M 0 0 L 10 5 L 0 10 z" }, marker);

    const edgeLayer = XC.svg("g", { class: "edges" }, svgEl);
    const nodeLayer = XC.svg("g", { class: "nodes" }, svgEl);
    for (const e of data.edges) {
      const a = pos[e.source], b = pos[e.target];
      if (!a || !b) continue;
      const x1 = a.x + R, y1 = a.y, x2 = b.x - R - 4, y2 = b.y;
      const mx = (x1 + x2) / 2;
      const path = XC.svg("path", {
        d: "M " + x1 + " " + y1 + " C " + mx + " " + y1 + ", " + mx + " " + y2 + ", " + x2 + " " + y2,
        class: "edge " + worst(e.stats), "marker-end": "url(#arrow)",
      }, edgeLayer);
      XC.svg("title", {}, path, e.stats.total + " requests, " + e.stats.error + " errors, " + e.stats.throttle + " throttled, " + e.stats.fault + " faults");
      const label = XC.fmt.msValue(e.stats.avg_ms) + " · " + XC.fmt.rate(e.stats.per_minute);
      const lx = mx, ly = (y1 + y2) / 2 - 6;
      const bg = XC.svg("rect", { class: "edge-label-bg", x: lx - 44, y: ly - 11, width: 88, height: 15, rx: 3 }, edgeLayer);
      const text = XC.svg("text", { class: "edge-label", x: lx, y: ly, "text-anchor": "middle" }, edgeLayer, label);
      const w = text.getComputedTextLength ? text.getComputedTextLength() : 80;
      bg.setAttribute("x", lx - w / 2 - 4); bg.setAttribute("width", w + 8);
    }
    for (const n of data.nodes) {
      const p = pos[n.id];
      const g = XC.svg("g", {
        class: "node " + n.kind + (keyOf(n) === selectedKey ? " selected" : ""),
        tabindex: 0, role: "button", "data-name": n.name, "data-type": n.type || "",
        "data-outcome": worst(n.stats), "data-errors": n.stats.error, "data-faults": n.stats.fault,
        "data-throttles": n.stats.throttle, "data-total": n.stats.total,
        "aria-label": n.name + " (" + kindLabel(n) + ")",
      }, nodeLayer);
      XC.svg("circle", { cx: p.x, cy: p.y, r: R + 6, class: "disc" }, g);
      ring(g, p.x, p.y, n.stats);
      XC.svg("text", { x: p.x, y: p.y - 1, "text-anchor": "middle", class: "value" }, g, XC.fmt.msValue(n.stats.avg_ms));
      XC.svg("text", { x: p.x, y: p.y + 14, "text-anchor": "middle", class: "rate" }, g, XC.fmt.rate(n.stats.per_minute));
      const name = XC.svg("text", { x: p.x, y: p.y + R + 24, "text-anchor": "middle", class: "label" }, g, truncate(n.name, 30));
      XC.svg("title", {}, name, n.name);
      XC.svg("text", { x: p.x, y: p.y + R + 40, "text-anchor": "middle", class: "kind" }, g, kindLabel(n));
      g.addEventListener("click", () => select(n));
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(n); } });
    }
  }

  function histogram(svgNode, items) {
    XC.clear(svgNode);
    const W = 320, H = 150, L = 34, B = 24, T = 10;
    svgNode.setAttribute("viewBox", "0 0 " + W + " " + H);
    if (!items.length) { XC.svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, svgNode, "no requests"); return; }
    const values = items.map((i) => i.value * 1000);
    const lo = Math.min(...values), hi = Math.max(...values);
    const bins = hi === lo ? 1 : Math.min(20, Math.max(10, items.length));
    const width = (hi - lo) / bins || 1;
    const counts = new Array(bins).fill(0);
    for (const item of items) {
      const idx = Math.min(bins - 1, Math.floor((item.value * 1000 - lo) / width));
      counts[idx] += item.count;
    }
    const max = Math.max(...counts);
    const bw = (W - L - 8) / bins;
    XC.svg("line", { x1: L, y1: H - B, x2: W - 4, y2: H - B, class: "axis" }, svgNode);
    XC.svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }, svgNode);
    counts.forEach((count, i) => {
      if (!count) return;
      const h = (H - B - T) * count / max;
      const bar = XC.svg("rect", { x: L + i * bw + 1, y: H - B - h, width: Math.max(1, bw - 2), height: h, class: "bar" }, svgNode);
      const from = lo + i * width;
      XC.svg("title", {}, bar, count + " requests, " + from.toFixed(1) + "–" + (from + width).toFixed(1) + " ms");
    });
    XC.svg("text", { x: L, y: H - 8, "text-anchor": "start" }, svgNode, XC.fmt.msValue(lo));
    XC.svg("text", { x: W - 4, y: H - 8, "text-anchor": "end" }, svgNode, XC.fmt.msValue(hi === lo ? lo + width : hi));
    XC.svg("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, svgNode, max);
    XC.svg("text", { x: L - 4, y: H - B, "text-anchor": "end" }, svgNode, 0);
    XC.svg("text", { x: (L + W) / 2, y: H - 8, "text-anchor": "middle" }, svgNode, "response time");
  }

  // Requests a period by outcome (stacked bars, left axis) and the average response time (line,
  // right axis), from GetTimeSeriesServiceStatistics; every period of the range has a slot.
  function seriesChart(svgNode, data) {
    XC.clear(svgNode);
    const W = 320, H = 170, L = 30, R = 40, B = 24, T = 10;
    svgNode.setAttribute("viewBox", "0 0 " + W + " " + H);
    const points = data.points;
    const total = points.reduce((n, p) => n + p.total, 0);
    svgNode.dataset.total = String(total);
    svgNode.dataset.points = String(points.length);
    svgNode.dataset.period = String(data.period);
    if (!total) { XC.svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, svgNode, "no requests"); return; }
    const maxCount = Math.max(...points.map((p) => p.total));
    const times = points.filter((p) => p.avg_ms !== null).map((p) => p.avg_ms);
    const maxMs = Math.max(...times, 0.001);
    const slot = (W - L - R) / points.length;
    const y = (count) => (H - B) - (H - B - T) * count / maxCount;
    XC.svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }, svgNode);
    XC.svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }, svgNode);
    XC.svg("line", { x1: W - R, y1: T, x2: W - R, y2: H - B, class: "axis" }, svgNode);
    const line = [];
    points.forEach((p, i) => {
      const x = L + i * slot;
      let base = 0;
      for (const outcome of OUTCOMES) {
        if (!p[outcome]) continue;
        const bar = XC.svg("rect", {
          x: x + Math.min(1, slot * 0.1), y: y(base + p[outcome]), width: Math.max(1, slot - Math.min(2, slot * 0.2)),
          height: y(base) - y(base + p[outcome]), class: "bar " + outcome, "data-outcome": outcome, "data-count": p[outcome],
        }, svgNode);
        XC.svg("title", {}, bar, XC.fmt.time(p.t).slice(0, 5) + " · " + p.total + " requests: " + p.ok + " OK, " + p.error +
          " errors, " + p.throttle + " throttled, " + p.fault + " faults · avg " + XC.fmt.msValue(p.avg_ms));
        base += p[outcome];
      }
      if (p.avg_ms !== null) line.push((x + slot / 2) + "," + ((H - B) - (H - B - T) * p.avg_ms / maxMs));
    });
    if (line.length) XC.svg("polyline", { points: line.join(" "), class: "rt-line" }, svgNode);
    XC.svg("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, svgNode, maxCount);
    XC.svg("text", { x: L - 4, y: H - B, "text-anchor": "end" }, svgNode, 0);
    XC.svg("text", { x: W - R + 4, y: T + 8, "text-anchor": "start", class: "rt" }, svgNode, XC.fmt.msValue(maxMs));
    XC.svg("text", { x: L, y: H - 8, "text-anchor": "start" }, svgNode, XC.fmt.time(points[0].t).slice(0, 5));
    XC.svg("text", { x: W - R, y: H - 8, "text-anchor": "end" }, svgNode, XC.fmt.time(points[points.length - 1].t + data.period).slice(0, 5));
    XC.svg("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle" }, svgNode, "per " + (data.period / 60) + " min");
  }

  // The node's statistics over the range; a newer request wins over an older one still running.
  let seriesAsked = 0;
  async function loadSeries(node) {
    const asked = ++seriesAsked;
    const note = document.getElementById("node-series-note");
    const w = XC.range.window();
    const result = await XC.api("/console/api/timeseries", {
      name: node.client ? "" : node.name, type: node.type || "", group: XC.group.param(), start: w.start, end: w.end,
    });
    if (asked !== seriesAsked) return;
    const chart = document.getElementById("node-series");
    if (!result.ok) {
      XC.clear(chart);
      note.textContent = "Statistics over time could not be read: " + (result.body.message || result.status);
      note.hidden = false;
      panel.dataset.series = "error";
      return;
    }
    note.hidden = true;
    seriesChart(chart, result.body);
    panel.dataset.series = "loaded";
  }

  function statRow(table, label, value, outcome) {
    const tr = XC.el("tr", {}, table);
    const th = XC.el("th", {}, tr);
    if (outcome) XC.el("span", { class: "swatch " + outcome }, th);
    th.appendChild(document.createTextNode(label));
    XC.el("td", {}, tr, value);
  }

  function showPanel(node) {
    panel.hidden = false;
    document.getElementById("node-name").textContent = node.name;
    document.getElementById("node-type").textContent = kindLabel(node) + (node.root ? " · entry point" : "");
    const table = document.getElementById("node-stats");
    XC.clear(table);
    const s = node.stats;
    statRow(table, "Requests", s.total);
    statRow(table, "Requests a minute", XC.fmt.rate(s.per_minute));
    statRow(table, "Average response time", XC.fmt.msValue(s.avg_ms));
    statRow(table, " OK", s.ok + " (" + XC.fmt.pct(s.ok, s.total) + ")", "ok");
    statRow(table, " Error (4xx)", s.error + " (" + XC.fmt.pct(s.error, s.total) + ")", "error");
    statRow(table, " Throttle (429)", s.throttle + " (" + XC.fmt.pct(s.throttle, s.total) + ")", "throttle");
    statRow(table, " Fault (5xx)", s.fault + " (" + XC.fmt.pct(s.fault, s.total) + ")", "fault");
    let items = node.histogram;
    if (!items.length && lastData) {  // a client node: its edges carry the distribution
      items = lastData.edges.filter((e) => e.source === node.id).flatMap((e) => e.histogram);
    }
    histogram(document.getElementById("node-histogram"), items);
    loadSeries(node);
    const link = document.getElementById("node-traces");
    link.href = XC.tracesUrl(node.filter);
    link.textContent = node.filter ? "View traces of " + node.name : "View all traces";
    document.getElementById("node-filter").textContent = node.filter || "(none: every trace)";
    const logs = document.getElementById("node-logs");
    logs.hidden = node.kind !== "service";
    if (!logs.hidden && logsFor !== keyOf(node)) { logsFor = keyOf(node); loadNodeLogs(node); }
  }

  // The service's recent log lines (its log group), newest last, each linking to its trace.
  async function loadNodeLogs(node) {
    const list = document.getElementById("node-log-lines");
    const noteEl = document.getElementById("node-log-note");
    const w = XC.range.window();
    const level = document.getElementById("node-log-level").value;
    const result = await XC.api("/console/api/logs", { service: node.name, level: level, start: w.start, end: w.end });
    XC.clear(list);
    if (!result.ok) { noteEl.textContent = "Log lines could not be read: " + (result.body.message || result.status); noteEl.hidden = false; return; }
    for (const line of result.body.lines.slice().reverse()) XL.item(list, line, null, true);
    XL.note(noteEl, result.body, result.body.lines.length ? "" : "No " + (level ? level + " " : "") + "log lines from " + node.name + " in this time range.");
    panel.dataset.logs = String(result.body.lines.length);
  }

  function select(node) {
    selectedKey = keyOf(node);
    for (const g of svgEl.querySelectorAll(".node")) {
      g.classList.toggle("selected", g.dataset.name + "|" + g.dataset.type === selectedKey);
    }
    showPanel(node);
  }

  async function load() {
    const w = XC.range.window();
    const result = await XC.api("/console/api/graph", { group: XC.group.param(), start: w.start, end: w.end });
    if (!result.ok) {
      const down = XC.reportError(result);
      if (!down) XC.banner.show(result.body.message || "The X-Ray API refused the request.", true);
      return down ? "unavailable" : "error";
    }
    XC.banner.hide();
    lastData = result.body;
    draw(lastData);
    const again = lastData.nodes.find((n) => keyOf(n) === selectedKey);
    if (again) showPanel(again); else if (selectedKey) { panel.hidden = true; selectedKey = null; }
    document.body.dataset.loaded = "graph";
    document.body.dataset.group = XC.group.name;
    return "ok";
  }

  document.getElementById("node-log-level").addEventListener("change", () => {
    const node = lastData && lastData.nodes.find((n) => keyOf(n) === selectedKey);
    if (node) loadNodeLogs(node);
  });
  document.getElementById("node-close").addEventListener("click", () => {
    panel.hidden = true; selectedKey = null; logsFor = null;
    for (const g of svgEl.querySelectorAll(".node.selected")) g.classList.remove("selected");
  });
  const poll = XC.poller(load, 10000);
  XC.bindRange(() => { XC.pushQuery(); poll.run(); });
  XC.bindGroups(() => { XC.pushQuery(); poll.run(); });
  poll.run();
})();
