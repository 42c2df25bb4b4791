"""The whole local stack in one process tree: X-Ray, embedded AWS, the app, the generator.

Order matters: X-Ray first (so the app's first segments are received), then AWS with its
resources, then the app (which checks the table at /health), then the traffic generator that
targets the app. Stopping runs in reverse, so nothing is sent to a listener that is gone.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from app.config import Tracer
from hostguard import ENV_VAR as ALLOWED_HOSTS_VAR
from hostguard import HostPolicy
from infra.local.embedded_aws import FAKE_CREDENTIALS, LocalAws, LocalAwsResources
from infra.local.faults.proxy import FaultProxy
from infra.local.log_shipper import LogShipper
from infra.local.processes import ManagedProcess
from infra.local.xray_groups import ensure_failed_signups_group
from loadgen.cli import LOCUSTFILE, PACKAGE_ROOT
from xray_local.console import console_blueprint
from xray_local.server import XRayServer
from xray_local.store import Retention

__all__ = ["LocalStack", "PortInUse", "StackConfig"]

log = logging.getLogger("xray_signup.stack")


class PortInUse(RuntimeError):
    pass


@dataclass(frozen=True)
class StackConfig:
    host: str = "127.0.0.1"
    app_port: int = 8000
    aws_port: int = 5050
    xray_port: int = 2000
    locust_port: int = 8089
    region: str = "us-east-1"
    data_dir: Path = field(default_factory=lambda: Path(".data"))
    workers: int = 2
    with_generator: bool = True
    #: Host names every listener answers besides its loopback names (hostguard).
    allowed_hosts: tuple[str, ...] = ()
    #: The app's TRACER: aws-xray-sdk's segments over UDP, or OpenTelemetry's spans over OTLP/HTTP;
    #: the local X-Ray takes both on its one port.
    tracer: Tracer = "xray-sdk"

    @property
    def app_url(self) -> str:
        return f"http://{self.host}:{self.app_port}"

    @property
    def xray_url(self) -> str:
        return f"http://{self.host}:{self.xray_port}"

    @property
    def locust_url(self) -> str:
        return f"http://{self.host}:{self.locust_port}"

    @property
    def otlp_traces_url(self) -> str:
        return f"{self.xray_url}/v1/traces"


def _check_free(host: str, port: int, what: str, kind: int = socket.SOCK_STREAM) -> None:
    """Raise PortInUse when something listens on the TCP port or is bound to the UDP port.

    Why SO_REUSEADDR for TCP: without it Linux refuses the bind while the last run's connections
    linger in TIME_WAIT (up to a minute), so stopping the stack and starting it again at once
    would fail although nothing listens; with it the bind still fails over a listener. The
    servers the stack starts set it too, and must (Linux passes TIME_WAIT only when the old
    connection's listener had it): gunicorn, gevent for Locust, werkzeug for xray_local and
    moto, http.server for the fault proxy. UDP has no TIME_WAIT: a plain bind.
    """
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise PortInUse(
                f"{what} needs {host}:{port} ({'UDP' if kind == socket.SOCK_DGRAM else 'TCP'}), "
                "which is in use: stop what uses it, or choose another port (see --help)"
            ) from None


def _wait_for(url: str, process: ManagedProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.exit_code() is not None:
            raise RuntimeError(f"{process.name} exited with {process.exit_code()} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not answer at {url} within {timeout:.0f}s")


class LocalStack:
    """Start and stop everything `make run` runs; `processes` are watched while it runs."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.xray: XRayServer | None = None
        self.aws: LocalAws | None = None
        self.faults: FaultProxy | None = None
        self.resources: LocalAwsResources | None = None
        self.processes: list[ManagedProcess] = []
        self.shipper: LogShipper | None = None

    def check_ports(self) -> None:
        c = self.config
        _check_free(c.host, c.xray_port, "the local X-Ray daemon", socket.SOCK_DGRAM)
        _check_free(c.host, c.xray_port, "the local X-Ray API and console")
        _check_free(c.host, c.aws_port, "the embedded AWS (moto)")
        _check_free(c.host, c.app_port, "the signup app")
        if c.with_generator:
            _check_free(c.host, c.locust_port, "the traffic generator (Locust)")

    def app_environment(self) -> dict[str, str]:
        """The app's environment: the same variable names as on Elastic Beanstalk."""
        assert self.resources is not None and self.faults is not None
        c = self.config
        return {
            **FAKE_CREDENTIALS,
            "STARTUP_SIGNUP_TABLE": self.resources.table_name,
            "NEW_SIGNUP_TOPIC": self.resources.topic_arn,
            "AWS_REGION": c.region,
            # Through the fault proxy, so failure scenarios are real on the wire.
            "AWS_ENDPOINT_URL": self.faults.url,
            "SCENARIO_API_URL": self.faults.url,
            "AWS_XRAY_DAEMON_ADDRESS": f"{c.host}:{c.xray_port}",
            "AWS_XRAY_SDK_ENABLED": "true",
            "TRACER": c.tracer,
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": c.otlp_traces_url,
            # Spans reach the console within a second (the SDK's default batches for 5 s),
            # unless the environment says otherwise.
            "OTEL_BSP_SCHEDULE_DELAY": os.environ.get("OTEL_BSP_SCHEDULE_DELAY", "1000"),
            "XRAY_CONSOLE_URL": c.xray_url,
            "LOADGEN_API_URL": c.locust_url,
            "LOADGEN_TARGET_URL": c.app_url,
            "GUNICORN_BIND": f"{c.host}:{c.app_port}",
            "GUNICORN_WORKERS": str(c.workers),
            ALLOWED_HOSTS_VAR: ",".join(HostPolicy.loopback(c.app_port, c.allowed_hosts).entries),
        }

    def start(self) -> None:
        c = self.config
        self.check_ports()
        c.data_dir.mkdir(parents=True, exist_ok=True)
        self.xray = XRayServer(
            host=c.host,
            port=c.xray_port,
            data_dir=c.data_dir / "xray",
            retention=Retention(),
            blueprints=(console_blueprint(),),
            allowed_hosts=c.allowed_hosts,
        ).start()
        # The console's group of failed signups (kept in the store: created on the first start).
        ensure_failed_signups_group(self.xray, c.region)
        # moto listens on a private port; the AWS endpoint people and the app use is the proxy.
        self.aws = LocalAws(host=c.host, port=0, region=c.region)
        self.resources = self.aws.start(front_port=c.aws_port, allowed_hosts=c.allowed_hosts)
        self.faults = FaultProxy(
            self.aws.endpoint_url, host=c.host, port=c.aws_port, allowed_hosts=c.allowed_hosts
        ).start()
        bin_dir = Path(sys.executable).parent
        app = ManagedProcess(
            "app",
            [str(bin_dir / "gunicorn"), "-c", "python:app.gunicorn_conf", "app.wsgi:application"],
            env=self.app_environment(),
            log_file=c.data_dir / "app.log",
        )
        self.processes.append(app)
        # The app's JSON log lines go to the local X-Ray's CloudWatch Logs API (as the platform's
        # log streaming does on Elastic Beanstalk), so the console shows them beside the traces.
        self.shipper = LogShipper(c.data_dir / "app.log", self.xray.endpoint_url, c.region).start()
        app.start()
        _wait_for(c.app_url + "/health", app)
        if c.with_generator:
            argv = ["-m", "locust", "-f", str(LOCUSTFILE), "--web-host", c.host]
            argv += ["--web-port", str(c.locust_port), "--host", c.app_url]
            loadgen = ManagedProcess(
                "loadgen",
                [sys.executable, *argv],
                env={ALLOWED_HOSTS_VAR: ",".join(c.allowed_hosts)},
                cwd=PACKAGE_ROOT,
                log_file=c.data_dir / "loadgen.log",
            )
            self.processes.append(loadgen)
            loadgen.start()
            _wait_for(c.locust_url + "/xray-signup/status", loadgen)

    def describe(self) -> str:
        c = self.config
        assert self.resources and self.faults and self.aws
        lines = [
            "xray-signup local stack is running:",
            f"  signup page        {c.app_url}/",
            f"  trace console      {c.xray_url}/   (X-Ray API on the same port)",
            f"  X-Ray daemon       udp://{c.host}:{c.xray_port}   (OTLP/HTTP: {c.otlp_traces_url})",
            f"  tracer             {c.tracer}   (--tracer xray-sdk|opentelemetry)",
            f"  embedded AWS       {self.faults.url}   (moto: DynamoDB, SNS, SQS)",
            "  failure scenarios  xray-signup scenario NAME --share PERCENT   (all off)",
            f"  table              {self.resources.table_name}",
            f"  topic              {self.resources.topic_arn}",
            "  notifications      "
            + self.resources.queue_url.replace(self.aws.endpoint_url, self.faults.url),
            f"  app log            {c.data_dir / 'app.log'}   (JSON lines also in the console)",
            f"  generator          {c.locust_url}/   (Locust; log {c.data_dir / 'loadgen.log'})"
            if c.with_generator
            else "  generator          off (--no-generator)",
            "Query traces with the AWS CLI (any credentials do; `aws` is in .venv/bin after "
            "`make test`, or `pip install awscli`):",
            "  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws xray get-trace-summaries "
            f"--region {c.region} --endpoint-url {c.xray_url} "
            "--start-time $(($(date +%s)-600)) --end-time $(date +%s) "
            "--filter-expression 'http.status = 409'",
            "Press Ctrl-C to stop everything.",
        ]
        return "\n".join(lines)

    def failed_process(self) -> ManagedProcess | None:
        return next((p for p in self.processes if p.exit_code() is not None), None)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.shipper is not None:  # after the app (its last lines), before X-Ray
            self.shipper.stop()
            self.shipper = None
        if self.faults is not None:
            self.faults.stop()
            self.faults = None
        if self.aws is not None:
            self.aws.stop()
            self.aws = None
        if self.xray is not None:
            self.xray.stop()
            self.xray = None
