//! Strategy A: the six reference strategies of `legacy_py/strategies.py` as native
//! Rust [`StrategyCallbacks`], so a whole run happens without Python.
//!
//! Each port keeps the Python strategy's parameters, defaults, validation messages and
//! decisions bit for bit: every float expression is mirrored operation for operation
//! (marked `// port: same order`), `int` state stays an integer, comparisons are the
//! same strict tests in the same order, and metadata floats are spelled by
//! [`py_float_repr`] (`repr(float)`), in insertion order.
//!
//! * [`params`]: a typed key/value list resolved against each strategy's defaults;
//! * [`build`]: the registry by name ([`STRATEGY_NAMES`]);
//! * [`run_job`]: one validated stream × one strategy → [`TraceData`], with the legacy
//!   engine's signal validation (`StrategyError` for a non-finite or non-positive
//!   price) and a periodic cancellation poll.
//!
//! The parallel runner ([`crate::parallel`]) and the `PyO3` binding
//! (`python::native`) are built on [`run_job`].

mod churn;
mod donchian_breakout;
mod mtf_trend;
mod noop;
pub mod params;
mod rsi_reversion;
mod sma_cross;
#[cfg(test)]
pub(crate) mod tests;

use std::fmt;

pub use churn::Churn;
pub use donchian_breakout::DonchianBreakout;
pub use mtf_trend::MtfTrend;
pub use noop::Noop;
pub use params::{ParamValue, Params, Resolved};
pub use rsi_reversion::RsiReversion;
pub use sma_cross::{SmaCross, TieRule};

use crate::config::{EngineConfig, Sizing};
use crate::event::engine::{run, RunError, RunSpec, StrategyCallbacks};
use crate::event::queue::{CandleColumns, EventQueue};
use crate::event::types::{Candle, SeriesKey, StrategySignal, Timeframe};
use crate::indicators::{ConfigError, IndicatorCache, IndicatorRequest};
use crate::portfolio::OpenPosition;
use crate::stream::{py_float_repr, py_str_repr, ValidatedStream};
use crate::trace::TraceData;

/// Registered strategy names, sorted (Python `strategy_names()`).
pub const STRATEGY_NAMES: [&str; 6] = [
    "churn",
    "donchian_breakout",
    "mtf_trend",
    "noop",
    "rsi_reversion",
    "sma_cross",
];

/// A reference strategy implemented in Rust.
///
/// The engine calls [`NativeStrategy::check_exit`] and [`NativeStrategy::on_candle`]
/// exactly where it calls the Python methods (`docs/engine_semantics.md`); the
/// signal is validated by the runner afterwards, as `validate_signal` does.
pub trait NativeStrategy: Send {
    /// The registry name (`"sma_cross"`, ...).
    fn name(&self) -> &'static str;

    /// Subscribed series; the first is primary.
    fn subscriptions(&self) -> Vec<SeriesKey>;

    /// Indicator requests, in declaration order.
    fn indicators(&self) -> Vec<IndicatorRequest>;

    /// The indicator keys the strategy reads, to be bound to value positions.
    fn slots_mut(&mut self) -> Vec<&mut Slot>;

    /// `check_exit(position, candle, indicators)`; the default never exits.
    fn check_exit(
        &mut self,
        _position: &OpenPosition,
        _candle: &Candle,
        _values: &[Option<f64>],
    ) -> bool {
        false
    }

    /// `on_candle(candle, indicators)`.
    fn on_candle(&mut self, candle: &Candle, values: &[Option<f64>]) -> Option<StrategySignal>;
}

/// One indicator key (`"{tf}_{pt}_{output}"`) and its position in the value slice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    key: String,
    index: usize,
}

impl Slot {
    /// Python `BaseStrategy.ind(spec, "bid", timeframe)`: the key of `spec`'s first
    /// output on the bid series of `timeframe`.
    #[must_use]
    pub fn bid(spec: &str, timeframe: Timeframe) -> Self {
        Self {
            key: format!("{}_bid_{}", timeframe.as_str(), spec.replace(':', "_")),
            index: usize::MAX,
        }
    }

