//! Trace → Arrow record batches, with the schemas of `docs/trace_schema.md`.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float64Array, Int64Array, MapArray, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema};

use super::{
    pages, EventColumns, MetadataColumn, OptF64Column, SeriesColumns, StrColumn, Summary,
    TraceData, Wide, WideParts,
};
use crate::event::types::{PriceType, Timeframe};
use crate::execution::Fill;
use crate::parallel::{join_local, split_onto_helper};
use crate::portfolio::ClosedTrade;

fn f64_col(v: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

fn opt_f64_col(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

fn i64_col(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

/// A non-null `Int64` column of one field of each row: collected into a `Vec`
/// (which Arrow takes without a copy) by a loop the field access inlines into.
#[inline]
fn i64_values<T>(rows: &[T], f: impl Fn(&T) -> i64) -> ArrayRef {
    Arc::new(Int64Array::from(rows.iter().map(f).collect::<Vec<i64>>()))
}

/// A non-null `Float64` column of one field of each row (as [`i64_values`]).
#[inline]
fn f64_values<T>(rows: &[T], f: impl Fn(&T) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<f64>>()))
}

/// Up to 64 flags as the bits of a word, the first flag in the lowest bit.
fn pack_bits(flags: &[bool]) -> u64 {
    if let Ok(full) = <&[bool; 64]>::try_from(flags) {
        let mut word = 0_u64;
        for (bit, &f) in full.iter().enumerate() {
            word |= u64::from(f) << bit;
        }
        return word;
    }
    let mut word = 0_u64;
    for (bit, &f) in flags.iter().enumerate() {
        word |= u64::from(f) << bit;
    }
    word
}

/// A validity bitmap from one flag per row; `None` when every row is valid.
fn nulls_from(valid: &[bool]) -> Option<NullBuffer> {
    let words: Vec<u64> = valid.chunks(64).map(pack_bits).collect();
    let nulls = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(words), 0, valid.len()));
    (nulls.null_count() > 0).then_some(nulls)
}

/// Moves the values into Arrow (no copy); the validity becomes a bitmap.
fn opt_f64_column(c: OptF64Column) -> ArrayRef {
    let nulls = nulls_from(&c.valid);
    drop(c.valid);
    Arc::new(Float64Array::new(ScalarBuffer::from(c.values), nulls))
}

/// Longest text [`coded_utf8`] copies with fixed-width stores.
const SHORT: usize = 32;

/// The bytes of [`coded_utf8`]: each row's text copied as a whole `W`-byte block
/// (zero padded) that the next text overwrites from its start (texts longer than
/// `W` are copied as they are). `values` has `W` bytes of slack past the last text.
fn write_blocks<C: Copy, const W: usize>(
    codes: &[C],
    code: &impl Fn(C) -> u8,
    dict: &[Option<&str>],
    lens: &[usize; 256],
    values: &mut [u8],
) {
    let mut blocks: Vec<[u8; W]> = vec![[0; W]; 256];
    for (k, d) in dict.iter().enumerate().take(256) {
        let bytes = d.unwrap_or("").as_bytes();
        let n = bytes.len().min(W);
        blocks[k][..n].copy_from_slice(&bytes[..n]);
    }
    let mut at = 0_usize;
    for &c in codes {
        let k = usize::from(code(c));
        let len = lens[k];
        if len != 0 {
            if len <= W {
                values[at..at + W].copy_from_slice(&blocks[k]);
            } else if let Some(text) = dict[k] {
                values[at..at + len].copy_from_slice(text.as_bytes());
            }
            at += len;
        }
    }
}

