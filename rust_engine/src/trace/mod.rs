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
    /// An empty column with room for `capacity` rows.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            values: pages::with_capacity(capacity),
            valid: pages::with_capacity(capacity),
        }
    }

    /// `rows` null rows.
    #[must_use]
    pub fn zeroed(rows: usize) -> Self {
        Self {
            values: pages::zeroed(rows),
            valid: pages::zeroed(rows),
        }
    }

    /// Set row `row` (a null leaves the row as it is).
    pub fn set(&mut self, row: usize, value: Option<f64>) {
        if let Some(v) = value {
            self.values[row] = v;
            self.valid[row] = true;
        }
    }

    /// Append one row.
    pub fn push(&mut self, value: Option<f64>) {
        self.values.push(value.unwrap_or(0.0));
        self.valid.push(value.is_some());
    }

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
    /// An empty column with room for `capacity` rows.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            dictionary: Vec::new(),
            codes: pages::with_capacity(capacity),
        }
    }

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
        self.codes[row] = self.code(Some(value));
    }

    /// Append one row.
    ///
    /// # Panics
    /// With more than 255 distinct values (the engine writes fewer than 16).
    pub fn push(&mut self, value: Option<&'static str>) {
        let code = self.code(value);
        self.codes.push(code);
    }

    fn code(&mut self, value: Option<&'static str>) -> u8 {
        match value {
            None => 0,
            Some(v) => {
                // Values are string constants: compare addresses first, text second.
                let same = |d: &&str| std::ptr::eq(*d, v) || *d == v;
                let pos = if let Some(pos) = self.dictionary.iter().position(same) {
                    pos
                } else {
                    self.dictionary.push(v);
                    self.dictionary.len() - 1
                };
                u8::try_from(pos + 1).expect("StrColumn: more than 255 distinct values")
            }
        }
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
    /// An empty column with room for `capacity` rows.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            valid: pages::with_capacity(capacity),
            entries: Vec::new(),
        }
    }

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

    /// Append one row.
    pub fn push(&mut self, value: Option<Vec<(String, String)>>) {
        let row = self.valid.len();
        self.valid.push(value.is_some());
        if let Some(pairs) = value {
            if !pairs.is_empty() {
                self.entries.push((row, pairs));
            }
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

/// The events table, column by column.
///
/// Columns are kept compact (no `Option<f64>`, no per-row strings) and move into
/// Arrow buffers without a copy ([`arrow::trace_batches`] consumes them), so a
/// run never holds the trace twice.
///
/// [`EventColumns::new`] allocates every column at its full length, zero-filled (a
/// zero value, a null, code 0), and [`EventColumns::push`] writes only a row's
/// non-default cells: a row without a signal writes no signal cells at all, and
/// nothing is pushed, so there is no capacity check or length update per cell.
/// [`EventColumns::finish`] cuts the columns to the rows written.
#[derive(Clone, Debug, Default)]
pub struct EventColumns {
    /// Declared indicator output names (without the `ind_` prefix).
    pub indicator_names: Vec<String>,
    /// Event index.
    pub event_index: Vec<i64>,
    /// Timestamp.
    pub timestamp: Vec<i64>,
    /// Timeframe.
    pub timeframe: Vec<Timeframe>,
    /// Price type.
    pub price_type: Vec<PriceType>,
    /// One column per indicator output.
    pub indicators: Vec<OptF64Column>,
    /// Signal type (null when `on_candle` was not called).
    pub signal_type: StrColumn,
    /// Signal entry price.
    pub signal_entry_price: OptF64Column,
    /// Signal stop-loss.
    pub signal_stop_loss: OptF64Column,
    /// Signal take-profit.
    pub signal_take_profit: OptF64Column,
    /// Signal metadata in insertion order.
    pub signal_metadata: MetadataColumn,
    /// Signal status.
    pub signal_status: StrColumn,
    /// `check_exit` calls that returned true.
    pub exit_requests: Vec<i64>,
    /// Cash.
    pub cash: Vec<f64>,
    /// Equity.
    pub equity: Vec<f64>,
    /// Realized PnL.
    pub realized_pnl: Vec<f64>,
    /// Unrealized PnL.
    pub unrealized_pnl: Vec<f64>,
    /// Signed quantity.
    pub position_qty: Vec<f64>,
    /// Average entry price.
    pub avg_price: OptF64Column,
    /// Open positions.
    pub open_positions: Vec<i64>,
    /// Pending orders.
    pub pending_orders: Vec<i64>,
    /// Peak equity.
    pub peak_equity: Vec<f64>,
    /// Drawdown.
    pub drawdown: Vec<f64>,
    /// Rows written so far.
    rows: usize,
}

/// What happened to the strategy at one event.
#[derive(Clone, Debug, Default)]
pub struct EventOutcome {
    /// `on_candle` was called.
    pub called: bool,
    /// Its validated result.
    pub signal: Option<StrategySignal>,
    /// The order status.
    pub status: Option<&'static str>,
    /// `check_exit` true count.
    pub exit_requests: i64,
}

impl EventColumns {
    /// Zero-filled columns for `rows` events (see the type's docs). The indicator
    /// columns start empty: the engine computes them for all events at once and sets
    /// [`Self::indicators`] (one column per name, one row per event).
    #[must_use]
    pub fn new(indicator_names: Vec<String>, rows: usize) -> Self {
        Self {
            indicator_names,
            event_index: pages::zeroed(rows),
            timestamp: pages::zeroed(rows),
            timeframe: vec![Timeframe::M1; rows],
            price_type: vec![PriceType::Bid; rows],
            indicators: Vec::new(),
            signal_type: StrColumn::zeroed(rows),
            signal_entry_price: OptF64Column::zeroed(rows),
            signal_stop_loss: OptF64Column::zeroed(rows),
            signal_take_profit: OptF64Column::zeroed(rows),
            signal_metadata: MetadataColumn::zeroed(rows),
            signal_status: StrColumn::zeroed(rows),
            exit_requests: pages::zeroed(rows),
            cash: pages::zeroed(rows),
            equity: pages::zeroed(rows),
            realized_pnl: pages::zeroed(rows),
            unrealized_pnl: pages::zeroed(rows),
            position_qty: pages::zeroed(rows),
            avg_price: OptF64Column::zeroed(rows),
            open_positions: pages::zeroed(rows),
            pending_orders: pages::zeroed(rows),
            peak_equity: pages::zeroed(rows),
            drawdown: pages::zeroed(rows),
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

    /// Record the next event row (state after the event), all but the indicator
    /// columns.
    ///
    /// # Panics
    /// When all the rows given to [`Self::new`] are written.
    pub fn push(
        &mut self,
        index: i64,
        candle: &Candle,
        outcome: EventOutcome,
        portfolio: &Portfolio,
        pending_orders: usize,
    ) {
        let row = self.rows;
        assert!(
            row < self.event_index.len(),
            "EventColumns: all rows written"
        );
        self.rows += 1;
        self.event_index[row] = index;
        self.timestamp[row] = candle.timestamp;
        self.timeframe[row] = candle.timeframe;
        self.price_type[row] = candle.price_type;
        if outcome.called {
            match outcome.signal {
                None => self.signal_type.set(row, "NONE"),
                Some(s) => {
                    self.signal_type.set(row, s.signal_type.as_str());
                    self.signal_entry_price.set(row, s.entry_price);
                    self.signal_stop_loss.set(row, s.stop_loss);
                    self.signal_take_profit.set(row, s.take_profit);
                    self.signal_metadata.set(row, s.metadata);
                }
            }
        }
        if let Some(status) = outcome.status {
            self.signal_status.set(row, status);
        }
        self.exit_requests[row] = outcome.exit_requests;
        self.cash[row] = portfolio.cash;
        self.equity[row] = portfolio.equity;
        self.realized_pnl[row] = portfolio.realized_pnl;
        self.unrealized_pnl[row] = portfolio.unrealized_pnl;
        self.position_qty[row] = portfolio.position_qty();
        self.avg_price.set(row, portfolio.avg_price());
        self.open_positions[row] = i64::try_from(portfolio.positions.len()).unwrap_or(i64::MAX);
        self.pending_orders[row] = i64::try_from(pending_orders).unwrap_or(i64::MAX);
        self.peak_equity[row] = portfolio.peak_equity;
        self.drawdown[row] = portfolio.drawdown;
    }

    /// Cut every event column (indicators excepted) to the rows written; idempotent.
    pub fn finish(&mut self) {
        let n = self.rows;
        self.event_index.truncate(n);
        self.timestamp.truncate(n);
        self.timeframe.truncate(n);
        self.price_type.truncate(n);
        self.signal_type.codes.truncate(n);
        for c in [
            &mut self.signal_entry_price,
            &mut self.signal_stop_loss,
            &mut self.signal_take_profit,
            &mut self.avg_price,
        ] {
            c.values.truncate(n);
            c.valid.truncate(n);
        }
        self.signal_metadata.valid.truncate(n);
        self.signal_metadata.entries.retain(|(row, _)| *row < n);
        self.signal_status.codes.truncate(n);
        for c in [
            &mut self.exit_requests,
            &mut self.open_positions,
            &mut self.pending_orders,
        ] {
            c.truncate(n);
        }
        for c in [
            &mut self.cash,
            &mut self.equity,
            &mut self.realized_pnl,
            &mut self.unrealized_pnl,
            &mut self.position_qty,
            &mut self.peak_equity,
            &mut self.drawdown,
        ] {
            c.truncate(n);
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
