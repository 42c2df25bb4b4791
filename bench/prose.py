"""The figures the docs quote in their prose, rendered from bench/results into marked blocks.

A document holds `<!-- bench:NAME:start ... -->` ... `<!-- bench:NAME:end -->`; `make bench`
(bench/report.py) rewrites what is between the markers from the recorded results, so no figure or
count in the text is typed by hand (tests/test_bench_docs.py checks the blocks are current).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["BLOCKS", "blocks_for", "render_blocks", "start_marker", "update_blocks"]

Results = dict[str, dict[str, Any]]


def start_marker(name: str) -> str:
    return f"<!-- bench:{name}:start (written by `make bench` from bench/results) -->"


def end_marker(name: str) -> str:
    return f"<!-- bench:{name}:end -->"


def _n(value: float, digits: int = 3) -> str:
    """A figure as the tables print it: 3 significant digits, thousands separated."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _range(figure: dict[str, Any], unit: str = "") -> str:
    unit = f" {unit}" if unit else ""
    return f"{_n(figure['median'])}{unit} ({_n(figure['min'])}-{_n(figure['max'])})"


def _spread_percent(figure: dict[str, Any]) -> str:
    return f"{(figure['max'] - figure['min']) / figure['median'] * 100:.0f} %"


def _target_rows(results: Results) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, row)
        for name, result in results.items()
        for row in result.get("rows", [])
        if row.get("target")
    ]


def targets_summary(results: Results) -> str:
    rows = _target_rows(results)
    missed = [f"{name}: {row['figure']}" for name, row in rows if not row.get("holds")]
    text = f"Of the {len(rows)} figures with a target, {len(rows) - len(missed)} hold"
    if not missed:
        return text + " and none misses."
    return (
        text
        + f" and {len(missed)} do{'es' if len(missed) == 1 else ''} not: "
        + ("; ".join(missed) + ".")
    )


def targets_table(results: Results) -> str:
    lines = ["| benchmark | figure | median (min-max) | target | holds |", "|---|---|---|---|---|"]
    for name, row in _target_rows(results):
        holds = "yes" if row.get("holds") else "**no**"
        lines.append(
            f"| {name} | {row['figure']} | {_range(row, row.get('unit', ''))} "
            f"| {row['target']} | {holds} |"
        )
    return "\n".join(lines) + "\n\n" + targets_summary(results)


def noise(results: Results) -> str:
    cpu = results["signup_cpu"]["figures"]["app_cpu_ms_per_signup"]["traced"]
    rps = results["signup_throughput"]["figures"]["traced_rps"]
    return (
        f"In the recorded results, the spread (max - min, against the median) of CPU per traced "
        f"signup is {_spread_percent(cpu)} over {cpu['runs']} runs (`signup_cpu`) and of "
        f"saturated throughput {_spread_percent(rps)} over {rps['runs']} runs "
        f"(`signup_throughput`)."
    )


def floor(results: Results) -> str:
    f = results["signup_cpu"]["figures"]
    ratios = f["ratios"]
    floors = f["floor_cpu_ms_per_signup"]
    app = f["app_cpu_ms_per_signup"]
    return (
        f"CPU per signup, median (min-max) over {ratios['traced_to_floor']['runs']} runs, "
        f"{f['clients']} clients at {_n(f['rate_per_minute'] / 60)} signups a second "
        f"(`signup_cpu`): floor before the record {_range(floors['pair'], 'ms')}, floor now "
        f"{_range(floors['triple'], 'ms')}; the app untraced {_range(app['untraced'], 'ms')}, "
        f"{_range(ratios['untraced_to_floor'], '×')} the floor now; traced "
        f"{_range(app['traced'], 'ms')}, {_range(ratios['traced_to_floor'], '×')} the floor now."
    )


def _lever(figures: dict[str, Any], key: str) -> dict[str, Any]:
    return figures.get(key) or next(v for k, v in figures.items() if k.startswith(key))


def levers_table(results: Results) -> str:
    figures = results["signup_levers"]["figures"]
    lines = [
        "| variant | CPU ms/request (min / median / max) | throughput req/s (median) "
        "| p50 ms (median) |",
        "|---|---|---|---|",
    ]
    for name, f in figures.items():
        cpu = f["cpu_ms"]
        lines.append(
            f"| {name} | {_n(cpu['min'])} / {_n(cpu['median'])} / {_n(cpu['max'])} "
            f"| {_n(f['rps']['median'])} | {_n(f['p50_ms']['median'])} |"
        )
    return "\n".join(lines)


def _paired_differences(traced: dict[str, Any], untraced: dict[str, Any]) -> list[float]:
    """traced - untraced run by run, for benchmarks that alternate the two (values in run order)."""
    return [a - b for a, b in zip(traced["values"], untraced["values"], strict=True)]


