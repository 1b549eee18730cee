"""``omega-harness profile``: time, peak memory and leak checks per engine and stream size.

For each available engine (``legacy``, ``rust``, and ``rust-batch`` / ``rust-native``
when their adapters exist) on the same synthetic streams it measures

* wall time per event (median over rounds, run on an already loaded stream);
* memray peak memory and allocation count of one run: ``run`` = the engine on the
  loaded stream (what the gate compares), ``file`` = one run from the stream file as
  each engine is used in practice (legacy builds its Python candles, rust
  memory-maps the Arrow file);
* leak checks: RSS over 1,000 runs of a 200-event stream, and of a strategy that
  raises on every run;
* the cost of a bare Python method call with prebuilt arguments on this machine.

and writes ``profile.md``, ``profile.html`` (hand-written SVG plots) and
``profile.json`` to ``reports/profile/``. See ``docs/performance.md``.
"""

from __future__ import annotations

import html
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from harness.adapters import get_adapter
from harness.perf import (
    ENGINE_PATHS,
    ROOT,
    available_engines,
    bare_call_seconds,
    bench_stream,
    environment,
    file_runner,
    leak_check,
    measure,
    peak_memory,
    run_peak,
    strategy_runner,
    stream_file,
    time_run,
)

PROFILE_DIR = ROOT / "reports" / "profile"
DEFAULT_SIZES: tuple[int, ...] = (10_000, 50_000, 200_000)
DEFAULT_STRATEGIES: tuple[str, ...] = ("noop", "sma_cross")
LEAK_EVENTS = 200
LEAK_STRATEGY = "churn"

#: External reference figures quoted in the issue (NOT measured here).
EXTERNAL_REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("backtesting.py", "~7–12 µs/bar", "event-driven Python backtester, per bar"),
    ("NautilusTrader BacktestEngine", "~36–49 µs/bar", "noop strategy, per bar"),
    ("bare Python method call, prebuilt args", "~0.05–0.08 µs/call", "CPython call cost"),
)

COLORS = {
    "legacy": "#1f77b4",
    "rust": "#d62728",
    "rust-batch": "#2ca02c",
    "rust-native": "#9467bd",
}
DASHES = ["", "7,4", "2,3", "10,3,2,3"]
#: Table columns that hold text (left-aligned).
TEXT_COLUMNS = ("strategy", "engine", "source", "runs", "cost")

Progress = Callable[[str], None]


@dataclass
class ProfileRow:
    """One engine × strategy × size."""

    engine: str
    strategy: str
    events: int
    rounds: int
    median_s: float
    min_s: float
    iqr_s: float
    run_peak_bytes: int
    run_allocations: int
    file_peak_bytes: int
    file_allocations: int

    @property
    def us_per_event(self) -> float:
        """Median µs per event."""
        return self.median_s * 1e6 / self.events

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "engine": self.engine,
            "strategy": self.strategy,
            "events": self.events,
            "rounds": self.rounds,
            "median_s": self.median_s,
            "min_s": self.min_s,
            "iqr_s": self.iqr_s,
            "us_per_event_median": self.us_per_event,
            "run_peak_bytes": self.run_peak_bytes,
            "run_total_allocations": self.run_allocations,
            "file_peak_bytes": self.file_peak_bytes,
            "file_total_allocations": self.file_allocations,
        }


def _rounds_for(events: int, base: int) -> int:
    """Fewer rounds for big streams: ``base`` up to 50k events, then scaled down."""
    if events <= 50_000:
        return base
    return max(1, math.ceil(base * 50_000 / events))


