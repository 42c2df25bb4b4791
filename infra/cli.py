"""The `xray-signup` command: one entry point whose subcommands live beside what they run.

Each subcommand is registered by a module that exposes `register(subparsers)`; the module adds its
parser and sets `func` to a callable taking the parsed namespace and returning the exit status.
Modules are imported only when the command line names them, so `xray-signup bundle` does not pay
for importing moto or Locust.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

__all__ = ["COMMANDS", "build_parser", "main"]

#: subcommand -> (module that registers it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("infra.local.stack_cli", "run the whole local stack (moto, X-Ray, app, generator)"),
    "xray": ("xray_local.cli", "run the local X-Ray daemon, API and console"),
    "console": ("xray_local.console.cli", "the trace console on AWS X-Ray: --aws --region R"),
    "scenario": ("infra.local.faults.cli", "switch a local failure scenario: NAME --share PERCENT"),
    "loadgen": ("loadgen.cli", "send signups headless: --host --rate --duplicate-every --duration"),
    "bundle": (
        "infra.deploy.bundle",
        "build the Elastic Beanstalk source bundle (zip under dist/)",
    ),
    "renotify": ("infra.ops.renotify", "publish the notifications stored signups still owe"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Build the parser, importing only the module of the subcommand named in `argv`."""
    parser = argparse.ArgumentParser(
        prog="xray-signup",
        description="AWS X-Ray signup demo: local stack, traffic generator, deployment tools.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        if name == wanted:
            module = importlib.import_module(module_name)
            register: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]
            register = module.register
            register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())
