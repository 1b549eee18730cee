//! Candle streams: read Arrow IPC files and validate them exactly like
//! `legacy_py/loader.py`.
//!
//! [`validate_batches`] runs the loader's six validation phases (see `docs/streams.md`)
//! in the same order and reports the same first error: the same
//! [`StreamErrorKind`] (↔ Python exception class), row, field and the same message
//! text, so [`StreamError`]'s `Display` equals `str(exc)` of the legacy exception.
//! Floats in messages are spelled by [`py_float_repr`] (`CPython`'s `repr(float)`),
//! strings by [`py_str_repr`] and Arrow types by [`pyarrow_type_name`].
//!
//! [`read_ipc_file`] memory-maps an Arrow IPC file (or an IPC stream, the loader's
//! fallback when the file magic is missing) and decodes it without copying the
//! column buffers. Read errors are [`StreamErrorKind::Schema`] without row or field;
//! their detail text is close to, but not guaranteed identical with, the Python
//! loader's (only validation messages are byte-for-byte equal).
//!
//! Known divergences, all outside the validation messages:
//! * a schema-metadata value that is not UTF-8 cannot be represented by arrow-rs, so
//!   such a file is unreadable here, where Python reports `SchemaError(field=key)`;
//! * a duplicated candle column name is a `SchemaError(field=name)` here, a `KeyError`
//!   in Python;
//! * compressed IPC buffers (LZ4/ZSTD) are unreadable here (the corpus and
//!   `write_stream` never compress).

mod extract;
mod ipc;
mod pyrepr;
#[cfg(test)]
mod pyrepr_cases;
#[cfg(test)]
mod tests;
mod unicode_tables;
mod validate;

use std::fmt;

use arrow_array::RecordBatch;
use arrow_buffer::ScalarBuffer;
use arrow_schema::{Metadata, Schema};

use crate::event::queue::CandleColumns;
use crate::event::types::{PriceType, Timeframe};

pub use ipc::read_ipc_file;
pub use pyrepr::{
    parse_py_float, py_float_repr, py_str_repr, pyarrow_field_type_name, pyarrow_type_name,
};

/// The candle columns in schema order (also the order of the schema and null checks).
pub const CANDLE_COLUMNS: [&str; 8] = [
    "timestamp",
    "timeframe",
    "price_type",
    "open",
    "high",
    "low",
    "close",
    "volume",
];

/// The numeric value columns, in order.
pub const VALUE_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

/// The price columns, in order.
pub const PRICE_COLUMNS: [&str; 4] = ["open", "high", "low", "close"];

/// Schema-metadata key of the schema version.
pub const META_SCHEMA_VERSION: &str = "omega.schema_version";
/// Schema-metadata key of the instrument symbol.
pub const META_SYMBOL: &str = "omega.symbol";
/// Schema-metadata key of the tick size (`repr()` of a float).
pub const META_TICK_SIZE: &str = "omega.tick_size";
/// Schema-metadata key of the contract size (`repr()` of a float).
pub const META_CONTRACT_SIZE: &str = "omega.contract_size";
/// The only supported `omega.schema_version`.
pub const SCHEMA_VERSION: &str = "1";

/// What was wrong with a stream; each kind is one `legacy_py.errors` class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamErrorKind {
    /// Missing column, wrong type, bad metadata, unreadable or malformed file.
    Schema,
    /// The stream has no rows.
    Empty,
    /// A null in a candle column.
    Null,
    /// NaN or infinite value.
    NonFinite,
    /// A price `<= 0`.
    NonPositive,
    /// `low > min(open, close)`, `high < max(open, close)` or `high < low`.
    Ohlc,
    /// `volume < 0`.
    NegativeVolume,
    /// `ask < bid` on some price of the same (timestamp, timeframe) bar.
    BidAsk,
    /// Two rows with the same (timestamp, timeframe, price type).
    Duplicate,
    /// Unknown timeframe or price type.
    UnknownKey,
    /// Rows not in canonical order (only checked when sorting is required).
    Unsorted,
}

