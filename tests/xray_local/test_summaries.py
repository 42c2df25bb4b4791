"""build_trace_view and trace_summary_json on the signup story's traces."""

from __future__ import annotations

import copy

from tests.xray_local.xl_docs import new_id, signup_segment, validate
from xray_local.query.model import NodeKey
from xray_local.query.views import build_trace_view, trace_summary_json
from xray_local.store import Trace

TABLE = NodeKey("signups", "AWS::DynamoDB::Table")
SNS = NodeKey("SNS", "AWS::SNS")
APP = NodeKey("signup-app", None)


def test_created_signup_has_app_table_and_sns() -> None:
    seg = signup_segment()
    view = build_trace_view(Trace(seg["trace_id"], (seg,)))
    assert [s.key for s in view.services] == [APP, TABLE, SNS]
    assert view.ok and not view.error and not view.partial
    assert view.http_status == 201 and view.http_method == "POST"
    assert view.entry_point == APP
    assert {(e.source, e.destination) for e in view.edges} == {(APP, TABLE), (APP, SNS)}
    assert view.services[0].root and not view.services[0].inferred
    assert view.services[1].inferred
    assert view.annotations == {"outcome": ("created",)}
    assert view.root_causes == ()


def test_duplicate_is_error_with_table_root_cause() -> None:
    seg = signup_segment(duplicate=True)
    view = build_trace_view(Trace(seg["trace_id"], (seg,)))
    assert view.error and not view.fault and not view.ok and view.http_status == 409
    table = next(s for s in view.services if s.key == TABLE)
    assert table.error and not table.fault
    [cause] = view.root_causes
    assert cause.kind == "error" and cause.service == TABLE
    assert cause.entity_path == ("signup-app", "dynamodb")
    assert cause.exception_name == "ConditionalCheckFailedException" and cause.remote
    summary = trace_summary_json(view)
    assert summary["HasError"] and not summary["HasFault"]
    assert summary["Http"]["HttpStatus"] == 409
    assert summary["ErrorRootCauses"][0]["Services"][0]["Name"] == "signups"
    assert summary["Annotations"]["outcome"][0]["AnnotationValue"] == {"StringValue": "duplicate"}
    assert summary["EntryPoint"] == {"Name": "signup-app", "Names": ["signup-app"]}


def test_downstream_segment_replaces_inferred_node() -> None:
    up = signup_segment()
    call = up["subsegments"][1]
    call["name"] = "billing"
    call["namespace"] = "remote"
    down = validate(
        {
            "id": new_id(),
            "trace_id": up["trace_id"],
            "parent_id": call["id"],
            "name": "billing-svc",
            "start_time": call["start_time"],
            "end_time": call["end_time"],
            "fault": True,
        }
    )
    view = build_trace_view(Trace(up["trace_id"], (up, down)))
    keys = [s.key for s in view.services]
    assert NodeKey("billing", "remote") not in keys
    assert NodeKey("billing-svc", None) in keys
    edge = next(e for e in view.edges if e.destination == NodeKey("billing-svc", None))
    assert edge.source == APP
    assert view.root_causes[0].service == NodeKey("billing-svc", None)
    assert view.entry_point == APP


def test_in_progress_and_orphans_are_partial() -> None:
    seg = signup_segment()
    running = copy.deepcopy(seg)
    del running["end_time"]
    running["in_progress"] = True
    view = build_trace_view(Trace(seg["trace_id"], (running,)))
    assert view.partial and view.response_time is None
    orphan = dict(seg["subsegments"][0], type="subsegment", trace_id=seg["trace_id"])
    orphan["parent_id"] = new_id()
    view = build_trace_view(Trace(seg["trace_id"], (seg,), (validate(orphan),)))
    assert view.partial


def test_duration_histogram_spreads_durations_not_response_times() -> None:
    """ServiceInfo's DurationHistogram ("the spread of service durations") vs its
    ResponseTimeHistogram ("the spread of service response times"): work that goes on after the
    response (a late subsegment, a downstream segment) makes the duration longer."""
    from xray_local.query.graph import service_graph

    seg = signup_segment(start=1_700_000_000.0)
    seg["subsegments"][1]["end_time"] = seg["start_time"] + 0.2  # SNS publish after the answer
    view = build_trace_view(Trace(seg["trace_id"], (seg,)))
    services = {s["Name"]: s for s in service_graph([view])}
    app = services["signup-app"]
    assert app["ResponseTimeHistogram"] == [{"Value": 0.05, "Count": 1}]
    assert app["DurationHistogram"] == [{"Value": 0.2, "Count": 1}]
    table = services["signups"]  # an inferred node: its duration is its own call
    assert table["DurationHistogram"] == table["ResponseTimeHistogram"]
