"""Both tracers tell the same story on the same traffic (issue 16).

For each tracer (`TRACER=xray-sdk`: segments over UDP; `TRACER=opentelemetry`: spans over
OTLP/HTTP) a real local stack runs (`tests/support/local_stack.py`: xray_local, moto behind the
fault proxy, the app under gunicorn with two workers, on free loopback ports) and gets the same
deterministic traffic: twelve signups with fixed names, themes and preview access, three of them
duplicates (one with the email upper-cased), the last one carrying an incoming `X-Amzn-Trace-Id`,
plus the requests the app never traces (`/health`, a static file, `/generator/status`). The
client keeps a ledger of what it sent and what came back (status, trace id, `notified`); every
expected count below is computed from that ledger.

What each run leaves behind is read back through boto3's X-Ray client (the service graph, trace
summaries by filter, every trace's documents) and the app's log file, then stopped. The tests
check each tracer's story against the ledger and the two stories against each other.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.local.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.polling import wait_until

pytestmark = pytest.mark.slow

TRACERS = ("xray-sdk", "opentelemetry")
#: (name, local part of the email, previewAccess, theme), sent in this order by both runs.
SIGNUPS = [
    ("Ada", "ada", "Yes", "slate"),
    ("Grace", "grace", "No", "flatly"),
    ("Linus", "linus", "No", "united"),
    ("Ada", "ada", "Yes", "slate"),  # duplicate
    ("Barbara", "barbara", "Yes", "amelia"),
    ("Ken", "ken", "No", "slate"),
    ("Grace", "GRACE", "No", "default"),  # duplicate, upper-cased
    ("Margaret", "margaret", "Yes", "slate"),
    ("Edsger", "edsger", "No", "flatly"),
    ("Ken", "ken", "Yes", "united"),  # duplicate
    ("Frances", "frances", "Yes", "slate"),
    ("Dennis", "dennis", "No", "amelia"),  # carries the incoming trace header
]
THEME = "slate"
INCOMING_PARENT = "53995c3f42cd8ad8"
#: The requests the sampling rules never trace, with their answers (no generator runs: 503).
UNTRACED = {"/health": 200, "/static/app.css": 200, "/generator/status": 503}
FILTERS = {
    "409": "http.status = 409",
    "duplicate": 'annotation.outcome = "duplicate"',
    "theme": f'annotation.theme = "{THEME}"',
    "preview": 'annotation.preview_access = "Yes"',
    "notified": "annotation.notified = true",
}
X_RAY_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")


@dataclass(frozen=True)
class Sent:
    """One signup as the client saw it."""

    email: str
    preview_access: str
    theme: str
    status: int
    trace_id: str
    notified: bool


@dataclass
class Story:
    """What one tracer's run left in X-Ray and in the app's log."""

    tracer: str
    table: str
    ledger: list[Sent]
    incoming_root: str
    graph: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    filtered: dict[str, set[str]] = field(default_factory=dict)
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    raw: str = ""
    log_lines: list[dict[str, Any]] = field(default_factory=list)

    def ids(self, status: int) -> set[str]:
        return {s.trace_id for s in self.ledger if s.status == status}


def duplicates_sent() -> set[int]:
    """The positions in SIGNUPS whose email (compared as the app does: lower-cased) came before."""
    seen: set[str] = set()
    duplicates = set()
    for index, (_, local, _, _) in enumerate(SIGNUPS):
        if local.lower() in seen:
            duplicates.add(index)
        seen.add(local.lower())
    return duplicates


def root_of(answer: requests.Response) -> str:
    return answer.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")


def send_traffic(app: str, domain: str) -> tuple[list[Sent], str]:
    """The same requests for every tracer; returns the ledger and the incoming trace id."""
    incoming = f"1-{int(time.time()):08x}-{'5e1f' * 6}"
    ledger: list[Sent] = []
    with requests.Session() as http:
        for index, (name, local, preview, theme) in enumerate(SIGNUPS):
            email = f"{local}@{domain}"
            headers = {}
            if index == len(SIGNUPS) - 1:
                headers["X-Amzn-Trace-Id"] = f"Root={incoming};Parent={INCOMING_PARENT};Sampled=1"
            form = {"name": name, "email": email, "previewAccess": preview, "theme": theme}
            answer = http.post(app + "/signup", data=form, headers=headers, timeout=10)
            body = answer.json()
            ledger.append(
                Sent(
                    email=email,
                    preview_access=preview,
                    theme=theme,
                    status=answer.status_code,
                    trace_id=root_of(answer),
                    notified=bool(body.get("notified", False)),
                )
            )
            for path, status in UNTRACED.items():  # between the signups, as the page polls
                assert http.get(app + path, timeout=10).status_code == status, path
    return ledger, incoming


def read_back(stack: LocalStack, story: Story, started: float) -> None:
    """Everything the tests look at, read through the X-Ray API and from the app's log."""
    xray: Any = boto3.client(  # Any: the tests read plain dicts, not the stubs' TypedDicts
        "xray",
        endpoint_url=stack.config.xray_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def summaries(expression: str | None = None) -> list[dict[str, Any]]:
        window: dict[str, Any] = {"StartTime": started - 60, "EndTime": time.time() + 60}
        if expression:
            window["FilterExpression"] = expression
        pages = xray.get_paginator("get_trace_summaries").paginate(**window)
        return [s for page in pages for s in page["TraceSummaries"]]

    expected = {s.trace_id for s in story.ledger}
    answers = {s.trace_id: s.status for s in story.ledger}

    def arrived() -> bool:
        """Every answered signup's segment is stored, with its status. OpenTelemetry batches
        spans as they end: a request's calls can arrive a batch before its server span, and
        such a trace has a summary already, without the request's HTTP status."""
        stored = {s["Id"]: s["Http"].get("HttpStatus") for s in summaries()}
        return all(stored.get(trace_id) == status for trace_id, status in answers.items())

    wait_until(arrived, timeout=15)
    calls = 2 * sum(s.notified for s in story.ledger) + sum(s.status == 409 for s in story.ledger)

    def graph() -> list[dict[str, Any]]:
        services: list[dict[str, Any]] = xray.get_service_graph(
            StartTime=started - 60, EndTime=time.time() + 60
        )["Services"]
        counted = sum(
            e["SummaryStatistics"]["TotalCount"] for s in services for e in s.get("Edges", [])
        )
        return services if counted >= len(story.ledger) + calls else []

    story.graph = wait_until(graph, timeout=15)
    story.summaries = summaries()
    story.filtered = {key: {s["Id"] for s in summaries(f)} for key, f in FILTERS.items()}
    ids = sorted(s["Id"] for s in story.summaries)
    for start in range(0, len(ids), 5):
        for trace in xray.batch_get_traces(TraceIds=ids[start : start + 5])["Traces"]:
            story.raw += json.dumps(trace)
            story.documents[trace["Id"]] = [json.loads(s["Document"]) for s in trace["Segments"]]

    def answered() -> list[dict[str, Any]]:
        text = (stack.config.data_dir / "app.log").read_text()
        lines = [json.loads(raw) for raw in text.splitlines() if raw.startswith("{")]
        logged = {line.get("trace_id") for line in lines if line["event"] == "signup.answered"}
        return lines if logged >= expected else []

    story.log_lines = wait_until(answered, timeout=10)


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Story]]:
    """Both runs, one after the other (moto runs in this process: one stack at a time)."""
    told: dict[str, Story] = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # the stack hands it to the app
        for tracer in TRACERS:
            data_dir: Path = tmp_path_factory.mktemp(f"stack-{tracer}")
            with running_stack(data_dir, with_generator=False, tracer=tracer) as stack:
                started = time.time()
                ledger, incoming = send_traffic(stack.config.app_url, f"{tracer}.example.com")
                assert stack.resources is not None
                story = Story(tracer, stack.resources.table_name, ledger, incoming)
                read_back(stack, story, started)
                told[tracer] = story
    yield told


