"""The README's guide does what it says: its code excerpts are the code, and its steps really
produce a two-service trace, an annotation, metadata and a custom subsegment.

- Every code block in the README (and docs/) preceded by `<!-- excerpt: PATH -->` appears in PATH,
  line for line, modulo leading indentation; a line `...` in the block skips lines of the file
  (the parts must still come in order). So the guide cannot drift from the modules it quotes.
- The second service (docs/examples/second_service.py) runs in-process under a real HTTP server,
  its segments sent to a real UDP listener; each caller of docs/examples/callers.py (X-Ray SDK,
  OpenTelemetry) and `patch(["requests"])` (in a child process: the patch is process-wide) calls
  it inside a trace of its own, and the callee's segment must carry the caller's trace id with
  the caller's subsegment / client span as its parent.
- Outside the generated blocks, the README types no measured figure.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import flask.templating
import pytest
from aws_xray_sdk.core import AWSXRayRecorder
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.processes import PROJECT_ROOT
from tests.support.udp import DaemonListener

EXAMPLES = PROJECT_ROOT / "docs" / "examples"
DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
EXCERPT = re.compile(r"<!-- excerpt: (\S+) -->\n+```\w*\n(.*?)\n```", re.DOTALL)
GAP = "..."
#: a measured figure, as the benchmarks report them (tests/test_bench_docs.py's pattern)
MEASURED = re.compile(r"\b\d[\d,.]*\s?(?:ms|req/s|MiB|MiB/min|×)(?![\w])")
GENERATED = [
    r"<!-- bench:([\w-]+):start.*?<!-- bench:\1:end -->",
    r"<!-- bench-table:start.*?<!-- bench-table:end -->",
    r"<!-- reliability-table:start.*?<!-- reliability-table:end -->",
]


# --- excerpts ------------------------------------------------------------------------------------


def excerpts(document: Path) -> list[tuple[str, str, int]]:
    """(source path, the block's text, line in the document) for each marked excerpt."""
    text = document.read_text()
    return [
        (m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in EXCERPT.finditer(text)
    ]


def excerpt_problem(block: str, source: str) -> str | None:
    """Why `block` is not in `source` (lines compared without leading space; `...` a gap)."""
    lines = [line.strip() for line in source.splitlines()]
    position = 0
    parts: list[list[str]] = [[]]
    for line in block.splitlines():
        if line.strip() == GAP:
            parts.append([])
        else:
            parts[-1].append(line.strip())
    for part in (p for p in parts if p):
        starts = range(position, len(lines) - len(part) + 1)
        found = next((i for i in starts if lines[i : i + len(part)] == part), None)
        if found is None:
            return f"not in the source (from here on): {part[0]!r}"
        position = found + len(part)
    return None


ALL_EXCERPTS = [(doc, *e) for doc in DOCS for e in excerpts(doc)]


@pytest.mark.parametrize(
    ("document", "path", "block", "line"),
    ALL_EXCERPTS,
    ids=[f"{d.name}:{line}:{p}" for d, p, _, line in ALL_EXCERPTS],
)
def test_every_excerpt_is_in_its_source(document: Path, path: str, block: str, line: int) -> None:
    source = PROJECT_ROOT / path
    assert source.is_file(), f"{document.name}:{line}: no such file {path}"
    problem = excerpt_problem(block, source.read_text())
    assert problem is None, f"{document.name}:{line}: excerpt of {path} drifted: {problem}"


def test_the_guide_quotes_the_tracing_modules_and_the_examples() -> None:
    quoted = {path for path, _, _ in excerpts(PROJECT_ROOT / "README.md")}
    assert {
        "app/xray_tracing.py",
        "app/otel_tracing.py",
        "app/views/signups.py",
        "app/sampling-rules.json",
        "docs/examples/second_service.py",
        "docs/examples/callers.py",
    } <= quoted


def test_a_drifted_excerpt_is_caught() -> None:
    source = "def f():\n    a = 1\n    b = 2\n    return a + b\n"
    assert excerpt_problem("a = 1\nb = 2", source) is None
    assert excerpt_problem("def f():\n...\nreturn a + b", source) is None
    assert excerpt_problem("a = 1\nb = 3", source) is not None  # changed
    assert excerpt_problem("b = 2\na = 1", source) is not None  # out of order
    assert excerpt_problem("return a + b\n...\na = 1", source) is not None  # gap out of order


def test_the_readme_types_no_measured_figure_outside_the_generated_blocks() -> None:
    text = (PROJECT_ROOT / "README.md").read_text()
    for pattern in GENERATED:
        text = re.sub(pattern, "", text, flags=re.DOTALL)
    assert MEASURED.findall(text) == []


# --- the second service --------------------------------------------------------------------------


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"guide_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


second_service = load_example("second_service")
callers = load_example("callers")


@pytest.fixture
def greeting_url(daemon: DaemonListener) -> Iterator[str]:
    """The second service under a real HTTP server on loopback, tracing to `daemon`."""
    render = flask.templating._render  # the SDK's middleware patches it process-wide
    app = second_service.create_app(daemon.address)
    flask.templating._render = render
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/greeting?name=Ada"
    server.shutdown()
    thread.join(timeout=5)


def named(documents: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (document,) = [d for d in documents if d.get("name") == name]
    return document


def callee_of(daemon: DaemonListener) -> dict[str, Any]:
    docs = daemon.wait_for(lambda d: any(x.get("name") == "greeting-service" for x in d))
    return named(docs, "greeting-service")


def assert_greeting_segment(callee: dict[str, Any]) -> None:
    """What the second service's handler records: annotation, metadata, a local subsegment."""
    assert callee["http"]["response"]["status"] == 200
    assert callee["annotations"] == {"greeting_kind": "plain"}
    assert callee["metadata"] == {"greeting": {"request": {"name_length": 3}}}
    (compose,) = callee["subsegments"]
    assert (compose["name"], compose["namespace"]) == ("compose", "local")


def test_x_ray_sdk_caller_and_second_service_make_one_trace(
    daemon: DaemonListener, greeting_url: str
) -> None:
    recorder = AWSXRayRecorder()
    recorder.configure(
        service="caller", daemon_address=daemon.address, sampling=False, context_missing="LOG_ERROR"
    )
    recorder.begin_segment("caller")
    response = callers.call_with_xray_sdk(greeting_url, recorder)
    recorder.end_segment()
    assert response.json() == {"greeting": "Hello, Ada!"}

    callee = callee_of(daemon)
    caller = named(daemon.wait_for(lambda d: any(x["name"] == "caller" for x in d)), "caller")
    (call,) = caller["subsegments"]
    assert (call["name"], call["namespace"]) == ("greeting-service", "remote")
    assert call["http"]["response"]["status"] == 200
    assert callee["trace_id"] == caller["trace_id"]
    assert callee["parent_id"] == call["id"]
    assert_greeting_segment(callee)


def test_opentelemetry_caller_and_second_service_make_one_trace(
    daemon: DaemonListener, greeting_url: str
) -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(id_generator=AwsXRayIdGenerator())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("guide")
    with tracer.start_as_current_span("caller", kind=SpanKind.SERVER):
        response = callers.call_with_opentelemetry(greeting_url, tracer)
    assert response.status_code == 200

    (client,) = [s for s in memory.get_finished_spans() if s.kind is SpanKind.CLIENT]
    digits = format(client.context.trace_id, "032x")
    callee = callee_of(daemon)
    assert callee["trace_id"] == f"1-{digits[:8]}-{digits[8:]}"
    assert callee["parent_id"] == format(client.context.span_id, "016x")
    assert_greeting_segment(callee)
    provider.shutdown()


PATCHED_CALLER = textwrap.dedent(
    """
    import importlib.util, sys, threading
    from werkzeug.serving import make_server
    spec = importlib.util.spec_from_file_location("second_service", sys.argv[2])
    second_service = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(second_service)
    server = make_server("127.0.0.1", 0, second_service.create_app(sys.argv[1]), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    import requests
    from aws_xray_sdk.core import patch, xray_recorder
    xray_recorder.configure(service="caller", daemon_address=sys.argv[1], sampling=False)
    patch(["requests"])
    xray_recorder.begin_segment("caller")
    requests.get(f"http://127.0.0.1:{server.port}/greeting?name=Ada", timeout=5)
    xray_recorder.end_segment()
    server.shutdown()
    """
)


def test_patched_requests_caller_and_second_service_make_one_trace(daemon: DaemonListener) -> None:
    child = subprocess.run(
        [sys.executable, "-c", PATCHED_CALLER, daemon.address, str(EXAMPLES / "second_service.py")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert child.returncode == 0, child.stderr
    callee = callee_of(daemon)
    caller = named(daemon.wait_for(lambda d: any(x["name"] == "caller" for x in d)), "caller")
    (call,) = caller["subsegments"]
    assert (call["name"], call["namespace"]) == ("127.0.0.1", "remote")  # named after the host
    assert callee["trace_id"] == caller["trace_id"]
    assert callee["parent_id"] == call["id"]
    assert_greeting_segment(callee)


def test_the_second_service_starts_a_trace_of_its_own_without_a_header(
    daemon: DaemonListener, greeting_url: str
) -> None:
    import requests

    response = requests.get(greeting_url, timeout=5)
    callee = callee_of(daemon)
    assert "parent_id" not in callee
    assert response.headers["X-Amzn-Trace-Id"] == f"Root={callee['trace_id']}"
    assert_greeting_segment(callee)
