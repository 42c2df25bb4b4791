"""app.otlp_sigv4: what the real OTLP exporter sends through the session is SigV4-signed.

A real OpenTelemetry SDK pipeline (TracerProvider with X-Ray trace ids, BatchSpanProcessor,
OTLPSpanExporter) exports to a loopback HTTP server that records the request as it arrived. The
signature is then recomputed with botocore over the received method, URL, headers and body bytes,
so a header changed after signing, or a body signed before compression, would fail here. Nothing
leaves the machine: the endpoint is 127.0.0.1 (the Host header is then 127.0.0.1:<port>, which is
what gets signed, as xray.<region>.amazonaws.com is in AWS).
"""

from __future__ import annotations

import datetime
import gzip
import re
import time
from collections.abc import Iterator

import botocore.auth
import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, RefreshableCredentials
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from app.otlp_sigv4 import SigV4Signer, sigv4_session
from bench._otlp_sink import OtlpSink, ReceivedRequest

REGION = "eu-west-1"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "example-session-token"
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)"
    r"/(?P<service>[a-z0-9-]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@pytest.fixture
def collector() -> Iterator[OtlpSink]:
    """A loopback OTLP/HTTP endpoint that answers 200 and keeps every request as it arrived."""
    sink = OtlpSink()
    yield sink
    sink.close()


@pytest.fixture
def fixed_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Known fake credentials, found by botocore's default chain (the environment)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)


def export_two_spans(endpoint: str, compression: Compression) -> tuple[str, str]:
    """Trace a request with one child through the real SDK pipeline; (trace id, span id) hex."""
    provider = TracerProvider(
        id_generator=AwsXRayIdGenerator(),
        resource=Resource.create({"service.name": "signup-app"}),
    )
    exporter = OTLPSpanExporter(
        endpoint=endpoint, session=sigv4_session(REGION), compression=compression, timeout=5
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.otlp_sigv4")
    with tracer.start_as_current_span("POST /signup") as parent:
        with tracer.start_as_current_span("DynamoDB.PutItem"):
            pass
    context = parent.get_span_context()
    assert provider.force_flush(10_000)
    provider.shutdown()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def recomputed_authorization(received: ReceivedRequest, signed: list[str]) -> str:
    """The Authorization botocore computes for the request as received, at its own X-Amz-Date."""
    stamp = datetime.datetime.strptime(received.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    headers = {
        name: received.headers[name]
        for name in signed
        if name not in {"x-amz-date", "x-amz-security-token"}
    }
    request = AWSRequest(
        method=received.method,
        url=f"http://{received.headers['host']}{received.path}",
        data=received.body,
        headers=headers,
    )
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, TOKEN), "xray", REGION)
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: stamp  # type: ignore[attr-defined]
    try:
        auth.add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original  # type: ignore[attr-defined]
    assert request.headers["X-Amz-Security-Token"] == received.headers["x-amz-security-token"]
    return str(request.headers["Authorization"])


