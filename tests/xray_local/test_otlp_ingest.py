"""POST /v1/traces on a running XRayServer (loopback, free port): real OTLP/HTTP requests in.

The first test is the story with OpenTelemetry instead of the X-Ray SDK: the real OTel SDK (with
AWS's X-Ray id generator and the OTLP/HTTP exporter) exports a signup server span with a
DynamoDB client span shaped like the botocore instrumentation's, the X-Ray SDK sends the same
requests over UDP, and boto3's xray client must find the same picture for both: the 409 filter,
the DynamoDB subsegment's 400 and exception, and the same service-graph nodes and edges. The
others exercise the receiver: protobuf, JSON with hex ids, gzip, partial success, malformed
payloads (400, and the server keeps ingesting), media types (415), and size limits (413).
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import pytest
import requests
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.xray_local.sdk_traffic import make_recorder, signup
from tests.xray_local.xl_docs import SIGNUP_REQUEST_ATTRIBUTES, validate
from xray_local.ingest.otlp import MAX_BODY_BYTES, MAX_SPANS
from xray_local.server import XRayServer

PROTOBUF = "application/x-protobuf"
TOPIC = "arn:aws:sns:us-east-1:123456789012:new-signups"


class ConditionalCheckFailedException(Exception):
    """Named and placed like botocore's modelled exception, whose type the span event records."""

    __module__ = "botocore.errorfactory"


