//! The event columns of a run, written from the state changes its loop recorded, a
//! chunk of events at a time (on a helper thread while the loop runs on, for long
//! runs; after the loop otherwise).
//!
//! Most of an event row repeats the previous one: cash, realized PnL, the position
//! columns and the order count change only when an order is placed, filled or
//! cancelled, and the rest follows from the candles. So the engine loop does not
//! mark to market or write rows. It records a [`Segment`] of the portfolio state
//! whenever that state changes ([`StateLog::record`], a compare per event), and a
//! [`ColumnWriter`] then writes the sixteen wide columns column by column:
//!
//! * `cash`, `realized_pnl`, `position_qty`, `avg_price`, `open_positions`,
//!   `pending_orders`: the segment's values, repeated over its rows;
//! * `unrealized_pnl`, `equity`, `peak_equity`, `drawdown`: one pass over the rows
//!   that marks to market exactly like [`Portfolio::mark`] does after each event —
//!   the same marks (the last execution-timeframe closes, updated the same way),
//!   the same [`leg_pnl`] terms folded in position-id order, the same [`Peak`]
//!   step — so every value is bit-identical to the per-event computation (a test
//!   checks this against `Portfolio::mark`);
//! * `event_index`, `timestamp`, the signal prices and `exit_requests`: from the
//!   queue and the sparse records of [`EventColumns::set_call`] and
//!   [`EventColumns::set_exit_requests`].
//!
//! The marking state carries from chunk to chunk in row order, so any chunking writes
//! the bits of one pass. Within a long chunk written after the loop, the marking pass
//! and the other columns touch disjoint memory and run on two threads
//! ([`crate::parallel::join2`]); each value is computed by one thread in row order, so
//! the thread count never changes a bit.

use std::ops::Range;
use std::sync::Arc;

use super::queue::CandleColumns;
use super::types::{PriceType, SeriesKey, Side, Timeframe};
use crate::portfolio::{leg_pnl, Peak, Portfolio};
use crate::trace::{fill_rows, ColumnSlot, EventColumns, Filled, RunSlots, SeriesColumns, Wide};

/// Streams shorter than this are written on one thread.
pub const PARALLEL_ROWS: usize = 16_384;

/// Runs of at least this many events write their wide columns on a second thread
/// while the event loop runs ([`ColumnWriter`], chunk by chunk).
pub const PIPELINE_ROWS: usize = 16_384;

/// Bounds of the chunk size of such runs (an eighth of the run within them).
pub const PIPELINE_CHUNK_ROWS: (usize, usize) = (4_096, 65_536);

/// Rows `..end` that the event loop has finished, for a [`ColumnWriter`]: their
/// state log (from the chunk's first row, [`StateLog::split_chunk`]) and their sparse
/// signal prices and exit requests.
#[derive(Debug)]
pub struct Chunk {
    /// One past the chunk's last row.
    pub end: usize,
    /// The state from the chunk's first row on.
    pub log: StateLog,
    /// `(row, [entry, stop, take])` of the chunk's rows with signal prices.
    pub prices: Vec<(usize, [Option<f64>; 3])>,
    /// `(row, count)` of the chunk's rows with exit requests.
    pub exits: Vec<(usize, i64)>,
}

/// An open position as marking sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leg {
    /// Long or short.
    pub side: Side,
    /// Entry fill price.
    pub entry_price: f64,
    /// Quantity.
    pub quantity: f64,
}

/// The portfolio state from event `start` on (until the next segment).
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// First event of the segment.
    pub start: usize,
    /// Cash.
    pub cash: f64,
    /// Realized PnL.
    pub realized_pnl: f64,
    /// Signed net quantity ([`Portfolio::position_qty`]).
    pub position_qty: f64,
    /// Weighted entry price ([`Portfolio::avg_price`]).
    pub avg_price: Option<f64>,
    /// Open positions.
    pub open_positions: i64,
    /// Pending orders.
    pub pending_orders: i64,
    /// The open legs, in position-id order (a range of [`StateLog::legs`]).
    pub legs: Range<usize>,
}