/// A `Utf8` column whose row `i` is `dict[code(codes[i])]` (`None`: null), written
/// straight into exactly sized offset and value buffers.
///
/// Three simple passes over the codes, each a table lookup per row (the tables have
/// 256 entries, so a `u8` code needs no bounds check): the offsets (a running sum of
/// the texts' lengths), the bytes, and — only when the dictionary has a null entry —
/// the validity bitmap, 64 rows a word. Texts of up to [`SHORT`] bytes are copied as
/// whole blocks of 8, 16 or `SHORT` bytes (the narrowest that fits the dictionary's
/// longest text; zero padded) that the next text overwrites from its start, so a
/// row costs a fixed-size store instead of a variable-length copy (empty and null
/// rows store nothing); the padding past the last text is cut off.
///
/// # Errors
/// A code without a dictionary entry, or more than 2 GiB of text.
fn coded_utf8<C: Copy>(
    codes: &[C],
    code: impl Fn(C) -> u8,
    dict: &[Option<&str>],
) -> Result<ArrayRef, ArrowError> {
    let rows = codes.len();
    let mut lens = [0_usize; 256];
    let mut valid_bit = [0_u64; 256];
    for (k, d) in dict.iter().enumerate().take(256) {
        lens[k] = d.map_or(0, str::len);
        valid_bit[k] = u64::from(d.is_some());
    }
    if let Some(max) = codes.iter().map(|&c| code(c)).max() {
        if usize::from(max) >= dict.len() {
            return Err(ArrowError::InvalidArgumentError(format!(
                "string code {max} without a dictionary entry ({} entries)",
                dict.len()
            )));
        }
    }
    // Offsets: the running sum; every prefix is at most the total, checked to fit i32.
    let mut offsets: Vec<i32> = pages::with_capacity(rows + 1);
    offsets.push(0);
    let mut at = 0_usize;
    offsets.extend(codes.iter().map(|&c| {
        at += lens[usize::from(code(c))];
        i32::try_from(at).unwrap_or(i32::MAX)
    }));
    let total = at;
    offset(total)?;
    // Bytes, in blocks just wide enough for the dictionary's texts (one store a row
    // when they all fit in 8 bytes, as the engine's do).
    let mut values: Vec<u8> = pages::zeroed(total + SHORT);
    match lens.iter().max().copied().unwrap_or(0) {
        0..=8 => write_blocks::<C, 8>(codes, &code, dict, &lens, &mut values),
        9..=16 => write_blocks::<C, 16>(codes, &code, dict, &lens, &mut values),
        _ => write_blocks::<C, SHORT>(codes, &code, dict, &lens, &mut values),
    }
    values.truncate(total);
    // Validity.
    let nulls = if dict.iter().any(Option::is_none) {
        let words: Vec<u64> = codes
            .chunks(64)
            .map(|chunk| {
                chunk.iter().enumerate().fold(0_u64, |word, (bit, &c)| {
                    word | (valid_bit[usize::from(code(c))] << bit)
                })
            })
            .collect();
        let nulls = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(words), 0, rows));
        (nulls.null_count() > 0).then_some(nulls)
    } else {
        None
    };
    // SAFETY: `values` is the concatenation of whole `&str`s (each block's padding is
    // overwritten by the next text or cut off), so it is UTF-8 and every offset (a
    // running sum of their byte lengths, starting at 0, ending at `values.len()`,
    // which fits in i32 as checked above) lies on a char boundary; offsets never
    // decrease and there is one more offset than rows, as `nulls` has rows.
    Ok(Arc::new(unsafe {
        StringArray::new_unchecked(
            OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
            Buffer::from_vec(values),
            nulls,
        )
    }))
}

/// The `timeframe` and `price_type` trace columns of a (shared) [`SeriesColumns`]:
/// built on first use and kept with it, so every trace of one stream shares them.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn series_arrays(series: &SeriesColumns) -> Result<[ArrayRef; 2], ArrowError> {
    if let Some(arrays) = series.arrow.get() {
        return Ok(arrays.clone());
    }
    let built = [
        coded_utf8(&series.timeframe, |t| t as u8, &TIMEFRAME_NAMES)?,
        coded_utf8(&series.price_type, |p| p as u8, &PRICE_TYPE_NAMES)?,
    ];
    // Another thread may have built them meanwhile: identical, either will do.
    Ok(series.arrow.get_or_init(|| built).clone())
}

/// A [`StrColumn`] as `Utf8` (code 0 is null, `k` is `dictionary[k - 1]`).
fn str_column(c: &StrColumn) -> Result<ArrayRef, ArrowError> {
    let mut dict: Vec<Option<&str>> = vec![None];
    dict.extend(c.dictionary.iter().map(|d| Some(*d)));
    coded_utf8(&c.codes, |k| k, &dict)
}

/// A non-null `Utf8` column of a few distinct texts (sides, reasons): coded against
/// a dictionary of the texts seen, then written by [`coded_utf8`]; more than 255
/// distinct texts fall back to a plain copy.
fn str_col<'a>(
    v: impl Iterator<Item = &'a str> + Clone,
    len: usize,
) -> Result<ArrayRef, ArrowError> {
    let mut dict: Vec<Option<&str>> = Vec::new();
    let mut codes: Vec<u8> = Vec::with_capacity(len);
    for text in v.clone() {
        // (the same literal is usually the same pointer: compared before the bytes)
        let same = |d: Option<&str>| d.is_some_and(|d| std::ptr::eq(d, text) || d == text);
        let k = dict.iter().position(|&d| same(d)).unwrap_or_else(|| {
            dict.push(Some(text));
            dict.len() - 1
        });
        match u8::try_from(k) {
            Ok(code) => codes.push(code),
            Err(_) => return Ok(Arc::new(utf8_array(v.map(Some), len, 8)?)),
        }
    }
    coded_utf8(&codes, |k| k, &dict)
}

