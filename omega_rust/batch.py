"""Strategy C: batch dispatch — the Rust event loop calling ``on_batch`` once per chunk.

:func:`run_batch` runs a strategy's vectorised ``on_batch(candles, indicators)`` in the
Rust event loop. Rust builds each chunk of ``chunk_size`` subscribed events ahead of the
engine (indicators depend only on candles), hands it over as two pyarrow
``RecordBatch`` objects without copying, and buffers the returned signals; the engine
then consumes them event by event exactly as it consumes ``on_candle`` results. The
contract is in ``docs/strategy_guide.md`` ("Batch strategies (on_batch)").

:func:`normalize_signals` is the validator the Rust glue calls on every ``on_batch``
result: it plays the role of ``legacy_py.engine.validate_signal`` (same error classes,
messages naming the strategy, the chunk and the row's event index) and returns the
signals as one canonical ``RecordBatch`` (:data:`SIGNAL_SCHEMA`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from legacy_py.config import EngineConfig
from legacy_py.errors import BatchUnsupported, ConfigError, StrategyError, StrategyTypeError
from legacy_py.strategies import BaseStrategy
from legacy_py.trace import Trace
from legacy_py.types import Strategy
from omega_rust._omega_rust import run_batch_stream

if TYPE_CHECKING:
    from omega_rust import StreamSource

#: Subscribed events per ``on_batch`` call unless ``chunk_size`` says otherwise.
DEFAULT_CHUNK_SIZE = 4096
#: Accepted ``signal_type`` strings (``None``/null means: no signal on that candle).
SIGNAL_TYPES = ("LONG", "SHORT", "CLOSE", "NONE")
#: Optional float64 signal columns; null means ``None`` (NaN is an error on a signal row).
PRICE_COLUMNS = ("entry_price", "stop_loss", "take_profit")
#: Every column a signal table may have (only ``signal_type`` is required).
SIGNAL_COLUMNS = ("signal_type", *PRICE_COLUMNS, "metadata")
METADATA_TYPE = pa.map_(pa.string(), pa.string())
#: The canonical signals batch handed back to Rust (``signal_type`` may also arrive as a
#: dictionary of these strings, passed through without decoding).
SIGNAL_SCHEMA = pa.schema(
    [
        pa.field("signal_type", pa.string()),
        *(pa.field(name, pa.float64()) for name in PRICE_COLUMNS),
        pa.field("metadata", METADATA_TYPE),
    ]
)

BoolArray = npt.NDArray[np.bool_]
_SIGNAL_SET = pa.array(SIGNAL_TYPES)


# ------------------------------------------------------------------------- support


def batch_unsupported_reason(strategy: object) -> str | None:
    """Why ``strategy`` cannot run under batch dispatch, or ``None`` when it can.

    It needs a callable ``on_batch``, and must not override ``check_exit`` (batch
    dispatch never calls it: exits that need engine feedback stay on ``on_candle``).
    """
    name = getattr(strategy, "name", type(strategy).__name__)
    check_exit = getattr(type(strategy), "check_exit", None)
    if check_exit is not None and check_exit is not BaseStrategy.check_exit:
        return (
            f"strategy {name!r} overrides check_exit, which batch dispatch never calls "
            "(it needs engine feedback); run it with on_candle (omega_rust.run_rust)"
        )
    if not callable(getattr(strategy, "on_batch", None)):
        return (
            f"strategy {name!r} has no on_batch, so it cannot run under batch dispatch; "
            "run it with on_candle (omega_rust.run_rust)"
        )
    return None


def check_batch_support(strategy: object) -> None:
    """Raise :class:`~legacy_py.errors.BatchUnsupported` (a ``ConfigError``) unless
    ``strategy`` can run under batch dispatch."""
    reason = batch_unsupported_reason(strategy)
    if reason is not None:
        raise BatchUnsupported(reason)


# ---------------------------------------------------------------------- validation


class _Where:
    """Message prefixes naming the strategy, the chunk and a row's event index."""

    def __init__(self, strategy_name: str, chunk: int, events: npt.NDArray[np.int64]) -> None:
        self.head = f"strategy {strategy_name!r} on_batch chunk {chunk}"
        first = int(events[0]) if len(events) else -1
        last = int(events[-1]) if len(events) else -1
        self.span = f"{self.head} (events {first} to {last}, {len(events)} candles)"
        self.events = events

    def at(self, row: int) -> str:
        return f"{self.head} at event {int(self.events[row])}"


