"""Every relative link in the README and docs/ leads somewhere, and every project command they show
is one the project accepts.

Why: a new user follows the docs literally. A moved section leaves links to a heading that is
gone; an option renamed in a parser leaves a command that stops with "unrecognized arguments".
Links (files and `#anchors`, by GitHub's anchor rule) are checked against the tree; the
`xray-signup ...`, `python -m ...` and `make ...` lines of the docs' shell code blocks (read as a
terminal would: tests/support/doc_commands.py) against the real argparse parsers (built through
infra/cli.py's COMMANDS, parsed, never run), Locust's own parser with the locustfile's options (in
a child process: Locust patches the standard library on import), and the Makefile's targets.
Each failure names the file and line. Negative controls show each check rejects a broken one.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.cli import COMMANDS, build_parser
from tests.support.doc_commands import LOCAL_TOOLS, DocCommand, commands_in, commands_in_docs
from tests.support.doc_links import DocLink, anchors_of, links_in, slug
from tests.support.processes import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
LINKS = [link for doc in DOCS for link in links_in(doc)]
COMMANDS_IN_DOCS = commands_in_docs(DOCS, PROJECT_ROOT, LOCAL_TOOLS)

#: Words the docs write in place of a value (a usage line), with a value the parser accepts.
METAVARS = {
    "URL": "http://127.0.0.1:8000",
    "N": "10",
    "K": "10",
    "R": "us-east-1",
    "NAME": "throttle",
    "PERCENT": "30",
    "MASTER_IP": "10.0.0.1",
}


def _where(link: DocLink) -> str:
    return f"{link.document.relative_to(PROJECT_ROOT)}:{link.line}: ({link.target})"


def link_problem(link: DocLink) -> str | None:
    """Why a link leads nowhere, or None."""
    target = (link.document.parent / link.path_part).resolve() if link.path_part else link.document
    if not target.exists():
        return f"{_where(link)} no such file"
    if PROJECT_ROOT not in target.parents and target != PROJECT_ROOT:
        return f"{_where(link)} outside the repository"
    if link.anchor is not None and target.suffix == ".md":
        if link.anchor not in anchors_of(target):
            return f"{_where(link)} no heading or anchor #{link.anchor} in {target.name}"
    return None


def _argv(command: DocCommand) -> list[str]:
    """The words as a parser gets them: `[--opt]` usage brackets dropped, METAVARS filled in."""
    words = [word.strip("[]") for word in command.argv]
    return [METAVARS.get(word, word) for word in words if word]


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """What the parser says about argv (None: accepted); nothing is run."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):  # --help exits 0
            return errors.getvalue().strip().splitlines()[-1]
    return None


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option a parser and its subparsers know, spelled in full."""
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                found |= _option_strings(subparser)
    return found


def xray_signup_error(argv: Sequence[str]) -> str | None:
    """The CLI's own parser's answer; an abbreviated option (argparse accepts a unique prefix)
    is an error too: the docs spell options in full, so a rename cannot hide behind a prefix."""
    parser = build_parser(argv)
    error = _parse(parser, argv)
    if error:
        return error
    known = _option_strings(parser)
    partial = [w.split("=")[0] for w in argv if w.startswith("--") and w.split("=")[0] not in known]
    return f"not an option spelled in full: {', '.join(partial)}" if partial else None


def make_targets() -> set[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", makefile, flags=re.M))
    for phony in re.findall(r"^\.PHONY:(.*)$", makefile, flags=re.M):
        targets.update(phony.split())
    return targets


def make_error(argv: Sequence[str]) -> str | None:
    wanted = [word for word in argv if "=" not in word and not word.startswith("-")]
    unknown = [word for word in wanted if word not in make_targets()]
    return f"no Makefile target {', '.join(unknown)}" if unknown else None


_LOCUST_CHECK = """
import json, sys
from locust.argument_parser import get_parser
import loadgen.locustfile  # registers the locustfile's own options
errors = []
for argv in json.loads(sys.stdin.read()):
    parser = get_parser()
    parser.allow_abbrev = False  # options spelled in full, as in the docs
    try:
        parser.parse_args(argv)
        errors.append(None)
    except SystemExit as exc:
        errors.append(f"rejected (exit {exc.code})" if exc.code else None)
print(json.dumps(errors))
"""


def locust_errors(argvs: list[list[str]]) -> list[str | None]:
    """Locust's parser with the locustfile's options, in a child process (gevent patching)."""
    result = subprocess.run(
        [sys.executable, "-c", _LOCUST_CHECK],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    errors: list[str | None] = json.loads(result.stdout.strip().splitlines()[-1])
    # argparse's own messages, from the child's stderr, one per rejected argv in order
    messages = iter(line for line in result.stderr.splitlines() if "error:" in line)
    return [f"{error}: {next(messages, '')}" if error else None for error in errors]


def python_error(argv: Sequence[str]) -> str | None:
    """`python -m MODULE ARGS`: the module exists; the project's own CLIs parse ARGS."""
    if argv[:1] != ["-m"] or len(argv) < 2:
        return None  # `python script.py` and the like: nothing to check here
    module, args = argv[1], list(argv[2:])
    if importlib.util.find_spec(module) is None:
        return f"no module {module}"
    if module == "xray_local":  # the same parser as `xray-signup xray`
        return xray_signup_error(["xray", *args])
    if module == "bench":
        from bench.__main__ import BENCHMARKS, OPTIONAL

        known = {*BENCHMARKS, *OPTIONAL, "--report-only", "-h", "--help"}
        unknown = [arg for arg in args if arg not in known]
        return f"no benchmark {', '.join(unknown)}" if unknown else None
    return None


