"""The ``rust-batch`` engine adapter: Strategy C (``on_batch``) in the Rust event loop.

The harness compares three paths with ``legacy`` as the control: legacy with
``on_candle``, ``rust`` with ``on_candle`` and ``rust-batch`` with ``on_batch``
(``omega-harness gate --candidate rust --candidate rust-batch``).

* A strategy that cannot run batched (no ``on_batch``, or it overrides ``check_exit``)
  makes the adapter raise :class:`BatchUnsupported` (a ``ConfigError``); the gate turns
  that into a ``skip`` row instead of a failure (:func:`skip_reason`).
* A strategy whose ``on_batch`` disagrees with its own ``on_candle`` shows up as a
  normal mismatch of candidate ``rust-batch``, with the detail prefixed by
  :data:`MISMATCH_HINT` (:func:`mismatch_hint`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legacy_py.errors import BatchUnsupported
from legacy_py.loader import CandleStream
from legacy_py.strategies import make_strategy
from legacy_py.trace import Trace

BATCH_ENGINE = "rust-batch"
MISMATCH_HINT = "on_batch disagrees with on_candle"


class RustBatchAdapter:
    """The Rust event loop with one ``on_batch`` call per chunk (Strategy C)."""

    name = BATCH_ENGINE

    def __init__(self, chunk_size: int | None = None) -> None:
        from omega_rust import DEFAULT_CHUNK_SIZE

        self.chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size

    def unsupported(self, strategy: str) -> str | None:
        """Why registered strategy ``strategy`` cannot run batched, or ``None``."""
        from omega_rust.batch import batch_unsupported_reason

        strat, _ = make_strategy(strategy, {})
        return batch_unsupported_reason(strat)

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        from omega_rust import run_batch

        strat, cfg = make_strategy(strategy, params, stream)
        return run_batch(stream, strat, cfg, seed, params, chunk_size=self.chunk_size)


def skip_reason(adapter: object, strategy: str) -> str | None:
    """Why ``adapter`` cannot run ``strategy`` at all (a gate ``skip``), or ``None``.

    Adapters opt in with an ``unsupported(strategy) -> str | None`` method.
    """
    check = getattr(adapter, "unsupported", None)
    if not callable(check):
        return None
    reason = check(strategy)
    return reason if isinstance(reason, str) else None


def is_unsupported(error: BaseException | None) -> bool:
    """True for the error of a strategy that cannot run batched."""
    return isinstance(error, BatchUnsupported)


def mismatch_hint(engine: str) -> str | None:
    """The prefix of a mismatch detail of candidate ``engine`` (``None``: no hint)."""
    return MISMATCH_HINT if engine == BATCH_ENGINE else None


__all__ = [
    "BATCH_ENGINE",
    "MISMATCH_HINT",
    "BatchUnsupported",
    "RustBatchAdapter",
    "is_unsupported",
    "mismatch_hint",
    "skip_reason",
]
