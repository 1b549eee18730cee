"""Minimise a divergence: the smallest stream on which the engines still disagree the same way.

Delta debugging over contiguous windows of the canonical candle list
(``case.stream.candles``), with a fixed *signature*: ``Classification.signature`` of the
original divergence, i.e. (kind, first divergent column). A candidate cut is kept only if

1. the cut table still VALIDATES (``stream_from_table``; a rejected cut is never kept), and
2. control vs candidate on the cut stream is a ``mismatch`` with the SAME signature
   (a cut that turns the divergence into another kind of divergence does not count).

The algorithm, within a budget of ``max_runs`` comparisons (each runs both engines):

1. **Shortest prefix.** Engines are causal — event ``i`` depends only on events ``<= i``
   — so a divergence first seen at event ``k`` reproduces on the prefix ``[0, k]``.
   Binary search over the prefix end (invariant: prefix ``lo`` does not reproduce,
   prefix ``hi`` does; ``lo = 0`` is the empty stream, ``hi = n`` the whole one) finds
   the shortest reproducing prefix in ``ceil(log2 n)`` runs.
2. **ddmin over bar groups.** The prefix is split into *bar groups*: all events sharing
   one timestamp (a bid and its ask, and the higher-timeframe bars closing at the same
   moment), so a cut never separates a bid from its ask or a higher-timeframe bar from
   the base bar that closes with it. For window sizes ``w = g/2, g/4, ..., 1`` (``g`` =
   number of groups), slide a window of ``w`` consecutive groups from the start and try
   removing it; a successful removal is kept and the window stays in place (the next
   groups slide into it). At ``w = 1`` passes repeat until nothing more can be removed,
   so without a budget stop the result is 1-minimal: removing any single group loses
   the divergence (or its signature, or validity).

The result holds the minimal :class:`CandleStream` (built through ``stream_from_table``,
so both engines see a validated table), its table, the event counts and the number of
runs. :func:`save_minimal` writes it in the candle schema
(:func:`legacy_py.loader.write_stream`), ready for ``golden/streams/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

from harness.adapters import EngineAdapter
from harness.experiment import Case, Comparison, compare, run_outcome
from legacy_py.errors import StreamError
from legacy_py.loader import CandleStream, stream_from_table, stream_to_table, write_stream
from legacy_py.types import Candle

Signature = tuple[str, str | None]


@dataclass
class MinimalResult:
    """The minimal failing stream and how it was found."""

    stream: CandleStream
    table: pa.Table
    events: int
    original_events: int
    runs: int
    signature: Signature
    comparison: Comparison
    #: True when the run budget stopped the search before it was 1-minimal.
    exhausted: bool = False
    #: Event counts of the original and of every accepted cut, in order.
    history: list[int] = field(default_factory=list)


class _HasTable(Protocol):
    @property
    def table(self) -> pa.Table: ...


class DoesNotReproduceError(ValueError):
    """The original case does not show the divergence with the given signature."""


class _Search:
    def __init__(
        self,
        case: Case,
        control: EngineAdapter,
        candidate: EngineAdapter,
        signature: Signature,
        max_runs: int,
    ) -> None:
        self.case = case
        self.control = control
        self.candidate = candidate
        self.signature = signature
        self.max_runs = max_runs
        self.runs = 0
        self.source = f"{case.stream_name}[minimal]"

    @property
    def budget_left(self) -> bool:
        return self.runs < self.max_runs

    def build(self, candles: Sequence[Candle]) -> CandleStream | None:
        """The validated stream of ``candles`` (canonical order), or None if rejected."""
        if not candles:
            return None
        raw = CandleStream(
            candles=tuple(candles), instrument=self.case.stream.instrument, source=self.source
        )
        try:
            return stream_from_table(stream_to_table(raw), source=self.source)
        except StreamError:
            return None

    def check(self, candles: Sequence[Candle]) -> tuple[CandleStream, Comparison] | None:
        """Run both engines on ``candles``; the stream and comparison if it reproduces."""
        stream = self.build(candles)
        if stream is None:
            return None
        self.runs += 1
        c = self.case
        ctrl = run_outcome(self.control, stream, c.strategy, c.params, c.seed)
        cand = run_outcome(self.candidate, stream, c.strategy, c.params, c.seed)
        comp = compare(ctrl, cand)
        if comp.status != "mismatch" or comp.classification is None:
            return None
        if comp.classification.signature != self.signature:
            return None
        return stream, comp


def bar_groups(candles: Sequence[Candle]) -> list[tuple[Candle, ...]]:
    """Consecutive candles sharing a timestamp (input must be in canonical order)."""
    groups: list[tuple[Candle, ...]] = []
    current: list[Candle] = []
    for c in candles:
        if current and c.timestamp != current[0].timestamp:
            groups.append(tuple(current))
            current = []
        current.append(c)
    if current:
        groups.append(tuple(current))
    return groups


def _flatten(groups: Sequence[tuple[Candle, ...]]) -> list[Candle]:
    return [c for g in groups for c in g]


def minimize_stream(
    case: Case,
    control: EngineAdapter,
    candidate: EngineAdapter,
    signature: Signature,
    *,
    max_runs: int = 200,
) -> MinimalResult:
    """The smallest stream found on which ``candidate`` diverges from ``control`` with
    ``signature`` (see the module docstring). Raises :class:`DoesNotReproduceError` when the
    original case does not reproduce it."""
    sig: Signature = (signature[0], signature[1])
    search = _Search(case, control, candidate, sig, max(1, max_runs))
    candles = list(case.stream.candles)
    n = len(candles)
    first = search.check(candles)
    if first is None:
        raise DoesNotReproduceError(
            f"{case.case_id}: {candidate.name} vs {control.name} does not reproduce {signature}"
        )
    best_stream, best_comp = first
    history = [n]

    # 1. shortest reproducing prefix (binary search over the prefix end)
    lo, hi = 0, n
    while hi - lo > 1 and search.budget_left:
        mid = (lo + hi) // 2
        found = search.check(candles[:mid])
        if found is not None:
            hi = mid
            best_stream, best_comp = found
            history.append(mid)
        else:
            lo = mid
    groups = bar_groups(candles[:hi])

    # 2. ddmin over contiguous windows of bar groups
    width = max(1, len(groups) // 2)
    complete = False
    while search.budget_left:
        changed = False
        i = 0
        while i < len(groups) and search.budget_left:
            cut = groups[:i] + groups[i + width :]
            found = search.check(_flatten(cut)) if cut else None
            if found is not None:
                groups = cut
                best_stream, best_comp = found
                history.append(len(best_stream))
                changed = True
            else:
                i += width
        if width == 1:
            if not changed and search.budget_left:
                complete = True
                break
        else:
            width = max(1, min(width // 2, len(groups) // 2))

    assert best_stream.table is not None
    return MinimalResult(
        stream=best_stream,
        table=best_stream.table,
        events=len(best_stream),
        original_events=n,
        runs=search.runs,
        signature=search.signature,
        comparison=best_comp,
        exhausted=not complete,
        history=history,
    )


def save_minimal(result: _HasTable, path: str | os.PathLike[str]) -> None:
    """Write a minimal failing stream (a :class:`MinimalResult` or a Hypothesis
    ``GeneratedFailure``) as an Arrow IPC file in the candle schema."""
    write_stream(result.table, path)


def minimal_info(result: MinimalResult, path: str | os.PathLike[str]) -> dict[str, object]:
    """The ``minimal`` entry of a divergence report."""
    return {
        "events": result.events,
        "original_events": result.original_events,
        "path": str(path),
        "signature": list(result.signature),
        "runs": result.runs,
    }


__all__ = [
    "DoesNotReproduceError",
    "MinimalResult",
    "bar_groups",
    "minimal_info",
    "minimize_stream",
    "save_minimal",
]
