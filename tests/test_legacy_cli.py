"""Tests of ``python -m legacy_py`` (``legacy_py/cli.py``): run, indicators, error exits."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from legacy_py.cli import main, parse_params
from legacy_py.engine import run_python
from legacy_py.errors import OmegaError
from legacy_py.indicators import compute_indicators
from legacy_py.loader import load_stream, write_stream
from legacy_py.strategies import make_strategy
from legacy_py.synthetic import generate_stream
from legacy_py.trace import Trace

ROOT = Path(__file__).resolve().parents[1]
CSV_HEADER = "timestamp,timeframe,price_type,open,high,low,close,volume\n"


@pytest.fixture(scope="module")
def stream_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "synth.arrow"
    write_stream(generate_stream(400, seed=11, timeframes=("M1", "M5")), path)
    return path


def bits(values: list[float | None]) -> list[bytes | None]:
    return [None if v is None else struct.pack("<d", v) for v in values]


def expect_error(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> str:
    """``main(argv)`` returns 2 with exactly one stderr line containing ``needle``."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and needle in lines[0], lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    return lines[0]


# ------------------------------------------------------------------------------------ run


def test_run_writes_trace_and_prints_one_line(
    stream_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    params = {"fast": 3, "slow": 8, "commission_rate": 0.0001}
    argv = ["run", "--stream", str(stream_file), "--strategy", "sma_cross"]
    argv += ["--params", json.dumps(params), "--seed", "3", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("sma_cross on synth.arrow [python]: events=960 trades=")
    for name in ("events.arrow", "fills.arrow", "trades.arrow", "summary.arrow", "summary.json"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text())
    back = Trace.read(out)
    assert back.hash() == summary["trace_hash"]
    assert line.endswith(f"hash={summary['trace_hash'][:16]}")
    # the same run in-process gives the same trace
    stream = load_stream(stream_file)
    strategy, config = make_strategy("sma_cross", params, stream)
    trace = run_python(stream, strategy, config, 3, params)
    assert trace.hash() == summary["trace_hash"]
    assert summary["seed"] == 3 and summary["trade_count"] == trace.summary_dict()["trade_count"]
    assert summary["trade_count"] > 0
    assert f"trades={summary['trade_count']} fills={summary['fill_count']}" in line


def test_run_defaults_no_params(
    stream_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--stream", str(stream_file), "--strategy", "noop", "--out", str(tmp_path)]
    assert main([*argv, "--params", ""]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["seed"] == 0
    assert "noop on synth.arrow [python]: events=960 trades=0" in capsys.readouterr().out


def test_run_bad_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    rows = ["60000000,M1,bid,1.0,1.1,0.9,1.0,1.0", "120000000,M1,bid,1.0,0.5,0.8,1.0,1.0"]
    bad.write_text(CSV_HEADER + "\n".join(rows) + "\n")
    argv = ["run", "--stream", str(bad), "--strategy", "noop", "--out", str(tmp_path / "o")]
    line = expect_error(capsys, argv, "OHLCError")
    assert "row 1" in line and "field 'high'" in line
    assert not (tmp_path / "o").exists()
    missing = ["run", "--stream", str(tmp_path / "nope.arrow"), "--strategy", "noop"]
    expect_error(capsys, [*missing, "--out", str(tmp_path / "o")], "SchemaError")
    suffix = ["run", "--stream", str(tmp_path / "x.txt"), "--strategy", "noop"]
    expect_error(capsys, [*suffix, "--out", str(tmp_path / "o")], "unknown file suffix")


@pytest.mark.parametrize(
    ("strategy", "params", "needle"),
    [
        ("nope", None, "ConfigError: unknown strategy 'nope'"),
        ("sma_cross", "{fast: 1}", "--params is not valid JSON"),
        ("sma_cross", "[1, 2]", "--params must be a JSON object"),
        ("sma_cross", '"fast"', "--params must be a JSON object"),
        ("sma_cross", '{"nope": 1}', "ConfigError: strategy 'sma_cross': unknown params ['nope']"),
        ("sma_cross", '{"fast": 9, "slow": 3}', "fast < slow"),
        ("noop", '{"sizing": "kelly"}', "sizing"),
    ],
)
def test_run_bad_config(
    stream_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    strategy: str,
    params: str | None,
    needle: str,
) -> None:
    argv = ["run", "--stream", str(stream_file), "--strategy", strategy, "--out", str(tmp_path)]
    if params is not None:
        argv += ["--params", params]
    expect_error(capsys, argv, needle)
    assert not (tmp_path / "summary.json").exists()


def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["run"], ["run", "--stream", "x.arrow"], ["bogus"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "error:" in err and "Traceback" not in err


def test_parse_params() -> None:
    assert parse_params(None) == {} and parse_params("") == {}
    assert parse_params('{"a": 1, "b": [2]}') == {"a": 1, "b": [2]}
    with pytest.raises(OmegaError, match="not valid JSON"):
        parse_params("{")
    with pytest.raises(OmegaError, match="JSON object"):
        parse_params("null")


def test_run_seed_outside_int64_is_a_clean_error(
    stream_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--stream", str(stream_file), "--strategy", "noop", "--out", str(tmp_path)]
    expect_error(capsys, [*argv, "--seed", str(2**63)], "seed")


# ----------------------------------------------------------------------------- indicators


def read_ipc(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as src:
        return ipc.open_file(src).read_all()


def test_indicators_match_compute_indicators_bit_for_bit(
    stream_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = ["sma:5", "bb:4:2", "rsi:3", "macd:3:6:2", "atr:2", "highest:4"]
    out = tmp_path / "sub" / "ind.arrow"
    argv = ["indicators", "--stream", str(stream_file), "--timeframe", "M5", "--price-type", "ask"]
    for spec in specs:
        argv += ["--spec", spec]
    assert main([*argv, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 80 rows x 10 indicator columns to {out}"
    table = read_ipc(out)
    series = [
        c for c in load_stream(stream_file).candles if (c.timeframe, c.price_type) == ("M5", "ask")
    ]
    expected = compute_indicators(series, "M5", "ask", specs)
    assert table.column_names == ["timestamp", *expected]
    assert table.column("timestamp").to_pylist() == [c.timestamp for c in series]
    for name, values in expected.items():
        assert table.schema.field(name).type == pa.float64()
        assert bits(table.column(name).to_pylist()) == bits(values), name
    # default price type is bid; one spec, one column
    argv = ["indicators", "--stream", str(stream_file), "--timeframe", "M1", "--spec", "ema:3"]
    assert main([*argv, "--out", str(out)]) == 0
    table = read_ipc(out)
    bid = [
        c for c in load_stream(stream_file).candles if (c.timeframe, c.price_type) == ("M1", "bid")
    ]
    assert table.column_names == ["timestamp", "ema_3"]
    assert bits(table.column("ema_3").to_pylist()) == bits(
        compute_indicators(bid, "M1", "bid", ["ema:3"])["ema_3"]
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--timeframe", "M1", "--spec", "sma:0"], "bad indicator spec 'sma:0'"),
        (["--timeframe", "M1", "--spec", "sma:5", "--spec", "wma:3"], "bad indicator spec 'wma:3'"),
        (["--timeframe", "M1", "--spec", "macd:6:3:2"], "bad indicator spec"),
        (["--timeframe", "H1", "--spec", "sma:5"], "no H1/bid events"),
    ],
)
def test_indicators_errors(
    stream_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    needle: str,
) -> None:
    out = tmp_path / "ind.arrow"
    expect_error(
        capsys, ["indicators", "--stream", str(stream_file), *extra, "--out", str(out)], needle
    )
    assert not out.exists()


def test_indicators_bad_price_type_is_usage_error(
    stream_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["indicators", "--stream", str(stream_file), "--timeframe", "M1", "--spec", "sma:2"]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--price-type", "mid", "--out", "x.arrow"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# ---------------------------------------------------------------------------- subprocess


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OMEGA_USE_RUST_EVENT_ENGINE", None)
    return subprocess.run(
        [sys.executable, "-m", "legacy_py", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=120,
        check=False,
    )


def test_module_subprocess_run_and_error(stream_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "trace"
    ok = run_module("run", "--stream", str(stream_file), "--strategy", "churn", "--out", str(out))
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == "" and len(ok.stdout.splitlines()) == 1
    summary = json.loads((out / "summary.json").read_text())
    assert Trace.read(out).hash() == summary["trace_hash"]
    assert summary["trace_hash"][:16] in ok.stdout
    bad = run_module("run", "--stream", str(stream_file), "--strategy", "nope", "--out", str(out))
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.splitlines()) == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: ConfigError: unknown strategy 'nope'")
