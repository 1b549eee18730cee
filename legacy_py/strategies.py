"""Reference strategies and their registry.

Every strategy takes parameters (``make_strategy(name, params, stream=...)``). A
``timeframe`` parameter selects the execution timeframe; by default it is the
stream's shortest timeframe. Strategies may define engine-parameter defaults
(``ENGINE_DEFAULTS``) that user params override.

| name               | exercises                                                       |
|--------------------|-----------------------------------------------------------------|
| noop               | pure dispatch: subscribes, never trades                          |
| sma_cross          | SMA crossover, market orders, reversals                         |
| rsi_reversion      | RSI (Wilder) mean reversion, ATR-based SL/TP, risk sizing        |
| donchian_breakout  | Donchian channel breakout, ATR stop, ``check_exit``              |
| mtf_trend          | two timeframes, EMA/MACD, limit entries, metadata, random slippage |
| churn              | trades every few bars with SL/TP: stresses execution + portfolio |

``noop``, ``sma_cross``, ``rsi_reversion`` and ``churn`` also implement the vectorised
``on_batch(candles, indicators)`` of batch dispatch (``omega_rust.run_batch``; see
``docs/strategy_guide.md``), making exactly the decisions of their ``on_candle``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from legacy_py.config import ENGINE_PARAM_NAMES, EngineConfig, engine_config_from_params
from legacy_py.errors import ConfigError
from legacy_py.loader import CandleStream
from legacy_py.types import (
    TIMEFRAME_SECONDS,
    Candle,
    IndicatorRequest,
    Indicators,
    Position,
    SignalType,
    StrategySignal,
)

#: What a vectorised ``on_batch`` returns: signal columns, one row per candle.
BatchSignals = dict[str, Any]

_LONG_SHORT = pa.array(["LONG", "SHORT"])


def batch_column(
    batch: pa.RecordBatch, name: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """A float64 column of an ``on_batch`` chunk: (values, valid mask); NaN under nulls."""
    col = batch.column(name)
    values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    if col.null_count == 0:
        return values, np.ones(len(values), dtype=np.bool_)
    valid = np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return values, valid


def long_short_signals(
    long: npt.NDArray[np.bool_], short: npt.NDArray[np.bool_]
) -> pa.DictionaryArray:
    """A ``signal_type`` column: ``LONG`` where ``long``, ``SHORT`` where ``short``, else null."""
    codes = pa.array(np.where(long, 0, 1).astype(np.int8), mask=~(long | short))
    return pa.DictionaryArray.from_arrays(codes, _LONG_SHORT)


def masked(values: npt.NDArray[np.float64], where: npt.NDArray[np.bool_]) -> pa.Array:
    """``values`` where ``where`` holds, else null."""
    return pa.array(values, mask=~where)


class BaseStrategy:
    """Common parameter handling. Subclasses set ``name``, ``DEFAULTS`` and ``ENGINE_DEFAULTS``."""

    name = "base"
    DEFAULTS: Mapping[str, Any] = {}
    ENGINE_DEFAULTS: Mapping[str, Any] = {}

    def __init__(self, params: Mapping[str, Any] | None = None, timeframe: str = "M1") -> None:
        given = dict(params or {})
        unknown = set(given) - set(self.DEFAULTS) - {"timeframe", "higher_timeframe"}
        if unknown:
            raise ConfigError(f"strategy {self.name!r}: unknown params {sorted(unknown)}")
        merged = {**self.DEFAULTS, **given}
        for key, default in self.DEFAULTS.items():
            value = merged[key]
            if (
                isinstance(default, float)
                and isinstance(value, int)
                and not isinstance(value, bool)
            ):
                merged[key] = float(value)
                value = merged[key]
            if type(value) is not type(default):
                raise ConfigError(
                    f"strategy {self.name!r}: param {key!r} must be {type(default).__name__}, "
                    f"got {value!r}"
                )
        self.params = merged
        tf = str(given.get("timeframe", timeframe))
        if tf not in TIMEFRAME_SECONDS:
            raise ConfigError(f"strategy {self.name!r}: unknown timeframe {tf!r}")
        self.timeframe = tf

    def p_int(self, key: str) -> int:
        """An int parameter."""
        value = self.params[key]
        assert isinstance(value, int)
        return value

    def p_float(self, key: str) -> float:
        """A float parameter."""
        value = self.params[key]
        assert isinstance(value, float)
        return value

    def ind(self, spec: str, price_type: str = "bid", timeframe: str | None = None) -> str:
        """Full indicator key of ``spec``'s first output on a series."""
        tf = timeframe or self.timeframe
        out = spec.replace(":", "_")
        return f"{tf}_{price_type}_{out}"

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        """Default: the execution timeframe's bid series."""
        return [(self.timeframe, "bid")]

    def indicators(self) -> Sequence[IndicatorRequest]:
        """Default: none."""
        return []

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        """Default: no signal."""
        return None

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        """Default: never exit early."""
        return False


