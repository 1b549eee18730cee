"""Properties of the legacy engine on generated adversarial streams, for every strategy.

Each ``check_*`` function states one property over a finished run; the tests run every
registered strategy on streams from :func:`property.strategies.candle_streams` with
params from :func:`property.strategies.strategy_params`.

Notes on the invariants:

* ``drawdown`` is within ``[0, 1]`` whenever ``equity > 0``. When equity falls to or
  below zero (possible: risk sizing on a tiny stop distance, or leverage via ``units``)
  the drawdown is ``(peak - equity) / peak >= 1``; it is never negative because the peak
  starts at ``initial_cash > 0`` and only grows.
* Pre-slippage fill prices: market orders fill at the bar's open, limits at the open or
  the limit, SL at the open or the SL level, TP at the open or the TP level; each of
  these lies within ``[low, high]`` of the bar of the fill's side. Slipped fills are
  checked exactly against ``open ± slippage`` (market orders) or, for stop-loss fills at
  the SL level (which is not in the trace), against ``[low, high]`` up to rounding of
  ``(SL - slip) + slip``.
"""

from __future__ import annotations

import hashlib
import math
import struct
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from legacy_py.arrow_schemas import CANDLE_SCHEMA
from legacy_py.engine import run_python
from legacy_py.loader import CandleStream, stream_from_table, stream_to_table
from legacy_py.portfolio import sharpe_ratio
from legacy_py.strategies import make_strategy, strategy_names
from legacy_py.trace import Trace, canonical_table_bytes
from legacy_py.types import TIMEFRAME_SECONDS
from property.strategies import (
    candle_streams,
    candle_tables,
    raw_candle_tables,
    seeds,
    strategy_params,
)

NAMES = strategy_names()


def bits(x: float) -> bytes:
    """The IEEE-754 bit pattern of ``x`` (so ``-0.0`` and ``0.0`` differ)."""
    return struct.pack("<d", x)


def run(stream: CandleStream, name: str, params: dict[str, Any], seed: int) -> Trace:
    """A fresh strategy (strategies keep state) run by the legacy engine.

    (A ``donchian_breakout`` LONG with a non-positive stop, found here by Hypothesis,
    was fixed in the strategy; ``tests/test_strategies.py`` keeps the regression test.)
    """
    strategy, config = make_strategy(name, params, stream)
    return run_python(stream, strategy, config, seed, params)


def execution_sides(
    stream: CandleStream, name: str, params: dict[str, Any]
) -> tuple[str, str, str]:
    """(execution timeframe, buy price type, sell price type) as the engine derives them."""
    strategy, _ = make_strategy(name, params, stream)
    exec_tf = strategy.subscriptions()[0][0]
    present = {c.price_type for c in stream.candles if c.timeframe == exec_tf}
    return (
        exec_tf,
        "ask" if "ask" in present else "bid",
        "bid" if "bid" in present else "ask",
    )


# ------------------------------------------------------------------------------ checks


def check_event_invariants(
    trace: Trace, stream: CandleStream, subscriptions: list[tuple[str, str]]
) -> None:
    """Per-row invariants of the events table, plus its agreement with the summary."""
    subscribed = set(subscriptions)
    primary = subscriptions[0]
    samples: list[float] = []
    rows = trace.events.to_pylist()
    assert len(rows) == len(stream.candles)
    summary = trace.summary_dict()
    initial = summary["initial_cash"]
    prev_peak = initial
    max_dd = 0.0
    for i, (row, candle) in enumerate(zip(rows, stream.candles, strict=True)):
        where = f"event {i}: {row}"
        assert row["event_index"] == i, where
        assert (row["timestamp"], row["timeframe"], row["price_type"]) == (
            candle.timestamp,
            candle.timeframe,
            candle.price_type,
        ), where
        called = (candle.timeframe, candle.price_type) in subscribed
        assert (row["signal_type"] is not None) == called, where
        assert (row["signal_status"] is not None) == called, where
        assert row["exit_requests"] >= 0, where
        if not called:
            assert row["exit_requests"] == 0, where
        # equity is computed as cash + unrealized_pnl: bit for bit
        assert bits(row["equity"]) == bits(row["cash"] + row["unrealized_pnl"]), where
        assert row["peak_equity"] >= row["equity"], where
        assert row["peak_equity"] >= prev_peak, where
        prev_peak = row["peak_equity"]
        assert row["drawdown"] >= 0.0, where
        if row["equity"] > 0.0:
            assert row["drawdown"] <= 1.0, where
        else:
            assert row["drawdown"] >= 1.0, where
        max_dd = max(max_dd, row["drawdown"])
        flat = row["open_positions"] == 0
        assert flat == (row["avg_price"] is None), where
        assert flat == (row["position_qty"] == 0.0), where
        if flat:
            assert row["unrealized_pnl"] == 0.0, where
        assert row["pending_orders"] >= 0, where
        if (candle.timeframe, candle.price_type) == primary:
            samples.append(row["equity"])
    last = rows[-1]
    assert summary["events"] == len(rows)
    assert bits(summary["final_equity"]) == bits(last["equity"])
    assert bits(summary["realized_pnl"]) == bits(last["realized_pnl"])
    assert summary["open_positions"] == last["open_positions"]
    assert bits(summary["max_drawdown"]) == bits(max_dd)
    assert summary["fill_count"] == trace.fills.num_rows
    assert summary["trade_count"] == trace.trades.num_rows
    sharpe = sharpe_ratio(samples, TIMEFRAME_SECONDS[primary[0]])
    assert (summary["sharpe"] is None) == (sharpe is None)
    if sharpe is not None:
        assert bits(summary["sharpe"]) == bits(sharpe)
    net = trace.trades.column("net_pnl").to_pylist()
    if net:
        assert summary["win_rate"] == sum(1 for x in net if x > 0.0) / len(net)
    else:
        assert summary["win_rate"] is None


