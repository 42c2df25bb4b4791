"""A real HTTP endpoint on loopback that answers every AWS call with one AWS-shaped error.

botocore talks to it over the wire exactly as to DynamoDB, so its retry policy, the error parsing
and the X-Ray subsegments are the real ones; only the answer is chosen by the test.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["AwsErrorEndpoint"]


class AwsErrorEndpoint:
    def __init__(self, status: int, code: str, message: str = "injected by the test") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.requests: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                endpoint.requests.append(self.headers.get("X-Amz-Target", ""))
                body = json.dumps(
                    {
                        "__type": f"com.amazonaws.dynamodb.v20120810#{endpoint.code}",
                        "message": endpoint.message,
                    }
                ).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-RequestId", "TESTREQUESTID")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
