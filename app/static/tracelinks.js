// Where a trace id links to: the local console (xray_local) or the AWS X-Ray console.
"use strict";
window.TraceLinks = (function () {
  const body = document.body;
  const consoleUrl = (body.dataset.consoleUrl || "").replace(/\/$/, "");
  const region = body.dataset.region || "us-east-1";
  function consoleHome() {
    if (consoleUrl) return consoleUrl + "/";
    return "https://console.aws.amazon.com/cloudwatch/home?region=" + encodeURIComponent(region) +
      "#xray:service-map/map";
  }
  function traceUrl(traceId) {
    if (consoleUrl) return consoleUrl + "/traces/" + encodeURIComponent(traceId);
    return "https://console.aws.amazon.com/cloudwatch/home?region=" + encodeURIComponent(region) +
      "#xray:traces/" + encodeURIComponent(traceId);
  }
  // "Root=1-5f...;Parent=...;Sampled=1" -> "1-5f..."
  function rootFromHeader(header) {
    if (!header) return null;
    const match = /Root=([0-9a-f-]+)/i.exec(header);
    return match ? match[1] : null;
  }
  function traceLink(traceId) {
    const a = document.createElement("a");
    a.href = traceUrl(traceId);
    a.textContent = traceId;
    a.className = "trace-id";
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }
  const home = document.getElementById("console-link");
  if (home) home.href = consoleHome();
  return { traceUrl: traceUrl, traceLink: traceLink, rootFromHeader: rootFromHeader };
})();
