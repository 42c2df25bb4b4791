"""The console's `--aws` log reader against CloudWatch Logs' own API shape (moto's `mock_aws`).

An Elastic Beanstalk-like group `/aws/elasticbeanstalk/ENV/var/log/web.stdout.log` holds lines as
the platform streams them: each prefixed by the journal (`Nov 25 07:47:24 ip-... web[1234]: `),
JSON after the prefix, gunicorn's own plain lines in between. The console app built by
`xray-signup console --aws --region R --log-group G` finds one trace's lines by trace id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from xray_local.console import ApiTarget, create_console_app
from xray_local.console.cli import add_arguments, build_target
from xray_local.console.logs import NO_GROUPS_NOTE, parse_message

GROUP = "/aws/elasticbeanstalk/xray-signup-dev/var/log/web.stdout.log"
T1 = "1-6b069500-4071afe32baf129df335e290"
T2 = "1-6b069500-0000afe32baf129df335e291"


def journal(when: datetime, doc: dict[str, Any]) -> str:
    return f"{when:%b %d %H:%M:%S} ip-10-0-0-1 web[1234]: " + json.dumps(doc)


@pytest.fixture
def aws_logs() -> Iterator[dict[str, Any]]:
    with mock_aws():
        logs = boto3.client("logs", region_name="eu-west-1")
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_stream(logGroupName=GROUP, logStreamName="i-0123456789abcdef0")
        start = datetime.fromtimestamp(int(T1.split("-")[1], 16) + 1, UTC)
        written: dict[str, list[dict[str, Any]]] = {T1: [], T2: []}
        messages = []
        events = ["signup.received", "dynamodb.put", "signup.answered"]
        for i, (trace, event) in enumerate([(t, e) for e in events for t in (T1, T2)]):
            when = start.replace(microsecond=1000 * i)
            doc = {
                "time": when.isoformat(),
                "level": "INFO",
                "service": "signup-app",
                "event": event,
                "message": event,
                "trace_id": trace,
            }
            if event == "dynamodb.put" and trace == T1:
                doc.update(outcome="duplicate", subsegment_id="96a7ca957d565ed1")
            written[trace].append(doc)
            messages.append((when, journal(when, doc)))
        messages.insert(
            2,
            (
                messages[1][0],
                f"{start:%b %d %H:%M:%S} ip-10-0-0-1 web[1234]: [INFO] "
                "Booting worker with pid: 1235",
            ),
        )
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName="i-0123456789abcdef0",
            logEvents=[{"timestamp": int(w.timestamp() * 1000), "message": m} for w, m in messages],
        )
        yield written


def test_parse_message_reads_json_after_the_journal_prefix() -> None:
    doc = parse_message('Nov 25 07:47:24 ip-10-0-0-1 web[1234]: {"level": "INFO", "a": 1}')
    assert doc == {"level": "INFO", "a": 1}
    assert parse_message("Nov 25 07:47:24 ip-10-0-0-1 web[1234]: [INFO] Booting worker") is None


def test_the_aws_console_finds_a_traces_lines_by_trace_id(aws_logs: dict[str, Any]) -> None:
    parser = __import__("argparse").ArgumentParser()
    add_arguments(parser)
    target = build_target(
        parser.parse_args(["--aws", "--region", "eu-west-1", "--log-group", GROUP])
    )
    assert target is not None and target.is_aws and target.log_groups == (GROUP,)
    client = create_console_app(target).test_client()
    answer = client.get(f"/console/api/trace/{T1}/logs?service=signup-app")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["groups"] == [GROUP] and body["note"] is None
    assert [line["fields"] for line in body["lines"]] == aws_logs[T1]
    put = body["lines"][1]
    assert put["outcome"] == "duplicate" and put["subsegment_id"] == "96a7ca957d565ed1"
    assert all(line["stream"] == "i-0123456789abcdef0" for line in body["lines"])

    start = int(T1.split("-")[1], 16)
    recent = client.get(f"/console/api/logs?service=signup-app&start={start}&end={start + 60}")
    assert [line["trace_id"] for line in recent.json["lines"]] == [T1, T2] * 3


def test_without_a_log_group_the_aws_console_says_how_to_set_one() -> None:
    with mock_aws():
        client = create_console_app(ApiTarget(region="eu-west-1")).test_client()
        body = client.get(f"/console/api/trace/{T1}/logs?service=signup-app").json
    assert body["lines"] == [] and body["note"] == NO_GROUPS_NOTE
    assert "--log-group" in NO_GROUPS_NOTE


def test_a_missing_group_is_named_not_fatal() -> None:
    with mock_aws():
        target = ApiTarget(region="eu-west-1", log_groups=("/aws/elasticbeanstalk/gone/x.log",))
        body = create_console_app(target).test_client().get(f"/console/api/trace/{T1}/logs").json
    assert body["missing_groups"] == ["/aws/elasticbeanstalk/gone/x.log"]
