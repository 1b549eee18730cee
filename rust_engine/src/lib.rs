//! `omega_rust`: the Rust port of the Omega backtest `EventEngine`.
//!
//! Domain logic lives in plain Rust modules that `cargo test` covers; the
//! `PyO3` glue sits in `python` (compiled only with the `python` feature).

/// The crate version, exported to Python as `omega_rust.__version__`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod config;
pub mod event;
pub mod execution;
pub mod indicators;
pub mod parallel;
pub mod portfolio;
pub mod rng;
pub mod strategies;
pub mod stream;
pub mod trace;

#[cfg(feature = "python")]
pub mod python;

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_semver() {
        let parts: Vec<&str> = super::VERSION.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()));
    }
}
