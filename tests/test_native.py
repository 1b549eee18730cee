"""Strategy A: the reference strategies in Rust (``omega_rust.run_native``) and the
parallel runner (``omega_rust.run_native_many``) against the legacy engine.

* every corpus stream x every strategy: identical trace hash;
* non-default params, engine params (incl. ``slippage_random``) and seeds; errors with
  the legacy types and messages;
* the GIL is released during a native run; Ctrl-C stops one;
* a native strategy that differs in one tie rule is caught by the harness as
  ``signal_logic`` at the right event;
* parallel runs equal single runs, in input order, for 1 and 2 threads.
"""

from __future__ import annotations

import _thread
import inspect
import itertools
import math
import threading
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings

import omega_rust
import omega_rust.native
from harness.adapters import LegacyAdapter, get_adapter
from harness.diff import diff_traces
from harness.experiment import Case, compare, run_experiment, run_outcome
from harness.native_adapters import NativeAdapter, NativeCase
from legacy_py.config import EngineConfig
from legacy_py.engine import run_python
from legacy_py.loader import CandleStream, load_stream, stream_from_table, stream_to_table
from legacy_py.strategies import SmaCross, make_strategy, strategy_names
from legacy_py.trace import Trace
from omega_rust._omega_rust import run_native_variant
from property.strategies import candle_tables, seeds, strategy_params

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "golden" / "streams"
STREAMS = sorted(p.stem for p in CORPUS.glob("*.arrow"))


@cache
def corpus(name: str) -> CandleStream:
    return load_stream(CORPUS / f"{name}.arrow")


@cache
def legacy_trace(stream: str, strategy: str, seed: int = 0) -> Trace:
    s = corpus(stream)
    strat, cfg = make_strategy(strategy, {}, s)
    return run_python(s, strat, cfg, seed, {})


def assert_same(expected: Trace, got: Trace) -> None:
    if expected.hash() != got.hash():
        pytest.fail("traces differ:\n" + diff_traces(expected, got).describe())


@cache
def long_table(copies: int) -> pa.Table:
    """``synthetic_m1_50k`` (100k events) repeated ``copies`` times, later in time."""
    base = corpus("synthetic_m1_50k").table
    assert base is not None
    ts = base.column("timestamp")
    span = pc.max(ts).as_py() - pc.min(ts).as_py() + 60_000_000
    i = base.schema.get_field_index("timestamp")
    parts = [base.set_column(i, "timestamp", pc.add(ts, k * span)) for k in range(copies)]
    return pa.concat_tables(parts)


# --------------------------------------------------------------------------- corpus parity


@pytest.mark.parametrize("strategy", strategy_names())
@pytest.mark.parametrize("stream", STREAMS)
def test_corpus_parity(stream: str, strategy: str) -> None:
    native = omega_rust.run_native(corpus(stream), strategy)
    assert_same(legacy_trace(stream, strategy), native)
    assert native.meta["engine"] == "rust-native"
    assert native.summary_dict()["events"] == len(corpus(stream))


PARAM_CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("eurusd_h1", "sma_cross", {"fast": 3, "slow": 7, "slippage_random": 0.0001}, 42),
    ("eurusd_h1_h4", "sma_cross", {"timeframe": "H4", "commission_rate": 1e-5}, -1),
    ("goog_d1", "rsi_reversion", {"period": 5, "lower": 40, "upper": 60, "sl_atr": 1}, 7),
    (
        "eurusd_h1",
        "rsi_reversion",
        {"slippage_fixed": 1e-5, "slippage_random": 1e-4, "sizing": "fixed", "units": 2},
        2**63 - 1,
    ),
    ("eurusd_h1", "donchian_breakout", {"channel": 5, "exit_channel": 3, "sl_atr": 1.0}, 9),
    ("synthetic_mtf", "donchian_breakout", {"max_positions": 2, "risk_pct": 0.05}, 3),
    ("synthetic_mtf", "mtf_trend", {"fast": 4, "slow": 9, "trend": 3, "pullback_atr": 0}, 11),
    (
        "eurusd_h1_h4",
        "mtf_trend",
        {"timeframe": "H1", "higher_timeframe": "H4", "slippage_random": 0.001},
        123,
    ),
    ("eurusd_h1_h4", "mtf_trend", {"higher_timeframe": "H1", "limit_ttl": 2}, 5),
    ("goog_d1", "churn", {"every": 1, "band": 0.01, "slippage_random": 0.01}, -(2**63)),
    ("eurusd_h1", "churn", {"every": 2**70}, 1),  # beyond int64: never trades, like legacy
    ("synthetic_mtf", "noop", {"timeframe": "M5", "higher_timeframe": "X9"}, 17),
]


