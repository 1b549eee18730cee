//! Unit tests: every error kind (row, field, message), the precedence, zero-copy
//! storage, IPC reading, and the `CPython` spellings against generated tables.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::types::{Int32Type, Int8Type, UInt16Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float16Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, Int8Array, LargeStringArray, NullArray, RecordBatch,
    StringArray, UInt64Array, UInt8Array,
};
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit, UnionFields, UnionMode};

use super::pyrepr_cases::{FLOAT_REPR, PARSE_FLOAT, STR_REPR};
use super::*;
use crate::event::types::{PriceType, Timeframe};

// --------------------------------------------------------------------- builders

#[derive(Clone, Debug)]
struct Row {
    ts: Option<i64>,
    tf: Option<&'static str>,
    pt: Option<&'static str>,
    v: [Option<f64>; 5],
}

/// A valid M1 bid bar closing at `minute`.
fn row(minute: i64) -> Row {
    Row {
        ts: Some(minute * 60_000_000),
        tf: Some("M1"),
        pt: Some("bid"),
        v: [Some(1.0), Some(1.2), Some(0.9), Some(1.1), Some(10.0)],
    }
}

impl Row {
    fn tf(mut self, tf: Option<&'static str>) -> Self {
        self.tf = tf;
        self
    }
    fn pt(mut self, pt: Option<&'static str>) -> Self {
        self.pt = pt;
        self
    }
    fn ts(mut self, ts: Option<i64>) -> Self {
        self.ts = ts;
        self
    }
    /// Set value column `k` (0 = open .. 4 = volume).
    fn val(mut self, k: usize, x: Option<f64>) -> Self {
        self.v[k] = x;
        self
    }
    fn ask(self, spread: f64) -> Self {
        let mut v = self.v;
        for x in &mut v[..4] {
            *x = x.map(|x| x + spread);
        }
        Row {
            pt: Some("ask"),
            v,
            ..self
        }
    }
}

fn good(n: i64) -> Vec<Row> {
    (1..=n).map(row).collect()
}

fn arrays(rows: &[Row]) -> Vec<(&'static str, ArrayRef)> {
    let mut out: Vec<(&'static str, ArrayRef)> = vec![
        (
            "timestamp",
            Arc::new(rows.iter().map(|r| r.ts).collect::<Int64Array>()),
        ),
        (
            "timeframe",
            Arc::new(rows.iter().map(|r| r.tf).collect::<StringArray>()),
        ),
        (
            "price_type",
            Arc::new(rows.iter().map(|r| r.pt).collect::<StringArray>()),
        ),
    ];
    for (k, name) in VALUE_COLUMNS.iter().enumerate() {
        out.push((
            name,
            Arc::new(rows.iter().map(|r| r.v[k]).collect::<Float64Array>()),
        ));
    }
    out
}