/// The state changes of one run, in event order.
#[derive(Clone, Debug, Default)]
pub struct StateLog {
    /// One segment per change; the first starts at event 0.
    pub segments: Vec<Segment>,
    /// The legs of every segment, back to back.
    pub legs: Vec<Leg>,
    /// What the last segment was recorded for (`Portfolio::generation`, pending
    /// orders).
    key: Option<(u64, usize)>,
}

impl StateLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Record the state after event `row` (rows in increasing order): a new segment
    /// when the portfolio or the number of pending orders changed since the last
    /// record. Cash, realized PnL and the legs change only through
    /// [`Portfolio::open`] and [`Portfolio::close`], which bump
    /// [`Portfolio::generation`].
    #[inline]
    pub fn record(&mut self, row: usize, portfolio: &Portfolio, pending_orders: usize) {
        let key = (portfolio.generation(), pending_orders);
        if self.key != Some(key) {
            self.key = Some(key);
            self.push(row, portfolio, pending_orders);
        }
    }

    #[cold]
    fn push(&mut self, row: usize, portfolio: &Portfolio, pending_orders: usize) {
        if let Some(carried) = self.segments.pop_if(|s| s.start == row) {
            // The state carried into a chunk (`split_chunk`) changed at the chunk's
            // first row: the new state replaces it.
            self.legs.truncate(carried.legs.start);
        }
        debug_assert!(self.segments.last().is_none_or(|s| s.start < row));
        let first = self.legs.len();
        self.legs.extend(portfolio.positions.iter().map(|p| Leg {
            side: p.side,
            entry_price: p.entry_price,
            quantity: p.quantity,
        }));
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.segments.push(Segment {
            start: row,
            cash: portfolio.cash,
            realized_pnl: portfolio.realized_pnl,
            position_qty: portfolio.position_qty(),
            avg_price: portfolio.avg_price(),
            open_positions: count(portfolio.positions.len()),
            pending_orders: count(pending_orders),
            legs: first..self.legs.len(),
        });
    }

    /// Hand over the log of the rows before `next` (a chunk of the run) and keep
    /// recording from `next` on: this log restarts with the current state as a
    /// segment starting at `next` (its legs copied), so a chunk's log always holds the
    /// state at its first row. Recording continues as if nothing happened (the same
    /// key).
    #[must_use]
    pub fn split_chunk(&mut self, next: usize) -> StateLog {
        let done = std::mem::take(self);
        if let Some(last) = done.segments.last() {
            self.legs = done.legs[last.legs.clone()].to_vec();
            self.segments.push(Segment {
                start: next,
                legs: 0..self.legs.len(),
                ..last.clone()
            });
            self.key = done.key;
        }
        done
    }

    /// Iterates the segment of each row in order: call with rows 0, 1, 2, ...
    fn cursor<'a>(&'a self) -> impl FnMut(usize) -> &'a Segment + 'a {
        let mut at = 0;
        move |row| {
            while self
                .segments
                .get(at + 1)
                .is_some_and(|next| next.start <= row)
            {
                at += 1;
            }
            &self.segments[at]
        }
    }
}

/// What marking needs besides the log: the candles in event order and the run's
/// execution prices.
#[derive(Clone, Copy, Debug)]
pub struct Marking<'a> {
    /// The candle columns (input order).
    pub columns: CandleColumns<'a>,
    /// Canonical order (`None`: input order).
    pub order: Option<&'a [usize]>,
    /// Execution timeframe.
    pub exec_timeframe: Timeframe,
    /// Price type of buy fills (its closes mark shorts).
    pub buy_price_type: PriceType,
    /// Price type of sell fills (its closes mark longs).
    pub sell_price_type: PriceType,
    /// Primary series (its events give the Sharpe samples).
    pub primary: SeriesKey,
    /// Starting cash (the starting peak).
    pub initial_cash: f64,
    /// Contract size.
    pub contract_size: f64,
}

/// The marked state after the last event, and the equity samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Marked {
    /// Unrealized PnL after the last event.
    pub unrealized_pnl: f64,
    /// Equity after the last event.
    pub equity: f64,
    /// Peak equity and largest drawdown.
    pub peak: Peak,
    /// Drawdown after the last event.
    pub drawdown: f64,
    /// Equity after each event of the primary series, in event order.
    pub samples: Vec<f64>,
}

