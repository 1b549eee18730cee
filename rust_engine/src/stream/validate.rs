//! Phases 3–6 of the validation: per-row checks, duplicates, bid/ask, order.

use super::extract::{Columns, PRICE_TYPE, TIMEFRAME, UNKNOWN_CODE};
use super::{
    py_float_repr, py_str_repr, StreamError, StreamErrorKind, CANDLE_COLUMNS, PRICE_COLUMNS,
    VALUE_COLUMNS,
};
use crate::event::types::{PriceType, Timeframe};

/// Rows scanned per block by the vectorised phase-3 filter.
const BLOCK: usize = 512;

const TIMEFRAME_NAMES: &str = "['M1', 'M5', 'M15', 'M30', 'H1', 'H4', 'D1']";
const PRICE_TYPE_NAMES: &str = "['bid', 'ask']";

fn row_error(kind: StreamErrorKind, detail: String, row: usize, field: &str) -> StreamError {
    StreamError::new(kind, detail, Some(row), Some(field))
}

/// Phases 3–6; returns the canonical permutation (`None` when already sorted).
pub(super) fn check(
    cols: &Columns<'_>,
    require_sorted: bool,
) -> Result<Option<Vec<usize>>, StreamError> {
    check_rows(cols)?;
    let keys = Keys::new(cols);
    let order = keys.canonical_order();
    check_duplicates(&keys, order.as_deref())?;
    check_bid_ask(cols, &keys, order.as_deref())?;
    if require_sorted {
        check_sorted(&keys)?;
    }
    Ok(order)
}

// ------------------------------------------------------------------------ phase 3

/// True when the (non-null, known-key) row has any value violation (3d–3i).
///
/// Bitwise `|`/`&` on purpose: branch-free, so the block scan vectorises.
#[inline]
#[allow(clippy::needless_bitwise_bool)]
fn values_bad([open, high, low, close, volume]: [f64; 5]) -> bool {
    let finite = open.is_finite()
        & high.is_finite()
        & low.is_finite()
        & close.is_finite()
        & volume.is_finite();
    !finite
        | (open <= 0.0)
        | (high <= 0.0)
        | (low <= 0.0)
        | (close <= 0.0)
        | (low > open.min(close))
        | (high < open.max(close))
        | (high < low)
        | (volume < 0.0)
}

/// The lowest row `>= from` with any phase-3 violation (the vectorised filter).
fn first_bad_row(cols: &Columns<'_>, from: usize) -> Option<usize> {
    let rows = cols.len();
    let mut limit = rows;
    for mask in cols.numeric_null_masks() {
        if let Some(r) = mask[from..limit].iter().position(|&null| null) {
            limit = from + r;
        }
    }
    for codes in [&cols.timeframe, &cols.price_type] {
        if let Some(r) = codes[from..limit]
            .iter()
            .position(|&code| code >= UNKNOWN_CODE)
        {
            limit = from + r;
        }
    }
    let [open, high, low, close, volume] = &cols.values;
    let row = |i: usize| [open[i], high[i], low[i], close[i], volume[i]];
    let mut start = from;
    while start < limit {
        let end = (start + BLOCK).min(limit);
        let mut any = false;
        for i in start..end {
            any |= values_bad(row(i));
        }
        if any {
            return (start..end).find(|&i| values_bad(row(i)));
        }
        start = end;
    }
    (limit < rows).then_some(limit)
}

