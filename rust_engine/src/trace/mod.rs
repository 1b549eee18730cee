//! The trace: columnar records of every event, fill and trade, plus the summary.
//!
//! Mirrors `legacy_py/trace.py` (`docs/trace_schema.md`); [`arrow`] turns it into
//! Arrow record batches with the same schema.

pub mod arrow;
pub mod pages;

use std::sync::{Arc, OnceLock};

use arrow_array::ArrayRef;

use crate::event::queue::CandleColumns;
use crate::event::types::{series_slot, PriceType, StrategySignal, Timeframe, SERIES_SLOTS};
use crate::execution::Fill;
use crate::portfolio::ClosedTrade;

/// The timeframe and price type of every event, in event (canonical) order.
///
/// A function of the stream alone, so a [`crate::stream::ValidatedStream`] computes it
/// once and every trace of that stream shares it (immutable, behind an `Arc`), with its
/// two Arrow `Utf8` columns built on first use ([`arrow`]) and, per series, the
/// events of its bars (the index the indicators are computed from, also built on
/// first use): runs over the same stream neither gather nor convert them again.
#[derive(Default)]
pub struct SeriesColumns {
    /// Timeframe of each event.
    pub timeframe: Vec<Timeframe>,
    /// Price type of each event.
    pub price_type: Vec<PriceType>,
    /// The `timeframe` and `price_type` trace columns, once built.
    pub(crate) arrow: OnceLock<[ArrayRef; 2]>,
    /// Per series ([`series_slot`]), its events, once asked for.
    bars: [OnceLock<Vec<usize>>; SERIES_SLOTS],
    /// The `event_index` and `timestamp` trace columns, once built (for traces
    /// whose arena does not hold them: [`EventColumns::index_in_series`]).
    pub(crate) index: OnceLock<[ArrayRef; 2]>,
}

impl SeriesColumns {
    /// Shared series columns from one entry per event.
    ///
    /// # Panics
    /// When the two columns differ in length.
    #[must_use]
    pub fn shared(timeframe: Vec<Timeframe>, price_type: Vec<PriceType>) -> Arc<Self> {
        assert_eq!(timeframe.len(), price_type.len(), "SeriesColumns: lengths");
        Arc::new(Self {
            timeframe,
            price_type,
            arrow: OnceLock::new(),
            bars: Default::default(),
            index: OnceLock::new(),
        })
    }

    /// The events (positions, increasing) of series (`timeframe`, `price_type`):
    /// found on the first call and kept.
    #[must_use]
    pub fn bar_events(&self, timeframe: Timeframe, price_type: PriceType) -> &[usize] {
        self.bars[series_slot(timeframe, price_type)].get_or_init(|| {
            let mut events = Vec::new();
            for (e, (&tf, &pt)) in self.timeframe.iter().zip(&self.price_type).enumerate() {
                if tf == timeframe && pt == price_type {
                    events.push(e);
                }
            }
            events
        })
    }

    /// The series of `columns` visited in `order` (row order when `None`).
    #[must_use]
    pub fn of_events(columns: CandleColumns<'_>, order: Option<&[usize]>) -> Arc<Self> {
        let (timeframe, price_type) = match order {
            None => (columns.timeframe.to_vec(), columns.price_type.to_vec()),
            Some(order) => (
                order.iter().map(|&r| columns.timeframe[r]).collect(),
                order.iter().map(|&r| columns.price_type[r]).collect(),
            ),
        };
        Self::shared(timeframe, price_type)
    }

    /// Number of events.
    #[must_use]
    pub fn len(&self) -> usize {
        self.timeframe.len()
    }

    /// True without events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.timeframe.is_empty()
    }
}

impl std::fmt::Debug for SeriesColumns {
    /// The series (the cached Arrow columns and bar index are left out, as in `==`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesColumns")
            .field("timeframe", &self.timeframe)
            .field("price_type", &self.price_type)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SeriesColumns {
    /// Same series (the cached Arrow columns do not count).
    fn eq(&self, other: &Self) -> bool {
        self.timeframe == other.timeframe && self.price_type == other.price_type
    }
}

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
#[derive(Clone, Debug, Default)]
pub struct StrColumn {
    /// The distinct values in order of first appearance.
    pub dictionary: Vec<&'static str>,
    /// One code per row.
    pub codes: Vec<u8>,
    /// The last value set and its code (most rows repeat it).
    last: Option<(&'static str, u8)>,
}

impl PartialEq for StrColumn {
    /// Same dictionary and codes (the lookup cache does not count).
    fn eq(&self, other: &Self) -> bool {
        self.dictionary == other.dictionary && self.codes == other.codes
    }
}

impl StrColumn {
    /// `rows` null rows.
    #[must_use]
    pub fn zeroed(rows: usize) -> Self {
        Self {
            dictionary: Vec::new(),
            codes: pages::zeroed(rows),
            last: None,
        }
    }

