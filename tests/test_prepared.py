"""``omega_rust.prepare_stream``: a stream validated once by Rust, shared by many runs.

* a :class:`PreparedStream` runs to the same trace as its table, on all three Rust
  paths (native, Python callbacks, batch);
* ``CandleStream`` tables are prepared once per (table, instrument, require_sorted) and
  the cache entry goes with the table;
* ``require_sorted`` keeps its meaning (same legacy error as without the cache);
* invalid tables raise the legacy loader's errors at ``prepare_stream``.
"""

from __future__ import annotations

import gc
import multiprocessing
from pathlib import Path

import pyarrow as pa
import pytest

import omega_rust
from legacy_py.arrow_schemas import InstrumentMeta
from legacy_py.config import EngineConfig
from legacy_py.engine import run_python
from legacy_py.errors import NonFiniteError, UnsortedStreamError
from legacy_py.loader import CandleStream, load_stream, read_table, stream_from_table
from legacy_py.strategies import make_strategy

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "golden" / "streams" / "eurusd_h1.arrow"


def unsorted_stream() -> CandleStream:
    """The corpus stream with its rows reversed (valid, not in canonical order)."""
    table = read_table(STREAM)
    reversed_table = table.take(pa.array(range(table.num_rows - 1, -1, -1)))
    return stream_from_table(reversed_table, source="reversed")


def test_prepared_stream_runs_like_its_table_on_every_path() -> None:
    stream = load_stream(STREAM)
    prepared = omega_rust.prepare_stream(str(STREAM))
    assert len(prepared) == len(stream)
    assert prepared.is_sorted and not prepared.require_sorted
    assert repr(prepared) == f"PreparedStream(events={len(stream)}, symbol='EURUSD', sorted=True)"
    strat, cfg = make_strategy("sma_cross", {}, stream)
    legacy = run_python(stream, strat, cfg, 0, {}).hash()
    assert omega_rust.run_native(prepared, "sma_cross").hash() == legacy
    assert omega_rust.run_native(stream, "sma_cross").hash() == legacy
    rust_strat, rust_cfg = make_strategy("sma_cross", {}, stream)  # strategies keep state
    assert omega_rust.run_rust(prepared, rust_strat, rust_cfg).hash() == legacy
    batch_strat, batch_cfg = make_strategy("sma_cross", {}, stream)
    assert omega_rust.run_batch(prepared, batch_strat, batch_cfg).hash() == legacy
    many = omega_rust.run_native_many([prepared, stream], "sma_cross", threads=2)
    assert [t.hash() for t in many] == [legacy, legacy]


def test_candle_stream_is_prepared_once_per_table_and_instrument() -> None:
    stream = load_stream(STREAM)
    assert stream.table is not None
    first, label = omega_rust._native_source(stream)
    again, _ = omega_rust._native_source(stream)
    assert isinstance(first, omega_rust.PreparedStream) and again is first
    assert label == stream.source
    sorted_one, _ = omega_rust._native_source(stream, require_sorted=True)
    assert sorted_one is not first and sorted_one.require_sorted
    # the same table with another instrument is another prepared stream, and runs
    # with that instrument's contract size, like legacy
    other = CandleStream(
        stream.candles, InstrumentMeta("EURUSD", 1e-5, 1000.0), "big", stream.table
    )
    big, _ = omega_rust._native_source(other)
    assert big is not first
    strat, cfg = make_strategy("sma_cross", {}, other)
    legacy = run_python(other, strat, cfg, 0, {}).hash()
    assert omega_rust.run_native(other, "sma_cross").hash() == legacy
    assert legacy != omega_rust.run_native(stream, "sma_cross").hash()


def test_cache_entry_goes_with_its_table() -> None:
    stream = unsorted_stream()
    assert stream.table is not None
    key = id(stream.table)
    omega_rust._native_source(stream)
    assert key in omega_rust._PREPARED
    del stream
    gc.collect()
    assert key not in omega_rust._PREPARED


