"""THE golden test: both engines reproduce every expected hash of ``golden/manifest.json``.

Also: the manifest is canonical, agrees with the corpus build, and is current (a fresh
``update_golden`` writes the same bytes); a changed stream, a changed or missing
expected hash each fail ``check_golden`` with a message naming the stream or table.

``pytest tests/test_golden.py --update-golden`` rewrites the manifest from the legacy
engine instead of asserting (explicit act; never in CI).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from harness.gate import CheckResult, run_gate
from harness.golden import (
    EXTRA_CASES,
    GoldenCase,
    check_golden,
    combine_table_hashes,
    derive_provenance,
    expected_cases,
    load_manifest,
    manifest_text,
    sha256_file,
    update_golden,
    write_manifest,
)
from legacy_py.loader import read_table, write_stream
from legacy_py.strategies import strategy_names
from legacy_py.trace import TABLE_NAMES

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"
MANIFEST = GOLDEN / "manifest.json"
SMALL = "goog_d1"


def _updating(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden", default=False))


def _failures(results: list[CheckResult]) -> str:
    return "\n".join(f"[{r.status}] {r.name}: {r.detail}" for r in results if r.status != "pass")


def _small_corpus(tmp_path: Path, names: tuple[str, ...] = (SMALL,)) -> Path:
    """A corpus of ``names`` copied from golden/, with the manifest restricted to them."""
    corpus = tmp_path / "golden"
    (corpus / "streams").mkdir(parents=True)
    for n in names:
        shutil.copy(GOLDEN / "streams" / f"{n}.arrow", corpus / "streams")
    m = load_manifest(MANIFEST)
    m["streams"] = {k: v for k, v in m["streams"].items() if k in names}
    m["cases"] = [c for c in m["cases"] if c["stream"] in names]
    write_manifest(corpus / "manifest.json", m)
    return corpus


def _edit_manifest(corpus: Path, edit: Any) -> None:
    path = corpus / "manifest.json"
    m = json.loads(path.read_text())
    edit(m)
    path.write_text(json.dumps(m))


# ------------------------------------------------------------------- the golden test


@pytest.mark.parametrize("engine", ["legacy", "rust"])
def test_engines_reproduce_every_golden_hash(engine: str, request: pytest.FixtureRequest) -> None:
    if _updating(request) and engine == "legacy":
        update_golden(GOLDEN, "legacy", progress=print)
        pytest.skip(f"--update-golden: rewrote {MANIFEST} from the legacy engine; review the diff")
    results = check_golden(GOLDEN, [engine])
    assert not _failures(results), _failures(results)
    cases = expected_cases(load_manifest(MANIFEST))
    runs = [r for r in results if r.name.endswith(f" {engine}")]
    assert len(runs) == len(cases)


def test_update_golden_reproduces_the_committed_manifest(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The committed manifest is current: regenerating it gives the same bytes."""
    if _updating(request):
        pytest.skip("--update-golden: the manifest was just rewritten")
    corpus = tmp_path / "golden"
    shutil.copytree(GOLDEN / "streams", corpus / "streams")
    shutil.copy(MANIFEST, corpus / "manifest.json")
    written = update_golden(corpus, "legacy")
    assert manifest_text(written) == MANIFEST.read_text()
    assert (corpus / "manifest.json").read_text() == MANIFEST.read_text()


# ------------------------------------------------------------- the manifest itself


def test_manifest_is_canonical_and_complete() -> None:
    text = MANIFEST.read_text()
    manifest = load_manifest(MANIFEST)
    assert manifest_text(manifest) == text  # sorted keys, stable layout
    cases = expected_cases(manifest)
    keys = [e.case.key() for e in cases]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    streams = sorted(p.stem for p in (GOLDEN / "streams").glob("*.arrow"))
    assert sorted(manifest["streams"]) == streams
    for s in streams:
        for strat in strategy_names():
            assert GoldenCase(s, strat).key() in keys, f"{s}::{strat} has no golden case"
    for s, strat, params, seed in EXTRA_CASES:
        assert GoldenCase(s, strat, dict(params), seed).key() in keys
    assert any(e.case.seed == 42 and e.case.params for e in cases)
    for e in cases:
        assert not e.missing()
        assert combine_table_hashes(e.tables) == e.trace_hash
    raw_ids = [c["id"] for c in manifest["cases"]]
    assert raw_ids == [e.case.case_id for e in cases]