def the_dynamodb_put(documents: list[dict[str, Any]]) -> dict[str, Any]:
    (segment,) = [d for d in documents if d["name"] == "signup-app"]
    puts: list[dict[str, Any]] = [
        s
        for s in segment.get("subsegments", [])
        if s["name"].lower() == "dynamodb" and s["aws"]["operation"] == "PutItem"
    ]
    assert len(puts) == 1, puts
    return puts[0]


def graph_shape(services: list[dict[str, Any]]) -> dict[str, Any]:
    """The graph without times: each node's type and counts, each edge's counts, by name."""
    names = {s["ReferenceId"]: s["Name"] for s in services}

    def counts(stats: dict[str, Any] | None) -> tuple[int, int, int, int, int] | None:
        if stats is None:
            return None
        return (
            stats["TotalCount"],
            stats["OkCount"],
            stats["ErrorStatistics"]["TotalCount"],
            stats["ErrorStatistics"]["ThrottleCount"],
            stats["FaultStatistics"]["TotalCount"],
        )

    return {
        "nodes": {s["Name"]: (s.get("Type"), counts(s.get("SummaryStatistics"))) for s in services},
        "edges": {
            (s["Name"], names[e["ReferenceId"]]): counts(e["SummaryStatistics"])
            for s in services
            for e in s.get("Edges", [])
        },
    }


