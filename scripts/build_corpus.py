#!/usr/bin/env python3
"""(Re)build the golden candle-stream corpus deterministically.

Usage::

    PYTHONPATH=. python3 scripts/build_corpus.py            # write golden/streams/
    PYTHONPATH=. python3 scripts/build_corpus.py --check    # rebuild in a temp dir, compare
    PYTHONPATH=. python3 scripts/build_corpus.py --out DIR  # write elsewhere

Inputs: ``golden/raw/*.csv`` only (sha256-verified; never the network) and the
synthetic generator. Outputs: ``<name>.arrow`` (Arrow IPC file, uncompressed),
``index.json`` and ``PROVENANCE.md``. The transformations and spread models are
documented in ``docs/streams.md`` and in the generated ``PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import hashlib
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from legacy_py.arrow_schemas import InstrumentMeta
from legacy_py.loader import CandleStream, stream_from_table, write_stream
from legacy_py.synthetic import generate_stream
from legacy_py.types import TIMEFRAME_SECONDS

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "golden" / "raw"
STREAMS_DIR = ROOT / "golden" / "streams"

RAW_SHA256: dict[str, str] = {
    "EURUSD.csv": "81e977905a006cc8fbc034ebdb83c999a8ed6ba00191dc7ea5ef5b386fb74a82",
    "GOOG.csv": "60e961a567490b157f71888df9e6afb36190a34a40a6286aa38988e2343f1b1a",
}

US = 1_000_000
EURUSD_SPREAD = 0.00012  # 1.2 pips, constant, on all OHLC
EURUSD_TICK = 1e-5
EURUSD_CONTRACT = 100000.0
GOOG_SPREAD = 0.02  # constant 2 cents on all OHLC
GOOG_TICK = 0.01
GOOG_CONTRACT = 1.0

# (open_us, open, high, low, close, volume)
Bar = tuple[int, float, float, float, float, float]


def snap(x: float, tick: float) -> float:
    """Round half-up to the tick grid: ``floor(x / tick + 0.5) * tick`` (never round())."""
    return math.floor(x / tick + 0.5) * tick


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------- raw input


@dataclass(frozen=True)
class RawSeries:
    bars: list[Bar]
    repaired_rows: list[str]


def repair_ohlc(o: float, h: float, lo: float, c: float) -> tuple[float, float, bool]:
    """Repair rule for raw rows: high := max(o, h, l, c), low := min(o, h, l, c).

    Returns (high, low, repaired). Applied explicitly and counted by the build.
    """
    new_h = max(o, h, lo, c)
    new_lo = min(o, h, lo, c)
    return new_h, new_lo, (new_h != h or new_lo != lo)


def read_raw(name: str, parse_time: Callable[[str], int]) -> RawSeries:
    path = RAW_DIR / name
    digest = sha256_file(path)
    if digest != RAW_SHA256[name]:
        raise SystemExit(f"{path}: sha256 {digest} != expected {RAW_SHA256[name]}")
    bars: list[Bar] = []
    repaired: list[str] = []
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != ["", "Open", "High", "Low", "Close", "Volume"]:
            raise SystemExit(f"{path}: unexpected header {header!r}")
        for line_no, row in enumerate(reader, start=2):
            o, h, lo, c, v = (float(x) for x in row[1:6])
            h2, lo2, changed = repair_ohlc(o, h, lo, c)
            if changed:
                repaired.append(
                    f"{name} line {line_no} ({row[0]}): high {h!r}->{h2!r}, low {lo!r}->{lo2!r}"
                )
            bars.append((parse_time(row[0]), o, h2, lo2, c, v))
    return RawSeries(bars=bars, repaired_rows=repaired)


def parse_datetime_utc(text: str) -> int:
    """'YYYY-MM-DD HH:MM:SS' read as UTC -> epoch µs."""
    dt = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return calendar.timegm(dt.timetuple()) * US


def parse_date_utc(text: str) -> int:
    """'YYYY-MM-DD' -> epoch µs of 00:00 UTC that day."""
    dt = datetime.strptime(text, "%Y-%m-%d")
    return calendar.timegm(dt.timetuple()) * US


# ---------------------------------------------------------------------- transforms


def with_spread(bars: list[Bar], spread: float, tick: float) -> list[Bar]:
    """Ask bars: ``snap(bid_x + spread, tick)`` on each of OHLC; same volume."""
    return [
        (t, snap(o + spread, tick), snap(h + spread, tick), snap(lo + spread, tick),
         snap(c + spread, tick), v)
        for t, o, h, lo, c, v in bars
    ]  # fmt: skip


def aggregate_complete(bars: list[Bar], base_s: int, tf_s: int) -> list[Bar]:
    """Complete, epoch-aligned ``tf_s`` buckets of time-ordered ``bars`` (bucket by open)."""
    need = tf_s // base_s
    tf_us = tf_s * US
    out: list[Bar] = []
    k = 0
    while k < len(bars):
        bucket = bars[k][0] // tf_us
        j = k
        while j < len(bars) and bars[j][0] // tf_us == bucket:
            j += 1
        group = bars[k:j]
        opens = [b[0] for b in group]
        if opens == [bucket * tf_us + m * base_s * US for m in range(need)]:
            high, low, volume = group[0][2], group[0][3], 0.0
            for b in group:
                high = max(high, b[2])
                low = min(low, b[3])
                volume += b[5]
            out.append((bucket * tf_us, group[0][1], high, low, group[-1][4], volume))
        k = j
    return out


def to_stream(
    series: list[tuple[str, str, list[Bar]]], meta: InstrumentMeta, source: str
) -> CandleStream:
    """Rows (timestamp = bar OPEN + duration = close time) -> validated stream."""
    cols: dict[str, list[object]] = {
        k: [] for k in ("timestamp", "timeframe", "price_type", "open", "high", "low",
                        "close", "volume")
    }  # fmt: skip
    for tf, pt, bars in series:
        dur_us = TIMEFRAME_SECONDS[tf] * US
        for t, o, h, lo, c, v in bars:
            for key, value in zip(cols, (t + dur_us, tf, pt, o, h, lo, c, v), strict=True):
                cols[key].append(value)
    table = pa.table(
        {
            "timestamp": pa.array(cols["timestamp"], type=pa.int64()),
            "timeframe": pa.array(cols["timeframe"], type=pa.string()),
            "price_type": pa.array(cols["price_type"], type=pa.string()),
            **{
                k: pa.array(cols[k], type=pa.float64())
                for k in ("open", "high", "low", "close", "volume")
            },
        }
    )
    return stream_from_table(table, source=source, instrument=meta)


# --------------------------------------------------------------------------- build


@dataclass(frozen=True)
class Built:
    name: str
    stream: CandleStream
    source: str
    transformation: str
    spread_model: str


def build_streams() -> tuple[list[Built], list[str]]:
    eur = read_raw("EURUSD.csv", parse_datetime_utc)
    goog = read_raw("GOOG.csv", parse_date_utc)
    repairs = eur.repaired_rows + goog.repaired_rows
    print(f"raw repairs (high := max(o,h,l,c), low := min(o,h,l,c)): {len(repairs)} rows")
    for line in repairs:
        print(f"  {line}")

    eur_meta = InstrumentMeta(symbol="EURUSD", tick_size=EURUSD_TICK, contract_size=EURUSD_CONTRACT)
    eur_bid = eur.bars
    eur_ask = with_spread(eur_bid, EURUSD_SPREAD, EURUSD_TICK)
    h4_bid = aggregate_complete(eur_bid, 3600, 14400)
    h4_ask = aggregate_complete(eur_ask, 3600, 14400)
    goog_meta = InstrumentMeta(symbol="GOOG", tick_size=GOOG_TICK, contract_size=GOOG_CONTRACT)
    goog_ask = with_spread(goog.bars, GOOG_SPREAD, GOOG_TICK)

    eur_src = "golden/raw/EURUSD.csv (backtesting 0.6.6, backtesting/test/EURUSD.csv)"
    goog_src = "golden/raw/GOOG.csv (backtesting 0.6.6, backtesting/test/GOOG.csv)"
    eur_spread = (
        f"ask = snap(bid + {EURUSD_SPREAD!r}, {EURUSD_TICK!r}) on each of OHLC "
        "(constant 1.2 pips); ask volume = bid volume"
    )
    built = [
        Built(
            "eurusd_h1",
            to_stream([("H1", "bid", eur_bid), ("H1", "ask", eur_ask)], eur_meta, "eurusd_h1"),
            eur_src,
            "CSV time = bar open, read as UTC; timestamp = open + 1 h (close time, µs); "
            "bid OHLCV = CSV values unchanged",
            eur_spread,
        ),
        Built(
            "eurusd_h1_h4",
            to_stream(
                [
                    ("H1", "bid", eur_bid),
                    ("H1", "ask", eur_ask),
                    ("H4", "bid", h4_bid),
                    ("H4", "ask", h4_ask),
                ],
                eur_meta,
                "eurusd_h1_h4",
            ),
            eur_src,
            "eurusd_h1 plus H4 bars aggregated from H1 (bid from bid, ask from ask): "
            "buckets aligned to 00/04/08/12/16/20 UTC, emitted only when all four H1 bars "
            "(opens at +0h..+3h) exist; open=first, high=max, low=min, close=last, "
            "volume=sum; timestamp = bucket start + 4 h",
            eur_spread,
        ),
        Built(
            "goog_d1",
            to_stream([("D1", "bid", goog.bars), ("D1", "ask", goog_ask)], goog_meta, "goog_d1"),
            goog_src,
            "CSV date read as 00:00 UTC; timestamp = date + 1 day (close time, µs); "
            "bid OHLCV = CSV values unchanged",
            f"ask = snap(bid + {GOOG_SPREAD!r}, {GOOG_TICK!r}) on each of OHLC "
            "(constant 2 cents); ask volume = bid volume",
        ),
        Built(
            "synthetic_m1_50k",
            generate_stream(50_000, seed=20260105, timeframes=("M1",)),
            "legacy_py.synthetic.generate_stream",
            "generate_stream(50_000, seed=20260105, timeframes=('M1',)) with defaults",
            "generator default: ask = snap(bid + 8e-05, 1e-05) on each of OHLC",
        ),
        Built(
            "synthetic_mtf",
            generate_stream(6_000, seed=7, timeframes=("M1", "M5", "H1")),
            "legacy_py.synthetic.generate_stream",
            "generate_stream(6_000, seed=7, timeframes=('M1', 'M5', 'H1')) with defaults",
            "generator default: ask = snap(bid + 8e-05, 1e-05) on each of OHLC",
        ),
    ]
    return built, repairs


def iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us // US, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_corpus(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    built, repairs = build_streams()
    index: list[dict[str, object]] = []
    md: list[str] = [
        "# golden/streams — provenance",
        "",
        "Generated by `scripts/build_corpus.py` (do not edit by hand). Rebuild with",
        "`PYTHONPATH=. python3 scripts/build_corpus.py`; verify with `--check`.",
        "All files: Arrow IPC file format, uncompressed, `CANDLE_SCHEMA` (see",
        "`docs/streams.md`), canonical order, validated by `legacy_py.loader`.",
        "`snap(x, tick) = floor(x / tick + 0.5) * tick`. Timestamps are bar CLOSE times",
        "in epoch µs UTC.",
        "",
        "## Raw-data repairs",
        "",
        "Rule (applied explicitly by the build to every raw row): "
        "`high := max(open, high, low, close)`, `low := min(open, high, low, close)`.",
        f"Rows repaired: {len(repairs)}.",
    ]
    md += [f"* {line}" for line in repairs]
    for b in built:
        path = out / f"{b.name}.arrow"
        write_stream(b.stream, path)
        digest = sha256_file(path)
        cs = b.stream.candles
        tfs = sorted({c.timeframe for c in cs}, key=lambda tf: TIMEFRAME_SECONDS[tf])
        pts = [p for p in ("bid", "ask") if any(c.price_type == p for c in cs)]
        per_series = {
            f"{tf}_{pt}": sum(1 for c in cs if c.timeframe == tf and c.price_type == pt)
            for tf in tfs
            for pt in pts
        }
        inst = b.stream.instrument
        index.append(
            {
                "name": b.name,
                "file": path.name,
                "events": len(cs),
                "series": per_series,
                "timeframes": tfs,
                "price_types": pts,
                "first_timestamp": cs[0].timestamp,
                "last_timestamp": cs[-1].timestamp,
                "symbol": inst.symbol,
                "tick_size": inst.tick_size,
                "contract_size": inst.contract_size,
                "sha256": digest,
            }
        )
        md += [
            "",
            f"## {path.name}",
            "",
            f"* source: {b.source}",
            f"* transformation: {b.transformation}",
            f"* spread model: {b.spread_model}",
            f"* instrument: symbol {inst.symbol}, tick_size {inst.tick_size!r}, "
            f"contract_size {inst.contract_size!r}",
            f"* events: {len(cs)} (" + ", ".join(f"{k}: {v}" for k, v in per_series.items()) + ")",
            f"* time range (close times): {iso(cs[0].timestamp)} .. {iso(cs[-1].timestamp)}",
            f"* sha256: `{digest}`",
        ]
        print(f"{path.name}: {len(cs)} events, sha256 {digest}")
    (out / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    (out / "PROVENANCE.md").write_text("\n".join(md) + "\n")


def output_hashes(directory: Path) -> dict[str, str]:
    names = [*sorted(p.name for p in directory.glob("*.arrow")), "index.json", "PROVENANCE.md"]
    return {
        n: sha256_file(directory / n) if (directory / n).exists() else "<missing>" for n in names
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=STREAMS_DIR, help="output directory")
    parser.add_argument(
        "--check", action="store_true", help="rebuild in a temp dir and compare with --out"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if not args.check:
        write_corpus(args.out)
        print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(Path(tmp))
        fresh = output_hashes(Path(tmp))
    existing = output_hashes(args.out)
    # streams recorded later (omega-harness record) live beside the built ones: only the
    # built files are compared
    mismatched = sorted(n for n in fresh if fresh.get(n) != existing.get(n))
    for n in mismatched:
        print(f"MISMATCH {n}: rebuilt {fresh.get(n)} != existing {existing.get(n)}")
    if mismatched:
        return 1
    print(f"check OK: {len(fresh)} files identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
