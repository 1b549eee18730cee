//! PyO3 bindings: the only place that touches Python types.
//!
//! One binding module per domain (`NautilusTrader` style): [`objects`] mirrors
//! `event::types`, [`stream`] mirrors `stream`, [`engine`] mirrors `event::engine`,
//! [`batch`] mirrors `event::batch` (Strategy C).
//! Every entry point catches panics, so a Rust panic never crosses the FFI.

pub mod batch;
pub mod engine;
pub mod errors;
pub mod native;
pub mod objects;
pub mod stream;

use pyo3::prelude::*;

/// The extension module `omega_rust._omega_rust`.
#[pymodule]
#[pyo3(name = "_omega_rust")]
fn omega_rust_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    m.add_class::<objects::PyCandle>()?;
    m.add_class::<objects::PyPosition>()?;
    m.add_class::<objects::IndicatorView>()?;
    m.add_function(wrap_pyfunction!(engine::run_stream, m)?)?;
    m.add_function(wrap_pyfunction!(batch::run_batch_stream, m)?)?;
    m.add_class::<stream::PreparedStream>()?;
    m.add_function(wrap_pyfunction!(stream::validate_stream, m)?)?;
    m.add_function(wrap_pyfunction!(stream::prepare_stream, m)?)?;
    m.add_function(wrap_pyfunction!(native::run_native, m)?)?;
    m.add_function(wrap_pyfunction!(native::run_native_many, m)?)?;
    m.add_function(wrap_pyfunction!(native::run_native_variant, m)?)?;
    Ok(())
}
