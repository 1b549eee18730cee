"""Unit tests of the comparator: bit-level diff, classification rules, allowlist.

Classification inputs are built from a real legacy trace with single cells edited:
the rules are tested one by one, in their documented precedence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import struct
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from harness.allowlist import AllowEntry, Allowlist
from harness.classify import FLOAT_ULP_THRESHOLD, KINDS, Classification, classify
from harness.diff import (
    column_mismatch,
    diff_tables,
    diff_traces,
    f64_bits,
    ulp_distance,
)
from harness.experiment import Case, Comparison, Outcome, compare
from legacy_py.engine import run_python
from legacy_py.errors import ConfigError
from legacy_py.loader import CandleStream
from legacy_py.strategies import make_strategy
from legacy_py.trace import META_TYPE, Trace
from tests.enginekit import pair, stream


def f64_from_bits(bits: int) -> float:
    value: float = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return value


def up(x: float, n: int = 1) -> float:
    for _ in range(n):
        x = math.nextafter(x, math.inf)
    return x


# --------------------------------------------------------------------------- diff.py


def test_ulp_distance_basics() -> None:
    assert ulp_distance(1.0, 1.0) == 0
    assert ulp_distance(1.0, up(1.0)) == 1
    assert ulp_distance(up(1.0), 1.0) == 1
    assert ulp_distance(1.0, up(1.0, 5)) == 5
    assert ulp_distance(-1.0, math.nextafter(-1.0, -math.inf)) == 1
    assert ulp_distance(0.0, 5e-324) == 1  # the smallest subnormal
    assert ulp_distance(-5e-324, -0.0) == 1
    assert ulp_distance(1.0, 2.0) == 1 << 52  # one binade
    assert ulp_distance(math.inf, math.nextafter(math.inf, 0.0)) == 1
    # ordered: the distance grows monotonically away from a value, across zero too
    far, near = ulp_distance(-1.0, 1.0), ulp_distance(-1.0, 0.5)
    assert far is not None and near is not None and far > near > 0


def test_ulp_distance_nan_is_none() -> None:
    nan = float("nan")
    assert ulp_distance(nan, 1.0) is None
    assert ulp_distance(1.0, nan) is None
    assert ulp_distance(nan, nan) is None


def test_negative_zero_is_bit_different() -> None:
    assert f64_bits(-0.0) != f64_bits(0.0)
    mask = column_mismatch(pa.array([-0.0, 0.0]), pa.array([0.0, 0.0]))
    assert mask.tolist() == [True, False]
    t = diff_tables("t", pa.table({"x": [-0.0]}), pa.table({"x": [0.0]}))
    cell = t.first_cells[0]
    assert (cell.control_hex, cell.candidate_hex) == ("0x8000000000000000", "0x0000000000000000")


def test_negative_zero_is_one_ulp_from_zero() -> None:
    assert ulp_distance(-0.0, 0.0) == 1
    assert ulp_distance(0.0, -0.0) == 1


def test_nan_compares_by_bits() -> None:
    nan = float("nan")
    other_nan = f64_from_bits(0x7FF8_0000_0000_0001)  # a different payload
    same = column_mismatch(pa.array([nan, 1.0]), pa.array([nan, 1.0]))
    assert same.tolist() == [False, False]  # NaN == NaN when the bits agree
    diff = column_mismatch(pa.array([nan, 1.0]), pa.array([other_nan, 1.0]))
    assert diff.tolist() == [True, False]
    t = diff_tables("t", pa.table({"x": [nan]}), pa.table({"x": [1.0]}))
    assert t.first_row == 0 and t.first_cells[0].ulps is None


def test_null_versus_value() -> None:
    floats = column_mismatch(pa.array([None, 1.0, None]), pa.array([0.0, 1.0, None]))
    assert floats.tolist() == [True, False, False]  # null != 0.0, null == null
    ints = column_mismatch(
        pa.array([None, 3, 0], type=pa.int64()), pa.array([0, 3, None], type=pa.int64())
    )
    assert ints.tolist() == [True, False, True]
    t = diff_tables("t", pa.table({"x": [None, 2.0]}), pa.table({"x": [1.0, 2.0]}))
    cell = t.first_cells[0]
    assert (cell.control, cell.candidate, cell.ulps, cell.control_hex) == (None, 1.0, None, None)
    assert cell.candidate_hex == "0x3ff0000000000000"


def test_string_columns() -> None:
    a = pa.array(["a", None, "c", "", None])
    b = pa.array(["a", "b", "x", None, None])
    assert column_mismatch(a, b).tolist() == [False, True, True, True, False]
    big = column_mismatch(
        pa.array(["a", "b"], type=pa.large_string()), pa.array(["a", "B"], type=pa.large_string())
    )
    assert big.tolist() == [False, True]


def test_map_columns() -> None:
    a = pa.array([[("k", "v")], None, [("a", "1"), ("b", "2")], []], type=META_TYPE)
    b = pa.array([[("k", "w")], None, [("b", "2"), ("a", "1")], None], type=META_TYPE)
    # value differs; both null; insertion order differs; empty map vs null
    assert column_mismatch(a, b).tolist() == [True, False, True, True]
    assert column_mismatch(a, a).tolist() == [False] * 4


def test_row_count_mismatch() -> None:
    short = pa.table({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    long = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "s": ["a", "b", "c", "d"]})
    t = diff_tables("events", short, long)
    assert not t.equal
    assert (t.control_rows, t.candidate_rows) == (3, 4)
    assert t.first_row == 3 and t.first_cells == [] and t.columns == []
    assert not t.reconverges
    # a difference inside the common rows, plus different lengths: never re-converges
    t2 = diff_tables("events", pa.table({"x": [1.0, 9.0, 3.0]}), pa.table({"x": [1.0, 2.0]}))
    assert t2.first_row == 1 and not t2.reconverges


def test_reconvergence() -> None:
    a = pa.table({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "n": [1, 2, 3, 4, 5]})
    once = pa.table({"x": [1.0, up(2.0), 3.0, 4.0, 5.0], "n": [1, 2, 3, 4, 5]})
    t = diff_tables("events", a, once)
    assert (t.first_row, t.last_row, t.reconverges) == (1, 1, True)
    assert [(c.column, c.divergent_rows, c.first_row) for c in t.columns] == [("x", 1, 1)]
    assert t.first_cells[0].ulps == 1
    to_end = pa.table({"x": [1.0, up(2.0), 3.0, 4.0, 5.0], "n": [1, 2, 3, 4, 6]})
    t2 = diff_tables("events", a, to_end)
    assert (t2.first_row, t2.last_row, t2.reconverges) == (1, 4, False)
    assert {c.column: c.divergent_rows for c in t2.columns} == {"x": 1, "n": 1}
    assert [c.column for c in t2.first_cells] == ["x"]


def test_schema_differences() -> None:
    a = pa.table({"x": [1.0], "y": [1]})
    b = pa.table({"x": pa.array([1.0], type=pa.float32()), "z": [1]})
    t = diff_tables("events", a, b)
    assert sorted(t.schema_differences) == sorted(
        [
            "column 'y' only in control",
            "column 'z' only in candidate",
            "column 'x': type double vs float",
        ]
    )
    assert t.columns == [] and not t.equal


def test_diff_traces_identical_and_describe() -> None:
    t = base_trace()
    d = diff_traces(t, t)
    assert d.equal and d.first_event is None
    assert d.describe() == "traces are bit-identical"
    js = d.to_dict()
    assert js["equal"] is True and set(js) >= {"events", "fills", "trades", "summary"}
    other = with_cell(t, "events", "cash", 3, up(t.events.column("cash")[3].as_py()))
    d2 = diff_traces(t, other)
    assert not d2.equal and d2.first_event == 3
    text = d2.describe()
    assert "first divergent row 3" in text and "1 ulp" in text and "0x" in text


def test_bench_sized_diff_is_vectorised() -> None:
    """100k rows diff in well under a second (see scripts/bench_diff.py for 1M)."""
    import time

    n = 100_000
    a = pa.table({"x": pa.array([float(i) for i in range(n)]), "i": pa.array(range(n))})
    b = a.set_column(0, "x", pa.array([float(i) if i != 77_777 else -1.0 for i in range(n)]))
    t0 = time.perf_counter()
    t = diff_tables("events", a, b)
    assert time.perf_counter() - t0 < 1.0
    assert (t.first_row, t.reconverges) == (77_777, True)


# --------------------------------------------------------------------------- classify.py


@cache
def _stream() -> CandleStream:
    candles = []
    price = 1.0
    for minute in range(1, 41):
        step = 0.01 if (minute // 4) % 2 == 0 else -0.01
        o, c = price, price + step
        candles += pair(minute, o, max(o, c) + 0.002, min(o, c) - 0.002, c, spread=0.001)
        price = c
    return stream(candles)


@cache
def base_trace() -> Trace:
    """sma_cross(2, 4) with random slippage: indicators, signals, fills and trades."""
    s = _stream()
    params = {"fast": 2, "slow": 4, "slippage_random": 0.001}
    strat, cfg = make_strategy("sma_cross", params, s)
    t = run_python(s, strat, cfg, 7, params)
    assert t.fills.num_rows >= 2 and t.trades.num_rows >= 1
    return t


def with_cell(trace: Trace, table: str, column: str, row: int, value: Any) -> Trace:
    """``trace`` with one cell of one table replaced."""
    t: pa.Table = getattr(trace, table)
    i = t.schema.get_field_index(column)
    values = t.column(column).to_pylist()
    values[row] = value
    field = t.schema.field(i)
    new = t.set_column(i, field, pa.array(values, type=field.type))
    return dataclasses.replace(trace, **{table: new})


def cls_of(candidate: Trace, control: Trace | None = None) -> Classification:
    comp = compare(
        Outcome("legacy", trace=control or base_trace()), Outcome("cand", trace=candidate)
    )
    assert comp.status == "mismatch" and comp.classification is not None
    return comp.classification


def first_fill() -> tuple[int, int]:
    """(row, event_index) of the first fill with a nonzero slippage."""
    fills = base_trace().fills
    for row in range(fills.num_rows):
        if fills.column("slippage")[row].as_py() != 0.0:
            return row, int(fills.column("event_index")[row].as_py())
    raise AssertionError("no fill with slippage")


def ind_row() -> tuple[str, int]:
    """An indicator column and the first row where it has a value."""
    ev = base_trace().events
    name = next(n for n in ev.column_names if n.startswith("ind_"))
    values = ev.column(name).to_pylist()
    return name, next(i for i, v in enumerate(values) if v is not None)


def test_identical_traces_match() -> None:
    t = base_trace()
    comp = compare(Outcome("legacy", trace=t), Outcome("cand", trace=t))
    assert comp.matched and comp.classification is None


def test_rule_1_exception_mismatch() -> None:
    t = base_trace()
    one_side = compare(Outcome("legacy", trace=t), Outcome("c", error=RuntimeError("boom")))
    assert one_side.classification is not None
    assert one_side.classification.kind == "exception_mismatch"
    assert "builtins.RuntimeError: boom" in one_side.classification.reason
    assert one_side.classification.signature == ("exception_mismatch", None)
    other = compare(Outcome("legacy", error=ValueError("x")), Outcome("c", error=ValueError("y")))
    assert other.classification is not None and other.classification.kind == "exception_mismatch"
    typ = compare(Outcome("legacy", error=ValueError("x")), Outcome("c", error=KeyError("x")))
    assert typ.classification is not None and typ.classification.kind == "exception_mismatch"
    same = compare(Outcome("legacy", error=ValueError("x")), Outcome("c", error=ValueError("x")))
    assert same.matched


def test_rule_2_schema_mismatch() -> None:
    t = base_trace()
    extra = dataclasses.replace(
        t, events=t.events.append_column("extra", pa.array([0] * t.events.num_rows))
    )
    c = cls_of(extra)
    assert (c.kind, c.first_table) == ("schema_mismatch", "events")
    assert "extra" in c.reason
    fills = t.fills
    i = fills.schema.get_field_index("quantity")
    retyped = dataclasses.replace(
        t, fills=fills.set_column(i, "quantity", fills.column(i).cast(pa.float32()))
    )
    c2 = cls_of(retyped)
    assert (c2.kind, c2.first_table) == ("schema_mismatch", "fills")


def test_rule_3_event_ordering() -> None:
    t = base_trace()
    shorter = dataclasses.replace(t, events=t.events.slice(0, t.events.num_rows - 1))
    c = cls_of(shorter)
    assert c.kind == "event_ordering" and "event count" in c.reason
    moved = with_cell(t, "events", "timestamp", 5, t.events.column("timestamp")[5].as_py() + 1)
    c2 = cls_of(moved)
    assert (c2.kind, c2.first_event, c2.signature) == (
        "event_ordering",
        5,
        ("event_ordering", "timestamp"),
    )
    side = with_cell(t, "events", "price_type", 4, "ask")
    assert cls_of(side).signature == ("event_ordering", "price_type")


def test_rule_4_rng_seed() -> None:
    t = base_trace()
    row, event = first_fill()
    slip = t.fills.column("slippage")[row].as_py()
    price = t.fills.column("fill_price")[row].as_py()
    cand = with_cell(t, "fills", "slippage", row, slip * 1.5)
    cand = with_cell(cand, "fills", "fill_price", row, price + slip * 0.5)
    cand = with_cell(cand, "events", "cash", event, t.events.column("cash")[event].as_py() - 1.0)
    c = cls_of(cand)
    assert (c.kind, c.first_event, c.first_table) == ("rng_seed", event, "fills")
    assert c.signature == ("rng_seed", "fill_price")
    # the fill alone (events agree): still the slippage
    only_fill = with_cell(t, "fills", "slippage", row, slip * 2.0)
    assert cls_of(only_fill).kind == "rng_seed"


def test_rule_4_rng_seed_needs_the_fill_to_come_first() -> None:
    t = base_trace()
    row, event = first_fill()
    assert event > 0
    cand = with_cell(t, "fills", "slippage", row, t.fills.column("slippage")[row].as_py() * 2)
    cand = with_cell(cand, "events", "signal_status", event - 1, "rejected:max_positions")
    assert cls_of(cand).kind != "rng_seed"


def test_rule_4_rng_seed_not_for_a_different_fill() -> None:
    """A stop-loss fill in one engine and a take-profit fill (no slippage) in the other
    is a different fill, not a different draw (the planted tie-rule case)."""
    t = base_trace()
    row, event = first_fill()
    cand = with_cell(t, "fills", "slippage", row, 0.0)
    cand = with_cell(cand, "fills", "reason", row, "tp")
    c = cls_of(cand)
    assert (c.kind, c.first_table) == ("state_management", "fills")
    cash = t.events.column("cash")[event].as_py()
    cand2 = with_cell(cand, "events", "cash", event, cash + 100.0)
    c2 = cls_of(cand2)
    assert (c2.kind, c2.first_event, c2.first_table) == ("state_management", event, "events")


def test_rule_5_float_rounding() -> None:
    t = base_trace()
    name, row = ind_row()
    value = t.events.column(name)[row].as_py()
    c = cls_of(with_cell(t, "events", name, row, up(value)))
    assert (c.kind, c.first_event, c.signature) == ("float_rounding", row, ("float_rounding", name))
    assert "1 ULP" in c.reason
    at_threshold = with_cell(t, "events", name, row, up(value, FLOAT_ULP_THRESHOLD))
    assert cls_of(at_threshold).kind == "float_rounding"
    cash = t.events.column("cash")[3].as_py()
    assert cls_of(with_cell(t, "events", "cash", 3, up(cash, 3))).kind == "float_rounding"
    neg = with_cell(t, "events", "cash", 3, math.nextafter(cash, -math.inf))
    assert cls_of(neg).kind == "float_rounding"


def test_rule_5_not_float_rounding_beyond_threshold_or_with_other_columns() -> None:
    t = base_trace()
    name, row = ind_row()
    value = t.events.column(name)[row].as_py()
    far = with_cell(t, "events", name, row, up(value, FLOAT_ULP_THRESHOLD + 1))
    assert cls_of(far).kind == "signal_logic"  # an indicator, beyond the threshold
    status = t.events.column("signal_status")[row].as_py()
    mixed = with_cell(t, "events", name, row, up(value))
    mixed = with_cell(mixed, "events", "signal_status", row, f"{status}!")
    assert cls_of(mixed).kind == "signal_logic"  # a string differs at the same event
    null = with_cell(t, "events", name, row, None)
    assert cls_of(null).kind == "signal_logic"  # value vs null has no ULP distance
    cash = t.events.column("cash")[3].as_py()
    far_cash = with_cell(t, "events", "cash", 3, up(cash, FLOAT_ULP_THRESHOLD + 1))
    assert cls_of(far_cash).kind == "state_management"


def test_rule_6_signal_logic() -> None:
    t = base_trace()
    types = t.events.column("signal_type").to_pylist()
    row = types.index("NONE")
    c = cls_of(with_cell(t, "events", "signal_type", row, "LONG"))
    assert (c.kind, c.first_event, c.signature) == (
        "signal_logic",
        row,
        ("signal_logic", "signal_type"),
    )


def test_rule_7_state_management() -> None:
    t = base_trace()
    c = cls_of(with_cell(t, "events", "open_positions", 6, 5))
    assert (c.kind, c.first_event, c.signature) == (
        "state_management",
        6,
        ("state_management", "open_positions"),
    )
    # fills differ while events agree
    fills_only = with_cell(t, "fills", "side", 0, "x")
    c2 = cls_of(fills_only)
    assert (c2.kind, c2.first_table, c2.first_event) == ("state_management", "fills", None)
    assert c2.signature == ("state_management", "side")
    # trades differ while events and fills agree
    trades_only = with_cell(t, "trades", "exit_reason", 0, "x")
    c3 = cls_of(trades_only)
    assert (c3.kind, c3.first_table) == ("state_management", "trades")
    extra_fill = dataclasses.replace(t, fills=t.fills.slice(0, t.fills.num_rows - 1))
    c4 = cls_of(extra_fill)
    assert (c4.kind, c4.first_table) == ("state_management", "fills")


def test_rule_8_unknown() -> None:
    t = base_trace()
    c = cls_of(with_cell(t, "summary", "sharpe", 0, 123.0))
    assert (c.kind, c.first_table, c.signature) == ("unknown", "summary", ("unknown", None))


def test_every_kind_is_documented_in_order() -> None:
    import harness.classify as mod

    doc = mod.__doc__ or ""
    positions = [doc.index(f"``{k}``") for k in KINDS]
    assert positions == sorted(positions)


def test_classify_without_diff_is_an_exception_mismatch() -> None:
    t = base_trace()
    c = classify(Outcome("a", trace=t), Outcome("b", trace=t), None)
    assert c.kind == "exception_mismatch"


# --------------------------------------------------------------------------- allowlist.py


def _comp(kind: str | None, candidate: str = "rust") -> Comparison:
    cls = Classification(kind, "r") if kind is not None else None
    return Comparison(Outcome("legacy"), Outcome(candidate), "mismatch", classification=cls)


def _case(name: str = "eurusd_h1", strategy: str = "sma_cross") -> Case:
    return Case(name, _stream(), strategy, {}, 0)


TODAY = dt.date(2026, 6, 1)


def test_allow_entry_matching() -> None:
    e = AllowEntry("eurusd_h1::sma_cross*", "rust", "tracked in #12", dt.date(2026, 12, 31))
    assert e.matches(_case(), _comp("float_rounding"), TODAY)
    assert e.matches(_case(), _comp(None), TODAY)  # no kind filter
    assert not e.matches(_case(strategy="churn"), _comp("float_rounding"), TODAY)
    assert not e.matches(_case(name="goog_d1"), _comp("float_rounding"), TODAY)
    assert not e.matches(_case(), _comp("float_rounding", "planted:ulp@1"), TODAY)
    assert _case().case_id.startswith("eurusd_h1::sma_cross[")
    star = AllowEntry("*", "rust", "all", dt.date(2026, 12, 31))
    assert star.matches(_case(name="x", strategy="y"), _comp("unknown"), TODAY)
    # fnmatch is case-sensitive
    upper = AllowEntry("EURUSD_H1::*", "rust", "r", dt.date(2026, 12, 31))
    assert not upper.matches(_case(), _comp("unknown"), TODAY)


def test_allow_entry_expiry() -> None:
    e = AllowEntry("*", "rust", "r", dt.date(2026, 6, 1))
    assert e.matches(_case(), _comp("unknown"), dt.date(2026, 6, 1))  # the last valid day
    assert not e.matches(_case(), _comp("unknown"), dt.date(2026, 6, 2))


def test_allow_entry_kind_filter() -> None:
    e = AllowEntry("*", "rust", "r", dt.date(2026, 12, 31), kind="float_rounding")
    assert e.matches(_case(), _comp("float_rounding"), TODAY)
    assert not e.matches(_case(), _comp("state_management"), TODAY)
    assert not e.matches(_case(), _comp(None), TODAY)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "allowlist.toml"
    p.write_text(text)
    return p


def test_allowlist_load_and_find(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        """
[[divergence]]
case = "goog_d1::*"
candidate = "rust"
reason = "first"
expires = 2026-12-31

