"""xray_local's X-Ray API over HTTP with malformed bodies and filter expressions.

test_filter_fuzz.py fuzzes the filter parser itself and test_ingest.py the UDP datagrams; this
sends whole requests to every API operation over a real socket: JSON of the wrong shape, garbage
bytes, random filter expressions and times. Every answer must be a 4xx (or 200) with a JSON body,
within a bounded time, and the API must still answer a good request afterwards.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.openapi_fuzz import json_values
from xray_local.server import XRayServer

PATHS = [
    "/TraceSegments",
    "/TraceSummaries",
    "/Traces",
    "/ServiceGraph",
    "/TraceGraph",
    "/GetSamplingRules",
    "/SamplingTargets",
    "/TelemetryRecords",
]
MEMBERS = ["StartTime", "EndTime", "FilterExpression", "TraceIds", "NextToken"]
MEMBERS += ["TraceSegmentDocuments", "SamplingStatisticsDocuments", "TimeRangeType", "Sampling"]
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(MEMBERS), json_values, max_size=4).map(
        lambda v: json.dumps(v).encode()
    ),
    st.builds(
        lambda text, start: json.dumps(
            {"StartTime": start, "EndTime": start + 60, "FilterExpression": text}
        ).encode(),
        st.text(max_size=60),
        st.floats(min_value=0, max_value=4e9),
    ),
)


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(PATHS), body=bodies)
def test_malformed_requests_get_a_client_error(
    xray_server: XRayServer, xray_client: Any, path: str, body: bytes
) -> None:
    started = time.monotonic()
    answer = requests.post(xray_server.endpoint_url + path, data=body, timeout=5)
    assert time.monotonic() - started < 5
    assert answer.status_code < 500, (path, body, answer.text)
    assert isinstance(answer.json(), dict), (path, body, answer.text)
    assert "Traceback" not in answer.text
    now = time.time()
    good = xray_client.get_trace_summaries(StartTime=now - 60, EndTime=now)
    assert "TraceSummaries" in good
