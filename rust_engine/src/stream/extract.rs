//! Phase 1 of the validation: presence and types of the candle columns, and their
//! conversion into flat columns (zero-copy where the input already has the target
//! layout).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, Field, Schema};

use super::{pyarrow_field_type_name, Instrument, StreamError, ValidatedStream, CANDLE_COLUMNS};
use crate::event::types::{PriceType, Timeframe};

/// Code of a null timeframe / price type.
pub(super) const NULL_CODE: u8 = u8::MAX;
/// Code of an unknown timeframe / price type.
pub(super) const UNKNOWN_CODE: u8 = u8::MAX - 1;

/// Largest integer magnitude Arrow casts safely to float64 (2^53).
const FLOAT64_INT_BOUND: i64 = 1 << 53;

/// Column indices into [`CANDLE_COLUMNS`].
pub(super) const TIMESTAMP: usize = 0;
pub(super) const TIMEFRAME: usize = 1;
pub(super) const PRICE_TYPE: usize = 2;
/// Index of `open` in [`CANDLE_COLUMNS`]; the five value columns follow it.
pub(super) const FIRST_VALUE: usize = 3;

/// The candle columns of a stream after phase 1, in input order.
///
/// Nulls are kept as masks (`None` when a column has none); the values under a null
/// slot are arbitrary, which is harmless: a row with a null is rejected anyway.
pub(super) struct Columns<'a> {
    /// The string columns per batch, for the texts of error messages.
    strings: [Vec<&'a ArrayRef>; 2],
    /// First row of each batch, plus the total row count.
    offsets: Vec<usize>,
    pub timestamp: ScalarBuffer<i64>,
    /// [`Timeframe`] discriminant, [`NULL_CODE`] or [`UNKNOWN_CODE`].
    pub timeframe: Vec<u8>,
    /// 0 = bid, 1 = ask, [`NULL_CODE`] or [`UNKNOWN_CODE`].
    pub price_type: Vec<u8>,
    /// open, high, low, close, volume.
    pub values: [ScalarBuffer<f64>; 5],
    timestamp_nulls: Option<Vec<bool>>,
    value_nulls: [Option<Vec<bool>>; 5],
}

impl Columns<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }

    /// True when the column `col` (an index into [`CANDLE_COLUMNS`]) is null at `row`.
    pub fn is_null(&self, col: usize, row: usize) -> bool {
        match col {
            TIMESTAMP => self.timestamp_nulls.as_ref().is_some_and(|m| m[row]),
            TIMEFRAME => self.timeframe[row] == NULL_CODE,
            PRICE_TYPE => self.price_type[row] == NULL_CODE,
            _ => self.value_nulls[col - FIRST_VALUE]
                .as_ref()
                .is_some_and(|m| m[row]),
        }
    }

    /// The null masks of the timestamp and value columns that have nulls.
    pub fn numeric_null_masks(&self) -> impl Iterator<Item = &[bool]> {
        std::iter::once(&self.timestamp_nulls)
            .chain(self.value_nulls.iter())
            .filter_map(|m| m.as_deref())
    }

    /// The string at `row` of the timeframe (`col == 1`) or price-type (`col == 2`)
    /// column; `None` when null.
    pub fn string_at(&self, col: usize, row: usize) -> Option<String> {
        let batch = self.offsets.partition_point(|&start| start <= row) - 1;
        let array = self.strings[col - TIMEFRAME][batch];
        string_value(array.as_ref(), row - self.offsets[batch])
    }

    /// The validated stream (all checks passed: no nulls, every code known).
    pub fn into_stream(self, instrument: Instrument, order: Option<Vec<usize>>) -> ValidatedStream {
        let [open, high, low, close, volume] = self.values;
        ValidatedStream {
            instrument,
            timestamp: self.timestamp,
            timeframe: self
                .timeframe
                .iter()
                .map(|&c| Timeframe::ALL[usize::from(c)])
                .collect(),
            price_type: self
                .price_type
                .iter()
                .map(|&c| {
                    if c == 0 {
                        PriceType::Bid
                    } else {
                        PriceType::Ask
                    }
                })
                .collect(),
            open,
            high,
            low,
            close,
            volume,
            series: std::sync::OnceLock::new(),
            order,
        }
    }
}

/// The string at `index` of a string, large-string, null or dictionary array.
fn string_value(array: &dyn Array, index: usize) -> Option<String> {
    if array.is_null(index) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(index).to_owned()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(index).to_owned()),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            if dict.values().is_empty() {
                return None;
            }
            let key = *dict.normalized_keys().get(index)?;
            string_value(dict.values().as_ref(), key)
        }
        _ => None,
    }
}