def export_signup(endpoint: str, duplicate: bool, compression: Compression) -> str:
    """One POST /signup traced by the OTel SDK, spans as Flask and botocore instrument them."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": "signup-app"}),
        id_generator=AwsXRayIdGenerator(),
    )
    exporter = OTLPSpanExporter(endpoint=endpoint, compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # children arrive first
    tracer = provider.get_tracer("tests.otlp")
    aws = {"rpc.system": "aws-api", "cloud.region": "us-east-1", "aws.request_id": "R" * 20}
    with tracer.start_as_current_span(
        "POST /signup", kind=SpanKind.SERVER, attributes=SIGNUP_REQUEST_ATTRIBUTES
    ) as root:
        with tracer.start_as_current_span(
            "DynamoDB.PutItem",
            kind=SpanKind.CLIENT,
            attributes={
                **aws,
                "rpc.service": "DynamoDB",
                "rpc.method": "PutItem",
                "db.system": "dynamodb",
                "aws.dynamodb.table_names": ["signups"],
            },
        ) as put:
            put.set_attribute("http.status_code", 400 if duplicate else 200)
            if duplicate:
                put.record_exception(
                    ConditionalCheckFailedException("The conditional request failed")
                )
                put.set_status(Status(StatusCode.ERROR, "ConditionalCheckFailedException"))
        if not duplicate:
            attributes = {**aws, "rpc.service": "SNS", "rpc.method": "Publish"}
            attributes |= {"aws.sns.topic.arn": TOPIC, "http.status_code": 200}
            with tracer.start_as_current_span(
                "new-signups send", kind=SpanKind.PRODUCER, attributes=attributes
            ):
                pass
        root.set_attribute("http.status_code", 409 if duplicate else 201)
    provider.shutdown()
    trace_id = f"{root.get_span_context().trace_id:032x}"
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def trace_graph(client: Any, trace_id: str) -> tuple[set[Any], set[Any]]:
    """(nodes, edges) of one trace by name and type, as GetTraceGraph answers."""
    services = client.get_trace_graph(TraceIds=[trace_id])["Services"]
    by_ref = {s["ReferenceId"]: (s["Name"], s.get("Type")) for s in services}
    edges = {
        (by_ref[s["ReferenceId"]], by_ref[e["ReferenceId"]]) for s in services for e in s["Edges"]
    }
    return set(by_ref.values()), edges


def test_opentelemetry_trace_reads_back_like_the_xray_sdk_one(
    xray_server: XRayServer, xray_client: Any
) -> None:
    endpoint = xray_server.endpoint_url + "/v1/traces"
    otel_duplicate = export_signup(endpoint, duplicate=True, compression=Compression.Gzip)
    otel_created = export_signup(endpoint, duplicate=False, compression=Compression.NoCompression)
    recorder, _ = make_recorder(xray_server.daemon_address)
    sdk_duplicate = signup(recorder, "ada@example.com", duplicate=True)
    sdk_created = signup(recorder, "bob@example.com", duplicate=False)
    xray_server.flush()

    now = time.time()
    found = xray_client.get_trace_summaries(
        StartTime=now - 120, EndTime=now + 5, FilterExpression="http.status = 409"
    )["TraceSummaries"]
    assert {s["Id"] for s in found} == {otel_duplicate, sdk_duplicate}
    otel_summary = next(s for s in found if s["Id"] == otel_duplicate)
    assert otel_summary["HasError"] and not otel_summary["HasFault"]
    assert otel_summary["Http"]["HttpURL"] == "http://127.0.0.1:8000/signup"
    assert not otel_summary["IsPartial"]  # the DynamoDB span came first and still merged

    [trace] = xray_client.batch_get_traces(TraceIds=[otel_duplicate])["Traces"]
    [document] = [validate(json.loads(s["Document"])) for s in trace["Segments"]]
    assert document["name"] == "signup-app" and document["http"]["response"]["status"] == 409
    [put] = document["subsegments"]
    assert (put["name"], put["namespace"]) == ("DynamoDB", "aws")
    assert put["aws"]["table_name"] == "signups" and put["aws"]["operation"] == "PutItem"
    assert put["http"]["response"]["status"] == 400 and put["error"] is True
    [exc] = put["cause"]["exceptions"]
    assert exc["type"] == "botocore.errorfactory.ConditionalCheckFailedException"
    assert exc["message"] == "The conditional request failed" and exc["remote"] is True

    for otel, sdk in ((otel_duplicate, sdk_duplicate), (otel_created, sdk_created)):
        assert trace_graph(xray_client, otel) == trace_graph(xray_client, sdk)
    nodes, edges = trace_graph(xray_client, otel_created)
    assert nodes == {
        ("client", "client"),
        ("signup-app", None),
        ("signups", "AWS::DynamoDB::Table"),
        ("SNS", "AWS::SNS"),
    }
    assert (("signup-app", None), ("SNS", "AWS::SNS")) in edges
    graph = xray_client.get_service_graph(StartTime=now - 120, EndTime=now + 5)["Services"]
    names = {(s["Name"], s.get("Type")) for s in graph}
    assert names == nodes  # OTel and SDK traces land on the same four nodes
    app = next(s for s in graph if s["Name"] == "signup-app")
    assert app["SummaryStatistics"]["TotalCount"] == 4
    assert app["SummaryStatistics"]["ErrorStatistics"]["OtherCount"] == 2


def span_pb(trace_id: bytes, span_id: bytes, parent: bytes = b"", **fields: Any) -> Any:
    start = time.time_ns() - 1_000_000_000
    values = {"name": "GET /x", "kind": 2, "start_time_unix_nano": start}
    values |= {"end_time_unix_nano": start + 5_000_000, **fields}
    return trace_pb2.Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent, **values)


def request_pb(*spans: Any, service: str = "otlp-svc") -> bytes:
    message = trace_service_pb2.ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", service
    resource_spans.scope_spans.add().spans.extend(spans)
    body: bytes = message.SerializeToString()
    return body


def new_trace_id() -> bytes:
    return int(time.time()).to_bytes(4, "big") + bytes.fromhex("c0ffee" * 4)


def post(
    server: XRayServer, body: bytes, content_type: str | None = PROTOBUF, **headers: str
) -> Any:
    if content_type:
        headers["Content-Type"] = content_type
    return requests.post(server.endpoint_url + "/v1/traces", data=body, headers=headers, timeout=30)


def status_message(answer: Any) -> str:
    if answer.headers["Content-Type"] == PROTOBUF:
        status = status_pb2.Status()
        status.ParseFromString(answer.content)
        return str(status.message)
    return str(answer.json()["message"])


def export_response(answer: Any) -> Any:
    response = trace_service_pb2.ExportTraceServiceResponse()
    response.ParseFromString(answer.content)
    return response


def test_protobuf_export_is_stored_and_answered_in_protobuf(xray_server: XRayServer) -> None:
    trace_id = new_trace_id()
    answer = post(xray_server, request_pb(span_pb(trace_id, b"\x01" * 8)))
    assert answer.status_code == 200 and answer.headers["Content-Type"] == PROTOBUF
    assert not export_response(answer).HasField("partial_success")
    [doc] = xray_server.store.documents("1-" + trace_id[:4].hex() + "-" + trace_id[4:].hex())
    assert doc["name"] == "otlp-svc" and doc["id"] == "01" * 8
    status = requests.get(xray_server.endpoint_url + "/status", timeout=5).json()
    assert (status["received"], status["stored"]) == (1, 1)


def test_json_export_uses_hex_ids_and_answers_json(xray_server: XRayServer) -> None:
    trace_hex = new_trace_id().hex()
    start = time.time_ns() - 1_000_000_000
    span = {
        "traceId": trace_hex.upper(),  # OTLP/JSON: case-insensitive hex, not base64
        "spanId": "AAAABBBBCCCCDDDD",
        "parentSpanId": "",
        "name": "GET /prices",
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 4_000_000),
        "attributes": [
            {"key": "http.method", "value": {"stringValue": "GET"}},
            {"key": "http.status_code", "value": {"intValue": "404"}},
        ],
        "status": {"code": 2},
        "someFutureField": {"ignored": True},
    }
    child = {
        **span,
        "traceId": trace_hex,
        "spanId": "1111222233334444",
        "parentSpanId": "aaaabbbbccccdddd",
        "kind": 3,
        "attributes": [{"key": "peer.service", "value": {"stringValue": "prices-db"}}],
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]}
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span, child]}]}]}
    answer = post(xray_server, json.dumps(body).encode(), "application/json; charset=utf-8")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {}
    trace = xray_server.store.get_trace(f"1-{trace_hex[:8]}-{trace_hex[8:]}")
    assert trace is not None and not trace.orphans
    [segment] = trace.segments
    assert (segment["id"], segment["name"]) == ("aaaabbbbccccdddd", "json-svc")
    assert segment["http"]["response"]["status"] == 404 and segment["error"] is True
    [sub] = segment["subsegments"]
    assert (sub["id"], sub["name"], sub["namespace"]) == ("1111222233334444", "prices-db", "remote")


@pytest.mark.parametrize("media", [PROTOBUF, "application/json"])
def test_gzip_bodies_are_accepted(xray_server: XRayServer, media: str) -> None:
    trace_id = new_trace_id()
    body = request_pb(span_pb(trace_id, b"\x02" * 8))
    if media != PROTOBUF:
        body = json.dumps(_as_otlp_json(body)).encode()
    answer = post(xray_server, gzip.compress(body), media, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 200
    assert xray_server.store.documents(f"1-{trace_id[:4].hex()}-{trace_id[4:].hex()}")


@pytest.mark.parametrize("media", [PROTOBUF, "application/json"])
def test_partial_success_names_what_was_rejected(xray_server: XRayServer, media: str) -> None:
    trace_id = new_trace_id()
    old = time.time_ns() - 20 * 24 * 3600 * 10**9
    spans = [
        span_pb(trace_id, b"\x03" * 8),
        span_pb(b"\x00" * 16, b"\x04" * 8),
        span_pb(trace_id, b"\x05" * 8, start_time_unix_nano=old, end_time_unix_nano=old + 1),
    ]
    body = request_pb(*spans)
    if media != PROTOBUF:
        body = json.dumps(_as_otlp_json(body)).encode()
    answer = post(xray_server, body, media)
    assert answer.status_code == 200
    if media == PROTOBUF:
        partial = export_response(answer).partial_success
        rejected, message = partial.rejected_spans, partial.error_message
    else:
        partial_json = answer.json()["partialSuccess"]
        rejected, message = int(partial_json["rejectedSpans"]), partial_json["errorMessage"]
    assert rejected == 2
    assert "invalid_trace_id" in message and "timestamp_out_of_range" in message
    [doc] = xray_server.store.documents(f"1-{trace_id[:4].hex()}-{trace_id[4:].hex()}")
    assert doc["id"] == "03" * 8
    status = requests.get(xray_server.endpoint_url + "/status", timeout=5).json()
    assert status["dropped"] == {"invalid_trace_id": 1, "timestamp_out_of_range": 1}
    assert status["received"] == 3 and status["stored"] == 1


def _as_otlp_json(body: bytes) -> dict[str, Any]:
    """Protobuf -> OTLP/JSON: the standard mapping with ids turned from base64 into hex."""
    message = trace_service_pb2.ExportTraceServiceRequest()
    message.ParseFromString(body)
    doc: dict[str, Any] = json_format.MessageToDict(message)
    for resource_spans in doc["resourceSpans"]:
        for span in resource_spans["scopeSpans"][0]["spans"]:
            for key in ("traceId", "spanId", "parentSpanId"):
                if key in span:
                    span[key] = base64.b64decode(span[key]).hex()
    return doc


GOOD_GZIP = gzip.compress(request_pb(span_pb(b"\x01" * 16, b"\x01" * 8)))


@pytest.mark.parametrize(
    ("body", "media", "headers", "needle"),
    [
        (b"\x0a\xff\xff\xff\x0f", PROTOBUF, {}, "not an OTLP protobuf"),
        (b"{nope", "application/json", {}, "not JSON"),
        (b"[1, 2]", "application/json", {}, "not a JSON object"),
        (b'{"resourceSpans": 5}', "application/json", {}, "not an OTLP/JSON request"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
            "application/json",
            {},
            "traceId 'zz' is not hex",
        ),
        (b"not gzip at all", PROTOBUF, {"Content-Encoding": "gzip"}, "not valid gzip"),
        (GOOD_GZIP[:-12], PROTOBUF, {"Content-Encoding": "gzip"}, "truncated"),
    ],
    # Named, not derived from the bodies: the gzip one holds the time it was made, and pytest-xdist
    # needs every worker to collect the same test ids.
    ids=["protobuf", "json", "json-array", "json-not-otlp", "json-bad-hex", "gzip", "gzip-cut"],
)
def test_malformed_payloads_get_400_and_the_server_keeps_ingesting(
    xray_server: XRayServer, body: bytes, media: str, headers: dict[str, str], needle: str
) -> None:
    answer = post(xray_server, body, media, **headers)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == media
    assert needle in status_message(answer)
    trace_id = new_trace_id()
    assert post(xray_server, request_pb(span_pb(trace_id, b"\x09" * 8))).status_code == 200
    assert xray_server.store.documents(f"1-{trace_id[:4].hex()}-{trace_id[4:].hex()}")
    dropped = requests.get(xray_server.endpoint_url + "/status", timeout=5).json()["dropped"]
    assert sum(v for k, v in dropped.items() if k.startswith("otlp_bad_")) == 1


@pytest.mark.parametrize(
    ("content_type", "encoding", "needle"),
    [
        ("text/plain", None, "Content-Type text/plain"),
        (None, None, "Content-Type none"),
        ("application/protobuf+xml", None, "Content-Type application/protobuf+xml"),
        (PROTOBUF, "deflate", "Content-Encoding deflate"),
    ],
)
def test_unsupported_media_types_get_415(
    xray_server: XRayServer, content_type: str | None, encoding: str | None, needle: str
) -> None:
    headers = {"Content-Encoding": encoding} if encoding else {}
    answer = post(
        xray_server, request_pb(span_pb(new_trace_id(), b"\x01" * 8)), content_type, **headers
    )
    assert answer.status_code == 415
    assert needle in status_message(answer)
    assert xray_server.store.trace_count() == 0


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"\x00" * (MAX_BODY_BYTES + 1), {}),  # before decompression
        (gzip.compress(b"\x00" * (MAX_BODY_BYTES + 1)), {"Content-Encoding": "gzip"}),  # after
    ],
    ids=["raw", "gzip-bomb"],
)
def test_oversized_payloads_get_413(
    xray_server: XRayServer, body: bytes, headers: dict[str, str]
) -> None:
    answer = post(xray_server, body, **headers)
    assert answer.status_code == 413
    assert str(MAX_BODY_BYTES) in status_message(answer)
    assert post(xray_server, request_pb(span_pb(new_trace_id(), b"\x01" * 8))).status_code == 200


def test_more_spans_than_a_request_may_carry_get_400(xray_server: XRayServer) -> None:
    trace_id = new_trace_id()
    spans = [span_pb(trace_id, (i + 1).to_bytes(8, "big")) for i in range(MAX_SPANS + 1)]
    answer = post(xray_server, request_pb(*spans))
    assert answer.status_code == 400 and "10001 spans exceed 10000" in status_message(answer)
    assert xray_server.store.trace_count() == 0


def test_empty_request_is_a_success(xray_server: XRayServer) -> None:
    answer = post(xray_server, b"")
    assert answer.status_code == 200 and answer.content == b""


def test_same_export_twice_is_stored_once(xray_server: XRayServer) -> None:
    body = request_pb(span_pb(new_trace_id(), b"\x07" * 8))
    assert post(xray_server, body).status_code == post(xray_server, body).status_code == 200
    status = requests.get(xray_server.endpoint_url + "/status", timeout=5).json()
    assert (status["stored"], status["duplicates"], status["traces_stored"]) == (1, 1, 1)


def test_only_post_and_only_for_hosts_the_guard_allows(xray_server: XRayServer) -> None:
    url = xray_server.endpoint_url + "/v1/traces"
    assert requests.get(url, timeout=5).status_code == 405
    body = request_pb(span_pb(new_trace_id(), b"\x01" * 8))
    answer = requests.post(
        url, data=body, headers={"Content-Type": PROTOBUF, "Host": "evil.example"}, timeout=5
    )
    assert answer.status_code == 421 and xray_server.store.trace_count() == 0
