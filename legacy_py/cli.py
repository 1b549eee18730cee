"""Command line of the legacy engine.

``python -m legacy_py run --stream PATH --strategy NAME [--params JSON] [--seed N] --out DIR``
``python -m legacy_py indicators --stream PATH --timeframe TF --price-type bid
--spec sma:20 [--spec ...] --out FILE``

Exit codes: 0 success, 2 bad input or usage (one-line message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from legacy_py.engine import EventEngine
from legacy_py.errors import OmegaError
from legacy_py.indicators import compute_indicators, parse_spec
from legacy_py.loader import load_stream
from legacy_py.strategies import make_strategy, strategy_names


def parse_params(raw: str | None) -> dict[str, Any]:
    """Parse ``--params`` JSON into a dict (error on anything but an object)."""
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise OmegaError(f"--params is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise OmegaError("--params must be a JSON object")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = _Parser(prog="python -m legacy_py", description="Legacy Omega EventEngine")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a strategy over a stream and write the trace")
    run.add_argument("--stream", required=True)
    run.add_argument("--strategy", required=True, help=", ".join(strategy_names()))
    run.add_argument("--params", default=None, help="JSON object of strategy/engine params")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", required=True)
    run.add_argument("--engine", choices=("python", "rust", "auto"), default="python")
    ind = sub.add_parser("indicators", help="compute indicators on one series")
    ind.add_argument("--stream", required=True)
    ind.add_argument("--timeframe", required=True)
    ind.add_argument("--price-type", default="bid", choices=("bid", "ask"))
    ind.add_argument("--spec", action="append", required=True)
    ind.add_argument("--out", required=True)
    return p


def _cmd_run(args: argparse.Namespace) -> int:
    stream = load_stream(args.stream)
    params = parse_params(args.params)
    strategy, config = make_strategy(args.strategy, params, stream)
    use_rust = {"python": False, "rust": True, "auto": None}[args.engine]
    engine = EventEngine(use_rust=use_rust)
    trace = engine.run(stream, strategy, config, args.seed, params)
    trace.write(args.out)
    s = trace.summary_dict()
    print(
        f"{args.strategy} on {Path(args.stream).name} [{engine.backend}]: "
        f"events={s['events']} trades={s['trade_count']} fills={s['fill_count']} "
        f"final_equity={s['final_equity']!r} return={s['total_return']:.6%} "
        f"max_dd={s['max_drawdown']:.6%} hash={trace.hash()[:16]}"
    )
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    stream = load_stream(args.stream)
    for spec in args.spec:
        parse_spec(spec)
    series = [
        c
        for c in stream.candles
        if c.timeframe == args.timeframe and c.price_type == args.price_type
    ]
    if not series:
        raise OmegaError(f"no {args.timeframe}/{args.price_type} events in {args.stream}")
    values = compute_indicators(series, args.timeframe, args.price_type, args.spec)
    cols: dict[str, pa.Array] = {"timestamp": pa.array([c.timestamp for c in series], pa.int64())}
    for name, vals in values.items():
        cols[name] = pa.array(vals, pa.float64())
    table = pa.table(cols)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(out), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    print(f"wrote {table.num_rows} rows x {len(values)} indicator columns to {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_indicators(args)
    except OmegaError as exc:
        sys.stderr.write(f"error: {type(exc).__name__}: {exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
