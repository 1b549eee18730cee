"""Tests of ``legacy_py/trace.py`` (write/read, summary, canonical hash) and
``legacy_py/portfolio.py`` (sharpe edge cases, marking, booking)."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from legacy_py.config import EngineConfig
from legacy_py.engine import run_python
from legacy_py.portfolio import OpenPosition, Portfolio, gross_pnl, sharpe_ratio
from legacy_py.trace import (
    SUMMARY_SCHEMA,
    TABLE_NAMES,
    TRACE_SCHEMA_VERSION,
    Trace,
    canonical_table_bytes,
)
from legacy_py.types import SignalType, StrategySignal
from tests.enginekit import Scripted, pair, stream

YEAR_SECONDS = 31_536_000.0


def small_trace(with_trade: bool = True) -> Trace:
    bars = []
    for m, c in enumerate([1.0, 1.1, 1.2, 1.15, 1.3], start=1):
        bars += pair(m, c, c, c, c, 0.01)
    signals = {1: StrategySignal(SignalType.LONG), 3: StrategySignal(SignalType.CLOSE)}
    strat = Scripted(signals if with_trade else {})
    return run_python(stream(bars), strat, EngineConfig(commission_rate=0.001), seed=7)


def table_hash(table: pa.Table) -> str:
    return hashlib.sha256(canonical_table_bytes(table)).hexdigest()


# ----------------------------------------------------------------------------- trace I/O


def test_write_read_round_trip(tmp_path: Path) -> None:
    trace = small_trace()
    out = tmp_path / "nested" / "run"
    paths = trace.write(out)
    assert set(paths) == {*TABLE_NAMES, "summary.json"}
    for name in TABLE_NAMES:
        assert paths[name] == out / f"{name}.arrow"
        with pa.memory_map(str(paths[name])) as src:
            schema = ipc.open_file(src).schema
        assert schema.metadata == {b"omega.trace_schema_version": TRACE_SCHEMA_VERSION.encode()}
    back = Trace.read(out)
    assert back.hash() == trace.hash()
    assert back.table_hashes() == trace.table_hashes()
    for name, table in trace.tables().items():
        assert back.tables()[name].equals(table)
        assert back.tables()[name].schema.metadata is None
    assert back.meta == {}  # run metadata is not stored in the tables (nor hashed)


def test_summary_json(tmp_path: Path) -> None:
    trace = small_trace()
    trace.write(tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["trace_hash"] == trace.hash()
    assert data["meta"] == trace.meta and data["meta"]["engine"] == "legacy"
    summary = trace.summary_dict()
    for key, value in summary.items():
        assert data[key] == value
    assert set(data) == set(summary) | {"trace_hash", "meta"}
    assert (tmp_path / "summary.json").read_text().endswith("}\n")


def test_summary_dict_fields_and_values() -> None:
    trace = small_trace()
    s = trace.summary_dict()
    assert list(s) == SUMMARY_SCHEMA.names
    assert (s["strategy"], s["seed"], s["events"]) == ("scripted", 7, 10)
    assert s["trade_count"] == 1 and s["fill_count"] == 2 and s["open_positions"] == 0
    net = trace.trades.column("net_pnl").to_pylist()[0]
    assert s["realized_pnl"] == 0.0 + net
    assert s["win_rate"] == (1.0 if net > 0.0 else 0.0)
    assert s["total_return"] == s["final_equity"] / s["initial_cash"] - 1.0
    # sharpe over the equity after each primary-series (M1 bid) event
    equity = [
        r["equity"]
        for r in trace.events.to_pylist()
        if (r["timeframe"], r["price_type"]) == ("M1", "bid")
    ]
    assert s["sharpe"] == sharpe_ratio(equity, 60)


def test_summary_nulls_without_trades(tmp_path: Path) -> None:
    trace = small_trace(with_trade=False)
    s = trace.summary_dict()
    assert s["win_rate"] is None and s["sharpe"] is None and s["trade_count"] == 0
    assert trace.fills.num_rows == 0 and trace.trades.num_rows == 0
    trace.write(tmp_path)
    back = Trace.read(tmp_path)
    assert back.hash() == trace.hash()
    assert json.loads((tmp_path / "summary.json").read_text())["win_rate"] is None


def test_meta_is_not_hashed() -> None:
    trace = small_trace()
    other = Trace(trace.events, trace.fills, trace.trades, trace.summary, {"x": "y"})
    assert other.hash() == trace.hash()


def test_hash_changes_with_content() -> None:
    a = small_trace()
    b = small_trace(with_trade=False)
    assert a.hash() != b.hash()
    assert a.table_hashes()["events"] != b.table_hashes()["events"]


# ------------------------------------------------------------------------ canonical bytes


def test_canonical_bytes_distinguish_signed_zero_null_and_empty_string() -> None:
    def one(arr: pa.Array) -> str:
        return table_hash(pa.table({"c": arr}))

    assert one(pa.array([0.0])) != one(pa.array([-0.0]))
    assert one(pa.array([0.0])) != one(pa.array([None], pa.float64()))
    assert one(pa.array([0], pa.int64())) != one(pa.array([None], pa.int64()))
    assert one(pa.array([""])) != one(pa.array([None], pa.string()))
    # the column type is part of the header
    assert one(pa.array([1], pa.int64())) != one(pa.array([1.0]))


def test_canonical_bytes_ignore_chunking_slicing_and_bytes_under_nulls() -> None:
    values = [1.5, None, -0.0, 3.25, None, 7.0, 8.0, 9.0, 10.0]
    whole = pa.table({"x": pa.array(values), "s": pa.array([None, "a", "", "b"] * 2 + ["c"])})
    chunked = pa.Table.from_batches(whole.to_batches(max_chunksize=2))
    sliced = pa.concat_tables([whole.slice(0, 3), whole.slice(3)])
    assert table_hash(whole) == table_hash(chunked) == table_hash(sliced)
    # a null slot whose buffer holds garbage hashes like a clean null
    data = pa.py_buffer(b"".join(v.to_bytes(8, "little") for v in (0x7FF8DEADBEEF0000, 0)))
    validity = pa.py_buffer(bytes([0b10]))
    dirty = pa.Array.from_buffers(pa.float64(), 2, [validity, data], null_count=1)
    clean = pa.array([None, 0.0])
    assert table_hash(pa.table({"c": dirty})) == table_hash(pa.table({"c": clean}))


def test_canonical_bytes_of_map_column_keep_insertion_order() -> None:
    t = pa.map_(pa.string(), pa.string())
    ab = pa.array([[("a", "1"), ("b", "2")], None], type=t)
    ba = pa.array([[("b", "2"), ("a", "1")], None], type=t)
    assert table_hash(pa.table({"m": ab})) != table_hash(pa.table({"m": ba}))
    raw = canonical_table_bytes(pa.table({"m": ab}))
    assert b'[["a", "1"], ["b", "2"]]' in raw


def test_canonical_bytes_layout() -> None:
    raw = canonical_table_bytes(pa.table({"i": pa.array([5], pa.int64())}))
    header = b"i:int64"
    expected = (
        (1).to_bytes(8, "little")
        + (1).to_bytes(8, "little")
        + len(header).to_bytes(8, "little")
        + header
        + (1).to_bytes(8, "little")
        + bytes([1])
        + (5).to_bytes(8, "little")
    )
    assert raw == expected


# ---------------------------------------------------------------------------- sharpe


def reference_sharpe(equity: list[float], bar_seconds: int) -> float:
    """The documented formula, written out independently."""
    returns = [equity[k] / equity[k - 1] - 1.0 for k in range(1, len(equity))]
    acc = 0.0
    for r in returns:
        acc = acc + r
    mean = acc / float(len(returns))
    var = 0.0
    for r in returns:
        var = var + (r - mean) * (r - mean)
    std = math.sqrt(var / float(len(returns) - 1))
    return mean / std * math.sqrt(YEAR_SECONDS / float(bar_seconds))


@pytest.mark.parametrize(
    "equity",
    [
        [],
        [100.0],
        [100.0, 110.0],  # one return: no sample std
        [100.0, 100.0, 100.0],  # zero variance
        [1.0, 2.0, 4.0],  # equal returns: zero variance
        [100.0, 0.0, 50.0],  # a non-positive previous equity
        [-5.0, 1.0, 2.0],
        [100.0, -1.0, 2.0],
    ],
)
def test_sharpe_none_cases(equity: list[float]) -> None:
    assert sharpe_ratio(equity, 60) is None


def test_sharpe_values() -> None:
    equity = [100.0, 110.0, 99.0, 120.0, 120.0]
    s = sharpe_ratio(equity, 60)
    assert s is not None and s == reference_sharpe(equity, 60)
    h = sharpe_ratio(equity, 3600)
    assert h is not None and h == reference_sharpe(equity, 3600)
    assert math.isclose(s / h, math.sqrt(60.0))
    falling = sharpe_ratio([100.0, 90.0, 85.0, 84.0], 86_400)
    assert falling is not None and falling < 0.0
    # only a non-positive *previous* equity stops it: a final 0.0 is a -100% return
    last_zero = sharpe_ratio([1.0, 2.0, 0.0], 60)
    assert last_zero is not None and last_zero == reference_sharpe([1.0, 2.0, 0.0], 60)


# ------------------------------------------------------------------------- portfolio


def test_portfolio_booking_and_marks() -> None:
    p = Portfolio(1000.0, 10.0)
    p.mark()
    assert (p.equity, p.unrealized_pnl, p.drawdown, p.avg_price(), p.position_qty()) == (
        1000.0,
        0.0,
        0.0,
        None,
        0.0,
    )
    p.open(OpenPosition(1, "long", 2.0, 1.5, 60, 1, 0.25, None, None))
    p.open(OpenPosition(2, "long", 1.0, 3.0, 60, 1, 0.5, None, None))
    assert p.cash == 1000.0 - 0.25 - 0.5
    p.mark()  # no marks yet: valued at the entry prices
    assert p.unrealized_pnl == 0.0 and p.equity == p.cash
    assert p.avg_price() == (0.0 + 1.5 * 2.0 + 3.0 * 1.0) / (0.0 + 2.0 + 1.0)
    assert p.position_qty() == 3.0
    p.mark_long = 1.0
    p.mark()
    expected = 0.0 + gross_pnl("long", 1.5, 1.0, 2.0, 10.0) + gross_pnl("long", 3.0, 1.0, 1.0, 10.0)
    assert p.unrealized_pnl == expected
    assert p.peak_equity == 1000.0
    assert p.drawdown == (1000.0 - p.equity) / 1000.0 and p.max_drawdown == p.drawdown
    trade = p.close(1, 2.0, 0.1, 5, 300, "exit")
    assert trade.gross_pnl == (2.0 - 1.5) * 2.0 * 10.0
    assert trade.commission == 0.25 + 0.1
    assert trade.net_pnl == trade.gross_pnl - 0.25 - 0.1
    assert p.realized_pnl == 0.0 + trade.net_pnl
    assert list(p.positions) == [2] and p.trades == [trade]


def test_portfolio_short_marks_and_drawdown_above_one() -> None:
    p = Portfolio(10.0, 1.0)
    p.open(OpenPosition(1, "short", 1.0, 5.0, 0, 0, 0.0, None, None))
    assert p.position_qty() == -1.0
    p.mark_short = 30.0  # equity 10 - 25 < 0
    p.mark()
    assert p.equity == -15.0 and p.drawdown == (10.0 - -15.0) / 10.0 > 1.0
    assert p.max_drawdown == p.drawdown and p.peak_equity == 10.0
    assert gross_pnl("short", 5.0, 30.0, 1.0, 1.0) == -25.0


def test_portfolio_drawdown_zero_when_peak_not_positive() -> None:
    p = Portfolio(0.0, 1.0)  # degenerate: the engine config forbids it, the portfolio copes
    p.mark()
    assert p.drawdown == 0.0 and p.max_drawdown == 0.0
