"""Shared pytest configuration of ``tests/``.

``--update-golden``: ``tests/test_golden.py`` rewrites ``golden/manifest.json`` from the
legacy engine instead of asserting against it. An explicit, reviewed act (commit the
diff together with the change that explains it); CI never passes it. See
``docs/harness.md`` ("Golden files").
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--update-golden``."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden/manifest.json from the legacy engine instead of asserting "
        "(explicit act; never in CI)",
    )