impl StreamErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [StreamErrorKind; 11] = [
        StreamErrorKind::Schema,
        StreamErrorKind::Empty,
        StreamErrorKind::Null,
        StreamErrorKind::NonFinite,
        StreamErrorKind::NonPositive,
        StreamErrorKind::Ohlc,
        StreamErrorKind::NegativeVolume,
        StreamErrorKind::BidAsk,
        StreamErrorKind::Duplicate,
        StreamErrorKind::UnknownKey,
        StreamErrorKind::Unsorted,
    ];

    /// The name of the `legacy_py.errors` exception class.
    #[must_use]
    pub fn python_class(self) -> &'static str {
        match self {
            StreamErrorKind::Schema => "SchemaError",
            StreamErrorKind::Empty => "EmptyStreamError",
            StreamErrorKind::Null => "NullValueError",
            StreamErrorKind::NonFinite => "NonFiniteError",
            StreamErrorKind::NonPositive => "NonPositivePriceError",
            StreamErrorKind::Ohlc => "OHLCError",
            StreamErrorKind::NegativeVolume => "NegativeVolumeError",
            StreamErrorKind::BidAsk => "BidAskError",
            StreamErrorKind::Duplicate => "DuplicateEventError",
            StreamErrorKind::UnknownKey => "UnknownTimeframeError",
            StreamErrorKind::Unsorted => "UnsortedStreamError",
        }
    }

    /// The class attribute `kind` of that exception (`"schema"`, `"non_finite"`, ...).
    #[must_use]
    pub fn python_kind(self) -> &'static str {
        match self {
            StreamErrorKind::Schema => "schema",
            StreamErrorKind::Empty => "empty",
            StreamErrorKind::Null => "null",
            StreamErrorKind::NonFinite => "non_finite",
            StreamErrorKind::NonPositive => "non_positive",
            StreamErrorKind::Ohlc => "ohlc",
            StreamErrorKind::NegativeVolume => "negative_volume",
            StreamErrorKind::BidAsk => "bid_ask",
            StreamErrorKind::Duplicate => "duplicate",
            StreamErrorKind::UnknownKey => "unknown_key",
            StreamErrorKind::Unsorted => "unsorted",
        }
    }
}

/// A rejected stream: the Rust twin of `legacy_py.errors.StreamError`.
///
/// `Display` is `"row R, field 'F': detail"` (each part only when present), exactly
/// like the Python exception's `str()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamError {
    /// Which check failed (↔ exception class).
    pub kind: StreamErrorKind,
    /// The message without the row/field prefix (Python's `exc.detail`).
    pub detail: String,
    /// 0-based input row, if the error is about one row.
    pub row: Option<usize>,
    /// Column name or metadata key, if any.
    pub field: Option<String>,
}

impl StreamError {
    /// A new error.
    #[must_use]
    pub fn new(
        kind: StreamErrorKind,
        detail: impl Into<String>,
        row: Option<usize>,
        field: Option<&str>,
    ) -> Self {
        Self {
            kind,
            detail: detail.into(),
            row,
            field: field.map(str::to_owned),
        }
    }

    /// A `SchemaError` about `field` (no row).
    pub(crate) fn schema(detail: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StreamErrorKind::Schema, detail, None, field)
    }

    /// The name of the `legacy_py.errors` exception class.
    #[must_use]
    pub fn python_class(&self) -> &'static str {
        self.kind.python_class()
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.row, &self.field) {
            (Some(row), Some(field)) => write!(f, "row {row}, field {}: ", py_str_repr(field))?,
            (Some(row), None) => write!(f, "row {row}: ")?,
            (None, Some(field)) => write!(f, "field {}: ", py_str_repr(field))?,
            (None, None) => {}
        }
        f.write_str(&self.detail)
    }
}

impl std::error::Error for StreamError {}

/// The traded instrument (Python `InstrumentMeta`).
#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    /// Symbol, default `"UNKNOWN"`.
    pub symbol: String,
    /// Minimum price increment, default `1e-5`.
    pub tick_size: f64,
    /// Units per contract, default `1.0`.
    pub contract_size: f64,
}

impl Default for Instrument {
    fn default() -> Self {
        Self {
            symbol: "UNKNOWN".to_owned(),
            tick_size: 1e-5,
            contract_size: 1.0,
        }
    }
}