@pytest.mark.parametrize(
    ("stream", "strategy", "params", "seed"),
    PARAM_CASES,
    ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(PARAM_CASES)],
)
def test_params_and_seeds_parity(
    stream: str, strategy: str, params: dict[str, Any], seed: int
) -> None:
    case = Case(stream, corpus(stream), strategy, params, seed)
    exp = run_experiment(case, LegacyAdapter(), [NativeAdapter()])
    comp = exp.comparisons[0]
    assert exp.control.error is None, exp.control.error_text()
    if not comp.matched:
        pytest.fail(comp.diff.describe() if comp.diff else str(comp.classification))
    assert comp.candidate.trace is not None
    assert comp.candidate.trace.meta["params"] == repr(sorted(params.items()))


ERROR_CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("nope", {}, 0),
    ("sma_cross", {"fast": 30}, 0),
    ("sma_cross", {"fast": 2.5}, 0),
    ("sma_cross", {"fast": True}, 0),
    ("sma_cross", {"bogus": 1}, 0),
    ("sma_cross", {"timeframe": "H4"}, 0),  # not in the stream
    ("sma_cross", {"timeframe": "X1"}, 0),
    ("mtf_trend", {"higher_timeframe": "X1"}, 0),
    ("rsi_reversion", {"period": 0}, 0),
    ("rsi_reversion", {"tp_atr": math.inf}, 0),  # StrategyError: take_profit inf
    ("donchian_breakout", {"sl_atr": -1e6}, 0),  # StrategyError: short stop <= 0
    ("churn", {"every": 0}, 0),
    ("noop", {"units": -1.0}, 0),
    ("noop", {}, 2**63),
    ("noop", {}, "1"),
]


@pytest.mark.parametrize(("strategy", "params", "seed"), ERROR_CASES)
def test_errors_match_legacy(strategy: str, params: dict[str, Any], seed: Any) -> None:
    stream = corpus("eurusd_h1")
    ctrl = run_outcome(LegacyAdapter(), stream, strategy, params, seed)
    cand = run_outcome(NativeAdapter(), stream, strategy, params, seed)
    assert ctrl.error is not None, "the case must fail under legacy"
    assert cand.error_key == ctrl.error_key


def test_input_forms_give_one_trace() -> None:
    path = CORPUS / "eurusd_h1_h4.arrow"
    s = corpus("eurusd_h1_h4")
    expected = legacy_trace("eurusd_h1_h4", "mtf_trend")
    assert_same(expected, omega_rust.run_native(path, "mtf_trend"))
    assert_same(expected, omega_rust.run_native(str(path), "mtf_trend"))
    assert_same(expected, omega_rust.run_native(stream_to_table(s), "mtf_trend"))
    table = stream_to_table(s)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=999))
    assert_same(expected, omega_rust.run_native(reader, "mtf_trend"))
    # an explicit config replaces the one derived from params
    cfg = make_strategy("mtf_trend", {"slippage_random": 0.0}, s)[1]
    strat = make_strategy("mtf_trend", {}, s)[0]
    assert_same(run_python(s, strat, cfg, 0), omega_rust.run_native(s, "mtf_trend", config=cfg))


@pytest.mark.parametrize("name", strategy_names())
def test_generated_streams_parity(name: str) -> None:
    @settings(max_examples=15, deadline=None, derandomize=True, database=None)
    @given(table=candle_tables(max_bars=120), params=strategy_params(name), seed=seeds())
    def check(table: pa.Table, params: dict[str, Any], seed: int) -> None:
        stream = stream_from_table(table, source="<hypothesis>")
        ctrl = run_outcome(LegacyAdapter(), stream, name, params, seed)
        comp = compare(ctrl, run_outcome(NativeAdapter(), stream, name, params, seed))
        if not comp.matched:
            detail = comp.diff.describe() if comp.diff is not None else ""
            kind = comp.classification.kind if comp.classification else "?"
            raise AssertionError(f"{kind}: {detail}")

    check()


