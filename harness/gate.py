"""The migration gate: corpus parity, a Hypothesis run, determinism, thresholds.

``omega-harness gate`` (no arguments) runs it on the embedded corpus. Every check
yields :class:`CheckResult` rows; the gate passes only when none failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.adapters import EngineAdapter, get_adapter
from harness.allowlist import Allowlist
from harness.batch_adapters import is_unsupported, mismatch_hint, skip_reason
from harness.experiment import Case, Comparison, run_experiment
from legacy_py.loader import CandleStream, load_stream
from legacy_py.strategies import strategy_names

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "golden"

PROFILES: dict[str, dict[str, Any]] = {
    # examples: Hypothesis examples per strategy; subprocess: cross-process determinism
    "quick": {"examples": 5, "max_bars": 80, "subprocess": False},
    "ci": {"examples": 25, "max_bars": 200, "subprocess": True},
    "thorough": {"examples": 300, "max_bars": 600, "subprocess": True},
}


@dataclass
class CheckResult:
    """One row of the gate summary."""

    check: str
    name: str
    status: str  # pass | fail | allowed | skip
    detail: str = ""
    seconds: float = 0.0
    classification: str | None = None
    report: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class GateResult:
    """Everything the gate did."""

    profile: str
    control: str
    candidates: list[str]
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """No failed check."""
        return not any(r.status == "fail" for r in self.results)

    def counts(self) -> dict[str, int]:
        """Number of results per status."""
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def corpus_streams(corpus: Path) -> list[tuple[str, Path]]:
    """The stream files of a corpus directory (``<corpus>/streams/*.arrow`` or the dir)."""
    base = corpus / "streams" if (corpus / "streams").is_dir() else corpus
    files = sorted(p for p in base.iterdir() if p.suffix.lower() in {".arrow", ".parquet", ".csv"})
    return [(p.stem, p) for p in files]


Progress = Callable[[str], None]


def _comparison_result(
    check: str, case: Case, comp: Comparison, allow: Allowlist, report_dir: Path | None
) -> CheckResult:
    name = f"{case.case_id} {comp.control.engine} vs {comp.candidate.engine}"
    secs = comp.control.seconds + comp.candidate.seconds
    if comp.matched:
        return CheckResult(check, name, "pass", "bit-identical", secs)
    if comp.control.error is None and is_unsupported(comp.candidate.error):
        return CheckResult(check, name, "skip", str(comp.candidate.error), secs)
    cls = comp.classification
    entry = allow.find(case, comp)
    report_path: str | None = None
    if report_dir is not None:
        from harness.report import write_divergence_report

        report_path = str(write_divergence_report(case, comp, report_dir))
    detail = comp.diff.describe(4) if comp.diff is not None else (cls.reason if cls else "")
    hint = mismatch_hint(comp.candidate.engine)
    if hint is not None:
        detail = f"{hint}: {detail}"
    if entry is not None:
        return CheckResult(
            check,
            name,
            "allowed",
            f"allowlisted until {entry.expires}: {entry.reason}",
            secs,
            cls.kind if cls else None,
            report_path,
        )
    return CheckResult(check, name, "fail", detail, secs, cls.kind if cls else None, report_path)


def check_corpus(
    streams: Sequence[tuple[str, CandleStream]],
    strategies: Sequence[str],
    control: EngineAdapter,
    candidates: Sequence[EngineAdapter],
    allow: Allowlist,
    report_dir: Path | None,
    progress: Progress,
    seed: int = 0,
) -> list[CheckResult]:
    """Every stream × every strategy: control vs each candidate.

    Candidates with a ``run_many`` (``rust-native``) run all cases up front on their
    thread pool (:func:`harness.native_adapters.precompute`); the traces are the same.
    """
    from harness.native_adapters import NativeCase, precompute

    cases: list[NativeCase] = [
        (stream, strat, {}, seed) for _, stream in streams for strat in strategies
    ]
    candidates = precompute(candidates, cases)
    out: list[CheckResult] = []
    for sname, stream in streams:
        for strat in strategies:
            case = Case(sname, stream, strat, {}, seed)
            exp = run_experiment(case, control, candidates)
            for comp in exp.comparisons:
                r = _comparison_result("corpus", case, comp, allow, report_dir)
                progress(f"  [{r.status:7s}] {r.name} ({r.seconds:.2f}s)")
                out.append(r)
    return out


def check_hypothesis(
    control: EngineAdapter,
    candidates: Sequence[EngineAdapter],
    strategies: Sequence[str],
    examples: int,
    max_bars: int,
    progress: Progress,
    report_dir: Path | None,
) -> list[CheckResult]:
    """Generated streams: the engines must agree (Hypothesis shrinks any failure)."""
    from harness.generated import hypothesis_parity

    out: list[CheckResult] = []
    for strat in strategies:
        for cand in candidates:
            t0 = time.perf_counter()
            name = f"generated::{strat} {control.name} vs {cand.name} ({examples} examples)"
            skip = skip_reason(cand, strat)
            if skip is not None:
                out.append(CheckResult("hypothesis", name, "skip", skip))
                progress(f"  [skip   ] {name}")
                continue
            failure = hypothesis_parity(control, cand, strat, examples, max_bars, report_dir)
            secs = time.perf_counter() - t0
            if failure is None:
                out.append(CheckResult("hypothesis", name, "pass", "all agree", secs))
            else:
                hint = mismatch_hint(cand.name)
                out.append(
                    CheckResult(
                        "hypothesis",
                        name,
                        "fail",
                        failure.detail if hint is None else f"{hint}: {failure.detail}",
                        secs,
                        failure.kind,
                        failure.report,
                    )
                )
            progress(f"  [{out[-1].status:7s}] {name} ({secs:.2f}s)")
    return out


def check_determinism(
    stream_path: Path,
    stream: CandleStream,
    engines: Sequence[EngineAdapter],
    strategy: str,
    use_subprocess: bool,
    progress: Progress,
) -> list[CheckResult]:
    """Each engine: identical hashes across repeated runs and across processes."""
    out: list[CheckResult] = []
    for eng in engines:
        t0 = time.perf_counter()
        name = f"{eng.name}::{strategy} on {stream_path.stem}"
        skip = skip_reason(eng, strategy)
        if skip is not None:
            out.append(CheckResult("determinism", name, "skip", skip))
            progress(f"  [skip   ] {name}")
            continue
        try:
            hashes = [eng.run(stream, strategy, {}, 1).hash() for _ in range(2)]
            if use_subprocess:
                for hashseed in ("0", "4242"):
                    hashes.append(_hash_in_subprocess(eng.name, stream_path, strategy, hashseed))
        except Exception as exc:  # a crashing engine fails this check, not the gate run
            secs = time.perf_counter() - t0
            detail = f"run raised {type(exc).__name__}: {exc}"
            out.append(CheckResult("determinism", name, "fail", detail, secs))
            progress(f"  [fail   ] {name} ({secs:.2f}s)")
            continue
        secs = time.perf_counter() - t0
        ok = len(set(hashes)) == 1
        name = f"{name} ({len(hashes)} runs)"
        detail = "identical hashes" if ok else "hashes differ: " + ", ".join(h[:12] for h in hashes)
        out.append(CheckResult("determinism", name, "pass" if ok else "fail", detail, secs))
        progress(f"  [{out[-1].status:7s}] {name} ({secs:.2f}s)")
    return out


def _hash_in_subprocess(engine: str, stream_path: Path, strategy: str, hashseed: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        cmd = [
            sys.executable,
            "-m",
            "harness",
            "run",
            "--engine",
            engine,
            "--stream",
            str(stream_path),
            "--strategy",
            strategy,
            "--seed",
            "1",
            "--out",
            tmp,
        ]
        subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
        summary = json.loads((Path(tmp) / "summary.json").read_text())
        return str(summary["trace_hash"])


def run_gate(
    corpus: Path = DEFAULT_CORPUS,
    profile: str = "ci",
    control: str = "legacy",
    candidates: Sequence[str] = ("rust",),
    strategies: Sequence[str] | None = None,
    allowlist: Path | None = None,
    report_dir: Path | None = None,
    progress: Progress = print,
    extra_checks: Sequence[Callable[[Progress], list[CheckResult]]] = (),
) -> GateResult:
    """Run the whole gate."""
    settings = PROFILES[profile]
    t_start = time.perf_counter()
    ctrl = get_adapter(control)
    cands = [get_adapter(c) for c in candidates]
    strats = list(strategies) if strategies else strategy_names()
    allow = Allowlist.load(allowlist if allowlist is not None else corpus / "allowlist.toml")
    result = GateResult(profile, control, list(candidates))
    files = corpus_streams(corpus)
    progress(f"omega-harness gate: profile={profile} control={control} candidates={candidates}")
    progress(f"corpus: {len(files)} streams x {len(strats)} strategies")
    streams = [(name, load_stream(path)) for name, path in files]
    result.results += check_corpus(streams, strats, ctrl, cands, allow, report_dir, progress)
    if (corpus / "manifest.json").exists():
        from harness.golden import check_golden

        progress("golden: expected trace hashes (manifest.json)")
        result.results += check_golden(corpus, [ctrl, *cands], progress)
    if settings["examples"] > 0:
        progress("hypothesis: generated streams")
        result.results += check_hypothesis(
            ctrl,
            cands,
            strats,
            settings["examples"],
            settings["max_bars"],
            progress,
            report_dir,
        )
    progress("determinism")
    if files:
        small = min(files, key=lambda f: f[1].stat().st_size)
        stream = dict(streams)[small[0]]
        for strat in ("mtf_trend",) if "mtf_trend" in strats else strats[:1]:
            result.results += check_determinism(
                small[1], stream, [ctrl, *cands], strat, settings["subprocess"], progress
            )
    for extra in extra_checks:
        result.results += extra(progress)
    result.seconds = time.perf_counter() - t_start
    return result


def gate_json(result: GateResult) -> dict[str, Any]:
    """JSON-ready summary."""
    return {
        "passed": result.passed,
        "profile": result.profile,
        "control": result.control,
        "candidates": result.candidates,
        "counts": result.counts(),
        "seconds": round(result.seconds, 3),
        "results": [asdict(r) for r in result.results],
    }
