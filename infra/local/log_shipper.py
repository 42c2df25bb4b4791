"""The local stack's log agent: follows the app's output file and ships its JSON lines to the local
X-Ray's CloudWatch Logs API with PutLogEvents, as the CloudWatch agent does on Elastic Beanstalk.

Why read the output file rather than add a logging handler to the app: the app must not know where
its lines end up (locally xray_local, deployed CloudWatch Logs through the platform's streaming);
reading what the process wrote keeps that true and ships exactly the lines a person sees in
`app.log`. Only JSON objects are shipped (gunicorn's own lines on the same streams are not JSON);
each goes to the log group named after its `service` (the X-Ray segment name, so the console
finds a service's lines by the name on the map), one stream per stack run.

Following starts at the file's end when the shipper is made (lines of earlier runs were shipped
by those runs); a partial last line waits for its newline. While the endpoint is down, pending
events are kept up to `max_pending` (oldest dropped, counted in `dropped`), so memory stays bounded.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

__all__ = ["LogShipper", "parse_line"]

log = logging.getLogger("xray_signup.log_shipper")

DEFAULT_GROUP = "signup-app"
BATCH = 1000


def parse_line(text: str, fallback_ms: int) -> tuple[str, int, str] | None:
    """(group, timestamp ms, message) for a JSON line; None for anything else."""
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    group = str(doc.get("service") or DEFAULT_GROUP)
    timestamp = fallback_ms
    if isinstance(doc.get("time"), str):
        try:
            timestamp = int(datetime.fromisoformat(doc["time"]).timestamp() * 1000)
        except ValueError:
            pass
    return group, timestamp, text


class LogShipper:
    """A daemon thread: `start()`, `flush()` (wait until what was written is shipped), `stop()`."""

    def __init__(
        self,
        path: Path,
        endpoint_url: str,
        region: str = "us-east-1",
        stream: str | None = None,
        interval: float = 0.2,
        max_pending: int = 100_000,
    ) -> None:
        self.path = Path(path)
        self.endpoint_url = endpoint_url
        self.region = region
        self.stream = stream or f"{socket.gethostname()}/app-{time.strftime('%Y%m%dT%H%M%S')}"
        self.interval = interval
        self.offset = self.path.stat().st_size if self.path.exists() else 0
        self.pending: deque[tuple[str, int, str]] = deque(maxlen=max_pending)
        self.shipped = 0
        self.skipped = 0
        self.dropped = 0
        self._partial = b""
        self._ready: set[str] = set()
        self._client: CloudWatchLogsClient | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)

    def start(self) -> LogShipper:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ship what is left (best effort), then stop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.ship_once()

    def flush(self, timeout: float = 10.0) -> bool:
        """True once everything in the file now has been shipped (or skipped)."""
        target = self.path.stat().st_size if self.path.exists() else 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.offset >= target and not self.pending and not self._partial:
                    return True
            time.sleep(0.05)
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.ship_once()

    def ship_once(self) -> None:
        with self._lock:
            self._read()
            try:
                self._send()
            except (BotoCoreError, ClientError) as exc:
                log.warning("cannot ship log lines to %s yet: %s", self.endpoint_url, exc)

    def _read(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            size = handle.seek(0, 2)
            if size < self.offset:  # truncated or replaced: start again from the top
                self.offset, self._partial = 0, b""
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        now = int(time.time() * 1000)
        for raw in lines:
            parsed = parse_line(raw.decode("utf-8", "replace"), now)
            if parsed is None:
                self.skipped += 1
                continue
            if len(self.pending) == self.pending.maxlen:
                self.dropped += 1
            self.pending.append(parsed)

    def _logs(self) -> CloudWatchLogsClient:
        if self._client is None:
            self._client = boto3.session.Session(
                region_name=self.region,
                aws_access_key_id="xray-local",
                aws_secret_access_key="xray-local",
            ).client(
                "logs",
                endpoint_url=self.endpoint_url,
                config=Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=5),
            )
        return self._client

    def _ensure(self, group: str) -> None:
        if group in self._ready:
            return
        client = self._logs()
        for stream in (None, self.stream):
            try:
                if stream is None:
                    client.create_log_group(logGroupName=group)
                else:
                    client.create_log_stream(logGroupName=group, logStreamName=stream)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    raise
        self._ready.add(group)

    def _send(self) -> None:
        while self.pending:
            group = self.pending[0][0]
            batch: list[tuple[str, int, str]] = []
            for item in self.pending:
                if item[0] != group or len(batch) == BATCH:
                    break
                batch.append(item)
            self._ensure(group)
            # One call's events must be in time order; a stable sort keeps a worker's own order.
            events: list[Any] = [
                {"timestamp": t, "message": m} for _, t, m in sorted(batch, key=lambda i: i[1])
            ]
            self._logs().put_log_events(
                logGroupName=group, logStreamName=self.stream, logEvents=events
            )
            for _ in batch:
                self.pending.popleft()
            self.shipped += len(batch)
