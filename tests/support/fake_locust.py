"""A stand-in for the Locust web API on loopback, recording what the relay asks of it.

The fuzz test sends thousands of generator requests; a real Locust would start real traffic. This
answers the three calls the relay makes (`/swarm`, `/stop`, `/xray-signup/status`) like the
locustfile does and keeps every swarm form, so a test can check that no request ever got more than
one user, a rate outside 1-10, or a target other than the configured one.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from tests.support.loopback_http import LoopbackServer, QuietHandler

__all__ = ["FakeLocust"]


class FakeLocust(LoopbackServer):
    def __init__(self) -> None:
        self.swarms: list[dict[str, str]] = []
        self.running = False
        self.rate = 0.0
        fake = self

        class Handler(QuietHandler):
            def _json(self, data: Any) -> None:
                self.reply(200, json.dumps(data).encode(), "application/json")

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                form = dict(urllib.parse.parse_qsl(self.read_body().decode()))
                if self.path == "/swarm":
                    fake.swarms.append(form)
                    fake.running, fake.rate = True, float(form.get("signup_rate", "0"))
                    self._json({"success": True, "message": "Swarming started"})
                else:
                    fake.running = False
                    self._json({"success": True, "message": "Test stopped"})

            def do_GET(self) -> None:  # noqa: N802
                self._json(
                    {
                        "running": fake.running,
                        "rate": fake.rate,
                        "started_at": None,
                        "target": fake.swarms[-1]["host"] if fake.swarms else "",
                        "sent": 0,
                        "created": 0,
                        "duplicates": 0,
                        "conflicts": 0,
                        "unexpected": 0,
                        "recent": [],
                    }
                )

        super().__init__(Handler)
