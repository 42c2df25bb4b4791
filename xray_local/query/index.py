"""The indexer: a trace's derived rows, computed in the background after its documents change.

Writes (UDP, the PutTraceSegments API, OTLP: anything on `Store.put_many`) only store documents
and mark their traces pending. `IndexWorker`, one thread owned by the server, takes pending traces
in batches and has the store call `TraceIndexer.derive` on them: each trace is read back whole
(all its documents, merged) and its `TraceView` built by `build_trace_view`, the same code the
filters, summaries and graph use, so a derived row says exactly what the reader would compute. A
trace whose documents came in several writes is derived once per batch, not once per write. Until
it is derived, queries judge a pending trace with the evaluator (query/search.py), so answers do
not depend on how far behind the indexer is. The rows are the ones `xray_local/store/index.py`
lists; this module only decides their values.

A value SQLite cannot hold as Python reads it (a string with NUL or an unpaired surrogate, NaN, an
integer past 2**53) is left out and the trace marked not `exact`: queries then always look at that
trace themselves.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from xray_local.query.filters.sql import sql_safe
from xray_local.query.graph import GraphBuilder
from xray_local.query.model import AnnotationValue, TraceView
from xray_local.query.views import build_trace_view
from xray_local.store.index import TraceFacts
from xray_local.store.merge import Trace
from xray_local.store.traces import Store

__all__ = ["IndexWorker", "TraceIndexer", "ensure_indexed", "facts_of"]

log = logging.getLogger(__name__)

#: Bump when what is derived changes: a store indexed by another version is re-derived on attach.
VERSION = "facts-3"  # 2: graph shares packed (store/cells.py); 3: ok/error by status, durations
_EXACT_INT = 2**53


class _Facts:
    """Collects one trace's rows, remembering whether everything was stored faithfully."""

    def __init__(self) -> None:
        self.exact = True

    def text(self, value: str | None) -> str | None:
        if value is None or sql_safe(value):
            return value
        self.exact = False
        return None

    def number(self, value: float | None) -> float | None:
        if value is None:
            return None
        if math.isnan(value):
            self.exact = False
            return None
        return float(value)

    def status(self, value: int | None) -> int | None:
        if value is not None and abs(value) > _EXACT_INT:
            self.exact = False
            return None
        return value

    def annotation(self, value: AnnotationValue) -> tuple[str, Any] | None:
        if isinstance(value, bool):
            return "b", int(value)
        if isinstance(value, str):
            return None if self.text(value) is None else ("s", value)
        number = self.number(float(value))
        if number is None or (isinstance(value, int) and abs(value) > _EXACT_INT):
            self.exact = False
        return None if number is None else ("n", number)


def facts_of(view: TraceView) -> TraceFacts:
    """The derived rows of one trace view."""
    f = _Facts()
    columns = (
        f.number(view.response_time),
        f.number(view.duration),
        f.status(view.http_status),
        int(view.ok),
        int(view.error),
        int(view.fault),
        int(view.throttle),
        int(view.partial),
        int(any(s.inferred for s in view.services)),
        f.text(view.http_url),
        f.text(view.http_method),
        f.text(view.http_useragent),
        f.text(view.http_clientip),
    )
    strings = [
        (keyword, value)
        for keyword, values in (
            ("user", view.users),
            ("availabilityzone", view.availability_zones),
            ("instance.id", view.instance_ids),
            ("resource.arn", view.resource_arns),
        )
        for value in values
        if f.text(value) is not None
    ]
    annotations = []
    for key, values in view.annotations.items():
        if f.text(key) is None:
            continue
        for value in values:
            typed = f.annotation(value)
            if typed is not None:
                annotations.append((key, *typed))
    services = []
    for s in view.services:
        if f.text(s.key.name) is None or f.text(s.key.type) != s.key.type:
            continue
        services.append((s.key.name, s.key.type, int(s.root), int(s.inferred), *_counts(s.calls)))
    edges = []
    for e in view.edges:
        keys = (e.source.name, e.source.type, e.destination.name, e.destination.type)
        if all(f.text(k) == k for k in keys):
            edges.append((*keys, *_counts(e.calls)))
    builder = GraphBuilder()
    builder.add(view)
    return TraceFacts(
        view.id,
        f.exact,
        columns,
        tuple(strings),
        tuple(annotations),
        tuple(services),
        tuple(edges),
        tuple(builder.cells()),
    )


def _counts(calls: Sequence[Any]) -> tuple[int, int, int, int, int]:
    """(calls, ok, error, fault, throttle) of a node's or an edge's calls."""
    return (
        len(calls),
        sum(c.ok for c in calls),
        sum(c.error for c in calls),
        sum(c.fault for c in calls),
        sum(c.throttle for c in calls),
    )


def _unreadable(trace_id: str) -> TraceFacts:
    """Facts of a trace the view builder failed on: nothing known, always looked at."""
    columns = (None, None, None, 0, 0, 0, 0, 0, 0, None, None, None, None)
    return TraceFacts(trace_id, False, columns, (), (), (), (), ())


class TraceIndexer:
    """What the store calls to derive the facts of the traces a write touched."""

    version = VERSION

    def derive(self, traces: Sequence[Trace]) -> list[TraceFacts]:
        out = []
        for trace in traces:
            try:
                out.append(facts_of(build_trace_view(trace)))
            except Exception:  # one odd trace must never cost the batch it came with
                log.exception("could not derive the facts of trace %s", trace.id)
                out.append(_unreadable(trace.id))
        return out


def ensure_indexed(store: Store) -> None:
    """Attach an indexer to `store` if none is (deriving whatever was stored without one)."""
    if store.indexer is None:
        store.attach(TraceIndexer())


class IndexWorker:
    """The background indexer: one thread that derives pending traces in batches.

    It wakes when a write leaves traces pending (`Store.dirty`), waits `settle` seconds so that
    the other documents of the same traces can arrive (each trace is derived once per batch),
    then derives batches of up to `batch` traces until none is pending. Storing comes first: while
    `busy()` says the writer has documents queued, the indexer waits (it would otherwise take the
    writer's share of the interpreter, and a writer behind is where UDP loses data); the backlog
    is caught up when the burst is over. `stop()` ends the thread and derives what is left (the
    writers have stopped by then), for a few seconds at most."""

    def __init__(self, store: Store, batch: int = 200, settle: float = 0.05) -> None:
        ensure_indexed(store)
        self.store = store
        self.batch = batch
        self.settle = settle
        #: True while storing is behind (the server wires in the UDP writer's queue).
        self.busy: Callable[[], bool] = lambda: False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xray-indexer", daemon=True)

    @property
    def backlog(self) -> int:
        """Traces waiting to be derived."""
        return self.store.pending_count()

    def start(self) -> IndexWorker:
        self._thread.start()
        return self

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is pending; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while self.store.pending_count():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, drain: float = 5.0) -> None:
        """Stop the thread, then derive what is still pending for at most `drain` seconds (a
        file keeps the rest pending: the next start derives it)."""
        self._stopping.set()
        self.store.dirty.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline and self.store.index_pending(self.batch):
            pass

    def _run(self) -> None:
        dirty = self.store.dirty
        while not self._stopping.is_set():
            if not dirty.wait(0.5) or self._stopping.wait(self.settle):
                continue
            dirty.clear()
            while not self._stopping.is_set():
                while self.busy() and not self._stopping.wait(0.01):
                    pass
                try:
                    if not self.store.index_pending(self.batch):
                        break
                except Exception:  # a failed batch stays pending: try again later
                    log.exception("indexing failed; retrying in a second")
                    self._stopping.wait(1.0)
                    dirty.set()
                    break
