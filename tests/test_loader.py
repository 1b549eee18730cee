"""Tests of stream loading, validation precedence, canonical order and writing."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from legacy_py.arrow_schemas import CANDLE_SCHEMA, InstrumentMeta, schema_with_instrument
from legacy_py.errors import (
    BidAskError,
    DuplicateEventError,
    EmptyStreamError,
    NegativeVolumeError,
    NonFiniteError,
    NonPositivePriceError,
    NullValueError,
    OHLCError,
    SchemaError,
    StreamError,
    UnknownTimeframeError,
    UnsortedStreamError,
)
from legacy_py.loader import (
    CandleStream,
    load_stream,
    stream_from_table,
    stream_to_table,
    write_stream,
)
from legacy_py.types import Candle

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT / "golden" / "streams"

Row = dict[str, Any]


def row(
    ts: int = 60_000_000,
    tf: str | None = "M1",
    pt: str | None = "bid",
    o: float | None = 1.0,
    h: float | None = 1.2,
    lo: float | None = 0.9,
    c: float | None = 1.1,
    v: float | None = 10.0,
) -> Row:
    return {
        "timestamp": ts,
        "timeframe": tf,
        "price_type": pt,
        "open": o,
        "high": h,
        "low": lo,
        "close": c,
        "volume": v,
    }


def table(rows: list[Row], *, dictionary: bool = False) -> pa.Table:
    cols: dict[str, Any] = {
        "timestamp": pa.array([r["timestamp"] for r in rows], type=pa.int64()),
    }
    for name in ("timeframe", "price_type"):
        arr = pa.array([r[name] for r in rows], type=pa.string())
        cols[name] = arr.dictionary_encode() if dictionary else arr
    for name in ("open", "high", "low", "close", "volume"):
        cols[name] = pa.array([r[name] for r in rows], type=pa.float64())
    return pa.table(cols)


def good_rows() -> list[Row]:
    """Six valid rows, deliberately NOT in canonical order."""
    return [
        row(ts=120_000_000, pt="ask", o=1.01, h=1.21, lo=0.91, c=1.11),  # 0
        row(ts=300_000_000, tf="M5", pt="bid"),  # 1
        row(ts=120_000_000, pt="bid"),  # 2
        row(ts=60_000_000, pt="ask", o=1.01, h=1.21, lo=0.91, c=1.11),  # 3
        row(ts=300_000_000, tf="M1", pt="bid"),  # 4
        row(ts=60_000_000, pt="bid"),  # 5
    ]


def expect(
    exc_type: type[StreamError], rows: list[Row], row_index: int | None, field: str | None
) -> StreamError:
    with pytest.raises(exc_type) as info:
        stream_from_table(table(rows))
    assert type(info.value) is exc_type
    assert info.value.row == row_index
    assert info.value.field == field
    return info.value


# ------------------------------------------------------------------ canonical order


def test_canonical_order_of_shuffled_table() -> None:
    stream = stream_from_table(table(good_rows()))
    keys = [(c.timestamp, c.timeframe, c.price_type) for c in stream.candles]
    assert keys == [
        (60_000_000, "M1", "bid"),
        (60_000_000, "M1", "ask"),
        (120_000_000, "M1", "bid"),
        (120_000_000, "M1", "ask"),
        (300_000_000, "M1", "bid"),
        (300_000_000, "M5", "bid"),
    ]
    assert len(stream) == 6
    assert stream.candles[1] == Candle(60_000_000, "M1", "ask", 1.01, 1.21, 0.91, 1.11, 10.0)
    assert stream.source == "<table>"
    assert stream.instrument == InstrumentMeta()


def test_dictionary_and_string_columns_agree() -> None:
    a = stream_from_table(table(good_rows(), dictionary=False))
    b = stream_from_table(table(good_rows(), dictionary=True))
    assert a.candles == b.candles


def test_integer_value_columns_and_int32_timestamp_are_accepted() -> None:
    t = table([row()])
    t = t.set_column(0, "timestamp", t.column("timestamp").cast(pa.int32()))
    t = t.set_column(7, "volume", pa.array([10], type=pa.int16()))
    t = t.set_column(3, "open", pa.array([1.0], type=pa.float32()))
    stream = stream_from_table(t)
    c = stream.candles[0]
    assert (c.timestamp, c.open, c.volume) == (60_000_000, 1.0, 10.0)
    assert type(c.volume) is float and type(c.timestamp) is int


def test_require_sorted_accepts_sorted_and_rejects_unsorted() -> None:
    sorted_rows = [row(ts=60_000_000), row(ts=60_000_000, pt="ask"), row(ts=120_000_000)]
    assert len(stream_from_table(table(sorted_rows), require_sorted=True)) == 3
    with pytest.raises(UnsortedStreamError) as info:
        stream_from_table(table(good_rows()), require_sorted=True)
    # row 1 (M5 @300s) is fine after row 0 (M1 ask @120s); row 2 (@120s) < row 1 (@300s)
    assert (info.value.row, info.value.field) == (2, "timestamp")
    # without require_sorted the same table is accepted
    assert len(stream_from_table(table(good_rows()))) == 6


def test_require_sorted_detects_price_type_and_timeframe_order() -> None:
    ask_first = [row(pt="ask", o=1.01, h=1.21, lo=0.91, c=1.11), row(pt="bid")]
    with pytest.raises(UnsortedStreamError) as info:
        stream_from_table(table(ask_first), require_sorted=True)
    assert info.value.row == 1
    m5_first = [row(ts=300_000_000, tf="M5"), row(ts=300_000_000, tf="M1")]
    with pytest.raises(UnsortedStreamError) as info2:
        stream_from_table(table(m5_first), require_sorted=True)
    assert info2.value.row == 1


def test_negative_timestamps_are_valid() -> None:
    stream = stream_from_table(table([row(ts=-60_000_000), row(ts=-120_000_000)]))
    assert [c.timestamp for c in stream.candles] == [-120_000_000, -60_000_000]


# ------------------------------------------------------------------ phase 1: schema


def test_missing_column_names_field() -> None:
    t = table([row()]).drop_columns(["high", "low"])
    with pytest.raises(SchemaError) as info:
        stream_from_table(t)
    assert info.value.field == "high"  # first in column order
    assert info.value.row is None


def test_wrong_type_names_field() -> None:
    t = table([row()])
    t = t.set_column(5, "low", pa.array(["0.9"]))
    t = t.set_column(7, "volume", pa.array(["x"]))
    with pytest.raises(SchemaError) as info:
        stream_from_table(t)
    assert info.value.field == "low"


def test_float_timestamp_is_a_schema_error() -> None:
    t = table([row()])
    t = t.set_column(0, "timestamp", pa.array([60.0]))
    with pytest.raises(SchemaError) as info:
        stream_from_table(t)
    assert info.value.field == "timestamp"


def test_numeric_timeframe_is_a_schema_error() -> None:
    t = table([row()])
    t = t.set_column(1, "timeframe", pa.array([60]))
    with pytest.raises(SchemaError) as info:
        stream_from_table(t)
    assert info.value.field == "timeframe"


def test_unsafe_int_to_float_cast_is_a_schema_error() -> None:
    t = table([row()])
    t = t.set_column(7, "volume", pa.array([2**60], type=pa.int64()))
    with pytest.raises(SchemaError) as info:
        stream_from_table(t)
    assert info.value.field == "volume"


def test_schema_error_precedes_empty() -> None:
    t = table([]).drop_columns(["close"])
    with pytest.raises(SchemaError):
        stream_from_table(t)


# ------------------------------------------------------------------ phase 2: empty


def test_empty_table() -> None:
    with pytest.raises(EmptyStreamError) as info:
        stream_from_table(table([]))
    assert info.value.row is None and info.value.field is None


# ------------------------------------------------------------------ phase 3: rows


def test_null_value() -> None:
    err = expect(NullValueError, [row(), row(ts=120_000_000, h=None, c=None)], 1, "high")
    assert "null" in str(err)


def test_null_timeframe_precedes_unknown_price_type() -> None:
    expect(NullValueError, [row(tf=None, pt="mid")], 0, "timeframe")


def test_unknown_timeframe() -> None:
    err = expect(UnknownTimeframeError, [row(tf="M2")], 0, "timeframe")
    assert "'M2'" in str(err)


def test_unknown_price_type() -> None:
    err = expect(UnknownTimeframeError, [row(), row(ts=120_000_000, pt="mid")], 1, "price_type")
    assert "'mid'" in str(err)


def test_non_finite() -> None:
    err = expect(NonFiniteError, [row(lo=math.nan, v=math.inf)], 0, "low")
    assert "nan" in str(err)
    expect(NonFiniteError, [row(v=-math.inf)], 0, "volume")


def test_non_positive_price() -> None:
    err = expect(NonPositivePriceError, [row(o=1.0, h=1.2, lo=0.0, c=1.1)], 0, "low")
    assert "0.0" in str(err)
    expect(NonPositivePriceError, [row(o=-1.0, lo=-2.0)], 0, "open")


def test_low_above_min_open_close() -> None:
    err = expect(OHLCError, [row(o=1.2, h=1.3, lo=1.15, c=1.1)], 0, "low")
    assert str(err) == "row 0, field 'low': low 1.15 > min(open, close) 1.1"


def test_high_below_max_open_close() -> None:
    err = expect(OHLCError, [row(o=1.0, h=1.05, lo=0.9, c=1.1)], 0, "high")
    assert "high 1.05 < max(open, close) 1.1" in str(err)


def test_low_check_precedes_high_check() -> None:
    # high < low: both earlier OHLC checks fail; low is reported first
    expect(OHLCError, [row(o=1.0, h=0.8, lo=1.2, c=1.0)], 0, "low")


def test_negative_volume() -> None:
    err = expect(NegativeVolumeError, [row(v=-1.0)], 0, "volume")
    assert "-1.0" in str(err)


def test_lowest_row_wins_over_check_order() -> None:
    rows = [row(), row(ts=120_000_000, v=-1.0), row(ts=180_000_000, tf="XX")]
    expect(NegativeVolumeError, rows, 1, "volume")


def test_row_checks_precede_duplicates() -> None:
    rows = [row(), row(), row(ts=120_000_000, o=-1.0)]
    expect(NonPositivePriceError, rows, 2, "open")


# ------------------------------------------------------------------ phase 4/5/6


def test_duplicate_event_reports_second_occurrence() -> None:
    rows = [
        row(ts=60_000_000),  # 0
        row(ts=120_000_000),  # 1  first of key B
        row(ts=60_000_000, pt="ask", o=1.01, h=1.21, lo=0.91, c=1.11),  # 2
        row(ts=120_000_000, o=1.05),  # 3  second of key B  <- reported
        row(ts=60_000_000),  # 4  second of key A (later row)
    ]
    err = expect(DuplicateEventError, rows, 3, "timestamp")
    assert "first occurrence at row 1" in str(err)


def test_duplicates_precede_bid_ask() -> None:
    rows = [row(), row(pt="ask", o=0.5, lo=0.4), row()]
    expect(DuplicateEventError, rows, 2, "timestamp")


def test_bid_ask_violation_at_lowest_ask_row() -> None:
    rows = [
        row(ts=120_000_000, pt="bid"),  # 0
        row(ts=60_000_000, pt="bid"),  # 1
        row(ts=120_000_000, pt="ask", o=1.0, h=1.2, lo=0.9, c=1.05),  # 2: close < bid close
        row(ts=60_000_000, pt="ask", o=1.0, h=1.19, lo=0.9, c=1.1),  # 3: high < bid high
    ]
    err = expect(BidAskError, rows, 2, "close")
    assert "ask close 1.05 < bid close 1.1 (bid row 0)" in str(err)


def test_bid_ask_first_failing_field() -> None:
    rows = [row(pt="ask", o=0.99, h=1.19, lo=0.9, c=1.1), row(pt="bid")]
    expect(BidAskError, rows, 0, "open")


def test_bid_ask_only_for_matching_timeframe() -> None:
    # a cheaper M5 ask at the same timestamp is not compared with the M1 bid
    rows = [
        row(ts=300_000_000),
        row(ts=300_000_000, tf="M5", pt="ask", o=0.5, h=0.6, lo=0.4, c=0.5),
    ]
    assert len(stream_from_table(table(rows))) == 2


def test_equal_bid_ask_is_valid() -> None:
    assert len(stream_from_table(table([row(pt="bid"), row(pt="ask")]))) == 2


def test_bid_ask_precedes_unsorted() -> None:
    rows = [row(ts=120_000_000), row(pt="ask", o=0.5, lo=0.4), row()]
    with pytest.raises(BidAskError) as info:
        stream_from_table(table(rows), require_sorted=True)
    assert info.value.row == 1


# ------------------------------------------------------------------ files


def sample_stream() -> CandleStream:
    meta = InstrumentMeta(symbol="EURUSD", tick_size=1e-5, contract_size=100000.0)
    return stream_from_table(table(good_rows()), instrument=meta, source="sample")


@pytest.mark.parametrize("suffix", [".arrow", ".ipc", ".feather", ".parquet"])
def test_binary_round_trip_keeps_candles_and_metadata(tmp_path: Path, suffix: str) -> None:
    stream = sample_stream()
    path = tmp_path / f"s{suffix}"
    write_stream(stream, path)
    loaded = load_stream(path)
    assert loaded.candles == stream.candles
    assert loaded.instrument == stream.instrument
    assert loaded.source == str(path)


def test_ipc_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "s.arrow"
    write_stream(sample_stream(), path)
    assert path.read_bytes()[:6] == b"ARROW1"
    with ipc.open_file(str(path)) as reader:
        t = reader.read_all()
    assert t.schema.equals(schema_with_instrument(sample_stream().instrument), True)


def test_csv_round_trip_default_and_explicit_instrument(tmp_path: Path) -> None:
    stream = sample_stream()
    path = tmp_path / "s.csv"
    write_stream(stream, path)
    header = path.read_text().splitlines()[0]
    assert header == "timestamp,timeframe,price_type,open,high,low,close,volume"
    loaded = load_stream(path)
    assert loaded.candles == stream.candles
    assert loaded.instrument == InstrumentMeta()
    meta = InstrumentMeta(symbol="Z", tick_size=0.01, contract_size=5.0)
    assert load_stream(path, instrument=meta).instrument == meta


def test_csv_exact_floats_and_nulls(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "timestamp,timeframe,price_type,open,high,low,close,volume\n"
        "60000000,M1,bid,0.30000000000000004,0.4,0.1,0.2,1\n"
        "120000000,M1,bid,1,1,1,1,\n"
    )
    with pytest.raises(NullValueError) as info:
        load_stream(path)
    assert (info.value.row, info.value.field) == (1, "volume")
    path.write_text(
        "timestamp,timeframe,price_type,open,high,low,close,volume\n"
        "60000000,M1,bid,0.30000000000000004,0.4,0.1,nan,1\n"
    )
    with pytest.raises(NonFiniteError) as info2:
        load_stream(path)
    assert info2.value.field == "close"


def test_csv_bad_number_is_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "timestamp,timeframe,price_type,open,high,low,close,volume\n60000000,M1,bid,x,1,1,1,1\n"
    )
    with pytest.raises(SchemaError) as info:
        load_stream(path)
    assert "\n" not in str(info.value)
    assert info.value.row is None


def test_ipc_stream_format_fallback(tmp_path: Path) -> None:
    stream = sample_stream()
    t = stream_to_table(stream)
    path = tmp_path / "s.arrow"
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, t.schema) as writer:
        writer.write_table(t)
    loaded = load_stream(path)
    assert loaded.candles == stream.candles
    assert loaded.instrument == stream.instrument


@pytest.mark.parametrize("suffix", [".arrow", ".parquet", ".feather"])
def test_random_bytes_are_schema_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(4096)))
    with pytest.raises(SchemaError) as info:
        load_stream(path)
    assert info.value.row is None
    assert "\n" not in str(info.value)


def test_truncated_arrow_file_is_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "s.arrow"
    write_stream(sample_stream(), path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(SchemaError):
        load_stream(path)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(SchemaError):
        load_stream(tmp_path / "nope.arrow")
    other = tmp_path / "s.json"
    other.write_text("{}")
    with pytest.raises(SchemaError) as info:
        load_stream(other)
    assert ".json" in str(info.value)


def test_load_stream_require_sorted(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.parquet"
    write_stream(table(good_rows()), path)
    assert len(load_stream(path)) == 6
    with pytest.raises(UnsortedStreamError):
        load_stream(path, require_sorted=True)


def test_stream_to_table_schema_and_batches(tmp_path: Path) -> None:
    rows = [row(ts=60_000_000 * (k + 1)) for k in range(70_000)]
    stream = stream_from_table(table(rows))
    t = stream_to_table(stream)
    assert t.schema.equals(schema_with_instrument(InstrumentMeta()), True)
    path = tmp_path / "big.arrow"
    write_stream(stream, path)
    with ipc.open_file(str(path)) as reader:
        sizes = [reader.get_batch(k).num_rows for k in range(reader.num_record_batches)]
    assert sizes == [65536, 70_000 - 65536]
    assert load_stream(path, require_sorted=True).candles == stream.candles


def test_write_is_byte_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.arrow", tmp_path / "b.arrow"
    write_stream(sample_stream(), a)
    write_stream(sample_stream(), b)
    assert a.read_bytes() == b.read_bytes()


def test_pathlike_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.arrow"
    write_stream(sample_stream(), os.fspath(path))
    assert len(load_stream(os.fspath(path))) == 6


def test_empty_schema_table_round_trip_is_empty_error(tmp_path: Path) -> None:
    path = tmp_path / "e.arrow"
    write_stream(CANDLE_SCHEMA.empty_table(), path)
    with pytest.raises(EmptyStreamError):
        load_stream(path)


# ------------------------------------------------------------------ golden corpus


def corpus_index() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((STREAMS / "index.json").read_text())
    return data


def test_corpus_index_lists_expected_streams() -> None:
    names = {entry["name"] for entry in corpus_index()}
    assert names == {
        "eurusd_h1",
        "eurusd_h1_h4",
        "goog_d1",
        "synthetic_m1_50k",
        "synthetic_mtf",
    }
    assert {p.stem for p in STREAMS.glob("*.arrow")} == names


@pytest.mark.parametrize("name", [e["name"] for e in corpus_index()])
def test_corpus_stream_loads_and_matches_index(name: str) -> None:
    entry = next(e for e in corpus_index() if e["name"] == name)
    path = STREAMS / entry["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert entry["sha256"] in (STREAMS / "PROVENANCE.md").read_text()
    stream = load_stream(path, require_sorted=True)
    assert len(stream) == entry["events"]
    assert sorted({c.timeframe for c in stream.candles}) == sorted(entry["timeframes"])
    assert sorted({c.price_type for c in stream.candles}) == sorted(entry["price_types"])
    assert stream.instrument.symbol == entry["symbol"]
    assert stream.candles[0].timestamp == entry["first_timestamp"]
    assert stream.candles[-1].timestamp == entry["last_timestamp"]


def test_corpus_known_counts() -> None:
    events = {e["name"]: e["events"] for e in corpus_index()}
    assert events["eurusd_h1"] == 2 * 5000
    assert events["goog_d1"] == 2 * 2148
    assert events["synthetic_m1_50k"] == 100_000
    assert events["synthetic_mtf"] == 2 * (6000 + 1200 + 100)


def test_eurusd_first_bar_is_close_time_of_csv_row() -> None:
    stream = load_stream(STREAMS / "eurusd_h1.arrow")
    first_bid, first_ask = stream.candles[0], stream.candles[1]
    # CSV row 1: 2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413 (bar open, UTC)
    assert first_bid == Candle(
        1492596000000000, "H1", "bid", 1.0716, 1.0722, 1.07083, 1.07219, 1413.0
    )
    assert first_ask.price_type == "ask"
    assert math.isclose(first_ask.open - first_bid.open, 0.00012, abs_tol=1e-9)
    assert stream.instrument == InstrumentMeta("EURUSD", 1e-5, 100000.0)


# ------------------------------------------------------------------ reference check

_NAMES = ("timestamp", "timeframe", "price_type", "open", "high", "low", "close", "volume")
_KIND = {
    NullValueError: "null",
    UnknownTimeframeError: "unknown",
    NonFiniteError: "non_finite",
    NonPositivePriceError: "non_positive",
    OHLCError: "ohlc",
    NegativeVolumeError: "volume",
    DuplicateEventError: "duplicate",
    BidAskError: "bid_ask",
    UnsortedStreamError: "unsorted",
}


def naive_first_error(rows: list[tuple[Any, ...]]) -> tuple[str, int, str] | None:
    """A row-by-row transcription of the documented precedence (require_sorted=True)."""
    tf_sec = {"M1": 60, "M5": 300}
    for i, r in enumerate(rows):
        d = dict(zip(_NAMES, r, strict=True))
        for n in _NAMES:
            if d[n] is None:
                return ("null", i, n)
        if d["timeframe"] not in tf_sec:
            return ("unknown", i, "timeframe")
        if d["price_type"] not in ("bid", "ask"):
            return ("unknown", i, "price_type")
        for n in _NAMES[3:]:
            if not math.isfinite(d[n]):
                return ("non_finite", i, n)
        for n in _NAMES[3:7]:
            if d[n] <= 0:
                return ("non_positive", i, n)
        o, h, lo, c = d["open"], d["high"], d["low"], d["close"]
        if lo > min(o, c):
            return ("ohlc", i, "low")
        if h < max(o, c) or h < lo:
            return ("ohlc", i, "high")
        if d["volume"] < 0:
            return ("volume", i, "volume")
    seen: set[tuple[Any, ...]] = set()
    for i, r in enumerate(rows):
        if r[:3] in seen:
            return ("duplicate", i, "timestamp")
        seen.add(r[:3])
    bid_row = {(r[0], r[1]): i for i, r in enumerate(rows) if r[2] == "bid"}
    for i, r in enumerate(rows):
        if r[2] == "ask" and (r[0], r[1]) in bid_row:
            b = rows[bid_row[(r[0], r[1])]]
            for j, n in enumerate(_NAMES[3:7]):
                if r[3 + j] < b[3 + j]:
                    return ("bid_ask", i, n)
    keys = [(r[0], tf_sec[r[1]], r[2] == "ask") for r in rows]
    for i in range(1, len(rows)):
        if keys[i] < keys[i - 1]:
            return ("unsorted", i, "timestamp")
    return None


def test_vectorised_validation_matches_naive_reference() -> None:
    from legacy_py.rng import uniform

    values: list[float | None] = [None, 1.0, 1.1, 0.9, -1.0, math.nan, 1.2]
    outcomes: set[str | None] = set()
    for trial in range(600):
        n = 1 + int(uniform(99, trial, 0) * 6)
        rows: list[tuple[Any, ...]] = []
        for i in range(n):

            def u(lane: int, key: int = trial * 100 + i) -> float:
                return uniform(99, key, lane)

            tf = ["M1", "M5", None, "XX"][int(u(2) * 4)] if u(52) < 0.05 else "M1"
            pt = ["bid", "ask", None, "mid"][int(u(3) * 4)] if u(53) < 0.05 else "bid"
            if u(54) < 0.5:
                pt = "ask"
            base = [1.0, 1.2, 0.9, 1.1, 5.0]
            vals = [
                b if u(10 + j) < 0.9 else values[int(u(20 + j) * 7)] for j, b in enumerate(base)
            ]
            ts = None if u(30) < 0.03 else int(u(1) * 3) * 60
            rows.append((ts, tf, pt, *vals))
        t = pa.table(
            {
                n: pa.array(
                    [r[k] for r in rows],
                    type=pa.int64() if k == 0 else pa.string() if k < 3 else pa.float64(),
                )
                for k, n in enumerate(_NAMES)
            }
        )
        expected = naive_first_error(rows)
        try:
            stream_from_table(t, require_sorted=True)
            got = None
        except StreamError as exc:
            got = (_KIND[type(exc)], exc.row, exc.field)
        assert got == expected, rows
        outcomes.add(None if expected is None else expected[0])
    assert outcomes >= {None, "null", "non_finite", "ohlc", "duplicate", "unsorted"}
