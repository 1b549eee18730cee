"""Engine configuration, and how one ``params`` mapping splits into engine and strategy parts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from legacy_py.errors import ConfigError

SIZING_MODES = ("fixed", "risk")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Execution and portfolio settings. See ``docs/engine_semantics.md``.

    * ``commission_rate``: fraction of fill notional (qty * price * contract_size) per fill.
    * ``slippage_fixed`` + ``slippage_random * U``: adverse slippage in price units on
      market and stop fills; ``U`` is :func:`legacy_py.rng.uniform` keyed by
      (seed, event index, lane).
    * ``sizing``: ``"fixed"`` trades ``units``; ``"risk"`` risks ``risk_pct`` of equity
      against the stop distance, floored to a multiple of ``lot_step``.
    * ``max_positions``: open positions plus pending entry orders never exceed it.
    * ``limit_ttl``: execution-side bars a limit entry stays live before it is cancelled.
    """

    initial_cash: float = 100_000.0
    commission_rate: float = 0.0
    slippage_fixed: float = 0.0
    slippage_random: float = 0.0
    sizing: str = "fixed"
    units: float = 1.0
    risk_pct: float = 0.01
    lot_step: float = 0.01
    max_positions: int = 1
    limit_ttl: int = 10

    def __post_init__(self) -> None:
        for name in (
            "initial_cash",
            "commission_rate",
            "slippage_fixed",
            "slippage_random",
            "units",
            "risk_pct",
            "lot_step",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, float):
                raise ConfigError(f"engine param {name!r} must be a float, got {value!r}")
            if not math.isfinite(value):
                raise ConfigError(f"engine param {name!r} must be finite, got {value!r}")
        if self.initial_cash <= 0.0:
            raise ConfigError("engine param 'initial_cash' must be > 0")
        for name in ("commission_rate", "slippage_fixed", "slippage_random"):
            if getattr(self, name) < 0.0:
                raise ConfigError(f"engine param {name!r} must be >= 0")
        if self.units <= 0.0 or self.lot_step <= 0.0:
            raise ConfigError("engine params 'units' and 'lot_step' must be > 0")
        if not 0.0 < self.risk_pct <= 1.0:
            raise ConfigError("engine param 'risk_pct' must be in (0, 1]")
        if self.sizing not in SIZING_MODES:
            raise ConfigError(f"engine param 'sizing' must be one of {SIZING_MODES}")
        for name in ("max_positions", "limit_ttl"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"engine param {name!r} must be an int >= 1, got {value!r}")


ENGINE_PARAM_NAMES: frozenset[str] = frozenset(f.name for f in fields(EngineConfig))
_FLOAT_PARAMS = frozenset(
    f.name for f in fields(EngineConfig) if f.type == "float" or f.type is float
)


def config_dict(cfg: EngineConfig) -> dict[str, Any]:
    """``dataclasses.asdict(cfg)`` without its deep copies (every field is a scalar):
    the form the Rust entry points take, built on every run."""
    return {f.name: getattr(cfg, f.name) for f in fields(cfg)}


def engine_config_from_params(params: Mapping[str, Any]) -> EngineConfig:
    """Build an :class:`EngineConfig` from the engine keys of ``params``.

    Ints are accepted for float fields (JSON has no float/int distinction for ``1``).
    """
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key not in ENGINE_PARAM_NAMES:
            continue
        if key in _FLOAT_PARAMS and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[key] = value
    return EngineConfig(**kwargs)


def split_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``params`` into (engine params, strategy params)."""
    engine = {k: v for k, v in params.items() if k in ENGINE_PARAM_NAMES}
    strategy = {k: v for k, v in params.items() if k not in ENGINE_PARAM_NAMES}
    return engine, strategy
