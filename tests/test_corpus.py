"""The golden corpus under the legacy engine: every stream x every strategy (default params).

* every run completes; every strategy except ``noop`` trades on every stream;
* two in-process runs give the same trace hash;
* for a subset, ``python -m legacy_py run`` in subprocesses with ``PYTHONHASHSEED=0`` and
  ``=12345`` gives the same ``trace_hash`` in ``summary.json`` as the in-process run.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from legacy_py.engine import run_python
from legacy_py.loader import CandleStream, load_stream
from legacy_py.strategies import make_strategy, strategy_names
from legacy_py.trace import Trace

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "golden" / "streams"
STREAMS = sorted(p.stem for p in CORPUS.glob("*.arrow"))
BUILT = sorted(e["name"] for e in json.loads((CORPUS / "index.json").read_text()))
NAMES = strategy_names()
#: Streams checked across processes: small ones, one of them multi-timeframe.
CROSS_PROCESS_STREAMS = ["goog_d1", "synthetic_mtf"]
HASH_SEEDS = ("0", "12345")


@functools.cache
def corpus_stream(name: str) -> CandleStream:
    return load_stream(CORPUS / f"{name}.arrow")


@functools.cache
def index() -> dict[str, dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((CORPUS / "index.json").read_text())
    return {e["name"]: e for e in entries}


def run_default(stream: CandleStream, strategy_name: str) -> Trace:
    strategy, config = make_strategy(strategy_name, {}, stream)
    return run_python(stream, strategy, config, 0, {})


def test_corpus_is_complete() -> None:
    # every built stream is present; any other stream (recorded divergences, user data)
    # must be registered with its provenance in golden/manifest.json
    assert set(index()) <= set(STREAMS)
    manifest = json.loads((CORPUS.parent / "manifest.json").read_text())
    assert set(STREAMS) <= set(index()) | set(manifest["streams"])
    assert len(STREAMS) >= 5
    assert set(CROSS_PROCESS_STREAMS) <= set(STREAMS)


@pytest.mark.parametrize("stream_name", BUILT)
@pytest.mark.parametrize("strategy_name", NAMES)
def test_corpus_runs_trade_and_are_deterministic(stream_name: str, strategy_name: str) -> None:
    stream = corpus_stream(stream_name)
    assert len(stream) == index()[stream_name]["events"]
    first = run_default(stream, strategy_name)
    summary = first.summary_dict()
    assert summary["events"] == len(stream) == first.events.num_rows
    if strategy_name == "noop":
        assert summary["trade_count"] == 0 and summary["fill_count"] == 0
    else:
        assert summary["trade_count"] > 0, f"{strategy_name} never trades on {stream_name}"
    second = run_default(stream, strategy_name)
    assert second.hash() == first.hash()


def run_cli(
    stream_name: str, strategy_name: str, out: Path, hash_seed: str
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    env.pop("OMEGA_USE_RUST_EVENT_ENGINE", None)
    argv = [
        sys.executable,
        "-m",
        "legacy_py",
        "run",
        "--stream",
        str(CORPUS / f"{stream_name}.arrow"),
    ]
    argv += ["--strategy", strategy_name, "--out", str(out)]
    return subprocess.Popen(
        argv, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("stream_name", CROSS_PROCESS_STREAMS)
@pytest.mark.parametrize("strategy_name", NAMES)
def test_cross_process_hash_is_independent_of_hash_seed(
    stream_name: str, strategy_name: str, tmp_path: Path
) -> None:
    procs = {
        seed: run_cli(stream_name, strategy_name, tmp_path / seed, seed) for seed in HASH_SEEDS
    }
    hashes = {}
    for seed, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert len(stdout.splitlines()) == 1
        summary = json.loads((tmp_path / seed / "summary.json").read_text())
        hashes[seed] = summary["trace_hash"]
        assert summary["meta"]["engine"] == "legacy"
    in_process = run_default(corpus_stream(stream_name), strategy_name).hash()
    assert hashes == {seed: in_process for seed in HASH_SEEDS}
