//! The Strategy B callback bridge: the Rust event loop calling Python strategies.
//!
//! * The GIL is held for the whole run: no release and re-take per event.
//! * Each subscribed event gets one frozen `Candle` and one `IndicatorView`
//!   snapshot, shared by its `check_exit` and `on_candle` calls; names are interned.
//! * Signals are validated like `legacy_py.engine.validate_signal`: a fast path for
//!   well-formed `StrategySignal`s, else the legacy validator itself, so error types
//!   and messages are identical.
//! * Strategy exceptions propagate as the same exception object (type and traceback
//!   kept) with the legacy engine's note giving the event index.
//! * Ctrl-C is checked every [`SIGNAL_CHECK_INTERVAL`] events.
//! * Panics are caught and turned into `RuntimeError`; none crosses the FFI.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_pyarrow::ToPyArrow;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyString, PyTuple, PyType};

use super::errors::{config_error, panic_error, strategy_type_error};
use super::objects::{IndicatorView, NameTable, PyCandle, PyPosition};
use super::stream::load;
use crate::config::{EngineConfig, Sizing};
use crate::event::engine::{run, RunError, RunSpec, StrategyCallbacks};
use crate::event::queue::EventQueue;
use crate::event::types::{
    Candle, PriceType, SeriesKey, Side, SignalType, StrategySignal, Timeframe,
};
use crate::indicators::IndicatorRequest;
use crate::portfolio::OpenPosition;
use crate::stream::ValidatedStream;
use crate::trace::arrow::trace_batches;

/// Events between two checks for pending signals (Ctrl-C).
pub const SIGNAL_CHECK_INTERVAL: i64 = 1024;

struct Interned {
    timeframes: Vec<Py<PyString>>,
    price_types: [Py<PyString>; 2],
    long: Py<PyString>,
    short: Py<PyString>,
}

impl Interned {
    fn new(py: Python<'_>) -> Self {
        Self {
            timeframes: Timeframe::ALL
                .iter()
                .map(|tf| PyString::intern(py, tf.as_str()).unbind())
                .collect(),
            price_types: [
                PyString::intern(py, "bid").unbind(),
                PyString::intern(py, "ask").unbind(),
            ],
            long: PyString::intern(py, "long").unbind(),
            short: PyString::intern(py, "short").unbind(),
        }
    }

    fn timeframe(&self, py: Python<'_>, tf: Timeframe) -> Py<PyString> {
        let i = Timeframe::ALL.iter().position(|t| *t == tf).unwrap_or(0);
        self.timeframes[i].clone_ref(py)
    }

    fn price_type(&self, py: Python<'_>, pt: PriceType) -> Py<PyString> {
        match pt {
            PriceType::Bid => self.price_types[0].clone_ref(py),
            PriceType::Ask => self.price_types[1].clone_ref(py),
        }
    }
}

struct Bridge<'py> {
    py: Python<'py>,
    name_repr: String,
    on_candle: Bound<'py, PyAny>,
    check_exit: Bound<'py, PyAny>,
    signal_cls: Bound<'py, PyType>,
    signal_type_cls: Bound<'py, PyType>,
    validate: Bound<'py, PyAny>,
    strategy_name: Bound<'py, PyString>,
    names: Arc<NameTable>,
    interned: Interned,
    current: Option<(i64, Py<PyCandle>, Py<IndicatorView>)>,
}

impl<'py> Bridge<'py> {
    fn objects(
        &mut self,
        index: i64,
        candle: &Candle,
        values: &[Option<f64>],
    ) -> PyResult<(Bound<'py, PyCandle>, Bound<'py, IndicatorView>)> {
        let py = self.py;
        if let Some((i, c, v)) = &self.current {
            if *i == index {
                return Ok((c.bind(py).clone(), v.bind(py).clone()));
            }
        }
        let c = Bound::new(
            py,
            PyCandle {
                timestamp: candle.timestamp,
                timeframe: self.interned.timeframe(py, candle.timeframe),
                price_type: self.interned.price_type(py, candle.price_type),
                open: candle.open,
                high: candle.high,
                low: candle.low,
                close: candle.close,
                volume: candle.volume,
            },
        )?;
        let v = Bound::new(
            py,
            IndicatorView {
                names: self.names.clone(),
                values: values.into(),
            },
        )?;
        self.current = Some((index, c.clone().unbind(), v.clone().unbind()));
        Ok((c, v))
    }

