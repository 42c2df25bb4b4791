"""POST /v1/traces fuzzed over a real socket: hostile bytes and well-formed but odd OTLP.

Two properties. Any body under any media type and content encoding gets an OTLP answer (200,
400, 413 or 415, with a decodable Status or ExportTraceServiceResponse in the request's
encoding) within a bounded time, and a good export still succeeds afterwards. Any decodable
ExportTraceServiceRequest (random ids, kinds, times inside and outside X-Ray's window,
attributes of every AnyValue type under the keys the mapping reads, exception events,
resources), in protobuf or OTLP/JSON, gzipped or not, gets 200; partial_success accounts for
every span not stored; and every stored document validates against AWS's segment schema.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import time
from typing import Any

import requests
from google.protobuf import json_format
from google.rpc import status_pb2
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.support.openapi_fuzz import json_values
from tests.xray_local.xl_docs import validate
from xray_local.ingest.protocol import validate_document
from xray_local.server import XRayServer

PROTOBUF, JSON = "application/x-protobuf", "application/json"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOW_S = int(time.time())
SALTS = itertools.count(1)
DAY = 24 * 3600
#: Keys the mapping reads (values of any type must be survived) plus a few it does not.
KEYS = [
    "http.method", "http.request.method", "http.status_code", "http.response.status_code",
    "http.url", "url.full", "url.scheme", "url.path", "url.query", "server.address",
    "server.port", "http.host", "http.target", "http.user_agent", "user_agent.original",
    "http.client_ip", "client.address", "net.peer.ip", "net.peer.name", "peer.service",
    "rpc.system", "rpc.service", "rpc.method", "cloud.region", "aws.region",
    "aws.request_id", "aws.dynamodb.table_names", "aws.table_name", "aws.sns.topic.arn",
    "messaging.destination.name", "aws.remote.service", "aws.local.service", "db.name",
    "enduser.id", "aws.xray.annotations", "aws.xray.metadata.form", "aws.xray.metadata.default",
    "http.response_content_length", "outcome", "x",
]  # fmt: skip
NAME_CHARS = st.characters(codec="latin-1", exclude_categories=("Cs",)) | st.sampled_from("中文<>")

scalar = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.binary(max_size=8),
    st.sampled_from(["aws-api", "DynamoDB", "arn:aws:sns:us-east-1:1:t", "409", "200"]),
)
values = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from(KEYS) | st.text(max_size=12)
attributes = st.dictionaries(keys, values | st.lists(st.sampled_from(KEYS), max_size=3), max_size=8)


def any_value(value: Any) -> Any:
    out = common_pb2.AnyValue()
    if isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, list):
        out.array_value.values.extend(any_value(v) for v in value)
    elif isinstance(value, dict):
        out.kvlist_value.values.extend(key_value(k, v) for k, v in value.items())
    return out


def key_value(key: str, value: Any) -> Any:
    return common_pb2.KeyValue(key=key, value=any_value(value))


#: Mostly spans X-Ray takes, sometimes ones it must reject (bad ids, times outside its window):
#: the first number picks which, 0 (where shrinking goes) being the valid case.
trace_ids = st.builds(
    lambda pick, rest, other: (NOW_S.to_bytes(4, "big") + rest, other, b"\x00" * 16)[pick // 8],
    st.integers(min_value=0, max_value=17),
    st.binary(min_size=12, max_size=12),
    st.binary(max_size=17),
)
valid_span_id = st.binary(min_size=7, max_size=7).map(lambda rest: b"\x5a" + rest)
span_ids = st.builds(
    lambda pick, valid, other: other if pick == 9 else valid,
    st.integers(min_value=0, max_value=9),
    valid_span_id,
    st.binary(max_size=9),
)
starts = st.builds(
    lambda pick, near, far: far if pick == 4 else near,
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=-3600, max_value=60),
    # outside X-Ray's window (older than 14 days, or over 2 hours ahead) or inside it but never
    # older than the local store keeps traces (7 days), so nothing accepted is pruned at once
    st.integers(min_value=-20 * DAY, max_value=-15 * DAY)
    | st.integers(min_value=-6 * DAY, max_value=3600)
    | st.integers(min_value=3 * 3600, max_value=5 * 3600),
)
durations = st.integers(min_value=0, max_value=10**9) | st.integers(
    min_value=-(10**9), max_value=10 * 10**9
)
stacktrace = st.sampled_from(
    ['Traceback (most recent call last):\n  File "/a.py", line 3, in f\nE: m\n', "", "\n\n"]
)
exception_event = st.builds(
    lambda name, typ, message, stack: trace_pb2.Span.Event(
        name=name,
        time_unix_nano=NOW_S * 10**9,
        attributes=[
            key_value("exception.type", typ),
            key_value("exception.message", message),
            key_value("exception.stacktrace", stack),
        ],
    ),
    st.sampled_from(["exception", "log"]),
    values,
    values,
    stacktrace | values,
)
spans = st.builds(
    lambda trace_id, span_id, parent, name, kind, start, duration, attrs, events, status: (
        trace_pb2.Span(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind=kind,
            start_time_unix_nano=max(0, (NOW_S + start) * 10**9),
            end_time_unix_nano=max(0, (NOW_S + start) * 10**9 + duration),
            attributes=[key_value(k, v) for k, v in attrs.items()],
            events=events,
            status=trace_pb2.Status(code=status[0], message=status[1]),
        )
    ),
    trace_ids,
    span_ids,
    st.just(b"") | valid_span_id | st.binary(max_size=9) | st.just(b"\x00" * 8),
    st.text(NAME_CHARS, max_size=40),
    st.integers(min_value=0, max_value=6),
    starts,
    durations,
    attributes,
    st.lists(exception_event, max_size=2),
    st.tuples(st.integers(min_value=0, max_value=2), st.text(max_size=20)),
)
resources = st.fixed_dictionaries(
    {"service.name": st.text(NAME_CHARS, max_size=30)},
    optional={
        "cloud.provider": st.sampled_from(["aws", "gcp"]),
        "cloud.platform": st.sampled_from(["aws_ec2", "aws_ecs", "aws_elastic_beanstalk", "x"]),
        "telemetry.sdk.language": st.sampled_from(["python", "java"]),
        "host.id": st.text(max_size=10),
        "service.instance.id": st.sampled_from(["12", "abc"]),
    },
)


def request_of(batches: list[tuple[dict[str, Any], list[Any]]]) -> Any:
    message = trace_service_pb2.ExportTraceServiceRequest()
    for resource, span_list in batches:
        resource_spans = message.resource_spans.add()
        resource_spans.resource.attributes.extend(key_value(k, v) for k, v in resource.items())
        resource_spans.scope_spans.add().spans.extend(span_list)
    return message


def otlp_json(message: Any) -> bytes:
    doc = json_format.MessageToDict(message)
    for resource_spans in doc.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(doc).encode()


def status_of(server: XRayServer) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(server.endpoint_url + "/status", timeout=5).json()
    return answer


def good_export_works(server: XRayServer) -> None:
    span = trace_pb2.Span(
        trace_id=NOW_S.to_bytes(4, "big") + b"\x42" * 12,
        span_id=b"\x42" * 8,
        kind=2,
        start_time_unix_nano=time.time_ns(),
        end_time_unix_nano=time.time_ns() + 1,
    )
    body = request_of([({"service.name": "canary"}, [span])]).SerializeToString()
    answer = requests.post(
        server.endpoint_url + "/v1/traces", data=body, headers={"Content-Type": PROTOBUF}, timeout=5
    )
    assert answer.status_code == 200


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=300).map(gzip.compress),
    ),
    content_type=st.sampled_from(
        [PROTOBUF, JSON, "application/json; charset=utf-8", "text/plain", None]
    ),
    encoding=st.sampled_from([None, "gzip", "identity", "br"]),
)
def test_any_body_gets_an_otlp_answer(
    xray_server: XRayServer, body: bytes, content_type: str | None, encoding: str | None
) -> None:
    headers = {
        k: v for k, v in (("Content-Type", content_type), ("Content-Encoding", encoding)) if v
    }
    started = time.monotonic()
    answer = requests.post(
        xray_server.endpoint_url + "/v1/traces", data=body, headers=headers, timeout=5
    )
    assert time.monotonic() - started < 5
    assert answer.status_code in (200, 400, 413, 415), (body, headers, answer.content)
    media = answer.headers["Content-Type"]
    if answer.status_code == 200:
        assert media == content_type.split(";")[0] if content_type else False
        if media == PROTOBUF:
            trace_service_pb2.ExportTraceServiceResponse().ParseFromString(answer.content)
        else:
            assert isinstance(answer.json(), dict)
    elif media == PROTOBUF:
        status = status_pb2.Status()
        status.ParseFromString(answer.content)
        assert status.message
    else:
        assert media == JSON and answer.json()["message"]
    assert b"Traceback" not in answer.content
    good_export_works(xray_server)


@FUZZ
@given(
    batches=st.lists(st.tuples(resources, st.lists(spans, max_size=5)), min_size=1, max_size=3),
    as_json=st.booleans(),
    gzipped=st.booleans(),
)
def test_any_otlp_request_is_stored_or_rejected_span_by_span(
    xray_server: XRayServer,
    batches: list[tuple[dict[str, Any], list[Any]]],
    as_json: bool,
    gzipped: bool,
) -> None:
    salt = next(SALTS).to_bytes(6, "big")  # each example its own traces (the server is shared)
    for _, span_list in batches:
        for span in span_list:
            if len(span.trace_id) == 16 and span.trace_id.strip(b"\x00"):
                span.trace_id = span.trace_id[:4] + salt + span.trace_id[10:]
    message = request_of(batches)
    body = otlp_json(message) if as_json else message.SerializeToString()
    headers = {"Content-Type": JSON if as_json else PROTOBUF}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    before = status_of(xray_server)
    answer = requests.post(
        xray_server.endpoint_url + "/v1/traces", data=body, headers=headers, timeout=10
    )
    assert answer.status_code == 200, answer.content
    after = status_of(xray_server)
    if as_json:
        partial = answer.json().get("partialSuccess", {})
        rejected = int(partial.get("rejectedSpans", 0))
        error_message = partial.get("errorMessage", "")
    else:
        response = trace_service_pb2.ExportTraceServiceResponse()
        response.ParseFromString(answer.content)
        rejected = response.partial_success.rejected_spans
        error_message = response.partial_success.error_message
    total = sum(len(span_list) for _, span_list in batches)
    assert 0 <= rejected <= total and bool(rejected) == bool(error_message)
    # Counters: each accepted span made one document (two for a root client span), and every
    # span is counted as received, then stored, duplicated or dropped.
    docs = sum(after[k] - before[k] for k in ("stored", "duplicates"))
    assert total - rejected <= docs <= 2 * (total - rejected), (before, after, error_message)
    assert after["received"] - before["received"] == docs + rejected
    assert after["dropped_total"] - before["dropped_total"] == rejected
    event(f"accepted spans: {min(total - rejected, 3)} of {min(total, 3)}")
    for reason in ("trace_id", "span_id", "parent", "timestamps", "out_of_range"):
        if reason in error_message:
            event(f"rejected for {reason}")
    stored = 0
    for trace_id in {s.trace_id.hex() for _, span_list in batches for s in span_list}:
        if len(trace_id) == 32:
            for doc in xray_server.store.documents(f"1-{trace_id[:8]}-{trace_id[8:]}"):
                validate(validate_document(doc))
                json.dumps(doc, allow_nan=False)
                stored += 1
    assert stored == after["stored"] - before["stored"]
