"""Sustained UDP ingest: a fixed rate for 60 s, every datagram accounted for, and the indexer's lag.

A sender process paces signup segments (one document a trace, as the app sends them) at a fixed
rate to a fresh server (in this process, SQLite file store; the writer only stores documents and
marks their traces pending, the background indexer derives their index rows). After each rate:
sent = stored + duplicates + dropped by the server (by reason) + lost before the server saw them
(sent - received: the kernel's socket buffer); the writer must also have kept up (its queue
drained within `--drain-limit` seconds when the sender stopped). The figure is the highest rate
that loses nothing and keeps up. Beside it, the indexer's lag: seconds from the last datagram
until every trace is indexed (waited for at most `--lag-limit` seconds; the backlog left then is
recorded), so a reader sees up to which rate indexing keeps up (lag within 5 s) and how far it
falls behind above. The store's bytes per trace are measured after the lowest rate.
Run: `.venv/bin/python -m bench.xray_ingest [--seconds S] [--rates R1,R2,...]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import random
import socket
import tempfile
import time
from typing import Any

from bench._results import record
from bench._xray_common import signup_doc
from xray_local.server import XRayServer
from xray_local.store import Retention

RATES = (2000, 5000, 10000)
#: The indexer keeps up when everything is indexed this soon after the last datagram.
KEEPS_UP = 5.0
HEADER = b'{"format":"json","version":1}\n'


def send(port: int, rate: int, seconds: float, seed: int, result: Any) -> None:
    """Send `rate * seconds` datagrams in 10 ms slices, built as they go; report count and time."""
    rng = random.Random(seed)
    total = int(rate * seconds)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    per_slice = max(1, rate // 100)
    t0 = time.perf_counter()
    for i in range(0, total, per_slice):
        now = time.time()
        for j in range(i, min(total, i + per_slice)):
            doc = signup_doc(rng, now, j % 10 == 0)
            sock.sendto(HEADER + json.dumps(doc).encode(), ("127.0.0.1", port))
        delay = t0 + (i + per_slice) / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    result.put((total, time.perf_counter() - t0))


def run_rate(rate: int, seconds: float, seed: int, limits: tuple[float, float]) -> dict:
    """One rate on a fresh server and store; the figures, and the store's bytes per trace."""
    drain_limit, lag_limit = limits
    retention = Retention(max_traces=None, max_age=None)
    with (
        tempfile.TemporaryDirectory() as tmp,
        XRayServer(port=0, data_dir=tmp, retention=retention, log_interval=3600) as server,
    ):
        results: Any = multiprocessing.Queue()
        proc = multiprocessing.Process(
            target=send, args=(server.port, rate, seconds, seed, results)
        )
        proc.start()
        total, elapsed = results.get(timeout=seconds * 3 + 60)
        proc.join()
        sent_at = time.perf_counter()
        server.flush(timeout=600)
        drain = time.perf_counter() - sent_at
        caught_up = server.wait_indexed(lag_limit)
        lag = time.perf_counter() - sent_at
        backlog = server.store.pending_count()
        snap = server.counters.snapshot()
        traces = server.store.trace_count()
        per_trace = server.store.bytes_used() / max(1, traces)
        server.indexer.stop(drain=0)  # what is left is not the benchmark's business
    received, stored, duplicates = snap["received"], snap["stored"], snap["duplicates"]
    dropped = {k: v for k, v in snap["dropped"].items() if v}
    figures = {
        "rate": rate,
        "sent": total,
        "achieved_per_second": round(total / elapsed),
        "received": received,
        "stored": stored,
        "duplicates": duplicates,
        "dropped_by_server": dropped,
        "lost_before_server": total - received,
        "accounted": stored + duplicates + sum(dropped.values()) + (total - received) == total,
        "drain_seconds": round(drain, 2),
        "stored_per_second_including_drain": round(stored / (elapsed + drain)),
        "indexer_lag_seconds": round(lag, 1) if caught_up else None,
        "indexer_backlog_after_wait": backlog,
        "indexer_waited_seconds": round(lag, 1),
        "store_bytes_per_trace": round(per_trace),
    }
    figures["lossless_and_kept_up"] = (
        stored == total and drain <= drain_limit and figures["achieved_per_second"] >= rate * 0.95
    )
    figures["indexer_kept_up"] = caught_up and lag <= KEEPS_UP
    print(figures, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--drain-limit", type=float, default=2.0)
    parser.add_argument("--lag-limit", type=float, default=40.0)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    limits = (args.drain_limit, args.lag_limit)
    runs = [run_rate(rate, args.seconds, 1000 * i, limits) for i, rate in enumerate(rates)]
    sustained = max((r["rate"] for r in runs if r["lossless_and_kept_up"]), default=0)
    indexed = max((r["rate"] for r in runs if r["indexer_kept_up"]), default=0)
    per_trace = runs[0]["store_bytes_per_trace"]
    figures = {
        "seconds_per_rate": args.seconds,
        "rates": runs,
        "sustained_documents_per_second": sustained,
        "indexed_within_5s_documents_per_second": indexed,
        "store_bytes_per_trace": per_trace,
        "store": "SQLite file (WAL), one writer thread storing batches of up to 500 documents; "
        "index rows derived by one background thread (IndexWorker), a fresh store per rate",
    }
    rows = [
        _row(f"sustained documents per second ({args.seconds:.0f} s, nothing lost)", sustained,
             "docs/s"),
        _row("highest rate indexed within 5 s of the last datagram", indexed, "docs/s"),
    ]  # fmt: skip
    for r in runs:
        lag = r["indexer_lag_seconds"]
        rows.append(_row(f"indexer lag at {r['rate']:,} docs/s"
                         + ("" if lag is not None else f" (not caught up: > {lag_text(r)})"),
                         lag if lag is not None else r["indexer_waited_seconds"], "s"))  # fmt: skip
    rows.append(_row("store bytes per trace", per_trace, "B"))
    print(json.dumps(record("xray_ingest", {"figures": figures, "rows": rows}), indent=2))


def lag_text(run: dict[str, Any]) -> str:
    return f"{run['indexer_waited_seconds']:g} s, {run['indexer_backlog_after_wait']:,} left"


def _row(figure: str, value: float, unit: str) -> dict[str, Any]:
    return {"figure": figure, "min": value, "median": value, "max": value, "unit": unit}


if __name__ == "__main__":
    main()
