"""The console's JSON endpoints and pages on a real XRayServer fed by the real app's segments."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.xray_local.console_traffic import SignupRun, send_signups, start_server
from xray_local.console import console_blueprint
from xray_local.console.views import CONTENT_SECURITY_POLICY
from xray_local.server import XRayServer

TEMPLATES = Path(__file__).resolve().parents[2] / "xray_local" / "console" / "templates"
EMAILS = [f"person{i}@example.com" for i in range(6)] + [
    "person1@example.com",
    "PERSON4@example.com",
    "not-an-email",
]


@pytest.fixture(scope="module")
def traced() -> Iterator[tuple[XRayServer, SignupRun]]:
    server = start_server(blueprints=(console_blueprint(),))
    try:
        run = send_signups(server, EMAILS)
        assert run.statuses == [201] * 6 + [409, 409, 400]
        yield server, run
    finally:
        server.stop()


class Http:
    """Plain HTTP to the running server: the console finds its API from the socket it serves on."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, query_string: dict[str, str] | None = None) -> Answer:
        url = (
            self.base + path + ("?" + urllib.parse.urlencode(query_string) if query_string else "")
        )
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read())


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    data: bytes

    def get_json(self) -> Any:
        return json.loads(self.data)

    def get_data(self, as_text: bool = False) -> str:
        return self.data.decode()


@pytest.fixture
def console(traced: tuple[XRayServer, SignupRun]) -> Http:
    return Http(traced[0].endpoint_url)


@pytest.fixture
def run(traced: tuple[XRayServer, SignupRun]) -> SignupRun:
    return traced[1]


def get_json(client: Http, url: str, **params: Any) -> tuple[int, dict[str, Any]]:
    answer = client.get(url, query_string=params)
    assert answer.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = answer.get_json()
    return answer.status_code, body


def test_graph_has_client_app_table_and_sns(console: Http, run: SignupRun) -> None:
    status, graph = get_json(console, "/console/api/graph")
    assert status == 200
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert set(nodes) == {"client", "signup-app", run.table_name, "SNS"}
    by_id = {n["id"]: n["name"] for n in graph["nodes"]}
    edges = {(by_id[e["source"]], by_id[e["target"]]): e for e in graph["edges"]}
    assert set(edges) == {
        ("client", "signup-app"),
        ("signup-app", run.table_name),
        ("signup-app", "SNS"),
    }
    # left to right: client, the service, then what it calls
    assert [nodes[n]["depth"] for n in ("client", "signup-app", run.table_name, "SNS")] == [
        0,
        1,
        2,
        2,
    ]
    table = nodes[run.table_name]
    assert table["type"] == "AWS::DynamoDB::Table" and table["kind"] == "resource"
    assert table["stats"] | {"avg_ms": None, "per_minute": None} == {
        "ok": 12,  # each of the six new signups: the put, then the update saying it was notified
        "error": 2,  # the two failed conditions: DynamoDB answered 400
        "throttle": 0,
        "fault": 0,
        "total": 14,
        "avg_ms": None,
        "per_minute": None,
    }
    assert table["stats"]["avg_ms"] > 0 and table["stats"]["per_minute"] == pytest.approx(14 / 5)
    assert sum(h["count"] for h in table["histogram"]) == 14
    assert table["filter"] == f'service(id(name: "{run.table_name}", type: "AWS::DynamoDB::Table"))'
    app = nodes["signup-app"]
    assert (app["stats"]["ok"], app["stats"]["error"], app["stats"]["total"]) == (6, 3, 9)
    assert app["root"] and app["filter"] == 'service("signup-app")'
    assert nodes["SNS"]["stats"]["total"] == 6 and nodes["SNS"]["type"] == "AWS::SNS"
    client_node = nodes["client"]
    assert client_node["kind"] == "client" and client_node["stats"]["total"] == 9
    assert edges[("client", "signup-app")]["stats"]["error"] == 3


