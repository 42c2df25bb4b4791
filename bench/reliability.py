"""Render the README's reliability table from tests/results/reliability.json.

The tests that prove each property write their figure there (tests/support/results.py): requests
fuzzed, each fault injected with the signups lost, the slow-client latency. Nothing is typed by
hand; `make bench` (bench/report.py) and `python -m bench.reliability` rewrite the table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["README_END", "README_START", "render_reliability", "update_readme"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "tests" / "results" / "reliability.json"
README_START = "<!-- reliability-table:start (written from tests/results/reliability.json) -->"
README_END = "<!-- reliability-table:end -->"


def render_reliability(data: dict[str, Any]) -> str:
    rows: dict[str, dict[str, Any]] = data.get("rows", {})
    fuzz = {k: v for k, v in rows.items() if k.startswith("fuzz.")}
    faults = {k: v for k, v in rows.items() if k.startswith("fault.")}
    lines = ["| property | result | target | holds | proven by |", "|---|---|---|---|---|"]

    def holds(row_set: list[dict[str, Any]]) -> str:
        return "yes" if row_set and all(r.get("holds") for r in row_set) else "**no**"

    if fuzz:
        total = sum(int(r["value"]) for r in fuzz.values())
        five = sum(v for r in fuzz.values() for k, v in r["detail"].items() if k.startswith("5"))
        parts = ", ".join(f"{r['figure'].split(': ', 1)[1]} {r['value']:,}" for r in fuzz.values())
        lines.append(
            f"| requests fuzzed (from /openapi.json) | {total:,} ({parts}); 5xx: {five} "
            f"| >= 10,000 a run, no 5xx, no internal detail, nothing stored when rejected "
            f"| {holds(list(fuzz.values()))} | tests/app/test_fuzz.py |"
        )
    if faults:
        lost = sum(int(r.get("lost", 0)) for r in faults.values())
        names = ", ".join(r["figure"].split(": ", 1)[1] for r in faults.values())
        tests = sorted({r["test"] for r in faults.values()})
        lines.append(
            f"| faults injected | {len(faults)}: {names} | documented answer, back by itself "
            f"| {holds(list(faults.values()))} | {', '.join(tests)} |"
        )
        lines.append(
            f"| signups lost (a 201 not in the table) | {lost} | 0 "
            f"| {'yes' if lost == 0 else '**no**'} | {', '.join(tests)} |"
        )
        for row in faults.values():
            lines.append(
                f"| &nbsp;&nbsp;{row['figure'].split(': ', 1)[1]} | {row['value']} "
                f"| {row['target']} | {holds([row])} | {row['test']} |"
            )
    slow = rows.get("slow_clients")
    if slow:
        lines.append(
            f"| {slow['figure']} | {slow['value']} | {slow['target']} | {holds([slow])} "
            f"| {slow['test']} |"
        )
    dates = sorted(r["date"][:10] for r in rows.values())
    if dates:
        lines += ["", f"Recorded by `make test` from {dates[0]} to {dates[-1]}."]
    return "\n".join(lines)


def update_readme(readme: Path = ROOT / "README.md", results: Path = RESULTS) -> str:
    table = render_reliability(json.loads(results.read_text()))
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END)
    readme.write_text(text[: start + len(README_START)] + "\n" + table + "\n" + text[end:])
    return table


if __name__ == "__main__":
    print(update_readme())
