"""Divergence classification: a documented, deterministic heuristic.

Rules, applied in this order (first match wins; see ``docs/harness.md``):

1. ``exception_mismatch`` — one side raised and the other did not, or both raised with a
   different type or message.
2. ``schema_mismatch`` — the tables' columns or types differ.
3. ``event_ordering`` — the events tables differ in length, or the first divergent event
   differs in a key column (``event_index``, ``timestamp``, ``timeframe``, ``price_type``).
4. ``rng_seed`` — the first divergent fill differs in ``slippage`` and otherwise only in
   the columns derived from it (``fill_price``, ``commission``: see
   :data:`RNG_FILL_COLUMNS`), so it is the same fill (same event, order, position, side,
   reason and quantity), and that fill's event is (or precedes) the first divergent
   event: only the random slippage explains it. (A fill that also differs in, e.g.,
   ``reason`` — a stop-loss in one engine, a take-profit without slippage in the other —
   is a different fill, not a different draw.)
5. ``float_rounding`` — at the first divergent event every differing float column is
   within :data:`FLOAT_ULP_THRESHOLD` ULPs and at least one of them is an indicator or a
   price-arithmetic column, with no differing integer/string column.
6. ``signal_logic`` — a ``signal_*`` column (or an indicator, by more than the ULP
   threshold) differs first: the strategy decided differently.
7. ``state_management`` — portfolio fields differ first (cash, equity, positions, ...),
   or fills/trades differ while events agree.
8. ``unknown`` — none of the above (e.g. only the summary differs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.diff import TraceDiff
    from harness.experiment import Outcome

FLOAT_ULP_THRESHOLD = 1024
KEY_COLUMNS = frozenset({"event_index", "timestamp", "timeframe", "price_type"})
PRICE_COLUMNS = frozenset(
    {
        "signal_entry_price",
        "signal_stop_loss",
        "signal_take_profit",
        "cash",
        "equity",
        "realized_pnl",
        "unrealized_pnl",
        "avg_price",
        "peak_equity",
        "drawdown",
        "position_qty",
    }
)
#: Fill columns a different slippage draw changes; any other differing column rules out rng_seed.
RNG_FILL_COLUMNS = frozenset({"slippage", "fill_price", "commission"})
KINDS = (
    "exception_mismatch",
    "schema_mismatch",
    "event_ordering",
    "rng_seed",
    "float_rounding",
    "signal_logic",
    "state_management",
    "unknown",
)


@dataclass
class Classification:
    """The class of a divergence, why, and where it starts."""

    kind: str
    reason: str
    first_event: int | None = None
    first_table: str | None = None
    first_columns: list[str] = field(default_factory=list)

    @property
    def signature(self) -> tuple[str, str | None]:
        """(kind, first column): what minimisation must preserve."""
        return (self.kind, self.first_columns[0] if self.first_columns else None)


def classify(control: Outcome, candidate: Outcome, diff: TraceDiff | None) -> Classification:
    """Apply the rules above."""
    if control.error is not None or candidate.error is not None or diff is None:
        a = control.error_key or ("no exception", "")
        b = candidate.error_key or ("no exception", "")
        return Classification(
            "exception_mismatch",
            f"control: {a[0]}: {a[1]} | candidate: {b[0]}: {b[1]}",
        )
    for t in diff.tables.values():
        if t.schema_differences:
            return Classification(
                "schema_mismatch", "; ".join(t.schema_differences), first_table=t.table
            )
    ev = diff.tables["events"]
    fills = diff.tables["fills"]
    if ev.control_rows != ev.candidate_rows:
        return Classification(
            "event_ordering",
            f"event count {ev.control_rows} vs {ev.candidate_rows}",
            ev.first_row,
            "events",
        )
    cells = {c.column: c for c in ev.first_cells}
    cols = [c.column for c in ev.first_cells]
    if KEY_COLUMNS & cells.keys():
        keys = sorted(KEY_COLUMNS & cells.keys())
        return Classification(
            "event_ordering", f"event key columns differ: {keys}", ev.first_row, "events", cols
        )
    if fills.first_row is not None and fills.first_cells:
        fcols = [c.column for c in fills.first_cells]
        if "slippage" in fcols and RNG_FILL_COLUMNS.issuperset(fcols):
            fill_event = _fill_event(control, fills.first_row)
            if ev.first_row is None or fill_event is None or fill_event <= ev.first_row:
                return Classification(
                    "rng_seed",
                    "the first divergent fill differs in its random slippage",
                    fill_event,
                    "fills",
                    fcols,
                )
    if ev.first_row is None:
        table = fills if fills.first_row is not None else diff.tables["trades"]
        if table.first_row is not None:
            return Classification(
                "state_management",
                f"{table.table} differ while events agree",
                None,
                table.table,
                [c.column for c in table.first_cells],
            )
        return Classification("unknown", "only the summary differs", None, "summary")
    floats = [c for c in ev.first_cells if c.ulps is not None]
    non_float = [c for c in ev.first_cells if c.ulps is None]
    small = all(c.ulps is not None and c.ulps <= FLOAT_ULP_THRESHOLD for c in floats)
    touches_arith = any(c.column.startswith("ind_") or c.column in PRICE_COLUMNS for c in floats)
    if floats and small and touches_arith and not non_float:
        worst = max(c.ulps or 0 for c in floats)
        return Classification(
            "float_rounding",
            f"{len(floats)} float column(s) differ by at most {worst} ULP",
            ev.first_row,
            "events",
            cols,
        )
    if any(c.startswith("signal_") or c.startswith("ind_") for c in cols):
        return Classification(
            "signal_logic", "the strategy's signal or inputs differ", ev.first_row, "events", cols
        )
    return Classification(
        "state_management", "portfolio state differs first", ev.first_row, "events", cols
    )


def _fill_event(control: Outcome, row: int) -> int | None:
    if control.trace is None:
        return None
    fills = control.trace.fills
    if row >= fills.num_rows:
        return None
    value = fills.column("event_index")[row].as_py()
    return int(value) if value is not None else None
