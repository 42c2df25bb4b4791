"""Every `eb ...` and `aws ...` command in the README and docs/ is one the tool itself accepts.

Why: the deploy guide once said `eb create ... --instance_types t3.small`, which the EB CLI stops
with "unrecognized arguments"; nothing offline noticed. Each command line in the docs' shell code
blocks is handed to the tool's own parser: the AWS CLI's driver in this process (stopped before
any request), the EB CLI's cement application in `.venv-ebcli` (its pins clash with the dev
tools', so `make test` installs it there). Negative controls show that the same checks reject a
misspelled flag, and a minimum count that the extraction found the commands at all.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.aws_cli_check import aws_cli_error
from tests.support.doc_commands import DocCommand, commands_in, commands_in_docs
from tests.support.processes import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]
COMMANDS = commands_in_docs(DOCS, PROJECT_ROOT)
AWS_COMMANDS = [command for command in COMMANDS if command.tool == "aws"]
EB_COMMANDS = [command for command in COMMANDS if command.tool == "eb"]

EBCLI_PYTHON = PROJECT_ROOT / ".venv-ebcli" / "bin" / "python"
EBCLI_SCRIPT = PROJECT_ROOT / "tests" / "support" / "ebcli_parse.py"
EBCLI_REQUIREMENTS = PROJECT_ROOT / "tests" / "support" / "ebcli-requirements.txt"


def test_the_docs_commands_are_all_found() -> None:
    # Counted when this test was written; fewer means the extraction lost some.
    assert len(AWS_COMMANDS) >= 11, "\n".join(map(str, AWS_COMMANDS))
    assert len(EB_COMMANDS) >= 6, "\n".join(map(str, EB_COMMANDS))
    written = {(c.tool, c.argv[:2]) for c in COMMANDS}
    assert ("eb", ("create", "xray-signup-dev")) in written
    assert ("aws", ("xray", "get-trace-summaries")) in written
    assert ("aws", ("logs", "filter-log-events")) in written  # from docs/
    local = [c for c in AWS_COMMANDS if "--endpoint-url" in c.argv]
    assert any(c.argv[:2] == ("xray", "get-trace-summaries") for c in local)


def test_shell_lines_become_the_argv_the_tool_sees() -> None:
    line = (
        "NAME=$(aws cloudformation describe-stacks --stack-name s --query \"A[?K=='x']\" "
        '--output text) && eb init app --region "$AWS_REGION" # a comment\n'
    )
    found = [(c.tool, c.argv) for c in commands_in(line)]
    assert found == [
        (
            "aws",
            ("cloudformation", "describe-stacks", "--stack-name", "s")
            + ("--query", "A[?K=='x']", "--output", "text"),
        ),
        ("eb", ("init", "app", "--region", "us-east-1")),
    ]
    times = next(commands_in("aws xray get-service-graph --start-time $(( $(date +%s) - 600 ))"))
    assert times.argv[-1].isdigit()
    logs = next(commands_in("aws logs x --region <region> --filter-pattern '{ $.level = \"A\" }'"))
    assert logs.argv[-3:] == ("us-east-1", "--filter-pattern", '{ $.level = "A" }')
    with pytest.raises(ValueError, match="NOT_DOCUMENTED"):
        list(commands_in("eb create $NOT_DOCUMENTED"))


def test_code_blocks_are_read_as_a_terminal_would(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(
        "Run `eb create --inline` (inline code is prose, not a command).\n\n"
        "```console\n$ eb deploy \\\n    xray-signup-dev --timeout 5\n```\n\n"
        "- a list item:\n  ```sh\n  aws sts get-caller-identity\n  ```\n\n"
        "```python\naws = 'eb create --not-shell'\n```\n"
    )
    found = [str(command) for command in commands_in_docs([doc], tmp_path)]
    assert found == [
        "guide.md:4: eb deploy xray-signup-dev --timeout 5",
        "guide.md:10: aws sts get-caller-identity",
    ]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: the checks must never reach AWS or anything."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a command check tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs' paths (`--template-file infra/deploy/iam.yaml`) are relative to the clone root."""
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_network", "in_repo_root")
@pytest.mark.parametrize("command", AWS_COMMANDS, ids=str)
def test_the_aws_cli_accepts_each_aws_command_in_the_docs(command: DocCommand) -> None:
    assert aws_cli_error(command.argv) is None, str(command)


@pytest.mark.usefixtures("no_network", "in_repo_root")
@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["xray", "get-trace-summaries", "--start-tim", "1"], "--start-time"),
        (
            ["xray", "get-trace-summaries", "--start-time", "1", "--end-time", "2"]
            + ["--start-tim", "1"],
            "--start-tim",
        ),
        (["xray", "get-trace-summaries", "--end-time", "2"], "--start-time"),
        (["xray", "get-trace-summary", "--start-time", "1", "--end-time", "2"], "get-trace-summ"),
        (
            ["elasticbeanstalk", "update-environment", "--environment-name", "xray-signup-dev"]
            + ["--option-settings", "Namespace=n,OptionNam=NewSignupEmail,Value=v"],
            "OptionNam",
        ),
    ],
)
def test_the_aws_check_rejects_a_misspelled_or_missing_option(argv: list[str], named: str) -> None:
    error = aws_cli_error(argv)
    assert error is not None and named in error


def _eb_errors(commands: Sequence[Sequence[str]], home: Path) -> list[str | None]:
    """The EB CLI's answer for each argv, from its own interpreter."""
    if not EBCLI_PYTHON.exists():
        message = (
            f"the EB CLI is not installed in {EBCLI_PYTHON.parent.parent.name}: `make test` "
            "installs it (make .venv-ebcli/.installed)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # A clean HOME and working directory: no EB or AWS configuration of the person running it.
    result = subprocess.run(
        [str(EBCLI_PYTHON), str(EBCLI_SCRIPT)],
        input=json.dumps([list(argv) for argv in commands]),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    pinned = [
        line
        for line in EBCLI_REQUIREMENTS.read_text().splitlines()
        if line.startswith("awsebcli==")
    ]
    assert pinned == [f"awsebcli=={answer['version']}"], "run `make test` to update .venv-ebcli"
    errors: list[str | None] = answer["errors"]
    assert len(errors) == len(commands)
    return errors


def test_the_eb_cli_accepts_each_eb_command_in_the_docs(tmp_path: Path) -> None:
    errors = _eb_errors([c.argv for c in EB_COMMANDS], tmp_path)
    rejected = {str(c): error for c, error in zip(EB_COMMANDS, errors, strict=True) if error}
    assert rejected == {}


def test_the_eb_check_rejects_a_misspelled_flag_and_knows_the_right_one(tmp_path: Path) -> None:
    wrong = [
        ["create", "x", "--instance_types", "t3.small"],  # the deploy guide's old mistake
        ["create", "x", "--instance_typ", "t3.small"],  # an abbreviation: spelled in full only
        ["creat", "x"],
    ]
    right = [["create", "x", "--instance_type", "t3.small"], ["create", "x", "-i", "t3.small"]]
    errors = _eb_errors(wrong + right, tmp_path)
    assert "unrecognized arguments: --instance_types t3.small" in str(errors[0])
    assert "unrecognized arguments: --instance_typ t3.small" in str(errors[1])
    assert "unrecognized arguments: creat" in str(errors[2])
    assert errors[3:] == [None, None]