fn schema_error(field: &str, detail: String) -> StreamError {
    StreamError::schema(detail, Some(field))
}

/// Phase 1: look up, type-check and convert every candle column, in column order.
pub(super) fn extract<'a>(
    schema: &Schema,
    batches: &'a [RecordBatch],
) -> Result<Columns<'a>, StreamError> {
    let mut offsets = Vec::with_capacity(batches.len() + 1);
    let mut total = 0usize;
    offsets.push(0);
    for batch in batches {
        total += batch.num_rows();
        offsets.push(total);
    }
    let mut arrays: Vec<Vec<&'a ArrayRef>> = Vec::with_capacity(CANDLE_COLUMNS.len());
    let mut fields: Vec<&Field> = Vec::with_capacity(CANDLE_COLUMNS.len());
    let mut timestamp = None;
    let mut timeframe = Vec::new();
    let mut price_type = Vec::new();
    let mut values = Vec::with_capacity(5);
    for (col, &name) in CANDLE_COLUMNS.iter().enumerate() {
        let (field, column) = column(schema, batches, name)?;
        match col {
            TIMESTAMP => timestamp = Some(timestamp_column(field, &column, total)?),
            TIMEFRAME => timeframe = code_column(field, &column, total, timeframe_code)?,
            PRICE_TYPE => price_type = code_column(field, &column, total, price_type_code)?,
            _ => values.push(value_column(field, &column, total)?),
        }
        fields.push(field);
        arrays.push(column);
    }
    let (timestamp, timestamp_nulls) = timestamp.unwrap_or_default();
    // Five value columns were pushed in the loop above.
    let [v0, v1, v2, v3, v4]: [NumericColumn<f64>; 5] = values.try_into().unwrap_or_default();
    Ok(Columns {
        strings: [arrays[TIMEFRAME].clone(), arrays[PRICE_TYPE].clone()],
        offsets,
        timestamp,
        timeframe,
        price_type,
        values: [v0.0, v1.0, v2.0, v3.0, v4.0],
        timestamp_nulls,
        value_nulls: [v0.1, v1.1, v2.1, v3.1, v4.1],
    })
}

/// The schema field `name` and its array in every batch.
fn column<'s, 'a>(
    schema: &'s Schema,
    batches: &'a [RecordBatch],
    name: &str,
) -> Result<(&'s Field, Vec<&'a ArrayRef>), StreamError> {
    let mut matches = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name() == name);
    let Some((index, field)) = matches.next() else {
        return Err(schema_error(name, "missing column".to_owned()));
    };
    let count = 1 + matches.count();
    if count > 1 {
        return Err(schema_error(
            name,
            format!("Field \"{name}\" exists {count} times in schema"),
        ));
    }
    let mut arrays = Vec::with_capacity(batches.len());
    for (k, batch) in batches.iter().enumerate() {
        let array = batch
            .columns()
            .get(index)
            .filter(|a| a.data_type() == field.data_type());
        let Some(array) = array else {
            return Err(schema_error(
                name,
                format!("record batch {k} does not match the schema"),
            ));
        };
        arrays.push(array);
    }
    Ok((field.as_ref(), arrays))
}

/// A concatenated null mask; `None` when no array has a (logical) null.
fn null_mask(arrays: &[&ArrayRef], total: usize) -> Option<Vec<bool>> {
    if arrays.iter().all(|a| a.logical_null_count() == 0) {
        return None;
    }
    let mut mask = Vec::with_capacity(total);
    for array in arrays {
        match array.logical_nulls() {
            Some(nulls) => mask.extend(nulls.iter().map(|valid| !valid)),
            None => mask.extend(std::iter::repeat_n(false, array.len())),
        }
    }
    Some(mask)
}

/// The first valid value of `array` that is out of `lo..=hi`, as Arrow's safe cast
/// reports it (nulls skipped, in row order).
fn first_out_of_range<T>(array: &dyn Array, lo: i128, hi: i128) -> Option<i128>
where
    T: arrow_array::ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    array
        .as_primitive::<T>()
        .iter()
        .flatten()
        .map(Into::into)
        .find(|v: &i128| *v < lo || *v > hi)
}