def run_profile(
    sizes: Sequence[int] = DEFAULT_SIZES,
    engines: Sequence[str] = ENGINE_PATHS,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    rounds: int = 5,
    leak_runs: int = 1000,
    cache_dir: Path | None = None,
    progress: Progress = print,
) -> dict[str, Any]:
    """Measure everything and return the profile document (``profile.json``)."""
    t_start = time.perf_counter()
    load_at_start = environment()["load_average"]
    ok, skipped = available_engines(engines)
    for name, why in skipped.items():
        progress(f"  skip engine {name}: {why}")
    rows: list[ProfileRow] = []
    for events in sizes:
        stream = bench_stream(events, cache_dir)
        path = stream_file(events, cache_dir)
        n_rounds = _rounds_for(events, rounds)
        for strat in strategies:
            for name in ok:
                adapter = get_adapter(name)
                stats = measure(partial(time_run, adapter, stream, strat), n_rounds)
                run_mem = run_peak(adapter, stream, strat)
                runner = file_runner(name, path, strat)
                runner()  # warm-up
                file_mem = peak_memory(runner)
                row = ProfileRow(
                    name,
                    strat,
                    events,
                    stats.rounds,
                    stats.median,
                    stats.min,
                    stats.iqr,
                    run_mem.peak_bytes,
                    run_mem.total_allocations,
                    file_mem.peak_bytes,
                    file_mem.total_allocations,
                )
                rows.append(row)
                progress(
                    f"  {name:12s} {strat:10s} {events:>9d} ev: {row.us_per_event:7.3f} µs/event "
                    f"(median of {stats.rounds}), peak run {run_mem.peak_mib:7.1f} MiB, "
                    f"from file {file_mem.peak_mib:7.1f} MiB"
                )
    bare = bare_call_seconds()
    progress(f"  bare Python method call with prebuilt args: {bare * 1e6:.4f} µs")
    leaks: list[dict[str, Any]] = []
    if leak_runs > 0:
        small = bench_stream(LEAK_EVENTS, cache_dir)
        for name in ok:
            res = leak_check(name, small, LEAK_STRATEGY, runs=leak_runs)
            leaks.append(res.to_dict())
            progress(
                f"  leak {name} {LEAK_STRATEGY} x{leak_runs}: growth {res.growth_bytes / 1024:.0f}"
                f" KiB (bound {res.bound_bytes / 1024:.0f}) {'ok' if res.passed else 'LEAK'}"
            )
            if strategy_runner(name) is not None:
                res = leak_check(name, small, LEAK_STRATEGY, runs=leak_runs, raising=True)
                leaks.append(res.to_dict())
                progress(
                    f"  leak {name} raising x{leak_runs}: growth {res.growth_bytes / 1024:.0f} "
                    f"KiB, {res.errors} raised {'ok' if res.passed else 'LEAK'}"
                )
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **environment(),
        "load_average_at_start": load_at_start,
        "sizes": list(sizes),
        "engines": ok,
        "skipped_engines": skipped,
        "strategies": list(strategies),
        "rows": [r.to_dict() for r in rows],
        "bare_call_us": bare * 1e6,
        "leaks": leaks,
        "seconds": time.perf_counter() - t_start,
    }


# --------------------------------------------------------------------------- plots


