"""The README's reliability table: rendered from one test session's rows, never from older ones,
and a test that fails records "no" (tests/support/reliability_plugin.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bench import reliability
from bench.reliability import README_END, README_START, StaleResults, render_reliability
from tests.support.processes import PROJECT_ROOT
from tests.support.results import NOT_MEASURED, RESULTS_ENV, RUN_ENV, results_path

ROWS = ("fuzz.signup", "fuzz.generator", "fuzz.scenarios", "fuzz.other", "slow_clients")
FAULTS = ("throttle", "dynamodb-outage", "sns-outage", "X-Ray daemon down")
FAULTS += ("Locust process down", "xray_local restarted")
THIS = "tests/infra/test_reliability_table.py"


def test_every_row_is_recorded_and_rendered(request: pytest.FixtureRequest) -> None:
    """The results file (tests/results/reliability.json unless the session writes elsewhere).

    A session that ran only some of the recording tests has rewritten only their rows: then those
    rows (this run's) must render, and the whole table waits for a session that runs them all."""
    data = json.loads(results_path().read_text())
    rows: dict[str, dict[str, Any]] = data["rows"]
    assert set(ROWS) | {f"fault.{name}" for name in FAULTS} <= set(rows)
    collected = {item.nodeid for item in request.session.items}
    recorders = {str(r.get("nodeid")) for r in rows.values()}
    if recorders & collected and not recorders <= collected:  # a partial session
        own = {k: r for k, r in rows.items() if r.get("nodeid") in collected}
        assert "| holds |" in render_reliability({"rows": own})
        return
    table = render_reliability(data)
    injected = re.search(r"\| faults injected \| (\d+):", table)
    assert injected and int(injected.group(1)) >= len(FAULTS)
    assert "| signups lost (a 201 not in the table) | 0 |" in table
    fuzzed = sum(int(rows[key]["measured"]) for key in ROWS if key.startswith("fuzz."))
    assert fuzzed >= 10_000 and f"| {fuzzed:,} (" in table
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme.index(README_START) < readme.index("| requests fuzzed") < readme.index(README_END)


def row(run: str, holds: bool = True, nodeid: str = f"{THIS}::row", **extra: Any) -> dict[str, Any]:
    return {
        "figure": "a figure",
        "value": "a value",
        "target": "a target",
        "holds": holds,
        "test": nodeid.split("::")[0],
        "nodeid": nodeid,
        "run": run,
        **extra,
    }


OLD, NEW = "2026-11-01T00:00:00Z/aaaaaaaa", "2026-11-02T00:00:00Z/bbbbbbbb"


def test_a_row_from_an_older_run_is_refused() -> None:
    rows = {"a": row(NEW), "b": row(OLD)}
    with pytest.raises(StaleResults, match=r"1 row\(s\) not recorded by run 2026-11-02.*: b;"):
        render_reliability({"rows": rows})
    with pytest.raises(StaleResults, match="not recorded by run"):
        render_reliability({"rows": {"a": row(NEW)}}, run=OLD)  # a run named, not the newest
    with pytest.raises(StaleResults, match="no row carries a run id"):
        render_reliability({"rows": {"a": {k: v for k, v in row(NEW).items() if k != "run"}}})


def test_a_row_whose_test_is_gone_is_refused() -> None:
    gone = row(NEW, nodeid=f"{THIS}::test_that_was_removed")
    with pytest.raises(StaleResults, match="whose test no longer exists: gone"):
        render_reliability({"rows": {"here": row(NEW), "gone": gone}})
    missing_file = row(NEW, nodeid="tests/app/test_removed_long_ago.py::test_x")
    with pytest.raises(StaleResults, match="no longer exists"):
        render_reliability({"rows": {"x": missing_file}})


def test_a_row_that_does_not_hold_renders_no() -> None:
    rows = {
        "fault.a": row(NEW, lost=0, duplicated=0, stray=0, nodeid=f"{THIS}::row"),
        "fault.b": row(NEW, holds=False, lost=2, duplicated=0, stray=0, failure="call: boom"),
        "other": row(NEW),
    }
    table = render_reliability({"rows": rows})
    assert "| signups lost (a 201 not in the table) | 2 | 0 | **no** |" in table
    assert "| &nbsp;&nbsp;a figure | a value (failed: call: boom) | a target | **no** |" in table
    assert "| a figure | a value | a target | yes |" in table
    assert table.count("**no**") == 3  # the faults line, the lost line, the failed row


def test_same_token_repeats_are_shown_apart_where_a_row_allows_them() -> None:
    rows = {
        "fault.a": row(NEW, lost=0, duplicated=0, stray=0),
        "fault.b": row(NEW, lost=0, duplicated=3, stray=0, repeats_allowed=True),
    }
    line = "| notifications delivered twice (queue) | 0 (+3 repeats carrying their request token"
    assert line in render_reliability({"rows": rows})
    rows["fault.a"]["duplicated"] = 1
    assert "| notifications delivered twice (queue) | 1 (+3" in render_reliability({"rows": rows})
    assert "where the row allows them) | 0 | **no** |" in render_reliability({"rows": rows})


def test_a_fault_row_measuring_a_time_is_not_summed_as_signups() -> None:
    rows = {
        "fault.a": row(NEW, lost=0, duplicated=0, stray=0, kind="signups"),
        "fault.slow": row(NEW, kind="figure", measured=1.2, unit="s"),
    }
    table = render_reliability({"rows": rows})
    assert "| signups lost (a 201 not in the table) | 0 | 0 | yes |" in table
    assert "| faults injected | 2: a figure, a figure |" in table


def test_fuzz_rows_under_ten_thousand_requests_render_no() -> None:
    fuzz = {f"fuzz.{i}": row(NEW, measured=2000, detail={"200": 2000}) for i in range(4)}
    table = render_reliability({"rows": fuzz})
    assert "| 8,000 (" in table and "| **no** |" in table
    fuzz["fuzz.4"] = row(NEW, measured=2000, detail={"200": 1999, "500": 1})
    assert "5xx: 1 |" in render_reliability({"rows": fuzz})


def test_the_command_exits_non_zero_on_stale_rows(tmp_path: Path) -> None:
    results = tmp_path / "reliability.json"
    results.write_text(json.dumps({"rows": {"a": row(NEW), "b": row(OLD)}}))
    with pytest.raises(SystemExit) as exited:
        reliability.main(["--results", str(results)])
    assert "README not rendered" in str(exited.value.code)
    assert "not recorded by run" in str(exited.value.code)


INNER = """
import pytest

from tests.support.reliability import ClientLedger, record_signups


def measured(key, stored):
    ledger = ClientLedger()
    ledger.answer("a@example.com", 201, {"notified": True})
    table = [{"email": {"S": email}} for email in stored]
    queue = [{"Message": f"A <{email}> signed up at now."} for email in stored]
    return record_signups(key, figure=f"fault injected: {key}", answers="201",
                          ledger=ledger, table=table, queue=queue)


def test_holds():
    measured("fault.holds", ["a@example.com"]).assert_holds()


def test_recorded_then_failed():
    count = measured("fault.then-failed", ["a@example.com"])
    assert count.holds
    assert 1 + 1 == 3, "a later check"


@pytest.fixture
def broken():
    raise RuntimeError("the stack did not start")


@pytest.mark.reliability("fault.{name}")
@pytest.mark.parametrize("name", ["never-recorded"])
def test_setup_error(broken, name):
    measured(f"fault.{name}", ["a@example.com"])
"""


def run_inner(
    tmp_path: Path, results: Path, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """pytest in `tmp_path` with the reliability plugin, writing to `results`, in a session (and
    run id) of its own."""
    env = {k: v for k, v in os.environ.items() if k not in (RUN_ENV, "PYTEST_ADDOPTS")}
    env.update({RESULTS_ENV: str(results), "PYTHONPATH": str(PROJECT_ROOT)})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.support.reliability_plugin"]
        + ["-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_failing_test_records_no(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER))
    results = tmp_path / "reliability.json"
    earlier = row(OLD, nodeid="test_inner.py::test_setup_error[never-recorded]", lost=0)
    results.write_text(json.dumps({"rows": {"fault.never-recorded": earlier}}))
    inner = run_inner(tmp_path, results, "test_inner.py")
    assert inner.returncode == 1, inner.stdout + inner.stderr
    assert "1 failed, 1 passed, 1 error" in inner.stdout, inner.stdout
    rows = json.loads(results.read_text())["rows"]
    assert rows["fault.holds"]["holds"] is True
    failed = rows["fault.then-failed"]
    assert failed["holds"] is False and failed["lost"] == 0  # its measurement stays, judged no
    assert failed["failure"].startswith("call: AssertionError: a later check")
    never = rows["fault.never-recorded"]
    assert (never["holds"], never["value"]) == (False, NOT_MEASURED)
    assert "lost" not in never, "nothing from the older run passes for a measurement"
    assert never["failure"] == "setup: RuntimeError: the stack did not start"
    assert len({r["run"] for r in rows.values()}) == 1 and never["run"] > OLD


def test_one_run_id_across_xdist_workers(tmp_path: Path) -> None:
    """`make test` runs on both cores: rows written by different workers are still one run."""
    for name in ("a", "b"):
        (tmp_path / f"test_inner_{name}.py").write_text(
            textwrap.dedent(INNER).replace("fault.holds", f"fault.holds-{name}")
        )
    results = tmp_path / "reliability.json"
    inner = run_inner(
        tmp_path, results, "-n", "2", "--dist", "loadfile", "-k", "holds",
        "test_inner_a.py", "test_inner_b.py", timeout=120,
    )  # fmt: skip
    assert inner.returncode == 0, inner.stdout + inner.stderr
    assert "2 passed" in inner.stdout, inner.stdout
    rows = json.loads(results.read_text())["rows"]
    assert set(rows) == {"fault.holds-a", "fault.holds-b"}
    assert len({r["run"] for r in rows.values()}) == 1, rows