def test_the_client_sent_the_same_traffic_and_got_the_same_answers(
    stories: dict[str, Story],
) -> None:
    answers = {t: [(s.status, s.notified) for s in story.ledger] for t, story in stories.items()}
    duplicates = duplicates_sent()
    assert len(duplicates) == 3  # the traffic as described above
    expected = [(409, False) if i in duplicates else (201, True) for i in range(len(SIGNUPS))]
    assert answers == {t: expected for t in TRACERS}
    for story in stories.values():
        assert len({s.trace_id for s in story.ledger}) == len(SIGNUPS)
        assert all(X_RAY_ID.match(s.trace_id) for s in story.ledger)
        assert story.ledger[-1].trace_id == story.incoming_root  # the answer continues it


def test_the_service_graph_is_the_same_for_both(stories: dict[str, Story]) -> None:
    shapes = {}
    for tracer, story in stories.items():
        table = story.table
        shape = graph_shape(story.graph)
        assert set(shape["nodes"]) == {"client", "signup-app", table, "SNS"}, tracer
        assert shape["nodes"][table][0] == "AWS::DynamoDB::Table"
        assert shape["nodes"]["SNS"][0] == "AWS::SNS"
        assert set(shape["edges"]) == {
            ("client", "signup-app"),
            ("signup-app", table),
            ("signup-app", "SNS"),
        }, tracer
        ledger = story.ledger
        created = sum(s.status == 201 for s in ledger)
        duplicates = sum(s.status == 409 for s in ledger)
        notified = sum(s.notified for s in ledger)
        # (total, ok, error, throttle, fault): 409s are errors; the duplicate's PutItem a 400.
        assert shape["edges"][("client", "signup-app")] == (
            len(ledger),
            created,
            duplicates,
            0,
            0,
        ), tracer
        # PutItem for each signup, UpdateItem (notified) after each notification
        assert shape["edges"][("signup-app", table)] == (
            created + duplicates + notified,
            created + notified,
            duplicates,
            0,
            0,
        ), tracer
        assert shape["edges"][("signup-app", "SNS")] == (notified, notified, 0, 0, 0), tracer
        assert shape["nodes"]["signup-app"][1] == shape["edges"][("client", "signup-app")]
        assert shape["nodes"][table][1] == shape["edges"][("signup-app", table)]
        assert shape["nodes"]["SNS"][1] == shape["edges"][("signup-app", "SNS")]
        shapes[tracer] = shape
    assert shapes["xray-sdk"] == shapes["opentelemetry"]


def test_http_status_409_finds_exactly_the_duplicates(stories: dict[str, Story]) -> None:
    for tracer, story in stories.items():
        duplicates = story.ids(409)
        assert len(duplicates) == len(duplicates_sent()), tracer
        assert story.filtered["409"] == duplicates, tracer
        for summary in story.summaries:
            # A duplicate is an error (4xx) whose root cause is the table, never a fault: the
            # X-Ray SDK also sets `fault` on the 400 call's subsegment (aws-xray-sdk's
            # add_exception always does), but the summary goes by the status, as X-Ray's does.
            duplicate = summary["Id"] in duplicates
            flags = (summary["HasError"], summary["HasFault"], summary["HasThrottle"])
            assert flags == (duplicate, False, False), (tracer, summary["Id"])
            if duplicate:
                (cause,) = summary["ErrorRootCauses"]
                assert [s["Name"] for s in cause["Services"]] == [story.table], tracer
                (path_end,) = [e for e in cause["Services"][0]["EntityPath"] if e["Exceptions"]]
                assert path_end["Remote"] is True and path_end["Name"].lower() == "dynamodb"
    assert len(stories["xray-sdk"].filtered["409"]) == len(stories["opentelemetry"].filtered["409"])


