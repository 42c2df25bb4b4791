"""Run an `aws ...` command line through the AWS CLI's own driver, stopped before any request.

Why the whole driver and not a parser rebuilt here: the global options (`--endpoint-url`,
`--region`, `--query`, `--output`), the service and operation lookup, customised commands such as
`cloudformation deploy`, required options, and the shorthand values (`--option-settings
Namespace=...,OptionName=...`) are each checked where the CLI checks them. botocore's
`before-call` event fires after the parameters are validated and before anything is signed or
sent, so a handler there ends the command: reaching it means the CLI accepted the line.

Abbreviations are off: argparse lets `--start-tim` stand for `--start-time` as long as no other
option shares the prefix, so such a line works until the CLI adds one that does. The docs spell
every option in full, so the parsers here match options by their whole name only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator, Sequence
from typing import Any
from unittest import mock

from awscli.argparser import CLIArgParser
from awscli.clidriver import create_clidriver

__all__ = ["aws_cli_error"]

_USAGE_END = "aws <command> <subcommand> help"


class _WouldSend(Exception):
    """Raised where botocore would sign and send the request."""


@contextlib.contextmanager
def _whole_option_names() -> Iterator[None]:
    original = CLIArgParser.parse_known_args

    def parse_known_args(
        self: CLIArgParser, args: Sequence[str] | None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.allow_abbrev = False
        parsed: tuple[argparse.Namespace, list[str]] = original(self, args, namespace)
        return parsed

    with mock.patch.object(CLIArgParser, "parse_known_args", parse_known_args):
        yield


def aws_cli_error(argv: Sequence[str]) -> str | None:
    """None when the AWS CLI accepts `aws <argv>`; otherwise what it printed about it.

    Nothing leaves the machine: the command stops at the first request it would send.
    """
    stops: list[str] = []

    def stop_before_sending(event_name: str, **kwargs: Any) -> None:
        stops.append(event_name)
        raise _WouldSend(event_name)  # the driver reports it as an error (exit 255)

    driver = create_clidriver()
    driver.session.register("before-call", stop_before_sending)
    stderr, stdout = io.StringIO(), io.StringIO()
    with (
        _whole_option_names(),
        contextlib.redirect_stderr(stderr),
        contextlib.redirect_stdout(stdout),
    ):
        try:
            code = driver.main(list(argv))
        except SystemExit as exit_:  # argparse's own errors (a missing required option, ...)
            code = exit_.code if isinstance(exit_.code, int) else 2
    if stops:
        return None
    if code == 0:
        return f"ran to the end without a request (exit 0): {stdout.getvalue()[:200]!r}"
    # The CLI prints its usage banner first; what matters is after it.
    said = stderr.getvalue().rsplit(_USAGE_END, 1)[-1].strip()
    return said or f"exit code {code}"