# --------------------------------------------------------------------------- GIL and Ctrl-C


def test_gil_is_released_during_a_native_run() -> None:
    table = long_table(10)  # 1M events
    omega_rust.run_native(corpus("goog_d1"), "sma_cross")  # warm up
    stamps: list[float] = []
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            stamps.append(time.perf_counter())

    worker = threading.Thread(target=spin)
    worker.start()
    time.sleep(0.02)
    t0 = time.perf_counter()
    trace = omega_rust.run_native(table, "sma_cross")
    t1 = time.perf_counter()
    stop.set()
    worker.join()
    assert trace.summary_dict()["events"] == table.num_rows
    inside = [t0, *(s for s in stamps if t0 <= s <= t1), t1]
    gaps = [b - a for a, b in itertools.pairwise(inside)]
    # With the GIL held for the Rust part, the counter would stall for most of the call.
    assert len(inside) > 1000, f"the counter thread made {len(inside)} steps in {t1 - t0:.3f}s"
    assert max(gaps) < 0.5 * (t1 - t0), f"longest stall {max(gaps):.3f}s of {t1 - t0:.3f}s"


def _raised_in_call(excinfo: pytest.ExceptionInfo[BaseException], marker: str) -> bool:
    """True when the exception came out of the line of ``omega_rust.native`` with ``marker``."""
    source, _ = inspect.getsourcelines(omega_rust.native)
    lines = {i for i, text in enumerate(source) if marker in text}  # 0-based, like lineno
    last = excinfo.traceback[-1]
    return last.path == Path(omega_rust.native.__file__) and last.lineno in lines


def test_ctrl_c_interrupts_a_native_run() -> None:
    table = long_table(30)  # 3M events: far longer than the 50 ms before Ctrl-C
    timer = threading.Timer(0.05, _thread.interrupt_main)
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt) as excinfo:
        omega_rust.run_native(table, "sma_cross")
    elapsed = time.perf_counter() - t0
    timer.join()
    assert _raised_in_call(excinfo, "= _run_native("), excinfo.traceback[-1]
    assert elapsed < 5.0
    # the extension is still usable
    assert_same(legacy_trace("goog_d1", "noop"), omega_rust.run_native(corpus("goog_d1"), "noop"))


def test_ctrl_c_interrupts_parallel_runs() -> None:
    table = long_table(10)
    timer = threading.Timer(0.05, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt) as excinfo:
        omega_rust.run_native_many([table] * 8, "sma_cross", threads=2)
    timer.join()
    assert _raised_in_call(excinfo, "= _run_native_many("), excinfo.traceback[-1]
    out = omega_rust.run_native_many([corpus("goog_d1")], "noop", threads=2)
    assert_same(legacy_trace("goog_d1", "noop"), out[0])


# --------------------------------------------------------------------------- planted tie rule


class TieAsAboveSmaCross(SmaCross):
    """``sma_cross`` where a tie counts as "fast above slow" (the native variant's rule)."""

    def on_candle(self, candle: Any, indicators: Any) -> Any:
        fast = indicators[self._fast]
        slow = indicators[self._slow]
        if fast is not None and slow is not None and fast == slow:
            indicators = {**indicators, self._fast: math.nextafter(fast, math.inf)}
        return super().on_candle(candle, indicators)


class TieVariantAdapter:
    """The native ``sma_cross:tie_as_above`` variant (test hook), as an engine."""

    name = "rust-native:tie"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        from omega_rust import _native_source

        assert strategy == "sma_cross"
        spec = omega_rust.native.prepare_native(strategy, params, None, seed)
        source, label = _native_source(stream)
        batches = run_native_variant(
            source, "sma_cross:tie_as_above", spec.params, None, None, spec.config, seed, label
        )
        events, fills, trades, summary = batches
        return Trace(
            pa.Table.from_batches([events]),
            pa.Table.from_batches([fills]),
            pa.Table.from_batches([trades]),
            pa.Table.from_batches([summary]),
            {"engine": self.name},
        )


