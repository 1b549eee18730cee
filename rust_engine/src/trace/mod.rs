//! The trace: columnar records of every event, fill and trade, plus the summary.
//!
//! Mirrors `legacy_py/trace.py` (`docs/trace_schema.md`); [`arrow`] turns it into
//! Arrow record batches with the same schema.

pub mod arrow;
pub mod pages;

use crate::event::types::{Candle, PriceType, StrategySignal, Timeframe};
use crate::execution::Fill;
use crate::portfolio::{ClosedTrade, Portfolio};

/// A nullable `f64` column: values (`0.0` under nulls) and validity, 9 bytes a row
/// instead of the 16 of `Option<f64>`; the values move into Arrow without a copy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptF64Column {
    /// Values; `0.0` where the row is null.
    pub values: Vec<f64>,
    /// Validity (`true`: not null).
    pub valid: Vec<bool>,
}

impl OptF64Column {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True without rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Row `row` (`None`: null or out of range).
    #[must_use]
    pub fn get(&self, row: usize) -> Option<f64> {
        match self.valid.get(row) {
            Some(true) => self.values.get(row).copied(),
            _ => None,
        }
    }
}

/// A nullable column of a few distinct static strings, one byte a row: `0` is null,
/// `k` is `dictionary[k - 1]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrColumn {
    /// The distinct values in order of first appearance.
    pub dictionary: Vec<&'static str>,
    /// One code per row.
    pub codes: Vec<u8>,
}

impl StrColumn {
    /// `rows` null rows.
    #[must_use]
    pub fn zeroed(rows: usize) -> Self {
        Self {
            dictionary: Vec::new(),
            codes: pages::zeroed(rows),
        }
    }

    /// Set row `row` to `value`.
    ///
    /// # Panics
    /// With more than 255 distinct values (the engine writes fewer than 16).
    pub fn set(&mut self, row: usize, value: &'static str) {
        // Values are string constants: look for the same address first (no text
        // comparison), then for the same text.
        let found = self
            .dictionary
            .iter()
            .position(|d| std::ptr::eq(*d, value))
            .or_else(|| self.dictionary.iter().position(|d| *d == value));
        let pos = found.unwrap_or_else(|| {
            self.dictionary.push(value);
            self.dictionary.len() - 1
        });
        self.codes[row] = u8::try_from(pos + 1).expect("StrColumn: more than 255 distinct values");
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True without rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Row `row` (`None`: null or out of range).
    #[must_use]
    pub fn get(&self, row: usize) -> Option<&'static str> {
        match self.codes.get(row) {
            Some(&code) if code > 0 => self.dictionary.get(usize::from(code) - 1).copied(),
            _ => None,
        }
    }

    /// The values row by row.
    pub fn iter(&self) -> impl Iterator<Item = Option<&'static str>> + '_ {
        (0..self.codes.len()).map(|row| self.get(row))
    }
}

/// The signal-metadata column: validity per row, entries only for rows that have any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetadataColumn {
    /// Validity (`true`: a signal, possibly with an empty map).
    pub valid: Vec<bool>,
    /// `(row, pairs in insertion order)` of the rows with a non-empty map, by row.
    pub entries: Vec<(usize, Vec<(String, String)>)>,
}

impl MetadataColumn {
    /// `rows` null rows.
    #[must_use]
    pub fn zeroed(rows: usize) -> Self {
        Self {
            valid: pages::zeroed(rows),
            entries: Vec::new(),
        }
    }

    /// Set row `row` (rows must be set in increasing order).
    pub fn set(&mut self, row: usize, pairs: Vec<(String, String)>) {
        self.valid[row] = true;
        if !pairs.is_empty() {
            self.entries.push((row, pairs));
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.valid.len()
    }

    /// True without rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.valid.is_empty()
    }
}

