"""The refactoring-experiment pattern: one control, several candidates, a comparator.

Each side's *outcome* is a trace or an exception. Two traces match when every table is
bit-identical; two exceptions match when their type and message are equal; anything
else is a mismatch. Known, reviewed divergences can be allowlisted (reported apart,
never counted as a match).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.adapters import EngineAdapter
from harness.classify import Classification, classify
from harness.diff import TraceDiff, diff_traces
from legacy_py.loader import CandleStream
from legacy_py.trace import Trace


@dataclass
class Outcome:
    """What one engine produced."""

    engine: str
    trace: Trace | None = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def error_key(self) -> tuple[str, str] | None:
        """(qualified type name, message) of the exception, if any."""
        if self.error is None:
            return None
        t = type(self.error)
        return (f"{t.__module__}.{t.__qualname__}", str(self.error))

    def error_text(self) -> str:
        """The formatted exception with notes and traceback."""
        if self.error is None:
            return ""
        return "".join(traceback.format_exception(self.error))


def run_outcome(
    adapter: EngineAdapter,
    stream: CandleStream,
    strategy: str,
    params: Mapping[str, Any],
    seed: int,
) -> Outcome:
    """Run one engine, capturing its trace or its exception."""
    t0 = time.perf_counter()
    try:
        trace = adapter.run(stream, strategy, params, seed)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        return Outcome(adapter.name, error=exc, seconds=time.perf_counter() - t0)
    return Outcome(adapter.name, trace=trace, seconds=time.perf_counter() - t0)


@dataclass
class Comparison:
    """Control vs one candidate."""

    control: Outcome
    candidate: Outcome
    status: str  # match | mismatch | allowed
    diff: TraceDiff | None = None
    classification: Classification | None = None
    allow_reason: str | None = None

    @property
    def matched(self) -> bool:
        """True only for a bit-identical match (an allowlisted divergence is not one)."""
        return self.status == "match"


def compare(control: Outcome, candidate: Outcome) -> Comparison:
    """Compare two outcomes and classify any divergence."""
    if control.error is not None or candidate.error is not None:
        if control.error_key == candidate.error_key:
            return Comparison(control, candidate, "match")
        return Comparison(
            control, candidate, "mismatch", classification=classify(control, candidate, None)
        )
    assert control.trace is not None and candidate.trace is not None
    # The vectorised bit-level diff is the comparison (a 1M-row trace diffs in ~0.25 s;
    # hashing first would cost more than it saves).
    d = diff_traces(control.trace, candidate.trace)
    if d.equal:
        return Comparison(control, candidate, "match")
    return Comparison(control, candidate, "mismatch", d, classify(control, candidate, d))


@dataclass
class Case:
    """One experiment input."""

    stream_name: str
    stream: CandleStream
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def case_id(self) -> str:
        """A stable, readable id."""
        p = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.stream_name}::{self.strategy}[{p}]@seed={self.seed}"


@dataclass
class Experiment:
    """A control and its candidates on one case."""

    case: Case
    control: Outcome
    comparisons: list[Comparison]


def run_experiment(
    case: Case, control: EngineAdapter, candidates: Sequence[EngineAdapter]
) -> Experiment:
    """Run control and candidates on ``case`` and compare each candidate to the control."""
    ctrl = run_outcome(control, case.stream, case.strategy, case.params, case.seed)
    comps = [
        compare(ctrl, run_outcome(c, case.stream, case.strategy, case.params, case.seed))
        for c in candidates
    ]
    return Experiment(case, ctrl, comps)
