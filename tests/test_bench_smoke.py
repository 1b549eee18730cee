"""Smoke run of the benchmark suite: every benchmark once on a 2k-event stream.

``pytest benchmarks --benchmark-disable`` with ``OMEGA_BENCH_SMOKE=1`` calls each
benchmark function once without timing; this keeps ``benchmarks/`` working without
making the default test run slow. The summariser is checked on a hand-made JSON.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.summarize import markdown, overheads, rows

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_suite_runs_once(tmp_path: Path) -> None:
    env = dict(os.environ, OMEGA_BENCH_SMOKE="1", OMEGA_BENCH_STREAMS=str(tmp_path))
    env.pop("OMEGA_BENCH_FULL", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks",
            "-q",
            "--benchmark-disable",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout
    assert "failed" not in proc.stdout


def _bench(
    path: str, operation: str, strategy: str, median: float, **extra: int
) -> dict[str, object]:
    return {
        "group": f"{operation} {strategy}",
        "name": f"test_{operation}[{path}]",
        "extra_info": {
            "operation": operation,
            "path": path,
            "strategy": strategy,
            "events": 50_000,
            **extra,
        },
        "stats": {"median": median, "min": median * 0.9, "iqr": 0.001, "rounds": 5},
    }


def test_summary_ratios_and_overhead() -> None:
    doc = {
        "benchmarks": [
            _bench("legacy", "event_dispatch", "noop", 0.2),
            _bench("rust", "event_dispatch", "noop", 0.02),
            _bench("legacy", "callback_invocation", "sma_cross", 0.4, callbacks=50_000),
            _bench("rust", "callback_invocation", "sma_cross", 0.03, callbacks=50_000),
            _bench("direct", "callback_invocation", "sma_cross", 0.014, callbacks=50_000),
            {"name": "unrelated", "stats": {}},
        ]
    }
    table = rows(doc)
    assert len(table) == 5
    rust = next(r for r in table if r["path"] == "rust" and r["operation"] == "event_dispatch")
    assert rust["ratio_vs_legacy"] == pytest.approx(10.0)
    assert rust["us_per_event"] == pytest.approx(0.4)
    (ov,) = overheads(table)
    assert ov["path"] == "rust"
    assert ov["overhead"] == pytest.approx((0.03 - 0.014) / 0.4)
    text = markdown(doc)
    assert "10.0x" in text and "4.00%" in text
