// The generator panel: Start / Stop through the app's JSON relay, status polled every 2 s.
"use strict";
(function () {
  const panel = document.getElementById("generator");
  if (!panel) return;
  const POLL_MS = 2000;
  const state = document.getElementById("generator-state");
  const rate = document.getElementById("generator-rate");
  const startButton = document.getElementById("generator-start");
  const stopButton = document.getElementById("generator-stop");
  const rows = document.querySelector("#generator-recent tbody");
  const counts = ["sent", "created", "duplicates", "unexpected", "skipped", "retried"];

  function showState(kind, text) {
    state.className = "generator-state " + kind;
    state.textContent = text;
  }

  function since(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return isNaN(date) ? iso : date.toLocaleTimeString();
  }

  function render(status) {
    if (status.running) {
      const scaled = status.rate_scale && status.rate_scale !== 1 ? " (x" + status.rate_scale + ")" : "";
      showState("running", "Running at " + status.rate + " a minute" + scaled + " since " +
        since(status.started_at) +
        (status.stops_at ? " (stops by itself at " + since(status.stops_at) + ")" : ""));
      rate.value = String(Math.round(status.rate));
    } else if (status.started_at) {
      showState("idle", "Idle. The last run started at " + since(status.started_at) + ".");
    } else {
      showState("idle", "Idle. Press Start to send signups.");
    }
    startButton.textContent = status.running ? "Set rate" : "Start";
    stopButton.disabled = !status.running;
    for (const name of counts) {
      document.getElementById("generator-" + name).textContent = String(status[name] || 0);
    }
    rows.replaceChildren(...(status.recent || []).map(row));
  }

  function cell(content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    return td;
  }

  function row(request) {
    const tr = document.createElement("tr");
    if (!request.expected) tr.className = "unexpected";
    const status = cell(request.status ? String(request.status) : "no answer");
    const code = request.status || 0;
    status.className = code === 429 ? "status-429" : "status-" + Math.floor(code / 100) + "xx";
    const trace = request.trace_id ? window.TraceLinks.traceLink(request.trace_id) : "";
    tr.append(cell(since(request.time)), cell(request.kind), status, cell(trace));
    return tr;
  }

  function unreachable(text) {
    showState("unreachable", text || "The traffic generator is not running (the Locust process " +
      "is unreachable). The rest of the page still works.");
    stopButton.disabled = true;
  }

  async function call(method, url, body) {
    const options = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {}; }
    return { ok: response.ok, status: response.status, body: answer };
  }

  async function refresh() {
    try {
      const answer = await call("GET", panel.dataset.statusUrl);
      if (answer.ok) render(answer.body); else unreachable();
    } catch (e) {
      unreachable("The app could not be reached.");
    }
  }

  async function command(url, body) {
    startButton.disabled = true;
    try {
      const answer = await call("POST", url, body);
      if (answer.ok) render(answer.body);
      else if (answer.status === 503) unreachable();
      else showState("unreachable", answer.body.error || ("Error " + answer.status));
    } catch (e) {
      unreachable("The app could not be reached.");
    } finally {
      startButton.disabled = false;
    }
  }

  startButton.addEventListener("click", function () {
    command(panel.dataset.startUrl, { rate: parseInt(rate.value, 10) });
  });
  stopButton.addEventListener("click", function () {
    command(panel.dataset.stopUrl, {});
  });
  refresh();
  setInterval(refresh, POLL_MS);
})();