def tracing_cost(results: Results) -> str:
    """Tracing's CPU per request (traced - untraced) as each benchmark that measures both saw it."""
    levers = results["signup_levers"]["figures"]
    cpu = results["signup_cpu"]["figures"]
    tp = results["signup_throughput"]["figures"]
    estimates: list[tuple[str, float, list[float] | None]] = [
        (
            "`signup_levers`, gthread 2 x 4, saturated",
            _lever(levers, "baseline")["cpu_ms"]["median"]
            - _lever(levers, "untraced")["cpu_ms"]["median"],
            None,
        ),
        (
            "`signup_levers`, gthread 2 x 4, 50/s",
            _lever(levers, "traced, 50/s")["cpu_ms"]["median"]
            - _lever(levers, "untraced, 50/s")["cpu_ms"]["median"],
            None,
        ),
        (
            f"`signup_throughput`, shipped gunicorn settings, {tp['clients']} clients saturated",
            tp["traced_cpu_ms"]["median"] - tp["untraced_cpu_ms"]["median"],
            _paired_differences(tp["traced_cpu_ms"], tp["untraced_cpu_ms"]),
        ),
        (
            f"`signup_cpu`, shipped gunicorn settings, {_n(cpu['rate_per_minute'] / 60)}/s",
            cpu["app_cpu_ms_per_signup"]["traced"]["median"]
            - cpu["app_cpu_ms_per_signup"]["untraced"]["median"],
            _paired_differences(
                cpu["app_cpu_ms_per_signup"]["traced"], cpu["app_cpu_ms_per_signup"]["untraced"]
            ),
        ),
    ]
    lines = [
        "| benchmark and setting | traced - untraced, CPU ms per request (medians) "
        "| run by run (paired runs) |",
        "|---|---|---|",
    ]
    for name, difference, paired in estimates:
        runs = f"{_n(min(paired))} to {_n(max(paired))} over {len(paired)} pairs" if paired else "-"
        lines.append(f"| {name} | {difference:.2f} | {runs} |")
    values = [difference for _, difference, _ in estimates]
    lines += [
        "",
        f"The estimates run from {min(values):.2f} to {max(values):.2f} ms per request; these "
        "runs do not pin tracing's CPU cost down closer than that range (a paired range that "
        "reaches below zero means single runs could not tell traced from untraced at all).",
    ]
    return "\n".join(lines)


def throughput(results: Results) -> str:
    f = results["signup_throughput"]["figures"]
    per_signup = f["segments_received_per_traced_signup"]
    return (
        f"Median (min-max) over {f['traced_rps']['runs']} runs, {f['clients']} clients "
        f"saturated (`signup_throughput`): throughput traced / untraced "
        f"{_range(f['throughput_ratio_traced_to_untraced'])} ({_n(f['traced_rps']['median'])} vs "
        f"{_n(f['untraced_rps']['median'])} req/s); p50 traced / untraced "
        f"{_range(f['p50_ratio_traced_to_untraced'])} ({_n(f['traced_p50_ms']['median'])} vs "
        f"{_n(f['untraced_p50_ms']['median'])} ms); CPU per signup traced "
        f"{_range(f['traced_cpu_ms'], 'ms')}, untraced {_range(f['untraced_cpu_ms'], 'ms')}; "
        f"documents received per traced signup {_range(per_signup)}."
    )


def memory(results: Results) -> str:
    f = results["signup_memory"]["figures"]
    lines = [
        f"`xray-signup loadgen --rate {f['rate_per_minute']}` for {f['minutes']} minutes; the "
        f"generator's own {f['generator']}. VmRSS per worker, warm-up "
        f"{_n(f['warmup_seconds'])} s:",
        "",
        "| worker | first sample | after warm-up | end | slope after warm-up |",
        "|---|---|---|---|---|",
    ]
    growth = []
    for name, w in f["workers"].items():
        lines.append(
            f"| {name.removeprefix('worker_')} | {w['rss_first_sample_mib']:.1f} MiB "
            f"| {w['rss_after_warmup_mib']:.1f} MiB | {w['rss_end_mib']:.1f} MiB "
            f"| {w['slope_mib_per_minute']:.3f} MiB/min |"
        )
        growth.append(w["rss_end_mib"] - w["rss_after_warmup_mib"])
    minutes_after = f["minutes"] - f["warmup_seconds"] / 60
    signups_each = f["rate_per_minute"] * minutes_after / len(f["workers"])
    most = max(growth)
    lines += [
        "",
        f"The most any worker grew after warm-up: {most:.2f} MiB over {_n(minutes_after)} "
        f"minutes, about {_n(signups_each)} signups each (workers sharing the load evenly), "
        f"i.e. {_n(max(most, 0) * 2**20 / signups_each)} bytes a signup; a 1 KiB leak per "
        f"signup would be {_n(f['rate_per_minute'] / len(f['workers']) / 1024)} MiB a minute "
        "per worker at this rate.",
    ]
    return "\n".join(lines)


