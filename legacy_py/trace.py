"""The trace contract: what "bit for bit" compares. See ``docs/trace_schema.md``.

A run returns a :class:`Trace` of four Arrow tables (events, fills, trades, summary).
Its content hash is SHA-256 over a canonical encoding that depends only on the
tables' logical content (schema, validity and value bits), never on chunking,
buffer padding or the bytes under null slots, so traces built by pyarrow and by
arrow-rs hash alike.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from legacy_py.types import Candle, StrategySignal

if TYPE_CHECKING:
    from legacy_py.execution import Fill
    from legacy_py.portfolio import ClosedTrade, Portfolio

TRACE_SCHEMA_VERSION = "1"
TABLE_NAMES = ("events", "fills", "trades", "summary")

F64 = pa.float64()
I64 = pa.int64()
STR = pa.string()
META_TYPE = pa.map_(pa.string(), pa.string())

EVENT_KEY_FIELDS = [
    pa.field("event_index", I64, nullable=False),
    pa.field("timestamp", I64, nullable=False),
    pa.field("timeframe", STR, nullable=False),
    pa.field("price_type", STR, nullable=False),
]
SIGNAL_FIELDS = [
    pa.field("signal_type", STR),
    pa.field("signal_entry_price", F64),
    pa.field("signal_stop_loss", F64),
    pa.field("signal_take_profit", F64),
    pa.field("signal_metadata", META_TYPE),
    pa.field("signal_status", STR),
    pa.field("exit_requests", I64, nullable=False),
]
STATE_FIELDS = [
    pa.field("cash", F64, nullable=False),
    pa.field("equity", F64, nullable=False),
    pa.field("realized_pnl", F64, nullable=False),
    pa.field("unrealized_pnl", F64, nullable=False),
    pa.field("position_qty", F64, nullable=False),
    pa.field("avg_price", F64),
    pa.field("open_positions", I64, nullable=False),
    pa.field("pending_orders", I64, nullable=False),
    pa.field("peak_equity", F64, nullable=False),
    pa.field("drawdown", F64, nullable=False),
]
FILLS_SCHEMA = pa.schema(
    [
        pa.field("event_index", I64, nullable=False),
        pa.field("timestamp", I64, nullable=False),
        pa.field("order_id", I64, nullable=False),
        pa.field("position_id", I64, nullable=False),
        pa.field("side", STR, nullable=False),
        pa.field("reason", STR, nullable=False),
        pa.field("quantity", F64, nullable=False),
        pa.field("fill_price", F64, nullable=False),
        pa.field("slippage", F64, nullable=False),
        pa.field("commission", F64, nullable=False),
    ]
)
TRADES_SCHEMA = pa.schema(
    [
        pa.field("trade_id", I64, nullable=False),
        pa.field("side", STR, nullable=False),
        pa.field("quantity", F64, nullable=False),
        pa.field("entry_event", I64, nullable=False),
        pa.field("entry_timestamp", I64, nullable=False),
        pa.field("entry_price", F64, nullable=False),
        pa.field("exit_event", I64, nullable=False),
        pa.field("exit_timestamp", I64, nullable=False),
        pa.field("exit_price", F64, nullable=False),
        pa.field("exit_reason", STR, nullable=False),
        pa.field("gross_pnl", F64, nullable=False),
        pa.field("commission", F64, nullable=False),
        pa.field("net_pnl", F64, nullable=False),
    ]
)
SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("strategy", STR, nullable=False),
        pa.field("seed", I64, nullable=False),
        pa.field("events", I64, nullable=False),
        pa.field("initial_cash", F64, nullable=False),
        pa.field("final_equity", F64, nullable=False),
        pa.field("total_return", F64, nullable=False),
        pa.field("max_drawdown", F64, nullable=False),
        pa.field("trade_count", I64, nullable=False),
        pa.field("win_rate", F64),
        pa.field("sharpe", F64),
        pa.field("fill_count", I64, nullable=False),
        pa.field("cancelled_orders", I64, nullable=False),
        pa.field("open_positions", I64, nullable=False),
        pa.field("realized_pnl", F64, nullable=False),
    ]
)


def events_schema(indicator_names: Sequence[str]) -> pa.Schema:
    """The events table schema for a strategy declaring ``indicator_names`` outputs."""
    ind = [pa.field(f"ind_{name}", F64) for name in indicator_names]
    return pa.schema(EVENT_KEY_FIELDS + ind + SIGNAL_FIELDS + STATE_FIELDS)


# ----------------------------------------------------------------------------- hashing
def _encode_column(arr: pa.Array) -> bytes:
    """Canonical bytes of one column: validity bitmap, then values (see trace_schema.md)."""
    n = len(arr)
    valid = (
        np.ones(n, dtype=np.bool_)
        if arr.null_count == 0
        else (np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_))
    )
    out = [struct.pack("<q", n), np.packbits(valid, bitorder="little").tobytes()]
    t = arr.type
    if pa.types.is_floating(t) or pa.types.is_integer(t):
        width = "<u8" if pa.types.is_floating(t) else "<i8"
        filled = arr if arr.null_count == 0 else pc.fill_null(arr, 0)
        values = np.asarray(filled.to_numpy(zero_copy_only=False))
        if pa.types.is_floating(t):
            values = values.astype(np.float64, copy=False).view(np.uint64)
        out.append(values.astype(width, copy=False).tobytes())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        for v in arr.to_pylist():
            b = b"" if v is None else v.encode("utf-8")
            out.append(struct.pack("<q", len(b)))
            out.append(b)
    elif pa.types.is_map(t):
        for v in arr.to_pylist():
            b = b"" if v is None else json.dumps(list(v), ensure_ascii=True).encode("ascii")
            out.append(struct.pack("<q", len(b)))
            out.append(b)
    else:  # pragma: no cover - schemas above use only these types
        raise TypeError(f"no canonical encoding for {t}")
    return b"".join(out)


def canonical_table_bytes(table: pa.Table) -> bytes:
    """Canonical encoding of one table: per column, name, type, validity and value bits."""
    parts = [struct.pack("<q", table.num_columns), struct.pack("<q", table.num_rows)]
    for name, col in zip(table.column_names, table.columns, strict=True):
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if isinstance(arr, pa.ChunkedArray):  # pragma: no cover - pyarrow version quirk
            arr = arr.combine_chunks()
        header = f"{name}:{arr.type}".encode()
        parts.append(struct.pack("<q", len(header)))
        parts.append(header)
        parts.append(_encode_column(arr))
    return b"".join(parts)


@dataclass
class Trace:
    """The result of one run: four tables plus run metadata (metadata is not hashed)."""

    events: pa.Table
    fills: pa.Table
    trades: pa.Table
    summary: pa.Table
    meta: dict[str, str] = field(default_factory=dict)

    def tables(self) -> dict[str, pa.Table]:
        """The four tables by name, in hashing order."""
        return {
            "events": self.events,
            "fills": self.fills,
            "trades": self.trades,
            "summary": self.summary,
        }

    def table_hashes(self) -> dict[str, str]:
        """SHA-256 of each table's canonical bytes."""
        return {
            name: hashlib.sha256(canonical_table_bytes(t)).hexdigest()
            for name, t in self.tables().items()
        }

    def hash(self) -> str:
        """The trace content hash: SHA-256 over the version and the four table hashes."""
        h = hashlib.sha256(f"omega-trace-v{TRACE_SCHEMA_VERSION}".encode())
        for name, digest in self.table_hashes().items():
            h.update(name.encode())
            h.update(bytes.fromhex(digest))
        return h.hexdigest()

    def summary_dict(self) -> dict[str, Any]:
        """The summary row as a dict."""
        rows: list[dict[str, Any]] = self.summary.to_pylist()
        return rows[0]

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write each table as an Arrow IPC file plus ``summary.json``; return the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for name, table in self.tables().items():
            path = out / f"{name}.arrow"
            meta = {b"omega.trace_schema_version": TRACE_SCHEMA_VERSION.encode()}
            table = table.replace_schema_metadata(meta)
            with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            paths[name] = path
        summary = dict(self.summary_dict())
        summary["trace_hash"] = self.hash()
        summary["meta"] = self.meta
        js = out / "summary.json"
        js.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        paths["summary.json"] = js
        return paths

    @classmethod
    def read(cls, in_dir: str | Path) -> Trace:
        """Read a trace written by :meth:`write`."""
        base = Path(in_dir)
        tables = {}
        for name in TABLE_NAMES:
            with pa.memory_map(str(base / f"{name}.arrow")) as src:
                tables[name] = ipc.open_file(src).read_all().replace_schema_metadata(None)
        return cls(**tables)


