"""CI's dependency audit: pip-audit over .venv, failing on any known vulnerability not explained.

Every ignored id needs a reason in .ci/pip-audit-ignore.txt. An audit that could check nothing
(every package skipped: the vulnerability service unreachable or not answering for these releases)
is never reported as a pass: it prints a warning saying nothing was checked, and fails with
`--strict`. CI here runs without --strict because its package mirror answers no per-release
vulnerability data (PyPI's /pypi/NAME/VERSION/json) and OSV is out of reach; where the advisory
service answers, every package is audited and any unexplained vulnerability fails CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["judge", "read_ignores"]

HERE = Path(__file__).resolve().parent
IGNORE_FILE = HERE / "pip-audit-ignore.txt"


def read_ignores(text: str) -> dict[str, str]:
    """{id: reason}; raises ValueError for an entry without a reason."""
    ignores: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            raise ValueError(f"line {number}: {vuln_id} is ignored without a reason")
        ignores[vuln_id] = reason.strip()
    return ignores


def judge(
    report: dict[str, Any], ignores: dict[str, str], strict: bool = False
) -> tuple[list[str], list[str]]:
    """(failures, notes) for a pip-audit JSON report."""
    failures, notes = [], []
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    for dep in audited:
        for vuln in dep.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            explained = sorted(ids & ignores.keys())
            line = f"{dep['name']} {dep['version']}: {vuln['id']} (fix: {vuln.get('fix_versions')})"
            if explained:
                notes.append(f"ignored {line}: {ignores[explained[0]]}")
            else:
                failures.append(line)
    skipped = [d for d in deps if "skip_reason" in d and "editable" not in d["skip_reason"]]
    notes.append(f"audited {len(audited)} packages, could not audit {len(skipped)}")
    if deps and not audited:
        problem = (
            "no package could be audited (is the vulnerability service reachable? "
            + (skipped[0]["skip_reason"] if skipped else "")
            + ")"
        )
        if strict:
            failures.append(problem)
        else:
            notes.append("WARNING: NOTHING WAS CHECKED: " + problem)
    return failures, notes


def main() -> int:
    ignores = read_ignores(IGNORE_FILE.read_text())
    pip_audit = Path(sys.executable).with_name("pip-audit")
    argv = [str(pip_audit), "--skip-editable", "--progress-spinner", "off", "-f", "json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        print(done.stderr, file=sys.stderr)
        return 2
    failures, notes = judge(report, ignores, strict="--strict" in sys.argv[1:])
    for note in notes:
        print(f"pip-audit: {note}")
    for failure in failures:
        print(f"pip-audit: FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
