//! `churn`: alternates LONG/SHORT every `every` bars with tight SL/TP.

use super::{NativeStrategy, ParamValue, Params, Resolved, Slot};
use crate::event::types::{Candle, PriceType, SeriesKey, SignalType, StrategySignal, Timeframe};
use crate::indicators::{ConfigError, IndicatorRequest};

/// Port of `legacy_py.strategies.Churn`.
#[derive(Clone, Debug)]
pub struct Churn {
    timeframe: Timeframe,
    every: i64,
    band: f64,
    /// Subscribed events seen (Python `int`).
    n: i64,
}

impl Churn {
    /// Parameter defaults, in declaration order.
    pub const DEFAULTS: [(&'static str, ParamValue); 2] = [
        ("every", ParamValue::Int(3)),
        ("band", ParamValue::Float(0.001)),
    ];

    /// Build with `params` on execution timeframe `timeframe`.
    ///
    /// # Errors
    /// `ConfigError` for bad parameters or `every < 1`.
    pub fn new(params: &Params, timeframe: Timeframe) -> Result<Self, ConfigError> {
        let p = Resolved::new("churn", &Self::DEFAULTS, params)?;
        let every = p.int("every");
        if every < 1 {
            return Err(ConfigError::new("churn: every must be >= 1"));
        }
        Ok(Self {
            timeframe,
            every,
            band: p.float("band"),
            n: 0,
        })
    }
}

impl NativeStrategy for Churn {
    fn name(&self) -> &'static str {
        "churn"
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

    fn on_candle(&mut self, candle: &Candle, _values: &[Option<f64>]) -> Option<StrategySignal> {
        self.n += 1;
        // n >= 1 and every >= 1: Rust's `%` and `/` equal Python's `%` and `//` here.
        if self.n % self.every != 0 {
            return None;
        }
        let band = candle.close * self.band; // port: same order
        if (self.n / self.every) % 2 == 1 {
            return Some(StrategySignal {
                stop_loss: Some(candle.close - band),   // port: same order
                take_profit: Some(candle.close + band), // port: same order
                ..StrategySignal::of(SignalType::Long)
            });
        }
        Some(StrategySignal {
            stop_loss: Some(candle.close + band),   // port: same order
            take_profit: Some(candle.close - band), // port: same order
            ..StrategySignal::of(SignalType::Short)
        })
    }
}
