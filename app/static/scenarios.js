// The failure-scenario panel: shows the current shares and switches them through the app's relay.
"use strict";
(function () {
  const panel = document.getElementById("scenarios");
  if (!panel) return;
  const rows = document.getElementById("scenario-rows");
  const message = document.getElementById("scenario-message");
  const url = panel.dataset.scenariosUrl;

  function say(kind, text) {
    message.className = "result " + kind;
    message.textContent = text;
  }

  function row(setting) {
    const tr = document.createElement("tr");
    tr.dataset.scenario = setting.name;
    const name = document.createElement("td");
    const title = document.createElement("strong");
    title.textContent = setting.name;
    const about = document.createElement("div");
    about.className = "hint";
    about.textContent = setting.description;
    name.append(title, about);
    const service = setting.services ? serviceChoice(setting) : null;
    if (service) {
      const line = document.createElement("div");
      line.className = "hint";
      line.append(document.createTextNode("service "), service);
      name.append(line);
    }
    const shareCell = document.createElement("td");
    const share = document.createElement("input");
    share.type = "number";
    share.min = "0";
    share.max = "100";
    share.step = "5";
    share.value = String(setting.share);
    share.className = "share";
    share.setAttribute("aria-label", setting.name + " share in percent");
    shareCell.append(share, document.createTextNode(" %"));
    const actions = document.createElement("td");
    const apply = document.createElement("button");
    apply.type = "button";
    apply.textContent = "Apply";
    apply.className = "apply";
    apply.addEventListener("click", function () {
      change(setting.name, Number(share.value), service ? service.value : null);
    });
    actions.append(apply);
    tr.append(name, shareCell, actions);
    if (setting.active) tr.classList.add("active");
    return tr;
  }

  // lost-reply and blackhole strike one service: the proxy lists the choices in `services`.
  function serviceChoice(setting) {
    const select = document.createElement("select");
    select.className = "service";
    select.setAttribute("aria-label", setting.name + " service");
    for (const choice of setting.services) {
      const option = document.createElement("option");
      option.value = choice;
      option.textContent = choice;
      option.selected = choice === setting.service;
      select.append(option);
    }
    return select;
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { "Accept": "application/json" } });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.status);
      if (document.activeElement && rows.contains(document.activeElement)) return;
      rows.replaceChildren(...body.scenarios.map(row));
    } catch (e) {
      say("error", "Scenarios unavailable: " + e.message);
    }
  }

  async function change(name, share, service) {
    const changes = service ? { share: share, service: service } : { share: share };
    try {
      const response = await fetch(url + "/" + encodeURIComponent(name), {
        method: "PUT",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(changes),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.status);
      const label = service ? name + " (" + body.service + ")" : name;
      say("ok", body.share
        ? label + " is on for " + body.share + "% of calls."
        : label + " is off.");
      if (document.activeElement) document.activeElement.blur();
      refresh();
    } catch (e) {
      say("error", "Could not change " + name + ": " + e.message);
    }
  }

  refresh();
  setInterval(refresh, 5000);
})();
