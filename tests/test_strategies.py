"""Unit tests of the reference strategies' logic and of ``make_strategy``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from legacy_py.config import EngineConfig
from legacy_py.engine import run_python
from legacy_py.errors import ConfigError
from legacy_py.loader import CandleStream
from legacy_py.strategies import (
    STRATEGIES,
    Churn,
    DonchianBreakout,
    MtfTrend,
    RsiReversion,
    SmaCross,
    make_strategy,
    strategy_names,
)
from legacy_py.synthetic import generate_stream
from legacy_py.trace import Trace
from legacy_py.types import Candle, Position, SignalType, StrategySignal
from tests.enginekit import bar, pair, stream

LONG, SHORT, CLOSE = SignalType.LONG, SignalType.SHORT, SignalType.CLOSE


# ----------------------------------------------------------------------------- helpers


def closes_stream(closes: Sequence[float], spread: float = 0.0) -> CandleStream:
    """A bid/ask M1 stream of flat bars (o = h = l = c) at the given closes."""
    candles: list[Candle] = []
    for minute, c in enumerate(closes, start=1):
        candles += pair(minute, c, c, c, c, spread)
    return stream(candles)


def run_named(name: str, s: CandleStream, params: dict[str, Any] | None = None) -> Trace:
    strategy, config = make_strategy(name, params, s)
    return run_python(s, strategy, config, 0, params)


def bid_rows(trace: Trace) -> list[dict[str, Any]]:
    """Event rows of the subscribed (on_candle called) events."""
    return [r for r in trace.events.to_pylist() if r["signal_type"] is not None]


def position(side: str) -> Position:
    return Position(1, side, 1.0, 1.0, 0, 0, None, None)


def candle_at(close: float, tf: str = "M1", minute: int = 10) -> Candle:
    return bar(minute, "bid", close, close, close, close, tf)


# ----------------------------------------------------------------------------- registry


def test_registry_names() -> None:
    assert strategy_names() == sorted(STRATEGIES)
    assert set(strategy_names()) == {
        "noop",
        "sma_cross",
        "rsi_reversion",
        "donchian_breakout",
        "mtf_trend",
        "churn",
    }


# ----------------------------------------------------------------------------- sma_cross


def test_sma_cross_long_on_up_cross_short_on_down_cross() -> None:
    # fast = sma:1 (the close), slow = sma:2: fast > slow iff the close rose.
    t = run_named(
        "sma_cross", closes_stream([1.0, 2.0, 1.0, 2.0, 2.0, 3.0]), {"fast": 1, "slow": 2}
    )
    rows = bid_rows(t)
    assert [r["signal_type"] for r in rows] == ["NONE", "NONE", "SHORT", "LONG", "NONE", "NONE"]
    # bar 2 sets the first state (no cross yet); the equal bar (fast == slow) keeps the state
    assert rows[2]["ind_M1_bid_sma_1"] == 1.0 and rows[2]["ind_M1_bid_sma_2"] == 1.5
    assert rows[4]["ind_M1_bid_sma_1"] == rows[4]["ind_M1_bid_sma_2"] == 2.0
    assert rows[2]["signal_entry_price"] is None  # market orders
    assert [r["signal_status"] for r in rows[2:4]] == ["accepted", "accepted"]
    # the LONG reverses the short: close fill then entry fill
    reasons = [(f["side"], f["reason"]) for f in t.fills.to_pylist()]
    assert reasons == [("sell", "entry"), ("buy", "close"), ("buy", "entry")]


def test_sma_cross_params_validation() -> None:
    with pytest.raises(ConfigError, match="fast < slow"):
        SmaCross({"fast": 5, "slow": 5})
    with pytest.raises(ConfigError, match="fast < slow"):
        SmaCross({"fast": 0, "slow": 5})


# ------------------------------------------------------------------------- rsi_reversion


def test_rsi_reversion_long_when_oversold_with_atr_stops() -> None:
    s = closes_stream([1.0, 0.9, 0.8, 0.7], spread=0.01)
    t = run_named("rsi_reversion", s, {"period": 2, "atr": 2})
    rows = bid_rows(t)
    assert [r["signal_type"] for r in rows] == ["NONE", "NONE", "LONG", "LONG"]
    for r, close in zip(rows[2:], (0.8, 0.7), strict=True):
        assert r["ind_M1_bid_rsi_2"] == 0.0  # only losses
        atr = r["ind_M1_bid_atr_2"]
        assert r["signal_stop_loss"] == close - 2.0 * atr
        assert r["signal_take_profit"] == close + 3.0 * atr
        assert r["signal_stop_loss"] < close < r["signal_take_profit"]
    # risk sizing (engine default of the strategy) sized the entry
    assert rows[2]["signal_status"] == "accepted"
    assert rows[3]["signal_status"] == "rejected:max_positions"


def test_rsi_reversion_short_when_overbought() -> None:
    t = run_named("rsi_reversion", closes_stream([1.0, 1.1, 1.2]), {"period": 2, "atr": 2})
    r = bid_rows(t)[2]
    assert r["signal_type"] == "SHORT" and r["ind_M1_bid_rsi_2"] == 100.0
    assert r["signal_take_profit"] < 1.2 < r["signal_stop_loss"]


def test_rsi_reversion_no_signal_between_bands_or_without_atr() -> None:
    strat = RsiReversion({"period": 2, "atr": 2})
    c = candle_at(1.0)
    assert strat.on_candle(c, {"M1_bid_rsi_2": 50.0, "M1_bid_atr_2": 0.1}) is None
    assert strat.on_candle(c, {"M1_bid_rsi_2": 10.0, "M1_bid_atr_2": 0.0}) is None
    assert strat.on_candle(c, {"M1_bid_rsi_2": None, "M1_bid_atr_2": 0.1}) is None
    # a long whose stop would be <= 0 and a short whose target would be <= 0 are skipped
    assert strat.on_candle(c, {"M1_bid_rsi_2": 10.0, "M1_bid_atr_2": 0.5}) is None
    assert strat.on_candle(c, {"M1_bid_rsi_2": 90.0, "M1_bid_atr_2": 0.5}) is None


# --------------------------------------------------------------------- donchian_breakout


def donchian_indicators(hi: float, lo: float, xhi: float, xlo: float, atr: float) -> dict[str, Any]:
    return {
        "M1_bid_highest_3": hi,
        "M1_bid_lowest_3": lo,
        "M1_bid_highest_2": xhi,
        "M1_bid_lowest_2": xlo,
        "M1_bid_atr_2": atr,
    }


def test_donchian_check_exit_uses_previous_exit_channel() -> None:
    strat = DonchianBreakout({"channel": 3, "exit_channel": 2, "atr": 2})
    assert not strat.check_exit(position("long"), candle_at(0.1), {})  # nothing seen yet
    strat.on_candle(candle_at(1.0), donchian_indicators(1.2, 0.8, 1.1, 0.9, 0.1))
    # the *previous* event's exit-channel low (0.9) is the threshold, strictly below
    now = donchian_indicators(1.2, 0.5, 1.1, 0.5, 0.1)  # current values are ignored
    assert strat.check_exit(position("long"), candle_at(0.89), now)
    assert not strat.check_exit(position("long"), candle_at(0.9), now)
    assert strat.check_exit(position("short"), candle_at(1.11), now)
    assert not strat.check_exit(position("short"), candle_at(1.1), now)


def test_donchian_breakout_entries() -> None:
    strat = DonchianBreakout({"channel": 3, "exit_channel": 2, "atr": 2, "sl_atr": 2.0})
    ind = donchian_indicators(1.2, 0.8, 1.1, 0.9, 0.05)
    assert strat.on_candle(candle_at(1.0), ind) is None  # no previous channel yet
    up = strat.on_candle(candle_at(1.3), ind)
    assert up == StrategySignal(LONG, stop_loss=1.3 - 2.0 * 0.05)
    down = strat.on_candle(candle_at(0.7), ind)
    assert down == StrategySignal(SHORT, stop_loss=0.7 + 2.0 * 0.05)
    assert strat.on_candle(candle_at(1.0), ind) is None  # inside the channel


def test_donchian_closes_long_via_check_exit_in_engine() -> None:
    closes = [1.0, 1.0, 1.0, 1.2, 1.3, 1.25, 1.1, 1.1]
    t = run_named(
        "donchian_breakout",
        closes_stream(closes),
        {"channel": 2, "exit_channel": 2, "atr": 2, "sizing": "fixed"},
    )
    fills = [(f["reason"], f["side"]) for f in t.fills.to_pylist()]
    assert fills[:2] == [("entry", "buy"), ("exit", "sell")]
    assert sum(r["exit_requests"] for r in t.events.to_pylist()) >= 1


def test_donchian_long_stop_never_negative() -> None:
    # Found by property/test_legacy_properties.py. Bar 2 breaks out of a 1-bar channel
    # (close 1.0 > 0.5) with ATR(1) = true range 0.5, so stop = 1.0 - 2.5 * 0.5 = -0.25.
    s = stream([bar(1, "bid", 0.5, 0.5, 0.5, 0.5), bar(2, "bid", 0.5, 1.0, 0.5, 1.0)])
    t = run_named("donchian_breakout", s, {"channel": 1, "exit_channel": 1, "atr": 1})
    # expected (like rsi_reversion / mtf_trend): no signal when the stop would be <= 0
    assert bid_rows(t)[1]["signal_type"] == "NONE"


# ----------------------------------------------------------------------------- mtf_trend

MTF_KEYS = ["trend", "htf_close", "macd"]


def mtf_indicators(fast: float, slow: float, trend: float, atr: float = 0.1) -> dict[str, Any]:
    return {
        "M1_bid_ema_2": fast,
        "M1_bid_ema_3": slow,
        "M1_bid_macd_12_26_9": None,
        "M1_bid_atr_2": atr,
        "M5_bid_ema_2": trend,
    }


def test_mtf_trend_limit_entries_metadata_and_counter_trend_close() -> None:
    strat = MtfTrend(
        {"fast": 2, "slow": 3, "trend": 2, "atr": 2}, timeframe="M1", higher_timeframe="M5"
    )
    assert strat.subscriptions() == [("M1", "bid"), ("M5", "bid")]
    # the higher timeframe candle only records its close
    assert strat.on_candle(candle_at(1.5, "M5"), mtf_indicators(1.0, 2.0, 1.2)) is None
    # first state (fast < slow): no cross yet
    assert strat.on_candle(candle_at(1.0), mtf_indicators(1.0, 2.0, 1.2)) is None
    # up-cross in an up trend (htf close 1.5 > trend 1.2): limit LONG behind the close
    sig = strat.on_candle(candle_at(1.0), mtf_indicators(2.0, 1.0, 1.2))
    assert sig is not None and sig.signal_type is LONG
    entry = 1.0 - 0.25 * 0.1
    assert sig.entry_price == entry
    assert sig.stop_loss == entry - 3.0 * 0.1 and sig.take_profit == entry + 6.0 * 0.1
    assert list(sig.metadata) == MTF_KEYS
    assert sig.metadata == {"trend": "up", "htf_close": "1.5", "macd": "none"}
    # down-cross against the up trend: CLOSE, with the same metadata keys
    sig = strat.on_candle(candle_at(1.0), mtf_indicators(1.0, 2.0, 1.2))
    assert sig is not None and sig.signal_type is CLOSE
    assert sig.entry_price is None and list(sig.metadata) == MTF_KEYS
    # down trend: a down-cross is a limit SHORT above the close
    assert strat.on_candle(candle_at(1.0, "M5"), mtf_indicators(2.0, 1.0, 1.2)) is None
    sig = strat.on_candle(candle_at(1.0), mtf_indicators(2.0, 1.0, 1.2))  # up-cross, down trend
    assert sig is not None and sig.signal_type is CLOSE and sig.metadata["trend"] == "down"
    sig = strat.on_candle(candle_at(1.0), mtf_indicators(1.0, 2.0, 1.2))
    assert sig is not None and sig.signal_type is SHORT
    assert sig.entry_price == 1.0 + 0.25 * 0.1
    assert sig.metadata["trend"] == "down" and list(sig.metadata) == MTF_KEYS


def test_mtf_trend_metadata_in_trace_keeps_order() -> None:
    s = generate_stream(600, seed=3, timeframes=("M1", "M5"))
    t = run_named("mtf_trend", s, {"fast": 2, "slow": 5, "trend": 3})
    rows = bid_rows(t)
    kinds = {r["signal_type"] for r in rows}
    assert {"LONG", "SHORT", "CLOSE"} <= kinds
    for r in rows:
        if r["signal_type"] in ("LONG", "SHORT"):
            assert r["signal_entry_price"] is not None  # limit entries
        if r["signal_type"] != "NONE":
            assert [k for k, _ in r["signal_metadata"]] == MTF_KEYS
        else:
            assert r["signal_metadata"] is None


# --------------------------------------------------------------------------------- churn


def test_churn_alternates_long_and_short() -> None:
    strat = Churn({"every": 2, "band": 0.1})
    out = [strat.on_candle(candle_at(2.0), {}) for _ in range(8)]
    kinds = [None if s is None else s.signal_type for s in out]
    assert kinds == [None, LONG, None, SHORT, None, LONG, None, SHORT]
    first = out[1]
    assert first is not None
    assert (first.stop_loss, first.take_profit) == (2.0 - 2.0 * 0.1, 2.0 + 2.0 * 0.1)
    with pytest.raises(ConfigError, match="every"):
        Churn({"every": 0})


# ------------------------------------------------------------------------- make_strategy


def mtf_stream() -> CandleStream:
    return generate_stream(24, seed=1, timeframes=("M5", "H1"))


def test_make_strategy_engine_defaults_and_overrides() -> None:
    _, cfg = make_strategy("rsi_reversion")
    assert cfg == EngineConfig(sizing="risk", risk_pct=0.01, lot_step=0.01)
    strat, cfg = make_strategy(
        "rsi_reversion", {"risk_pct": 0.02, "commission_rate": 0.001, "period": 5}
    )
    assert (cfg.sizing, cfg.risk_pct, cfg.commission_rate) == ("risk", 0.02, 0.001)
    assert strat.params["period"] == 5 and strat.params["atr"] == 14
    _, cfg = make_strategy("mtf_trend", {"max_positions": 1})
    assert cfg.max_positions == 1 and cfg.limit_ttl == 5 and cfg.slippage_random == 0.00002
    _, cfg = make_strategy("noop")
    assert cfg == EngineConfig()


def test_make_strategy_errors() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'nope'"):
        make_strategy("nope")
    with pytest.raises(ConfigError, match="unknown params"):
        make_strategy("sma_cross", {"fats": 3})
    with pytest.raises(ConfigError, match="must be int"):
        make_strategy("sma_cross", {"fast": 2.0})
    with pytest.raises(ConfigError, match="must be int"):
        make_strategy("churn", {"every": True})
    with pytest.raises(ConfigError, match="must be float"):
        make_strategy("churn", {"band": "0.1"})
    with pytest.raises(ConfigError):
        make_strategy("churn", {"units": -1.0})
    with pytest.raises(ConfigError, match="unknown timeframe"):
        make_strategy("noop", {"timeframe": "M2"})
    with pytest.raises(ConfigError, match="higher_timeframe"):
        make_strategy("mtf_trend", {"higher_timeframe": "W1"})


def test_make_strategy_int_to_float_coercion() -> None:
    strat, cfg = make_strategy("rsi_reversion", {"lower": 25, "sl_atr": 1, "units": 2})
    assert strat.params["lower"] == 25.0 and type(strat.params["lower"]) is float
    assert type(strat.params["sl_atr"]) is float
    assert cfg.units == 2.0 and type(cfg.units) is float


def test_make_strategy_timeframe_defaults() -> None:
    s = mtf_stream()
    strat, _ = make_strategy("sma_cross", None, s)
    assert strat.timeframe == "M5" and strat.subscriptions() == [("M5", "bid")]
    mtf, _ = make_strategy("mtf_trend", None, s)
    assert isinstance(mtf, MtfTrend)
    assert (mtf.timeframe, mtf.higher_timeframe) == ("M5", "H1")
    assert mtf.subscriptions() == [("M5", "bid"), ("H1", "bid")]
    # explicit params win
    explicit, _ = make_strategy("mtf_trend", {"timeframe": "H1", "higher_timeframe": "H1"}, s)
    assert isinstance(explicit, MtfTrend)
    assert (explicit.timeframe, explicit.higher_timeframe) == ("H1", "H1")
    assert explicit.subscriptions() == [("H1", "bid")]
    # single timeframe: the higher timeframe is the base one; no stream: M1
    single, _ = make_strategy("mtf_trend", None, closes_stream([1.0]))
    assert isinstance(single, MtfTrend) and single.higher_timeframe == "M1"
    assert make_strategy("churn")[0].timeframe == "M1"
    assert make_strategy("noop", {"timeframe": "H4"})[0].timeframe == "H4"


def test_single_timeframe_mtf_trend_trades_on_its_own_timeframe() -> None:
    s = generate_stream(400, seed=5)
    t = run_named("mtf_trend", s, {"fast": 2, "slow": 5, "trend": 3})
    rows = bid_rows(t)
    assert len(rows) == 400
    assert any(r["signal_type"] in ("LONG", "SHORT") for r in rows)


def test_noop_never_signals() -> None:
    t = run_named("noop", closes_stream([1.0, 2.0, 3.0]))
    assert [r["signal_type"] for r in bid_rows(t)] == ["NONE"] * 3
    assert t.fills.num_rows == 0
