"""A second traced service: a tiny Flask app with aws-xray-sdk, continuing its callers' traces.

Run it beside the stack (`.venv/bin/python docs/examples/second_service.py`: port 8001, segments
to the daemon on 127.0.0.1:2000) and call it with the trace header (docs/examples/callers.py). A
request carrying `X-Amzn-Trace-Id: Root=...;Parent=...;Sampled=1` becomes a segment in the
caller's trace, child of the caller's subsegment, and the service its own node on the map.
tests/test_guide.py runs it against a real UDP listener.
"""

from __future__ import annotations

from aws_xray_sdk.core import AWSXRayRecorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask, Response, jsonify, request

SERVICE_NAME = "greeting-service"


def create_app(daemon_address: str = "127.0.0.1:2000") -> Flask:
    # A recorder of its own, so that one process can host two traced services (the guide's test
    # does); a service alone in its process can use the SDK's global `xray_recorder` instead.
    recorder = AWSXRayRecorder()
    recorder.configure(
        service=SERVICE_NAME,  # the segment's name: the service's node on the map
        daemon_address=daemon_address,  # where the segments go (UDP)
        context_missing="LOG_ERROR",  # outside a request: log, never raise
        sampling=False,  # trace every request; an incoming Sampled=0 or 1 still decides
    )
    app = Flask(__name__)
    XRayMiddleware(app, recorder)  # a segment per request, continuing X-Amzn-Trace-Id

    @app.get("/greeting")
    def greeting() -> Response:
        name = request.args.get("name", "there")
        segment = recorder.current_segment()
        segment.put_annotation("greeting_kind", "plain")  # indexed: filter expressions find it
        segment.put_metadata("request", {"name_length": len(name)}, "greeting")  # shown only
        with recorder.in_subsegment("compose"):  # the service's own work, timed
            text = f"Hello, {name}!"
        answer: Response = jsonify(greeting=text)
        return answer

    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=8001)
