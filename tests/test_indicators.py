"""Tests of legacy_py.indicators: hand-computed values, warm-up, naming, errors, bit-exactness."""

from __future__ import annotations

import importlib.util
import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import pytest

from legacy_py.errors import ConfigError
from legacy_py.indicators import (
    MAX_PERIOD,
    IndicatorCache,
    IndicatorSpec,
    compute_indicators,
    make_indicator,
    parse_spec,
    true_range,
)
from legacy_py.rng import uniform
from legacy_py.types import Candle, IndicatorRequest

Values = list[float | None]


def bar(
    close: float,
    high: float | None = None,
    low: float | None = None,
    *,
    tf: str = "M1",
    pt: str = "bid",
    ts: int = 0,
) -> Candle:
    """A candle; high/low default to the close."""
    h = close if high is None else high
    lo = close if low is None else low
    return Candle(ts, tf, pt, close, h, lo, close, 1.0)


def closes(*xs: float) -> list[Candle]:
    return [bar(x, ts=i) for i, x in enumerate(xs)]


def run(spec: str, candles: Sequence[Candle]) -> dict[str, Values]:
    return compute_indicators(candles, "M1", "bid", [spec])


def hexes(values: Sequence[float | None]) -> list[str | None]:
    return [None if v is None else float.hex(v) for v in values]


# --------------------------------------------------------------------------- hand-computed


def test_sma_hand() -> None:
    assert run("sma:2", closes(1, 2, 3, 4)) == {"sma_2": [None, 1.5, 2.5, 3.5]}
    assert run("sma:1", closes(7, 8)) == {"sma_1": [7.0, 8.0]}
    assert run("sma:3", closes(3, 6, 9, 0)) == {"sma_3": [None, None, 6.0, 5.0]}


def test_std_hand() -> None:
    # classic example: mean 5, population variance 4
    out = run("std:8", closes(2, 4, 4, 4, 5, 5, 7, 9))
    assert out == {"std_8": [None] * 7 + [2.0]}
    assert run("std:2", closes(1, 3, 3)) == {"std_2": [None, 1.0, 0.0]}


def test_bollinger_hand() -> None:
    out = run("bb:8:2", closes(2, 4, 4, 4, 5, 5, 7, 9))
    assert out == {
        "bb_8_2_upper": [None] * 7 + [9.0],
        "bb_8_2_mid": [None] * 7 + [5.0],
        "bb_8_2_lower": [None] * 7 + [1.0],
    }
    out = run("bb:2:1.5", closes(1, 3))
    assert out == {
        "bb_2_1.5_upper": [None, 3.5],
        "bb_2_1.5_mid": [None, 2.0],
        "bb_2_1.5_lower": [None, 0.5],
    }


def test_ema_hand_seeding() -> None:
    # alpha = 2/(3+1) = 0.5; seed = (1+2+3)/3 = 2
    assert run("ema:3", closes(1, 2, 3, 4, 5, 6)) == {"ema_3": [None, None, 2.0, 3.0, 4.0, 5.0]}
    # seed = (10+20+30)/3 = 20; 0.5*10+0.5*20 = 15; 0.5*50+0.5*15 = 32.5
    assert run("ema:3", closes(10, 20, 30, 10, 50)) == {"ema_3": [None, None, 20.0, 15.0, 32.5]}
    # alpha = 2/(7+1) = 0.25; seed = 28/7 = 4; 0.25*8 + 0.75*4 = 5
    assert run("ema:7", closes(1, 2, 3, 4, 5, 6, 7, 8))["ema_7"][6:] == [4.0, 5.0]
    # n = 1: alpha = 1, the EMA is the close
    assert run("ema:1", closes(3, 1, 4)) == {"ema_1": [3.0, 1.0, 4.0]}


def test_rsi_hand() -> None:
    # changes: +1, +2, -1, 0, +3
    out = run("rsi:2", closes(10, 11, 13, 12, 12, 15))["rsi_2"]
    # change 2: avg_gain = 3/2, avg_loss = 0 -> 100
    # change 3: avg_gain = (1.5*1 + 0)/2 = 0.75, avg_loss = (0*1 + 1)/2 = 0.5, rs = 1.5 -> 60
    # change 4: avg_gain = 0.375, avg_loss = 0.25, rs = 1.5 -> 60
    assert out[:5] == [None, None, 100.0, 60.0, 60.0]
    # change 5: avg_gain = (0.375 + 3)/2 = 27/16, avg_loss = 1/8, rs = 27/2 -> 100 - 200/29
    last = out[5]
    assert last is not None
    assert last == pytest.approx(float(Fraction(2700, 29)), rel=1e-15)


