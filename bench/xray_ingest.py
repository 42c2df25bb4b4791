"""Sustained UDP ingest: the highest paced rate (documents a second) with nothing lost.

A sender process paces signup segments at a target rate for a few seconds; the server (in this
process, SQLite file store) must store every one of them. Rates step up until documents are lost
or the sender cannot keep the pace; each sweep is repeated.
Run: `.venv/bin/python -m bench.xray_ingest [--seconds S] [--runs R]`.
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

from bench._xray_common import signup_doc, spread, write_results
from xray_local.server import XRayServer
from xray_local.store import Retention

RATES = (1000, 2000, 4000, 8000, 12000, 16000)
HEADER = b'{"format":"json","version":1}\n'


def send(port: int, rate: int, seconds: float, seed: int, result: multiprocessing.Queue) -> None:
    """Send `rate * seconds` datagrams in 10 ms slices; report how many and how long."""
    rng = random.Random(seed)
    total = int(rate * seconds)
    now = time.time()
    data = [
        HEADER + json.dumps(signup_doc(rng, now, i % 10 == 0, False)).encode() for i in range(total)
    ]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    per_slice = max(1, rate // 100)
    t0 = time.perf_counter()
    for i in range(0, total, per_slice):
        for datagram in data[i : i + per_slice]:
            sock.sendto(datagram, ("127.0.0.1", port))
        target = t0 + (i + per_slice) / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    result.put((total, time.perf_counter() - t0))


def sweep(server: XRayServer, seconds: float, seed: int) -> dict[str, float]:
    best = 0.0
    best_store_rate = 0.0
    for rate in RATES:
        before = server.counters.snapshot()["stored"]
        results: multiprocessing.Queue = multiprocessing.Queue()
        args = (server.port, rate, seconds, seed, results)
        proc = multiprocessing.Process(target=send, args=args)
        proc.start()
        total, elapsed = results.get(timeout=120)
        proc.join()
        t0 = time.perf_counter()
        server.flush(timeout=60)
        drain = time.perf_counter() - t0
        stored = server.counters.snapshot()["stored"] - before
        achieved = total / elapsed
        print(
            f"rate {rate}/s: sent {total} in {elapsed:.2f} s ({achieved:.0f}/s), "
            f"stored {stored}, drain {drain:.2f} s",
            flush=True,
        )
        seed += 1
        if stored < total or achieved < rate * 0.95:
            break
        best = achieved
        best_store_rate = total / (elapsed + drain)
    return {"lossless_rate": best, "store_rate": best_store_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rates: list[float] = []
    store_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        retention = Retention(max_traces=None, max_age=None)
        with XRayServer(port=0, data_dir=tmp, retention=retention, log_interval=3600) as server:
            for run in range(args.runs):
                figures = sweep(server, args.seconds, seed=1000 * run)
                rates.append(figures["lossless_rate"])
                store_rates.append(figures["store_rate"])
            stored_traces = server.store.trace_count()
    write_results(
        "xray_ingest",
        {
            "rates_tried": list(RATES),
            "seconds_per_rate": args.seconds,
            "lossless_documents_per_second": spread(rates),
            "stored_documents_per_second_including_drain": spread(store_rates),
            "traces_stored_total": stored_traces,
            "store": "SQLite file (WAL), one writer thread, batches of up to 500",
        },
    )


if __name__ == "__main__":
    main()
