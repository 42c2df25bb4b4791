"""TRACER=xray-sdk: aws-xray-sdk's Flask middleware, the boto3 patch, and annotations.

Every request becomes a segment and every DynamoDB / SNS call a subsegment with its AWS metadata.
(app/tracing.py chooses between this and app/otel_tracing.py; the app's code calls only it.)
The set-up is in two parts, because the SDK keeps some of its state per process:

- **Process-wide** (`configure_process_tracing`): the SDK's recorder (`xray_recorder`: service
  name, daemon address, sampling, plugins; the botocore patch records its subsegments through
  it), the SDK's on/off switch, and two patches applied once per process however many apps are
  built: boto3's, and the middleware's of Flask's template rendering. A traced app's settings are
  applied to the recorder and kept as `process_tracing()`; when a later app in the same process
  asks for a different recorder configuration, the last one wins for every app in the process
  (the SDK has one recorder), and a WARNING names what changed. Not an error: one process serves
  one app in every deployment (`app.wsgi`), and only tests and benchmarks build several, each
  using the one built last. An app with tracing off leaves all of this alone: it never turns the
  SDK's switch off for apps built earlier. (`AWS_XRAY_SDK_ENABLED=false` in the environment still
  turns the SDK off for the whole process: the SDK reads that variable itself, and it takes
  precedence.)
- **Per app** (`init_app_tracing`): the middleware. A traced app opens a segment per request;
  an app with tracing off runs every request inside an unsampled (dummy) segment, so it emits
  nothing, answers no trace header, and an AWS call patched by another app in the process logs
  no "cannot find the current segment".

Two choices matter for people reading the traces:
- The requests the sampling rules never trace (`app/sampling-rules.json`, rules with rate and
  reservoir 0: health checks, static files, the status poll...) are not traced here either,
  locally included: they would drown the signups on the service map (app/sampling.py).
- `context_missing` is LOG_ERROR: with no daemon listening (UDP is fire-and-forget anyway) or a
  call outside a request, the app answers exactly as it would with tracing working.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import flask.templating
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import patch, xray_recorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask, Response, g, request

from app.config import Settings
from app.sampling import untraced

__all__ = [
    "MAX_TRACE_BACK",
    "ProcessTracing",
    "add_metadata",
    "annotate",
    "configure_process_tracing",
    "init_xray_tracing",
    "latest_subsegment_id",
    "process_tracing",
    "quiet_while_patched",
    "recorder_options",
    "traced_step",
]

log = logging.getLogger(__name__)

#: How deep the SDK walks the stack for an exception's `cause`; the default (10) costs CPU on
#: every duplicate (a handled ClientError) for frames nobody reads in the trace view.
MAX_TRACE_BACK = 4


@dataclass(frozen=True)
class ProcessTracing:
    """What this process's SDK was told: the recorder's options and whether boto3 is patched."""

    recorder_options: dict[str, Any] = field(default_factory=dict)
    patched: bool = False


_lock = threading.Lock()
_RENDER_MARK = "_xray_signup_render_patch"
_state = ProcessTracing()


def process_tracing() -> ProcessTracing:
    """The process-wide tracing state the last traced app configured (empty before any)."""
    return _state


def recorder_options(settings: Settings, max_trace_back: int = MAX_TRACE_BACK) -> dict[str, Any]:
    """The recorder configuration `settings` ask for."""
    options: dict[str, Any] = {
        "service": settings.tracing_name,
        "daemon_address": settings.xray_daemon_address,
        "context_missing": "LOG_ERROR",
        "max_trace_back": max_trace_back,
    }
    if settings.xray_sampling_rules:
        # Deployed: centralized sampling rules from the daemon, this file as the fallback.
        options["sampling"] = True
        options["sampling_rules"] = settings.xray_sampling_rules
    else:
        # Locally: every request is traced, and no sampling poller threads are started.
        options["sampling"] = False
    if settings.xray_plugins:
        options["plugins"] = settings.xray_plugins
    return options


def configure_process_tracing(
    settings: Settings, max_trace_back: int = MAX_TRACE_BACK
) -> ProcessTracing:
    """Apply the process-wide part of `settings` (see the module docstring); idempotent.

    Tracing off: nothing changes. Tracing on: the SDK's switch on, the recorder configured
    (again only if the options differ; a WARNING when they replace another app's), boto3
    patched unless it already is.
    """
    global _state
    if not settings.xray_enabled:
        log.info("tracing is off for this app (AWS_XRAY_SDK_ENABLED=false)")
        return _state
    with _lock:
        global_sdk_config.set_sdk_enabled(True)
        options = recorder_options(settings, max_trace_back)
        previous = _state.recorder_options
        if options != previous:
            if previous:
                changed = sorted(k for k in options.keys() | previous.keys()
                                 if options.get(k) != previous.get(k))  # fmt: skip
                log.warning(
                    "X-Ray recorder reconfigured (%s): the recorder is process-wide, so apps "
                    "built earlier in this process now trace with this configuration too",
                    ", ".join(f"{k}={options.get(k)!r}" for k in changed),
                )
            xray_recorder.configure(**options)
        patched = _state.patched
        if not patched and global_sdk_config.sdk_enabled():
            patch(["boto3"])  # the SDK skips it while disabled: then a later app patches
            patched = True
        _state = ProcessTracing(recorder_options=options, patched=patched)
        return _state


class SignupXRayMiddleware(XRayMiddleware):  # type: ignore[misc]
    """The SDK's Flask middleware, minus sampled segments for the requests the sampling rules
    never trace (and for every request of an app with tracing off)."""

    def __init__(self, app: Flask, recorder: Any, name: str, traced: bool = True) -> None:
        self._traced = traced
        #: The unsampled segment's name: the app's own, whether or not any app in this process
        #: has configured the recorder (an untraced app never does).
        self._name = name
        # The SDK's middleware also wraps Flask's template rendering (a subsegment per render), a
        # process-wide patch it applies again for every app: built N times, a page would nest N
        # subsegments. Kept once per process, like the boto3 patch.
        with _lock:
            before = flask.templating._render
            super().__init__(app, recorder)
            if getattr(before, _RENDER_MARK, False):
                flask.templating._render = before
            else:
                setattr(flask.templating._render, _RENDER_MARK, True)

    def _untraced(self) -> bool:
        return not self._traced or untraced(request.method, request.path, request.host)

    def _before_request(self) -> None:
        if self._untraced():
            self._recorder.begin_segment(name=self._name, sampling=0)
            return
        super()._before_request()
        segment = self._recorder.current_segment()
        if segment is not None and segment.sampled:
            # For log lines: the ids that make a line findable from its trace.
            g.xray_trace_id = segment.trace_id
            g.xray_segment_id = segment.id

    def _after_request(self, response: Response) -> Response:
        if self._untraced():
            return response
        result: Response = super()._after_request(response)
        return result


def init_xray_tracing(app: Flask, settings: Settings, max_trace_back: int = MAX_TRACE_BACK) -> None:
    """Trace `app`'s requests (or, tracing off, run them unsampled); process-wide set-up first."""
    configure_process_tracing(settings, max_trace_back)
    SignupXRayMiddleware(
        app, xray_recorder, name=settings.tracing_name, traced=settings.xray_enabled
    )


def _sdk_patched() -> bool:
    """Whether an app in this process has had the SDK patch boto3 or Flask's template rendering."""
    return _state.patched or bool(getattr(flask.templating._render, _RENDER_MARK, False))


def quiet_while_patched(app: Flask, name: str) -> None:
    """For an app another library traces: while the SDK has patched anything in this process
    (only where several apps are built: tests, benchmarks), run each request inside an unsampled
    segment, so the patched calls emit nothing and log no "cannot find the current segment".
    In a process where the SDK never patched anything, the hooks touch no part of the SDK."""

    def begin() -> None:
        if _sdk_patched() and global_sdk_config.sdk_enabled():
            xray_recorder.begin_segment(name=name, sampling=0)
            g.xray_quiet_segment = True

    def end(_exc: BaseException | None) -> None:
        if g.pop("xray_quiet_segment", False):
            xray_recorder.end_segment()

    app.before_request(begin)
    app.teardown_request(end)


def _request_segment() -> Any | None:
    """The segment of the request being served (None when tracing is off or nothing is open)."""
    if not global_sdk_config.sdk_enabled():
        return None
    entity = xray_recorder.context.get_trace_entity()
    if entity is None:
        return None
    return getattr(entity, "parent_segment", None) or entity


def annotate(**values: str | int | float | bool) -> None:
    """Add indexed annotations (searchable with `annotation.KEY`) to the request's segment."""
    segment = _request_segment()
    if segment is None:
        return
    for key, value in values.items():
        segment.put_annotation(key, value)


def latest_subsegment_id(name: str) -> str | None:
    """The id of the request's most recent subsegment called `name` (e.g. "dynamodb").

    A log line about an AWS call's outcome carries it, so the trace viewer can tie the line to
    the call's subsegment in the timeline.
    """
    segment = _request_segment()
    if segment is None or not getattr(segment, "sampled", False):
        return None
    for subsegment in reversed(getattr(segment, "subsegments", [])):
        if subsegment.name == name:
            value = subsegment.id
            return value if isinstance(value, str) else None
    return None


def add_metadata(namespace: str, key: str, value: Any) -> None:
    """Non-indexed detail on the request's segment: shown in the trace, never searchable."""
    segment = _request_segment()
    if segment is None or not getattr(segment, "sampled", False):
        return
    segment.put_metadata(key, value, namespace)


@contextmanager
def traced_step(name: str) -> Iterator[None]:
    """A local subsegment (no namespace: the app's own work, not a call) around the block."""
    segment = _request_segment()
    if segment is None or not getattr(segment, "sampled", False):
        yield
        return
    with xray_recorder.in_subsegment(name):
        yield
