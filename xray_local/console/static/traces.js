// The trace list: a filter expression, the matching traces (sortable), counts by status and URL.
"use strict";
(function () {
  const XC = window.XC;
  const input = document.getElementById("filter");
  const errorBox = document.getElementById("filter-error");
  const tbody = document.querySelector("#trace-table tbody");
  const emptyNote = document.getElementById("traces-empty");
  const headers = Array.from(document.querySelectorAll("#trace-table th[data-sort]"));
  let sortKey = "time", sortDir = -1, rows = [];

  input.value = XC.params.get("filter") || "";

  function quote(text) { return '"' + String(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"'; }

  function compare(a, b) {
    const x = a[sortKey], y = b[sortKey];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * sortDir;
  }

  function renderRows() {
    XC.clear(tbody);
    for (const h of headers) {
      h.setAttribute("aria-sort", h.dataset.sort === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
    }
    const sorted = rows.slice().sort(compare);
    for (const r of sorted) {
      const href = "/traces/" + encodeURIComponent(r.id) + "?" + new URLSearchParams(XC.range.query()).toString();
      const tr = XC.el("tr", { "data-trace-id": r.id, "data-status": r.status, class: "outcome-" + r.outcome }, tbody);
      XC.el("td", { title: XC.fmt.dateTime(r.time) }, tr, XC.fmt.time(r.time));
      XC.el("td", {}, tr, r.method || "–");
      XC.el("td", { class: "url", title: r.url || "" }, tr, r.url || "–");
      const status = XC.el("td", {}, tr);
      XC.el("span", { class: "pill " + r.outcome }, status, r.status === null ? "–" : r.status);
      XC.el("td", { class: "num" }, tr, XC.fmt.ms(r.response_time));
      const idCell = XC.el("td", {}, tr);
      XC.el("a", { href: href, class: "trace-link" }, idCell, r.id);
      tr.addEventListener("click", (ev) => { if (ev.target.tagName !== "A") location.href = href; });
    }
    emptyNote.hidden = rows.length > 0;
  }

  function renderGroup(tableId, items, toFilter) {
    const body = document.querySelector("#" + tableId + " tbody");
    XC.clear(body);
    if (!items.length) { const tr = XC.el("tr", {}, body); XC.el("td", { class: "muted" }, tr, "–"); return; }
    for (const item of items.slice(0, 8)) {
      const tr = XC.el("tr", {}, body);
      const label = XC.el("td", {}, tr);
      const value = item.value === null ? "(none)" : String(item.value);
      if (item.value !== null) {
        const a = XC.el("a", { href: "#", title: "Filter by " + toFilter(item.value) }, label, value);
        a.addEventListener("click", (ev) => { ev.preventDefault(); input.value = toFilter(item.value); submit(); });
      } else {
        label.textContent = value;
      }
      XC.el("td", { class: "count" }, tr, item.count);
    }
  }

  function showInvalid(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    input.classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
  }

  function clearInvalid() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    input.classList.remove("invalid");
    input.removeAttribute("aria-invalid");
  }

  async function load() {
    const w = XC.range.window();
    const result = await XC.api("/console/api/traces", { filter: input.value.trim(), group: XC.group.param(), start: w.start, end: w.end });
    if (!result.ok) {
      const down = XC.reportError(result);
      if (down) return "unavailable";
      showInvalid(result.body.message || "The X-Ray API refused the query.");
      rows = [];
      renderRows();
      emptyNote.hidden = true;
      document.getElementById("trace-count").textContent = "–";
      document.body.dataset.loaded = "error";
      return "error";
    }
    XC.banner.hide();
    clearInvalid();
    const data = result.body;
    rows = data.traces;
    renderRows();
    renderGroup("by-status", data.by_status, (v) => "http.status = " + v);
    renderGroup("by-url", data.by_url, (v) => "http.url = " + quote(v));
    document.getElementById("trace-count").textContent = data.count + (data.count === 1 ? " trace" : " traces");
    document.getElementById("trace-note").textContent = (data.group !== "Default" ? "group: " + data.group + " · " : "") +
      (data.filter ? "filter: " + data.filter : "no filter") +
      " · " + data.processed + " scanned" + (data.truncated ? " · showing the first " + data.count : "");
    document.body.dataset.loaded = "traces";
    return "ok";
  }

  const poll = XC.poller(load, 15000);

  function submit() {
    XC.pushQuery({ filter: input.value.trim() });
    poll.run();
  }

  document.getElementById("filter-form").addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
  document.getElementById("filter-clear").addEventListener("click", () => { input.value = ""; submit(); });
  for (const button of document.querySelectorAll(".example")) {
    button.addEventListener("click", () => { input.value = button.dataset.filter; submit(); });
  }
  for (const h of headers) {
    h.querySelector("button").addEventListener("click", () => {
      if (sortKey === h.dataset.sort) sortDir = -sortDir;
      else { sortKey = h.dataset.sort; sortDir = sortKey === "time" || sortKey === "response_time" ? -1 : 1; }
      renderRows();
    });
  }
  XC.bindRange(submit);
  XC.bindGroups(submit);
  poll.run();
})();