fn batch_of(columns: Vec<(&'static str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect()).unwrap()
}

fn batch(rows: &[Row]) -> RecordBatch {
    batch_of(arrays(rows))
}

/// `rows` with column `name` replaced.
fn with_column(rows: &[Row], name: &'static str, array: &ArrayRef) -> RecordBatch {
    let cols = arrays(rows)
        .into_iter()
        .map(|(n, a)| {
            if n == name {
                (n, Arc::clone(array))
            } else {
                (n, a)
            }
        })
        .collect();
    batch_of(cols)
}

fn arc(array: impl arrow_array::Array + 'static) -> ArrayRef {
    Arc::new(array)
}

fn run(batches: &[RecordBatch], sorted: bool) -> Result<ValidatedStream, StreamError> {
    validate_batches(batches[0].schema_ref(), batches, sorted)
}

fn err(batches: &[RecordBatch], sorted: bool) -> StreamError {
    match run(batches, sorted) {
        Ok(_) => panic!("stream was accepted"),
        Err(e) => e,
    }
}

#[track_caller]
fn expect(rows: &[Row], kind: StreamErrorKind, text: &str) {
    expect_batches(&[batch(rows)], false, kind, text);
}

#[track_caller]
fn expect_batches(batches: &[RecordBatch], sorted: bool, kind: StreamErrorKind, text: &str) {
    let e = err(batches, sorted);
    assert_eq!(e.to_string(), text);
    assert_eq!(e.kind, kind, "{text}");
}

// ------------------------------------------------------------- error plumbing

#[test]
fn display_matches_python_str() {
    let e = StreamError::new(StreamErrorKind::Ohlc, "x", Some(3), Some("low"));
    assert_eq!(e.to_string(), "row 3, field 'low': x");
    let e = StreamError::new(StreamErrorKind::Schema, "y", None, Some("omega.tick_size"));
    assert_eq!(e.to_string(), "field 'omega.tick_size': y");
    let e = StreamError::new(StreamErrorKind::Unsorted, "z", Some(0), None);
    assert_eq!(e.to_string(), "row 0: z");
    let e = StreamError::new(StreamErrorKind::Empty, "stream has no rows", None, None);
    assert_eq!(e.to_string(), "stream has no rows");
    let e = StreamError::new(StreamErrorKind::Schema, "q", None, Some("it's"));
    assert_eq!(e.to_string(), "field \"it's\": q");
}

#[test]
fn python_class_names() {
    let classes: Vec<&str> = StreamErrorKind::ALL
        .iter()
        .map(|k| k.python_class())
        .collect();
    assert_eq!(
        classes,
        [
            "SchemaError",
            "EmptyStreamError",
            "NullValueError",
            "NonFiniteError",
            "NonPositivePriceError",
            "OHLCError",
            "NegativeVolumeError",
            "BidAskError",
            "DuplicateEventError",
            "UnknownTimeframeError",
            "UnsortedStreamError",
        ]
    );
    assert_eq!(StreamErrorKind::UnknownKey.python_kind(), "unknown_key");
    assert_eq!(StreamErrorKind::NonFinite.python_kind(), "non_finite");
}

// ------------------------------------------------------------------- phase 1

#[test]
fn missing_columns_in_column_order() {
    let cols: Vec<_> = arrays(&good(2))
        .into_iter()
        .filter(|(n, _)| *n != "timeframe" && *n != "volume")
        .collect();
    expect_batches(
        &[batch_of(cols)],
        false,
        StreamErrorKind::Schema,
        "field 'timeframe': missing column",
    );
}

#[test]
fn type_errors_name_the_pyarrow_type() {
    let rows = good(2);
    let cases: Vec<(&str, ArrayRef, &str)> = vec![
        (
            "timestamp",
            Arc::new(Float64Array::from(vec![1.0, 2.0])),
            "field 'timestamp': column type double does not cast to int64",
        ),
        (
            "open",
            Arc::new(BooleanArray::from(vec![true, false])),
            "field 'open': column type bool does not cast to double",
        ),
        (
            "timeframe",
            Arc::new(Int64Array::from(vec![1, 2])),
            "field 'timeframe': column type int64 is not a string type",
        ),
        (
            "price_type",
            Arc::new(DictionaryArray::<Int32Type>::new(
                Int32Array::from(vec![0, 0]),
                Arc::new(Int64Array::from(vec![7])),
            )),
            "field 'price_type': column type dictionary<values=int64, indices=int32, \
             ordered=0> is not a dictionary of strings",
        ),
        (
            "volume",
            Arc::new(StringArray::from(vec!["1", "2"])),
            "field 'volume': column type string does not cast to double",
        ),
    ];
    for (name, array, text) in cases {
        expect_batches(
            &[with_column(&rows, name, &array)],
            false,
            StreamErrorKind::Schema,
            text,
        );
    }
}

#[test]
fn unsafe_integer_casts() {
    let rows = good(3);
    let ts = UInt64Array::from(vec![None, Some(1u64 << 63), Some(u64::MAX)]);
    expect_batches(
        &[with_column(&rows, "timestamp", &arc(ts))],
        false,
        StreamErrorKind::Schema,
        "field 'timestamp': column type uint64 does not cast safely to int64: ArrowInvalid: \
         Integer value 9223372036854775808 not in range: 0 to 9223372036854775807",
    );
    let high = Int64Array::from(vec![Some(2), None, Some(-(1i64 << 53) - 1)]);
    expect_batches(
        &[with_column(&rows, "high", &arc(high))],
        false,
        StreamErrorKind::Schema,
        "field 'high': column type int64 does not cast safely to double: ArrowInvalid: \
         Integer value -9007199254740993 not in range: -9007199254740992 to 9007199254740992",
    );
    // A safe uint64 column (<= 2^53) is accepted as far as phase 1 goes.
    let low = UInt64Array::from(vec![1u64 << 53, 1, 1]);
    let e = err(&[with_column(&rows, "low", &arc(low))], false);
    assert_eq!(e.kind, StreamErrorKind::Ohlc);
    assert_eq!(e.row, Some(0));
}

#[test]
fn duplicate_column_name_is_a_schema_error() {
    let mut cols = arrays(&good(1));
    cols.push(("open", Arc::new(Float64Array::from(vec![1.0]))));
    expect_batches(
        &[batch_of(cols)],
        false,
        StreamErrorKind::Schema,
        "field 'open': Field \"open\" exists 2 times in schema",
    );
}

fn with_metadata(b: &RecordBatch, pairs: &[(&str, &str)]) -> RecordBatch {
    let meta: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let schema = Arc::new(b.schema().as_ref().clone().with_metadata(meta));
    b.clone().with_schema(schema).unwrap()
}

#[test]
fn metadata_errors_and_defaults() {
    let b = batch(&good(2));
    let ok = run(std::slice::from_ref(&b), false).unwrap();
    assert_eq!(ok.instrument, Instrument::default());
    let cases = [
        (
            vec![(META_SCHEMA_VERSION, "2"), (META_TICK_SIZE, "x")],
            "field 'omega.schema_version': unsupported schema version '2'; expected '1'",
        ),
        (
            vec![(META_TICK_SIZE, "1e-5 pips")],
            "field 'omega.tick_size': metadata value '1e-5 pips' is not a float",
        ),
        (
            vec![(META_TICK_SIZE, "0.0"), (META_CONTRACT_SIZE, "x")],
            "field 'omega.tick_size': metadata value '0.0' must be finite and > 0",
        ),
        (
            vec![(META_CONTRACT_SIZE, " inf ")],
            "field 'omega.contract_size': metadata value ' inf ' must be finite and > 0",
        ),
    ];
    for (pairs, text) in cases {
        let e = err(&[with_metadata(&b, &pairs)], false);
        assert_eq!(e.to_string(), text);
        assert_eq!(e.kind, StreamErrorKind::Schema);
    }
    let meta = [
        (META_SCHEMA_VERSION, "1"),
        (META_SYMBOL, "EURUSD"),
        (META_TICK_SIZE, "1e-05"),
        (META_CONTRACT_SIZE, "100_000"),
    ];
    let s = run(&[with_metadata(&b, &meta)], false).unwrap();
    assert_eq!(
        s.instrument,
        Instrument {
            symbol: "EURUSD".to_owned(),
            tick_size: 1e-5,
            contract_size: 100_000.0
        }
    );
    // An override skips the metadata entirely.
    let bad = with_metadata(&b, &[(META_TICK_SIZE, "-1")]);
    let meta = Instrument {
        symbol: "X".to_owned(),
        ..Instrument::default()
    };
    let s = validate_batches_with(
        bad.schema_ref(),
        std::slice::from_ref(&bad),
        false,
        Some(meta.clone()),
    );
    assert_eq!(s.unwrap().instrument, meta);
}

#[test]
fn column_errors_beat_metadata_which_beats_empty() {
    let b = with_metadata(&batch(&[]), &[(META_TICK_SIZE, "nan")]);
    expect_batches(
        std::slice::from_ref(&b),
        false,
        StreamErrorKind::Schema,
        "field 'omega.tick_size': metadata value 'nan' must be finite and > 0",
    );
    let cols: Vec<_> = arrays(&[])
        .into_iter()
        .filter(|(n, _)| *n != "close")
        .collect();
    let b = with_metadata(&batch_of(cols), &[(META_TICK_SIZE, "nan")]);
    expect_batches(
        &[b],
        false,
        StreamErrorKind::Schema,
        "field 'close': missing column",
    );
}

// ------------------------------------------------------------------- phase 2

#[test]
fn empty_streams() {
    expect(&[], StreamErrorKind::Empty, "stream has no rows");
    let schema = batch(&[]).schema();
    let e = validate_batches(&schema, &[], false).unwrap_err();
    assert_eq!(
        (e.kind, e.row, e.field.as_deref()),
        (StreamErrorKind::Empty, None, None)
    );
    assert_eq!(e.to_string(), "stream has no rows");
}

// ------------------------------------------------------------------- phase 3

#[test]
fn nulls_in_column_order() {
    expect(
        &[row(1), row(2).ts(None)],
        StreamErrorKind::Null,
        "row 1, field 'timestamp': null value in column 'timestamp'",
    );
    let r = row(1).val(1, None).val(4, None).val(0, Some(f64::NAN));
    expect(
        &[row(0), r],
        StreamErrorKind::Null,
        "row 1, field 'high': null value in column 'high'",
    );
    expect(
        &[row(1).pt(None).tf(Some("bad"))],
        StreamErrorKind::Null,
        "row 0, field 'price_type': null value in column 'price_type'",
    );
    // A dictionary key pointing at a null dictionary value is a null.
    let rows = good(3);
    let tf = DictionaryArray::<Int8Type>::new(
        Int8Array::from(vec![0, 1, 0]),
        Arc::new(StringArray::from(vec![Some("M1"), None])),
    );
    expect_batches(
        &[with_column(&rows, "timeframe", &arc(tf))],
        false,
        StreamErrorKind::Null,
        "row 1, field 'timeframe': null value in column 'timeframe'",
    );
    // The null type.
    expect_batches(
        &[with_column(&rows, "close", &arc(NullArray::new(3)))],
        false,
        StreamErrorKind::Null,
        "row 0, field 'close': null value in column 'close'",
    );
}

#[test]
fn unknown_keys() {
    expect(
        &[row(1), row(2).tf(Some("m1")).pt(Some("x"))],
        StreamErrorKind::UnknownKey,
        "row 1, field 'timeframe': unknown timeframe 'm1'; expected one of \
         ['M1', 'M5', 'M15', 'M30', 'H1', 'H4', 'D1']",
    );
    expect(
        &[row(1).pt(Some("bid'")).val(0, Some(-1.0))],
        StreamErrorKind::UnknownKey,
        "row 0, field 'price_type': unknown price_type \"bid'\"; expected one of \
         ['bid', 'ask']",
    );
    // Dictionary with unsigned keys over large strings.
    let rows = good(3);
    let pt = DictionaryArray::<UInt16Type>::new(
        arrow_array::UInt16Array::from(vec![1, 1, 0]),
        Arc::new(LargeStringArray::from(vec!["A\tsk\u{e9}", "bid"])),
    );
    expect_batches(
        &[with_column(&rows, "price_type", &arc(pt))],
        false,
        StreamErrorKind::UnknownKey,
        "row 2, field 'price_type': unknown price_type 'A\\tsk\u{e9}'; expected one of \
         ['bid', 'ask']",
    );
}

#[test]
fn non_finite_before_non_positive() {
    expect(
        &[row(1).val(0, Some(f64::NAN)).val(3, Some(-2.0))],
        StreamErrorKind::NonFinite,
        "row 0, field 'open': open nan is not finite",
    );
    expect(
        &[row(1), row(2).val(4, Some(f64::INFINITY)).val(2, Some(5.0))],
        StreamErrorKind::NonFinite,
        "row 1, field 'volume': volume inf is not finite",
    );
    expect(
        &[row(1).val(2, Some(f64::NEG_INFINITY))],
        StreamErrorKind::NonFinite,
        "row 0, field 'low': low -inf is not finite",
    );
}

#[test]
fn non_positive_prices() {
    expect(
        &[row(1).val(0, Some(-0.0)).val(1, Some(-1.0))],
        StreamErrorKind::NonPositive,
        "row 0, field 'open': open -0.0 <= 0",
    );
    expect(
        &[row(1).val(3, Some(0.0))],
        StreamErrorKind::NonPositive,
        "row 0, field 'close': close 0.0 <= 0",
    );
}

#[test]
fn ohlc_checks() {
    expect(
        &[row(1).val(2, Some(1.05)).val(1, Some(1.05))],
        StreamErrorKind::Ohlc,
        "row 0, field 'low': low 1.05 > min(open, close) 1.0",
    );
    expect(
        &[row(1)
            .val(0, Some(1e-5))
            .val(3, Some(1.2e-5))
            .val(2, Some(1e-5))
            .val(1, Some(1.1e-5))],
        StreamErrorKind::Ohlc,
        "row 0, field 'high': high 1.1e-05 < max(open, close) 1.2e-05",
    );
    expect(
        &[row(1).val(2, Some(2e16))],
        StreamErrorKind::Ohlc,
        "row 0, field 'low': low 2e+16 > min(open, close) 1.0",
    );
}

#[test]
fn negative_volume_but_negative_zero_is_fine() {
    expect(
        &[row(1).val(4, Some(-0.0)), row(2).val(4, Some(-0.5))],
        StreamErrorKind::NegativeVolume,
        "row 1, field 'volume': volume -0.5 < 0",
    );
}

#[test]
fn lowest_row_wins_across_kinds() {
    let mut rows = good(1200);
    rows[1100] = rows[1100].clone().ts(None);
    rows[700] = rows[700].clone().val(1, Some(0.95));
    rows[900] = rows[900].clone().tf(Some("W1"));
    expect(
        &rows,
        StreamErrorKind::Ohlc,
        "row 700, field 'high': high 0.95 < max(open, close) 1.1",
    );
}

#[test]
fn converted_columns_and_multi_batch_rows() {
    let rows = good(3);
    let b = with_column(
        &rows,
        "open",
        &arc(Float32Array::from(vec![1.0f32, 0.1, 1.0])),
    );
    expect_batches(
        &[b],
        false,
        StreamErrorKind::Ohlc,
        "row 1, field 'low': low 0.9 > min(open, close) 0.10000000149011612",
    );
    let b = with_column(
        &rows,
        "volume",
        &arc(Float16Array::from(vec![
            half_f16(1.0),
            half_f16(-1.5),
            half_f16(2.0),
        ])),
    );
    expect_batches(
        &[b],
        false,
        StreamErrorKind::NegativeVolume,
        "row 1, field 'volume': volume -1.5 < 0",
    );
    let b = with_column(&rows, "high", &arc(UInt8Array::from(vec![2, 1, 2])));
    expect_batches(
        &[b],
        false,
        StreamErrorKind::Ohlc,
        "row 1, field 'high': high 1.0 < max(open, close) 1.1",
    );
    let b1 = batch(&good(3));
    let b2 = batch(&[row(10), row(11).val(2, Some(3.0))]);
    expect_batches(
        &[b1, b2],
        false,
        StreamErrorKind::Ohlc,
        "row 4, field 'low': low 3.0 > min(open, close) 1.0",
    );
}

fn half_f16(
    x: f32,
) -> <arrow_array::types::Float16Type as arrow_array::ArrowPrimitiveType>::Native {
    <arrow_array::types::Float16Type as arrow_array::ArrowPrimitiveType>::Native::from_f32(x)
}

// ---------------------------------------------------------------- phases 4-6

#[test]
fn duplicates_report_lowest_second_occurrence() {
    let rows = [row(1), row(5), row(2), row(2), row(5)];
    expect(
        &rows,
        StreamErrorKind::Duplicate,
        "row 3, field 'timestamp': duplicate event (timestamp=120000000, timeframe='M1', \
         price_type='bid'); first occurrence at row 2",
    );
    // Duplicates beat bid/ask violations; sorted input takes the fast path.
    let rows = [row(3), row(3), row(3).ask(-0.5)];
    expect(
        &rows,
        StreamErrorKind::Duplicate,
        "row 1, field 'timestamp': duplicate event (timestamp=180000000, timeframe='M1', \
         price_type='bid'); first occurrence at row 0",
    );
    let rows = [row(-1).tf(Some("H4")), row(2), row(-1).tf(Some("H4"))];
    expect(
        &rows,
        StreamErrorKind::Duplicate,
        "row 2, field 'timestamp': duplicate event (timestamp=-60000000, timeframe='H4', \
         price_type='bid'); first occurrence at row 0",
    );
}

#[test]
fn bid_ask_lowest_offending_ask() {
    let rows = [
        row(4).ask(0.0).val(1, Some(1.1)),
        row(1),
        row(1).ask(-0.001),
        row(4),
    ];
    expect(
        &rows,
        StreamErrorKind::BidAsk,
        "row 0, field 'high': ask high 1.1 < bid high 1.2 (bid row 3)",
    );
    // Different timeframes never pair; bid/ask beats unsorted.
    let rows = [row(5).tf(Some("M5")), row(5).ask(-0.2), row(5)];
    expect_batches(
        &[batch(&rows)],
        true,
        StreamErrorKind::BidAsk,
        "row 1, field 'open': ask open 0.8 < bid open 1.0 (bid row 2)",
    );
}

#[test]
fn unsorted_only_when_required() {
    let rows = [row(1), row(2), row(4), row(3), row(5), row(0)];
    expect_batches(
        &[batch(&rows)],
        true,
        StreamErrorKind::Unsorted,
        "row 3, field 'timestamp': row is out of canonical order: key (timestamp=180000000, \
         timeframe_seconds=60, price_type_rank=0) sorts before row 2's (timestamp=240000000, \
         timeframe_seconds=60, price_type_rank=0)",
    );
    let rows = [row(60).tf(Some("H1")), row(60)];
    expect_batches(
        &[batch(&rows)],
        true,
        StreamErrorKind::Unsorted,
        "row 1, field 'timestamp': row is out of canonical order: key (timestamp=3600000000, \
         timeframe_seconds=60, price_type_rank=0) sorts before row 0's (timestamp=3600000000, \
         timeframe_seconds=3600, price_type_rank=0)",
    );
    let rows = [row(2).ask(0.01), row(2)];
    expect_batches(
        &[batch(&rows)],
        true,
        StreamErrorKind::Unsorted,
        "row 1, field 'timestamp': row is out of canonical order: key (timestamp=120000000, \
         timeframe_seconds=60, price_type_rank=0) sorts before row 0's (timestamp=120000000, \
         timeframe_seconds=60, price_type_rank=1)",
    );
}

#[test]
fn valid_shuffled_stream_and_canonical_order() {
    let rows = [
        row(2).ask(0.01),
        row(5).tf(Some("M5")),
        row(2),
        row(1).ask(0.01),
        row(5),
        row(1),
    ];
    let s = run(&[batch(&rows)], false).unwrap();
    assert_eq!(s.len(), 6);
    assert!(!s.is_empty());
    let cols = s.columns();
    assert_eq!(s.canonical_order(), Some(&[5, 3, 2, 0, 4, 1][..]));
    assert_eq!(cols.canonical_permutation().as_deref(), s.canonical_order());
    assert_eq!(cols.timeframe[1], Timeframe::M5);
    assert_eq!(cols.price_type[0], PriceType::Ask);
    assert!((cols.open[0] - 1.01).abs() < 1e-12);
    let sorted = [row(1), row(1).ask(0.01), row(2)];
    let s = run(&[batch(&sorted)], true).unwrap();
    assert_eq!(s.canonical_order(), None);
}

// ------------------------------------------------------------------ storage

#[test]
fn single_batch_float64_and_int64_are_zero_copy() {
    let b = batch(&good(4));
    let s = run(std::slice::from_ref(&b), false).unwrap();
    let cols = s.columns();
    let open = b.column(3).as_any().downcast_ref::<Float64Array>().unwrap();
    let ts = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(cols.open.as_ptr(), open.values().as_ptr());
    assert_eq!(cols.timestamp.as_ptr(), ts.values().as_ptr());
    // Two batches are copied into one buffer.
    let b2 = batch(&[row(10)]);
    let s = run(&[b.clone(), b2], false).unwrap();
    assert_eq!(s.len(), 5);
    assert_ne!(s.columns().open.as_ptr(), open.values().as_ptr());
    assert_eq!(s.columns().timestamp[4], 600_000_000);
}

#[test]
fn integer_and_dictionary_columns_convert() {
    let rows = good(3);
    let b = with_column(&rows, "timestamp", &arc(Int16Array::from(vec![1, 2, 3])));
    let tf = DictionaryArray::<Int32Type>::new(
        Int32Array::from(vec![1, 1, 0]),
        Arc::new(StringArray::from(vec!["H1", "M1"])),
    );
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(
            b.schema()
                .fields()
                .iter()
                .map(|f| {
                    if f.name() == "timeframe" {
                        Arc::new(Field::new("timeframe", tf.data_type().clone(), false))
                    } else {
                        Arc::clone(f)
                    }
                })
                .collect::<Vec<_>>(),
        )),
        b.columns()
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if i == 1 {
                    Arc::new(tf.clone()) as ArrayRef
                } else {
                    Arc::clone(a)
                }
            })
            .collect(),
    )
    .unwrap();
    let s = run(&[b], false).unwrap();
    let cols = s.columns();
    assert_eq!(cols.timestamp, &[1, 2, 3]);
    assert_eq!(
        cols.timeframe,
        &[Timeframe::M1, Timeframe::M1, Timeframe::H1]
    );
}

