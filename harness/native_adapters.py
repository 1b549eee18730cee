"""The ``rust-native`` engine adapter: Strategy A (the reference strategies in Rust).

``omega-harness gate --candidate rust-native`` and every other harness command reach
it through :data:`harness.adapters.BUILTIN`. Besides the per-case :meth:`run` of every
adapter it has :meth:`NativeAdapter.run_many`, which runs many cases on the Rust thread
pool (``omega_rust.run_native_many``) — the corpus check of the gate uses it to compute
all candidate traces up front (see ``docs/harness.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from legacy_py.loader import CandleStream
from legacy_py.trace import Trace

#: One case for :meth:`NativeAdapter.run_many`: (stream, strategy, params, seed).
NativeCase = tuple[CandleStream, str, Mapping[str, Any], int]


class NativeAdapter:
    """Registered strategies run natively in Rust, no Python in the loop (Strategy A)."""

    name = "rust-native"

    def __init__(self, threads: int | None = None) -> None:
        #: Pool size of :meth:`run_many` (``None``: every core).
        self.threads = threads

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        from omega_rust import run_native

        return run_native(stream, strategy, params, seed=seed)

    def run_many(self, cases: Sequence[NativeCase]) -> list[Trace]:
        """Run ``cases`` in parallel; traces in input order, each identical to :meth:`run`.

        Raises the first failing case's error (in input order); callers that need every
        case's own outcome fall back to :meth:`run` per case.
        """
        from omega_rust import run_native_many

        out: list[Trace | None] = [None] * len(cases)
        # run_native_many runs one strategy per call: one call per strategy name.
        by_name: dict[str, list[int]] = {}
        for i, case in enumerate(cases):
            by_name.setdefault(case[1], []).append(i)
        for name, rows in by_name.items():
            traces = run_native_many(
                [cases[i][0] for i in rows],
                name,
                [cases[i][2] for i in rows],
                None,
                [cases[i][3] for i in rows],
                self.threads,
            )
            for i, trace in zip(rows, traces, strict=True):
                out[i] = trace
        return [t for t in out if t is not None]


class _Precomputed:
    """An adapter answering known cases from precomputed traces (each once), and any
    other case through the wrapped adapter."""

    def __init__(self, inner: Any, cases: Sequence[NativeCase], traces: list[Trace]) -> None:
        self.inner = inner
        self.name: str = inner.name
        self._traces: dict[tuple[int, str, str, int], list[Trace]] = {}
        for case, trace in zip(cases, traces, strict=True):
            self._traces.setdefault(_case_key(*case), []).append(trace)

    def run(
        self, stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
    ) -> Trace:
        ready = self._traces.get(_case_key(stream, strategy, params, seed))
        if ready:
            return ready.pop(0)
        trace: Trace = self.inner.run(stream, strategy, params, seed)
        return trace


def _case_key(
    stream: CandleStream, strategy: str, params: Mapping[str, Any], seed: int
) -> tuple[int, str, str, int]:
    return (id(stream), strategy, repr(sorted(params.items())), seed)


def precompute(candidates: Sequence[Any], cases: Sequence[NativeCase]) -> list[Any]:
    """``candidates`` with every adapter that has a ``run_many`` (``rust-native``)
    replaced by one that already ran all ``cases`` in parallel.

    Traces are identical to per-case runs (``run_many`` guarantees it), so comparisons
    do not change; the candidate's per-case time in reports is then ~0 (the batch ran
    before). When the batch fails (some case raises), the adapter is left as it is, so
    each case's own outcome — trace or exception — is still compared.
    """
    out: list[Any] = []
    for cand in candidates:
        run_many = getattr(cand, "run_many", None)
        if not callable(run_many) or not cases:
            out.append(cand)
            continue
        try:
            traces = run_many(cases)
        except Exception:
            out.append(cand)
            continue
        out.append(_Precomputed(cand, cases, traces))
    return out
