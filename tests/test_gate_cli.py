"""The gate through its command line: exit codes and the three summary files."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A one-stream corpus (GOOG daily) without a manifest."""
    streams = tmp_path / "corpus" / "streams"
    streams.mkdir(parents=True)
    shutil.copy(ROOT / "golden" / "streams" / "goog_d1.arrow", streams / "goog_d1.arrow")
    return tmp_path / "corpus"


def _args(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [
        "gate",
        "--corpus",
        str(corpus),
        "--profile",
        "quick",
        "--no-perf",
        "--strategy",
        "sma_cross",
        "--json",
        str(out / "gate.json"),
        "--markdown",
        str(out / "gate.md"),
        "--junit",
        str(out / "junit.xml"),
        "--report-dir",
        str(out / "divergence"),
        *extra,
    ]


def test_gate_passes_and_writes_summaries(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(_args(corpus, out)) == 0
    printed = capsys.readouterr().out
    assert "gate PASS" in printed and "corpus" in printed
    data = json.loads((out / "gate.json").read_text())
    assert data["passed"] is True and data["counts"]["pass"] >= 3
    assert (out / "gate.md").read_text().startswith("# Migration gate: PASS")
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert sum(int(s.get("failures", "0")) for s in root) == 0


def test_gate_fails_on_a_planted_divergence(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(_args(corpus, out, "--candidate", "planted:seed@1", "--strategy", "churn"))
    assert code == 1
    printed = capsys.readouterr().out
    assert "gate FAIL" in printed and "rng_seed" in printed
    data = json.loads((out / "gate.json").read_text())
    assert data["passed"] is False
    md = (out / "gate.md").read_text()
    assert "## Divergences" in md and "rng_seed" in md
    root = ET.parse(out / "junit.xml").getroot()
    failures = root.findall(".//failure")
    assert failures and all(f.get("message") for f in failures)
    reports = list((out / "divergence").iterdir())
    assert reports and (reports[0] / "report.html").exists()


def test_gate_usage_errors_exit_2(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["gate", "--profile", "nope"])
    assert info.value.code == 2
    assert main(_args(corpus, out, "--candidate", "no-such-engine")) == 2
