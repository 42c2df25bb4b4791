"""Filter expressions over a fixed corpus of signup traces, through the real trace-view builder.

`corpus/signup-traces.json` holds segment documents as aws-xray-sdk's Flask middleware and botocore
patch emit them (every one valid against AWS's schema), one trace per situation of the story:

 1 created (201)              2 duplicate (409, user)      3 duplicate (409)
 4 throttled (429)            5 DynamoDB outage (503)      6 SNS fault, still 201
 7 slow DynamoDB (3.4 s)      8 in progress (partial)      9 signup-web -> signup-app (two services)
10 invalid form (400)        11 GET / page (200)          12 created behind a proxy
13 unhandled KeyError (500)

Each expression lists exactly the traces it must return. A DynamoDB 400 carrying the SDK's fault
flag (the duplicates) is an error, not a fault: the status decides (docs/xray-local.md,
"Differences from AWS X-Ray").
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from xray_local.query.filters import compile_filter
from xray_local.query.model import TraceView
from xray_local.query.views import build_trace_view
from xray_local.store import Trace

HERE = Path(__file__).parent
CORPUS = HERE / "corpus" / "signup-traces.json"
SCHEMA = HERE / "segment-document-schema-v1.0.0.json"


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = json.loads(CORPUS.read_text())
    return docs


def _trace_number(trace_id: str) -> int:
    return int(trace_id.rsplit("-", 1)[1], 16)


def _views() -> dict[int, TraceView]:
    by_trace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in _documents():
        by_trace[doc["trace_id"]].append(doc)
    return {
        _trace_number(tid): build_trace_view(Trace(tid, tuple(docs)))
        for tid, docs in by_trace.items()
    }


VIEWS = _views()
ALL = frozenset(VIEWS)

EXPECTED: list[tuple[str, set[int]]] = [
    ("", set(ALL)),
    ("   ", set(ALL)),
    ("http.status = 409", {2, 3}),
    ("error", {2, 3, 4, 10}),
    ("!error", {1, 5, 6, 7, 8, 9, 11, 12, 13}),
    ("error = false AND !fault", {1, 6, 7, 8, 9, 11, 12}),
    ("fault", {5, 13}),
    ("throttle = true", {4}),
    ("ok AND !partial", {1, 6, 7, 9, 11, 12}),
    ("partial", {8}),
    ("http.status >= 400 AND http.status < 500", {2, 3, 4, 10}),
    ("http.status != 201", {2, 3, 4, 5, 10, 11, 13}),
    ("responsetime > 1", {7}),
    ("duration >= 3 AND duration <= 4", {7}),
    ("responsetime < 0.01", {10, 11}),
    ('http.method = "GET"', {11}),
    ('http.url ENDSWITH "/signup"', set(ALL - {11})),
    ('http.url BEGINSWITH "http://127.0.0.1:8080"', {9}),
    ('http.useragent CONTAINS "Mozilla"', {9, 11}),
    ('http.clientip = "203.0.113.9"', {12}),
    ('http.clientip != "127.0.0.1"', {9, 12}),
    ('user = "ana@example.com"', {2}),
    ('user CONTAINS ""', {2, 9}),
    ('annotation.outcome = "duplicate"', {2, 3}),
    ('annotation.outcome = "created"', {1, 6, 7, 8, 9, 12}),
    ('annotation.theme = "flatly" AND annotation.preview_access = true', {1, 3}),
    ("annotation.preview_access = false", {2, 4, 6, 8}),
    ("!annotation.theme", {10, 11, 13}),
    ('annotation.theme BEGINSWITH "s"', {2, 9}),
    ('service("SNS") { fault }', {6}),
    ('service("SNS")', {1, 6, 7, 9, 12}),
    ('!service("SNS") AND http.method = "POST"', {2, 3, 4, 5, 8, 10, 13}),
    ('service("signups") { error }', {2, 3, 4}),
    ('service("signups") { fault }', {5}),
    ('service(id(name: "signups", type: "AWS::DynamoDB::Table")) { fault }', {5}),
    ('service(id(type: "AWS::DynamoDB::Table")) { responsetime > 1 }', {7}),
    ("service() { fault }", {5, 6, 13}),
    ("service() { error }", {2, 3, 4, 10}),
    ('service("signup-app") { root = false }', {9}),
    ('id(name: "signup-web")', {9}),
    ('edge("signup-app", "SNS") { fault }', {6}),
    ('edge("signup-web", "signup-app") { ok }', {9}),
    ('edge("signup-app", "signups") { http.status = 400 }', {2, 3, 4}),
    ('edge(id(name: "signup-app"), id(type: "AWS::SNS"))', {1, 6, 7, 9, 12}),
    ('ok AND service("SNS") { fault }', {6}),
    ("fault OR service() { fault }", {5, 6, 13}),
    ('rootcause.fault.service { name = "SNS" }', {6}),
    ("rootcause.fault.service { inferred }", {5, 6}),
    ("rootcause.fault.entity { last and remote }", {5, 6}),
    ('rootcause.fault.exception { name = "KeyError" }', {13}),
    ('rootcause.error.exception { name = "ConditionalCheckFailedException" }', {2, 3}),
    ('rootcause.error.entity { name = "dynamodb" and remote }', {2, 3, 4}),
    ('rootcause.throttle.service { name = "signup-app" }', {4}),
    ('rootcause.error.service { type = "AWS::DynamoDB::Table" }', {2, 3, 4}),
    ("inferred", {1, 2, 3, 4, 5, 6, 7, 8, 9, 12}),
    ('group.name = "Default" AND http.status = 429', {4}),
    ("ok !partial duration < 3", {1, 6, 9, 11, 12}),
    ("(http.status = 409 OR http.status = 429) AND annotation.preview_access = false", {2, 4}),
    ("responseTime > 0.1 or Fault", {5, 7, 13}),
    ("http.url AND !annotation.outcome", {11}),
]


def test_corpus_has_the_traces_the_table_names() -> None:
    assert sorted(VIEWS) == list(range(1, 14))
    assert len(EXPECTED) >= 40


def test_every_corpus_document_is_a_valid_segment_document() -> None:
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))
    for doc in _documents():
        errors = [e.message for e in validator.iter_errors(doc)]
        assert errors == [], (doc["trace_id"], doc["name"], errors)


@pytest.mark.parametrize(("text", "expected"), EXPECTED, ids=[e[0] or "<empty>" for e in EXPECTED])
def test_expression_returns_exactly(text: str, expected: set[int]) -> None:
    predicate = compile_filter(text)
    assert {n for n, view in VIEWS.items() if predicate(view)} == expected
