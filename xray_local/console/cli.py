"""`xray-signup console --aws --region R`: the trace console against an account's AWS X-Ray.

Locally the console needs no command of its own: `xray-signup xray` (and `xray-signup up`) serve
it on the X-Ray API's port. This command serves the same pages from a small server on 127.0.0.1
whose boto3 client reads AWS X-Ray in the given region with the usual credential chain
(environment, `AWS_PROFILE` / `--profile`, SSO, instance role). `--endpoint-url` points it at any
other X-Ray API instead, for example an xray_local on another machine's tunnel.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError
from werkzeug.serving import make_server

from hostguard import HostGuard, HostPolicy, add_allow_host_argument, extra_hosts
from xray_local.console import ApiTarget, create_console_app

__all__ = ["add_arguments", "build_target", "credentials_problem", "main", "register", "run"]

log = logging.getLogger("xray_local.console")

NOT_AWS = (
    "xray-signup console reads AWS X-Ray: run it as `xray-signup console --aws --region R`.\n"
    "For the local traces, the console is already served by the local X-Ray itself:\n"
    "  xray-signup xray      (daemon, X-Ray API and console on http://127.0.0.1:2000/)\n"
    "  xray-signup up        (the whole local stack, console on http://127.0.0.1:2000/)\n"
    "To read another X-Ray API, pass --endpoint-url URL."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--aws", action="store_true", help="read AWS X-Ray (the usual credentials)")
    parser.add_argument("--region", help="AWS region of the X-Ray data (required with --aws)")
    parser.add_argument("--profile", help="AWS profile to use (default: the credential chain)")
    parser.add_argument("--endpoint-url", help="read this X-Ray API instead of AWS")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=2000,
        help="port to serve on (default 2000, the local console's; use another if `xray-signup "
        "xray` runs too)",
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for an X-Ray API answer"
    )
    parser.add_argument(
        "--log-group",
        action="append",
        default=[],
        metavar="NAME",
        help="CloudWatch Logs group with the services' JSON log lines, shown beside each trace "
        "(repeatable; on Elastic Beanstalk /aws/elasticbeanstalk/ENV/var/log/web.stdout.log)",
    )
    add_allow_host_argument(parser)


def build_target(args: argparse.Namespace) -> ApiTarget | None:
    """The API the options name, or None (with the reason printed) when they name none."""
    if args.endpoint_url:
        return ApiTarget(
            region=args.region or "us-east-1",
            endpoint_url=args.endpoint_url,
            read_timeout=args.timeout,
            log_groups=tuple(args.log_group),
        )
    if not args.aws:
        print(NOT_AWS, file=sys.stderr)
        return None
    if not args.region:
        print("--aws needs --region (the region your X-Ray traces are in)", file=sys.stderr)
        return None
    return ApiTarget(
        region=args.region,
        profile=args.profile,
        read_timeout=args.timeout,
        log_groups=tuple(args.log_group),
    )


def credentials_problem(target: ApiTarget) -> str | None:
    """Why the console will not be able to call AWS (said once at startup; the pages say it
    again on every call), or None when boto3 finds credentials."""
    try:
        session = boto3.session.Session(region_name=target.region, profile_name=target.profile)
        if session.get_credentials() is not None:
            return None
        reason = "no AWS credentials found"
    except BotoCoreError as exc:  # ProfileNotFound and friends
        reason = str(exc)
    return (
        f"Warning: {reason}. The pages will answer \"No AWS credentials\" until you configure "
        "them the usual way (AWS_PROFILE or --profile, aws configure, aws sso login, "
        "environment variables) and reload."
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    target = build_target(args)
    if target is None:
        return 2
    try:
        allowed_hosts = extra_hosts(args.allow_host)
    except ValueError as exc:
        print(f"--allow-host / ALLOWED_HOSTS: {exc}", file=sys.stderr)
        return 2
    # Nothing answers until the policy knows the bound port (with --port 0, after binding).
    guard = HostGuard(create_console_app(target), HostPolicy(()))
    try:
        server = make_server(args.host, args.port, guard, threaded=True)
    except OSError as exc:
        log.error("cannot serve on %s:%s: %s (choose another --port)", args.host, args.port, exc)
        return 1
    host, port = str(server.server_address[0]), int(server.server_address[1])
    guard.policy = HostPolicy.loopback(port, allowed_hosts)
    print(
        f"Trace console for {target.describe()} on http://{host}:{port}/  (Ctrl-C to stop)",
        flush=True,
    )
    if target.log_groups:
        print(f"Log lines from CloudWatch Logs: {', '.join(target.log_groups)}", flush=True)
    elif target.is_aws:
        print("No --log-group given: traces are shown without their log lines.", flush=True)
    if target.is_aws:
        problem = credentials_problem(target)
        if problem:
            print(problem, file=sys.stderr, flush=True)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    return 0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `console` subcommand to the `xray-signup` CLI."""
    parser = subparsers.add_parser(
        "console",
        help="serve the trace console against AWS X-Ray: --aws --region R",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xray_local.console.cli", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