    /// The full key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Find the key among the cache's output names.
    ///
    /// # Errors
    /// A `ConfigError` when no output has that name (Python's `KeyError` on lookup).
    pub fn bind(&mut self, names: &[String]) -> Result<(), ConfigError> {
        match names.iter().position(|n| *n == self.key) {
            Some(i) => {
                self.index = i;
                Ok(())
            }
            None => Err(ConfigError::new(format!(
                "indicator {} was not declared",
                py_str_repr(&self.key)
            ))),
        }
    }

    /// The current value (`indicators[key]`), `None` while warming up.
    #[inline]
    #[must_use]
    pub fn get(&self, values: &[Option<f64>]) -> Option<f64> {
        values.get(self.index).copied().flatten()
    }
}

/// An `IndicatorRequest` on the bid series of `timeframe`.
#[must_use]
pub fn bid_request(timeframe: Timeframe, spec: &str) -> IndicatorRequest {
    IndicatorRequest::new(timeframe.as_str(), "bid", spec)
}

/// Build registered strategy `name` (Python `make_strategy` minus the engine config).
///
/// `timeframe` is the execution timeframe; `higher_timeframe` is only used by
/// `mtf_trend`.
///
/// # Errors
/// The legacy `ConfigError` messages for an unknown name or bad parameters.
pub fn build(
    name: &str,
    params: &Params,
    timeframe: Timeframe,
    higher_timeframe: Timeframe,
) -> Result<Box<dyn NativeStrategy>, ConfigError> {
    Ok(match name {
        "noop" => Box::new(Noop::new(params, timeframe)?),
        "sma_cross" => Box::new(SmaCross::new(params, timeframe)?),
        "rsi_reversion" => Box::new(RsiReversion::new(params, timeframe)?),
        "donchian_breakout" => Box::new(DonchianBreakout::new(params, timeframe)?),
        "mtf_trend" => Box::new(MtfTrend::new(params, timeframe, higher_timeframe)?),
        "churn" => Box::new(Churn::new(params, timeframe)?),
        _ => {
            return Err(ConfigError::new(format!(
                "unknown strategy {}; known: {}",
                py_str_repr(name),
                STRATEGY_NAMES.join(", ")
            )))
        }
    })
}

/// The engine config a strategy runs with by default: `EngineConfig()` overlaid with
/// the strategy's `ENGINE_DEFAULTS`. `None` for an unknown name.
#[must_use]
pub fn default_config(name: &str) -> Option<EngineConfig> {
    let mut cfg = EngineConfig::default();
    match name {
        "noop" | "sma_cross" => {}
        "rsi_reversion" => {
            cfg.sizing = Sizing::Risk;
            cfg.risk_pct = 0.01;
            cfg.lot_step = 0.01;
        }
        "donchian_breakout" => {
            cfg.sizing = Sizing::Risk;
            cfg.risk_pct = 0.005;
            cfg.lot_step = 0.01;
        }
        "mtf_trend" => {
            cfg.slippage_fixed = 0.00001;
            cfg.slippage_random = 0.00002;
            cfg.commission_rate = 0.00002;
            cfg.max_positions = 2;
            cfg.limit_ttl = 5;
        }
        "churn" => {
            cfg.max_positions = 3;
            cfg.commission_rate = 0.00001;
            cfg.slippage_random = 0.00001;
        }
        _ => return None,
    }
    Some(cfg)
}

/// Distinct timeframes of a stream, shortest first (Python `_stream_timeframes`).
#[must_use]
pub fn stream_timeframes(columns: CandleColumns<'_>) -> Vec<Timeframe> {
    let mut seen = [false; Timeframe::ALL.len()];
    for &tf in columns.timeframe {
        seen[tf as usize] = true;
    }
    Timeframe::ALL
        .iter()
        .copied()
        .filter(|tf| seen[*tf as usize])
        .collect()
}

