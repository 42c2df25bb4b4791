"""Build the TraceView of one trace: the facts every reader of a trace shares.

Everything that reads a trace (filter expressions, TraceSummary, the service graph) goes through
`build_trace_view`, so the rules live in one place: the nodes and edges come from `nodes` (X-Ray's
service-graph rules); this module adds the trace-level fields from the root segment (the entry
point) and the root causes, the deepest entity carrying the fault / error / throttle.
"""

from __future__ import annotations

from typing import Any

from xray_local.query.documents import (
    INFERRED_NAMESPACES,
    call_of,
    first_exception,
    http_status,
    iter_subsegments,
    object_or_empty,
    outcome,
    str_or_none,
    time_of,
    walk,
)
from xray_local.query.model import (
    AnnotationValue,
    EdgeView,
    NodeKey,
    RootCause,
    ServiceView,
    TraceView,
)
from xray_local.query.nodes import NodeBuilder, add_annotations, inferred_node_key, segment_key
from xray_local.query.summaries import trace_summary_json
from xray_local.store.traces import Trace

__all__ = ["build_trace_view", "inferred_node_key", "trace_summary_json"]


_KINDS = ("fault", "error", "throttle")


def _has_kind(doc: dict[str, Any], kind: str) -> bool:
    error, throttle, fault = outcome(doc)
    return {"fault": fault, "error": error, "throttle": throttle}[kind]


def _root_causes(builder: NodeBuilder, roots: list[dict[str, Any]]) -> tuple[RootCause, ...]:
    """The deepest entities carrying each kind of failure, following calls downstream."""

    def deepest(
        doc: dict[str, Any], kind: str, path: tuple[str, ...], service: NodeKey, is_segment: bool
    ) -> list[RootCause]:
        name = str_or_none(doc.get("name")) or "unknown"
        if is_segment:
            service, path = segment_key(doc), (name,)
        else:
            path = (*path, name)
            service = inferred_node_key(doc) or service
        found: list[RootCause] = []
        for child in builder.downstream.get(str(doc.get("id")), []):
            found.extend(deepest(child, kind, (), service, True))
        for sub in iter_subsegments(doc):
            found.extend(deepest(sub, kind, path, service, False))
        if found or not _has_kind(doc, kind):
            return found
        exc_name, exc_message, exc_remote = first_exception(doc)
        remote = exc_remote or doc.get("namespace") in INFERRED_NAMESPACES
        return [RootCause(kind, service, path, remote, exc_name, exc_message)]

    causes: list[RootCause] = []
    for kind in _KINDS:
        for root in roots:
            for cause in deepest(root, kind, (), segment_key(root), True):
                if cause not in causes:
                    causes.append(cause)
    return tuple(causes)


def _ec2_facts(
    segments: tuple[dict[str, Any], ...],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Distinct availability zones, instance ids and resource ARNs named by any segment."""
    zones: list[str] = []
    instances: list[str] = []
    arns: list[str] = []
    for seg in segments:
        ec2 = object_or_empty(object_or_empty(seg.get("aws")).get("ec2"))
        for target, value in (
            (zones, ec2.get("availability_zone")),
            (instances, ec2.get("instance_id")),
            (arns, seg.get("resource_arn")),
        ):
            if isinstance(value, str) and value and value not in target:
                target.append(value)
    return tuple(zones), tuple(instances), tuple(arns)


def build_trace_view(trace: Trace) -> TraceView:
    """Derive the trace-level facts, nodes, edges and root causes of one stored trace."""
    builder = NodeBuilder(trace)
    roots = builder.root_segments()
    for seg in roots:
        builder.node(segment_key(seg)).root = True
    for seg in trace.segments:
        builder.add_segment(seg)

    all_docs = [d for seg in trace.segments for d in walk(seg)]
    all_docs += [d for orphan in trace.orphans for d in walk(orphan)]
    starts = [t for d in all_docs if (t := time_of(d, "start_time")) is not None]
    ends = [t for d in all_docs if (t := time_of(d, "end_time")) is not None]
    start = min(starts, default=0.0)
    end = max(ends + starts, default=start)
    partial = bool(trace.orphans) or any(d.get("in_progress") is True for d in all_docs)

    annotations: dict[str, list[AnnotationValue]] = {}
    for doc in all_docs:
        add_annotations(annotations, doc)
    users: list[str] = []
    for seg in trace.segments:
        user = seg.get("user")
        if isinstance(user, str) and user not in users:
            users.append(user)

    zones, instances, arns = _ec2_facts(trace.segments)
    root = roots[0] if roots else None
    root_doc: dict[str, Any] = root or {}
    error, throttle, fault = outcome(root_doc)
    root_call = call_of(root_doc) if root else None
    request = object_or_empty(object_or_empty(root_doc.get("http")).get("request"))

    services = tuple(
        ServiceView(
            key=key,
            names=(key.name,),
            account_id=node.account_id,
            root=node.root,
            inferred=node.inferred,
            calls=tuple(node.calls),
            annotations={k: tuple(v) for k, v in node.annotations.items()},
        )
        for key, node in sorted(builder.nodes.items(), key=lambda kv: not kv[1].root)
    )
    edges = tuple(EdgeView(src, dst, tuple(calls)) for (src, dst), calls in builder.edges.items())
    return TraceView(
        id=trace.id,
        start_time=start,
        end_time=end,
        duration=end - start,
        response_time=root_call.response_time if root_call else None,
        ok=root_call.ok if root_call else False,  # 2xx; in progress is not (yet) ok
        error=error or throttle,
        fault=fault,
        throttle=throttle,
        partial=partial,
        http_url=str_or_none(request.get("url")),
        http_method=str_or_none(request.get("method")),
        http_status=http_status(root_doc),
        http_useragent=str_or_none(request.get("user_agent")),
        http_clientip=str_or_none(request.get("client_ip")),
        users=tuple(users),
        annotations={k: tuple(v) for k, v in annotations.items()},
        services=services,
        edges=edges,
        root_causes=_root_causes(builder, roots),
        entry_point=segment_key(root) if root else None,
        availability_zones=zones,
        instance_ids=instances,
        resource_arns=arns,
    )
