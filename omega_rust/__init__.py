"""omega_rust: the Rust port of the Omega backtest EventEngine (PyO3 extension).

:func:`run_rust` runs a Python strategy in the Rust event loop (the runbook's
Strategy B) and returns the same :class:`legacy_py.trace.Trace` as the legacy engine.
The native module is ``omega_rust._omega_rust``; see ``docs/ffi/event_engine.md``.
:func:`run_batch` (module :mod:`omega_rust.batch`) runs a strategy's vectorised
``on_batch`` instead, one call per chunk of events (Strategy C).
:func:`run_native` / :func:`run_native_many` (module :mod:`omega_rust.native`) run
the reference strategies implemented in Rust, with no Python in the loop (Strategy A).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import os
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa

from legacy_py.arrow_schemas import InstrumentMeta, instrument_metadata
from legacy_py.config import EngineConfig, config_dict
from legacy_py.engine import check_seed, checked_subscriptions
from legacy_py.indicators import IndicatorCache
from legacy_py.loader import IPC_SUFFIXES, CandleStream, read_table, stream_to_table
from legacy_py.trace import Trace
from legacy_py.types import Strategy
from omega_rust._omega_rust import (
    Candle,
    IndicatorView,
    Position,
    PreparedStream,
    __version__,
    prepare_stream,
    run_stream,
    validate_stream,
)
from omega_rust.batch import DEFAULT_CHUNK_SIZE, run_batch
from omega_rust.native import run_native, run_native_many

collections.abc.Mapping.register(IndicatorView)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "Candle",
    "IndicatorView",
    "Position",
    "PreparedStream",
    "StreamSource",
    "__version__",
    "prepare_stream",
    "run_batch",
    "run_native",
    "run_native_many",
    "run_rust",
    "validate_stream",
]

#: What :func:`run_rust` accepts as a stream.
StreamSource: TypeAlias = (
    "CandleStream | PreparedStream | pa.Table | pa.RecordBatchReader | str | os.PathLike[str]"
)


#: Rust-validated streams of the tables inside :class:`CandleStream`\ s, so a stream
#: that is run many times is validated by Rust once. ``id(table) -> (weakref to the
#: table, {(instrument, require_sorted): PreparedStream})``; an entry goes when its
#: table is collected (the prepared stream holds the table's buffers, not the table).
_PREPARED: dict[
    int, tuple[weakref.ref[pa.Table], dict[tuple[InstrumentMeta, bool], PreparedStream]]
] = {}


def _forget(key: int, ref: weakref.ref[pa.Table]) -> None:
    entry = _PREPARED.get(key)
    if entry is not None and entry[0] is ref:
        del _PREPARED[key]


def _with_instrument(table: pa.Table, instrument: InstrumentMeta) -> pa.Table:
    """``table`` with ``instrument`` in its schema metadata (as Rust reads it)."""
    meta = {k.encode(): v.encode() for k, v in instrument_metadata(instrument).items()}
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})


def _prepared(stream: CandleStream, table: pa.Table, require_sorted: bool) -> PreparedStream:
    """The :class:`PreparedStream` of ``stream`` (whose table is ``table``), made once.

    Tables and :class:`CandleStream` are immutable, so a table validated once with an
    instrument and ``require_sorted`` stays valid for its lifetime; the legacy engine
    likewise runs on the already validated ``CandleStream``.
    """
    key = id(table)
    entry = _PREPARED.get(key)
    if entry is None or entry[0]() is not table:
        ref = weakref.ref(table, functools.partial(_forget, key))
        entry = (ref, {})
        _PREPARED[key] = entry
    cache_key = (stream.instrument, require_sorted)
    prepared = entry[1].get(cache_key)
    if prepared is None:
        prepared = prepare_stream(_with_instrument(table, stream.instrument), require_sorted)
        entry[1][cache_key] = prepared
    return prepared


def _native_source(stream: StreamSource, require_sorted: bool = False) -> tuple[Any, str]:
    """The object handed to Rust (zero-copy where possible) and a label for messages.

    A :class:`CandleStream` read from a table becomes a cached :class:`PreparedStream`
    (validated by Rust on first use, with ``require_sorted``); a path to an IPC file is
    memory-mapped by Rust; other tables and readers are validated on every run.
    """
    if isinstance(stream, CandleStream):
        if stream.table is not None:
            return _prepared(stream, stream.table, require_sorted), stream.source
        return _with_instrument(stream_to_table(stream), stream.instrument), stream.source
    if isinstance(stream, (str, os.PathLike)):
        path = Path(stream)
        if path.suffix.lower() in IPC_SUFFIXES:
            return str(path), str(path)  # memory-mapped by Rust
        return read_table(path), str(path)
    return stream, "<table>"


def run_rust(
    stream: StreamSource,
    strategy: Strategy,
    config: EngineConfig | None = None,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    *,
    require_sorted: bool = False,
) -> Trace:
    """Run ``strategy`` over ``stream`` in the Rust event loop and return its trace."""
    prep = prepare_run(stream, strategy, config, seed, require_sorted)
    batches = run_stream(
        prep.source,
        strategy,
        strategy.name,
        prep.subscriptions,
        prep.indicators,
        prep.config,
        seed,
        prep.label,
        require_sorted,
    )
    return trace_from_batches(batches, "rust", strategy.name, seed, prep.label, params)


@dataclasses.dataclass(frozen=True)
class PreparedRun:
    """What every Python-callback entry point hands to Rust, validated like legacy."""

    subscriptions: list[tuple[str, str]]
    indicators: list[tuple[str, str, str]]
    config: dict[str, Any]
    source: Any
    label: str


def prepare_run(
    stream: StreamSource,
    strategy: Strategy,
    config: EngineConfig | None,
    seed: int,
    require_sorted: bool = False,
) -> PreparedRun:
    """Check seed, subscriptions and indicator specs (the legacy engine's errors, in its
    order, before any work) and resolve the stream source."""
    cfg = config if config is not None else EngineConfig()
    check_seed(seed)
    subs = checked_subscriptions(strategy)
    requests = list(strategy.indicators())
    IndicatorCache(requests)
    source, label = _native_source(stream, require_sorted)
    return PreparedRun(
        subs,
        [(r.timeframe, r.price_type, r.spec) for r in requests],
        config_dict(cfg),
        source,
        label,
    )


def trace_from_batches(
    batches: tuple[pa.RecordBatch, pa.RecordBatch, pa.RecordBatch, pa.RecordBatch],
    engine: str,
    strategy_name: str,
    seed: int,
    label: str,
    params: Mapping[str, Any] | None,
) -> Trace:
    """Wrap the four record batches exported by Rust (no copies) into a :class:`Trace`."""
    events, fills, trades, summary = batches
    meta = {
        "engine": engine,
        "strategy": strategy_name,
        "seed": str(seed),
        "source": label,
        "params": "" if params is None else repr(sorted(params.items())),
    }
    return Trace(
        pa.Table.from_batches([events]),
        pa.Table.from_batches([fills]),
        pa.Table.from_batches([trades]),
        pa.Table.from_batches([summary]),
        meta,
    )
