"""A stand-in for the Locust web API on loopback, recording what the relay asks of it.

The fuzz test sends thousands of generator requests; a real Locust would start real traffic. This
answers the three calls the relay makes (`/swarm`, `/stop`, `/xray-signup/status`) like the
locustfile does and keeps every swarm form, so a test can check that no request ever got more than
one user, a rate outside 1-10, or a target other than the configured one.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeLocust"]


class FakeLocust:
    def __init__(self) -> None:
        self.swarms: list[dict[str, str]] = []
        self.running = False
        self.rate = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, data: Any) -> None:
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
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

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
