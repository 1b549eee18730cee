//! `donchian_breakout`: enter on a close beyond the previous N-bar channel, ATR stop;
//! exit through `check_exit` on a close beyond the previous exit channel.

use super::{bid_request, NativeStrategy, ParamValue, Params, Resolved, Slot};
use crate::event::types::{
    Candle, PriceType, SeriesKey, Side, SignalType, StrategySignal, Timeframe,
};
use crate::indicators::{ConfigError, IndicatorRequest};
use crate::portfolio::OpenPosition;

/// Port of `legacy_py.strategies.DonchianBreakout`.
#[derive(Clone, Debug)]
pub struct DonchianBreakout {
    timeframe: Timeframe,
    channel: i64,
    exit_channel: i64,
    atr_n: i64,
    sl_atr: f64,
    hi: Slot,
    lo: Slot,
    xhi: Slot,
    xlo: Slot,
    atr: Slot,
    /// The values of (hi, lo, xhi, xlo) seen by the previous `on_candle` call: Python's
    /// `self._prev = dict(indicators)` read through `.get` (`None` before the first call).
    prev: [Option<f64>; 4],
}

impl DonchianBreakout {
    /// Parameter defaults, in declaration order.
    pub const DEFAULTS: [(&'static str, ParamValue); 4] = [
        ("channel", ParamValue::Int(20)),
        ("exit_channel", ParamValue::Int(10)),
        ("atr", ParamValue::Int(14)),
        ("sl_atr", ParamValue::Float(2.5)),
    ];

    /// Build with `params` on execution timeframe `timeframe`.
    ///
    /// # Errors
    /// `ConfigError` for bad parameters.
    pub fn new(params: &Params, timeframe: Timeframe) -> Result<Self, ConfigError> {
        let p = Resolved::new("donchian_breakout", &Self::DEFAULTS, params)?;
        let (ch, ex, atr_n) = (p.int("channel"), p.int("exit_channel"), p.int("atr"));
        Ok(Self {
            timeframe,
            channel: ch,
            exit_channel: ex,
            atr_n,
            sl_atr: p.float("sl_atr"),
            hi: Slot::bid(&format!("highest:{ch}"), timeframe),
            lo: Slot::bid(&format!("lowest:{ch}"), timeframe),
            xhi: Slot::bid(&format!("highest:{ex}"), timeframe),
            xlo: Slot::bid(&format!("lowest:{ex}"), timeframe),
            atr: Slot::bid(&format!("atr:{atr_n}"), timeframe),
            prev: [None; 4],
        })
    }
}

impl NativeStrategy for DonchianBreakout {
    fn name(&self) -> &'static str {
        "donchian_breakout"
    }

    fn subscriptions(&self) -> Vec<SeriesKey> {
        vec![(self.timeframe, PriceType::Bid)]
    }

    fn indicators(&self) -> Vec<IndicatorRequest> {
        let tf = self.timeframe;
        vec![
            bid_request(tf, &format!("highest:{}", self.channel)),
            bid_request(tf, &format!("lowest:{}", self.channel)),
            bid_request(tf, &format!("highest:{}", self.exit_channel)),
            bid_request(tf, &format!("lowest:{}", self.exit_channel)),
            bid_request(tf, &format!("atr:{}", self.atr_n)),
        ]
    }

    fn slots_mut(&mut self) -> Vec<&mut Slot> {
        vec![
            &mut self.hi,
            &mut self.lo,
            &mut self.xhi,
            &mut self.xlo,
            &mut self.atr,
        ]
    }

    fn check_exit(&mut self, position: &OpenPosition, candle: &Candle, _: &[Option<f64>]) -> bool {
        let [_, _, xhi, xlo] = self.prev;
        if position.side == Side::Long {
            return xlo.is_some_and(|lo| candle.close < lo);
        }
        xhi.is_some_and(|hi| candle.close > hi)
    }

    fn on_candle(&mut self, candle: &Candle, values: &[Option<f64>]) -> Option<StrategySignal> {
        let [prev_hi, prev_lo, _, _] = self.prev;
        let atr = self.atr.get(values);
        self.prev = [
            self.hi.get(values),
            self.lo.get(values),
            self.xhi.get(values),
            self.xlo.get(values),
        ];
        let (prev_hi, prev_lo, atr) = (prev_hi?, prev_lo?, atr?);
        if atr <= 0.0 {
            return None;
        }
        let stop = self.sl_atr * atr; // port: same order
        if candle.close > prev_hi {
            if candle.close - stop <= 0.0 {
                // port: same order; a long stop must stay a positive price
                return None;
            }
            return Some(StrategySignal {
                stop_loss: Some(candle.close - stop), // port: same order
                ..StrategySignal::of(SignalType::Long)
            });
        }
        if candle.close < prev_lo {
            return Some(StrategySignal {
                stop_loss: Some(candle.close + stop), // port: same order
                ..StrategySignal::of(SignalType::Short)
            });
        }
        None
    }
}
