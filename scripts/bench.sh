#!/usr/bin/env bash
# The benchmark suite (benchmarks/, pytest-benchmark): event dispatch at 10k/50k/500k
# events (5M with OMEGA_BENCH_FULL=1), state management and callback invocation at 50k,
# for every available engine path. Writes reports/benchmarks/latest.json and
# reports/benchmarks/summary.md (µs/event, ratio vs legacy, callback overhead).
# Extra arguments go to pytest (e.g. -k dispatch).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || bash scripts/setup.sh
source .venv/bin/activate
mkdir -p reports/benchmarks
python -m pytest benchmarks -p no:cacheprovider -q \
  --benchmark-json=reports/benchmarks/latest.json \
  --benchmark-columns=min,median,iqr,rounds \
  --benchmark-sort=name "$@"
python -m benchmarks.summarize reports/benchmarks/latest.json
