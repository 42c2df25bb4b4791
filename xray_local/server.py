"""The whole local X-Ray in one object: UDP daemon, HTTP API (same port number), store, logging.

`XRayServer(...).start()` binds both sockets and starts the background indexer (query/index.py
`IndexWorker`) and returns once they accept traffic; `stop()` drains the ingest queue, then the
indexer's backlog, and closes everything. The local stack and the tests run it in-process; the CLI
wraps it for a terminal. Console pages are another blueprint passed to the constructor, served by
the same Flask app.
"""

from __future__ import annotations

import errno
import logging
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from werkzeug.serving import BaseWSGIServer, make_server

from hostguard import HostGuard, HostPolicy
from xray_local.api.groups import groups_api
from xray_local.api.logs import EXTENSION as LOGS_EXTENSION
from xray_local.api.logs import logs_api
from xray_local.api.otlp import otlp_api
from xray_local.api.sampling import SamplingRules
from xray_local.api.timeseries import timeseries_api
from xray_local.api.xray import ApiContext, api, error_response
from xray_local.ingest.udp import UdpReceiver
from xray_local.query.index import IndexWorker
from xray_local.store.logs import LogRetention, LogStore
from xray_local.store.traces import Retention, Store

__all__ = ["XRayServer", "create_app"]

log = logging.getLogger("xray_local")

#: Documents queued for the UDP writer above which the background indexer waits (storing first).
_WRITER_BUSY = 1000


def create_app(
    context: ApiContext, blueprints: tuple[Blueprint, ...] = (), logs: LogStore | None = None
) -> Flask:
    """The Flask app: the X-Ray API, the CloudWatch Logs subset (POST / with X-Amz-Target, on
    `logs`, in memory if none) and any extra blueprints (the console)."""
    app = Flask("xray_local")
    app.extensions["xray_local"] = context
    app.extensions[LOGS_EXTENSION] = logs if logs is not None else LogStore(":memory:")
    app.register_blueprint(api)
    app.register_blueprint(logs_api)
    app.register_blueprint(otlp_api)  # POST /v1/traces, as X-Ray's OTLP endpoint
    app.register_blueprint(groups_api)  # CreateGroup ... DeleteGroup
    app.register_blueprint(timeseries_api)  # GetTimeSeriesServiceStatistics
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.errorhandler(404)
    def _unknown(_exc: Any) -> Any:
        return error_response("UnknownOperationException", "Unknown operation", 404)

    @app.errorhandler(405)
    def _method(_exc: Any) -> Any:
        return error_response("UnknownOperationException", "Method not allowed", 405)

    return app


class XRayServer:
    """UDP ingest and the HTTP API on one port number, plus a periodic one-line count in the log.

    After `start()`: `port` (UDP and TCP), `udp_address`, `endpoint_url` (for boto3 / AWS CLI),
    `daemon_address` (for AWS_XRAY_DAEMON_ADDRESS), `store`, `counters`, `sampling`, `app`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 2000,
        data_dir: str | Path | None = None,
        retention: Retention | None = None,
        sampling: SamplingRules | None = None,
        store: Store | None = None,
        blueprints: tuple[Blueprint, ...] = (),
        log_interval: float = 60.0,
        log_retention: LogRetention | None = None,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        self.host = host
        #: Host names answered besides the loopback ones (hostguard): DNS rebinding stays out.
        self.allowed_hosts = allowed_hosts
        self.requested_port = port
        if store is None:
            memory = Store(":memory:", retention) if not data_dir else None
            store = memory or Store.in_directory(data_dir or ".", retention)
        # Writes (UDP, PutTraceSegments, anything on put_many) leave their traces pending; this
        # thread derives their index rows in the background (queries are right meanwhile).
        self.indexer = IndexWorker(store)
        self.store = store
        self.sampling = sampling or SamplingRules()
        self.context = ApiContext(store=self.store, sampling=self.sampling)
        self.context.counters.backlog = store.pending_count
        # Log lines beside the traces: same directory, bounded the same way (see store/logs.py).
        self.logs = (
            LogStore.in_directory(data_dir, log_retention)
            if data_dir
            else LogStore(":memory:", log_retention)
        )
        self.app = create_app(self.context, blueprints, self.logs)
        # What the socket serves: the app behind the Host guard, whose policy needs the bound
        # port (set in start(); until then it answers nothing). `app` itself stays unguarded
        # for in-process test clients.
        self._guard = HostGuard(self.app, HostPolicy(()))
        self.log_interval = log_interval
        self.port = 0
        self._receiver: UdpReceiver | None = None
        self._http: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def daemon_address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def counters(self) -> Any:
        return self.context.counters

    def _bind(self) -> tuple[UdpReceiver, BaseWSGIServer]:
        """Bind UDP then TCP on the same number; with port 0, retry until a free pair is found."""
        attempts = 20 if self.requested_port == 0 else 1
        for attempt in range(attempts):
            receiver = UdpReceiver(self.store, self.host, self.requested_port)
            try:
                http = make_server(self.host, receiver.port, self._guard, threaded=True)
            except (OSError, SystemExit) as exc:
                # werkzeug reports a port in use with sys.exit(1), not the OSError.
                receiver.stop()
                in_use = isinstance(exc, SystemExit) or exc.errno == errno.EADDRINUSE
                if not in_use:
                    raise
                if attempt == attempts - 1:
                    raise OSError(
                        errno.EADDRINUSE, f"TCP port {receiver.port} on {self.host} is in use"
                    ) from exc
                continue
            return receiver, http
        raise OSError(errno.EADDRINUSE, "no free UDP+TCP port pair")  # pragma: no cover

    def start(self) -> XRayServer:
        receiver, http = self._bind()
        receiver.counters = self.context.counters
        self._receiver, self._http = receiver, http
        self.port = receiver.port
        self._guard.policy = HostPolicy.loopback(self.port, self.allowed_hosts)
        receiver.start()
        self.indexer.busy = lambda: receiver.queued() > _WRITER_BUSY
        self.indexer.start()
        self._threads = [
            threading.Thread(
                target=http.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="xray-http",
                daemon=True,
            ),
            threading.Thread(target=self._log_counts, name="xray-log", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info(
            "X-Ray daemon on udp://%s, API on %s, store %s",
            self.daemon_address,
            self.endpoint_url,
            self.store.path,
        )
        return self

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every datagram received so far is in the store."""
        if self._receiver is not None:
            self._receiver.flush(timeout)

    def wait_indexed(self, timeout: float = 30.0) -> bool:
        """Wait until every stored trace is indexed; False if `timeout` passed first."""
        return self.indexer.wait(timeout)

    def stop(self) -> None:
        """Stop receiving, store what was queued, index it, stop HTTP, close the store."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._receiver is not None:
            self._receiver.stop()
        self.indexer.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._log_line()
        self.store.close()
        self.logs.close()

    def __enter__(self) -> XRayServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _log_line(self) -> None:
        snap = self.context.counters.snapshot()
        dropped = ", ".join(f"{k}={v}" for k, v in sorted(snap["dropped"].items())) or "none"
        log.info(
            "received %d, stored %d, duplicates %d, dropped %d (%s), traces %d, to index %d",
            snap["received"],
            snap["stored"],
            snap["duplicates"],
            snap["dropped_total"],
            dropped,
            self.store.trace_count(),
            snap.get("index_backlog", 0),
        )

    def _log_counts(self) -> None:
        last: dict[str, Any] | None = None
        while not self._stopped.wait(self.log_interval):
            snap = self.context.counters.snapshot()
            if snap != last:
                self._log_line()
                last = snap