def test_rsi_flat_rising_falling() -> None:
    assert run("rsi:3", closes(5, 5, 5, 5, 5))["rsi_3"] == [None, None, None, 50.0, 50.0]
    assert run("rsi:2", closes(1, 2, 3, 4))["rsi_2"] == [None, None, 100.0, 100.0]
    assert run("rsi:2", closes(4, 3, 2, 1))["rsi_2"] == [None, None, 0.0, 0.0]


def test_atr_hand_with_gaps() -> None:
    candles = [
        bar(9.0, 10.0, 8.0, ts=0),  # first bar: tr = 10 - 8 = 2
        bar(11.5, 12.0, 11.0, ts=1),  # hl 1, |12 - 9| = 3 wins -> 3
        bar(9.0, 9.0, 8.5, ts=2),  # gap down: hl 0.5, |9 - 11.5| = 2.5, |8.5 - 11.5| = 3 -> 3
        bar(9.5, 10.0, 9.0, ts=3),  # hl 1, |10 - 9| = 1 not > 1, |9 - 9| = 0 -> 1
    ]
    assert run("atr:1", candles) == {"atr_1": [2.0, 3.0, 3.0, 1.0]}
    # seed (2 + 3)/2 = 2.5; (2.5*1 + 3)/2 = 2.75; (2.75*1 + 1)/2 = 1.875
    assert run("atr:2", candles) == {"atr_2": [None, 2.5, 2.75, 1.875]}


def test_true_range_order() -> None:
    assert true_range(10.0, 8.0, None) == 2.0
    assert true_range(10.0, 8.0, 9.0) == 2.0
    assert true_range(10.0, 9.0, 5.0) == 5.0  # |high - prev| wins
    assert true_range(10.0, 9.0, 14.0) == 5.0  # |low - prev| wins


def test_macd_hand() -> None:
    # ema_1 = close; ema_3: alpha 0.5, seed (1+2+6)/3 = 3
    # ema_3: 3, 4, 6, 4, 8;  macd: 3, 1, 2, -2, 4
    # signal (ema_3 of macd): seed (3+1+2)/3 = 2, then 0.5*-2 + 0.5*2 = 0, 0.5*4 + 0.5*0 = 2
    out = run("macd:1:3:3", closes(1, 2, 6, 5, 8, 2, 12))
    assert out == {
        "macd_1_3_3": [None, None, 3.0, 1.0, 2.0, -2.0, 4.0],
        "macd_1_3_3_signal": [None, None, None, None, 2.0, 0.0, 2.0],
        "macd_1_3_3_hist": [None, None, None, None, 0.0, -2.0, 2.0],
    }


def test_highest_lowest_and_ties() -> None:
    candles = [
        bar(6.0, 5.0, 1.0, ts=0),
        bar(6.0, 7.0, 2.0, ts=1),
        bar(6.0, 7.0, 1.0, ts=2),
        bar(6.0, 3.0, 1.0, ts=3),
        bar(6.0, 2.0, 4.0, ts=4),
    ]
    assert run("highest:3", candles) == {"highest_3": [None, None, 7.0, 7.0, 7.0]}
    assert run("lowest:3", candles) == {"lowest_3": [None, None, 1.0, 1.0, 1.0]}
    assert run("highest:1", candles)["highest_1"] == [5.0, 7.0, 7.0, 3.0, 2.0]
    # ties of signed zeros: the first occurrence (oldest) wins, strict comparisons
    lows_pos_first = [bar(1.0, 1.0, 0.0, ts=0), bar(1.0, 1.0, -0.0, ts=1)]
    lows_neg_first = [bar(1.0, 1.0, -0.0, ts=0), bar(1.0, 1.0, 0.0, ts=1)]
    a = run("lowest:2", lows_pos_first)["lowest_2"][1]
    b = run("lowest:2", lows_neg_first)["lowest_2"][1]
    assert a is not None and b is not None
    assert math.copysign(1.0, a) == 1.0
    assert math.copysign(1.0, b) == -1.0
    highs = [bar(1.0, -0.0, -1.0, ts=0), bar(1.0, 0.0, -1.0, ts=1)]
    h = run("highest:2", highs)["highest_2"][1]
    assert h is not None and math.copysign(1.0, h) == -1.0


