"""Fixtures and size selection of the benchmark suite.

Environment:

* ``OMEGA_BENCH_FULL=1`` adds the 5M-event dispatch size (legacy takes ~20 s a round);
* ``OMEGA_BENCH_SMOKE=1`` runs every benchmark on a 2k-event stream (the smoke test
  in ``tests/test_bench_smoke.py`` uses it with ``--benchmark-disable``);
* ``OMEGA_BENCH_STREAMS=DIR`` caches the generated streams in DIR instead of
  ``reports/benchmarks/streams/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from harness.adapters import EngineAdapter, get_adapter
from harness.perf import ENGINE_PATHS, available_engines, bench_stream
from legacy_py.loader import CandleStream

SMOKE = os.environ.get("OMEGA_BENCH_SMOKE", "") == "1"
FULL = os.environ.get("OMEGA_BENCH_FULL", "") == "1"
SMOKE_EVENTS = 2_000

#: Event dispatch sizes (events; each M1 bar is a bid and an ask event).
DISPATCH_SIZES: list[int] = (
    [SMOKE_EVENTS] if SMOKE else [10_000, 50_000, 500_000] + ([5_000_000] if FULL else [])
)
#: Stream length of the state-management and callback benchmarks.
FIXED_EVENTS = SMOKE_EVENTS if SMOKE else 50_000

#: Rounds of the legacy engine per size; faster paths get more (see ``rounds``).
LEGACY_ROUNDS = {2_000: 1, 10_000: 10, 50_000: 5, 500_000: 3, 5_000_000: 1}


def rounds(engine: str, events: int) -> int:
    """Rounds of ``engine`` at ``events``: few for legacy on big streams, more for Rust."""
    base = LEGACY_ROUNDS.get(events, 3)
    if SMOKE:
        return 1
    return base if engine == "legacy" else min(50, base * 5)


def warmup(events: int) -> int:
    """One untimed warm-up round, except at the largest sizes."""
    return 0 if SMOKE or events >= 5_000_000 else 1


def size_id(events: int) -> str:
    """10000 -> '10k', 5000000 -> '5M'."""
    if events % 1_000_000 == 0:
        return f"{events // 1_000_000}M"
    if events % 1_000 == 0:
        return f"{events // 1_000}k"
    return str(events)


@pytest.fixture(scope="session")
def engines() -> Callable[[str], EngineAdapter]:
    """``engines(name)``: the adapter, or skip when that path is not available."""
    ok, skipped = available_engines(ENGINE_PATHS)

    def get(name: str) -> EngineAdapter:
        if name not in ok:
            pytest.skip(f"engine {name!r} unavailable: {skipped.get(name, 'not built')}")
        return get_adapter(name)

    return get


@pytest.fixture(scope="session")
def streams() -> Callable[[int], CandleStream]:
    """``streams(events)``: the cached benchmark stream (at most two kept loaded)."""
    cache: dict[int, CandleStream] = {}

    def get(events: int) -> CandleStream:
        if events not in cache:
            while len(cache) >= 2:
                cache.pop(next(iter(cache)))
            cache[events] = bench_stream(events)
        return cache[events]

    return get
