"""xray_local's CloudWatch Logs subset through boto3's own `logs` client: shapes, errors, paging,
filter patterns, retention."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bench._loopback import local_client
from xray_local.api import logs as logs_api
from xray_local.query.logpatterns import PatternError, compile_pattern
from xray_local.server import XRayServer
from xray_local.store import LogRetention, LogStore

T1 = "1-65a1b2c3-0123456789abcdef01234567"
T2 = "1-65a1b2c3-fedcba9876543210fedcba98"


@pytest.fixture
def logs(xray_server: XRayServer) -> Any:
    return local_client(xray_server.endpoint_url, "logs")


def now_ms() -> int:
    return int(time.time() * 1000)


def line(trace_id: str, event: str, level: str = "INFO", **extra: Any) -> str:
    return json.dumps(
        {"level": level, "service": "signup-app", "event": event, "trace_id": trace_id, **extra}
    )


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_groups_streams_and_errors_have_aws_shapes(logs: Any) -> None:
    logs.create_log_group(logGroupName="signup-app")
    with pytest.raises(ClientError) as exists:
        logs.create_log_group(logGroupName="signup-app")
    assert code_of(exists) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as missing:
        logs.create_log_stream(logGroupName="nope", logStreamName="s")
    assert code_of(missing) == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as bad_name:
        logs.create_log_group(logGroupName="bad name!")
    assert code_of(bad_name) == "InvalidParameterException"
    logs.create_log_stream(logGroupName="signup-app", logStreamName="host/app")
    with pytest.raises(ClientError) as no_stream:
        logs.put_log_events(
            logGroupName="signup-app",
            logStreamName="other",
            logEvents=[{"timestamp": now_ms(), "message": "x"}],
        )
    assert code_of(no_stream) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as unordered:
        logs.put_log_events(
            logGroupName="signup-app",
            logStreamName="host/app",
            logEvents=[
                {"timestamp": now_ms(), "message": "b"},
                {"timestamp": now_ms() - 5, "message": "a"},
            ],
        )
    assert code_of(unordered) == "InvalidParameterException"
    with pytest.raises(ClientError) as no_group:
        logs.filter_log_events(logGroupName="absent")
    assert code_of(no_group) == "ResourceNotFoundException"
    assert no_group.value.response["Error"]["Message"] == "The specified log group does not exist."
    with pytest.raises(ClientError) as both:
        logs.filter_log_events(logGroupName="signup-app", logGroupIdentifier="signup-app")
    assert code_of(both) == "InvalidParameterException"

    for i in range(3):
        logs.create_log_group(logGroupName=f"/aws/elasticbeanstalk/env{i}/var/log/web.stdout.log")
    first = logs.describe_log_groups(logGroupNamePrefix="/aws/", limit=2)
    assert [g["logGroupName"] for g in first["logGroups"]] == [
        "/aws/elasticbeanstalk/env0/var/log/web.stdout.log",
        "/aws/elasticbeanstalk/env1/var/log/web.stdout.log",
    ]
    rest = logs.describe_log_groups(logGroupNamePrefix="/aws/", nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == [
        "/aws/elasticbeanstalk/env2/var/log/web.stdout.log"
    ]
    assert "nextToken" not in rest


def test_put_then_filter_by_trace_id_in_order_with_paging(logs: Any) -> None:
    logs.create_log_group(logGroupName="signup-app")
    logs.create_log_stream(logGroupName="signup-app", logStreamName="a")
    t = now_ms()
    batch = [
        {"timestamp": t + i // 3, "message": line(T1 if i % 2 else T2, f"e{i}")} for i in range(30)
    ]
    batch.append({"timestamp": t + 20, "message": "[INFO] gunicorn says hello"})
    answer = logs.put_log_events(logGroupName="signup-app", logStreamName="a", logEvents=batch)
    assert "rejectedLogEventsInfo" not in answer

    # A quoted trace id (what the console sends) and the JSON form find the same lines.
    by_term = logs.filter_log_events(logGroupName="signup-app", filterPattern=f'"{T1}"')
    events = [json.loads(e["message"])["event"] for e in by_term["events"]]
    assert events == [f"e{i}" for i in range(1, 30, 2)]
    by_json = logs.filter_log_events(
        logGroupIdentifier="signup-app", filterPattern=f'{{ $.trace_id = "{T1}" }}'
    )
    assert [e["message"] for e in by_json["events"]] == [e["message"] for e in by_term["events"]]
    assert {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"} <= set(
        by_term["events"][0]
    )

    # Paging: limit 4 at a time gives every line once, in order.
    seen: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": "signup-app", "limit": 4}
    for _ in range(20):
        page = logs.filter_log_events(**kwargs)
        assert len(page["events"]) <= 4
        seen += [e["message"] for e in page["events"]]
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert seen == [b["message"] for b in batch]  # (timestamp, arrival) order, each once
    with pytest.raises(ClientError) as bad_token:
        logs.filter_log_events(logGroupName="signup-app", nextToken="garbage!")
    assert code_of(bad_token) == "InvalidParameterException"

    # Time range, level filter, exclusion.
    early = logs.filter_log_events(logGroupName="signup-app", startTime=t, endTime=t + 1)
    assert len(early["events"]) == 6
    assert (
        logs.filter_log_events(logGroupName="signup-app", filterPattern="-gunicorn")["events"][-1][
            "message"
        ]
        != batch[30]["message"]
    )
    with pytest.raises(ClientError) as bad_pattern:
        logs.filter_log_events(logGroupName="signup-app", filterPattern="{ $.level = }")
    assert code_of(bad_pattern) == "InvalidParameterException"


def test_a_filter_call_answers_after_its_scan_budget_with_a_token(
    logs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs_api, "SCAN_BUDGET", 5)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms()
    logs.put_log_events(
        logGroupName="g",
        logStreamName="s",
        logEvents=[{"timestamp": t, "message": "noise"}] * 12
        + [{"timestamp": t + 1, "message": "ERROR x"}],
    )
    page = logs.filter_log_events(logGroupName="g", filterPattern="ERROR")
    assert page["events"] == [] and page["nextToken"]  # as AWS may: empty page, keep going
    found: list[str] = []
    while "nextToken" in page:
        page = logs.filter_log_events(
            logGroupName="g", filterPattern="ERROR", nextToken=page["nextToken"]
        )
        found += [e["message"] for e in page["events"]]
    assert found == ["ERROR x"]


def test_events_outside_the_accepted_window_are_rejected(logs: Any) -> None:
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms()
    day = 24 * 3600 * 1000
    old = logs.put_log_events(
        logGroupName="g",
        logStreamName="s",
        logEvents=[
            {"timestamp": t - 15 * day, "message": "ancient"},
            {"timestamp": t - 15 * day + 1, "message": "ancient too"},
        ],
    )
    assert old["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    assert logs.filter_log_events(logGroupName="g")["events"] == []


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ("ERROR", "an ERROR here", True),
        ("ERROR", "an error here", False),
        ('"duplicate signup"', "a duplicate signup", True),
        ("ERROR -timeout", "ERROR timeout", False),
        ("?WARNING ?ERROR", "WARNING x", True),
        ("?WARNING ?ERROR", "INFO x", False),
        ('{ $.level = "ERROR" }', '{"level": "ERROR"}', True),
        ('{ $.level = "ERROR" }', 'Nov 25 web[1]: {"level": "ERROR"}', False),
        ('{ $.level != "INFO" && $.status >= 500 }', '{"level": "ERROR", "status": 503}', True),
        ('{ $.level != "INFO" && $.status >= 500 }', '{"level": "ERROR", "status": 409}', False),
        ('{ ($.outcome = "dup*") || $.notified = false }', '{"outcome": "duplicate"}', True),
        ("{ $.notified = false }", '{"notified": false}', True),
        ('{ $.exception.type = "KeyError" }', '{"exception": {"type": "KeyError"}}', True),
        ("%dynamo[a-z]+\\.put%", '{"event": "dynamodb.put"}', True),
    ],
)
def test_filter_patterns(pattern: str, message: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(message) is expected


@pytest.mark.parametrize(
    "pattern", ['"unbalanced', "{ $.a = ", "{ level = 1 }", "[a, b]", '{ $.a > "x" }', "%(%"]
)
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_trace_ids_in_patterns_use_the_trace_index() -> None:
    assert compile_pattern(f'"{T1}"').trace_ids == {T1}
    assert compile_pattern(f'{{ $.trace_id = "{T1}" && $.level = "INFO" }}').trace_ids == {T1}
    assert compile_pattern(f'{{ $.trace_id = "{T1}" || $.level = "INFO" }}').trace_ids == set()


def test_retention_bounds_log_events_by_count_and_age(tmp_path: Any) -> None:
    store = LogStore.in_directory(tmp_path, LogRetention(max_events=5, max_age=3600))
    store.create_group("g", 0)
    now = int(time.time() * 1000)
    store.put("g", "s", [(now - 7200_000, f"old {T1}")], now)
    store.put("g", "s", [(now + i, f"line {i} {T2}") for i in range(8)], now)
    store.prune(now / 1000)
    everything = compile_pattern("")
    kept = [e.message for e, _ in store.scan("g", None, None, None, everything, None)]
    assert kept == [f"line {i} {T2}" for i in range(3, 8)]
    by_trace = compile_pattern(f'"{T1}"')
    assert list(store.scan("g", None, None, None, by_trace, None)) == []
    store.close()
    # It is a file in the data directory: a restarted server finds the lines again.
    again = LogStore.in_directory(tmp_path)
    assert again.event_count() == 5
    again.close()