def _columns(raw: object, where: _Where) -> dict[str, Any]:
    if isinstance(raw, (pa.Table, pa.RecordBatch)):
        cols: dict[str, Any] = {n: raw.column(n) for n in raw.column_names}
    elif isinstance(raw, Mapping):
        cols = {}
        for key, value in raw.items():
            if not isinstance(key, str):
                raise StrategyTypeError(
                    f"{where.span}: signal column names must be str, got {type(key).__name__}"
                )
            cols[key] = value
    else:
        raise StrategyTypeError(
            f"{where.span} returned {type(raw).__name__}; expected a pyarrow Table or "
            "RecordBatch, or a mapping of columns"
        )
    unknown = sorted(set(cols) - set(SIGNAL_COLUMNS))
    if unknown:
        raise StrategyTypeError(
            f"{where.span}: unknown signal column(s) {unknown}; expected {list(SIGNAL_COLUMNS)}"
        )
    if "signal_type" not in cols:
        raise StrategyTypeError(f"{where.span}: the signals have no 'signal_type' column")
    n = len(where.events)
    for key, value in cols.items():
        try:
            length = len(value)
        except TypeError:
            raise StrategyTypeError(
                f"{where.span}: column {key!r} must be an array or a list, "
                f"got {type(value).__name__}"
            ) from None
        if length != n:
            raise StrategyError(
                f"{where.span} returned {length} rows in {key!r} for {n} candles; "
                "expected one row per candle"
            )
    return cols


def _as_arrow(value: Any) -> pa.Array | None:
    """``value`` as one pyarrow array, or ``None`` when pyarrow cannot infer one type."""
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    if isinstance(value, pa.Array):
        return value
    try:
        return pa.array(value)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


def _pylist(value: Any) -> list[Any]:
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return list(value.to_pylist())
    return list(value)


def _mask(arr: pa.Array) -> BoolArray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _first(mask: BoolArray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _known_dictionary(values: pa.Array) -> bool:
    """True for a small, null-free string dictionary of valid signal types only."""
    if len(values) > len(SIGNAL_TYPES) or values.null_count or not pa.types.is_string(values.type):
        return False
    return set(values.to_pylist()) <= set(SIGNAL_TYPES)


def _signal_types(value: Any, where: _Where) -> pa.Array:
    arr = _as_arrow(value)
    if arr is not None and arr.null_count == len(arr):  # no signal at all (any type)
        return pa.nulls(len(arr), pa.string())
    if arr is not None and pa.types.is_dictionary(arr.type):
        if _known_dictionary(arr.dictionary):
            return arr  # every key names a valid type: handed to Rust as is, no decode
        arr = arr.dictionary_decode()
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        # a list or object array of str / SignalType / None, or a wrong type somewhere
        items: list[str | None] = []
        for row, v in enumerate(_pylist(value)):
            if v is None or isinstance(v, str):
                items.append(v)
            elif isinstance(v, enum.Enum) and isinstance(v.value, str):
                items.append(v.value)
            else:
                raise StrategyTypeError(
                    f"{where.at(row)}: signal_type must be str, SignalType or None, "
                    f"got {type(v).__name__}"
                )
        arr = pa.array(items, type=pa.string())
    elif pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if arr.null_count == len(arr):
        return arr
    # is_in yields false (not null) for null rows: mask them with the validity
    known = _mask(pc.is_in(arr, value_set=_SIGNAL_SET))
    bad = ~known if arr.null_count == 0 else _mask(arr.is_valid()) & ~known
    hit = _first(bad)
    if hit is not None:
        raise StrategyError(
            f"{where.at(hit)}: signal_type must be one of {', '.join(SIGNAL_TYPES)}, "
            f"got {arr[hit].as_py()!r}"
        )
    return arr


def _prices(value: Any, name: str, has_signal: BoolArray, where: _Where) -> pa.Array:
    arr = _as_arrow(value)
    if arr is not None and pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.float64())
    numeric = arr is not None and (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type))
    if arr is None or not numeric:
        for row, v in enumerate(_pylist(value)):
            if v is None:
                continue
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
                raise StrategyTypeError(
                    f"{where.at(row)}: {name} must be float or None, got {type(v).__name__}"
                )
        raise StrategyTypeError(f"{where.span}: {name} must be a float column")  # pragma: no cover
    assert arr is not None
    if not pa.types.is_float64(arr.type):
        arr = arr.cast(pa.float64(), safe=False)
    # NaN under null slots; those rows are masked out by the validity
    values = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
    bad = has_signal & ~(np.isfinite(values) & (values > 0.0))
    if arr.null_count:
        bad &= _mask(arr.is_valid())
    hit = _first(bad)
    if hit is not None:
        raise StrategyError(
            f"{where.at(hit)}: {name} must be a finite positive price, got {float(values[hit])!r}"
        )
    return arr