def _fmt_events(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:g}M"
    if n >= 1e3:
        return f"{n / 1e3:g}k"
    return f"{n:g}"


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    first = math.ceil(lo / step) * step
    ticks: list[float] = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def line_chart(
    title: str,
    series: Sequence[tuple[str, str, str, Sequence[tuple[float, float]]]],
    x_label: str,
    y_label: str,
    log_y: bool = False,
    hlines: Sequence[tuple[str, float]] = (),
    width: int = 860,
    height: int = 400,
) -> str:
    """A self-contained SVG line chart with a log-scaled x axis.

    ``series``: ``(label, colour, dash pattern, [(x, y), ...])``; ``hlines``:
    ``(label, y)`` horizontal reference lines.
    """
    pts = [p for s in series for p in s[3] if p[0] > 0 and (p[1] > 0 or not log_y)]
    pts += [(pts[0][0], y) for _, y in hlines if pts and (y > 0 or not log_y)]
    left, right, top, bottom = 78, 200, 40, 56
    pw, ph = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    if not pts:
        parts.append(f'<text x="{left}" y="{top + 20}">no data</text></svg>')
        return "\n".join(parts)
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    x_lo, x_hi = math.log10(min(xs)), math.log10(max(xs))
    if x_hi - x_lo < 1e-9:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    pad_x = (x_hi - x_lo) * 0.04
    x_lo, x_hi = x_lo - pad_x, x_hi + pad_x
    if log_y:
        y_lo = math.log10(min(ys) / 1.25)
        y_hi = math.log10(max(ys) * 1.25)
    else:
        y_lo, y_hi = 0.0, max(ys) * 1.1 or 1.0

    def px(x: float) -> float:
        return left + pw * (math.log10(x) - x_lo) / (x_hi - x_lo)

    def py(y: float) -> float:
        v = math.log10(y) if log_y else y
        return top + ph - ph * (v - y_lo) / (y_hi - y_lo)

    # grid and y ticks
    y_ticks = (
        [m * 10.0**e for e in range(math.floor(y_lo), math.ceil(y_hi) + 1) for m in (1.0, 2.0, 5.0)]
        if log_y
        else _nice_ticks(y_lo, y_hi)
    )
    for t in y_ticks:
        if log_y and not y_lo - 1e-9 <= math.log10(t) <= y_hi + 1e-9:
            continue
        y = py(t)
        major = not log_y or abs(math.log10(t) - round(math.log10(t))) < 1e-9
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
            f'stroke="{"#dddddd" if major else "#f0f0f0"}"/>'
        )
        weight = "" if major else ' fill="#777" font-size="10"'
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end"{weight}>{t:g}</text>')
    for x in sorted(set(xs)):
        gx = px(x)
        parts.append(
            f'<line x1="{gx:.1f}" y1="{top}" x2="{gx:.1f}" y2="{top + ph}" stroke="#eeeeee"/>'
        )
        parts.append(
            f'<text x="{gx:.1f}" y="{top + ph + 16}" text-anchor="middle">{_fmt_events(x)}</text>'
        )
    parts += [
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#555"/>',
        f'<text x="{left + pw / 2:.1f}" y="{height - 14}" text-anchor="middle">'
        f"{html.escape(x_label)}</text>",
        f'<text x="18" y="{top + ph / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 18 {top + ph / 2:.1f})">{html.escape(y_label)}</text>',
    ]
    for label, y_ref in hlines:
        if log_y and y_ref <= 0:
            continue
        y = py(y_ref)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#444" '
            'stroke-dasharray="1,3" stroke-width="1.5"/>'
        )
        parts.append(
            f'<text x="{left + pw - 4}" y="{y - 5:.1f}" text-anchor="end" fill="#444" '
            f'font-size="11">{html.escape(label)}</text>'
        )
    for k, (label, color, dash, points) in enumerate(series):
        good = sorted(p for p in points if p[0] > 0 and (p[1] > 0 or not log_y))
        if not good:
            continue
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in good)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash_attr} '
            f'points="{coords}"/>'
        )
        for x, y in good:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        ly = top + 8 + 20 * k
        lx = left + pw + 14
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{color}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        parts.append(f'<text x="{lx + 34}" y="{ly + 4}">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _series(
    doc: dict[str, Any], value: Callable[[dict[str, Any]], float], dash_by: str
) -> list[tuple[str, str, str, list[tuple[float, float]]]]:
    out: list[tuple[str, str, str, list[tuple[float, float]]]] = []
    strategies: list[str] = doc["strategies"]
    for engine in doc["engines"]:
        for k, strat in enumerate(strategies):
            pts = [
                (float(r["events"]), value(r))
                for r in doc["rows"]
                if r["engine"] == engine and r["strategy"] == strat
            ]
            dash = DASHES[k % len(DASHES)] if dash_by == "strategy" else ""
            out.append((f"{engine} · {strat}", COLORS.get(engine, "#555555"), dash, pts))
    return out


def time_chart(doc: dict[str, Any]) -> str:
    """µs per event vs stream length, per engine (and strategy)."""
    return line_chart(
        "Time per event vs stream length (median over rounds)",
        _series(doc, lambda r: float(r["us_per_event_median"]), "strategy"),
        "stream length (events, log scale)",
        "µs per event (log scale)",
        log_y=True,
        hlines=[(f"bare Python method call: {doc['bare_call_us']:.3f} µs", doc["bare_call_us"])],
    )


def memory_chart(doc: dict[str, Any], key: str, title: str) -> str:
    """Peak memory (MiB) vs stream length, per engine (and strategy)."""
    return line_chart(
        title,
        _series(doc, lambda r: float(r[key]) / 2**20, "strategy"),
        "stream length (events, log scale)",
        "peak MiB (log scale)",
        log_y=True,
    )


# --------------------------------------------------------------------------- reports


def _ratio(doc: dict[str, Any], row: dict[str, Any]) -> float | None:
    for r in doc["rows"]:
        if (
            r["engine"] == "legacy"
            and r["strategy"] == row["strategy"]
            and r["events"] == row["events"]
        ):
            return float(r["median_s"]) / float(row["median_s"])
    return None


