//! The Strategy A binding: a reference strategy implemented in Rust
//! ([`crate::strategies`]) runs over a stream with no Python in the event loop.
//!
//! * **GIL.** The stream is loaded and validated and the parameters converted while
//!   attached; then the GIL is released (`Python::detach`) for the whole run *and*
//!   the building of the Arrow trace batches. Only the export of the finished batches
//!   to pyarrow happens attached again. Other Python threads run freely meanwhile.
//! * **Ctrl-C.** Inside `detach` the loop cannot call `py.check_signals()`; every
//!   [`SIGNAL_CHECK_EVENTS`] events it briefly re-attaches
//!   (`Python::attach(|py| py.check_signals())`, ~1 µs) and stops on an error, which
//!   is then raised (`KeyboardInterrupt`). Signal handlers only run on the main
//!   thread, so this is effective when the run was started from it.
//!   [`run_native_many`] keeps the calling thread out of the pool: it waits for
//!   results and checks for signals every [`SIGNAL_CHECK_PERIOD`]; on a pending
//!   signal it raises a cancellation flag that every run polls (see
//!   [`crate::parallel`]).
//! * **Ownership.** The validated input columns are borrowed (`&ValidatedStream`, its
//!   Arrow buffers `Arc`ed) by the run(s) and dropped when the call returns; the trace
//!   batches are built in Rust and handed to pyarrow through the C data interface.
//! * **Errors.** `ConfigError`, `StrategyError` (an invalid signal price, the
//!   legacy message), stream errors of the legacy classes, `KeyboardInterrupt`;
//!   panics are caught (`RuntimeError`), as in `run_stream`.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_pyarrow::ToPyArrow;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyTuple};

use super::engine::parse_config;
use super::errors::{config_error, panic_error};
use super::stream::load;
use crate::event::types::Timeframe;
use crate::parallel::{default_threads, run_many_with, ParallelJob};
use crate::strategies::{
    build_variant, resolve_timeframes, run_job, run_strategy, NativeError, NativeJob, ParamValue,
    Params,
};
use crate::stream::{py_str_repr, ValidatedStream};
use crate::trace::arrow::trace_batches;
use crate::trace::TraceData;

/// Events between two checks for pending signals in a single native run.
pub const SIGNAL_CHECK_EVENTS: u32 = 65_536;

/// How often [`run_native_many`]'s calling thread checks for pending signals.
pub const SIGNAL_CHECK_PERIOD: Duration = Duration::from_millis(50);

type Batches = (RecordBatch, RecordBatch, RecordBatch, RecordBatch);

/// Why a run produced no batches.
enum Failure {
    Native(NativeError),
    Arrow(String),
}

impl From<NativeError> for Failure {
    fn from(e: NativeError) -> Self {
        Failure::Native(e)
    }
}

fn batches(trace: TraceData) -> Result<Batches, Failure> {
    trace_batches(trace).map_err(|e| Failure::Arrow(e.to_string()))
}

fn strategy_error(py: Python<'_>, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("legacy_py.errors")?.getattr("StrategyError")?;
        Ok(PyErr::from_value(cls.call1((message,))?))
    };
    build().unwrap_or_else(|e| e)
}

/// The Python exception for a failure; `interrupt` is the pending-signal error that
/// caused a cancellation, if any.
fn to_py_err(py: Python<'_>, failure: Failure, interrupt: &mut Option<PyErr>) -> PyErr {
    match failure {
        Failure::Native(NativeError::Config(m)) => config_error(py, &m),
        Failure::Native(NativeError::Strategy(m)) => strategy_error(py, &m),
        Failure::Native(NativeError::Cancelled) => interrupt
            .take()
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("native run cancelled")),
        Failure::Native(NativeError::Panicked(m)) => PyRuntimeError::new_err(format!(
            "omega_rust internal error (Rust panic caught): {m}"
        )),
        Failure::Arrow(m) => PyRuntimeError::new_err(format!("building trace batches: {m}")),
    }
}

fn to_py_tuple<'py>(py: Python<'py>, b: &Batches) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            b.0.to_pyarrow(py)?,
            b.1.to_pyarrow(py)?,
            b.2.to_pyarrow(py)?,
            b.3.to_pyarrow(py)?,
        ],
    )
}

