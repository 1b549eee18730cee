"""Summarise a pytest-benchmark JSON: µs/event per path, ratio vs legacy, callback overhead.

Usage: ``python -m benchmarks.summarize [reports/benchmarks/latest.json] [--out summary.md]``
(``scripts/bench.sh`` runs it). Ratios compare medians measured in the same run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.perf import NATIVE_ENGINES as NATIVE_PATHS

DEFAULT_JSON = Path("reports/benchmarks/latest.json")
OP_ORDER = {"event_dispatch": 0, "state_management": 1, "callback_invocation": 2}


def rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per benchmark: operation, strategy, events, path, median, µs/event, ratio."""
    out: list[dict[str, Any]] = []
    for b in doc.get("benchmarks", []):
        info = b.get("extra_info") or {}
        if "operation" not in info:
            continue
        st = b["stats"]
        events = int(info["events"])
        row = {
            "operation": info["operation"],
            "strategy": info["strategy"],
            "events": events,
            "path": info["path"],
            "rounds": int(st["rounds"]),
            "median_s": float(st["median"]),
            "min_s": float(st["min"]),
            "iqr_s": float(st["iqr"]),
            "us_per_event": float(st["median"]) * 1e6 / events,
            "callbacks": info.get("callbacks"),
        }
        out.append(row)
    legacy = {
        (r["operation"], r["strategy"], r["events"]): r["median_s"]
        for r in out
        if r["path"] == "legacy"
    }
    for r in out:
        ref = legacy.get((r["operation"], r["strategy"], r["events"]))
        r["ratio_vs_legacy"] = ref / r["median_s"] if ref and r["path"] != "legacy" else None
        cb = r["callbacks"]
        native = r["path"] in NATIVE_PATHS
        r["us_per_callback"] = r["median_s"] * 1e6 / cb if cb and not native else None
    out.sort(key=lambda r: (OP_ORDER.get(r["operation"], 9), r["strategy"], r["events"]))
    return out


def overheads(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Callback overhead per strategy and Python-callback path:
    ``(T_path_run - T_direct_calls) / T_legacy_run`` (the gated definition), and, when a
    native path was measured, the bridge-only share
    ``(T_path_run - T_native_run - T_direct_calls) / T_legacy_run``."""
    cb = [r for r in table if r["operation"] == "callback_invocation"]
    out: list[dict[str, Any]] = []
    for strat in sorted({r["strategy"] for r in cb}):
        by_path = {r["path"]: r["median_s"] for r in cb if r["strategy"] == strat}
        if "legacy" not in by_path or "direct" not in by_path:
            continue
        legacy, direct = by_path["legacy"], by_path["direct"]
        native = next((by_path[p] for p in sorted(NATIVE_PATHS) if p in by_path), None)
        for path, t in by_path.items():
            if path in ("legacy", "direct") or path in NATIVE_PATHS:
                continue
            out.append(
                {
                    "strategy": strat,
                    "path": path,
                    "overhead": (t - direct) / legacy,
                    "bridge_only": (t - native - direct) / legacy if native else None,
                    "direct_share_of_legacy": direct / legacy,
                }
            )
    return out


def markdown(doc: dict[str, Any]) -> str:
    """The summary as Markdown."""
    table = rows(doc)
    info = doc.get("machine_info") or {}
    cpu = (info.get("cpu") or {}).get("brand_raw", "?")
    commit = (doc.get("commit_info") or {}).get("id", "?")
    lines = [
        "# Benchmark summary",
        "",
        f"{doc.get('datetime', '?')}, {cpu}, Python {info.get('python_version', '?')}, "
        f"commit `{commit}`. Medians over rounds; ratio = legacy median / path median "
        "(same operation, strategy and size, same run).",
        "",
        "| operation | strategy | events | path | rounds | median ms | µs/event | µs/callback "
        "| vs legacy |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        ratio = f"{r['ratio_vs_legacy']:.1f}x" if r["ratio_vs_legacy"] else "–"
        per_cb = f"{r['us_per_callback']:.3f}" if r["us_per_callback"] else "–"
        lines.append(
            f"| {r['operation']} | {r['strategy']} | {r['events']:,} | {r['path']} | "
            f"{r['rounds']} | {r['median_s'] * 1e3:.2f} | {r['us_per_event']:.3f} | {per_cb} | "
            f"{ratio} |"
        )
    ovs = overheads(table)
    if ovs:
        lines += [
            "",
            "Callback overhead = (T_path_run − T_direct_calls) / T_legacy_run "
            "(docs/performance.md); must be < 5 %. Bridge only = (T_path_run − "
            "T_rust-native_run − T_direct_calls) / T_legacy_run (the native path runs the "
            "same engine without Python callbacks). The definition is Strategy B's (`rust`): "
            "`rust-batch` makes its Python calls through `on_batch`, so its row is for "
            "orientation only.",
            "",
            "| strategy | path | overhead | bridge only | direct calls / legacy run |",
            "|---|---|---:|---:|---:|",
        ]
        for o in ovs:
            bridge = f"{o['bridge_only']:.2%}" if o["bridge_only"] is not None else "–"
            lines.append(
                f"| {o['strategy']} | {o['path']} | {o['overhead']:.2%} | {bridge} | "
                f"{o['direct_share_of_legacy']:.2%} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the summary and write it next to the JSON (or to ``--out``)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("json", nargs="?", default=str(DEFAULT_JSON))
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    src = Path(args.json)
    text = markdown(json.loads(src.read_text()))
    out = Path(args.out) if args.out else src.with_name("summary.md")
    out.write_text(text)
    print(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
