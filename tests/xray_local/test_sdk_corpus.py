"""Segments as other X-Ray SDKs and OpenTelemetry's X-Ray exporter write them (corpus/sdks/).

Each corpus file says in `_about` which SDK, which documented shape and which source it follows
(corpus/sdks/README.md lists them). Every file is stored as the daemon would store it (documents in
file order: streamed subsegments before their parent, in-progress documents before the complete
ones) and must give AWS's picture: each AWS call its own node with an edge from the service that
made it, whatever the SDK calls the subsegment or how it nests it; the filters return the same
traces through the evaluator and the indexed path.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from xray_local.console.timeline import timeline_json
from xray_local.query.filters import compile_filter
from xray_local.query.filters.parser import parse
from xray_local.query.graph import service_graph
from xray_local.query.index import ensure_indexed
from xray_local.query.search import graph_between, summaries_page
from xray_local.query.views import build_trace_view
from xray_local.store import Retention, Store

HERE = Path(__file__).parent
SDKS = HERE / "corpus" / "sdks"
SCHEMA = json.loads((HERE / "segment-document-schema-v1.0.0.json").read_text())
T0 = 1767225600.0
APP, TABLE, SNS = ("signup-app", None), ("signups", "AWS::DynamoDB::Table"), ("SNS", "AWS::SNS")
EB_APP = ("signup-app", "AWS::ElasticBeanstalk::Environment")

#: Per node (name, type): (ok, error other than throttle, throttle, fault) over the file's traces.
Counts = tuple[int, int, int, int]

EXPECTED: dict[str, dict[str, Any]] = {
    "node-aws-sdk-v2.json": {
        "nodes": {
            EB_APP: (2, 1, 0, 0),
            TABLE: (2, 1, 0, 0),  # the duplicate's 400 with error + fault is an error
            SNS: (2, 0, 0, 0),  # nested in the dynamodb subsegment, once streamed
            ("signup.example.com", None): (1, 0, 0, 0),
            ("themes.example.net", "remote"): (0, 0, 0, 1),
        },
        "edges": {
            (EB_APP, TABLE): 3,
            (EB_APP, SNS): 2,
            (("signup.example.com", None), ("themes.example.net", "remote")): 1,
        },
        "filters": [
            ('service("signups")', {"created", "duplicate", "streamed"}),
            ('edge("signup-app", "signups")', {"created", "duplicate", "streamed"}),
            ('edge("signup-app", "SNS")', {"created", "streamed"}),
            ('edge("signups", "SNS")', set()),
            ("http.status = 409", {"duplicate"}),
            ('service("signups") { error }', {"duplicate"}),
            ('service("signups") { fault }', set()),
            ('service("SNS") { ok }', {"created", "streamed"}),
            ('service("themes.example.net") { fault }', {"by-host"}),
            ('service(id(type: "remote"))', {"by-host"}),
            ("fault", set()),
            ("ok", {"created", "streamed", "by-host"}),
            ("partial", set()),
            ('rootcause.error.exception { name = "ConditionalCheckFailedException" }',
             {"duplicate"}),
        ],
    },
    "java.json": {
        "nodes": {
            ("signup-app", "AWS::EC2::Instance"): (1, 1, 1, 0),
            TABLE: (1, 1, 1, 0),  # AmazonDynamoDBv2 (v1) and DynamoDb (v2) are the same table
            SNS: (1, 0, 0, 0),
        },
        "edges": {(("signup-app", "AWS::EC2::Instance"), TABLE): 3,
                  (("signup-app", "AWS::EC2::Instance"), SNS): 1},
        "filters": [
            ('service("signups") { throttle }', {"throttled"}),
            ('service("signups") { error }', {"duplicate", "throttled"}),
            ("error", {"duplicate", "throttled"}),
            ("throttle", {"throttled"}),
            ("http.status = 429", {"throttled"}),
            ('service(id(name: "signup-app", type: "AWS::EC2::Instance"))',
             {"created", "duplicate", "throttled"}),
            ('edge("signup-app", "SNS")', {"created"}),
            ('availabilityzone = "us-east-1a"', {"created", "duplicate", "throttled"}),
            ('service(id(type: "AWS::AmazonDynamoDBv2"))', set()),
        ],
    },
    "go.json": {
        "nodes": {
            APP: (2, 1, 0, 0),
            TABLE: (2, 1, 0, 0),  # a 400 with only the fault flag (Go's AddError) is an error
            SNS: (1, 0, 0, 0),
            ("SQS", "AWS::SQS"): (1, 0, 0, 0),
        },
        "edges": {(APP, TABLE): 3, (APP, SNS): 1, (APP, ("SQS", "AWS::SQS")): 1},
        "filters": [
            ('service("signups") { error }', {"duplicate"}),
            ('service("signups") { fault }', set()),
            ('edge("signup-app", "SQS")', {"queued"}),
            ('service(id(type: "AWS::SQS"))', {"queued"}),
            ('service("marshal")', set()),
            ("partial", set()),
            ("error", {"duplicate"}),
        ],
    },
    "dotnet.json": {
        "nodes": {
            ("signup-app", "AWS::ECS::Container"): (2, 1, 0, 0),
            TABLE: (2, 1, 0, 0),
            SNS: (1, 0, 0, 1),  # SimpleNotificationService is SNS
        },
        "edges": {(("signup-app", "AWS::ECS::Container"), TABLE): 3,
                  (("signup-app", "AWS::ECS::Container"), SNS): 2},
        "filters": [
            ('service("SNS") { fault }', {"sns-fault"}),
            ('edge("signup-app", "SNS") { fault }', {"sns-fault"}),
            ("fault", set()),
            ("ok", {"created", "sns-fault"}),
            ('rootcause.fault.service { name = "SNS" }', {"sns-fault"}),
            ('service("signups") { error }', {"duplicate"}),
        ],
    },
    "otel-xray-exporter.json": {
        "nodes": {
            EB_APP: (2, 1, 0, 0),
            TABLE: (1, 1, 0, 0),  # named from aws.table_names
            SNS: (1, 0, 0, 0),
            ("mailer", None): (1, 0, 0, 0),  # the instrumented service replaces the remote node
        },
        "edges": {
            (EB_APP, TABLE): 2,
            (EB_APP, SNS): 1,
            (EB_APP, ("mailer", None)): 1,
        },
        "filters": [
            ('id(account.id: "123456789012")', {"created", "duplicate", "downstream"}),
            ('id(account.id: "210987654321")', {"downstream"}),
            ('edge("signup-app", "mailer")', {"downstream"}),
            ('service(id(name: "mailer", type: "remote"))', set()),
            ('service("signups") { error }', {"duplicate"}),
            ('annotation.outcome = "duplicate"', {"duplicate"}),
            ("partial", set()),
            ('rootcause.error.exception { name = '
             '"botocore.errorfactory.ConditionalCheckFailedException" }', {"duplicate"}),
        ],
    },
    "xray-api-in-progress.json": {
        "nodes": {APP: (1, 0, 0, 0), TABLE: (1, 0, 0, 0)},  # in-progress documents: no calls
        "edges": {(APP, TABLE): 1},
        "filters": [
            ("partial", {"running"}),
            ("ok", {"completed"}),
            ("!ok", {"running"}),
            ('service("signups")', {"running", "completed"}),
            ('service("signups") { ok }', {"completed"}),
            ('edge("signup-app", "signups")', {"running", "completed"}),
            ("http.status = 201", {"completed"}),
        ],
    },
}  # fmt: skip


def _load(name: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    data = json.loads((SDKS / name).read_text())
    assert {"sdk", "shape", "sources"} <= set(data["_about"]), name
    return data["_about"]["traces"], data["documents"]


def _store(docs: list[dict[str, Any]]) -> Store:
    store = Store(retention=Retention(max_traces=None, max_age=None))
    ensure_indexed(store)
    for doc in docs:  # one at a time, in file order: as the daemon receives them
        store.put_many([copy.deepcopy(doc)])
    return store


def _summary(services: list[dict[str, Any]]) -> tuple[dict[Any, Counts], dict[Any, int]]:
    by_ref = {s["ReferenceId"]: (s["Name"], s.get("Type")) for s in services}
    nodes: dict[Any, Counts] = {}
    edges: dict[Any, int] = {}
    for s in services:
        key = by_ref[s["ReferenceId"]]
        if s.get("Type") != "client":
            stats = s["SummaryStatistics"]
            errors, faults = stats["ErrorStatistics"], stats["FaultStatistics"]
            nodes[key] = (stats["OkCount"], errors["OtherCount"], errors["ThrottleCount"],
                          faults["TotalCount"])  # fmt: skip
        for e in s["Edges"]:
            edges[(key, by_ref[e["ReferenceId"]])] = e["SummaryStatistics"]["TotalCount"]
    return nodes, edges


def test_the_corpus_covers_every_file() -> None:
    assert sorted(p.name for p in SDKS.glob("*.json")) == sorted(EXPECTED)
    assert (SDKS / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_documents_are_valid_segment_documents(name: str) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA)
    for doc in _load(name)[1]:
        assert [e.message for e in validator.iter_errors(doc)] == [], (name, doc["id"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_graph_draws_each_aws_call_as_its_own_node(name: str) -> None:
    labels, docs = _load(name)
    store = _store(docs)
    views = [build_trace_view(t) for t in store.traces_between(T0 - 60, T0 + 600)]
    assert len(views) == len(labels)
    expected = EXPECTED[name]
    nodes, edges = _summary(service_graph(views))
    assert nodes == expected["nodes"]
    assert edges == {**expected["edges"], **_client_edges(nodes, views)}
    indexed, _, _ = graph_between(store, T0 - 60, T0 + 600)
    assert _summary(indexed) == (nodes, edges)  # the per-minute cells say the same


def _client_edges(nodes: dict[Any, Counts], views: list[Any]) -> dict[Any, int]:
    """The client -> root edges X-Ray draws (their counts are the roots' own calls)."""
    roots = {(s.key.name, s.key.type) for v in views for s in v.services if s.root}
    return {(("client", "client"), root): sum(nodes[root]) for root in roots}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [(n, text, want) for n, e in EXPECTED.items() for text, want in e["filters"]],
)
def test_filters_find_the_documented_traces(name: str, text: str, expected: set[str]) -> None:
    labels, docs = _load(name)
    store = _store(docs)
    predicate = compile_filter(text)
    traces = store.traces_between(T0 - 60, T0 + 600)
    assert {labels[t.id] for t in traces if predicate(build_trace_view(t))} == expected
    window = (T0 - 60, T0 + 600, "Event")
    page = summaries_page(store, window, parse(text), lambda _: True, None, 100)
    assert {labels[s["Id"]] for s in page.summaries} == expected


def test_console_shows_the_flags_as_sent() -> None:
    """Node's duplicate sends error AND fault; the map counts an error (status 400 first), and the
    trace page's details show what the SDK sent."""
    labels, docs = _load("node-aws-sdk-v2.json")
    duplicate = next(d for d in docs if labels.get(d["trace_id"]) == "duplicate")
    trace = {
        "Id": duplicate["trace_id"],
        "Duration": 0.025,
        "Segments": [{"Id": duplicate["id"], "Document": json.dumps(duplicate)}],
    }
    rows = {r["name"]: r for r in timeline_json(trace)["rows"]}
    call = rows["dynamodb"]
    assert call["outcome"] == "error"
    assert call["flags_as_sent"] == "error, fault (status 400 counts as an error, not a fault)"
    assert rows["signup-app"]["flags_as_sent"] == "error"
