"""pytest plugin: every session gets a run id, and a failed test's reliability rows say "no".

A row is recorded before its test asserts (tests/support/reliability.py), so a test that then
fails would leave a row saying yes; and a test that fails before recording would leave an older
run's row in place. On any failed phase (setup, call, teardown) this rewrites every row the test
owns to `holds: false` with the failure: the rows it wrote in this run, and the rows named by its
marker, which it owns even if it never got as far as recording::

    @pytest.mark.reliability("fault.{name}")   # formatted with the test's parameters
    @pytest.mark.parametrize("name", ["throttle", "sns-outage"])
    def test_fault(name): ...

Registered by tests/conftest.py; `-p tests.support.reliability_plugin` loads it elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from tests.support.results import RUN_ENV, mark_failed, new_run_id, rows_of

__all__ = ["MARKER", "failure_note", "owned_rows"]

MARKER = "reliability"
_PREVIOUS_RUN = pytest.StashKey[str | None]()
_WORKER_KEY = "xray_signup_reliability_run"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*keys): the reliability rows this test proves (str.format'ed with its "
        "parameters); a failure records them as 'no'",
    )
    config.stash[_PREVIOUS_RUN] = os.environ.get(RUN_ENV)
    # One per session: a nested pytest gets its own; an xdist worker takes its controller's, so
    # the rows of one `make test` (run on both cores) are one run for the renderer.
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None and worker_input.get(_WORKER_KEY):
        os.environ[RUN_ENV] = worker_input[_WORKER_KEY]
    else:
        os.environ[RUN_ENV] = new_run_id()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controller: hand this session's run id to each worker it starts."""
    node.workerinput[_WORKER_KEY] = os.environ[RUN_ENV]


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS_RUN, None)
    if previous is None:
        os.environ.pop(RUN_ENV, None)
    else:
        os.environ[RUN_ENV] = previous


def owned_rows(item: pytest.Item) -> list[str]:
    """The marker's keys (with the test's parameters filled in), then the rows it wrote."""
    callspec = getattr(item, "callspec", None)
    params = dict(callspec.params) if callspec is not None else {}
    keys = [str(k).format(**params) for mark in item.iter_markers(MARKER) for k in mark.args]
    return keys + [k for k in rows_of(item.nodeid) if k not in keys]


def failure_note(when: str, call: pytest.CallInfo[None]) -> str:
    if call.excinfo is None:
        return f"{when}: failed"
    lines = call.excinfo.exconly().strip().splitlines() or [call.excinfo.typename]
    return f"{when}: {lines[0][:300]}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        keys = owned_rows(item)
        if keys:
            mark_failed(keys, item.nodeid, failure_note(report.when, call))
    return report
