"""OpenTelemetry's sampling, with the same rules and answers as aws-xray-sdk (TRACER=opentelemetry).

Two parts, in this order, so that both tracers trace the same requests:

1. `UntracedRequests`: the server span of a request the rules file never traces (app/sampling.py:
   health checks, static files, the status poll...) is dropped, whatever an incoming
   `X-Amzn-Trace-Id` says (the X-Ray middleware ignores the header for those too). It asks the
   same `untraced(method, path, host)` as the X-Ray middleware, with the same three values: the
   Flask request being served (the Flask instrumentation starts its span in `before_request`).
   Why a Sampler and not the Flask instrumentation's `excluded_urls`: those are regular
   expressions searched in the whole URL, with no method (only `GET /generator/status` is
   untraced) and no first-match order, so they would be a second, hand-kept copy of the rules
   that could drift. A dropped request costs a non-recording span; its AWS calls are dropped with
   it (parent-based, below) and nothing is exported. (OTEL_PYTHON_FLASK_EXCLUDED_URLS still
   works, as the instrumentation defines it.)
2. `ParentBased`: an upstream decision (`Sampled=1` / `Sampled=0`, read by the X-Ray propagator)
   is kept, as the X-Ray SDK keeps it, and an AWS call's span follows its request's. Without one:
   - locally (no XRAY_SAMPLING_RULES): every request is traced (ALWAYS_ON), as the X-Ray SDK's
     recorder with `sampling=False`;
   - deployed (XRAY_SAMPLING_RULES names the rules file): `LocalRules`, the file's decision: the
     first matching rule (else `default`) traces `fixed_target` requests a second (a reservoir)
     and `rate` of the rest, computed by the X-Ray SDK's own local sampler.

Centralized sampling (rules kept in X-Ray and polled through the daemon, which the X-Ray SDK uses
deployed, with the file as its fallback) would need the X-Ray remote sampler of the ADOT Python
distro (`AwsXRayRemoteSampler`). We configure the upstream SDK in code and do not take the
distro, so with TRACER=opentelemetry the deployed rules are the file's own (a change is a deploy).

Known differences of the X-Ray propagator (opentelemetry-propagator-aws-xray), both upstream:
a header with `Root` but no `Parent` (as a load balancer adds) starts a new trace, and a header
without `Sampled` (or with `Sampled=?`) counts as "not sampled", where the X-Ray SDK continues the
root or decides by the rules. Callers that want their trace continued send all three.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
from flask import has_request_context, request
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from app.config import Settings
from app.sampling import untraced

__all__ = ["LocalRules", "UntracedRequests", "sampler_for"]


def _parent_trace_state(parent_context: Context | None) -> TraceState | None:
    parent = get_current_span(parent_context).get_span_context()
    return parent.trace_state if parent.is_valid else None


def _request_facts() -> dict[str, str] | None:
    """The request being served, as the X-Ray SDK's samplers see it."""
    if not has_request_context():
        return None
    return {"host": request.host, "method": request.method, "path": request.path}


class UntracedRequests(Sampler):
    """Drop the server spans of the requests the rules file never traces; ask `delegate` else."""

    def __init__(self, delegate: Sampler) -> None:
        self._delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.SERVER:
            facts = _request_facts()
            if facts is not None and untraced(facts["method"], facts["path"], facts["host"]):
                return SamplingResult(Decision.DROP, None, _parent_trace_state(parent_context))
        return self._delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"UntracedRequests{{{self._delegate.get_description()}}}"


class LocalRules(Sampler):
    """A rules file's decision (reservoir and rate per rule), by the X-Ray SDK's local sampler."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        self._sampler = LocalSampler(dict(rules))

    @classmethod
    def from_file(cls, path: str | Path) -> LocalRules:
        rules: dict[str, Any] = json.loads(Path(path).read_text())
        return cls(rules)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        sampled = bool(self._sampler.should_trace(_request_facts()))
        decision = Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP
        return SamplingResult(
            decision, attributes if sampled else None, _parent_trace_state(parent_context)
        )

    def get_description(self) -> str:
        return "LocalRules"


def sampler_for(settings: Settings) -> Sampler:
    """The app's sampler: untraced requests first, then parent-based (see the module docstring)."""
    root: Sampler = (
        LocalRules.from_file(settings.xray_sampling_rules)
        if settings.xray_sampling_rules
        else ALWAYS_ON
    )
    return UntracedRequests(ParentBased(root))