/// A `Utf8` array built straight into pre-sized offset and value buffers (the
/// builder's doubling value buffer cost a copy per growth step).
fn utf8_array<'a>(
    v: impl Iterator<Item = Option<&'a str>>,
    len: usize,
    bytes_per_row: usize,
) -> Result<StringArray, ArrowError> {
    let mut offsets: Vec<i32> = Vec::with_capacity(len + 1);
    let mut values: Vec<u8> = Vec::with_capacity(len * bytes_per_row);
    let mut valid: Vec<bool> = Vec::with_capacity(len);
    offsets.push(0);
    for row in v {
        if let Some(text) = row {
            values.extend_from_slice(text.as_bytes());
        }
        valid.push(row.is_some());
        offsets.push(offset(values.len())?);
    }
    StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(values),
        nulls_from(&valid),
    )
}

/// `Timeframe::as_str` by discriminant.
const TIMEFRAME_NAMES: [Option<&str>; Timeframe::ALL.len()] = {
    let mut names = [None; Timeframe::ALL.len()];
    let mut i = 0;
    while i < Timeframe::ALL.len() {
        names[Timeframe::ALL[i] as usize] = Some(Timeframe::ALL[i].as_str());
        i += 1;
    }
    names
};

/// `PriceType::as_str` by discriminant.
const PRICE_TYPE_NAMES: [Option<&str>; 2] = {
    let mut names = [None; 2];
    names[PriceType::Bid as usize] = Some(PriceType::Bid.as_str());
    names[PriceType::Ask as usize] = Some(PriceType::Ask.as_str());
    names
};

fn offset(len: usize) -> Result<i32, ArrowError> {
    i32::try_from(len).map_err(|_| ArrowError::ComputeError("string column over 2 GiB".into()))
}

fn field(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

/// The struct fields of a metadata map entry: `key` (non-null) and `value`.
fn metadata_entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ])
}

/// The map type used for signal metadata: `map<string, string>` as pyarrow spells it.
#[must_use]
pub fn metadata_type() -> DataType {
    let entries = Field::new("entries", DataType::Struct(metadata_entry_fields()), false);
    DataType::Map(Arc::new(entries), false)
}

/// The metadata `map<string, string>` column, built straight into its buffers: one
/// offset per row (a null row or an empty map adds no entries), keys and values in
/// insertion order.
fn metadata_col(v: &MetadataColumn) -> Result<ArrayRef, ArrowError> {
    let kv_fields = metadata_entry_fields();
    let entries_field = Arc::new(Field::new(
        "entries",
        DataType::Struct(kv_fields.clone()),
        false,
    ));
    let rows = v.valid.len();
    let pairs: usize = v.entries.iter().map(|(_, p)| p.len()).sum(); // integers
    let mut offsets: Vec<i32> = pages::with_capacity(rows + 1);
    offsets.push(0);
    let mut keys: Vec<&str> = Vec::with_capacity(pairs);
    let mut values: Vec<&str> = Vec::with_capacity(pairs);
    // Rows without entries repeat the running count: filled a run at a time.
    let mut count = 0_i32;
    for (row, row_pairs) in &v.entries {
        if *row + 1 < offsets.len() || *row >= rows {
            return Err(ArrowError::InvalidArgumentError(format!(
                "signal metadata: row {row} out of order or range"
            )));
        }
        offsets.resize(row + 1, count);
        for (k, val) in row_pairs {
            keys.push(k);
            values.push(val);
        }
        count = offset(keys.len())?;
        offsets.push(count);
    }
    offsets.resize(rows + 1, count);
    let key_array = utf8_array(keys.iter().map(|k| Some(*k)), pairs, 8)?;
    let value_array = utf8_array(values.iter().map(|x| Some(*x)), pairs, 16)?;
    let kv = StructArray::try_new(
        kv_fields,
        vec![Arc::new(key_array), Arc::new(value_array)],
        None,
    )?;
    let nulls = nulls_from(&v.valid);
    Ok(Arc::new(MapArray::try_new(
        entries_field,
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        kv,
        nulls,
        false,
    )?))
}