def check_fills_reachable(
    trace: Trace, stream: CandleStream, exec_tf: str, buy_pt: str, sell_pt: str
) -> None:
    """Every fill happens on an execution bar of its side at a price that bar reached."""
    for fill in trace.fills.to_pylist():
        candle = stream.candles[fill["event_index"]]
        where = f"fill {fill} on {candle}"
        assert candle.timestamp == fill["timestamp"], where
        assert candle.timeframe == exec_tf, where
        assert candle.price_type == (buy_pt if fill["side"] == "buy" else sell_pt), where
        reason, price, slip = fill["reason"], fill["fill_price"], fill["slippage"]
        assert (fill["order_id"] == 0) == (reason in ("sl", "tp")), where
        if reason == "entry":
            assert fill["position_id"] == fill["order_id"], where
        assert slip >= 0.0, where
        if reason == "tp":
            assert slip == 0.0, where
        if slip == 0.0:
            assert candle.low <= price <= candle.high, where
            continue
        at_open = candle.open + slip if fill["side"] == "buy" else candle.open - slip
        if reason in ("entry", "exit", "close"):  # market orders: open plus adverse slippage
            assert bits(price) == bits(at_open), where
            continue
        assert reason == "sl", where
        if bits(price) == bits(at_open):
            continue  # gap through the stop: filled at the open
        level = price - slip if fill["side"] == "buy" else price + slip
        tol = 4.0 * math.ulp(max(abs(price), slip, candle.high))
        assert candle.low - tol <= level <= candle.high + tol, where


def check_entries_have_orders(trace: Trace) -> None:
    """Every entry fill comes from an accepted LONG/SHORT signal at an earlier event.

    Entry orders are numbered in creation order, and a filled order is a subsequence of
    the accepted entry signals; a greedy earliest matching (fills in order-id order, each
    to the next unused accepted signal of its direction) exists iff any matching does,
    and it pairs each fill with the earliest possible signal.
    """
    accepted = [
        (r["event_index"], r["timestamp"], "buy" if r["signal_type"] == "LONG" else "sell")
        for r in trace.events.to_pylist()
        if r["signal_status"] == "accepted" and r["signal_type"] in ("LONG", "SHORT")
    ]
    entries = sorted(
        (f for f in trace.fills.to_pylist() if f["reason"] == "entry"),
        key=lambda f: f["order_id"],
    )
    k = 0
    for fill in entries:
        while k < len(accepted) and accepted[k][2] != fill["side"]:
            k += 1
        assert k < len(accepted), f"entry fill {fill} has no accepted signal left"
        ev, ts, _ = accepted[k]
        assert ev < fill["event_index"] and ts < fill["timestamp"], (fill, accepted[k])
        k += 1


def check_trades_consistent(trace: Trace, contract_size: float) -> None:
    """Trades agree with the fills, the realized PnL fold and the summary."""
    trades = trace.trades.to_pylist()
    fills = trace.fills.to_pylist()
    summary = trace.summary_dict()
    assert summary["trade_count"] == len(trades)
    realized = 0.0
    for t in trades:
        realized = realized + t["net_pnl"]
    assert bits(realized) == bits(summary["realized_pnl"])
    ids = [t["trade_id"] for t in trades]
    assert len(set(ids)) == len(ids)
    entries = {f["position_id"]: f for f in fills if f["reason"] == "entry"}
    exits = {f["position_id"]: f for f in fills if f["reason"] != "entry"}
    assert len(entries) == sum(1 for f in fills if f["reason"] == "entry")
    assert len(exits) == len(fills) - len(entries) == len(trades)
    assert set(exits) <= set(entries)
    assert len(entries) - len(exits) == summary["open_positions"]
    for t in trades:
        en, ex = entries[t["trade_id"]], exits[t["trade_id"]]
        where = f"trade {t}, entry {en}, exit {ex}"
        assert t["side"] == ("long" if en["side"] == "buy" else "short"), where
        assert ex["side"] != en["side"], where
        assert (en["event_index"], en["timestamp"]) == (t["entry_event"], t["entry_timestamp"])
        assert (ex["event_index"], ex["timestamp"]) == (t["exit_event"], t["exit_timestamp"])
        assert t["exit_timestamp"] > t["entry_timestamp"], where
        assert ex["reason"] == t["exit_reason"], where
        assert bits(en["fill_price"]) == bits(t["entry_price"]), where
        assert bits(ex["fill_price"]) == bits(t["exit_price"]), where
        assert bits(en["quantity"]) == bits(t["quantity"]) == bits(ex["quantity"]), where
        assert bits(t["commission"]) == bits(en["commission"] + ex["commission"]), where
        if t["side"] == "long":
            gross = (t["exit_price"] - t["entry_price"]) * t["quantity"] * contract_size
        else:
            gross = (t["entry_price"] - t["exit_price"]) * t["quantity"] * contract_size
        assert bits(gross) == bits(t["gross_pnl"]), where
        net = t["gross_pnl"] - en["commission"] - ex["commission"]
        assert bits(net) == bits(t["net_pnl"]), where