@pytest.mark.usefixtures("fixed_credentials")
@pytest.mark.parametrize("compression", [Compression.Gzip, Compression.NoCompression])
def test_the_exporter_sends_signed_spans(
    collector: OtlpSink, compression: Compression
) -> None:
    before = int(time.time())
    trace_id, parent_id = export_two_spans(collector.endpoint, compression)
    (request,) = collector.requests
    assert request.path == "/v1/traces"
    assert request.headers["content-type"] == "application/x-protobuf"

    # The shape of the header, and what it names.
    match = AUTHORIZATION.fullmatch(request.headers["authorization"])
    assert match, request.headers["authorization"]
    assert (match["key"], match["region"], match["service"]) == (ACCESS_KEY, REGION, "xray")
    assert match["date"] == request.headers["x-amz-date"][:8]
    signed = match["signed"].split(";")
    assert signed == sorted(signed)
    expected = {"content-type", "host", "x-amz-date", "x-amz-security-token"}
    if compression is Compression.Gzip:
        assert request.headers["content-encoding"] == "gzip"
        expected.add("content-encoding")
    assert set(signed) == expected
    assert request.headers["x-amz-security-token"] == TOKEN

    # The signature holds for the bytes that arrived, and only for them.
    assert recomputed_authorization(request, signed) == request.headers["authorization"]
    tampered = ReceivedRequest(request.method, request.path, request.headers, request.body + b"\0")
    assert recomputed_authorization(tampered, signed) != request.headers["authorization"]

    # The body is the two spans, with an X-Ray trace id (its first 8 hex digits are the epoch).
    body = gzip.decompress(request.body) if compression is Compression.Gzip else request.body
    export = ExportTraceServiceRequest.FromString(body)
    spans = [span for rs in export.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert sorted(span.name for span in spans) == ["DynamoDB.PutItem", "POST /signup"]
    assert {span.trace_id.hex() for span in spans} == {trace_id}
    assert before - 5 <= int(trace_id[:8], 16) <= time.time() + 5
    xray_id = f"1-{trace_id[:8]}-{trace_id[8:]}"
    assert re.fullmatch(r"1-[0-9a-f]{8}-[0-9a-f]{24}", xray_id)
    (child,) = [span for span in spans if span.name == "DynamoDB.PutItem"]
    assert child.parent_span_id.hex() == parent_id
    (resource,) = [rs.resource for rs in export.resource_spans]
    attributes = {a.key: a.value.string_value for a in resource.attributes}
    assert attributes["service.name"] == "signup-app"


def _rotating_session() -> botocore.session.Session:
    """A botocore session whose credentials always expire within botocore's mandatory refresh
    window (10 minutes), as an instance role's do near their end: each use renews them."""
    issued = iter(range(1, 100))

    def refresh() -> dict[str, str]:
        n = next(issued)
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
        return {
            "access_key": f"AKIDROTATED{n:04d}",
            "secret_key": f"secret-{n}",
            "token": f"token-{n}",
            "expiry_time": expiry.isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        refresh(), refresh_using=refresh, method="test-rotation"
    )
    session = botocore.session.Session()
    session.get_credentials = lambda: credentials  # type: ignore[method-assign]
    return session


def test_credentials_are_read_for_each_request() -> None:
    """An instance role's credentials rotate: each request is signed with the current ones."""
    signer = SigV4Signer(REGION, session=_rotating_session())
    keys, tokens = [], []
    for _ in range(2):
        prepared = requests.Request("POST", "https://xray.eu-west-1.amazonaws.com/v1/traces")
        signed = signer(prepared.prepare())
        match = AUTHORIZATION.fullmatch(signed.headers["Authorization"])
        assert match
        keys.append(match["key"])
        tokens.append(signed.headers["X-Amz-Security-Token"])
    assert keys[0] != keys[1] and tokens[0] != tokens[1]
    assert all(key.startswith("AKIDROTATED") for key in keys)


def test_a_retry_is_signed_afresh_and_without_a_token_when_there_is_none() -> None:
    session = botocore.session.Session()
    session.set_credentials(ACCESS_KEY, SECRET_KEY)  # long-term keys: no session token
    signer = SigV4Signer(REGION, session=session)
    prepared = requests.Request(
        "POST", "https://xray.eu-west-1.amazonaws.com/v1/traces", data=b"\x0a\x00"
    ).prepare()
    prepared.headers["X-Amz-Security-Token"] = "stale"
    prepared.headers["Authorization"] = "stale"
    signer(prepared)
    assert "X-Amz-Security-Token" not in prepared.headers
    assert AUTHORIZATION.fullmatch(prepared.headers["Authorization"])
    assert "x-amz-security-token" not in prepared.headers["Authorization"]


def test_a_streamed_body_is_refused() -> None:
    signer = SigV4Signer(REGION)
    prepared = requests.Request("POST", "https://xray.eu-west-1.amazonaws.com/v1/traces").prepare()
    prepared.body = iter([b"chunk"])
    with pytest.raises(TypeError, match="streamed"):
        signer(prepared)


def test_the_session_signs_for_the_given_region_and_service() -> None:
    session = sigv4_session("us-west-2", service="logs")
    assert isinstance(session, requests.Session)
    assert isinstance(session.auth, SigV4Signer)
    assert (session.auth.region, session.auth.service) == ("us-west-2", "logs")