/// The `event_index` (`0..n`) and `timestamp` columns of the `n` events of `series`
/// (`timestamps` gives every event's timestamp, in event order): built on the first
/// call and kept with the series, so every long trace of a stream shares them.
pub fn index_arrays(
    series: &SeriesColumns,
    timestamps: impl FnOnce() -> Vec<i64>,
) -> [ArrayRef; 2] {
    series
        .index
        .get_or_init(|| {
            let n = i64::try_from(series.len()).unwrap_or(i64::MAX);
            [
                Arc::new(Int64Array::from_iter_values(0..n)),
                Arc::new(Int64Array::from(timestamps())),
            ]
        })
        .clone()
}

/// The events table. Consumes the columns: numeric columns move into Arrow without
/// a copy and every other column is dropped as soon as it is converted, so the
/// trace is never held twice.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn events_batch(mut e: EventColumns) -> Result<RecordBatch, ArrowError> {
    let rows = e.len();
    let index_in_series = e.index_in_series();
    let WideParts {
        words,
        valid,
        stride,
    } = e.take_wide();
    let EventColumns {
        indicator_names,
        series,
        indicators,
        signal_type,
        signal_metadata,
        signal_status,
        ..
    } = e;
    // One buffer for the sixteen wide columns; each column is a zero-copy slice.
    let arena = Buffer::from_vec(words);
    let [entry_valid, sl_valid, tp_valid, avg_valid] = valid;
    let f64s = |col: Wide, valid: Option<&[bool]>| -> ArrayRef {
        let values = ScalarBuffer::<f64>::new(arena.clone(), col as usize * stride, rows);
        Arc::new(Float64Array::new(values, valid.and_then(nulls_from)))
    };
    let i64s = |col: Wide| -> ArrayRef {
        let values = ScalarBuffer::<i64>::new(arena.clone(), col as usize * stride, rows);
        Arc::new(Int64Array::new(values, None))
    };
    // The two signal text columns on one thread, the bitmaps and the indicator and
    // metadata columns on the other (long traces outside a pool, as the indicators
    // in `indicators::columns`): each column is built by the same sequential code
    // either way.
    let texts = || -> Result<[ArrayRef; 2], ArrowError> {
        Ok([str_column(&signal_type)?, str_column(&signal_status)?])
    };
    let rest = || -> Result<(Vec<ArrayRef>, ArrayRef, [ArrayRef; 4]), ArrowError> {
        let indicator_cols: Vec<ArrayRef> = indicators.into_iter().map(opt_f64_column).collect();
        let metadata = metadata_col(&signal_metadata)?;
        let optional = [
            f64s(Wide::EntryPrice, Some(&entry_valid)),
            f64s(Wide::StopLoss, Some(&sl_valid)),
            f64s(Wide::TakeProfit, Some(&tp_valid)),
            f64s(Wide::AvgPrice, Some(&avg_valid)),
        ];
        Ok((indicator_cols, metadata, optional))
    };
    let (rest, texts) = if split_onto_helper(rows) {
        join_local(rest, texts)
    } else {
        (rest(), texts())
    };
    let (indicator_cols, metadata, [entry, stop_loss, take_profit, avg_price]) = rest?;
    let [signal_type, signal_status] = texts?;
    let mut cols: Vec<ArrayRef> = if index_in_series {
        let index = series.index.get().cloned().ok_or_else(|| {
            ArrowError::InvalidArgumentError("event index columns not built".to_string())
        })?;
        index.iter().map(|a| a.slice(0, rows)).collect()
    } else {
        vec![i64s(Wide::EventIndex), i64s(Wide::Timestamp)]
    };
    cols.extend(series_arrays(&series)?.map(|a| a.slice(0, rows)));
    drop(series);
    cols.extend(indicator_cols);
    cols.extend([
        signal_type,
        entry,
        stop_loss,
        take_profit,
        metadata,
        signal_status,
        i64s(Wide::ExitRequests),
        f64s(Wide::Cash, None),
        f64s(Wide::Equity, None),
        f64s(Wide::RealizedPnl, None),
        f64s(Wide::UnrealizedPnl, None),
        f64s(Wide::PositionQty, None),
        avg_price,
        i64s(Wide::OpenPositions),
        i64s(Wide::PendingOrders),
        f64s(Wide::PeakEquity, None),
        f64s(Wide::Drawdown, None),
    ]);
    RecordBatch::try_new(Arc::new(events_schema(&indicator_names)), cols)
}

