"""ExecutionSimulator: pending orders, fills at the next bar's open, intrabar SL/TP, slippage.

Rules (normative; see ``docs/engine_semantics.md``):

* Only events of the execution timeframe fill anything. Buys fill on the buy side
  (``ask`` events), sells on the sell side (``bid`` events). A stream that has only
  one price type for the execution timeframe uses it for both sides.
* An order created at timestamp ``t`` fills on the first event of its side with a
  timestamp ``> t``. Market orders fill at that bar's open plus adverse slippage.
  Limit entries fill at ``open`` if the open is already through the limit, else at the
  limit price if the bar's range reaches it, with no slippage; after ``limit_ttl``
  unfilled bars of their side they are cancelled.
* Pending orders are processed in order-id order, before stop-loss/take-profit checks.
* SL/TP of a position are checked on bars of its exit side whose timestamp is greater
  than the entry timestamp. Long (exit on bid): ``open <= SL`` fills SL at the open
  (gap), else ``open >= TP`` fills TP at the open, else ``low <= SL`` fills at SL, else
  ``high >= TP`` fills at TP. So when SL and TP are both inside one bar, SL wins (the
  pessimistic rule). Shorts mirror it on ask bars. SL fills get slippage, TP fills don't.
* Slippage = ``slippage_fixed + slippage_random * U(seed, event_index, lane)``, where
  ``lane`` counts slippage draws within the event from 0. It is added to buy prices and
  subtracted from sell prices.
* Commission = ``qty * price * contract_size * commission_rate`` (that order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from legacy_py.config import EngineConfig
from legacy_py.portfolio import ClosedTrade, OpenPosition, Portfolio
from legacy_py.rng import uniform
from legacy_py.types import Candle


@dataclass(slots=True)
class Order:
    """A pending order. ``purpose``: entry | exit | close. ``kind``: market | limit."""

    order_id: int
    kind: str
    side: str  # "buy" | "sell"
    purpose: str
    quantity: float
    created_event: int
    created_timestamp: int
    position_id: int | None = None
    limit_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    ttl: int = 0


@dataclass(frozen=True, slots=True)
class Fill:
    """One row of the fills table."""

    event_index: int
    timestamp: int
    order_id: int
    position_id: int
    side: str
    reason: str  # entry | sl | tp | exit | close
    quantity: float
    fill_price: float
    slippage: float
    commission: float


def commission_for(qty: float, price: float, contract: float, rate: float) -> float:
    """Commission of one fill."""
    return qty * price * contract * rate  # port: same order


def risk_quantity(
    equity: float, risk_pct: float, reference: float, stop: float, contract: float, lot: float
) -> float:
    """Risk-based size, floored to a multiple of ``lot`` (0.0 when below one lot)."""
    distance = abs(reference - stop)
    raw = equity * risk_pct / (distance * contract)  # port: same order
    return math.floor(raw / lot) * lot  # port: same order (floor, never round)


class ExecutionSimulator:
    """Owns the order book of one run and books fills into a :class:`Portfolio`."""

    def __init__(
        self,
        config: EngineConfig,
        portfolio: Portfolio,
        seed: int,
        buy_price_type: str,
        sell_price_type: str,
    ) -> None:
        self.config = config
        self.portfolio = portfolio
        self.seed = seed
        self.buy_price_type = buy_price_type
        self.sell_price_type = sell_price_type
        self.orders: list[Order] = []
        self.fills: list[Fill] = []
        self.next_order_id = 1
        self.cancelled_orders = 0
        self._lane = 0
        self._event = -1

    # -- order creation -------------------------------------------------------------
    def new_order(self, **kwargs: object) -> Order:
        """Append a pending order with the next order id."""
        order = Order(order_id=self.next_order_id, **kwargs)  # type: ignore[arg-type]
        self.next_order_id += 1
        self.orders.append(order)
        return order

    def pending_entries(self) -> list[Order]:
        """Pending entry orders, in order-id order."""
        return [o for o in self.orders if o.purpose == "entry"]

    def cancel_entries(self, side: str | None = None) -> int:
        """Cancel pending entry orders (of ``side`` when given); returns how many."""
        keep: list[Order] = []
        cancelled = 0
        for o in self.orders:
            if o.purpose == "entry" and (side is None or o.side == side):
                cancelled += 1
            else:
                keep.append(o)
        self.orders = keep
        self.cancelled_orders += cancelled
        return cancelled

    # -- per-event processing ---------------------------------------------------------
    def _slippage(self, event_index: int) -> float:
        if event_index != self._event:
            self._event = event_index
            self._lane = 0
        u = uniform(self.seed, event_index, self._lane)
        self._lane += 1
        return self.config.slippage_fixed + self.config.slippage_random * u  # port: same order

    def _book_exit(
        self,
        event_index: int,
        candle: Candle,
        order_id: int,
        pos: OpenPosition,
        price: float,
        slip: float,
        reason: str,
    ) -> ClosedTrade:
        side = "sell" if pos.side == "long" else "buy"
        commission = commission_for(
            pos.quantity, price, self.portfolio.contract_size, self.config.commission_rate
        )
        self.fills.append(
            Fill(
                event_index=event_index,
                timestamp=candle.timestamp,
                order_id=order_id,
                position_id=pos.position_id,
                side=side,
                reason=reason,
                quantity=pos.quantity,
                fill_price=price,
                slippage=slip,
                commission=commission,
            )
        )
        return self.portfolio.close(
            pos.position_id, price, commission, event_index, candle.timestamp, reason
        )

    def on_execution_bar(self, event_index: int, candle: Candle) -> None:
        """Fill pending orders, then check SL/TP, on one execution-timeframe event."""
        is_buy = candle.price_type == self.buy_price_type
        is_sell = candle.price_type == self.sell_price_type
        self._fill_orders(event_index, candle, is_buy, is_sell)
        self._check_stops(event_index, candle, is_buy, is_sell)

    def _fill_orders(self, event_index: int, candle: Candle, is_buy: bool, is_sell: bool) -> None:
        keep: list[Order] = []
        for order in self.orders:
            side_ok = is_buy if order.side == "buy" else is_sell
            if not side_ok or order.created_timestamp >= candle.timestamp:
                keep.append(order)
                continue
            if order.purpose == "entry":
                if not self._fill_entry(event_index, candle, order):
                    order.ttl -= 1
                    if order.ttl > 0:
                        keep.append(order)
                    else:
                        self.cancelled_orders += 1
                continue
            # exit / close: a market order for a whole position
            pid = order.position_id
            pos = self.portfolio.positions.get(pid) if pid is not None else None
            if pos is None:
                self.cancelled_orders += 1  # position already gone (e.g. stopped out)
                continue
            slip = self._slippage(event_index)
            if order.side == "buy":
                price = candle.open + slip  # port: same order
            else:
                price = candle.open - slip  # port: same order
            self._book_exit(event_index, candle, order.order_id, pos, price, slip, order.purpose)
        self.orders = keep

    def _fill_entry(self, event_index: int, candle: Candle, order: Order) -> bool:
        slip = 0.0
        if order.kind == "market":
            slip = self._slippage(event_index)
            if order.side == "buy":
                price = candle.open + slip  # port: same order
            else:
                price = candle.open - slip  # port: same order
        else:
            limit = order.limit_price
            assert limit is not None
            if order.side == "buy":
                if candle.open <= limit:
                    price = candle.open
                elif candle.low <= limit:
                    price = limit
                else:
                    return False
            elif candle.open >= limit:
                price = candle.open
            elif candle.high >= limit:
                price = limit
            else:
                return False
        commission = commission_for(
            order.quantity, price, self.portfolio.contract_size, self.config.commission_rate
        )
        self.fills.append(
            Fill(
                event_index=event_index,
                timestamp=candle.timestamp,
                order_id=order.order_id,
                position_id=order.order_id,
                side=order.side,
                reason="entry",
                quantity=order.quantity,
                fill_price=price,
                slippage=slip,
                commission=commission,
            )
        )
        self.portfolio.open(
            OpenPosition(
                position_id=order.order_id,
                side="long" if order.side == "buy" else "short",
                quantity=order.quantity,
                entry_price=price,
                entry_timestamp=candle.timestamp,
                entry_event=event_index,
                entry_commission=commission,
                stop_loss=order.stop_loss,
                take_profit=order.take_profit,
            )
        )
        return True

    def _check_stops(self, event_index: int, candle: Candle, is_buy: bool, is_sell: bool) -> None:
        for pos in list(self.portfolio.positions.values()):
            if pos.entry_timestamp >= candle.timestamp:
                continue
            sl = pos.stop_loss
            tp = pos.take_profit
            if sl is None and tp is None:
                continue
            reason: str | None = None
            price = 0.0
            if pos.side == "long":
                if not is_sell:
                    continue
                if sl is not None and candle.open <= sl:
                    reason, price = "sl", candle.open
                elif tp is not None and candle.open >= tp:
                    reason, price = "tp", candle.open
                elif sl is not None and candle.low <= sl:
                    reason, price = "sl", sl
                elif tp is not None and candle.high >= tp:
                    reason, price = "tp", tp
            else:
                if not is_buy:
                    continue
                if sl is not None and candle.open >= sl:
                    reason, price = "sl", candle.open
                elif tp is not None and candle.open <= tp:
                    reason, price = "tp", candle.open
                elif sl is not None and candle.high >= sl:
                    reason, price = "sl", sl
                elif tp is not None and candle.low <= tp:
                    reason, price = "tp", tp
            if reason is None:
                continue
            slip = 0.0
            if reason == "sl":
                slip = self._slippage(event_index)
                if pos.side == "long":
                    price = price - slip  # port: same order
                else:
                    price = price + slip  # port: same order
            self._book_exit(event_index, candle, 0, pos, price, slip, reason)