def _first_tie_cross(trace: Trace, fast: str, slow: str) -> int:
    """The first event where the tie rule changes ``sma_cross``'s decision, from the
    legacy trace's own indicator columns."""
    ev = trace.events
    rows = zip(
        ev.column("event_index").to_pylist(),
        ev.column("signal_type").to_pylist(),
        ev.column(f"ind_{fast}").to_pylist(),
        ev.column(f"ind_{slow}").to_pylist(),
        strict=True,
    )
    prev_ref = prev_var = 0
    for index, called, f, s in rows:
        if called is None or f is None or s is None:
            continue
        ref = 1 if f > s else (-1 if f < s else prev_ref)
        var = 1 if f > s else (-1 if f < s else 1)
        ref_signal = None if prev_ref in (0, ref) else ref
        var_signal = None if prev_var in (0, var) else var
        if ref_signal != var_signal:
            return int(index)
        prev_ref, prev_var = ref, var
    raise AssertionError("the tie rule never matters on this stream")


def test_harness_catches_a_native_tie_rule_variant() -> None:
    stream = corpus("eurusd_h1")
    params = {"fast": 1, "slow": 2}
    case = Case("eurusd_h1", stream, "sma_cross", params, 0)
    exp = run_experiment(case, LegacyAdapter(), [NativeAdapter(), TieVariantAdapter()])
    reference, variant = exp.comparisons
    assert reference.matched
    assert not variant.matched
    assert variant.classification is not None and variant.diff is not None
    assert exp.control.trace is not None
    expected = _first_tie_cross(exp.control.trace, "H1_bid_sma_1", "H1_bid_sma_2")
    assert variant.classification.kind == "signal_logic", variant.diff.describe()
    assert variant.classification.first_event == expected
    assert "signal_type" in variant.classification.first_columns
    assert f"events: rows 10000 vs 10000, first divergent row {expected}," in (
        variant.diff.describe()
    )
    # the same rule written in Python under the legacy engine gives the variant's trace
    strat = TieAsAboveSmaCross(params, timeframe="H1")
    cfg = make_strategy("sma_cross", params, stream)[1]
    assert variant.candidate.trace is not None
    assert_same(run_python(stream, strat, cfg, 0, params), variant.candidate.trace)


def test_native_adapter_is_registered() -> None:
    adapter = get_adapter("rust-native")
    assert adapter.name == "rust-native"
    assert_same(legacy_trace("goog_d1", "churn"), adapter.run(corpus("goog_d1"), "churn", {}, 0))


# --------------------------------------------------------------------------- parallel runner


@pytest.mark.parametrize("threads", [1, 2, None])
def test_parallel_runs_equal_single_runs_in_order(threads: int | None) -> None:
    streams = [corpus("goog_d1"), corpus("eurusd_h1"), corpus("synthetic_mtf")]
    # many streams, one params mapping, per-run seeds
    many = omega_rust.run_native_many(streams, "mtf_trend", seed=[3, -4, 5], threads=threads)
    for s, sd, trace in zip(streams, [3, -4, 5], many, strict=True):
        assert_same(omega_rust.run_native(s, "mtf_trend", seed=sd), trace)
        assert trace.meta["source"] == s.source
    # one stream, a parameter grid (with engine params), one seed
    grid = [{"fast": f, "slow": f + d, "slippage_random": 1e-4} for f in (1, 3) for d in (1, 5)]
    out = omega_rust.run_native_many([corpus("eurusd_h1")], "sma_cross", grid, seed=9)
    assert len(out) == len(grid)
    for params, trace in zip(grid, out, strict=True):
        assert_same(omega_rust.run_native(corpus("eurusd_h1"), "sma_cross", params, seed=9), trace)
    hashes = [t.hash() for t in out]
    assert len(set(hashes)) == len(grid)