# --------------------------------------------------------------------------- warm-up


@pytest.mark.parametrize(
    ("spec", "first_value_index"),
    [
        ("sma:5", 4),
        ("std:5", 4),
        ("bb:5:2", 4),
        ("ema:5", 4),
        ("rsi:5", 5),  # needs 5 changes = 6 closes
        ("atr:5", 4),
        ("highest:5", 4),
        ("lowest:5", 4),
    ],
)
def test_warmup_counts(spec: str, first_value_index: int) -> None:
    candles = closes(*[float(10 + (i % 3)) for i in range(12)])
    for name, column in run(spec, candles).items():
        assert column[:first_value_index] == [None] * first_value_index, name
        assert all(v is not None for v in column[first_value_index:]), name


def test_macd_warmup() -> None:
    out = run("macd:2:4:3", closes(*[float(i % 5 + 1) for i in range(10)]))
    assert out["macd_2_4_3"].count(None) == 3  # value from the 4th close (slow period)
    assert out["macd_2_4_3_signal"].count(None) == 5  # + 3 macd values - 1
    assert out["macd_2_4_3_hist"].count(None) == 5


# --------------------------------------------------------------------------- cache


def test_output_names_and_order() -> None:
    cache = IndicatorCache(
        [
            IndicatorRequest("M5", "ask", "macd:12:26:9"),
            IndicatorRequest("M1", "bid", "sma:20"),
            IndicatorRequest("M1", "bid", "bb:20:2.0"),
            IndicatorRequest("H1", "bid", "highest:10"),
        ]
    )
    assert cache.output_names == (
        "M5_ask_macd_12_26_9",
        "M5_ask_macd_12_26_9_signal",
        "M5_ask_macd_12_26_9_hist",
        "M1_bid_sma_20",
        "M1_bid_bb_20_2.0_upper",
        "M1_bid_bb_20_2.0_mid",
        "M1_bid_bb_20_2.0_lower",
        "H1_bid_highest_10",
    )
    assert list(cache.values()) == list(cache.output_names)
    assert cache.value_list() == [None] * 8
    assert cache.series_keys() == (("M5", "ask"), ("M1", "bid"), ("H1", "bid"))


def test_spec_output_names() -> None:
    assert parse_spec("sma:20").output_names() == ("sma_20",)
    assert parse_spec("bb:20:2").output_names() == ("bb_20_2_upper", "bb_20_2_mid", "bb_20_2_lower")
    assert parse_spec("macd:12:26:9").output_names() == (
        "macd_12_26_9",
        "macd_12_26_9_signal",
        "macd_12_26_9_hist",
    )
    assert parse_spec("bb:20:2.5") == IndicatorSpec("bb", (20, 2.5), "bb:20:2.5")
    assert parse_spec("macd:1:2:3") == IndicatorSpec("macd", (1, 2, 3), "macd:1:2:3")


def test_duplicate_requests_merged() -> None:
    cache = IndicatorCache(
        [
            IndicatorRequest("M1", "bid", "sma:2"),
            IndicatorRequest("M1", "ask", "sma:2"),
            IndicatorRequest("M1", "bid", "sma:2"),
            IndicatorRequest("M1", "bid", "ema:2"),
            IndicatorRequest("M1", "ask", "sma:2"),
        ]
    )
    assert cache.output_names == ("M1_bid_sma_2", "M1_ask_sma_2", "M1_bid_ema_2")
    for c in closes(1, 2, 3):
        cache.update(c)
    assert cache.values() == {"M1_bid_sma_2": 2.5, "M1_ask_sma_2": None, "M1_bid_ema_2": 2.5}