def test_each_node_filter_finds_its_traces(console: Http, run: SignupRun) -> None:
    _, graph = get_json(console, "/console/api/graph")
    expected = {"signup-app": 9, run.table_name: 8, "SNS": 6}
    for node in graph["nodes"]:
        if node["kind"] == "client":
            assert node["filter"] == ""
            continue
        status, listing = get_json(console, "/console/api/traces", filter=node["filter"])
        assert status == 200, listing
        assert listing["count"] == expected[node["name"]], node["filter"]


def test_filter_409_lists_exactly_the_duplicates(console: Http, run: SignupRun) -> None:
    status, listing = get_json(console, "/console/api/traces", filter="http.status = 409")
    assert status == 200
    assert {t["id"] for t in listing["traces"]} == run.ids_with_status(409)
    assert listing["by_status"] == [{"value": 409, "count": 2}]
    assert listing["by_url"] == [{"value": "http://localhost/signup", "count": 2}]
    row = listing["traces"][0]
    assert (row["method"], row["status"], row["outcome"]) == ("POST", 409, "error")
    assert row["response_time"] > 0 and row["time"] > 0
    assert row["annotations"]["outcome"] == ["duplicate"]


def test_unfiltered_list_counts_by_status_newest_first(console: Http) -> None:
    _, listing = get_json(console, "/console/api/traces")
    assert listing["count"] == 9
    assert listing["by_status"] == [
        {"value": 201, "count": 6},
        {"value": 409, "count": 2},
        {"value": 400, "count": 1},
    ]
    times = [t["time"] for t in listing["traces"]]
    assert times == sorted(times, reverse=True)


def test_every_example_on_the_page_is_a_valid_expression(console: Http) -> None:
    page = (TEMPLATES / "console_traces.html").read_text()
    examples = re.findall(r"data-filter=(?:'([^']*)'|\"([^\"]*)\")", page)
    expressions = [a or b for a, b in examples]
    assert expressions == [
        "http.status = 409",
        'service("signup-app") { error }',
        'annotation.outcome = "duplicate"',
        "responsetime > 0.5",
        "fault",
        "throttle",
    ]
    counts = {}
    for expression in expressions:
        status, listing = get_json(console, "/console/api/traces", filter=expression)
        assert status == 200, (expression, listing)
        counts[expression] = listing["count"]
    assert counts['annotation.outcome = "duplicate"'] == 2
    assert counts['service("signup-app") { error }'] == 3
    assert counts["fault"] == counts["throttle"] == 0


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("http.status = = 409", 14),
        ('service("signup-app") { error', None),
        ("responsetime >", None),
    ],
)
def test_invalid_filter_answers_the_api_message(
    console: Http, expression: str, position: int | None
) -> None:
    status, body = get_json(console, "/console/api/traces", filter=expression)
    assert status == 400
    assert body["error"] == "invalid_request"
    assert body["code"] == "InvalidRequestException"
    assert "Invalid filter expression at position" in body["message"]
    if position is not None:
        assert f"position {position}" in body["message"]


def test_trace_shows_the_dynamodb_400_and_the_exception(console: Http, run: SignupRun) -> None:
    trace_id = sorted(run.ids_with_status(409))[0]
    status, trace = get_json(console, f"/console/api/trace/{trace_id}")
    assert status == 200
    assert trace["id"] == trace_id
    assert trace["summary"] | {"url": None} == {
        "name": "signup-app",
        "method": "POST",
        "url": None,
        "status": 409,
        "outcome": "error",
    }
    root, validate, put = trace["rows"]
    assert (validate["name"], validate["depth"]) == ("validate", 1)  # the app's own step
    assert (root["name"], root["depth"], root["segment"], root["status"]) == (
        "signup-app",
        0,
        True,
        409,
    )
    assert (put["name"], put["namespace"], put["depth"], put["segment"]) == (
        "dynamodb",
        "aws",
        1,
        False,
    )
    assert put["status"] == 400 and put["outcome"] == "error"
    assert put["flags"] == {"error": True, "fault": True, "throttle": False}
    assert put["details"]["aws"]["operation"] == "PutItem"
    assert put["details"]["aws"]["table_name"] == run.table_name
    assert put["details"]["aws"]["request_id"]
    (exc,) = put["exceptions"]
    assert exc["type"] == "ConditionalCheckFailedException"
    assert exc["remote"] is True and exc["stack"]
    assert "conditional request failed" in exc["message"]
    assert trace["start"] <= put["start"] < put["end"] <= trace["end"]
    assert root["details"]["annotations"]["outcome"] == "duplicate"
    assert trace["documents"][0]["id"] == root["id"]


