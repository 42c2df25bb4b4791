// Shared by the console pages: calling /console/api, the "API not answering" banner, the time
// range control, a poller that never stacks requests, SVG and formatting helpers.
"use strict";
window.XC = (function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const REQUEST_TIMEOUT_MS = 20000;

  function el(tag, attrs, parent, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v; else node.setAttribute(k, v === true ? "" : v);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (parent) parent.appendChild(node);
    return node;
  }

  function svg(tag, attrs, parent, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (parent) parent.appendChild(node);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // Calls a console endpoint; always resolves to {ok, status, body} (never throws).
  async function api(path, params) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) {
      if (v !== null && v !== undefined && v !== "") query.set(k, v);
    }
    const url = path + (query.toString() ? "?" + query.toString() : "");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
      let body;
      try { body = await response.json(); } catch (e) { body = { error: "api_error", message: "The console answered " + response.status + " without JSON." }; }
      return { ok: response.ok, status: response.status, body: body };
    } catch (e) {
      return { ok: false, status: 0, body: { error: "unavailable", message: "The console server itself is not answering (" + (e.name === "AbortError" ? "timed out" : e.message) + "); retrying." } };
    } finally {
      clearTimeout(timer);
    }
  }

  // The banner under the top bar: shown while the X-Ray API is not answering.
  const banner = {
    show(message, warn) {
      const node = document.getElementById("api-status");
      node.textContent = message;
      node.classList.toggle("warn", !!warn);
      node.hidden = false;
      document.body.dataset.apiState = "unavailable";
    },
    hide() {
      const node = document.getElementById("api-status");
      node.hidden = true;
      node.textContent = "";
      document.body.dataset.apiState = "ok";
    },
  };

  // Handles an error answer the same way on every page; returns true when it was "unavailable".
  function reportError(result) {
    const body = result.body || {};
    if (body.error === "unavailable" || result.status === 503 || result.status === 0) {
      banner.show(body.message || "The X-Ray API is not answering; retrying.");
      return true;
    }
    banner.hide();
    return false;
  }

  // ---- time range: ?range=MINUTES or ?start=EPOCH&end=EPOCH, kept in the address bar ----
  const params = new URLSearchParams(location.search);
  const range = {
    minutes: 5,
    start: null,
    end: null,
    load() {
      const s = parseFloat(params.get("start") || ""), e = parseFloat(params.get("end") || "");
      if (isFinite(s) && isFinite(e) && s < e) { this.start = s; this.end = e; this.minutes = null; return; }
      const m = parseFloat(params.get("range") || "");
      this.minutes = isFinite(m) && m > 0 ? m : 5;
    },
    window() {
      if (this.minutes === null) return { start: this.start, end: this.end };
      const end = Date.now() / 1000;
      return { start: end - this.minutes * 60, end: end };
    },
    query() {
      return this.minutes === null ? { start: String(this.start), end: String(this.end) } : { range: String(this.minutes) };
    },
    isLive() { return this.minutes !== null; },
  };
  range.load();

  // ---- X-Ray group: ?group=NAME (Default, the whole account, when absent) ----
  const group = {
    name: params.get("group") || "Default",
    param() { return this.name === "Default" ? null : this.name; },
    query() { return this.name === "Default" ? {} : { group: this.name }; },
  };

  // Fills the group selector from GetGroups; `changed()` runs after the person picks another.
  async function bindGroups(changed) {
    const select = document.getElementById("group");
    const shown = document.getElementById("group-filter");
    if (!select) return;
    const filters = {};
    function show() {
      const filter = filters[group.name];
      shown.textContent = filter || "";
      shown.hidden = !filter;
      select.dataset.group = group.name;
    }
    function option(name) {
      if (!Array.from(select.options).some((o) => o.value === name)) el("option", { value: name }, select, name);
    }
    option(group.name);
    select.value = group.name;
    select.addEventListener("change", () => { group.name = select.value; show(); changed(); });
    const result = await api("/console/api/groups");
    if (!result.ok) {
      select.title = "Groups could not be listed: " + (result.body.message || result.status);
      select.dataset.loaded = "error";
      return;
    }
    for (const g of result.body.groups) { filters[g.name] = g.filter; option(g.name); }
    select.value = group.name;
    select.dataset.loaded = "groups";
    show();
  }

  function pushQuery(extra) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(Object.assign({}, range.query(), group.query(), extra || {}))) {
      if (v !== null && v !== undefined && v !== "") q.set(k, v);
    }
    history.replaceState(null, "", location.pathname + "?" + q.toString());
  }

  function toLocalInput(epoch) {
    const d = new Date(epoch * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  // Wires the range control; `changed()` runs after every change.
  function bindRange(changed) {
    const select = document.getElementById("range");
    const custom = document.getElementById("custom-range");
    const startInput = document.getElementById("range-start");
    const endInput = document.getElementById("range-end");
    const known = Array.from(select.options).map((o) => o.value);
    if (range.minutes === null) {
      select.value = "custom";
    } else if (known.includes(String(range.minutes))) {
      select.value = String(range.minutes);
    } else {
      const opt = el("option", { value: String(range.minutes) }, null, "Last " + range.minutes + " minutes");
      select.insertBefore(opt, select.lastElementChild);
      select.value = String(range.minutes);
    }
    function showCustom() {
      const w = range.window();
      startInput.value = toLocalInput(w.start);
      endInput.value = toLocalInput(w.end);
      custom.hidden = false;
    }
    if (range.minutes === null) showCustom();
    select.addEventListener("change", () => {
      if (select.value === "custom") { showCustom(); return; }
      custom.hidden = true;
      range.minutes = parseFloat(select.value);
      changed();
    });
    document.getElementById("range-apply").addEventListener("click", () => {
      const s = new Date(startInput.value).getTime() / 1000, e = new Date(endInput.value).getTime() / 1000;
      if (!(isFinite(s) && isFinite(e) && s < e)) { banner.show("The custom range needs a start before its end.", true); return; }
      range.minutes = null; range.start = s; range.end = e;
      changed();
    });
  }

  // Runs `load()` now, on Refresh, and every `interval` ms while auto-refresh is on or while the
  // API is not answering (so the page recovers by itself). Never more than one load at a time.
  function poller(load, interval) {
    const auto = document.getElementById("auto-refresh");
    const refresh = document.getElementById("refresh");
    const updated = document.getElementById("updated");
    let running = false, timer = null, failing = false, again = false;
    async function run() {
      if (running) { again = true; return; }
      running = true;
      clearTimeout(timer);
      try {
        const state = await load();
        failing = state === "unavailable";
        if (updated) updated.textContent = failing ? "not answering · retrying" : "updated " + new Date().toLocaleTimeString();
      } finally {
        running = false;
      }
      if (again) { again = false; run(); return; }
      schedule();
    }
    function schedule() {
      clearTimeout(timer);
      const on = (auto && auto.checked && range.isLive()) || failing;
      if (on) timer = setTimeout(run, failing ? Math.min(interval, 5000) : interval);
    }
    if (refresh) refresh.addEventListener("click", run);
    if (auto) auto.addEventListener("change", schedule);
    return { run: run };
  }

  const fmt = {
    ms(seconds) {
      if (seconds === null || seconds === undefined) return "–";
      const ms = seconds * 1000;
      if (ms >= 1000) return (ms / 1000).toFixed(2) + " s";
      if (ms >= 100) return ms.toFixed(0) + " ms";
      if (ms >= 10) return ms.toFixed(1) + " ms";
      return ms.toFixed(2) + " ms";
    },
    msValue(ms) {
      if (ms === null || ms === undefined) return "–";
      return fmt.ms(ms / 1000);
    },
    time(epoch) {
      if (!epoch) return "–";
      const d = new Date(epoch * 1000);
      return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
    },
    dateTime(epoch) { return epoch ? new Date(epoch * 1000).toLocaleString([], { hour12: false }) : "–"; },
    pct(part, total) { return total ? (100 * part / total).toFixed(part === total || part === 0 ? 0 : 1) + "%" : "–"; },
    rate(perMinute) {
      if (perMinute === null || perMinute === undefined) return "–";
      return (perMinute >= 10 ? perMinute.toFixed(0) : perMinute.toFixed(1)) + "/min";
    },
  };

  function tracesUrl(filter) {
    const q = new URLSearchParams(Object.assign({}, range.query(), group.query()));
    if (filter) q.set("filter", filter);
    return "/traces?" + q.toString();
  }

  return { el, svg, clear, api, banner, reportError, range, group, bindGroups, bindRange, pushQuery, poller, fmt, tracesUrl, params };
})();
