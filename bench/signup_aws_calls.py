"""AWS calls per request of `GET /`, `GET /health` and `POST /signup`, counted at the endpoint.

A counting proxy sits between the app and moto (the project's fault proxy, infra/faults/proxy.py,
with no scenario on and every forwarded call counted by service and operation), so what is counted
is what left the app on the wire, retries included. The page must make no AWS call; /health makes
the one it needs (DescribeTable: Elastic Beanstalk asks whether the table answers); a signup makes
PutItem and, for a new email, Publish. Both traced and untraced apps are counted: the SDK must add
no AWS call of its own (locally it samples everything and polls nothing).

    python bench/signup_aws_calls.py [--runs 3] [--requests 50]
"""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
import uuid
from typing import Any

from _perf_common import app_env, create_resources, gunicorn, moto, row, spread, write_results

from infra.faults.proxy import FaultProxy
from tests.support.udp import DaemonListener


class CountingProxy(FaultProxy):
    """Forward everything; count each call as `service:Operation`."""

    def decide(self, service: str, operation: str) -> None:
        self.count(f"{service}:{operation}")
        return None


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as answer:
        answer.read()


def _signup(url: str, email: str) -> None:
    body = f"name=Counted&email={email}&previewAccess=No&theme=flatly".encode()
    try:
        with urllib.request.urlopen(url + "/signup", data=body, timeout=10) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:  # the duplicates' 409
        exc.read()


def calls_per_request(proxy: CountingProxy, url: str, path: str, requests: int) -> float:
    before = sum(proxy.counts.values())
    if path == "/signup":
        run = uuid.uuid4().hex[:8]
        for n in range(requests):
            number = n - 1 if n % 10 == 9 else n  # every 10th re-sends the previous email
            _signup(url, f"count-{run}-{number}@example.com")
    else:
        for _ in range(requests):
            _get(url + path)
    return (sum(proxy.counts.values()) - before) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    paths = ["/", "/health", "/signup"]
    counted: dict[str, dict[str, list[float]]] = {
        side: {p: [] for p in paths} for side in ("traced", "untraced")
    }
    operations: dict[str, dict[str, int]] = {}
    listener = DaemonListener()
    try:
        with moto() as endpoint:
            resources = create_resources(endpoint)
            proxy = CountingProxy(endpoint).start()
            try:
                for side in ("traced", "untraced"):
                    env = app_env(proxy.url, resources, side == "traced", listener.address)
                    with gunicorn(env) as app:
                        for _ in range(args.runs):
                            for path in paths:
                                counted[side][path].append(
                                    calls_per_request(proxy, app.url, path, args.requests)
                                )
                    operations[side] = dict(proxy.counts)
                    proxy.counts.clear()
            finally:
                proxy.stop()
    finally:
        listener.close()

    figures: dict[str, Any] = {
        f"{side}_calls_per_request {path}": spread(values)
        for side, by_path in counted.items()
        for path, values in by_path.items()
    }
    figures["operations_counted_incl_startup"] = operations
    figures["requests_per_run"] = args.requests
    page = counted["traced"]["/"] + counted["untraced"]["/"]
    health = counted["traced"]["/health"] + counted["untraced"]["/health"]
    rows = [
        row("AWS calls per GET /", page, target="0", holds=max(page) == 0),
        row(
            "AWS calls per GET /health",
            health,
            target="≤ 1 (DescribeTable)",
            holds=max(health) <= 1,
        ),
        row("AWS calls per POST /signup (1 in 10 a duplicate)", counted["traced"]["/signup"]),
    ]
    write_results("signup_aws_calls", figures, rows)


if __name__ == "__main__":
    main()
