"""The X-Ray API through boto3's xray client, fed by aws-xray-sdk over UDP."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

import xray_local.api.xray
from tests.xray_local.sdk_traffic import make_recorder, signup
from tests.xray_local.xl_docs import signup_segment
from xray_local.server import XRayServer

CREATED, DUPLICATES = 7, 3


@pytest.fixture
def story(xray_server: XRayServer) -> dict[str, Any]:
    """Ten signups sent by the SDK, every fourth a duplicate; returns the trace ids by outcome."""
    recorder, emitter = make_recorder(xray_server.daemon_address)
    started = time.time() - 1
    ids: dict[str, list[str]] = {"created": [], "duplicate": []}
    for i in range(CREATED + DUPLICATES):
        duplicate = i % 4 == 3 or i == 9
        ids["duplicate" if duplicate else "created"].append(
            signup(recorder, f"user{i}@example.com", duplicate)
        )
    assert len(ids["duplicate"]) == DUPLICATES
    xray_server.flush()
    return {"ids": ids, "start": started, "end": time.time() + 1, "sent": emitter.sent}


def test_status_409_filter_returns_exactly_the_duplicates(xray_client: Any, story: Any) -> None:
    found = xray_client.get_trace_summaries(
        StartTime=story["start"], EndTime=story["end"], FilterExpression="http.status = 409"
    )
    assert sorted(s["Id"] for s in found["TraceSummaries"]) == sorted(story["ids"]["duplicate"])
    summary = found["TraceSummaries"][0]
    assert summary["HasError"] and not summary["HasFault"] and not summary["IsPartial"]
    assert summary["Http"]["HttpMethod"] == "POST" and summary["Http"]["HttpStatus"] == 409
    assert summary["Annotations"]["outcome"][0]["AnnotationValue"]["StringValue"] == "duplicate"
    assert summary["Users"][0]["UserName"].endswith("@example.com")
    cause = summary["ErrorRootCauses"][0]["Services"][0]
    assert cause["Name"] == "signups" and cause["Type"] == "AWS::DynamoDB::Table"
    assert cause["EntityPath"][-1]["Exceptions"][0]["Name"] == "ConditionalCheckFailedException"
    everything = xray_client.get_trace_summaries(StartTime=story["start"], EndTime=story["end"])
    assert everything["TracesProcessedCount"] == CREATED + DUPLICATES
    assert len(everything["TraceSummaries"]) == CREATED + DUPLICATES


def test_service_graph_counts_match_what_was_sent(xray_client: Any, story: Any) -> None:
    graph = xray_client.get_service_graph(StartTime=story["start"], EndTime=story["end"])
    by_name = {s["Name"]: s for s in graph["Services"]}
    assert set(by_name) == {"client", "signup-app", "signups", "SNS"}
    client, app, table, sns = (by_name[n] for n in ("client", "signup-app", "signups", "SNS"))
    assert client["Type"] == "client" and app["Root"] and "Type" not in app
    assert table["Type"] == "AWS::DynamoDB::Table" and sns["Type"] == "AWS::SNS"
    stats = app["SummaryStatistics"]
    assert stats["TotalCount"] == CREATED + DUPLICATES
    assert stats["OkCount"] == CREATED and stats["ErrorStatistics"]["OtherCount"] == DUPLICATES
    assert table["SummaryStatistics"]["ErrorStatistics"]["TotalCount"] == DUPLICATES
    assert table["SummaryStatistics"]["FaultStatistics"]["TotalCount"] == 0
    assert sns["SummaryStatistics"]["TotalCount"] == CREATED
    [client_edge] = client["Edges"]
    assert client_edge["ReferenceId"] == app["ReferenceId"]
    assert client_edge["SummaryStatistics"]["TotalCount"] == CREATED + DUPLICATES
    edges = {e["ReferenceId"]: e for e in app["Edges"]}
    assert edges[table["ReferenceId"]]["SummaryStatistics"]["TotalCount"] == 10
    assert edges[sns["ReferenceId"]]["SummaryStatistics"]["OkCount"] == CREATED
    for service in graph["Services"]:
        for s in [service.get("SummaryStatistics")] + [
            e["SummaryStatistics"] for e in service["Edges"]
        ]:
            if s:
                errors, faults = (
                    s["ErrorStatistics"]["TotalCount"],
                    s["FaultStatistics"]["TotalCount"],
                )
                assert s["OkCount"] + errors + faults == s["TotalCount"]


def test_batch_get_traces_and_trace_graph(xray_client: Any, story: Any) -> None:
    wanted = story["ids"]["duplicate"][:2] + ["1-00000000-000000000000000000000000"]
    answer = xray_client.batch_get_traces(TraceIds=wanted)
    assert answer["UnprocessedTraceIds"] == ["1-00000000-000000000000000000000000"]
    assert [t["Id"] for t in answer["Traces"]] == wanted[:2]
    doc = json.loads(answer["Traces"][0]["Segments"][0]["Document"])
    assert doc["subsegments"][0]["aws"]["table_name"] == "signups"
    assert doc["subsegments"][0]["cause"]["exceptions"][0]["remote"] is True
    graph = xray_client.get_trace_graph(TraceIds=wanted[:1])
    assert {s["Name"] for s in graph["Services"]} == {"client", "signup-app", "signups"}
    assert len(story["sent"]) == CREATED + DUPLICATES  # each validated against the schema


def test_put_trace_segments_reports_unprocessed(xray_client: Any, xray_server: XRayServer) -> None:
    good = signup_segment()
    answer = xray_client.put_trace_segments(
        TraceSegmentDocuments=[json.dumps(good), "{not json", json.dumps({"id": "abc"})]
    )
    codes = sorted(u["ErrorCode"] for u in answer["UnprocessedTraceSegments"])
    assert codes == ["bad_json", "missing_fields"]
    assert xray_server.store.get_trace(good["trace_id"]) is not None


@pytest.mark.parametrize(
    ("call", "kwargs", "needle"),
    [
        ("get_trace_summaries", {"StartTime": 10, "EndTime": 5}, "StartTime must be before"),
        (
            "get_trace_summaries",
            {"StartTime": 0, "EndTime": 5, "FilterExpression": "http.status ="},
            "position",
        ),
        ("get_trace_summaries", {"StartTime": 0, "EndTime": 5, "NextToken": "!!"}, "NextToken"),
        ("get_service_graph", {"StartTime": 9, "EndTime": 1}, "StartTime"),
    ],
)
def test_invalid_requests_answer_invalid_request_exception(
    xray_client: Any, call: str, kwargs: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ClientError) as info:
        getattr(xray_client, call)(**kwargs)
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    assert needle in error["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_raw_error_shape_for_missing_members(xray_server: XRayServer) -> None:
    import urllib.error
    import urllib.request

    for body in (b"{}", b"[1]", b"{bad"):
        req = urllib.request.Request(
            xray_server.endpoint_url + "/TraceSummaries", body, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=5)
        assert info.value.code == 400
        assert info.value.headers["x-amzn-ErrorType"] == "InvalidRequestException"
        payload = json.loads(info.value.read())
        assert payload["__type"] == "InvalidRequestException" and payload["message"]


def test_paging_with_next_token(
    xray_client: Any, xray_server: XRayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xray_local.api.xray, "PAGE_SIZE", 3)
    t0 = time.time() - 60
    segs = [signup_segment(start=t0 + i, duplicate=i % 2 == 0) for i in range(11)]
    xray_server.store.put_many(segs)
    seen: list[str] = []
    pages = 0
    kwargs: dict[str, Any] = {"StartTime": t0 - 1, "EndTime": t0 + 20, "FilterExpression": "error"}
    while True:
        page = xray_client.get_trace_summaries(**kwargs)
        pages += 1
        seen += [s["Id"] for s in page["TraceSummaries"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == [s["trace_id"] for s in segs if s.get("error")]
    assert pages == 2
    other = dict(kwargs, FilterExpression="ok")
    with pytest.raises(ClientError):
        xray_client.get_trace_summaries(**other)


def test_next_pages_keep_the_first_pages_sampling(
    xray_client: Any, xray_server: XRayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The NextToken carries Sampling and SamplingStrategy: a next page that leaves them out
    samples as the first page did; one that names another setting is refused."""
    monkeypatch.setattr(xray_local.api.xray, "PAGE_SIZE", 3)
    t0 = time.time() - 60
    segs = [signup_segment(start=t0 + i * 0.5) for i in range(40)]
    xray_server.store.put_many(segs)
    rate = 0.5
    wanted = [s["trace_id"] for s in segs if int(s["trace_id"][-8:], 16) / 2**32 < rate]
    assert 0 < len(wanted) < len(segs)
    first: dict[str, Any] = {
        "StartTime": t0 - 1,
        "EndTime": t0 + 30,
        "Sampling": True,
        "SamplingStrategy": {"Name": "FixedRate", "Value": rate},
    }
    page = xray_client.get_trace_summaries(**first)
    seen = [s["Id"] for s in page["TraceSummaries"]]
    token = page["NextToken"]
    later: dict[str, Any] = {"StartTime": t0 - 1, "EndTime": t0 + 30}
    while token:
        page = xray_client.get_trace_summaries(**later, NextToken=token)
        seen += [s["Id"] for s in page["TraceSummaries"]]
        token = page.get("NextToken")
    assert seen == wanted
    second = xray_client.get_trace_summaries(**first)["NextToken"]
    with pytest.raises(ClientError) as info:
        xray_client.get_trace_summaries(**later, Sampling=False, NextToken=second)
    assert "Sampling" in info.value.response["Error"]["Message"]


def test_time_range_type_trace_id(xray_client: Any, xray_server: XRayServer) -> None:
    seg = signup_segment(start=time.time() - 7200)
    xray_server.store.put(seg)
    t = int(seg["trace_id"].split("-")[1], 16)
    found = xray_client.get_trace_summaries(StartTime=t, EndTime=t + 1, TimeRangeType="TraceId")
    assert [s["Id"] for s in found["TraceSummaries"]] == [seg["trace_id"]]
