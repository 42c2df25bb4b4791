"""What tracing costs the signup service: untraced, aws-xray-sdk and OpenTelemetry, in one run.

The three apps run side by side under gunicorn as the Procfile starts them, on one moto (its own
process), from the same code with only the environment differing: `AWS_XRAY_SDK_ENABLED=false`;
`TRACER=xray-sdk` sending every segment over UDP to a real listener (bench/_loopback.py); and
`TRACER=opentelemetry` exporting OTLP/HTTP protobuf with the batch span processor to a real
receiver (bench/_otlp_sink.py), so each tracer pays for its whole path to the wire.

Each round runs every app twice, in an order that rotates from round to round: Locust (the
project's locustfile, 4 clients, 1 signup in 10 a duplicate) at a moderate 50 signups/s for CPU
per signup (utime + stime of the gunicorn master and workers from /proc) and p50 latency (every
response time Locust measured), then flat out for throughput. Every figure of the table is the
median over the rounds of a ratio within one round (the traced app against the untraced one of
the same round, OpenTelemetry against the X-Ray SDK), with its spread; a target holds only when
the whole spread is inside it, so an effect hidden by the machine's noise never counts as met.

Spans and segments are counted where they arrive, beside Locust's count of signups, so a tracer
that dropped work to look cheap would show it.

    python -m bench.tracer_overhead [--runs 5] [--seconds 8]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from bench._loopback import DaemonListener
from bench._otlp_sink import OtlpSink
from bench._perf_common import (
    App,
    app_env,
    create_resources,
    gunicorn,
    measured_load,
    moto,
    row,
    spread,
    warm_up,
    write_results,
)

MODERATE_RATE = 3000.0  # signups a minute: 50/s with 4 clients, where CPU is not contended
TRACERS = ["untraced", "xray-sdk", "opentelemetry"]
#: The OpenTelemetry batch processor's schedule delay is 5 s by default: waiting a little longer
#: than that lets every span of a run reach the receiver before it is counted.
FLUSH_WAIT_SECONDS = 6.5

#: (figure, ratio name, bound, "max" when the ratio must stay at or under the bound)
TARGETS: list[tuple[str, str, float, str]] = [
    ("CPU per signup, X-Ray SDK / untraced", "cpu_xray_sdk_to_untraced", 1.5, "max"),
    ("CPU per signup, OpenTelemetry / untraced", "cpu_opentelemetry_to_untraced", 1.5, "max"),
    ("CPU per signup, OpenTelemetry / X-Ray SDK", "cpu_opentelemetry_to_xray_sdk", 1.25, "max"),
    ("p50 latency at 50/s, X-Ray SDK / untraced", "p50_xray_sdk_to_untraced", 1.10, "max"),
    ("p50 latency at 50/s, OpenTelemetry / untraced", "p50_opentelemetry_to_untraced", 1.10, "max"),
    ("throughput flat out, X-Ray SDK / untraced", "rps_xray_sdk_to_untraced", 0.90, "min"),
    ("throughput flat out, OpenTelemetry / untraced", "rps_opentelemetry_to_untraced", 0.90, "min"),
]


def _env(
    name: str, base: dict[str, str], listener: DaemonListener, sink: OtlpSink
) -> dict[str, str]:
    env = dict(base)
    if name == "untraced":
        env["AWS_XRAY_SDK_ENABLED"] = "false"
        return env
    env["TRACER"] = name
    if name == "xray-sdk":
        env["AWS_XRAY_DAEMON_ADDRESS"] = listener.address
    else:
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = sink.endpoint
    return env


def _ratios(figures: dict[str, dict[str, list[float]]]) -> dict[str, list[float]]:
    def over(metric: str, a: str, b: str) -> list[float]:
        return [x / y for x, y in zip(figures[a][metric], figures[b][metric], strict=True)]

    ratios: dict[str, list[float]] = {}
    for metric in ("cpu", "p50", "rps"):
        for tracer in ("xray-sdk", "opentelemetry"):
            key = tracer.replace("-", "_")
            ratios[f"{metric}_{key}_to_untraced"] = over(metric, tracer, "untraced")
        ratios[f"{metric}_opentelemetry_to_xray_sdk"] = over(metric, "opentelemetry", "xray-sdk")
    return ratios


def _holds(values: Sequence[float], bound: float, kind: str) -> bool:
    """The whole spread inside the target, not only its median."""
    return max(values) <= bound if kind == "max" else min(values) >= bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    if args.runs < 1 or args.seconds < 2:
        parser.error("--runs must be at least 1 and --seconds at least 2")

    figures: dict[str, dict[str, list[float]]] = {
        name: {"cpu": [], "p50": [], "rps": [], "saturated_cpu": []} for name in TRACERS
    }
    sent = {name: 0 for name in TRACERS}
    orders: list[list[str]] = []
    with ExitStack() as stack:
        listener = DaemonListener()
        stack.callback(listener.close)
        sink = OtlpSink()
        stack.callback(sink.close)
        endpoint = stack.enter_context(moto())
        base = app_env(endpoint, create_resources(endpoint), traced=True)
        apps: dict[str, App] = {}
        for name in TRACERS:
            apps[name] = stack.enter_context(gunicorn(_env(name, base, listener, sink)))
            warm_up(apps[name].url)
        time.sleep(FLUSH_WAIT_SECONDS)
        listener.clear()
        sink.clear()
        for run in range(args.runs):
            order = TRACERS[run % 3 :] + TRACERS[: run % 3]
            orders.append(order)
            for name in order:
                load, cpu_ms = measured_load(apps[name], args.seconds, rate=MODERATE_RATE)
                figures[name]["cpu"].append(cpu_ms)
                figures[name]["p50"].append(load.p50_ms)
                saturated, saturated_cpu = measured_load(apps[name], args.seconds)
                figures[name]["rps"].append(saturated.rps)
                figures[name]["saturated_cpu"].append(saturated_cpu)
                sent[name] += load.sent + saturated.sent
            print(f"round {run + 1}:", {n: {k: round(v[-1], 3) for k, v in f.items()}
                                        for n, f in figures.items()}, flush=True)  # fmt: skip
        time.sleep(FLUSH_WAIT_SECONDS)
        arrived = {
            "xray_sdk_segment_documents_per_signup": len(listener.snapshot()) / sent["xray-sdk"],
            "opentelemetry_spans_per_signup": sink.span_count() / sent["opentelemetry"],
            "opentelemetry_export_requests": len(sink.requests),
            "opentelemetry_spans_by_name": dict(sorted(sink.names.items())),
        }

    ratios = _ratios(figures)
    results: dict[str, Any] = {
        "per_tracer": {
            name: {metric: spread(values) for metric, values in per.items()}
            for name, per in figures.items()
        },
        "ratios": {name: spread(values) for name, values in ratios.items()},
        "signups_sent": sent,
        "arrived": arrived,
        "order_per_round": orders,
        "moderate_rate_per_minute": MODERATE_RATE,
        "clients": 4,
        "duplicate_every": 10,
        "seconds_per_run": args.seconds,
        "verdict_rule": "holds only when every round's ratio is inside the target",
    }
    rows = []
    for name in TRACERS:
        rows.append(row(f"CPU per signup at 50/s, {name}", figures[name]["cpu"], "ms"))
    for name in TRACERS:
        rows.append(row(f"p50 latency at 50/s, {name}", figures[name]["p50"], "ms", digits=2))
    for name in TRACERS:
        rows.append(row(f"throughput flat out, {name}", figures[name]["rps"], "req/s", digits=1))
    for figure, key, bound, kind in TARGETS:
        target = f"≤ {bound}" if kind == "max" else f"≥ {bound}"
        values = ratios[key]
        rows.append(row(figure, values, "×", target=target, holds=_holds(values, bound, kind)))
    write_results("tracer_overhead", results, rows)


if __name__ == "__main__":
    main()
