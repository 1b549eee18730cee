"""Reviewed allowlist of known divergences (``golden/allowlist.toml``).

```toml
[[divergence]]
case = "eurusd_h1::sma_cross*"    # fnmatch pattern over the case id
candidate = "rust"                # engine name
kind = "float_rounding"           # optional: the classification must match
reason = "why this is acceptable, and the tracking issue"
expires = 2027-01-31              # after this date the entry no longer applies
```

An allowlisted divergence is reported as ``allowed``: never as a match, never hidden.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legacy_py.errors import ConfigError

if TYPE_CHECKING:
    from harness.experiment import Case, Comparison


@dataclass(frozen=True)
class AllowEntry:
    """One reviewed divergence."""

    case: str
    candidate: str
    reason: str
    expires: dt.date
    kind: str | None = None

    def matches(self, case: Case, comp: Comparison, today: dt.date) -> bool:
        """Whether this entry covers ``comp`` on ``case`` today."""
        if today > self.expires:
            return False
        if self.candidate != comp.candidate.engine:
            return False
        if not fnmatch.fnmatchcase(case.case_id, self.case):
            return False
        kind = comp.classification.kind if comp.classification else None
        return self.kind is None or self.kind == kind


@dataclass
class Allowlist:
    """All entries of one file."""

    entries: list[AllowEntry]

    @classmethod
    def load(cls, path: Path | None) -> Allowlist:
        """Load ``path``; a missing file is an empty allowlist."""
        if path is None or not path.exists():
            return cls([])
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        entries: list[AllowEntry] = []
        for i, raw in enumerate(data.get("divergence", [])):
            missing = {"case", "candidate", "reason", "expires"} - raw.keys()
            if missing:
                raise ConfigError(f"{path}: divergence #{i} lacks {sorted(missing)}")
            expires = raw["expires"]
            if not isinstance(expires, dt.date):
                raise ConfigError(f"{path}: divergence #{i}: expires must be a TOML date")
            if not str(raw["reason"]).strip():
                raise ConfigError(f"{path}: divergence #{i}: reason must not be empty")
            entries.append(
                AllowEntry(
                    str(raw["case"]),
                    str(raw["candidate"]),
                    str(raw["reason"]),
                    expires,
                    raw.get("kind"),
                )
            )
        return cls(entries)

    def find(self, case: Case, comp: Comparison, today: dt.date | None = None) -> AllowEntry | None:
        """The first entry covering ``comp``, if any."""
        day = today or dt.date.today()
        for e in self.entries:
            if e.matches(case, comp, day):
                return e
        return None