/// The 8-byte event columns, in the order they sit in [`EventColumns`]' arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wide {
    /// `event_index` (int64).
    EventIndex,
    /// `timestamp` (int64).
    Timestamp,
    /// `signal_entry_price` (float64, nullable).
    EntryPrice,
    /// `signal_stop_loss` (float64, nullable).
    StopLoss,
    /// `signal_take_profit` (float64, nullable).
    TakeProfit,
    /// `exit_requests` (int64).
    ExitRequests,
    /// `cash` (float64).
    Cash,
    /// `equity` (float64).
    Equity,
    /// `realized_pnl` (float64).
    RealizedPnl,
    /// `unrealized_pnl` (float64).
    UnrealizedPnl,
    /// `position_qty` (float64).
    PositionQty,
    /// `avg_price` (float64, nullable).
    AvgPrice,
    /// `open_positions` (int64).
    OpenPositions,
    /// `pending_orders` (int64).
    PendingOrders,
    /// `peak_equity` (float64).
    PeakEquity,
    /// `drawdown` (float64).
    Drawdown,
}

impl Wide {
    /// Number of wide columns.
    pub const COUNT: usize = 16;

    /// The nullable ones, in the order of [`EventColumns`]' validity flags.
    pub const NULLABLE: [Wide; 4] = [
        Wide::EntryPrice,
        Wide::StopLoss,
        Wide::TakeProfit,
        Wide::AvgPrice,
    ];

    fn nullable_slot(self) -> Option<usize> {
        Self::NULLABLE.iter().position(|w| *w == self)
    }
}

/// The events table, column by column.
///
/// Columns are compact (no `Option<f64>`, no per-row strings) and move into Arrow
/// buffers without a copy ([`arrow::trace_batches`] consumes them), so a run never
/// holds the trace twice.
///
/// * The sixteen 8-byte columns ([`Wide`]) live in **one** zero-filled allocation
///   (the arena, `u64` words: IEEE-754 bits for floats, two's complement for ints),
///   column after column; one large allocation instead of sixteen is backed by huge
///   pages where the kernel allows, which cuts page faults on a fresh trace. In Arrow
///   every column is a slice of that one buffer, so a column kept alive in Python
///   keeps the whole arena alive.
/// * The arena is allocated, not initialised: [`EventColumns::push`] writes every word
///   of its row (no zero-filling pass over ~128 B/event first). The narrow columns
///   (series, signal codes, validity) are allocated zero-filled at full length, and
///   [`EventColumns::set_call`] writes signal cells only for rows where `on_candle` ran.
#[derive(Debug, Default)]
pub struct EventColumns {
    /// Declared indicator output names (without the `ind_` prefix).
    pub indicator_names: Vec<String>,
    /// Timeframe.
    pub timeframe: Vec<Timeframe>,
    /// Price type.
    pub price_type: Vec<PriceType>,
    /// One column per indicator output.
    pub indicators: Vec<OptF64Column>,
    /// Signal type (null when `on_candle` was not called).
    pub signal_type: StrColumn,
    /// Signal metadata in insertion order.
    pub signal_metadata: MetadataColumn,
    /// Signal status.
    pub signal_status: StrColumn,
    /// The wide columns, `stride` words each, in [`Wide`] order: allocated, not
    /// initialised (`len` 0); [`Self::push`] writes every word of its row and
    /// [`Self::take_wide`] zeroes the rest before the words are handed out.
    wide: Vec<u64>,
    /// The signal's prices recorded by [`Self::set_call`] for the next row.
    pending_prices: [Option<f64>; 3],
    /// Validity of the nullable wide columns ([`Wide::NULLABLE`] order).
    valid: [Vec<bool>; 4],
    /// Words per wide column (the row capacity rounded up to whole 64-byte lines).
    stride: usize,
    /// Rows written so far.
    rows: usize,
}

impl Clone for EventColumns {
    /// A copy of the rows written so far (the arena's unwritten words are not read).
    fn clone(&self) -> Self {
        let mut wide: Vec<u64> = Vec::with_capacity(self.wide.capacity());
        let spare = wide.spare_capacity_mut();
        for col in 0..Wide::COUNT {
            for row in 0..self.rows {
                let i = col * self.stride + row;
                // SAFETY: `row < rows`, so `push` wrote word `i` (every column of its
                // row), and `i` is inside the allocation of `stride * COUNT` words.
                spare[i].write(unsafe { self.wide.as_ptr().add(i).read() });
            }
        }
        Self {
            indicator_names: self.indicator_names.clone(),
            timeframe: self.timeframe.clone(),
            price_type: self.price_type.clone(),
            indicators: self.indicators.clone(),
            signal_type: self.signal_type.clone(),
            signal_metadata: self.signal_metadata.clone(),
            signal_status: self.signal_status.clone(),
            wide,
            pending_prices: self.pending_prices,
            valid: self.valid.clone(),
            stride: self.stride,
            rows: self.rows,
        }
    }
}

