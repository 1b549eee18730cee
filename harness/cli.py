"""``omega-harness``: the command line of the differential harness.

Exit codes: 0 everything agrees; 1 a divergence or a failed threshold; 2 a usage or
input error (one-line message, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.adapters import get_adapter
from harness.experiment import Case, run_experiment
from harness.gate import DEFAULT_CORPUS, PROFILES, gate_json, run_gate
from harness.summary import print_summary, write_junit, write_markdown
from legacy_py.cli import parse_params
from legacy_py.errors import ConfigError, OmegaError
from legacy_py.loader import load_stream
from legacy_py.strategies import strategy_names

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        sys.stderr.write(f"omega-harness: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """All sub-commands."""
    p = _Parser(prog="omega-harness", description="Differential migration harness")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run one engine and write its trace")
    run.add_argument("--engine", default="legacy")
    run.add_argument("--stream", required=True)
    run.add_argument("--strategy", required=True, help=", ".join(strategy_names()))
    run.add_argument("--params", default=None)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", required=True)

    d = sub.add_parser("diff", help="run control and candidates on one stream and diff")
    d.add_argument("--stream", required=True)
    d.add_argument("--strategy", required=True)
    d.add_argument("--params", default=None)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--control", default="legacy")
    d.add_argument("--candidate", action="append", default=None)
    d.add_argument("--report-dir", default="reports/divergence")
    d.add_argument("--json", default=None)

    t = sub.add_parser("triage", help="re-run a divergence, minimise its stream and write a report")
    t.add_argument("path", help="a stream file, or a divergence report.json")
    t.add_argument("--strategy", default=None, help="required with a stream file")
    t.add_argument("--params", default=None)
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--control", default=None)
    t.add_argument("--candidate", action="append", default=None)
    t.add_argument("--report-dir", default="reports/divergence")
    t.add_argument("--max-runs", type=int, default=200)

    g = sub.add_parser("gate", help="the migration gate (main job)")
    g.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    g.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    g.add_argument("--control", default="legacy")
    g.add_argument("--candidate", action="append", default=None)
    g.add_argument("--strategy", action="append", default=None)
    g.add_argument("--allowlist", default=None)
    g.add_argument("--report-dir", default="reports/divergence")
    g.add_argument("--json", default="reports/gate/gate.json")
    g.add_argument("--markdown", default="reports/gate/gate.md")
    g.add_argument("--junit", default="reports/gate/junit.xml")
    g.add_argument(
        "--perf",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="performance checks (harness/perf_gate.py); default: on for ci and thorough",
    )
    g.add_argument("--perf-events", type=int, default=50_000, help="stream length of --perf")

    bl = sub.add_parser("baseline", help="write the legacy performance baseline JSON")
    bl.add_argument("--out", default=None, help="default: reports/performance_baselines/...")
    bl.add_argument("--rounds-scale", type=float, default=1.0, help="scale every round count")

    pr = sub.add_parser("profile", help="time, peak memory and leak checks per engine and size")
    pr.add_argument("--sizes", default="10k,50k,200k", help="event counts, e.g. 10k,50k,200k")
    pr.add_argument("--engine", action="append", default=None, help="default: every path")
    pr.add_argument("--strategy", action="append", default=None, help="default: noop, sma_cross")
    pr.add_argument("--rounds", type=int, default=5)
    pr.add_argument("--leak-runs", type=int, default=1000, help="0 skips the leak checks")
    pr.add_argument("--out", default="reports/profile")

    rec = sub.add_parser("record", help="add a stream and its expected hashes to the golden files")
    src = rec.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="from_path", metavar="PATH", help=".csv, .parquet or .arrow")
    src.add_argument("--hypothesis-seed", type=int, default=None, metavar="N")
    rec.add_argument("--bars", type=int, default=None, help="base bars (--hypothesis-seed)")
    rec.add_argument("--name", required=True, help="writes <corpus>/streams/NAME.arrow")
    rec.add_argument("--symbol", default=None)
    rec.add_argument("--tick-size", type=float, default=None)
    rec.add_argument("--contract-size", type=float, default=None)
    rec.add_argument("--source", default=None, help="provenance: where the data comes from")
    rec.add_argument("--licence", default=None, help="provenance: the data's licence")
    rec.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    rec.add_argument("--force", action="store_true", help="replace an existing stream")
    return p


def _cmd_run(args: argparse.Namespace) -> int:
    stream = load_stream(args.stream)
    adapter = get_adapter(args.engine)
    trace = adapter.run(stream, args.strategy, parse_params(args.params), args.seed)
    trace.write(args.out)
    print(f"{adapter.name}: {args.strategy} on {args.stream}: hash {trace.hash()}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    stream = load_stream(args.stream)
    params = parse_params(args.params)
    case = Case(Path(args.stream).stem, stream, args.strategy, params, args.seed)
    control = get_adapter(args.control)
    cands = [get_adapter(c) for c in (args.candidate or ["rust"])]
    exp = run_experiment(case, control, cands)
    out: dict[str, Any] = {"case": case.case_id, "comparisons": []}
    failed = False
    for comp in exp.comparisons:
        entry: dict[str, Any] = {"candidate": comp.candidate.engine, "status": comp.status}
        if comp.matched:
            print(f"{comp.candidate.engine}: bit-identical to {control.name} ({case.case_id})")
        else:
            failed = True
            cls = comp.classification
            print(f"{comp.candidate.engine}: DIVERGES from {control.name} ({case.case_id})")
            if cls is not None:
                print(f"  class: {cls.kind} — {cls.reason}")
                entry["classification"] = cls.kind
            if comp.diff is not None:
                print("  " + comp.diff.describe().replace("\n", "\n  "))
                entry["diff"] = comp.diff.to_dict()
            from harness.report import write_divergence_report

            path = write_divergence_report(
                case, comp, Path(args.report_dir), stream_path=args.stream
            )
            print(f"  report: {path}")
            entry["report"] = str(path)
        out["comparisons"].append(entry)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2, default=str) + "\n")
    return 1 if failed else 0


def _perf_checks(args: argparse.Namespace) -> list[Callable[[Callable[[str], None]], Any]]:
    """The gate's performance checks: with ``--perf``, or by default for ci and thorough."""
    enabled = args.perf if args.perf is not None else args.profile in ("ci", "thorough")
    if not enabled:
        return []
    from harness.perf_gate import perf_check

    return [perf_check(args.control, args.candidate or ["rust"], args.perf_events)]


