//! Portfolio: cash, positions, PnL, equity, drawdown, trade log.
//!
//! A line-by-line port of `legacy_py/portfolio.py`. Lines marked
//! `port: same order` evaluate exactly the same operations in the same order as
//! the Python line with the same mark.

use crate::event::types::Side;

/// An open position (engine side).
#[derive(Clone, Debug, PartialEq)]
pub struct OpenPosition {
    /// Position id (= the entry order id).
    pub position_id: i64,
    /// Long or short.
    pub side: Side,
    /// Quantity (> 0).
    pub quantity: f64,
    /// Fill price of the entry.
    pub entry_price: f64,
    /// Timestamp of the entry fill.
    pub entry_timestamp: i64,
    /// Event index of the entry fill.
    pub entry_event: i64,
    /// Commission paid at entry.
    pub entry_commission: f64,
    /// Stop-loss price.
    pub stop_loss: Option<f64>,
    /// Take-profit price.
    pub take_profit: Option<f64>,
    /// An exit or close order is pending.
    pub exit_pending: bool,
}

/// One row of the trade log.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedTrade {
    /// Trade id (= position id).
    pub trade_id: i64,
    /// Long or short.
    pub side: Side,
    /// Quantity.
    pub quantity: f64,
    /// Entry event index.
    pub entry_event: i64,
    /// Entry timestamp.
    pub entry_timestamp: i64,
    /// Entry price.
    pub entry_price: f64,
    /// Exit event index.
    pub exit_event: i64,
    /// Exit timestamp.
    pub exit_timestamp: i64,
    /// Exit price.
    pub exit_price: f64,
    /// `sl`, `tp`, `exit` or `close`.
    pub exit_reason: &'static str,
    /// Gross PnL.
    pub gross_pnl: f64,
    /// Entry plus exit commission.
    pub commission: f64,
    /// Gross minus both commissions.
    pub net_pnl: f64,
}

/// Gross PnL of `qty` closed at `exit_price`.
#[must_use]
pub fn gross_pnl(side: Side, entry: f64, exit_price: f64, qty: f64, contract: f64) -> f64 {
    match side {
        Side::Long => (exit_price - entry) * qty * contract, // port: same order
        Side::Short => (entry - exit_price) * qty * contract, // port: same order
    }
}

/// The unrealized PnL of one open leg: marked at `mark_long` (longs) or
/// `mark_short` (shorts), at its entry price while that mark is unknown.
#[must_use]
#[inline]
pub fn leg_pnl(
    side: Side,
    entry: f64,
    quantity: f64,
    mark_long: Option<f64>,
    mark_short: Option<f64>,
    contract: f64,
) -> f64 {
    let mark = match side {
        Side::Long => mark_long,
        Side::Short => mark_short,
    };
    let price = mark.unwrap_or(entry);
    gross_pnl(side, entry, price, quantity, contract)
}

/// The running peak of equity and the largest drawdown from it (the second half of
/// [`Portfolio::mark`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Peak {
    /// Highest equity so far (starts at the initial cash).
    pub peak: f64,
    /// Largest drawdown so far (starts at `0.0`).
    pub max_drawdown: f64,
}

impl Peak {
    /// Take `equity` into account; returns the drawdown after it.
    #[inline]
    pub fn step(&mut self, equity: f64) -> f64 {
        if equity > self.peak {
            self.peak = equity;
        }
        let drawdown = if self.peak > 0.0 {
            (self.peak - equity) / self.peak // port: same order
        } else {
            0.0
        };
        if drawdown > self.max_drawdown {
            self.max_drawdown = drawdown;
        }
        drawdown
    }
}

/// Cash and positions of one run.
#[derive(Clone, Debug)]
pub struct Portfolio {
    /// Starting cash.
    pub initial_cash: f64,
    /// Instrument contract size.
    pub contract_size: f64,
    /// Cash.
    pub cash: f64,
    /// Realized PnL net of commissions.
    pub realized_pnl: f64,
    /// Unrealized PnL at the marks.
    pub unrealized_pnl: f64,
    /// Cash plus unrealized PnL.
    pub equity: f64,
    /// Highest equity so far.
    pub peak_equity: f64,
    /// Current drawdown from the peak.
    pub drawdown: f64,
    /// Largest drawdown so far.
    pub max_drawdown: f64,
    /// Open positions in ascending id order.
    pub positions: Vec<OpenPosition>,
    /// Closed trades in closing order.
    pub trades: Vec<ClosedTrade>,
    /// Last sell-side close of the execution timeframe (marks longs).
    pub mark_long: Option<f64>,
    /// Last buy-side close of the execution timeframe (marks shorts).
    pub mark_short: Option<f64>,
    /// Bumped by every [`Portfolio::open`] and [`Portfolio::close`], the only
    /// methods that change cash, realized PnL or the positions' legs (side,
    /// quantity, entry price).
    generation: u64,
}