/// The raw parts of [`EventColumns`]' wide columns (for the Arrow conversion).
pub(crate) struct WideParts {
    pub(crate) words: Vec<u64>,
    pub(crate) valid: [Vec<bool>; 4],
    pub(crate) stride: usize,
}

impl EventColumns {
    /// Zero-filled columns for `rows` events (see the type's docs). The indicator
    /// columns start empty: the engine computes them for all events at once and sets
    /// [`Self::indicators`] (one column per name, one row per event).
    #[must_use]
    pub fn new(indicator_names: Vec<String>, rows: usize) -> Self {
        let stride = rows.next_multiple_of(8);
        Self {
            indicator_names,
            timeframe: vec![Timeframe::M1; rows],
            price_type: vec![PriceType::Bid; rows],
            indicators: Vec::new(),
            signal_type: StrColumn::zeroed(rows),
            signal_metadata: MetadataColumn::zeroed(rows),
            signal_status: StrColumn::zeroed(rows),
            wide: pages::with_capacity(stride * Wide::COUNT),
            pending_prices: [None; 3],
            valid: std::array::from_fn(|_| pages::zeroed(rows)),
            stride,
            rows: 0,
        }
    }

    /// Number of rows written.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True without rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The word of `col` at `row`, once written.
    fn word(&self, col: Wide, row: usize) -> Option<u64> {
        if row >= self.rows {
            return None;
        }
        let i = col as usize * self.stride + row;
        assert!(i < self.wide.capacity());
        // SAFETY: `i` is inside the allocation (asserted) and `row < rows`, so
        // `push` has written this word (it writes every wide column of its row).
        Some(unsafe { self.wide.as_ptr().add(i).read() })
    }

    /// Row `row` of a float column (`None`: null, or a row not written).
    #[must_use]
    pub fn f64_at(&self, col: Wide, row: usize) -> Option<f64> {
        let bits = self.word(col, row)?;
        match col.nullable_slot() {
            Some(slot) if !self.valid[slot][row] => None,
            _ => Some(f64::from_bits(bits)),
        }
    }

    /// Row `row` of an integer column (`None`: a row not written).
    #[must_use]
    pub fn i64_at(&self, col: Wide, row: usize) -> Option<i64> {
        self.word(col, row).map(u64::cast_signed)
    }

    /// Record what `on_candle` returned (its validated signal, `None` for no signal)
    /// and the order status, for the row the next [`Self::push`] records. Rows
    /// without this call have null signal cells (`on_candle` was not called).
    ///
    /// # Panics
    /// When all the rows given to [`Self::new`] are written.
    #[inline]
    pub fn set_call(&mut self, signal: Option<StrategySignal>, status: &'static str) {
        let row = self.rows;
        assert!(row < self.timeframe.len(), "EventColumns: all rows written");
        match signal {
            None => self.signal_type.set(row, "NONE"),
            Some(s) => {
                self.signal_type.set(row, s.signal_type.as_str());
                self.pending_prices = [s.entry_price, s.stop_loss, s.take_profit];
                self.signal_metadata.set(row, s.metadata);
            }
        }
        self.signal_status.set(row, status);
    }

