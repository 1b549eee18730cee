"""Bit-level trace diff: column by column on raw IEEE-754 bits, vectorised.

float64 values compare by bit pattern (``-0.0 != 0.0``; NaN payloads count), nulls
by position, strings and maps by value. The result names the first divergent row,
every column that differs there with both values in decimal and hex bits and their
ULP distance, the number of divergent rows per column, and whether the tables
re-converge (the last rows agree again).
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from legacy_py.trace import TABLE_NAMES, Trace

BoolArray = npt.NDArray[np.bool_]


def f64_bits(x: float) -> int:
    """The IEEE-754 bit pattern of ``x`` as an unsigned int."""
    result: int = struct.unpack("<Q", struct.pack("<d", x))[0]
    return result


def _ordered(bits: int) -> int:
    """Map float bits to integers whose order matches the floats' order."""
    magnitude = bits & ((1 << 63) - 1)
    return (1 << 63) - 1 - magnitude if bits >> 63 else (1 << 63) + magnitude


def ulp_distance(a: float, b: float) -> int | None:
    """Number of representable doubles between ``a`` and ``b`` (None if either is NaN)."""
    if a != a or b != b:  # NaN
        return None
    return abs(_ordered(f64_bits(a)) - _ordered(f64_bits(b)))


def _to_np(arr: pa.Array, dtype: Any) -> npt.NDArray[Any]:
    filled = arr if arr.null_count == 0 else pc.fill_null(arr, 0)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=dtype)


def _valid(arr: pa.Array) -> BoolArray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=np.bool_)
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)


def column_mismatch(a: pa.Array, b: pa.Array) -> BoolArray:
    """Boolean mask of rows where two equally long columns differ bit for bit."""
    va, vb = _valid(a), _valid(b)
    both = va & vb
    t = a.type
    if pa.types.is_floating(t):
        da = _to_np(a, np.float64).view(np.uint64)
        db = _to_np(b, np.float64).view(np.uint64)
        return bool_or(va != vb, both & (da != db))
    if pa.types.is_integer(t):
        return bool_or(va != vb, both & (_to_np(a, np.int64) != _to_np(b, np.int64)))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        eq = pc.equal(a, b)
        eqn = np.asarray(pc.fill_null(eq, True).to_numpy(zero_copy_only=False), dtype=np.bool_)
        return bool_or(va != vb, both & ~eqn)
    la, lb = a.to_pylist(), b.to_pylist()
    return np.array([x != y for x, y in zip(la, lb, strict=True)], dtype=np.bool_)


def bool_or(x: BoolArray, y: BoolArray) -> BoolArray:
    """Elementwise or (typed helper)."""
    return np.logical_or(x, y)


@dataclass
class CellDiff:
    """One differing cell: both values in decimal and hex bits, and their ULP distance."""

    column: str
    control: Any
    candidate: Any
    control_hex: str | None = None
    candidate_hex: str | None = None
    ulps: int | None = None


@dataclass
class ColumnSummary:
    """How one column differs."""

    column: str
    divergent_rows: int
    first_row: int


@dataclass
class TableDiff:
    """The diff of one table."""

    table: str
    control_rows: int
    candidate_rows: int
    schema_differences: list[str] = field(default_factory=list)
    columns: list[ColumnSummary] = field(default_factory=list)
    first_row: int | None = None
    first_cells: list[CellDiff] = field(default_factory=list)
    reconverges: bool = False
    last_row: int | None = None

    @property
    def equal(self) -> bool:
        """No difference of any kind."""
        return (
            not self.schema_differences
            and not self.columns
            and self.control_rows == self.candidate_rows
        )


def _cell(column: str, a: pa.Array, b: pa.Array, row: int) -> CellDiff:
    x = a[row].as_py() if row < len(a) else None
    y = b[row].as_py() if row < len(b) else None
    cell = CellDiff(column, x, y)
    if isinstance(x, float):
        cell.control_hex = f"0x{f64_bits(x):016x}"
    if isinstance(y, float):
        cell.candidate_hex = f"0x{f64_bits(y):016x}"
    if isinstance(x, float) and isinstance(y, float):
        cell.ulps = ulp_distance(x, y)
    return cell


