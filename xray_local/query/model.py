"""The derived view of one trace shared by the filter language, summaries and the service graph.

X-Ray answers three questions from the same facts about a trace: which traces match a filter
expression (GetTraceSummaries), what each matching trace looks like in summary (TraceSummary), and
which services and edges it contributes to the map (GetServiceGraph / GetTraceGraph). This module
holds those facts as plain frozen dataclasses so that each of the three readers depends only on
them, not on the raw segment documents or on each other.

`xray_local.query.views.build_trace_view(trace)` builds a `TraceView` from a `Trace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "AnnotationValue",
    "Call",
    "EdgeView",
    "NodeKey",
    "RootCause",
    "ServiceView",
    "TraceView",
]

#: An annotation value as X-Ray stores it: string, number or boolean.
AnnotationValue = str | float | int | bool


@dataclass(frozen=True)
class NodeKey:
    """A service-graph node: X-Ray identifies it by name and type (None for a plain service)."""

    name: str
    type: str | None


@dataclass(frozen=True)
class Call:
    """One observed request handled by a node or carried by an edge."""

    start_time: float
    response_time: float  # seconds, end_time - start_time
    ok: bool  # 2xx (or, without a status, none of the flags)
    error: bool  # 4xx, 429 included (or the `error` / `throttle` flag)
    throttle: bool  # 429 (or the `throttle` flag)
    fault: bool  # 5xx (or the `fault` flag)
    http_status: int | None = None
    # seconds from start_time to the end of the last traced work under the call (its
    # subsegments and downstream segments); the response time where nothing ends later
    duration: float = 0.0


@dataclass(frozen=True)
class ServiceView:
    """A node as it appears in one trace (`service(...)`, `id(...)`, ServiceIds, the graph).

    `names` are all the names the node goes by (a ServiceId's `Names`); they always include
    `key.name`, which is checked here so that readers can rely on it.
    """

    key: NodeKey
    names: tuple[str, ...]
    account_id: str | None
    root: bool  # the trace's entry point
    inferred: bool  # built from a subsegment (namespace aws/remote), not from a segment
    calls: tuple[Call, ...]
    annotations: dict[str, tuple[AnnotationValue, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.key.name not in self.names:
            raise ValueError(f"names {self.names!r} must include the node's name {self.key.name!r}")

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.calls)

    @property
    def error(self) -> bool:
        return any(c.error for c in self.calls)

    @property
    def throttle(self) -> bool:
        return any(c.throttle for c in self.calls)

    @property
    def fault(self) -> bool:
        return any(c.fault for c in self.calls)


@dataclass(frozen=True)
class EdgeView:
    """A call from one node to another in one trace (`edge(a, b)`, the graph's edges)."""

    source: NodeKey
    destination: NodeKey
    calls: tuple[Call, ...]


@dataclass(frozen=True)
class RootCause:
    """The deepest entity that carries a fault, error or throttle, for `rootcause.*` keywords.

    `kind` is "fault", "error" or "throttle"; `service` the node it belongs to; `entity_path` the
    names from the segment down to the subsegment; `exception` the first exception's type and
    message where one was recorded.
    """

    kind: str
    service: NodeKey
    entity_path: tuple[str, ...]
    remote: bool
    exception_name: str | None = None
    exception_message: str | None = None


@dataclass(frozen=True)
class TraceView:
    """Trace-level facts: the root segment's outcome and HTTP fields, plus every node and edge."""

    id: str
    start_time: float
    end_time: float
    duration: float  # latest end_time - earliest start_time over all documents
    response_time: float | None  # the root segment's end_time - start_time
    ok: bool
    error: bool
    fault: bool
    throttle: bool
    partial: bool  # some document in progress or a parent missing
    http_url: str | None
    http_method: str | None
    http_status: int | None
    http_useragent: str | None
    http_clientip: str | None
    users: tuple[str, ...]
    annotations: dict[str, tuple[AnnotationValue, ...]]
    services: tuple[ServiceView, ...]
    edges: tuple[EdgeView, ...]
    root_causes: tuple[RootCause, ...]
    entry_point: NodeKey | None
    revision: int = 0
    # Filter keywords `availabilityzone`, `instance.id`, `resource.arn`: the values of those fields
    # on any segment of the trace (aws.ec2.availability_zone, aws.ec2.instance_id, resource_arn).
    availability_zones: tuple[str, ...] = ()
    instance_ids: tuple[str, ...] = ()
    resource_arns: tuple[str, ...] = ()
