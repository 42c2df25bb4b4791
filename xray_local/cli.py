"""`xray-signup xray` and `python -m xray_local`: run the local X-Ray until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

from hostguard import add_allow_host_argument, extra_hosts
from xray_local.api.sampling import SamplingRuleError, SamplingRules
from xray_local.console import console_blueprint
from xray_local.server import XRayServer
from xray_local.store.traces import Retention

__all__ = ["add_arguments", "main", "register", "run"]

log = logging.getLogger("xray_local")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=2000, help="UDP (daemon) and TCP (API) port (default 2000)"
    )
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument(
        "--data-dir",
        default=".data/xray",
        help="the SQLite store's directory, shared with `xray-signup up` (default .data/xray)",
    )
    storage.add_argument("--memory", action="store_true", help="keep traces in memory only")
    parser.add_argument(
        "--max-traces", type=int, default=100_000, help="retention: traces kept (default 100000)"
    )
    parser.add_argument(
        "--max-age",
        type=float,
        default=7 * 24 * 3600.0,
        help="retention: seconds a trace is kept (default 7 days)",
    )
    parser.add_argument(
        "--max-bytes",
        type=_size,
        default=None,
        help="retention: database size kept, in bytes or with K/M/G (default: no bound)",
    )
    parser.add_argument(
        "--sampling-rules", help="JSON file of sampling rules (default: sample everything)"
    )
    parser.add_argument(
        "--log-interval", type=float, default=10.0, help="seconds between count log lines"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every dropped datagram")
    add_allow_host_argument(parser)


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _size(text: str) -> int:
    """`--max-bytes` values: an integer, optionally with K, M or G (binary units): `500M`."""
    value = text.strip().upper().removesuffix("B")
    unit = value[-1:] if value[-1:] in _UNITS else ""
    try:
        number = float(value[: len(value) - len(unit)])
    except ValueError:
        message = f"not a size: {text!r} (e.g. 200000000, 500M, 2G)"
        raise argparse.ArgumentTypeError(message) from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"a size must be positive: {text!r}")
    return int(number * _UNITS[unit])


def run(args: argparse.Namespace) -> int:
    """Start the server from parsed options and block until a signal stops it."""
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        sampling = SamplingRules.from_file(args.sampling_rules) if args.sampling_rules else None
        allowed_hosts = extra_hosts(args.allow_host)
    except (SamplingRuleError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    server = XRayServer(
        host=args.host,
        port=args.port,
        data_dir=None if args.memory else args.data_dir,
        retention=Retention(
            max_traces=args.max_traces, max_age=args.max_age, max_bytes=args.max_bytes
        ),
        sampling=sampling,
        blueprints=(console_blueprint(),),
        log_interval=args.log_interval,
        allowed_hosts=allowed_hosts,
    )
    try:
        server.start()
    except OSError as exc:
        log.error("cannot bind %s:%s: %s", args.host, args.port, exc)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        log.info("interrupted: stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    return 0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `xray` subcommand to the `xray-signup` CLI."""
    parser = subparsers.add_parser(
        "xray",
        help="run the local X-Ray daemon, API and console",
        description="Offline X-Ray: daemon (UDP), X-Ray API (TCP, same port), SQLite store.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xray_local", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
