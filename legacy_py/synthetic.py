"""A documented, seeded synthetic candle generator.

``generate_stream(n_bars, seed=...)`` is a pure function of its arguments. Its only
randomness is :func:`legacy_py.rng.uniform` ``(seed, i, lane)`` where ``i`` is the
0-based index of the BASE bar; nothing else (no ``random``, no numpy RNG). A port
that follows this definition reproduces the stream bit for bit.

Definition
----------
Base timeframe: the shortest of ``timeframes`` (duration ``D`` seconds). Every other
timeframe's duration must be a multiple of ``D``.

Time axis (weekend gaps): trading time runs in cycles of 5 days of bars followed by a
48-hour gap (a 7-day cycle). Base bar ``i`` opens at::

    off   = i * D                          # trading seconds since start
    week  = off // 432000                  # 5 days of bars per cycle
    open  = start_us + (week * 604800 + off % 432000) * 10**6
    timestamp (close time) = open + D * 10**6

With the default ``start_us`` (Monday 2024-01-01 00:00 UTC) bars run Monday to Friday.

Per base bar ``i`` (``u(lane) = uniform(seed, i, lane)``)::

    u0 = u(0)                      # shared event draw
    regime switch: u0 < 0.002      -> regime = (regime + 1 + (0 if u0 < 0.001 else 1)) % 3
    gap:   0.002 <= u0 < 0.003, or the first bar of a cycle after a weekend (week > 0 and
           off % 432000 == 0)     -> open = snap(prev_close * (1 + (u(7) - 0.5) * 20 * sigma))
    else                           open = prev_close
    sigma = VOL_LEVELS[regime] * sqrt(D / 60)        # VOL_LEVELS = (5e-5, 1.2e-4, 3e-4)
    z     = (((u(1) + u(2)) + u(3)) + u(4)) - 2.0   # left fold; mean 0, sd 1/sqrt(3)
    close = snap(open * (1 + sigma * z))
    high  = snap(max(open, close) + open * sigma * u(5))
    low   = snap(min(open, close) - open * sigma * u(6))
    volume = float(floor(1 + u(8) * 100 * (1 + regime)))

with ``prev_close = base_price`` and ``regime = 0`` before bar 0, and every price
floored at ``floor_price = 100 * tick_size`` (``p = max(p, floor_price)`` before
snapping). ``snap(x) = math.floor(x / tick_size + 0.5) * tick_size`` (round half up on
the tick grid; Python's ``round()`` is never used). ``snap`` is monotone, so the
rounded bar keeps ``low <= min(open, close) <= max(open, close) <= high``.

These are the BID bars. Spread model: ``ask_x = snap(bid_x + spread)`` for each of
open, high, low, close (constant spread, monotone so the ask bar is valid and
``ask >= bid``); ask volume = bid volume.

Higher timeframes (duration ``T``): base bars are grouped into buckets
``floor(open / T)`` (aligned to multiples of ``T`` since the epoch); only COMPLETE
buckets (``T / D`` base bars) are emitted, with timestamp ``bucket_start + T``,
open = first open, close = last close, high = max, low = min, volume = left-fold sum;
the same rule is applied separately to bid and ask bars.

The result is validated and canonically ordered by :func:`loader.stream_from_table`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyarrow as pa

from legacy_py.arrow_schemas import InstrumentMeta
from legacy_py.loader import CandleStream, stream_from_table
from legacy_py.rng import uniform
from legacy_py.types import TIMEFRAME_SECONDS

#: Per-bar volatility levels (fraction of price) of the three regimes, for M1 bars.
VOL_LEVELS: tuple[float, float, float] = (5e-5, 1.2e-4, 3e-4)
#: Probability per bar of a regime switch (u0 < P_SWITCH).
P_SWITCH = 0.002
#: Probability per bar of a price gap (P_SWITCH <= u0 < P_SWITCH + P_GAP).
P_GAP = 0.001
#: Seconds of bars per weekly cycle, and the cycle length.
TRADING_SECONDS_PER_CYCLE = 5 * 86400
CYCLE_SECONDS = 7 * 86400
#: 2024-01-01 00:00:00 UTC (a Monday) in epoch microseconds.
DEFAULT_START_US = 1_704_067_200_000_000

_Bar = tuple[int, float, float, float, float, float]  # (open_us, o, h, l, c, v)


def snap(x: float, tick_size: float) -> float:
    """Round ``x`` half-up to the tick grid: ``floor(x / tick + 0.5) * tick``."""
    return math.floor(x / tick_size + 0.5) * tick_size


def _aggregate(bars: list[_Bar], base_us: int, tf_us: int) -> list[_Bar]:
    """Complete ``tf_us`` buckets of ``bars`` (which are in time order)."""
    need = tf_us // base_us
    out: list[_Bar] = []
    k = 0
    n = len(bars)
    while k < n:
        bucket = bars[k][0] // tf_us
        j = k
        while j < n and bars[j][0] // tf_us == bucket:
            j += 1
        if j - k == need:
            group = bars[k:j]
            high = group[0][2]
            low = group[0][3]
            volume = 0.0
            for b in group:
                high = max(high, b[2])
                low = min(low, b[3])
                volume += b[5]
            out.append((bucket * tf_us, group[0][1], high, low, group[-1][4], volume))
        k = j
    return out


def generate_stream(
    n_bars: int,
    *,
    seed: int,
    timeframes: Sequence[str] = ("M1",),
    start_us: int = DEFAULT_START_US,
    symbol: str = "SYNTH",
    base_price: float = 1.1,
    spread: float = 0.00008,
    tick_size: float = 1e-5,
    contract_size: float = 1.0,
) -> CandleStream:
    """Generate ``n_bars`` base bars (bid and ask) plus aggregated higher timeframes.

    See the module docstring for the exact definition.
    """
    if n_bars <= 0:
        raise ValueError(f"n_bars must be > 0, got {n_bars!r}")
    if not timeframes:
        raise ValueError("timeframes must not be empty")
    unknown = [tf for tf in timeframes if tf not in TIMEFRAME_SECONDS]
    if unknown:
        raise ValueError(f"unknown timeframes {unknown!r}")
    if not (spread > 0.0 and tick_size > 0.0 and base_price > 0.0):
        raise ValueError("spread, tick_size and base_price must be > 0")
    tfs = sorted(set(timeframes), key=lambda tf: TIMEFRAME_SECONDS[tf])
    base_tf = tfs[0]
    base_s = TIMEFRAME_SECONDS[base_tf]
    for tf in tfs[1:]:
        if TIMEFRAME_SECONDS[tf] % base_s:
            raise ValueError(f"{tf} is not a multiple of the base timeframe {base_tf}")
    if TRADING_SECONDS_PER_CYCLE % base_s:
        raise ValueError(f"base timeframe {base_tf} does not divide 5 days")

    floor_price = 100.0 * tick_size
    vol_scale = math.sqrt(base_s / 60.0)
    base_us = base_s * 1_000_000
    bid: list[_Bar] = []
    ask: list[_Bar] = []
    regime = 0
    prev_close = snap(max(base_price, floor_price), tick_size)
    # Hot loop: ``uniform`` and ``snap`` are bound/inlined locally (same arithmetic).
    u = uniform
    fl = math.floor
    t = tick_size
    for i in range(n_bars):
        off = i * base_s
        week, within = divmod(off, TRADING_SECONDS_PER_CYCLE)
        open_us = start_us + (week * CYCLE_SECONDS + within) * 1_000_000
        u0 = u(seed, i, 0)
        if u0 < P_SWITCH:
            regime = (regime + 1 + (0 if u0 < P_SWITCH / 2 else 1)) % 3
        sigma = VOL_LEVELS[regime] * vol_scale
        o = prev_close
        if (P_SWITCH <= u0 < P_SWITCH + P_GAP) or (week > 0 and within == 0):
            jump = (u(seed, i, 7) - 0.5) * 20.0 * sigma
            o = fl(max(prev_close * (1.0 + jump), floor_price) / t + 0.5) * t
        z = (((u(seed, i, 1) + u(seed, i, 2)) + u(seed, i, 3)) + u(seed, i, 4)) - 2.0
        c = fl(max(o * (1.0 + sigma * z), floor_price) / t + 0.5) * t
        h = fl(max(max(o, c) + o * sigma * u(seed, i, 5), floor_price) / t + 0.5) * t
        lo = fl(max(min(o, c) - o * sigma * u(seed, i, 6), floor_price) / t + 0.5) * t
        vol = float(fl(1.0 + u(seed, i, 8) * 100.0 * (1 + regime)))
        bid.append((open_us, o, h, lo, c, vol))
        ask.append(
            (
                open_us,
                fl((o + spread) / t + 0.5) * t,
                fl((h + spread) / t + 0.5) * t,
                fl((lo + spread) / t + 0.5) * t,
                fl((c + spread) / t + 0.5) * t,
                vol,
            )
        )
        prev_close = c

    ts: list[int] = []
    tf_col: list[str] = []
    pt_col: list[str] = []
    cols: tuple[list[float], ...] = ([], [], [], [], [])
    for tf in tfs:
        tf_us = TIMEFRAME_SECONDS[tf] * 1_000_000
        for price_type, bars in (("bid", bid), ("ask", ask)):
            series = bars if tf == base_tf else _aggregate(bars, base_us, tf_us)
            for b in series:
                ts.append(b[0] + tf_us)
                tf_col.append(tf)
                pt_col.append(price_type)
                for col, value in zip(cols, b[1:], strict=True):
                    col.append(value)
    table = pa.table(
        {
            "timestamp": pa.array(ts, type=pa.int64()),
            "timeframe": pa.array(tf_col, type=pa.string()),
            "price_type": pa.array(pt_col, type=pa.string()),
            "open": pa.array(cols[0], type=pa.float64()),
            "high": pa.array(cols[1], type=pa.float64()),
            "low": pa.array(cols[2], type=pa.float64()),
            "close": pa.array(cols[3], type=pa.float64()),
            "volume": pa.array(cols[4], type=pa.float64()),
        }
    )
    meta = InstrumentMeta(symbol=symbol, tick_size=tick_size, contract_size=contract_size)
    return stream_from_table(table, source=f"synthetic:seed={seed}", instrument=meta)
