//! The Strategy C glue: the Rust event loop feeding a Python `on_batch` chunk by chunk.
//!
//! The chunking logic is plain Rust ([`crate::event::batch`]); this module only
//!
//! * exports each chunk's two record batches to pyarrow (`ToPyArrow`: the Arrow C data
//!   interface, no copy of the Rust buffers),
//! * calls `strategy.on_batch(candles, indicators)` once per chunk,
//! * hands the result to `omega_rust.batch.normalize_signals`, which validates it like
//!   `legacy_py.engine.validate_signal` (same error classes, messages naming the chunk
//!   and the row's event index) and returns one canonical pyarrow `RecordBatch`,
//! * imports that batch back (`FromPyArrow`) and turns its rows into signals.
//!
//! As in Strategy B the GIL is held for the whole run; Ctrl-C is checked before every
//! chunk and every [`SIGNAL_CHECK_INTERVAL`] events. Strategy exceptions propagate
//! unchanged with a note naming the chunk. Panics are caught at the entry point.

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Float64Array, MapArray, RecordBatch, StringArray};
use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use super::engine::{build_run_spec, SIGNAL_CHECK_INTERVAL};
use super::errors::{config_error, panic_error};
use super::stream::load;
use crate::event::batch::{BatchDispatcher, BatchStrategy, Chunk, LookAhead};
use crate::event::engine::{run, RunError};
use crate::event::queue::EventQueue;
use crate::event::types::{SignalType, StrategySignal};
use crate::trace::arrow::trace_batches;

fn internal(message: &str) -> PyErr {
    PyRuntimeError::new_err(format!("omega_rust internal error: {message}"))
}

/// A Python strategy's `on_batch` behind [`BatchStrategy`].
struct PyBatch<'py> {
    py: Python<'py>,
    name_repr: String,
    strategy_name: Bound<'py, PyString>,
    on_batch: Bound<'py, PyAny>,
    normalize: Bound<'py, PyAny>,
}

impl PyBatch<'_> {
    fn annotate(&self, err: &PyErr, chunk: &Chunk) {
        let events = chunk.event_indices();
        let (first, last) = (events.first().copied(), events.last().copied());
        let note = format!(
            "omega: raised by strategy {} in on_batch at chunk {} (events {} to {}, {} candles)",
            self.name_repr,
            chunk.number(),
            first.unwrap_or(-1),
            last.unwrap_or(-1),
            chunk.len()
        );
        // A failure to attach the note must not mask the strategy's own exception.
        let _ = err.add_note(self.py, note);
    }
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> PyResult<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| internal(&format!("normalized signals lack a typed {name:?} column")))
}

/// The `signal_type` column (utf8, or a dictionary of utf8) parsed per row.
fn signal_types(col: &ArrayRef) -> PyResult<Vec<Option<SignalType>>> {
    let parse =
        |s: &str| SignalType::parse(s).ok_or_else(|| internal(&format!("bad signal_type {s:?}")));
    if let Some(strings) = col.as_any().downcast_ref::<StringArray>() {
        return (0..strings.len())
            .map(|row| {
                if strings.is_null(row) {
                    Ok(None)
                } else {
                    parse(strings.value(row)).map(Some)
                }
            })
            .collect();
    }
    let dict = col
        .as_any_dictionary_opt()
        .ok_or_else(|| internal("signal_type is neither utf8 nor a dictionary"))?;
    let values = dict
        .values()
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| internal("signal_type dictionary values are not utf8"))?;
    let mut parsed = Vec::with_capacity(values.len());
    for i in 0..values.len() {
        parsed.push(if values.is_null(i) {
            None
        } else {
            Some(parse(values.value(i))?)
        });
    }
    let keys = dict.normalized_keys();
    (0..dict.len())
        .map(|row| {
            if dict.is_null(row) {
                return Ok(None);
            }
            match parsed.get(keys[row]) {
                Some(Some(t)) => Ok(Some(*t)),
                _ => Err(internal("signal_type dictionary entry is null or missing")),
            }
        })
        .collect()
}

