"""How the trading docks write prices, money, times and order details.

Money goes through ``engine.formatting.money`` (the one rule for dollars); the price and
time helpers here stay until ``engine.formatting`` has its own (then they delegate).
"""
from __future__ import annotations

import time
from decimal import Decimal

from PySide6.QtGui import QColor

from engine.formatting import money
from engine.paper.orders import OrderType, OrderView, Role, Side
from widgets import style

ZERO = Decimal(0)


def fmt_money(d: Decimal | None, signed: bool = False) -> str:
    """``$1,234.56`` (``+$1,234.56`` / ``-$1,234.56`` with ``signed``); ``—`` for None."""
    return money(d, signed=signed)


def fmt_price(d: Decimal | None) -> str:
    """A price with thousands separators: 2 decimals, up to 4 when it has sub-cents."""
    if d is None:
        return "—"
    if d == d.quantize(Decimal("0.01")):
        return f"{d:,.2f}"
    return f"{d.quantize(Decimal('0.0001')):,.4f}".rstrip("0")


def fmt_time(ms: int) -> str:
    """Epoch milliseconds as local ``YYYY-MM-DD HH:MM:SS``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


ORDER_TYPE_LABELS = {
    OrderType.MARKET: "Market", OrderType.LIMIT: "Limit", OrderType.STOP: "Stop",
    OrderType.STOP_LIMIT: "Stop-limit", OrderType.TRAILING_STOP: "Trailing stop",
}
ROLE_LABELS = {Role.SINGLE: "", Role.ENTRY: "bracket entry", Role.TAKE_PROFIT: "take-profit",
               Role.STOP_LOSS: "stop-loss", Role.OCO: "OCO"}


def order_prices(o: OrderView) -> str:
    """The prices an order has: ``lmt 95.00  stp 94.00``, ``trail 5%``, or ``mkt``."""
    parts = []
    if o.limit_price is not None:
        parts.append(f"lmt {fmt_price(o.limit_price)}")
    if o.stop_price is not None:
        parts.append(f"stp {fmt_price(o.stop_price)}")
    if o.type is OrderType.TRAILING_STOP:
        parts.append(f"trail {fmt_price(o.trail_amount)}" if o.trail_amount is not None
                     else f"trail {o.trail_percent}%")
    return "  ".join(parts) or "mkt"


def pnl_color(d: Decimal | None) -> QColor | None:
    """The theme's up colour for a gain, down colour for a loss, None for zero or unknown."""
    if d is None or d == 0:
        return None
    return QColor(style.CHART.up if d > 0 else style.CHART.down)


def side_color(side: Side) -> QColor:
    return QColor(style.CHART.up if side is Side.BUY else style.CHART.down)


__all__ = ["ORDER_TYPE_LABELS", "ROLE_LABELS", "ZERO", "fmt_money", "fmt_price", "fmt_time", "order_prices",
           "pnl_color", "side_color"]
