"""The performance gate: the runbook's performance acceptance criteria as gate checks.

For each candidate engine, on one synthetic stream (default 50k events), in ONE
process, control and candidate interleaved over ``rounds`` rounds (the order
alternates every round so drift hits both alike):

* **dispatch**: ``noop`` speed-up = median over rounds of ``T_control / T_candidate``;
  below :data:`~harness.perf.DISPATCH_MIN` (3x) fails; the row shows the gap to the
  5x target;
* **callback overhead**: ``sma_cross``, median over rounds of
  ``(T_candidate - T_direct) / T_control`` where ``T_direct`` replays the same
  callbacks from a plain Python loop (:func:`harness.perf.time_direct`);
  ``>= 5 %`` fails;
* **memory**: memray peak of one run per strategy (``noop``, ``sma_cross``) on the
  same loaded stream; a candidate peak above the control's fails.

Noise policy (``docs/performance.md``): only ratios measured in the same run gate,
never absolute times; when any criterion fails, the whole measurement is repeated
once and the gate fails only if the repeat fails too (both attempts are in ``data``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.adapters import EngineAdapter, get_adapter
from harness.gate import CheckResult
from harness.perf import (
    DISPATCH_MIN,
    DISPATCH_TARGET,
    NATIVE_ENGINES,
    OVERHEAD_MAX,
    RecordedCalls,
    bench_stream,
    record_calls,
    run_peak,
    time_direct,
    time_run,
)
from legacy_py.loader import CandleStream

CHECK = "performance"
DEFAULT_EVENTS = 50_000
DEFAULT_ROUNDS = 5
DISPATCH_STRATEGY = "noop"
OVERHEAD_STRATEGY = "sma_cross"
MEMORY_STRATEGIES: tuple[str, ...] = ("noop", "sma_cross")

Progress = Callable[[str], None]


@dataclass
class PerfMeasurement:
    """One attempt: per-round times (seconds) and memory peaks (bytes)."""

    control: str
    candidate: str
    events: int
    rounds: int
    control_noop: list[float] = field(default_factory=list)
    candidate_noop: list[float] = field(default_factory=list)
    control_sma: list[float] = field(default_factory=list)
    candidate_sma: list[float] = field(default_factory=list)
    direct_sma: list[float] = field(default_factory=list)
    callbacks: int = 0
    memory: dict[str, dict[str, int]] = field(default_factory=dict)  # strategy -> engine -> peak
    seconds: float = 0.0

    @property
    def dispatch_ratios(self) -> list[float]:
        """Per-round ``T_control / T_candidate`` (noop)."""
        return [c / k for c, k in zip(self.control_noop, self.candidate_noop, strict=True)]

    @property
    def overheads(self) -> list[float]:
        """Per-round ``(T_candidate - T_direct) / T_control`` (sma_cross)."""
        return [
            (k - d) / c
            for c, k, d in zip(self.control_sma, self.candidate_sma, self.direct_sma, strict=True)
        ]

    @property
    def speedup(self) -> float:
        """Median per-round dispatch speed-up."""
        return statistics.median(self.dispatch_ratios)

    @property
    def overhead(self) -> float:
        """Median per-round callback overhead (fraction of the control run)."""
        return statistics.median(self.overheads)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers."""
        us = 1e6 / self.events

        def med(xs: list[float]) -> float:
            return statistics.median(xs) if xs else float("nan")

        return {
            "control": self.control,
            "candidate": self.candidate,
            "events": self.events,
            "rounds": self.rounds,
            "dispatch": {
                "strategy": DISPATCH_STRATEGY,
                "control_us_per_event_median": med(self.control_noop) * us,
                "candidate_us_per_event_median": med(self.candidate_noop) * us,
                "ratios": self.dispatch_ratios,
                "speedup_median": self.speedup if self.control_noop else None,
            },
            "callback_overhead": {
                "strategy": OVERHEAD_STRATEGY,
                "callbacks": self.callbacks,
                "control_us_per_event_median": med(self.control_sma) * us,
                "candidate_us_per_event_median": med(self.candidate_sma) * us,
                "direct_us_per_event_median": med(self.direct_sma) * us,
                "direct_us_per_call_median": (
                    med(self.direct_sma) * 1e6 / self.callbacks if self.callbacks else None
                ),
                "overheads": self.overheads,
                "overhead_median": self.overhead if self.control_sma else None,
            },
            "memory_peak_bytes": self.memory,
            "seconds": self.seconds,
        }


