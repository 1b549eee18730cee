"""Performance measurement shared by the benchmark suite, ``omega-harness baseline``,
``omega-harness profile`` and the performance gate.

Definitions and the noise policy are in ``docs/performance.md``. In short:

* **streams**: :func:`stream_file` writes ``generate_stream(events // 2, seed=BENCH_SEED)``
  (M1 bid + ask, so ``events`` events) as Arrow IPC once and reuses it;
* **time**: wall time of ``adapter.run`` on an already loaded stream (loading and
  validation of the Python candles excluded for every engine), ``time.perf_counter``;
* **direct calls**: the strategy's own Python work: the exact ``on_candle`` and
  ``check_exit`` calls of a legacy run, recorded with their argument objects and
  replayed from a plain Python loop on a fresh strategy (:func:`record_calls`,
  :func:`time_direct`);
* **callback overhead** = ``(T_candidate_run - T_direct_calls) / T_legacy_run``;
* **peak memory**: memray's ``peak_memory`` of one run (memray hooks ``malloc``, so
  Rust allocations count; native traces on to attribute them; Python allocators
  traced, so every object counts; pyarrow switched to the system allocator while
  tracking, so Arrow buffers count too; see :func:`peak_memory`);
* **leaks**: RSS (``/proc/self/statm``) over repeated short runs (:func:`leak_check`).
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pyarrow as pa

from harness.adapters import EngineAdapter, get_adapter
from legacy_py.config import EngineConfig
from legacy_py.engine import run_python
from legacy_py.errors import ConfigError
from legacy_py.loader import CandleStream, load_stream, write_stream
from legacy_py.strategies import make_strategy
from legacy_py.synthetic import generate_stream
from legacy_py.trace import Trace
from legacy_py.types import Candle, IndicatorRequest, Indicators, Position, StrategySignal

ROOT = Path(__file__).resolve().parent.parent
#: Seed of every benchmark stream.
BENCH_SEED = 7
#: Where generated benchmark streams are cached (``OMEGA_BENCH_STREAMS`` overrides).
STREAM_DIR = ROOT / "reports" / "benchmarks" / "streams"
#: Engine paths the benchmarks and the profiler try, in order; unavailable ones are
#: skipped (``rust-batch`` / ``rust-native`` are adapters that may not exist yet).
ENGINE_PATHS: tuple[str, ...] = ("legacy", "rust", "rust-batch", "rust-native")
#: Engines that run the registered strategies natively (no Python callbacks): callback
#: overhead does not apply to them.
NATIVE_ENGINES = frozenset({"rust-native"})

# Targets and thresholds of the runbook ("Performance-Baseline", "Akzeptanzkriterien").
DISPATCH_TARGET = 5.0
DISPATCH_MIN = 3.0
STATE_TARGET = 3.0
CALLBACK_TARGET = 1.0
OVERHEAD_MAX = 0.05
RUNBOOK_DISPATCH_SECONDS_50K = 0.34

# Leak check: RSS growth allowed between the first and the second half of the runs.
LEAK_BOUND_BYTES = 512 * 1024


# --------------------------------------------------------------------------- streams


def stream_dir() -> Path:
    """The stream cache directory (``OMEGA_BENCH_STREAMS`` or :data:`STREAM_DIR`)."""
    raw = os.environ.get("OMEGA_BENCH_STREAMS")
    return Path(raw) if raw else STREAM_DIR


def stream_file(events: int, cache_dir: Path | None = None) -> Path:
    """The cached Arrow IPC file of the ``events``-event benchmark stream (written once).

    ``events`` must be even: each M1 bar is one bid and one ask event.
    """
    if events < 2 or events % 2:
        raise ValueError(f"events must be an even number >= 2, got {events!r}")
    base = cache_dir if cache_dir is not None else stream_dir()
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"synthetic_m1_{events}ev_seed{BENCH_SEED}.arrow"
    if not path.exists():
        stream = generate_stream(events // 2, seed=BENCH_SEED)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.arrow")
        write_stream(stream, tmp)
        tmp.replace(path)  # atomic: concurrent writers agree
    return path


def bench_stream(events: int, cache_dir: Path | None = None) -> CandleStream:
    """The ``events``-event benchmark stream, loaded and validated."""
    return load_stream(stream_file(events, cache_dir))


def parse_sizes(raw: str) -> list[int]:
    """``"10k,50000,1.5M"`` → ``[10000, 50000, 1500000]`` (event counts)."""
    out: list[int] = []
    for part in raw.split(","):
        text = part.strip().lower().replace("_", "")
        if not text:
            continue
        scale = 1
        if text[-1] in "km":
            scale = 1000 if text[-1] == "k" else 1_000_000
            text = text[:-1]
        try:
            value = round(float(text) * scale)
        except ValueError:
            raise ConfigError(f"bad size {part!r}: expected e.g. 10k, 50000, 1.5M") from None
        if value < 2 or value % 2:
            raise ConfigError(f"bad size {part!r}: event counts must be even and >= 2")
        out.append(value)
    if not out:
        raise ConfigError("no sizes given")
    return out


# --------------------------------------------------------------------------- engines


def available_engines(
    names: Sequence[str] = ENGINE_PATHS,
) -> tuple[list[str], dict[str, str]]:
    """(engines that resolve and run a tiny stream, {skipped engine: reason})."""
    tiny = generate_stream(20, seed=BENCH_SEED)
    ok: list[str] = []
    skipped: dict[str, str] = {}
    for name in names:
        try:
            get_adapter(name).run(tiny, "noop", {}, 0)
        except (ConfigError, ImportError, AttributeError, NotImplementedError) as exc:
            skipped[name] = f"{type(exc).__name__}: {exc}"
        else:
            ok.append(name)
    return ok, skipped


def time_run(
    adapter: EngineAdapter,
    stream: CandleStream,
    strategy: str,
    params: Mapping[str, Any] | None = None,
) -> float:
    """Seconds of one ``adapter.run`` (freeing the trace is not timed)."""
    t0 = time.perf_counter()
    trace = adapter.run(stream, strategy, params or {}, 0)
    seconds = time.perf_counter() - t0
    del trace
    return seconds


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Stats:
    """Order statistics of timing samples (seconds)."""

    samples: tuple[float, ...]

    @property
    def rounds(self) -> int:
        """Number of samples."""
        return len(self.samples)

    @property
    def min(self) -> float:
        """Fastest sample."""
        return min(self.samples)

    @property
    def median(self) -> float:
        """Median sample."""
        return statistics.median(self.samples)

    @property
    def q1(self) -> float:
        """First quartile (inclusive method; the sample itself for one round)."""
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=4, method="inclusive")[0]

    @property
    def q3(self) -> float:
        """Third quartile (inclusive method)."""
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=4, method="inclusive")[2]

    @property
    def iqr(self) -> float:
        """Interquartile range."""
        return self.q3 - self.q1

    def to_dict(self, events: int) -> dict[str, Any]:
        """JSON-ready: seconds and µs/event."""
        us = 1e6 / events
        return {
            "events": events,
            "rounds": self.rounds,
            "min_s": self.min,
            "median_s": self.median,
            "iqr_s": self.iqr,
            "us_per_event_min": self.min * us,
            "us_per_event_median": self.median * us,
            "us_per_event_iqr": self.iqr * us,
        }


def measure(fn: Callable[[], float], rounds: int, warmup: int = 1) -> Stats:
    """Run ``fn`` (which returns its own seconds) ``warmup`` + ``rounds`` times."""
    for _ in range(warmup):
        fn()
    return Stats(tuple(fn() for _ in range(rounds)))


# --------------------------------------------------------------------------- direct calls


class _Recorder:
    """Delegates to ``inner`` and records every callback with its argument objects."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.on_candle_args: list[tuple[Candle, Indicators]] = []
        self.check_exit_args: list[tuple[Position, Candle, Indicators]] = []

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        return list(self.inner.subscriptions())

    def indicators(self) -> Sequence[IndicatorRequest]:
        return list(self.inner.indicators())

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        self.on_candle_args.append((candle, indicators))
        result: StrategySignal | None = self.inner.on_candle(candle, indicators)
        return result

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        self.check_exit_args.append((position, candle, indicators))
        result: bool = self.inner.check_exit(position, candle, indicators)
        return result


