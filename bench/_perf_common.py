"""Shared machinery of the signup performance benchmarks (issue 8).

Every benchmark here runs the real thing on loopback: moto in its own process (so its CPU is not
counted with ours), the app under gunicorn exactly as the Procfile starts it, and Locust driven
headless with the project's own locustfile. Figures come from the kernel (`/proc/<pid>/stat`,
`/proc/<pid>/status`) and from Locust's own statistics, never from timers inside the app.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bench._loopback import DaemonListener, free_port, wait_for_http
from bench._results import record

ROOT = Path(__file__).resolve().parents[1]

BIN = Path(sys.executable).parent
LOCUSTFILE = ROOT / "loadgen" / "locustfile.py"
LATENCY_PROBE = Path(__file__).with_name("_locust_latency.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: "Saturation": a rate no loopback setup reaches, so the 4 users send back to back.
UNCAPPED_RATE = 6_000_000.0
CLIENTS = 4
DUPLICATE_EVERY = 10
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
os.environ.update(CREDENTIALS)


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # so `finally` stops moto, gunicorn and Locust with us


signal.signal(signal.SIGTERM, _terminate)


# --------------------------------------------------------------------------- processes and /proc


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of `pids` (the kernel's own accounting, all threads included)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size of one process in MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return sorted(found)


def _stop(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def moto() -> Iterator[str]:
    """moto's server in its own process on a free loopback port; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **CREDENTIALS},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/moto-api/", timeout=30)
        yield url
    finally:
        _stop(process)


@dataclass(frozen=True)
class Resources:
    table: str
    topic_arn: str


def create_resources(endpoint: str) -> Resources:
    """A fresh table and topic (no subscriber: moto's fan-out work is not what we measure)."""
    session = boto3.session.Session(region_name="us-east-1")
    suffix = uuid.uuid4().hex[:8]
    table = f"signups-{suffix}"
    session.client("dynamodb", endpoint_url=endpoint).create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = session.client("sns", endpoint_url=endpoint).create_topic(Name=f"new-{suffix}")
    return Resources(table, topic["TopicArn"])


@dataclass(frozen=True)
class App:
    url: str
    master: int

    @property
    def workers(self) -> list[int]:
        return children(self.master)

    @property
    def pids(self) -> list[int]:
        return [self.master, *self.workers]


def app_env(
    endpoint: str, resources: Resources, traced: bool, daemon: str | None = None
) -> dict[str, str]:
    env = {
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "STARTUP_SIGNUP_TABLE": resources.table,
        "NEW_SIGNUP_TOPIC": resources.topic_arn,
        "AWS_XRAY_SDK_ENABLED": "true" if traced else "false",
    }
    if daemon:
        env["AWS_XRAY_DAEMON_ADDRESS"] = daemon
    return env


