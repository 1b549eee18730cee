"""Test helpers: hand-built streams and a scripted strategy."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from legacy_py.arrow_schemas import InstrumentMeta
from legacy_py.loader import CandleStream
from legacy_py.types import (
    Candle,
    IndicatorRequest,
    Indicators,
    Position,
    StrategySignal,
)

MIN = 60_000_000  # one minute in µs


def bar(minute: int, pt: str, o: float, h: float, lo: float, c: float, tf: str = "M1") -> Candle:
    """A candle closing at ``minute`` minutes."""
    return Candle(minute * MIN, tf, pt, o, h, lo, c, 100.0)


def pair(
    minute: int, o: float, h: float, lo: float, c: float, spread: float = 0.0, tf: str = "M1"
) -> list[Candle]:
    """A bid bar and an ask bar ``spread`` above it."""
    return [
        bar(minute, "bid", o, h, lo, c, tf),
        bar(minute, "ask", o + spread, h + spread, lo + spread, c + spread, tf),
    ]


def stream(candles: Sequence[Candle], contract_size: float = 1.0) -> CandleStream:
    """A CandleStream from candles already in canonical order."""
    return CandleStream(
        candles=tuple(candles),
        instrument=InstrumentMeta(symbol="TEST", tick_size=1e-5, contract_size=contract_size),
        source="<test>",
    )


class Scripted:
    """Emits preset signals by bar minute; exits positions at preset minutes."""

    name = "scripted"

    def __init__(
        self,
        signals: Mapping[int, StrategySignal | None] | None = None,
        exits: Sequence[int] = (),
        subs: Sequence[tuple[str, str]] = (("M1", "bid"),),
        requests: Sequence[IndicatorRequest] = (),
        on_call: Callable[[Candle, Indicators], object] | None = None,
    ) -> None:
        self.signals = dict(signals or {})
        self.exits = set(exits)
        self.subs = list(subs)
        self.requests = list(requests)
        self.on_call = on_call
        self.seen: list[tuple[int, str, str]] = []
        self.exit_calls: list[int] = []

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        return self.subs

    def indicators(self) -> Sequence[IndicatorRequest]:
        return self.requests

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        self.seen.append((candle.timestamp // MIN, candle.timeframe, candle.price_type))
        if self.on_call is not None:
            return self.on_call(candle, indicators)  # type: ignore[return-value]
        return self.signals.get(candle.timestamp // MIN)

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        self.exit_calls.append(position.position_id)
        return candle.timestamp // MIN in self.exits