/// Write the wide columns of `events` (every row) from `log`, and commit them.
/// `log` must hold a record for event 0 (the engine records every event), and
/// `events.series` must be set. The whole table is one chunk of a [`ColumnWriter`];
/// long tables split its columns over two threads.
///
/// # Panics
/// When `log` has no segment while `events` has rows, or `events.series` does not
/// have a row per event.
pub fn write_columns(events: &mut EventColumns, log: &StateLog, m: &Marking<'_>) -> Marked {
    let rows = events.capacity();
    assert!(rows == 0 || !log.segments.is_empty(), "StateLog: no record");
    let series = Arc::clone(&events.series);
    let (slots, calls) = events.split();
    let (prices, exits) = calls.records();
    let mut writer = ColumnWriter::new(slots, series, *m, PARALLEL_ROWS);
    writer.write(rows, log, prices, exits);
    let (marked, filled) = writer.finish().expect("every row written");
    events.commit(filled);
    marked
}

/// The marking state carried from row to row (and chunk to chunk).
#[derive(Debug)]
struct MarkState {
    mark_long: Option<f64>,
    mark_short: Option<f64>,
    running: Peak,
    /// `(unrealized_pnl, equity, drawdown)` after the last row written.
    last: (f64, f64, f64),
    samples: Vec<f64>,
}

/// Writes the sixteen wide columns a chunk of rows at a time, in row order: the
/// marking state (marks, peak, Sharpe samples) carries over from chunk to chunk,
/// so any chunking writes the same bits as one pass (a test checks this).
///
/// The engine hands it the rows the loop has finished, each chunk with its
/// [`StateLog`] (starting with the state at the chunk's first row, see
/// [`StateLog::split_chunk`]) and its sparse records, so the columns can be written
/// on a second thread while the loop runs on.
#[derive(Debug)]
pub struct ColumnWriter<'a> {
    m: Marking<'a>,
    series: Arc<SeriesColumns>,
    /// The rows not written yet, one slot per column.
    slots: [ColumnSlot<'a>; Wide::COUNT],
    avg_valid: &'a mut [bool],
    proofs: [Option<Filled>; Wide::COUNT],
    /// First row not written yet.
    next: usize,
    state: MarkState,
    /// Chunks of at least this many rows split their columns over two threads.
    parallel_rows: usize,
}

impl<'a> ColumnWriter<'a> {
    /// A writer for the slots of a table whose events have the series `series`.
    ///
    /// # Panics
    /// When `series` does not have a row per slot row.
    #[must_use]
    pub fn new(
        slots: RunSlots<'a>,
        series: Arc<SeriesColumns>,
        m: Marking<'a>,
        parallel_rows: usize,
    ) -> Self {
        let rows = slots.columns[0].len();
        assert_eq!(series.len(), rows, "ColumnWriter: series rows");
        Self {
            m,
            slots: slots.columns,
            avg_valid: slots.avg_valid,
            proofs: Default::default(),
            next: 0,
            state: MarkState {
                mark_long: None,
                mark_short: None,
                running: Peak {
                    peak: m.initial_cash,
                    max_drawdown: 0.0,
                },
                last: (0.0, m.initial_cash, 0.0),
                // (untouched capacity costs no memory; no reallocation while marking)
                samples: Vec::with_capacity(rows),
            },
            series,
            parallel_rows,
        }
    }

    /// First row not written yet.
    #[must_use]
    pub fn next_row(&self) -> usize {
        self.next
    }

