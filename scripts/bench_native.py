"""Strategy A benchmark: ``rust-native`` vs the legacy engine, and the parallel runner.

Usage::

    python scripts/bench_native.py                 # 50k events + parallel runner
    python scripts/bench_native.py --big           # also 5M events (legacy ~40-80 s, once)
    python scripts/bench_native.py --strategy mtf_trend --events 100000

Streams come from ``legacy_py.synthetic.generate_stream(n_bars, seed)`` (M1 bid + ask,
so ``2 * n_bars`` events), written once to ``--cache`` as Arrow IPC and loaded with
``load_stream`` (which keeps the validated table, so both engines get the same input
object). Times are wall clock (``perf_counter``): the legacy engine is ``run_python`` on
the loaded stream; ``rust-native`` is the whole ``omega_rust.run_native`` call (Python
validation, Rust re-validation of the table, the run, the Arrow trace, the ``Trace``).
Every comparison checks that the trace hashes are equal.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import omega_rust
from legacy_py.engine import run_python
from legacy_py.loader import CandleStream, load_stream, write_stream
from legacy_py.strategies import make_strategy
from legacy_py.synthetic import generate_stream
from legacy_py.trace import Trace


def cached_stream(cache: Path, n_bars: int, seed: int) -> tuple[Path, CandleStream]:
    """``generate_stream(n_bars, seed=seed)``, written to ``cache`` once, then loaded."""
    path = cache / f"synthetic_{n_bars}_{seed}.arrow"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".partial.arrow")
        write_stream(generate_stream(n_bars, seed=seed), tmp)
        tmp.replace(path)
    return path, load_stream(path)


def best(fn: Callable[[], object], rounds: int) -> tuple[float, object]:
    """Best wall time of ``rounds`` calls, and the last result (the previous result is
    released before each round starts, so freeing it is not timed)."""
    t_best = float("inf")
    result: object = None
    for _ in range(rounds):
        result = None
        t0 = time.perf_counter()
        result = fn()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best, result


def timings(fn: Callable[[], object], rounds: int) -> tuple[list[float], object]:
    """Wall times of ``rounds`` calls, and the last result (released before each call,
    so freeing it is not timed)."""
    times: list[float] = []
    result: object = None
    for _ in range(rounds):
        result = None
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def compare(stream: CandleStream, path: Path, name: str, legacy_rounds: int, rounds: int) -> None:
    """Legacy vs rust-native on one stream; prints µs/event and the speed-up.

    The Rust rounds are spread over the run, a share after each legacy round, so a
    slow spell of this shared machine does not hit one engine only; each engine's
    best round is compared (the median Rust round is printed too)."""
    n = len(stream)

    def legacy() -> Trace:
        strat, cfg = make_strategy(name, {}, stream)
        return run_python(stream, strat, cfg, 0, {})

    share = max(1, rounds // legacy_rounds)
    legacy_times: list[float] = []
    native_times: list[float] = []
    path_times: list[float] = []
    lt = nt = pt = None
    for _ in range(legacy_rounds):
        times, lt = timings(legacy, 1)
        legacy_times += times
        times, nt = timings(lambda: omega_rust.run_native(stream, name), share)
        native_times += times
        times, pt = timings(lambda: omega_rust.run_native(path, name), share)
        path_times += times
    assert isinstance(lt, Trace) and isinstance(nt, Trace) and isinstance(pt, Trace)
    same = lt.hash() == nt.hash() == pt.hash()
    t_legacy, t_native, t_path = min(legacy_times), min(native_times), min(path_times)
    median = sorted(native_times)[len(native_times) // 2]
    print(
        f"{name} {n:>9,d} events: legacy {t_legacy:8.3f} s ({t_legacy * 1e6 / n:6.3f} us/ev) | "
        f"rust-native {t_native * 1e3:8.2f} ms ({t_native * 1e9 / n:6.1f} ns/ev) "
        f"{t_legacy / t_native:6.0f}x (median round {t_legacy / median:4.0f}x) | "
        f"from path {t_path * 1e3:8.2f} ms {t_legacy / t_path:6.0f}x | identical={same}"
    )


def parallel(cache: Path, name: str, streams: int, bars: int, rounds: int) -> None:
    """``run_native_many`` over ``streams`` streams: threads=1 vs threads=2."""
    loaded = [cached_stream(cache, bars, seed)[1] for seed in range(1, streams + 1)]
    events = sum(len(s) for s in loaded)
    t1, r1 = best(lambda: omega_rust.run_native_many(loaded, name, threads=1), rounds)
    t2, r2 = best(lambda: omega_rust.run_native_many(loaded, name, threads=2), rounds)
    assert isinstance(r1, list) and isinstance(r2, list)
    alone = [omega_rust.run_native(s, name).hash() for s in loaded]
    same = [t.hash() for t in r1] == [t.hash() for t in r2] == alone
    print(
        f"run_native_many {name}: {streams} streams x {events // streams:,d} events: "
        f"threads=1 {t1 * 1e3:.1f} ms, threads=2 {t2 * 1e3:.1f} ms, "
        f"speed-up {t1 / t2:.2f}x (cores: {os.cpu_count()}) | identical={same}"
    )


def main() -> None:
    """Run the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--strategy", default="sma_cross")
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--big", action="store_true", help="also 5M events (legacy runs once)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/omega_bench_streams"))
    p.add_argument("--rounds", type=int, default=10)
    args = p.parse_args()
    path, stream = cached_stream(args.cache, args.events // 2, 1)
    compare(stream, path, args.strategy, 3, args.rounds)
    if args.big:
        path, stream = cached_stream(args.cache, 2_500_000, 1)
        compare(stream, path, args.strategy, 1, 3)
    parallel(args.cache, args.strategy, 8, 50_000, 5)


if __name__ == "__main__":
    main()