def _cmd_baseline(args: argparse.Namespace) -> int:
    from harness.baseline import BASELINE_PATH, build_baseline, write_baseline

    print("omega-harness baseline: legacy engine")
    doc = build_baseline(rounds_scale=args.rounds_scale)
    path = write_baseline(doc, Path(args.out) if args.out else BASELINE_PATH)
    print(f"wrote {path}")
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from harness.perf import ENGINE_PATHS, parse_sizes
    from harness.profiler import (
        DEFAULT_STRATEGIES,
        leaks_passed,
        memory_ok,
        run_profile,
        write_profile,
    )

    sizes = parse_sizes(args.sizes)
    print(f"omega-harness profile: sizes {sizes}")
    doc = run_profile(
        sizes,
        args.engine or ENGINE_PATHS,
        args.strategy or DEFAULT_STRATEGIES,
        rounds=args.rounds,
        leak_runs=args.leak_runs,
    )
    paths = write_profile(doc, Path(args.out))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    over = memory_ok(doc)
    for row in over:
        print(f"  memory: {row} peaks above legacy")
    if not leaks_passed(doc):
        print("  leak check FAILED (see the report)")
    return 0 if leaks_passed(doc) and not over else 1


def _cmd_gate(args: argparse.Namespace) -> int:
    result = run_gate(
        corpus=Path(args.corpus),
        profile=args.profile,
        control=args.control,
        candidates=args.candidate or ["rust"],
        strategies=args.strategy,
        allowlist=Path(args.allowlist) if args.allowlist else None,
        report_dir=Path(args.report_dir),
        extra_checks=_perf_checks(args),
    )
    print_summary(result)
    for target, writer in (
        (args.json, lambda p: p.write_text(json.dumps(gate_json(result), indent=2) + "\n")),
        (args.markdown, lambda p: write_markdown(result, p)),
        (args.junit, lambda p: write_junit(result, p)),
    ):
        if target:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            writer(path)
    print(f"wrote {args.json}, {args.markdown}, {args.junit}")
    return 0 if result.passed else 1


