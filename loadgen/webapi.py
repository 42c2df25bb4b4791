"""A small typed client for the generator's Locust web API, used by the app's relay.

Standard library only (`urllib.request`): the app imports this module, and the app must not pull
in Locust or gevent. Every failure to reach Locust, or an answer that is not what Locust sends,
becomes `GeneratorUnavailable`, which the relay turns into its 503.

Start is idempotent in users: it always asks for exactly one user (`user_count=1`), so a second
Start re-sends the rate and max run but cannot double the traffic; the rate and max run travel as
`/swarm` form fields named after the locustfile's options, which Locust copies into the options.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["GeneratorUnavailable", "LocustApi", "STATUS_PATH"]

#: The locustfile's custom status route (kept equal to loadgen.locustfile.STATUS_PATH, which
#: cannot be imported here without importing Locust).
STATUS_PATH = "/xray-signup/status"


class GeneratorUnavailable(RuntimeError):
    """Locust's web API could not be reached or did not answer as expected."""


@dataclass(frozen=True)
class LocustApi:
    """Start, stop and read the generator at `base_url` (e.g. http://127.0.0.1:8089)."""

    base_url: str
    timeout: float = 3.0

    def start(self, rate_per_minute: float, host: str, max_run: str) -> dict[str, Any]:
        """Run one paced user against `host` at `rate_per_minute` (sets it if already running)."""
        answer = self._call(
            "/swarm",
            {
                "user_count": "1",
                "spawn_rate": "1",
                "host": host,
                "signup_rate": str(rate_per_minute),
                "max_run": max_run,
            },
        )
        if not answer.get("success"):
            raise GeneratorUnavailable(f"Locust refused to start: {answer.get('message')}")
        return answer

    def stop(self) -> None:
        """Stop at once: Locust kills the user, including a request in flight."""
        self._call("/stop", {})

    def status(self) -> dict[str, Any]:
        """The locustfile's status: running, rate, started_at, counts, recent requests."""
        return self._call(STATUS_PATH, None)

    def _call(self, path: str, form: dict[str, str] | None) -> dict[str, Any]:
        url = self.base_url.rstrip("/") + path
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method="POST" if form is not None else "GET")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise GeneratorUnavailable(f"{path} answered {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise GeneratorUnavailable(f"{url} could not be reached: {exc}") from exc
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise GeneratorUnavailable(f"{path} did not answer JSON") from exc
        if not isinstance(parsed, dict):
            raise GeneratorUnavailable(f"{path} did not answer a JSON object")
        return parsed
