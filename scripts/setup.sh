#!/usr/bin/env bash
# Set up a fresh machine: a virtualenv in .venv with the project installed
# editable (this builds the omega_rust extension with maturin, release profile).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/python -c "import legacy_py, harness, omega_rust; print('omega_rust', omega_rust.__version__)"
