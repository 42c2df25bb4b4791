"""The OpenTelemetry SDK's tracer provider for an app (TRACER=opentelemetry), and its shutdown.

- **Resource**: `service.name` is AWS_XRAY_TRACING_NAME (`signup-app`), which X-Ray names the
  service's segments and map node after (OTEL_RESOURCE_ATTRIBUTES adds to it, as the SDK
  defines). Deployed, the X-Ray SDK plugins XRAY_PLUGINS names (EC2Plugin,
  ElasticBeanstalkPlugin, ECSPlugin) choose the matching AWS resource detectors of
  opentelemetry-sdk-extension-aws; without them (locally, in tests) nothing probes the instance
  metadata endpoint or reads the platform's files.
- **Ids**: AwsXRayIdGenerator: a trace id begins with its epoch seconds, as X-Ray's
  `1-xxxxxxxx-...` do.
- **Export**: a BatchSpanProcessor (OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, ...: the
  SDK reads them) with the OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_TRACES_HEADERS, _TIMEOUT,
  _COMPRESSION, ...: likewise) to `settings.otlp_traces_endpoint`: the local X-Ray, or X-Ray's
  own OTLP endpoint (`https://xray.REGION.amazonaws.com/v1/traces`), whose requests are signed
  with SigV4 (app/otlp_sigv4.py). Each exporting processor is wrapped in `Scrubbed`, and
  `AwsCallIds` remembers call ids for log lines (app/otel_spans.py).
- **Processes**: a provider per app, never OpenTelemetry's global one (which can be set once per
  process). gunicorn builds the app in each worker, after the fork (app.gunicorn_conf has no
  preload), so each worker's batch thread is its own; were the app preloaded in the master, the
  SDK starts a new batch thread in each child itself (os.register_at_fork in 1.45.1), and
  tests/app/test_otel_gunicorn.py runs both ways. `shutdown_tracing()` flushes and stops the
  providers of this process: gunicorn's `worker_exit` hook calls it, and atexit otherwise.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from urllib.parse import urlsplit

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.extension.aws.resource.beanstalk import AwsBeanstalkResourceDetector
from opentelemetry.sdk.extension.aws.resource.ec2 import AwsEc2ResourceDetector
from opentelemetry.sdk.extension.aws.resource.ecs import AwsEcsResourceDetector
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import (
    SERVICE_NAME,
    Resource,
    ResourceDetector,
    get_aggregated_resources,
)
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from app.config import Settings
from app.otel_sampling import sampler_for
from app.otel_spans import AwsCallIds, Scrubbed

__all__ = [
    "RESOURCE_DETECTORS",
    "build_provider",
    "export_processors",
    "resource_for",
    "shutdown_tracing",
    "span_exporter",
]

#: The X-Ray SDK's plugin names (XRAY_PLUGINS) -> OpenTelemetry's detectors of the same facts.
RESOURCE_DETECTORS: dict[str, type[ResourceDetector]] = {
    "EC2Plugin": AwsEc2ResourceDetector,
    "ElasticBeanstalkPlugin": AwsBeanstalkResourceDetector,
    "ECSPlugin": AwsEcsResourceDetector,
}

_lock = threading.Lock()
_providers: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
_atexit_registered = False


def resource_for(settings: Settings) -> Resource:
    """Who sends the spans: the service's name, plus what the deployed platform's detectors add."""
    named = Resource({SERVICE_NAME: settings.tracing_name})
    resource = Resource.create(dict(named.attributes))
    detectors = [RESOURCE_DETECTORS[p]() for p in settings.xray_plugins if p in RESOURCE_DETECTORS]
    if not detectors:
        return resource
    # The Elastic Beanstalk detector names the service after the platform: ours wins.
    return get_aggregated_resources(detectors, resource).merge(named)


def span_exporter(settings: Settings) -> SpanExporter:
    """OTLP/HTTP to the configured endpoint; SigV4-signed when it is AWS's."""
    endpoint = settings.otlp_traces_endpoint
    host = urlsplit(endpoint).hostname or ""
    if host.endswith(".amazonaws.com"):
        from app.otlp_sigv4 import sigv4_session

        return OTLPSpanExporter(endpoint=endpoint, session=sigv4_session(settings.region))
    return OTLPSpanExporter(endpoint=endpoint)


def export_processors(settings: Settings) -> list[SpanProcessor]:
    """The processors that send spans away (tests replace this with in-memory ones)."""
    return [BatchSpanProcessor(span_exporter(settings))]


def build_provider(settings: Settings) -> TracerProvider:
    """A provider of the app's own (see the module docstring), flushed by `shutdown_tracing`."""
    global _atexit_registered
    provider = TracerProvider(
        sampler=sampler_for(settings),
        resource=resource_for(settings),
        id_generator=AwsXRayIdGenerator(),
        shutdown_on_exit=False,  # shutdown_tracing() does, once
    )
    provider.add_span_processor(AwsCallIds())
    for processor in export_processors(settings):
        provider.add_span_processor(Scrubbed(processor))
    with _lock:
        _providers.add(provider)
        if not _atexit_registered:
            atexit.register(shutdown_tracing)
            _atexit_registered = True
    return provider


def shutdown_tracing() -> None:
    """Export what the providers of this process still hold, then stop them; idempotent."""
    with _lock:
        providers = list(_providers)
        _providers.clear()
    for provider in providers:
        provider.shutdown()
