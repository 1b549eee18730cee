//! `ExecutionSimulator`: pending orders, next-bar fills, intrabar SL/TP, slippage.
//!
//! A port of `legacy_py/execution.py`; the rules are in `docs/engine_semantics.md`.

use crate::config::EngineConfig;
use crate::event::types::{Candle, PriceType, Side};
use crate::portfolio::{OpenPosition, Portfolio};
use crate::rng::uniform;

/// Order kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    /// Fill at the next bar's open.
    Market,
    /// Fill at the limit price or better.
    Limit,
}

/// Why an order exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Opens a position.
    Entry,
    /// Closes a position after `check_exit`.
    Exit,
    /// Closes a position after a CLOSE signal or a reversal.
    Close,
}

impl Purpose {
    /// Trace spelling of the fill reason.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Entry => "entry",
            Purpose::Exit => "exit",
            Purpose::Close => "close",
        }
    }
}

/// A pending order.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    /// Sequential id from 1.
    pub order_id: i64,
    /// Market or limit.
    pub kind: OrderKind,
    /// `Long` = buy, `Short` = sell.
    pub side: Side,
    /// Entry, exit or close.
    pub purpose: Purpose,
    /// Quantity.
    pub quantity: f64,
    /// Event index at creation.
    pub created_event: i64,
    /// Timestamp at creation.
    pub created_timestamp: i64,
    /// The position an exit/close order closes.
    pub position_id: Option<i64>,
    /// Limit price of a limit entry.
    pub limit_price: Option<f64>,
    /// Stop-loss attached to an entry.
    pub stop_loss: Option<f64>,
    /// Take-profit attached to an entry.
    pub take_profit: Option<f64>,
    /// Remaining bars of a limit entry.
    pub ttl: i64,
}

/// One row of the fills table.
#[derive(Clone, Debug, PartialEq)]
pub struct Fill {
    /// Event index.
    pub event_index: i64,
    /// Event timestamp.
    pub timestamp: i64,
    /// Order id (0 for SL/TP).
    pub order_id: i64,
    /// Position id.
    pub position_id: i64,
    /// `buy` / `sell`.
    pub side: &'static str,
    /// `entry`, `sl`, `tp`, `exit`, `close`.
    pub reason: &'static str,
    /// Quantity.
    pub quantity: f64,
    /// Fill price.
    pub fill_price: f64,
    /// Slippage applied.
    pub slippage: f64,
    /// Commission charged.
    pub commission: f64,
}

/// Commission of one fill.
#[must_use]
pub fn commission_for(qty: f64, price: f64, contract: f64, rate: f64) -> f64 {
    qty * price * contract * rate // port: same order
}

/// Risk-based size floored to a multiple of `lot`.
#[must_use]
pub fn risk_quantity(
    equity: f64,
    risk_pct: f64,
    reference: f64,
    stop: f64,
    contract: f64,
    lot: f64,
) -> f64 {
    let distance = (reference - stop).abs();
    let raw = equity * risk_pct / (distance * contract); // port: same order
    (raw / lot).floor() * lot // port: same order (floor, never round)
}

/// The order book of one run.
#[derive(Clone, Debug)]
pub struct ExecutionSimulator {
    /// Settings.
    pub config: EngineConfig,
    /// RNG seed (two's complement bits).
    pub seed: u64,
    /// Buy side price type.
    pub buy_price_type: PriceType,
    /// Sell side price type.
    pub sell_price_type: PriceType,
    /// Pending orders in id order.
    pub orders: Vec<Order>,
    /// Every fill so far.
    pub fills: Vec<Fill>,
    /// Next order id.
    pub next_order_id: i64,
    /// Cancelled orders so far.
    pub cancelled_orders: i64,
    lane: u64,
    event: i64,
    /// Spare order buffer, swapped with `orders` on every execution bar (no allocation).
    spare: Vec<Order>,
    /// Scratch list of position ids for the SL/TP check (reused, no allocation).
    stop_ids: Vec<i64>,
}

impl ExecutionSimulator {
    /// A simulator with an empty book.
    #[must_use]
    pub fn new(config: EngineConfig, seed: u64, buy: PriceType, sell: PriceType) -> Self {
        Self {
            config,
            seed,
            buy_price_type: buy,
            sell_price_type: sell,
            orders: Vec::new(),
            fills: Vec::new(),
            next_order_id: 1,
            cancelled_orders: 0,
            lane: 0,
            event: -1,
            spare: Vec::new(),
            stop_ids: Vec::new(),
        }
    }

