"""Legacy vs Rust on the 100k-event synthetic stream: one run each, same process.

Usage: python scripts/quick_ratio.py [--stream PATH] [--strategy NAME ...]
For medians over rounds use the benchmark suite.
"""

from __future__ import annotations

import argparse
import time

import omega_rust
from legacy_py.engine import run_python
from legacy_py.loader import load_stream
from legacy_py.strategies import make_strategy


def main() -> None:
    """Print µs/event for both engines and the ratio."""
    p = argparse.ArgumentParser()
    p.add_argument("--stream", default="golden/streams/synthetic_m1_50k.arrow")
    p.add_argument("--strategy", action="append", default=None)
    args = p.parse_args()
    stream = load_stream(args.stream)
    n = len(stream)
    for name in args.strategy or ["noop", "sma_cross"]:
        a, cfg = make_strategy(name, {}, stream)
        t0 = time.perf_counter()
        legacy = run_python(stream, a, cfg)
        t1 = time.perf_counter()
        b, _ = make_strategy(name, {}, stream)
        t2 = time.perf_counter()
        rust = omega_rust.run_rust(args.stream, b, cfg)
        t3 = time.perf_counter()
        same = legacy.hash() == rust.hash()
        print(
            f"{name:12s} legacy {(t1 - t0) * 1e6 / n:7.3f} us/ev  rust {(t3 - t2) * 1e6 / n:7.3f} "
            f"us/ev  speed-up {(t1 - t0) / (t3 - t2):6.1f}x  identical={same}"
        )


if __name__ == "__main__":
    main()