/// The events table's schema (`docs/trace_schema.md`).
fn events_schema(indicator_names: &[String]) -> Schema {
    let mut fields = vec![
        field("event_index", DataType::Int64, false),
        field("timestamp", DataType::Int64, false),
        field("timeframe", DataType::Utf8, false),
        field("price_type", DataType::Utf8, false),
    ];
    for name in indicator_names {
        fields.push(field(&format!("ind_{name}"), DataType::Float64, true));
    }
    fields.extend([
        field("signal_type", DataType::Utf8, true),
        field("signal_entry_price", DataType::Float64, true),
        field("signal_stop_loss", DataType::Float64, true),
        field("signal_take_profit", DataType::Float64, true),
        field("signal_metadata", metadata_type(), true),
        field("signal_status", DataType::Utf8, true),
        field("exit_requests", DataType::Int64, false),
        field("cash", DataType::Float64, false),
        field("equity", DataType::Float64, false),
        field("realized_pnl", DataType::Float64, false),
        field("unrealized_pnl", DataType::Float64, false),
        field("position_qty", DataType::Float64, false),
        field("avg_price", DataType::Float64, true),
        field("open_positions", DataType::Int64, false),
        field("pending_orders", DataType::Int64, false),
        field("peak_equity", DataType::Float64, false),
        field("drawdown", DataType::Float64, false),
    ]);
    Schema::new(fields)
}

/// The fills table.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn fills_batch(fills: &[Fill]) -> Result<RecordBatch, ArrowError> {
    let ints = |f: fn(&Fill) -> i64| i64_values(fills, f);
    let floats = |f: fn(&Fill) -> f64| f64_values(fills, f);
    let schema = Schema::new(vec![
        field("event_index", DataType::Int64, false),
        field("timestamp", DataType::Int64, false),
        field("order_id", DataType::Int64, false),
        field("position_id", DataType::Int64, false),
        field("side", DataType::Utf8, false),
        field("reason", DataType::Utf8, false),
        field("quantity", DataType::Float64, false),
        field("fill_price", DataType::Float64, false),
        field("slippage", DataType::Float64, false),
        field("commission", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            ints(|f| f.event_index),
            ints(|f| f.timestamp),
            ints(|f| f.order_id),
            ints(|f| f.position_id),
            str_col(fills.iter().map(|f| f.side), fills.len())?,
            str_col(fills.iter().map(|f| f.reason), fills.len())?,
            floats(|f| f.quantity),
            floats(|f| f.fill_price),
            floats(|f| f.slippage),
            floats(|f| f.commission),
        ],
    )
}

/// The trades table.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn trades_batch(trades: &[ClosedTrade]) -> Result<RecordBatch, ArrowError> {
    let ints = |f: fn(&ClosedTrade) -> i64| i64_values(trades, f);
    let floats = |f: fn(&ClosedTrade) -> f64| f64_values(trades, f);
    let schema = Schema::new(vec![
        field("trade_id", DataType::Int64, false),
        field("side", DataType::Utf8, false),
        field("quantity", DataType::Float64, false),
        field("entry_event", DataType::Int64, false),
        field("entry_timestamp", DataType::Int64, false),
        field("entry_price", DataType::Float64, false),
        field("exit_event", DataType::Int64, false),
        field("exit_timestamp", DataType::Int64, false),
        field("exit_price", DataType::Float64, false),
        field("exit_reason", DataType::Utf8, false),
        field("gross_pnl", DataType::Float64, false),
        field("commission", DataType::Float64, false),
        field("net_pnl", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            ints(|t| t.trade_id),
            str_col(trades.iter().map(|t| t.side.as_str()), trades.len())?,
            floats(|t| t.quantity),
            ints(|t| t.entry_event),
            ints(|t| t.entry_timestamp),
            floats(|t| t.entry_price),
            ints(|t| t.exit_event),
            ints(|t| t.exit_timestamp),
            floats(|t| t.exit_price),
            str_col(trades.iter().map(|t| t.exit_reason), trades.len())?,
            floats(|t| t.gross_pnl),
            floats(|t| t.commission),
            floats(|t| t.net_pnl),
        ],
    )
}