@dataclass
class RecordedCalls:
    """The callbacks of one legacy run, with the argument objects the engine passed."""

    strategy: str
    params: dict[str, Any]
    on_candle: list[tuple[Candle, Indicators]]
    check_exit: list[tuple[Position, Candle, Indicators]]

    @property
    def calls(self) -> int:
        """Number of callbacks."""
        return len(self.on_candle) + len(self.check_exit)


def record_calls(
    stream: CandleStream, strategy: str, params: Mapping[str, Any] | None = None
) -> RecordedCalls:
    """Run the legacy engine once and record every ``on_candle``/``check_exit`` call."""
    strat, cfg = make_strategy(strategy, params, stream)
    rec = _Recorder(strat)
    run_python(stream, rec, cfg, 0, params)
    return RecordedCalls(strategy, dict(params or {}), rec.on_candle_args, rec.check_exit_args)


def replay_calls(strategy: Any, calls: RecordedCalls) -> None:
    """Make the recorded calls on ``strategy`` from a plain Python loop: ``on_candle``
    calls in their recorded order, then the ``check_exit`` calls (the reference
    strategies' ``check_exit`` is stateless)."""
    on_candle = strategy.on_candle
    check_exit = strategy.check_exit
    for c, i in calls.on_candle:
        on_candle(c, i)
    for p, c, i in calls.check_exit:
        check_exit(p, c, i)


