//! Error mapping: Rust domain errors → the legacy engine's Python exception classes.
//!
//! Stream errors become `legacy_py.errors.<Class>(detail, row=..., field=...)`, so
//! `type(exc)` and `str(exc)` are the same under both engines.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::stream::StreamError;

/// Import `legacy_py.errors.<name>`.
fn error_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("legacy_py.errors")?.getattr(name)
}

/// A Python exception of the legacy class for `err`.
#[must_use]
pub fn stream_error(py: Python<'_>, err: &StreamError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = error_class(py, err.kind.python_class())?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("row", err.row)?;
        kwargs.set_item("field", err.field.as_deref())?;
        let exc = cls.call((err.detail.as_str(),), Some(&kwargs))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// `legacy_py.errors.ConfigError(message)`.
#[must_use]
pub fn config_error(py: Python<'_>, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = error_class(py, "ConfigError")?.call1((message,))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// `legacy_py.errors.StrategyTypeError(message)`.
#[must_use]
pub fn strategy_type_error(py: Python<'_>, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = error_class(py, "StrategyTypeError")?.call1((message,))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// The error raised when Rust code panicked: the panic is caught before the FFI boundary.
pub fn panic_error(payload: &(dyn std::any::Any + Send)) -> PyErr {
    let msg = payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    PyRuntimeError::new_err(format!(
        "omega_rust internal error (Rust panic caught): {msg}"
    ))
}
