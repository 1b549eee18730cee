"""Time the bit-level trace diff on a 1,000,000-row events table (not a test).

Builds a synthetic control trace with the real events schema (two indicator columns,
signal columns including the ``signal_metadata`` map, portfolio state) of ``--rows``
rows, plus fills/trades of ``rows // 10`` rows, and a candidate that diverges by one
ULP in an indicator at row ``0.6 * rows`` and in cash/equity from there on. Reports
the seconds of ``diff_traces`` alone, of a full ``compare`` (hash both, diff,
classify) on the divergent pair, and of ``compare`` on an identical pair (hashes only).

Usage: ``python scripts/bench_diff.py [--rows 1000000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.diff import diff_traces
from harness.experiment import Outcome, compare
from legacy_py.trace import (
    FILLS_SCHEMA,
    SUMMARY_SCHEMA,
    TRADES_SCHEMA,
    Trace,
    events_schema,
)


def _column(field: pa.Field, n: int, rng: np.random.Generator) -> pa.Array:
    name, t = field.name, field.type
    if name == "event_index":
        return pa.array(np.arange(n, dtype=np.int64))
    if name in ("timestamp", "entry_timestamp", "exit_timestamp"):
        return pa.array(np.arange(n, dtype=np.int64) * 3_600_000_000)
    if pa.types.is_floating(t):
        values = 1.0 + rng.standard_normal(n) * 0.01
        if field.nullable:  # warm-up nulls and sparse optional values
            mask = np.zeros(n, dtype=np.bool_)
            mask[: min(n, 30)] = True
            return pa.array(values, mask=mask)
        return pa.array(values)
    if pa.types.is_integer(t):
        return pa.array(rng.integers(0, 4, n, dtype=np.int64))
    if pa.types.is_map(t):
        # null except on every 50th event, which carries two entries
        items = [None if i % 50 else [("trend", "up"), ("macd", "0.1")] for i in range(n)]
        return pa.array(items, type=t)
    if pa.types.is_string(t):
        choices = np.array(["H1", "bid", "ask", "NONE", "LONG", "accepted"], dtype=object)
        return pa.array(choices[rng.integers(0, len(choices), n)].tolist(), type=t)
    raise TypeError(f"no generator for {field}")


def _table(schema: pa.Schema, n: int, rng: np.random.Generator) -> pa.Table:
    return pa.table([_column(f, n, rng) for f in schema], schema=schema)


def _replace(table: pa.Table, name: str, values: np.ndarray) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), pa.array(values))


def build(rows: int) -> tuple[Trace, Trace]:
    """A control trace and a candidate diverging at ``0.6 * rows``."""
    rng = np.random.default_rng(7)
    events = _table(events_schema(["H1_bid_sma_10", "H1_bid_sma_30"]), rows, rng)
    small = max(1, rows // 10)
    fills = _table(FILLS_SCHEMA, small, rng)
    trades = _table(TRADES_SCHEMA, small // 2, rng)
    summary = _table(SUMMARY_SCHEMA, 1, rng)
    control = Trace(events, fills, trades, summary)
    k = int(rows * 0.6)
    ind = events.column("ind_H1_bid_sma_10").to_numpy(zero_copy_only=False).copy()
    ind[k] = math.nextafter(ind[k], math.inf)
    cash = events.column("cash").to_numpy().copy()
    cash[k + 1 :] += 1e-9
    cand_events = _replace(events, "cash", cash)
    i = cand_events.schema.get_field_index("ind_H1_bid_sma_10")
    mask = events.column(i).is_null().to_numpy(zero_copy_only=False)
    cand_events = cand_events.set_column(i, cand_events.schema.field(i), pa.array(ind, mask=mask))
    candidate = dataclasses.replace(control, events=cand_events)
    return control, candidate


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON object."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    control, candidate = build(args.rows)
    build_s = time.perf_counter() - t0
    d = diff_traces(control, candidate)
    ev = d.tables["events"]
    assert ev.first_row == int(args.rows * 0.6), ev.first_row
    comp = compare(Outcome("control", trace=control), Outcome("candidate", trace=candidate))
    assert comp.classification is not None
    result = {
        "rows": args.rows,
        "columns": control.events.num_columns,
        "build_s": round(build_s, 3),
        "diff_traces_s": round(_best(lambda: diff_traces(control, candidate), args.repeat), 3),
        "compare_divergent_s": round(
            _best(
                lambda: compare(Outcome("a", trace=control), Outcome("b", trace=candidate)),
                args.repeat,
            ),
            3,
        ),
        "compare_identical_s": round(
            _best(
                lambda: compare(Outcome("a", trace=control), Outcome("b", trace=control)),
                args.repeat,
            ),
            3,
        ),
        "first_divergent_event": ev.first_row,
        "classification": comp.classification.kind,
        "divergent_columns": {c.column: c.divergent_rows for c in ev.columns},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