/// The one-row summary table.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn summary_batch(s: &Summary) -> Result<RecordBatch, ArrowError> {
    let schema = Schema::new(vec![
        field("strategy", DataType::Utf8, false),
        field("seed", DataType::Int64, false),
        field("events", DataType::Int64, false),
        field("initial_cash", DataType::Float64, false),
        field("final_equity", DataType::Float64, false),
        field("total_return", DataType::Float64, false),
        field("max_drawdown", DataType::Float64, false),
        field("trade_count", DataType::Int64, false),
        field("win_rate", DataType::Float64, true),
        field("sharpe", DataType::Float64, true),
        field("fill_count", DataType::Int64, false),
        field("cancelled_orders", DataType::Int64, false),
        field("open_positions", DataType::Int64, false),
        field("realized_pnl", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            str_col(std::iter::once(s.strategy.as_str()), 1)?,
            i64_col(&[s.seed]),
            i64_col(&[s.events]),
            f64_col(&[s.initial_cash]),
            f64_col(&[s.final_equity]),
            f64_col(&[s.total_return]),
            f64_col(&[s.max_drawdown]),
            i64_col(&[s.trade_count]),
            opt_f64_col(&[s.win_rate]),
            opt_f64_col(&[s.sharpe]),
            i64_col(&[s.fill_count]),
            i64_col(&[s.cancelled_orders]),
            i64_col(&[s.open_positions]),
            f64_col(&[s.realized_pnl]),
        ],
    )
}

/// All four tables: (events, fills, trades, summary). Consumes the trace (see
/// [`events_batch`]).
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn trace_batches(
    t: TraceData,
) -> Result<(RecordBatch, RecordBatch, RecordBatch, RecordBatch), ArrowError> {
    let TraceData {
        events,
        fills,
        trades,
        summary,
    } = t;
    let events = events_batch(events)?;
    Ok((
        events,
        fills_batch(&fills)?,
        trades_batch(&trades)?,
        summary_batch(&summary)?,
    ))
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, MapArray};

    use super::*;
    use crate::event::types::{PriceType, SignalType, StrategySignal, Timeframe};
    use crate::portfolio::Portfolio;
    use crate::trace::testing::commit_rows;

    fn signal(metadata: Vec<(String, String)>) -> StrategySignal {
        StrategySignal {
            signal_type: SignalType::Long,
            entry_price: None,
            stop_loss: Some(1.25),
            take_profit: None,
            metadata,
        }
    }

    /// `on_candle`'s result and status, when it was called.
    type Call = Option<(Option<StrategySignal>, &'static str)>;

    /// Rows: not called; called without signal; a signal with metadata; a signal
    /// with an empty map.
    fn columns() -> EventColumns {
        let mut e = EventColumns::new(vec!["sma".to_string()], 4);
        let p = Portfolio::new(1000.0, 1.0);
        // (on_candle called with this result and status, exit requests)
        let calls: [(Call, i64); 4] = [
            (None, 0),
            (Some((None, "none")), 0),
            (
                Some((
                    Some(signal(vec![
                        ("k".into(), "v".into()),
                        ("a".into(), "b".into()),
                    ])),
                    "accepted",
                )),
                1,
            ),
            (Some((Some(signal(Vec::new())), "accepted")), 0),
        ];
        for (i, (call, exits)) in calls.into_iter().enumerate() {
            if let Some((sig, status)) = call {
                e.set_call(i, sig, status);
            }
            if exits > 0 {
                e.set_exit_requests(i, exits);
            }
        }
        let words = |i: usize| -> [u64; Wide::COUNT] {
            let mut w = [0_u64; Wide::COUNT];
            w[Wide::EventIndex as usize] = i as u64;
            w[Wide::Timestamp as usize] = 60 * (1 + i as u64);
            if i >= 2 {
                w[Wide::StopLoss as usize] = 1.25_f64.to_bits();
            }
            w[Wide::ExitRequests as usize] = u64::from(i == 2);
            w[Wide::Cash as usize] = p.cash.to_bits();
            w[Wide::Equity as usize] = p.equity.to_bits();
            w[Wide::PendingOrders as usize] = i as u64;
            w[Wide::PeakEquity as usize] = p.peak_equity.to_bits();
            w
        };
        commit_rows(
            &mut e,
            |_| (Timeframe::M1, PriceType::Bid),
            words,
            |_| false,
        );
        e.indicators = vec![OptF64Column {
            values: vec![0.0, 0.5, 0.5, 0.5],
            valid: vec![false, true, true, true],
        }];
        e
    }

    #[test]
    fn compact_columns_round_trip() {
        let e = columns();
        assert_eq!(e.len(), 4);
        assert_eq!(e.indicators[0].get(0), None);
        assert_eq!(e.indicators[0].get(1), Some(0.5));
        assert_eq!(e.indicators[0].get(9), None);
        assert_eq!(
            e.signal_type.iter().collect::<Vec<_>>(),
            [None, Some("NONE"), Some("LONG"), Some("LONG")]
        );
        assert_eq!(e.signal_type.dictionary, ["NONE", "LONG"]);
        assert_eq!(
            e.signal_status.iter().collect::<Vec<_>>(),
            [None, Some("none"), Some("accepted"), Some("accepted")]
        );
        assert_eq!(e.signal_metadata.valid, [false, false, true, true]);
        assert_eq!(e.signal_metadata.entries.len(), 1);
        assert_eq!(e.f64_at(Wide::StopLoss, 2), Some(1.25));
        assert_eq!(e.f64_at(Wide::StopLoss, 1), None);
        assert_eq!(e.f64_at(Wide::Cash, 3), Some(1000.0));
        assert_eq!(e.f64_at(Wide::Cash, 4), None);
        assert_eq!(e.i64_at(Wide::PendingOrders, 3), Some(3));
        assert_eq!(e.i64_at(Wide::Timestamp, 1), Some(120));
        assert_eq!(e.i64_at(Wide::Timestamp, 4), None);
        assert!(!e.signal_metadata.is_empty() && !e.signal_type.is_empty());
    }

    #[test]
    fn events_batch_keeps_nulls_and_metadata() {
        let batch = events_batch(columns()).expect("batch");
        assert_eq!(batch.num_rows(), 4);
        let ind = batch.column_by_name("ind_sma").expect("ind");
        assert_eq!(ind.null_count(), 1);
        assert!(ind.is_null(0));
        let sl = batch
            .column_by_name("signal_stop_loss")
            .expect("sl")
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("f64")
            .clone();
        assert_eq!(sl.null_count(), 2);
        assert!((sl.value(3) - 1.25).abs() < f64::EPSILON);
        let cash = batch.column_by_name("cash").expect("cash");
        assert!(cash.nulls().is_none());
        let st = batch
            .column_by_name("signal_type")
            .expect("type")
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("str")
            .clone();
        assert!(st.is_null(0));
        assert_eq!((st.value(1), st.value(2)), ("NONE", "LONG"));
        let meta = batch
            .column_by_name("signal_metadata")
            .expect("meta")
            .as_any()
            .downcast_ref::<MapArray>()
            .expect("map")
            .clone();
        assert!(meta.is_null(0) && meta.is_null(1));
        assert!(meta.is_valid(2) && meta.is_valid(3));
        assert_eq!(meta.value_length(2), 2);
        assert_eq!(meta.value_length(3), 0);
        let keys = meta
            .keys()
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("keys");
        assert_eq!((keys.value(0), keys.value(1)), ("k", "a"));
    }
}

