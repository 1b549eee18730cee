//! `mtf_trend`: the base timeframe's EMA crossover in the higher timeframe's trend
//! direction; limit entries a fraction of ATR behind the close; signals carry metadata.

use super::{bid_request, NativeStrategy, ParamValue, Params, Resolved, Slot};
use crate::event::types::{Candle, PriceType, SeriesKey, SignalType, StrategySignal, Timeframe};
use crate::indicators::{ConfigError, IndicatorRequest};
use crate::stream::py_float_repr;

/// Port of `legacy_py.strategies.MtfTrend`.
#[derive(Clone, Debug)]
pub struct MtfTrend {
    timeframe: Timeframe,
    higher_timeframe: Timeframe,
    fast_n: i64,
    slow_n: i64,
    trend_n: i64,
    atr_n: i64,
    pullback_atr: f64,
    sl_atr: f64,
    tp_atr: f64,
    fast: Slot,
    slow: Slot,
    macd: Slot,
    atr: Slot,
    trend: Slot,
    htf_close: Option<f64>,
    /// Previous EMA state (1, -1, 0). Python `int`.
    prev: i64,
}

impl MtfTrend {
    /// Parameter defaults, in declaration order.
    pub const DEFAULTS: [(&'static str, ParamValue); 7] = [
        ("fast", ParamValue::Int(8)),
        ("slow", ParamValue::Int(21)),
        ("trend", ParamValue::Int(20)),
        ("atr", ParamValue::Int(14)),
        ("pullback_atr", ParamValue::Float(0.25)),
        ("sl_atr", ParamValue::Float(3.0)),
        ("tp_atr", ParamValue::Float(6.0)),
    ];

    /// Build with `params` on execution timeframe `timeframe` and trend timeframe
    /// `higher_timeframe`.
    ///
    /// # Errors
    /// `ConfigError` for bad parameters.
    pub fn new(
        params: &Params,
        timeframe: Timeframe,
        higher_timeframe: Timeframe,
    ) -> Result<Self, ConfigError> {
        let p = Resolved::new("mtf_trend", &Self::DEFAULTS, params)?;
        let (fast_n, slow_n, trend_n, atr_n) =
            (p.int("fast"), p.int("slow"), p.int("trend"), p.int("atr"));
        Ok(Self {
            timeframe,
            higher_timeframe,
            fast_n,
            slow_n,
            trend_n,
            atr_n,
            pullback_atr: p.float("pullback_atr"),
            sl_atr: p.float("sl_atr"),
            tp_atr: p.float("tp_atr"),
            fast: Slot::bid(&format!("ema:{fast_n}"), timeframe),
            slow: Slot::bid(&format!("ema:{slow_n}"), timeframe),
            macd: Slot::bid("macd:12:26:9", timeframe),
            atr: Slot::bid(&format!("atr:{atr_n}"), timeframe),
            trend: Slot::bid(&format!("ema:{trend_n}"), higher_timeframe),
            htf_close: None,
            prev: 0,
        })
    }
}

impl NativeStrategy for MtfTrend {
    fn name(&self) -> &'static str {
        "mtf_trend"
    }

    fn subscriptions(&self) -> Vec<SeriesKey> {
        let mut subs = vec![(self.timeframe, PriceType::Bid)];
        if self.higher_timeframe != self.timeframe {
            subs.push((self.higher_timeframe, PriceType::Bid));
        }
        subs
    }

    fn indicators(&self) -> Vec<IndicatorRequest> {
        let tf = self.timeframe;
        vec![
            bid_request(tf, &format!("ema:{}", self.fast_n)),
            bid_request(tf, &format!("ema:{}", self.slow_n)),
            bid_request(tf, "macd:12:26:9"),
            bid_request(tf, &format!("atr:{}", self.atr_n)),
            bid_request(self.higher_timeframe, &format!("ema:{}", self.trend_n)),
        ]
    }

    fn slots_mut(&mut self) -> Vec<&mut Slot> {
        vec![
            &mut self.fast,
            &mut self.slow,
            &mut self.macd,
            &mut self.atr,
            &mut self.trend,
        ]
    }

    fn on_candle(&mut self, candle: &Candle, values: &[Option<f64>]) -> Option<StrategySignal> {
        if candle.timeframe == self.higher_timeframe {
            self.htf_close = Some(candle.close);
            if self.higher_timeframe != self.timeframe {
                return None;
            }
        }
        let (fast, slow) = (self.fast.get(values), self.slow.get(values));
        let (trend, atr) = (self.trend.get(values), self.atr.get(values));
        let macd = self.macd.get(values);
        let (fast, slow, atr) = (fast?, slow?, atr?);
        if atr <= 0.0 {
            return None;
        }
        // port: same order (`1 if fast > slow else (-1 if fast < slow else self._prev)`)
        let state = if fast > slow {
            1
        } else if fast < slow {
            -1
        } else {
            self.prev
        };
        let prev = self.prev;
        self.prev = state;
        if prev == 0 || state == prev {
            return None;
        }
        let (trend, htf_close) = (trend?, self.htf_close?);
        let up = htf_close > trend;
        // Insertion order of the Python dict literal.
        let metadata = vec![
            (
                "trend".to_owned(),
                if up { "up" } else { "down" }.to_owned(),
            ),
            ("htf_close".to_owned(), py_float_repr(htf_close)),
            (
                "macd".to_owned(),
                macd.map_or_else(|| "none".to_owned(), py_float_repr),
            ),
        ];
        if state > 0 && up {
            let entry = candle.close - self.pullback_atr * atr; // port: same order
            if entry - self.sl_atr * atr <= 0.0 {
                // port: same order
                return None;
            }
            return Some(StrategySignal {
                signal_type: SignalType::Long,
                entry_price: Some(entry),
                stop_loss: Some(entry - self.sl_atr * atr), // port: same order
                take_profit: Some(entry + self.tp_atr * atr), // port: same order
                metadata,
            });
        }
        if state < 0 && !up {
            let entry = candle.close + self.pullback_atr * atr; // port: same order
            let tp = entry - self.tp_atr * atr; // port: same order
            if tp <= 0.0 {
                return None;
            }
            return Some(StrategySignal {
                signal_type: SignalType::Short,
                entry_price: Some(entry),
                stop_loss: Some(entry + self.sl_atr * atr), // port: same order
                take_profit: Some(tp),
                metadata,
            });
        }
        Some(StrategySignal {
            metadata,
            ..StrategySignal::of(SignalType::Close)
        })
    }
}