// --------------------------------------------------------------- IPC reading

/// A fresh scratch directory for one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("omega_stream_tests_{}_{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_file(path: &PathBuf, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, batches[0].schema_ref()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn ipc_file_roundtrip_and_stream_fallback() {
    let b1 = batch(&good(3));
    let b2 = batch(&[row(10), row(11)]);
    let tmp = TempDir::new("roundtrip");
    let path = tmp.path("roundtrip.arrow");
    write_file(&path, &[b1.clone(), b2.clone()]);
    let (schema, batches) = read_ipc_file(&path).unwrap();
    assert_eq!(batches, vec![b1.clone(), b2.clone()]);
    assert_eq!(validate_batches(&schema, &batches, true).unwrap().len(), 5);

    let path = tmp.path("stream.arrow");
    let mut bytes = Vec::new();
    {
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, b1.schema_ref()).unwrap();
        w.write(&b1).unwrap();
        w.finish().unwrap();
    }
    bytes.extend_from_slice(b"trailing bytes after EOS");
    std::fs::write(&path, &bytes).unwrap();
    let (_, batches) = read_ipc_file(&path).unwrap();
    assert_eq!(batches, vec![b1]);
}

#[test]
fn unreadable_files_are_schema_errors_without_row() {
    let tmp = TempDir::new("unreadable");
    let missing = tmp.path("does_not_exist.arrow");
    let e = read_ipc_file(&missing).unwrap_err();
    assert_eq!(
        (e.kind, e.row, e.field.as_deref()),
        (StreamErrorKind::Schema, None, None)
    );
    let quoted = py_str_repr(&missing.to_string_lossy());
    assert_eq!(
        e.detail,
        format!(
            "cannot read {quoted}: FileNotFoundError: [Errno 2] No such file or directory: \
             {quoted}"
        )
    );
    let dir = tmp.path("a_directory.arrow");
    std::fs::create_dir_all(&dir).unwrap();
    let e = read_ipc_file(&dir).unwrap_err();
    assert!(
        e.detail.contains("IsADirectoryError: [Errno 21]"),
        "{}",
        e.detail
    );

    let full = tmp.path("full.arrow");
    write_file(&full, &[batch(&good(50))]);
    let bytes = std::fs::read(&full).unwrap();
    for (name, data) in [
        ("empty.arrow", &bytes[..0]),
        ("magic_only.arrow", &bytes[..8]),
        ("truncated.arrow", &bytes[..bytes.len() - 40]),
        ("garbage.arrow", &b"not an arrow file at all"[..]),
    ] {
        let path = tmp.path(name);
        std::fs::write(&path, data).unwrap();
        let e = read_ipc_file(&path).unwrap_err();
        assert_eq!(
            (e.kind, e.row, e.field.as_deref()),
            (StreamErrorKind::Schema, None, None)
        );
        assert!(e.detail.starts_with("cannot read '"), "{}", e.detail);
        assert!(!e.detail.contains('\n'), "{}", e.detail);
    }
}

