"""Build the TraceView of one trace by X-Ray's service-graph rules.

Everything that reads a trace (filter expressions, TraceSummary, the service graph) goes through
`build_trace_view`, so the rules live in one place:

- one node per segment name (type = the segment's `origin`, None when absent);
- an inferred node per subsegment in namespace `aws` (the AWS resource: a DynamoDB table by its
  name, SNS as `SNS`) or `remote` (named after the subsegment), unless an instrumented segment
  names that subsegment as its parent, in which case the downstream service replaces it;
- edges from the calling service to the called node, each call measured by the caller's
  subsegment (what the client saw);
- trace-level fields from the root segment (the entry point), root causes from the deepest entity
  carrying the fault / error / throttle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xray_local.entities import (
    INFERRED_NAMESPACES,
    call_of,
    first_exception,
    http_status,
    iter_subsegments,
    outcome,
)
from xray_local.store.traces import Trace
from xray_local.trace_summary import trace_summary_json
from xray_local.traceview import (
    AnnotationValue,
    Call,
    EdgeView,
    NodeKey,
    RootCause,
    ServiceView,
    TraceView,
)

__all__ = ["build_trace_view", "inferred_node_key", "trace_summary_json"]

#: Lower-case SDK subsegment names -> the service name X-Ray shows (`AWS::<Service>`).
_AWS_SERVICES = {
    "dynamodb": "DynamoDB",
    "sns": "SNS",
    "sqs": "SQS",
    "s3": "S3",
    "lambda": "Lambda",
    "ec2": "EC2",
    "sts": "STS",
    "kinesis": "Kinesis",
    "stepfunctions": "StepFunctions",
    "sfn": "StepFunctions",
    "secretsmanager": "SecretsManager",
    "ssm": "SSM",
    "xray": "XRay",
}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _obj(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (documents are untrusted input)."""
    return value if isinstance(value, dict) else {}


def inferred_node_key(sub: dict[str, Any]) -> NodeKey | None:
    """The inferred node a subsegment calls, or None when it is a local subsegment."""
    namespace = sub.get("namespace")
    name = _str(sub.get("name")) or "unknown"
    if namespace == "remote":
        return NodeKey(name, "remote")
    if namespace != "aws":
        return None
    service = _AWS_SERVICES.get(name.lower(), name)
    aws = _obj(sub.get("aws"))
    if service == "DynamoDB":
        table = _str(aws.get("table_name"))
        names = aws.get("table_names")
        if table is None and isinstance(names, list) and names and isinstance(names[0], str):
            table = names[0]
        if table:
            return NodeKey(table, "AWS::DynamoDB::Table")
    return NodeKey(service, f"AWS::{service}")


@dataclass
class _Node:
    account_id: str | None = None
    root: bool = False
    inferred: bool = False
    calls: list[Call] = field(default_factory=list)
    annotations: dict[str, list[AnnotationValue]] = field(default_factory=dict)


def _add_annotations(target: dict[str, list[AnnotationValue]], doc: dict[str, Any]) -> None:
    """Add a document's annotations, each distinct (type, value) once per key."""
    annotations = doc.get("annotations")
    if not isinstance(annotations, dict):
        return
    for key, value in annotations.items():
        if not isinstance(value, str | int | float | bool) or not isinstance(key, str):
            continue
        values = target.setdefault(key, [])
        if not any(type(v) is type(value) and v == value for v in values):
            values.append(value)


