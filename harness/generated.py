"""Parity on Hypothesis-generated streams, with shrinking to a minimal failing stream.

Hypothesis shrinks a failing example itself; the shrunk stream is saved like
``omega-harness triage`` saves its minimal stream: ``minimal.arrow`` (candle schema,
:func:`harness.minimize.save_minimal`) inside the divergence report directory, and
:meth:`GeneratedFailure.save` writes it anywhere (e.g. into ``golden/streams/``).
"""

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
    minimal_path: str | None = None

    def save(self, path: str | Path) -> Path:
        """Write the minimal failing stream as an Arrow IPC file in the candle schema."""
        from harness.minimize import save_minimal

        save_minimal(self, path)
        return Path(path)


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
    try:
        param_strategy = strategy_params(strategy)
    except KeyError:  # a strategy without generated params runs with its defaults
        param_strategy = st.just({})

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
        params=param_strategy,
        seed=seeds(),
    )
    def prop(table: pa.Table, params: dict[str, Any], seed: int) -> None:
        stream = stream_from_table(table, source="<generated>")
        case = Case("generated", stream, strategy, params, seed)
        ctrl = run_outcome(control, stream, strategy, params, seed)
        comp = compare(ctrl, run_outcome(candidate, stream, strategy, params, seed))
        if not comp.matched:
            last.setdefault("first_events", len(stream))  # before shrinking
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
            from harness.report import report_id, write_divergence_report

            case: Case = last["case"]
            out = Path(report_dir) / report_id(case, comp)
            out.mkdir(parents=True, exist_ok=True)
            minimal = failure.save(out / "minimal.arrow")
            failure.minimal_path = str(minimal)
            signature = comp.classification.signature if comp.classification else (kind, None)
            info = {
                "events": len(case.stream),
                "original_events": last["first_events"],  # the first failure, unshrunk
                "path": str(minimal),
                "signature": list(signature),
            }
            failure.report = str(write_divergence_report(case, comp, report_dir, minimal=info))
        return failure
    return None


__all__ = ["GeneratedFailure", "hypothesis_parity", "st"]
