"""pytest-benchmark suite of the event engine paths (``bash scripts/bench.sh``)."""