def check_rechunk_independent(trace: Trace) -> None:
    """Table hashes depend on content only: re-chunking or slicing changes nothing."""
    expected = trace.table_hashes()
    rechunked: dict[str, pa.Table] = {}
    for name, table in trace.tables().items():
        small = pa.Table.from_batches(table.to_batches(max_chunksize=7), schema=table.schema)
        cut = table.num_rows // 3
        sliced = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
        for variant in (small, sliced):
            digest = hashlib.sha256(canonical_table_bytes(variant)).hexdigest()
            assert digest == expected[name], name
        rechunked[name] = small
    assert Trace(**rechunked).hash() == trace.hash()


# ------------------------------------------------------------------------------- tests


@given(raw_candle_tables())
def test_generated_streams_are_valid(raw: pa.Table) -> None:
    stream = stream_from_table(raw)  # raises a StreamError on an invalid stream
    assert len(stream) == raw.num_rows
    assert stream.instrument.symbol == "PROP"
    canonical = stream_to_table(stream)
    again = stream_from_table(canonical, require_sorted=True)  # canonical order now
    assert again.candles == stream.candles and again.instrument == stream.instrument
    for earlier, later in zip(stream.candles, stream.candles[1:], strict=False):
        assert earlier.timestamp <= later.timestamp


@given(candle_tables(max_bars=50))
def test_candle_tables_have_the_stream_schema(table: pa.Table) -> None:
    assert table.schema.equals(CANDLE_SCHEMA)  # metadata aside
    assert stream_to_table(stream_from_table(table, require_sorted=True)).equals(table)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_strategy_params_are_valid(name: str, data: st.DataObject) -> None:
    stream = data.draw(candle_streams(max_bars=5), label="stream")
    params = data.draw(strategy_params(name), label="params")
    strategy, config = make_strategy(name, params, stream)
    assert strategy.name == name
    for key in set(params) & {"sizing", "max_positions", "limit_ttl"}:
        assert getattr(config, key) == params[key]


@given(candle_streams(max_bars=60, timeframes=st.just(("M1", "M5", "M15")), with_ask=st.just(True)))
def test_higher_timeframes_align_with_base_bars(stream: CandleStream) -> None:
    base = {(c.timestamp, c.price_type): c for c in stream.candles if c.timeframe == "M1"}
    for c in stream.candles:
        if c.timeframe == "M1":
            continue
        secs = 300 if c.timeframe == "M5" else 900
        members = [base[(c.timestamp - k * 60_000_000, c.price_type)] for k in range(secs // 60)]
        assert c.timestamp % (secs * 1_000_000) == 0
        assert c.close == members[0].close and c.open == members[-1].open
        assert c.high == max(m.high for m in members)
        assert c.low == min(m.low for m in members)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_determinism_and_canonical_hash(name: str, data: st.DataObject) -> None:
    stream = data.draw(candle_streams(max_bars=200), label="stream")
    params = data.draw(strategy_params(name), label="params")
    seed = data.draw(seeds(), label="seed")
    first = run(stream, name, params, seed)
    second = run(stream, name, params, seed)
    assert first.hash() == second.hash()
    for a, b in zip(first.tables().values(), second.tables().values(), strict=True):
        assert a.equals(b)
    check_rechunk_independent(first)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_trace_invariants(name: str, data: st.DataObject) -> None:
    stream = data.draw(candle_streams(), label="stream")
    params = data.draw(strategy_params(name), label="params")
    seed = data.draw(seeds(), label="seed")
    trace = run(stream, name, params, seed)
    strategy, _ = make_strategy(name, params, stream)
    exec_tf, buy_pt, sell_pt = execution_sides(stream, name, params)
    check_event_invariants(trace, stream, list(strategy.subscriptions()))
    check_fills_reachable(trace, stream, exec_tf, buy_pt, sell_pt)
    check_entries_have_orders(trace)
    check_trades_consistent(trace, stream.instrument.contract_size)
    # coverage labels (see ``pytest --hypothesis-show-statistics``)
    event("trades" if trace.trades.num_rows else "no trades")
    for reason in sorted(set(trace.fills.column("reason").to_pylist())):
        event(f"fill reason {reason}")
    if min(trace.events.column("equity").to_pylist()) <= 0.0:
        event("equity <= 0")
