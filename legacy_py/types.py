"""Core types of the legacy engine: candles, signals, fills, positions, the Strategy protocol.

These types are the contract between the engine and strategies. The Rust port
exposes objects with exactly the same attribute names and value types, so a
strategy runs unchanged under either engine.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: Known timeframes and their duration in seconds. The canonical event order
#: sorts timeframes of equal timestamp by ascending duration.
TIMEFRAME_SECONDS: dict[str, int] = {
    "M1": 60,
    "M5": 300,
    "M15": 900,
    "M30": 1800,
    "H1": 3600,
    "H4": 14400,
    "D1": 86400,
}

#: The two price sides. ``bid`` sorts before ``ask`` at equal (timestamp, timeframe).
PRICE_TYPES: tuple[str, str] = ("bid", "ask")


def timeframe_rank(timeframe: str) -> int:
    """Sort rank of a timeframe (its duration in seconds)."""
    return TIMEFRAME_SECONDS[timeframe]


def price_type_rank(price_type: str) -> int:
    """Sort rank of a price type: bid=0, ask=1."""
    return PRICE_TYPES.index(price_type)


@dataclass(frozen=True, slots=True)
class Candle:
    """One bar of one (timeframe, price_type) series.

    ``timestamp`` is the bar's *close* time in epoch microseconds UTC: the moment
    at which the bar is complete and becomes an event.
    """

    timestamp: int
    timeframe: str
    price_type: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class SignalType(enum.Enum):
    """What a strategy asks for on a candle."""

    LONG = "LONG"
    SHORT = "SHORT"
    CLOSE = "CLOSE"
    NONE = "NONE"


@dataclass(frozen=True, slots=True)
class StrategySignal:
    """A strategy's decision on one candle.

    * ``entry_price``: ``None`` for a market order; otherwise a limit price.
    * ``stop_loss`` / ``take_profit``: absolute prices, optional.
    * ``metadata``: free-form string pairs; insertion order is preserved in the trace.
    """

    signal_type: SignalType
    entry_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """The outcome of one fill attempt."""

    executed: bool
    fill_price: float
    slippage: float
    commission: float


@dataclass(frozen=True, slots=True)
class Position:
    """An open position as a strategy sees it in ``check_exit``."""

    position_id: int
    side: str  # "long" | "short"
    quantity: float
    entry_price: float
    entry_timestamp: int
    entry_event: int
    stop_loss: float | None
    take_profit: float | None


@dataclass(frozen=True, slots=True)
class IndicatorRequest:
    """A strategy's declaration: indicator ``spec`` on series (``timeframe``, ``price_type``).

    ``spec`` uses the grammar of :func:`legacy_py.indicators.parse_spec`, e.g. ``"sma:20"``.
    """

    timeframe: str
    price_type: str
    spec: str


#: The mapping a strategy receives: ``"{timeframe}_{price_type}_{output}"`` -> value or None.
Indicators = Mapping[str, float | None]


@runtime_checkable
class Strategy(Protocol):
    """What the engine calls. ``on_batch`` is optional (see the strategy guide)."""

    name: str

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        """(timeframe, price_type) series whose events reach ``on_candle``/``check_exit``.

        The first subscription's timeframe is the execution timeframe.
        """
        ...

    def indicators(self) -> Sequence[IndicatorRequest]:
        """Indicators the strategy reads."""
        ...

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        """Decide on a subscribed candle."""
        ...

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        """Return True to close ``position`` with a market order."""
        ...


def describe(obj: Any) -> str:
    """A short type description used in error messages."""
    return type(obj).__name__
