"""Security headers on every answer: the page may load only its own assets and never be framed.

The page uses external JS and CSS files only (no inline script or style), so the policy can be
`'self'` everywhere; trace links to the X-Ray console are plain links, which a CSP does not limit.
`frame-ancestors 'none'` and `X-Frame-Options: DENY` both forbid framing (old browsers read only
the latter), so the Start button cannot be clickjacked. API answers get the same headers: they are
cheap, and a JSON answer opened directly in a browser must not be sniffed as HTML either.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from hostguard import cross_site_reason

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "init_security_headers",
    "refuse_cross_site",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(_add_headers)


def refuse_cross_site() -> tuple[Response, int] | None:
    """A blueprint's `before_request` for routes that change state: a page on another site (a
    foreign Origin or Sec-Fetch-Site) may not start the generator or switch a scenario, even
    through the person's own browser. Runs after routing, so a wrong method is still a 405."""
    reason = cross_site_reason(
        request.method,
        request.headers.get("Origin"),
        request.headers.get("Sec-Fetch-Site"),
        request.scheme,
        request.host,
    )
    if reason is None:
        return None
    return jsonify({"error": "forbidden", "message": reason}), 403
