"""The benchmark suite: event dispatch, state management and callback invocation.

Run with ``bash scripts/bench.sh`` (writes ``reports/benchmarks/latest.json`` and
``reports/benchmarks/summary.md``). Every benchmark records ``operation``,
``engine``/``path``, ``strategy``, ``events`` (and ``callbacks``) in ``extra_info``;
``benchmarks/summarize.py`` turns them into µs/event and ratios vs legacy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.conftest import DISPATCH_SIZES, FIXED_EVENTS, rounds, size_id, warmup
from harness.adapters import EngineAdapter
from harness.perf import ENGINE_PATHS, fresh_strategy, record_calls, replay_calls
from legacy_py.loader import CandleStream

Engines = Callable[[str], EngineAdapter]
Streams = Callable[[int], CandleStream]
CALLBACK_PATHS: tuple[str, ...] = (*ENGINE_PATHS, "direct")


def _info(benchmark: Any, operation: str, path: str, strategy: str, events: int) -> None:
    benchmark.group = f"{operation} {strategy} {size_id(events)}"
    benchmark.extra_info.update(
        {"operation": operation, "path": path, "strategy": strategy, "events": events}
    )


def _run(
    benchmark: Any, adapter: EngineAdapter, stream: CandleStream, strategy: str, path: str
) -> None:
    """Time ``adapter.run``; the trace is kept and freed in the (untimed) setup of the
    next round, like ``harness.perf.time_run`` (freeing it is not the engine's work)."""
    events = len(stream)
    kept: list[object] = []

    def run() -> None:
        kept.append(adapter.run(stream, strategy, {}, 0))

    benchmark.pedantic(
        run,
        setup=kept.clear,
        rounds=rounds(path, events),
        warmup_rounds=warmup(events),
        iterations=1,
    )
    kept.clear()


@pytest.mark.parametrize("events", DISPATCH_SIZES, ids=size_id)
@pytest.mark.parametrize("path", ENGINE_PATHS)
def test_event_dispatch(
    benchmark: Any, engines: Engines, streams: Streams, path: str, events: int
) -> None:
    """Event dispatch: the ``noop`` strategy (no indicators, no orders)."""
    adapter = engines(path)
    stream = streams(events)
    _info(benchmark, "event_dispatch", path, "noop", events)
    _run(benchmark, adapter, stream, "noop", path)


@pytest.mark.parametrize("path", ENGINE_PATHS)
def test_state_management(benchmark: Any, engines: Engines, streams: Streams, path: str) -> None:
    """State management: ``churn`` reverses every 3 bars with tight SL/TP (orders, fills,
    positions, trades)."""
    adapter = engines(path)
    stream = streams(FIXED_EVENTS)
    _info(benchmark, "state_management", path, "churn", FIXED_EVENTS)
    _run(benchmark, adapter, stream, "churn", path)


@pytest.mark.parametrize("strategy", ["noop", "sma_cross"])
@pytest.mark.parametrize("path", CALLBACK_PATHS)
def test_callback_invocation(
    benchmark: Any, engines: Engines, streams: Streams, path: str, strategy: str
) -> None:
    """Callback invocation: whole runs per engine path, and ``direct``: the same
    ``on_candle``/``check_exit`` calls with the same argument objects (recorded from a
    legacy run) made from a plain Python loop: the strategy's own Python work."""
    stream = streams(FIXED_EVENTS)
    calls = record_calls(stream, strategy)
    _info(benchmark, "callback_invocation", path, strategy, FIXED_EVENTS)
    benchmark.extra_info["callbacks"] = calls.calls
    if path == "direct":
        benchmark.pedantic(
            replay_calls,
            setup=lambda: ((fresh_strategy(stream, calls), calls), {}),
            rounds=rounds(path, FIXED_EVENTS),
            warmup_rounds=warmup(FIXED_EVENTS),
            iterations=1,
        )
        return
    _run(benchmark, engines(path), stream, strategy, path)