    /// Append an order, assigning the next id.
    pub fn push_order(&mut self, mut order: Order) {
        order.order_id = self.next_order_id;
        self.next_order_id += 1;
        self.orders.push(order);
    }

    /// Number of pending entry orders.
    #[must_use]
    pub fn pending_entries(&self) -> usize {
        self.orders
            .iter()
            .filter(|o| o.purpose == Purpose::Entry)
            .count()
    }

    /// Cancel pending entries (of `side` when given).
    pub fn cancel_entries(&mut self, side: Option<Side>) {
        let before = self.orders.len();
        self.orders
            .retain(|o| !(o.purpose == Purpose::Entry && side.is_none_or(|s| o.side == s)));
        self.cancelled_orders += i64::try_from(before - self.orders.len()).unwrap_or(i64::MAX);
    }

    fn slippage(&mut self, event_index: i64) -> f64 {
        if event_index != self.event {
            self.event = event_index;
            self.lane = 0;
        }
        #[allow(clippy::cast_sign_loss)] // event indices are >= 0
        let u = uniform(self.seed, event_index as u64, self.lane);
        self.lane += 1;
        self.config.slippage_fixed + self.config.slippage_random * u // port: same order
    }

    #[allow(clippy::too_many_arguments)]
    fn book_exit(
        &mut self,
        portfolio: &mut Portfolio,
        event_index: i64,
        candle: &Candle,
        order_id: i64,
        idx: usize,
        price: f64,
        slip: f64,
        reason: &'static str,
    ) {
        let pos = &portfolio.positions[idx];
        let commission = commission_for(
            pos.quantity,
            price,
            portfolio.contract_size,
            self.config.commission_rate,
        );
        self.fills.push(Fill {
            event_index,
            timestamp: candle.timestamp,
            order_id,
            position_id: pos.position_id,
            side: pos.side.exit_order_side(),
            reason,
            quantity: pos.quantity,
            fill_price: price,
            slippage: slip,
            commission,
        });
        portfolio.close(
            idx,
            price,
            commission,
            event_index,
            candle.timestamp,
            reason,
        );
    }

    /// Fill pending orders, then check SL/TP, on one execution-timeframe event.
    ///
    /// Inlined into the event loop with the two cheap "nothing to do" tests; the
    /// work itself stays out of line (`fill_orders`, `check_stops`). See
    /// `EventQueue::event` for why this is forced.
    #[inline(always)]
    #[allow(clippy::inline_always)]
    pub fn on_execution_bar(
        &mut self,
        portfolio: &mut Portfolio,
        event_index: i64,
        candle: &Candle,
    ) {
        let is_buy = candle.price_type == self.buy_price_type;
        let is_sell = candle.price_type == self.sell_price_type;
        if !self.orders.is_empty() {
            self.fill_orders(portfolio, event_index, candle, is_buy, is_sell);
        }
        if portfolio
            .positions
            .iter()
            .any(|p| p.stop_loss.is_some() || p.take_profit.is_some())
        {
            self.check_stops(portfolio, event_index, candle, is_buy, is_sell);
        }
    }

    #[inline(never)]
    fn fill_orders(
        &mut self,
        portfolio: &mut Portfolio,
        event_index: i64,
        candle: &Candle,
        is_buy: bool,
        is_sell: bool,
    ) {
        let mut orders = std::mem::take(&mut self.orders);
        let mut keep = std::mem::take(&mut self.spare);
        keep.clear();
        for mut order in orders.drain(..) {
            let side_ok = if order.side == Side::Long {
                is_buy
            } else {
                is_sell
            };
            if !side_ok || order.created_timestamp >= candle.timestamp {
                keep.push(order);
                continue;
            }
            if order.purpose == Purpose::Entry {
                if !self.fill_entry(portfolio, event_index, candle, &order) {
                    order.ttl -= 1;
                    if order.ttl > 0 {
                        keep.push(order);
                    } else {
                        self.cancelled_orders += 1;
                    }
                }
                continue;
            }
            let idx = order.position_id.and_then(|pid| portfolio.find(pid));
            let Some(idx) = idx else {
                self.cancelled_orders += 1;
                continue;
            };
            let slip = self.slippage(event_index);
            let price = if order.side == Side::Long {
                candle.open + slip // port: same order
            } else {
                candle.open - slip // port: same order
            };
            self.book_exit(
                portfolio,
                event_index,
                candle,
                order.order_id,
                idx,
                price,
                slip,
                order.purpose.as_str(),
            );
        }
        self.orders = keep;
        self.spare = orders;
    }