    fn annotate(&self, err: &PyErr, method: &str, index: i64, candle: &Candle) {
        let note = format!(
            "omega: raised by strategy {} in {method} at event {index} (timestamp={}, {}/{})",
            self.name_repr,
            candle.timestamp,
            candle.timeframe.as_str(),
            candle.price_type.as_str()
        );
        // A failure to attach the note must not mask the strategy's own exception.
        let _ = err.add_note(self.py, note);
    }

    /// Fast path for a well-formed `StrategySignal`; `None` means "use the validator".
    fn fast_signal(&self, raw: &Bound<'py, PyAny>) -> PyResult<Option<StrategySignal>> {
        if !raw.get_type().is(&self.signal_cls) {
            return Ok(None);
        }
        let py = self.py;
        let st = raw.getattr(intern!(py, "signal_type"))?;
        if !st.get_type().is(&self.signal_type_cls) {
            return Ok(None);
        }
        let value = st.getattr(intern!(py, "value"))?;
        let Some(signal_type) = value
            .cast::<PyString>()
            .ok()
            .and_then(|s| s.to_str().ok().and_then(SignalType::parse))
        else {
            return Ok(None);
        };
        let mut prices = [None; 3];
        for (slot, attr) in prices.iter_mut().zip([
            intern!(py, "entry_price"),
            intern!(py, "stop_loss"),
            intern!(py, "take_profit"),
        ]) {
            let v = raw.getattr(attr)?;
            if v.is_none() {
                continue;
            }
            if !v.is_exact_instance_of::<PyFloat>() {
                return Ok(None);
            }
            let x: f64 = v.extract()?;
            if !x.is_finite() || x <= 0.0 {
                return Ok(None);
            }
            *slot = Some(x);
        }
        let meta = raw.getattr(intern!(py, "metadata"))?;
        let Ok(meta) = meta.cast_exact::<PyDict>() else {
            return Ok(None);
        };
        let mut metadata = Vec::with_capacity(meta.len());
        for (k, v) in meta.iter() {
            if !k.is_exact_instance_of::<PyString>() || !v.is_exact_instance_of::<PyString>() {
                return Ok(None);
            }
            metadata.push((k.extract::<String>()?, v.extract::<String>()?));
        }
        Ok(Some(StrategySignal {
            signal_type,
            entry_price: prices[0],
            stop_loss: prices[1],
            take_profit: prices[2],
            metadata,
        }))
    }

    fn convert_signal(
        &self,
        raw: &Bound<'py, PyAny>,
        index: i64,
    ) -> PyResult<Option<StrategySignal>> {
        if raw.is_none() {
            return Ok(None);
        }
        if let Some(sig) = self.fast_signal(raw)? {
            return Ok(Some(sig));
        }
        // The legacy validator raises the legacy error, or returns a normalised signal.
        let checked = self.validate.call1((raw, &self.strategy_name, index))?;
        if checked.is_none() {
            return Ok(None);
        }
        match self.fast_signal(&checked)? {
            Some(sig) => Ok(Some(sig)),
            None => Err(strategy_type_error(
                self.py,
                &format!(
                    "strategy {} on_candle at event {index}: signal could not be converted",
                    self.name_repr
                ),
            )),
        }
    }
}