def test_series_isolation() -> None:
    cache = IndicatorCache(
        [IndicatorRequest("M1", "bid", "sma:1"), IndicatorRequest("M1", "ask", "sma:1")]
    )
    cache.update(bar(1.0, pt="bid"))
    cache.update(bar(2.0, pt="ask"))
    cache.update(bar(3.0, pt="ask", ts=1))
    cache.update(bar(9.0, tf="M5", pt="bid"))  # no indicators on M5: ignored
    assert cache.values() == {"M1_bid_sma_1": 1.0, "M1_ask_sma_1": 3.0}


def test_values_is_fresh_dict() -> None:
    cache = IndicatorCache([IndicatorRequest("M1", "bid", "sma:1")])
    cache.update(bar(1.0))
    first = cache.values()
    first["M1_bid_sma_1"] = 42.0
    cache.update(bar(2.0, ts=1))
    assert cache.values() == {"M1_bid_sma_1": 2.0}
    assert cache.values() is not cache.values()


def test_empty_cache() -> None:
    cache = IndicatorCache([])
    cache.update(bar(1.0))
    assert cache.output_names == ()
    assert cache.values() == {}
    assert cache.value_list() == []
    assert cache.series_keys() == ()


def test_compute_indicators_skips_other_series() -> None:
    candles = [
        bar(1.0, ts=0),
        bar(100.0, pt="ask", ts=0),
        bar(200.0, tf="M5", ts=0),
        bar(3.0, ts=1),
        bar(100.0, pt="ask", ts=1),
        bar(5.0, ts=2),
    ]
    out = compute_indicators(candles, "M1", "bid", ["sma:2", "highest:1", "sma:2"])
    assert out == {"sma_2": [None, 2.0, 4.0], "highest_1": [1.0, 3.0, 5.0]}
    ask = compute_indicators(candles, "M1", "ask", ["sma:2"])
    assert ask == {"sma_2": [None, 100.0]}
    assert compute_indicators(candles, "H1", "bid", ["sma:2"]) == {"sma_2": []}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "sma",
        "sma:",
        "sma:0",
        "sma:-1",
        "sma:+2",
        "sma:02",
        "sma:1.5",
        "sma:1e2",
        "sma:true",
        "sma:True",
        "sma:abc",
        "sma: 2",
        "sma:2 ",
        "sma:1_0",
        "sma:\u0663",  # ARABIC-INDIC DIGIT THREE
        f"sma:{MAX_PERIOD + 1}",
        "sma:2:3",
        "SMA:2",
        "foo:3",
        ":3",
        "std:0",
        "ema:1.0",
        "rsi:0",
        "atr:x",
        "highest:",
        "lowest:0",
        "bb:20",
        "bb:20:0",
        "bb:20:0.0",
        "bb:20:-1",
        "bb:20:nan",
        "bb:20:inf",
        "bb:20:1e3",
        "bb:20:.5",
        "bb:20:2.",
        "bb:20:abc",
        "bb:20:2:1",
        "bb:0:2",
        "bb:20:" + "9" * 400,  # parses to inf
        "macd:26:12:9",
        "macd:12:12:9",
        "macd:12:26",
        "macd:12:26:0",
        "macd:12:26:9:1",
    ],
)
def test_bad_specs(spec: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(spec)
    assert repr(spec) in str(info.value)
    with pytest.raises(ConfigError):
        IndicatorCache([IndicatorRequest("M1", "bid", spec)])


def test_bad_requests() -> None:
    with pytest.raises(ConfigError, match="timeframe"):
        IndicatorCache([IndicatorRequest("M2", "bid", "sma:2")])
    with pytest.raises(ConfigError, match="price type"):
        IndicatorCache([IndicatorRequest("M1", "mid", "sma:2")])
    with pytest.raises(ConfigError):
        IndicatorCache([IndicatorRequest("M1", "bid", 3)])  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        IndicatorCache([("M1", "bid", "sma:2")])  # type: ignore[list-item]
    with pytest.raises(ConfigError):
        parse_spec(20)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        compute_indicators([], "M1", "bid", "sma:2")
    with pytest.raises(ConfigError):
        compute_indicators([], "X", "bid", ["sma:2"])
    with pytest.raises(ConfigError):
        make_indicator(IndicatorSpec("sma", (3,), "sma:2"))


# --------------------------------------------------------------------------- bit-exactness


def random_candles(n: int, seed: int) -> list[Candle]:
    """A random walk with gaps, flat stretches and wicks."""
    out: list[Candle] = []
    close = 100.0
    for i in range(n):
        u = [uniform(seed, i, lane) for lane in range(5)]
        open_ = close + (u[0] - 0.5) * 2.0 if u[4] < 0.2 else close  # occasional gap
        new_close = close if u[4] > 0.9 else open_ + (u[1] - 0.5) * 1.5
        high = max(open_, new_close) + u[2] * 0.7
        low = min(open_, new_close) - u[3] * 0.7
        out.append(Candle(i, "M1", "bid", open_, high, low, new_close, 1.0))
        close = new_close
    return out


def ref_fold(xs: Sequence[float]) -> float:
    acc = 0.0
    for x in xs:
        acc = acc + x
    return acc


def ref_sma(xs: Sequence[float], n: int) -> Values:
    return [
        None if i + 1 < n else ref_fold(xs[i + 1 - n : i + 1]) / float(n) for i in range(len(xs))
    ]


def ref_std(xs: Sequence[float], n: int) -> Values:
    out: Values = []
    for i in range(len(xs)):
        if i + 1 < n:
            out.append(None)
            continue
        window = xs[i + 1 - n : i + 1]
        mean = ref_fold(window) / float(n)
        acc = 0.0
        for x in window:
            acc = acc + (x - mean) * (x - mean)
        out.append(math.sqrt(acc / float(n)))
    return out


def ref_ema(xs: Sequence[float], n: int) -> Values:
    alpha = 2.0 / (float(n) + 1.0)
    one_minus_alpha = 1.0 - alpha
    out: Values = []
    prev = 0.0
    for i, x in enumerate(xs):
        if i + 1 < n:
            out.append(None)
            continue
        prev = ref_fold(xs[:n]) / float(n) if i + 1 == n else alpha * x + one_minus_alpha * prev
        out.append(prev)
    return out


def ref_wilder(xs: Sequence[float], n: int) -> Values:
    """Wilder smoothing of xs: fold/n at the n-th, then (prev*(n-1) + x)/n."""
    out: Values = []
    prev = 0.0
    for i, x in enumerate(xs):
        if i + 1 < n:
            out.append(None)
            continue
        prev = ref_fold(xs[:n]) / float(n) if i + 1 == n else (prev * float(n - 1) + x) / float(n)
        out.append(prev)
    return out


def ref_rsi(xs: Sequence[float], n: int) -> Values:
    changes = [xs[i] - xs[i - 1] for i in range(1, len(xs))]
    gains = ref_wilder([d if d > 0.0 else 0.0 for d in changes], n)
    losses = ref_wilder([-d if d < 0.0 else 0.0 for d in changes], n)
    out: Values = [None]
    for g, lo in zip(gains, losses, strict=True):
        if g is None or lo is None:
            out.append(None)
        elif lo == 0.0:
            out.append(100.0 if g > 0.0 else 50.0)
        else:
            out.append(100.0 - 100.0 / (1.0 + g / lo))
    return out


def ref_atr(candles: Sequence[Candle], n: int) -> Values:
    trs = [candles[0].high - candles[0].low]
    for prev, c in itertools.pairwise(candles):
        trs.append(max(c.high - c.low, abs(c.high - prev.close), abs(c.low - prev.close)))
    return ref_wilder(trs, n)


def ref_macd(xs: Sequence[float], f: int, s: int, g: int) -> tuple[Values, Values, Values]:
    fast, slow = ref_ema(xs, f), ref_ema(xs, s)
    macd: Values = [
        None if a is None or b is None else a - b for a, b in zip(fast, slow, strict=True)
    ]
    present = [m for m in macd if m is not None]
    signal_tail = ref_ema(present, g)
    signal: Values = [None for _ in range(len(macd) - len(present))]
    signal.extend(signal_tail)
    hist: Values = [
        None if m is None or sg is None else m - sg for m, sg in zip(macd, signal, strict=True)
    ]
    return macd, signal, hist


def test_bit_exact_against_reference() -> None:
    candles = random_candles(400, seed=20240601)
    xs = [c.close for c in candles]
    highs = [c.high for c in candles]
    lows = [c.low for c in candles]
    specs = ["sma:1", "sma:7", "std:1", "std:9", "bb:20:2", "bb:5:1.5", "ema:1", "ema:2"]
    specs += ["ema:12", "rsi:1", "rsi:2", "rsi:14", "atr:1", "atr:14", "macd:12:26:9"]
    specs += ["macd:1:2:1", "highest:1", "highest:10", "lowest:10"]
    out = compute_indicators(candles, "M1", "bid", specs)
    expected: dict[str, Values] = {"sma_1": ref_sma(xs, 1), "sma_7": ref_sma(xs, 7)}
    expected["std_1"] = ref_std(xs, 1)
    expected["std_9"] = ref_std(xs, 9)
    for n, k_text in ((20, "2"), (5, "1.5")):
        k = float(k_text)
        mids, sds = ref_sma(xs, n), ref_std(xs, n)
        expected[f"bb_{n}_{k_text}_upper"] = [
            None if m is None or sd is None else m + k * sd for m, sd in zip(mids, sds, strict=True)
        ]
        expected[f"bb_{n}_{k_text}_mid"] = mids
        expected[f"bb_{n}_{k_text}_lower"] = [
            None if m is None or sd is None else m - k * sd for m, sd in zip(mids, sds, strict=True)
        ]
    for n in (1, 2, 12):
        expected[f"ema_{n}"] = ref_ema(xs, n)
    for n in (1, 2, 14):
        expected[f"rsi_{n}"] = ref_rsi(xs, n)
    for n in (1, 14):
        expected[f"atr_{n}"] = ref_atr(candles, n)
    for f, s, g in ((12, 26, 9), (1, 2, 1)):
        m, sg, h = ref_macd(xs, f, s, g)
        base = f"macd_{f}_{s}_{g}"
        expected[base], expected[f"{base}_signal"], expected[f"{base}_hist"] = m, sg, h
    expected["highest_1"] = list[float | None](highs)
    expected["highest_10"] = [None if i < 9 else max(highs[i - 9 : i + 1]) for i in range(len(xs))]
    expected["lowest_10"] = [None if i < 9 else min(lows[i - 9 : i + 1]) for i in range(len(xs))]
    assert list(out) == list(expected)
    for name, column in out.items():
        assert hexes(column) == hexes(expected[name]), name
    # the random series exercises every branch of interest
    assert any(v == 50.0 or v == 100.0 for v in out["rsi_1"])
    assert any(c.open != p.close for p, c in itertools.pairwise(candles))


def test_cache_matches_compute_indicators() -> None:
    bid = random_candles(120, seed=7)
    ask = [Candle(c.timestamp, "M1", "ask", c.open, c.high + 0.5, c.low, c.close, 1.0) for c in bid]
    stream = [c for pair in zip(bid, ask, strict=True) for c in pair]
    specs = ["sma:5", "rsi:3", "macd:3:6:2", "atr:4", "bb:10:2.5"]
    requests = [IndicatorRequest("M1", pt, s) for pt in ("bid", "ask") for s in specs]
    cache = IndicatorCache(requests)
    rows = []
    for c in stream:
        cache.update(c)
        rows.append(cache.values())
    for pt in ("bid", "ask"):
        batch = compute_indicators(stream, "M1", pt, specs)
        own_rows = rows[0::2] if pt == "bid" else rows[1::2]
        for name, column in batch.items():
            got = [row[f"M1_{pt}_{name}"] for row in own_rows]
            assert hexes(got) == hexes(column), name


# --------------------------------------------------------------------------- port vectors


def test_vector_fixture_is_up_to_date() -> None:
    """tests/fixtures/indicator_vectors.txt (read by the Rust tests) matches the generator."""
    root = Path(__file__).resolve().parent.parent
    module_spec = importlib.util.spec_from_file_location(
        "gen_indicator_vectors", root / "scripts" / "gen_indicator_vectors.py"
    )
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    expected = module.render()
    assert isinstance(expected, str)
    fixture = root / "tests" / "fixtures" / "indicator_vectors.txt"
    assert fixture.read_text(encoding="ascii") == expected, "run scripts/gen_indicator_vectors.py"