#[cfg(test)]
mod coded_tests {
    use arrow_array::{Array, StringArray};

    use super::{coded_utf8, SHORT};
    use crate::event::types::{PriceType, Timeframe};
    use crate::trace::testing::commit_rows;
    use crate::trace::{EventColumns, Wide};

    #[test]
    fn pack_bits_puts_the_first_flag_lowest() {
        for n in [0_usize, 1, 7, 8, 9, 63, 64] {
            for seed in 0..50_u64 {
                let flags: Vec<bool> = (0..n)
                    .map(|i| (seed.wrapping_mul(0x9E37_79B9) >> (i % 29)) & 1 == 1)
                    .collect();
                let want = flags
                    .iter()
                    .enumerate()
                    .fold(0_u64, |w, (i, &f)| w | (u64::from(f) << i));
                assert_eq!(super::pack_bits(&flags), want, "n {n} seed {seed}");
            }
        }
        assert_eq!(super::pack_bits(&[true; 64]), u64::MAX);
    }

    #[test]
    fn coded_utf8_writes_short_long_empty_and_null_rows() {
        let long = "x".repeat(SHORT + 5);
        let dict = [None, Some("NONE"), Some(""), Some(long.as_str()), Some("é")];
        let codes = [1_u8, 0, 3, 2, 4, 1, 3, 0];
        let array = coded_utf8(&codes, |c| c, &dict).unwrap();
        let array = array.as_any().downcast_ref::<StringArray>().unwrap();
        array.to_data().validate_full().unwrap(); // offsets and UTF-8 are sound
        let got: Vec<Option<&str>> = array.iter().collect();
        let want: Vec<Option<&str>> = codes.iter().map(|&c| dict[usize::from(c)]).collect();
        assert_eq!(got, want);
        assert_eq!(array.null_count(), 2);
        assert_eq!(array.value_data().len(), 4 + 2 * (SHORT + 5) + 2 + 4);
        // without a null entry in the dictionary there is no validity bitmap
        let array = coded_utf8(&[0_u8, 1, 0], |c| c, &[Some("M1"), Some("H4")]).unwrap();
        assert!(array.nulls().is_none());
        let empty = coded_utf8(&[] as &[u8], |c| c, &[None]).unwrap();
        assert_eq!(empty.len(), 0);
        // a dictionary with a null entry that no row uses: no bitmap either
        let array = coded_utf8(&[1_u8, 1], |c| c, &[None, Some("a")]).unwrap();
        assert!(array.nulls().is_none());
        // a code past the dictionary is an error, not a silent null
        assert!(coded_utf8(&[0_u8, 2], |c| c, &[None, Some("a")]).is_err());
    }

