"""Hypothesis settings profiles for the property tests.

* ``ci``: derandomized (reproducible in CI), 40 examples, no deadline, prints the
  reproduction blob of a failure.
* ``dev``: 500 random examples for local bug hunting.

Select with ``HYPOTHESIS_PROFILE=dev`` (default ``ci``; see ``property/conftest.py``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

PROFILES: tuple[str, ...] = ("ci", "dev")


def register_profiles() -> None:
    """Register the ``ci`` and ``dev`` profiles (idempotent)."""
    settings.register_profile(
        "ci",
        derandomize=True,
        deadline=None,
        max_examples=40,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.register_profile("dev", max_examples=500, deadline=None)
