"""harness: the differential migration harness (legacy vs Rust engines)."""