def _metadata(value: Any, has_signal: BoolArray, where: _Where) -> pa.Array:
    if isinstance(value, (pa.Array, pa.ChunkedArray)) and value.type == METADATA_TYPE:
        arr = value.combine_chunks() if isinstance(value, pa.ChunkedArray) else value
        if arr.items.null_count == 0:  # a map<string, string> without null values: as is
            return arr
    items: list[dict[str, str] | None] = []
    for row, meta in enumerate(_pylist(value)):
        if not has_signal[row] or meta is None:
            items.append(None)
            continue
        if isinstance(meta, list) and all(
            isinstance(kv, tuple) and len(kv) == 2 for kv in meta
        ):  # a map value read back from pyarrow: [(key, value), ...]
            meta = dict(meta)
        if not isinstance(meta, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
        ):
            raise StrategyTypeError(f"{where.at(row)}: metadata must be dict[str, str]")
        items.append(meta)
    return pa.array(items, type=METADATA_TYPE)


def normalize_signals(
    raw: object, strategy_name: str, chunk: int, candles: pa.RecordBatch
) -> pa.RecordBatch:
    """Validate what ``on_batch`` returned for ``candles`` and return it as one
    :data:`SIGNAL_SCHEMA` batch (``signal_type`` possibly dictionary-encoded).

    ``raw`` is a pyarrow ``Table``/``RecordBatch`` or a mapping of columns (numpy arrays,
    lists, pyarrow arrays) with one row per candle: ``signal_type`` (required; ``LONG``,
    ``SHORT``, ``CLOSE``, ``NONE`` or ``SignalType`` members; null/``None`` = no signal),
    optional ``entry_price``/``stop_loss``/``take_profit`` (numbers; null = ``None``) and
    ``metadata`` (``dict[str, str]`` or ``None`` per row). Rows without a signal are not
    checked further and carry nothing. Wrong types raise ``StrategyTypeError``, bad
    values (unknown signal type, NaN or non-positive price, wrong length) raise
    ``StrategyError``; messages name the strategy, the chunk and the event index.
    """
    events = np.asarray(candles.column("event_index").to_numpy(), dtype=np.int64)
    where = _Where(strategy_name, chunk, events)
    cols = _columns(raw, where)
    n = len(events)
    types = _signal_types(cols["signal_type"], where)
    if types.null_count == n:  # no signal in the chunk: nothing else to check or carry
        empty = [pa.nulls(n, f.type) for f in SIGNAL_SCHEMA][1:]
        return pa.RecordBatch.from_arrays([types, *empty], schema=SIGNAL_SCHEMA)
    has_signal = _mask(types.is_valid())
    arrays: list[pa.Array] = [types]
    for name in PRICE_COLUMNS:
        if name in cols:
            arrays.append(_prices(cols[name], name, has_signal, where))
        else:
            arrays.append(pa.nulls(n, pa.float64()))
    if "metadata" in cols:
        arrays.append(_metadata(cols["metadata"], has_signal, where))
    else:
        arrays.append(pa.nulls(n, METADATA_TYPE))
    return pa.RecordBatch.from_arrays(arrays, names=list(SIGNAL_COLUMNS))


# ----------------------------------------------------------------------------- run


def run_batch(
    stream: StreamSource,
    strategy: Strategy,
    config: EngineConfig | None = None,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    require_sorted: bool = False,
) -> Trace:
    """Run ``strategy.on_batch`` over ``stream`` in the Rust event loop (Strategy C).

    The trace equals the legacy engine's for a strategy whose ``on_batch`` makes the
    decisions its ``on_candle`` makes. ``check_exit`` is never called, so a strategy
    that overrides it (or lacks ``on_batch``) raises
    :class:`~legacy_py.errors.BatchUnsupported`, a ``ConfigError``. The trace's
    ``meta["engine"]`` is ``"rust-batch"``.
    """
    from omega_rust import prepare_run, trace_from_batches

    check_batch_support(strategy)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    prep = prepare_run(stream, strategy, config, seed, require_sorted)
    batches = run_batch_stream(
        prep.source,
        strategy,
        strategy.name,
        prep.subscriptions,
        prep.indicators,
        prep.config,
        seed,
        prep.label,
        chunk_size,
        require_sorted,
    )
    return trace_from_batches(batches, "rust-batch", strategy.name, seed, prep.label, params)


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "SIGNAL_COLUMNS",
    "SIGNAL_SCHEMA",
    "SIGNAL_TYPES",
    "batch_unsupported_reason",
    "check_batch_support",
    "normalize_signals",
    "run_batch",
]