def _walk(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A document and all its nested subsegments, depth first."""
    out = [doc]
    for sub in iter_subsegments(doc):
        out.extend(_walk(sub))
    return out


def _time(doc: dict[str, Any], key: str) -> float | None:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _segment_key(seg: dict[str, Any]) -> NodeKey:
    return NodeKey(_str(seg.get("name")) or "unknown", _str(seg.get("origin")))


def _account_id(seg: dict[str, Any]) -> str | None:
    aws = seg.get("aws")
    return _str(aws.get("account_id")) if isinstance(aws, dict) else None


class _Builder:
    """Accumulates nodes and edges of one trace in discovery order."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.nodes: dict[NodeKey, _Node] = {}
        self.edges: dict[tuple[NodeKey, NodeKey], list[Call]] = {}
        # children by parent id: segments whose parent_id names a segment or subsegment
        self.downstream: dict[str, list[dict[str, Any]]] = {}
        self.known_ids: set[str] = set()
        for seg in trace.segments:
            for doc in _walk(seg):
                if isinstance(doc.get("id"), str):
                    self.known_ids.add(doc["id"])
        for seg in trace.segments:
            parent = seg.get("parent_id")
            if isinstance(parent, str) and parent in self.known_ids:
                self.downstream.setdefault(parent, []).append(seg)

    def node(self, key: NodeKey) -> _Node:
        if key not in self.nodes:
            self.nodes[key] = _Node()
        return self.nodes[key]

    def edge(self, source: NodeKey, dest: NodeKey, call: Call | None) -> None:
        calls = self.edges.setdefault((source, dest), [])
        if call is not None:
            calls.append(call)

    def add_segment(self, seg: dict[str, Any]) -> None:
        key = _segment_key(seg)
        node = self.node(key)
        node.account_id = node.account_id or _account_id(seg)
        call = call_of(seg)
        if call is not None:
            node.calls.append(call)
        for doc in _walk(seg):
            _add_annotations(node.annotations, doc)
        for child in self.downstream.get(str(seg.get("id")), []):
            self.edge(key, _segment_key(child), call_of(child))
        for sub in iter_subsegments(seg):
            self.add_subsegment(key, sub)

    def add_subsegment(self, owner: NodeKey, sub: dict[str, Any]) -> None:
        children = self.downstream.get(str(sub.get("id")), [])
        if children:
            for child in children:
                self.edge(owner, _segment_key(child), call_of(sub))
            return
        inferred = inferred_node_key(sub)
        if inferred is not None:
            node = self.node(inferred)
            node.inferred = True
            call = call_of(sub)
            if call is not None:
                node.calls.append(call)
            self.edge(owner, inferred, call)
            return
        for child in iter_subsegments(sub):
            self.add_subsegment(owner, child)

    def root_segments(self) -> list[dict[str, Any]]:
        roots = [
            s
            for s in self.trace.segments
            if not (isinstance(s.get("parent_id"), str) and s["parent_id"] in self.known_ids)
        ]
        return sorted(roots, key=lambda s: _time(s, "start_time") or 0.0)


_KINDS = ("fault", "error", "throttle")


def _has_kind(doc: dict[str, Any], kind: str) -> bool:
    error, throttle, fault = outcome(doc)
    return {"fault": fault, "error": error, "throttle": throttle}[kind]


def _root_causes(builder: _Builder, roots: list[dict[str, Any]]) -> tuple[RootCause, ...]:
    """The deepest entities carrying each kind of failure, following calls downstream."""

    def deepest(
        doc: dict[str, Any], kind: str, path: tuple[str, ...], service: NodeKey, is_segment: bool
    ) -> list[RootCause]:
        name = _str(doc.get("name")) or "unknown"
        if is_segment:
            service, path = _segment_key(doc), (name,)
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
            for cause in deepest(root, kind, (), _segment_key(root), True):
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
        ec2 = _obj(_obj(seg.get("aws")).get("ec2"))
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
    builder = _Builder(trace)
    roots = builder.root_segments()
    for seg in roots:
        builder.node(_segment_key(seg)).root = True
    for seg in trace.segments:
        builder.add_segment(seg)

    all_docs = [d for seg in trace.segments for d in _walk(seg)]
    all_docs += [d for orphan in trace.orphans for d in _walk(orphan)]
    starts = [t for d in all_docs if (t := _time(d, "start_time")) is not None]
    ends = [t for d in all_docs if (t := _time(d, "end_time")) is not None]
    start = min(starts, default=0.0)
    end = max(ends + starts, default=start)
    partial = bool(trace.orphans) or any(d.get("in_progress") is True for d in all_docs)

    annotations: dict[str, list[AnnotationValue]] = {}
    for doc in all_docs:
        _add_annotations(annotations, doc)
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
    request = _obj(_obj(root_doc.get("http")).get("request"))

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
        ok=not (error or throttle or fault),
        error=error or throttle,
        fault=fault,
        throttle=throttle,
        partial=partial,
        http_url=_str(request.get("url")),
        http_method=_str(request.get("method")),
        http_status=http_status(root_doc),
        http_useragent=_str(request.get("user_agent")),
        http_clientip=_str(request.get("client_ip")),
        users=tuple(users),
        annotations={k: tuple(v) for k, v in annotations.items()},
        services=services,
        edges=edges,
        root_causes=_root_causes(builder, roots),
        entry_point=_segment_key(root) if root else None,
        availability_zones=zones,
        instance_ids=instances,
        resource_arns=arns,
    )