def test_created_trace_has_put_then_publish(console: Http, run: SignupRun) -> None:
    trace_id = sorted(run.ids_with_status(201))[0]
    _, trace = get_json(console, f"/console/api/trace/{trace_id}")
    names = [(r["name"], r["status"], r["outcome"]) for r in trace["rows"]]
    assert names == [
        ("signup-app", 201, "ok"),
        ("validate", None, "ok"),  # the app's own step (a local subsegment)
        ("dynamodb", 200, "ok"),
        ("sns", 200, "ok"),
        ("dynamodb", 200, "ok"),  # the item records that its notification went out
    ]
    assert trace["rows"][3]["details"]["aws"]["topic_arn"] == run.topic_arn
    assert trace["rows"][4]["details"]["aws"]["operation"] == "UpdateItem"


def test_unknown_and_malformed_trace_ids(console: Http) -> None:
    status, body = get_json(console, "/console/api/trace/1-00000000-000000000000000000000000")
    assert status == 404 and body["error"] == "not_found"
    status, body = get_json(console, "/console/api/trace/not-a-trace")
    assert status == 400 and "is not an X-Ray trace id" in body["message"]


@pytest.mark.parametrize(
    ("params", "message"),
    [({"start": "soon"}, "epoch seconds"), ({"start": "20", "end": "10"}, "before end")],
)
def test_bad_time_ranges(console: Http, params: dict[str, str], message: str) -> None:
    status, body = get_json(console, "/console/api/graph", **params)
    assert status == 400 and message in body["message"]


def test_a_window_without_traces_is_empty(console: Http) -> None:
    status, graph = get_json(console, "/console/api/graph", start="1000", end="2000")
    assert status == 200 and graph["nodes"] == [] and graph["edges"] == []
    status, listing = get_json(console, "/console/api/traces", start="1000", end="2000")
    assert status == 200 and listing["traces"] == [] and listing["by_status"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/traces",
        "/traces?filter=http.status+%3D+409",
        "/traces/1-6b0690db-4047eb6bb9e58a33028ba0d5",
    ],
)
def test_pages_are_shells_without_inline_code(console: Http, path: str) -> None:
    answer = console.get(path)
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = answer.get_data(as_text=True)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "http://" not in html.replace(console.base, ""), "only this server is referenced"
    for asset in re.findall(r'(?:src|href)="(/console/static/[^"]+)"', html):
        assert console.get(asset).status_code == 200, asset


def test_trace_page_lives_where_the_signup_page_links(console: Http) -> None:
    """app/static/tracelinks.js links to `{XRAY_CONSOLE_URL}/traces/<trace id>`."""
    links = (Path(__file__).resolve().parents[2] / "app" / "static" / "tracelinks.js").read_text()
    assert 'consoleUrl + "/traces/" + encodeURIComponent(traceId)' in links
    trace_id = "1-6b0690db-4047eb6bb9e58a33028ba0d5"
    html = console.get(f"/traces/{trace_id}").get_data(as_text=True)
    assert f'data-trace-id="{trace_id}"' in html


def test_the_api_still_answers_beside_the_console(traced: tuple[XRayServer, SignupRun]) -> None:
    client = traced[0].app.test_client()
    assert client.post("/Traces", json={"TraceIds": []}).status_code == 200
    assert client.get("/status").status_code == 200
    assert client.get("/nothing-here").get_json()["__type"] == "UnknownOperationException"