def fresh_strategy(stream: CandleStream, calls: RecordedCalls) -> Any:
    """A new instance of the recorded strategy (same params)."""
    strat, _ = make_strategy(calls.strategy, calls.params, stream)
    return strat


def time_direct(stream: CandleStream, calls: RecordedCalls) -> float:
    """Seconds of :func:`replay_calls` on a fresh strategy (creation not timed)."""
    strat = fresh_strategy(stream, calls)
    t0 = time.perf_counter()
    replay_calls(strat, calls)
    return time.perf_counter() - t0


def bare_call_seconds(calls: int = 200_000, rounds: int = 7) -> float:
    """Seconds per bare Python method call with prebuilt arguments (median of rounds):
    ``NoopStrategy.on_candle(candle, indicators)`` from a plain ``for`` loop."""
    stream = generate_stream(200, seed=BENCH_SEED)
    strat, _ = make_strategy("noop", {}, stream)
    candles = stream.candles
    args: list[tuple[Candle, Indicators]] = [(candles[k % len(candles)], {}) for k in range(calls)]
    fn = strat.on_candle
    samples: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for c, i in args:
            fn(c, i)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) / calls


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class MemoryPeak:
    """memray's view of one tracked call."""

    peak_bytes: int
    total_allocations: int

    @property
    def peak_mib(self) -> float:
        """Peak in MiB."""
        return self.peak_bytes / 2**20


def peak_memory(
    fn: Callable[[], object], tmp_dir: Path | None = None, python_allocators: bool = True
) -> MemoryPeak:
    """Peak heap memory of ``fn()`` (memray ``Tracker(native_traces=True)``).

    * pyarrow's default pool (mimalloc/jemalloc) keeps freed memory mapped and reuses
      it without a new ``mmap``, so memray would not see Arrow buffers allocated by
      pyarrow after a warm-up; while tracking, pyarrow uses the system allocator.
    * ``python_allocators`` (memray's ``trace_python_allocators``): every Python
      object allocation counts individually; without it memray sees pymalloc's
      1 MiB arenas, and whether a run needs a new arena depends on earlier runs.

    Run ``fn`` once untracked first so that one-time initialisation is not counted.
    """
    import memray

    pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        with tempfile.TemporaryDirectory(dir=tmp_dir) as d:
            path = Path(d) / "memray.bin"
            gc.collect()
            with memray.Tracker(
                file_name=str(path),
                native_traces=True,
                trace_python_allocators=python_allocators,
            ):
                result = fn()
                del result
            reader = memray.FileReader(str(path))
            try:
                meta = reader.metadata
                return MemoryPeak(int(meta.peak_memory), int(meta.total_allocations))
            finally:
                reader.close()
    finally:
        pa.set_memory_pool(pool)