impl StrategyCallbacks for Bridge<'_> {
    type Error = PyErr;

    fn check_exit(
        &mut self,
        event_index: i64,
        position: &OpenPosition,
        candle: &Candle,
        indicators: &[Option<f64>],
    ) -> PyResult<bool> {
        let py = self.py;
        let (c, v) = self.objects(event_index, candle, indicators)?;
        let pos = Bound::new(
            py,
            PyPosition {
                position_id: position.position_id,
                side: match position.side {
                    Side::Long => self.interned.long.clone_ref(py),
                    Side::Short => self.interned.short.clone_ref(py),
                },
                quantity: position.quantity,
                entry_price: position.entry_price,
                entry_timestamp: position.entry_timestamp,
                entry_event: position.entry_event,
                stop_loss: position.stop_loss,
                take_profit: position.take_profit,
            },
        )?;
        let decision = match self.check_exit.call1((pos, c, v)) {
            Ok(d) => d,
            Err(err) => {
                self.annotate(&err, "check_exit", event_index, candle);
                return Err(err);
            }
        };
        match decision.cast::<PyBool>() {
            Ok(b) => Ok(b.is_true()),
            Err(_) => Err(strategy_type_error(
                py,
                &format!(
                    "strategy {} check_exit at event {event_index} returned {}; expected bool",
                    self.name_repr,
                    decision.get_type().name()?
                ),
            )),
        }
    }

    fn on_candle(
        &mut self,
        event_index: i64,
        candle: &Candle,
        indicators: &[Option<f64>],
        signal: &mut Option<StrategySignal>,
    ) -> PyResult<()> {
        let (c, v) = self.objects(event_index, candle, indicators)?;
        let raw = match self.on_candle.call1((c, v)) {
            Ok(r) => r,
            Err(err) => {
                self.annotate(&err, "on_candle", event_index, candle);
                return Err(err);
            }
        };
        *signal = self.convert_signal(&raw, event_index)?;
        Ok(())
    }

    fn after_event(&mut self, event_index: i64) -> PyResult<()> {
        if event_index % SIGNAL_CHECK_INTERVAL == SIGNAL_CHECK_INTERVAL - 1 {
            self.py.check_signals()?;
        }
        Ok(())
    }
}

pub(crate) fn parse_config(cfg: &Bound<'_, PyDict>) -> PyResult<EngineConfig> {
    let py = cfg.py();
    let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
        cfg.get_item(k)?
            .ok_or_else(|| config_error(py, &format!("engine config lacks {k:?}")))
    };
    let sizing: String = get("sizing")?.extract()?;
    Ok(EngineConfig {
        initial_cash: get("initial_cash")?.extract()?,
        commission_rate: get("commission_rate")?.extract()?,
        slippage_fixed: get("slippage_fixed")?.extract()?,
        slippage_random: get("slippage_random")?.extract()?,
        sizing: if sizing == "risk" {
            Sizing::Risk
        } else {
            Sizing::Fixed
        },
        units: get("units")?.extract()?,
        risk_pct: get("risk_pct")?.extract()?,
        lot_step: get("lot_step")?.extract()?,
        max_positions: get("max_positions")?.extract()?,
        limit_ttl: get("limit_ttl")?.extract()?,
    })
}

pub(crate) fn parse_series(py: Python<'_>, tf: &str, pt: &str) -> PyResult<SeriesKey> {
    match (Timeframe::parse(tf), PriceType::parse(pt)) {
        (Some(t), Some(p)) => Ok((t, p)),
        _ => Err(config_error(
            py,
            &format!("bad subscription ({tf:?}, {pt:?})"),
        )),
    }
}

/// Run one strategy over one stream in Rust (Strategy B).
///
/// `subscriptions`: `[(timeframe, price_type), ...]`; `indicators`:
/// `[(timeframe, price_type, spec), ...]`; `config`: the `EngineConfig` fields as a dict.
/// Returns the (events, fills, trades, summary) record batches as pyarrow objects.
///
/// # Errors
/// The legacy engine's exceptions: stream errors, `ConfigError`, `StrategyTypeError`,
/// or whatever the strategy raised.
#[pyfunction]
#[pyo3(signature = (source, strategy, strategy_name, subscriptions, indicators, config, seed, source_label, require_sorted=false))]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
pub fn run_stream<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    strategy: &Bound<'py, PyAny>,
    strategy_name: &Bound<'py, PyString>,
    subscriptions: Vec<(String, String)>,
    indicators: Vec<(String, String, String)>,
    config: &Bound<'py, PyDict>,
    seed: i64,
    source_label: String,
    require_sorted: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_inner(
            py,
            source,
            strategy,
            strategy_name,
            &subscriptions,
            &indicators,
            config,
            seed,
            source_label.clone(),
            require_sorted,
        )
    }));
    match result {
        Ok(r) => r,
        Err(payload) => Err(panic_error(payload.as_ref())),
    }
}

