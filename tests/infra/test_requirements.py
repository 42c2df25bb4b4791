"""requirements.txt (what Elastic Beanstalk installs) pins exactly pyproject's runtime deps."""

from __future__ import annotations

import tomllib
from pathlib import Path


def _pins(lines: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"not pinned with ==: {line!r}"
        pins[name.strip().lower()] = version.strip()
    return pins


def test_requirements_match_pyproject(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    requirements = (repo_root / "requirements.txt").read_text().splitlines()
    assert _pins(requirements) == _pins(project["dependencies"])


def test_requirements_hold_no_dev_or_local_tools(repo_root: Path) -> None:
    names = set(_pins((repo_root / "requirements.txt").read_text().splitlines()))
    assert not names & {"moto", "pytest", "cfn-lint", "awscli", "ruff", "mypy", "playwright"}
