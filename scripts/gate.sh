#!/usr/bin/env bash
# Set up a fresh machine and run the migration gate on the embedded corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/omega-harness gate "$@"
