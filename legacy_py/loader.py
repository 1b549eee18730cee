"""Load, validate, canonically order and write candle streams.

A stream file is an Arrow IPC file (``.arrow``, ``.ipc``, ``.feather``; the IPC
*stream* format is accepted as a fallback when the file magic is missing), a Parquet
file (``.parquet``) or a CSV file (``.csv``, header
``timestamp,timeframe,price_type,open,high,low,close,volume``). The schema is
:data:`legacy_py.arrow_schemas.CANDLE_SCHEMA`; see ``docs/streams.md``.

Validation precedence (a port must report the *same first* error)
-----------------------------------------------------------------
Rows are numbered 0-based in INPUT order (before sorting).

1. Schema: for each column in the order timestamp, timeframe, price_type, open, high,
   low, close, volume: missing -> ``SchemaError(field=column)``; a type that does not
   cast safely (timestamp: any integer type -> int64; timeframe/price_type: string,
   large_string or a dictionary of those; values: any integer or float type ->
   float64) -> ``SchemaError(field=column)``. Extra columns are ignored.
2. An empty table -> ``EmptyStreamError``.
3. Per-row checks. The reported row is the LOWEST row index having any violation;
   within that row the first failing check in this order:

   a. null in timestamp, timeframe, ..., volume (column order) -> ``NullValueError``
   b. timeframe not in ``TIMEFRAME_SECONDS`` -> ``UnknownTimeframeError(field="timeframe")``
   c. price_type not bid/ask -> ``UnknownTimeframeError(field="price_type")``
   d. NaN/inf in open, high, low, close, volume (in order) -> ``NonFiniteError``
   e. open, high, low, close (in order) <= 0 -> ``NonPositivePriceError``
   f. low > min(open, close) -> ``OHLCError(field="low")``
   g. high < max(open, close) -> ``OHLCError(field="high")``
   h. high < low -> ``OHLCError(field="high")`` (implied by f and g; checked anyway)
   i. volume < 0 -> ``NegativeVolumeError(field="volume")``

   Negative timestamps are valid.
4. Duplicate (timestamp, timeframe, price_type): ``DuplicateEventError`` at the row of
   the SECOND occurrence (the lowest such row over all keys), ``field="timestamp"``.
5. Bid/ask: for every (timestamp, timeframe) having both a bid and an ask row, each of
   ask.open >= bid.open, ask.high >= bid.high, ask.low >= bid.low, ask.close >= bid.close
   must hold; otherwise ``BidAskError`` at the lowest offending ASK row, field = the
   first failing of open, high, low, close.
6. Only with ``require_sorted=True``: if the input is not in canonical order,
   ``UnsortedStreamError`` at the lowest row ``i >= 1`` whose sort key is smaller than
   row ``i - 1``'s, ``field="timestamp"``.

Unreadable or malformed files raise ``SchemaError`` (no row) with a one-line message.

Canonical order
---------------
A stable sort by (timestamp ascending, ``TIMEFRAME_SECONDS[timeframe]`` ascending,
price_type with bid before ask). After phase 4 the keys are unique, so the order is total.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from legacy_py.arrow_schemas import (
    CANDLE_COLUMNS,
    PRICE_COLUMNS,
    VALUE_COLUMNS,
    InstrumentMeta,
    instrument_from_schema,
    schema_with_instrument,
)
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
from legacy_py.types import PRICE_TYPES, TIMEFRAME_SECONDS, Candle

IPC_SUFFIXES: frozenset[str] = frozenset({".arrow", ".ipc", ".feather"})
PARQUET_SUFFIXES: frozenset[str] = frozenset({".parquet"})
CSV_SUFFIXES: frozenset[str] = frozenset({".csv"})

#: Maximum rows per record batch written to IPC files.
MAX_BATCH_ROWS = 65536

_ARROW_MAGIC = b"ARROW1"

#: Fixed dictionaries used when writing: indices are therefore stable across files.
_TIMEFRAME_DICT: tuple[str, ...] = tuple(TIMEFRAME_SECONDS)
_PRICE_TYPE_DICT: tuple[str, ...] = PRICE_TYPES

BoolArray = npt.NDArray[np.bool_]
F64Array = npt.NDArray[np.float64]
I64Array = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CandleStream:
    """A validated stream of candles in canonical order."""

    candles: tuple[Candle, ...]
    instrument: InstrumentMeta
    source: str
    #: The validated input table, as given (input order). The Rust engine re-validates
    #: and runs on it directly; ``None`` for streams built from candles.
    table: pa.Table | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.candles)


# --------------------------------------------------------------------------- reading


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_ipc(path: Path) -> pa.Table:
    with path.open("rb") as fh:
        head = fh.read(len(_ARROW_MAGIC))
    if head == _ARROW_MAGIC:
        with ipc.open_file(str(path)) as reader:
            return reader.read_all()
    with pa.OSFile(str(path), "rb") as source, ipc.open_stream(source) as reader:
        return reader.read_all()


def _read_csv(path: Path) -> pa.Table:
    types: dict[str, Any] = {
        "timestamp": pa.int64(),
        "timeframe": pa.string(),
        "price_type": pa.string(),
    }
    types.update({name: pa.float64() for name in VALUE_COLUMNS})
    convert = pacsv.ConvertOptions(
        column_types=types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    return pacsv.read_csv(str(path), convert_options=convert)


def load_stream(
    path: str | os.PathLike[str],
    *,
    require_sorted: bool = False,
    instrument: InstrumentMeta | None = None,
) -> CandleStream:
    """Read, validate and canonically order the stream at ``path`` (format by suffix).

    ``instrument`` overrides the file's metadata; CSV files carry none, so they get
    the default :class:`InstrumentMeta` unless ``instrument`` is given.
    """
    p = Path(path)
    table = read_table(p)
    return stream_from_table(
        table, source=str(p), instrument=instrument, require_sorted=require_sorted
    )


def read_table(path: str | os.PathLike[str]) -> pa.Table:
    """Read the raw table at ``path`` by suffix, without validating it."""
    p = Path(path)
    suffix = p.suffix.lower()
    readers: dict[frozenset[str], Callable[[Path], pa.Table]] = {
        IPC_SUFFIXES: _read_ipc,
        PARQUET_SUFFIXES: pq.read_table,
        CSV_SUFFIXES: _read_csv,
    }
    reader = next((fn for suffixes, fn in readers.items() if suffix in suffixes), None)
    if reader is None:
        raise SchemaError(
            f"{str(p)!r}: unknown file suffix {suffix!r}; expected .arrow, .ipc, .feather, "
            ".parquet or .csv"
        )
    try:
        return reader(p)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise SchemaError(f"cannot read {str(p)!r}: {_one_line(exc)}") from None


# ------------------------------------------------------------------------ validation


@dataclass(frozen=True, slots=True)
class _Columns:
    """The cast columns as numpy arrays (nulls filled) plus their null masks."""

    nulls: dict[str, BoolArray]
    timestamp: I64Array
    timeframe: list[str | None]
    price_type: list[str | None]
    values: dict[str, F64Array]


def _cast_string(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    typ = column.type
    if pa.types.is_dictionary(typ):
        value_type = typ.value_type
        if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
            raise SchemaError(f"column type {typ} is not a dictionary of strings", field=name)
        return column.cast(pa.string())
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_null(typ):
        return column.cast(pa.string())
    raise SchemaError(f"column type {typ} is not a string type", field=name)


def _cast_numeric(column: pa.ChunkedArray, name: str, target: pa.DataType) -> pa.ChunkedArray:
    typ = column.type
    integer_ok = pa.types.is_integer(typ)
    float_ok = pa.types.is_floating(typ) and target == pa.float64()
    if not (integer_ok or float_ok or pa.types.is_null(typ)):
        raise SchemaError(f"column type {typ} does not cast to {target}", field=name)
    try:
        return column.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(
            f"column type {typ} does not cast safely to {target}: {_one_line(exc)}", field=name
        ) from None


def _extract(table: pa.Table) -> _Columns:
    """Phase 1: presence and types of the candle columns, in column order."""
    names = set(table.column_names)
    cast: dict[str, pa.ChunkedArray] = {}
    for name in CANDLE_COLUMNS:
        if name not in names:
            raise SchemaError("missing column", field=name)
        column = table.column(name)
        if name == "timestamp":
            cast[name] = _cast_numeric(column, name, pa.int64())
        elif name in ("timeframe", "price_type"):
            cast[name] = _cast_string(column, name)
        else:
            cast[name] = _cast_numeric(column, name, pa.float64())
    nulls = {
        name: np.asarray(cast[name].is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
        for name in CANDLE_COLUMNS
    }
    timestamp = np.asarray(
        cast["timestamp"].fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    values = {
        name: np.asarray(cast[name].fill_null(1.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        for name in VALUE_COLUMNS
    }
    return _Columns(
        nulls=nulls,
        timestamp=timestamp,
        timeframe=cast["timeframe"].to_pylist(),
        price_type=cast["price_type"].to_pylist(),
        values=values,
    )


def _rank_codes(
    items: list[str | None], ranks: dict[str, int]
) -> tuple[npt.NDArray[np.int64], BoolArray]:
    """Map strings to ranks; unknown or null -> -1 (and flagged in the mask)."""
    lookup: dict[str | None, int] = {k: r for k, r in ranks.items()}
    codes = np.fromiter((lookup.get(x, -1) for x in items), dtype=np.int64, count=len(items))
    return codes, codes < 0


def _row_error(cols: _Columns, i: int) -> StreamError | None:
    """The first failing phase-3 check of row ``i`` (the scalar definition)."""
    for name in CANDLE_COLUMNS:
        if cols.nulls[name][i]:
            return NullValueError(f"null value in column {name!r}", row=i, field=name)
    tf = cols.timeframe[i]
    if tf not in TIMEFRAME_SECONDS:
        return UnknownTimeframeError(
            f"unknown timeframe {tf!r}; expected one of {list(TIMEFRAME_SECONDS)!r}",
            row=i,
            field="timeframe",
        )
    pt = cols.price_type[i]
    if pt not in PRICE_TYPES:
        return UnknownTimeframeError(
            f"unknown price_type {pt!r}; expected one of {list(PRICE_TYPES)!r}",
            row=i,
            field="price_type",
        )
    v = {name: float(cols.values[name][i]) for name in VALUE_COLUMNS}
    for name in VALUE_COLUMNS:
        if not math.isfinite(v[name]):
            return NonFiniteError(f"{name} {v[name]!r} is not finite", row=i, field=name)
    for name in PRICE_COLUMNS:
        if v[name] <= 0.0:
            return NonPositivePriceError(f"{name} {v[name]!r} <= 0", row=i, field=name)
    o, h, lo, c = v["open"], v["high"], v["low"], v["close"]
    if lo > min(o, c):
        return OHLCError(f"low {lo!r} > min(open, close) {min(o, c)!r}", row=i, field="low")
    if h < max(o, c):
        return OHLCError(f"high {h!r} < max(open, close) {max(o, c)!r}", row=i, field="high")
    if h < lo:
        return OHLCError(f"high {h!r} < low {lo!r}", row=i, field="high")
    if v["volume"] < 0.0:
        return NegativeVolumeError(f"volume {v['volume']!r} < 0", row=i, field="volume")
    return None


def _row_violations(cols: _Columns, tf_bad: BoolArray, pt_bad: BoolArray) -> BoolArray:
    """Vectorised phase-3 filter: True where a row has any violation."""
    bad = np.zeros(len(cols.timestamp), dtype=np.bool_)
    for mask in cols.nulls.values():
        bad |= mask
    bad |= tf_bad
    bad |= pt_bad
    v = cols.values
    with np.errstate(invalid="ignore"):
        for name in VALUE_COLUMNS:
            bad |= ~np.isfinite(v[name])
        for name in PRICE_COLUMNS:
            bad |= v[name] <= 0.0
        o, h, lo, c = v["open"], v["high"], v["low"], v["close"]
        bad |= lo > np.minimum(o, c)
        bad |= h < np.maximum(o, c)
        bad |= h < lo
        bad |= v["volume"] < 0.0
    return bad


def _check_rows(cols: _Columns, tf_bad: BoolArray, pt_bad: BoolArray) -> None:
    """Phase 3: raise the error of the lowest violating row."""
    for i in np.flatnonzero(_row_violations(cols, tf_bad, pt_bad)).tolist():
        err = _row_error(cols, int(i))
        if err is not None:
            raise err


def _check_duplicates(
    order: I64Array, ts: I64Array, tf_rank: I64Array, pt_rank: I64Array, cols: _Columns
) -> None:
    """Phase 4: duplicate (timestamp, timeframe, price_type) keys."""
    s_ts, s_tf, s_pt = ts[order], tf_rank[order], pt_rank[order]
    same = (s_ts[1:] == s_ts[:-1]) & (s_tf[1:] == s_tf[:-1]) & (s_pt[1:] == s_pt[:-1])
    if not same.any():
        return
    # Within a key, a stable sort keeps input order: every non-first position is a
    # later occurrence, and the minimum over them is the lowest "second occurrence".
    row = int(order[1:][same].min())
    key_mask = (ts == ts[row]) & (tf_rank == tf_rank[row]) & (pt_rank == pt_rank[row])
    first = int(np.flatnonzero(key_mask)[0])
    raise DuplicateEventError(
        f"duplicate event (timestamp={int(ts[row])!r}, timeframe={cols.timeframe[row]!r}, "
        f"price_type={cols.price_type[row]!r}); first occurrence at row {first}",
        row=row,
        field="timestamp",
    )


def _check_bid_ask(
    order: I64Array, ts: I64Array, tf_rank: I64Array, pt_rank: I64Array, cols: _Columns
) -> None:
    """Phase 5: ask >= bid on each of open, high, low, close for matching bars."""
    s_ts, s_tf, s_pt = ts[order], tf_rank[order], pt_rank[order]
    # In canonical order a bid (rank 0) is immediately followed by its ask (rank 1).
    pair = (s_ts[1:] == s_ts[:-1]) & (s_tf[1:] == s_tf[:-1]) & (s_pt[:-1] == 0) & (s_pt[1:] == 1)
    bid_rows = order[:-1][pair]
    ask_rows = order[1:][pair]
    if len(ask_rows) == 0:
        return
    bad = np.zeros(len(ask_rows), dtype=np.bool_)
    for name in PRICE_COLUMNS:
        column = cols.values[name]
        bad |= column[ask_rows] < column[bid_rows]
    if not bad.any():
        return
    offending_asks = ask_rows[bad]
    k = int(np.argmin(offending_asks))
    ask_row = int(offending_asks[k])
    bid_row = int(bid_rows[bad][k])
    for name in PRICE_COLUMNS:
        a = float(cols.values[name][ask_row])
        b = float(cols.values[name][bid_row])
        if a < b:
            raise BidAskError(
                f"ask {name} {a!r} < bid {name} {b!r} (bid row {bid_row})",
                row=ask_row,
                field=name,
            )
    raise AssertionError("unreachable: bid/ask violation without failing field")


def _check_sorted(ts: I64Array, tf_rank: I64Array, pt_rank: I64Array) -> None:
    """Phase 6: the first row whose key is smaller than its predecessor's."""
    if len(ts) < 2:
        return
    d_tf = tf_rank[1:] - tf_rank[:-1]
    d_pt = pt_rank[1:] - pt_rank[:-1]
    # Timestamps are compared, never subtracted (no int64 overflow).
    lt_ts = ts[1:] < ts[:-1]
    eq_ts = ts[1:] == ts[:-1]
    descending = lt_ts | (eq_ts & ((d_tf < 0) | ((d_tf == 0) & (d_pt < 0))))
    if not descending.any():
        return
    row = int(np.flatnonzero(descending)[0]) + 1
    raise UnsortedStreamError(
        f"row is out of canonical order: key (timestamp={int(ts[row])!r}, "
        f"timeframe_seconds={int(tf_rank[row])!r}, price_type_rank={int(pt_rank[row])!r}) "
        f"sorts before row {row - 1}'s (timestamp={int(ts[row - 1])!r}, "
        f"timeframe_seconds={int(tf_rank[row - 1])!r}, "
        f"price_type_rank={int(pt_rank[row - 1])!r})",
        row=row,
        field="timestamp",
    )


