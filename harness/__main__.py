"""``python -m harness`` == ``omega-harness``."""

from harness.cli import main

raise SystemExit(main())
