"""The console over 100,000 stored traces: how long its pages take to draw, what its polling costs.

A store of `--traces` signup traces at `--rate` a minute (as in xray_query: 100,000 at 100 a
minute is 16 h 40 min of history) is served by an XRayServer with the console. Headless Chromium
(Debian's /usr/bin/chromium, driven by Playwright's Python package) opens the service map and the
trace list, over the console's default range (the last 5 minutes) and over the last hour (the
trace list then reads its 5 pages, 500 summaries: xray_local/console/views.py); a draw is timed
from navigation until the page marks itself loaded (`body[data-loaded=graph]` / `traces`), target
under a second, every round.

The hidden cost of the console is that it polls (the map every 10 s, the trace list every 15 s
with auto-refresh on). GetTraceSummaries' first page (last hour, `http.status = 409`) is timed
from boto3 for `--seconds` with no tab open, then with `--tabs` tabs open (half maps, half trace
lists with auto-refresh on), all polling at the console's own intervals: the API stays responsive
when the median with tabs is within 2x the median without.
Run: `.venv/bin/python -m bench.xray_console [--traces N] [--rounds R] [--tabs T] [--seconds S]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._results import record
from bench._xray_common import row, spread
from bench.xray_query import KEEP, _client, generate
from xray_local.console import console_blueprint
from xray_local.server import XRayServer

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
PAGES = {
    "map": ("/", "graph"),
    "trace_list": ("/traces", "traces"),
    "map_last_hour": ("/?range=60", "graph"),
    "trace_list_last_hour": ("/traces?range=60", "traces"),
}
DRAW_LIMIT = 1.0
POLLING_RATIO = 2.0


def draw(browser: Any, base: str, path: str, marker: str) -> float:
    """Seconds from navigation until the page says it is loaded (a fresh page each time)."""
    page = browser.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(base + path)
        page.wait_for_selector(f"body[data-loaded={marker}]", timeout=30_000)
        return time.perf_counter() - t0
    finally:
        page.close()


def first_pages(client: Any, window: dict[str, float], seconds: float) -> list[float]:
    """GetTraceSummaries' first page, timed back to back with a 0.2 s pause, for `seconds`."""
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        client.get_trace_summaries(**window, FilterExpression="http.status = 409")
        times.append(time.perf_counter() - t0)
        time.sleep(0.2)
    return times


def open_tabs(browser: Any, base: str, tabs: int) -> list[Any]:
    """`tabs` polling pages: maps (auto-refresh on by default) and trace lists (switched on)."""
    pages = []
    for i in range(tabs):
        page = browser.new_page()
        path, marker = PAGES["map_last_hour" if i % 2 == 0 else "trace_list_last_hour"]
        page.goto(base + path)
        page.wait_for_selector(f"body[data-loaded={marker}]", timeout=60_000)
        auto = page.locator("#auto-refresh")
        if auto.count() and not auto.is_checked():
            auto.check()
        pages.append(page)
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    end = 60.0 * (time.time() // 60) - 60.0
    window = {"StartTime": end - 3600, "EndTime": end}
    draws: dict[str, list[float]] = {name: [] for name in PAGES}
    with tempfile.TemporaryDirectory() as tmp:
        store = generate(Path(tmp), args.traces, end, args.rate)
        print("generated", store, flush=True)
        server = XRayServer(port=0, data_dir=tmp, retention=KEEP, log_interval=3600,
                            blueprints=(console_blueprint(),)).start()  # fmt: skip
        try:
            client = _client(server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    draw(browser, server.endpoint_url, *PAGES["map"])  # warm up the browser
                    for round_ in range(args.rounds):
                        names = list(PAGES) if round_ % 2 == 0 else list(reversed(PAGES))
                        for name in names:
                            draws[name].append(draw(browser, server.endpoint_url, *PAGES[name]))
                        last = {k: round(v[-1], 3) for k, v in draws.items()}
                        print(f"round {round_ + 1}:", last, flush=True)
                    quiet = first_pages(client, window, args.seconds)
                    tabs = open_tabs(browser, server.endpoint_url, args.tabs)
                    busy = first_pages(client, window, args.seconds)
                    for page in tabs:
                        page.close()
                finally:
                    browser.close()
        finally:
            server.stop()
    figures = _figures(args, store, draws, quiet, busy)
    print(json.dumps(record("xray_console", figures), indent=2))


def _figures(
    args: argparse.Namespace,
    store: dict[str, Any],
    draws: dict[str, list[float]],
    quiet: list[float],
    busy: list[float],
) -> dict[str, Any]:
    ratio = statistics.median(busy) / statistics.median(quiet)
    rows = [
        row(f"{name.replace('_', ' ')} drawn ({args.traces:,} stored)", values, "s",
            f"< {DRAW_LIMIT:g} s", max(values) < DRAW_LIMIT)
        for name, values in draws.items()
    ]  # fmt: skip
    rows += [
        row("first page, no console tab open", quiet, "s"),
        row(f"first page, {args.tabs} console tabs polling", busy, "s"),
        row(
            f"first page median, {args.tabs} tabs to none",
            [ratio],
            "×",
            f"<= {POLLING_RATIO:g}x",
            ratio <= POLLING_RATIO,
        ),
    ]
    return {
        "figures": {
            "stored_traces": args.traces,
            "rate_per_minute": args.rate,
            "store": store,
            "draw_seconds": {
                k: spread(v) | {"values": [round(x, 3) for x in v]} for k, v in draws.items()
            },  # fmt: skip
            "first_page_seconds": {
                "no_tabs": spread(quiet),
                f"{args.tabs}_tabs": spread(busy),
                "p95_no_tabs": round(_p95(quiet), 4),
                "p95_tabs": round(_p95(busy), 4),
            },  # fmt: skip
            "tabs_to_none_median_ratio": round(ratio, 3),
            "method": "fresh page per draw, timed from navigation to body[data-loaded]; "
            f"first pages of http.status = 409 (last hour) for {args.seconds:g} s each, "
            f"without tabs then with {args.tabs} (maps and trace lists of the last hour, "
            "auto-refresh on)",
        },
        "rows": rows,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


if __name__ == "__main__":
    main()