def command_errors(commands: list[DocCommand]) -> dict[str, str]:
    """Each command that its tool rejects, as `file:line: command` -> the reason."""
    errors: dict[str, str] = {}
    locust = [c for c in commands if c.tool.startswith("python") and c.argv[:2] == ("-m", "locust")]
    for command, error in zip(
        locust, locust_errors([_argv(c)[2:] for c in locust]) if locust else [], strict=True
    ):
        if error:
            errors[str(command)] = error
    for command in commands:
        argv = _argv(command)
        if command in locust:
            continue
        if command.tool == "xray-signup":
            error = xray_signup_error(argv)
        elif command.tool == "make":
            error = make_error(argv)
        else:
            error = python_error(argv)
        if error:
            errors[str(command)] = error
    return errors


def test_the_docs_links_and_commands_are_all_found() -> None:
    # Counted when this test was written; fewer means the extraction lost some.
    assert len(LINKS) >= 30, "\n".join(map(_where, LINKS))
    assert any(link.anchor for link in LINKS)
    tools = {command.tool for command in COMMANDS_IN_DOCS}
    assert {"xray-signup", "make", "python"} <= tools, tools
    assert len(COMMANDS_IN_DOCS) >= 20, "\n".join(map(str, COMMANDS_IN_DOCS))


def test_every_relative_link_leads_somewhere() -> None:
    problems = [problem for link in LINKS if (problem := link_problem(link))]
    assert problems == [], "\n".join(problems)


def test_every_project_command_in_the_docs_is_accepted() -> None:
    assert command_errors(COMMANDS_IN_DOCS) == {}


def test_every_subcommand_is_checked_against_its_own_parser() -> None:
    for name in COMMANDS:
        assert xray_signup_error([name, "--help"]) is None, name


def test_anchors_follow_githubs_rule() -> None:
    assert slug("Deploy to AWS Elastic Beanstalk") == "deploy-to-aws-elastic-beanstalk"
    assert slug("2. `eb init`") == "2-eb-init"
    assert slug("Headless: `xray-signup loadgen`") == "headless-xray-signup-loadgen"
    assert slug("Exactly once: what the notification record and the deadline cost") == (
        "exactly-once-what-the-notification-record-and-the-deadline-cost"
    )
    assert slug("The trace console and the logs beside it") == (
        "the-trace-console-and-the-logs-beside-it"
    )


def test_a_broken_link_or_anchor_is_reported_with_its_line(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    guide = docs / "guide.md"
    guide.write_text(
        "# Guide\n\n## Step one\n\n## Step one\n\n"
        "See [one](#step-one), [again](#step-one-1), [me](guide.md#guide).\n"
        "Broken: [gone](missing.md), [no heading](#step-two), [elsewhere](other.md#nope).\n"
        "`[in code](missing-too.md)` and\n```\n[in a block](missing-three.md)\n```\n"
        "[outside](https://example.com/x.md) is not followed.\n"
    )
    (docs / "other.md").write_text('# Other\n<a name="nope-not"></a>\n')
    found = [(link.line, link.target) for link in links_in(guide)]
    assert found == [
        (7, "#step-one"),
        (7, "#step-one-1"),
        (7, "guide.md#guide"),
        (8, "missing.md"),
        (8, "#step-two"),
        (8, "other.md#nope"),
    ]
    root = PROJECT_ROOT
    try:
        globals()["PROJECT_ROOT"] = tmp_path
        problems = [p for link in links_in(guide) if (p := link_problem(link))]
    finally:
        globals()["PROJECT_ROOT"] = root
    assert problems == [
        "docs/guide.md:8: (missing.md) no such file",
        "docs/guide.md:8: (#step-two) no heading or anchor #step-two in guide.md",
        "docs/guide.md:8: (other.md#nope) no heading or anchor #nope in other.md",
    ]


def test_a_misspelled_option_or_target_is_rejected() -> None:
    wrong = [
        "xray-signup loadgen --host URL --rte 10",
        "xray-signup scenario throttle --shares 30",
        "xray-signup scenario throttling --share 30",
        "xray-signup up --aws-prot 5051",
        ".venv/bin/xray-signup bundel",
        "make benchmark",
        "python -m bench signup_leverz",
        "python -m xray_local --dta-dir x",
        "python -m no_such_module",
        "python -m locust -f loadgen/locustfile.py --signup-rat 10",
    ]
    commands = [c for line in wrong for c in commands_in(line, line, LOCAL_TOOLS)]
    assert len(commands) == len(wrong)
    errors = command_errors(commands)
    assert set(errors) == {str(command) for command in commands}, errors
    assert "--rte" in errors[str(commands[0])]
    assert "invalid choice: 'throttling'" in errors[str(commands[2])]
    assert "no Makefile target benchmark" in errors[str(commands[5])]

    right = [
        "xray-signup loadgen --host URL --rate N --duplicate-every K --duration 5m",
        "xray-signup renotify [--older-than 1m] [--dry-run]",
        "make test PYTEST_WORKERS=0",
        "python -m bench --report-only",
        "python -m locust -f loadgen/locustfile.py --worker --master-host MASTER_IP",
    ]
    commands = [c for line in right for c in commands_in(line, line, LOCAL_TOOLS)]
    assert command_errors(commands) == {}
