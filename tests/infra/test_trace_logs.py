"""Each trace's log lines, as the console serves them, are exactly the lines its request wrote.

The local stack runs for real (xray_local with the console, moto behind the fault proxy, the app
under gunicorn with two workers, the log shipper following app.log). Signups include a created
one, a duplicate, an invalid form and two failure scenarios (SNS down: a WARNING and 201 without
notification; DynamoDB down: an error answer). The lines a request wrote are read back from
app.log itself (matched by trace id, in file order); the console's JSON endpoint must give the
same lines, in the same order, and none of any other request.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra.local.stack import LocalStack
from tests.support.local_stack import running_stack

pytestmark = pytest.mark.slow

FORM = {"name": "Lin", "previewAccess": "No", "theme": "flatly"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), workers=2, with_generator=False) as stack:
        yield stack


def trace_of(answer: requests.Response) -> str:
    return answer.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")


def console(stack: LocalStack, path: str) -> Any:
    with urllib.request.urlopen(stack.config.xray_url + path, timeout=10) as response:
        return json.loads(response.read())


def test_each_trace_shows_exactly_the_lines_its_request_wrote(stack: LocalStack) -> None:
    assert stack.faults is not None and stack.shipper is not None
    app = stack.config.app_url
    sent: dict[str, int] = {}
    with requests.Session() as http:
        for email in ["a@example.com", "b@example.com", "a@example.com", "broken"]:
            answer = http.post(app + "/signup", data={**FORM, "email": email}, timeout=10)
            sent[trace_of(answer)] = answer.status_code
        stack.faults.board.update("sns-outage", {"share": 100})
        answer = http.post(app + "/signup", data={**FORM, "email": "c@example.com"}, timeout=10)
        sent[trace_of(answer)] = answer.status_code
        assert answer.json()["notified"] is False
        stack.faults.board.update("sns-outage", {"share": 0})
        stack.faults.board.update("dynamodb-outage", {"share": 100})
        answer = http.post(app + "/signup", data={**FORM, "email": "d@example.com"}, timeout=10)
        sent[trace_of(answer)] = answer.status_code
        stack.faults.board.update("dynamodb-outage", {"share": 0})
    assert sorted(sent.values()) == sorted([201, 201, 409, 400, 201, answer.status_code])
    assert answer.status_code >= 500

    written: dict[str, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the request's last line follows its answer closely
        written = {}
        for raw in (stack.config.data_dir / "app.log").read_text().splitlines():
            if raw.startswith("{"):
                line = json.loads(raw)
                written.setdefault(line.get("trace_id", ""), []).append(line)
        if all(t in written and written[t][-1]["event"] == "signup.answered" for t in sent):
            break
        time.sleep(0.1)
    assert stack.shipper.flush(10)

    for trace_id, status in sent.items():
        body = console(stack, f"/console/api/trace/{trace_id}/logs?service=signup-app")
        assert body["groups"] == ["signup-app"] and body["missing_groups"] == []
        shown = [line["fields"] for line in body["lines"]]
        assert shown == written[trace_id], (trace_id, status)
        assert all(line["trace_id"] == trace_id for line in body["lines"])

    # The lines a person would look for, per trace.
    by_status = {status: trace for trace, status in sent.items() if status != 201}
    duplicate = console(stack, f"/console/api/trace/{by_status[409]}/logs")  # services from trace
    put = next(line for line in duplicate["lines"] if line["event"] == "dynamodb.put")
    assert put["outcome"] == "duplicate" and put["subsegment_id"]
    failed = console(stack, f"/console/api/trace/{by_status[answer.status_code]}/logs")
    put = next(line for line in failed["lines"] if line["event"] == "dynamodb.put")
    assert put["level"] == "ERROR" and put["subsegment_id"]
    sns_trace = next(
        t
        for t, lines in written.items()
        if any(line["event"] == "sns.publish" and line["outcome"] == "failed" for line in lines)
    )
    assert sent[sns_trace] == 201

    # The map's node panel: the service's recent lines, filterable by level, each with its trace.
    now = time.time()
    recent = console(stack, f"/console/api/logs?service=signup-app&start={now - 300}&end={now}")
    assert {line["trace_id"] for line in recent["lines"]} >= set(sent)
    only = console(
        stack, f"/console/api/logs?service=signup-app&level=WARNING&start={now - 300}&end={now}"
    )
    expected = [
        (line["trace_id"], line["event"])
        for lines in written.values()
        for line in lines
        if line["level"] == "WARNING"
    ]
    assert (sns_trace, "sns.publish") in expected
    assert sorted((line["trace_id"], line["event"]) for line in only["lines"]) == sorted(expected)
    shown = json.dumps(recent)
    assert not any(e in shown for e in ("a@example", "b@example", "c@example", "d@example"))
