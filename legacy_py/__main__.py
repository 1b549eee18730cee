"""``python -m legacy_py``: run a strategy or compute indicators on a stream."""

from __future__ import annotations

from legacy_py.cli import main

raise SystemExit(main())
