"""Running it: the AWS CLI against it, centralized sampling, restart, the command line."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aws_xray_sdk.core.recorder import AWSXRayRecorder

from tests.xray_local.xl_docs import datagram, signup_segment
from xray_local.api.sampling import SamplingRules
from xray_local.cli import register
from xray_local.server import XRayServer

ROOT = Path(__file__).resolve().parents[2]
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_aws_cli_get_service_graph(xray_server: XRayServer) -> None:
    now = time.time()
    xray_server.store.put_many([signup_segment(), signup_segment(duplicate=True)])
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("aws")),
            "xray",
            "get-service-graph",
            "--endpoint-url",
            xray_server.endpoint_url,
            "--start-time",
            str(int(now - 60)),
            "--end-time",
            str(int(now + 60)),
        ],
        env={**os.environ, **AWS_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    services = {s["Name"]: s for s in json.loads(out.stdout)["Services"]}
    assert set(services) == {"client", "signup-app", "signups", "SNS"}
    assert services["signups"]["SummaryStatistics"]["ErrorStatistics"]["TotalCount"] == 1


def test_sdk_centralized_sampling_fetches_our_rules() -> None:
    rules = SamplingRules([{"RuleName": "signups", "URLPath": "/signup", "FixedRate": 0.5}])
    with XRayServer(port=0, sampling=rules) as server:
        recorder = AWSXRayRecorder()
        recorder.configure(
            daemon_address=server.daemon_address,
            sampling=True,
            context_missing="LOG_ERROR",
            service="signup-app",
        )
        recorder.sampler.start()
        deadline = time.time() + 10
        names: list[str] = []
        while time.time() < deadline:
            names = [r.name for r in recorder.sampler._cache.rules]
            if names:
                break
            time.sleep(0.05)
        assert names == ["signups", "Default"]
        assert server.sampling.status()["rules_requests"] >= 1
        targets = server.sampling.targets_json(
            [{"RuleName": "signups", "ClientID": "x", "RequestCount": 3, "SampledCount": 1}]
        )
        assert targets["SamplingTargetDocuments"][0]["FixedRate"] == 0.5
        assert "LastRuleModification" in targets


def test_file_store_survives_server_restart(tmp_path: Path) -> None:
    seg = signup_segment(duplicate=True)
    with XRayServer(port=0, data_dir=tmp_path) as first:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(datagram(seg), ("127.0.0.1", first.port))
        first.flush()
    with XRayServer(port=0, data_dir=tmp_path) as second:
        trace = second.store.get_trace(seg["trace_id"])
        assert trace is not None and trace.segments[0]["id"] == seg["id"]


def test_register_adds_the_xray_subcommand() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["xray", "--port", "0", "--memory", "--max-traces", "10"])
    assert callable(args.func) and args.memory and args.max_traces == 10


def test_python_m_xray_local_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "xray_local", "--port", "0", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        # With --port 0 the server may first draw a UDP port whose TCP twin is taken, and
        # werkzeug says "Address already in use" before the next pair is tried: read past it.
        seen = [proc.stderr.readline()]
        while "API on " not in seen[-1] and len(seen) < 40 and seen[-1]:
            seen.append(proc.stderr.readline())
        line = seen[-1]
        assert "API on http://127.0.0.1:" in line, seen
        url = line.rsplit("API on ", 1)[1].split(",")[0]
        import urllib.request

        status: dict[str, Any] = json.loads(
            urllib.request.urlopen(url + "/status", timeout=5).read()
        )
        assert status["traces_stored"] == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "traces.sqlite3").exists()
