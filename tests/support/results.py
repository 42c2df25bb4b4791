"""Figures that tests measure, recorded for the README's reliability table (bench/report.py).

Each test that proves a row writes its own figure under its own key, so the table is never typed by
hand and a row whose test failed (or did not run) is not refreshed. The file is committed: the
README is rendered from it by `make bench` / `python -m bench.report`.
"""

from __future__ import annotations

import fcntl
import json
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["RELIABILITY_RESULTS", "record_reliability"]

RELIABILITY_RESULTS = Path(__file__).resolve().parents[1] / "results" / "reliability.json"


def _machine() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "platform": f"{sys.platform}, {platform.machine()}",
    }


def record_reliability(key: str, row: dict[str, Any], path: Path = RELIABILITY_RESULTS) -> None:
    """Merge `row` (figure, value, target, holds, test) into the results file under `key`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(tempfile.gettempdir()) / "xray-signup-reliability.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        rows = data.setdefault("rows", {})
        previous = {k: v for k, v in rows.get(key, {}).items() if k != "date"}
        if previous == {**row, **_machine()}:
            return  # unchanged: keep the file (and the working tree) as it is
        rows[key] = {
            **row,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            **_machine(),
        }
        data["rows"] = dict(sorted(rows.items()))
        path.write_text(json.dumps(data, indent=2) + "\n")