/// The first failing phase-3 check of row `i` (the scalar definition, `_row_error`).
fn first_row_error(cols: &Columns<'_>, i: usize) -> Option<StreamError> {
    for (col, name) in CANDLE_COLUMNS.iter().enumerate() {
        if cols.is_null(col, i) {
            return Some(row_error(
                StreamErrorKind::Null,
                format!("null value in column {}", py_str_repr(name)),
                i,
                name,
            ));
        }
    }
    if cols.timeframe[i] == UNKNOWN_CODE {
        let tf = cols.string_at(TIMEFRAME, i).unwrap_or_default();
        return Some(row_error(
            StreamErrorKind::UnknownKey,
            format!(
                "unknown timeframe {}; expected one of {TIMEFRAME_NAMES}",
                py_str_repr(&tf)
            ),
            i,
            "timeframe",
        ));
    }
    if cols.price_type[i] == UNKNOWN_CODE {
        let pt = cols.string_at(PRICE_TYPE, i).unwrap_or_default();
        return Some(row_error(
            StreamErrorKind::UnknownKey,
            format!(
                "unknown price_type {}; expected one of {PRICE_TYPE_NAMES}",
                py_str_repr(&pt)
            ),
            i,
            "price_type",
        ));
    }
    let values: [f64; 5] = std::array::from_fn(|k| cols.values[k][i]);
    for (name, &x) in VALUE_COLUMNS.iter().zip(&values) {
        if !x.is_finite() {
            return Some(row_error(
                StreamErrorKind::NonFinite,
                format!("{name} {} is not finite", py_float_repr(x)),
                i,
                name,
            ));
        }
    }
    for (name, &x) in PRICE_COLUMNS.iter().zip(&values) {
        if x <= 0.0 {
            return Some(row_error(
                StreamErrorKind::NonPositive,
                format!("{name} {} <= 0", py_float_repr(x)),
                i,
                name,
            ));
        }
    }
    let [open, high, low, close, vol] = values;
    // Python's min/max keep the first argument on ties; equal positive floats print alike.
    let (min_oc, max_oc) = (
        py_float_repr(open.min(close)),
        py_float_repr(open.max(close)),
    );
    let ohlc =
        |detail: String, field: &str| Some(row_error(StreamErrorKind::Ohlc, detail, i, field));
    if low > open.min(close) {
        let low = py_float_repr(low);
        return ohlc(format!("low {low} > min(open, close) {min_oc}"), "low");
    }
    if high < open.max(close) {
        let high = py_float_repr(high);
        return ohlc(format!("high {high} < max(open, close) {max_oc}"), "high");
    }
    if high < low {
        let (high, low) = (py_float_repr(high), py_float_repr(low));
        return ohlc(format!("high {high} < low {low}"), "high");
    }
    if vol < 0.0 {
        return Some(row_error(
            StreamErrorKind::NegativeVolume,
            format!("volume {} < 0", py_float_repr(vol)),
            i,
            "volume",
        ));
    }
    None
}

/// Phase 3: the error of the lowest violating row.
fn check_rows(cols: &Columns<'_>) -> Result<(), StreamError> {
    let mut from = 0;
    while let Some(i) = first_bad_row(cols, from) {
        if let Some(err) = first_row_error(cols, i) {
            return Err(err);
        }
        from = i + 1; // unreachable: the filter and the scalar checks agree
    }
    Ok(())
}

// ---------------------------------------------------------------------- phases 4-6

/// Sort keys after phase 3 (no nulls, every code known).
struct Keys<'c> {
    timestamp: &'c [i64],
    /// `timeframe << 1 | price_type`: orders like (timeframe seconds, bid before ask).
    series: Vec<u8>,
}

impl<'c> Keys<'c> {
    fn new(cols: &'c Columns<'_>) -> Self {
        debug_assert!(cols.timeframe.iter().all(|&c| c < UNKNOWN_CODE));
        let series = cols
            .timeframe
            .iter()
            .zip(&cols.price_type)
            .map(|(&tf, &pt)| (tf << 1) | pt)
            .collect();
        Self {
            timestamp: &cols.timestamp,
            series,
        }
    }

    #[inline]
    fn key(&self, i: usize) -> (i64, u8) {
        (self.timestamp[i], self.series[i])
    }

    fn len(&self) -> usize {
        self.series.len()
    }

    /// `None` when already sorted; else the stable sorting permutation.
    fn canonical_order(&self) -> Option<Vec<usize>> {
        if (1..self.len()).all(|i| self.key(i - 1) <= self.key(i)) {
            return None;
        }
        // (timestamp, series << 40 | row): unique, so an unstable sort is stable by row.
        let mut packed: Vec<(i64, u64)> = (0..self.len())
            .map(|i| {
                (
                    self.timestamp[i],
                    (u64::from(self.series[i]) << 40) | i as u64,
                )
            })
            .collect();
        packed.sort_unstable();
        Some(
            packed
                .iter()
                .map(|&(_, p)| usize::try_from(p & ((1 << 40) - 1)).unwrap_or(usize::MAX))
                .collect(),
        )
    }
}