def _tables(doc: dict[str, Any]) -> dict[str, tuple[list[str], list[list[str]]]]:
    rows = sorted(doc["rows"], key=lambda r: (r["strategy"], r["events"], r["engine"]))
    timing = [
        [
            r["strategy"],
            f"{r['events']:,}",
            r["engine"],
            f"{r['us_per_event_median']:.3f}",
            f"{r['median_s'] * 1e3:.1f}",
            f"{r['iqr_s'] * 1e3:.1f}",
            str(r["rounds"]),
            (f"{x:.1f}x" if r["engine"] != "legacy" and (x := _ratio(doc, r)) is not None else "–"),
        ]
        for r in rows
    ]
    memory = [
        [
            r["strategy"],
            f"{r['events']:,}",
            r["engine"],
            f"{r['run_peak_bytes'] / 2**20:.1f}",
            f"{r['run_total_allocations']:,}",
            f"{r['file_peak_bytes'] / 2**20:.1f}",
            f"{r['file_total_allocations']:,}",
        ]
        for r in rows
    ]
    leaks = [
        [
            lk["engine"],
            "raises every run" if lk["raising"] else lk["strategy"],
            f"{lk['runs']} × {lk['events']} events",
            f"{lk['rss_first_mib']:.1f}",
            f"{lk['rss_last_mib']:.1f}",
            f"{max(0.0, lk['growth_kib']):.0f}",
            f"{lk['bound_kib']:.0f}",
            "ok" if lk["passed"] else "**LEAK**",
        ]
        for lk in doc["leaks"]
    ]
    # per engine: the noop µs/event at the largest size, per bar (= 2 events)
    largest = max(doc["sizes"]) if doc["sizes"] else 0
    ours = [
        [
            f"this repo: {r['engine']} ({r['strategy']}, {r['events']:,} events)",
            f"{r['us_per_event_median']:.3f} µs/event = {2 * r['us_per_event_median']:.3f} µs/bar",
            "measured here",
        ]
        for r in rows
        if r["events"] == largest and r["strategy"] == "noop"
    ]
    external = [
        [name, fig, f"{note} (quoted in the issue, not measured here)"]
        for name, fig, note in EXTERNAL_REFERENCES
    ]
    external.append(
        [
            "bare Python method call, prebuilt args",
            f"{doc['bare_call_us']:.4f} µs/call",
            "measured here (median of 7 loops of 200k calls)",
        ]
    )
    return {
        "timing": (
            [
                "strategy",
                "events",
                "engine",
                "µs/event",
                "median ms",
                "IQR ms",
                "rounds",
                "speed-up vs legacy",
            ],
            timing,
        ),
        "memory": (
            [
                "strategy",
                "events",
                "engine",
                "peak MiB (run)",
                "allocations (run)",
                "peak MiB (from file)",
                "allocations (from file)",
            ],
            memory,
        ),
        "leaks": (
            [
                "engine",
                "strategy",
                "runs",
                "RSS MiB, first half",
                "RSS MiB, second half",
                "growth KiB",
                "bound KiB",
                "verdict",
            ],
            leaks,
        ),
        "references": (["engine", "cost", "source"], [*ours, *external]),
    }