fn unsafe_cast(field: &Field, target: &str, value: i128, lo: i128, hi: i128) -> StreamError {
    schema_error(
        field.name(),
        format!(
            "column type {} does not cast safely to {target}: ArrowInvalid: Integer value \
             {value} not in range: {lo} to {hi}",
            pyarrow_field_type_name(field)
        ),
    )
}

type NumericColumn<T> = (ScalarBuffer<T>, Option<Vec<bool>>);

/// `timestamp`: any integer type (or the null type) → int64.
fn timestamp_column(
    field: &Field,
    arrays: &[&ArrayRef],
    total: usize,
) -> Result<NumericColumn<i64>, StreamError> {
    let dt = field.data_type();
    if !(dt.is_integer() || *dt == DataType::Null) {
        return Err(schema_error(
            field.name(),
            format!(
                "column type {} does not cast to int64",
                pyarrow_field_type_name(field)
            ),
        ));
    }
    if *dt == DataType::UInt64 {
        let hi = i128::from(i64::MAX);
        for array in arrays {
            if let Some(v) = first_out_of_range::<UInt64Type>(array.as_ref(), 0, hi) {
                return Err(unsafe_cast(field, "int64", v, 0, hi));
            }
        }
    }
    let nulls = null_mask(arrays, total);
    if let ([array], DataType::Int64) = (arrays, dt) {
        return Ok((array.as_primitive::<Int64Type>().values().clone(), nulls));
    }
    let mut out: Vec<i64> = Vec::with_capacity(total);
    for array in arrays {
        let a = array.as_ref();
        match dt {
            DataType::Int8 => extend(&mut out, a.as_primitive::<Int8Type>().values(), i64::from),
            DataType::Int16 => extend(&mut out, a.as_primitive::<Int16Type>().values(), i64::from),
            DataType::Int32 => extend(&mut out, a.as_primitive::<Int32Type>().values(), i64::from),
            DataType::Int64 => out.extend_from_slice(a.as_primitive::<Int64Type>().values()),
            DataType::UInt8 => extend(&mut out, a.as_primitive::<UInt8Type>().values(), i64::from),
            DataType::UInt16 => {
                extend(&mut out, a.as_primitive::<UInt16Type>().values(), i64::from);
            }
            DataType::UInt32 => {
                extend(&mut out, a.as_primitive::<UInt32Type>().values(), i64::from);
            }
            // Valid values were range-checked above; null slots may hold anything.
            DataType::UInt64 => extend(&mut out, a.as_primitive::<UInt64Type>().values(), |v| {
                i64::try_from(v).unwrap_or(0)
            }),
            _ => out.extend(std::iter::repeat_n(0, a.len())),
        }
    }
    Ok((ScalarBuffer::from(out), nulls))
}

fn extend<S: Copy, D>(out: &mut Vec<D>, src: &[S], f: impl Fn(S) -> D) {
    out.extend(src.iter().map(|&v| f(v)));
}

/// A value column: any integer or float type (or the null type) → float64.
fn value_column(
    field: &Field,
    arrays: &[&ArrayRef],
    total: usize,
) -> Result<NumericColumn<f64>, StreamError> {
    let dt = field.data_type();
    if !(dt.is_integer() || dt.is_floating() || *dt == DataType::Null) {
        return Err(schema_error(
            field.name(),
            format!(
                "column type {} does not cast to double",
                pyarrow_field_type_name(field)
            ),
        ));
    }
    let bound = i128::from(FLOAT64_INT_BOUND);
    let range = match dt {
        DataType::Int64 => Some((-bound, bound)),
        DataType::UInt64 => Some((0, bound)),
        _ => None,
    };
    if let Some((lo, hi)) = range {
        for array in arrays {
            let a = array.as_ref();
            let bad = if *dt == DataType::Int64 {
                first_out_of_range::<Int64Type>(a, lo, hi)
            } else {
                first_out_of_range::<UInt64Type>(a, lo, hi)
            };
            if let Some(v) = bad {
                return Err(unsafe_cast(field, "double", v, lo, hi));
            }
        }
    }
    let nulls = null_mask(arrays, total);
    if let ([array], DataType::Float64) = (arrays, dt) {
        return Ok((array.as_primitive::<Float64Type>().values().clone(), nulls));
    }
    let mut out: Vec<f64> = Vec::with_capacity(total);
    for array in arrays {
        let a = array.as_ref();
        match dt {
            DataType::Float64 => out.extend_from_slice(a.as_primitive::<Float64Type>().values()),
            DataType::Float32 => extend(
                &mut out,
                a.as_primitive::<Float32Type>().values(),
                f64::from,
            ),
            DataType::Float16 => {
                extend(
                    &mut out,
                    a.as_primitive::<Float16Type>().values(),
                    f64::from,
                );
            }
            DataType::Int8 => extend(&mut out, a.as_primitive::<Int8Type>().values(), f64::from),
            DataType::Int16 => extend(&mut out, a.as_primitive::<Int16Type>().values(), f64::from),
            DataType::Int32 => extend(&mut out, a.as_primitive::<Int32Type>().values(), f64::from),
            DataType::UInt8 => extend(&mut out, a.as_primitive::<UInt8Type>().values(), f64::from),
            DataType::UInt16 => {
                extend(&mut out, a.as_primitive::<UInt16Type>().values(), f64::from);
            }
            DataType::UInt32 => {
                extend(&mut out, a.as_primitive::<UInt32Type>().values(), f64::from);
            }
            // |v| <= 2^53 (checked above for valid slots): exact conversions.
            #[allow(clippy::cast_precision_loss)]
            DataType::Int64 => extend(&mut out, a.as_primitive::<Int64Type>().values(), |v| {
                v as f64
            }),
            #[allow(clippy::cast_precision_loss)]
            DataType::UInt64 => {
                extend(&mut out, a.as_primitive::<UInt64Type>().values(), |v| {
                    v as f64
                });
            }
            _ => out.extend(std::iter::repeat_n(1.0, a.len())),
        }
    }
    Ok((ScalarBuffer::from(out), nulls))
}