fn timeframe_of(series: u8) -> Timeframe {
    Timeframe::ALL[usize::from(series >> 1)]
}

fn price_type_of(series: u8) -> PriceType {
    if series & 1 == 0 {
        PriceType::Bid
    } else {
        PriceType::Ask
    }
}

/// Row at canonical position `k`.
#[inline]
fn at(order: Option<&[usize]>, k: usize) -> usize {
    order.map_or(k, |o| o[k])
}

/// Phase 4: the lowest row that repeats an earlier row's key.
fn check_duplicates(keys: &Keys<'_>, order: Option<&[usize]>) -> Result<(), StreamError> {
    let mut best: Option<(usize, usize)> = None; // (row, first occurrence)
    let mut run_start = 0;
    for k in 1..keys.len() {
        let (prev, row) = (at(order, k - 1), at(order, k));
        if keys.key(prev) != keys.key(row) {
            run_start = k;
        } else if best.is_none_or(|(r, _)| row < r) {
            best = Some((row, at(order, run_start)));
        }
    }
    let Some((row, first)) = best else {
        return Ok(());
    };
    let (ts, series) = keys.key(row);
    Err(row_error(
        StreamErrorKind::Duplicate,
        format!(
            "duplicate event (timestamp={ts}, timeframe={}, price_type={}); \
             first occurrence at row {first}",
            py_str_repr(timeframe_of(series).as_str()),
            py_str_repr(price_type_of(series).as_str())
        ),
        row,
        "timestamp",
    ))
}

/// Phase 5: ask >= bid on open, high, low, close of every (timestamp, timeframe) pair.
fn check_bid_ask(
    cols: &Columns<'_>,
    keys: &Keys<'_>,
    order: Option<&[usize]>,
) -> Result<(), StreamError> {
    let prices = &cols.values[..PRICE_COLUMNS.len()];
    let mut worst: Option<(usize, usize)> = None; // (ask row, bid row)
    for k in 1..keys.len() {
        let (bid, ask) = (at(order, k - 1), at(order, k));
        let (bid_key, ask_key) = (keys.key(bid), keys.key(ask));
        // In canonical order a bid (even series) is immediately followed by its ask.
        let pair = bid_key.0 == ask_key.0 && bid_key.1 & 1 == 0 && ask_key.1 == bid_key.1 | 1;
        if pair && prices.iter().any(|p| p[ask] < p[bid]) && worst.is_none_or(|(a, _)| ask < a) {
            worst = Some((ask, bid));
        }
    }
    let Some((ask, bid)) = worst else {
        return Ok(());
    };
    let (name, column) = PRICE_COLUMNS
        .iter()
        .zip(prices)
        .find(|(_, p)| p[ask] < p[bid])
        .map_or(("open", &prices[0]), |(name, p)| (*name, p));
    let (a, b) = (column[ask], column[bid]);
    Err(row_error(
        StreamErrorKind::BidAsk,
        format!(
            "ask {name} {} < bid {name} {} (bid row {bid})",
            py_float_repr(a),
            py_float_repr(b)
        ),
        ask,
        name,
    ))
}

/// Phase 6: the first row whose key is smaller than its predecessor's.
fn check_sorted(keys: &Keys<'_>) -> Result<(), StreamError> {
    let Some(row) = (1..keys.len()).find(|&i| keys.key(i) < keys.key(i - 1)) else {
        return Ok(());
    };
    let describe = |i: usize| {
        let (ts, series) = keys.key(i);
        format!(
            "timestamp={ts}, timeframe_seconds={}, price_type_rank={}",
            timeframe_of(series).seconds(),
            series & 1
        )
    };
    Err(row_error(
        StreamErrorKind::Unsorted,
        format!(
            "row is out of canonical order: key ({}) sorts before row {}'s ({})",
            describe(row),
            row - 1,
            describe(row - 1)
        ),
        row,
        "timestamp",
    ))
}