@contextmanager
def gunicorn(
    env: Mapping[str, str],
    workers: int = 2,
    threads: int | None = None,
    extra_args: Sequence[str] = (),
    wsgi: str = "app.wsgi:application",
    config: str = "python:app.gunicorn_conf",
) -> Iterator[App]:
    """The app under gunicorn with the project's config (the Procfile's command), plus overrides.

    `extra_args` come after `-c`, so a flag such as `--worker-class sync` overrides the config
    file: that is how the levers are measured without editing the app.
    """
    port = free_port()
    full_env = {**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    full_env["GUNICORN_WORKERS"] = str(workers)
    if threads is not None:
        full_env["GUNICORN_THREADS"] = str(threads)
    full_env["PYTHONPATH"] = str(ROOT)
    log = tempfile.TemporaryFile()  # gunicorn's own log, shown only if it does not come up
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", config, *extra_args, wsgi],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/health", timeout=30)
        except TimeoutError:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"gunicorn {wsgi} did not come up; its log ends:\n{tail}") from None
        deadline = time.monotonic() + 10
        while len(children(process.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        yield App(url, process.pid)
    finally:
        _stop(process)
        log.close()


def warm_up(url: str, requests: int = 60) -> None:
    """Signups and duplicates through every code path before anything is measured."""
    run = uuid.uuid4().hex[:8]
    for n in range(requests):
        email = f"warm-{run}-{n // 2}@example.com"  # every other one a duplicate
        body = f"name=Warm&email={email}&previewAccess=No&theme=flatly".encode()
        request = urllib.request.Request(url + "/signup", data=body, method="POST")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError:
            pass


# --------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Load:
    sent: int
    unexpected: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float

    @property
    def ok(self) -> bool:
        return self.sent > 0 and self.unexpected == 0


def locust(
    host: str,
    seconds: float,
    users: int = CLIENTS,
    rate: float = UNCAPPED_RATE,
    duplicate_every: int = DUPLICATE_EVERY,
) -> Load:
    """Run the project's locustfile headless; Locust's own counts, throughput and median."""
    with tempfile.TemporaryDirectory(prefix="signup-bench-") as tmp:
        summary = Path(tmp) / "summary.json"
        latency = Path(tmp) / "latency.json"
        argv = [
            sys.executable, "-m", "locust", "-f", f"{LOCUSTFILE},{LATENCY_PROBE}",
            "--headless", "--only-summary",
            "--host", host, "--users", str(users), "--spawn-rate", str(users),
            "--signup-rate", repr(rate), "--duplicate-every", str(duplicate_every),
            "--max-run", "0", "--run-time", f"{int(seconds)}s", "--stop-timeout", "5",
            "--summary-json", str(summary), "--loglevel", "WARNING",
        ]  # fmt: skip
        started = time.monotonic()
        subprocess.run(
            argv,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=seconds + 60,
            check=False,
            env={**os.environ, "BENCH_LATENCY_JSON": str(latency)},
        )
        if not summary.exists() or not latency.exists():
            raise RuntimeError(f"Locust wrote no summary after {time.monotonic() - started:.0f}s")
        counts = json.loads(summary.read_text())
        times = json.loads(latency.read_text())
    return Load(
        sent=int(counts["sent"]),
        unexpected=int(counts["unexpected"]),
        seconds=float(times["elapsed_seconds"]),
        rps=times["count"] / float(times["elapsed_seconds"]),
        p50_ms=float(times["p50_ms"]),
        p90_ms=float(times["p90_ms"]),
    )


def measured_load(app: App, seconds: float, rate: float = UNCAPPED_RATE) -> tuple[Load, float]:
    """Locust against `app` for `seconds`: its figures and the app's CPU ms per signup sent.

    Any answer the locustfile did not expect fails the benchmark: a figure is only worth
    recording when every signup was answered as it should be."""
    before = cpu_seconds(app.pids)
    load = locust(app.url, seconds, rate=rate)
    used = cpu_seconds(app.pids) - before
    if not load.ok:
        raise RuntimeError(f"unexpected answers: {load}")
    return load, used * 1000 / load.sent


@dataclass(frozen=True)
class TracedPair:
    """The app traced (to `listener`) and untraced, side by side on one moto."""

    endpoint: str
    resources: Resources
    listener: DaemonListener
    traced: App
    untraced: App


@contextmanager
def traced_and_untraced() -> Iterator[TracedPair]:
    """Both apps under gunicorn, warmed up, sharing a moto server, a table and a topic."""
    listener = DaemonListener()
    try:
        with moto() as endpoint:
            resources = create_resources(endpoint)
            on = app_env(endpoint, resources, traced=True, daemon=listener.address)
            off = app_env(endpoint, resources, traced=False)
            with gunicorn(on) as app_on, gunicorn(off) as app_off:
                warm_up(app_on.url)
                warm_up(app_off.url)
                yield TracedPair(endpoint, resources, listener, app_on, app_off)
    finally:
        listener.close()


# --------------------------------------------------------------------------- floor


def floor_cpu_ms(endpoint: str, resources: Resources, signups: int) -> dict[str, float]:
    """CPU ms per signup of each floor of bench/_floor.py (bare boto3, a process of its own)."""
    argv = [
        sys.executable, "-m", "bench._floor",
        endpoint, resources.table, resources.topic_arn, str(signups),
    ]  # fmt: skip
    out = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=900, check=True
    ).stdout
    cpu_ms: dict[str, float] = json.loads(out)["cpu_ms"]
    return cpu_ms


# --------------------------------------------------------------------------- results


def spread(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "runs": len(values),
        "values": [round(v, digits) for v in values],
    }


def row(
    figure: str,
    values: Sequence[float],
    unit: str = "",
    target: str | None = None,
    holds: bool | None = None,
    digits: int = 3,
) -> dict[str, Any]:
    s = spread(values, digits)
    result: dict[str, Any] = {
        "figure": figure,
        "min": s["min"],
        "median": s["median"],
        "max": s["max"],
        "unit": unit,
    }
    if target is not None:
        result["target"] = target
        result["holds"] = holds
    return result


def versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ["aws-xray-sdk", "boto3", "botocore", "flask", "gunicorn", "locust", "moto"]
    return {name: version(name) for name in names}


def source_state() -> dict[str, Any]:
    """The commit measured, and which of the measured packages' files differed from it."""

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return run.stdout

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    code = [path for path in changed if not path.startswith(("tests/", "docs/", "README"))]
    return {"commit": git("rev-parse", "HEAD").strip(), "uncommitted": code}


#: Taken when the benchmark starts, i.e. when the code it measures is loaded.
SOURCE = source_state()


def write_results(name: str, figures: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Record the figures with the library versions and the source measured, and the rows the
    README table shows."""
    record(name, {"versions": versions(), "source": SOURCE, "figures": figures, "rows": rows})
    print(json.dumps({"rows": rows}, indent=2), flush=True)