def pacing(results: Results) -> str:
    result = results["loadgen_pacing"]
    f = result["figures"]
    lines = [
        "| case | sent / expected | achieved rate | interval median | interval stdev "
        "| interval min-max | last send vs grid | 409s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, case in f.items():
        if not key.startswith("at_"):
            continue
        rate = int(case["rate_per_minute"])
        gaps = f[f"interval_at_{rate}_a_minute_seconds"]
        lines.append(
            f"| {rate} a minute, {_n(case['seconds'])} s | {case['sent']} / {case['expected']} "
            f"| {case['achieved_per_minute']:.3f} a minute | {case['interval_median_ms']:.1f} ms "
            f"| {case['interval_stdev_ms']:.1f} ms "
            f"| {gaps['min'] * 1000:.1f}-{gaps['max'] * 1000:.1f} ms "
            f"| {case['drift_of_last_send_ms']:+.1f} ms | {case['statuses'].get('409', 0)} |"
        )
    machine = result["machine"]
    lines += [
        "",
        f"Recorded {result['date'][:10]} on {machine['processor']}, {machine['cpus']} cores, "
        f"Python {result['python']} (`bench/results/loadgen_pacing.json`).",
    ]
    return "\n".join(lines)


def pacing_explained(results: Results) -> str:
    """What the pacing table's columns say, with the recorded figures."""
    f = results["loadgen_pacing"]["figures"]
    sentences = []
    for key, case in f.items():
        if not key.startswith("at_"):
            continue
        rate = int(case["rate_per_minute"])
        drift = case["drift_of_last_send_ms"]
        late = "later" if drift > 0 else "earlier"
        sentences.append(
            f"At {rate} a minute the last of {case['sent']} sends was {abs(drift):.1f} ms {late} "
            f"than its slot on the grid drawn from the first send, and no interval was more than "
            f"{case['interval_abs_error_max_ms']:.1f} ms off {case['interval_ideal_ms']:.0f} ms "
            f"(95 % within {case['interval_abs_error_p95_ms']:.1f} ms); "
            f"{case['statuses'].get('409', 0)} of the {case['sent']} answers were 409s."
        )
    return " ".join(sentences)


def provenance(results: Results) -> str:
    """Which results file each benchmark writes, when it last did, and what runs it."""
    from bench.__main__ import BENCHMARKS, OPTIONAL  # not at import: __main__ imports report

    lines = ["| results file | written by | last written |", "|---|---|---|"]
    for name in sorted(results, key=lambda n: (n not in BENCHMARKS, n)):
        if name in BENCHMARKS:
            how = f"`bench/{name}.py`, run by `make bench` (or `python -m bench {name}`)"
        elif name in OPTIONAL:
            how = (
                f"`bench/{name}.py`, on demand only: `python -m bench {name}`; `make bench` "
                "re-renders its rows from this file without re-measuring them"
            )
        else:
            how = f"`bench/{name}.py`, not listed in `bench/__main__.py`"
        lines.append(f"| `bench/results/{name}.json` | {how} | {results[name]['date'][:10]} |")
    return "\n".join(lines)


#: document (from the project root) -> block name -> renderer
BLOCKS: dict[str, dict[str, Callable[[Results], str]]] = {
    "README.md": {"targets": targets_summary},
    "docs/performance.md": {
        "provenance": provenance,
        "targets": targets_table,
        "noise": noise,
        "floor": floor,
        "levers": levers_table,
        "tracing-cost": tracing_cost,
        "throughput": throughput,
        "memory": memory,
    },
    "docs/loadgen.md": {"pacing": pacing, "pacing-explained": pacing_explained},
}


def render_blocks(results: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """document -> block name -> the block's text, from the recorded results."""
    by_name = {result["benchmark"]: result for result in results}
    return {doc: {name: render(by_name) for name, render in blocks.items()}
            for doc, blocks in BLOCKS.items()}  # fmt: skip


def blocks_for(text: str) -> dict[str, str]:
    """The blocks a document holds now (name -> text between the markers)."""
    found = re.findall(r"<!-- bench:([\w-]+):start[^>]*-->\n(.*?)\n<!-- bench:\1:end -->", text,
                       flags=re.DOTALL)  # fmt: skip
    return dict(found)


def update_blocks(path: Path, blocks: dict[str, str]) -> None:
    text = path.read_text()
    for name, body in blocks.items():
        start, end = start_marker(name), end_marker(name)
        head, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"{path}: no {start}")
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"{path}: no {end}")
        text = head + start + "\n" + body + "\n" + end + tail
    path.write_text(text)
