//! The engines' one random source: stateless, counter-based `SplitMix64`.
//!
//! Mirrors `legacy_py/rng.py` exactly; see `docs/determinism.md#rng`.

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
const M1: u64 = 0xBF58_476D_1CE4_E5B9;
const M2: u64 = 0x94D0_49BB_1331_11EB;

/// One `SplitMix64` finalisation step (wrapping arithmetic modulo 2^64).
#[must_use]
pub fn splitmix64(z: u64) -> u64 {
    let mut z = z.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(M1);
    z = (z ^ (z >> 27)).wrapping_mul(M2);
    z ^ (z >> 31)
}

/// The 64-bit draw keyed by `(seed, event_index, lane)`.
#[must_use]
pub fn draw_u64(seed: u64, event_index: u64, lane: u64) -> u64 {
    let h = splitmix64(seed);
    let h = splitmix64(h ^ event_index);
    splitmix64(h ^ lane)
}

/// A float in `[0, 1)`: `(draw >> 11) * 2^-53`, exact in binary64.
#[must_use]
#[allow(clippy::cast_precision_loss)] // a 53-bit integer converts exactly
pub fn uniform(seed: u64, event_index: u64, lane: u64) -> f64 {
    const TWO_POW_MINUS_53: f64 = 1.0 / 9_007_199_254_740_992.0;
    ((draw_u64(seed, event_index, lane) >> 11) as f64) * TWO_POW_MINUS_53
}

/// Reinterpret a signed seed as two's complement, as Python's `seed & MASK64` does.
#[must_use]
#[allow(clippy::cast_sign_loss)]
pub fn seed_bits(seed: i64) -> u64 {
    seed as u64
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bit-exact comparisons are the point of these tests
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_vector() {
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn uniform_matches_python() {
        // python: legacy_py.rng.uniform(42, 0) and uniform(42, 1, 1)
        assert_eq!(
            uniform(42, 0, 0).to_bits(),
            0.386_974_276_240_040_9_f64.to_bits()
        );
        assert_eq!(
            uniform(42, 1, 1).to_bits(),
            0.339_722_095_549_013_9_f64.to_bits()
        );
    }

    #[test]
    fn negative_seed_is_twos_complement() {
        assert_eq!(seed_bits(-1), u64::MAX);
    }
}
