//! `sma_cross`: long when SMA(fast) crosses above SMA(slow), short when it crosses below.

use super::{bid_request, NativeStrategy, ParamValue, Params, Resolved, Slot};
use crate::event::types::{Candle, PriceType, SeriesKey, SignalType, StrategySignal, Timeframe};
use crate::indicators::{ConfigError, IndicatorRequest};

/// What a tie (`fast == slow`) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieRule {
    /// The reference rule: a tie keeps the previous state (no cross).
    KeepPrevious,
    /// A deliberately different rule, for testing the harness only: a tie counts as
    /// "fast above slow", so a tie after a bearish state is a bullish cross.
    AsAbove,
}

/// Port of `legacy_py.strategies.SmaCross`.
#[derive(Clone, Debug)]
pub struct SmaCross {
    timeframe: Timeframe,
    fast_n: i64,
    slow_n: i64,
    fast: Slot,
    slow: Slot,
    /// Previous state: 1 (fast above), -1 (below), 0 (not yet known). Python `int`.
    prev: i64,
    tie: TieRule,
}

impl SmaCross {
    /// Parameter defaults, in declaration order.
    pub const DEFAULTS: [(&'static str, ParamValue); 2] =
        [("fast", ParamValue::Int(10)), ("slow", ParamValue::Int(30))];

    /// Build with `params` on execution timeframe `timeframe`.
    ///
    /// # Errors
    /// `ConfigError` for bad parameters or unless `1 <= fast < slow`.
    pub fn new(params: &Params, timeframe: Timeframe) -> Result<Self, ConfigError> {
        let p = Resolved::new("sma_cross", &Self::DEFAULTS, params)?;
        let (fast_n, slow_n) = (p.int("fast"), p.int("slow"));
        if !(1 <= fast_n && fast_n < slow_n) {
            return Err(ConfigError::new("sma_cross: need 1 <= fast < slow"));
        }
        Ok(Self {
            timeframe,
            fast_n,
            slow_n,
            fast: Slot::bid(&format!("sma:{fast_n}"), timeframe),
            slow: Slot::bid(&format!("sma:{slow_n}"), timeframe),
            prev: 0,
            tie: TieRule::KeepPrevious,
        })
    }

    /// The same strategy with another tie rule (test hook: a planted divergence).
    #[must_use]
    pub fn with_tie_rule(mut self, tie: TieRule) -> Self {
        self.tie = tie;
        self
    }
}

impl NativeStrategy for SmaCross {
    fn name(&self) -> &'static str {
        "sma_cross"
    }

    fn subscriptions(&self) -> Vec<SeriesKey> {
        vec![(self.timeframe, PriceType::Bid)]
    }

    fn indicators(&self) -> Vec<IndicatorRequest> {
        vec![
            bid_request(self.timeframe, &format!("sma:{}", self.fast_n)),
            bid_request(self.timeframe, &format!("sma:{}", self.slow_n)),
        ]
    }

    fn slots_mut(&mut self) -> Vec<&mut Slot> {
        vec![&mut self.fast, &mut self.slow]
    }

    fn on_candle(&mut self, _candle: &Candle, values: &[Option<f64>]) -> Option<StrategySignal> {
        let fast = self.fast.get(values)?;
        let slow = self.slow.get(values)?;
        // port: same order (`1 if fast > slow else (-1 if fast < slow else self._prev)`)
        let state = if fast > slow {
            1
        } else if fast < slow {
            -1
        } else {
            match self.tie {
                TieRule::KeepPrevious => self.prev,
                TieRule::AsAbove => 1,
            }
        };
        let prev = self.prev;
        self.prev = state;
        if prev == 0 || state == prev {
            return None;
        }
        Some(StrategySignal::of(if state > 0 {
            SignalType::Long
        } else {
            SignalType::Short
        }))
    }
}