def test_require_sorted_is_kept() -> None:
    stream = unsorted_stream()
    strat, cfg = make_strategy("sma_cross", {}, stream)
    legacy = run_python(stream, strat, cfg, 0, {}).hash()
    assert omega_rust.run_native(stream, "sma_cross").hash() == legacy
    with pytest.raises(UnsortedStreamError):
        omega_rust.run_native(stream, "sma_cross", require_sorted=True)
    rust_strat, rust_cfg = make_strategy("sma_cross", {}, stream)
    with pytest.raises(UnsortedStreamError):
        omega_rust.run_rust(stream, rust_strat, rust_cfg, require_sorted=True)
    # a prepared stream made without require_sorted cannot vouch for the order
    prepared = omega_rust.prepare_stream(stream.table)
    assert not prepared.is_sorted
    with pytest.raises(ValueError, match="not in canonical order"):
        omega_rust.run_native(prepared, "sma_cross", require_sorted=True)
    # ... but re-preparing it with require_sorted keeps the flag when it is sorted
    sorted_prepared = omega_rust.prepare_stream(str(STREAM), require_sorted=True)
    assert omega_rust.prepare_stream(sorted_prepared).require_sorted
    assert omega_rust.run_native(sorted_prepared, "sma_cross", require_sorted=True).hash() == (
        omega_rust.run_native(str(STREAM), "sma_cross").hash()
    )


def test_prepare_stream_raises_the_legacy_errors() -> None:
    table = read_table(STREAM)
    close = table.column("close").to_pylist()
    close[3] = float("nan")
    bad = table.set_column(table.schema.get_field_index("close"), "close", pa.array(close))
    with pytest.raises(NonFiniteError) as info:
        omega_rust.prepare_stream(bad)
    assert info.value.row == 3 and info.value.field == "close"
    with pytest.raises(UnsortedStreamError):
        omega_rust.prepare_stream(unsorted_stream().table, require_sorted=True)


def test_engine_config_and_seed_still_apply_to_prepared_streams() -> None:
    stream = load_stream(STREAM)
    prepared = omega_rust.prepare_stream(str(STREAM))
    cfg = EngineConfig(slippage_random=0.5)
    a = omega_rust.run_native(prepared, "sma_cross", config=cfg, seed=7)
    b = omega_rust.run_native(stream, "sma_cross", config=cfg, seed=7)
    assert a.hash() == b.hash()
    assert a.hash() != omega_rust.run_native(prepared, "sma_cross", config=cfg, seed=8).hash()


def test_runs_of_one_prepared_stream_share_the_series_columns() -> None:
    """The timeframe / price_type trace columns depend on the stream alone: every run
    of one prepared stream hands out the same Arrow buffers (and the same values as a
    stream validated afresh)."""
    prepared = omega_rust.prepare_stream(str(STREAM))

    def buffers(trace_events: pa.Table, name: str) -> list[int]:
        (chunk,) = trace_events.column(name).chunks
        return [b.address for b in chunk.buffers() if b is not None]

    a = omega_rust.run_native(prepared, "sma_cross").events
    b = omega_rust.run_native(prepared, "rsi_reversion").events
    fresh = omega_rust.run_native(str(STREAM), "sma_cross").events
    for name in ("timeframe", "price_type"):
        assert buffers(a, name) == buffers(b, name)
        assert buffers(a, name) != buffers(fresh, name)
        assert a.column(name).equals(fresh.column(name))


def _native_hash(path: str) -> str:
    return omega_rust.run_native(path, "sma_cross").hash()


def test_a_forked_child_runs_long_streams() -> None:
    """A long run uses a long-lived helper thread; a child forked after it started has
    no such thread and must run on a thread of its own, not wait forever."""
    path = str(ROOT / "golden" / "streams" / "synthetic_m1_50k.arrow")  # 100k events
    parent = _native_hash(path)  # starts the helper thread in this process
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_native_hash, (path,)).get(timeout=120)
    assert child == parent