    #[test]
    fn coded_utf8_matches_a_builder_across_bitmap_words() {
        let long = "y".repeat(SHORT * 2 + 1);
        let dict = [
            None,
            Some("bid"),
            Some(""),
            Some(long.as_str()),
            Some("ENTER_LONG"),
        ];
        for rows in [1_usize, 63, 64, 65, 128, 129, 1000] {
            let codes: Vec<u8> = (0..rows)
                .map(|i| {
                    let h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59;
                    // mostly null, like a signal column
                    if h < 20 {
                        0
                    } else {
                        u8::try_from(h % 5).unwrap()
                    }
                })
                .collect();
            let array = coded_utf8(&codes, |c| c, &dict).unwrap();
            let array = array.as_any().downcast_ref::<StringArray>().unwrap();
            array.to_data().validate_full().unwrap();
            let want = StringArray::from(
                codes
                    .iter()
                    .map(|&c| dict[usize::from(c)])
                    .collect::<Vec<_>>(),
            );
            assert_eq!(array, &want, "rows {rows}");
        }
    }

    /// Commit `e` with the same words for every row: timestamp `ts`, cash `cash`,
    /// exit requests `exits`, pending orders as the row number.
    fn commit(
        e: &mut EventColumns,
        series: (Timeframe, PriceType),
        ts: i64,
        cash: f64,
        exits: i64,
    ) {
        commit_rows(
            e,
            |_| series,
            |i| {
                let mut w = [0_u64; Wide::COUNT];
                w[Wide::EventIndex as usize] = i as u64 + 7;
                w[Wide::Timestamp as usize] = ts.cast_unsigned();
                w[Wide::Cash as usize] = cash.to_bits();
                w[Wide::ExitRequests as usize] = exits.cast_unsigned();
                w[Wide::PendingOrders as usize] = i as u64;
                w
            },
            |_| false,
        );
    }

    #[test]
    fn events_batch_has_every_row() {
        let mut e = EventColumns::new(Vec::new(), 2);
        e.set_call(0, None, "none");
        commit(&mut e, (Timeframe::H1, PriceType::Ask), 60, 100.0, 0);
        assert_eq!(e.len(), 2);
        let batch = super::events_batch(e).unwrap();
        assert_eq!(batch.num_rows(), 2);
        for col in batch.columns() {
            assert_eq!(col.len(), 2);
        }
        let tf = batch.column_by_name("timeframe").unwrap();
        let tf = tf.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(tf.value(1), "H1");
        let status = batch.column_by_name("signal_status").unwrap();
        let status = status.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!((status.value(0), status.is_null(1)), ("none", true));
    }

    #[test]
    fn an_uncommitted_table_has_no_rows() {
        let mut e = EventColumns::new(Vec::new(), 3);
        e.set_call(1, None, "none");
        let batch = super::events_batch(e).unwrap();
        assert_eq!(batch.num_rows(), 0);
    }

    #[test]
    fn clone_copies_the_rows_written() {
        let mut e = EventColumns::new(Vec::new(), 3);
        commit(&mut e, (Timeframe::M5, PriceType::Bid), 120, 50.0, 2);
        let c = e.clone();
        assert_eq!(c.len(), 3);
        assert_eq!(c.i64_at(Wide::EventIndex, 0), Some(7));
        assert_eq!(c.i64_at(Wide::ExitRequests, 0), Some(2));
        assert_eq!(c.f64_at(Wide::Cash, 2), Some(50.0));
        let (a, b) = (
            super::events_batch(e).unwrap(),
            super::events_batch(c).unwrap(),
        );
        assert_eq!(a, b);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn a_call_past_the_rows_given_panics() {
        let mut e = EventColumns::new(Vec::new(), 0);
        e.set_call(0, None, "none");
    }
}
