"""Counting a fuzz run's answers: by status, and what each per-answer check found.

The row a fuzz test records (tests/support/reliability.py's `record_figure`) is computed from these
counts, never typed: requests answered against the group's minimum, no 5xx, only documented
statuses, no internal detail, plus whatever the test counted itself.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from infra.local.faults.scenarios import DESCRIPTIONS
from tests.support.openapi_fuzz import FuzzRequest, leaks
from tests.support.reliability import FigureVerdict, record_figure

__all__ = ["Tally"]


class Tally:
    """Counts answers by status, and what each check found, before asserting on each one (so
    hypothesis shrinks a failing request); the row is computed from the counts."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.undocumented = 0
        self.leaked = 0

    def check(self, request: FuzzRequest, operation: dict[str, Any], answer: Any) -> Any:
        self.statuses[answer.status_code] += 1
        status = answer.status_code
        text = answer.get_data(as_text=True)
        documented = str(status) in operation["responses"] or status == 404
        echoed: tuple[str, ...] = request.path_values
        if request.path.startswith("/scenarios") and status == 200:
            echoed += tuple(DESCRIPTIONS.values())  # they name AWS error codes, on purpose
        if status in (201, 409):
            body = answer.get_json()
            echoed += tuple(str(body.get(k, "")) for k in ("name", "email"))
        leaked = leaks(text, echoed)
        self.undocumented += not documented
        self.leaked += bool(leaked)
        assert status < 500, (request, status, text)
        assert documented, (request, status, text)
        assert not leaked, (request, status, text, leaked)
        if answer.mimetype != "text/html" and request.path != "/static/":
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
        return answer

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def record(
        self,
        key: str,
        group: str,
        minimum: int,
        checks: dict[str, bool] | None = None,
        counted: dict[str, int] | None = None,
    ) -> FigureVerdict:
        """The group's row: requests answered against `minimum`, every check counted."""
        server_errors = sum(n for status, n in self.statuses.items() if status >= 500)
        return record_figure(
            key,
            figure=f"requests fuzzed: {group}",
            measured=self.total,
            unit="requests",
            at_least=minimum,
            checks={
                "no 5xx": server_errors == 0,
                "only documented statuses": self.undocumented == 0,
                "no internal detail": self.leaked == 0,
                **(checks or {}),
            },
            detail={
                **{str(k): v for k, v in sorted(self.statuses.items())},
                **({"counted": counted} if counted else {}),
            },
        )