class TraceBuilder:
    """Accumulates trace rows column-wise during a run."""

    def __init__(self, indicator_names: Sequence[str]) -> None:
        self.indicator_names = tuple(indicator_names)
        self.schema = events_schema(self.indicator_names)
        self.cols: dict[str, list[Any]] = {f.name: [] for f in self.schema}
        self._ind_cols = [self.cols[f"ind_{n}"] for n in self.indicator_names]

    def add_event(
        self,
        index: int,
        candle: Candle,
        indicators: Mapping[str, float | None],
        signal: StrategySignal | None,
        called: bool,
        status: str | None,
        exit_requests: int,
        portfolio: Portfolio,
        pending_orders: int,
    ) -> None:
        """Record one event row (state *after* the event)."""
        c = self.cols
        c["event_index"].append(index)
        c["timestamp"].append(candle.timestamp)
        c["timeframe"].append(candle.timeframe)
        c["price_type"].append(candle.price_type)
        for col, name in zip(self._ind_cols, self.indicator_names, strict=True):
            col.append(indicators[name])
        if called:
            if signal is None:
                c["signal_type"].append("NONE")
                c["signal_entry_price"].append(None)
                c["signal_stop_loss"].append(None)
                c["signal_take_profit"].append(None)
                c["signal_metadata"].append(None)
            else:
                c["signal_type"].append(signal.signal_type.value)
                c["signal_entry_price"].append(signal.entry_price)
                c["signal_stop_loss"].append(signal.stop_loss)
                c["signal_take_profit"].append(signal.take_profit)
                c["signal_metadata"].append(list(signal.metadata.items()))
        else:
            c["signal_type"].append(None)
            c["signal_entry_price"].append(None)
            c["signal_stop_loss"].append(None)
            c["signal_take_profit"].append(None)
            c["signal_metadata"].append(None)
        c["signal_status"].append(status)
        c["exit_requests"].append(exit_requests)
        c["cash"].append(portfolio.cash)
        c["equity"].append(portfolio.equity)
        c["realized_pnl"].append(portfolio.realized_pnl)
        c["unrealized_pnl"].append(portfolio.unrealized_pnl)
        c["position_qty"].append(portfolio.position_qty())
        c["avg_price"].append(portfolio.avg_price())
        c["open_positions"].append(len(portfolio.positions))
        c["pending_orders"].append(pending_orders)
        c["peak_equity"].append(portfolio.peak_equity)
        c["drawdown"].append(portfolio.drawdown)

    def finish(
        self,
        fills: Sequence[Fill],
        trades: Sequence[ClosedTrade],
        summary: Mapping[str, Any],
        meta: Mapping[str, str],
    ) -> Trace:
        """Build the four tables."""
        events = pa.table(
            [pa.array(self.cols[f.name], type=f.type) for f in self.schema], schema=self.schema
        )
        fills_t = pa.table(
            [pa.array([getattr(x, f.name) for x in fills], type=f.type) for f in FILLS_SCHEMA],
            schema=FILLS_SCHEMA,
        )
        trades_t = pa.table(
            [pa.array([getattr(x, f.name) for x in trades], type=f.type) for f in TRADES_SCHEMA],
            schema=TRADES_SCHEMA,
        )
        summary_t = pa.table(
            [pa.array([summary[f.name]], type=f.type) for f in SUMMARY_SCHEMA],
            schema=SUMMARY_SCHEMA,
        )
        return Trace(events, fills_t, trades_t, summary_t, dict(meta))
