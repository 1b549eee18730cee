"""Engine adapters: anything that maps (stream, strategy, params, seed) to a Trace.

Built-in adapters: ``legacy`` (the pure-Python reference engine), ``rust``
(``omega_rust``, Strategy B), ``rust-batch`` (Strategy C, ``on_batch``; see
:mod:`harness.batch_adapters`) and ``rust-native`` (Strategy A, the reference strategies
in Rust; see :mod:`harness.native_adapters`). A team plugs in its own engine through the
``omega_migrate.engines`` entry-point group or a ``module:attribute`` spec; the
attribute is an :class:`EngineAdapter` instance or a zero-argument factory.
See ``docs/harness.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from harness.batch_adapters import RustBatchAdapter
from harness.native_adapters import NativeAdapter
from legacy_py.engine import run_python
from legacy_py.errors import ConfigError
from legacy_py.loader import CandleStream
from legacy_py.strategies import make_strategy
from legacy_py.trace import Trace

ENTRY_POINT_GROUP = "omega_migrate.engines"


@runtime_checkable
class EngineAdapter(Protocol):
    """One engine under test."""

    name: str

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        """Run registered strategy ``strategy`` with ``params`` over ``stream``."""
        ...


class LegacyAdapter:
    """The legacy pure-Python engine: the control."""

    name = "legacy"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        strat, cfg = make_strategy(strategy, params, stream)
        return run_python(stream, strat, cfg, seed, params)


class RustAdapter:
    """The Rust event loop with Python callbacks (Strategy B)."""

    name = "rust"

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        from omega_rust import run_rust

        strat, cfg = make_strategy(strategy, params, stream)
        return run_rust(stream, strat, cfg, seed, params)


BUILTIN: dict[str, Callable[[], EngineAdapter]] = {
    "legacy": LegacyAdapter,
    "rust": RustAdapter,
    "rust-batch": RustBatchAdapter,
    "rust-native": NativeAdapter,
}


def _instantiate(obj: Any, spec: str) -> EngineAdapter:
    adapter = obj() if isinstance(obj, type) or not hasattr(obj, "run") else obj
    if not isinstance(adapter, EngineAdapter):
        raise ConfigError(f"engine {spec!r} is not an EngineAdapter (needs .name and .run)")
    return adapter


def get_adapter(spec: str) -> EngineAdapter:
    """Resolve an engine name: built-in, ``planted:KIND[@ARG]`` (see
    :mod:`harness.planted`), entry point, or ``module:attribute``."""
    if spec.startswith("planted:"):
        from harness.planted import planted_adapter

        return planted_adapter(spec)
    if spec in BUILTIN:
        return BUILTIN[spec]()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == spec:
            return _instantiate(ep.load(), spec)
    if ":" in spec:
        module, _, attr = spec.partition(":")
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load engine {spec!r}: {exc}") from None
        return _instantiate(obj, spec)
    known = sorted(BUILTIN) + sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    raise ConfigError(f"unknown engine {spec!r}; known: {', '.join(known)} or module:attr")
