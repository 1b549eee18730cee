"""Gate summaries: a console table, Markdown and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.gate import GateResult


def _rows(result: GateResult) -> list[tuple[str, int, int, int, int, float]]:
    checks: dict[str, list[int | float]] = {}
    for r in result.results:
        row = checks.setdefault(r.check, [0, 0, 0, 0, 0.0])
        idx = {"pass": 0, "fail": 1, "allowed": 2, "skip": 3}.get(r.status, 3)
        row[idx] += 1
        row[4] += r.seconds
    return [
        (name, int(v[0]), int(v[1]), int(v[2]), int(v[3]), float(v[4]))
        for name, v in checks.items()
    ]


def print_summary(result: GateResult) -> None:
    """The console table."""
    print()
    print(f"{'check':<14}{'pass':>6}{'fail':>6}{'allowed':>9}{'skip':>6}{'seconds':>10}")
    for name, p, f, a, s, secs in _rows(result):
        print(f"{name:<14}{p:>6}{f:>6}{a:>9}{s:>6}{secs:>10.1f}")
    verdict = "PASS" if result.passed else "FAIL"
    print(f"\ngate {verdict} in {result.seconds:.1f}s (profile {result.profile})")
    for r in result.results:
        if r.status in ("fail", "allowed"):
            print(f"  {r.status.upper()}: [{r.check}] {r.name}")
            if r.classification:
                print(f"    class: {r.classification}")
            for line in r.detail.splitlines()[:6]:
                print(f"    {line}")
            if r.report:
                print(f"    report: {r.report}")


def write_markdown(result: GateResult, path: Path) -> None:
    """The Markdown summary."""
    verdict = "PASS" if result.passed else "FAIL"
    lines = [
        f"# Migration gate: {verdict}",
        "",
        f"Profile `{result.profile}`, control `{result.control}`, candidates "
        f"{', '.join(f'`{c}`' for c in result.candidates)}, {result.seconds:.1f} s.",
        "",
        "| check | pass | fail | allowed | skip | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, p, f, a, s, secs in _rows(result):
        lines.append(f"| {name} | {p} | {f} | {a} | {s} | {secs:.1f} |")
    bad = [r for r in result.results if r.status in ("fail", "allowed")]
    if bad:
        lines += ["", "## Divergences", ""]
        for r in bad:
            lines.append(f"- **{r.status}** `{r.check}` {r.name}")
            if r.classification:
                lines.append(f"  - class: `{r.classification}`")
            if r.report:
                lines.append(f"  - report: `{r.report}`")
            for d in r.detail.splitlines()[:6]:
                lines.append(f"  - {d}")
    path.write_text("\n".join(lines) + "\n")


def write_junit(result: GateResult, path: Path) -> None:
    """JUnit XML: one testsuite per check, one testcase per result."""
    root = ET.Element("testsuites", name="omega-harness gate")
    suites: dict[str, ET.Element] = {}
    for r in result.results:
        suite = suites.get(r.check)
        if suite is None:
            suite = ET.SubElement(root, "testsuite", name=r.check)
            suites[r.check] = suite
        case = ET.SubElement(
            suite, "testcase", classname=f"gate.{r.check}", name=r.name, time=f"{r.seconds:.3f}"
        )
        if r.status == "fail":
            fail = ET.SubElement(case, "failure", message=r.classification or "divergence")
            fail.text = r.detail + (f"\nreport: {r.report}" if r.report else "")
        elif r.status in ("allowed", "skip"):
            ET.SubElement(case, "skipped", message=r.detail)
    for name, suite in suites.items():
        rs = [r for r in result.results if r.check == name]
        suite.set("tests", str(len(rs)))
        suite.set("failures", str(sum(r.status == "fail" for r in rs)))
        suite.set("skipped", str(sum(r.status in ("allowed", "skip") for r in rs)))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
