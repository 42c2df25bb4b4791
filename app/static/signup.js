// The signup form: posts form-encoded like a classic form, shows the answer inline.
//
// Every logical signup (one set of form values) carries an Idempotency-Key. The key is kept while
// the person resubmits the same values after an answer that did not settle the signup (503, 429,
// another 5xx, or no answer at all), so the service answers the retry what it answered the first
// attempt (201, never a 409 for their own signup); a settling answer (201, 409, 400, 422, ...) or
// any changed value means a new logical signup, and so a new key.
"use strict";
(function () {
  const form = document.getElementById("signup-form");
  const result = document.getElementById("signup-result");
  const themeSelect = document.getElementById("theme");
  // How long to wait for an answer before treating the attempt as unanswered (the service
  // answers within its own time budget, a few seconds, so this is only for a lost connection).
  const ANSWER_TIMEOUT_MS = 30000;
  // The attempt awaiting a settling answer: {values, key}, or null.
  let unsettled = null;
  let inFlight = false;

  themeSelect.addEventListener("change", function () {
    document.documentElement.dataset.theme = themeSelect.value;
  });

  // 128 random bits as 32 hex digits. crypto.getRandomValues, not crypto.randomUUID: the latter
  // exists only in secure contexts, and a fresh Elastic Beanstalk CNAME is served over plain http.
  function newKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  // The form's values, in a form that compares equal exactly when every value is the same.
  function valuesOf(data) {
    return JSON.stringify(Array.from(data.entries(), function (entry) {
      return [entry[0], String(entry[1])];
    }));
  }

  // The key for this submission: the unsettled attempt's if the values are the same, else new.
  function keyFor(values) {
    if (unsettled === null || unsettled.values !== values) {
      unsettled = { values: values, key: newKey() };
    }
    return unsettled.key;
  }

  // Answers after which the same values may be sent again with the same key: the signup may or
  // may not have been stored, and only a retry with the key can tell without a 409.
  function settles(status) {
    return !(status === 408 || status === 429 || status >= 500);
  }

  function show(kind, text, traceId) {
    result.className = "result " + kind;
    result.textContent = text;
    if (traceId) {
      result.appendChild(document.createTextNode(" Trace: "));
      result.appendChild(window.TraceLinks.traceLink(traceId));
    }
  }

  function describe(status, body) {
    if (status === 201) {
      const note = body.notified ? "" : " (the notification could not be sent; it is recorded)";
      return ["ok", "Thanks, " + body.name + "! You are signed up." + note];
    }
    if (status === 409) return ["warn", body.email + " is already on the list."];
    if (status === 400) return ["warn", "Please check " + body.field + ": " + body.reason + "."];
    if (status === 422) {
      return ["warn", "This retry did not match the signup it repeats, so nothing was changed; " +
        "please sign up again."];
    }
    if (status === 413) return ["warn", "That is too much text."];
    if (status === 429) {
      return ["error", "Too many signups right now; try again in a moment " +
        "(retrying will not sign you up twice)."];
    }
    if (status === 503) {
      return ["error", "Signups are unavailable right now; try again shortly " +
        "(retrying will not sign you up twice)."];
    }
    return ["error", "Something went wrong on our side (" + status + ")."];
  }

  async function post(data, key) {
    const controller = new AbortController();
    const timer = setTimeout(function () { controller.abort(); }, ANSWER_TIMEOUT_MS);
    try {
      const response = await fetch("/signup", {
        method: "POST",
        body: new URLSearchParams(data),
        headers: { "Accept": "application/json", "Idempotency-Key": key },
        signal: controller.signal,
      });
      let body = {};
      try { body = await response.json(); } catch (e) { body = {}; }
      return { response: response, body: body };
    } finally {
      clearTimeout(timer);
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (inFlight) return;
    inFlight = true;
    const button = document.getElementById("signup-submit");
    button.disabled = true;
    show("pending", "Signing up...");
    const data = new FormData(form);
    const values = valuesOf(data);
    const key = keyFor(values);
    try {
      const answer = await post(data, key);
      if (settles(answer.response.status) && unsettled !== null && unsettled.key === key) {
        unsettled = null;
      }
      const traceId = window.TraceLinks.rootFromHeader(
        answer.response.headers.get("X-Amzn-Trace-Id"));
      const [kind, text] = describe(answer.response.status, answer.body);
      show(kind, text, traceId);
    } catch (e) {
      show("error", "The service could not be reached; try again " +
        "(retrying will not sign you up twice).");
    } finally {
      inFlight = false;
      button.disabled = false;
    }
  });
})();