impl Portfolio {
    /// A flat portfolio.
    #[must_use]
    pub fn new(initial_cash: f64, contract_size: f64) -> Self {
        Self {
            initial_cash,
            contract_size,
            cash: initial_cash,
            realized_pnl: 0.0,
            unrealized_pnl: 0.0,
            equity: initial_cash,
            peak_equity: initial_cash,
            drawdown: 0.0,
            max_drawdown: 0.0,
            positions: Vec::new(),
            trades: Vec::new(),
            mark_long: None,
            mark_short: None,
            generation: 0,
        }
    }

    /// Changes whenever cash, realized PnL or an open leg changes (see
    /// [`crate::event::ledger`]); the `exit_pending` flags do not count.
    #[must_use]
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Book an entry fill.
    pub fn open(&mut self, position: OpenPosition) {
        self.generation += 1;
        self.cash -= position.entry_commission; // port: same order
        self.positions.push(position);
    }

    /// Index of an open position by id.
    #[must_use]
    pub fn find(&self, position_id: i64) -> Option<usize> {
        self.positions
            .iter()
            .position(|p| p.position_id == position_id)
    }

    /// Book an exit fill of the whole position at index `idx` and log the trade.
    pub fn close(
        &mut self,
        idx: usize,
        exit_price: f64,
        commission: f64,
        event_index: i64,
        timestamp: i64,
        reason: &'static str,
    ) {
        self.generation += 1;
        let pos = self.positions.remove(idx);
        let gross = gross_pnl(
            pos.side,
            pos.entry_price,
            exit_price,
            pos.quantity,
            self.contract_size,
        );
        self.cash = self.cash + gross - commission; // port: same order
        let total_commission = pos.entry_commission + commission; // port: same order
        let net = gross - pos.entry_commission - commission; // port: same order
        self.realized_pnl += net; // port: same order
        self.trades.push(ClosedTrade {
            trade_id: pos.position_id,
            side: pos.side,
            quantity: pos.quantity,
            entry_event: pos.entry_event,
            entry_timestamp: pos.entry_timestamp,
            entry_price: pos.entry_price,
            exit_event: event_index,
            exit_timestamp: timestamp,
            exit_price,
            exit_reason: reason,
            gross_pnl: gross,
            commission: total_commission,
            net_pnl: net,
        });
    }

    /// Unrealized PnL of the open positions at the current marks, folded in id
    /// order (the first half of [`Portfolio::mark`]).
    #[must_use]
    #[inline]
    pub fn unrealized_at_marks(&self) -> f64 {
        let mut unrealized = 0.0;
        for pos in &self.positions {
            // port: same order
            unrealized += leg_pnl(
                pos.side,
                pos.entry_price,
                pos.quantity,
                self.mark_long,
                self.mark_short,
                self.contract_size,
            );
        }
        unrealized
    }

    /// What [`Portfolio::mark`] would set `equity` to now: cash plus
    /// [`Portfolio::unrealized_at_marks`].
    #[must_use]
    pub fn equity_at_marks(&self) -> f64 {
        self.cash + self.unrealized_at_marks() // port: same order
    }

    /// Mark to market: unrealized PnL, equity, peak and drawdown.
    ///
    /// The engine loop does not call this per event; it records the state changes
    /// and [`crate::event::ledger`] computes the same values for every event in
    /// columns (with [`leg_pnl`] and [`Peak`], the same operations in the same order).
    pub fn mark(&mut self) {
        let unrealized = self.unrealized_at_marks();
        self.unrealized_pnl = unrealized;
        self.equity = self.cash + unrealized; // port: same order
        let mut peak = Peak {
            peak: self.peak_equity,
            max_drawdown: self.max_drawdown,
        };
        self.drawdown = peak.step(self.equity);
        self.peak_equity = peak.peak;
        self.max_drawdown = peak.max_drawdown;
    }