def stream_from_table(
    table: pa.Table,
    *,
    source: str = "<table>",
    instrument: InstrumentMeta | None = None,
    require_sorted: bool = False,
) -> CandleStream:
    """Validate ``table`` (see the module docstring) and return it in canonical order.

    ``instrument`` defaults to the table's schema metadata.
    """
    cols = _extract(table)
    meta = instrument if instrument is not None else instrument_from_schema(table.schema)
    n = len(cols.timestamp)
    if n == 0:
        raise EmptyStreamError("stream has no rows")
    tf_rank, tf_bad = _rank_codes(cols.timeframe, TIMEFRAME_SECONDS)
    pt_rank, pt_bad = _rank_codes(cols.price_type, {p: k for k, p in enumerate(PRICE_TYPES)})
    _check_rows(cols, tf_bad, pt_bad)
    ts = cols.timestamp
    order: I64Array = np.lexsort((pt_rank, tf_rank, ts)).astype(np.int64)
    _check_duplicates(order, ts, tf_rank, pt_rank, cols)
    _check_bid_ask(order, ts, tf_rank, pt_rank, cols)
    if require_sorted:
        _check_sorted(ts, tf_rank, pt_rank)
    idx = order.tolist()
    # Phase 3 guarantees no nulls here.
    tfs = [str(cols.timeframe[i]) for i in idx]
    pts = [str(cols.price_type[i]) for i in idx]
    v = cols.values
    candles = tuple(
        [
            Candle(t, f, p, o, h, lo, c, vol)
            for t, f, p, o, h, lo, c, vol in zip(
                ts[order].tolist(),
                tfs,
                pts,
                v["open"][order].tolist(),
                v["high"][order].tolist(),
                v["low"][order].tolist(),
                v["close"][order].tolist(),
                v["volume"][order].tolist(),
                strict=True,
            )
        ]
    )
    return CandleStream(candles=candles, instrument=meta, source=source, table=table)


