"""Margin rules of a paper account: cash account vs Reg-T margin, buying power, and whether
an order (when placed) or a fill (at its actual price) can be afforded.

A cash account buys with the cash it has, less what working buys hold back, and never sells
short. A Reg-T margin account may hold gross positions up to ``leverage`` × equity: 4× while
a NYSE regular session is in progress (holidays and early closes known, from
``engine.market.calendar``) and equity is at least $25,000 (the pattern day trader rule),
2× otherwise. What working orders hold back is in ``engine.paper.reservations``.
"""
from __future__ import annotations

import datetime as _dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from engine.formatting import money
from engine.market.calendar import DEFAULT_EXCHANGE, get_calendar
from engine.paper.contracts import is_option
from engine.paper.money import ZERO
from engine.paper.orders import Order, OrderRequest, Side

if TYPE_CHECKING:
    from engine.paper.account import PaperAccount

PDT_MIN_EQUITY = Decimal(25000)
_NEW_YORK = ZoneInfo("America/New_York")
_EARLIEST_OPEN = _dt.time(9, 30)
_LATEST_CLOSE = _dt.time(16, 0)


class AccountKind(enum.StrEnum):
    CASH = "cash"
    MARGIN = "margin"


def in_regular_session(ms: int) -> bool:
    """True while a NYSE regular session is in progress at epoch ms ``ms`` (holidays and early
    closes known); False outside the calendar's range (1900..2100)."""
    # No NYSE session ever runs outside 9:30-16:00 New York on a weekday: answer those times
    # without the calendar, so nights and weekends never pay for its first build (~1 s).
    t = _dt.datetime.fromtimestamp(ms / 1000, tz=_NEW_YORK)
    if t.weekday() >= 5 or not _EARLIEST_OPEN <= t.time() < _LATEST_CLOSE:
        return False
    try:
        return bool(get_calendar(DEFAULT_EXCHANGE).is_open(ms // 1000))  # is_open gives np.bool_
    except ValueError:
        return False


def leverage(acct: PaperAccount) -> Decimal:
    """How many times its equity the account may hold gross: 1 (cash), 4 (margin, intraday
    with at least ``PDT_MIN_EQUITY``) or 2 (margin otherwise)."""
    if acct.kind is AccountKind.CASH:
        return Decimal(1)
    intraday = acct.day_trading if acct.day_trading is not None else in_regular_session(acct.now_ms)
    if intraday and acct.ledger.equity(acct.prices) >= PDT_MIN_EQUITY:
        return Decimal(4)
    return Decimal(2)


def buying_power(acct: PaperAccount) -> Decimal:
    """What new orders may still commit: cash (cash account) or leverage × equity − gross
    exposure (margin), less what working orders hold back. With options
    (``engine.paper.options``): less their Reg-T requirement and what working packages hold;
    long options count as paid for (no loan value) and are not share exposure."""
    _, held = acct._reserved(None, True)
    if acct.has_options:
        from engine.paper import options

        try:
            req = options.option_requirement(acct) + options.package_hold(acct)
        except ValueError:
            req = options.package_hold(acct)
        if acct.kind is AccountKind.CASH:
            return acct.ledger.cash - held - req
        eq = acct.ledger.equity(acct.prices) - options.long_option_value(acct) - req
        return acct.leverage() * eq - options.share_exposure(acct) - acct._held_exposure()
    if acct.kind is AccountKind.CASH:
        return acct.ledger.cash - held
    eq = acct.ledger.equity(acct.prices)
    return acct.leverage() * eq - acct.ledger.gross_exposure(acct.prices) - acct._held_exposure()


def held_exposure(acct: PaperAccount) -> Decimal:
    """Margin: exposure working orders could still open, per symbol the worse of all
    buys or all sells filling (orders that only reduce a position hold nothing)."""
    total = ZERO
    for symbol, lst in acct._working.items():
        if not lst:
            continue
        pos = acct.ledger.qty(symbol)
        buys, buy_money = acct._reserved(symbol, True)
        sells, sell_money = acct._reserved(symbol, False)
        up = max(abs(pos + buys) - abs(pos), 0)
        down = max(abs(pos - sells) - abs(pos), 0)
        if up >= down and buys:
            total += buy_money * up / buys
        elif sells:
            total += sell_money * down / sells
    return total


def check_buying_power(acct: PaperAccount, req: OrderRequest, qty: int, group: str | None = None) -> str | None:
    """Why this order cannot be afforded (None if it can)."""
    if is_option(req.symbol):
        from engine.paper import options

        return options.check_single(acct, req, qty)
    is_buy = req.side is Side.BUY
    pos = acct.ledger.qty(req.symbol)
    px = acct._ref_price(req.symbol, req.type, req.limit_price, req.stop_price, is_buy)
    if px is None:
        return f"no price known for {req.symbol} yet; wait for a quote or use a limit order"
    if acct.kind is AccountKind.CASH:
        if is_buy:
            need = qty * px + acct.config.commission.fee(qty, px)
            avail = acct.buying_power()
            if need > avail:
                return (
                    f"insufficient cash: this order needs {money(need)}, "
                    f"{money(avail)} is available"
                )
            return None
        held, _ = acct._reserved(req.symbol, False, group)
        if qty > pos - held:
            return (
                f"a cash account cannot sell short: you hold {pos} {req.symbol} "
                f"and {held} are already in working sell orders; this order sells {qty}"
            )
        return None
    held_same, _ = acct._reserved(req.symbol, is_buy, group)
    signed_after = pos + (qty + held_same if is_buy else -(qty + held_same))
    extra = max(abs(signed_after) - max(abs(pos), 0), 0)
    opening = min(qty, extra)
    if opening <= 0:
        return None  # reduces or closes a position
    need = opening * px
    avail = acct.buying_power()
    if need > avail:
        eq = acct.ledger.equity(acct.prices)
        return (
            f"insufficient buying power: this order needs {money(need)}, "
            f"{money(max(avail, ZERO))} is available ({acct.leverage()}× equity {money(eq)})"
        )
    return None


def fill_problem(acct: PaperAccount, o: Order, qty: int, price: Decimal, fee: Decimal) -> str | None:
    """Why a fill can no longer be afforded at its actual price (None if it can)."""
    if is_option(o.symbol):
        from engine.paper import options

        return options.fill_problem(acct, o, qty, price, fee)
    pos = acct.ledger.qty(o.symbol)
    signed = qty if o.is_buy else -qty
    if abs(pos + signed) <= abs(pos) and (pos + signed) * pos >= 0:
        return None  # reduces a position: always allowed
    if acct.kind is AccountKind.CASH:
        if not o.is_buy:
            return f"a cash account cannot sell short ({pos} {o.symbol} held, fill of {qty})"
        cost = qty * price + fee
        if cost > acct.ledger.cash:
            return (f"insufficient cash at fill time: {qty} {o.symbol} at {price} costs "
                    f"{money(cost)}, cash is {money(acct.ledger.cash)}")
        return None
    prices = dict(acct.prices)
    prices[o.symbol] = price
    eq = acct.ledger.equity(prices) - fee
    gross = acct.ledger.gross_exposure(prices) - abs(pos) * price + abs(pos + signed) * price
    limit = acct.leverage() * eq
    if gross > limit:
        return (f"insufficient buying power at fill time: exposure would be {money(gross)}, "
                f"the limit is {money(limit)}")
    return None
