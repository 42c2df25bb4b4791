"""The X-Ray REST API (restJson, POST, epoch-second timestamps) as a Flask blueprint.

Paths and member names follow botocore's model for xray 2016-04-12, so boto3, the AWS CLI and
aws-xray-sdk's sampling poller talk to it unchanged. The blueprint reads its collaborators from
`current_app.extensions["xray_local"]` (an `ApiContext`), which lets a console blueprint live on
the same server and lets tests build an app around any store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from xray_local.api.groups import group_expression, requested_group, resolve_filter
from xray_local.api.sampling import SamplingRules
from xray_local.api.validation import (
    InvalidRequest,
    decode_token,
    encode_token,
    parse_body,
    parse_filter_text,
    require_list,
    time_range,
)
from xray_local.ingest.protocol import ProtocolError, validate_document
from xray_local.ingest.udp import IngestCounters
from xray_local.query.graph import service_graph
from xray_local.query.index import ensure_indexed
from xray_local.query.model import TraceView
from xray_local.query.scoped import scoped_graph
from xray_local.query.search import graph_between, summaries_page
from xray_local.query.views import build_trace_view
from xray_local.store.groups import GroupStore
from xray_local.store.traces import Store

__all__ = ["PAGE_SIZE", "ApiContext", "api", "error_response"]

log = logging.getLogger(__name__)

#: TraceSummaries per GetTraceSummaries page.
PAGE_SIZE = 100
_TIME_RANGE_TYPES = ("TraceId", "Event", "Service")

api = Blueprint("xray_api", __name__)


@dataclass
class ApiContext:
    """What the API needs: the store (and the groups kept in its file), the sampling rules and
    the ingest counters."""

    store: Store
    sampling: SamplingRules = field(default_factory=SamplingRules)
    counters: IngestCounters = field(default_factory=IngestCounters)
    telemetry_records: int = 0
    groups: GroupStore = field(init=False)

    def __post_init__(self) -> None:
        self.groups = GroupStore(self.store)


def _ctx() -> ApiContext:
    ctx: ApiContext = current_app.extensions["xray_local"]
    return ctx


def error_response(code: str, message: str, status: int = 400) -> Response:
    """AWS's JSON error shape; botocore reads the code from the header or `__type`."""
    response = jsonify({"__type": code, "message": message})
    response.status_code = status
    response.headers["x-amzn-ErrorType"] = code
    return response


@api.errorhandler(InvalidRequest)
def _invalid(exc: InvalidRequest) -> Response:
    log.info("InvalidRequestException: %s", exc.message)
    return error_response("InvalidRequestException", exc.message)


def _body() -> dict[str, Any]:
    return parse_body(request.get_data())


def _views(traces: Iterator[Any]) -> Iterator[TraceView]:
    for trace in traces:
        yield build_trace_view(trace)


@api.post("/TraceSegments")
def put_trace_segments() -> Response:
    docs = require_list(_body(), "TraceSegmentDocuments")
    good: list[dict[str, Any]] = []
    unprocessed: list[dict[str, Any]] = []
    for text in docs:
        try:
            doc = validate_document(json.loads(text))
        except (ValueError, RecursionError) as exc:
            reason = exc.reason if isinstance(exc, ProtocolError) else "bad_json"
            doc_id = ""
            try:
                parsed = json.loads(text)
                doc_id = str(parsed.get("id", "")) if isinstance(parsed, dict) else ""
            except ValueError:
                pass
            unprocessed.append({"Id": doc_id, "ErrorCode": reason, "Message": str(exc)})
            continue
        good.append(doc)
    counters = _ctx().counters
    changed = _ctx().store.put_many(good) if good else 0
    with counters.lock:
        counters.received += len(docs)
        counters.stored += changed
        counters.duplicates += len(good) - changed
        for item in unprocessed:
            counters.dropped[str(item["ErrorCode"])] += 1
    return jsonify({"UnprocessedTraceSegments": unprocessed})


def _sampler(body: dict[str, Any]) -> Callable[[str], bool]:
    """GetTraceSummaries' `Sampling`: a deterministic share of trace ids (FixedRate Value)."""
    if body.get("Sampling") is not True:
        return lambda _trace_id: True
    strategy = body.get("SamplingStrategy") or {}
    rate = strategy.get("Value") if isinstance(strategy, dict) else None
    if rate is None:
        rate = 1.0
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise InvalidRequest("SamplingStrategy.Value must be between 0 and 1")
    return lambda trace_id: int(trace_id[-8:], 16) / 0x1_0000_0000 < rate


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    """The request's Sampling and SamplingStrategy (the strategy only counts when sampling)."""
    on = body.get("Sampling") is True
    return {"Sampling": on, "SamplingStrategy": body.get("SamplingStrategy") if on else None}


