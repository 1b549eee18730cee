"""Strategy C (batch dispatch, ``on_batch``): parity with legacy, validation, harness."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import omega_rust
from harness.adapters import LegacyAdapter, get_adapter
from harness.allowlist import Allowlist
from harness.batch_adapters import MISMATCH_HINT, RustBatchAdapter, skip_reason
from harness.experiment import Case, run_experiment
from harness.gate import check_corpus
from legacy_py.engine import run_python
from legacy_py.errors import BatchUnsupported, ConfigError, StrategyError, StrategyTypeError
from legacy_py.indicators import IndicatorCache
from legacy_py.loader import CandleStream, load_stream
from legacy_py.strategies import (
    STRATEGIES,
    BaseStrategy,
    BatchSignals,
    SmaCross,
    make_strategy,
)
from legacy_py.types import (
    Candle,
    IndicatorRequest,
    Indicators,
    Position,
    SignalType,
    StrategySignal,
)
from tests.enginekit import MIN, pair, stream

ROOT = Path(__file__).resolve().parent.parent
STREAMS = sorted((ROOT / "golden" / "streams").glob("*.arrow"))
BIG = "synthetic_m1_50k"
BATCH_STRATEGIES = ("sma_cross", "rsi_reversion")


@functools.cache
def corpus(name: str) -> CandleStream:
    return load_stream(ROOT / "golden" / "streams" / f"{name}.arrow")


@functools.cache
def legacy_hash(name: str, strategy: str, seed: int = 11) -> str:
    s = corpus(name)
    strat, cfg = make_strategy(strategy, {}, s)
    return run_python(s, strat, cfg, seed).hash()


def batch_hash(name: str, strategy: str, chunk_size: int, seed: int = 11) -> str:
    s = corpus(name)
    strat, cfg = make_strategy(strategy, {}, s)
    trace = omega_rust.run_batch(s, strat, cfg, seed, chunk_size=chunk_size)
    assert trace.meta["engine"] == "rust-batch"
    return trace.hash()


def _corpus_cases() -> list[Any]:
    cases = []
    for path in STREAMS:
        for strategy in BATCH_STRATEGIES:
            for chunk in (1, 7, 4096, "larger"):
                marks = [pytest.mark.slow] if (path.stem == BIG and chunk == 1) else []
                cases.append(
                    pytest.param(
                        path.stem,
                        strategy,
                        chunk,
                        marks=marks,
                        id=f"{path.stem}-{strategy}-{chunk}",
                    )
                )
    return cases


@pytest.mark.parametrize(("name", "strategy", "chunk"), _corpus_cases())
def test_corpus_batch_equals_legacy(name: str, strategy: str, chunk: int | str) -> None:
    size = len(corpus(name)) + 1 if chunk == "larger" else int(chunk)
    assert batch_hash(name, strategy, size) == legacy_hash(name, strategy)


@pytest.mark.parametrize("strategy", ["noop", "churn"])
@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_other_batch_strategies_equal_legacy(path: Path, strategy: str) -> None:
    assert batch_hash(path.stem, strategy, 4096) == legacy_hash(path.stem, strategy)


def test_state_carries_across_chunks_with_params() -> None:
    s = corpus("eurusd_h1")
    params = {"fast": 3, "slow": 5, "units": 2.0}
    a, cfg = make_strategy("sma_cross", params, s)
    legacy = run_python(s, a, cfg, 5, params).hash()
    for chunk in (2, 3, 50):
        b, _ = make_strategy("sma_cross", params, s)
        assert omega_rust.run_batch(s, b, cfg, 5, params, chunk).hash() == legacy


# --------------------------------------------------------------- hand-made strategies


def bars(n: int) -> CandleStream:
    """``n`` M1 bid/ask pairs (events 2k: bid, 2k+1: ask) with a drifting close."""
    candles: list[Candle] = []
    for m in range(1, n + 1):
        c = 1.0 + 0.01 * (m % 7)
        candles += pair(m, c, c + 0.02, c - 0.02, c, spread=0.001)
    return stream(candles)


Reply = Callable[[pa.RecordBatch, pa.RecordBatch], object]


class Batched(BaseStrategy):
    """``on_batch`` returns ``reply(candles, indicators)``; records what it was given."""

    name = "batched"

    def __init__(
        self,
        reply: Reply,
        subs: Sequence[tuple[str, str]] = (("M1", "bid"),),
        requests: Sequence[IndicatorRequest] = (),
    ) -> None:
        super().__init__()
        self.reply = reply
        self.subs = list(subs)
        self.requests = list(requests)
        self.chunks: list[tuple[pa.RecordBatch, pa.RecordBatch]] = []

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        return self.subs

    def indicators(self) -> Sequence[IndicatorRequest]:
        return self.requests

    def on_batch(self, candles: pa.RecordBatch, indicators: pa.RecordBatch) -> object:
        self.chunks.append((candles, indicators))
        return self.reply(candles, indicators)


def nothing(candles: pa.RecordBatch, indicators: pa.RecordBatch) -> BatchSignals:
    return {"signal_type": [None] * candles.num_rows}


def run_batched(reply: Reply, chunk_size: int = 4, n: int = 10) -> Batched:
    strat = Batched(reply)
    omega_rust.run_batch(bars(n), strat, chunk_size=chunk_size)
    return strat


def test_chunks_hold_subscribed_candles_and_indicators_in_event_order() -> None:
    s = bars(12)
    requests = [IndicatorRequest("M1", "bid", "sma:3"), IndicatorRequest("M1", "ask", "ema:2")]
    strat = Batched(nothing, subs=[("M1", "bid"), ("M1", "ask")], requests=requests)
    omega_rust.run_batch(s, strat, chunk_size=5)
    assert [c.num_rows for c, _ in strat.chunks] == [5, 5, 5, 5, 4]
    candles = pa.Table.from_batches([c for c, _ in strat.chunks])
    indicators = pa.Table.from_batches([i for _, i in strat.chunks])
    assert candles.column_names == [
        "event_index",
        "timestamp",
        "timeframe",
        "price_type",
        "open",
        "high",
        "low",
        "close",
        "volume",
    ]
    assert candles.column("event_index").to_pylist() == list(range(24))
    cache = IndicatorCache(requests)
    expected: list[dict[str, float | None]] = []
    for i, c in enumerate(s.candles):
        row = candles.slice(i, 1).to_pylist()[0]
        assert Candle(**{k: v for k, v in row.items() if k != "event_index"}) == c
        cache.update(c)
        expected.append(dict(cache.values()))
    assert indicators.column_names == ["M1_bid_sma_3", "M1_ask_ema_2"]
    assert indicators.to_pylist() == expected
    assert indicators.column("M1_bid_sma_3").null_count == 4  # events 0-3: two bid bars
    first = strat.chunks[0][0]
    assert first.column("close").to_numpy(zero_copy_only=True).dtype == np.float64


class Scripted(BaseStrategy):
    """The same decisions through ``on_candle`` and ``on_batch`` (by bar minute)."""

    name = "scripted"

    def __init__(self, script: dict[int, StrategySignal], as_table: bool = False) -> None:
        super().__init__()
        self.script = script
        self.as_table = as_table

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        return self.script.get(candle.timestamp // MIN)

    def on_batch(self, candles: pa.RecordBatch, indicators: pa.RecordBatch) -> object:
        sigs = [self.script.get(ts // MIN) for ts in candles.column("timestamp").to_pylist()]
        cols: dict[str, Any] = {
            "signal_type": [None if s is None else s.signal_type for s in sigs],
            "entry_price": [None if s is None else s.entry_price for s in sigs],
            "stop_loss": [None if s is None else s.stop_loss for s in sigs],
            "take_profit": [None if s is None else s.take_profit for s in sigs],
            "metadata": [None if s is None else s.metadata for s in sigs],
        }
        if self.as_table:
            cols["signal_type"] = [None if s is None else s.value for s in cols["signal_type"]]
            cols["stop_loss"] = pa.array(
                [None if s is None else s.stop_loss for s in sigs], pa.float64()
            )
            cols["metadata"] = pa.array(cols["metadata"], pa.map_(pa.string(), pa.string()))
            return pa.table(cols)
        return cols


SCRIPT = {
    3: StrategySignal(SignalType.LONG, metadata={"z": "1", "a": "2"}),
    5: StrategySignal(SignalType.NONE, metadata={"why": "none"}),
    6: StrategySignal(SignalType.SHORT, entry_price=1.05, stop_loss=1.2, take_profit=0.9),
    8: StrategySignal(SignalType.CLOSE),
    9: StrategySignal(SignalType.LONG, stop_loss=0.5, take_profit=3.0),
}


@pytest.mark.parametrize("as_table", [False, True], ids=["dict", "table"])
@pytest.mark.parametrize("chunk", [1, 3, 100])
def test_signal_columns_equal_on_candle_signals(as_table: bool, chunk: int) -> None:
    s = bars(12)
    legacy = run_python(s, Scripted(SCRIPT), None, 1)
    batch = omega_rust.run_batch(s, Scripted(SCRIPT, as_table), None, 1, chunk_size=chunk)
    assert batch.hash() == legacy.hash()
    assert legacy.summary_dict()["fill_count"] > 0
    meta = batch.events.column("signal_metadata").to_pylist()[4]  # event 4 = minute 3 bid
    assert meta == [("z", "1"), ("a", "2")]


# ------------------------------------------------------------------------- validation


def test_wrong_length_names_the_chunk() -> None:
    def short(c: pa.RecordBatch, i: pa.RecordBatch) -> BatchSignals:
        return {"signal_type": [None] * (c.num_rows - 1)}

    with pytest.raises(StrategyError) as info:
        run_batched(short)
    assert type(info.value) is StrategyError
    assert str(info.value) == (
        "strategy 'batched' on_batch chunk 0 (events 0 to 6, 4 candles) returned 3 rows "
        "in 'signal_type' for 4 candles; expected one row per candle"
    )


def test_wrong_result_type() -> None:
    with pytest.raises(StrategyTypeError, match=r"chunk 0 .* returned list; expected a pyarrow"):
        run_batched(lambda c, i: [None] * c.num_rows)
    with pytest.raises(StrategyTypeError, match=r"unknown signal column\(s\) \['signal'\]"):
        run_batched(lambda c, i: {"signal_type": [None] * c.num_rows, "signal": [1] * c.num_rows})
    with pytest.raises(StrategyTypeError, match="no 'signal_type' column"):
        run_batched(lambda c, i: {"stop_loss": [None] * c.num_rows})


def at_row(row: int, value: object, default: object = None) -> Reply:
    """A signal column with ``value`` at chunk-wide row ``row`` (chunk 1 when row >= 4)."""

    def reply(c: pa.RecordBatch, i: pa.RecordBatch) -> BatchSignals:
        events = c.column("event_index").to_pylist()
        return {"signal_type": [value if e == row else default for e in events]}

    return reply


def test_bad_signal_type_names_the_event() -> None:
    with pytest.raises(StrategyTypeError) as info:
        run_batched(at_row(10, 7))
    assert str(info.value) == (
        "strategy 'batched' on_batch chunk 1 at event 10: "
        "signal_type must be str, SignalType or None, got int"
    )
    with pytest.raises(StrategyError) as err:
        run_batched(at_row(12, "BUY"))
    assert str(err.value) == (
        "strategy 'batched' on_batch chunk 1 at event 12: "
        "signal_type must be one of LONG, SHORT, CLOSE, NONE, got 'BUY'"
    )


def test_dictionary_signal_types() -> None:
    def reply_with(dictionary: list[str]) -> Reply:
        def reply(c: pa.RecordBatch, i: pa.RecordBatch) -> BatchSignals:
            n = c.num_rows
            codes = pa.array(np.zeros(n, dtype=np.int8), mask=np.arange(n) != 1)
            return {"signal_type": pa.DictionaryArray.from_arrays(codes, pa.array(dictionary))}

        return reply

    run_batched(reply_with(["CLOSE"]))
    run_batched(reply_with(["CLOSE", "BUY"]))  # an unused bad entry is fine
    with pytest.raises(StrategyError, match=r"at event 2: signal_type must be one of .* got 'BUY'"):
        run_batched(reply_with(["BUY", "CLOSE"]))


def long_with(column: str, values: Callable[[int], object]) -> Reply:
    """LONG on every candle; ``column`` holds ``values(event_index)``."""

    def reply(c: pa.RecordBatch, i: pa.RecordBatch) -> BatchSignals:
        events = c.column("event_index").to_pylist()
        return {"signal_type": ["LONG"] * len(events), column: [values(e) for e in events]}

    return reply


def test_nan_price_is_an_error_naming_the_event() -> None:
    reply = long_with("stop_loss", lambda e: float("nan") if e == 14 else None)
    with pytest.raises(StrategyError) as info:
        run_batched(reply)
    assert type(info.value) is StrategyError
    assert str(info.value) == (
        "strategy 'batched' on_batch chunk 1 at event 14: "
        "stop_loss must be a finite positive price, got nan"
    )
    with pytest.raises(StrategyError, match="at event 0: take_profit must be a finite positive"):
        run_batched(long_with("take_profit", lambda e: -1.0))


def test_nan_on_a_row_without_signal_is_ignored() -> None:
    def reply(c: pa.RecordBatch, i: pa.RecordBatch) -> BatchSignals:
        n = c.num_rows
        return {"signal_type": [None] * n, "stop_loss": np.full(n, np.nan)}

    run_batched(reply)


def test_bad_price_and_metadata_types() -> None:
    with pytest.raises(StrategyTypeError) as info:
        run_batched(long_with("entry_price", lambda e: "1.0" if e == 4 else None))
    assert str(info.value) == (
        "strategy 'batched' on_batch chunk 0 at event 4: entry_price must be float or None, got str"
    )
    with pytest.raises(StrategyTypeError, match="at event 2: metadata must be dict"):
        run_batched(long_with("metadata", lambda e: {"k": 1} if e == 2 else None))


def test_strategy_exception_propagates_with_a_note() -> None:
    boom = ValueError("boom")

    def reply(c: pa.RecordBatch, i: pa.RecordBatch) -> BatchSignals:
        if c.column("event_index")[0].as_py() >= 8:
            raise boom
        return nothing(c, i)

    with pytest.raises(ValueError) as info:
        run_batched(reply)
    assert info.value is boom
    assert info.value.__notes__ == [
        "omega: raised by strategy 'batched' in on_batch at chunk 1 (events 8 to 14, 4 candles)"
    ]


# --------------------------------------------------------------------- configuration


class ExitingSma(SmaCross):
    """Has on_batch, but its check_exit needs engine feedback."""

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        return position.quantity > 1.0


def test_check_exit_override_and_missing_on_batch_are_config_errors() -> None:
    s = corpus("goog_d1")
    donchian, cfg = make_strategy("donchian_breakout", {}, s)
    with pytest.raises(BatchUnsupported, match="overrides check_exit") as info:
        omega_rust.run_batch(s, donchian, cfg)
    assert isinstance(info.value, ConfigError)
    mtf, cfg = make_strategy("mtf_trend", {}, s)
    with pytest.raises(ConfigError, match="has no on_batch"):
        omega_rust.run_batch(s, mtf, cfg)
    exiting = ExitingSma()
    with pytest.raises(BatchUnsupported, match="'sma_cross' overrides check_exit"):
        omega_rust.run_batch(s, exiting, cfg)
    sma, cfg = make_strategy("sma_cross", {}, s)
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ConfigError, match="chunk_size must be an int >= 1"):
            omega_rust.run_batch(s, sma, cfg, chunk_size=bad)  # type: ignore[arg-type]


def test_harness_skips_strategies_that_cannot_run_batched() -> None:
    adapter = get_adapter("rust-batch")
    assert isinstance(adapter, RustBatchAdapter)
    assert skip_reason(adapter, "sma_cross") is None
    assert skip_reason(adapter, "donchian_breakout") is not None
    assert skip_reason(LegacyAdapter(), "donchian_breakout") is None
    rows = check_corpus(
        [("goog_d1", corpus("goog_d1"))],
        ["donchian_breakout", "sma_cross"],
        LegacyAdapter(),
        [adapter],
        Allowlist([]),
        None,
        lambda _: None,
    )
    assert [r.status for r in rows] == ["skip", "pass"]
    assert "check_exit" in rows[0].detail


# ------------------------------------------------------------------- planted: peeking


class PeekingSmaCross(SmaCross):
    """A look-ahead bug: drops a crossing signal when the NEXT candle moves against it."""

    name = "sma_cross_peek"

    def on_batch(self, candles: pa.RecordBatch, indicators: pa.RecordBatch) -> BatchSignals:
        out = super().on_batch(candles, indicators)
        close = np.asarray(candles.column("close").to_numpy(), dtype=np.float64)
        nxt = np.roll(close, -1)  # the next row's close: information from the future
        types = np.array(out["signal_type"].to_pylist(), dtype=object)
        against = ((types == "LONG") & (nxt < close)) | ((types == "SHORT") & (nxt > close))
        types[against] = None
        return {"signal_type": types}


def test_a_batch_strategy_that_peeks_at_the_next_candle_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(STRATEGIES, PeekingSmaCross.name, PeekingSmaCross)
    s = corpus("eurusd_h1")
    # where it matters: the first crossing whose next subscribed candle moves against it
    legacy = run_python(s, *make_strategy(PeekingSmaCross.name, {}, s))
    signals = legacy.events.column("signal_type").to_pylist()
    subscribed = [
        i for i, c in enumerate(s.candles) if (c.timeframe, c.price_type) == ("H1", "bid")
    ]
    expected = None
    for k, i in enumerate(subscribed[:-1]):
        now, nxt = s.candles[i].close, s.candles[subscribed[k + 1]].close
        if (signals[i] == "LONG" and nxt < now) or (signals[i] == "SHORT" and nxt > now):
            expected = i
            break
    assert expected is not None
    case = Case("eurusd_h1", s, PeekingSmaCross.name)
    exp = run_experiment(case, LegacyAdapter(), [get_adapter("rust"), get_adapter("rust-batch")])
    on_candle, on_batch = exp.comparisons
    assert on_candle.matched  # the strategy's on_candle is fine ...
    assert not on_batch.matched  # ... its on_batch is not
    cls = on_batch.classification
    assert cls is not None
    assert cls.kind == "signal_logic"
    assert cls.first_event == expected
    assert "signal_type" in cls.first_columns
    rows = check_corpus(
        [("eurusd_h1", s)],
        [PeekingSmaCross.name],
        LegacyAdapter(),
        [get_adapter("rust-batch")],
        Allowlist([]),
        None,
        lambda _: None,
    )
    assert rows[0].status == "fail"
    assert rows[0].classification == "signal_logic"
    assert rows[0].detail.startswith(f"{MISMATCH_HINT}: ")


# ------------------------------------------------------------------ generated streams


@pytest.mark.parametrize("strategy", ["sma_cross", "rsi_reversion", "churn", "noop"])
def test_generated_streams_any_chunk_size(strategy: str) -> None:
    """Hypothesis streams and params, small chunks: chunk boundaries anywhere."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from legacy_py.loader import stream_from_table
    from property.strategies import candle_tables, seeds, strategy_params

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        table=candle_tables(max_bars=120),
        params=strategy_params(strategy),
        seed=seeds(),
        chunk=st.integers(1, 9),
    )
    def prop(table: pa.Table, params: dict[str, Any], seed: int, chunk: int) -> None:
        s = stream_from_table(table, source="<generated>")
        a, cfg = make_strategy(strategy, params, s)
        try:
            expected = run_python(s, a, cfg, seed, params).hash()
        except ConfigError:
            return  # e.g. no bar of the execution timeframe: nothing to compare
        b, _ = make_strategy(strategy, params, s)
        assert omega_rust.run_batch(s, b, cfg, seed, params, chunk).hash() == expected

    prop()
