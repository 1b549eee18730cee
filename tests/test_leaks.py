"""No memory leaks: RSS over 1,000 repeated short runs per engine stays flat.

After 200 warm-up runs, the median RSS (``/proc/self/statm``) of the second half of the
runs may exceed the median of the first half by at most ``LEAK_BOUND_BYTES`` (512 KiB: a
leak of L bytes per run moves it by ~500 L, so one leaked candle object per subscribed
event, or any leaked trace buffer, fails). A strategy that raises on every run must leak
nothing either: the exception, its traceback and everything the aborted run built must be
freed. See ``docs/performance.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import perf
from harness.adapters import LegacyAdapter
from harness.perf import LEAK_BOUND_BYTES, available_engines, bench_stream, leak_check
from legacy_py.loader import CandleStream
from legacy_py.trace import Trace

RUNS = 1000
EVENTS = 200
ENGINES = available_engines(("legacy", "rust", "rust-batch", "rust-native"))[0]


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> CandleStream:
    cache: Path = tmp_path_factory.mktemp("leak_streams")
    return bench_stream(EVENTS, cache)


@pytest.mark.parametrize("engine", ENGINES)
def test_repeated_runs_do_not_grow_rss(engine: str, stream: CandleStream) -> None:
    res = leak_check(engine, stream, "churn", runs=RUNS)
    assert res.passed, res.to_dict()
    assert res.growth_bytes <= LEAK_BOUND_BYTES


@pytest.mark.parametrize("engine", [e for e in ENGINES if e in ("legacy", "rust")])
def test_raising_strategy_leaks_nothing(engine: str, stream: CandleStream) -> None:
    res = leak_check(engine, stream, "churn", runs=RUNS, raising=True)
    assert res.errors == RUNS
    assert res.passed, res.to_dict()


class _Leaky(LegacyAdapter):
    """Keeps every trace plus 8 KiB per run alive."""

    name = "leaky"

    def __init__(self) -> None:
        self.kept: list[Any] = []

    def run(self, stream: CandleStream, strategy: str, params: Any, seed: int) -> Trace:
        trace = super().run(stream, strategy, params, seed)
        self.kept += [trace, bytearray(8192)]
        return trace


def test_leak_check_detects_a_leak(stream: CandleStream, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: an engine that keeps every trace alive fails it."""
    leaky = _Leaky()
    monkeypatch.setattr(perf, "get_adapter", lambda name: leaky)
    res = leak_check("leaky", stream, "noop", runs=200, warmup=5)
    assert not res.passed
    assert res.growth_bytes > LEAK_BOUND_BYTES


def test_raising_needs_a_strategy_runner(stream: CandleStream) -> None:
    with pytest.raises(Exception, match="cannot run a strategy object"):
        leak_check("planted:tie", stream, "noop", runs=2, warmup=0, raising=True)
