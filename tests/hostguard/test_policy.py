"""The Host and cross-site rules, one case at a time (the listeners' socket tests are in infra)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hostguard import HostGuard, HostPolicy, cross_site_reason, extra_hosts, split_host

POLICY = HostPolicy.loopback(2000, extra=["demo.test", "box.lan:2000"])


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:2000", True),
        ("localhost:2000", True),
        ("LOCALHOST:2000", True),
        ("localhost.:2000", True),
        ("[::1]:2000", True),
        ("demo.test", True),  # an added bare name: any port
        ("demo.test:8080", True),
        ("box.lan:2000", True),
        ("box.lan:2001", False),  # an added name:port: that port only
        ("127.0.0.1:2001", False),  # a loopback name on another port: not this listener
        ("127.0.0.1", False),  # no port: not how any client reaches port 2000
        ("attacker.example:2000", False),
        ("127.0.0.1.attacker.example:2000", False),
        ("[::1]", False),
        ("[::2]:2000", False),
        ("localhost:20x0", False),
        ("", False),
        (None, False),
    ],
)
def test_host_policy(host: str | None, allowed: bool) -> None:
    assert POLICY.allows(host) is allowed


def test_star_allows_every_name() -> None:
    assert HostPolicy.of(["*"]).allows("anything.example:1")


@pytest.mark.parametrize("bad", ["a b", "evil.example:port", "http://x", "a/b", "x:1:2"])
def test_an_added_name_must_be_a_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        extra_hosts([bad], environ={})


def test_added_names_come_from_the_option_and_the_environment() -> None:
    names = extra_hosts(["One.Test"], environ={"ALLOWED_HOSTS": "two.test, one.test,box:80"})
    assert names == ("one.test", "two.test", "box:80")


def test_split_host() -> None:
    assert split_host("Example.COM:8000") == ("example.com", 8000)
    assert split_host("[::1]:2000") == ("[::1]", 2000)
    assert split_host("[::1]") == ("[::1]", None)


@pytest.mark.parametrize(
    ("method", "origin", "site", "refused"),
    [
        ("GET", "https://evil.example", "cross-site", False),  # reading is not changing
        ("POST", None, None, False),  # curl, boto3, the relay
        ("POST", "http://127.0.0.1:8000", "same-origin", False),
        ("POST", "http://127.0.0.1:8000/", None, False),
        ("PUT", None, "none", False),  # typed in the address bar / a bookmark
        ("POST", "https://evil.example", None, True),
        ("POST", None, "cross-site", True),
        ("DELETE", None, "same-site", True),  # another port of 127.0.0.1 is another origin
        ("POST", "http://localhost:8000", None, True),
    ],
)
def test_cross_site_changes(
    method: str, origin: str | None, site: str | None, refused: bool
) -> None:
    reason = cross_site_reason(method, origin, site, "http", "127.0.0.1:8000")
    assert (reason is not None) is refused


def _call(guard: HostGuard, **environ: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(guard({"REQUEST_METHOD": "GET", "PATH_INFO": "/", **environ}, start_response))
    return seen["status"], seen["headers"], json.loads(body) if body.startswith(b"{") else {}


def test_the_guard_answers_before_the_app_runs() -> None:
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b"ok"]

    guard = HostGuard(app, POLICY, open_paths=("/health",))
    status, headers, body = _call(guard, HTTP_HOST="attacker.example:2000")
    assert status.startswith("421") and calls == []
    assert "--allow-host" in body["message"] and "ALLOWED_HOSTS" in body["message"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _, body = _call(
        guard, HTTP_HOST="127.0.0.1:2000", REQUEST_METHOD="POST", HTTP_ORIGIN="https://evil.example"
    )
    assert status.startswith("403") and calls == [] and "Origin" in body["message"]
    assert _call(guard, HTTP_HOST="attacker.example", PATH_INFO="/health")[0] == "200 OK"
    assert _call(guard, HTTP_HOST="localhost:2000")[0] == "200 OK"
    assert calls == ["/health", "/"]
