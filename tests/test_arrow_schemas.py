"""Tests of the candle Arrow schema and instrument metadata."""

from __future__ import annotations

import pyarrow as pa
import pytest

from legacy_py.arrow_schemas import (
    CANDLE_COLUMNS,
    CANDLE_SCHEMA,
    InstrumentMeta,
    instrument_from_schema,
    schema_with_instrument,
)
from legacy_py.errors import SchemaError


def test_schema_columns_types_and_nullability() -> None:
    assert tuple(CANDLE_SCHEMA.names) == CANDLE_COLUMNS
    assert CANDLE_SCHEMA.field("timestamp").type == pa.int64()
    for name in ("timeframe", "price_type"):
        assert CANDLE_SCHEMA.field(name).type == pa.dictionary(pa.int32(), pa.string())
    for name in ("open", "high", "low", "close", "volume"):
        assert CANDLE_SCHEMA.field(name).type == pa.float64()
    assert all(not f.nullable for f in CANDLE_SCHEMA)


def test_instrument_defaults() -> None:
    meta = InstrumentMeta()
    assert (meta.symbol, meta.tick_size, meta.contract_size) == ("UNKNOWN", 1e-5, 1.0)


def test_metadata_strings_and_round_trip() -> None:
    meta = InstrumentMeta(symbol="EURUSD", tick_size=1e-5, contract_size=100000.0)
    schema = schema_with_instrument(meta)
    assert schema.metadata == {
        b"omega.schema_version": b"1",
        b"omega.symbol": b"EURUSD",
        b"omega.tick_size": b"1e-05",
        b"omega.contract_size": b"100000.0",
    }
    assert instrument_from_schema(schema) == meta
    # repr() round-trips awkward floats exactly
    odd = InstrumentMeta(symbol="X", tick_size=0.1 + 0.2, contract_size=1.0 / 3.0)
    assert instrument_from_schema(schema_with_instrument(odd)) == odd


def test_missing_keys_take_defaults() -> None:
    assert instrument_from_schema(CANDLE_SCHEMA) == InstrumentMeta()
    partial = CANDLE_SCHEMA.with_metadata({"omega.symbol": "GOOG"})
    assert instrument_from_schema(partial) == InstrumentMeta(symbol="GOOG")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("omega.tick_size", "abc"),
        ("omega.tick_size", "0.0"),
        ("omega.contract_size", "-1.0"),
        ("omega.contract_size", "nan"),
        ("omega.schema_version", "2"),
    ],
)
def test_malformed_metadata_names_the_key(key: str, value: str) -> None:
    schema = CANDLE_SCHEMA.with_metadata({key: value})
    with pytest.raises(SchemaError) as info:
        instrument_from_schema(schema)
    assert info.value.field == key
    assert info.value.row is None


def test_non_utf8_metadata() -> None:
    schema = CANDLE_SCHEMA.with_metadata({b"omega.symbol": b"\xff\xfe"})
    with pytest.raises(SchemaError) as info:
        instrument_from_schema(schema)
    assert info.value.field == "omega.symbol"
