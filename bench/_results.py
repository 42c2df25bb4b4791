"""How every benchmark records its figures: bench/results/<name>.json, as bench/report.py reads.

Every file opens with the same header (benchmark, date, Python, machine), so a figure can always be
traced to the run and the machine that produced it; the body (figures, rows, versions) is the
benchmark's own.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "record"]

RESULTS = Path(__file__).with_name("results")


def record(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Write bench/results/<name>.json: the common header, then `body`; return what was written."""
    result = {
        "benchmark": name,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        **body,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
