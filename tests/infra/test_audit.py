"""CI's dependency audit judges pip-audit's report: unexplained vulnerabilities and an audit that
checked nothing fail; ignored ids need a reason."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.support.processes import PROJECT_ROOT


def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", PROJECT_ROOT / ".ci" / "audit.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VULN = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-1"], "fix_versions": ["9.9"]}


def report(*deps: dict[str, object]) -> dict[str, object]:
    return {"dependencies": list(deps), "fixes": []}


def test_a_known_vulnerability_fails_unless_explained() -> None:
    judge = audit().judge
    flagged = report({"name": "flask", "version": "1.0", "vulns": [VULN]})
    failures, _ = judge(flagged, {})
    assert failures and "PYSEC-2099-1" in failures[0]
    failures, notes = judge(flagged, {"CVE-2099-1": "not reachable: we never call it"})
    assert failures == [] and any("never call it" in note for note in notes)


def test_an_audit_of_nothing_is_never_a_silent_pass() -> None:
    skipped = {"name": "flask", "skip_reason": "Dependency not found on PyPI"}
    failures, _ = audit().judge(report(skipped), {}, strict=True)
    assert failures and "no package could be audited" in failures[0]
    failures, notes = audit().judge(report(skipped), {})
    assert failures == [] and any("NOTHING WAS CHECKED" in note for note in notes)
    clean = report(skipped, {"name": "boto3", "version": "1", "vulns": []})
    assert audit().judge(clean, {})[0] == []


def test_the_ignore_file_needs_a_reason_per_entry() -> None:
    module = audit()
    assert module.read_ignores("# none\n\nGHSA-x  waits for 2.0, only a dev tool\n") == {
        "GHSA-x": "waits for 2.0, only a dev tool"
    }
    with pytest.raises(ValueError, match="without a reason"):
        module.read_ignores("GHSA-x\n")
    module.read_ignores((PROJECT_ROOT / ".ci" / "pip-audit-ignore.txt").read_text())
