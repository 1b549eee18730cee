"""Legacy vs Rust on Hypothesis-generated streams: identical traces, bit for bit.

Runs under the active profile (``ci``: derandomized; ``dev``: deep). Failing examples
shrink to a minimal stream; the assertion message shows the first divergent event and
column, and the stream should then be recorded into the golden corpus
(``omega-harness record``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given

import omega_rust
from harness.adapters import LegacyAdapter, RustAdapter
from harness.experiment import compare, run_outcome
from legacy_py.loader import stream_from_table
from legacy_py.strategies import strategy_names
from property.strategies import candle_tables, seeds, strategy_params


@pytest.mark.parametrize("name", strategy_names())
def test_engines_agree_on_generated_streams(name: str) -> None:
    @given(table=candle_tables(max_bars=150), params=strategy_params(name), seed=seeds())
    def check(table: pa.Table, params: dict[str, Any], seed: int) -> None:
        stream = stream_from_table(table, source="<hypothesis>")
        ctrl = run_outcome(LegacyAdapter(), stream, name, params, seed)
        comp = compare(ctrl, run_outcome(RustAdapter(), stream, name, params, seed))
        if not comp.matched:
            detail = comp.diff.describe() if comp.diff is not None else ""
            kind = comp.classification.kind if comp.classification else "?"
            raise AssertionError(f"{kind}: {detail}")

    check()


@given(table=candle_tables(max_bars=60), seed=seeds())
def test_rust_validation_accepts_every_generated_stream(table: pa.Table, seed: int) -> None:
    events, _, _, contract = omega_rust.validate_stream(table)
    assert events == table.num_rows
    assert contract == stream_from_table(table).instrument.contract_size
