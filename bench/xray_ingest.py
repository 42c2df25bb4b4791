"""Sustained UDP ingest: a fixed rate for 60 s, every datagram accounted for.

A sender process paces signup segments (one document a trace, as the app sends them) at a fixed
rate; the server (in this process, SQLite file store, every trace derived into its index rows as it
is stored) must store every one. After each rate: sent = stored + duplicates + dropped by the
server (by reason) + lost before the server saw them (sent - received: the kernel's socket buffer);
the writer must also have kept up (its backlog drained within `--drain-limit` seconds when the
sender stopped). The figure is the highest rate that loses nothing and keeps up. The store's bytes
per trace are measured at the end.
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

RATES = (1500, 2500, 4000)
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
            doc = signup_doc(rng, now, j % 10 == 0, False)
            sock.sendto(HEADER + json.dumps(doc).encode(), ("127.0.0.1", port))
        delay = t0 + (i + per_slice) / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    result.put((total, time.perf_counter() - t0))


def run_rate(server: XRayServer, rate: int, seconds: float, seed: int, drain_limit: float) -> dict:
    before = server.counters.snapshot()
    results: Any = multiprocessing.Queue()
    proc = multiprocessing.Process(target=send, args=(server.port, rate, seconds, seed, results))
    proc.start()
    total, elapsed = results.get(timeout=seconds * 3 + 60)
    proc.join()
    t0 = time.perf_counter()
    server.flush(timeout=600)
    drain = time.perf_counter() - t0
    after = server.counters.snapshot()
    received = after["received"] - before["received"]
    stored = after["stored"] - before["stored"]
    duplicates = after["duplicates"] - before["duplicates"]
    dropped = {k: v - before["dropped"].get(k, 0) for k, v in after["dropped"].items()}
    dropped = {k: v for k, v in dropped.items() if v}
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
    }
    figures["lossless_and_kept_up"] = (
        stored == total and drain <= drain_limit and figures["achieved_per_second"] >= rate * 0.95
    )
    print(figures, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--drain-limit", type=float, default=2.0)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        retention = Retention(max_traces=None, max_age=None)
        with XRayServer(port=0, data_dir=tmp, retention=retention, log_interval=3600) as server:
            for i, rate in enumerate(rates):
                runs.append(run_rate(server, rate, args.seconds, 1000 * i, args.drain_limit))
            traces = server.store.trace_count()
            per_trace = server.store.bytes_used() / traces
    good = [r["rate"] for r in runs if r["lossless_and_kept_up"]]
    sustained = max(good, default=0)
    figures = {
        "seconds_per_rate": args.seconds,
        "rates": runs,
        "sustained_documents_per_second": sustained,
        "traces_stored_total": traces,
        "store_bytes_per_trace": round(per_trace),
        "store": "SQLite file (WAL), one writer thread, batches of up to 500, index rows derived "
        "in the same transaction",
    }
    row = {"figure": f"sustained documents per second ({args.seconds:.0f} s, nothing lost)",
           "min": sustained, "median": sustained, "max": sustained, "unit": "docs/s"}  # fmt: skip
    rows = [row, {"figure": "store bytes per trace", "unit": "B", "min": round(per_trace),
                  "median": round(per_trace), "max": round(per_trace)}]  # fmt: skip
    print(json.dumps(record("xray_ingest", {"figures": figures, "rows": rows}), indent=2))


if __name__ == "__main__":
    main()
