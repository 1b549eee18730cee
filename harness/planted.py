"""Planted divergences: candidate engines that differ from the legacy engine in ONE behaviour.

A gate that never fails proves nothing. Each adapter here is a real
:class:`~harness.adapters.EngineAdapter` that runs the legacy engine (or wraps another
adapter) with exactly one behavioural change, injected through ``run_python``'s
``cache_factory``/``sim_factory`` hooks, the strategy, the seed or the event order —
never by editing output tables. The tests assert that the harness catches each one,
classifies it as expected and minimises it.

=====================  ==========================================  ====================
engine spec            planted change                              expected class
=====================  ==========================================  ====================
``planted:ulp@K``      an indicator output one ULP up at event K   ``float_rounding``
``planted:tie``        TP (not SL) wins when both lie in one bar   ``state_management``
``planted:seed@D``     the slippage RNG runs with ``seed + D``     ``rng_seed``
``planted:swap@K``     candles K and K+1 are fed swapped           ``event_ordering``
``planted:raise@K``    ``on_candle`` raises at the first call      ``exception_mismatch``
                       at an event ``>= K``
``planted:sleep@S``    rust, plus ``S`` seconds per event          (none: same trace)
``planted:hog@MB``     rust, holding ``MB`` MiB during the run     (none: same trace)
=====================  ==========================================  ====================

``planted:ulp@K,COLUMN`` nudges the named output (``H1_bid_sma_10`` or
``ind_H1_bid_sma_10``) instead of the first non-``None`` one. An adapter's ``name`` is
its canonical spec, so a report's reproduce command resolves it again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.adapters import EngineAdapter, RustAdapter
from legacy_py.config import EngineConfig
from legacy_py.engine import run_python
from legacy_py.errors import ConfigError
from legacy_py.execution import ExecutionSimulator
from legacy_py.indicators import IndicatorCache
from legacy_py.loader import CandleStream
from legacy_py.portfolio import Portfolio
from legacy_py.strategies import make_strategy
from legacy_py.trace import Trace
from legacy_py.types import (
    Candle,
    IndicatorRequest,
    Indicators,
    Position,
    Strategy,
    StrategySignal,
)

PLANTED_PREFIX = "planted:"
DEFAULT_EVENT = 100


# --------------------------------------------------------------------------- helpers


@dataclass
class _EventCounter:
    """The index of the event being processed (``-1`` before the first)."""

    index: int = -1


class _CountingCache(IndicatorCache):
    """An IndicatorCache that also counts events (``update`` runs once per event)."""

    __slots__ = ("counter",)

    def __init__(self, requests: Sequence[IndicatorRequest], counter: _EventCounter) -> None:
        super().__init__(requests)
        self.counter = counter

    def update(self, candle: Candle) -> None:
        self.counter.index += 1
        super().update(candle)


def _run_legacy(
    stream: CandleStream,
    strategy: str,
    params: Mapping[str, Any],
    seed: int,
    *,
    wrap: Callable[[Strategy], Strategy] | None = None,
    cache_factory: Callable[[list[IndicatorRequest]], IndicatorCache] = IndicatorCache,
    sim_factory: Callable[..., ExecutionSimulator] = ExecutionSimulator,
) -> Trace:
    strat, cfg = make_strategy(strategy, params, stream)
    runner: Strategy = wrap(strat) if wrap is not None else strat
    return run_python(
        stream,
        runner,
        cfg,
        seed,
        params,
        cache_factory=cache_factory,
        sim_factory=sim_factory,
    )


# --------------------------------------------------------------------------- float_rounding


class _UlpCache(_CountingCache):
    """``values()`` returns one output nudged one ULP up at event ``target`` only."""

    __slots__ = ("column", "target")

    def __init__(
        self,
        requests: Sequence[IndicatorRequest],
        target: int,
        column: str | None,
    ) -> None:
        super().__init__(requests, _EventCounter())
        self.target = target
        self.column = column
        if column is not None and column not in self.output_names:
            raise ConfigError(
                f"planted:ulp: no indicator output {column!r}; have {list(self.output_names)}"
            )

    def values(self) -> dict[str, float | None]:
        out = super().values()
        if self.counter.index != self.target:
            return out
        names = [self.column] if self.column is not None else list(out)
        for name in names:
            value = out[name]
            if value is not None:
                out[name] = math.nextafter(value, math.inf)
                break
        return out


class UlpIndicatorAdapter:
    """Legacy engine whose indicator ``column`` (default: the first non-None) is 1 ULP up
    at event ``event_index``: the strategy sees it and the trace records it."""

    def __init__(self, event_index: int = DEFAULT_EVENT, column: str | None = None) -> None:
        self.event_index = event_index
        self.column = column.removeprefix("ind_") if column else None
        suffix = f",{self.column}" if self.column else ""
        self.name = f"planted:ulp@{event_index}{suffix}"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        def factory(requests: list[IndicatorRequest]) -> IndicatorCache:
            return _UlpCache(requests, self.event_index, self.column)

        return _run_legacy(stream, strategy, params, seed, cache_factory=factory)


# --------------------------------------------------------------------------- state_management


class TpFirstSimulator(ExecutionSimulator):
    """The intrabar tie rule inverted: when SL and TP both lie inside one bar, TP wins.

    Gap fills (the open already through SL or TP) keep the documented order.
    """

    def _check_stops(self, event_index: int, candle: Candle, is_buy: bool, is_sell: bool) -> None:
        for pos in list(self.portfolio.positions.values()):
            if pos.entry_timestamp >= candle.timestamp:
                continue
            sl = pos.stop_loss
            tp = pos.take_profit
            if sl is None and tp is None:
                continue
            reason: str | None = None
            price = 0.0
            if pos.side == "long":
                if not is_sell:
                    continue
                if sl is not None and candle.open <= sl:
                    reason, price = "sl", candle.open
                elif tp is not None and candle.open >= tp:
                    reason, price = "tp", candle.open
                elif tp is not None and candle.high >= tp:  # planted: TP before SL
                    reason, price = "tp", tp
                elif sl is not None and candle.low <= sl:
                    reason, price = "sl", sl
            else:
                if not is_buy:
                    continue
                if sl is not None and candle.open >= sl:
                    reason, price = "sl", candle.open
                elif tp is not None and candle.open <= tp:
                    reason, price = "tp", candle.open
                elif tp is not None and candle.low <= tp:  # planted: TP before SL
                    reason, price = "tp", tp
                elif sl is not None and candle.high >= sl:
                    reason, price = "sl", sl
            if reason is None:
                continue
            slip = 0.0
            if reason == "sl":
                slip = self._slippage(event_index)
                if pos.side == "long":
                    price = price - slip
                else:
                    price = price + slip
            self._book_exit(event_index, candle, 0, pos, price, slip, reason)


class TieRuleAdapter:
    """Legacy engine with :class:`TpFirstSimulator` (TP wins intrabar ties)."""

    name = "planted:tie"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        return _run_legacy(stream, strategy, params, seed, sim_factory=TpFirstSimulator)


# --------------------------------------------------------------------------- rng_seed


class SeedShiftAdapter:
    """Legacy engine whose slippage RNG is seeded with ``seed + delta``.

    Only the simulator sees the shifted seed; the trace still reports the requested one,
    so the divergence is purely behavioural (no slippage draw, no divergence).
    """

    def __init__(self, delta: int = 1) -> None:
        self.delta = delta
        self.name = f"planted:seed@{delta}"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        delta = self.delta

        def factory(
            config: EngineConfig, portfolio: Portfolio, seed: int, buy_pt: str, sell_pt: str
        ) -> ExecutionSimulator:
            return ExecutionSimulator(config, portfolio, seed + delta, buy_pt, sell_pt)

        return _run_legacy(stream, strategy, params, seed, sim_factory=factory)


# --------------------------------------------------------------------------- event_ordering


def swapped_stream(stream: CandleStream, event_index: int) -> CandleStream:
    """``stream`` with candles ``event_index`` and ``event_index + 1`` swapped.

    Built directly (no canonical ordering, no table), so the engine sees the wrong order.
    Unchanged when the stream has no event ``event_index + 1``.
    """
    candles = list(stream.candles)
    k = event_index
    if k >= 0 and k + 1 < len(candles):
        candles[k], candles[k + 1] = candles[k + 1], candles[k]
    return CandleStream(candles=tuple(candles), instrument=stream.instrument, source=stream.source)


class SwapEventsAdapter:
    """Legacy engine fed a stream whose events ``k`` and ``k + 1`` are swapped."""

    def __init__(self, event_index: int = DEFAULT_EVENT) -> None:
        self.event_index = event_index
        self.name = f"planted:swap@{event_index}"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        return _run_legacy(swapped_stream(stream, self.event_index), strategy, params, seed)


# --------------------------------------------------------------------------- exception_mismatch


class PlantedFailureStrategy:
    """Delegates to ``inner``; ``on_candle`` raises at the first call at an event ``>= k``.

    ``on_candle`` only runs on subscribed events, so the failure moves to the next
    subscribed event when event ``k`` is not one.
    """

    def __init__(self, inner: Strategy, counter: _EventCounter, event_index: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.counter = counter
        self.event_index = event_index

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        return self.inner.subscriptions()

    def indicators(self) -> Sequence[IndicatorRequest]:
        return self.inner.indicators()

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        if self.counter.index >= self.event_index:
            raise RuntimeError("planted failure")
        return self.inner.on_candle(candle, indicators)

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        return self.inner.check_exit(position, candle, indicators)


class RaiseAtEventAdapter:
    """Legacy engine whose strategy raises ``RuntimeError("planted failure")`` at event k."""

    def __init__(self, event_index: int = DEFAULT_EVENT) -> None:
        self.event_index = event_index
        self.name = f"planted:raise@{event_index}"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        counter = _EventCounter()

        def factory(requests: list[IndicatorRequest]) -> IndicatorCache:
            return _CountingCache(requests, counter)

        def wrap(inner: Strategy) -> Strategy:
            return PlantedFailureStrategy(inner, counter, self.event_index)

        return _run_legacy(stream, strategy, params, seed, wrap=wrap, cache_factory=factory)


# --------------------------------------------------------------------------- performance


class SleepAdapter:
    """``inner`` (default rust) plus ``seconds_per_event * len(stream)`` of sleep: slow,
    but the same trace."""

    def __init__(self, seconds_per_event: float, inner: EngineAdapter | None = None) -> None:
        if not seconds_per_event >= 0.0:
            raise ConfigError(f"planted:sleep: seconds must be >= 0, got {seconds_per_event!r}")
        self.seconds_per_event = seconds_per_event
        self.inner: EngineAdapter = inner if inner is not None else RustAdapter()
        suffix = "" if self.inner.name == "rust" else f",{self.inner.name}"
        self.name = f"planted:sleep@{seconds_per_event!r}{suffix}"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        trace = self.inner.run(stream, strategy, params, seed)
        time.sleep(self.seconds_per_event * len(stream))
        return trace


class MemoryHogAdapter:
    """``inner`` (default rust) while holding ``mb`` MiB of touched memory: the same trace,
    a higher peak RSS."""

    def __init__(self, mb: int, inner: EngineAdapter | None = None) -> None:
        if mb < 0:
            raise ConfigError(f"planted:hog: MiB must be >= 0, got {mb!r}")
        self.mb = mb
        self.inner: EngineAdapter = inner if inner is not None else RustAdapter()
        suffix = "" if self.inner.name == "rust" else f",{self.inner.name}"
        self.name = f"planted:hog@{mb}{suffix}"
        self.last_bytes = 0

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        # repetition writes every byte, so the pages are really resident (not lazy zeros)
        hog = bytearray(b"\xa5") * (self.mb * 1024 * 1024)
        try:
            trace = self.inner.run(stream, strategy, params, seed)
            self.last_bytes = len(hog)
        finally:
            del hog
        return trace


# --------------------------------------------------------------------------- registry


def _int_arg(kind: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"planted:{kind}: expected an integer, got {raw!r}") from None


def _float_arg(kind: str, raw: str | None) -> float:
    try:
        return float(raw if raw else "")
    except ValueError:
        raise ConfigError(f"planted:{kind}: expected a number, got {raw!r}") from None


def _inner(rest: list[str]) -> EngineAdapter | None:
    if not rest:
        return None
    from harness.adapters import get_adapter

    return get_adapter(",".join(rest))


PLANTED: dict[str, tuple[str, Callable[[str | None, list[str]], EngineAdapter]]] = {
    "ulp": (
        "float_rounding",
        lambda a, rest: UlpIndicatorAdapter(
            _int_arg("ulp", a, DEFAULT_EVENT), rest[0] if rest else None
        ),
    ),
    "tie": ("state_management", lambda a, rest: TieRuleAdapter()),
    "seed": ("rng_seed", lambda a, rest: SeedShiftAdapter(_int_arg("seed", a, 1))),
    "swap": (
        "event_ordering",
        lambda a, rest: SwapEventsAdapter(_int_arg("swap", a, DEFAULT_EVENT)),
    ),
    "raise": (
        "exception_mismatch",
        lambda a, rest: RaiseAtEventAdapter(_int_arg("raise", a, DEFAULT_EVENT)),
    ),
    "sleep": ("", lambda a, rest: SleepAdapter(_float_arg("sleep", a), _inner(rest))),
    "hog": ("", lambda a, rest: MemoryHogAdapter(_int_arg("hog", a, 64), _inner(rest))),
}
"""kind -> (expected classification or ``""``, factory(first argument, further arguments))."""


def expected_kind(spec: str) -> str | None:
    """The classification a planted engine spec is designed to produce (None: no divergence)."""
    kind = spec.removeprefix(PLANTED_PREFIX).partition("@")[0]
    entry = PLANTED.get(kind)
    if entry is None:
        return None
    return entry[0] or None


def planted_adapter(spec: str) -> EngineAdapter:
    """Resolve ``planted:KIND[@ARG[,MORE...]]``, e.g. ``planted:ulp@120``."""
    if not spec.startswith(PLANTED_PREFIX):
        raise ConfigError(f"not a planted engine spec: {spec!r}")
    kind, _, args = spec.removeprefix(PLANTED_PREFIX).partition("@")
    entry = PLANTED.get(kind)
    if entry is None:
        raise ConfigError(
            f"unknown planted engine {spec!r}; known: "
            + ", ".join(f"{PLANTED_PREFIX}{k}" for k in PLANTED)
        )
    parts = args.split(",") if args else []
    first = parts[0] if parts else None
    return entry[1](first, parts[1:])


__all__ = [
    "PLANTED",
    "MemoryHogAdapter",
    "PlantedFailureStrategy",
    "RaiseAtEventAdapter",
    "SeedShiftAdapter",
    "SleepAdapter",
    "SwapEventsAdapter",
    "TieRuleAdapter",
    "TpFirstSimulator",
    "UlpIndicatorAdapter",
    "expected_kind",
    "planted_adapter",
    "swapped_stream",
]