# --------------------------------------------------------------------------- writing


def _dict_column(items: list[str], dictionary: tuple[str, ...]) -> pa.DictionaryArray:
    code = {s: k for k, s in enumerate(dictionary)}
    indices = pa.array([code[s] for s in items], type=pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(dictionary), type=pa.string()))


def stream_to_table(stream: CandleStream) -> pa.Table:
    """The stream as a table with ``CANDLE_SCHEMA`` and the instrument metadata.

    Dictionary columns use fixed dictionaries (all of ``TIMEFRAME_SECONDS`` in its
    order; ``("bid", "ask")``), so identical streams give identical bytes.
    """
    cs = stream.candles
    arrays = [
        pa.array([c.timestamp for c in cs], type=pa.int64()),
        _dict_column([c.timeframe for c in cs], _TIMEFRAME_DICT),
        _dict_column([c.price_type for c in cs], _PRICE_TYPE_DICT),
        pa.array([c.open for c in cs], type=pa.float64()),
        pa.array([c.high for c in cs], type=pa.float64()),
        pa.array([c.low for c in cs], type=pa.float64()),
        pa.array([c.close for c in cs], type=pa.float64()),
        pa.array([c.volume for c in cs], type=pa.float64()),
    ]
    return pa.Table.from_arrays(arrays, schema=schema_with_instrument(stream.instrument))


