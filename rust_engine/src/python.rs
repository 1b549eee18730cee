//! PyO3 bindings: the only module that touches Python types.

use pyo3::prelude::*;

/// The extension module `omega_rust._omega_rust`.
#[pymodule]
#[pyo3(name = "_omega_rust")]
fn omega_rust_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    Ok(())
}