    fn fill_entry(
        &mut self,
        portfolio: &mut Portfolio,
        event_index: i64,
        candle: &Candle,
        order: &Order,
    ) -> bool {
        let mut slip = 0.0;
        let price;
        if order.kind == OrderKind::Market {
            slip = self.slippage(event_index);
            price = if order.side == Side::Long {
                candle.open + slip // port: same order
            } else {
                candle.open - slip // port: same order
            };
        } else {
            let Some(limit) = order.limit_price else {
                return false;
            };
            if order.side == Side::Long {
                if candle.open <= limit {
                    price = candle.open;
                } else if candle.low <= limit {
                    price = limit;
                } else {
                    return false;
                }
            } else if candle.open >= limit {
                price = candle.open;
            } else if candle.high >= limit {
                price = limit;
            } else {
                return false;
            }
        }
        let commission = commission_for(
            order.quantity,
            price,
            portfolio.contract_size,
            self.config.commission_rate,
        );
        self.fills.push(Fill {
            event_index,
            timestamp: candle.timestamp,
            order_id: order.order_id,
            position_id: order.order_id,
            side: order.side.entry_order_side(),
            reason: "entry",
            quantity: order.quantity,
            fill_price: price,
            slippage: slip,
            commission,
        });
        portfolio.open(OpenPosition {
            position_id: order.order_id,
            side: order.side,
            quantity: order.quantity,
            entry_price: price,
            entry_timestamp: candle.timestamp,
            entry_event: event_index,
            entry_commission: commission,
            stop_loss: order.stop_loss,
            take_profit: order.take_profit,
            exit_pending: false,
        });
        true
    }

