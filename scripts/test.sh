#!/usr/bin/env bash
# Run every check and every test: ruff, mypy --strict, pytest (with coverage),
# cargo fmt, cargo clippy (pedantic, -D warnings) and cargo test.
# Any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source .venv/bin/activate
echo "== ruff";   ruff check . && ruff format --check .
echo "== mypy";   mypy --strict
echo "== cargo fmt";    cargo fmt --all -- --check
echo "== cargo clippy"; cargo clippy --all-targets --all-features -- -W clippy::pedantic -D warnings
echo "== cargo test";   cargo test --all
echo "== pytest"
pytest -q -p no:cacheprovider --cov=legacy_py --cov=harness --cov-report=term --cov-fail-under=85 "$@"
