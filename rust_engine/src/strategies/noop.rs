//! `noop`: subscribes to the execution timeframe and never trades (pure dispatch).

use super::{NativeStrategy, Params, Resolved, Slot};
use crate::event::types::{Candle, PriceType, SeriesKey, StrategySignal, Timeframe};
use crate::indicators::{ConfigError, IndicatorRequest};

/// Port of `legacy_py.strategies.NoopStrategy`.
#[derive(Clone, Debug)]
pub struct Noop {
    timeframe: Timeframe,
}

impl Noop {
    /// Parameter defaults (none).
    pub const DEFAULTS: [(&'static str, super::ParamValue); 0] = [];

    /// Build with `params` (must be empty) on execution timeframe `timeframe`.
    ///
    /// # Errors
    /// `ConfigError` for any parameter.
    pub fn new(params: &Params, timeframe: Timeframe) -> Result<Self, ConfigError> {
        Resolved::new("noop", &Self::DEFAULTS, params)?;
        Ok(Self { timeframe })
    }
}

impl NativeStrategy for Noop {
    fn name(&self) -> &'static str {
        "noop"
    }

    fn subscriptions(&self) -> Vec<SeriesKey> {
        vec![(self.timeframe, PriceType::Bid)]
    }

    fn indicators(&self) -> Vec<IndicatorRequest> {
        Vec::new()
    }

    fn slots_mut(&mut self) -> Vec<&mut Slot> {
        Vec::new()
    }

    fn on_candle(&mut self, _candle: &Candle, _values: &[Option<f64>]) -> Option<StrategySignal> {
        None
    }
}