def write_stream(stream_or_table: CandleStream | pa.Table, path: str | os.PathLike[str]) -> None:
    """Write a stream (format by suffix: .arrow/.ipc/.feather, .parquet, .csv).

    IPC files are uncompressed, in record batches of at most ``MAX_BATCH_ROWS`` rows.
    CSV drops the instrument metadata and writes dictionary columns as strings.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if isinstance(stream_or_table, CandleStream):
        table = stream_to_table(stream_or_table)
    else:
        table = stream_or_table
    if suffix in IPC_SUFFIXES:
        options = ipc.IpcWriteOptions(compression=None)
        with (
            pa.OSFile(str(p), "wb") as sink,
            ipc.new_file(sink, table.schema, options=options) as writer,
        ):
            for batch in table.combine_chunks().to_batches(max_chunksize=MAX_BATCH_ROWS):
                writer.write_batch(batch)
    elif suffix in PARQUET_SUFFIXES:
        pq.write_table(table, str(p))
    elif suffix in CSV_SUFFIXES:
        plain = table.cast(
            pa.schema(
                [
                    pa.field(f.name, pa.string(), nullable=f.nullable)
                    if pa.types.is_dictionary(f.type)
                    else f
                    for f in table.schema
                ]
            )
        )
        # pyarrow quotes header names; write a plain header, then the unquoted rows.
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        with pa.OSFile(str(p), "wb") as sink:
            sink.write((",".join(plain.column_names) + "\n").encode("utf-8"))
            pacsv.write_csv(plain, sink, options)
    else:
        raise SchemaError(f"{str(p)!r}: unknown file suffix {suffix!r}")


__all__ = [
    "MAX_BATCH_ROWS",
    "CandleStream",
    "load_stream",
    "stream_from_table",
    "stream_to_table",
    "write_stream",
]
