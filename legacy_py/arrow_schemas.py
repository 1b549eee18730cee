"""The Arrow schema of a candle stream and the instrument metadata it carries.

Columns (all non-nullable, in this order)::

    timestamp   int64                               bar CLOSE time, epoch microseconds UTC
    timeframe   dictionary<int32, string>           a key of ``types.TIMEFRAME_SECONDS``
    price_type  dictionary<int32, string>           "bid" or "ask"
    open, high, low, close, volume   float64

``timestamp`` is deliberately a plain ``int64`` (not ``timestamp[us, tz=UTC]``): the
logical type is "epoch microseconds UTC" and both engines treat it as an integer.

Schema metadata (keys and values are UTF-8 strings)::

    omega.schema_version  "1"
    omega.symbol          e.g. "EURUSD"
    omega.tick_size       repr() of a float, e.g. "1e-05"
    omega.contract_size   repr() of a float, e.g. "100000.0"

A missing key takes the default of :class:`InstrumentMeta`. A present but malformed
value (not UTF-8, not a float, not finite, not > 0, unknown schema version) raises
:class:`~legacy_py.errors.SchemaError` whose ``field`` is the metadata key.

Nullability convention: ``Optional`` values in engine types (``None``) map to an Arrow
*null*, never to NaN, wherever they are serialised. Candle columns admit no nulls at
all: a null in an input table is rejected with
:class:`~legacy_py.errors.NullValueError` naming the row and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa

from legacy_py.errors import SchemaError

SCHEMA_VERSION = "1"

META_SCHEMA_VERSION = "omega.schema_version"
META_SYMBOL = "omega.symbol"
META_TICK_SIZE = "omega.tick_size"
META_CONTRACT_SIZE = "omega.contract_size"

#: Candle column names in schema order (also the order of schema and null checks).
CANDLE_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "timeframe",
    "price_type",
    "open",
    "high",
    "low",
    "close",
    "volume",
)

#: The numeric value columns, in order.
VALUE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")

#: The price columns, in order.
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")

DICT_STRING = pa.dictionary(pa.int32(), pa.string())

CANDLE_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("timestamp", pa.int64(), nullable=False),
        pa.field("timeframe", DICT_STRING, nullable=False),
        pa.field("price_type", DICT_STRING, nullable=False),
        pa.field("open", pa.float64(), nullable=False),
        pa.field("high", pa.float64(), nullable=False),
        pa.field("low", pa.float64(), nullable=False),
        pa.field("close", pa.float64(), nullable=False),
        pa.field("volume", pa.float64(), nullable=False),
    ]
)


@dataclass(frozen=True, slots=True)
class InstrumentMeta:
    """The traded instrument: symbol, minimum price increment, units per contract."""

    symbol: str = "UNKNOWN"
    tick_size: float = 1e-5
    contract_size: float = 1.0


def instrument_metadata(meta: InstrumentMeta) -> dict[str, str]:
    """The schema metadata entries (as strings) describing ``meta``."""
    return {
        META_SCHEMA_VERSION: SCHEMA_VERSION,
        META_SYMBOL: meta.symbol,
        META_TICK_SIZE: repr(float(meta.tick_size)),
        META_CONTRACT_SIZE: repr(float(meta.contract_size)),
    }


def schema_with_instrument(meta: InstrumentMeta) -> pa.Schema:
    """``CANDLE_SCHEMA`` carrying ``meta`` in its schema metadata."""
    return CANDLE_SCHEMA.with_metadata(instrument_metadata(meta))


def _decode(raw: dict[bytes, bytes], key: str) -> str | None:
    value = raw.get(key.encode("utf-8"))
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise SchemaError(f"metadata value {value!r} is not UTF-8", field=key) from None


def _positive_float(raw: dict[bytes, bytes], key: str, default: float) -> float:
    text = _decode(raw, key)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SchemaError(f"metadata value {text!r} is not a float", field=key) from None
    if not math.isfinite(value) or value <= 0.0:
        raise SchemaError(f"metadata value {text!r} must be finite and > 0", field=key)
    return value


def instrument_from_schema(schema: pa.Schema) -> InstrumentMeta:
    """Read :class:`InstrumentMeta` from ``schema``'s metadata (missing keys -> defaults)."""
    raw: dict[bytes, bytes] = dict(schema.metadata or {})
    default = InstrumentMeta()
    version = _decode(raw, META_SCHEMA_VERSION)
    if version is not None and version != SCHEMA_VERSION:
        raise SchemaError(
            f"unsupported schema version {version!r}; expected {SCHEMA_VERSION!r}",
            field=META_SCHEMA_VERSION,
        )
    symbol = _decode(raw, META_SYMBOL)
    return InstrumentMeta(
        symbol=default.symbol if symbol is None else symbol,
        tick_size=_positive_float(raw, META_TICK_SIZE, default.tick_size),
        contract_size=_positive_float(raw, META_CONTRACT_SIZE, default.contract_size),
    )