def measure(
    control: EngineAdapter,
    candidate: EngineAdapter,
    stream: CandleStream,
    calls: RecordedCalls,
    rounds: int = DEFAULT_ROUNDS,
    memory: bool = True,
) -> PerfMeasurement:
    """One interleaved measurement of ``candidate`` against ``control`` on ``stream``."""
    t0 = time.perf_counter()
    m = PerfMeasurement(control.name, candidate.name, len(stream), rounds, callbacks=calls.calls)
    # one untimed warm-up of everything (imports, caches, first-touch allocations)
    for eng in (control, candidate):
        time_run(eng, stream, DISPATCH_STRATEGY)
        time_run(eng, stream, OVERHEAD_STRATEGY)
    time_direct(stream, calls)
    for r in range(rounds):
        first, second = (control, candidate) if r % 2 == 0 else (candidate, control)
        noop = (
            time_run(first, stream, DISPATCH_STRATEGY),
            time_run(second, stream, DISPATCH_STRATEGY),
        )
        sma = (
            time_run(first, stream, OVERHEAD_STRATEGY),
            time_run(second, stream, OVERHEAD_STRATEGY),
        )
        c, k = (0, 1) if r % 2 == 0 else (1, 0)  # positions of control and candidate
        m.control_noop.append(noop[c])
        m.candidate_noop.append(noop[k])
        m.control_sma.append(sma[c])
        m.candidate_sma.append(sma[k])
        m.direct_sma.append(time_direct(stream, calls))
    if memory:
        for strat in MEMORY_STRATEGIES:
            m.memory[strat] = {
                "control": run_peak(control, stream, strat).peak_bytes,
                "candidate": run_peak(candidate, stream, strat).peak_bytes,
            }
    m.seconds = time.perf_counter() - t0
    return m


@dataclass
class Verdict:
    """The three criteria of one measurement."""

    dispatch_ok: bool
    overhead_ok: bool
    memory_ok: bool

    @property
    def ok(self) -> bool:
        """All three pass."""
        return self.dispatch_ok and self.overhead_ok and self.memory_ok


def judge(m: PerfMeasurement) -> Verdict:
    """Apply the thresholds to one measurement (no callback overhead for native engines)."""
    memory_ok = all(v["candidate"] <= v["control"] for v in m.memory.values())
    overhead_ok = m.candidate in NATIVE_ENGINES or m.overhead < OVERHEAD_MAX
    return Verdict(m.speedup >= DISPATCH_MIN, overhead_ok, memory_ok)


