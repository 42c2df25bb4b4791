"""gunicorn settings for the signup service, the same locally and on Elastic Beanstalk.

gthread workers: a client that keeps its socket open (keep-alive) or sends its body slowly holds
one thread, not a whole worker, and X-Ray's thread-local segments work unchanged. The bind is
loopback: on Elastic Beanstalk the platform's nginx proxies to 127.0.0.1:8000.

16 threads a worker: gunicorn has no read timeout once a request has begun, so each client that
trickles its headers or body holds a thread until it finishes. Measured with 8 such clients beside
4 normal ones (tests/app/test_slow_clients.py): with 4 threads some normal requests waited 10 s
(p99 10.0 s, base 0.06 s); with 16 the p99 stays under 0.1 s. An idle socket costs no thread
(gthread waits for its first bytes in the poller), and on Elastic Beanstalk nginx buffers whole
requests before passing them on, so these clients only ever reach gunicorn directly on a laptop.

Tracing and the fork: the app (and with TRACER=opentelemetry its tracer provider and batch
thread) is built in each worker after the fork, as there is no `preload_app`. A worker that exits
(SIGTERM, a restart) flushes the spans its batch still holds in `worker_exit`, which gunicorn runs
in the worker (app/otel_provider.py; the X-Ray SDK has sent each segment already).
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = 30
graceful_timeout = 10
keepalive = 5
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = "info"


def worker_exit(server: Any, worker: Any) -> None:
    """In the exiting worker: export the spans still buffered (TRACER=opentelemetry)."""
    from app.tracing import shutdown_tracing

    shutdown_tracing()
