"""Rules of the house that hold for every module, so they stay true as the code grows."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("app", "loadgen", "infra", "xray_local", "hostguard")
#: DESIGN.md: "modules mostly under 300 lines" (pallets/flask, encode/httpx); here, all of them.
MAX_LINES = 300

MODULES = sorted(path for package in PRODUCT for path in (ROOT / package).rglob("*.py"))


def test_every_product_package_has_modules() -> None:
    for package in PRODUCT:
        assert any(path.is_relative_to(ROOT / package) for path in MODULES), package


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_module_is_at_most_300_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)}: {lines} lines; split it by concern"