class NoopStrategy(BaseStrategy):
    """Subscribes to the execution timeframe and does nothing: measures pure dispatch."""

    name = "noop"

    def on_batch(self, candles: pa.RecordBatch, indicators: pa.RecordBatch) -> BatchSignals:
        """No signal on any candle."""
        return {"signal_type": pa.nulls(candles.num_rows, pa.string())}


class SmaCross(BaseStrategy):
    """Long when SMA(fast) crosses above SMA(slow), short when it crosses below."""

    name = "sma_cross"
    DEFAULTS: Mapping[str, Any] = {"fast": 10, "slow": 30}

    def __init__(self, params: Mapping[str, Any] | None = None, timeframe: str = "M1") -> None:
        super().__init__(params, timeframe)
        if not 1 <= self.p_int("fast") < self.p_int("slow"):
            raise ConfigError("sma_cross: need 1 <= fast < slow")
        self._fast = self.ind(f"sma:{self.p_int('fast')}")
        self._slow = self.ind(f"sma:{self.p_int('slow')}")
        self._prev: int = 0

    def indicators(self) -> Sequence[IndicatorRequest]:
        return [
            IndicatorRequest(self.timeframe, "bid", f"sma:{self.p_int('fast')}"),
            IndicatorRequest(self.timeframe, "bid", f"sma:{self.p_int('slow')}"),
        ]

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        fast = indicators[self._fast]
        slow = indicators[self._slow]
        if fast is None or slow is None:
            return None
        state = 1 if fast > slow else (-1 if fast < slow else self._prev)
        prev, self._prev = self._prev, state
        if prev == 0 or state == prev:
            return None
        return StrategySignal(SignalType.LONG if state > 0 else SignalType.SHORT)

    def on_batch(self, candles: pa.RecordBatch, indicators: pa.RecordBatch) -> BatchSignals:
        """``on_candle`` vectorised: the crossing state carried across rows and chunks.

        Per row: no update while either SMA is null; else ``1`` if fast > slow, ``-1`` if
        fast < slow, the previous state on a tie (a forward fill of the last decided row).
        A signal fires where the state changes from a non-zero previous state.
        """
        fast, fast_ok = batch_column(indicators, self._fast)
        slow, slow_ok = batch_column(indicators, self._slow)
        n = len(fast)
        valid = fast_ok & slow_ok
        decided = np.zeros(n, dtype=np.int64)
        decided[valid & (fast > slow)] = 1
        decided[valid & (fast < slow)] = -1
        # index of the last decided row at or before each row (-1: none in this chunk yet)
        last = np.maximum.accumulate(np.where(decided != 0, np.arange(n), -1))
        state = np.where(last >= 0, decided[np.maximum(last, 0)], self._prev)
        prev = np.concatenate(([self._prev], state[:-1]))
        fire = (prev != 0) & (state != prev)
        if n:
            self._prev = int(state[-1])
        return {"signal_type": long_short_signals(fire & (state > 0), fire & (state < 0))}


