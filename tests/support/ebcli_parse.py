"""Parse `eb ...` command lines with the EB CLI's own parser; run by the EB CLI's interpreter.

Usage: `.venv-ebcli/bin/python tests/support/ebcli_parse.py` with a JSON list of argv lists (each
without the leading `eb`) on stdin; prints JSON `{"version": ..., "errors": [...]}` with, for
each line, null when the EB CLI accepts it or the error the EB CLI printed.

Why a script in another interpreter: awsebcli pins pathspec 0.12 while the project's mypy needs
1.x, so `make test` installs it into `.venv-ebcli` (see the Makefile), and this file imports
nothing from the project. Why not `eb ... --help`: help does not parse the rest of the line.

How: the real `EB` cement application is set up and run; its controllers pick the command and
add its options exactly as `eb` does, and the one change is the application's `_parse_args`,
which parses (abbreviations off, as the AWS check does: the docs spell options in full) and then
stops, before any hook reads AWS configuration and before the command touches AWS.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from typing import Any

import ebcli
from ebcli.core.ebcore import EB


class _Parsed(Exception):
    """Raised once the command line is parsed, so the command itself never runs."""


class _ParseOnly(EB):  # type: ignore[misc]
    def _parse_args(self) -> None:
        self.args.allow_abbrev = False
        self.args.parse(self.argv)
        raise _Parsed


def eb_cli_error(argv: list[str]) -> str | None:
    """None when the EB CLI accepts `eb <argv>`; otherwise what it printed about it."""
    app: Any = _ParseOnly(argv=argv)
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            app.setup()
            app.run()
    except _Parsed:
        return None
    except SystemExit as exit_:
        return stderr.getvalue().strip() or f"exit code {exit_.code}"
    except Exception as error:  # any other failure before parsing ends is an answer too
        return f"{type(error).__name__}: {error}"
    return "the command ran past argument parsing"


def main() -> None:
    logging.disable(logging.WARNING)  # cement's deprecation notes are not the EB CLI's answer
    commands = json.load(sys.stdin)
    errors = [eb_cli_error(list(argv)) for argv in commands]
    json.dump({"version": ebcli.__version__, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
