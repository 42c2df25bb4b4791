// Log lines in the console: drawing one line (trace page and the map's node panel) and choosing
// which lines of a trace were written inside a selected segment or subsegment.
"use strict";
window.XL = (function () {
  const XC = window.XC;
  // Detail fields worth a glance after the message (never the whole JSON: that is the tooltip).
  const EXTRA = ["code", "status", "notified", "field", "reason"];

  // Draws one line: `origin` (epoch s) makes the time an offset from the trace's start.
  function item(list, line, origin, withTrace) {
    const level = (line.level || "").toLowerCase();
    const li = XC.el("li", {
      class: "log-line" + (level ? " lvl-" + level : "") + (line.json ? "" : " plain"),
      "data-event": line.event || "", "data-outcome": line.outcome || "",
      "data-level": line.level || "", "data-subsegment-id": line.subsegment_id || "",
      "data-segment-id": line.segment_id || "", "data-time": line.time,
      title: line.json ? JSON.stringify(line.fields, null, 1) : line.text,
    }, list);
    const when = origin === null ? XC.fmt.time(line.time) : "+" + XC.fmt.ms(Math.max(0, line.time - origin));
    XC.el("span", { class: "log-time" }, li, when);
    if (!line.json) { XC.el("span", { class: "log-text" }, li, line.text); return li; }
    XC.el("span", { class: "log-level" }, li, line.level || "–");
    XC.el("span", { class: "log-event" }, li, line.event || "");
    XC.el("span", { class: "log-message" }, li, line.message || "");
    if (line.outcome) XC.el("span", { class: "log-outcome" }, li, line.outcome);
    const extra = EXTRA.filter((k) => line.fields[k] !== undefined && line.fields[k] !== null)
      .map((k) => k + "=" + line.fields[k]).join(" ");
    if (extra) XC.el("span", { class: "log-extra" }, li, extra);
    if (withTrace && line.trace_id) {
      const a = XC.el("a", { class: "log-trace", href: "/traces/" + encodeURIComponent(line.trace_id) + "?" + new URLSearchParams(XC.range.query()).toString() }, li, line.trace_id);
      a.title = "Open the trace that wrote this line";
    }
    return li;
  }

  // A line is inside `row` when it names the row's id, or when it was written during the row.
  function inside(li, row, traceEnd) {
    if (li.dataset.subsegmentId === row.id) return true;
    if (row.segment && li.dataset.segmentId === row.id) return true;
    const t = parseFloat(li.dataset.time);
    const end = row.end === null ? traceEnd : row.end;
    return isFinite(t) && t >= row.start && t <= end;
  }

  function note(node, body, empty) {
    const parts = [];
    if (body.note) parts.push(body.note);
    if (body.missing_groups && body.missing_groups.length) parts.push("No log group " + body.missing_groups.join(", ") + " (nothing shipped there yet).");
    if (!parts.length && empty) parts.push(empty);
    if (body.truncated) parts.push("Only the first lines are shown.");
    node.textContent = parts.join(" ");
    node.hidden = !parts.length;
  }

  return { item, inside, note };
})();