[[divergence]]
case = "eurusd_h1::*"
candidate = "rust"
kind = "float_rounding"
reason = "second"
expires = 2026-12-31

[[divergence]]
case = "eurusd_h1::*"
candidate = "rust"
reason = "third, expired"
expires = 2020-01-01
""",
    )
    allow = Allowlist.load(p)
    assert [e.reason for e in allow.entries] == ["first", "second", "third, expired"]
    assert allow.entries[1].kind == "float_rounding"
    assert allow.entries[0].expires == dt.date(2026, 12, 31)
    found = allow.find(_case(), _comp("float_rounding"), TODAY)
    assert found is not None and found.reason == "second"
    assert allow.find(_case(), _comp("signal_logic"), TODAY) is None  # 3rd expired
    assert allow.find(_case(), _comp("signal_logic"), dt.date(2019, 1, 1)) is not None
    assert allow.find(_case(name="goog_d1"), _comp("signal_logic"), TODAY) is not None


def test_allowlist_missing_or_empty(tmp_path: Path) -> None:
    assert Allowlist.load(None).entries == []
    assert Allowlist.load(tmp_path / "nope.toml").entries == []
    assert Allowlist.load(_write(tmp_path, "")).entries == []
    assert Allowlist.load(_write(tmp_path, "")).find(_case(), _comp("unknown")) is None


HEAD = '[[divergence]]\ncase = "*"\ncandidate = "rust"\n'


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[[divergence]\ncase = ", "invalid TOML"),
        (HEAD + "expires = 2026-01-01\n", "reason"),
        ('[[divergence]]\ncandidate = "rust"\nreason = "r"\nexpires = 2026-01-01\n', "case"),
        (HEAD + 'reason = "r"\n', "expires"),
        (HEAD + 'reason = "r"\nexpires = "2026-01-01"\n', "TOML date"),
        (HEAD + 'reason = "  "\nexpires = 2026-01-01\n', "must not be empty"),
    ],
    ids=["bad-toml", "no-reason", "no-case", "no-expires", "string-date", "blank-reason"],
)
def test_allowlist_errors(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Allowlist.load(_write(tmp_path, text))