def test_manifest_agrees_with_the_corpus_build() -> None:
    """sha256/instrument as in index.json; provenance as in PROVENANCE.md + raw README."""
    manifest = load_manifest(MANIFEST)
    index = json.loads((GOLDEN / "streams" / "index.json").read_text())
    for item in index:
        entry = manifest["streams"][item["name"]]
        assert entry["sha256"] == item["sha256"]
        assert entry["sha256"] == sha256_file(GOLDEN / entry["file"])
        for key in ("events", "symbol", "tick_size", "contract_size", "timeframes"):
            assert entry[key] == item[key], key
        derived = derive_provenance(GOLDEN, item["name"])
        assert {k: entry[k] for k in derived} == derived
        assert "unknown" not in (entry["source"], entry["licence"])


# --------------------------------------------------------------- failure modes


def test_a_changed_stream_fails_with_its_sha256(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path)
    assert not _failures(check_golden(corpus, ["legacy"]))
    path = corpus / "streams" / f"{SMALL}.arrow"
    table = read_table(path)
    row = table.column("price_type").to_pylist().index("ask")
    highs = table.column("high").to_pylist()
    highs[row] = highs[row] + 0.01  # still a valid bar: ask high only grows
    col = table.schema.get_field_index("high")
    write_stream(table.set_column(col, "high", pa.array(highs, pa.float64())), path)
    results = check_golden(corpus, ["legacy"])
    fails = [r for r in results if r.status == "fail"]
    assert [r.name for r in fails] == [f"{SMALL} sha256"]
    assert "sha256" in fails[0].detail and "stream changed" in fails[0].detail
    assert fails[0].data["expected"] != fails[0].data["actual"]
    assert not [r for r in results if r.status == "pass"]  # no case ran on it
    assert {r.status for r in results} == {"fail", "skip"}


def test_a_changed_table_hash_fails_naming_the_table(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path)
    target = f"{SMALL}::sma_cross[]@seed=0"

    def tamper(m: dict[str, Any]) -> None:
        case = next(c for c in m["cases"] if c["id"] == target)
        case["tables"]["fills"] = "0" * 64
        case["trace_hash"] = combine_table_hashes(case["tables"])  # consistent entry

    _edit_manifest(corpus, tamper)
    results = check_golden(corpus, ["legacy", "rust"])
    fails = [r for r in results if r.status == "fail"]
    assert sorted(r.name for r in fails) == [f"{target} legacy", f"{target} rust"]
    for r in fails:
        assert r.data["tables"] == ["fills"]
        assert "table(s) fills differ (events, trades, summary match)" in r.detail


def test_an_inconsistent_or_missing_expected_hash_fails(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path)
    shutil.copy(GOLDEN / "streams" / "eurusd_h1.arrow", corpus / "streams")  # no entry

    def tamper(m: dict[str, Any]) -> None:
        cases = m["cases"]
        edited = next(c for c in cases if c["id"] == f"{SMALL}::churn[]@seed=0")
        edited["trace_hash"] = "f" * 64
        blank = next(c for c in cases if c["id"] == f"{SMALL}::rsi_reversion[]@seed=0")
        del blank["trace_hash"]
        m["cases"] = [c for c in cases if c["id"] != f"{SMALL}::noop[]@seed=0"]

    _edit_manifest(corpus, tamper)
    fails = {r.name: r.detail for r in check_golden(corpus, ["legacy"]) if r.status == "fail"}
    assert "missing expected hash for goog_d1::noop[]@seed=0" in fails["goog_d1::noop[]@seed=0"]
    assert "missing expected hash (trace_hash)" in fails["goog_d1::rsi_reversion[]@seed=0"]
    assert "inconsistent manifest entry" in fails["goog_d1::churn[]@seed=0"]
    assert "has no manifest entry" in fails["eurusd_h1 manifest entry"]
    assert len(fails) == 4


def test_a_missing_or_broken_manifest_fails(tmp_path: Path) -> None:
    (r,) = check_golden(tmp_path, ["legacy"])
    assert (r.check, r.status) == ("golden", "fail") and "not found" in r.detail
    (tmp_path / "manifest.json").write_text("{not json")
    (r,) = check_golden(tmp_path, ["legacy"])
    assert r.status == "fail" and "invalid JSON" in r.detail


def test_the_gate_runs_the_golden_check_when_a_manifest_exists(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path)
    result = run_gate(corpus=corpus, profile="quick", strategies=["noop"], progress=lambda _: None)
    golden = [r for r in result.results if r.check == "golden"]
    n_cases = len(expected_cases(load_manifest(corpus / "manifest.json")))
    assert len(golden) == 1 + 2 * n_cases  # the sha256 row + each case on both engines
    assert result.passed, _failures(result.results)
    assert set(TABLE_NAMES) == set(expected_cases(load_manifest(MANIFEST))[0].tables)
