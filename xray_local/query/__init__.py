"""Query: everything read out of stored traces and log lines, as X-Ray and CloudWatch Logs answer.

- `model`: the derived facts of one trace (`TraceView`, its services, edges, calls, root causes),
  the one input of every reader below;
- `documents`: facts read from one segment document (outcome by status and flags, calls);
- `nodes`: which service-graph nodes and edges a trace contributes (X-Ray's inference rules);
- `views`: `build_trace_view(trace)`, a stored `Trace` turned into its `TraceView`;
- `summaries`: the `TraceSummary` / `ServiceId` JSON shapes of GetTraceSummaries;
- `filters/`: the filter-expression language (`compile_filter(text)`);
- `graph`: GetServiceGraph / GetTraceGraph, trace views added up into X-Ray's `Service` list;
- `logpatterns`: CloudWatch Logs filter patterns for the log lines (`compile_pattern(text)`).
"""

from __future__ import annotations

from xray_local.query.filters import FilterSyntaxError, compile_filter
from xray_local.query.graph import service_graph
from xray_local.query.logpatterns import PatternError, compile_pattern
from xray_local.query.model import TraceView
from xray_local.query.summaries import trace_summary_json
from xray_local.query.views import build_trace_view

__all__ = [
    "FilterSyntaxError",
    "PatternError",
    "TraceView",
    "build_trace_view",
    "compile_filter",
    "compile_pattern",
    "service_graph",
    "trace_summary_json",
]
