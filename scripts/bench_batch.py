"""Batch dispatch (Strategy C) vs the legacy engine and Strategy B, wall clock.

Usage:
    python scripts/bench_batch.py                     # 100k-event corpus stream
    python scripts/bench_batch.py --bars 2500000      # + a generated 5M-event stream

The legacy engine runs ``--legacy-rounds`` times (default once: it takes ~40 s on
5M events); the Rust paths run ``--rounds`` times and the best and median are printed.
All three traces must hash identically. A generated stream is cached as an Arrow IPC
file under ``--cache-dir`` (``legacy_py.synthetic.generate_stream(bars, seed=1)``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import omega_rust
from legacy_py.engine import run_python
from legacy_py.loader import CandleStream, load_stream, write_stream
from legacy_py.strategies import make_strategy
from legacy_py.synthetic import generate_stream
from legacy_py.trace import Trace


def timed(run: Callable[[], Trace], rounds: int) -> tuple[list[float], str]:
    """Wall-clock seconds of ``rounds`` runs and the (common) trace hash.

    Each trace is hashed and released before the next round starts, so freeing a
    trace is never timed (as in ``harness.perf``).
    """
    times: list[float] = []
    hashes: set[str] = set()
    for _ in range(rounds):
        t0 = time.perf_counter()
        trace = run()
        times.append(time.perf_counter() - t0)
        hashes.add(trace.hash())
        del trace
    assert len(hashes) == 1, "runs of one engine disagree"
    return times, hashes.pop()


def bench(label: str, stream: CandleStream, strategy: str, args: argparse.Namespace) -> None:
    """Print legacy / rust / rust-batch timings for one stream."""
    n = len(stream)

    def legacy() -> Trace:
        strat, cfg = make_strategy(strategy, {}, stream)
        return run_python(stream, strat, cfg)

    def rust() -> Trace:
        strat, cfg = make_strategy(strategy, {}, stream)
        return omega_rust.run_rust(stream, strat, cfg)

    def batch() -> Trace:
        strat, cfg = make_strategy(strategy, {}, stream)
        return omega_rust.run_batch(stream, strat, cfg, chunk_size=args.chunk_size)

    rows = [
        ("legacy", *timed(legacy, args.legacy_rounds)),
        ("rust", *timed(rust, args.rounds)),
        ("rust-batch", *timed(batch, args.rounds)),
    ]
    ref = min(rows[0][1])
    print(f"\n{label}: {n:,} events, strategy {strategy}, chunk_size {args.chunk_size}")
    for name, times, digest in rows:
        best, med = min(times), statistics.median(times)
        print(
            f"  {name:10s} best {best:9.3f} s  median {med:9.3f} s  "
            f"{best * 1e9 / n:8.1f} ns/event  x{ref / best:7.1f} vs legacy (best)  "
            f"hash {digest[:12]}"
        )
    assert len({r[2] for r in rows}) == 1, "engines disagree"


def main() -> None:
    """Run the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stream", default="golden/streams/synthetic_m1_50k.arrow")
    p.add_argument("--bars", type=int, default=0, help="also a generated stream of N bars")
    p.add_argument("--cache-dir", default="/tmp")
    p.add_argument("--strategy", default="sma_cross")
    p.add_argument("--chunk-size", type=int, default=omega_rust.DEFAULT_CHUNK_SIZE)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--legacy-rounds", type=int, default=1)
    args = p.parse_args()
    bench(args.stream, load_stream(args.stream), args.strategy, args)
    if args.bars:
        path = Path(args.cache_dir) / f"omega_synthetic_{args.bars}_seed1.arrow"
        if not path.exists():
            write_stream(generate_stream(args.bars, seed=1), path)
        bench(str(path), load_stream(path), args.strategy, args)


if __name__ == "__main__":
    main()
