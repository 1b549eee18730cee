"""Planted divergences: the harness must catch, classify, minimise and gate each one.

A gate that never fails proves nothing. Every adapter of :mod:`harness.planted` changes
one behaviour of the legacy engine; these tests assert that ``run_experiment`` flags
it, ``classify`` names it, ``minimize_stream`` shrinks it without losing its signature,
``run_gate`` fails on it with a full report, and the CLI (``diff``, ``triage``) exits 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import Phase

import harness.generated
from harness.adapters import EngineAdapter, LegacyAdapter, RustAdapter, get_adapter
from harness.cli import main
from harness.experiment import Case, Comparison, compare, run_experiment, run_outcome
from harness.gate import run_gate
from harness.generated import hypothesis_parity
from harness.minimize import (
    DoesNotReproduceError,
    bar_groups,
    minimize_stream,
    save_minimal,
)
from harness.planted import (
    PLANTED,
    MemoryHogAdapter,
    RaiseAtEventAdapter,
    SeedShiftAdapter,
    SleepAdapter,
    SwapEventsAdapter,
    TieRuleAdapter,
    UlpIndicatorAdapter,
    expected_kind,
    planted_adapter,
    swapped_stream,
)
from legacy_py.errors import ConfigError
from legacy_py.loader import CandleStream, load_stream, stream_from_table, write_stream

ROOT = Path(__file__).resolve().parent.parent
EURUSD = ROOT / "golden" / "streams" / "eurusd_h1.arrow"
REPORT_FILES = ("report.md", "report.html", "report.json", "equity.svg")


@cache
def eurusd(rows: int) -> CandleStream:
    """The first ``rows`` rows (``rows / 2`` H1 bid/ask bars) of the EURUSD corpus stream."""
    table = load_stream(EURUSD).table
    assert table is not None
    return stream_from_table(table.slice(0, rows), source=f"eurusd_h1[:{rows}]")


def compare_on(
    stream: CandleStream, strategy: str, params: dict[str, Any], cand: EngineAdapter
) -> Comparison:
    """Legacy vs ``cand`` on one stream (fresh adapters each time)."""
    ctrl = run_outcome(LegacyAdapter(), stream, strategy, params, 0)
    return compare(ctrl, run_outcome(cand, stream, strategy, params, 0))


# --------------------------------------------------------------------------- (a) - (c)

# (id, adapter factory, strategy, params, expected kind, stream rows)
PlantedCase = tuple[str, Callable[[], EngineAdapter], str, dict[str, Any], str, int]
CASES: list[PlantedCase] = [
    ("ulp", lambda: UlpIndicatorAdapter(60), "sma_cross", {}, "float_rounding", 160),
    # band 0.0003: SL and TP both inside one H1 bar early on (default band: event 257)
    ("tie", TieRuleAdapter, "churn", {"band": 0.0003}, "state_management", 160),
    ("seed", lambda: SeedShiftAdapter(1), "churn", {}, "rng_seed", 160),
    ("seed-mtf", lambda: SeedShiftAdapter(1), "mtf_trend", {}, "rng_seed", 400),
    ("swap", lambda: SwapEventsAdapter(20), "churn", {}, "event_ordering", 160),
    ("raise", lambda: RaiseAtEventAdapter(20), "churn", {}, "exception_mismatch", 160),
]


@pytest.mark.parametrize(
    ("factory", "strategy", "params", "kind", "rows"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_planted_divergence_is_caught_classified_and_minimised(
    factory: Callable[[], EngineAdapter],
    strategy: str,
    params: dict[str, Any],
    kind: str,
    rows: int,
    tmp_path: Path,
) -> None:
    stream = eurusd(rows)
    case = Case(f"eurusd_h1_{rows}", stream, strategy, params, 0)
    candidate = factory()
    # the real port agrees on the very same case: the planted change is the only cause
    sanity = run_experiment(case, LegacyAdapter(), [RustAdapter()])
    assert sanity.comparisons[0].matched
    # (a) a mismatch
    exp = run_experiment(case, LegacyAdapter(), [candidate])
    comp = exp.comparisons[0]
    assert comp.status == "mismatch"
    assert not comp.matched
    # (b) the expected class
    cls = comp.classification
    assert cls is not None
    assert cls.kind == kind, cls.reason
    assert expected_kind(candidate.name) == kind
    # (c) a strictly smaller stream with the same signature
    result = minimize_stream(case, LegacyAdapter(), candidate, cls.signature, max_runs=200)
    assert result.events < len(stream)
    assert result.original_events == len(stream)
    assert result.signature == cls.signature
    assert result.comparison.classification is not None
    assert result.comparison.classification.signature == cls.signature
    assert 0 < result.runs <= 200
    assert result.history[0] == len(stream) and result.history[-1] == result.events
    # ... which reproduces from a file, with fresh engines
    path = tmp_path / "minimal.arrow"
    save_minimal(result, path)
    loaded = load_stream(path)
    assert len(loaded) == result.events
    assert loaded.instrument == stream.instrument
    again = compare_on(loaded, strategy, params, factory())
    assert again.status == "mismatch"
    assert again.classification is not None
    assert again.classification.signature == cls.signature
    assert compare_on(loaded, strategy, params, RustAdapter()).matched


def test_planted_divergences_sit_where_they_were_planted() -> None:
    s = eurusd(160)
    ulp = compare_on(s, "sma_cross", {}, UlpIndicatorAdapter(60))
    assert ulp.diff is not None and ulp.classification is not None
    assert ulp.diff.first_event == 60
    cell = ulp.diff.tables["events"].first_cells[0]
    assert (cell.column, cell.ulps) == ("ind_H1_bid_sma_10", 1)
    assert ulp.diff.tables["events"].columns[0].divergent_rows == 1  # event 60 only
    assert ulp.diff.tables["events"].reconverges

    named = compare_on(s, "sma_cross", {}, UlpIndicatorAdapter(70, "ind_H1_bid_sma_30"))
    assert named.classification is not None
    assert named.classification.signature == ("float_rounding", "ind_H1_bid_sma_30")
    assert named.classification.first_event == 70

    swap = compare_on(s, "churn", {}, SwapEventsAdapter(20))
    assert swap.classification is not None
    assert swap.classification.first_event == 20
    assert swap.classification.first_columns[0] == "price_type"

    tie = compare_on(s, "churn", {"band": 0.0003}, TieRuleAdapter())
    assert tie.diff is not None
    reasons = {c.column: (c.control, c.candidate) for c in tie.diff.tables["fills"].first_cells}
    assert reasons["reason"] == ("sl", "tp")

    raised = compare_on(s, "churn", {}, RaiseAtEventAdapter(21))
    assert raised.candidate.error is not None
    assert str(raised.candidate.error) == "planted failure"
    # event 21 is an ask event; churn subscribes to bid, so the next call (22) raises
    assert any("at event 22" in n for n in raised.candidate.error.__notes__)


def test_planted_changes_nothing_when_their_trigger_is_absent() -> None:
    s = eurusd(40)
    for cand in (UlpIndicatorAdapter(500), SwapEventsAdapter(39), RaiseAtEventAdapter(40)):
        assert compare_on(s, "churn", {}, cand).matched, cand.name
    # no slippage draw without a fill: a shifted seed is invisible
    assert compare_on(s, "noop", {}, SeedShiftAdapter(3)).matched
    # no tie in the first 20 bars with churn's default band
    assert compare_on(s, "churn", {}, TieRuleAdapter()).matched
    # warming-up indicators are None: nothing to nudge at event 3
    assert compare_on(s, "sma_cross", {}, UlpIndicatorAdapter(3)).matched


def test_swapped_stream() -> None:
    s = eurusd(6)
    w = swapped_stream(s, 2)
    assert w.candles[2] == s.candles[3] and w.candles[3] == s.candles[2]
    assert w.table is None and w.instrument == s.instrument
    assert swapped_stream(s, 5).candles == s.candles  # no event 6
    assert swapped_stream(s, -1).candles == s.candles


def test_minimize_rejects_a_case_that_does_not_reproduce() -> None:
    case = Case("eu40", eurusd(40), "churn", {}, 0)
    with pytest.raises(DoesNotReproduceError):
        minimize_stream(case, LegacyAdapter(), RustAdapter(), ("float_rounding", None))


def test_minimize_respects_the_run_budget() -> None:
    case = Case("eu160", eurusd(160), "sma_cross", {}, 0)
    cand = UlpIndicatorAdapter(60)
    result = minimize_stream(
        case, LegacyAdapter(), cand, ("float_rounding", "ind_H1_bid_sma_10"), max_runs=4
    )
    assert result.runs == 4
    assert result.exhausted
    assert result.events < len(case.stream)  # the prefix search already cut it


def test_minimize_keeps_bar_groups_whole() -> None:
    result = minimize_stream(
        Case("eu160", eurusd(160), "churn", {}, 0),
        LegacyAdapter(),
        SeedShiftAdapter(1),
        ("rng_seed", "fill_price"),
    )
    assert not result.exhausted
    groups = bar_groups(result.stream.candles)
    # every group but the last (the prefix end) is a complete bid/ask pair
    assert all(len(g) == 2 for g in groups[:-1])
    assert [c.price_type for c in groups[0]] == ["bid", "ask"]


# --------------------------------------------------------------------------- registry


def test_planted_specs_resolve_through_get_adapter() -> None:
    specs = {
        "planted:ulp@120": UlpIndicatorAdapter,
        "planted:ulp@7,ind_H1_bid_sma_10": UlpIndicatorAdapter,
        "planted:tie": TieRuleAdapter,
        "planted:seed": SeedShiftAdapter,
        "planted:seed@2": SeedShiftAdapter,
        "planted:swap@5": SwapEventsAdapter,
        "planted:raise@9": RaiseAtEventAdapter,
        "planted:sleep@0.001": SleepAdapter,
        "planted:hog@1,legacy": MemoryHogAdapter,
    }
    for spec, cls in specs.items():
        adapter = get_adapter(spec)
        assert isinstance(adapter, cls), spec
        # the name is a canonical spec that resolves to the same planted change
        assert type(get_adapter(adapter.name)) is cls
        assert get_adapter(adapter.name).name == adapter.name
    assert get_adapter("planted:ulp@7,ind_H1_bid_sma_10").name == "planted:ulp@7,H1_bid_sma_10"
    assert get_adapter("planted:seed").name == "planted:seed@1"
    hog = get_adapter("planted:hog@1,legacy")
    assert isinstance(hog, MemoryHogAdapter) and hog.inner.name == "legacy"
    assert set(PLANTED) >= {"ulp", "tie", "seed", "swap", "raise"}
    assert expected_kind("planted:sleep@1") is None
    assert expected_kind("planted:nope") is None


@pytest.mark.parametrize(
    "spec",
    ["planted:nope", "planted:ulp@x", "planted:sleep@fast", "planted:sleep@-1", "planted:hog@-2"],
)
def test_bad_planted_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        get_adapter(spec)


def test_planted_adapter_rejects_other_specs_and_unknown_columns() -> None:
    with pytest.raises(ConfigError):
        planted_adapter("rust")
    with pytest.raises(ConfigError, match="no indicator output"):
        UlpIndicatorAdapter(5, "H1_bid_sma_99").run(eurusd(20), "sma_cross", {}, 0)


# --------------------------------------------------------------------------- performance


def test_sleep_and_memory_hog_keep_the_trace() -> None:
    s = eurusd(100)
    reference = LegacyAdapter().run(s, "churn", {}, 4).hash()
    sleepy = SleepAdapter(0.0001)
    assert sleepy.inner.name == "rust" and sleepy.name == "planted:sleep@0.0001"
    out = run_outcome(sleepy, s, "churn", {}, 4)
    assert out.trace is not None and out.trace.hash() == reference
    assert out.seconds >= 0.0001 * len(s)
    hog = MemoryHogAdapter(4)
    assert hog.run(s, "churn", {}, 4).hash() == reference
    assert hog.last_bytes == 4 * 1024 * 1024
    wrapped = MemoryHogAdapter(1, SleepAdapter(0.0, LegacyAdapter()))
    assert wrapped.run(s, "churn", {}, 4).hash() == reference
    assert wrapped.name == "planted:hog@1,planted:sleep@0.0,legacy"


# --------------------------------------------------------------------------- (d) the gate


@pytest.fixture
def no_shrinking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hypothesis without its shrink phase: shrinking a generated failure takes 10-300 s
    per strategy (see the report), which these tests do not need."""

    def settings(*args: Any, **kwargs: Any) -> hypothesis.settings:
        kwargs.setdefault("phases", [Phase.explicit, Phase.reuse, Phase.generate])
        return hypothesis.settings(*args, **kwargs)

    monkeypatch.setattr(harness.generated, "settings", settings)
    yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small streams: 50 and 200 H1 bars (the smaller one runs the determinism check)."""
    base = tmp_path_factory.mktemp("corpus") / "streams"
    base.mkdir()
    for rows in (100, 400):
        table = eurusd(rows).table
        assert table is not None
        write_stream(table, base / f"eurusd_h1_{rows}.arrow")
    return base.parent


# event indexes beyond every generated stream (<= 80 base bars), inside the 400-row stream;
# default churn params see an SL/TP tie at event 257 of eurusd_h1
GATE_CASES = [
    ("planted:ulp@300", "sma_cross", "float_rounding"),
    ("planted:tie", "churn", "state_management"),
    ("planted:seed", "churn", "rng_seed"),
    ("planted:swap@300", "churn", "event_ordering"),
    ("planted:raise@300", "churn", "exception_mismatch"),
]


@pytest.mark.usefixtures("no_shrinking")
@pytest.mark.parametrize(("spec", "strategy", "kind"), GATE_CASES, ids=[c[0] for c in GATE_CASES])
def test_gate_fails_on_planted_divergence(
    spec: str, strategy: str, kind: str, corpus: Path, tmp_path: Path
) -> None:
    result = run_gate(
        corpus=corpus,
        profile="quick",
        candidates=[spec],
        strategies=[strategy],
        report_dir=tmp_path,
        progress=lambda _: None,
    )
    assert result.passed is False
    failed = [r for r in result.results if r.status == "fail"]
    corpus_fails = [r for r in failed if r.check == "corpus"]
    assert corpus_fails, [(r.check, r.status, r.name) for r in result.results]
    assert all(r.classification == kind for r in failed)
    engine = get_adapter(spec).name  # canonical, e.g. planted:seed@1
    assert any("eurusd_h1_400" in r.name for r in corpus_fails)
    for r in corpus_fails:
        assert r.name.endswith(f"legacy vs {engine}")
        assert r.report is not None
        report_dir = Path(r.report)
        for name in REPORT_FILES:
            assert (report_dir / name).is_file(), name
        report = json.loads((report_dir / "report.json").read_text())
        assert report["classification"]["kind"] == kind
        assert report["candidate"] == engine
        assert f"--candidate {engine}" in report["reproduce"]
    # the determinism check still passes: planted engines are deterministic
    assert all(r.status == "pass" for r in result.results if r.check == "determinism")
    if spec == "planted:seed":  # generated streams catch it too, with a saved minimal stream
        hyp = [r for r in failed if r.check == "hypothesis"]
        assert hyp and hyp[0].report is not None
        minimal = Path(hyp[0].report) / "minimal.arrow"
        assert minimal.is_file()
        info = json.loads((Path(hyp[0].report) / "report.json").read_text())["minimal"]
        assert info["path"] == str(minimal) and info["signature"][0] == "rng_seed"


def test_gate_passes_the_real_port(corpus: Path, tmp_path: Path) -> None:
    result = run_gate(
        corpus=corpus,
        profile="quick",
        candidates=["rust"],
        strategies=["churn"],
        report_dir=tmp_path,
        progress=lambda _: None,
    )
    assert result.passed, [(r.name, r.detail) for r in result.results if r.status == "fail"]


@pytest.mark.usefixtures("no_shrinking")
def test_gate_survives_a_candidate_raising_in_the_determinism_check(
    corpus: Path, tmp_path: Path
) -> None:
    result = run_gate(
        corpus=corpus,
        profile="quick",
        candidates=["planted:raise@10"],
        strategies=["noop"],
        report_dir=tmp_path,
        progress=lambda _: None,
    )
    assert not result.passed


def test_generated_failure_is_saved_as_minimal_stream(no_shrinking: None, tmp_path: Path) -> None:
    failure = hypothesis_parity(
        LegacyAdapter(), RaiseAtEventAdapter(0), "noop", 3, 10, report_dir=tmp_path
    )
    assert failure is not None and failure.kind == "exception_mismatch"
    assert failure.report is not None and failure.minimal_path is not None
    assert Path(failure.minimal_path) == Path(failure.report) / "minimal.arrow"
    info = json.loads((Path(failure.report) / "report.json").read_text())["minimal"]
    assert info["signature"] == ["exception_mismatch", None]
    for path in (Path(failure.minimal_path), failure.save(tmp_path / "again.arrow")):
        stream = load_stream(path)
        assert len(stream) == info["events"]
        comp = compare_on(stream, "noop", failure.params, RaiseAtEventAdapter(0))
        assert comp.classification is not None
        assert comp.classification.kind == "exception_mismatch"


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def stream_file(tmp_path: Path) -> Path:
    path = tmp_path / "eurusd_h1_160.arrow"
    table = eurusd(160).table
    assert table is not None
    write_stream(table, path)
    return path


def test_cli_diff_exit_codes(stream_file: Path, tmp_path: Path) -> None:
    common = ["diff", "--stream", str(stream_file), "--strategy", "churn"]
    reports = tmp_path / "reports"
    assert main([*common, "--candidate", "rust", "--report-dir", str(reports)]) == 0
    assert not reports.exists()
    out = tmp_path / "diff.json"
    code = main(
        [
            *common,
            "--candidate",
            "planted:swap@20",
            "--report-dir",
            str(reports),
            "--json",
            str(out),
        ]
    )
    assert code == 1
    entry = json.loads(out.read_text())["comparisons"][0]
    assert entry["classification"] == "event_ordering"
    assert (Path(entry["report"]) / "report.json").is_file()
    assert main([*common, "--candidate", "planted:bogus"]) == 2


def _printed_path(text: str, label: str) -> Path:
    lines = [ln.split(": ", 1)[1] for ln in text.splitlines() if ln.strip().startswith(label)]
    assert len(lines) == 1, text
    return Path(lines[0].strip())


def test_cli_triage_on_stream_and_on_its_report(
    stream_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "triage"
    args = ["--strategy", "churn", "--candidate", "planted:raise@20", "--report-dir", str(reports)]
    assert main(["triage", str(stream_file), *args]) == 1
    out = capsys.readouterr().out
    report_json = _printed_path(out, "report:")
    minimal = _printed_path(out, "minimal stream:")
    assert minimal == report_json.parent / "minimal.arrow"
    for name in REPORT_FILES:
        assert (report_json.parent / name).is_file()
    report = json.loads(report_json.read_text())
    assert report["stream_path"] == str(stream_file)
    assert report["classification"]["kind"] == "exception_mismatch"
    m = report["minimal"]
    assert m["path"] == str(minimal) and m["original_events"] == 160
    assert m["events"] < 160 and m["signature"] == ["exception_mismatch", None]
    assert "Minimal failing stream" in (report_json.parent / "report.md").read_text()
    loaded = load_stream(minimal)
    assert len(loaded) == m["events"]
    again = compare_on(loaded, "churn", {}, get_adapter("planted:raise@20"))
    assert again.classification is not None and again.classification.kind == "exception_mismatch"

    # everything comes from the report: same case, same candidate, same minimal size
    again_dir = tmp_path / "again"
    assert main(["triage", str(report_json), "--report-dir", str(again_dir)]) == 1
    out2 = capsys.readouterr().out
    minimal2 = _printed_path(out2, "minimal stream:")
    assert minimal2.is_relative_to(again_dir) and minimal2.is_file()
    assert len(load_stream(minimal2)) == m["events"]
    assert (
        json.loads(_printed_path(out2, "report:").read_text())["minimal"]["events"] == m["events"]
    )


def test_cli_triage_agreement_and_usage_errors(
    stream_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "r"
    assert (
        main(["triage", str(stream_file), "--strategy", "churn", "--report-dir", str(reports)]) == 0
    )
    assert "agrees" in capsys.readouterr().out
    assert not reports.exists()
    assert main(["triage", str(stream_file)]) == 2  # no --strategy
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["triage", str(bad)]) == 2
    assert main(["triage", str(tmp_path / "missing.arrow"), "--strategy", "churn"]) == 2


def test_cli_triage_from_a_gate_report(corpus: Path, tmp_path: Path) -> None:
    """A report written by the gate (its stream saved next to it) triages on its own."""
    result = run_gate(
        corpus=corpus,
        profile="quick",
        candidates=["planted:swap@300"],
        strategies=["noop"],
        report_dir=tmp_path / "gate",
        progress=lambda _: None,
    )
    failing = [r for r in result.results if r.status == "fail"]
    assert failing and failing[0].report is not None
    report_json = Path(failing[0].report) / "report.json"
    args = ["--report-dir", str(tmp_path / "t"), "--max-runs", "30"]
    assert main(["triage", str(report_json), *args]) == 1
    minimal = next((tmp_path / "t").glob("*/minimal.arrow"))
    assert 300 < len(load_stream(minimal)) < 400
