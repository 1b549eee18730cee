"""Type stubs of the native module ``omega_rust._omega_rust``."""

from collections.abc import Iterator
from typing import Any, final

import pyarrow as pa

__version__: str

class Candle:
    """A candle as a strategy sees it (frozen)."""

    @property
    def timestamp(self) -> int: ...
    @property
    def timeframe(self) -> str: ...
    @property
    def price_type(self) -> str: ...
    @property
    def open(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...
    @property
    def volume(self) -> float: ...

class Position:
    """An open position as ``check_exit`` sees it (frozen)."""

    @property
    def position_id(self) -> int: ...
    @property
    def side(self) -> str: ...
    @property
    def quantity(self) -> float: ...
    @property
    def entry_price(self) -> float: ...
    @property
    def entry_timestamp(self) -> int: ...
    @property
    def entry_event(self) -> int: ...
    @property
    def stop_loss(self) -> float | None: ...
    @property
    def take_profit(self) -> float | None: ...

class IndicatorView:
    """Read-only ``Mapping[str, float | None]`` snapshot of one event's indicators."""

    def __getitem__(self, key: str) -> float | None: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def get(self, key: str, default: Any = None) -> Any: ...
    def keys(self) -> list[str]: ...
    def values(self) -> list[float | None]: ...
    def items(self) -> list[tuple[str, float | None]]: ...

def run_stream(
    source: Any,
    strategy: Any,
    strategy_name: str,
    subscriptions: list[tuple[str, str]],
    indicators: list[tuple[str, str, str]],
    config: dict[str, Any],
    seed: int,
    source_label: str,
    require_sorted: bool = False,
) -> tuple[pa.RecordBatch, pa.RecordBatch, pa.RecordBatch, pa.RecordBatch]: ...
def run_batch_stream(
    source: Any,
    strategy: Any,
    strategy_name: str,
    subscriptions: list[tuple[str, str]],
    indicators: list[tuple[str, str, str]],
    config: dict[str, Any],
    seed: int,
    source_label: str,
    chunk_size: int,
    require_sorted: bool = False,
) -> tuple[pa.RecordBatch, pa.RecordBatch, pa.RecordBatch, pa.RecordBatch]: ...
def validate_stream(source: Any, require_sorted: bool = False) -> tuple[int, str, float, float]: ...

@final
class PreparedStream:
    """A stream validated once by Rust; every run it is passed to shares it."""

    def __len__(self) -> int: ...
    @property
    def is_sorted(self) -> bool: ...
    @property
    def require_sorted(self) -> bool: ...

def prepare_stream(source: Any, require_sorted: bool = False) -> PreparedStream: ...
def run_native(
    source: Any,
    strategy_name: str,
    params: dict[str, int | float],
    timeframe: str | None,
    higher_timeframe: str | None,
    config: dict[str, Any],
    seed: int,
    source_label: str,
    require_sorted: bool = False,
) -> tuple[pa.RecordBatch, pa.RecordBatch, pa.RecordBatch, pa.RecordBatch]:
    """Run a native (Rust) reference strategy; the GIL is released for the run."""

def run_native_many(
    sources: list[Any],
    jobs: list[
        tuple[int, str, dict[str, int | float], str | None, str | None, dict[str, Any], int, str]
    ],
    threads: int | None = None,
    require_sorted: bool = False,
) -> list[tuple[pa.RecordBatch, pa.RecordBatch, pa.RecordBatch, pa.RecordBatch]]:
    """Run many native jobs on a Rust thread pool; results in job order."""

def run_native_variant(
    source: Any,
    variant: str,
    params: dict[str, int | float],
    timeframe: str | None,
    higher_timeframe: str | None,
    config: dict[str, Any],
    seed: int,
    source_label: str,
) -> tuple[pa.RecordBatch, pa.RecordBatch, pa.RecordBatch, pa.RecordBatch]:
    """Test hook: a deliberately wrong native strategy (e.g. ``"sma_cross:tie_as_above"``)."""