    /// Set row `row` to `value`.
    ///
    /// # Panics
    /// With more than 255 distinct values (the engine writes fewer than 16).
    #[inline]
    pub fn set(&mut self, row: usize, value: &'static str) {
        // Values are string constants: the same address as the last value set is
        // the same value (no text comparison).
        let code = match self.last {
            Some((last, code)) if std::ptr::eq(last, value) => code,
            _ => self.code_of(value),
        };
        self.codes[row] = code;
    }

    #[cold]
    fn code_of(&mut self, value: &'static str) -> u8 {
        let found = self.dictionary.iter().position(|d| *d == value);
        let pos = found.unwrap_or_else(|| {
            self.dictionary.push(value);
            self.dictionary.len() - 1
        });
        let code = u8::try_from(pos + 1).expect("StrColumn: more than 255 distinct values");
        self.last = Some((value, code));
        code
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

    /// Every wide column, in arena order.
    pub const ALL: [Wide; Wide::COUNT] = [
        Wide::EventIndex,
        Wide::Timestamp,
        Wide::EntryPrice,
        Wide::StopLoss,
        Wide::TakeProfit,
        Wide::ExitRequests,
        Wide::Cash,
        Wide::Equity,
        Wide::RealizedPnl,
        Wide::UnrealizedPnl,
        Wide::PositionQty,
        Wide::AvgPrice,
        Wide::OpenPositions,
        Wide::PendingOrders,
        Wide::PeakEquity,
        Wide::Drawdown,
    ];

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
/// * The sixteen 8-byte columns ([`Wide`]) live in **one** allocation (the arena,
///   `u64` words: IEEE-754 bits for floats, two's complement for ints), column after
///   column; one large allocation instead of sixteen is backed by huge pages where
///   the kernel allows, which cuts page faults on a fresh trace. In Arrow every
///   column is a slice of that one buffer, so a column kept alive in Python keeps the
///   whole arena alive.
/// * The arena is allocated, not initialised. It is written **column by column**, a
///   chunk of rows at a time ([`crate::event::ledger`]): [`EventColumns::split`]
///   hands out one [`ColumnSlot`] per column (and, apart, the columns the event loop
///   writes), [`ColumnSlot::split_rows`] cuts a chunk off a slot, [`fill_rows`]
///   writes every row of the slots it is given and returns a [`Filled`] proof per
///   column, chunks' proofs are joined with [`Filled::then`], and
///   [`EventColumns::commit`] takes the sixteen proofs, each for every row. Until
///   then the table has no rows; no word is read before it is written.
/// * The narrow columns (signal codes, validity) are allocated zero-filled at full
///   length; [`EventColumns::set_call`] writes signal cells only for rows where
///   `on_candle` ran, and the rare per-row values (signal prices, exit requests) are
///   kept sparse until the wide columns are written.
#[derive(Debug, Default)]
pub struct EventColumns {
    /// Declared indicator output names (without the `ind_` prefix).
    pub indicator_names: Vec<String>,
    /// Timeframe and price type of each event (shared with the stream; set before
    /// the wide columns are committed).
    pub series: Arc<SeriesColumns>,
    /// One column per indicator output.
    pub indicators: Vec<OptF64Column>,
    /// Signal type (null when `on_candle` was not called).
    pub signal_type: StrColumn,
    /// Signal metadata in insertion order.
    pub signal_metadata: MetadataColumn,
    /// Signal status.
    pub signal_status: StrColumn,
    /// The wide columns, `stride` words each, in [`Wide`] order: allocated, not
    /// initialised (`len` 0) until [`Self::commit`]; [`Self::take_wide`] zeroes
    /// the padding rows before the words are handed out.
    wide: Vec<u64>,
    /// `(row, [entry, stop, take])` of the rows whose signal set any price, by row.
    prices: Vec<(usize, [Option<f64>; 3])>,
    /// `(row, count)` of the rows with exit requests, by row.
    exits: Vec<(usize, i64)>,
    /// Validity of the nullable wide columns ([`Wide::NULLABLE`] order).
    valid: [Vec<bool>; 4],
    /// Words per wide column (the row capacity rounded up to whole 64-byte lines).
    stride: usize,
    /// Rows the table was made for.
    capacity: usize,
    /// The arena was allocated zero-filled (see [`ZEROED_ARENA_BYTES`]).
    zeroed: bool,
    /// Rows written (`0` or `capacity`, after [`Self::commit`]).
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
                // SAFETY: `row < rows`, so the table is committed and every word of
                // rows `0..rows` of every column was written; `i` is inside the
                // allocation of `stride * COUNT` words.
                spare[i].write(unsafe { self.wide.as_ptr().add(i).read() });
            }
        }
        Self {
            indicator_names: self.indicator_names.clone(),
            series: Arc::clone(&self.series),
            indicators: self.indicators.clone(),
            signal_type: self.signal_type.clone(),
            signal_metadata: self.signal_metadata.clone(),
            signal_status: self.signal_status.clone(),
            wide,
            prices: self.prices.clone(),
            exits: self.exits.clone(),
            valid: self.valid.clone(),
            stride: self.stride,
            capacity: self.capacity,
            zeroed: false,
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

/// One wide column's rows, to be written by [`fill_rows`].
#[derive(Debug)]
pub struct ColumnSlot<'a> {
    col: Wide,
    /// Address of the arena (ties the slot's proof to its table).
    arena: usize,
    /// The words are known to be zero already.
    zeroed: bool,
    /// Row of the column that `words[0]` is.
    start: usize,
    words: &'a mut [std::mem::MaybeUninit<u64>],
}

impl<'a> ColumnSlot<'a> {
    /// Split off the first `n` rows as a slot of their own (this slot keeps the
    /// rest), to write a column a chunk at a time; the chunks' proofs are joined
    /// with [`Filled::then`].
    ///
    /// # Panics
    /// When the slot has fewer than `n` rows.
    #[must_use]
    pub fn split_rows(&mut self, n: usize) -> ColumnSlot<'a> {
        let words = std::mem::take(&mut self.words);
        let (head, tail) = words.split_at_mut(n);
        self.words = tail;
        let start = self.start;
        self.start += n;
        ColumnSlot {
            col: self.col,
            arena: self.arena,
            zeroed: self.zeroed,
            start,
            words: head,
        }
    }

