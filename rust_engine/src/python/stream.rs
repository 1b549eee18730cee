//! Stream input from Python: a pyarrow `Table` / `RecordBatchReader` (Arrow C stream
//! interface, zero-copy) or an Arrow IPC file path (memory-mapped), validated by
//! [`crate::stream`] with the legacy loader's errors; or a [`PreparedStream`], a stream
//! validated once by [`prepare_stream`] that any number of runs share without
//! validating it again.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_pyarrow::FromPyArrow;
use arrow_schema::Schema;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::errors::{panic_error, stream_error};
use crate::stream::{read_ipc_file, validate_batches, ValidatedStream};

/// Read a Python stream source into record batches.
fn read_batches(source: &Bound<'_, PyAny>) -> PyResult<(Schema, Vec<RecordBatch>)> {
    let py = source.py();
    let is_path =
        source.is_instance_of::<PyString>() || source.hasattr(pyo3::intern!(py, "__fspath__"))?;
    if is_path {
        let path: PathBuf = source.extract()?;
        let (schema, batches) = read_ipc_file(&path).map_err(|e| stream_error(py, &e))?;
        return Ok((schema.as_ref().clone(), batches));
    }
    let reader = arrow_array::ffi_stream::RecordBatchStreamReader::from_pyarrow_bound(source)?;
    let schema = reader.schema().as_ref().clone();
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|e| {
            stream_error(
                py,
                &crate::stream::StreamError {
                    kind: crate::stream::StreamErrorKind::Schema,
                    detail: format!("cannot read Arrow stream: {e}"),
                    row: None,
                    field: None,
                },
            )
        })?);
    }
    Ok((schema, batches))
}

/// A candle stream validated once, shared by every run it is passed to.
///
/// Immutable: it holds the validated columns (zero-copy over the source's Arrow
/// buffers, which it keeps alive), the instrument and the canonical order. Runs
/// borrow it and never validate it again. Made by [`prepare_stream`].
#[pyclass(frozen, module = "omega_rust._omega_rust", name = "PreparedStream")]
pub struct PreparedStream {
    stream: Arc<ValidatedStream>,
    require_sorted: bool,
}

#[pymethods]
impl PreparedStream {
    /// Number of events.
    fn __len__(&self) -> usize {
        self.stream.len()
    }

    /// True when the input rows were already in canonical order.
    #[getter]
    fn is_sorted(&self) -> bool {
        self.stream.canonical_order().is_none()
    }

    /// Whether it was validated with `require_sorted=True`.
    #[getter]
    fn require_sorted(&self) -> bool {
        self.require_sorted
    }

    fn __repr__(&self) -> String {
        format!(
            "PreparedStream(events={}, symbol={}, sorted={})",
            self.stream.len(),
            crate::stream::py_str_repr(&self.stream.instrument.symbol),
            if self.is_sorted() { "True" } else { "False" }
        )
    }
}

/// Load and validate a stream from a Python source (a [`PreparedStream`] is shared,
/// not validated again).
///
/// # Errors
/// The legacy loader's exception for invalid input; `ValueError` when
/// `require_sorted` is asked of a prepared stream that was prepared without it and
/// is not in canonical order.
pub fn load(source: &Bound<'_, PyAny>, require_sorted: bool) -> PyResult<Arc<ValidatedStream>> {
    let py = source.py();
    if let Ok(prepared) = source.cast::<PreparedStream>() {
        let prepared = prepared.get();
        if require_sorted && !prepared.require_sorted && !prepared.is_sorted() {
            return Err(PyValueError::new_err(
                "require_sorted=True, but this PreparedStream is not in canonical order \
                 (prepare it with require_sorted=True for the row that breaks the order)",
            ));
        }
        return Ok(Arc::clone(&prepared.stream));
    }
    let (schema, batches) = read_batches(source)?;
    validate_batches(&schema, &batches, require_sorted)
        .map(Arc::new)
        .map_err(|e| stream_error(py, &e))
}

/// Validate a stream once for many runs.
///
/// # Errors
/// The legacy loader's exception for invalid input.
#[pyfunction]
#[pyo3(signature = (source, require_sorted=false))]
pub fn prepare_stream(source: &Bound<'_, PyAny>, require_sorted: bool) -> PyResult<PreparedStream> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        load(source, require_sorted)
    }));
    let stream = match result {
        Ok(r) => r?,
        Err(payload) => return Err(panic_error(payload.as_ref())),
    };
    let require_sorted = require_sorted
        || source
            .cast::<PreparedStream>()
            .is_ok_and(|p| p.get().require_sorted);
    Ok(PreparedStream {
        stream,
        require_sorted,
    })
}

/// Validate a stream without running anything.
///
/// Returns `(events, symbol, tick_size, contract_size)`.
///
/// # Errors
/// The legacy loader's exception for invalid input.
#[pyfunction]
#[pyo3(signature = (source, require_sorted=false))]
pub fn validate_stream(
    source: &Bound<'_, PyAny>,
    require_sorted: bool,
) -> PyResult<(usize, String, f64, f64)> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        load(source, require_sorted)
    }));
    let stream = match result {
        Ok(r) => r?,
        Err(payload) => return Err(panic_error(payload.as_ref())),
    };
    let inst = &stream.instrument;
    Ok((
        stream.len(),
        inst.symbol.clone(),
        inst.tick_size,
        inst.contract_size,
    ))
}
