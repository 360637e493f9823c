"""What only the trading docks write: order-type and role labels, an order's prices in
one cell, and the gain/loss and buy/sell colours. Numbers themselves (prices, quantities,
money, percentages, times) go through ``engine.formatting``, as everywhere in the app.
"""
from __future__ import annotations

from decimal import Decimal

from PySide6.QtGui import QColor

from engine.formatting import percent, price
from engine.paper.orders import OrderType, OrderView, Role, Side
from widgets import style

ZERO = Decimal(0)


ORDER_TYPE_LABELS = {
    OrderType.MARKET: "Market", OrderType.LIMIT: "Limit", OrderType.STOP: "Stop",
    OrderType.STOP_LIMIT: "Stop-limit", OrderType.TRAILING_STOP: "Trailing stop",
}
ROLE_LABELS = {Role.SINGLE: "", Role.ENTRY: "bracket entry", Role.TAKE_PROFIT: "take-profit",
               Role.STOP_LOSS: "stop-loss", Role.OCO: "OCO"}


def order_prices(o: OrderView) -> str:
    """The prices an order has: ``lmt 95.00  stp 94.00``, ``trail 5.00%``, or ``mkt``."""
    parts = []
    if o.limit_price is not None:
        parts.append(f"lmt {price(o.limit_price)}")
    if o.stop_price is not None:
        parts.append(f"stp {price(o.stop_price)}")
    if o.type is OrderType.TRAILING_STOP:
        parts.append(f"trail {price(o.trail_amount)}" if o.trail_amount is not None
                     else f"trail {percent(o.trail_percent, signed=False)}")
    return "  ".join(parts) or "mkt"


def pnl_color(d: Decimal | None) -> QColor | None:
    """The theme's up colour for a gain, down colour for a loss, None for zero or unknown."""
    if d is None or d == 0:
        return None
    return QColor(style.CHART.up if d > 0 else style.CHART.down)


def side_color(side: Side) -> QColor:
    return QColor(style.CHART.up if side is Side.BUY else style.CHART.down)


__all__ = ["ORDER_TYPE_LABELS", "ROLE_LABELS", "ZERO", "order_prices", "pnl_color", "side_color"]
