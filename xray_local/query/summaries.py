"""The AWS `TraceSummary` JSON shape of a TraceView, as GetTraceSummaries answers it.

Kept apart from the view builder because it is pure presentation: the same TraceView feeds the
filter language and the service graph, and only this module knows botocore's member names.
Fields X-Ray leaves out when it has nothing to say (no Http status, no account id) are left out
here too rather than sent as null, which botocore would reject for non-nullable shapes.
"""

from __future__ import annotations

from typing import Any

from xray_local.query.model import AnnotationValue, NodeKey, RootCause, ServiceView, TraceView

__all__ = ["annotation_value_json", "service_id_json", "trace_summary_json"]


def service_id_json(
    key: NodeKey, names: tuple[str, ...] = (), account_id: str | None = None
) -> dict[str, Any]:
    """A `ServiceId`: Name, Names, Type and AccountId when known."""
    out: dict[str, Any] = {"Name": key.name, "Names": list(names or (key.name,))}
    if key.type is not None:
        out["Type"] = key.type
    if account_id is not None:
        out["AccountId"] = account_id
    return out


def _service_json(service: ServiceView) -> dict[str, Any]:
    return service_id_json(service.key, service.names, service.account_id)


def annotation_value_json(value: AnnotationValue) -> dict[str, Any]:
    """An `AnnotationValue`: exactly one of BooleanValue, NumberValue, StringValue."""
    if isinstance(value, bool):
        return {"BooleanValue": value}
    if isinstance(value, int | float):
        return {"NumberValue": float(value)}
    return {"StringValue": str(value)}


def _same(a: AnnotationValue, b: AnnotationValue) -> bool:
    return type(a) is type(b) and a == b


def _annotations_json(view: TraceView) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for key, values in view.annotations.items():
        entries = []
        for value in values:
            owners = [
                _service_json(s)
                for s in view.services
                if any(_same(value, v) for v in s.annotations.get(key, ()))
            ]
            entries.append({"AnnotationValue": annotation_value_json(value), "ServiceIds": owners})
        out[key] = entries
    return out


def _root_cause_json(view: TraceView, cause: RootCause) -> dict[str, Any]:
    service = next((s for s in view.services if s.key == cause.service), None)
    entity_path = []
    for i, name in enumerate(cause.entity_path):
        last = i == len(cause.entity_path) - 1
        exceptions: list[dict[str, str]] = []
        if last and (cause.exception_name or cause.exception_message):
            exc: dict[str, str] = {}
            if cause.exception_name:
                exc["Name"] = cause.exception_name
            if cause.exception_message:
                exc["Message"] = cause.exception_message
            exceptions.append(exc)
        remote = last and cause.remote
        entity_path.append({"Name": name, "Exceptions": exceptions, "Remote": remote})
    svc = service_id_json(
        cause.service,
        service.names if service else (),
        service.account_id if service else None,
    )
    svc["EntityPath"] = entity_path
    svc["Inferred"] = bool(service and service.inferred)
    return {"Services": [svc], "ClientImpacting": True}


def trace_summary_json(view: TraceView, matched_at: float | None = None) -> dict[str, Any]:
    """One `TraceSummary` for GetTraceSummaries; times as epoch seconds (restJson timestamps)."""
    http: dict[str, Any] = {}
    for member, value in (
        ("HttpURL", view.http_url),
        ("HttpStatus", view.http_status),
        ("HttpMethod", view.http_method),
        ("UserAgent", view.http_useragent),
        ("ClientIp", view.http_clientip),
    ):
        if value is not None:
            http[member] = value
    summary: dict[str, Any] = {
        "Id": view.id,
        "StartTime": view.start_time,
        "Duration": round(view.duration, 6),
        "HasFault": view.fault,
        "HasError": view.error,
        "HasThrottle": view.throttle or any(s.throttle for s in view.services),
        "IsPartial": view.partial,
        "Http": http,
        "Annotations": _annotations_json(view),
        "Users": [{"UserName": u, "ServiceIds": []} for u in view.users],
        "ServiceIds": [_service_json(s) for s in view.services],
        "ResourceARNs": [{"ARN": a} for a in view.resource_arns],
        "InstanceIds": [{"Id": i} for i in view.instance_ids],
        "AvailabilityZones": [{"Name": z} for z in view.availability_zones],
        "FaultRootCauses": [
            _root_cause_json(view, c) for c in view.root_causes if c.kind == "fault"
        ],
        "ErrorRootCauses": [
            _root_cause_json(view, c) for c in view.root_causes if c.kind in ("error", "throttle")
        ],
        "ResponseTimeRootCauses": [],
        "Revision": view.revision,
    }
    if view.response_time is not None:
        summary["ResponseTime"] = round(view.response_time, 6)
    if view.entry_point is not None:
        entry = next((s for s in view.services if s.key == view.entry_point), None)
        summary["EntryPoint"] = _service_json(entry) if entry else service_id_json(view.entry_point)
    if matched_at is not None:
        summary["MatchedEventTime"] = matched_at
    return summary
