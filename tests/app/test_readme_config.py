"""The README documents every environment variable the app reads, with its default."""

from __future__ import annotations

from app.config import DEFAULTS
from tests.support.processes import PROJECT_ROOT


def test_every_variable_is_in_the_readme_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    rows = {
        line.split("|")[1].strip(" `") for line in readme.splitlines() if line.startswith("| `")
    }
    missing = [name for name in DEFAULTS if name not in rows]
    assert missing == []
    for name, default in DEFAULTS.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}` |"))
        assert (f"`{default}`" in row) if default else "(none" in row, row
