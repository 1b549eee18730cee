"""``omega-harness baseline``: the legacy engine's performance baseline JSON.

Writes ``reports/performance_baselines/p0-01_event_engine.json`` (the file the
runbook names) from the LEGACY engine on this machine: the environment, per operation
(event dispatch at several sizes, state management, callback invocation) the
event count, rounds, min / median / IQR in seconds and µs/event, the legacy peak
memory, and the runbook's targets. Regenerating it is an explicit act; the file is
committed and reviewed (``docs/performance.md``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from harness.adapters import get_adapter
from harness.perf import (
    BENCH_SEED,
    ROOT,
    bench_stream,
    environment,
    measure,
    record_calls,
    run_peak,
    targets,
    time_direct,
    time_run,
)

BASELINE_PATH = ROOT / "reports" / "performance_baselines" / "p0-01_event_engine.json"
SCHEMA = "omega.performance_baseline/1"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Operation:
    """One measured operation of the baseline."""

    key: str
    operation: str
    strategy: str
    events: int
    rounds: int


OPERATIONS: tuple[Operation, ...] = (
    Operation("event_dispatch_noop_10k", "event_dispatch", "noop", 10_000, 15),
    Operation("event_dispatch_noop_50k", "event_dispatch", "noop", 50_000, 9),
    Operation("event_dispatch_noop_500k", "event_dispatch", "noop", 500_000, 3),
    Operation("state_management_churn_50k", "state_management", "churn", 50_000, 7),
    Operation("callback_invocation_sma_cross_50k", "callback_invocation", "sma_cross", 50_000, 7),
)
MEMORY_EVENTS = 50_000
MEMORY_STRATEGIES = ("noop", "churn", "sma_cross")


def build_baseline(
    rounds_scale: float = 1.0, cache_dir: Path | None = None, progress: Progress = print
) -> dict[str, Any]:
    """Measure every operation on the legacy engine and return the baseline document."""
    legacy = get_adapter("legacy")
    load_at_start = environment()["load_average"]
    ops: dict[str, Any] = {}
    streams: dict[int, Any] = {}
    for op in OPERATIONS:
        stream = streams.get(op.events)
        if stream is None:
            streams.clear()  # keep at most one (large) stream loaded
            stream = streams[op.events] = bench_stream(op.events, cache_dir)
        rounds = max(1, round(op.rounds * rounds_scale))
        stats = measure(partial(time_run, legacy, stream, op.strategy), rounds)
        entry: dict[str, Any] = {
            "operation": op.operation,
            "strategy": op.strategy,
            "engine": "legacy",
            **stats.to_dict(op.events),
        }
        if op.operation == "callback_invocation":
            calls = record_calls(stream, op.strategy)
            direct = measure(partial(time_direct, stream, calls), rounds)
            entry["callbacks"] = calls.calls
            entry["legacy_us_per_callback_median"] = stats.median * 1e6 / calls.calls
            entry["direct_python_calls"] = {
                "what": "the same on_candle/check_exit calls with the same argument objects, "
                "replayed from a plain Python loop",
                **direct.to_dict(op.events),
                "us_per_call_median": direct.median * 1e6 / calls.calls,
                "share_of_legacy_run": direct.median / stats.median,
            }
        ops[op.key] = entry
        progress(
            f"  {op.key}: median {stats.median:.4f} s ({stats.median * 1e6 / op.events:.3f} "
            f"µs/event), IQR {stats.iqr:.4f} s, {stats.rounds} rounds"
        )
    streams.clear()
    stream = bench_stream(MEMORY_EVENTS, cache_dir)
    memory: dict[str, Any] = {}
    for strat in MEMORY_STRATEGIES:
        peak = run_peak(legacy, stream, strat)
        memory[f"{strat}_{MEMORY_EVENTS // 1000}k"] = {
            "strategy": strat,
            "events": MEMORY_EVENTS,
            "peak_bytes": peak.peak_bytes,
            "peak_mib": peak.peak_mib,
            "total_allocations": peak.total_allocations,
        }
        progress(f"  memory {strat} {MEMORY_EVENTS}: peak {peak.peak_mib:.1f} MiB")
    return {
        "schema": SCHEMA,
        "module": "p0-01 EventEngine",
        "engine": "legacy",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "omega-harness baseline",
        **environment(),
        "load_average_at_start": load_at_start,
        "stream": {
            "generator": "legacy_py.synthetic.generate_stream(events // 2, seed=BENCH_SEED)",
            "seed": BENCH_SEED,
            "timeframes": ["M1"],
            "events_per_bar": 2,
            "note": "bid + ask per M1 bar; the reference strategies subscribe to M1 bid, "
            "so on_candle runs on every second event",
        },
        "method": {
            "time": "wall time of one run on an already loaded stream (time.perf_counter); "
            "one untimed warm-up run first; statistics over rounds",
            "memory": "memray Tracker(native_traces=True, trace_python_allocators=True) "
            "peak_memory of one run on the loaded stream after a warm-up, pyarrow on the "
            "system allocator while tracking",
            "docs": "docs/performance.md",
        },
        "operations": ops,
        "memory": memory,
        "targets": targets(),
    }


def write_baseline(doc: dict[str, Any], path: Path = BASELINE_PATH) -> Path:
    """Write the baseline JSON (sorted keys, trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
