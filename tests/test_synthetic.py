"""Tests of the seeded synthetic stream generator."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from pathlib import Path

import pytest

from legacy_py.loader import load_stream, stream_from_table, stream_to_table, write_stream
from legacy_py.rng import uniform
from legacy_py.synthetic import DEFAULT_START_US, generate_stream, snap
from legacy_py.types import Candle

MINUTE_US = 60_000_000


def bids(candles: tuple[Candle, ...], tf: str = "M1") -> list[Candle]:
    return [c for c in candles if c.timeframe == tf and c.price_type == "bid"]


def asks(candles: tuple[Candle, ...], tf: str = "M1") -> list[Candle]:
    return [c for c in candles if c.timeframe == tf and c.price_type == "ask"]


def test_snap_rounds_half_up_on_grid() -> None:
    assert snap(1.234565, 1e-5) == math.floor(1.234565 / 1e-5 + 0.5) * 1e-5
    assert snap(0.125, 0.25) == 0.25  # half goes up (round() would give 0.0)
    assert snap(0.374, 0.25) == 0.25


def test_determinism_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_stream(3_000, seed=11, timeframes=("M1", "M5"))
    b = generate_stream(3_000, seed=11, timeframes=("M1", "M5"))
    assert a.candles == b.candles
    pa_, pb = tmp_path / "a.arrow", tmp_path / "b.arrow"
    write_stream(a, pa_)
    write_stream(b, pb)
    assert pa_.read_bytes() == pb.read_bytes()


def test_different_seed_differs() -> None:
    a = generate_stream(500, seed=1)
    b = generate_stream(500, seed=2)
    assert [c.close for c in a.candles] != [c.close for c in b.candles]


def test_counts_and_metadata() -> None:
    s = generate_stream(6_000, seed=7, timeframes=("H1", "M1", "M5"), symbol="ABC")
    counts = Counter((c.timeframe, c.price_type) for c in s.candles)
    assert counts == {
        ("M1", "bid"): 6000,
        ("M1", "ask"): 6000,
        ("M5", "bid"): 1200,
        ("M5", "ask"): 1200,
        ("H1", "bid"): 100,
        ("H1", "ask"): 100,
    }
    assert s.instrument.symbol == "ABC"
    assert s.instrument.tick_size == 1e-5


def test_valid_under_strict_loader(tmp_path: Path) -> None:
    s = generate_stream(4_000, seed=3, timeframes=("M1", "M15", "H4"))
    again = stream_from_table(stream_to_table(s), require_sorted=True)
    assert again.candles == s.candles
    path = tmp_path / "s.arrow"
    write_stream(s, path)
    assert load_stream(path, require_sorted=True).candles == s.candles


def test_first_bar_follows_definition() -> None:
    s = generate_stream(1, seed=5)
    bid, ask = s.candles
    assert bid.timestamp == DEFAULT_START_US + MINUTE_US
    assert bid.open == snap(1.1, 1e-5)
    u0 = uniform(5, 0, 0)
    regime = 0
    if u0 < 0.002:
        regime = 1 if u0 < 0.001 else 2
    sigma = (5e-5, 1.2e-4, 3e-4)[regime]
    o = bid.open
    if 0.002 <= u0 < 0.003:
        o = snap(1.1 * (1.0 + (uniform(5, 0, 7) - 0.5) * 20.0 * sigma), 1e-5)
    z = (((uniform(5, 0, 1) + uniform(5, 0, 2)) + uniform(5, 0, 3)) + uniform(5, 0, 4)) - 2.0
    c = snap(o * (1.0 + sigma * z), 1e-5)
    assert bid.close == c
    assert bid.high == snap(max(o, c) + o * sigma * uniform(5, 0, 5), 1e-5)
    assert bid.low == snap(min(o, c) - o * sigma * uniform(5, 0, 6), 1e-5)
    assert bid.volume == float(math.floor(1.0 + uniform(5, 0, 8) * 100.0 * (1 + regime)))
    assert ask.open == snap(bid.open + 0.00008, 1e-5)
    assert ask.close == snap(bid.close + 0.00008, 1e-5)


def test_ohlc_on_tick_grid_and_spread() -> None:
    s = generate_stream(2_000, seed=9)
    for b, a in zip(bids(s.candles), asks(s.candles), strict=True):
        for x in (b.open, b.high, b.low, b.close):
            assert x == snap(x, 1e-5)
        assert a.timestamp == b.timestamp
        assert a.close == snap(b.close + 0.00008, 1e-5)
        assert a.low >= b.low and a.high >= b.high


def test_open_equals_previous_close_except_gaps() -> None:
    s = generate_stream(20_000, seed=20260105)
    bars = bids(s.candles)
    gaps = sum(1 for p, c in itertools.pairwise(bars) if c.open != p.close)
    # P_GAP = 0.001 per bar plus the weekend gaps; expect a few dozen, never zero
    assert 2 <= gaps <= 100


def test_weekend_gaps_present() -> None:
    # 5 days of M1 bars = 7200 bars; bar 7200 opens after a 48 h gap
    s = generate_stream(7_300, seed=1)
    ts = [c.timestamp for c in bids(s.candles)]
    steps = Counter(b - a for a, b in itertools.pairwise(ts))
    assert steps == {MINUTE_US: 7_298, (48 * 60 + 1) * MINUTE_US: 1}
    assert ts[7199] == DEFAULT_START_US + 5 * 86_400_000_000
    assert ts[7200] == DEFAULT_START_US + 7 * 86_400_000_000 + MINUTE_US


def test_higher_timeframe_aggregation() -> None:
    s = generate_stream(12, seed=4, timeframes=("M1", "M5"))
    m1 = bids(s.candles, "M1")
    m5 = bids(s.candles, "M5")
    assert len(m5) == 2  # bars 10..11 form an incomplete bucket
    first = m5[0]
    assert first.timestamp == DEFAULT_START_US + 5 * MINUTE_US == m1[4].timestamp
    assert first.open == m1[0].open
    assert first.close == m1[4].close
    assert first.high == max(c.high for c in m1[:5])
    assert first.low == min(c.low for c in m1[:5])
    assert first.volume == sum(c.volume for c in m1[:5])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_stream(0, seed=1)
    with pytest.raises(ValueError):
        generate_stream(10, seed=1, timeframes=("M7",))
    with pytest.raises(ValueError):
        generate_stream(10, seed=1, timeframes=())


def test_regimes_change_volatility() -> None:
    s = generate_stream(30_000, seed=20260105)
    bars = bids(s.candles)
    ranges = [(c.high - c.low) / c.open for c in bars]
    # 1000-bar windows: max average range well above min (regime switches happen)
    windows = [sum(ranges[k : k + 1000]) / 1000 for k in range(0, len(ranges), 1000)]
    assert max(windows) > 1.5 * min(windows)
