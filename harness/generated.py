"""Parity on Hypothesis-generated streams, with shrinking to a minimal failing stream."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.adapters import EngineAdapter
from harness.experiment import Case, Comparison, compare, run_outcome
from legacy_py.loader import stream_from_table
from property.strategies import candle_tables, seeds, strategy_params


@dataclass
class GeneratedFailure:
    """The minimal failing example Hypothesis found."""

    kind: str | None
    detail: str
    table: pa.Table
    params: dict[str, Any]
    seed: int
    report: str | None = None


def hypothesis_parity(
    control: EngineAdapter,
    candidate: EngineAdapter,
    strategy: str,
    examples: int,
    max_bars: int,
    report_dir: Path | None = None,
) -> GeneratedFailure | None:
    """Run ``examples`` generated cases; on a mismatch return the shrunk minimal one."""
    last: dict[str, Any] = {}

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(
        table=candle_tables(max_bars=max_bars),
        params=strategy_params(strategy),
        seed=seeds(),
    )
    def prop(table: pa.Table, params: dict[str, Any], seed: int) -> None:
        stream = stream_from_table(table, source="<generated>")
        case = Case("generated", stream, strategy, params, seed)
        ctrl = run_outcome(control, stream, strategy, params, seed)
        comp = compare(ctrl, run_outcome(candidate, stream, strategy, params, seed))
        if not comp.matched:
            last.update(table=table, params=params, seed=seed, comp=comp, case=case)
            raise AssertionError(comp.classification.kind if comp.classification else "mismatch")

    try:
        prop()
    except AssertionError:
        comp: Comparison = last["comp"]
        kind = comp.classification.kind if comp.classification else None
        detail = (
            comp.diff.describe(4)
            if comp.diff
            else (comp.classification.reason if comp.classification else "mismatch")
        )
        failure = GeneratedFailure(kind, detail, last["table"], last["params"], last["seed"])
        if report_dir is not None:
            from harness.report import write_divergence_report

            failure.report = str(write_divergence_report(last["case"], comp, report_dir))
        return failure
    return None


__all__ = ["GeneratedFailure", "hypothesis_parity", "st"]
