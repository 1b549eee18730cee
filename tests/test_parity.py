"""Legacy vs Rust (Strategy B): identical traces, errors and exceptions."""

from __future__ import annotations

import _thread
from functools import cache
from pathlib import Path

import pyarrow as pa
import pytest

import omega_rust
from harness.diff import diff_traces
from legacy_py.config import EngineConfig
from legacy_py.engine import EventEngine, run_python
from legacy_py.errors import ConfigError, StrategyTypeError, StreamError
from legacy_py.loader import CandleStream, load_stream, stream_to_table
from legacy_py.strategies import make_strategy, strategy_names
from legacy_py.trace import Trace
from legacy_py.types import SignalType, StrategySignal
from tests.enginekit import MIN, Scripted, pair, stream

ROOT = Path(__file__).resolve().parent.parent
STREAMS = sorted((ROOT / "golden" / "streams").glob("*.arrow"))


@cache
def corpus(name: str) -> CandleStream:
    return load_stream(ROOT / "golden" / "streams" / name)


def assert_same(legacy: Trace, rust: Trace) -> None:
    if legacy.hash() != rust.hash():
        d = diff_traces(legacy, rust)
        pytest.fail("traces differ:\n" + d.describe())


@pytest.mark.parametrize("strategy", strategy_names())
@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_corpus_parity(path: Path, strategy: str) -> None:
    s = corpus(path.name)
    strat_a, cfg = make_strategy(strategy, {}, s)
    strat_b, _ = make_strategy(strategy, {}, s)
    legacy = run_python(s, strat_a, cfg, seed=11)
    rust = omega_rust.run_rust(s, strat_b, cfg, seed=11)
    assert_same(legacy, rust)
    assert rust.summary_dict()["events"] == len(s)


def test_rust_reads_ipc_path_and_table_alike() -> None:
    path = ROOT / "golden" / "streams" / "eurusd_h1.arrow"
    s = corpus(path.name)
    a, cfg = make_strategy("sma_cross", {}, s)
    from_path = omega_rust.run_rust(path, a, cfg, seed=3)
    b, _ = make_strategy("sma_cross", {}, s)
    from_table = omega_rust.run_rust(stream_to_table(s), b, cfg, seed=3)
    c, _ = make_strategy("sma_cross", {}, s)
    from_reader = omega_rust.run_rust(
        pa.RecordBatchReader.from_batches(
            stream_to_table(s).schema, stream_to_table(s).to_batches(max_chunksize=1000)
        ),
        c,
        cfg,
        seed=3,
    )
    assert from_path.hash() == from_table.hash() == from_reader.hash()


def test_facade_runs_rust() -> None:
    eng = EventEngine(use_rust=True)
    assert eng.backend == "rust"
    s = corpus("goog_d1.arrow")
    strat, cfg = make_strategy("rsi_reversion", {}, s)
    t = eng.run(s, strat, cfg, seed=5)
    assert t.meta["engine"] == "rust"
    strat2, _ = make_strategy("rsi_reversion", {}, s)
    assert t.hash() == run_python(s, strat2, cfg, seed=5).hash()


def test_seed_and_params_change_rust_trace_like_legacy() -> None:
    s = corpus("eurusd_h1.arrow")
    params = {"slippage_random": 0.0001, "commission_rate": 0.0001, "fast": 5, "slow": 20}
    for seed in (0, 1, -7, 2**63 - 1):
        a, cfg = make_strategy("sma_cross", params, s)
        b, _ = make_strategy("sma_cross", params, s)
        assert_same(run_python(s, a, cfg, seed), omega_rust.run_rust(s, b, cfg, seed))


class BoomError(Exception):
    pass


def _explode_at(minute: int):  # type: ignore[no-untyped-def]
    def on_call(candle, indicators):  # type: ignore[no-untyped-def]
        if candle.timestamp == minute * MIN:
            raise BoomError(f"kaput at {minute}")
        return None

    return on_call


def test_strategy_exception_same_type_message_note_and_traceback() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.0, 1.0, 1.0, 1.0)
    excs = []
    for runner in (run_python, omega_rust.run_rust):
        with pytest.raises(BoomError) as info:
            runner(stream(bars), Scripted(on_call=_explode_at(2)), EngineConfig())
        excs.append(info)
    legacy, rust = excs
    assert str(legacy.value) == str(rust.value) == "kaput at 2"
    assert legacy.value.__notes__ == rust.value.__notes__
    assert "at event 2" in rust.value.__notes__[0]
    # the traceback reaches into the strategy's own frame
    assert rust.traceback[-1].name == "on_call"


def test_wrong_return_types_same_error() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 1.0, 1.0, 1.0) + pair(3, 1.0, 1.0, 1.0, 1.0)
    cases = [
        Scripted(on_call=lambda c, i: {"x": 1}),
        Scripted(on_call=lambda c, i: StrategySignal(SignalType.LONG, stop_loss=float("nan"))),
        Scripted(on_call=lambda c, i: StrategySignal(SignalType.LONG, metadata={"a": 1})),  # type: ignore[dict-item]
        Scripted(on_call=lambda c, i: StrategySignal("LONG")),  # type: ignore[arg-type]
    ]
    for strat in cases:
        msgs = []
        for runner in (run_python, omega_rust.run_rust):
            with pytest.raises(Exception) as info:
                runner(stream(bars), strat, EngineConfig())
            msgs.append((type(info.value), str(info.value)))
        assert msgs[0] == msgs[1]

    class BadExit(Scripted):
        def check_exit(self, position, candle, indicators):  # type: ignore[no-untyped-def]
            return 1

    texts: list[str] = []
    for runner in (run_python, omega_rust.run_rust):
        with pytest.raises(StrategyTypeError) as info2:
            runner(stream(bars), BadExit({1: StrategySignal(SignalType.LONG)}), EngineConfig())
        texts.append(str(info2.value))
    assert texts[0] == texts[1]