class RsiReversion(BaseStrategy):
    """Buy oversold / sell overbought RSI with ATR-distance stop-loss and take-profit."""

    name = "rsi_reversion"
    DEFAULTS: Mapping[str, Any] = {
        "period": 14,
        "lower": 30.0,
        "upper": 70.0,
        "atr": 14,
        "sl_atr": 2.0,
        "tp_atr": 3.0,
    }
    ENGINE_DEFAULTS: Mapping[str, Any] = {"sizing": "risk", "risk_pct": 0.01, "lot_step": 0.01}

    def __init__(self, params: Mapping[str, Any] | None = None, timeframe: str = "M1") -> None:
        super().__init__(params, timeframe)
        self._rsi = self.ind(f"rsi:{self.p_int('period')}")
        self._atr = self.ind(f"atr:{self.p_int('atr')}")

    def indicators(self) -> Sequence[IndicatorRequest]:
        return [
            IndicatorRequest(self.timeframe, "bid", f"rsi:{self.p_int('period')}"),
            IndicatorRequest(self.timeframe, "bid", f"atr:{self.p_int('atr')}"),
        ]

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        rsi = indicators[self._rsi]
        atr = indicators[self._atr]
        if rsi is None or atr is None or atr <= 0.0:
            return None
        if rsi < self.p_float("lower"):
            sl = candle.close - self.p_float("sl_atr") * atr  # port: same order
            if sl <= 0.0:
                return None
            tp = candle.close + self.p_float("tp_atr") * atr  # port: same order
            return StrategySignal(SignalType.LONG, stop_loss=sl, take_profit=tp)
        if rsi > self.p_float("upper"):
            sl = candle.close + self.p_float("sl_atr") * atr  # port: same order
            tp = candle.close - self.p_float("tp_atr") * atr  # port: same order
            if tp <= 0.0:
                return None
            return StrategySignal(SignalType.SHORT, stop_loss=sl, take_profit=tp)
        return None

    def on_batch(self, candles: pa.RecordBatch, indicators: pa.RecordBatch) -> BatchSignals:
        """``on_candle`` vectorised. numpy's float64 ``+ - *`` round like Python floats,
        so the SL/TP prices are bit-identical; the ``sl <= 0`` / ``tp <= 0`` guards too."""
        rsi, rsi_ok = batch_column(indicators, self._rsi)
        atr, atr_ok = batch_column(indicators, self._atr)
        close = np.asarray(candles.column("close").to_numpy(), dtype=np.float64)
        usable = rsi_ok & atr_ok & (atr > 0.0)
        low = usable & (rsi < self.p_float("lower"))
        high = usable & ~low & (rsi > self.p_float("upper"))
        sl_atr, tp_atr = self.p_float("sl_atr"), self.p_float("tp_atr")
        long_sl = close - sl_atr * atr  # port: same order as on_candle
        long_tp = close + tp_atr * atr  # port: same order
        short_sl = close + sl_atr * atr  # port: same order
        short_tp = close - tp_atr * atr  # port: same order
        long = low & ~(long_sl <= 0.0)
        short = high & ~(short_tp <= 0.0)
        fire = long | short
        return {
            "signal_type": long_short_signals(long, short),
            "stop_loss": masked(np.where(long, long_sl, short_sl), fire),
            "take_profit": masked(np.where(long, long_tp, short_tp), fire),
        }


class DonchianBreakout(BaseStrategy):
    """Enter on a close beyond the previous N-bar channel; exit via ``check_exit``."""

    name = "donchian_breakout"
    DEFAULTS: Mapping[str, Any] = {"channel": 20, "exit_channel": 10, "atr": 14, "sl_atr": 2.5}
    ENGINE_DEFAULTS: Mapping[str, Any] = {"sizing": "risk", "risk_pct": 0.005, "lot_step": 0.01}

    def __init__(self, params: Mapping[str, Any] | None = None, timeframe: str = "M1") -> None:
        super().__init__(params, timeframe)
        ch, ex = self.p_int("channel"), self.p_int("exit_channel")
        self._hi = self.ind(f"highest:{ch}")
        self._lo = self.ind(f"lowest:{ch}")
        self._xhi = self.ind(f"highest:{ex}")
        self._xlo = self.ind(f"lowest:{ex}")
        self._atr = self.ind(f"atr:{self.p_int('atr')}")
        self._prev: dict[str, float | None] = {}

    def indicators(self) -> Sequence[IndicatorRequest]:
        ch, ex = self.p_int("channel"), self.p_int("exit_channel")
        return [
            IndicatorRequest(self.timeframe, "bid", f"highest:{ch}"),
            IndicatorRequest(self.timeframe, "bid", f"lowest:{ch}"),
            IndicatorRequest(self.timeframe, "bid", f"highest:{ex}"),
            IndicatorRequest(self.timeframe, "bid", f"lowest:{ex}"),
            IndicatorRequest(self.timeframe, "bid", f"atr:{self.p_int('atr')}"),
        ]

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        lo = self._prev.get(self._xlo)
        hi = self._prev.get(self._xhi)
        if position.side == "long":
            return lo is not None and candle.close < lo
        return hi is not None and candle.close > hi

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        prev_hi = self._prev.get(self._hi)
        prev_lo = self._prev.get(self._lo)
        atr = indicators[self._atr]
        self._prev = dict(indicators)
        if prev_hi is None or prev_lo is None or atr is None or atr <= 0.0:
            return None
        stop = self.p_float("sl_atr") * atr  # port: same order
        if candle.close > prev_hi:
            if candle.close - stop <= 0.0:  # a long stop must stay a positive price
                return None
            return StrategySignal(SignalType.LONG, stop_loss=candle.close - stop)
        if candle.close < prev_lo:
            return StrategySignal(SignalType.SHORT, stop_loss=candle.close + stop)
        return None


