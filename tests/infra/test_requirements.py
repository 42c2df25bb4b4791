"""requirements.txt (what Elastic Beanstalk installs) pins exactly pyproject.toml's dependencies."""

from __future__ import annotations

import tomllib

from tests.support.processes import PROJECT_ROOT


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


def test_requirements_match_pyproject() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    requirements = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    assert _pins(requirements) == _pins(project["dependencies"])
