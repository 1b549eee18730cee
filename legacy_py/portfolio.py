"""Portfolio: cash, open positions, realized/unrealized PnL, equity, drawdown, trade log.

Every float operation below is normative for the Rust port (``rust_engine/src/portfolio``):
the comment ``# port: same order`` marks lines whose operation order a port must mirror.
Folds over positions run in ascending ``position_id`` order, starting from ``0.0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from legacy_py.types import Position


@dataclass(slots=True)
class OpenPosition:
    """Mutable engine-side position record."""

    position_id: int
    side: str  # "long" | "short"
    quantity: float
    entry_price: float
    entry_timestamp: int
    entry_event: int
    entry_commission: float
    stop_loss: float | None
    take_profit: float | None
    exit_pending: bool = False

    def view(self) -> Position:
        """The immutable view a strategy receives in ``check_exit``."""
        return Position(
            position_id=self.position_id,
            side=self.side,
            quantity=self.quantity,
            entry_price=self.entry_price,
            entry_timestamp=self.entry_timestamp,
            entry_event=self.entry_event,
            stop_loss=self.stop_loss,
            take_profit=self.take_profit,
        )


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One row of the trade log."""

    trade_id: int
    side: str
    quantity: float
    entry_event: int
    entry_timestamp: int
    entry_price: float
    exit_event: int
    exit_timestamp: int
    exit_price: float
    exit_reason: str
    gross_pnl: float
    commission: float
    net_pnl: float


def gross_pnl(side: str, entry: float, exit_price: float, qty: float, contract: float) -> float:
    """Gross PnL of ``qty`` closed at ``exit_price``."""
    if side == "long":
        return (exit_price - entry) * qty * contract  # port: same order
    return (entry - exit_price) * qty * contract  # port: same order


class Portfolio:
    """Cash and positions of one run (netting is not used: all open positions share a side)."""

    def __init__(self, initial_cash: float, contract_size: float) -> None:
        self.initial_cash = initial_cash
        self.contract_size = contract_size
        self.cash = initial_cash
        self.realized_pnl = 0.0
        self.unrealized_pnl = 0.0
        self.equity = initial_cash
        self.peak_equity = initial_cash
        self.drawdown = 0.0
        self.max_drawdown = 0.0
        self.positions: dict[int, OpenPosition] = {}  # insertion order == position_id order
        self.trades: list[ClosedTrade] = []
        self.mark_long: float | None = None  # last sell-side close of the execution timeframe
        self.mark_short: float | None = None  # last buy-side close of the execution timeframe

    def open(self, position: OpenPosition) -> None:
        """Book an entry fill: the entry commission leaves cash at once."""
        self.cash = self.cash - position.entry_commission  # port: same order
        self.positions[position.position_id] = position

    def close(
        self,
        position_id: int,
        exit_price: float,
        commission: float,
        event_index: int,
        timestamp: int,
        reason: str,
    ) -> ClosedTrade:
        """Book an exit fill of the whole position and append the trade."""
        pos = self.positions.pop(position_id)
        gross = gross_pnl(pos.side, pos.entry_price, exit_price, pos.quantity, self.contract_size)
        self.cash = self.cash + gross - commission  # port: same order
        total_commission = pos.entry_commission + commission  # port: same order
        net = gross - pos.entry_commission - commission  # port: same order
        self.realized_pnl = self.realized_pnl + net  # port: same order
        trade = ClosedTrade(
            trade_id=pos.position_id,
            side=pos.side,
            quantity=pos.quantity,
            entry_event=pos.entry_event,
            entry_timestamp=pos.entry_timestamp,
            entry_price=pos.entry_price,
            exit_event=event_index,
            exit_timestamp=timestamp,
            exit_price=exit_price,
            exit_reason=reason,
            gross_pnl=gross,
            commission=total_commission,
            net_pnl=net,
        )
        self.trades.append(trade)
        return trade

    def mark(self) -> None:
        """Mark to market: unrealized PnL, equity, peak equity and drawdown."""
        unrealized = 0.0
        for pos in self.positions.values():
            if pos.side == "long":
                price = pos.entry_price if self.mark_long is None else self.mark_long
            else:
                price = pos.entry_price if self.mark_short is None else self.mark_short
            unrealized = unrealized + gross_pnl(  # port: same order
                pos.side, pos.entry_price, price, pos.quantity, self.contract_size
            )
        self.unrealized_pnl = unrealized
        self.equity = self.cash + unrealized  # port: same order
        if self.equity > self.peak_equity:
            self.peak_equity = self.equity
        if self.peak_equity > 0.0:
            self.drawdown = (self.peak_equity - self.equity) / self.peak_equity  # port: same order
        else:
            self.drawdown = 0.0
        if self.drawdown > self.max_drawdown:
            self.max_drawdown = self.drawdown

    def position_qty(self) -> float:
        """Signed net quantity: long positive, short negative (fold in id order)."""
        total = 0.0
        for pos in self.positions.values():
            if pos.side == "long":
                total = total + pos.quantity
            else:
                total = total - pos.quantity
        return total

    def avg_price(self) -> float | None:
        """Quantity-weighted mean entry price of the open positions, or None when flat."""
        if not self.positions:
            return None
        notional = 0.0
        qty = 0.0
        for pos in self.positions.values():
            notional = notional + pos.entry_price * pos.quantity  # port: same order
            qty = qty + pos.quantity
        return notional / qty


def sharpe_ratio(equity_samples: list[float], bar_seconds: int) -> float | None:
    """Annualised Sharpe ratio of simple returns between consecutive equity samples.

    r_k = e_k / e_{k-1} - 1; mean by left fold / n; sample variance with n - 1;
    annualised by sqrt(31_536_000 / bar_seconds). None with fewer than two returns,
    a non-positive previous equity, or zero variance.
    """
    returns: list[float] = []
    for k in range(1, len(equity_samples)):
        prev = equity_samples[k - 1]
        if prev <= 0.0:
            return None
        returns.append(equity_samples[k] / prev - 1.0)  # port: same order
    n = len(returns)
    if n < 2:
        return None
    acc = 0.0
    for r in returns:
        acc = acc + r
    mean = acc / float(n)
    var_acc = 0.0
    for r in returns:
        d = r - mean
        var_acc = var_acc + d * d  # port: same order
    std = math.sqrt(var_acc / float(n - 1))
    if std == 0.0:
        return None
    return mean / std * math.sqrt(31_536_000.0 / float(bar_seconds))  # port: same order