    /// Signed net quantity (long +, short −), folded in id order.
    #[must_use]
    pub fn position_qty(&self) -> f64 {
        let mut total = 0.0;
        for pos in &self.positions {
            match pos.side {
                Side::Long => total += pos.quantity,
                Side::Short => total -= pos.quantity,
            }
        }
        total
    }

    /// Quantity-weighted mean entry price; `None` when flat.
    #[must_use]
    pub fn avg_price(&self) -> Option<f64> {
        if self.positions.is_empty() {
            return None;
        }
        let mut notional = 0.0;
        let mut qty = 0.0;
        for pos in &self.positions {
            notional += pos.entry_price * pos.quantity; // port: same order
            qty += pos.quantity;
        }
        Some(notional / qty)
    }
}

/// Annualised Sharpe ratio; see `legacy_py.portfolio.sharpe_ratio`.
#[must_use]
#[allow(clippy::cast_precision_loss)] // counts and bar seconds are far below 2^53
pub fn sharpe_ratio(equity_samples: &[f64], bar_seconds: i64) -> Option<f64> {
    let mut returns = Vec::with_capacity(equity_samples.len().saturating_sub(1));
    for k in 1..equity_samples.len() {
        let prev = equity_samples[k - 1];
        if prev <= 0.0 {
            return None;
        }
        returns.push(equity_samples[k] / prev - 1.0); // port: same order
    }
    let n = returns.len();
    if n < 2 {
        return None;
    }
    let mut acc = 0.0;
    for r in &returns {
        acc += *r;
    }
    let mean = acc / n as f64;
    let mut var_acc = 0.0;
    for r in &returns {
        let d = *r - mean;
        var_acc += d * d; // port: same order
    }
    let std = (var_acc / (n - 1) as f64).sqrt();
    if std == 0.0 {
        return None;
    }
    Some(mean / std * (31_536_000.0 / bar_seconds as f64).sqrt()) // port: same order
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bit-exact comparisons are the point of these tests
mod tests {
    use super::*;

    fn long(id: i64, qty: f64, price: f64) -> OpenPosition {
        OpenPosition {
            position_id: id,
            side: Side::Long,
            quantity: qty,
            entry_price: price,
            entry_timestamp: 0,
            entry_event: 0,
            entry_commission: 0.5,
            stop_loss: None,
            take_profit: None,
            exit_pending: false,
        }
    }

    #[test]
    fn open_mark_close() {
        let mut p = Portfolio::new(1000.0, 2.0);
        p.open(long(1, 3.0, 10.0));
        assert_eq!(p.cash, 999.5);
        p.mark_long = Some(11.0);
        p.mark();
        assert_eq!(p.unrealized_pnl, 6.0);
        assert_eq!(p.equity, 1005.5);
        assert_eq!(p.peak_equity, 1005.5);
        p.mark_long = Some(9.0);
        p.mark();
        assert_eq!(p.equity, 999.5 - 6.0);
        assert_eq!(p.drawdown, (1005.5 - 993.5) / 1005.5);
        assert_eq!(p.avg_price(), Some(10.0));
        assert_eq!(p.position_qty(), 3.0);
        p.close(0, 12.0, 0.25, 5, 50, "tp");
        assert_eq!(p.trades[0].gross_pnl, 12.0);
        assert_eq!(p.trades[0].net_pnl, 12.0 - 0.5 - 0.25);
        assert_eq!(p.cash, 999.5 + 12.0 - 0.25);
        assert_eq!(p.avg_price(), None);
    }

    #[test]
    fn short_gross_and_unmarked_position() {
        assert_eq!(gross_pnl(Side::Short, 10.0, 8.0, 2.0, 1.0), 4.0);
        let mut p = Portfolio::new(100.0, 1.0);
        let mut s = long(1, 1.0, 5.0);
        s.side = Side::Short;
        p.open(s);
        p.mark();
        assert_eq!(p.unrealized_pnl, 0.0);
        assert_eq!(p.position_qty(), -1.0);
    }

    #[test]
    fn sharpe_edge_cases() {
        assert_eq!(sharpe_ratio(&[1.0, 2.0], 60), None);
        assert_eq!(sharpe_ratio(&[1.0, 1.0, 1.0], 60), None);
        assert_eq!(sharpe_ratio(&[1.0, 0.0, 1.0], 60), None);
        let s = sharpe_ratio(&[100.0, 110.0, 99.0, 120.0], 86_400).unwrap();
        assert!(s.is_finite());
    }
}