// ------------------------------------------------------------ Python spellings

#[test]
fn float_repr_matches_cpython_table() {
    assert!(FLOAT_REPR.len() > 500);
    for &(bits, expected) in FLOAT_REPR {
        let x = f64::from_bits(bits);
        assert_eq!(py_float_repr(x), expected, "bits {bits:#018x}");
    }
    assert_eq!(py_float_repr(f64::NAN), "nan");
    assert_eq!(py_float_repr(-f64::NAN), "nan");
}

#[test]
fn str_repr_matches_cpython_table() {
    assert!(STR_REPR.len() > 1000);
    for &(text, expected) in STR_REPR {
        assert_eq!(py_str_repr(text), expected, "{text:?}");
    }
}

#[test]
fn float_parse_matches_cpython_table() {
    for &(text, expected) in PARSE_FLOAT {
        let got = parse_py_float(text);
        match (got, expected.map(f64::from_bits)) {
            (Some(g), Some(e)) if e.is_nan() => assert!(g.is_nan(), "{text:?}"),
            (Some(g), Some(e)) => assert_eq!(g.to_bits(), e.to_bits(), "{text:?}"),
            (None, None) => {}
            (g, e) => panic!("{text:?}: got {g:?}, python {e:?}"),
        }
    }
}

#[test]
fn pyarrow_type_names() {
    let item = |dt: DataType| Arc::new(Field::new("item", dt, true));
    let cases: Vec<(DataType, &str)> = vec![
        (DataType::Float16, "halffloat"),
        (DataType::Float32, "float"),
        (DataType::UInt64, "uint64"),
        (DataType::Utf8View, "string_view"),
        (DataType::LargeUtf8, "large_string"),
        (
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            "timestamp[us, tz=UTC]",
        ),
        (
            DataType::Timestamp(TimeUnit::Millisecond, None),
            "timestamp[ms]",
        ),
        (DataType::Date32, "date32[day]"),
        (DataType::Date64, "date64[ms]"),
        (DataType::Time64(TimeUnit::Nanosecond), "time64[ns]"),
        (DataType::Duration(TimeUnit::Second), "duration[s]"),
        (DataType::Decimal128(5, 1), "decimal128(5, 1)"),
        (DataType::Decimal256(40, 2), "decimal256(40, 2)"),
        (DataType::FixedSizeBinary(2), "fixed_size_binary[2]"),
        (DataType::List(item(DataType::Int64)), "list<item: int64>"),
        (
            DataType::LargeList(item(DataType::Float64)),
            "large_list<item: double>",
        ),
        (
            DataType::FixedSizeList(item(DataType::Float64), 1),
            "fixed_size_list<item: double>[1]",
        ),
        (
            DataType::List(Arc::new(Field::new("x", DataType::Int8, false))),
            "list<x: int8 not null>",
        ),
        (
            DataType::Struct(Fields::from(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("b", DataType::Utf8, true),
            ])),
            "struct<a: int64, b: string>",
        ),
        (
            DataType::Union(
                UnionFields::try_new(
                    vec![0, 1],
                    vec![
                        Field::new("a", DataType::Int8, true),
                        Field::new("b", DataType::Utf8, true),
                    ],
                )
                .unwrap(),
                UnionMode::Sparse,
            ),
            "sparse_union<a: int8=0, b: string=1>",
        ),
        (
            DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", DataType::Int8, false),
                        Field::new("value", DataType::Int16, true),
                    ])),
                    false,
                )),
                true,
            ),
            "map<int8, int16, keys_sorted>",
        ),
        (
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::LargeUtf8)),
            "dictionary<values=large_string, indices=int8, ordered=0>",
        ),
    ];
    for (dt, expected) in cases {
        assert_eq!(pyarrow_type_name(&dt), expected);
    }
    let ordered = Field::new(
        "t",
        DataType::Dictionary(Box::new(DataType::UInt8), Box::new(DataType::Binary)),
        true,
    )
    .with_dict_is_ordered(true);
    assert_eq!(
        pyarrow_field_type_name(&ordered),
        "dictionary<values=binary, indices=uint8, ordered=1>"
    );
}