def run_peak(
    adapter: EngineAdapter, stream: CandleStream, strategy: str, warmup: bool = True
) -> MemoryPeak:
    """Peak memory of one ``adapter.run`` on an already loaded stream."""

    def run() -> object:
        return adapter.run(stream, strategy, {}, 0)

    if warmup:
        pool = pa.default_memory_pool()
        pa.set_memory_pool(pa.system_memory_pool())
        try:
            run()
        finally:
            pa.set_memory_pool(pool)
    return peak_memory(run)


def file_runner(engine: str, path: Path, strategy: str) -> Callable[[], object]:
    """One run from the stream FILE, as each engine is used in practice: legacy loads
    the Python candles; rust memory-maps the file; other adapters load a CandleStream."""
    if engine == "legacy":

        def legacy() -> object:
            stream = load_stream(path)
            strat, cfg = make_strategy(strategy, {}, stream)
            return run_python(stream, strat, cfg)

        return legacy
    if engine == "rust":

        def rust() -> object:
            from omega_rust import run_rust

            strat, cfg = make_strategy(strategy, {}, None)
            return run_rust(path, strat, cfg)

        return rust
    adapter = get_adapter(engine)

    def other() -> object:
        stream = load_stream(path)
        return adapter.run(stream, strategy, {}, 0)

    return other


# --------------------------------------------------------------------------- leaks


def rss_bytes() -> int:
    """Resident set size of this process (``/proc/self/statm``)."""
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


class AlwaysRaises:
    """A strategy whose ``on_candle`` raises ``RuntimeError`` at its first call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name

    def subscriptions(self) -> Sequence[tuple[str, str]]:
        return list(self.inner.subscriptions())

    def indicators(self) -> Sequence[IndicatorRequest]:
        return list(self.inner.indicators())

    def on_candle(self, candle: Candle, indicators: Indicators) -> StrategySignal | None:
        raise RuntimeError(f"leak check: {self.name} raises at {candle.timestamp}")

    def check_exit(self, position: Position, candle: Candle, indicators: Indicators) -> bool:
        return False


StrategyRunner = Callable[[CandleStream, Any, EngineConfig], Trace]


def strategy_runner(engine: str) -> StrategyRunner | None:
    """The engine's run function taking a strategy OBJECT (None: adapter-only engine)."""
    if engine == "legacy":
        return run_python
    if engine == "rust":
        from omega_rust import run_rust

        return run_rust
    return None


@dataclass
class LeakResult:
    """RSS over ``runs`` repeated runs after a warm-up."""

    engine: str
    strategy: str
    runs: int
    events: int
    raising: bool
    rss_first_bytes: int  # median RSS over the first half of the runs
    rss_last_bytes: int  # median RSS over the second half
    growth_bytes: int  # median RSS of the second half minus the first half
    bound_bytes: int
    seconds: float
    errors: int = 0

    @property
    def passed(self) -> bool:
        """Growth within the bound (and, for a raising strategy, every run raised)."""
        return self.growth_bytes <= self.bound_bytes and (
            not self.raising or self.errors == self.runs
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "engine": self.engine,
            "strategy": self.strategy,
            "runs": self.runs,
            "events": self.events,
            "raising": self.raising,
            "rss_first_mib": self.rss_first_bytes / 2**20,
            "rss_last_mib": self.rss_last_bytes / 2**20,
            "growth_kib": self.growth_bytes / 1024,
            "bound_kib": self.bound_bytes / 1024,
            "errors": self.errors,
            "seconds": self.seconds,
            "passed": self.passed,
        }