/// The [`RunSpec`] of a Python-callback run (Strategies B and C), from the arguments
/// the Python wrappers pass.
///
/// # Errors
/// `ConfigError` for a bad subscription; extraction errors for a malformed config.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_run_spec(
    stream: &ValidatedStream,
    strategy_name: &Bound<'_, PyString>,
    subscriptions: &[(String, String)],
    indicators: &[(String, String, String)],
    config: &Bound<'_, PyDict>,
    seed: i64,
    source_label: String,
) -> PyResult<RunSpec> {
    let py = strategy_name.py();
    let subs = subscriptions
        .iter()
        .map(|(tf, pt)| parse_series(py, tf, pt))
        .collect::<PyResult<Vec<_>>>()?;
    let requests: Vec<IndicatorRequest> = indicators
        .iter()
        .map(|(tf, pt, spec)| IndicatorRequest::new(tf, pt, spec))
        .collect();
    Ok(RunSpec {
        strategy_name: strategy_name.to_str()?.to_string(),
        strategy_label: strategy_name.repr()?.to_str()?.to_string(),
        subscriptions: subs,
        indicators: requests,
        config: parse_config(config)?,
        seed,
        contract_size: stream.instrument.contract_size,
        source: source_label,
    })
}

#[allow(clippy::too_many_arguments)]
fn run_inner<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    strategy: &Bound<'py, PyAny>,
    strategy_name: &Bound<'py, PyString>,
    subscriptions: &[(String, String)],
    indicators: &[(String, String, String)],
    config: &Bound<'py, PyDict>,
    seed: i64,
    source_label: String,
    require_sorted: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let stream = load(source, require_sorted)?;
    let spec = build_run_spec(
        &stream,
        strategy_name,
        subscriptions,
        indicators,
        config,
        seed,
        source_label,
    )?;
    // Names of the indicator outputs, interned once for the whole run.
    let cache = crate::indicators::IndicatorCache::new(&spec.indicators)
        .map_err(|e| config_error(py, e.message()))?;
    let mut index = HashMap::new();
    let mut names = Vec::new();
    for (i, n) in cache.output_names().iter().enumerate() {
        index.insert(n.clone(), i);
        names.push(PyString::intern(py, n).unbind());
    }
    let types = py.import("legacy_py.types")?;
    let mut bridge = Bridge {
        py,
        name_repr: spec.strategy_label.clone(),
        on_candle: strategy.getattr(intern!(py, "on_candle"))?,
        check_exit: strategy.getattr(intern!(py, "check_exit"))?,
        signal_cls: types.getattr("StrategySignal")?.cast_into::<PyType>()?,
        signal_type_cls: types.getattr("SignalType")?.cast_into::<PyType>()?,
        validate: py.import("legacy_py.engine")?.getattr("validate_signal")?,
        strategy_name: strategy_name.clone(),
        names: Arc::new(NameTable { names, index }),
        interned: Interned::new(py),
        current: None,
    };
    let queue = EventQueue::of_stream(&stream);
    let trace = match run(queue, &spec, &mut bridge) {
        Ok(t) => t,
        Err(RunError::Config(msg)) => return Err(config_error(py, &msg)),
        Err(RunError::Strategy(err)) => return Err(err),
    };
    let (events, fills, trades, summary) = trace_batches(trace).map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("building trace batches: {e}"))
    })?;
    PyTuple::new(
        py,
        [
            events.to_pyarrow(py)?,
            fills.to_pyarrow(py)?,
            trades.to_pyarrow(py)?,
            summary.to_pyarrow(py)?,
        ],
    )
}
