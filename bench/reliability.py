"""Render the README's reliability table from tests/results/reliability.json.

The tests that prove each property record their row there (tests/support/reliability.py computes
each verdict from independent counts; a failed test's rows are rewritten to "no"). Nothing is
typed by hand; `make bench` (bench/report.py) and `python -m bench.reliability` rewrite the table.

The table is one pytest session's word: every row must carry the run id of the newest run in the
file (or the one given with `--run`), and name a test that still exists. Otherwise the renderer
refuses (StaleResults, exit status 1) rather than mix an old "yes" into a new table.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

__all__ = [
    "README_END",
    "README_START",
    "StaleResults",
    "check_rows",
    "render_reliability",
    "update_readme",
]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "tests" / "results" / "reliability.json"
README_START = "<!-- reliability-table:start (written from tests/results/reliability.json) -->"
README_END = "<!-- reliability-table:end -->"
FUZZ_MINIMUM = 10_000  # requests a run, over all fuzz rows


class StaleResults(ValueError):
    """Rows from another run than the one rendered, or from tests that no longer exist."""


def _test_exists(row: dict[str, Any], root: Path) -> bool:
    nodeid = str(row.get("nodeid") or row.get("test") or "")
    path = root / nodeid.split("::", 1)[0]
    if not nodeid or not path.is_file():
        return False
    if "::" not in nodeid:
        return True
    name = nodeid.rsplit("::", 1)[1].split("[", 1)[0]
    return re.search(rf"^\s*def {re.escape(name)}\(", path.read_text(), re.MULTILINE) is not None


def check_rows(rows: dict[str, dict[str, Any]], run: str | None = None, root: Path = ROOT) -> str:
    """The run all rows come from (`run`, or the newest in the file); raise StaleResults if not."""
    if not rows:
        raise StaleResults("no rows recorded: run the tests first")
    runs = sorted(str(r["run"]) for r in rows.values() if r.get("run"))
    if run is None and not runs:
        raise StaleResults("no row carries a run id: record them again with pytest")
    run = run or runs[-1]
    stale = sorted(k for k, r in rows.items() if r.get("run") != run)
    if stale:
        tests = sorted({str(rows[k].get("test", "?")) for k in stale})
        raise StaleResults(
            f"{len(stale)} row(s) not recorded by run {run}: {', '.join(stale)}; run every "
            f"recording test in one session (e.g. pytest {' '.join(tests)} and the others)"
        )
    gone = sorted(k for k, r in rows.items() if not _test_exists(r, root))
    if gone:
        raise StaleResults(f"row(s) whose test no longer exists: {', '.join(gone)}")
    return run


def _holds(rows: list[dict[str, Any]], extra: bool = True) -> str:
    return "yes" if rows and extra and all(r.get("holds") is True for r in rows) else "**no**"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(row: dict[str, Any]) -> str:
    failure = f" (failed: {row['failure']})" if row.get("failure") else ""
    return _cell(f"{row.get('value', '')}{failure}")


def _name(row: dict[str, Any]) -> str:
    return str(row.get("figure", "")).split(": ", 1)[-1]


def _fuzz_lines(fuzz: list[dict[str, Any]]) -> list[str]:
    measured = [r for r in fuzz if isinstance(r.get("measured"), int | float)]
    total = int(sum(r["measured"] for r in measured))
    five = sum(
        int(v) for r in fuzz for k, v in r.get("detail", {}).items() if str(k).startswith("5")
    )
    parts = ", ".join(
        f"{_name(r)} {int(r['measured']):,}" if r in measured else f"{_name(r)} not measured"
        for r in fuzz
    )
    failures = "".join(f"; failed: {r['failure']}" for r in fuzz if r.get("failure"))
    return [
        f"| requests fuzzed (from /openapi.json) | {total:,} ({parts}); 5xx: {five}"
        f"{_cell(failures)} | >= {FUZZ_MINIMUM:,} a run, no 5xx, no internal detail, nothing "
        f"stored when rejected | {_holds(fuzz, total >= FUZZ_MINIMUM and five == 0)} "
        f"| tests/app/test_fuzz.py |"
    ]


def _sum_line(faults: list[dict[str, Any]], field: str, label: str, tests: str) -> str:
    """A figure summed over the fault rows; for `duplicated`, the rows that allow SNS's same-token
    repeats (judged by their own row) are shown apart, not summed into the 0 target."""
    counted = [r for r in faults if isinstance(r.get(field), int)]
    strict = [r for r in counted if not (field == "duplicated" and r.get("repeats_allowed"))]
    total = sum(int(r[field]) for r in strict)
    repeats = sum(int(r[field]) for r in counted if r not in strict)
    missing = len(faults) - len(counted)
    shown = f"{total}" + (f" (not measured in {missing} rows)" if missing else "")
    if repeats:
        shown += f" (+{repeats} repeats carrying their request token, where the row allows them)"
    holds = "yes" if total == 0 and not missing else "**no**"
    return f"| {label} | {shown} | 0 | {holds} | {tests} |"


def _fault_lines(faults: list[dict[str, Any]]) -> list[str]:
    tests = ", ".join(sorted({str(r["test"]) for r in faults}))
    # the sums are over the rows that count signups (a row measuring a time has no "lost")
    counting = [r for r in faults if r.get("kind") != "figure"]
    counted_by = ", ".join(sorted({str(r["test"]) for r in counting}))
    lines = [
        f"| faults injected | {len(faults)}: {', '.join(_name(r) for r in faults)} "
        f"| documented answer, back by itself, every signup exactly once | {_holds(faults)} "
        f"| {tests} |",
        _sum_line(counting, "lost", "signups lost (a 201 not in the table)", counted_by),
        _sum_line(counting, "duplicated", "notifications delivered twice (queue)", counted_by),
        _sum_line(counting, "stray", "notifications for nothing stored (queue)", counted_by),
    ]
    for row in faults:
        lines.append(
            f"| &nbsp;&nbsp;{_name(row)} | {_value(row)} | {_cell(row.get('target', ''))} "
            f"| {_holds([row])} | {row['test']} |"
        )
    return lines


def render_reliability(data: dict[str, Any], run: str | None = None, root: Path = ROOT) -> str:
    rows: dict[str, dict[str, Any]] = data.get("rows", {})
    run = check_rows(rows, run, root)
    fuzz = [v for k, v in rows.items() if k.startswith("fuzz.")]
    faults = [v for k, v in rows.items() if k.startswith("fault.")]
    others = [v for k, v in rows.items() if not k.startswith(("fuzz.", "fault."))]
    lines = ["| property | result | target | holds | proven by |", "|---|---|---|---|---|"]
    if fuzz:
        lines += _fuzz_lines(fuzz)
    if faults:
        lines += _fault_lines(faults)
    for row in others:
        lines.append(
            f"| {_cell(row['figure'])} | {_value(row)} | {_cell(row.get('target', ''))} "
            f"| {_holds([row])} | {row['test']} |"
        )
    lines += ["", f"Recorded by one pytest session, run `{run}`."]
    return "\n".join(lines)


def update_readme(
    readme: Path = ROOT / "README.md", results: Path = RESULTS, run: str | None = None
) -> str:
    table = render_reliability(json.loads(results.read_text()), run)
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END)
    readme.write_text(text[: start + len(README_START)] + "\n" + table + "\n" + text[end:])
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("--run", help="the run id every row must carry (default: the newest)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    try:
        print(update_readme(results=args.results, run=args.run))
    except StaleResults as exc:
        raise SystemExit(f"bench.reliability: README not rendered: {exc}") from None


if __name__ == "__main__":
    main()