def diff_tables(name: str, control: pa.Table, candidate: pa.Table) -> TableDiff:
    """Compare two tables column by column on raw bits."""
    result = TableDiff(name, control.num_rows, candidate.num_rows)
    ca = {f.name: f for f in control.schema}
    cb = {f.name: f for f in candidate.schema}
    for n in ca.keys() - cb.keys():
        result.schema_differences.append(f"column {n!r} only in control")
    for n in cb.keys() - ca.keys():
        result.schema_differences.append(f"column {n!r} only in candidate")
    common = [n for n in control.column_names if n in cb]
    for n in common:
        if ca[n].type != cb[n].type:
            result.schema_differences.append(f"column {n!r}: type {ca[n].type} vs {cb[n].type}")
    rows = min(control.num_rows, candidate.num_rows)
    any_row = np.zeros(rows, dtype=np.bool_)
    masks: dict[str, BoolArray] = {}
    arrays: dict[str, tuple[pa.Array, pa.Array]] = {}
    for n in common:
        a = control.column(n).combine_chunks()
        b = candidate.column(n).combine_chunks()
        arrays[n] = (a, b)
        if ca[n].type != cb[n].type:
            continue
        mask = column_mismatch(a.slice(0, rows), b.slice(0, rows))
        if mask.any():
            masks[n] = mask
            any_row |= mask
    for n, mask in masks.items():
        idx = np.flatnonzero(mask)
        result.columns.append(ColumnSummary(n, int(idx.size), int(idx[0])))
    diverged = np.flatnonzero(any_row)
    if diverged.size:
        first = int(diverged[0])
        result.first_row = first
        result.last_row = int(diverged[-1])
        result.reconverges = bool(result.last_row < rows - 1) and (
            control.num_rows == candidate.num_rows
        )
        result.first_cells = [
            _cell(n, *arrays[n], first) for n in common if n in masks and masks[n][first]
        ]
    elif control.num_rows != candidate.num_rows:
        result.first_row = rows
    return result


@dataclass
class TraceDiff:
    """The diff of two traces: per table, plus the first divergent event."""

    tables: dict[str, TableDiff]

    @property
    def equal(self) -> bool:
        """True when every table is bit-identical."""
        return all(t.equal for t in self.tables.values())

    @property
    def first_event(self) -> int | None:
        """Index of the first divergent event (from the events table, else fills/trades)."""
        ev = self.tables.get("events")
        if ev is not None and ev.first_row is not None:
            return ev.first_row
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {name: asdict(t) for name, t in self.tables.items()} | {
            "equal": self.equal,
            "first_event": self.first_event,
        }

    def describe(self, limit: int = 8) -> str:
        """A short human-readable description of the first divergence."""
        if self.equal:
            return "traces are bit-identical"
        lines: list[str] = []
        for t in self.tables.values():
            if t.equal:
                continue
            lines.append(
                f"{t.table}: rows {t.control_rows} vs {t.candidate_rows}, first divergent "
                f"row {t.first_row}, re-converges: {t.reconverges}"
            )
            lines.extend(f"  schema: {s}" for s in t.schema_differences)
            for c in t.first_cells[:limit]:
                ulps = "" if c.ulps is None else f", {c.ulps} ulp"
                hexes = "" if c.control_hex is None else f" [{c.control_hex} vs {c.candidate_hex}]"
                lines.append(f"  {c.column}: {c.control!r} vs {c.candidate!r}{hexes}{ulps}")
            for s in t.columns[:limit]:
                lines.append(f"  column {s.column}: {s.divergent_rows} divergent rows")
        return "\n".join(lines)


def diff_traces(control: Trace, candidate: Trace) -> TraceDiff:
    """Diff every table of two traces."""
    a, b = control.tables(), candidate.tables()
    return TraceDiff({n: diff_tables(n, a[n], b[n]) for n in TABLE_NAMES})
