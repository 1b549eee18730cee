"""Divergence reports: ``reports/divergence/<id>/`` with Markdown, HTML, JSON and a plot.

Each report holds the classification, the first divergent event with both values in
decimal and hex bits and their ULP distance, per-column divergent row counts, whether
the traces re-converge, the context window of candles before the divergence, each
engine's state just before and at it, both equity curves (SVG, divergence marked),
the minimal stream when one was found, and the exact command that reproduces it.
"""

from __future__ import annotations

import hashlib
import html
import json
import shlex
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from harness.experiment import Case, Comparison
from legacy_py.loader import stream_to_table, write_stream

CONTEXT_BEFORE = 10
STATE_COLUMNS = (
    "cash",
    "equity",
    "realized_pnl",
    "unrealized_pnl",
    "position_qty",
    "avg_price",
    "open_positions",
    "pending_orders",
    "peak_equity",
    "drawdown",
    "signal_type",
    "signal_status",
)


def report_id(case: Case, comp: Comparison) -> str:
    """A stable id: readable prefix plus a short content hash."""
    h = hashlib.sha256(f"{case.case_id}|{comp.candidate.engine}".encode()).hexdigest()[:10]
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in case.stream_name)
    engine = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in comp.candidate.engine)
    return f"{safe}-{case.strategy}-{engine}-{h}"


def _row(table: pa.Table | None, index: int | None) -> dict[str, Any] | None:
    if table is None or index is None or index < 0 or index >= table.num_rows:
        return None
    row: dict[str, Any] = table.slice(index, 1).to_pylist()[0]
    return {k: row[k] for k in row if k in STATE_COLUMNS or k.startswith("ind_")}


def _context(case: Case, first: int | None) -> list[dict[str, Any]]:
    if first is None:
        return []
    lo = max(0, first - CONTEXT_BEFORE)
    out = []
    for i in range(lo, min(first + 1, len(case.stream.candles))):
        c = case.stream.candles[i]
        out.append(
            {
                "event_index": i,
                "timestamp": c.timestamp,
                "timeframe": c.timeframe,
                "price_type": c.price_type,
                "open": c.open,
                "high": c.high,
                "low": c.low,
                "close": c.close,
                "volume": c.volume,
                "divergent": i == first,
            }
        )
    return out


def reproduce_command(case: Case, comp: Comparison, stream_path: str) -> str:
    """The exact command that reproduces the divergence."""
    cmd = [
        "omega-harness",
        "diff",
        "--stream",
        stream_path,
        "--strategy",
        case.strategy,
        "--seed",
        str(case.seed),
        "--control",
        comp.control.engine,
        "--candidate",
        comp.candidate.engine,
    ]
    if case.params:
        cmd += ["--params", json.dumps(case.params, sort_keys=True)]
    return shlex.join(cmd)


