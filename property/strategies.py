"""Hypothesis strategies: valid but adversarial candle streams, strategy params, seeds.

Every stream drawn from :func:`candle_streams` has been through
:func:`legacy_py.loader.stream_from_table`, so it is valid by construction *and* by the
loader's own validation (a generator bug surfaces as a ``StreamError`` while drawing).

What the streams cover (see ``docs/streams.md`` for validity rules):

* flat bars (``o == h == l == c``) and runs of repeated closes, so indicator windows
  hold equal values (SMA fast == slow, highest/lowest ties, RSI with no gains or losses);
* prices from a small set of "nice" multiples of a per-stream scale, mixed with
  arbitrary floats; scales range from ``1e-6`` to ``1e6``;
* price gaps: a bar's open far from the previous close (x0.25 .. x4);
* bid/ask at zero, constant or varying spread, and one-sided (bid only) streams;
* one to three timeframes; higher timeframes are aggregated from complete buckets of
  base bars (``open = first``, ``high = max``, ``low = min``, ``close = last``,
  ``volume`` = left-fold sum, bid from bid and ask from ask), so timestamps align;
  timestamps are bar CLOSE times in epoch µs, possibly negative, with optional holes;
* short streams (a single bar and up), i.e. long warm-ups relative to indicator periods.

:func:`strategy_params` draws small valid parameter dicts per registered strategy
(periods small enough that signals happen on short streams) plus engine parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from legacy_py.arrow_schemas import InstrumentMeta, schema_with_instrument
from legacy_py.loader import CandleStream, stream_from_table, stream_to_table
from legacy_py.types import TIMEFRAME_SECONDS

US_PER_SECOND = 1_000_000

#: Timeframe combinations, base timeframe first. Higher ones are multiples of the base.
TIMEFRAME_SETS: tuple[tuple[str, ...], ...] = (
    ("M1",),
    ("M1", "M5"),
    ("M5", "H1"),
    ("M1", "M5", "M15"),
    ("M15", "H1"),
    ("H1", "H4"),
    ("H4", "D1"),
    ("D1",),
)

#: Per-stream price scales: tiny to huge.
SCALES: tuple[float, ...] = (1e-6, 1e-3, 1.0, 1.1, 100.0, 1e6)

#: "Nice" multiples of the scale: drawing closes from these makes ties likely.
NICE: tuple[float, ...] = (0.5, 0.75, 1.0, 1.0, 1.25, 1.5, 2.0)

#: Open/previous-close ratios of a gap bar.
GAPS: tuple[float, ...] = (0.25, 0.5, 0.8, 1.25, 2.0, 4.0)

#: Fractions of the body extending the high (above max(o, c)) and the low (below min(o, c)).
WICKS: tuple[float, ...] = (0.0, 0.0, 1e-4, 1e-3, 0.01, 0.05)

#: Volumes (``-0.0`` is a valid volume).
VOLUMES: tuple[float, ...] = (0.0, -0.0, 1.0, 100.0, 12345.5, 1e9)

#: Spreads as fractions of the scale.
SPREADS: tuple[float, ...] = (0.0, 1e-5, 1e-3, 0.01)

#: Epoch anchors (µs) of the first bucket; all are multiples of one day, one is negative.
ANCHORS: tuple[int, ...] = (0, 1_704_067_200 * US_PER_SECOND, -7 * 86_400 * US_PER_SECOND)

#: Price bounds relative to the scale (keeps multiplicative walks finite).
LOW_BOUND = 1.0 / 16.0
HIGH_BOUND = 16.0

Row = tuple[int, str, str, float, float, float, float, float]


def timeframe_sets(
    sets: Sequence[tuple[str, ...]] = TIMEFRAME_SETS,
) -> st.SearchStrategy[tuple[str, ...]]:
    """One of ``sets``."""
    return st.sampled_from(list(sets))


def _check_timeframes(tfs: tuple[str, ...]) -> None:
    if not tfs:
        raise ValueError("need at least one timeframe")
    base = TIMEFRAME_SECONDS[tfs[0]]
    for tf in tfs:
        secs = TIMEFRAME_SECONDS[tf]
        if secs < base or secs % base != 0:
            raise ValueError(f"timeframe {tf} is not a multiple of the base {tfs[0]}")


def _clamp(x: float, scale: float) -> float:
    return min(max(x, scale * LOW_BOUND), scale * HIGH_BOUND)


@st.composite
def _bid_bars(draw: st.DrawFn, n: int, scale: float) -> list[tuple[float, float, float, float]]:
    """``n`` valid bid OHLC tuples: flat bars, repeats, nice values, random walks, gaps."""
    bars: list[tuple[float, float, float, float]] = []
    prev = scale * draw(st.sampled_from(NICE))
    for _ in range(n):
        kind = draw(st.integers(0, 5))
        o = prev
        if kind == 0:  # flat bar at the previous close
            bars.append((o, o, o, o))
            continue
        if kind == 1:  # repeated close, with a range
            c = o
        elif kind == 2:  # a nice value
            c = scale * draw(st.sampled_from(NICE))
        elif kind == 3:  # a small random step
            c = _clamp(o * draw(st.floats(0.9, 1.1)), scale)
        elif kind == 4:  # an arbitrary float in range
            c = scale * draw(st.floats(LOW_BOUND, HIGH_BOUND))
        else:  # a gap: open far from the previous close
            o = _clamp(prev * draw(st.sampled_from(GAPS)), scale)
            c = o if draw(st.booleans()) else scale * draw(st.sampled_from(NICE))
        top, bottom = max(o, c), min(o, c)
        # Rounding is monotone: top + x >= top for x >= 0; bottom * (1 - f) <= bottom.
        h = top + top * draw(st.sampled_from(WICKS))
        lo = bottom * (1.0 - draw(st.sampled_from(WICKS)))
        bars.append((o, h, lo, c))
        prev = c
    return bars


def _aggregate(rows: list[Row], base_secs: int, tf: str, base_opens: list[int]) -> list[Row]:
    """Aggregate one price side's base rows into complete ``tf`` buckets."""
    dur_us = TIMEFRAME_SECONDS[tf] * US_PER_SECOND
    need = TIMEFRAME_SECONDS[tf] // base_secs
    buckets: dict[int, list[Row]] = {}
    for open_us, row in zip(base_opens, rows, strict=True):
        buckets.setdefault(open_us // dur_us, []).append(row)
    out: list[Row] = []
    for bucket, members in buckets.items():
        if len(members) != need:
            continue  # incomplete bucket: not emitted
        high = members[0][4]
        low = members[0][5]
        volume = 0.0
        for m in members:
            high = max(high, m[4])
            low = min(low, m[5])
            volume = volume + m[7]
        first, last = members[0], members[-1]
        out.append((bucket * dur_us + dur_us, tf, first[2], first[3], high, low, last[6], volume))
    return out


def _table(rows: list[Row], instrument: InstrumentMeta) -> pa.Table:
    cols = list(zip(*rows, strict=True))
    schema = schema_with_instrument(instrument)
    plain = pa.schema(
        [
            pa.field(f.name, pa.string(), nullable=False) if i in (1, 2) else f
            for i, f in enumerate(schema)
        ],
        metadata=schema.metadata,
    )
    arrays = [
        pa.array(cols[0], type=pa.int64()),
        pa.array(cols[1], type=pa.string()),
        pa.array(cols[2], type=pa.string()),
        *[pa.array(cols[k], type=pa.float64()) for k in range(3, 8)],
    ]
    return pa.Table.from_arrays(arrays, schema=plain)


@st.composite
def raw_candle_tables(
    draw: st.DrawFn,
    min_bars: int = 1,
    max_bars: int = 300,
    timeframes: st.SearchStrategy[tuple[str, ...]] | None = None,
    with_ask: st.SearchStrategy[bool] | None = None,
    scales: st.SearchStrategy[float] | None = None,
    contract_sizes: st.SearchStrategy[float] | None = None,
) -> pa.Table:
    """A valid stream table with plain string keys, NOT in canonical order.

    Rows are grouped as generated (bid base bars, bid higher timeframes, then ask), so
    loading it exercises the canonical sort. Arguments: see :func:`candle_streams`.
    """
    tfs = draw(timeframes if timeframes is not None else timeframe_sets())
    _check_timeframes(tfs)
    has_ask = draw(with_ask if with_ask is not None else st.booleans())
    scale = draw(scales if scales is not None else st.sampled_from(SCALES))
    contract = draw(
        contract_sizes if contract_sizes is not None else st.sampled_from((1.0, 100_000.0, 0.5))
    )
    instrument = InstrumentMeta(
        symbol="PROP", tick_size=draw(st.sampled_from((1e-5, 0.01, 1e-8))), contract_size=contract
    )
    n = draw(st.integers(min_bars, max_bars))
    base_secs = TIMEFRAME_SECONDS[tfs[0]]
    base_us = base_secs * US_PER_SECOND
    ratio = max(TIMEFRAME_SECONDS[tf] for tf in tfs) // base_secs
    start = draw(st.sampled_from(ANCHORS)) + draw(st.integers(0, ratio - 1)) * base_us
    # holes in time: (bar index, base periods skipped before it)
    holes = dict(
        draw(
            st.lists(
                st.tuples(st.integers(0, max(n - 1, 0)), st.sampled_from((1, 3, 60))),
                max_size=2,
            )
        )
    )
    opens: list[int] = []
    slot = 0
    for k in range(n):
        slot += holes.get(k, 0)
        opens.append(start + slot * base_us)
        slot += 1

    bid_ohlc = draw(_bid_bars(n, scale))
    volumes = [draw(st.sampled_from(VOLUMES)) for _ in range(n)]
    bid_rows: list[Row] = [
        (t + base_us, tfs[0], "bid", o, h, lo, c, v)
        for t, (o, h, lo, c), v in zip(opens, bid_ohlc, volumes, strict=True)
    ]
    sides = [bid_rows]
    if has_ask:
        spread = scale * draw(st.sampled_from(SPREADS))
        varying = draw(st.booleans())
        ask_rows: list[Row] = []
        for row in bid_rows:
            s = spread * draw(st.sampled_from((0.0, 1.0, 3.0))) if varying else spread
            # x + s >= x for s >= 0, and monotone rounding keeps the bar valid.
            ask_rows.append(
                (row[0], row[1], "ask", row[3] + s, row[4] + s, row[5] + s, row[6] + s, row[7])
            )
        sides.append(ask_rows)

    rows: list[Row] = []
    for side_rows in sides:
        rows.extend(side_rows)
        for tf in tfs[1:]:
            rows.extend(_aggregate(side_rows, base_secs, tf, opens))
    # Rows are deliberately not in canonical order: stream_from_table sorts them.
    return _table(rows, instrument)


def _load(table: pa.Table) -> CandleStream:
    return stream_from_table(table, source="<hypothesis>")


def candle_streams(
    min_bars: int = 1,
    max_bars: int = 300,
    timeframes: st.SearchStrategy[tuple[str, ...]] | None = None,
    with_ask: st.SearchStrategy[bool] | None = None,
    scales: st.SearchStrategy[float] | None = None,
    contract_sizes: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[CandleStream]:
    """A validated, canonically ordered :class:`CandleStream`.

    ``min_bars``/``max_bars`` bound the number of *base* bars per price side.
    ``timeframes`` draws a tuple whose first element is the base timeframe (default:
    :data:`TIMEFRAME_SETS`); ``with_ask`` False makes a bid-only stream; ``scales`` the
    price scale (default :data:`SCALES`); ``contract_sizes`` the instrument's contract
    size. The stream goes through :func:`~legacy_py.loader.stream_from_table`, so an
    invalid draw would raise a ``StreamError``.
    """
    return raw_candle_tables(min_bars, max_bars, timeframes, with_ask, scales, contract_sizes).map(
        _load
    )


def candle_tables(**kwargs: Any) -> st.SearchStrategy[pa.Table]:
    """:func:`candle_streams` as tables with ``CANDLE_SCHEMA`` (via ``stream_to_table``)."""
    return candle_streams(**kwargs).map(stream_to_table)


# ------------------------------------------------------------------------------ params


def _maybe_int(values: Sequence[float]) -> st.SearchStrategy[float | int]:
    """A float from ``values``, sometimes given as an int (params coerce int -> float)."""
    floats: st.SearchStrategy[float | int] = st.sampled_from(list(values))
    ints = [int(v) for v in values if float(v).is_integer()]
    if ints:
        return st.one_of(floats, st.sampled_from(ints))
    return floats


def engine_params() -> st.SearchStrategy[dict[str, Any]]:
    """A subset of the engine parameters (``EngineConfig`` fields), all valid."""
    return st.fixed_dictionaries(
        {},
        optional={
            "initial_cash": _maybe_int((100_000.0, 1_000.0, 1.0)),
            "commission_rate": st.sampled_from((0.0, 1e-5, 0.001)),
            "slippage_fixed": st.sampled_from((0.0, 1e-8, 1e-5)),
            "slippage_random": st.sampled_from((0.0, 1e-8, 1e-4)),
            "sizing": st.sampled_from(("fixed", "risk")),
            "units": _maybe_int((1.0, 0.5, 3.0)),
            "risk_pct": st.sampled_from((0.01, 0.5, 1.0)),
            "lot_step": st.sampled_from((0.01, 1.0)),
            "max_positions": st.integers(1, 3),
            "limit_ttl": st.integers(1, 5),
        },
    )


@st.composite
def _sma_cross(draw: st.DrawFn) -> dict[str, Any]:
    fast = draw(st.integers(1, 4))
    return {"fast": fast, "slow": fast + draw(st.integers(1, 6))}


_STRATEGY_PARAMS: Mapping[str, st.SearchStrategy[dict[str, Any]]] = {
    "noop": st.just({}),
    "sma_cross": _sma_cross(),
    "rsi_reversion": st.fixed_dictionaries(
        {
            "period": st.integers(1, 6),
            "lower": _maybe_int((20.0, 30.0, 45.0)),
            "upper": _maybe_int((55.0, 70.0, 80.0)),
            "atr": st.integers(1, 5),
            "sl_atr": _maybe_int((0.5, 1.0, 2.0)),
            "tp_atr": _maybe_int((0.5, 1.0, 3.0)),
        }
    ),
    "donchian_breakout": st.fixed_dictionaries(
        {
            "channel": st.integers(1, 6),
            "exit_channel": st.integers(1, 4),
            "atr": st.integers(1, 5),
            "sl_atr": _maybe_int((0.5, 1.0, 2.5)),
        }
    ),
    "mtf_trend": st.fixed_dictionaries(
        {
            "fast": st.integers(1, 4),
            "slow": st.integers(2, 8),
            "trend": st.integers(1, 5),
            "atr": st.integers(1, 5),
            "pullback_atr": _maybe_int((0.0, 0.25, 1.0)),
            "sl_atr": _maybe_int((1.0, 3.0)),
            "tp_atr": _maybe_int((1.0, 6.0)),
        }
    ),
    "churn": st.fixed_dictionaries(
        {"every": st.integers(1, 4), "band": st.sampled_from((0.0001, 0.001, 0.01, 0.1))}
    ),
}


def strategy_params(name: str, *, engine: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Small valid params for registered strategy ``name``, merged with engine params.

    Strategy keys are each present or absent (absent -> the strategy's default).
    """
    if name not in _STRATEGY_PARAMS:
        raise KeyError(f"no param strategy for {name!r}")
    own = _STRATEGY_PARAMS[name]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        full = draw(own)
        # drop some keys (defaults apply), keeping sma_cross's fast < slow valid
        keep = draw(st.sampled_from(("all", "all", "none")))
        params = dict(full) if keep == "all" else {}
        if engine:
            params.update(draw(engine_params()))
        return params

    return build()


def seeds() -> st.SearchStrategy[int]:
    """Run seeds: the full int64 range (the summary stores the seed as int64)."""
    return st.one_of(
        st.sampled_from((0, 1, 42, -1, 2**63 - 1, -(2**63))),
        st.integers(-(2**63), 2**63 - 1),
    )


__all__ = [
    "TIMEFRAME_SETS",
    "candle_streams",
    "candle_tables",
    "engine_params",
    "raw_candle_tables",
    "seeds",
    "strategy_params",
    "timeframe_sets",
]
