"""Strategy A: the reference strategies implemented in Rust, no Python in the event loop.

:func:`run_native` runs a registered strategy (``noop``, ``sma_cross``,
``rsi_reversion``, ``donchian_breakout``, ``mtf_trend``, ``churn``) entirely in Rust —
the Rust port of each strategy (``rust_engine/src/strategies/``) decides bit for bit
like the Python one — and returns the same :class:`~legacy_py.trace.Trace` as the
legacy engine. :func:`run_native_many` runs many such runs (many streams, or one
stream over a parameter grid) on a Rust thread pool.

Parameters are validated here by the legacy code itself
(:func:`legacy_py.strategies.make_strategy`, :func:`~legacy_py.engine.check_seed`,
the legacy :class:`~legacy_py.indicators.IndicatorCache`), so errors have the legacy
types and messages, raised before any work; Rust receives the merged, typed
``strategy.params``. ``timeframe`` / ``higher_timeframe`` default to the stream's
shortest / second-shortest timeframe, resolved by Rust from the validated stream
exactly like ``make_strategy`` does (no pass over the candles in Python).

The GIL is released for the whole run (and for the Arrow trace building); Ctrl-C
raises ``KeyboardInterrupt`` within ~65k events (single run) or ~50 ms (many runs).
See ``docs/ffi/event_engine.md`` ("Strategy A").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from legacy_py.config import ENGINE_PARAM_NAMES, EngineConfig, config_dict
from legacy_py.engine import check_seed, checked_subscriptions
from legacy_py.indicators import IndicatorCache
from legacy_py.strategies import make_strategy
from legacy_py.trace import Trace
from omega_rust._omega_rust import run_native as _run_native
from omega_rust._omega_rust import run_native_many as _run_native_many

if TYPE_CHECKING:
    from omega_rust import StreamSource

#: ``Trace.meta["engine"]`` of native runs.
ENGINE_NAME = "rust-native"

Batches = tuple[pa.RecordBatch, pa.RecordBatch, pa.RecordBatch, pa.RecordBatch]


@dataclasses.dataclass(frozen=True)
class NativeSpec:
    """A validated native run, ready for Rust (everything but the stream)."""

    strategy: str
    #: The merged, typed strategy parameters (``strategy.params``: int/float only).
    params: dict[str, int | float]
    #: Explicit execution timeframe, or ``None`` for the stream's shortest.
    timeframe: str | None
    #: Explicit ``mtf_trend`` trend timeframe, or ``None`` for the stream's default.
    higher_timeframe: str | None
    #: The ``EngineConfig`` fields (``legacy_py.config.config_dict``).
    config: dict[str, Any]
    seed: int
    #: The run's parameter mapping as given (for ``Trace.meta["params"]``).
    given: Mapping[str, Any] | None


def prepare_native(
    name: str,
    params: Mapping[str, Any] | None = None,
    config: EngineConfig | None = None,
    seed: int = 0,
) -> NativeSpec:
    """Validate a native run like the legacy engine would (same errors, same order).

    ``params`` is one mapping of strategy and engine keys, as for ``make_strategy``;
    ``config``, when given, replaces the engine config derived from ``params``.
    """
    given = dict(params or {})
    strategy, derived = make_strategy(name, given, None)
    cfg = config if config is not None else derived
    check_seed(seed)
    checked_subscriptions(strategy)
    IndicatorCache(list(strategy.indicators()))  # the legacy ConfigError for bad specs
    own = {k: v for k, v in given.items() if k not in ENGINE_PARAM_NAMES}
    timeframe = str(own["timeframe"]) if "timeframe" in own else None
    higher = None
    if name == "mtf_trend" and "higher_timeframe" in own:  # other strategies ignore it
        higher = str(own["higher_timeframe"])
    return NativeSpec(
        strategy.name,
        {k: v for k, v in strategy.params.items() if k in strategy.DEFAULTS},
        timeframe,
        higher,
        config_dict(cfg),
        seed,
        params,
    )


def _trace(batches: Batches, spec: NativeSpec, label: str) -> Trace:
    events, fills, trades, summary = batches
    meta = {
        "engine": ENGINE_NAME,
        "strategy": spec.strategy,
        "seed": str(spec.seed),
        "source": label,
        "params": "" if spec.given is None else repr(sorted(spec.given.items())),
    }
    return Trace(
        pa.Table.from_batches([events]),
        pa.Table.from_batches([fills]),
        pa.Table.from_batches([trades]),
        pa.Table.from_batches([summary]),
        meta,
    )


def run_native(
    stream: StreamSource,
    name: str,
    params: Mapping[str, Any] | None = None,
    config: EngineConfig | None = None,
    seed: int = 0,
    *,
    require_sorted: bool = False,
) -> Trace:
    """Run registered strategy ``name`` natively in Rust over ``stream``.

    The trace is bit-identical to ``run_python(stream, *make_strategy(name, params,
    stream), seed, params)`` (``meta["engine"]`` is ``"rust-native"``).
    """
    from omega_rust import _native_source

    spec = prepare_native(name, params, config, seed)
    source, label = _native_source(stream, require_sorted)
    batches = _run_native(
        source,
        spec.strategy,
        spec.params,
        spec.timeframe,
        spec.higher_timeframe,
        spec.config,
        spec.seed,
        label,
        require_sorted,
    )
    return _trace(batches, spec, label)


def _broadcast(items: list[Any], n: int, what: str) -> list[Any]:
    if len(items) == n:
        return items
    if len(items) == 1:
        return items * n
    raise ValueError(f"{what} has {len(items)} items; expected 1 or {n}")


def run_native_many(
    streams: Sequence[StreamSource],
    name: str,
    params_list: Sequence[Mapping[str, Any] | None] | None = None,
    config_list: Sequence[EngineConfig | None] | None = None,
    seed: int | Sequence[int] = 0,
    threads: int | None = None,
    *,
    require_sorted: bool = False,
) -> list[Trace]:
    """Run strategy ``name`` natively over many streams or a parameter grid, in parallel.

    ``streams``, ``params_list``, ``config_list`` and ``seed`` (an int or a sequence)
    are broadcast: each has one item or ``n`` items, and run ``i`` takes item ``i`` (or
    the only one). So one stream with ``n`` params is a grid; ``n`` streams with one
    params mapping is a batch of streams. Runs execute on ``threads`` Rust threads
    (default: the machine's cores; ``threads=1`` runs them one after another) with the
    GIL released. Each run is sequential, and the result list is in input order, so
    every trace is bit-identical to the same :func:`run_native` call alone.

    All runs are validated before any starts (legacy errors); if runs fail, the first
    failure in input order is raised.
    """
    from omega_rust import _native_source

    stream_items = list(streams)
    params_items = list(params_list) if params_list is not None else [None]
    config_items = list(config_list) if config_list is not None else [None]
    seed_items = [seed] if isinstance(seed, int) else list(seed)
    n = max(len(stream_items), len(params_items), len(config_items), len(seed_items))
    if min(len(stream_items), len(params_items), len(config_items), len(seed_items)) == 0:
        return []
    if threads is not None and (isinstance(threads, bool) or threads < 1):
        raise ValueError(f"threads must be an int >= 1 or None, got {threads!r}")
    stream_items = _broadcast(stream_items, n, "streams")
    params_items = _broadcast(params_items, n, "params_list")
    config_items = _broadcast(config_items, n, "config_list")
    seed_items = _broadcast(seed_items, n, "seed")
    specs = [
        prepare_native(name, p, c, s)
        for p, c, s in zip(params_items, config_items, seed_items, strict=True)
    ]
    sources: list[Any] = []
    labels: list[str] = []
    slot: dict[int, int] = {}
    indices: list[int] = []
    for item in stream_items:
        key = id(item)
        if key not in slot:
            source, label = _native_source(item, require_sorted)
            slot[key] = len(sources)
            sources.append(source)
            labels.append(label)
        indices.append(slot[key])
    jobs = [
        (
            i,
            sp.strategy,
            sp.params,
            sp.timeframe,
            sp.higher_timeframe,
            sp.config,
            sp.seed,
            labels[i],
        )
        for i, sp in zip(indices, specs, strict=True)
    ]
    results = _run_native_many(sources, jobs, threads, require_sorted)
    return [_trace(b, sp, labels[i]) for b, sp, i in zip(results, specs, indices, strict=True)]


__all__ = ["ENGINE_NAME", "NativeSpec", "prepare_native", "run_native", "run_native_many"]