class MtfTrend(BaseStrategy):
    """Trade the base timeframe's EMA crossover in the higher timeframe's trend direction.

    Entries are limit orders a fraction of ATR behind the close; signals carry metadata.
    """

    name = "mtf_trend"
    DEFAULTS: Mapping[str, Any] = {
        "fast": 8,
        "slow": 21,
        "trend": 20,
        "atr": 14,
        "pullback_atr": 0.25,
        "sl_atr": 3.0,
        "tp_atr": 6.0,
    }
    ENGINE_DEFAULTS: Mapping[str, Any] = {
        "slippage_fixed": 0.00001,
        "slippage_random": 0.00002,
        "commission_rate": 0.00002,
        "max_positions": 2,
        "limit_ttl": 5,
    }

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        timeframe: str = "M1",
        higher_timeframe: str | None = None,
    ) -> None:
        super().__init__(params, timeframe)
        given = dict(params or {})
        htf = str(given.get("higher_timeframe", higher_timeframe or self.timeframe))
        if htf not in TIMEFRAME_SECONDS:
            raise ConfigError(f"mtf_trend: unknown higher_timeframe {htf!r}")
        self.higher_timeframe = htf
        self._fast = self.ind(f"ema:{self.p_int('fast')}")
        self._slow = self.ind(f"ema:{self.p_int('slow')}")
        self._macd = self.ind("macd:12:26:9")
        self._atr = self.ind(f"atr:{self.p_int('atr')}")
        self._trend = self.ind(f"ema:{self.p_int('trend')}", timeframe=htf)
        self._htf_close: float | None = None
        self._prev = 0

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        subs = [(self.timeframe, "bid")]
        if self.higher_timeframe != self.timeframe:
            subs.append((self.higher_timeframe, "bid"))
        return subs

    def indicators(self) -> Sequence[IndicatorRequest]:
        tf = self.timeframe
        return [
            IndicatorRequest(tf, "bid", f"ema:{self.p_int('fast')}"),
            IndicatorRequest(tf, "bid", f"ema:{self.p_int('slow')}"),
            IndicatorRequest(tf, "bid", "macd:12:26:9"),
            IndicatorRequest(tf, "bid", f"atr:{self.p_int('atr')}"),
            IndicatorRequest(self.higher_timeframe, "bid", f"ema:{self.p_int('trend')}"),
        ]

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        if candle.timeframe == self.higher_timeframe:
            self._htf_close = candle.close
            if self.higher_timeframe != self.timeframe:
                return None
        fast, slow = indicators[self._fast], indicators[self._slow]
        trend, atr = indicators[self._trend], indicators[self._atr]
        macd = indicators[self._macd]
        if fast is None or slow is None or atr is None or atr <= 0.0:
            return None
        state = 1 if fast > slow else (-1 if fast < slow else self._prev)
        prev, self._prev = self._prev, state
        if prev == 0 or state == prev or trend is None or self._htf_close is None:
            return None
        up = self._htf_close > trend
        meta = {
            "trend": "up" if up else "down",
            "htf_close": repr(self._htf_close),
            "macd": "none" if macd is None else repr(macd),
        }
        if state > 0 and up:
            entry = candle.close - self.p_float("pullback_atr") * atr  # port: same order
            if entry - self.p_float("sl_atr") * atr <= 0.0:
                return None
            return StrategySignal(
                SignalType.LONG,
                entry_price=entry,
                stop_loss=entry - self.p_float("sl_atr") * atr,  # port: same order
                take_profit=entry + self.p_float("tp_atr") * atr,  # port: same order
                metadata=meta,
            )
        if state < 0 and not up:
            entry = candle.close + self.p_float("pullback_atr") * atr  # port: same order
            tp = entry - self.p_float("tp_atr") * atr  # port: same order
            if tp <= 0.0:
                return None
            return StrategySignal(
                SignalType.SHORT,
                entry_price=entry,
                stop_loss=entry + self.p_float("sl_atr") * atr,  # port: same order
                take_profit=tp,
                metadata=meta,
            )
        return StrategySignal(SignalType.CLOSE, metadata=meta)