    /// Write rows `next_row()..end`: `log`'s first segment must start at or before
    /// `next_row()` and hold the state from there on; `prices` and `exits` are the
    /// sparse records of these rows (others are ignored).
    ///
    /// # Panics
    /// When `end` is before `next_row()` or beyond the table, or `log` has no
    /// segment for a row to write.
    pub fn write(
        &mut self,
        end: usize,
        log: &StateLog,
        prices: &[(usize, [Option<f64>; 3])],
        exits: &[(usize, i64)],
    ) {
        assert!(end >= self.next, "ColumnWriter: rows already written");
        let n = end - self.next;
        assert!(
            n == 0 || log.segments.first().is_some_and(|s| s.start <= self.next),
            "ColumnWriter: no state for row {}",
            self.next
        );
        let chunk = self.slots.each_mut().map(|slot| slot.split_rows(n));
        let [event_index, timestamp, entry, stop, take, exit_requests, cash, equity, realized, unrealized, qty, avg, open, pending, peak, drawdown] =
            chunk;
        let m = &self.m;
        let row_of = |i: usize| m.order.map_or(i, |o| o[i]);
        let series = (&self.series.timeframe[..], &self.series.price_type[..]);
        let state = &mut self.state;
        let avg_valid = &mut *self.avg_valid;
        let shared = &*self.series;
        let mark = || mark_rows(log, m, series, [equity, unrealized, peak, drawdown], state);
        let rest = || {
            let mut filled = Vec::with_capacity(12);
            // The index columns of a zero-filled arena stay zero: the trace takes
            // them from the stream's shared copy (`EventColumns::index_in_series`).
            match zero_or_slots(true, [event_index, timestamp]) {
                Ok(proofs) => {
                    let rows = shared.len();
                    crate::trace::arrow::index_arrays(shared, || {
                        (0..rows).map(|i| m.columns.timestamp[row_of(i)]).collect()
                    });
                    filled.extend(proofs);
                }
                Err(slots) => filled.extend(fill_rows(slots, |i| {
                    [i as u64, m.columns.timestamp[row_of(i)].cast_unsigned()]
                })),
            }
            // Columns with nothing recorded stay all zero: not even written when the
            // arena is zero-filled already (long streams).
            match zero_or_slots(prices.is_empty(), [entry, stop, take]) {
                Ok(proofs) => filled.extend(proofs),
                Err(slots) => filled.extend(sparse_prices(prices, slots)),
            }
            match zero_or_slots(exits.is_empty(), [exit_requests]) {
                Ok(proofs) => filled.extend(proofs),
                Err([slot]) => filled.extend(sparse_exits(exits, slot)),
            }
            filled.extend(state_rows(
                log,
                [cash, realized, qty, avg, open, pending],
                avg_valid,
            ));
            filled
        };
        let (marks, rest) = if n >= self.parallel_rows {
            crate::parallel::join2(mark, rest)
        } else {
            (mark(), rest())
        };
        for proof in marks.into_iter().chain(rest) {
            let slot = &mut self.proofs[proof.column() as usize];
            *slot = Some(match slot.take() {
                Some(before) => before.then(proof),
                None => proof,
            });
        }
        self.next = end;
    }

    /// The marked state after the last row and the sixteen proofs, once every row is
    /// written; `None` before.
    ///
    /// # Panics
    /// Never for a writer of this table's slots (each column has one proof chain).
    #[must_use]
    pub fn finish(mut self) -> Option<(Marked, [Filled; Wide::COUNT])> {
        if !self.slots[0].is_empty() {
            return None;
        }
        if self.proofs.iter().any(Option::is_none) {
            // a table without rows: no chunk was written
            self.write(self.next, &StateLog::new(), &[], &[]);
        }
        let MarkState {
            running,
            last,
            samples,
            ..
        } = self.state;
        let marked = Marked {
            unrealized_pnl: last.0,
            equity: last.1,
            peak: running,
            drawdown: last.2,
            samples,
        };
        let mut proofs = self.proofs.into_iter().flatten();
        let filled: [Filled; Wide::COUNT] =
            std::array::from_fn(|_| proofs.next().expect("sixteen columns"));
        Some((marked, filled))
    }
}