fn timeframe_code(s: &str) -> u8 {
    Timeframe::parse(s).map_or(UNKNOWN_CODE, |tf| tf as u8)
}

fn price_type_code(s: &str) -> u8 {
    match PriceType::parse(s) {
        Some(PriceType::Bid) => 0,
        Some(PriceType::Ask) => 1,
        None => UNKNOWN_CODE,
    }
}

/// `timeframe` / `price_type`: string, large string, the null type, or a dictionary of
/// (large) strings → one code per row.
fn code_column(
    field: &Field,
    arrays: &[&ArrayRef],
    total: usize,
    code: fn(&str) -> u8,
) -> Result<Vec<u8>, StreamError> {
    match field.data_type() {
        DataType::Dictionary(_, values) => {
            if !matches!(values.as_ref(), DataType::Utf8 | DataType::LargeUtf8) {
                return Err(schema_error(
                    field.name(),
                    format!(
                        "column type {} is not a dictionary of strings",
                        pyarrow_field_type_name(field)
                    ),
                ));
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Null => {}
        _ => {
            return Err(schema_error(
                field.name(),
                format!(
                    "column type {} is not a string type",
                    pyarrow_field_type_name(field)
                ),
            ))
        }
    }
    let mut out = Vec::with_capacity(total);
    for array in arrays {
        decode_codes(array.as_ref(), code, &mut out);
    }
    Ok(out)
}

/// Append one code per row of a string / large-string / null / dictionary array.
fn decode_codes(array: &dyn Array, code: fn(&str) -> u8, out: &mut Vec<u8>) {
    match array.data_type() {
        DataType::Utf8 => out.extend(
            array
                .as_string::<i32>()
                .iter()
                .map(|s| s.map_or(NULL_CODE, code)),
        ),
        DataType::LargeUtf8 => out.extend(
            array
                .as_string::<i64>()
                .iter()
                .map(|s| s.map_or(NULL_CODE, code)),
        ),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            // Map the dictionary once, then the keys.
            if dict.values().is_empty() {
                // Only null keys can point into an empty dictionary.
                out.extend(std::iter::repeat_n(NULL_CODE, array.len()));
                return;
            }
            let mut value_codes = Vec::with_capacity(dict.values().len());
            decode_codes(dict.values().as_ref(), code, &mut value_codes);
            let keys = dict.normalized_keys();
            match dict.keys().logical_nulls() {
                None => out.extend(
                    keys.iter()
                        .map(|&k| value_codes.get(k).copied().unwrap_or(NULL_CODE)),
                ),
                Some(valid) => out.extend(keys.iter().zip(valid.iter()).map(|(&k, ok)| {
                    if ok {
                        value_codes.get(k).copied().unwrap_or(NULL_CODE)
                    } else {
                        NULL_CODE
                    }
                })),
            }
        }
        _ => out.extend(std::iter::repeat_n(NULL_CODE, array.len())),
    }
}