def equity_svg(comp: Comparison, first: int | None, width: int = 900, height: int = 300) -> str:
    """Both equity curves as a self-contained SVG, the divergence marked."""
    series: list[tuple[str, str, list[float]]] = []
    for label, color, outcome in (
        (comp.control.engine, "#1f77b4", comp.control),
        (comp.candidate.engine, "#d62728", comp.candidate),
    ):
        if outcome.trace is not None:
            series.append((label, color, outcome.trace.events.column("equity").to_pylist()))
    if not series:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60">'
            '<text x="10" y="30">no equity curve: an engine raised</text></svg>'
        )
    n = max(len(s[2]) for s in series)
    values = [v for s in series for v in s[2]]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    pad = 40

    def xy(i: int, v: float) -> str:
        x = pad + (width - 2 * pad) * (i / max(1, n - 1))
        y = height - pad - (height - 2 * pad) * ((v - lo) / span)
        return f"{x:.1f},{y:.1f}"

    step = max(1, n // 2000)  # at most ~2000 points per curve
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#888"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>',
        f'<text x="{pad}" y="{pad - 10}">equity ({lo:.2f} … {hi:.2f}) over {n} events</text>',
    ]
    for k, (label, color, ys) in enumerate(series):
        pts = " ".join(xy(i, ys[i]) for i in range(0, len(ys), step))
        dash = ' stroke-dasharray="6,4"' if k == 1 else ""
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.5"{dash} points="{pts}"/>'
        )
        parts.append(
            f'<text x="{width - pad - 160}" y="{pad + 16 * k}" fill="{color}">'
            f"{html.escape(label)}</text>"
        )
    if first is not None:
        x = pad + (width - 2 * pad) * (first / max(1, n - 1))
        parts.append(
            f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{height - pad}" '
            'stroke="#ff7f0e" stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{x + 4:.1f}" y="{height - pad - 6}" fill="#ff7f0e">'
            f"first divergence: event {first}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def build_report(
    case: Case, comp: Comparison, stream_path: str, minimal: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The machine-readable report."""
    cls = comp.classification
    first = comp.diff.first_event if comp.diff is not None else None
    if first is None and cls is not None:
        first = cls.first_event
    report: dict[str, Any] = {
        "id": report_id(case, comp),
        "case": case.case_id,
        "stream": case.stream_name,
        "stream_path": stream_path,
        "strategy": case.strategy,
        "params": case.params,
        "seed": case.seed,
        "control": comp.control.engine,
        "candidate": comp.candidate.engine,
        "status": comp.status,
        "classification": asdict(cls) if cls is not None else None,
        "first_event": first,
        "diff": comp.diff.to_dict() if comp.diff is not None else None,
        "control_error": comp.control.error_text() or None,
        "candidate_error": comp.candidate.error_text() or None,
        "context": _context(case, first),
        "state": {
            "control_before": _row(comp.control.trace and comp.control.trace.events, _dec(first)),
            "control_at": _row(comp.control.trace and comp.control.trace.events, first),
            "candidate_before": _row(
                comp.candidate.trace and comp.candidate.trace.events, _dec(first)
            ),
            "candidate_at": _row(comp.candidate.trace and comp.candidate.trace.events, first),
        },
        "reproduce": reproduce_command(case, comp, stream_path),
        "minimal": minimal,
    }
    return report


def _dec(i: int | None) -> int | None:
    return None if i is None else i - 1


def _md_value(v: Any) -> str:
    return "null" if v is None else f"`{v!r}`"


def render_markdown(r: dict[str, Any]) -> str:
    """``report.md``."""
    cls = r["classification"] or {}
    lines = [
        f"# Divergence {r['id']}",
        "",
        f"- case: `{r['case']}`",
        f"- control `{r['control']}` vs candidate `{r['candidate']}`",
        f"- class: **{cls.get('kind', 'n/a')}** — {cls.get('reason', '')}",
        f"- first divergent event: {r['first_event']}",
        "",
        "Reproduce:",
        "",
        "```",
        r["reproduce"],
        "```",
    ]
    diff = r["diff"]
    if diff:
        lines += ["", "## First divergence", ""]
        for name in ("events", "fills", "trades", "summary"):
            t = diff[name]
            if t["first_row"] is None and not t["schema_differences"]:
                continue
            lines.append(
                f"### {name}: rows {t['control_rows']} vs {t['candidate_rows']}, first "
                f"divergent row {t['first_row']}, re-converges: {t['reconverges']}"
            )
            lines += ["", "| column | control | candidate | control bits | candidate bits | ULPs |"]
            lines.append("|---|---|---|---|---|---:|")
            for c in t["first_cells"]:
                lines.append(
                    f"| {c['column']} | {_md_value(c['control'])} | {_md_value(c['candidate'])} "
                    f"| {c['control_hex'] or ''} | {c['candidate_hex'] or ''} "
                    f"| {'' if c['ulps'] is None else c['ulps']} |"
                )
            lines += ["", "| column | divergent rows | first row |", "|---|---:|---:|"]
            for c in t["columns"]:
                lines.append(f"| {c['column']} | {c['divergent_rows']} | {c['first_row']} |")
            lines.append("")
    for label in ("control_error", "candidate_error"):
        if r[label]:
            lines += [f"## {label.replace('_', ' ')}", "", "```", r[label].rstrip(), "```", ""]
    if r["context"]:
        lines += ["## Candles before the divergence", ""]
        lines.append("| event | timestamp | tf | side | open | high | low | close |")
        lines.append("|---:|---:|---|---|---:|---:|---:|---:|")
        for c in r["context"]:
            mark = " **←**" if c["divergent"] else ""
            lines.append(
                f"| {c['event_index']}{mark} | {c['timestamp']} | {c['timeframe']} | "
                f"{c['price_type']} | {c['open']!r} | {c['high']!r} | {c['low']!r} | "
                f"{c['close']!r} |"
            )
        lines.append("")
    state = r["state"]
    keys: list[str] = []
    for v in state.values():
        for k in v or {}:
            if k not in keys:
                keys.append(k)
    if keys:
        lines += ["## Engine state just before and at the divergence", ""]
        lines.append("| field | control before | control at | candidate before | candidate at |")
        lines.append("|---|---|---|---|---|")
        for k in keys:
            vals = [
                (state[s] or {}).get(k)
                for s in ("control_before", "control_at", "candidate_before", "candidate_at")
            ]
            lines.append(f"| {k} | " + " | ".join(_md_value(v) for v in vals) + " |")
        lines.append("")
    lines += ["## Equity curves", "", "![equity](equity.svg)", ""]
    if r["minimal"]:
        m = r["minimal"]
        lines += [
            "## Minimal failing stream",
            "",
            f"{m['events']} events (from {m['original_events']}), saved as `{m['path']}`; "
            f"signature `{m['signature']}`.",
            "",
        ]
    return "\n".join(lines)


def render_html(r: dict[str, Any], md: str, svg: str) -> str:
    """A self-contained ``report.html`` (inline CSS and SVG, no external assets)."""
    body: list[str] = []
    in_table = False
    in_code = False
    for line in md.splitlines():
        if line.startswith("```"):
            body.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            body.append(html.escape(line))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-:") for c in cells):
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                body.append("<table>")
                in_table = True
            body.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("!["):
            body.append(svg)
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<li>{_inline(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
    if in_table:
        body.append("</table>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "th{background:#f3f3f3}pre{background:#f6f8fa;padding:1em;overflow-x:auto}"
        "code{background:#f6f8fa;padding:0 3px}h1{font-size:1.6em}"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(r['id'])}</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _inline(text: str) -> str:
    out = html.escape(text)
    parts = out.split("`")
    for i in range(1, len(parts), 2):
        parts[i] = f"<code>{parts[i]}</code>"
    out = "".join(parts)
    while "**" in out:
        out = out.replace("**", "<b>", 1).replace("**", "</b>", 1)
    return out


def write_divergence_report(
    case: Case,
    comp: Comparison,
    report_dir: Path,
    stream_path: str | None = None,
    minimal: dict[str, Any] | None = None,
) -> Path:
    """Write the report directory and return its path."""
    out = Path(report_dir) / report_id(case, comp)
    out.mkdir(parents=True, exist_ok=True)
    if stream_path is None:
        # keep the input next to the report so the command always reproduces it
        stream_file = out / "stream.arrow"
        table = case.stream.table if case.stream.table is not None else stream_to_table(case.stream)
        write_stream(table, stream_file)
        stream_path = str(stream_file)
    report = build_report(case, comp, stream_path, minimal)
    md = render_markdown(report)
    first = report["first_event"]
    svg = equity_svg(comp, first)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out / "report.md").write_text(md + "\n")
    (out / "equity.svg").write_text(svg + "\n")
    (out / "report.html").write_text(render_html(report, md, svg))
    return out
