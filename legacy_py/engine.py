"""The legacy EventEngine: the per-event pipeline and the runbook's facade.

Pipeline for every event, in this order (``docs/engine_semantics.md``):

1. update the IndicatorCache series of the event;
2. fills and exits (execution timeframe only): pending orders, then SL/TP;
3. ``check_exit`` for every open position without a pending exit (subscribed events);
4. ``on_candle`` (subscribed events);
5. turn the signal into orders (sizing, capacity, reversal, validation);
6. mark to market (equity, peak equity, drawdown) and record the trace row.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from legacy_py.config import EngineConfig
from legacy_py.errors import ConfigError, StrategyError, StrategyTypeError
from legacy_py.execution import ExecutionSimulator, risk_quantity
from legacy_py.indicators import IndicatorCache
from legacy_py.loader import CandleStream
from legacy_py.portfolio import Portfolio, sharpe_ratio
from legacy_py.trace import Trace, TraceBuilder
from legacy_py.types import (
    PRICE_TYPES,
    TIMEFRAME_SECONDS,
    Candle,
    IndicatorRequest,
    SignalType,
    Strategy,
    StrategySignal,
)

#: Feature flag of the runbook. ``OMEGA_USE_RUST_EVENT_ENGINE=1|0`` overrides it.
USE_RUST_EVENT_ENGINE = False
ENV_FLAG = "OMEGA_USE_RUST_EVENT_ENGINE"


def _flag_from_env() -> bool | None:
    raw = os.environ.get(ENV_FLAG)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{ENV_FLAG} must be 0 or 1, got {raw!r}")


def _check_price(value: object, field: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StrategyTypeError(
            f"{where}: {field} must be float or None, got {type(value).__name__}"
        )
    result = float(value)
    if not math.isfinite(result) or result <= 0.0:
        raise StrategyError(f"{where}: {field} must be a finite positive price, got {value!r}")
    return result


def validate_signal(obj: object, strategy_name: str, event_index: int) -> StrategySignal | None:
    """Check what ``on_candle`` returned; a wrong type raises :class:`StrategyTypeError`."""
    where = f"strategy {strategy_name!r} on_candle at event {event_index}"
    if obj is None:
        return None
    if not isinstance(obj, StrategySignal):
        raise StrategyTypeError(
            f"{where} returned {type(obj).__name__}; expected StrategySignal or None"
        )
    if not isinstance(obj.signal_type, SignalType):
        raise StrategyTypeError(f"{where}: signal_type must be SignalType")
    meta = obj.metadata
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise StrategyTypeError(f"{where}: metadata must be dict[str, str]")
    entry = _check_price(obj.entry_price, "entry_price", where)
    stop = _check_price(obj.stop_loss, "stop_loss", where)
    take = _check_price(obj.take_profit, "take_profit", where)
    if (entry, stop, take) == (obj.entry_price, obj.stop_loss, obj.take_profit) and all(
        v is None or type(v) is float for v in (obj.entry_price, obj.stop_loss, obj.take_profit)
    ):
        return obj
    return StrategySignal(obj.signal_type, entry, stop, take, dict(meta))


def _annotate(exc: BaseException, strategy: str, method: str, index: int, candle: Candle) -> None:
    exc.add_note(
        f"omega: raised by strategy {strategy!r} in {method} at event {index} "
        f"(timestamp={candle.timestamp}, {candle.timeframe}/{candle.price_type})"
    )


def checked_subscriptions(strategy: Strategy) -> list[tuple[str, str]]:
    """The strategy's subscriptions, validated (shared by both engines)."""
    subs = [(str(tf), str(pt)) for tf, pt in strategy.subscriptions()]
    if not subs:
        raise ConfigError(f"strategy {strategy.name!r} subscribes to nothing")
    for tf, pt in subs:
        if tf not in TIMEFRAME_SECONDS or pt not in PRICE_TYPES:
            raise ConfigError(f"strategy {strategy.name!r}: bad subscription {(tf, pt)!r}")
    return subs


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def check_seed(seed: object) -> int:
    """A run's seed must be an int in the int64 range (it is stored as int64)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an int, got {seed!r}")
    if not INT64_MIN <= seed <= INT64_MAX:
        raise ConfigError(f"seed {seed} is outside the int64 range")
    return seed


def run_python(
    stream: CandleStream,
    strategy: Strategy,
    config: EngineConfig | None = None,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    *,
    cache_factory: Callable[[list[IndicatorRequest]], IndicatorCache] = IndicatorCache,
    sim_factory: Callable[..., ExecutionSimulator] = ExecutionSimulator,
) -> Trace:
    """Run the legacy engine over ``stream`` and return its :class:`Trace`.

    ``cache_factory`` and ``sim_factory`` exist for the harness's planted-divergence
    tests (a candidate engine that differs in one component); production code never
    passes them.
    """
    cfg = config if config is not None else EngineConfig()
    check_seed(seed)
    subs = checked_subscriptions(strategy)
    subscribed = frozenset(subs)
    primary = subs[0]
    exec_tf = primary[0]
    cache = cache_factory(list(strategy.indicators()))
    present = {c.price_type for c in stream.candles if c.timeframe == exec_tf}
    if not present:
        raise ConfigError(
            f"strategy {strategy.name!r}: execution timeframe {exec_tf} "
            f"not in stream {stream.source}"
        )
    buy_pt = "ask" if "ask" in present else "bid"
    sell_pt = "bid" if "bid" in present else "ask"

    portfolio = Portfolio(cfg.initial_cash, stream.instrument.contract_size)
    sim = sim_factory(cfg, portfolio, seed, buy_pt, sell_pt)
    builder = TraceBuilder(cache.output_names)
    name = strategy.name
    samples: list[float] = []

    for index, candle in enumerate(stream.candles):
        # 1. indicators
        cache.update(candle)
        indicators = cache.values()
        # 2. fills and exits
        is_exec = candle.timeframe == exec_tf
        if is_exec:
            sim.on_execution_bar(index, candle)
            if candle.price_type == sell_pt:
                portfolio.mark_long = candle.close
            if candle.price_type == buy_pt:
                portfolio.mark_short = candle.close
        key = (candle.timeframe, candle.price_type)
        signal: StrategySignal | None = None
        called = False
        status: str | None = None
        exit_requests = 0
        if key in subscribed:
            # 3. check_exit
            for pos in list(portfolio.positions.values()):
                if pos.exit_pending:
                    continue
                try:
                    decision = strategy.check_exit(pos.view(), candle, indicators)
                except Exception as exc:
                    _annotate(exc, name, "check_exit", index, candle)
                    raise
                if not isinstance(decision, bool):
                    raise StrategyTypeError(
                        f"strategy {name!r} check_exit at event {index} returned "
                        f"{type(decision).__name__}; expected bool"
                    )
                if decision:
                    exit_requests += 1
                    pos.exit_pending = True
                    sim.new_order(
                        kind="market",
                        side="sell" if pos.side == "long" else "buy",
                        purpose="exit",
                        quantity=pos.quantity,
                        created_event=index,
                        created_timestamp=candle.timestamp,
                        position_id=pos.position_id,
                    )
            # 4. on_candle
            try:
                raw = strategy.on_candle(candle, indicators)
            except Exception as exc:
                _annotate(exc, name, "on_candle", index, candle)
                raise
            called = True
            signal = validate_signal(raw, name, index)
            # 5. orders
            status = _apply_signal(signal, sim, portfolio, cfg, candle, index)
        # 6. mark to market
        portfolio.mark()
        if key == primary:
            samples.append(portfolio.equity)
        builder.add_event(
            index,
            candle,
            indicators,
            signal if called else None,
            called,
            status,
            exit_requests,
            portfolio,
            len(sim.orders),
        )

    summary: dict[str, Any] = {
        "strategy": name,
        "seed": seed,
        "events": len(stream.candles),
        "initial_cash": cfg.initial_cash,
        "final_equity": portfolio.equity,
        "total_return": portfolio.equity / cfg.initial_cash - 1.0,
        "max_drawdown": portfolio.max_drawdown,
        "trade_count": len(portfolio.trades),
        "win_rate": _win_rate(portfolio),
        "sharpe": sharpe_ratio(samples, TIMEFRAME_SECONDS[exec_tf]),
        "fill_count": len(sim.fills),
        "cancelled_orders": sim.cancelled_orders,
        "open_positions": len(portfolio.positions),
        "realized_pnl": portfolio.realized_pnl,
    }
    meta = {
        "engine": "legacy",
        "strategy": name,
        "seed": str(seed),
        "source": stream.source,
        "params": "" if params is None else repr(sorted(params.items())),
    }
    return builder.finish(sim.fills, portfolio.trades, summary, meta)


def _win_rate(portfolio: Portfolio) -> float | None:
    if not portfolio.trades:
        return None
    wins = 0
    for t in portfolio.trades:
        if t.net_pnl > 0.0:
            wins += 1
    return wins / len(portfolio.trades)


def _apply_signal(
    signal: StrategySignal | None,
    sim: ExecutionSimulator,
    portfolio: Portfolio,
    cfg: EngineConfig,
    candle: Candle,
    index: int,
) -> str:
    if signal is None or signal.signal_type is SignalType.NONE:
        return "none"
    if signal.signal_type is SignalType.CLOSE:
        sim.cancel_entries()
        _close_all(sim, portfolio, None, index, candle)
        return "accepted"
    is_long = signal.signal_type is SignalType.LONG
    side = "buy" if is_long else "sell"
    opposite_pos = "short" if is_long else "long"
    # reversal: cancel opposite entries, close opposite positions
    sim.cancel_entries("sell" if is_long else "buy")
    _close_all(sim, portfolio, opposite_pos, index, candle)
    active = 0
    for pos in portfolio.positions.values():
        if not pos.exit_pending:
            active += 1
    active += len(sim.pending_entries())
    if active >= cfg.max_positions:
        return "rejected:max_positions"
    reference = signal.entry_price if signal.entry_price is not None else candle.close
    sl = signal.stop_loss
    tp = signal.take_profit
    if is_long:
        bad = (sl is not None and sl >= reference) or (tp is not None and tp <= reference)
    else:
        bad = (sl is not None and sl <= reference) or (tp is not None and tp >= reference)
    if bad:
        return "rejected:invalid_stops"
    if cfg.sizing == "fixed":
        qty = cfg.units
    else:
        if sl is None:
            return "rejected:no_stop"
        qty = risk_quantity(
            portfolio.equity, cfg.risk_pct, reference, sl, portfolio.contract_size, cfg.lot_step
        )
        if not qty > 0.0:
            return "rejected:size_zero"
    sim.new_order(
        kind="market" if signal.entry_price is None else "limit",
        side=side,
        purpose="entry",
        quantity=qty,
        created_event=index,
        created_timestamp=candle.timestamp,
        limit_price=signal.entry_price,
        stop_loss=sl,
        take_profit=tp,
        ttl=cfg.limit_ttl,
    )
    return "accepted"


def _close_all(
    sim: ExecutionSimulator, portfolio: Portfolio, side: str | None, index: int, candle: Candle
) -> None:
    for pos in portfolio.positions.values():
        if pos.exit_pending or (side is not None and pos.side != side):
            continue
        pos.exit_pending = True
        sim.new_order(
            kind="market",
            side="sell" if pos.side == "long" else "buy",
            purpose="close",
            quantity=pos.quantity,
            created_event=index,
            created_timestamp=candle.timestamp,
            position_id=pos.position_id,
        )


class EventEngine:
    """The runbook's facade: one ``run`` for both engines, selected by flag.

    ``use_rust=None`` reads ``OMEGA_USE_RUST_EVENT_ENGINE`` and falls back to the
    module flag :data:`USE_RUST_EVENT_ENGINE`. When the Rust extension cannot be
    imported, the engine warns and runs the Python path.
    """

    def __init__(self, use_rust: bool | None = None) -> None:
        if use_rust is None:
            env = _flag_from_env()
            use_rust = USE_RUST_EVENT_ENGINE if env is None else env
        self.requested_rust = use_rust
        self._rust_run: Any = None
        if use_rust:
            try:
                from omega_rust import run_rust
            except ImportError as exc:
                warnings.warn(
                    f"Rust EventEngine unavailable ({exc}); falling back to the Python engine",
                    RuntimeWarning,
                    stacklevel=2,
                )
            else:
                self._rust_run = run_rust

    @property
    def backend(self) -> str:
        """``"rust"`` or ``"python"``: the path :meth:`run` takes."""
        return "rust" if self._rust_run is not None else "python"

    def run(
        self,
        stream: CandleStream,
        strategy: Strategy,
        config: EngineConfig | None = None,
        seed: int = 0,
        params: Mapping[str, Any] | None = None,
    ) -> Trace:
        """Run ``strategy`` over ``stream`` and return the trace."""
        if self._rust_run is not None:
            result: Trace = self._rust_run(stream, strategy, config, seed, params)
            return result
        return run_python(stream, strategy, config, seed, params)