def _md_table(head: list[str], body: list[list[str]]) -> list[str]:
    right = {i for i, h in enumerate(head) if h not in TEXT_COLUMNS}
    lines = ["| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def _load(doc: dict[str, Any], key: str) -> str:
    load = doc.get(key)
    return f"{load['1m']:.2f}" if isinstance(load, dict) else "?"


def _summary_lines(doc: dict[str, Any]) -> list[str]:
    env = doc["machine"]
    return [
        f"Generated {doc['generated_at']} on {env['cpu_model']} ({env['cores']} cores), "
        f"Python {doc['python']['version']}, pyarrow {doc['packages']['pyarrow']}, "
        f"omega_rust {doc['packages']['omega_rust']}, commit `{doc['git_commit']}`; "
        f"{doc['seconds']:.0f} s; load average (1 min) {_load(doc, 'load_average_at_start')} at "
        f"the start, {_load(doc, 'load_average')} at the end.",
        "",
        f"Engines: {', '.join(doc['engines'])}"
        + (
            f" (skipped: {', '.join(f'{k} — {v}' for k, v in doc['skipped_engines'].items())})"
            if doc["skipped_engines"]
            else ""
        ),
    ]


SECTION_NOTES = {
    "timing": "Wall time of one run on an already loaded stream; median over rounds, "
    "control and candidates in the same process. Speed-up = legacy median / engine median "
    "for the same strategy and size.",
    "memory": "memray `peak_memory` (native traces and Python allocators traced, pyarrow "
    "on the system allocator). "
    "*run*: the engine on the loaded stream (the candles already exist; what the gate "
    "compares). *from file*: one run starting from the Arrow file as each engine is used "
    "(legacy builds its Python candles; rust memory-maps the file).",
    "leaks": "RSS from `/proc/self/statm` after every run (after 200 warm-up runs); growth = "
    "median RSS of the second half of the runs minus the first half (0 when RSS shrank).",
    "references": "µs per bar = 2 events (our M1 bars are one bid and one ask event; the "
    "strategies subscribe to the bid series). External figures are the issue's, for "
    "orientation only: different engines do different work per bar.",
}
TITLES = {
    "timing": "Time per event",
    "memory": "Peak memory",
    "leaks": "Leak checks",
    "references": "Comparison with external references",
}


def write_markdown(doc: dict[str, Any], path: Path) -> None:
    """``profile.md``."""
    lines = ["# omega-harness profile", "", *_summary_lines(doc), ""]
    for key, (head, body) in _tables(doc).items():
        lines += [f"## {TITLES[key]}", "", SECTION_NOTES[key], "", *_md_table(head, body), ""]
    lines += ["Plots: `profile.html`. Raw numbers: `profile.json`.", ""]
    path.write_text("\n".join(lines))


def _html_table(head: list[str], body: list[list[str]]) -> str:
    left = {i for i, h in enumerate(head) if h in TEXT_COLUMNS}

    def cell(i: int, c: str) -> str:
        cls = ["l"] if i in left else []
        if "**" in c:
            cls.append("bad")
        attr = f' class="{" ".join(cls)}"' if cls else ""
        return f"<td{attr}>{html.escape(c.replace('**', ''))}</td>"

    th = "".join(
        f"<th{' class=l' if i in left else ''}>{html.escape(h)}</th>" for i, h in enumerate(head)
    )
    trs = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _inline(text: str) -> str:
    """Escape ``text`` and render its Markdown `code` and *emphasis* as HTML."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", out)


def write_html(doc: dict[str, Any], path: Path) -> None:
    """``profile.html`` with the SVG plots."""
    tables = _tables(doc)
    summary = " ".join(_inline(x) for x in _summary_lines(doc) if x)
    body = [
        "<!doctype html><html><head><meta charset='utf-8'><title>omega-harness profile</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;"
        "color:#222}table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        ".l{text-align:left}th{background:#f3f3f3}"
        ".bad{color:#b00;font-weight:bold}.note{color:#555;font-size:13px;max-width:900px}"
        ".plots svg{display:block;margin:0 0 12px;border:1px solid #ddd}</style></head><body>",
        "<h1>omega-harness profile</h1>",
        f"<p class='note'>{summary}</p>",
        "<div class='plots'>",
        time_chart(doc),
        memory_chart(doc, "run_peak_bytes", "Peak memory vs stream length (run on loaded stream)"),
        memory_chart(doc, "file_peak_bytes", "Peak memory vs stream length (run from file)"),
        "</div>",
    ]
    for key, (head, rows) in tables.items():
        body += [
            f"<h2>{html.escape(TITLES[key])}</h2>",
            f"<p class='note'>{_inline(SECTION_NOTES[key])}</p>",
            _html_table(head, rows),
        ]
    body.append("</body></html>")
    path.write_text("\n".join(body) + "\n")


def write_profile(doc: dict[str, Any], out_dir: Path = PROFILE_DIR) -> dict[str, Path]:
    """Write ``profile.json``, ``profile.md`` and ``profile.html`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "profile.json",
        "md": out_dir / "profile.md",
        "html": out_dir / "profile.html",
    }
    paths["json"].write_text(json.dumps(doc, indent=2) + "\n")
    write_markdown(doc, paths["md"])
    write_html(doc, paths["html"])
    return paths


def leaks_passed(doc: dict[str, Any]) -> bool:
    """Every leak check within its bound."""
    return all(bool(lk["passed"]) for lk in doc["leaks"])


def memory_ok(doc: dict[str, Any]) -> list[str]:
    """Rows where a non-legacy engine's run peak exceeds legacy's (same strategy, size)."""
    bad: list[str] = []
    legacy = {
        (r["strategy"], r["events"]): r["run_peak_bytes"]
        for r in doc["rows"]
        if r["engine"] == "legacy"
    }
    for r in doc["rows"]:
        ref = legacy.get((r["strategy"], r["events"]))
        if r["engine"] != "legacy" and ref is not None and r["run_peak_bytes"] > ref:
            bad.append(f"{r['engine']} {r['strategy']} {r['events']}")
    return bad