/// Everything one native run needs besides the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeJob {
    /// Registered strategy name.
    pub strategy: String,
    /// Strategy parameters (defaults fill the rest).
    pub params: Params,
    /// Execution timeframe; `None`: the stream's shortest.
    pub timeframe: Option<Timeframe>,
    /// `mtf_trend`'s higher timeframe; `None`: the stream's second shortest (or its
    /// only one), like `make_strategy`.
    pub higher_timeframe: Option<Timeframe>,
    /// Engine configuration.
    pub config: EngineConfig,
    /// RNG seed.
    pub seed: i64,
    /// Human-readable source (for error messages).
    pub source: String,
}

impl NativeJob {
    /// A job with default parameters, timeframes resolved from the stream, the
    /// strategy's default engine config (or `EngineConfig::default()` for an unknown
    /// name, which [`run_job`] then rejects) and seed 0.
    #[must_use]
    pub fn new(strategy: &str) -> Self {
        Self {
            strategy: strategy.to_owned(),
            params: Params::new(),
            timeframe: None,
            higher_timeframe: None,
            config: default_config(strategy).unwrap_or_default(),
            seed: 0,
            source: "<native>".to_owned(),
        }
    }
}

/// Why a native run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NativeError {
    /// A bad strategy name, parameter, indicator spec or timeframe
    /// (`legacy_py.errors.ConfigError`).
    Config(String),
    /// A signal with a non-finite or non-positive price
    /// (`legacy_py.errors.StrategyError`, same message as `validate_signal`).
    Strategy(String),
    /// The cancellation poll asked to stop.
    Cancelled,
    /// A Rust panic, caught (only the parallel runner reports it this way).
    Panicked(String),
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeError::Config(m) | NativeError::Strategy(m) => f.write_str(m),
            NativeError::Cancelled => f.write_str("run cancelled"),
            NativeError::Panicked(m) => write!(f, "Rust panic caught: {m}"),
        }
    }
}

impl std::error::Error for NativeError {}

impl From<ConfigError> for NativeError {
    fn from(e: ConfigError) -> Self {
        NativeError::Config(e.message().to_owned())
    }
}

/// Adapts a [`NativeStrategy`] to the engine: validates signals like
/// `legacy_py.engine.validate_signal` and polls for cancellation.
struct Driver<'a> {
    strategy: &'a mut dyn NativeStrategy,
    label: &'a str,
    poll: &'a mut dyn FnMut() -> bool,
    interval: u32,
    countdown: u32,
}

impl Driver<'_> {
    fn check_price(&self, value: Option<f64>, field: &str, index: i64) -> Result<(), NativeError> {
        match value {
            Some(x) if !x.is_finite() || x <= 0.0 => Err(NativeError::Strategy(format!(
                "strategy {} on_candle at event {index}: {field} must be a finite positive price, got {}",
                self.label,
                py_float_repr(x)
            ))),
            _ => Ok(()),
        }
    }
}

impl StrategyCallbacks for Driver<'_> {
    type Error = NativeError;

    fn check_exit(
        &mut self,
        _event_index: i64,
        position: &OpenPosition,
        candle: &Candle,
        indicators: &[Option<f64>],
    ) -> Result<bool, NativeError> {
        Ok(self.strategy.check_exit(position, candle, indicators))
    }

    fn on_candle(
        &mut self,
        event_index: i64,
        candle: &Candle,
        indicators: &[Option<f64>],
        signal: &mut Option<StrategySignal>,
    ) -> Result<(), NativeError> {
        // Only a signal is moved into the slot (already `None`): copying the whole
        // empty `Option` would cost a store-forwarding stall on most events.
        let decided = self.strategy.on_candle(candle, indicators);
        if let Some(s) = &decided {
            self.check_price(s.entry_price, "entry_price", event_index)?;
            self.check_price(s.stop_loss, "stop_loss", event_index)?;
            self.check_price(s.take_profit, "take_profit", event_index)?;
            *signal = decided;
        }
        Ok(())
    }

    #[inline]
    fn after_event(&mut self, _event_index: i64) -> Result<(), NativeError> {
        self.countdown -= 1;
        if self.countdown == 0 {
            self.countdown = self.interval;
            if (self.poll)() {
                return Err(NativeError::Cancelled);
            }
        }
        Ok(())
    }
}

