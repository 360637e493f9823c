"""Reservations of a paper account: the shares and money its working orders hold back, so
buying power is what is left after them.

Kept incrementally, so a buying-power check does not scan every working order: limit and
stop-limit orders outside OCO groups reserve a fixed leaves × limit, summed per
(symbol, is_buy) in ``static``; the rest (market, stop, trailing, OCO members) depend on the
last price or on their group and are in ``dynamic``, priced at each check (usually a
handful). An OCO group counts once: it holds back the most any one working member could
take.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from engine.paper.money import ZERO
from engine.paper.contracts import multiplier
from engine.paper.orders import Order, OrderState, OrderType, Role

if TYPE_CHECKING:
    from engine.paper.account import PaperAccount


class Reservations:
    """Running totals of what working orders hold back (see the module docstring)."""

    __slots__ = ("static", "static_of", "dynamic")

    def __init__(self) -> None:
        #: (symbol, is_buy) → [shares, money] of fixed-price orders outside OCO groups
        self.static: dict[tuple[str, bool], tuple[int, Decimal]] = {}
        #: order id → its (key, shares, money) part of ``static``
        self.static_of: dict[str, tuple[tuple[str, bool], int, Decimal]] = {}
        #: symbol → order id → orders priced at each check
        self.dynamic: dict[str, dict[str, Order]] = {}

    def track(self, o: Order) -> None:
        """Bring ``o``'s part of the totals up to date (after any change of it)."""
        old = self.static_of.pop(o.order_id, None)
        if old is not None:
            key, shares, money = old
            tot = self.static[key]
            self.static[key] = (tot[0] - shares, tot[1] - money)
        dyn = self.dynamic.get(o.symbol)
        if dyn is not None:
            dyn.pop(o.order_id, None)
        if not o.is_working or o.state is OrderState.WAITING or o.role is Role.LEG:
            return  # package legs: what they hold is the package's (``engine.paper.regt``)
        if o.oco_group is None and o.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            key = (o.symbol, o.is_buy)
            leaves = o.leaves_qty
            money = leaves * (o.limit_price or ZERO) * multiplier(o.symbol)
            tot = self.static.get(key, (0, ZERO))
            self.static[key] = (tot[0] + leaves, tot[1] + money)
            self.static_of[o.order_id] = (key, leaves, money)
        else:
            self.dynamic.setdefault(o.symbol, {})[o.order_id] = o


def reserved(acct: PaperAccount, symbol: str | None, buy: bool, exclude_group: str | None = None) -> tuple[int, Decimal]:
    """Shares and money held back by ``acct``'s working orders on one side (an OCO group
    counts once; ``exclude_group`` not at all).

    ``symbol=None``: money over all symbols (shares then count every symbol too).
    """
    res = acct._res
    symbols = [symbol] if symbol is not None else [s for s, lst in acct._working.items() if lst]
    shares = 0
    money = ZERO
    seen: set[str] = set()
    prices = acct.prices
    for sym in symbols:
        tot = res.static.get((sym, buy))
        if tot is not None:
            shares += tot[0]
            money += tot[1]
        for o in (res.dynamic.get(sym) or {}).values():
            if o.is_buy != buy:
                continue
            g = o.oco_group
            if g is None:
                shares += o.leaves_qty
                money += o.leaves_qty * (order_ref_price(prices, o) or ZERO) * multiplier(o.symbol)
                continue
            if g in seen or g == exclude_group:
                continue
            seen.add(g)
            # at most one member of a group can fill all the way: it holds back the
            # most that any one working member could take (shares and money)
            members = [x for x in acct._groups.get(g, [o]) if x.is_working and x.is_buy == buy
                       and x.state is not OrderState.WAITING] or [o]
            shares += max(x.leaves_qty for x in members)
            money += max(x.leaves_qty * (order_ref_price(prices, x) or ZERO) for x in members) * multiplier(sym)
    return shares, money


def order_ref_price(prices: dict[str, Decimal], o: Order) -> Decimal | None:
    """The price working order ``o`` is valued at (see ``ref_price``)."""
    return ref_price(prices, o.symbol, o.type, o.limit_price, o.stop_price, o.is_buy)


def ref_price(
    prices: dict[str, Decimal], symbol: str, type_: OrderType, limit: Decimal | None,
    stop: Decimal | None, buy: bool,
) -> Decimal | None:
    """The price an order would be valued at for buying power: its limit (limit and
    stop-limit), its stop — or the last price when that is worse, for a buy stop — or the
    last price (market, trailing); None when no price is known."""
    last = prices.get(symbol)
    if type_ in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return limit
    if type_ is OrderType.STOP:
        if stop is not None and buy and last is not None:
            return max(stop, last)
        return stop
    return last
