//! Python-visible engine objects: `Candle`, `Position` and the indicator mapping.
//!
//! They are frozen pyclasses with the same attribute names and value types as
//! `legacy_py.types.Candle` / `Position` and the legacy `dict` of indicators, so
//! reference strategies run unchanged under either engine.

use std::collections::HashMap;
use std::sync::Arc;

use pyo3::exceptions::{PyKeyError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

/// A candle as a strategy sees it (frozen).
#[pyclass(frozen, name = "Candle", module = "omega_rust")]
pub struct PyCandle {
    /// Close time, epoch µs.
    #[pyo3(get)]
    pub timestamp: i64,
    /// Interned timeframe name.
    #[pyo3(get)]
    pub timeframe: Py<PyString>,
    /// Interned `"bid"` / `"ask"`.
    #[pyo3(get)]
    pub price_type: Py<PyString>,
    /// Open.
    #[pyo3(get)]
    pub open: f64,
    /// High.
    #[pyo3(get)]
    pub high: f64,
    /// Low.
    #[pyo3(get)]
    pub low: f64,
    /// Close.
    #[pyo3(get)]
    pub close: f64,
    /// Volume.
    #[pyo3(get)]
    pub volume: f64,
}

#[pymethods]
impl PyCandle {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Candle(timestamp={}, timeframe='{}', price_type='{}', open={}, high={}, low={}, close={}, volume={})",
            self.timestamp,
            self.timeframe.bind(py),
            self.price_type.bind(py),
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume
        )
    }
}

/// An open position as `check_exit` sees it (frozen).
#[pyclass(frozen, name = "Position", module = "omega_rust")]
pub struct PyPosition {
    /// Position id.
    #[pyo3(get)]
    pub position_id: i64,
    /// Interned `"long"` / `"short"`.
    #[pyo3(get)]
    pub side: Py<PyString>,
    /// Quantity.
    #[pyo3(get)]
    pub quantity: f64,
    /// Entry price.
    #[pyo3(get)]
    pub entry_price: f64,
    /// Entry timestamp.
    #[pyo3(get)]
    pub entry_timestamp: i64,
    /// Entry event index.
    #[pyo3(get)]
    pub entry_event: i64,
    /// Stop-loss.
    #[pyo3(get)]
    pub stop_loss: Option<f64>,
    /// Take-profit.
    #[pyo3(get)]
    pub take_profit: Option<f64>,
}

/// Indicator names shared by every snapshot of one run.
pub struct NameTable {
    /// Interned names in declaration order.
    pub names: Vec<Py<PyString>>,
    /// Name → position (lookup only; never iterated).
    pub index: HashMap<String, usize>,
}

/// A read-only snapshot of the indicator values at one event: a `Mapping[str, float | None]`.
///
/// Each event gets its own snapshot (like the legacy engine's fresh `dict`), so a
/// strategy that keeps the mapping sees the values of that event forever.
#[pyclass(frozen, mapping, name = "IndicatorView", module = "omega_rust")]
pub struct IndicatorView {
    pub(crate) names: Arc<NameTable>,
    pub(crate) values: Box<[Option<f64>]>,
}

impl IndicatorView {
    fn lookup(&self, key: &Bound<'_, PyAny>) -> Option<usize> {
        let s = key.cast::<PyString>().ok()?;
        let s = s.to_str().ok()?;
        self.names.index.get(s).copied()
    }
}

#[pymethods]
impl IndicatorView {
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
        match self.lookup(key) {
            Some(i) => Ok(self.values[i]),
            None => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    fn __len__(&self) -> usize {
        self.values.len()
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> bool {
        self.lookup(key).is_some()
    }

    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<Py<ViewIter>> {
        let py = slf.py();
        let slf = slf.get();
        Py::new(
            py,
            ViewIter {
                names: slf.names.clone(),
                next: std::sync::atomic::AtomicUsize::new(0),
            },
        )
    }

    /// The value for `key`, or `default`.
    #[pyo3(signature = (key, default=None))]
    fn get(&self, py: Python<'_>, key: &Bound<'_, PyAny>, default: Option<Py<PyAny>>) -> Py<PyAny> {
        match self.lookup(key) {
            Some(i) => self.values[i]
                .into_pyobject(py)
                .map_or_else(|_| py.None(), |v| v.into_any().unbind()),
            None => default.unwrap_or_else(|| py.None()),
        }
    }

    /// Names in declaration order.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.names.names.iter().map(|n| n.clone_ref(py)))
    }

    /// Values in declaration order.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.values.iter().copied())
    }

    /// `(name, value)` pairs in declaration order.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut out = Vec::with_capacity(self.values.len());
        for (n, v) in self.names.names.iter().zip(self.values.iter()) {
            out.push(PyTuple::new(
                py,
                [
                    n.clone_ref(py).into_any(),
                    v.into_pyobject(py)?.into_any().unbind(),
                ],
            )?);
        }
        PyList::new(py, out)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let parts: Vec<String> = self
            .names
            .names
            .iter()
            .zip(self.values.iter())
            .map(|(n, v)| match v {
                Some(x) => format!("'{}': {x:?}", n.bind(py)),
                None => format!("'{}': None", n.bind(py)),
            })
            .collect();
        format!("IndicatorView({{{}}})", parts.join(", "))
    }
}

/// Iterator over an [`IndicatorView`]'s names.
#[pyclass(frozen, module = "omega_rust")]
pub struct ViewIter {
    names: Arc<NameTable>,
    next: std::sync::atomic::AtomicUsize,
}

#[pymethods]
impl ViewIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyString>> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.names.names.get(i) {
            Some(n) => Ok(n.clone_ref(py)),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}
