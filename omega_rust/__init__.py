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
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa

from legacy_py.arrow_schemas import instrument_metadata
from legacy_py.config import EngineConfig
from legacy_py.engine import check_seed, checked_subscriptions
from legacy_py.indicators import IndicatorCache
from legacy_py.loader import IPC_SUFFIXES, CandleStream, read_table, stream_to_table
from legacy_py.trace import Trace
from legacy_py.types import Strategy
from omega_rust._omega_rust import (
    Candle,
    IndicatorView,
    Position,
    __version__,
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
    "StreamSource",
    "__version__",
    "run_batch",
    "run_native",
    "run_native_many",
    "run_rust",
    "validate_stream",
]

#: What :func:`run_rust` accepts as a stream.
StreamSource: TypeAlias = "CandleStream | pa.Table | pa.RecordBatchReader | str | os.PathLike[str]"


def _native_source(stream: StreamSource) -> tuple[Any, str]:
    """The object handed to Rust (zero-copy where possible) and a label for messages."""
    if isinstance(stream, CandleStream):
        table = stream.table if stream.table is not None else stream_to_table(stream)
        meta = {k.encode(): v.encode() for k, v in instrument_metadata(stream.instrument).items()}
        old = table.schema.metadata or {}
        return table.replace_schema_metadata({**old, **meta}), stream.source
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
    prep = prepare_run(stream, strategy, config, seed)
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
    stream: StreamSource, strategy: Strategy, config: EngineConfig | None, seed: int
) -> PreparedRun:
    """Check seed, subscriptions and indicator specs (the legacy engine's errors, in its
    order, before any work) and resolve the stream source."""
    cfg = config if config is not None else EngineConfig()
    check_seed(seed)
    subs = checked_subscriptions(strategy)
    requests = list(strategy.indicators())
    IndicatorCache(requests)
    source, label = _native_source(stream)
    return PreparedRun(
        subs,
        [(r.timeframe, r.price_type, r.spec) for r in requests],
        dataclasses.asdict(cfg),
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