def test_parallel_matches_legacy_on_the_corpus() -> None:
    streams = [corpus(n) for n in STREAMS if n != "synthetic_m1_50k"]
    out = omega_rust.run_native_many(streams, "donchian_breakout", threads=2)
    names = [n for n in STREAMS if n != "synthetic_m1_50k"]
    for s, name, trace in zip(streams, names, out, strict=True):
        assert_same(legacy_trace(name, "donchian_breakout"), trace)
        assert trace.meta["source"] == s.source


def test_parallel_errors() -> None:
    s = corpus("goog_d1")
    with pytest.raises(ValueError, match="threads"):
        omega_rust.run_native_many([s], "noop", threads=0)
    with pytest.raises(ValueError, match="params_list has 2 items; expected 1 or 3"):
        omega_rust.run_native_many([s, s, s], "noop", [{}, {}])
    assert omega_rust.run_native_many([], "noop") == []
    legacy_err = run_outcome(LegacyAdapter(), s, "sma_cross", {"fast": 50}, 0).error_key
    with pytest.raises(Exception) as excinfo:
        omega_rust.run_native_many([s], "sma_cross", [{}, {"fast": 50}])
    err = excinfo.value
    assert (f"{type(err).__module__}.{type(err).__qualname__}", str(err)) == legacy_err
    # a run-time failure: the first failing run in input order is raised
    bad: list[dict[str, Any]] = [{}, {"tp_atr": math.inf}, {"timeframe": "H1"}]
    with pytest.raises(Exception) as excinfo:
        omega_rust.run_native_many([corpus("eurusd_h1")], "rsi_reversion", bad)
    legacy = run_outcome(LegacyAdapter(), corpus("eurusd_h1"), "rsi_reversion", bad[1], 0)
    assert str(excinfo.value) == str(legacy.error)


def test_native_adapter_run_many() -> None:
    adapter = NativeAdapter(threads=2)
    cases: list[NativeCase] = [
        (corpus(n), strat, {}, 0)
        for n in ("goog_d1", "synthetic_mtf")
        for strat in ("churn", "noop", "sma_cross")
    ]
    traces = adapter.run_many(cases)
    assert [t.meta["strategy"] for t in traces] == [c[1] for c in cases]
    for (s, strat, params, seed), trace in zip(cases, traces, strict=True):
        assert_same(adapter.run(s, strat, params, seed), trace)


def test_engine_config_objects_are_accepted() -> None:
    cfg = EngineConfig(slippage_random=0.001)
    s = corpus("goog_d1")
    traces = omega_rust.run_native_many([s], "churn", config_list=[cfg, None], threads=1)
    strat, default = make_strategy("churn", {}, s)
    assert_same(run_python(s, strat, cfg, 0), traces[0])
    assert_same(run_python(s, make_strategy("churn", {}, s)[0], default, 0), traces[1])


class CountingNative(NativeAdapter):
    """``rust-native`` counting its calls; ``fail_many`` makes ``run_many`` raise."""

    def __init__(self, fail_many: bool = False) -> None:
        super().__init__(threads=2)
        self.fail_many = fail_many
        self.calls = {"run": 0, "run_many": 0}

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        self.calls["run"] += 1
        return super().run(stream, strategy, params, seed)

    def run_many(self, cases: Any) -> list[Trace]:
        self.calls["run_many"] += 1
        if self.fail_many:
            raise RuntimeError("batch failed")
        return super().run_many(cases)


@pytest.mark.parametrize("fail_many", [False, True])
def test_gate_corpus_check_uses_the_parallel_runner(fail_many: bool) -> None:
    from harness.allowlist import Allowlist
    from harness.gate import check_corpus

    streams = [("goog_d1", corpus("goog_d1")), ("synthetic_mtf", corpus("synthetic_mtf"))]
    cand = CountingNative(fail_many)
    rows = check_corpus(
        streams,
        ["churn", "mtf_trend"],
        LegacyAdapter(),
        [cand],
        Allowlist.load(None),
        None,
        lambda _: None,
    )
    assert [r.status for r in rows] == ["pass"] * 4
    assert all(r.name.endswith("legacy vs rust-native") for r in rows)
    # one batch for all cases; per-case runs only when the batch failed
    assert cand.calls == {"run": 4 if fail_many else 0, "run_many": 1}