    /// Record the next event row: the state after the event (all but the indicator
    /// and signal columns; see [`Self::set_call`]).
    ///
    /// # Panics
    /// When all the rows given to [`Self::new`] are written.
    #[inline]
    pub fn push(
        &mut self,
        index: i64,
        candle: &Candle,
        exit_requests: i64,
        portfolio: &Portfolio,
        pending_orders: usize,
    ) {
        let row = self.rows;
        assert!(row < self.timeframe.len(), "EventColumns: all rows written");
        self.rows += 1;
        self.timeframe[row] = candle.timeframe;
        self.price_type[row] = candle.price_type;
        let [entry, stop, take] = std::mem::take(&mut self.pending_prices);
        let avg = portfolio.avg_price();
        for (slot, value) in [entry, stop, take, avg].into_iter().enumerate() {
            self.valid[slot][row] = value.is_some();
        }
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX).cast_unsigned();
        let float = |v: Option<f64>| v.map_or(0, f64::to_bits);
        // Every wide column of the row, in [`Wide`] order.
        let words: [u64; Wide::COUNT] = [
            index.cast_unsigned(),
            candle.timestamp.cast_unsigned(),
            float(entry),
            float(stop),
            float(take),
            exit_requests.cast_unsigned(),
            portfolio.cash.to_bits(),
            portfolio.equity.to_bits(),
            portfolio.realized_pnl.to_bits(),
            portfolio.unrealized_pnl.to_bits(),
            portfolio.position_qty().to_bits(),
            float(avg),
            count(portfolio.positions.len()),
            count(pending_orders),
            portfolio.peak_equity.to_bits(),
            portfolio.drawdown.to_bits(),
        ];
        let stride = self.stride;
        let spare = self.wide.spare_capacity_mut();
        assert!(row < stride && Wide::COUNT * stride <= spare.len());
        let base = spare.as_mut_ptr();
        for (col, word) in words.into_iter().enumerate() {
            // SAFETY: `col < Wide::COUNT` and `row < stride`, so `col * stride + row`
            // is below `Wide::COUNT * stride`, which is within the spare capacity
            // (asserted above); the slot is plain `MaybeUninit<u64>` memory.
            unsafe { (*base.add(col * stride + row)).write(word) };
        }
    }

    /// Cut the narrow columns to the rows written and hand out the wide ones (the
    /// Arrow conversion slices `rows` words of each).
    pub(crate) fn take_wide(&mut self) -> WideParts {
        let n = self.rows;
        self.timeframe.truncate(n);
        self.price_type.truncate(n);
        self.signal_type.codes.truncate(n);
        self.signal_metadata.valid.truncate(n);
        self.signal_metadata.entries.retain(|(row, _)| *row < n);
        self.signal_status.codes.truncate(n);
        let mut valid = std::mem::take(&mut self.valid);
        for v in &mut valid {
            v.truncate(n);
        }
        let mut words = std::mem::take(&mut self.wide);
        let spare = words.spare_capacity_mut();
        for col in 0..Wide::COUNT {
            for word in &mut spare[col * self.stride + n..(col + 1) * self.stride] {
                word.write(0);
            }
        }
        let len = self.stride * Wide::COUNT;
        assert!(len <= words.capacity());
        // SAFETY: every word of `0..len` is initialised: `push` wrote rows `0..n` of
        // every column (all sixteen, each row) and the loop above zeroed rows
        // `n..stride` of every column.
        unsafe { words.set_len(len) };
        WideParts {
            words,
            valid,
            stride: self.stride,
        }
    }
}

/// End-of-run metrics (the summary table's single row).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Strategy name.
    pub strategy: String,
    /// Seed.
    pub seed: i64,
    /// Events processed.
    pub events: i64,
    /// Starting cash.
    pub initial_cash: f64,
    /// Final equity.
    pub final_equity: f64,
    /// `final_equity / initial_cash - 1`.
    pub total_return: f64,
    /// Largest drawdown.
    pub max_drawdown: f64,
    /// Closed trades.
    pub trade_count: i64,
    /// Winning share of trades.
    pub win_rate: Option<f64>,
    /// Annualised Sharpe ratio.
    pub sharpe: Option<f64>,
    /// Fills.
    pub fill_count: i64,
    /// Cancelled orders.
    pub cancelled_orders: i64,
    /// Positions still open.
    pub open_positions: i64,
    /// Realized PnL.
    pub realized_pnl: f64,
}

/// A complete trace.
#[derive(Clone, Debug)]
pub struct TraceData {
    /// The events table.
    pub events: EventColumns,
    /// The fills table.
    pub fills: Vec<Fill>,
    /// The trades table.
    pub trades: Vec<ClosedTrade>,
    /// The summary row.
    pub summary: Summary,
}
