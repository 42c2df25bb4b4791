"""Render recorded benchmark results into bench/results.md and the README's performance table.

Every figure in those tables, and those the docs' prose quotes (bench/prose.py), comes from a
results file that a benchmark wrote: nothing is typed by hand. A results file holds `figures`
(anything) and, preferably, `rows`: a list of
`{"figure", "min", "median", "max", "unit", "target"?, "holds"?}`. Without `rows`, every figure
that has min/median/max becomes a row named after its key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import prose, reliability

__all__ = ["README_END", "README_START", "load_results", "render_table", "update_readme"]

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
README_START = "<!-- bench-table:start (written by `make bench`: bench/report.py) -->"
README_END = "<!-- bench-table:end -->"


def load_results(results_dir: Path = RESULTS_DIR) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(results_dir.glob("*.json"))]


def _rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    if result.get("rows"):
        rows: list[dict[str, Any]] = result["rows"]
        return rows
    derived = []
    for key, value in result.get("figures", {}).items():
        if isinstance(value, dict) and {"min", "median", "max"} <= value.keys():
            unit = "s" if key.endswith("_seconds") else ""
            name = key.removesuffix("_seconds").replace("_", " ")
            derived.append({"figure": name, **value, "unit": unit})
    return derived


def _number(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| benchmark | figure | min | median | max | target | holds |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for row in _rows(result):
            unit = f" {row['unit']}" if row.get("unit") else ""
            holds = row.get("holds")
            lines.append(
                f"| {result['benchmark']} | {row['figure']} | {_number(row['min'])}{unit} "
                f"| {_number(row['median'])}{unit} | {_number(row['max'])}{unit} "
                f"| {row.get('target') or ''} "
                f"| {'' if holds is None else ('yes' if holds else '**no**')} |"
            )
    machines = sorted(
        {f"{r['machine']['processor']}, {r['machine']['cpus']} cores" for r in results}
    )
    dates = sorted(r["date"][:10] for r in results)
    if results:
        lines.append("")
        lines.append(
            f"Measured on {'; '.join(machines)}, Python {results[0]['python']}, "
            f"{dates[0]}{' to ' + dates[-1] if dates[-1] != dates[0] else ''}. "
            "Details and every raw figure: [bench/results.md](bench/results.md)."
        )
    return "\n".join(lines)


def render_details(results: list[dict[str, Any]]) -> str:
    parts = ["# Benchmark results", "", "Written by `make bench` (bench/report.py).", ""]
    parts.append(render_table(results).replace("(bench/results.md)", "(results.md)"))
    for result in results:
        parts += [
            "",
            f"## {result['benchmark']}",
            "",
            f"{result['date']}, Python {result['python']}, {result['machine']['platform']}",
            "",
            "```json",
            json.dumps(result["figures"], indent=2),
            "```",
        ]
    return "\n".join(parts) + "\n"


def update_readme(readme: Path, table: str) -> None:
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END)
    readme.write_text(text[: start + len(README_START)] + "\n" + table + "\n" + text[end:])


def main() -> None:
    results = load_results()
    (BENCH_DIR / "results.md").write_text(render_details(results))
    update_readme(BENCH_DIR.parent / "README.md", render_table(results))
    for document, blocks in prose.render_blocks(results).items():  # the figures the prose quotes
        prose.update_blocks(BENCH_DIR.parent / document, blocks)
    print(render_table(results))
    try:  # the reliability table, from what one test session recorded
        print(reliability.update_readme())
    except reliability.StaleResults as exc:
        raise SystemExit(f"reliability table not rendered: {exc}") from None


if __name__ == "__main__":
    main()
