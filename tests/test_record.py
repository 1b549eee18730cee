"""``omega-harness record``: a stream in, its provenance and expected hashes in the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.adapters import LegacyAdapter
from harness.cli import main
from harness.golden import check_golden, load_manifest, sha256_file
from legacy_py.loader import load_stream, write_stream
from legacy_py.strategies import strategy_names
from legacy_py.synthetic import generate_stream

HEADER = "timestamp,timeframe,price_type,open,high,low,close,volume\n"


def _csv(tmp_path: Path, name: str = "in.csv", seed: int = 11) -> Path:
    path = tmp_path / name
    write_stream(generate_stream(120, seed=seed, timeframes=("M1", "M5")), path)
    return path


def _manifest(corpus: Path) -> dict[str, Any]:
    return load_manifest(corpus / "manifest.json")


def test_record_csv_writes_stream_provenance_and_hashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "golden"
    argv = ["record", "--from", str(_csv(tmp_path)), "--name", "mini", "--corpus", str(corpus)]
    argv += ["--symbol", "MINI", "--tick-size", "0.0001", "--contract-size", "10"]
    argv += ["--source", "unit-test generator", "--licence", "CC0-1.0"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    path = corpus / "streams" / "mini.arrow"
    assert f"wrote {path}" in out and "6 expected hashes" in out

    m = _manifest(corpus)
    entry = m["streams"]["mini"]
    assert entry["file"] == "streams/mini.arrow"
    assert entry["sha256"] == sha256_file(path)
    assert (entry["symbol"], entry["tick_size"], entry["contract_size"]) == ("MINI", 1e-4, 10.0)
    assert (entry["source"], entry["licence"]) == ("unit-test generator", "CC0-1.0")
    assert entry["timeframes"] == ["M1", "M5"]

    stream = load_stream(path)  # the instrument went into the file's metadata
    assert (stream.instrument.symbol, stream.instrument.contract_size) == ("MINI", 10.0)
    assert entry["events"] == len(stream.candles) == 120 * 2 + 24 * 2
    cases = {c["strategy"]: c for c in m["cases"]}
    assert sorted(cases) == strategy_names() and len(m["cases"]) == len(cases)
    for name, case in cases.items():
        trace = LegacyAdapter().run(stream, name, {}, 0)
        assert (case["params"], case["seed"], case["stream"]) == ({}, 0, "mini")
        assert case["trace_hash"] == trace.hash()
        assert case["tables"] == trace.table_hashes()
        assert case["trace_hash"] in out
    results = check_golden(corpus, ["legacy", "rust"])
    assert {r.status for r in results} == {"pass"}


def test_record_refuses_to_overwrite_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "golden"
    base = ["--corpus", str(corpus), "--name", "mini"]
    assert main(["record", "--from", str(_csv(tmp_path)), *base]) == 0
    assert main(["record", "--from", str(_csv(tmp_path, "b.csv", 12)), "--name", "other",
                 "--corpus", str(corpus)]) == 0  # fmt: skip
    before = (corpus / "manifest.json").read_text()
    capsys.readouterr()

    again = _csv(tmp_path, "again.csv", seed=99)
    assert main(["record", "--from", str(again), *base]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists; pass --force" in err
    assert (corpus / "manifest.json").read_text() == before

    assert main(["record", "--from", str(again), *base, "--force"]) == 0
    assert "replaced" in capsys.readouterr().out
    m = _manifest(corpus)
    assert m["streams"]["mini"]["sha256"] == sha256_file(corpus / "streams" / "mini.arrow")
    assert m["streams"]["mini"]["sha256"] != json.loads(before)["streams"]["mini"]["sha256"]
    assert sorted(m["streams"]) == ["mini", "other"]  # the other entry is untouched
    assert m["streams"]["other"] == json.loads(before)["streams"]["other"]
    assert len(m["cases"]) == 2 * len(strategy_names())
    assert [c["id"] for c in m["cases"]] == sorted(c["id"] for c in m["cases"])
    assert not list((corpus / "streams").glob(".*"))  # no temp file left behind


def test_hypothesis_seed_gives_the_same_stream_twice(tmp_path: Path) -> None:
    digests = []
    for corpus, seed in (("a", 7), ("b", 7), ("c", 8)):
        argv = ["record", "--hypothesis-seed", str(seed), "--bars", "30", "--name", "hyp"]
        assert main([*argv, "--corpus", str(tmp_path / corpus)]) == 0
        m = _manifest(tmp_path / corpus)
        digests.append((m["streams"]["hyp"]["sha256"], [c["trace_hash"] for c in m["cases"]]))
        assert "@seed(" + str(seed) + ")" in m["streams"]["hyp"]["source"]
    assert digests[0] == digests[1]
    assert digests[0][0] != digests[2][0]
    stream = load_stream(tmp_path / "a" / "streams" / "hyp.arrow")
    base_tf = stream.candles[0].timeframe
    bids = [c for c in stream.candles if c.price_type == "bid" and c.timeframe == base_tf]
    assert len(bids) == 30


def test_bad_csv_exits_2_with_the_loaders_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "golden"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "60000000,M1,bid,1.0,1.1,0.9,1.0,1\n120000000,M1,bid,-1.0,1.1,0.9,1.0,1\n"
    )
    assert main(["record", "--from", str(bad), "--name", "bad", "--corpus", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "NonPositivePriceError: row 1, field 'open': open -1.0 <= 0" in err
    assert not corpus.exists()

    malformed = tmp_path / "cols.csv"
    malformed.write_text("timestamp,open\n1,2\n")
    assert main(["record", "--from", str(malformed), "--name", "bad", "--corpus", str(corpus)]) == 2
    assert "SchemaError" in capsys.readouterr().err
    assert not corpus.exists()


@pytest.mark.parametrize(
    "extra",
    [
        ["--from", "x.csv", "--bars", "3", "--name", "n"],
        ["--hypothesis-seed", "1", "--name", "../escape"],
        ["--hypothesis-seed", "1", "--name", "n", "--tick-size", "0"],
        ["--hypothesis-seed", "1", "--name", "n", "--bars", "100000"],
    ],
)
def test_record_usage_errors_exit_2(
    tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", *extra, "--corpus", str(tmp_path / "golden")]) == 2
    assert capsys.readouterr().err.startswith("omega-harness: error: ConfigError: ")
    assert not (tmp_path / "golden").exists()


def test_record_needs_exactly_one_source(tmp_path: Path) -> None:
    for argv in (
        ["record", "--name", "n"],
        ["record", "--name", "n", "--from", "a.csv", "--hypothesis-seed", "1"],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
