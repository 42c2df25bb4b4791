"""AWS calls per request, by kind of request and by operation, counted at the endpoint.

A counting proxy sits between the app and moto (the project's fault proxy,
infra/local/faults/proxy.py, with no scenario on and every forwarded call counted by service and
operation), so what is counted is what left the app on the wire, retries included, and nothing is
taken from the app's own code.
Requests are sent one at a time, so the calls counted between two requests are that request's.

Kinds of request (each answer checked, so a kind is what it claims to be):
- `GET /` (no AWS call) and `GET /health` (DescribeTable: Elastic Beanstalk asks whether the
  table answers);
- new signup (201): the conditional PutItem, the SNS Publish, and the UpdateItem that records
  `notified = true` on the item;
- duplicate (409): another request's email, so the conditional PutItem fails and nothing else;
- replay (201, `Idempotent-Replayed`): the same body and Idempotency-Key as a new signup that was
  notified: the PutItem meets its own token (ALL_OLD), nothing else;
- invalid (400): rejected before any AWS call;
- new signup while SNS is down (the proxy answers Publish with SNS's InternalError): 201 with
  `notified = false`, the Publish retried within the request's budget, the failure recorded;
- replay of such a signup once SNS is back (the notification still owed): put, publish, record;
- the mix the generator sends (1 in 10 a duplicate), as recorded before the notification record.
Both traced and untraced apps are counted: the SDK must add no AWS call of its own (locally it
samples everything and polls nothing).

    python -m bench.signup_aws_calls [--runs 3] [--requests 50] [--sns-down-requests 8]
"""

from __future__ import annotations

import argparse
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench._loopback import DaemonListener
from bench._perf_common import app_env, create_resources, gunicorn, moto, row, spread, write_results
from infra.local.faults.aws_shapes import SNS_DOWN, sns_error
from infra.local.faults.proxy import Action, FaultProxy

PUT, PUBLISH, UPDATE = "dynamodb:PutItem", "sns:Publish", "dynamodb:UpdateItem"


