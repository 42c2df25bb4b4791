"""GetServiceGraph / GetTraceGraph: aggregate TraceViews into X-Ray's `Service` list.

Each trace contributes its nodes and edges (already decided by `build_trace_view`); this module
only adds them up. Statistics are kept as running sums and histograms keyed by the time rounded to
the millisecond, so a graph over 100,000 traces needs memory per distinct millisecond, not per
call. X-Ray draws a `client` node before every root service; its edge carries the root's own calls.

Two histograms per service, as the API reference tells them apart: `ResponseTimeHistogram` spreads
the response times (a call's end_time - start_time), `DurationHistogram` the durations (from the
call's start to the end of the last traced work under it, downstream segments included: longer than
the response time when work goes on after the response). Edges carry response times only.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from xray_local.query.model import Call, NodeKey, TraceView
from xray_local.query.summaries import service_id_json

__all__ = ["CLIENT_TYPE", "GraphBuilder", "decode_key", "encode_key", "service_graph"]

CLIENT_TYPE = "client"
#: Marks a duration bucket in a store cell's `hist` (response-time buckets are bare numbers).
_DURATION = "d"


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
    durations: Counter[float] = field(default_factory=Counter)

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
        self.durations[round(max(call.duration, call.response_time), 3)] += 1
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

    def histogram_json(self, histogram: Counter[float] | None = None) -> list[dict[str, Any]]:
        items = sorted((self.histogram if histogram is None else histogram).items())
        return [{"Value": value, "Count": count} for value, count in items]

    def cell(self) -> dict[str, Any]:
        """The statistics as a store cell (store/index.py `combine` adds cells up). The duration
        histogram shares `hist` with the response times, its buckets marked `d`: `combine` adds
        any bucket up by its key, so no store change is needed for the second histogram."""
        hist = {repr(k): v for k, v in self.histogram.items()}
        hist.update({_DURATION + repr(k): v for k, v in self.durations.items()})
        return {
            "ok": self.ok,
            "error": self.error,
            "throttle": self.throttle,
            "fault": self.fault,
            "total": self.total_time,
            "start": self.start,
            "end": self.end,
            "hist": hist,
        }

    @classmethod
    def from_cell(cls, cell: Mapping[str, Any]) -> _Stats:
        histogram: Counter[float] = Counter()
        durations: Counter[float] = Counter()
        for key, count in cell.get("hist", {}).items():
            if not count:
                continue
            if key.startswith(_DURATION):
                durations[float(key[len(_DURATION) :])] = count
            else:
                histogram[float(key)] = count
        return cls(
            ok=cell.get("ok", 0),
            error=cell.get("error", 0),
            throttle=cell.get("throttle", 0),
            fault=cell.get("fault", 0),
            total_time=cell.get("total", 0.0),
            start=cell.get("start"),
            end=cell.get("end"),
            histogram=histogram,
            durations=durations,
        )


@functools.lru_cache(maxsize=4096)
def encode_key(key: NodeKey) -> str:
    """A node key as the store's graph cells name it."""
    return json.dumps([key.name, key.type])


def decode_key(text: str) -> NodeKey:
    name, type_ = json.loads(text)
    return NodeKey(name, type_)


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

    def cells(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """What was added so far as store cells: (node, "", cell) and (source, destination, cell);
        `n` counts the traces a cell came from, `root` those where the node was the root."""
        for key, node in self._nodes.items():
            src = encode_key(key)
            yield (
                src,
                "",
                {
                    "n": 1,
                    "root": int(node.root),
                    "names": sorted(node.names),
                    "account": node.account_id,
                    "seen_start": node.seen_start,
                    "seen_end": node.seen_end,
                    **node.stats.cell(),
                },
            )
            for dest, stats in node.edges.items():
                yield src, encode_key(dest), {"n": 1, **stats.cell()}

    @classmethod
    def from_cells(cls, cells: Mapping[tuple[str, str], Mapping[str, Any]]) -> GraphBuilder:
        """A builder holding what the (added-up) cells say, ready for `services_json`."""
        builder = cls()
        for (src, dst), cell in cells.items():
            node = builder._node(decode_key(src))
            if dst:
                builder._node(decode_key(dst))
                node.edges[decode_key(dst)] = _Stats.from_cell(cell)
                continue
            node.names.update(cell.get("names", ()))
            node.account_id = cell.get("account")
            node.root = cell.get("root", 0) > 0
            node.seen_start, node.seen_end = cell.get("seen_start"), cell.get("seen_end")
            node.stats = _Stats.from_cell(cell)
        return builder

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
            out["DurationHistogram"] = node.stats.histogram_json(node.stats.durations)
            out["ResponseTimeHistogram"] = node.stats.histogram_json()
        return out


def service_graph(views: Iterable[TraceView]) -> list[dict[str, Any]]:
    """The `Services` list for a set of traces (GetServiceGraph, GetTraceGraph)."""
    builder = GraphBuilder()
    for view in views:
        builder.add(view)
    return builder.services_json()
