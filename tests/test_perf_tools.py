"""``harness.perf``, ``omega-harness baseline`` and ``omega-harness profile`` on tiny streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import baseline, perf
from harness.adapters import get_adapter
from harness.cli import main
from harness.perf import (
    Stats,
    available_engines,
    bench_stream,
    parse_sizes,
    record_calls,
    run_peak,
    stream_file,
    time_direct,
)
from harness.profiler import (
    leaks_passed,
    line_chart,
    memory_ok,
    run_profile,
    write_profile,
)
from legacy_py.errors import ConfigError


@pytest.fixture(autouse=True)
def _stream_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_BENCH_STREAMS", str(tmp_path / "streams"))


def test_parse_sizes() -> None:
    assert parse_sizes("10k, 50000,1.5M") == [10_000, 50_000, 1_500_000]
    for bad in ("", "abc", "3", "1001"):
        with pytest.raises(ConfigError):
            parse_sizes(bad)


def test_stream_file_is_cached_and_even(tmp_path: Path) -> None:
    path = stream_file(400)
    assert path.parent == tmp_path / "streams"
    mtime = path.stat().st_mtime_ns
    assert stream_file(400).stat().st_mtime_ns == mtime
    assert len(bench_stream(400)) == 400
    with pytest.raises(ValueError):
        stream_file(401)


def test_stats() -> None:
    s = Stats((3.0, 1.0, 2.0, 4.0, 5.0))
    assert (s.min, s.median, s.q1, s.q3, s.iqr, s.rounds) == (1.0, 3.0, 2.0, 4.0, 2.0, 5)
    d = s.to_dict(1_000_000)
    assert d["us_per_event_median"] == pytest.approx(3.0)
    one = Stats((2.0,))
    assert one.iqr == 0.0


def test_direct_calls_replay_the_legacy_callbacks() -> None:
    stream = bench_stream(2_000)
    calls = record_calls(stream, "sma_cross")
    assert len(calls.on_candle) == 1_000  # sma_cross subscribes to M1 bid only
    assert calls.calls == len(calls.on_candle) + len(calls.check_exit)
    assert len(calls.check_exit) > 0  # positions were open
    assert time_direct(stream, calls) > 0.0


def test_rust_peaks_below_legacy() -> None:
    stream = bench_stream(4_000)
    legacy = run_peak(get_adapter("legacy"), stream, "sma_cross")
    rust = run_peak(get_adapter("rust"), stream, "sma_cross")
    assert 0 < rust.peak_bytes < legacy.peak_bytes
    assert legacy.total_allocations > 0


def test_available_engines_skips_unknown() -> None:
    ok, skipped = available_engines(("legacy", "no-such-engine"))
    assert ok == ["legacy"]
    assert "no-such-engine" in skipped


def test_environment() -> None:
    env = perf.environment()
    assert env["machine"]["cores"] >= 1
    assert env["packages"]["pyarrow"]
    assert "load_average" in env and "git_commit" in env


def test_profile_report(tmp_path: Path) -> None:
    doc = run_profile(
        sizes=[400, 1_000],
        engines=("legacy", "rust", "no-such-engine"),
        strategies=("noop", "sma_cross"),
        rounds=1,
        leak_runs=20,
        progress=lambda _: None,
    )
    assert doc["engines"] == ["legacy", "rust"]
    assert "no-such-engine" in doc["skipped_engines"]
    assert len(doc["rows"]) == 2 * 2 * 2
    assert leaks_passed(doc)
    assert memory_ok(doc) == []
    paths = write_profile(doc, tmp_path / "profile")
    page = paths["html"].read_text()
    assert page.count("<svg") == 3
    assert "bare Python method call" in page and "NautilusTrader" in page
    md = paths["md"].read_text()
    assert "## Time per event" in md and "## Leak checks" in md
    assert json.loads(paths["json"].read_text())["sizes"] == [400, 1_000]


def test_memory_ok_flags_a_candidate_above_legacy() -> None:
    row = {"strategy": "noop", "events": 10, "run_peak_bytes": 5}
    doc = {"rows": [{**row, "engine": "legacy"}, {**row, "engine": "rust", "run_peak_bytes": 6}]}
    assert memory_ok(doc) == ["rust noop 10"]


def test_line_chart_without_data() -> None:
    svg = line_chart("t", [("a", "#000", "", [])], "x", "y", log_y=True)
    assert "no data" in svg


def test_profile_cli(tmp_path: Path) -> None:
    out = tmp_path / "p"
    argv = ["profile", "--sizes", "400", "--rounds", "1", "--leak-runs", "0"]
    argv += ["--strategy", "noop", "--engine", "legacy", "--engine", "rust", "--out", str(out)]
    assert main(argv) == 0
    assert (out / "profile.html").exists()


def test_baseline_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ops = (
        baseline.Operation("event_dispatch_noop_1k", "event_dispatch", "noop", 1_000, 3),
        baseline.Operation(
            "callback_invocation_sma_1k", "callback_invocation", "sma_cross", 1_000, 2
        ),
    )
    monkeypatch.setattr(baseline, "OPERATIONS", ops)
    monkeypatch.setattr(baseline, "MEMORY_EVENTS", 1_000)
    out = tmp_path / "b.json"
    assert main(["baseline", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["engine"] == "legacy" and doc["schema"] == baseline.SCHEMA
    op = doc["operations"]["event_dispatch_noop_1k"]
    assert op["rounds"] == 3 and op["min_s"] <= op["median_s"]
    cb = doc["operations"]["callback_invocation_sma_1k"]
    assert cb["callbacks"] > 0 and 0 < cb["direct_python_calls"]["share_of_legacy_run"] < 1
    assert doc["targets"]["event_dispatch"]["target_speedup"] == 5.0
    assert doc["memory"]["noop_1k"]["peak_bytes"] > 0
    assert doc["machine"]["cpu_model"]
