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
from legacy_py.errors import OmegaError
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


def _cmd_gate(args: argparse.Namespace) -> int:
    result = run_gate(
        corpus=Path(args.corpus),
        profile=args.profile,
        control=args.control,
        candidates=args.candidate or ["rust"],
        strategies=args.strategy,
        allowlist=Path(args.allowlist) if args.allowlist else None,
        report_dir=Path(args.report_dir),
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


COMMANDS: dict[str, Command] = {"run": _cmd_run, "diff": _cmd_diff, "gate": _cmd_gate}


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
