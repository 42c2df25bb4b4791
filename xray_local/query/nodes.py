"""The nodes and edges one trace contributes to the service graph, by X-Ray's rules.

- one node per segment name (type = the segment's `origin`, None when absent);
- an inferred node per subsegment in namespace `aws` (the AWS resource: a DynamoDB table by its
  name, SNS as `SNS`) or `remote` (named after the subsegment), unless an instrumented segment
  names that subsegment as its parent, in which case the downstream service replaces it;
- edges from the calling service to the called node, each call measured by the caller's
  subsegment (what the client saw);
- a call nested inside another call's subsegment (the Node SDK runs an AWS SDK callback inside the
  call's context, so an `sns` made in the `dynamodb` callback is that subsegment's child) is still
  a call of the service that owns the segment: its own node, its edge from the service.

SDKs name the AWS service differently (Python `dynamodb`, Node v3 / OpenTelemetry `DynamoDB`,
Java v1 `AmazonDynamoDBv2`, Java v2 `DynamoDb`, .NET `DynamoDBv2`, `SimpleNotificationService`);
`aws_service` folds them into one name.

`NodeBuilder` walks a `Trace` once and keeps what it found in discovery order; `views` turns that
into the `TraceView` every reader uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from xray_local.query.documents import (
    call_of,
    iter_subsegments,
    object_or_empty,
    str_or_none,
    time_of,
    walk,
)
from xray_local.query.model import AnnotationValue, Call, NodeKey
from xray_local.store.traces import Trace

__all__ = ["NodeBuilder", "add_annotations", "aws_service", "inferred_node_key", "segment_key"]

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


#: Other spellings of a service name, after `aws_service` folded case, prefix and suffix.
_ALIASES = {"simplenotificationservice": "sns", "simplequeueservice": "sqs"}


def aws_service(name: str) -> str:
    """The service an `aws` subsegment's name stands for, whichever SDK wrote it."""
    folded = name.lower().replace(" ", "").replace("-", "")
    for prefix in ("", "amazon.", "amazon", "aws.", "aws"):
        if not folded.startswith(prefix):
            continue
        key = folded[len(prefix) :]
        key = _ALIASES.get(key, key)
        for candidate in (key, key[:-2] if key.endswith("v2") else key):
            if candidate in _AWS_SERVICES:
                return _AWS_SERVICES[candidate]
    return name


def inferred_node_key(sub: dict[str, Any]) -> NodeKey | None:
    """The inferred node a subsegment calls, or None when it is a local subsegment."""
    namespace = sub.get("namespace")
    name = str_or_none(sub.get("name")) or "unknown"
    if namespace == "remote":
        return NodeKey(name, "remote")
    if namespace != "aws":
        return None
    service = aws_service(name)
    aws = object_or_empty(sub.get("aws"))
    if service == "DynamoDB":
        table = str_or_none(aws.get("table_name"))
        names = aws.get("table_names")
        if table is None and isinstance(names, list) and names and isinstance(names[0], str):
            table = names[0]
        if table:
            return NodeKey(table, "AWS::DynamoDB::Table")
    return NodeKey(service, f"AWS::{service}")


@dataclass
class _Node:
    """What one node has gathered so far: account, root / inferred, calls, annotations."""

    account_id: str | None = None
    root: bool = False
    inferred: bool = False
    calls: list[Call] = field(default_factory=list)
    annotations: dict[str, list[AnnotationValue]] = field(default_factory=dict)


def add_annotations(target: dict[str, list[AnnotationValue]], doc: dict[str, Any]) -> None:
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


def segment_key(seg: dict[str, Any]) -> NodeKey:
    """The node a segment stands for: its name and `origin`."""
    return NodeKey(str_or_none(seg.get("name")) or "unknown", str_or_none(seg.get("origin")))


def _account_id(seg: dict[str, Any]) -> str | None:
    aws = seg.get("aws")
    return str_or_none(aws.get("account_id")) if isinstance(aws, dict) else None


class NodeBuilder:
    """Accumulates nodes and edges of one trace in discovery order."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.nodes: dict[NodeKey, _Node] = {}
        self.edges: dict[tuple[NodeKey, NodeKey], list[Call]] = {}
        # children by parent id: segments whose parent_id names a segment or subsegment
        self.downstream: dict[str, list[dict[str, Any]]] = {}
        self.known_ids: set[str] = set()
        for seg in trace.segments:
            for doc in walk(seg):
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

    def latest_end(self, doc: dict[str, Any], seen: set[int] | None = None) -> float | None:
        """The latest end time of a document, its subsegments and the segments downstream."""
        seen = set() if seen is None else seen
        ends: list[float] = []
        for item in walk(doc):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if (end := time_of(item, "end_time")) is not None:
                ends.append(end)
            for child in self.downstream.get(str(item.get("id")), []):
                if (end := self.latest_end(child, seen)) is not None:
                    ends.append(end)
        return max(ends, default=None)

    def add_segment(self, seg: dict[str, Any]) -> None:
        key = segment_key(seg)
        node = self.node(key)
        node.account_id = node.account_id or _account_id(seg)
        call = call_of(seg)
        if call is not None:
            last = self.latest_end(seg)
            if last is not None and last - call.start_time > call.duration:
                call = replace(call, duration=last - call.start_time)
            node.calls.append(call)
        for doc in walk(seg):
            add_annotations(node.annotations, doc)
        for child in self.downstream.get(str(seg.get("id")), []):
            self.edge(key, segment_key(child), call_of(child))
        for sub in iter_subsegments(seg):
            self.add_subsegment(key, sub)

    def add_subsegment(self, owner: NodeKey, sub: dict[str, Any]) -> None:
        children = self.downstream.get(str(sub.get("id")), [])
        if children:
            for child in children:
                self.edge(owner, segment_key(child), call_of(sub))
            return
        inferred = inferred_node_key(sub)
        if inferred is not None:
            node = self.node(inferred)
            node.inferred = True
            call = call_of(sub)
            if call is not None:
                node.calls.append(call)
            self.edge(owner, inferred, call)
        for child in iter_subsegments(sub):
            self.add_subsegment(owner, child)

    def root_segments(self) -> list[dict[str, Any]]:
        roots = [
            s
            for s in self.trace.segments
            if not (isinstance(s.get("parent_id"), str) and s["parent_id"] in self.known_ids)
        ]
        return sorted(roots, key=lambda s: time_of(s, "start_time") or 0.0)
