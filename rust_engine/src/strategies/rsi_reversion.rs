//! `rsi_reversion`: buy oversold / sell overbought RSI with ATR-distance SL/TP.

use super::{bid_request, NativeStrategy, ParamValue, Params, Resolved, Slot};
use crate::event::types::{Candle, PriceType, SeriesKey, SignalType, StrategySignal, Timeframe};
use crate::indicators::{ConfigError, IndicatorRequest};

/// Port of `legacy_py.strategies.RsiReversion`.
#[derive(Clone, Debug)]
pub struct RsiReversion {
    timeframe: Timeframe,
    period: i64,
    atr_n: i64,
    lower: f64,
    upper: f64,
    sl_atr: f64,
    tp_atr: f64,
    rsi: Slot,
    atr: Slot,
}

impl RsiReversion {
    /// Parameter defaults, in declaration order.
    pub const DEFAULTS: [(&'static str, ParamValue); 6] = [
        ("period", ParamValue::Int(14)),
        ("lower", ParamValue::Float(30.0)),
        ("upper", ParamValue::Float(70.0)),
        ("atr", ParamValue::Int(14)),
        ("sl_atr", ParamValue::Float(2.0)),
        ("tp_atr", ParamValue::Float(3.0)),
    ];

    /// Build with `params` on execution timeframe `timeframe`.
    ///
    /// # Errors
    /// `ConfigError` for bad parameters.
    pub fn new(params: &Params, timeframe: Timeframe) -> Result<Self, ConfigError> {
        let p = Resolved::new("rsi_reversion", &Self::DEFAULTS, params)?;
        let (period, atr_n) = (p.int("period"), p.int("atr"));
        Ok(Self {
            timeframe,
            period,
            atr_n,
            lower: p.float("lower"),
            upper: p.float("upper"),
            sl_atr: p.float("sl_atr"),
            tp_atr: p.float("tp_atr"),
            rsi: Slot::bid(&format!("rsi:{period}"), timeframe),
            atr: Slot::bid(&format!("atr:{atr_n}"), timeframe),
        })
    }
}

impl NativeStrategy for RsiReversion {
    fn name(&self) -> &'static str {
        "rsi_reversion"
    }

    fn subscriptions(&self) -> Vec<SeriesKey> {
        vec![(self.timeframe, PriceType::Bid)]
    }

    fn indicators(&self) -> Vec<IndicatorRequest> {
        vec![
            bid_request(self.timeframe, &format!("rsi:{}", self.period)),
            bid_request(self.timeframe, &format!("atr:{}", self.atr_n)),
        ]
    }

    fn slots_mut(&mut self) -> Vec<&mut Slot> {
        vec![&mut self.rsi, &mut self.atr]
    }

    fn on_candle(&mut self, candle: &Candle, values: &[Option<f64>]) -> Option<StrategySignal> {
        let rsi = self.rsi.get(values)?;
        let atr = self.atr.get(values)?;
        if atr <= 0.0 {
            return None;
        }
        if rsi < self.lower {
            let sl = candle.close - self.sl_atr * atr; // port: same order
            if sl <= 0.0 {
                return None;
            }
            let tp = candle.close + self.tp_atr * atr; // port: same order
            return Some(StrategySignal {
                stop_loss: Some(sl),
                take_profit: Some(tp),
                ..StrategySignal::of(SignalType::Long)
            });
        }
        if rsi > self.upper {
            let sl = candle.close + self.sl_atr * atr; // port: same order
            let tp = candle.close - self.tp_atr * atr; // port: same order
            if tp <= 0.0 {
                return None;
            }
            return Some(StrategySignal {
                stop_loss: Some(sl),
                take_profit: Some(tp),
                ..StrategySignal::of(SignalType::Short)
            });
        }
        None
    }
}