class Churn(BaseStrategy):
    """Alternates LONG/SHORT every ``every`` bars with tight SL/TP: execution-heavy."""

    name = "churn"
    DEFAULTS: Mapping[str, Any] = {"every": 3, "band": 0.001}
    ENGINE_DEFAULTS: Mapping[str, Any] = {
        "max_positions": 3,
        "commission_rate": 0.00001,
        "slippage_random": 0.00001,
    }

    def __init__(self, params: Mapping[str, Any] | None = None, timeframe: str = "M1") -> None:
        super().__init__(params, timeframe)
        if self.p_int("every") < 1:
            raise ConfigError("churn: every must be >= 1")
        self._n = 0

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        self._n += 1
        if self._n % self.p_int("every") != 0:
            return None
        band = candle.close * self.p_float("band")  # port: same order
        if (self._n // self.p_int("every")) % 2 == 1:
            return StrategySignal(
                SignalType.LONG, stop_loss=candle.close - band, take_profit=candle.close + band
            )
        return StrategySignal(
            SignalType.SHORT, stop_loss=candle.close + band, take_profit=candle.close - band
        )

    def on_batch(self, candles: pa.RecordBatch, indicators: pa.RecordBatch) -> BatchSignals:
        """``on_candle`` vectorised: the candle counter carried across chunks."""
        n = candles.num_rows
        counts = self._n + 1 + np.arange(n, dtype=np.int64)  # self._n after each row
        self._n += n
        every = self.p_int("every")
        fire = counts % every == 0
        long = fire & ((counts // every) % 2 == 1)
        short = fire & ~long
        close = np.asarray(candles.column("close").to_numpy(), dtype=np.float64)
        band = close * self.p_float("band")
        return {
            "signal_type": long_short_signals(long, short),
            "stop_loss": masked(np.where(long, close - band, close + band), fire),
            "take_profit": masked(np.where(long, close + band, close - band), fire),
        }


STRATEGIES: dict[str, Callable[..., BaseStrategy]] = {
    cls.name: cls
    for cls in (NoopStrategy, SmaCross, RsiReversion, DonchianBreakout, MtfTrend, Churn)
}


def strategy_names() -> list[str]:
    """Registered strategy names, sorted."""
    return sorted(STRATEGIES)


def _stream_timeframes(stream: CandleStream | None) -> list[str]:
    if stream is None:
        return []
    seen = {c.timeframe for c in stream.candles}
    return sorted(seen, key=lambda tf: TIMEFRAME_SECONDS[tf])


def make_strategy(
    name: str, params: Mapping[str, Any] | None = None, stream: CandleStream | None = None
) -> tuple[BaseStrategy, EngineConfig]:
    """Build a registered strategy and its engine config from one ``params`` mapping.

    Engine keys (``EngineConfig`` fields) go to the config, over the strategy's
    ``ENGINE_DEFAULTS``; the rest go to the strategy. ``timeframe`` defaults to the
    stream's shortest timeframe, ``higher_timeframe`` to its next one.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(strategy_names())}")
    cls = STRATEGIES[name]
    given = dict(params or {})
    engine = {k: v for k, v in given.items() if k in ENGINE_PARAM_NAMES}
    strat = {k: v for k, v in given.items() if k not in ENGINE_PARAM_NAMES}
    tfs = _stream_timeframes(stream)
    base_tf = tfs[0] if tfs else "M1"
    if name == "mtf_trend":
        higher = tfs[1] if len(tfs) > 1 else base_tf
        strategy: BaseStrategy = MtfTrend(strat, timeframe=base_tf, higher_timeframe=higher)
    else:
        strategy = cls(strat, timeframe=base_tf)
    config = engine_config_from_params({**cls.ENGINE_DEFAULTS, **engine})  # type: ignore[attr-defined]
    return strategy, config
