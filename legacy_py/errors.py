"""Typed errors. Every bad input names the row and the field."""

from __future__ import annotations


class OmegaError(Exception):
    """Base class of every error the engines raise on purpose."""


class StreamError(OmegaError):
    """A candle stream was rejected. Nothing runs on a rejected stream."""

    #: machine-readable kind, e.g. ``"non_finite"``; subclasses set it.
    kind: str = "stream"

    def __init__(self, message: str, *, row: int | None = None, field: str | None = None) -> None:
        self.row = row
        self.field = field
        where = []
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(f"{prefix}{message}")
        self.detail = message


class SchemaError(StreamError):
    """Missing column, wrong type, unreadable or malformed file."""

    kind = "schema"


class NullValueError(StreamError):
    """A null in a required column (Optional values are never allowed in a candle)."""

    kind = "null"


class EmptyStreamError(StreamError):
    """The stream has no rows."""

    kind = "empty"


class NonFiniteError(StreamError):
    """NaN or infinite value."""

    kind = "non_finite"


class NonPositivePriceError(StreamError):
    """A price is zero or negative."""

    kind = "non_positive"


class OHLCError(StreamError):
    """low > min(open, close), high < max(open, close) or high < low."""

    kind = "ohlc"


class NegativeVolumeError(StreamError):
    """volume < 0."""

    kind = "negative_volume"


class BidAskError(StreamError):
    """ask < bid for the same (timestamp, timeframe) bar."""

    kind = "bid_ask"


class DuplicateEventError(StreamError):
    """Two rows with the same (timestamp, timeframe, price_type)."""

    kind = "duplicate"


class UnknownTimeframeError(StreamError):
    """A timeframe not in ``TIMEFRAME_SECONDS`` or a price type not bid/ask."""

    kind = "unknown_key"


class UnsortedStreamError(StreamError):
    """Rows not in canonical order (raised only when ``require_sorted=True``)."""

    kind = "unsorted"


class ConfigError(OmegaError):
    """Bad engine or strategy parameters."""


class StrategyError(OmegaError):
    """A strategy returned something the engine cannot use (wrong type, bad fields)."""


class StrategyTypeError(StrategyError, TypeError):
    """A strategy callback returned a value of the wrong type."""


class BatchUnsupported(ConfigError):  # noqa: N818 - the contract's name
    """A strategy cannot run under batch dispatch (no ``on_batch``, or it overrides
    ``check_exit``, which batch dispatch never calls). Run it with ``on_candle``."""