class CountingProxy(FaultProxy):
    """Forward everything (or fail SNS Publish while `sns_down`); count each call in `calls`.

    (`counts`, the fault proxy's own, also counts the faults it answers: `sns:Publish:500`.)
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.sns_down = False
        self.calls: dict[str, int] = {}
        self._calls_lock = threading.Lock()

    def decide(self, service: str, operation: str) -> Action:
        with self._calls_lock:
            key = f"{service}:{operation}"
            self.calls[key] = self.calls.get(key, 0) + 1
        if self.sns_down and f"{service}:{operation}" == PUBLISH:
            return sns_error(*SNS_DOWN)
        return None


@dataclass(frozen=True)
class Answer:
    status: int
    replayed: bool
    body: bytes


def _send(url: str, data: bytes | None = None, key: str | None = None) -> Answer:
    headers = {"Idempotency-Key": key} if key else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            replayed = answer.headers.get("Idempotent-Replayed") == "true"
            return Answer(answer.status, replayed, answer.read())
    except urllib.error.HTTPError as exc:  # 409, 400
        return Answer(exc.code, False, exc.read())


def _form(email: str) -> bytes:
    return f"name=Counted&email={email}&previewAccess=No&theme=flatly".encode()


@dataclass
class Kind:
    """One kind of request: what it is, what the design says it costs, what it must answer."""

    label: str
    #: The design's calls per request by operation; None: no fixed figure (retries).
    expected: dict[str, int] | None
    #: Per run: calls per request by operation.
    runs: list[dict[str, float]] = field(default_factory=list)


KINDS: dict[str, Kind] = {
    "page": Kind("GET /", {}),
    "health": Kind("GET /health", {"dynamodb:DescribeTable": 1}),
    "new": Kind("POST /signup new (201)", {PUT: 1, PUBLISH: 1, UPDATE: 1}),
    "duplicate": Kind("POST /signup duplicate (409)", {PUT: 1}),
    "replay": Kind("POST /signup replay, same Idempotency-Key (201)", {PUT: 1}),
    "invalid": Kind("POST /signup invalid (400)", {}),
    "new_sns_down": Kind("POST /signup new while SNS is down (201, notified false)", None),
    "replay_owed": Kind(
        "POST /signup replay, notification still owed (201)", {PUT: 1, PUBLISH: 1, UPDATE: 1}
    ),
    "mix": Kind("POST /signup, 1 in 10 a duplicate", None),
}


class Counter:
    """Send one kind of request `n` times; return calls per request by operation."""

    def __init__(self, proxy: CountingProxy, url: str) -> None:
        self.proxy = proxy
        self.url = url
        self.run = uuid.uuid4().hex[:8]
        self.batch = 0

    def measure(self, n: int, send: Callable[[int], None]) -> dict[str, float]:
        before = dict(self.proxy.calls)
        for i in range(n):
            send(i)
        after = dict(self.proxy.calls)
        made = {op: after[op] - before.get(op, 0) for op in after}
        return {op: calls / n for op, calls in made.items() if calls}

    def emails(self) -> list[str]:
        self.batch += 1
        return [f"count-{self.run}-{self.batch}-{i}@example.com" for i in range(1000)]

    def expect(self, answer: Answer, status: int, replayed: bool = False) -> None:
        if answer.status != status or answer.replayed != replayed:
            raise RuntimeError(
                f"expected {status} (replayed={replayed}), got {answer.status} "
                f"(replayed={answer.replayed}): {answer.body[:200]!r}"
            )

    def one_run(self, n: int, n_sns_down: int) -> dict[str, dict[str, float]]:
        got: dict[str, dict[str, float]] = {}
        signup = self.url + "/signup"
        got["page"] = self.measure(n, lambda i: self.expect(_send(self.url + "/"), 200))
        got["health"] = self.measure(n, lambda i: self.expect(_send(self.url + "/health"), 200))

        emails, keys = self.emails(), [uuid.uuid4().hex for _ in range(n)]
        got["new"] = self.measure(
            n, lambda i: self.expect(_send(signup, _form(emails[i]), keys[i]), 201)
        )
        got["duplicate"] = self.measure(
            n, lambda i: self.expect(_send(signup, _form(emails[i]), uuid.uuid4().hex), 409)
        )
        got["replay"] = self.measure(
            n, lambda i: self.expect(_send(signup, _form(emails[i]), keys[i]), 201, replayed=True)
        )
        got["invalid"] = self.measure(
            n, lambda i: self.expect(_send(signup, _form(f"not-an-email-{i}"), None), 400)
        )

        owed, owed_keys = self.emails(), [uuid.uuid4().hex for _ in range(n_sns_down)]

        def while_down(i: int) -> None:
            answer = _send(signup, _form(owed[i]), owed_keys[i])
            self.expect(answer, 201)
            if json.loads(answer.body).get("notified") is not False:
                raise RuntimeError(f"SNS down but notified: {answer.body[:200]!r}")

        self.proxy.sns_down = True
        try:
            got["new_sns_down"] = self.measure(n_sns_down, while_down)
        finally:
            self.proxy.sns_down = False
        got["replay_owed"] = self.measure(
            n_sns_down,
            lambda i: self.expect(_send(signup, _form(owed[i]), owed_keys[i]), 201, replayed=True),
        )

        mixed = self.emails()

        def mix(i: int) -> None:  # every 10th re-sends the previous email, no key (as before)
            number = i - 1 if i % 10 == 9 else i
            self.expect(_send(signup, _form(mixed[number])), 409 if i % 10 == 9 else 201)

        got["mix"] = self.measure(n, mix)
        return got


def _operations(kind: Kind) -> list[str]:
    seen = {op for run in kind.runs for op in run} | set(kind.expected or {})
    order = [PUT, PUBLISH, UPDATE]
    return sorted(seen, key=lambda op: (order.index(op) if op in order else -1, op))


def _total(run: dict[str, float]) -> float:
    return sum(run.values())


def _target(kind: Kind) -> tuple[str, bool] | tuple[None, None]:
    if kind.expected is None:
        return None, None
    total = sum(kind.expected.values())
    names = " + ".join(op.split(":")[1] for op in kind.expected)
    text = f"{total}" + (f": {names}" if names else "")
    holds = all(
        {op: v for op, v in run.items() if v} == {op: float(c) for op, c in kind.expected.items()}
        for run in kind.runs
    )
    return text, holds


def _breakdown(by_op: dict[str, dict[str, Any]]) -> str:
    """`1 PutItem + 1 Publish`: the median calls of each operation, as counted."""
    parts = [
        f"{value['median']:g} {op.split(':')[1]}" for op, value in by_op.items() if value["median"]
    ]
    return " + ".join(parts) or "none"


def rows_and_figures(kinds: dict[str, Kind]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per kind (its calls per request, the counted operations named in the figure)."""
    rows: list[dict[str, Any]] = []
    figures: dict[str, Any] = {}
    for name, kind in kinds.items():
        totals = [_total(run) for run in kind.runs]
        target, holds = _target(kind)
        by_op = {op: spread([run.get(op, 0.0) for run in kind.runs]) for op in _operations(kind)}
        figures[name] = {
            "request": kind.label,
            "expected_by_design": kind.expected,
            "calls_per_request": spread(totals),
            "by_operation": by_op,
        }
        label = f"AWS calls per {kind.label}"
        if name != "mix":  # a blend of new and duplicate: its operations are theirs
            label += f" = {_breakdown(by_op)}"
        rows.append(row(label, totals, target=target, holds=holds))
    return rows, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--sns-down-requests", type=int, default=8)
    args = parser.parse_args()
    by_side: dict[str, dict[str, Kind]] = {
        side: {n: Kind(k.label, k.expected) for n, k in KINDS.items()}
        for side in ("traced", "untraced")
    }
    operations: dict[str, dict[str, int]] = {}
    listener = DaemonListener()
    try:
        with moto() as endpoint:
            resources = create_resources(endpoint)
            proxy = CountingProxy(endpoint).start()
            try:
                for side, kinds in by_side.items():
                    env = app_env(proxy.url, resources, side == "traced", listener.address)
                    with gunicorn(env) as app:
                        counter = Counter(proxy, app.url)
                        for _ in range(args.runs):
                            for name, calls in counter.one_run(
                                args.requests, args.sns_down_requests
                            ).items():
                                kinds[name].runs.append(calls)
                    operations[side] = {**proxy.calls, **proxy.counts}
                    proxy.calls.clear()
                    proxy.counts.clear()
            finally:
                proxy.stop()
    finally:
        listener.close()

    # The rows hold traced and untraced runs together: the same calls either way, or it shows.
    both = {
        name: Kind(k.label, k.expected, k.runs + by_side["untraced"][name].runs)
        for name, k in by_side["traced"].items()
    }
    rows, figures = rows_and_figures(both)
    figures = {
        "kinds": figures,
        "same_calls_traced_and_untraced": all(
            by_side["traced"][n].runs == by_side["untraced"][n].runs for n in KINDS
        ),
        "by_side": {side: {n: k.runs for n, k in kinds.items()} for side, kinds in by_side.items()},
        "operations_counted_incl_startup": operations,
        "requests_per_run": args.requests,
        "sns_down_requests_per_run": args.sns_down_requests,
    }
    write_results("signup_aws_calls", figures, rows)


if __name__ == "__main__":
    main()
