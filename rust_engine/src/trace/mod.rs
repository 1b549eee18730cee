//! The trace: columnar records of every event, fill and trade, plus the summary.
//!
//! Mirrors `legacy_py/trace.py` (`docs/trace_schema.md`); [`arrow`] turns it into
//! Arrow record batches with the same schema.

pub mod arrow;

use crate::event::types::{Candle, PriceType, StrategySignal, Timeframe};
use crate::execution::Fill;
use crate::portfolio::{ClosedTrade, Portfolio};

/// The events table, column by column.
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
    pub indicators: Vec<Vec<Option<f64>>>,
    /// Signal type (`None` when `on_candle` was not called).
    pub signal_type: Vec<Option<&'static str>>,
    /// Signal entry price.
    pub signal_entry_price: Vec<Option<f64>>,
    /// Signal stop-loss.
    pub signal_stop_loss: Vec<Option<f64>>,
    /// Signal take-profit.
    pub signal_take_profit: Vec<Option<f64>>,
    /// Signal metadata in insertion order.
    pub signal_metadata: Vec<Option<Vec<(String, String)>>>,
    /// Signal status.
    pub signal_status: Vec<Option<&'static str>>,
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
    pub avg_price: Vec<Option<f64>>,
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
    /// Empty columns for `indicator_names`, with room for `capacity` events.
    #[must_use]
    pub fn new(indicator_names: Vec<String>, capacity: usize) -> Self {
        let n = indicator_names.len();
        Self {
            indicator_names,
            event_index: Vec::with_capacity(capacity),
            timestamp: Vec::with_capacity(capacity),
            timeframe: Vec::with_capacity(capacity),
            price_type: Vec::with_capacity(capacity),
            indicators: (0..n).map(|_| Vec::with_capacity(capacity)).collect(),
            signal_type: Vec::with_capacity(capacity),
            signal_entry_price: Vec::with_capacity(capacity),
            signal_stop_loss: Vec::with_capacity(capacity),
            signal_take_profit: Vec::with_capacity(capacity),
            signal_metadata: Vec::with_capacity(capacity),
            signal_status: Vec::with_capacity(capacity),
            exit_requests: Vec::with_capacity(capacity),
            cash: Vec::with_capacity(capacity),
            equity: Vec::with_capacity(capacity),
            realized_pnl: Vec::with_capacity(capacity),
            unrealized_pnl: Vec::with_capacity(capacity),
            position_qty: Vec::with_capacity(capacity),
            avg_price: Vec::with_capacity(capacity),
            open_positions: Vec::with_capacity(capacity),
            pending_orders: Vec::with_capacity(capacity),
            peak_equity: Vec::with_capacity(capacity),
            drawdown: Vec::with_capacity(capacity),
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

    /// Record one event row (state after the event).
    pub fn push(
        &mut self,
        index: i64,
        candle: &Candle,
        indicators: &[Option<f64>],
        outcome: EventOutcome,
        portfolio: &Portfolio,
        pending_orders: usize,
    ) {
        self.event_index.push(index);
        self.timestamp.push(candle.timestamp);
        self.timeframe.push(candle.timeframe);
        self.price_type.push(candle.price_type);
        for (col, v) in self.indicators.iter_mut().zip(indicators) {
            col.push(*v);
        }
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