/// Convert `{name: int | float}` to [`Params`]. Ints beyond int64 saturate (only
/// `churn`'s `every` can legitimately be that large, and any value above the number
/// of events behaves the same; periods that large are rejected as indicator specs).
fn parse_params(params: &Bound<'_, PyDict>) -> PyResult<Params> {
    let py = params.py();
    let mut out = Params::new();
    for (k, v) in params.iter() {
        let key: String = k.extract().map_err(|_| {
            config_error(
                py,
                &format!(
                    "param names must be str, got {}",
                    k.repr().map_or_else(|_| "?".to_owned(), |r| r.to_string())
                ),
            )
        })?;
        let value = if v.is_instance_of::<PyBool>() {
            None
        } else if v.is_instance_of::<PyInt>() {
            Some(ParamValue::Int(match v.extract::<i64>() {
                Ok(i) => i,
                Err(_) if v.lt(0)? => i64::MIN,
                Err(_) => i64::MAX,
            }))
        } else if v.is_instance_of::<PyFloat>() {
            Some(ParamValue::Float(v.extract()?))
        } else {
            None
        };
        match value {
            Some(value) => out.set(&key, value),
            None => {
                return Err(config_error(
                    py,
                    &format!(
                        "param {} must be int or float, got {}",
                        py_str_repr(&key),
                        v.repr()?
                    ),
                ))
            }
        }
    }
    Ok(out)
}

fn parse_timeframe(py: Python<'_>, tf: Option<&str>, what: &str) -> PyResult<Option<Timeframe>> {
    match tf {
        None => Ok(None),
        Some(s) => Timeframe::parse(s)
            .map(Some)
            .ok_or_else(|| config_error(py, &format!("unknown {what} {}", py_str_repr(s)))),
    }
}

#[allow(clippy::too_many_arguments)]
fn make_job(
    py: Python<'_>,
    strategy_name: &str,
    params: &Bound<'_, PyDict>,
    timeframe: Option<&str>,
    higher_timeframe: Option<&str>,
    config: &Bound<'_, PyDict>,
    seed: i64,
    source_label: &str,
) -> PyResult<NativeJob> {
    Ok(NativeJob {
        strategy: strategy_name.to_owned(),
        params: parse_params(params)?,
        timeframe: parse_timeframe(py, timeframe, "timeframe")?,
        higher_timeframe: parse_timeframe(py, higher_timeframe, "higher_timeframe")?,
        config: parse_config(config)?,
        seed,
        source: source_label.to_owned(),
    })
}

/// A poll for detached code: re-attach, run pending signal handlers; on an error
/// (e.g. `KeyboardInterrupt`) keep it in `slot` and ask to stop.
fn signal_poll(slot: &mut Option<PyErr>) -> impl FnMut() -> bool + '_ {
    #[allow(clippy::redundant_closure_for_method_calls)] // the method is not general enough
    move || match Python::attach(|py| py.check_signals()) {
        Ok(()) => false,
        Err(e) => {
            *slot = Some(e);
            true
        }
    }
}

/// Run `run` over `stream` with the GIL released, re-attaching every
/// [`SIGNAL_CHECK_EVENTS`] events to check for signals.
fn detached<F>(py: Python<'_>, run: F) -> PyResult<Bound<'_, PyTuple>>
where
    F: FnOnce(&mut dyn FnMut() -> bool) -> Result<TraceData, NativeError> + Send,
{
    let (result, mut interrupt) = py.detach(move || {
        let mut interrupt: Option<PyErr> = None;
        let result = run(&mut signal_poll(&mut interrupt))
            .map_err(Failure::from)
            .and_then(batches);
        (result, interrupt)
    });
    match result {
        Ok(b) => to_py_tuple(py, &b),
        Err(f) => Err(to_py_err(py, f, &mut interrupt)),
    }
}

fn catch<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(panic_error(payload.as_ref())),
    }
}

/// Run a native reference strategy over one stream (Strategy A).
///
/// `params`: the strategy's parameters (`{name: int | float}`, e.g. the validated
/// `strategy.params`); `timeframe` / `higher_timeframe`: explicit timeframes or `None`
/// for the stream's defaults (like `make_strategy`); `config`: the `EngineConfig`
/// fields as a dict. Returns the (events, fills, trades, summary) record batches.
///
/// # Errors
/// Stream errors, `ConfigError`, `StrategyError`, `KeyboardInterrupt`, `RuntimeError`.
#[pyfunction]
#[pyo3(signature = (source, strategy_name, params, timeframe, higher_timeframe, config, seed, source_label, require_sorted=false))]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
pub fn run_native<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    strategy_name: &str,
    params: &Bound<'py, PyDict>,
    timeframe: Option<&str>,
    higher_timeframe: Option<&str>,
    config: &Bound<'py, PyDict>,
    seed: i64,
    source_label: &str,
    require_sorted: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    catch(|| {
        let job = make_job(
            py,
            strategy_name,
            params,
            timeframe,
            higher_timeframe,
            config,
            seed,
            source_label,
        )?;
        let stream = load(source, require_sorted)?;
        detached(py, |poll| run_job(&stream, &job, poll, SIGNAL_CHECK_EVENTS))
    })
}