def leak_check(
    engine: str,
    stream: CandleStream,
    strategy: str = "churn",
    runs: int = 1000,
    warmup: int = 200,
    raising: bool = False,
    bound_bytes: int = LEAK_BOUND_BYTES,
) -> LeakResult:
    """Run ``engine`` ``runs`` times on ``stream`` and compare the RSS of the second
    half of the runs with the first half. ``raising``: the strategy raises on every run
    (needs an engine with a :func:`strategy_runner`)."""
    if raising:
        runner = strategy_runner(engine)
        if runner is None:
            raise ConfigError(f"leak check: engine {engine!r} cannot run a strategy object")

        def one() -> bool:
            strat, cfg = make_strategy(strategy, {}, stream)
            try:
                runner(stream, AlwaysRaises(strat), cfg)
            except RuntimeError:
                return True
            return False

    else:
        adapter = get_adapter(engine)

        def one() -> bool:
            adapter.run(stream, strategy, {}, 0)
            return False

    for _ in range(warmup):
        one()
    gc.collect()
    samples: list[int] = []
    errors = 0
    t0 = time.perf_counter()
    for _ in range(runs):
        errors += one()
        samples.append(rss_bytes())
    seconds = time.perf_counter() - t0
    half = max(1, runs // 2)
    first, last = samples[:half], samples[half:] or samples[:half]
    first_med = int(statistics.median(first))
    last_med = int(statistics.median(last))
    # Medians, not maxima: RSS also steps up once when an allocator grows an arena (seen:
    # one +0.5 MiB step in 1,000 runs, flat over the next 30,000), which is not a leak;
    # a leak of L bytes per run moves the median by ~runs/2 * L.
    growth = last_med - first_med
    return LeakResult(
        engine,
        strategy,
        runs,
        len(stream),
        raising,
        first_med,
        last_med,
        growth,
        bound_bytes,
        seconds,
        errors,
    )


# --------------------------------------------------------------------------- environment


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def _load_average() -> dict[str, float] | None:
    """1/5/15-minute load average when measured: a busy machine inflates times."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return None
    return {"1m": one, "5m": five, "15m": fifteen}


def git_commit() -> str | None:
    """``git rev-parse HEAD`` of the project (None without git or repository)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment() -> dict[str, Any]:
    """Machine, Python, package versions and git commit."""
    omega_rust_version: str | None
    try:
        import omega_rust

        omega_rust_version = str(omega_rust.__version__)
    except ImportError:
        omega_rust_version = None
    return {
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_model": _cpu_model(),
            "cores": os.cpu_count(),
            "memory_total_bytes": _memory_total_bytes(),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "packages": {
            "pyarrow": pa.__version__,
            "numpy": _version("numpy"),
            "hypothesis": _version("hypothesis"),
            "memray": _version("memray"),
            "omega-migrate": _version("omega-migrate"),
            "omega_rust": omega_rust_version,
        },
        "git_commit": git_commit(),
        "load_average": _load_average(),
    }


def targets() -> dict[str, Any]:
    """The runbook's performance targets (``Performance-Baseline``, acceptance criteria)."""
    return {
        "event_dispatch": {
            "typical_seconds_50k_events": RUNBOOK_DISPATCH_SECONDS_50K,
            "target_speedup": DISPATCH_TARGET,
            "acceptance_min_speedup": DISPATCH_MIN,
            "priority": "high",
        },
        "state_management": {"target_speedup": STATE_TARGET, "priority": "medium"},
        "callback_invocation": {
            "target_speedup": CALLBACK_TARGET,
            "note": "Python-bound: no change expected",
            "priority": "low",
        },
        "callback_overhead": {
            "max_fraction": OVERHEAD_MAX,
            "definition": "(T_rust_run - T_direct_python_calls) / T_legacy_run, "
            "sma_cross, 50k events",
        },
        "memory": {"rule": "peak memory <= legacy (Python) baseline, same stream"},
        "leaks": {"rule": "no RSS growth over repeated runs", "bound_kib": LEAK_BOUND_BYTES / 1024},
    }