    /// (Called only when some position has a stop loss or take profit: positions
    /// without either are skipped below, whatever the candle.)
    #[inline(never)]
    fn check_stops(
        &mut self,
        portfolio: &mut Portfolio,
        event_index: i64,
        candle: &Candle,
        is_buy: bool,
        is_sell: bool,
    ) {
        // The ids first (as Python's list), since exits remove positions as we go.
        let mut ids = std::mem::take(&mut self.stop_ids);
        ids.clear();
        ids.extend(portfolio.positions.iter().map(|p| p.position_id));
        for &pid in &ids {
            let Some(idx) = portfolio.find(pid) else {
                continue;
            };
            let pos = &portfolio.positions[idx];
            if pos.entry_timestamp >= candle.timestamp {
                continue;
            }
            let (sl, tp) = (pos.stop_loss, pos.take_profit);
            if sl.is_none() && tp.is_none() {
                continue;
            }
            let hit: Option<(&'static str, f64)> = match pos.side {
                Side::Long => {
                    if !is_sell {
                        continue;
                    }
                    if sl.is_some_and(|s| candle.open <= s) {
                        Some(("sl", candle.open))
                    } else if tp.is_some_and(|t| candle.open >= t) {
                        Some(("tp", candle.open))
                    } else if let Some(s) = sl.filter(|s| candle.low <= *s) {
                        Some(("sl", s))
                    } else {
                        tp.filter(|t| candle.high >= *t).map(|t| ("tp", t))
                    }
                }
                Side::Short => {
                    if !is_buy {
                        continue;
                    }
                    if sl.is_some_and(|s| candle.open >= s) {
                        Some(("sl", candle.open))
                    } else if tp.is_some_and(|t| candle.open <= t) {
                        Some(("tp", candle.open))
                    } else if let Some(s) = sl.filter(|s| candle.high >= *s) {
                        Some(("sl", s))
                    } else {
                        tp.filter(|t| candle.low <= *t).map(|t| ("tp", t))
                    }
                }
            };
            let Some((reason, mut price)) = hit else {
                continue;
            };
            let side = pos.side;
            let mut slip = 0.0;
            if reason == "sl" {
                slip = self.slippage(event_index);
                price = if side == Side::Long {
                    price - slip // port: same order
                } else {
                    price + slip // port: same order
                };
            }
            self.book_exit(portfolio, event_index, candle, 0, idx, price, slip, reason);
        }
        self.stop_ids = ids;
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bit-exact comparisons are the point of these tests
mod tests {
    use super::*;
    use crate::event::types::Timeframe;

    fn candle(ts: i64, pt: PriceType, o: f64, h: f64, l: f64, c: f64) -> Candle {
        Candle {
            timestamp: ts,
            timeframe: Timeframe::M1,
            price_type: pt,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: 1.0,
        }
    }

    fn entry(side: Side, ts: i64, sl: Option<f64>, tp: Option<f64>) -> Order {
        Order {
            order_id: 0,
            kind: OrderKind::Market,
            side,
            purpose: Purpose::Entry,
            quantity: 2.0,
            created_event: 0,
            created_timestamp: ts,
            position_id: None,
            limit_price: None,
            stop_loss: sl,
            take_profit: tp,
            ttl: 10,
        }
    }

    #[test]
    fn market_entry_then_stop_with_fixed_slippage() {
        let cfg = EngineConfig {
            slippage_fixed: 0.01,
            commission_rate: 0.001,
            ..EngineConfig::default()
        };
        let mut sim = ExecutionSimulator::new(cfg, 1, PriceType::Ask, PriceType::Bid);
        let mut pf = Portfolio::new(1000.0, 1.0);
        sim.push_order(entry(Side::Long, 60, Some(0.75), Some(2.0)));
        // same timestamp: no fill
        sim.on_execution_bar(&mut pf, 1, &candle(60, PriceType::Ask, 1.1, 1.1, 1.1, 1.1));
        assert!(sim.fills.is_empty());
        sim.on_execution_bar(&mut pf, 3, &candle(120, PriceType::Ask, 1.1, 1.3, 1.0, 1.2));
        assert_eq!(sim.fills[0].fill_price, 1.1 + 0.01);
        sim.on_execution_bar(
            &mut pf,
            4,
            &candle(180, PriceType::Bid, 1.0, 1.05, 0.5, 0.6),
        );
        assert_eq!(sim.fills[1].reason, "sl");
        assert_eq!(sim.fills[1].fill_price, 0.75 - 0.01);
        assert_eq!(pf.trades.len(), 1);
    }

    #[test]
    fn sl_wins_ties_and_gaps_fill_at_open() {
        let mut sim =
            ExecutionSimulator::new(EngineConfig::default(), 1, PriceType::Ask, PriceType::Bid);
        let mut pf = Portfolio::new(1000.0, 1.0);
        sim.push_order(entry(Side::Long, 0, Some(0.8), Some(1.2)));
        sim.on_execution_bar(&mut pf, 1, &candle(60, PriceType::Ask, 1.0, 1.0, 1.0, 1.0));
        sim.on_execution_bar(&mut pf, 2, &candle(120, PriceType::Bid, 1.0, 1.5, 0.5, 1.0));
        assert_eq!(sim.fills[1].reason, "sl");
        assert_eq!(sim.fills[1].fill_price, 0.8);
        sim.push_order(entry(Side::Short, 120, Some(1.2), Some(0.9)));
        sim.on_execution_bar(&mut pf, 3, &candle(180, PriceType::Bid, 1.0, 1.0, 1.0, 1.0));
        sim.on_execution_bar(
            &mut pf,
            4,
            &candle(240, PriceType::Ask, 0.8, 0.85, 0.7, 0.8),
        );
        assert_eq!(sim.fills[3].reason, "tp");
        assert_eq!(sim.fills[3].fill_price, 0.8);
    }

    #[test]
    fn limit_expiry_and_risk_sizing() {
        let mut sim =
            ExecutionSimulator::new(EngineConfig::default(), 1, PriceType::Ask, PriceType::Bid);
        let mut pf = Portfolio::new(1000.0, 1.0);
        let mut o = entry(Side::Long, 0, None, None);
        o.kind = OrderKind::Limit;
        o.limit_price = Some(0.5);
        o.ttl = 2;
        sim.push_order(o);
        sim.on_execution_bar(&mut pf, 1, &candle(60, PriceType::Ask, 1.0, 1.0, 1.0, 1.0));
        assert_eq!(sim.orders.len(), 1);
        sim.on_execution_bar(&mut pf, 2, &candle(120, PriceType::Ask, 1.0, 1.0, 1.0, 1.0));
        assert!(sim.orders.is_empty());
        assert_eq!(sim.cancelled_orders, 1);
        let raw: f64 = 1000.0 * 0.01 / (0.1_f64 * 1.0);
        assert_eq!(
            risk_quantity(1000.0, 0.01, 1.0, 0.9, 1.0, 0.5),
            (raw / 0.5).floor() * 0.5
        );
        assert_eq!(commission_for(2.0, 3.0, 4.0, 0.5), 12.0);
    }
}