/// Test hook: run a deliberately wrong variant of a native strategy (see
/// `strategies::VARIANTS`, e.g. `"sma_cross:tie_as_above"`), to check that the
/// harness catches and classifies the divergence. Same arguments as [`run_native`].
///
/// # Errors
/// As [`run_native`]; `ConfigError` for an unknown variant.
#[pyfunction]
#[pyo3(signature = (source, variant, params, timeframe, higher_timeframe, config, seed, source_label))]
#[allow(clippy::too_many_arguments)]
pub fn run_native_variant<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    variant: &str,
    params: &Bound<'py, PyDict>,
    timeframe: Option<&str>,
    higher_timeframe: Option<&str>,
    config: &Bound<'py, PyDict>,
    seed: i64,
    source_label: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    catch(|| {
        let job = make_job(
            py,
            variant,
            params,
            timeframe,
            higher_timeframe,
            config,
            seed,
            source_label,
        )?;
        let stream = load(source, false)?;
        let (tf, _) = resolve_timeframes(&stream, &job);
        let strategy =
            build_variant(variant, &job.params, tf).map_err(|e| config_error(py, e.message()))?;
        detached(py, |poll| {
            run_strategy(&stream, strategy, &job, poll, SIGNAL_CHECK_EVENTS)
        })
    })
}

type JobTuple<'py> = (
    usize,
    String,
    Bound<'py, PyDict>,
    Option<String>,
    Option<String>,
    Bound<'py, PyDict>,
    i64,
    String,
);

/// Run many native jobs on a pool of `threads` threads (default: the machine's
/// available parallelism) with the GIL released.
///
/// `sources`: the streams (each loaded and validated once, before any run);
/// `jobs`: `(stream_index, strategy_name, params, timeframe, higher_timeframe, config,
/// seed, source_label)` tuples. Returns one (events, fills, trades, summary) tuple per
/// job, in job order. Each run is sequential and bit-identical to the same run alone.
///
/// # Errors
/// Stream and parameter errors before anything runs; then the first failed job's
/// error in job order (`KeyboardInterrupt` first when a signal stopped the runs);
/// `ValueError` for `threads < 1`.
#[pyfunction]
#[pyo3(signature = (sources, jobs, threads=None, require_sorted=false))]
pub fn run_native_many<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    jobs: &Bound<'py, PyList>,
    threads: Option<usize>,
    require_sorted: bool,
) -> PyResult<Bound<'py, PyList>> {
    catch(|| {
        let threads = threads.unwrap_or_else(default_threads);
        if threads == 0 {
            return Err(PyValueError::new_err("threads must be >= 1"));
        }
        let mut parsed = Vec::with_capacity(jobs.len());
        for item in jobs.iter() {
            let (stream, name, params, tf, htf, config, seed, label): JobTuple<'_> =
                item.extract()?;
            if stream >= sources.len() {
                return Err(PyValueError::new_err(format!(
                    "job refers to stream {stream} of {}",
                    sources.len()
                )));
            }
            let job = make_job(
                py,
                &name,
                &params,
                tf.as_deref(),
                htf.as_deref(),
                &config,
                seed,
                &label,
            )?;
            parsed.push(ParallelJob { stream, job });
        }
        let streams: Vec<Arc<ValidatedStream>> = sources
            .iter()
            .map(|s| load(&s, require_sorted))
            .collect::<PyResult<_>>()?;
        let (outcome, mut interrupt) = py.detach(|| {
            let mut interrupt: Option<PyErr> = None;
            let outcome = run_many_with(
                &streams,
                &parsed,
                threads,
                |t| Ok(batches(t)),
                &mut signal_poll(&mut interrupt),
                SIGNAL_CHECK_PERIOD,
            );
            (outcome, interrupt)
        });
        let outcomes = outcome.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        if let Some(err) = interrupt.take() {
            return Err(err);
        }
        let out = PyList::empty(py);
        for result in outcomes {
            let b = match result {
                Ok(Ok(b)) => b,
                Ok(Err(f)) => return Err(to_py_err(py, f, &mut interrupt)),
                Err(e) => return Err(to_py_err(py, Failure::Native(e), &mut interrupt)),
            };
            out.append(to_py_tuple(py, &b)?)?;
        }
        Ok(out)
    })
}
