"""Unit tests of the legacy engine pipeline with hand-computed expectations."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from legacy_py import engine as engine_mod
from legacy_py.config import EngineConfig, config_dict
from legacy_py.engine import EventEngine, run_python, validate_signal
from legacy_py.errors import ConfigError, StrategyError, StrategyTypeError
from legacy_py.rng import uniform
from legacy_py.types import IndicatorRequest, SignalType, StrategySignal
from tests.enginekit import MIN, Scripted, bar, pair, stream

LONG = SignalType.LONG
SHORT = SignalType.SHORT


def three_bars() -> list:  # type: ignore[type-arg]
    return (
        pair(1, 1.0, 1.0, 1.0, 1.0, 0.1)
        + pair(2, 1.0, 1.2, 0.9, 1.1, 0.1)
        + pair(3, 1.0, 1.05, 0.5, 0.6, 0.1)
    )


def test_market_entry_next_ask_open_then_stop_loss_with_slippage() -> None:
    cfg = EngineConfig(initial_cash=1000.0, units=2.0, slippage_fixed=0.01, commission_rate=0.001)
    strat = Scripted({1: StrategySignal(LONG, stop_loss=0.75, take_profit=2.0)})
    trace = run_python(stream(three_bars()), strat, cfg, seed=1)
    fills = trace.fills.to_pylist()
    assert [(f["event_index"], f["side"], f["reason"]) for f in fills] == [
        (3, "buy", "entry"),
        (4, "sell", "sl"),
    ]
    entry = 1.1 + 0.01
    assert fills[0]["fill_price"] == entry
    c1 = 2.0 * entry * 1.0 * 0.001
    assert fills[0]["commission"] == c1
    exit_price = 0.75 - 0.01
    assert fills[1]["fill_price"] == exit_price
    c2 = 2.0 * exit_price * 1.0 * 0.001
    gross = (exit_price - entry) * 2.0 * 1.0
    ev = trace.events.to_pylist()
    assert ev[3]["cash"] == 1000.0 - c1
    assert ev[3]["position_qty"] == 2.0
    assert ev[3]["avg_price"] == entry
    # long marked at the last bid close (1.1), booked at event 3
    assert ev[3]["unrealized_pnl"] == (1.1 - entry) * 2.0 * 1.0
    assert ev[4]["cash"] == 1000.0 - c1 + gross - c2
    assert ev[4]["realized_pnl"] == 0.0 + (gross - c1 - c2)
    assert ev[4]["open_positions"] == 0 and ev[4]["avg_price"] is None
    trades = trace.trades.to_pylist()
    assert len(trades) == 1 and trades[0]["exit_reason"] == "sl"
    assert trades[0]["net_pnl"] == gross - c1 - c2
    assert ev[0]["signal_type"] == "LONG" and ev[0]["signal_status"] == "accepted"
    assert ev[1]["signal_type"] is None  # ask event: not subscribed


def test_sl_wins_when_sl_and_tp_in_same_bar() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.0, 1.5, 0.5, 1.0)
    strat = Scripted({1: StrategySignal(LONG, stop_loss=0.8, take_profit=1.2)})
    trace = run_python(stream(bars), strat, EngineConfig())
    fills = trace.fills.to_pylist()
    assert [f["reason"] for f in fills] == ["entry", "sl"]
    assert fills[1]["fill_price"] == 0.8


def test_gap_through_stop_fills_at_open_and_gap_through_tp() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 0.7, 0.75, 0.6, 0.7)
    t = run_python(stream(bars), Scripted({1: StrategySignal(LONG, stop_loss=0.8)}), EngineConfig())
    assert t.fills.column("fill_price").to_pylist()[1] == 0.7
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.3, 1.4, 1.25, 1.3)
    t = run_python(
        stream(bars), Scripted({1: StrategySignal(LONG, take_profit=1.2)}), EngineConfig()
    )
    f = t.fills.to_pylist()[1]
    assert (f["reason"], f["fill_price"], f["slippage"]) == ("tp", 1.3, 0.0)


def test_short_stops_checked_on_ask_side() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0, 0.1) + pair(2, 1.0, 1.0, 1.0, 1.0, 0.1)
    bars += pair(3, 1.0, 1.15, 0.95, 1.0, 0.1)  # ask high 1.25 >= SL 1.2
    strat = Scripted({1: StrategySignal(SHORT, stop_loss=1.2, take_profit=0.5)})
    t = run_python(stream(bars), strat, EngineConfig())
    f = t.fills.to_pylist()
    assert [(x["event_index"], x["side"], x["reason"], x["fill_price"]) for x in f] == [
        (2, "sell", "entry", 1.0),
        (5, "buy", "sl", 1.2),
    ]
    assert t.trades.column("gross_pnl").to_pylist() == [(1.0 - 1.2) * 1.0 * 1.0]


def test_limit_entry_fills_at_limit_or_open_and_expires() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 0.95, 1.0) + pair(3, 0.8, 0.9, 0.7, 0.8)
    strat = Scripted({1: StrategySignal(LONG, entry_price=0.9)})
    t = run_python(stream(bars), strat, EngineConfig())
    f = t.fills.to_pylist()
    assert [(x["event_index"], x["fill_price"], x["slippage"]) for x in f] == [(5, 0.8, 0.0)]
    # range touches the limit: fill at the limit
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 0.85, 1.0)
    t = run_python(
        stream(bars), Scripted({1: StrategySignal(LONG, entry_price=0.9)}), EngineConfig()
    )
    assert t.fills.column("fill_price").to_pylist() == [0.9]
    # never reached: cancelled after limit_ttl ask bars
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.0, 1.0, 1.0, 1.0)
    t = run_python(
        stream(bars),
        Scripted({1: StrategySignal(LONG, entry_price=0.5)}),
        EngineConfig(limit_ttl=2),
    )
    assert t.fills.num_rows == 0
    assert t.summary_dict()["cancelled_orders"] == 1
    assert t.events.column("pending_orders").to_pylist() == [1, 1, 1, 1, 1, 0]


def test_sell_limit() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.15, 0.9, 1.0)
    t = run_python(
        stream(bars), Scripted({1: StrategySignal(SHORT, entry_price=1.1)}), EngineConfig()
    )
    assert t.fills.column("fill_price").to_pylist() == [1.1]
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.2, 1.25, 0.9, 1.0)
    t = run_python(
        stream(bars), Scripted({1: StrategySignal(SHORT, entry_price=1.1)}), EngineConfig()
    )
    assert t.fills.column("fill_price").to_pylist() == [1.2]


def test_signal_rejections_and_risk_sizing() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.0, 1.0, 1.0, 1.0)
    sigs = {
        1: StrategySignal(LONG, stop_loss=1.5),  # stop above reference
        2: StrategySignal(LONG, stop_loss=0.9),  # accepted, risk sized
        3: StrategySignal(LONG, stop_loss=0.9),  # capacity
    }
    cfg = EngineConfig(sizing="risk", risk_pct=0.01, lot_step=0.5, initial_cash=1000.0)
    t = run_python(stream(bars), Scripted(sigs), cfg)
    st = [s for s in t.events.column("signal_status").to_pylist() if s is not None]
    assert st == ["rejected:invalid_stops", "accepted", "rejected:max_positions"]
    raw = 1000.0 * 0.01 / (abs(1.0 - 0.9) * 1.0)
    import math

    assert t.fills.column("quantity").to_pylist() == [math.floor(raw / 0.5) * 0.5]
    # no stop with risk sizing; size zero
    t = run_python(stream(bars[:2]), Scripted({1: StrategySignal(LONG)}), cfg)
    assert t.events.column("signal_status").to_pylist()[0] == "rejected:no_stop"
    cfg2 = EngineConfig(sizing="risk", risk_pct=0.0001, lot_step=100.0, initial_cash=1000.0)
    t = run_python(stream(bars[:2]), Scripted({1: StrategySignal(LONG, stop_loss=0.5)}), cfg2)
    assert t.events.column("signal_status").to_pylist()[0] == "rejected:size_zero"


def test_reversal_closes_opposite_and_close_signal() -> None:
    bars: list = []  # type: ignore[type-arg]
    for m in range(1, 7):
        bars += pair(m, 1.0 + m / 10, 1.0 + m / 10, 1.0 + m / 10, 1.0 + m / 10)
    sigs = {1: StrategySignal(LONG), 3: StrategySignal(SHORT), 5: StrategySignal(SignalType.CLOSE)}
    t = run_python(stream(bars), Scripted(sigs), EngineConfig(max_positions=1))
    f = [(x["event_index"], x["order_id"], x["side"], x["reason"]) for x in t.fills.to_pylist()]
    # long fills on ask m2; SHORT at m3 closes it (order 2) and enters short (order 3), both on
    # bid m4 in order-id order; CLOSE at m5 closes the short on ask m6.
    assert f == [
        (3, 1, "buy", "entry"),
        (6, 2, "sell", "close"),
        (6, 3, "sell", "entry"),
        (11, 4, "buy", "close"),
    ]
    assert t.trades.column("exit_reason").to_pylist() == ["close", "close"]
    # an opposite *pending* entry is cancelled by a new signal
    sigs = {1: StrategySignal(LONG, entry_price=0.5), 2: StrategySignal(SHORT)}
    t = run_python(stream(bars[:3]), Scripted(sigs), EngineConfig())
    assert t.events.column("pending_orders").to_pylist() == [1, 1, 1]
    assert t.summary_dict()["cancelled_orders"] == 1
    assert t.events.column("signal_status").to_pylist()[2] == "accepted"


def test_check_exit_creates_market_exit() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.2, 1.2, 1.2, 1.2)
    bars += pair(4, 1.3, 1.3, 1.3, 1.3)
    strat = Scripted({1: StrategySignal(LONG)}, exits=[3])
    t = run_python(stream(bars), strat, EngineConfig())
    f = [(x["event_index"], x["reason"], x["fill_price"]) for x in t.fills.to_pylist()]
    assert f == [(3, "entry", 1.0), (6, "exit", 1.3)]
    assert t.events.column("exit_requests").to_pylist()[4] == 1
    assert strat.exit_calls == [1]  # position 1, once at m3; not again after the request


def test_random_slippage_comes_from_the_counter_rng() -> None:
    cfg = EngineConfig(slippage_fixed=0.001, slippage_random=0.01)
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0)
    t = run_python(stream(bars), Scripted({1: StrategySignal(LONG)}), cfg, seed=99)
    slip = 0.001 + 0.01 * uniform(99, 3, 0)
    assert t.fills.column("slippage").to_pylist() == [slip]
    assert t.fills.column("fill_price").to_pylist() == [1.0 + slip]
    t2 = run_python(stream(bars), Scripted({1: StrategySignal(LONG)}), cfg, seed=100)
    assert t2.hash() != t.hash()


def test_bid_only_stream_serves_both_sides() -> None:
    bars = [bar(m, "bid", 1.0, 1.0, 1.0, 1.0) for m in (1, 2, 3)]
    t = run_python(stream(bars), Scripted({1: StrategySignal(LONG)}), EngineConfig())
    assert t.fills.column("event_index").to_pylist() == [1]


def test_indicators_reach_strategy_and_trace() -> None:
    bars: list = []  # type: ignore[type-arg]
    for m, c in enumerate([1.0, 2.0, 3.0, 4.0], start=1):
        bars += pair(m, c, c, c, c)
    seen: list[float | None] = []
    strat = Scripted(
        requests=[IndicatorRequest("M1", "bid", "sma:2")],
        on_call=lambda c, ind: seen.append(ind["M1_bid_sma_2"]),
    )
    t = run_python(stream(bars), strat, EngineConfig())
    assert seen == [None, 1.5, 2.5, 3.5]
    assert t.events.column("ind_M1_bid_sma_2").to_pylist() == [
        None,
        None,
        1.5,
        1.5,
        2.5,
        2.5,
        3.5,
        3.5,
    ]


def test_strategy_exception_keeps_type_traceback_and_gets_note() -> None:
    class BoomError(Exception):
        pass

    def explode(c: object, ind: object) -> None:
        if getattr(c, "timestamp", 0) == 2 * MIN:
            raise BoomError("kaput")

    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(BoomError, match="kaput") as info:
        run_python(stream(bars), Scripted(on_call=explode), EngineConfig())
    assert any("at event 2" in n for n in info.value.__notes__)
    assert info.tb is not None and "explode" in str(info.traceback[-1].name)


def test_wrong_return_types_raise_type_error() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(StrategyTypeError, match="'scripted' on_candle at event 0 returned dict"):
        run_python(stream(bars), Scripted(on_call=lambda c, i: {"x": 1}), EngineConfig())
    assert isinstance(StrategyTypeError("x"), TypeError)

    class BadExit(Scripted):
        def check_exit(self, position, candle, indicators):  # type: ignore[no-untyped-def]
            return 1

    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(StrategyTypeError, match="check_exit at event 4 returned int"):
        run_python(stream(bars), BadExit({1: StrategySignal(LONG)}), EngineConfig())


def test_validate_signal_fields() -> None:
    assert validate_signal(None, "s", 0) is None
    s = validate_signal(StrategySignal(LONG, entry_price=2), "s", 0)
    assert s is not None and type(s.entry_price) is float
    with pytest.raises(StrategyError, match="finite positive"):
        validate_signal(StrategySignal(LONG, stop_loss=float("nan")), "s", 0)
    with pytest.raises(StrategyTypeError, match="metadata"):
        validate_signal(StrategySignal(LONG, metadata={"a": 1}), "s", 0)  # type: ignore[dict-item]
    with pytest.raises(StrategyTypeError, match="signal_type"):
        validate_signal(StrategySignal("LONG"), "s", 0)  # type: ignore[arg-type]
    with pytest.raises(StrategyTypeError, match="entry_price"):
        validate_signal(StrategySignal(LONG, entry_price="1"), "s", 0)  # type: ignore[arg-type]


def test_bad_subscriptions() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ConfigError, match="subscribes to nothing"):
        run_python(stream(bars), Scripted(subs=[]), EngineConfig())
    with pytest.raises(ConfigError, match="bad subscription"):
        run_python(stream(bars), Scripted(subs=[("M2", "bid")]), EngineConfig())
    with pytest.raises(ConfigError, match="not in stream"):
        run_python(stream(bars), Scripted(subs=[("H1", "bid")]), EngineConfig())


def test_facade_flag_env_and_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_mod.ENV_FLAG, raising=False)
    assert EventEngine().requested_rust is False
    monkeypatch.setenv(engine_mod.ENV_FLAG, "0")
    assert EventEngine().backend == "python"
    monkeypatch.setenv(engine_mod.ENV_FLAG, "maybe")
    with pytest.raises(ConfigError):
        EventEngine()
    monkeypatch.setattr(engine_mod, "USE_RUST_EVENT_ENGINE", False)
    monkeypatch.delenv(engine_mod.ENV_FLAG)
    eng = EventEngine(use_rust=False)
    bars = pair(1, 1.0, 1.0, 1.0, 1.0)
    t = eng.run(stream(bars), Scripted(), EngineConfig())
    assert t.events.num_rows == 2


def test_fallback_warns_when_extension_lacks_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "omega_rust", None)  # import fails
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eng = EventEngine(use_rust=True)
    assert eng.backend == "python"
    assert any("falling back" in str(w.message) for w in caught)


def test_config_validation() -> None:
    with pytest.raises(ConfigError):
        EngineConfig(units=0.0)
    with pytest.raises(ConfigError):
        EngineConfig(sizing="kelly")
    with pytest.raises(ConfigError):
        EngineConfig(max_positions=0)
    with pytest.raises(ConfigError):
        EngineConfig(initial_cash=1)
    with pytest.raises(ConfigError):
        EngineConfig(risk_pct=2.0)
    with pytest.raises(ConfigError):
        EngineConfig(slippage_fixed=-1.0)
    with pytest.raises(ConfigError):
        EngineConfig(initial_cash=float("inf"))
    with pytest.raises(ConfigError):
        EngineConfig(initial_cash=-5.0)


def test_config_dict_is_asdict_without_copies() -> None:
    cfg = EngineConfig(initial_cash=1000.0, sizing="risk", max_positions=3, limit_ttl=2)
    d = config_dict(cfg)
    assert d == dataclasses.asdict(cfg)
    assert list(d) == [f.name for f in dataclasses.fields(cfg)]
    assert d["sizing"] == "risk" and d["max_positions"] == 3