/// The (execution, higher) timeframes of `job` on `stream`, defaulted like
/// `make_strategy`: the stream's shortest timeframe, and its second shortest (or its
/// only one) for `mtf_trend`'s trend.
#[must_use]
pub fn resolve_timeframes(stream: &ValidatedStream, job: &NativeJob) -> (Timeframe, Timeframe) {
    let tfs = stream_timeframes(stream.columns());
    let base = tfs.first().copied().unwrap_or(Timeframe::M1);
    let timeframe = job.timeframe.unwrap_or(base);
    let higher = job
        .higher_timeframe
        .unwrap_or_else(|| tfs.get(1).copied().unwrap_or(base));
    (timeframe, higher)
}

/// Run `job` over `stream`: the whole pipeline in Rust, no Python.
///
/// `poll` is called every `poll_interval` events (0 is treated as 1); returning `true`
/// stops the run with [`NativeError::Cancelled`].
///
/// # Errors
/// [`NativeError::Config`] (checked in the legacy order: strategy and parameters,
/// indicator specs, then the execution timeframe against the stream),
/// [`NativeError::Strategy`] for an invalid signal, [`NativeError::Cancelled`].
pub fn run_job(
    stream: &ValidatedStream,
    job: &NativeJob,
    poll: &mut dyn FnMut() -> bool,
    poll_interval: u32,
) -> Result<TraceData, NativeError> {
    let (timeframe, higher) = resolve_timeframes(stream, job);
    let strategy = build(&job.strategy, &job.params, timeframe, higher)?;
    run_strategy(stream, strategy, job, poll, poll_interval)
}

/// Run an already built `strategy` with `job`'s config, seed and source ([`run_job`]
/// after the registry lookup; `job.strategy` and `job.params` are not used).
///
/// # Errors
/// As [`run_job`].
pub fn run_strategy(
    stream: &ValidatedStream,
    mut strategy: Box<dyn NativeStrategy>,
    job: &NativeJob,
    poll: &mut dyn FnMut() -> bool,
    poll_interval: u32,
) -> Result<TraceData, NativeError> {
    let requests = strategy.indicators();
    let cache = IndicatorCache::new(&requests)?;
    for slot in strategy.slots_mut() {
        slot.bind(cache.output_names())?;
    }
    let label = py_str_repr(strategy.name());
    let spec = RunSpec {
        strategy_name: strategy.name().to_owned(),
        strategy_label: label.clone(),
        subscriptions: strategy.subscriptions(),
        indicators: requests,
        config: job.config.clone(),
        seed: job.seed,
        contract_size: stream.instrument.contract_size,
        source: job.source.clone(),
    };
    let interval = poll_interval.max(1);
    let mut driver = Driver {
        strategy: strategy.as_mut(),
        label: &label,
        poll,
        interval,
        countdown: interval,
    };
    run(EventQueue::of_stream(stream), &spec, &mut driver).map_err(|e| match e {
        RunError::Config(m) => NativeError::Config(m),
        RunError::Strategy(e) => e,
    })
}

/// Deliberately wrong strategies for testing the harness (never registered):
/// `"sma_cross:tie_as_above"` is `sma_cross` with [`TieRule::AsAbove`].
pub const VARIANTS: [&str; 1] = ["sma_cross:tie_as_above"];

/// Build a test-only variant from [`VARIANTS`].
///
/// # Errors
/// `ConfigError` for an unknown variant or bad parameters.
pub fn build_variant(
    variant: &str,
    params: &Params,
    timeframe: Timeframe,
) -> Result<Box<dyn NativeStrategy>, ConfigError> {
    match variant {
        "sma_cross:tie_as_above" => Ok(Box::new(
            SmaCross::new(params, timeframe)?.with_tie_rule(TieRule::AsAbove),
        )),
        _ => Err(ConfigError::new(format!(
            "unknown variant {}; known: {}",
            py_str_repr(variant),
            VARIANTS.join(", ")
        ))),
    }
}

/// [`run_job`] without cancellation.
///
/// # Errors
/// As [`run_job`] (never [`NativeError::Cancelled`]).
pub fn run_to_end(stream: &ValidatedStream, job: &NativeJob) -> Result<TraceData, NativeError> {
    run_job(stream, job, &mut || false, u32::MAX)
}
