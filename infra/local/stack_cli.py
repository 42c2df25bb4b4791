"""`xray-signup up`: run the local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from app.config import TRACERS
from hostguard import add_allow_host_argument, extra_hosts
from infra.local import stack_state
from infra.local.stack import LocalStack, PortInUse, StackConfig

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = StackConfig()
    parser = subparsers.add_parser(
        "up",
        help="run the whole local stack (moto, X-Ray, app, generator)",
        description="Start the local stack on 127.0.0.1 and keep it running until Ctrl-C.",
    )
    for flag, default, about in (
        ("--port", defaults.app_port, "signup app port"),
        ("--aws-port", defaults.aws_port, "embedded AWS port (moto behind the fault proxy)"),
        ("--xray-port", defaults.xray_port, "X-Ray daemon (UDP), API and console (TCP) port"),
        ("--locust-port", defaults.locust_port, "Locust web API port"),
    ):
        parser.add_argument(flag, type=int, default=default, help=f"{about} (default %(default)s)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=defaults.data_dir,
        help="traces and logs (default %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="gunicorn workers (default %(default)s)",
    )
    parser.add_argument(
        "--no-generator", action="store_true", help="do not start the Locust generator"
    )
    parser.add_argument(
        "--tracer",
        choices=TRACERS,
        default=defaults.tracer,
        help="the app's tracer: aws-xray-sdk's segments or OpenTelemetry's spans over OTLP "
        "(default %(default)s)",
    )
    add_allow_host_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto and the API log every request
    try:
        allowed_hosts = extra_hosts(args.allow_host)
    except ValueError as exc:
        print(f"xray-signup up: --allow-host / ALLOWED_HOSTS: {exc}", file=sys.stderr)
        return 2
    config = StackConfig(
        allowed_hosts=allowed_hosts,
        app_port=args.port,
        aws_port=args.aws_port,
        xray_port=args.xray_port,
        locust_port=args.locust_port,
        data_dir=args.data_dir,
        workers=args.workers,
        with_generator=not args.no_generator,
        tracer=args.tracer,
    )
    stack = LocalStack(config)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> Any:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
    except PortInUse as exc:
        print(f"xray-signup up: {exc}", file=sys.stderr)
        stack.stop()
        return 2
    except Exception as exc:
        print(f"xray-signup up: could not start: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print(stack.describe(), flush=True)
    # Where this stack listens, for `xray-signup scenario` (removed when it stops).
    state = stack_state.StackState(
        pid=os.getpid(),
        app_url=config.app_url,
        aws_url=f"http://{config.host}:{config.aws_port}",
        xray_url=config.xray_url,
        locust_url=config.locust_url if config.with_generator else None,
    )
    stack_state.write(config.data_dir, state)
    status = 0
    try:
        while not stopping.wait(0.5):
            failed = stack.failed_process()
            if failed is not None:
                print(
                    f"xray-signup up: {failed.name} exited with {failed.exit_code()}; stopping "
                    f"(see {config.data_dir / (failed.name + '.log')})",
                    file=sys.stderr,
                )
                status = 1
                break
    finally:
        stack_state.remove(config.data_dir, state.pid)
    print("stopping...", flush=True)
    stack.stop()
    print("stopped.", flush=True)
    return status