    /// The rows of the column this slot covers.
    #[must_use]
    pub fn rows(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.words.len()
    }

    /// A proof for a column whose rows are all zero, without writing it, when the
    /// arena was allocated zero-filled; otherwise the slot back (write it).
    ///
    /// # Errors
    /// The slot itself, when its words are not known to be zero.
    pub fn already_zero(self) -> Result<Filled, Self> {
        if self.zeroed {
            Ok(Filled {
                col: self.col,
                arena: self.arena,
                rows: self.rows(),
            })
        } else {
            Err(self)
        }
    }

    /// The words are known to be zero already (see [`Self::already_zero`]).
    #[must_use]
    pub fn is_zeroed(&self) -> bool {
        self.zeroed
    }

    /// The column this slot belongs to.
    #[must_use]
    pub fn column(&self) -> Wide {
        self.col
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True without rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Proof that rows `rows` of one wide column of one table were written (made only by
/// [`fill_rows`] and [`ColumnSlot::already_zero`]).
#[derive(Debug)]
pub struct Filled {
    col: Wide,
    arena: usize,
    rows: std::ops::Range<usize>,
}

impl Filled {
    /// The proof for this proof's rows followed by `next`'s.
    ///
    /// # Panics
    /// Unless `next` is for the same column of the same table and starts where this
    /// one ends.
    #[must_use]
    #[allow(clippy::needless_pass_by_value)] // a proof is used up, like the one it joins
    pub fn then(self, next: Filled) -> Filled {
        assert!(
            next.col == self.col && next.arena == self.arena && next.rows.start == self.rows.end,
            "Filled::then: {:?} rows {:?} cannot follow {:?} rows {:?}",
            next.col,
            next.rows,
            self.col,
            self.rows
        );
        Filled {
            col: self.col,
            arena: self.arena,
            rows: self.rows.start..next.rows.end,
        }
    }

    /// The rows proven written.
    #[must_use]
    pub fn rows(&self) -> std::ops::Range<usize> {
        self.rows.clone()
    }

    /// The column proven written.
    #[must_use]
    pub fn column(&self) -> Wide {
        self.col
    }
}

/// Write every row of `K` columns: row by row, `f(row)` gives the row's words in
/// the order of `slots` (`row` counts from the start of the column, so a chunk of
/// a column sees its own rows).
///
/// # Panics
/// When the slots cover different rows.
#[inline]
pub fn fill_rows<const K: usize>(
    mut slots: [ColumnSlot<'_>; K],
    mut f: impl FnMut(usize) -> [u64; K],
) -> [Filled; K] {
    let (start, rows) = slots.first().map_or((0, 0), |s| (s.start, s.len()));
    assert!(
        slots.iter().all(|s| s.start == start && s.len() == rows),
        "fill_rows: slots of different rows"
    );
    for i in 0..rows {
        let words = f(start + i);
        for (slot, word) in slots.iter_mut().zip(words) {
            slot.words[i].write(word);
        }
    }
    slots.map(|s| Filled {
        col: s.col,
        arena: s.arena,
        rows: s.rows(),
    })
}

/// Arenas of at least this many bytes are allocated zero-filled. glibc serves such
/// sizes with fresh `mmap`s, whose pages the kernel zeroes on first touch anyway, so
/// zero-filling costs nothing, and columns that stay all zero (no signal prices, no
/// exit requests) are then never written ([`ColumnSlot::already_zero`]): their pages
/// are never touched. Smaller arenas come from recycled heap memory, where zeroing
/// would be a pass of its own, so they are left uninitialised.
pub const ZEROED_ARENA_BYTES: usize = 64 << 20;

/// The columns the event loop writes ([`EventColumns::split`]): the signal cells of
/// each call and the sparse signal prices and exit requests, while the wide columns'
/// slots may be written elsewhere at the same time.
#[derive(Debug)]
pub struct CallColumns<'a> {
    signal_type: &'a mut StrColumn,
    signal_metadata: &'a mut MetadataColumn,
    signal_status: &'a mut StrColumn,
    /// Validity of the entry, stop-loss and take-profit prices.
    price_valid: [&'a mut Vec<bool>; 3],
    prices: &'a mut Vec<(usize, [Option<f64>; 3])>,
    exits: &'a mut Vec<(usize, i64)>,
    capacity: usize,
}

impl CallColumns<'_> {
    /// Record the `on_candle` result of event `row` (see [`EventColumns::set_call`]).
    ///
    /// # Panics
    /// For a row beyond the table, or a row not after the previous call's.
    #[inline]
    pub fn set_call(&mut self, row: usize, signal: Option<StrategySignal>, status: &'static str) {
        assert!(row < self.capacity, "EventColumns: row {row} out of range");
        match signal {
            None => self.signal_type.set(row, "NONE"),
            Some(s) => {
                self.signal_type.set(row, s.signal_type.as_str());
                let prices = [s.entry_price, s.stop_loss, s.take_profit];
                if prices.iter().any(Option::is_some) {
                    assert!(
                        self.prices.last().is_none_or(|(r, _)| *r < row),
                        "EventColumns: calls out of order"
                    );
                    for (slot, price) in prices.iter().enumerate() {
                        self.price_valid[slot][row] = price.is_some();
                    }
                    self.prices.push((row, prices));
                }
                self.signal_metadata.set(row, s.metadata);
            }
        }
        self.signal_status.set(row, status);
    }

    /// Record `count` (> 0) exit requests at event `row`.
    ///
    /// # Panics
    /// For a row beyond the table, or a row not after the previous call's.
    pub fn set_exit_requests(&mut self, row: usize, count: i64) {
        assert!(row < self.capacity, "EventColumns: row {row} out of range");
        assert!(
            self.exits.last().is_none_or(|(r, _)| *r < row),
            "EventColumns: exit requests out of order"
        );
        self.exits.push((row, count));
    }

    /// The signal prices and exit requests recorded so far (by row).
    #[must_use]
    #[allow(clippy::type_complexity)]
    pub fn records(&self) -> (&[(usize, [Option<f64>; 3])], &[(usize, i64)]) {
        (self.prices, self.exits)
    }
}

/// The wide columns' slots of a table being run ([`EventColumns::split`]).
#[derive(Debug)]
pub struct RunSlots<'a> {
    /// One slot per wide column, in [`Wide`] order.
    pub columns: [ColumnSlot<'a>; Wide::COUNT],
    /// Validity of `avg_price` (`false` everywhere until written).
    pub avg_valid: &'a mut [bool],
}

impl EventColumns {
    /// Columns for `rows` events (see the type's docs). The indicator columns start
    /// empty: the engine computes them for all events at once and sets
    /// [`Self::indicators`] (one column per name, one row per event).
    #[must_use]
    pub fn new(indicator_names: Vec<String>, rows: usize) -> Self {
        let stride = rows.next_multiple_of(8);
        let words = stride * Wide::COUNT;
        let zeroed = words.saturating_mul(8) >= ZEROED_ARENA_BYTES;
        let wide = if zeroed {
            let mut w: Vec<u64> = pages::zeroed(words);
            w.clear(); // the words stay zero; `zeroed` records that they are
            w
        } else {
            pages::with_capacity(words)
        };
        Self {
            indicator_names,
            series: Arc::default(),
            indicators: Vec::new(),
            signal_type: StrColumn::zeroed(rows),
            signal_metadata: MetadataColumn::zeroed(rows),
            signal_status: StrColumn::zeroed(rows),
            wide,
            prices: Vec::new(),
            exits: Vec::new(),
            valid: std::array::from_fn(|_| pages::zeroed(rows)),
            stride,
            capacity: rows,
            zeroed,
            rows: 0,
        }
    }

    /// Number of rows written (`0` until [`Self::commit`]).
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True without rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Rows the table was made for.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The word of `col` at `row`, once written.
    fn word(&self, col: Wide, row: usize) -> Option<u64> {
        if row >= self.rows {
            return None;
        }
        let i = col as usize * self.stride + row;
        assert!(i < self.wide.capacity());
        // SAFETY: `i` is inside the allocation (asserted) and `row < rows`, so the
        // table is committed: every row of every wide column was written (or was
        // zero-filled at allocation, see `ColumnSlot::already_zero`).
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

    /// Record what `on_candle` returned at event `row` (its validated signal,
    /// `None` for no signal) and the order status. Rows without this call have
    /// null signal cells (`on_candle` was not called).
    ///
    /// # Panics
    /// For a row beyond the table, or a row not after the previous call's.
    #[inline]
    pub fn set_call(&mut self, row: usize, signal: Option<StrategySignal>, status: &'static str) {
        self.split().1.set_call(row, signal, status);
    }

    /// Record `count` (> 0) exit requests at event `row`.
    ///
    /// # Panics
    /// For a row beyond the table, or a row not after the previous call's.
    pub fn set_exit_requests(&mut self, row: usize, count: i64) {
        self.split().1.set_exit_requests(row, count);
    }

    /// The wide columns' slots and, apart from them, the columns the event loop
    /// writes: so the loop can record calls while the wide columns are written a
    /// chunk at a time on another thread (which gets the signal prices and exit
    /// requests from [`CallColumns::records`]).
    ///
    /// # Panics
    /// When the table is already committed.
    pub fn split(&mut self) -> (RunSlots<'_>, CallColumns<'_>) {
        let columns = Self::slots(
            &mut self.wide,
            self.stride,
            self.capacity,
            self.zeroed,
            self.rows,
        );
        let [entry, stop, take, avg_valid] = &mut self.valid;
        (
            RunSlots {
                columns,
                avg_valid: &mut avg_valid[..],
            },
            CallColumns {
                signal_type: &mut self.signal_type,
                signal_metadata: &mut self.signal_metadata,
                signal_status: &mut self.signal_status,
                price_valid: [entry, stop, take],
                prices: &mut self.prices,
                exits: &mut self.exits,
                capacity: self.capacity,
            },
        )
    }

    /// One slot per wide column of the arena `wide` (`rows` written so far: none).
    fn slots(
        wide: &mut Vec<u64>,
        stride: usize,
        capacity: usize,
        zeroed: bool,
        rows: usize,
    ) -> [ColumnSlot<'_>; Wide::COUNT] {
        assert!(rows == 0, "EventColumns: already committed");
        let spare = &mut wide.spare_capacity_mut()[..stride * Wide::COUNT];
        let arena = spare.as_ptr() as usize;
        let mut parts = spare.chunks_exact_mut(stride.max(1));
        Wide::ALL.map(|col| ColumnSlot {
            col,
            arena,
            zeroed,
            start: 0,
            words: match parts.next() {
                Some(part) => &mut part[..capacity],
                None => &mut [],
            },
        })
    }

    /// Declare the table written: one [`Filled`] proof for each wide column.
    ///
    /// # Panics
    /// Unless the proofs are this table's and cover the sixteen columns exactly once,
    /// or when the timeframe and price type columns do not have one entry per row.
    pub fn commit(&mut self, filled: [Filled; Wide::COUNT]) {
        let arena = self.wide.as_ptr() as usize;
        let mut seen = [false; Wide::COUNT];
        for Filled {
            col,
            arena: at,
            rows,
        } in filled
        {
            assert!(
                at == arena,
                "EventColumns: {col:?} filled for another table"
            );
            assert!(!seen[col as usize], "EventColumns: {col:?} filled twice");
            assert!(
                rows == (0..self.capacity),
                "EventColumns: {col:?} filled for rows {rows:?} of {}",
                self.capacity
            );
            seen[col as usize] = true;
        }
        assert!(
            self.series.len() == self.capacity,
            "EventColumns: series columns not written"
        );
        self.rows = self.capacity;
    }

    /// True when the `event_index` and `timestamp` columns are not in the arena but
    /// in the series' shared index columns (`SeriesColumns::index`): for a
    /// zero-filled arena (a long trace), whose writer leaves these two columns zero
    /// instead of writing the same numbers for every run of a stream (their pages are
    /// then never touched, [`crate::event::ledger::ColumnWriter`]). Their words in the
    /// arena are zero.
    #[must_use]
    pub fn index_in_series(&self) -> bool {
        self.zeroed
    }

    /// Hand out the wide words (the Arrow conversion slices `rows` words of each);
    /// the narrow columns are cut to the rows written.
    pub(crate) fn take_wide(&mut self) -> WideParts {
        let n = self.rows;
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
        // SAFETY: every word of `0..len` is initialised: rows `0..n` of every column
        // were written (`n` is 0, or the table was committed with a `Filled` proof
        // for each of the sixteen columns, each of which either wrote all `n` rows
        // or, from `already_zero`, certifies an arena allocated zero-filled that
        // nothing but `fill_rows` writes), and the loop above zeroed rows
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

/// Test helpers: commit a table row by row.
#[cfg(test)]
pub(crate) mod testing {
    use super::{fill_rows, EventColumns, PriceType, SeriesColumns, Timeframe, Wide};

    /// Commit every row of `e`: series `series(row)`, wide words `words(row)` in
    /// [`Wide`] order (`avg_price` is valid where `avg_valid(row)`).
    pub(crate) fn commit_rows(
        e: &mut EventColumns,
        series: impl Fn(usize) -> (Timeframe, PriceType),
        words: impl Fn(usize) -> [u64; Wide::COUNT],
        avg_valid: impl Fn(usize) -> bool,
    ) {
        let rows = e.capacity();
        let slots = e.split().0;
        for (row, v) in slots.avg_valid.iter_mut().enumerate() {
            *v = avg_valid(row);
        }
        let filled = fill_rows(slots.columns, words);
        e.series = SeriesColumns::shared(
            (0..rows).map(|r| series(r).0).collect(),
            (0..rows).map(|r| series(r).1).collect(),
        );
        e.commit(filled);
    }
}

#[cfg(test)]
mod tests {
    use super::testing::commit_rows;
    use std::sync::Arc;

    use super::{fill_rows, EventColumns, PriceType, SeriesColumns, StrColumn, Timeframe, Wide};

    fn series(_: usize) -> (Timeframe, PriceType) {
        (Timeframe::M1, PriceType::Bid)
    }

    fn m1_bid(rows: usize) -> Arc<SeriesColumns> {
        SeriesColumns::shared(vec![Timeframe::M1; rows], vec![PriceType::Bid; rows])
    }

    #[test]
    fn committed_rows_read_back() {
        let mut e = EventColumns::new(Vec::new(), 3);
        assert_eq!((e.len(), e.f64_at(Wide::Cash, 0)), (0, None));
        commit_rows(
            &mut e,
            series,
            |r| std::array::from_fn(|c| (10 * c + r) as u64),
            |r| r == 1,
        );
        assert_eq!(e.len(), 3);
        assert_eq!(e.i64_at(Wide::Timestamp, 2), Some(12));
        assert_eq!(e.f64_at(Wide::AvgPrice, 0), None);
        assert_eq!(e.f64_at(Wide::AvgPrice, 1), Some(f64::from_bits(111)));
        assert_eq!(e.i64_at(Wide::Drawdown, 3), None);
    }

    #[test]
    #[should_panic(expected = "filled twice")]
    fn commit_needs_each_column_once() {
        let mut e = EventColumns::new(Vec::new(), 2);
        let slots = e.split().0;
        let [a, b, ..] = slots.columns;
        let [fa] = fill_rows([a], |_| [0]);
        let [fb] = fill_rows([b], |_| [0]);
        let mut proofs = vec![fa, fb];
        // the first column's proof twice: build a second one from a fresh borrow
        let slots = e.split().0;
        let [a, ..] = slots.columns;
        proofs.extend(fill_rows([a], |_| [0]));
        let slots = e.split().0;
        let cols = slots.columns;
        let rest: Vec<_> = cols
            .into_iter()
            .skip(3)
            .flat_map(|c| fill_rows([c], |_| [0]))
            .collect();
        proofs.extend(rest);
        let filled: [super::Filled; Wide::COUNT] = proofs.try_into().expect("sixteen");
        e.series = m1_bid(2);
        e.commit(filled);
    }

    #[test]
    #[should_panic(expected = "another table")]
    fn proofs_belong_to_their_table() {
        let mut a = EventColumns::new(Vec::new(), 2);
        let mut b = EventColumns::new(Vec::new(), 2);
        let filled = fill_rows(a.split().0.columns, |_| [0; Wide::COUNT]);
        b.series = m1_bid(2);
        b.commit(filled);
    }

    #[test]
    #[should_panic(expected = "series columns not written")]
    fn commit_needs_the_series_columns() {
        let mut e = EventColumns::new(Vec::new(), 2);
        let filled = fill_rows(e.split().0.columns, |_| [0; Wide::COUNT]);
        e.commit(filled);
    }

    #[test]
    fn large_arenas_are_zero_filled_and_zero_columns_need_no_writing() {
        let rows = super::ZEROED_ARENA_BYTES / (8 * Wide::COUNT) + 3;
        let mut e = EventColumns::new(Vec::new(), rows);
        let slots = e.split().0;
        let mut proofs = Vec::new();
        for slot in slots.columns {
            assert!(slot.is_zeroed());
            if slot.column() == Wide::ExitRequests {
                proofs.push(slot.already_zero().expect("zero-filled arena"));
            } else {
                proofs.extend(fill_rows([slot], |r| [r as u64 + 1]));
            }
        }
        let filled: [super::Filled; Wide::COUNT] = proofs.try_into().expect("sixteen");
        e.series = m1_bid(rows);
        e.commit(filled);
        for row in [0, 1, rows / 2, rows - 1] {
            assert_eq!(e.i64_at(Wide::ExitRequests, row), Some(0));
            assert_eq!(
                e.i64_at(Wide::Cash, row),
                Some(i64::try_from(row).expect("small") + 1)
            );
        }
        // a small arena is not zero-filled: its slots must be written
        let mut small = EventColumns::new(Vec::new(), 4);
        let [first, ..] = small.split().0.columns;
        assert!(!first.is_zeroed() && first.already_zero().is_err());
    }

    #[test]
    fn sparse_records_must_come_in_row_order() {
        let mut e = EventColumns::new(Vec::new(), 4);
        e.set_exit_requests(1, 2);
        let late = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            e.set_exit_requests(1, 1);
        }));
        assert!(late.is_err());
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            e.set_exit_requests(4, 1);
        }));
        assert!(out.is_err());
    }

    #[test]
    fn str_column_codes_by_first_appearance() {
        let mut c = StrColumn::zeroed(5);
        let text = String::from("none");
        let leaked: &'static str = Box::leak(text.into_boxed_str());
        c.set(0, "none");
        c.set(1, "accepted");
        c.set(2, "none");
        c.set(3, leaked); // same text, another address
        assert_eq!(c.dictionary, ["none", "accepted"]);
        assert_eq!(c.codes, [1, 2, 1, 1, 0]);
        let mut d = StrColumn::zeroed(5);
        for (row, v) in ["none", "accepted", "none", "none"].into_iter().enumerate() {
            d.set(row, v);
        }
        assert_eq!(c, d);
    }
}