def results(attempts: Sequence[PerfMeasurement]) -> list[CheckResult]:
    """Gate rows from the final attempt (earlier attempts are kept in ``data``)."""
    m = attempts[-1]
    v = judge(m)
    retried = len(attempts) > 1
    note = " (after one retry)" if retried else ""
    history = [a.to_dict() for a in attempts[:-1]]
    native = m.candidate in NATIVE_ENGINES
    share = m.seconds / 3
    pair = f"{m.candidate} vs {m.control}, {m.events} events, {m.rounds} rounds"
    dispatch_detail = (
        f"noop speed-up {m.speedup:.2f}x (median of per-round ratios "
        f"{', '.join(f'{r:.2f}' for r in m.dispatch_ratios)}); minimum {DISPATCH_MIN:g}x; "
        + (
            f"{DISPATCH_TARGET:g}x target reached"
            if m.speedup >= DISPATCH_TARGET
            else f"gap to the {DISPATCH_TARGET:g}x target: {DISPATCH_TARGET - m.speedup:.2f}x"
        )
        + note
    )
    data = m.to_dict()
    rows = [
        CheckResult(
            CHECK,
            f"dispatch speed-up ({pair})",
            "pass" if v.dispatch_ok else "fail",
            dispatch_detail,
            share,
            data={
                "speedup": m.speedup,
                "min": DISPATCH_MIN,
                "target": DISPATCH_TARGET,
                "gap_to_target": max(0.0, DISPATCH_TARGET - m.speedup),
                "ratios": m.dispatch_ratios,
                "measurement": data,
                "earlier_attempts": history,
            },
        ),
        CheckResult(
            CHECK,
            f"callback overhead ({OVERHEAD_STRATEGY}, {pair})",
            "skip" if native else "pass" if v.overhead_ok else "fail",
            ("runs the strategy natively, no Python callbacks (for information) " if native else "")
            + f"(T_{m.candidate} - T_direct) / T_{m.control} = {m.overhead:.2%} "
            f"(per round {', '.join(f'{o:.2%}' for o in m.overheads)}); "
            f"must be < {OVERHEAD_MAX:.0%}{note}",
            share,
            data={
                "overhead": m.overhead,
                "max": OVERHEAD_MAX,
                "overheads": m.overheads,
                "measurement": data,
                "earlier_attempts": history,
            },
        ),
    ]
    if m.memory:
        parts = [
            f"{s}: {v['candidate'] / 2**20:.1f} MiB vs {v['control'] / 2**20:.1f} MiB"
            for s, v in m.memory.items()
        ]
        rows.append(
            CheckResult(
                CHECK,
                f"peak memory ({m.candidate} <= {m.control}, {m.events} events)",
                "pass" if v.memory_ok else "fail",
                "memray peak " + "; ".join(parts) + note,
                share,
                data={"memory_peak_bytes": m.memory, "earlier_attempts": history},
            )
        )
    return rows


def run_perf_checks(
    control: str = "legacy",
    candidates: Sequence[str] = ("rust",),
    events: int = DEFAULT_EVENTS,
    rounds: int = DEFAULT_ROUNDS,
    retries: int = 1,
    memory: bool = True,
    cache_dir: Path | None = None,
    progress: Progress = print,
) -> list[CheckResult]:
    """Measure every candidate against ``control``; retry a failing one ``retries`` times."""
    stream = bench_stream(events, cache_dir)
    ctrl = get_adapter(control)
    calls = record_calls(stream, OVERHEAD_STRATEGY)
    out: list[CheckResult] = []
    for name in candidates:
        cand = get_adapter(name)
        attempts = [measure(ctrl, cand, stream, calls, rounds, memory)]
        while not judge(attempts[-1]).ok and len(attempts) <= retries:
            progress(f"  performance: {cand.name} failed a criterion; repeating the measurement")
            attempts.append(measure(ctrl, cand, stream, calls, rounds, memory))
        for r in results(attempts):
            progress(f"  [{r.status:7s}] {r.name}: {r.detail.splitlines()[0]}")
            out.append(r)
    return out


def perf_check(
    control: str = "legacy",
    candidates: Sequence[str] = ("rust",),
    events: int = DEFAULT_EVENTS,
    rounds: int = DEFAULT_ROUNDS,
    retries: int = 1,
    memory: bool = True,
    cache_dir: Path | None = None,
) -> Callable[[Progress], list[CheckResult]]:
    """An ``extra_checks`` entry for :func:`harness.gate.run_gate`."""

    def check(progress: Progress) -> list[CheckResult]:
        progress(f"performance: {events} events, {rounds} interleaved rounds")
        return run_perf_checks(
            control, candidates, events, rounds, retries, memory, cache_dir, progress
        )

    return check