def test_int_prices_are_normalised_like_legacy() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 1.0, 2.0, 0.5, 1.0) + pair(3, 1.0, 1.0, 1.0, 1.0)
    sig = StrategySignal(SignalType.LONG, stop_loss=0, take_profit=2)
    strat = Scripted(on_call=lambda c, i: sig if c.timestamp == MIN else None)
    with pytest.raises(Exception) as a:
        run_python(stream(bars), strat, EngineConfig())
    with pytest.raises(Exception) as b:
        omega_rust.run_rust(stream(bars), strat, EngineConfig())
    assert (type(a.value), str(a.value)) == (type(b.value), str(b.value))
    sig2 = StrategySignal(SignalType.LONG, stop_loss=1, take_profit=3)
    strat2 = Scripted(on_call=lambda c, i: sig2 if c.timestamp == MIN else None)
    bars2 = pair(1, 2.0, 2.0, 2.0, 2.0) + pair(2, 2.0, 2.5, 1.5, 2.0)
    assert_same(
        run_python(stream(bars2), strat2, EngineConfig()),
        omega_rust.run_rust(stream(bars2), strat2, EngineConfig()),
    )


def test_config_errors_match() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0)
    for strat in (Scripted(subs=[]), Scripted(subs=[("H1", "bid")])):
        msgs = []
        for runner in (run_python, omega_rust.run_rust):
            with pytest.raises(ConfigError) as info:
                runner(stream(bars), strat, EngineConfig())
            msgs.append(str(info.value))
        assert msgs[0] == msgs[1]


def test_strategy_sees_same_objects() -> None:
    bars = pair(1, 1.0, 1.0, 1.0, 1.0) + pair(2, 2.0, 2.0, 2.0, 2.0) + pair(3, 3.0, 3.0, 3.0, 3.0)
    from legacy_py.types import IndicatorRequest

    seen: dict[str, list[object]] = {"legacy": [], "rust": []}
    for label, runner in (("legacy", run_python), ("rust", omega_rust.run_rust)):
        kept: list[object] = []

        def on_call(c, ind, kept=kept):  # type: ignore[no-untyped-def]
            kept.append(ind)
            return None

        strat = Scripted(requests=[IndicatorRequest("M1", "bid", "sma:2")], on_call=on_call)
        runner(stream(bars), strat, EngineConfig())
        seen[label] = [dict(m) for m in kept]  # type: ignore[call-overload]
        # a kept mapping is a snapshot: it never changes afterwards
        assert [dict(m) for m in kept] == seen[label]  # type: ignore[call-overload]
    assert seen["legacy"] == seen["rust"]

    attrs: dict[str, list[tuple[object, ...]]] = {"legacy": [], "rust": []}
    for label, runner in (("legacy", run_python), ("rust", omega_rust.run_rust)):

        def grab(c, ind, label=label):  # type: ignore[no-untyped-def]
            attrs[label].append(
                (c.timestamp, c.timeframe, c.price_type, c.open, c.high, c.low, c.close, c.volume)
            )
            return StrategySignal(SignalType.LONG) if c.timestamp == MIN else None

        class Exits(Scripted):
            def check_exit(self, position, candle, indicators):  # type: ignore[no-untyped-def]
                attrs[getattr(self, "label")].append(  # noqa: B009
                    (
                        position.position_id,
                        position.side,
                        position.quantity,
                        position.entry_price,
                        position.entry_timestamp,
                        position.entry_event,
                        position.stop_loss,
                        position.take_profit,
                    )
                )
                return False

        ex = Exits(on_call=grab)
        setattr(ex, "label", label)  # noqa: B010
        runner(stream(bars), ex, EngineConfig())
    assert attrs["legacy"] == attrs["rust"]
    assert len(attrs["rust"]) == 4


def test_bad_input_same_error_through_rust_path(tmp_path: Path) -> None:
    good = stream_to_table(corpus("goog_d1.arrow")).slice(0, 50)
    cases = {
        "nan": (3, "close", float("nan")),
        "neg": (5, "open", -1.0),
        "highlow": (7, "high", 0.001),
        "vol": (9, "volume", -5.0),
    }
    for label, (row, col, value) in cases.items():
        values = good.column(col).to_pylist()
        values[row] = value
        bad = good.set_column(good.schema.get_field_index(col), col, pa.array(values, pa.float64()))
        with pytest.raises(StreamError) as legacy:
            from legacy_py.loader import stream_from_table

            stream_from_table(bad)
        with pytest.raises(StreamError) as rust:
            omega_rust.run_rust(bad, make_strategy("noop", {})[0])
        assert type(legacy.value) is type(rust.value), label
        assert str(legacy.value) == str(rust.value), label
        assert (legacy.value.row, legacy.value.field) == (rust.value.row, rust.value.field)
    with pytest.raises(StreamError, match="no rows"):
        omega_rust.run_rust(good.slice(0, 0), make_strategy("noop", {})[0])
    junk = tmp_path / "junk.arrow"
    junk.write_bytes(b"not an arrow file at all")
    with pytest.raises(StreamError):
        omega_rust.run_rust(junk, make_strategy("noop", {})[0])


def test_ctrl_c_interrupts_a_rust_run() -> None:
    s = corpus("synthetic_m1_50k.arrow")
    calls = {"n": 0}

    def on_call(c, ind):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 100:
            _thread.interrupt_main()
        return None

    with pytest.raises(KeyboardInterrupt):
        omega_rust.run_rust(s, Scripted(on_call=on_call), EngineConfig())
    assert calls["n"] < 5000
