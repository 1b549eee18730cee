//! Engine configuration (mirrors `legacy_py/config.py`; validated on the Python side).

/// Position sizing mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizing {
    /// Trade `units`.
    Fixed,
    /// Risk `risk_pct` of equity against the stop distance.
    Risk,
}

/// Execution and portfolio settings. See `docs/engine_semantics.md`.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// Starting cash.
    pub initial_cash: f64,
    /// Commission as a fraction of fill notional.
    pub commission_rate: f64,
    /// Fixed adverse slippage in price units.
    pub slippage_fixed: f64,
    /// Random adverse slippage scale in price units.
    pub slippage_random: f64,
    /// Sizing mode.
    pub sizing: Sizing,
    /// Units per trade with fixed sizing.
    pub units: f64,
    /// Fraction of equity risked with risk sizing.
    pub risk_pct: f64,
    /// Quantity step for risk sizing.
    pub lot_step: f64,
    /// Maximum open positions plus pending entries.
    pub max_positions: usize,
    /// Bars a limit entry stays live.
    pub limit_ttl: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            initial_cash: 100_000.0,
            commission_rate: 0.0,
            slippage_fixed: 0.0,
            slippage_random: 0.0,
            sizing: Sizing::Fixed,
            units: 1.0,
            risk_pct: 0.01,
            lot_step: 0.01,
            max_positions: 1,
            limit_ttl: 10,
        }
    }
}
