//! Stream input from Python: a pyarrow `Table` / `RecordBatchReader` (Arrow C stream
//! interface, zero-copy) or an Arrow IPC file path (memory-mapped), validated by
//! [`crate::stream`] with the legacy loader's errors.

use std::path::PathBuf;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_pyarrow::FromPyArrow;
use arrow_schema::Schema;
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

/// Load and validate a stream from a Python source.
///
/// # Errors
/// The legacy loader's exception for invalid input.
pub fn load(source: &Bound<'_, PyAny>, require_sorted: bool) -> PyResult<ValidatedStream> {
    let py = source.py();
    let (schema, batches) = read_batches(source)?;
    validate_batches(&schema, &batches, require_sorted).map_err(|e| stream_error(py, &e))
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
