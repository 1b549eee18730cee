"""Load the Hypothesis profile named by ``HYPOTHESIS_PROFILE`` (default ``ci``)."""

from __future__ import annotations

import os

from hypothesis import settings

from property.profiles import register_profiles

register_profiles()
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
