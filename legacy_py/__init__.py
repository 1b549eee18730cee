"""legacy_py: the legacy pure-Python EventEngine (the reference implementation)."""
