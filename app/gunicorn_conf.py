"""gunicorn settings for the signup service, the same locally and on Elastic Beanstalk.

gthread workers: a client that keeps its socket open (keep-alive) or sends its body slowly holds
one thread, not a whole worker, and X-Ray's thread-local segments work unchanged. The bind is
loopback: on Elastic Beanstalk the platform's nginx proxies to 127.0.0.1:8000.
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 10
keepalive = 5
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = "info"