/// Rows of the canonical signal batch (see `omega_rust.batch.SIGNAL_SCHEMA`) as signals.
fn convert_signals(batch: &RecordBatch, rows: usize) -> PyResult<Vec<Option<StrategySignal>>> {
    if batch.num_rows() != rows {
        return Err(internal(&format!(
            "normalized signals have {} rows for {rows} candles",
            batch.num_rows()
        )));
    }
    let types = signal_types(
        batch
            .column_by_name("signal_type")
            .ok_or_else(|| internal("normalized signals lack signal_type"))?,
    )?;
    let entry = column::<Float64Array>(batch, "entry_price")?;
    let stop = column::<Float64Array>(batch, "stop_loss")?;
    let take = column::<Float64Array>(batch, "take_profit")?;
    let meta = column::<MapArray>(batch, "metadata")?;
    let keys = meta
        .keys()
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| internal("metadata keys are not strings"))?;
    let values = meta
        .values()
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| internal("metadata values are not strings"))?;
    let offsets = meta.value_offsets();
    let price = |a: &Float64Array, row: usize| a.is_valid(row).then(|| a.value(row));
    let mut out = Vec::with_capacity(rows);
    for (row, signal_type) in types.into_iter().enumerate() {
        let Some(signal_type) = signal_type else {
            out.push(None);
            continue;
        };
        let mut metadata = Vec::new();
        if meta.is_valid(row) {
            let (lo, hi) = (offsets[row], offsets[row + 1]);
            let lo = usize::try_from(lo).map_err(|_| internal("bad metadata offsets"))?;
            let hi = usize::try_from(hi).map_err(|_| internal("bad metadata offsets"))?;
            for j in lo..hi {
                if values.is_null(j) {
                    return Err(internal("null metadata value"));
                }
                metadata.push((keys.value(j).to_string(), values.value(j).to_string()));
            }
        }
        out.push(Some(StrategySignal {
            signal_type,
            entry_price: price(entry, row),
            stop_loss: price(stop, row),
            take_profit: price(take, row),
            metadata,
        }));
    }
    Ok(out)
}

impl BatchStrategy for PyBatch<'_> {
    type Error = PyErr;

    fn on_batch(&mut self, chunk: &Chunk) -> PyResult<Vec<Option<StrategySignal>>> {
        let py = self.py;
        py.check_signals()?;
        let candles = chunk.candles().to_pyarrow(py)?;
        let indicators = chunk.indicators().to_pyarrow(py)?;
        let raw = match self.on_batch.call1((&candles, indicators)) {
            Ok(r) => r,
            Err(err) => {
                self.annotate(&err, chunk);
                return Err(err);
            }
        };
        let normalized =
            self.normalize
                .call1((raw, &self.strategy_name, chunk.number(), &candles))?;
        let batch = RecordBatch::from_pyarrow_bound(&normalized)?;
        convert_signals(&batch, chunk.len())
    }

    fn after_event(&mut self, event_index: i64) -> PyResult<()> {
        if event_index % SIGNAL_CHECK_INTERVAL == SIGNAL_CHECK_INTERVAL - 1 {
            self.py.check_signals()?;
        }
        Ok(())
    }

    fn internal_error(&self, message: String) -> PyErr {
        internal(&message)
    }
}

/// Run one batch strategy over one stream in Rust (Strategy C).
///
/// Like [`super::engine::run_stream`], plus `chunk_size`: subscribed events per
/// `on_batch` call. `check_exit` is never called. Returns the (events, fills, trades,
/// summary) record batches as pyarrow objects.
///
/// # Errors
/// The legacy engine's exceptions: stream errors, `ConfigError`, `StrategyTypeError` /
/// `StrategyError` for bad signals, or whatever the strategy raised.
#[pyfunction]
#[pyo3(signature = (source, strategy, strategy_name, subscriptions, indicators, config, seed, source_label, chunk_size, require_sorted=false))]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
pub fn run_batch_stream<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    strategy: &Bound<'py, PyAny>,
    strategy_name: &Bound<'py, PyString>,
    subscriptions: Vec<(String, String)>,
    indicators: Vec<(String, String, String)>,
    config: &Bound<'py, PyDict>,
    seed: i64,
    source_label: String,
    chunk_size: usize,
    require_sorted: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_batch_inner(
            py,
            source,
            strategy,
            strategy_name,
            &subscriptions,
            &indicators,
            config,
            seed,
            source_label.clone(),
            chunk_size,
            require_sorted,
        )
    }));
    match result {
        Ok(r) => r,
        Err(payload) => Err(panic_error(payload.as_ref())),
    }
}

#[allow(clippy::too_many_arguments)]
fn run_batch_inner<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    strategy: &Bound<'py, PyAny>,
    strategy_name: &Bound<'py, PyString>,
    subscriptions: &[(String, String)],
    indicators: &[(String, String, String)],
    config: &Bound<'py, PyDict>,
    seed: i64,
    source_label: String,
    chunk_size: usize,
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
    let lookahead = LookAhead::new(
        stream.columns(),
        &spec.subscriptions,
        &spec.indicators,
        chunk_size,
    )
    .map_err(|e| config_error(py, e.message()))?;
    let glue = PyBatch {
        py,
        name_repr: spec.strategy_label.clone(),
        strategy_name: strategy_name.clone(),
        on_batch: strategy.getattr(intern!(py, "on_batch"))?,
        normalize: py
            .import("omega_rust.batch")?
            .getattr("normalize_signals")?,
    };
    let mut dispatcher = BatchDispatcher::new(lookahead, glue);
    let trace = match run(EventQueue::of_stream(&stream), &spec, &mut dispatcher) {
        Ok(t) => t,
        Err(RunError::Config(msg)) => return Err(config_error(py, &msg)),
        Err(RunError::Strategy(err)) => return Err(err),
    };
    let (events, fills, trades, summary) = trace_batches(trace)
        .map_err(|e| PyRuntimeError::new_err(format!("building trace batches: {e}")))?;
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