impl Instrument {
    /// Read the instrument from schema metadata like `instrument_from_schema`:
    /// missing keys take the defaults; a bad version, a value that `float()` rejects, or
    /// a non-finite or non-positive size is a `SchemaError` whose field is the key.
    ///
    /// # Errors
    /// The first malformed entry, checked in the order version, tick size, contract size.
    pub fn from_metadata(meta: &Metadata) -> Result<Self, StreamError> {
        if let Some(version) = meta.get(META_SCHEMA_VERSION) {
            if version != SCHEMA_VERSION {
                return Err(StreamError::schema(
                    format!(
                        "unsupported schema version {}; expected {}",
                        py_str_repr(version),
                        py_str_repr(SCHEMA_VERSION)
                    ),
                    Some(META_SCHEMA_VERSION),
                ));
            }
        }
        let default = Self::default();
        let positive = |key: &str, default: f64| -> Result<f64, StreamError> {
            let Some(text) = meta.get(key) else {
                return Ok(default);
            };
            let Some(value) = parse_py_float(text) else {
                return Err(StreamError::schema(
                    format!("metadata value {} is not a float", py_str_repr(text)),
                    Some(key),
                ));
            };
            if !value.is_finite() || value <= 0.0 {
                return Err(StreamError::schema(
                    format!(
                        "metadata value {} must be finite and > 0",
                        py_str_repr(text)
                    ),
                    Some(key),
                ));
            }
            Ok(value)
        };
        Ok(Self {
            tick_size: positive(META_TICK_SIZE, default.tick_size)?,
            contract_size: positive(META_CONTRACT_SIZE, default.contract_size)?,
            symbol: meta.get(META_SYMBOL).cloned().unwrap_or(default.symbol),
        })
    }
}

/// A validated candle stream: the columns in INPUT order (zero-copy over the Arrow
/// buffers where possible), the instrument, and the canonical permutation.
#[derive(Clone, Debug)]
pub struct ValidatedStream {
    /// The instrument (from the schema metadata unless overridden).
    pub instrument: Instrument,
    timestamp: ScalarBuffer<i64>,
    timeframe: Vec<Timeframe>,
    price_type: Vec<PriceType>,
    open: ScalarBuffer<f64>,
    high: ScalarBuffer<f64>,
    low: ScalarBuffer<f64>,
    close: ScalarBuffer<f64>,
    volume: ScalarBuffer<f64>,
    order: Option<Vec<usize>>,
    /// The events' series in canonical order, made on first use and shared by every
    /// trace of this stream.
    series: std::sync::OnceLock<std::sync::Arc<crate::trace::SeriesColumns>>,
}

impl ValidatedStream {
    /// The columns, one entry per input row (input order, not canonical order).
    #[must_use]
    pub fn columns(&self) -> CandleColumns<'_> {
        CandleColumns {
            timestamp: &self.timestamp,
            timeframe: &self.timeframe,
            price_type: &self.price_type,
            open: &self.open,
            high: &self.high,
            low: &self.low,
            close: &self.close,
            volume: &self.volume,
        }
    }

    /// Number of events.
    #[must_use]
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }

    /// True when there are no events (never, for a validated stream).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.timestamp.is_empty()
    }

    /// `None` when the input is already in canonical order, else the stable
    /// permutation that sorts it (the same as
    /// [`CandleColumns::canonical_permutation`]).
    #[must_use]
    pub fn canonical_order(&self) -> Option<&[usize]> {
        self.order.as_deref()
    }

    /// The timeframe and price type of every event in canonical order: computed on
    /// first use, then shared (every run over this stream gets the same `Arc`).
    #[must_use]
    pub fn event_series(&self) -> std::sync::Arc<crate::trace::SeriesColumns> {
        std::sync::Arc::clone(self.series.get_or_init(|| {
            crate::trace::SeriesColumns::of_events(self.columns(), self.canonical_order())
        }))
    }
}

/// Validate `batches` (all of schema `schema`) exactly like `stream_from_table`, taking
/// the instrument from the schema metadata.
///
/// # Errors
/// The first failing check in the loader's precedence (phases 1–6), with the Python
/// loader's kind, row, field and message.
pub fn validate_batches(
    schema: &Schema,
    batches: &[RecordBatch],
    require_sorted: bool,
) -> Result<ValidatedStream, StreamError> {
    validate_batches_with(schema, batches, require_sorted, None)
}

/// [`validate_batches`] with an optional instrument override (Python's
/// `stream_from_table(..., instrument=...)`): when given, the schema metadata is
/// neither read nor checked.
///
/// # Errors
/// As [`validate_batches`].
pub fn validate_batches_with(
    schema: &Schema,
    batches: &[RecordBatch],
    require_sorted: bool,
    instrument: Option<Instrument>,
) -> Result<ValidatedStream, StreamError> {
    // Phase 1: columns and types, then the metadata (as `stream_from_table` does).
    let cols = extract::extract(schema, batches)?;
    let instrument = match instrument {
        Some(meta) => meta,
        None => Instrument::from_metadata(schema.metadata())?,
    };
    // Phase 2.
    if cols.len() == 0 {
        return Err(StreamError::new(
            StreamErrorKind::Empty,
            "stream has no rows",
            None,
            None,
        ));
    }
    // Phases 3-6.
    let order = validate::check(&cols, require_sorted)?;
    Ok(cols.into_stream(instrument, order))
}
