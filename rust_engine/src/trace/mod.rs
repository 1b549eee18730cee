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
    pub fn nulls(rows: usize) -> Self {
        let mut c = Self::with_capacity(rows);
        c.values.resize(rows, 0.0);
        c.valid.resize(rows, false);
        c
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

    /// Append one row.
    ///
    /// # Panics
    /// With more than 255 distinct values (the engine writes fewer than 16).
    pub fn push(&mut self, value: Option<&'static str>) {
        let code = match value {
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
        };
        self.codes.push(code);
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
    /// Empty columns for `indicator_names`, with room for `capacity` events. The
    /// indicator columns start empty: the engine computes them for all events at once
    /// and sets [`Self::indicators`] (one column per name, one row per event).
    #[must_use]
    pub fn new(indicator_names: Vec<String>, capacity: usize) -> Self {
        Self {
            indicator_names,
            event_index: pages::with_capacity(capacity),
            timestamp: pages::with_capacity(capacity),
            timeframe: pages::with_capacity(capacity),
            price_type: pages::with_capacity(capacity),
            indicators: Vec::new(),
            signal_type: StrColumn::with_capacity(capacity),
            signal_entry_price: OptF64Column::with_capacity(capacity),
            signal_stop_loss: OptF64Column::with_capacity(capacity),
            signal_take_profit: OptF64Column::with_capacity(capacity),
            signal_metadata: MetadataColumn::with_capacity(capacity),
            signal_status: StrColumn::with_capacity(capacity),
            exit_requests: pages::with_capacity(capacity),
            cash: pages::with_capacity(capacity),
            equity: pages::with_capacity(capacity),
            realized_pnl: pages::with_capacity(capacity),
            unrealized_pnl: pages::with_capacity(capacity),
            position_qty: pages::with_capacity(capacity),
            avg_price: OptF64Column::with_capacity(capacity),
            open_positions: pages::with_capacity(capacity),
            pending_orders: pages::with_capacity(capacity),
            peak_equity: pages::with_capacity(capacity),
            drawdown: pages::with_capacity(capacity),
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.event_index.len()
    }

    /// True without rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.event_index.is_empty()
    }

    /// Record one event row (state after the event), all but the indicator columns.
    pub fn push(
        &mut self,
        index: i64,
        candle: &Candle,
        outcome: EventOutcome,
        portfolio: &Portfolio,
        pending_orders: usize,
    ) {
        self.event_index.push(index);
        self.timestamp.push(candle.timestamp);
        self.timeframe.push(candle.timeframe);
        self.price_type.push(candle.price_type);
        if outcome.called {
            match outcome.signal {
                None => {
                    self.signal_type.push(Some("NONE"));
                    self.signal_entry_price.push(None);
                    self.signal_stop_loss.push(None);
                    self.signal_take_profit.push(None);
                    self.signal_metadata.push(None);
                }
                Some(s) => {
                    self.signal_type.push(Some(s.signal_type.as_str()));
                    self.signal_entry_price.push(s.entry_price);
                    self.signal_stop_loss.push(s.stop_loss);
                    self.signal_take_profit.push(s.take_profit);
                    self.signal_metadata.push(Some(s.metadata));
                }
            }
        } else {
            self.signal_type.push(None);
            self.signal_entry_price.push(None);
            self.signal_stop_loss.push(None);
            self.signal_take_profit.push(None);
            self.signal_metadata.push(None);
        }
        self.signal_status.push(outcome.status);
        self.exit_requests.push(outcome.exit_requests);
        self.cash.push(portfolio.cash);
        self.equity.push(portfolio.equity);
        self.realized_pnl.push(portfolio.realized_pnl);
        self.unrealized_pnl.push(portfolio.unrealized_pnl);
        self.position_qty.push(portfolio.position_qty());
        self.avg_price.push(portfolio.avg_price());
        self.open_positions
            .push(i64::try_from(portfolio.positions.len()).unwrap_or(i64::MAX));
        self.pending_orders
            .push(i64::try_from(pending_orders).unwrap_or(i64::MAX));
        self.peak_equity.push(portfolio.peak_equity);
        self.drawdown.push(portfolio.drawdown);
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