def _next_page_sampling(body: dict[str, Any], asked: dict[str, Any], first: Any) -> dict[str, Any]:
    """A next page samples as the first page did (its NextToken says how): a request that leaves
    Sampling out keeps it, one that names a different setting asks another query."""
    if not isinstance(first, dict):  # a token from before tokens carried it
        return asked
    for key in ("Sampling", "SamplingStrategy"):
        if key in body and asked[key] != first.get(key):
            raise InvalidRequest(f"NextToken was issued for another {key}")
    return first


@api.post("/TraceSummaries")
def get_trace_summaries() -> Response:
    body = _body()
    start, end = time_range(body)
    range_type = body.get("TimeRangeType") or "Event"
    if range_type not in _TIME_RANGE_TYPES:
        raise InvalidRequest(f"TimeRangeType must be one of {', '.join(_TIME_RANGE_TYPES)}")
    expression = body.get("FilterExpression") or ""
    # group.name = "g" stands for the group's own filter expression
    expr = resolve_filter(parse_filter_text(expression))
    sampling = _sampling(body)
    query = [start, end, range_type, expression]
    cursor: tuple[float, str] | None = None
    if body.get("NextToken"):
        token = decode_token(body["NextToken"])
        if token.get("q") != query or not isinstance(token.get("c"), list):
            raise InvalidRequest("NextToken does not belong to this query")
        sampling = _next_page_sampling(body, sampling, token.get("s"))
        cursor = (float(token["c"][0]), str(token["c"][1]))
    sampled = _sampler(sampling)
    store = _ctx().store
    ensure_indexed(store)
    page = summaries_page(store, (start, end, range_type), expr, sampled, cursor, PAGE_SIZE)
    next_token = None
    if page.next_cursor is not None:
        next_token = encode_token({"q": query, "s": sampling, "c": list(page.next_cursor)})
    summaries, processed = page.summaries, page.processed
    result: dict[str, Any] = {
        "TraceSummaries": summaries,
        "ApproximateTime": end,
        "TracesProcessedCount": processed,
    }
    if next_token:
        result["NextToken"] = next_token
    return jsonify(result)


@api.post("/Traces")
def batch_get_traces() -> Response:
    ids = require_list(_body(), "TraceIds")
    traces: list[dict[str, Any]] = []
    missing: list[str] = []
    for trace_id in ids:
        trace = _ctx().store.get_trace(trace_id)
        if trace is None:
            missing.append(trace_id)
            continue
        view = build_trace_view(trace)
        docs = trace.segments + trace.orphans
        traces.append(
            {
                "Id": trace.id,
                "Duration": round(view.duration, 6),
                "LimitExceeded": False,
                "Segments": [
                    {"Id": str(d.get("id")), "Document": json.dumps(d, separators=(",", ":"))}
                    for d in docs
                ],
            }
        )
    return jsonify({"Traces": traces, "UnprocessedTraceIds": missing})


@api.post("/ServiceGraph")
def get_service_graph() -> Response:
    body = _body()
    start, end = time_range(body)
    group = requested_group(body)
    store = _ctx().store
    ensure_indexed(store)
    if group is not None and group.filter:  # cells are not per group: the group's own traces
        services, first, last = scoped_graph(store, start, end, group_expression(group))
    else:
        services, first, last = graph_between(store, start, end)
    return jsonify(
        {
            "StartTime": first,
            "EndTime": last,
            "Services": services,
            "ContainsOldGroupVersions": False,
        }
    )


@api.post("/TraceGraph")
def get_trace_graph() -> Response:
    ids = require_list(_body(), "TraceIds")
    return jsonify({"Services": service_graph(_views(_ctx().store.get_traces(ids)))})


@api.post("/GetSamplingRules")
def get_sampling_rules() -> Response:
    _body()
    return jsonify(_ctx().sampling.rules_json())


@api.post("/SamplingTargets")
def get_sampling_targets() -> Response:
    docs = require_list(_body(), "SamplingStatisticsDocuments", dict)
    return jsonify(_ctx().sampling.targets_json(docs))


@api.post("/TelemetryRecords")
def put_telemetry_records() -> Response:
    records = require_list(_body(), "TelemetryRecords", dict)
    _ctx().telemetry_records += len(records)
    return jsonify({})


@api.get("/status")
def status() -> Response:
    """Ingest counters and store size, for people and scripts (not an AWS operation)."""
    ctx = _ctx()
    return jsonify(
        {
            **ctx.counters.snapshot(),
            "traces_stored": ctx.store.trace_count(),
            "telemetry_records": ctx.telemetry_records,
            "sampling": ctx.sampling.status(),
        }
    )
