"""The locustfile's own options, and the values a run derives from them.

Kept apart from the locustfile (which Locust imports) so its size stays reviewable; the options
are registered through Locust's `init_command_line_parser` event with `env_var=`, so each is a
command line flag, an environment variable, and a `/swarm` form field of the same name (which is
how the app's relay sets the page's rate).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from loadgen.plan import DEFAULT_DUPLICATE_EVERY, DEFAULT_RATE_PER_MINUTE, parse_duration

__all__ = ["add_options", "effective_rate", "max_run_seconds", "option", "role"]

log = logging.getLogger("loadgen")


def add_options(parser: Any) -> None:
    parser.add_argument(
        "--signup-rate",
        type=float,
        default=DEFAULT_RATE_PER_MINUTE,
        env_var="LOADGEN_RATE",
        help="signups a minute, in total across users and workers (default 10)",
    )
    parser.add_argument(
        "--duplicate-every",
        type=int,
        default=DEFAULT_DUPLICATE_EVERY,
        env_var="LOADGEN_DUPLICATE_EVERY",
        help="every K-th request re-sends an email already created in this run (default 10)",
    )
    parser.add_argument(
        "--max-run",
        type=str,
        default="30m",
        env_var="LOADGEN_MAX_RUN",
        help="a run stops itself after this long, e.g. 30m; 0 for never (default 30m)",
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        env_var="LOADGEN_RATE_SCALE",
        include_in_web_ui=False,
        help="multiply the rate (tests run the page's 10 a minute faster); default 1",
    )
    parser.add_argument(
        "--progress-every",
        type=float,
        default=0.0,
        env_var="LOADGEN_PROGRESS_EVERY",
        include_in_web_ui=False,
        help="print a progress line every N seconds (0: never)",
    )
    parser.add_argument(
        "--summary-json",
        type=str,
        default="",
        env_var="LOADGEN_SUMMARY_JSON",
        include_in_web_ui=False,
        help="write the final counts and the ledger of every signup to this file when Locust quits",
    )


def option(environment: Any, name: str, default: Any) -> Any:
    options = environment.parsed_options
    return getattr(options, name, default) if options is not None else default


def role(environment: Any) -> Literal["master", "worker", "local"]:
    """What this process is, from its options rather than `environment.runner`: a worker that
    joins a running test gets its first spawn message, and so its `test_start`, while Locust is
    still constructing its runner (before `environment.runner` is set)."""
    if option(environment, "master", False):
        return "master"
    if option(environment, "worker", False):
        return "worker"
    return "local"


def effective_rate(environment: Any) -> float:
    """The per-minute rate this run sends in total: the chosen rate times the test scale."""
    rate = float(option(environment, "signup_rate", DEFAULT_RATE_PER_MINUTE))
    scaled = rate * float(option(environment, "rate_scale", 1.0))
    if not 0 < scaled < float("inf"):
        log.error("invalid rate %r; using %s a minute", scaled, DEFAULT_RATE_PER_MINUTE)
        return DEFAULT_RATE_PER_MINUTE
    return scaled


def max_run_seconds(environment: Any) -> float:
    try:
        return parse_duration(str(option(environment, "max_run", "30m")))
    except ValueError:
        log.error("invalid max run %r; using 30m", option(environment, "max_run", ""))
        return 1800.0
