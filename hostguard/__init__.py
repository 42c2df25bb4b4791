"""Listeners answer only to their own names: the guard against DNS rebinding and cross-site posts.

Binding to 127.0.0.1 keeps other machines out, not other web pages: a page the person visits can
rebind its own name to 127.0.0.1 and then talk to a loopback listener as a same-origin page (read
the traces, start the generator, switch scenarios). What such a request cannot fake is the `Host`
header: the browser sends the page's own name. So every listener the project starts for local use
answers only a `Host` that is a loopback name with its own port (`127.0.0.1:2000`,
`localhost:2000`, `[::1]:2000`) or a name the person added (`--allow-host NAME`, or the
`ALLOWED_HOSTS` environment variable, comma-separated). Anything else is a 421 that changes
nothing and says how to allow a name.

A plain cross-site form or fetch carries the right `Host` (127.0.0.1) but its page's `Origin` and
`Sec-Fetch-Site: cross-site`: every state-changing method (anything but GET, HEAD, OPTIONS) with a
foreign origin is a 403. Tools (boto3, the AWS CLI, the X-Ray SDK, OpenTelemetry's exporter, curl)
send the loopback name they were given and no Origin, so they pass both checks unchanged.

Pure standard library: the app, the generator, the local AWS proxy and xray_local all use it, and
it ships in the Elastic Beanstalk bundle with the app.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ENV_VAR",
    "LOOPBACK_NAMES",
    "HostGuard",
    "HostPolicy",
    "add_allow_host_argument",
    "cross_site_reason",
    "extra_hosts",
    "split_host",
]

#: The names a loopback listener answers to (with its own port).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: Names (or name:port) to allow besides the loopback ones, comma-separated.
ENV_VAR = "ALLOWED_HOSTS"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NAME = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)$")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def split_host(host: str) -> tuple[str, int | None]:
    """`Name:port` -> ("name", port); the name lower-cased, IPv6 kept in brackets."""
    host = host.strip().lower().rstrip(".")
    name, port = host, None
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[: end + 1], host[end + 1 :]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        elif rest:
            name = host  # not a valid bracketed host: never matches a name
    elif host.count(":") == 1:
        name, _, digits = host.partition(":")
        port = int(digits) if digits.isdigit() else -1
    return name.rstrip("."), port


def _entry(text: str) -> str:
    value = text.strip().lower()
    if value == "*":
        return value
    name, port = split_host(value)
    if not _NAME.match(name) or port == -1:
        raise ValueError(f"not a host name or name:port: {text!r}")
    return name if port is None else f"{name}:{port}"


def extra_hosts(
    given: Iterable[str] = (), environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The names a person added: `--allow-host` values and the `ALLOWED_HOSTS` variable."""
    env = os.environ if environ is None else environ
    from_env = [part for part in env.get(ENV_VAR, "").split(",") if part.strip()]
    return tuple(dict.fromkeys(_entry(value) for value in [*given, *from_env]))


@dataclass(frozen=True)
class HostPolicy:
    """Which `Host` values a listener answers. An entry `name:port` allows exactly that; a bare
    `name` allows the name with any port (or none); `*` allows everything."""

    entries: tuple[str, ...]

    @classmethod
    def loopback(cls, port: int, extra: Iterable[str] = ()) -> HostPolicy:
        """A local listener on `port`: its loopback names with that port, plus `extra`."""
        own = [f"{name}:{port}" for name in LOOPBACK_NAMES]
        return cls(tuple(dict.fromkeys([*own, *(_entry(e) for e in extra)])))

    @classmethod
    def of(cls, entries: Iterable[str]) -> HostPolicy:
        return cls(tuple(dict.fromkeys(_entry(e) for e in entries)))

    @property
    def any_host(self) -> bool:
        return "*" in self.entries

    def allows(self, host: str | None) -> bool:
        if self.any_host:
            return True
        if not host:
            return False
        name, port = split_host(host)
        if port == -1:
            return False
        exact = name if port is None else f"{name}:{port}"
        return exact in self.entries or name in self.entries

    def refusal(self, host: str | None) -> str:
        return (
            f"this server answers only to {', '.join(self.entries)}, not to Host {host!r} "
            f"(a guard against DNS rebinding). To reach it by another name, allow that name: "
            f"--allow-host NAME, or {ENV_VAR}=NAME[,NAME...] in the environment."
        )


def cross_site_reason(
    method: str, origin: str | None, fetch_site: str | None, scheme: str, host: str | None
) -> str | None:
    """Why a state-changing request comes from another site, or None when it does not."""
    if method.upper() in _SAFE_METHODS:
        return None
    if fetch_site and fetch_site.lower() not in ("same-origin", "none"):
        return f"a {fetch_site} request (Sec-Fetch-Site) may not change anything here"
    if origin and origin.rstrip("/").lower() != f"{scheme}://{host or ''}".lower():
        return f"a request from {origin} (Origin) may not change anything here"
    return None


class HostGuard:
    """WSGI middleware: 421 for a foreign `Host`, 403 for a cross-site state change.

    `policy` None skips the Host check (a deployment that did not name its hosts); `open_paths`
    answer any Host (a load balancer's health check names the instance by its address);
    `change_paths` (path prefixes) limits the cross-site check to the routes that change state,
    where other routes answer for themselves (a signup form may live on another site); None
    checks every state-changing method on every path.
    """

    def __init__(
        self,
        app: WsgiApp,
        policy: HostPolicy | None,
        open_paths: tuple[str, ...] = (),
        change_paths: tuple[str, ...] | None = None,
    ) -> None:
        self.app = app
        self.policy = policy
        self.open_paths = open_paths
        self.change_paths = change_paths

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        path = str(environ.get("PATH_INFO", ""))
        policy = self.policy
        if policy is not None and path not in self.open_paths and not policy.allows(host):
            return _refuse(start_response, "421 Misdirected Request", policy.refusal(host))
        if self.change_paths is not None and not path.startswith(self.change_paths):
            return self.app(environ, start_response)
        reason = cross_site_reason(
            str(environ.get("REQUEST_METHOD", "GET")),
            environ.get("HTTP_ORIGIN"),
            environ.get("HTTP_SEC_FETCH_SITE"),
            str(environ.get("wsgi.url_scheme", "http")),
            host,
        )
        if reason is not None:
            return _refuse(start_response, "403 Forbidden", reason)
        return self.app(environ, start_response)


def _refuse(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    body = json.dumps({"error": status.split(" ", 1)[1].lower(), "message": message}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            # A refusal is never a page: nothing in it may run, be sniffed or be framed.
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
        ],
    )
    return [body]


def add_allow_host_argument(parser: Any) -> None:
    """`--allow-host NAME` (repeatable) on a command that starts a local listener."""
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help=f"answer requests for this host name too (repeatable; also {ENV_VAR}=a,b): by "
        "default only 127.0.0.1, localhost and [::1] with the listener's own port",
    )