def test_a_duplicate_shows_the_dynamodb_400_and_its_exception(stories: dict[str, Story]) -> None:
    for tracer, story in stories.items():
        for trace_id in story.filtered["409"]:
            documents = story.documents[trace_id]
            (segment,) = [d for d in documents if d["name"] == "signup-app"]
            assert segment["http"]["response"]["status"] == 409, tracer
            put = the_dynamodb_put(documents)
            assert put["namespace"] == "aws" and put["aws"]["table_name"] == story.table, tracer
            assert put["http"]["response"]["status"] == 400, tracer
            assert put.get("error") is True, tracer
            (exception,) = put["cause"]["exceptions"]
            assert exception["type"].endswith("ConditionalCheckFailedException"), tracer
            assert exception["remote"] is True, tracer
            assert "ConditionalCheckFailedException" in exception["message"], tracer
            # answered without a notification: no SNS call
            names = [s["name"].lower() for s in segment["subsegments"]]
            assert names == ["validate", "dynamodb"], tracer


def test_the_annotations_find_the_same_traces(stories: dict[str, Story]) -> None:
    counts = {}
    for tracer, story in stories.items():
        ledger = story.ledger
        assert story.filtered["duplicate"] == story.filtered["409"] == story.ids(409), tracer
        assert story.filtered["theme"] == {s.trace_id for s in ledger if s.theme == THEME}
        assert story.filtered["preview"] == {
            s.trace_id for s in ledger if s.preview_access == "Yes"
        }
        assert story.filtered["notified"] == {s.trace_id for s in ledger if s.notified}
        counts[tracer] = {key: len(ids) for key, ids in story.filtered.items()}
        assert all(counts[tracer].values()), counts
    assert counts["xray-sdk"] == counts["opentelemetry"]


def test_the_incoming_trace_is_continued(stories: dict[str, Story]) -> None:
    for tracer, story in stories.items():
        documents = story.documents[story.incoming_root]
        (segment,) = [d for d in documents if d["name"] == "signup-app"]
        assert segment["trace_id"] == story.incoming_root, tracer
        assert segment["parent_id"] == INCOMING_PARENT, tracer
        assert segment["http"]["response"]["status"] == story.ledger[-1].status


def test_health_static_files_and_the_status_poll_are_never_traced(
    stories: dict[str, Story],
) -> None:
    for tracer, story in stories.items():
        urls = [s["Http"]["HttpURL"] for s in story.summaries]
        assert {s["Id"] for s in story.summaries} == {s.trace_id for s in story.ledger}, tracer
        assert all(url.endswith("/signup") for url in urls), (tracer, urls)
        for path in UNTRACED:
            assert not any(path in url for url in urls), (tracer, path)
            assert path not in story.raw, (tracer, path)


def test_no_email_address_is_stored(stories: dict[str, Story]) -> None:
    every_email = {s.email.lower() for story in stories.values() for s in story.ledger}
    for tracer, story in stories.items():
        assert len(story.documents) == len(SIGNUPS), tracer
        stored = story.raw.lower()
        assert "signup-app" in stored  # the documents are there to search
        assert [e for e in every_email if e in stored] == [], tracer
        assert "@" not in stored, tracer
        assert "%40" not in stored, tracer


def test_log_lines_carry_the_trace_ids_x_ray_has(stories: dict[str, Story]) -> None:
    for tracer, story in stories.items():
        traced = {line["trace_id"] for line in story.log_lines if "trace_id" in line}
        assert traced == {s["Id"] for s in story.summaries}, tracer
        assert all(X_RAY_ID.match(t) for t in traced), tracer
        answered = {
            line["trace_id"]: line
            for line in story.log_lines
            if line["event"] == "signup.answered" and "trace_id" in line
        }
        for trace_id in story.filtered["409"]:
            assert answered[trace_id]["outcome"] == "duplicate", tracer
            assert answered[trace_id]["status"] == 409, tracer
        for sent in story.ledger:
            assert answered[sent.trace_id]["status"] == sent.status, tracer
            # the line about the DynamoDB call names the PutItem subsegment the trace shows
            put = the_dynamodb_put(story.documents[sent.trace_id])
            (line,) = [
                x
                for x in story.log_lines
                if x.get("trace_id") == sent.trace_id and x["event"] == "dynamodb.put"
            ]
            assert line["subsegment_id"] == put["id"], tracer
