"""The figures the docs quote are the recorded results: every `bench:NAME` block is what
bench/prose.py renders from bench/results/*.json now, and no measured figure is typed outside
one."""

from __future__ import annotations

import re

import pytest

from bench import prose
from bench.report import load_results
from tests.support.processes import PROJECT_ROOT

RENDERED = prose.render_blocks(load_results())
#: a measured figure, as the benchmarks report them: a number with a unit of time, rate or size
MEASURED = re.compile(r"\b\d[\d,.]*\s?(?:ms|req/s|MiB|MiB/min|×)(?![\w])")


@pytest.mark.parametrize("document", sorted(RENDERED))
def test_every_block_is_what_the_results_render(document: str) -> None:
    text = (PROJECT_ROOT / document).read_text()
    assert prose.blocks_for(text) == RENDERED[document], (
        f"{document} is stale: `python -m bench --report-only` re-renders it"
    )


@pytest.mark.parametrize("document", ["docs/performance.md", "docs/loadgen.md"])
def test_no_measured_figure_is_typed_outside_a_block(document: str) -> None:
    text = (PROJECT_ROOT / document).read_text()
    outside = re.sub(r"<!-- bench:([\w-]+):start.*?<!-- bench:\1:end -->", "", text, flags=re.S)
    assert MEASURED.findall(outside) == []


def test_the_readme_counts_targets_from_the_results() -> None:
    summary = RENDERED["README.md"]["targets"]
    rows = [row for r in load_results() for row in r.get("rows", []) if row.get("target")]
    assert summary.startswith(f"Of the {len(rows)} figures with a target, ")
    assert f"{sum(1 for row in rows if row.get('holds'))} hold" in summary
