"""No request with a foreign Host reaches a handler of the local stack, over real sockets.

A page that rebinds its own name to 127.0.0.1 sends its own name as `Host`; a plain cross-site
form sends the right Host but its page's `Origin`. Each listener the stack starts (the app, the
X-Ray API and console, the fault proxy in front of moto, moto itself, the Locust web UI) is asked
with its own names, with a foreign name (421, nothing changed), with an added name (answered), and
with a cross-site state change (403, nothing changed). The tools keep working unchanged.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.stack import LocalStack
from tests.support.local_stack import running_stack

pytestmark = pytest.mark.slow

ADDED = "signup.test"
FOREIGN = "attacker.example"
EVIL_ORIGIN = "https://attacker.example"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data_dir: Path = tmp_path_factory.mktemp("host-guard")
    with running_stack(data_dir, workers=1, allowed_hosts=(ADDED,)) as running:
        yield running


def listeners(stack: LocalStack) -> dict[str, tuple[int, str]]:
    """Each listener's port and a path that answers 200 to its own name."""
    c = stack.config
    assert stack.aws is not None
    return {
        "app": (c.app_port, "/"),
        "xray-console": (c.xray_port, "/"),
        "fault-proxy": (c.aws_port, "/_scenarios"),
        "moto": (stack.aws.port, "/moto-api/data.json"),
        "locust": (c.locust_port, "/"),
    }


def call(
    port: int,
    path: str,
    host: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """One request to 127.0.0.1:port that names `host` (what a rebound page sends)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    try:
        connection.request(
            method,
            path,
            body=data,
            headers={"Host": host, "Content-Type": "application/json", **(headers or {})},
        )
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        connection.close()


@pytest.mark.parametrize("listener", ["app", "xray-console", "fault-proxy", "moto", "locust"])
def test_each_listener_answers_its_own_names_and_refuses_others(
    stack: LocalStack, listener: str
) -> None:
    port, path = listeners(stack)[listener]
    for own in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"{ADDED}:{port}"):
        status, body = call(port, path, own)
        assert status == 200, (own, body[:300])
    for foreign in (f"{FOREIGN}:{port}", f"127.0.0.1:{port + 1}", FOREIGN):
        status, body = call(port, path, foreign)
        assert status == 421, (foreign, body[:300])
        message = json.loads(body)["message"]
        assert "--allow-host" in message and "ALLOWED_HOSTS" in message


def _scenario_share(stack: LocalStack) -> int:
    port = stack.config.aws_port
    _, body = call(port, "/_scenarios", f"127.0.0.1:{port}")
    return next(s["share"] for s in json.loads(body)["scenarios"] if s["name"] == "throttle")


def _generator_running(stack: LocalStack) -> bool:
    port = stack.config.app_port
    _, body = call(port, "/generator/status", f"127.0.0.1:{port}")
    return bool(json.loads(body)["running"])


#: The trace a refused page tries to plant; it must never be stored.
PLANTED = f"1-{int(time.time()):08x}-{'ab' * 12}"


def _planted_stored(stack: LocalStack) -> bool:
    assert stack.xray is not None
    xray = boto3.client(
        "xray",
        endpoint_url=stack.xray.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return bool(xray.batch_get_traces(TraceIds=[PLANTED])["Traces"])


def _segment() -> dict[str, Any]:
    now = time.time()
    document = {"name": "rebound", "id": "0123456789abcdef", "trace_id": PLANTED}
    document |= {"start_time": now, "end_time": now + 0.01}
    return {"TraceSegmentDocuments": [json.dumps(document)]}


def _state_changes(stack: LocalStack) -> list[tuple[int, str, str, Any]]:
    """One state-changing request per listener: a scenario, the generator, Locust, a trace."""
    c = stack.config
    return [
        (c.aws_port, "PUT", "/_scenarios/throttle", {"share": 50}),
        (c.app_port, "POST", "/generator/start", {"rate": 10}),
        (c.locust_port, "POST", "/swarm", None),
        (c.xray_port, "POST", "/TraceSegments", _segment()),
    ]


def test_a_foreign_host_changes_nothing(stack: LocalStack) -> None:
    changes = _state_changes(stack)
    for port, method, path, body in changes:
        status, _ = call(port, path, f"{FOREIGN}:{port}", method, body)
        assert status == 421, (port, path)
    assert _scenario_share(stack) == 0
    assert not _generator_running(stack)
    assert not _planted_stored(stack)


def test_a_cross_site_change_is_refused_with_the_right_host(stack: LocalStack) -> None:
    """The plain CSRF case: the browser names 127.0.0.1 but says where the page came from."""
    c = stack.config
    changes = _state_changes(stack)
    for site_headers in ({"Origin": EVIL_ORIGIN}, {"Sec-Fetch-Site": "cross-site"}):
        for port, method, path, body in changes:
            status, answer = call(port, path, f"127.0.0.1:{port}", method, body, site_headers)
            assert status == 403, (port, path, answer[:200])
    assert _scenario_share(stack) == 0
    assert not _generator_running(stack)
    assert not _planted_stored(stack)
    # The control: the same segment sent as a tool sends it is stored, so "not stored" above
    # means refused, not malformed.
    port = c.xray_port
    status, _ = call(port, "/TraceSegments", f"127.0.0.1:{port}", "POST", _segment())
    assert status == 200
    assert stack.xray is not None
    stack.xray.flush()
    assert _planted_stored(stack)


def test_the_tools_work_unchanged(stack: LocalStack) -> None:
    """boto3 (as the AWS CLI and the console use it) names the loopback address it was given."""
    c = stack.config
    session = boto3.session.Session(
        region_name=c.region, aws_access_key_id="local", aws_secret_access_key="local"
    )
    xray = session.client("xray", endpoint_url=c.xray_url)
    assert "SamplingRuleRecords" in xray.get_sampling_rules()  # the SDK's centralized sampler
    now = time.time()
    assert "Services" in xray.get_service_graph(StartTime=now - 60, EndTime=now)
    assert stack.faults is not None and stack.resources is not None
    dynamodb = session.client("dynamodb", endpoint_url=stack.faults.url)
    assert dynamodb.describe_table(TableName=stack.resources.table_name)["Table"]
    port = c.app_port
    status, body = call(port, "/signup", f"127.0.0.1:{port}", "POST",
                        {"name": "Ada", "email": "guard@example.com"})  # fmt: skip
    assert status == 201, body
    # A same-origin change from the page itself is still allowed.
    status, _ = call(
        port, "/generator/stop", f"127.0.0.1:{port}", "POST", {},
        {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"},
    )  # fmt: skip
    assert status == 200
