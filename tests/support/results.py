"""The results file behind the README's reliability table (bench/reliability.py renders it).

Each test that proves a row writes its own row under its own key, so the table is never typed by
hand. Every row carries the pytest session that wrote it (`run`) and the test item (`nodeid`):
the renderer refuses rows older than the newest run, and the reliability plugin
(tests/support/reliability_plugin.py) rewrites the rows of a test that failed to `holds: false`.
Tests call tests/support/reliability.py, which computes the verdict; this module only stores it.

`XRAY_SIGNUP_RELIABILITY_RESULTS` points the writer at another file (the plugin's own tests use it
so that they never touch the committed one).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "RELIABILITY_RESULTS",
    "RUN_ENV",
    "current_run",
    "mark_failed",
    "new_run_id",
    "record_reliability",
    "results_path",
]

RELIABILITY_RESULTS = Path(__file__).resolve().parents[1] / "results" / "reliability.json"
RESULTS_ENV = "XRAY_SIGNUP_RELIABILITY_RESULTS"
RUN_ENV = "XRAY_SIGNUP_TEST_RUN"
NOT_MEASURED = "not measured: the test failed before recording"


def results_path() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or RELIABILITY_RESULTS)


def new_run_id() -> str:
    """Sortable by start time (ISO, UTC, to the second), unique by its random suffix."""
    return f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}/{uuid.uuid4().hex[:8]}"


def current_run() -> str:
    """The pytest session's run id (set by the plugin); one per process outside pytest."""
    if not os.environ.get(RUN_ENV):
        os.environ[RUN_ENV] = new_run_id()
    return os.environ[RUN_ENV]


def current_nodeid() -> str:
    """The running test's id, from the variable pytest keeps up to date ("<nodeid> (call)")."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]


def _stamp() -> dict[str, str]:
    return {
        "run": current_run(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": f"{sys.platform}, {platform.machine()}",
    }


@contextmanager
def _rows(path: Path) -> Iterator[dict[str, dict[str, Any]]]:
    """The file's rows, written back sorted when the block ends, under an exclusive lock on the
    file itself (so every writer shares it, whatever its temporary directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        text = file.read()
        data: dict[str, Any] = json.loads(text) if text.strip() else {}
        rows: dict[str, dict[str, Any]] = data.setdefault("rows", {})
        yield rows
        data["rows"] = dict(sorted(rows.items()))
        file.seek(0)
        file.truncate()
        file.write(json.dumps(data, indent=2) + "\n")


def record_reliability(key: str, row: dict[str, Any], path: Path | None = None) -> None:
    """Store `row` (figure, value, target, holds, test, ...) under `key`, stamped with the run.

    Prefer tests/support/reliability.py, which computes `holds` from what was counted."""
    if not isinstance(row.get("holds"), bool):
        raise TypeError(f"{key}: holds must be computed, a bool; got {row.get('holds')!r}")
    with _rows(path or results_path()) as rows:
        rows[key] = {**row, "nodeid": current_nodeid(), **_stamp()}


def mark_failed(keys: Iterable[str], nodeid: str, failure: str, path: Path | None = None) -> None:
    """The rows of a test that failed: `holds: false` with the failure, in this run.

    A row this test wrote in this run keeps its measured figures; any other row (an older run's,
    or none) keeps only its name and target, so nothing from before passes for a measurement."""
    run = current_run()
    test = nodeid.split("::", 1)[0]
    with _rows(path or results_path()) as rows:
        for key in keys:
            old = rows.get(key, {})
            if old.get("run") == run and old.get("nodeid") == nodeid:
                row = dict(old)
            else:
                row = {
                    "figure": old.get("figure", key),
                    "value": NOT_MEASURED,
                    "target": old.get("target", ""),
                    "test": test,
                    **({"kind": old["kind"]} if "kind" in old else {}),
                }
            rows[key] = {**row, "holds": False, "failure": failure, "nodeid": nodeid, **_stamp()}


def rows_of(nodeid: str, path: Path | None = None) -> list[str]:
    """Keys of the rows `nodeid` wrote in this run."""
    file = path or results_path()
    if not file.exists():
        return []
    rows: dict[str, dict[str, Any]] = json.loads(file.read_text()).get("rows", {})
    run = current_run()
    return [k for k, r in rows.items() if r.get("run") == run and r.get("nodeid") == nodeid]
