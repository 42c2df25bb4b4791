// One trace: segments and subsegments on a time axis drawn to scale, coloured by outcome; the
// selected one's details (AWS, HTTP, annotations, metadata, exceptions); the raw documents.
"use strict";
(function () {
  const XC = window.XC, XL = window.XL;
  const traceId = document.body.dataset.traceId;
  const svgEl = document.getElementById("timeline-svg");
  const details = document.getElementById("details");
  const message = document.getElementById("trace-message");
  const logList = document.getElementById("log-lines");
  const logNote = document.getElementById("log-note");
  const logCaption = document.getElementById("log-caption");
  const ROW = 30, AXIS = 30;
  let data = null, selected = null, misses = 0;

  document.getElementById("back-to-list").href = "/traces" + location.search;

  function niceStep(span) {
    const raw = span / 6;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return m * mag;
    return 10 * mag;
  }

  // Columns: name (indented by depth, exception type under it) | status | duration | bars.
  const COLS = { name: 8, status: 268, duration: 392, bars: 416 };

  function rowHeight(row) { return row.exceptions.length ? ROW + 14 : ROW; }

  function draw() {
    XC.clear(svgEl);
    const width = Math.max(620, svgEl.parentNode.clientWidth - 28);
    const height = AXIS + data.rows.reduce((h, r) => h + rowHeight(r), 0) + 8;
    svgEl.setAttribute("viewBox", "0 0 " + width + " " + height);
    svgEl.setAttribute("height", height);
    const x0 = COLS.bars, x1 = width - 16;
    const t0 = data.start, span = Math.max(data.end - data.start, 1e-6);
    const scale = (t) => x0 + (t - t0) / span * (x1 - x0);
    XC.svg("text", { x: COLS.name, y: AXIS - 10, class: "tl-head" }, svgEl, "Name");
    XC.svg("text", { x: COLS.status, y: AXIS - 10, class: "tl-head" }, svgEl, "Status");
    XC.svg("text", { x: COLS.duration, y: AXIS - 10, class: "tl-head", "text-anchor": "end" }, svgEl, "Duration");
    const step = niceStep(span * 1000);
    for (let ms = 0; ms <= span * 1000 + 1e-9; ms += step) {
      const x = scale(t0 + ms / 1000);
      XC.svg("line", { x1: x, y1: AXIS - 4, x2: x, y2: height, class: "tl-axis" }, svgEl);
      XC.svg("text", { x: x, y: AXIS - 10, "text-anchor": ms === 0 ? "start" : "middle", class: "tl-tick" }, svgEl, (ms < 10 ? +ms.toFixed(2) : +ms.toFixed(1)) + " ms");
    }
    let y = AXIS;
    for (const row of data.rows) {
      const h = rowHeight(row), mid = y + ROW / 2 + 4;
      const g = XC.svg("g", {
        class: "tl-row" + (row === selected ? " selected" : ""), tabindex: 0, role: "button",
        "data-id": row.id, "data-name": row.name, "data-outcome": row.outcome, "data-status": row.status === null ? "" : row.status,
      }, svgEl);
      XC.svg("rect", { x: 0, y: y, width: width, height: h, class: "hit" }, g);
      const indent = COLS.name + row.depth * 16;
      const label = XC.svg("text", { x: indent, y: mid, class: "tl-name" + (row.segment ? " segment" : "") }, g, row.name);
      if (row.namespace) XC.svg("tspan", { class: "tl-ns", dx: 6 }, label, row.namespace);
      if (row.exceptions.length) {
        const types = row.exceptions.map((e) => e.type || "exception").join(", ");
        XC.svg("text", { x: indent + 2, y: mid + 15, class: "tl-note exception" }, g, "⚠ " + types);
      }
      XC.svg("text", { x: COLS.status, y: mid, class: "tl-status " + row.outcome }, g, row.status === null ? "–" : row.status);
      const end = row.end === null ? data.end : row.end;
      XC.svg("text", { x: COLS.duration, y: mid, "text-anchor": "end", class: "tl-dur" }, g, row.in_progress ? "in progress" : XC.fmt.ms(end - row.start));
      const bx = scale(row.start), bw = Math.max(2, scale(end) - bx);
      const bar = XC.svg("rect", { x: bx, y: y + 8, width: bw, height: ROW - 16, rx: 3, class: "tl-bar " + row.outcome + (row.in_progress ? " in-progress" : "") }, g);
      XC.svg("title", {}, bar, row.name + ": " + XC.fmt.ms(end - row.start) + (row.status !== null ? ", status " + row.status : "") + ", " + row.outcome);
      g.addEventListener("click", () => select(row));
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(row); } });
      y += h;
    }
  }

  function kv(parent, title, pairs) {
    const present = pairs.filter(([, v]) => v !== undefined && v !== null && v !== "");
    if (!present.length) return;
    XC.el("h3", {}, parent, title);
    const table = XC.el("table", { class: "kv" }, parent);
    for (const [k, v] of present) {
      const tr = XC.el("tr", {}, table);
      XC.el("th", {}, tr, k);
      XC.el("td", {}, tr, typeof v === "object" ? JSON.stringify(v) : String(v));
    }
  }

  function showDetails(row) {
    XC.clear(details);
    details.dataset.selected = row.id;
    const d = row.details;
    XC.el("h2", {}, details, row.name);
    kv(details, "Overview", [
      ["Kind", row.segment ? "segment" : "subsegment"],
      ["Name", row.name],
      ["Namespace", row.namespace],
      ["ID", row.id],
      ["Parent", row.parent_id],
      ["Origin", d.origin],
      ["Start", "+" + XC.fmt.ms(row.start - data.start) + " (" + XC.fmt.time(row.start) + ")"],
      ["Duration", row.end === null ? "in progress" : XC.fmt.ms(row.end - row.start)],
      ["Status", row.status],
      ["Outcome", row.outcome],
      ["Flags as sent", row.flags_as_sent],
    ]);
    const aws = d.aws || {};
    const known = ["operation", "table_name", "topic_arn", "region", "request_id", "queue_url", "resource_names"];
    kv(details, "AWS", [
      ["Operation", aws.operation], ["Table name", aws.table_name], ["Topic ARN", aws.topic_arn],
      ["Queue URL", aws.queue_url], ["Region", aws.region], ["Request ID", aws.request_id],
      ...Object.keys(aws).filter((k) => !known.includes(k)).map((k) => [k, aws[k]]),
    ]);
    const http = d.http || {}, req = http.request || {}, res = http.response || {};
    kv(details, "HTTP", [
      ["Method", req.method], ["URL", req.url], ["User agent", req.user_agent],
      ["Client IP", req.client_ip], ["Status", res.status], ["Content length", res.content_length],
    ]);
    kv(details, "Annotations", Object.entries(d.annotations || {}));
    if (d.sql) kv(details, "SQL", Object.entries(d.sql));
    if (d.user) kv(details, "User", [["User", d.user]]);
    if (d.metadata && Object.keys(d.metadata).length) {
      XC.el("h3", {}, details, "Metadata");
      XC.el("pre", {}, details, JSON.stringify(d.metadata, null, 2));
    }
    if (row.exceptions.length) {
      XC.el("h3", {}, details, "Exceptions");
      for (const exc of row.exceptions) {
        const box = XC.el("div", { class: "exception" }, details);
        XC.el("div", { class: "exc-type" }, box, exc.type || "(no type)");
        XC.el("div", { class: "exc-message" }, box, exc.message || "");
        XC.el("div", { class: "muted small" }, box, "remote: " + (exc.remote ? "yes (raised by the called service)" : "no") +
          (exc.id ? " · id " + exc.id : "") + (exc.truncated ? " · " + exc.truncated + " frames truncated" : ""));
        if (exc.stack && exc.stack.length) {
          const ol = XC.el("ol", {}, box);
          for (const f of exc.stack) XC.el("li", {}, ol, (f.label || "?") + "  " + (f.path || "") + ":" + (f.line || ""));
        }
      }
    }
  }

  function select(row) {
    selected = row;
    for (const g of svgEl.querySelectorAll(".tl-row")) g.classList.toggle("selected", g.dataset.id === row.id);
    showDetails(row);
    highlight();
  }

  // Marks the log lines written inside the selected row (see XL.inside).
  function highlight() {
    let count = 0;
    for (const li of logList.querySelectorAll(".log-line")) {
      const on = !!selected && XL.inside(li, selected, data.end);
      li.classList.toggle("hl", on);
      if (on) count += 1;
    }
    logCaption.textContent = selected && logList.children.length
      ? "· " + count + " of " + logList.children.length + " written inside " + selected.name + " (highlighted)"
      : "";
  }

  // The trace's own log lines, from every service in it, in the order they were written.
  async function loadLogs() {
    const services = [...new Set(data.rows.filter((r) => r.segment).map((r) => r.name))];
    const query = services.map((s) => "service=" + encodeURIComponent(s)).join("&");
    const result = await XC.api("/console/api/trace/" + encodeURIComponent(traceId) + "/logs" + (query ? "?" + query : ""));
    XC.clear(logList);
    if (!result.ok) {
      logNote.textContent = "Log lines could not be read: " + (result.body.message || result.status);
      logNote.hidden = false;
      return;
    }
    for (const line of result.body.lines) XL.item(logList, line, data.start, false);
    XL.note(logNote, result.body, result.body.lines.length ? "" : "No log lines name this trace (yet: the service's lines may still be on their way).");
    highlight();
    document.body.dataset.logs = String(result.body.lines.length);
  }

  function summary() {
    const s = data.summary;
    document.getElementById("trace-summary").hidden = false;
    const pill = document.getElementById("summary-status");
    pill.className = "pill " + s.outcome;
    pill.textContent = s.status === null ? s.outcome : s.status;
    document.getElementById("summary-request").textContent = [s.method, s.url].filter(Boolean).join(" ") || s.name || "";
    document.getElementById("summary-meta").textContent = XC.fmt.dateTime(data.start) + " · " +
      XC.fmt.ms(data.end - data.start) + " · " + data.rows.length + " segments and subsegments";
    document.getElementById("raw-json").textContent = JSON.stringify(data.documents, null, 2);
  }

  async function load() {
    const result = await XC.api("/console/api/trace/" + encodeURIComponent(traceId));
    if (!result.ok) {
      if (result.status === 404 && misses < 6) {
        misses += 1;
        XC.banner.hide();
        message.textContent = result.body.message + " Retrying…";
        message.hidden = false;
        return "unavailable";
      }
      const down = XC.reportError(result);
      if (!down) { message.textContent = result.body.message || "The trace could not be read."; message.hidden = false; }
      return down ? "unavailable" : "error";
    }
    XC.banner.hide();
    message.hidden = true;
    const previous = selected ? selected.id : null;
    data = result.body;
    summary();
    selected = data.rows.find((r) => r.id === previous) ||
      data.rows.find((r) => r.exceptions.length) || data.rows[0] || null;
    draw();
    if (selected) showDetails(selected);
    await loadLogs();
    document.body.dataset.loaded = "trace";
    return "ok";
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { if (data) draw(); }, 150); });
  XC.poller(load, 10000).run();
})();
