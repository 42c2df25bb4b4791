// The signup form: posts form-encoded like a classic form, shows the answer inline.
"use strict";
(function () {
  const form = document.getElementById("signup-form");
  const result = document.getElementById("signup-result");
  const themeSelect = document.getElementById("theme");

  themeSelect.addEventListener("change", function () {
    document.documentElement.dataset.theme = themeSelect.value;
  });

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
    if (status === 413) return ["warn", "That is too much text."];
    if (status === 429) return ["error", "Too many signups right now; try again in a moment."];
    if (status === 503) return ["error", "Signups are unavailable right now; try again shortly."];
    return ["error", "Something went wrong on our side (" + status + ")."];
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const button = document.getElementById("signup-submit");
    button.disabled = true;
    show("pending", "Signing up...");
    try {
      const response = await fetch("/signup", {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "Accept": "application/json" },
      });
      let body = {};
      try { body = await response.json(); } catch (e) { body = {}; }
      const traceId = window.TraceLinks.rootFromHeader(response.headers.get("X-Amzn-Trace-Id"));
      const [kind, text] = describe(response.status, body);
      show(kind, text, traceId);
    } catch (e) {
      show("error", "The service could not be reached.");
    } finally {
      button.disabled = false;
    }
  });
})();
