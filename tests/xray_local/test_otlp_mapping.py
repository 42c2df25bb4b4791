"""OTLP spans -> X-Ray segment documents (xray_local.ingest.otlp_segments), in process.

Each case builds the neutral `Span` the decoder produces, converts it, and checks the fields the
AWS X-Ray exporter's mapping gives, that every document validates against AWS's segment schema,
and that a converted signup trace yields the same service-graph nodes and edges as the X-Ray
SDK's documents for the same request (the graph, summaries and filters read only documents).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.xray_local.xl_docs import SIGNUP_REQUEST_ATTRIBUTES, signup_segment, validate
from xray_local.ingest.otlp import Span, SpanEvent
from xray_local.ingest.otlp_segments import (
    MAX_SPAN_AGE,
    span_documents,
    to_documents,
    xray_trace_id,
)
from xray_local.query.views import build_trace_view
from xray_local.store.traces import merge_documents

NOW = time.time()
TRACE = f"{int(NOW):08x}" + "5f2a" * 6
SERVER, CLIENT, PRODUCER, INTERNAL = 2, 3, 4, 1
TOPIC = "arn:aws:sns:us-east-1:123456789012:new-signups"
PY_TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/signups/store.py", line 41, in add\n'
    "    self.table.put_item(**request)\n"
    '  File "/venv/botocore/client.py", line 1023, in _make_api_call\n'
    "    raise error_class(parsed_response, operation_name)\n"
    "ConditionalCheckFailedException: The conditional request failed\n"
)


def make_span(**changes: Any) -> Span:
    base = Span(
        trace_id=TRACE,
        span_id="a1b2c3d4e5f60718",
        parent_span_id="",
        name="POST /signup",
        kind=SERVER,
        start_ns=int((NOW - 1.0) * 1e9),
        end_ns=int((NOW - 0.95) * 1e9),
        attributes={},
        events=(),
        status_code=0,
        status_message="",
        resource={"service.name": "signup-app", "telemetry.sdk.language": "python"},
        size=200,
    )
    return replace(base, **changes)


def one_doc(span: Span) -> dict[str, Any]:
    [doc] = span_documents(span)
    return validate(doc)


def dynamodb(duplicate: bool, parent: str = "a1b2c3d4e5f60718") -> Span:
    events: tuple[SpanEvent, ...] = ()
    if duplicate:
        attrs = {
            "exception.type": "ConditionalCheckFailedException",
            "exception.message": "The conditional request failed",
            "exception.stacktrace": PY_TRACE,
        }
        events = (SpanEvent("exception", int((NOW - 0.97) * 1e9), attrs),)
    return make_span(
        span_id="0dd0000000000001",
        parent_span_id=parent,
        name="DynamoDB.PutItem",
        kind=CLIENT,
        start_ns=int((NOW - 0.99) * 1e9),
        end_ns=int((NOW - 0.97) * 1e9),
        attributes={
            "rpc.system": "aws-api",
            "rpc.service": "DynamoDB",
            "rpc.method": "PutItem",
            "cloud.region": "us-east-1",
            "aws.dynamodb.table_names": ["signups"],
            "aws.request_id": "REQ1",
            "http.status_code": 400 if duplicate else 200,
            "db.system": "dynamodb",
        },
        events=events,
        status_code=2 if duplicate else 0,
        status_message="ConditionalCheckFailedException" if duplicate else "",
    )


def sns(parent: str = "a1b2c3d4e5f60718") -> Span:
    return make_span(
        span_id="5e50000000000001",
        parent_span_id=parent,
        name="new-signups send",
        kind=PRODUCER,
        start_ns=int((NOW - 0.96) * 1e9),
        end_ns=int((NOW - 0.955) * 1e9),
        attributes={
            "rpc.system": "aws-api",
            "rpc.service": "SNS",
            "rpc.method": "Publish",
            "aws.sns.topic.arn": TOPIC,
            "messaging.system": "aws.sns",
            "http.status_code": 200,
        },
    )


def server(status: int) -> Span:
    return make_span(attributes={**SIGNUP_REQUEST_ATTRIBUTES, "http.status_code": status})


def graph_of(docs: list[dict[str, Any]]) -> tuple[set[Any], set[Any]]:
    view = build_trace_view(merge_documents(docs[0]["trace_id"], docs))
    nodes = {(s.key.name, s.key.type, s.root, s.inferred) for s in view.services}
    edges = {(e.source.name, e.destination.name, e.destination.type) for e in view.edges}
    return nodes, edges


@pytest.mark.parametrize("duplicate", [True, False])
def test_signup_trace_draws_the_same_graph_as_the_xray_sdk(duplicate: bool) -> None:
    spans = [server(409 if duplicate else 201), dynamodb(duplicate)]
    spans += [] if duplicate else [sns()]
    conversion = to_documents(spans, now=NOW)
    assert not conversion.rejected
    docs = [validate(d) for d in conversion.documents]
    sdk = signup_segment(duplicate=duplicate)
    assert graph_of(docs) == graph_of([sdk])
    view = build_trace_view(merge_documents(docs[0]["trace_id"], docs))
    sdk_view = build_trace_view(merge_documents(sdk["trace_id"], [sdk]))
    assert (view.http_status, view.error, view.fault) == (
        sdk_view.http_status,
        sdk_view.error,
        sdk_view.fault,
    )
    assert view.http_url == "http://127.0.0.1:8000/signup" and view.http_method == "POST"


def test_dynamodb_client_span_becomes_an_aws_subsegment_with_its_cause() -> None:
    doc = one_doc(dynamodb(duplicate=True))
    assert doc["type"] == "subsegment" and doc["parent_id"] == "a1b2c3d4e5f60718"
    assert (doc["name"], doc["namespace"]) == ("DynamoDB", "aws")
    assert doc["aws"] == {
        "operation": "PutItem",
        "region": "us-east-1",
        "request_id": "REQ1",
        "table_name": "signups",
    }
    assert doc["http"] == {"response": {"status": 400}}
    assert doc.get("error") is True and "fault" not in doc  # 400 is an error, not a fault
    [exc] = doc["cause"]["exceptions"]
    assert exc["type"] == "ConditionalCheckFailedException" and exc["remote"] is True
    assert exc["message"] == "The conditional request failed"
    assert [f["label"] for f in exc["stack"]] == ["_make_api_call", "add"]  # innermost first
    assert exc["stack"][1] == {"path": "/srv/app/signups/store.py", "line": 41, "label": "add"}
    assert doc["metadata"]["default"] == {
        "rpc.system": "aws-api",
        "rpc.service": "DynamoDB",
        "db.system": "dynamodb",
    }


def test_sns_publish_records_the_topic_arn_like_the_sdk() -> None:
    doc = one_doc(sns())
    assert (doc["name"], doc["namespace"]) == ("SNS", "aws")
    assert doc["aws"] == {"operation": "Publish", "topic_arn": TOPIC}


def test_server_span_with_stable_semantic_conventions() -> None:
    doc = one_doc(
        make_span(
            attributes={
                "http.request.method": "POST",
                "url.scheme": "https",
                "server.address": "signup.example.com",
                "server.port": 8443,
                "url.path": "/signup",
                "url.query": "ref=a",
                "user_agent.original": "curl/8",
                "client.address": "203.0.113.9",
                "http.response.status_code": 201,
                "enduser.id": "ada@example.com",
            }
        )
    )
    assert doc["name"] == "signup-app" and "type" not in doc and "parent_id" not in doc
    assert doc["http"] == {
        "request": {
            "method": "POST",
            "url": "https://signup.example.com:8443/signup?ref=a",
            "user_agent": "curl/8",
            "client_ip": "203.0.113.9",
        },
        "response": {"status": 201},
    }
    assert doc["user"] == "ada@example.com"
    assert not any(doc.get(flag) for flag in ("error", "fault", "throttle"))


def test_forwarded_client_ip_and_full_url() -> None:
    doc = one_doc(
        make_span(attributes={"http.url": "http://a/b", "http.client_ip": "198.51.100.7"})
    )
    assert doc["http"]["request"] == {
        "url": "http://a/b",
        "client_ip": "198.51.100.7",
        "x_forwarded_for": True,
    }


@pytest.mark.parametrize(
    ("status", "span_status", "message", "flags"),
    [
        (200, 0, "", set()),
        (404, 0, "", {"error"}),
        (409, 2, "", {"error"}),
        (429, 0, "", {"error", "throttle"}),
        (503, 0, "", {"fault"}),
        (None, 2, "boom", {"fault"}),
        (None, 0, "", set()),
    ],
)
def test_error_fault_throttle_follow_the_status(
    status: int | None, span_status: int, message: str, flags: set[str]
) -> None:
    attrs = {} if status is None else {"http.response.status_code": status}
    doc = one_doc(make_span(attributes=attrs, status_code=span_status, status_message=message))
    assert {f for f in ("error", "fault", "throttle") if doc.get(f)} == flags
    if message:  # no exception event: the status message is the cause
        assert [e["message"] for e in doc["cause"]["exceptions"]] == [message]


@pytest.mark.parametrize(
    ("attributes", "name"),
    [
        ({"peer.service": "payments"}, "payments"),
        ({"server.address": "api.example.com", "http.request.method": "GET"}, "api.example.com"),
        ({"net.peer.name": "db.internal"}, "db.internal"),
        ({"aws.remote.service": "AWS::S3"}, "AWS::S3"),
        ({}, "GET /v1/prices"),
    ],
)
def test_other_client_calls_are_remote_subsegments(attributes: dict[str, Any], name: str) -> None:
    span = make_span(
        kind=CLIENT, parent_span_id="a1b2c3d4e5f60718", name="GET /v1/prices", attributes=attributes
    )
    doc = one_doc(span)
    assert (doc["name"], doc["namespace"]) == (name, "remote")


def test_internal_span_is_a_plain_subsegment() -> None:
    doc = one_doc(make_span(kind=INTERNAL, parent_span_id="a1b2c3d4e5f60718", name="validate"))
    assert doc["name"] == "validate" and doc["type"] == "subsegment" and "namespace" not in doc


def test_root_client_span_becomes_service_segment_and_call() -> None:
    span = replace(dynamodb(duplicate=False), parent_span_id="")
    service, call = [validate(d) for d in span_documents(span)]
    assert service["name"] == "signup-app" and "type" not in service
    assert call["parent_id"] == service["id"] and call["namespace"] == "aws"
    assert call["id"] == span.span_id
    assert span_documents(span)[0]["id"] == service["id"]  # stable: a re-send is a duplicate
    nodes, edges = graph_of([service, call])
    assert ("signups", "AWS::DynamoDB::Table", False, True) in nodes
    assert edges == {("signup-app", "signups", "AWS::DynamoDB::Table")}


def test_server_span_with_a_remote_parent_is_a_segment_with_parent_id() -> None:
    doc = one_doc(make_span(parent_span_id="ffffeeeeddddcccc"))
    assert doc["parent_id"] == "ffffeeeeddddcccc" and "type" not in doc


def test_annotations_from_aws_xray_annotations_and_metadata_for_the_rest() -> None:
    doc = one_doc(
        make_span(
            attributes={
                "aws.xray.annotations": ["outcome", "signup.attempt", "missing", "tags"],
                "outcome": "duplicate",
                "signup.attempt": 2,
                "tags": ["a", "b"],  # a list cannot be an annotation: it stays metadata
                "aws.xray.metadata.form": '{"theme": "flatly"}',
                "ratio": float("nan"),
            },
            resource={"service.name": "signup-app", "deployment.environment": "dev"},
        )
    )
    assert doc["annotations"] == {"outcome": "duplicate", "signup_attempt": 2}
    assert doc["metadata"]["form"] == {"theme": "flatly"}
    default = doc["metadata"]["default"]
    assert default["tags"] == ["a", "b"] and default["ratio"] == "nan"
    assert default["otel.resource.deployment.environment"] == "dev"
    json.dumps(doc, allow_nan=False)  # what the console parses must be strict JSON


@pytest.mark.parametrize(
    ("resource", "origin"),
    [
        (
            {"cloud.provider": "aws", "cloud.platform": "aws_elastic_beanstalk"},
            "AWS::ElasticBeanstalk::Environment",
        ),
        ({"cloud.platform": "aws_ec2", "host.id": "i-0abc"}, "AWS::EC2::Instance"),
        (
            {"cloud.platform": "aws_ecs", "aws.ecs.launchtype": "fargate"},
            "AWS::ECS::Fargate",
        ),
        ({"cloud.provider": "gcp", "cloud.platform": "aws_ec2"}, None),
        ({}, None),
    ],
)
def test_origin_from_the_resource(resource: dict[str, Any], origin: str | None) -> None:
    doc = one_doc(make_span(resource={"service.name": "signup-app", **resource}))
    assert doc.get("origin") == origin
    if resource.get("host.id"):
        assert doc["aws"]["ec2"] == {"instance_id": "i-0abc"}
    nodes, _ = graph_of([doc])
    assert ("signup-app", origin, True, False) in nodes  # the node's type is the origin


def test_beanstalk_environment_details() -> None:
    resource = {
        "service.name": "signup-app",
        "cloud.platform": "aws_elastic_beanstalk",
        "service.namespace": "signup-prod",
        "service.version": "v7",
        "service.instance.id": "12",
    }
    doc = one_doc(make_span(resource=resource))
    assert doc["aws"]["elastic_beanstalk"] == {
        "environment_name": "signup-prod",
        "version_label": "v7",
        "deployment_id": 12,
    }


def test_ids_times_and_names() -> None:
    doc = one_doc(make_span(name="ignored", resource={"service.name": "my<svc>!?" + "x" * 300}))
    assert doc["trace_id"] == xray_trace_id(TRACE) == f"1-{TRACE[:8]}-{TRACE[8:]}"
    assert doc["id"] == "a1b2c3d4e5f60718"
    assert doc["start_time"] == pytest.approx(NOW - 1.0) and doc["end_time"] > doc["start_time"]
    assert doc["name"].startswith("mysvc") and len(doc["name"]) == 200
    assert one_doc(make_span(resource={"service.name": "<>"}))["name"] == "span"


def test_random_w3c_trace_ids_are_accepted() -> None:
    """PutTraceSegments: the epoch part of the trace id is "not required or validated"."""
    conversion = to_documents([make_span(trace_id="4efaaf4d1e8720b39541901950019ee5")], now=NOW)
    assert not conversion.rejected
    assert conversion.documents[0]["trace_id"] == "1-4efaaf4d-1e8720b39541901950019ee5"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"trace_id": "0" * 32}, "invalid_trace_id"),
        ({"trace_id": "abcd"}, "invalid_trace_id"),
        ({"span_id": "0" * 16}, "invalid_span_id"),
        ({"parent_span_id": "abc"}, "invalid_parent_id"),
        ({"start_ns": 0}, "invalid_timestamps"),
        ({"end_ns": int((NOW - 2) * 1e9)}, "invalid_timestamps"),
        ({"start_ns": int((NOW - MAX_SPAN_AGE - 60) * 1e9)}, "timestamp_out_of_range"),
        (
            {"start_ns": int((NOW + 3 * 3600) * 1e9), "end_ns": int((NOW + 3 * 3600 + 1) * 1e9)},
            "timestamp_out_of_range",
        ),
        ({"size": 200 * 1024 + 1}, "span_too_large"),
    ],
)
def test_spans_xray_would_refuse_are_rejected_one_by_one(
    changes: dict[str, Any], reason: str
) -> None:
    good = make_span(span_id="1111111111111111")
    conversion = to_documents([good, make_span(**changes)], now=NOW)
    assert conversion.rejected == {reason: 1}
    assert [d["id"] for d in conversion.documents] == [good.span_id]
    assert conversion.error_message.startswith(f"1 span(s) rejected, {reason}: span ")


def test_all_zero_parent_means_root() -> None:
    doc = one_doc(make_span(kind=INTERNAL, parent_span_id="0" * 16))
    assert "parent_id" not in doc and "type" not in doc