/// `unrealized_pnl`, `equity`, `peak_equity`, `drawdown`, row by row, and the
/// Sharpe samples; `st` carries the marks, the peak and the samples from the rows
/// before.
fn mark_rows(
    log: &StateLog,
    m: &Marking<'_>,
    (timeframe, price_type): (&[Timeframe], &[PriceType]),
    [equity, unrealized, peak, drawdown]: [ColumnSlot<'_>; 4],
    st: &mut MarkState,
) -> [Filled; 4] {
    let mut segment = log.cursor();
    // (locals, so the hot loop keeps them in registers)
    let (mut mark_long, mut mark_short) = (st.mark_long, st.mark_short);
    let mut running = st.running;
    let mut last = st.last;
    let samples = &mut st.samples;
    let filled = fill_rows([equity, unrealized, peak, drawdown], |i| {
        let (tf, pt) = (timeframe[i], price_type[i]);
        let close = m.columns.close[m.order.map_or(i, |o| o[i])];
        // The marks after event i, updated as the engine loop updates them.
        if tf == m.exec_timeframe {
            if pt == m.sell_price_type {
                mark_long = Some(close);
            }
            if pt == m.buy_price_type {
                mark_short = Some(close);
            }
        }
        let s = segment(i);
        // port: same order (Portfolio::mark: legs in position-id order from 0.0)
        let mut pnl = 0.0;
        for leg in &log.legs[s.legs.clone()] {
            pnl += leg_pnl(
                leg.side,
                leg.entry_price,
                leg.quantity,
                mark_long,
                mark_short,
                m.contract_size,
            );
        }
        let eq = s.cash + pnl; // port: same order
        let dd = running.step(eq);
        if (tf, pt) == m.primary {
            samples.push(eq);
        }
        last = (pnl, eq, dd);
        [
            eq.to_bits(),
            pnl.to_bits(),
            running.peak.to_bits(),
            dd.to_bits(),
        ]
    });
    st.mark_long = mark_long;
    st.mark_short = mark_short;
    st.running = running;
    st.last = last;
    filled
}

/// `cash`, `realized_pnl`, `position_qty`, `avg_price` (and its validity),
/// `open_positions`, `pending_orders`: each segment's values over its rows.
fn state_rows(log: &StateLog, slots: [ColumnSlot<'_>; 6], avg_valid: &mut [bool]) -> [Filled; 6] {
    let mut segment = log.cursor();
    fill_rows(slots, |i| {
        let s = segment(i);
        avg_valid[i] = s.avg_price.is_some();
        [
            s.cash.to_bits(),
            s.realized_pnl.to_bits(),
            s.position_qty.to_bits(),
            s.avg_price.map_or(0, f64::to_bits),
            s.open_positions.cast_unsigned(),
            s.pending_orders.cast_unsigned(),
        ]
    })
}

/// The signal prices: `0` (null) except at the recorded rows.
fn sparse_prices(prices: &[(usize, [Option<f64>; 3])], slots: [ColumnSlot<'_>; 3]) -> [Filled; 3] {
    let mut next = prices.iter().peekable();
    fill_rows(slots, |i| match next.next_if(|(row, _)| *row == i) {
        Some((_, p)) => p.map(|v| v.map_or(0, f64::to_bits)),
        None => [0; 3],
    })
}

/// Proofs for `slots` without writing them when `all_zero` and the arena is
/// zero-filled; otherwise the slots back.
fn zero_or_slots<const K: usize>(
    all_zero: bool,
    slots: [ColumnSlot<'_>; K],
) -> Result<[Filled; K], [ColumnSlot<'_>; K]> {
    if !all_zero || slots.iter().any(|s| !s.is_zeroed()) {
        return Err(slots);
    }
    Ok(slots.map(|s| match s.already_zero() {
        Ok(proof) => proof,
        Err(_) => unreachable!("checked above"),
    }))
}

/// `exit_requests`: `0` except at the recorded rows.
fn sparse_exits(exits: &[(usize, i64)], slot: ColumnSlot<'_>) -> [Filled; 1] {
    let mut next = exits.iter().peekable();
    fill_rows([slot], |i| match next.next_if(|(row, _)| *row == i) {
        Some((_, n)) => [n.cast_unsigned()],
        None => [0],
    })
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::too_many_lines,
    clippy::similar_names
)]
mod tests {
    use super::*;
    use crate::event::types::{PriceType, Side, Timeframe};
    use crate::portfolio::OpenPosition;
    use crate::trace::{SeriesColumns, Wide};

    /// splitmix64: a deterministic stream of test numbers.
    struct Mix(u64);

    impl Mix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// A price with awkward bits: spread over magnitudes, sometimes tied.
        fn price(&mut self) -> f64 {
            let base = [1.0, 1.1, 0.3, 1e-9, 7.5e6, 1234.5678][self.below(6) as usize];
            #[allow(clippy::cast_precision_loss)]
            let jitter = self.below(1000) as f64 / 997.0;
            base * (1.0 + jitter)
        }
    }

    /// Rows in input order: M1 bid/ask and some M5 rows; `order` reverses them when
    /// `permuted` (the columns are then given reversed so events stay the same).
    #[allow(clippy::type_complexity)]
    fn stream(mix: &mut Mix, n: usize) -> (Vec<i64>, Vec<Timeframe>, Vec<PriceType>, Vec<f64>) {
        let mut ts = Vec::new();
        let mut tf = Vec::new();
        let mut pt = Vec::new();
        let mut close = Vec::new();
        for i in 0..n {
            ts.push(i64::try_from(i / 3).expect("small"));
            let kind = mix.below(5);
            tf.push(if kind == 4 {
                Timeframe::M5
            } else {
                Timeframe::M1
            });
            pt.push(if kind.is_multiple_of(2) {
                PriceType::Bid
            } else {
                PriceType::Ask
            });
            close.push(mix.price());
        }
        (ts, tf, pt, close)
    }

    /// Drive a portfolio over `n` events the way the engine does (random opens,
    /// closes and order counts), calling `Portfolio::mark` after every event, and
    /// compare every wide column `write_columns` writes, bit for bit.
    fn check(seed: u64, n: usize, permuted: bool, initial_cash: f64) {
        let mut mix = Mix(seed);
        let (ts, tf, pt, close) = stream(&mut mix, n);
        let order: Vec<usize> = (0..n).rev().collect();
        let (ts_in, tf_in, pt_in, close_in) = if permuted {
            (rev(&ts), rev(&tf), rev(&pt), rev(&close))
        } else {
            (ts.clone(), tf.clone(), pt.clone(), close.clone())
        };
        let zeros = vec![0.0; n];
        let columns = CandleColumns {
            timestamp: &ts_in,
            timeframe: &tf_in,
            price_type: &pt_in,
            open: &zeros,
            high: &zeros,
            low: &zeros,
            close: &close_in,
            volume: &zeros,
        };
        let contract = [1.0, 100_000.0, 0.1][usize::try_from(seed % 3).expect("small")];
        let (buy, sell) = if seed % 4 == 3 {
            (PriceType::Bid, PriceType::Bid)
        } else {
            (PriceType::Ask, PriceType::Bid)
        };
        let mut p = Portfolio::new(initial_cash, contract);
        let mut log = StateLog::new();
        let mut pending = 0_usize;
        let mut want: Vec<[u64; Wide::COUNT]> = Vec::new();
        let mut samples = Vec::new();
        let primary = (Timeframe::M1, PriceType::Bid);
        let mut next_id = 1;
        // The same records, handed over in chunks of random length (some of one row).
        let mut cuts = Mix(seed ^ 0xC0FF_EE00);
        let mut chunk_log = StateLog::new();
        let mut chunks: Vec<(usize, StateLog)> = Vec::new();
        let mut boundary = 1 + usize::try_from(cuts.below(40)).expect("small");
        for i in 0..n {
            if tf[i] == Timeframe::M1 {
                match mix.below(10) {
                    0 | 1 if p.positions.len() < 8 => {
                        p.open(OpenPosition {
                            position_id: next_id,
                            side: if mix.below(2) == 0 {
                                Side::Long
                            } else {
                                Side::Short
                            },
                            quantity: [1.0, 0.5, 3.0]
                                [usize::try_from(mix.below(3)).expect("small")],
                            entry_price: mix.price(),
                            entry_timestamp: ts[i],
                            entry_event: i64::try_from(i).expect("small"),
                            entry_commission: 0.25,
                            stop_loss: None,
                            take_profit: None,
                            exit_pending: false,
                        });
                        next_id += 1;
                    }
                    0..=2 if !p.positions.is_empty() => {
                        let idx =
                            usize::try_from(mix.below(p.positions.len() as u64)).expect("small");
                        p.close(idx, mix.price(), 0.5, 0, ts[i], "exit");
                    }
                    3 => pending = usize::try_from(mix.below(3)).expect("small"),
                    _ => {}
                }
                if pt[i] == sell {
                    p.mark_long = Some(close[i]);
                }
                if pt[i] == buy {
                    p.mark_short = Some(close[i]);
                }
            }
            p.mark();
            log.record(i, &p, pending);
            chunk_log.record(i, &p, pending);
            if i + 1 == boundary || i + 1 == n {
                chunks.push((i + 1, chunk_log.split_chunk(i + 1)));
                boundary = i + 1 + [1, 2, 7, 64][usize::try_from(cuts.below(4)).expect("small")];
            }
            if (tf[i], pt[i]) == primary {
                samples.push(p.equity);
            }
            let mut w = [0_u64; Wide::COUNT];
            w[Wide::EventIndex as usize] = i as u64;
            w[Wide::Timestamp as usize] = ts[i].cast_unsigned();
            w[Wide::Cash as usize] = p.cash.to_bits();
            w[Wide::Equity as usize] = p.equity.to_bits();
            w[Wide::RealizedPnl as usize] = p.realized_pnl.to_bits();
            w[Wide::UnrealizedPnl as usize] = p.unrealized_pnl.to_bits();
            w[Wide::PositionQty as usize] = p.position_qty().to_bits();
            w[Wide::AvgPrice as usize] = p.avg_price().map_or(0, f64::to_bits);
            w[Wide::OpenPositions as usize] = p.positions.len() as u64;
            w[Wide::PendingOrders as usize] = pending as u64;
            w[Wide::PeakEquity as usize] = p.peak_equity.to_bits();
            w[Wide::Drawdown as usize] = p.drawdown.to_bits();
            want.push(w);
        }
        let mut events = EventColumns::new(Vec::new(), n);
        events.series = SeriesColumns::of_events(columns, permuted.then_some(&order[..]));
        let marking = Marking {
            columns,
            order: permuted.then_some(&order[..]),
            exec_timeframe: Timeframe::M1,
            buy_price_type: buy,
            sell_price_type: sell,
            primary,
            initial_cash,
            contract_size: contract,
        };
        let marked = write_columns(&mut events, &log, &marking);
        assert_eq!(events.len(), n);
        // A zero-filled arena leaves the index columns zero: they are the stream's
        // shared copy (`EventColumns::index_in_series`).
        let index: Option<Vec<arrow_array::Int64Array>> = events.index_in_series().then(|| {
            let arrays = events.series.index.get().expect("index columns built");
            arrays
                .iter()
                .map(|a| {
                    a.as_any()
                        .downcast_ref::<arrow_array::Int64Array>()
                        .expect("int64")
                        .clone()
                })
                .collect()
        });
        assert_eq!(
            index.is_some(),
            n >= crate::trace::ZEROED_ARENA_BYTES / (8 * Wide::COUNT)
        );
        for (i, w) in want.iter().enumerate() {
            for col in Wide::ALL {
                let got = match (&index, col) {
                    (Some(a), Wide::EventIndex) => Some(a[0].value(i)),
                    (Some(a), Wide::Timestamp) => Some(a[1].value(i)),
                    _ => events.i64_at(col, i),
                };
                let got = got.map(i64::cast_unsigned);
                assert_eq!(got, Some(w[col as usize]), "seed {seed} row {i} {col:?}");
            }
            if index.is_some() {
                assert_eq!(events.i64_at(Wide::Timestamp, i), Some(0));
            }
            assert_eq!(events.series.timeframe[i], tf[i]);
            assert_eq!(events.series.price_type[i], pt[i]);
            let avg_null = events.f64_at(Wide::AvgPrice, i).is_none();
            assert_eq!(avg_null, p_avg_none(w), "seed {seed} row {i}");
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&marked.samples), bits(&samples));
        assert_eq!(marked.equity.to_bits(), p.equity.to_bits());
        assert_eq!(marked.unrealized_pnl.to_bits(), p.unrealized_pnl.to_bits());
        assert_eq!(marked.drawdown.to_bits(), p.drawdown.to_bits());
        assert_eq!(marked.peak.peak.to_bits(), p.peak_equity.to_bits());
        assert_eq!(marked.peak.max_drawdown.to_bits(), p.max_drawdown.to_bits());
        // Chunk by chunk (as the engine's writer thread does): the same bits.
        let mut chunked = EventColumns::new(Vec::new(), n);
        chunked.series = Arc::clone(&events.series);
        let (slots, _calls) = chunked.split();
        let mut writer = ColumnWriter::new(slots, Arc::clone(&events.series), marking, 32);
        for (end, chunk) in &chunks {
            writer.write(*end, chunk, &[], &[]);
            assert_eq!(writer.next_row(), *end);
        }
        let (marked_chunked, filled) = writer.finish().expect("every row written");
        chunked.commit(filled);
        assert_eq!(marked_chunked, marked, "seed {seed}");
        for i in 0..n {
            for col in Wide::ALL {
                assert_eq!(
                    chunked.i64_at(col, i),
                    events.i64_at(col, i),
                    "seed {seed} row {i} {col:?} chunked"
                );
            }
        }
        // The trace's index columns, wherever they live.
        let batch = crate::trace::arrow::events_batch(events).expect("batch");
        for (k, name) in ["event_index", "timestamp"].into_iter().enumerate() {
            let col = batch.column_by_name(name).expect("column");
            let col = col
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .expect("int64");
            assert_eq!(col.len(), n);
            let wide = [Wide::EventIndex, Wide::Timestamp][k] as usize;
            for (i, w) in want.iter().enumerate() {
                assert_eq!(
                    col.value(i).cast_unsigned(),
                    w[wide],
                    "seed {seed} {name} {i}"
                );
            }
        }
    }

    fn rev<T: Copy>(v: &[T]) -> Vec<T> {
        v.iter().rev().copied().collect()
    }

    /// Whether the reference row had no open position (a null `avg_price`).
    fn p_avg_none(w: &[u64; Wide::COUNT]) -> bool {
        w[Wide::OpenPositions as usize] == 0
    }

    #[test]
    fn columns_equal_marking_after_every_event() {
        for seed in 0..24 {
            check(seed, 300, seed % 2 == 1, 10_000.0);
        }
    }

    #[test]
    fn long_streams_are_written_on_two_threads_with_the_same_bits() {
        check(99, PARALLEL_ROWS + 777, false, 10_000.0);
        check(100, PARALLEL_ROWS + 5, true, 0.0);
    }

    #[test]
    fn zero_filled_arenas_leave_empty_columns_unwritten_with_the_same_bits() {
        let rows = crate::trace::ZEROED_ARENA_BYTES / (8 * Wide::COUNT) + 11;
        check(5, rows, false, 10_000.0);
    }

    #[test]
    fn a_non_positive_peak_has_no_drawdown() {
        check(7, 200, false, 0.0);
        check(8, 200, true, -5.0);
    }

    #[test]
    fn segments_start_at_changes_only() {
        let mut p = Portfolio::new(100.0, 1.0);
        let mut log = StateLog::new();
        log.record(0, &p, 0);
        log.record(1, &p, 0);
        log.record(2, &p, 1);
        p.mark_long = Some(3.0); // marks are not state
        p.positions.clear(); // (no change through open/close)
        log.record(3, &p, 1);
        assert_eq!(
            log.segments.iter().map(|s| s.start).collect::<Vec<_>>(),
            [0, 2]
        );
        let mut events = EventColumns::new(Vec::new(), 0);
        let empty = StateLog::new();
        let zeros: [f64; 0] = [];
        let marking = Marking {
            columns: CandleColumns {
                timestamp: &[],
                timeframe: &[],
                price_type: &[],
                open: &zeros,
                high: &zeros,
                low: &zeros,
                close: &zeros,
                volume: &zeros,
            },
            order: None,
            exec_timeframe: Timeframe::M1,
            buy_price_type: PriceType::Ask,
            sell_price_type: PriceType::Bid,
            primary: (Timeframe::M1, PriceType::Bid),
            initial_cash: 100.0,
            contract_size: 1.0,
        };
        let marked = write_columns(&mut events, &empty, &marking);
        assert_eq!((events.len(), marked.equity), (0, 100.0));
    }
}
