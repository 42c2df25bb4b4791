"""GetServiceGraph's `Services` turned into what the map draws: nodes by depth, edges, statistics.

The page only lays out and paints; every number it shows (shares of ok / error / fault / throttle,
average response time, requests a minute, the histogram, the filter for "traces of this node") is
computed here so that it is tested in Python and identical for local and AWS data.
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime
from typing import Any

__all__ = ["ORIGIN_TYPES", "epoch", "map_json", "node_kind", "service_filter", "stats_json"]


def epoch(value: Any) -> float | None:
    """boto3 gives datetimes; JSON and the page want epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: Types a segment's `origin` can have: a service that sends its own segments, not inferred.
ORIGIN_TYPES = frozenset(
    {
        "AWS::EC2::Instance",
        "AWS::ECS::Container",
        "AWS::EKS::Container",
        "AWS::ElasticBeanstalk::Environment",
        "AWS::Lambda",
        "AWS::Lambda::Function",
        "AWS::ApiGateway::Stage",
        "AWS::AppSync::GraphQLAPI",
        "AWS::StepFunctions::StateMachine",
    }
)


def node_kind(type_: str | None) -> str:
    """client, service (sends segments), resource (an AWS resource inferred from subsegments) or
    remote (an uninstrumented HTTP service): the map draws each differently."""
    if type_ == "client":
        return "client"
    if type_ == "remote":
        return "remote"
    if type_ and type_.startswith("AWS::") and type_ not in ORIGIN_TYPES:
        return "resource"
    return "service"


def service_filter(name: str, type_: str | None) -> str:
    """The filter expression for a node's traces, the way the X-Ray console writes it."""
    if type_ == "client":
        return ""
    if type_:
        return f"service(id(name: {_quote(name)}, type: {_quote(type_)}))"
    return f"service({_quote(name)})"


def stats_json(summary: dict[str, Any] | None, minutes: float) -> dict[str, Any]:
    """Counts, shares and rates from a SummaryStatistics shape (empty when there is none)."""
    summary = summary or {}
    errors = summary.get("ErrorStatistics") or {}
    faults = summary.get("FaultStatistics") or {}
    ok = int(summary.get("OkCount") or 0)
    throttle = int(errors.get("ThrottleCount") or 0)
    error = int(errors.get("TotalCount") or 0) - throttle
    fault = int(faults.get("TotalCount") or 0)
    total = int(summary.get("TotalCount") or ok + error + throttle + fault)
    total_time = float(summary.get("TotalResponseTime") or 0.0)
    return {
        "ok": ok,
        "error": max(error, 0),
        "throttle": throttle,
        "fault": fault,
        "total": total,
        "avg_ms": round(total_time / total * 1000, 2) if total else None,
        "per_minute": round(total / minutes, 2) if minutes > 0 else None,
    }


def _histogram(items: list[dict[str, Any]] | None) -> list[dict[str, float]]:
    return [
        {"value": float(item.get("Value") or 0.0), "count": int(item.get("Count") or 0)}
        for item in items or []
    ]


def _add(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    """Sum two SummaryStatistics (a client node has none of its own: its edges carry them)."""
    if a is None:
        return b
    out: dict[str, Any] = {
        "OkCount": (a.get("OkCount") or 0) + (b.get("OkCount") or 0),
        "TotalCount": (a.get("TotalCount") or 0) + (b.get("TotalCount") or 0),
        "TotalResponseTime": (a.get("TotalResponseTime") or 0) + (b.get("TotalResponseTime") or 0),
        "ErrorStatistics": {},
        "FaultStatistics": {},
    }
    for group, keys in (
        ("ErrorStatistics", ("ThrottleCount", "OtherCount", "TotalCount")),
        ("FaultStatistics", ("OtherCount", "TotalCount")),
    ):
        for key in keys:
            out[group][key] = (a.get(group) or {}).get(key, 0) + (b.get(group) or {}).get(key, 0)
    return out


def _depths(ids: list[int], edges: list[tuple[int, int]], roots: set[int]) -> dict[int, int]:
    """Breadth-first depth from the nodes nobody calls (the clients), so the map reads left to
    right: callers before the services and resources they call."""
    incoming: dict[int, int] = defaultdict(int)
    outgoing: dict[int, list[int]] = defaultdict(list)
    for source, target in edges:
        if source != target:
            outgoing[source].append(target)
            incoming[target] += 1
    starts = [i for i in ids if incoming[i] == 0] or sorted(roots) or ids[:1]
    depth = {i: 0 for i in starts}
    queue = deque(starts)
    while queue:
        current = queue.popleft()
        for target in outgoing[current]:
            if target not in depth:
                depth[target] = depth[current] + 1
                queue.append(target)
    for i in ids:  # nodes only reachable through a cycle
        depth.setdefault(i, 0)
    return depth


def map_json(services: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """Nodes (with depth and row for the layout) and edges for one time range."""
    minutes = max((end - start) / 60.0, 1 / 60)
    by_ref = {int(s["ReferenceId"]): s for s in services}
    edge_pairs: list[tuple[int, int]] = []
    edges: list[dict[str, Any]] = []
    client_stats: dict[int, dict[str, Any] | None] = {}
    for ref, service in by_ref.items():
        for edge in service.get("Edges") or []:
            target = int(edge["ReferenceId"])
            if target not in by_ref:
                continue
            edge_pairs.append((ref, target))
            summary = edge.get("SummaryStatistics")
            if service.get("Type") == "client" and summary:
                client_stats[ref] = _add(client_stats.get(ref), summary)
            edges.append(
                {
                    "source": ref,
                    "target": target,
                    "stats": stats_json(summary, minutes),
                    "histogram": _histogram(edge.get("ResponseTimeHistogram")),
                }
            )
    roots = {ref for ref, s in by_ref.items() if s.get("Root")}
    depth = _depths(sorted(by_ref), edge_pairs, roots)
    rows: dict[int, int] = defaultdict(int)
    nodes: list[dict[str, Any]] = []
    order = sorted(by_ref, key=lambda r: (depth[r], str(by_ref[r].get("Name")), r))
    for ref in order:
        service = by_ref[ref]
        name = str(service.get("Name") or "")
        type_ = service.get("Type")
        summary = service.get("SummaryStatistics") or client_stats.get(ref)
        nodes.append(
            {
                "id": ref,
                "name": name,
                "names": list(service.get("Names") or [name]),
                "type": type_,
                "root": bool(service.get("Root")),
                "client": type_ == "client",
                "kind": node_kind(type_),
                "depth": depth[ref],
                "row": rows[depth[ref]],
                "stats": stats_json(summary, minutes),
                "histogram": _histogram(service.get("ResponseTimeHistogram")),
                "filter": service_filter(name, type_),
                "start": epoch(service.get("StartTime")),
                "end": epoch(service.get("EndTime")),
            }
        )
        rows[depth[ref]] += 1
    return {
        "start": start,
        "end": end,
        "minutes": round(minutes, 3),
        "nodes": nodes,
        "edges": edges,
        "columns": (max(depth.values()) + 1) if depth else 0,
        "rows": max(rows.values()) if rows else 0,
    }
