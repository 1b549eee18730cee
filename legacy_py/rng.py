"""The engines' one random number generator: a counter-based SplitMix64 hash.

There is no RNG *state*. A draw is a pure function of ``(seed, event_index, lane)``,
so any engine that processes the same event computes the same number, whatever
it did before. Definition (all arithmetic modulo 2**64)::

    splitmix64(z):
        z = z + 0x9E3779B97F4A7C15
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB
        return z ^ (z >> 31)

    draw_u64(seed, event_index, lane) =
        splitmix64(splitmix64(splitmix64(seed) ^ event_index) ^ lane)

    uniform(seed, event_index, lane) = (draw_u64(...) >> 11) * 2**-53   # in [0, 1)

``seed`` and ``event_index`` are taken modulo 2**64 (two's complement for negatives).
``(x >> 11) * 2**-53`` is exact in IEEE-754 binary64: a 53-bit integer times a
power of two. The Rust port is ``rust_engine/src/rng.rs``.
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TWO_POW_MINUS_53 = 1.0 / 9007199254740992.0  # 2**-53, exact


def splitmix64(z: int) -> int:
    """One SplitMix64 finalisation step of ``z`` (mod 2**64)."""
    z = (z + GOLDEN_GAMMA) & MASK64
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def draw_u64(seed: int, event_index: int, lane: int = 0) -> int:
    """The 64-bit draw keyed by (seed, event_index, lane)."""
    h = splitmix64(seed & MASK64)
    h = splitmix64(h ^ (event_index & MASK64))
    return splitmix64(h ^ (lane & MASK64))


def uniform(seed: int, event_index: int, lane: int = 0) -> float:
    """A float in [0, 1) keyed by (seed, event_index, lane); exact, platform independent."""
    return float(draw_u64(seed, event_index, lane) >> 11) * _TWO_POW_MINUS_53
