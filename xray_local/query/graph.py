"""GetServiceGraph / GetTraceGraph: aggregate TraceViews into X-Ray's `Service` list.

Each trace contributes its nodes and edges (already decided by `build_trace_view`); this module
only adds them up. Statistics are kept as running sums and histograms keyed by the response time
rounded to the millisecond, so a graph over 100,000 traces needs memory per distinct millisecond,
not per call. X-Ray draws a `client` node before every root service; its edge carries the root's
own calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xray_local.query.model import Call, NodeKey, TraceView
from xray_local.query.summaries import service_id_json

__all__ = ["CLIENT_TYPE", "GraphBuilder", "service_graph"]

CLIENT_TYPE = "client"


@dataclass
class _Stats:
    """Running OK / error / throttle / fault counts, total response time and histogram."""

    ok: int = 0
    error: int = 0
    throttle: int = 0
    fault: int = 0
    total_time: float = 0.0
    start: float | None = None
    end: float | None = None
    histogram: Counter[float] = field(default_factory=Counter)

    def add(self, call: Call) -> None:
        if call.fault:
            self.fault += 1
        elif call.throttle:
            self.throttle += 1
        elif call.error:
            self.error += 1
        else:
            self.ok += 1
        self.total_time += call.response_time
        self.histogram[round(call.response_time, 3)] += 1
        end = call.start_time + call.response_time
        self.start = call.start_time if self.start is None else min(self.start, call.start_time)
        self.end = end if self.end is None else max(self.end, end)

    def statistics_json(self) -> dict[str, Any]:
        errors = self.error + self.throttle
        return {
            "OkCount": self.ok,
            "ErrorStatistics": {
                "ThrottleCount": self.throttle,
                "OtherCount": self.error,
                "TotalCount": errors,
            },
            "FaultStatistics": {"OtherCount": self.fault, "TotalCount": self.fault},
            "TotalCount": self.ok + errors + self.fault,
            "TotalResponseTime": round(self.total_time, 6),
        }

    def histogram_json(self) -> list[dict[str, Any]]:
        return [{"Value": value, "Count": count} for value, count in sorted(self.histogram.items())]


@dataclass
class _Node:
    key: NodeKey
    names: set[str] = field(default_factory=set)
    account_id: str | None = None
    root: bool = False
    stats: _Stats = field(default_factory=_Stats)
    edges: dict[NodeKey, _Stats] = field(default_factory=dict)
    seen_start: float | None = None
    seen_end: float | None = None


class GraphBuilder:
    """Adds TraceViews one at a time; `services_json()` answers with AWS's `Service` shapes."""

    def __init__(self) -> None:
        self._nodes: dict[NodeKey, _Node] = {}

    def _node(self, key: NodeKey) -> _Node:
        node = self._nodes.get(key)
        if node is None:
            node = self._nodes[key] = _Node(key)
        return node

    def add(self, view: TraceView) -> None:
        for service in view.services:
            node = self._node(service.key)
            node.names.update(service.names)
            node.account_id = node.account_id or service.account_id
            for call in service.calls:
                node.stats.add(call)
            node.seen_start = min(view.start_time, node.seen_start or view.start_time)
            node.seen_end = max(view.end_time, node.seen_end or view.end_time)
            if service.root:
                node.root = True
                client = self._node(NodeKey(f"client:{service.key.name}", CLIENT_TYPE))
                client.names.add("client")
                client_edge = client.edges.setdefault(service.key, _Stats())
                for call in service.calls:
                    client.stats.add(call)
                    client_edge.add(call)
        for edge in view.edges:
            self._node(edge.destination)
            stats = self._node(edge.source).edges.setdefault(edge.destination, _Stats())
            for call in edge.calls:
                stats.add(call)

    def services_json(self) -> list[dict[str, Any]]:
        """Nodes with ReferenceIds numbered in (client first, name, type) order: stable per data."""
        keys = sorted(
            self._nodes,
            key=lambda k: (k.type != CLIENT_TYPE, k.name, k.type or ""),
        )
        ref = {key: i for i, key in enumerate(keys)}
        return [self._service_json(self._nodes[key], ref) for key in keys]

    def _service_json(self, node: _Node, ref: dict[NodeKey, int]) -> dict[str, Any]:
        client = node.key.type == CLIENT_TYPE
        out: dict[str, Any] = {"ReferenceId": ref[node.key]}
        if client:
            out.update(Name="client", Names=["client"], Root=False, Type=CLIENT_TYPE)
            out["State"] = "unknown"
        else:
            out.update(service_id_json(node.key, tuple(sorted(node.names)), node.account_id))
            out["Root"] = node.root
            out["State"] = "active"
        start = node.stats.start if node.stats.start is not None else node.seen_start
        end = node.stats.end if node.stats.end is not None else node.seen_end
        if start is not None and end is not None:
            out["StartTime"] = start
            out["EndTime"] = end
        out["Edges"] = [
            {
                "ReferenceId": ref[dest],
                **({"StartTime": s.start, "EndTime": s.end} if s.start is not None else {}),
                "SummaryStatistics": s.statistics_json(),
                "ResponseTimeHistogram": s.histogram_json(),
                "Aliases": [],
            }
            for dest, s in sorted(node.edges.items(), key=lambda kv: ref[kv[0]])
        ]
        if not client:
            out["SummaryStatistics"] = node.stats.statistics_json()
            out["DurationHistogram"] = node.stats.histogram_json()
            out["ResponseTimeHistogram"] = node.stats.histogram_json()
        return out


def service_graph(views: Iterable[TraceView]) -> list[dict[str, Any]]:
    """The `Services` list for a set of traces (GetServiceGraph, GetTraceGraph)."""
    builder = GraphBuilder()
    for view in views:
        builder.add(view)
    return builder.services_json()