def _triage_inputs(args: argparse.Namespace) -> tuple[str, Case, str, list[str]]:
    """(stream path for the report, case, control, candidates) of ``triage``."""
    path = Path(args.path)
    if path.suffix.lower() == ".json":
        try:
            report = json.loads(path.read_text())
            raw_stream = str(report["stream_path"])
            strategy = str(report["strategy"])
            params = dict(report.get("params") or {})
            seed = int(report.get("seed") or 0)
            control = str(report["control"])
            candidate = str(report["candidate"])
            name = str(report.get("stream") or Path(raw_stream).stem)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{path}: not a divergence report: {exc!r}") from None
        stream_path = Path(raw_stream)
        if not stream_path.exists() and (path.parent / stream_path.name).exists():
            stream_path = path.parent / stream_path.name  # the report directory moved
        # explicit options override the report
        if args.strategy is not None:
            strategy = args.strategy
        if args.params is not None:
            params = parse_params(args.params)
        seed = args.seed if args.seed is not None else seed
        control = args.control or control
        candidates = args.candidate or [candidate]
    else:
        if args.strategy is None:
            raise ConfigError("triage: --strategy is required with a stream file")
        stream_path = path
        name = path.stem
        strategy = args.strategy
        params = parse_params(args.params)
        seed = args.seed if args.seed is not None else 0
        control = args.control or "legacy"
        candidates = args.candidate or ["rust"]
    case = Case(name, load_stream(stream_path), strategy, params, seed)
    return str(stream_path), case, control, candidates


def _cmd_triage(args: argparse.Namespace) -> int:
    from harness.minimize import DoesNotReproduceError, minimal_info, minimize_stream, save_minimal
    from harness.report import report_id, write_divergence_report

    stream_label, case, control_spec, cand_specs = _triage_inputs(args)
    control = get_adapter(control_spec)
    cands = [get_adapter(c) for c in cand_specs]
    exp = run_experiment(case, control, cands)
    failed = False
    for cand, comp in zip(cands, exp.comparisons, strict=True):
        if comp.matched:
            print(f"{comp.candidate.engine}: agrees with {control.name} ({case.case_id})")
            continue
        failed = True
        cls = comp.classification
        assert cls is not None
        print(f"{comp.candidate.engine}: DIVERGES from {control.name} ({case.case_id})")
        print(f"  class: {cls.kind} — {cls.reason}")
        try:
            result = minimize_stream(case, control, cand, cls.signature, max_runs=args.max_runs)
        except DoesNotReproduceError as exc:  # a flaky engine: report what was seen
            print(f"  not minimised: {exc}")
            path = write_divergence_report(
                case, comp, Path(args.report_dir), stream_path=stream_label
            )
            print(f"  report: {path / 'report.json'}")
            continue
        out = Path(args.report_dir) / report_id(case, comp)
        out.mkdir(parents=True, exist_ok=True)
        minimal_path = out / "minimal.arrow"
        save_minimal(result, minimal_path)
        report = write_divergence_report(
            case,
            comp,
            Path(args.report_dir),
            stream_path=stream_label,
            minimal=minimal_info(result, minimal_path),
        )
        budget = " (run budget exhausted)" if result.exhausted else ""
        print(
            f"  minimal: {result.events} of {result.original_events} events after "
            f"{result.runs} runs{budget}, signature {result.signature}"
        )
        print(f"  report: {report / 'report.json'}")
        print(f"  minimal stream: {minimal_path}")
    return 1 if failed else 0


def _cmd_record(args: argparse.Namespace) -> int:
    from harness.golden import record_input, record_stream

    stream, provenance = record_input(
        args.from_path,
        args.hypothesis_seed,
        args.bars,
        args.symbol,
        args.tick_size,
        args.contract_size,
        args.source,
        args.licence,
    )
    res = record_stream(Path(args.corpus), args.name, stream, provenance, force=args.force)
    e = res.entry
    verb = "replaced" if res.replaced else "wrote"
    print(f"{verb} {res.stream_path}: {e['events']} events, sha256 {e['sha256']}")
    print(
        f"  instrument: {e['symbol']}, tick_size {e['tick_size']!r}, "
        f"contract_size {e['contract_size']!r}"
    )
    print(f"  source: {e['source']}")
    print(f"  licence: {e['licence']}")
    print(f"updated {res.manifest_path}: {len(res.cases)} expected hashes (legacy engine)")
    for c in res.cases:
        print(f"  {c['id']}: {c['trace_hash']}")
    return 0


COMMANDS: dict[str, Command] = {
    "run": _cmd_run,
    "diff": _cmd_diff,
    "gate": _cmd_gate,
    "triage": _cmd_triage,
    "record": _cmd_record,
    "baseline": _cmd_baseline,
    "profile": _cmd_profile,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except OmegaError as exc:
        sys.stderr.write(f"omega-harness: error: {type(exc).__name__}: {exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"omega-harness: error: {exc}\n")
        return 2
